"""Compute-optimal routing (`strategy='auto'`): a router fitted on dev problems of known difficulty sends easy prompts to
a cheap route and hard ones to a big budget, beats the best fixed strategy on tokens at equal accuracy, saves and loads,
refuses another policy, and is reachable from the CLI and the API."""
import json

import pytest

from reasoner_kit.core import KitError, stable_hash
from reasoner_kit.data import Problem, load_task
from reasoner_kit.policy.base import Policy, Sample, policy_identity
from reasoner_kit.search.base import get_strategy
from reasoner_kit.search.route import Router, fit_router
from reasoner_kit.search.sweep import run_search


class Known(Policy):
    """Easy prompts always answer 4; hard ones answer 4 with probability 0.3, else one of 1000 wrong answers.
    Deterministic by prompt and sample index; like `CachedPolicy`, seed `s + 7919 * k` continues seed `s` from sample k."""
    name = 'known'
    def __init__(self): self.drawn = 0
    def _generate(self, prompts, params):
        self.drawn += len(prompts) * params.n
        base, start = params.seed % 7919, params.seed // 7919
        def one(p, i):
            text = p if isinstance(p, str) else p[-1]['content']
            h = int(stable_hash(text, base, start + i), 16)
            ans = 4 if 'easy' in text or h % 1000 < 300 else 100 + h // 1000 % 1000
            return Sample(f"2 + 2 = {ans}\nThe answer is {ans}.", 'stop', 5, 10)
        return [[one(p, i) for i in range(params.n)] for p in prompts]

class Other(Known): name = 'other'


def problems(tag, n_easy, n_hard):
    return [Problem(f"{tag}-{k}{i}", f"{k} problem {tag} {i}", '4') for k, m in (('easy', n_easy), ('hard', n_hard)) for i in range(m)]

CANDS, BUDGETS = ['self_consistency', 'greedy'], [4, 8, 16]

@pytest.fixture(scope='module')
def router():
    return fit_router(Known(), problems('dev', 30, 20), CANDS, BUDGETS, bins=2, temperature=0.7)


def test_easy_cheap_hard_big(router):
    assert router.edges == [1.0]                                           # probes that disagree | probes that all agree
    hard, easy = router.table
    assert easy['budget'] <= 4 and hard == {'strategy': 'self_consistency', 'budget': 16}
    assert router.fit['split'] == 'dev' and router.fit['problems'] == 50 and router.policy == policy_identity(Known())
    assert {(c['strategy'], c['budget']) for c in router.fit['candidates']} == {('self_consistency', 4), ('self_consistency', 8),
                                                                               ('self_consistency', 16), ('greedy', 1)}


def test_fewer_tokens_than_best_fixed_at_equal_accuracy(router):
    test = problems('test', 40, 40)
    fixed = [run_search(s, Known(), test, b, temperature=0.7) for s, b in [('self_consistency', 16), ('self_consistency', 8), ('greedy', 1)]]
    best = max(fixed, key=lambda r: (r['accuracy'], -r['tokens']))
    assert best['strategy'] == 'self_consistency' and best['budget'] == 16
    pol = Known()
    auto = run_search('auto', pol, test, 16, router=router)
    assert auto['accuracy'] >= best['accuracy'], (auto, best)
    assert auto['tokens'] <= 0.7 * best['tokens'], (auto, best)                # half the prompts stop at their 4 probes
    assert pol.drawn * 10 == auto['tokens'] * len(test)                     # every token drawn is reported, none twice


def test_probes_are_reused_and_counted(router):
    pol = Known()
    res = get_strategy('auto', router=router).run(['easy x', 'hard y', 'hard z'], pol)
    routes = [r.route for r in res]
    assert routes[0]['budget'] == 4 and routes[0]['confidence'] == 1.0
    assert all(r['budget'] == 16 and r['confidence'] < 1 for r in routes[1:])
    assert pol.drawn == 3 * 4 + 2 * 12                                      # probes once; the hard prompts only draw the rest
    assert [r.tokens for r in res] == [40, 160, 160] and len(res[1].candidates) == 16


def test_cached_routes_share_the_fixed_strategys_samples(router):
    from reasoner_kit.policy.wrappers import CachedPolicy
    test, pol = problems('shared', 5, 5), CachedPolicy(Known())
    fixed = run_search('self_consistency', pol, test, 16, temperature=0.7, seed=0)
    drawn = pol.drawn
    auto = run_search('auto', pol, test, 16, router=router, seed=0)
    assert pol.drawn == drawn == 10 * 16                                    # auto's probes and routes all come from the cache
    assert auto['correct'] == fixed['correct'] and auto['tokens'] < fixed['tokens']
    direct = run_search('auto', Known(), test, 16, router=router, seed=0)   # uncached, the same samples are drawn
    assert direct['correct'] == auto['correct'] and direct['tokens'] == auto['tokens']


def test_budget_caps_the_routes(router):
    assert get_strategy('auto', router=router, budget=8).routes() == [('self_consistency', 8), (router.table[1]['strategy'], min(router.table[1]['budget'], 8))]


def test_save_load_round_trip_and_refusal(router, tmp_path):
    path = router.save(tmp_path / 'router.json')
    back = Router.load(path, Known())
    assert back == router
    prompts = ['easy a', 'hard b']
    a, b = get_strategy('auto', router=router).run(prompts, Known()), get_strategy('auto', router=str(path)).run(prompts, Known())
    assert [(r.text, r.tokens, r.route) for r in a] == [(r.text, r.tokens, r.route) for r in b]
    for call in (lambda: Router.load(path, Other()), lambda: get_strategy('auto', router=str(path)).run(prompts, Other())):
        with pytest.raises(KitError, match='fitted for policy known, not other') as e: call()
        assert '\n' not in str(e.value)


def test_fit_refuses_the_test_split():
    with pytest.raises(KitError, match='not test'): fit_router(Known(), problems('t', 2, 2), split='test')
    with pytest.raises(KitError, match='from the test split'): fit_router(Known(), load_task('arith', 'test', limit=2))


# -- the CLI and the API, on the tiny random model ---------------------------------------------------------------------

@pytest.fixture(scope='module')
def tiny_router(tiny, tmp_path_factory):
    path = tmp_path_factory.mktemp('route') / 'router.json'
    fit_router(tiny, load_task('arith', 'dev', limit=3, level=1), ['self_consistency'], [2, 4], probe_n=2, max_tokens=8).save(path)
    return path


def test_cli_fit_and_search(tmp_path, capsys):
    from reasoner_kit.cli import main
    out = tmp_path / 'r.json'
    assert main(['route', 'fit', '--policy', 'tiny', '--limit', '3', '--level', '1', '--budgets', '2,4', '--probe', '2',
                 '--max-tokens', '8', '--out', str(out)]) == 0
    r = json.loads(out.read_text())
    assert r['probe'] == 2 and r['fit']['split'] == 'dev' and r['fit']['problems'] == 3 and r['policy']['backend']
    assert 'routed on dev' in capsys.readouterr().out
    assert main(['search', '--policy', 'tiny', '--strategy', 'auto', '--set', f'router={out}', '--limit', '2', '--budget', '4',
                 '--max-tokens', '8', '--out', str(tmp_path / 's')]) == 0
    assert '| auto | 4 | 2 |' in capsys.readouterr().out
    rows = [json.loads(l) for l in (tmp_path / 's' / 'search.jsonl').read_text().splitlines()]
    assert len(rows) == 2 and all(row['tokens'] >= 2 for row in rows)     # at least the probes' tokens
    other = tmp_path / 'other.json'
    other.write_text(json.dumps({**r, 'policy': {'backend': 'X', 'name': 'other'}}))
    assert main(['search', '--policy', 'tiny', '--strategy', 'auto', '--set', f'router={other}', '--limit', '1',
                 '--max-tokens', '8', '--out', str(tmp_path / 's2')]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith('error: this router was fitted for policy other')


def test_api_auto(tiny, tiny_router):
    from fastapi.testclient import TestClient
    from reasoner_kit.serve.api import ServeConfig
    from reasoner_kit.serve.app import make_app
    msgs = [{'role': 'user', 'content': 'What is 12 + 30?'}]
    with TestClient(make_app(tiny, cfg=ServeConfig(router=str(tiny_router)))) as c:
        assert 'auto/tiny' in [m['id'] for m in c.get('/v1/models').json()['data']]
        r = c.post('/v1/chat/completions', json={'model': 'auto/tiny', 'messages': msgs, 'return_tree': True})
        assert r.status_code == 200, r.text
        body = r.json(); res = body['reasoner']['results'][0]
        assert body['reasoner']['strategy'] == 'auto' and body['reasoner']['config']['router'] == str(tiny_router)
        assert res['route']['strategy'] == 'self_consistency' and res['route']['budget'] in (2, 4)
        assert body['usage']['completion_tokens'] == res['tokens'] > 0
        assert len(res['candidates']) == res['route']['budget']              # the probes are the route's first samples
        r = c.post('/v1/chat/completions', json={'model': 'auto/tiny', 'messages': msgs, 'strategy': {'router': '/etc/passwd'}})
        assert r.status_code == 400 and "unknown option 'router'" in r.json()['error']['message']
    with TestClient(make_app(tiny)) as c:                                     # no router: the default agreement router
        r = c.post('/v1/chat/completions', json={'model': 'auto-8/tiny', 'messages': msgs, 'max_tokens': 8, 'return_tree': True})
        assert r.status_code == 200, r.text
        assert r.json()['reasoner']['results'][0]['route']['budget'] in (4, 8)


def test_serve_refuses_a_router_for_another_policy(tmp_path, capsys):
    from reasoner_kit.cli import main
    from reasoner_kit.serve.app import free_port
    other = tmp_path / 'other.json'
    other.write_text(json.dumps({'edges': [], 'table': [{'strategy': 'self_consistency', 'budget': 2}], 'policy': {'backend': 'X', 'name': 'other'}}))
    assert main(['serve', '--policy', 'tiny', '--router', str(other), '--port', str(free_port())]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith('error: this router was fitted for policy other')
