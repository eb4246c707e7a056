"""The server cannot be tied up (issue 14, item 6): each request has a total work bound, abandoned requests are dropped
from the queue or stopped between search rounds, every bad input is a 4xx (a small fuzz), and request logs are SFT rows."""
import json, random, threading, time

import httpx, pytest

from reasoner_kit.core import read_jsonl
from reasoner_kit.grading import extract_answer
from reasoner_kit.policy.base import Policy, Sample
from reasoner_kit.serve.api import ServeConfig
from reasoner_kit.serve.app import BackgroundServer, make_app, policy_lock

MSGS = [{'role': 'user', 'content': 'What is 2 + 2?'}]

class Stub(Policy):
    "Test double: answers at once (or after `delay` s per call) with `text`, and counts its calls."
    def __init__(self, text='2 + 2 = 4\n\nThe answer is 4.', delay=0.0, stop_str=None):
        self.name, self.text, self.delay, self.stop_str, self.calls = 'stub', text, delay, stop_str, 0
    def _generate(self, prompts, params):
        self.calls += 1; time.sleep(self.delay)
        return [[Sample(self.text, 'stop', 3, min(5, params.max_tokens), stop_str=self.stop_str) for _ in range(params.n)] for _ in prompts]

def post(url, body, route='chat/completions', timeout=60):
    return httpx.post(f'{url}/{route}', json=body, timeout=timeout)

def health(url): return httpx.get(url.removesuffix('/v1') + '/health', timeout=30).json()

def assert_4xx(r, code=None):
    assert 400 <= r.status_code < 500, r.text
    e = r.json()['error']
    assert e['message'] and (code is None or e['code'] == code), e

# -- one bound on the work of a request --------------------------------------------------------------------------------

def test_total_work_bound():
    with BackgroundServer(make_app(Stub(), cfg=ServeConfig(max_work_tokens=1000))) as url:
        for body, route in [({'model': 'sc-4/stub', 'messages': MSGS, 'max_tokens': 300}, 'chat/completions'),   # 4 x 300
                            ({'model': 'stub', 'messages': MSGS, 'max_tokens': 300, 'n': 4}, 'chat/completions'),
                            ({'model': 'stub', 'prompt': ['a', 'b', 'c', 'd'], 'max_tokens': 300}, 'completions'),
                            ({'model': 'beam-2x4/stub', 'messages': MSGS, 'strategy': {'max_steps': 20, 'max_step_tokens': 16}}, 'chat/completions')]:
            r = post(url, body, route)
            assert_4xx(r, 'work_limit_exceeded')
            assert '1000' in r.json()['error']['message']
        assert post(url, {'model': 'sc-3/stub', 'messages': MSGS, 'max_tokens': 300}).status_code == 200   # 900 tokens: fine

def test_beam_budget_not_a_multiple_of_width_is_a_400():
    with BackgroundServer(make_app(Stub())) as url:
        for m in ['beam-4x6/stub', 'dvts-3x4/stub']:
            r = post(url, {'model': m, 'messages': MSGS, 'max_tokens': 8})
            assert_4xx(r, 'invalid_value'); assert 'multiple of beam_width' in r.json()['error']['message']

# -- every bad input is a 4xx ------------------------------------------------------------------------------------------

POOL = {
    'model': ['stub', 'sc-2/stub', 'beam-4x6/stub', 'beam-2x4/stub', 'dvts-3x4/stub', 'mcts-3/stub', 'bon-2/stub', 'wbon-0/stub',
              'refine-3/stub', 'strawberry/stub', 'greedy/stub', 'x/stub', 5, None, ''],
    'messages': [MSGS, MSGS, MSGS, [], 'hi', [{'role': 'bot', 'content': 'x'}], [{'role': 'user', 'content': ['a']}], None],
    'n': [1, 2, 0, -1, 1.5, '2', True, 10**9],
    'temperature': [0, 1, 2.5, -1, 'hot', None],
    'top_p': [0, 0.5, 1.5],
    'max_tokens': [1, 4, 8, 0, 10**6, '4', None, 2048],
    'seed': [0, 7, 2**63 - 1, 2**64, -1, 1.5],
    'stop': ['\n', ['a', 'b'], [1], [''] * 5, 7],
    'stream': [True, False, 'yes'],
    'return_tree': [True, 1],
    'stream_options': [{'include_usage': True}, 5],
    'strategy': [None, 'sc-2', 'beam-2x4', 'beam-4x6', {'name': 'mcts', 'parallel': 3, 'max_steps': 2}, {'beam_width': 3},
                 {'name': 'beam', 'budget': 6, 'beam_width': 4}, {'name': 'mcts', 'seed': 2**63 - 1, 'budget': 64}, [], {'name': 5},
                 {'max_steps': 0}, {'step_sep': ''}, {'name': 'strawberry', 'nudges': []}, {'c_puct': 1e9}, {'budget': 64, 'max_steps': 64}],
}

def test_fuzzed_requests_never_get_a_500():
    rng, seen = random.Random(0), set()
    with BackgroundServer(make_app(Stub(), cfg=ServeConfig(max_work_tokens=20_000))) as url:
        for i in range(120):
            body = {k: rng.choice(v) for k, v in POOL.items() if k in ('model', 'messages') or rng.random() < 0.3}
            r = post(url, body)
            assert r.status_code < 500, (body, r.text)
            seen.add(r.status_code)
            if r.status_code >= 400: assert_4xx(r)
        assert {200, 400} <= seen                                  # both kinds were asked

# -- abandoned work is dropped ------------------------------------------------------------------------------------------

def _in_thread(fn):
    out = {}
    t = threading.Thread(target=lambda: out.update(r=fn())); t.start()
    return t, out

def test_timed_out_requests_are_dropped_not_run():
    stub = Stub()
    with BackgroundServer(make_app(stub, cfg=ServeConfig(timeout_s=1, max_batch=1))) as url:
        with policy_lock(stub):                                # the worker is busy: both wait, then time out
            ts = [_in_thread(lambda mt=mt: post(url, {'model': 'stub', 'messages': MSGS, 'max_tokens': mt})) for mt in (3, 4)]
            for t, _ in ts: t.join(30)
            assert [o['r'].status_code for _, o in ts] == [504, 504]
        time.sleep(1.5)
        assert stub.calls == 0 and health(url)['abandoned'] == 2    # neither ran once the worker was free

def test_a_client_that_hangs_up_is_not_served():
    stub = Stub()
    with BackgroundServer(make_app(stub, cfg=ServeConfig(timeout_s=600))) as url:
        with policy_lock(stub):
            with pytest.raises(httpx.ReadTimeout): post(url, {'model': 'stub', 'messages': MSGS, 'max_tokens': 4}, timeout=1)
            time.sleep(1.5)                                      # the server notices the closed connection
        time.sleep(1.0)
        assert stub.calls == 0 and health(url)['abandoned'] == 1
        assert post(url, {'model': 'stub', 'messages': MSGS, 'max_tokens': 4}).status_code == 200 and stub.calls == 1

def test_abandoned_search_stops_between_rounds():
    stub = Stub(text='thinking', delay=0.25, stop_str='\n\n')      # never an answer: beam runs all 30 rounds
    body = {'model': 'beam-1x1/stub', 'messages': MSGS, 'strategy': {'max_steps': 30, 'max_step_tokens': 4}}
    with BackgroundServer(make_app(stub)) as url:
        with pytest.raises(httpx.ReadTimeout): post(url, body, timeout=1)
        time.sleep(2.5)
        calls = stub.calls
        time.sleep(1.0)
        assert stub.calls == calls < 12                          # stopped after a few of its 31 calls
        assert health(url)['abandoned'] == 1

# -- request logs are training data -------------------------------------------------------------------------------------

def test_request_log_rows_are_sft_rows(tmp_path):
    from reasoner_kit.learn.data import sft_row
    from reasoner_kit.learn.iterate import check_no_leak
    from reasoner_kit.learn.train import _as_dataset
    from reasoner_kit.data import load_task
    assert ServeConfig().request_log is None                  # off by default
    f = tmp_path / 'requests.jsonl'
    stub = Stub()
    with BackgroundServer(make_app(stub, cfg=ServeConfig(request_log=str(f)))) as url:
        plain = post(url, {'model': 'stub', 'messages': MSGS, 'max_tokens': 8}).json()
        search = post(url, {'model': 'sc-2/stub', 'messages': MSGS, 'max_tokens': 8}).json()
        streamed = post(url, {'model': 'stub', 'messages': MSGS, 'max_tokens': 8, 'stream': True})
        assert streamed.status_code == 200 and '[DONE]' in streamed.text
        post(url, {'model': 'stub', 'messages': MSGS, 'n': 0})  # a refused request is not logged
    rows = read_jsonl(f)
    assert [r['strategy'] for r in rows] == [None, 'self_consistency', None]
    for r, resp in zip(rows, [plain, search]):
        text = resp['choices'][0]['message']['content']
        assert {k: r[k] for k in ('prompt', 'completion')} == sft_row(MSGS, text)
        assert r['answer'] == extract_answer(text) == '4' and r['tokens'] == resp['usage'] and r['latency_s'] > 0
        assert r['id'] == resp['id'] and r['model'] == resp['model']
    assert len(_as_dataset(rows, ['prompt', 'completion'])) == 3               # what train_sft reads
    assert check_no_leak(rows, load_task('arith', 'test', limit=5, level=1)) == 3   # and what init_sft(data=...) checks
