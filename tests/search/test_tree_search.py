"""Tests of the step-wise tree strategies (beam, dvts, mcts): tree consistency, batching, budgets, determinism, and the rules."""
import subprocess, sys

import numpy as np
import pytest

from reasoner_kit.core import KitError
from reasoner_kit.grading import extract_answer
from reasoner_kit.policy.base import Policy, Sample
from reasoner_kit.reward.scorers import ArithmeticScorer, LogprobScorer, join_steps, split_steps
from reasoner_kit.search.base import SearchConfig, STRATEGIES, get_strategy
from reasoner_kit.search.tree_search import DVTS, MCTS, BeamSearch, StepForest, states_answer

QUESTIONS = ['What is 2+3?', 'What is 4+4?', 'What is 9-1?']
MSGS = [[{'role': 'user', 'content': q}] for q in QUESTIONS]
SMALL = dict(budget=4, beam_width=2, max_steps=2, max_step_tokens=4, max_tokens=16, seed=0)
NAMES = ['beam', 'dvts', 'mcts']


class Counting(Policy):
    "A proxy that counts `generate` calls and the completion tokens spent on each question."
    name = 'counting'
    def __init__(self, inner): self.inner, self.calls, self.tokens = inner, 0, {}
    def _generate(self, prompts, params):
        self.calls += 1
        out = self.inner.generate(prompts, params)
        for p, ss in zip(prompts, out):
            q = p if isinstance(p, str) else p[0]['content']
            self.tokens[q] = self.tokens.get(q, 0) + sum(s.completion_tokens for s in ss)
        return out


class Scripted(Policy):
    "Steps are equations `d+1 + j = ...`, right for even j; at depth 2 it states answers[j] and stops with EOS."
    name = 'scripted'
    def __init__(self, answers=None): self.answers = answers
    def _generate(self, prompts, params):
        out = []
        for p in prompts:
            d = len(split_steps(p[-1]['content'])) if p[-1]['role'] == 'assistant' else 0
            ans = self.answers or [str(j) for j in range(params.n)]
            if not params.stop: out.append([Sample(f"so the answer is {d + j}.", 'stop', 10, 5) for j in range(params.n)])
            elif d < 2: out.append([Sample(f"{d+1} + {j} = {d+1+j + j % 2}", 'stop', 10, 6, stop_str='\n\n') for j in range(params.n)])
            else: out.append([Sample(f"The answer is {ans[j]}.", 'stop', 10, 4) for j in range(params.n)])
        return out


def check_tree(r):
    "Valid parents, aligned per-node lists, the chosen path a root-to-terminal-leaf path, the text its steps."
    e = r.tree
    n = len(e['parent'])
    assert e['parent'][0] == -1 and all(0 <= e['parent'][i] < i for i in range(1, n))
    for k in ('text', 'score', 'value', 'visit_count', 'prior', 'reward', 'terminal', 'round', 'children'): assert len(e[k]) == n, k
    assert all(e['parent'][c] == i for i in range(n) for c in e['children'][i])
    ch = e['chosen']
    assert ch[0] == 0 and all(e['parent'][b] == a for a, b in zip(ch, ch[1:]))
    assert e['children'][ch[-1]] == [] and e['terminal'][ch[-1]]
    assert [s['text'] for s in r.steps] == [e['text'][i] for i in ch[1:]]
    assert r.text == join_steps([s['text'] for s in r.steps if s['text']])
    assert r.answer == extract_answer(r.text)
    assert all(e['terminal'][c['node']] for c in r.candidates)


@pytest.fixture(scope='module')
def runs(tiny):
    "Each strategy on 3 prompts and on 1 prompt with the tiny model, through a counting proxy."
    out = {}
    for name in NAMES:
        for k in (3, 1):
            pol, s = Counting(tiny), get_strategy(name, **SMALL)
            out[name, k] = (s, pol, s.run(MSGS[:k], pol, ArithmeticScorer()))
    return out


@pytest.mark.parametrize('name', NAMES)
def test_results_and_trees(runs, name):
    s, pol, res = runs[name, 3]
    assert len(res) == 3 and all(r.tree is not None for r in res)
    for r in res: check_tree(r)


@pytest.mark.parametrize('name', NAMES)
def test_one_call_per_round_for_any_batch(runs, name):
    (s3, p3, r3), (s1, p1, r1) = runs[name, 3], runs[name, 1]
    assert s3.calls == p3.calls == len(r3[0].iterations) == sum(it['calls'] for it in r3[0].iterations)
    assert p3.calls == p1.calls           # 3 prompts cost the same number of calls as 1: batched across prompts
    if name != 'mcts': assert p3.calls <= SMALL['max_steps']


@pytest.mark.parametrize('name', NAMES)
def test_tokens_charged_per_prompt(runs, name):
    s, pol, res = runs[name, 3]
    assert [r.tokens for r in res] == [pol.tokens[q] for q in QUESTIONS]
    assert all(r.tokens > 0 for r in res)


@pytest.mark.parametrize('name', NAMES)
def test_budget(runs, name):
    s, pol, res = runs[name, 3]
    N, M = SMALL['budget'], SMALL['beam_width']
    for r in res:
        its, n = r.iterations, len(r.tree['parent'])
        if name == 'mcts':
            assert sum(len(it['selected']) for it in its) == N     # exactly `budget` simulations
            assert n <= 2 + N * M
            assert all(len(it['added']) <= SMALL['beam_width'] * 2 for it in its)   # parallel=2 leaves, M children each
        else:
            assert n <= 1 + N * SMALL['max_steps'] and all(len(it['added']) <= N for it in its)
            assert max(r.tree['depth']) <= SMALL['max_steps']
    assert int(s.forest.trees.virtual_loss.sum()) == 0


@pytest.mark.parametrize('name', NAMES)
def test_deterministic_and_same_on_both_backends(runs, tiny, name):
    _, _, res = runs[name, 3]
    res2 = STRATEGIES[name](backend='py', **SMALL).run(MSGS, tiny, ArithmeticScorer())   # the reference tree core must agree
    assert [r.text for r in res] == [r.text for r in res2]
    assert [r.tree for r in res] == [r.tree for r in res2]


def test_needs_scorer_and_bad_options(tiny):
    assert {'beam', 'dvts', 'mcts'} <= set(STRATEGIES)
    for name in NAMES:
        assert STRATEGIES[name].needs_scorer
        with pytest.raises(KitError, match='needs a scorer'): get_strategy(name).run(MSGS[:1], tiny)
    with pytest.raises(KitError, match='multiple of beam_width'): BeamSearch(budget=6, beam_width=4)   # refused when configured, before any work
    with pytest.raises(KitError, match='multiple of beam_width'): get_strategy('dvts', budget=4, beam_width=3)
    with pytest.raises(KitError, match='one of: scorer, rollout'): MCTS(value='mc')
    with pytest.raises(KitError, match='>= 1'): MCTS(parallel=0)


def test_get_strategy_options_in_a_fresh_interpreter():
    "search.base lists the tree strategies by path: any Config option works by name without importing tree_search first."
    code = ("import sys; from reasoner_kit.search.base import get_strategy; "
            "assert 'reasoner_kit.search.tree_search' not in sys.modules; "
            "s = get_strategy('mcts', parallel=4); print(type(s).__name__, s.cfg.parallel, s.cfg.value)")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ['MCTS', '4', 'scorer']


def test_each_strategy_has_its_own_options():
    assert get_strategy('beam', select='vote', backend='py').cfg.select == 'vote'
    assert get_strategy('mcts', parallel=3, value='rollout', prior='logprob').cfg.prior == 'logprob'
    with pytest.raises(KitError, match='unknown option.s. for beam: parallel — use: budget, '): get_strategy('beam', parallel=4)
    with pytest.raises(KitError, match='unknown option.s. for self_consistency: select'): get_strategy('self_consistency', select='vote')
    assert MCTS(SearchConfig(budget=5)).cfg.parallel == 2                    # a plain SearchConfig gets the strategy's defaults


def test_terminal_rules():
    F = StepForest(MSGS[:1], 16, SearchConfig(max_steps=2, max_tokens=30))
    ss = [Sample('a step', 'stop', 1, 5, stop_str='\n\n'), Sample('ends by EOS', 'stop', 1, 5),
          Sample('cut off mid', 'length', 1, 5), Sample('The answer is 4.', 'stop', 1, 5, stop_str='\n\n'),
          Sample('long', 'stop', 1, 30, stop_str='\n\n'), Sample('\\boxed{4}', 'stop', 1, 5, stop_str='\n\n')]
    new = F.add([(0, 0)], [ss], rnd=0)
    assert F.trees.terminal[0, [i for _, i in new]].tolist() == [False, True, False, True, True, True]
    deeper = F.add([(0, 1)], [[Sample('second', 'stop', 1, 5, stop_str='\n\n')]], rnd=1)
    assert F.trees.terminal[0, deeper[0][1]]                      # depth max_steps
    assert states_answer('#### 3') and not states_answer('3 + 1 = 4')


def test_beam_follows_the_scorer_and_votes():
    r = BeamSearch(budget=4, beam_width=2).run(MSGS[:1], Scripted(), ArithmeticScorer())[0]
    check_tree(r)
    assert [s['text'] for s in r.steps] == ['1 + 0 = 1', '2 + 0 = 2', 'The answer is 0.']
    assert [s['score'] for s in r.steps] == [1.0, 1.0, 0.5]
    assert sum(r.tree['pruned']) == 4                              # the 4 wrong steps (2 per round) were pruned
    # one beam of width 3 ends in answers 9, 7, 7 with equal values: 'best' takes the first, 'vote' the majority
    pol = Scripted(answers=['9', '7', '7'])
    assert BeamSearch(budget=3, beam_width=3).run(MSGS[:1], pol, ArithmeticScorer())[0].answer == '9'
    assert BeamSearch(budget=3, beam_width=3, select='vote').run(MSGS[:1], pol, ArithmeticScorer())[0].answer == '7'


def test_dvts_subtrees():
    s = DVTS(budget=4, beam_width=2)
    r = s.run(MSGS[:1], Scripted(), ArithmeticScorer())[0]
    check_tree(r)
    assert r.tree['group'][1:5] == [0, 0, 1, 1]
    assert [it['expanded'] for it in r.iterations] == [[0], [1, 3], [5, 7]]   # one right step per subtree
    assert s.calls == 3


def test_mcts_rollouts_completion_and_priors(tiny):
    s = MCTS(budget=6, beam_width=2, parallel=2)
    r = s.run(MSGS[:2], Scripted(), ArithmeticScorer())[0]
    check_tree(r)
    assert [it['selected'] for it in r.iterations] == [[0, 0], [1, 1], [3, 3]]
    assert r.answer == '0' and s.calls == 3
    # rollouts: a second call per round; too few simulations for an answer: a greedy completion at the end
    s = MCTS(budget=2, beam_width=2, parallel=1, value='rollout')
    r = s.run(MSGS[:1], Scripted(), ArithmeticScorer())[0]
    assert [it['calls'] for it in r.iterations] == [2, 2, 1] and s.calls == 5
    assert r.steps[-1]['text'] == 'so the answer is 2.'
    # priors from the policy's log-probs: a distribution over each node's children
    s = MCTS(budget=1, beam_width=3, parallel=1, max_steps=1, max_step_tokens=4, prior='logprob')
    r = s.run(MSGS[:1], tiny, ArithmeticScorer())[0]
    pri = [r.tree['prior'][i] for i in r.tree['children'][0]]
    assert abs(sum(pri) - 1) < 1e-9 and len(set(pri)) > 1


def test_logprob_scorer(tiny):
    r = BeamSearch(budget=2, beam_width=2, max_steps=1, max_step_tokens=4).run(MSGS[:1], tiny, LogprobScorer(tiny))[0]
    check_tree(r)
    assert all(0 < s <= 1 for s in r.tree['score'][1:])


@pytest.mark.slow
def test_embedded_end_to_end(embedded):
    from reasoner_kit.data import load_task, to_messages
    probs = load_task('arith', 'test', limit=4, level=1)
    for name in NAMES:
        s = get_strategy(name, budget=2, beam_width=2, max_steps=2, max_step_tokens=40, max_tokens=96)
        res = s.run([to_messages(p) for p in probs], embedded, ArithmeticScorer())
        assert len(res) == 4
        for r in res:
            check_tree(r)
            assert r.answer is not None
