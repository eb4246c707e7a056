"""The Reasoner API against a real uvicorn server on a loopback port, driven by the official `openai` client (and
httpx for raw bodies), with the tiny random-weight model."""
import json, os, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor

import httpx, openai, pytest

from reasoner_kit.policy.base import Policy, Sample, SamplingParams
from reasoner_kit.reward.scorers import ArithmeticScorer
from reasoner_kit.search.base import get_strategy
from reasoner_kit.serve.api import ServeConfig
from reasoner_kit.serve.app import BackgroundServer, free_port, make_app, policy_lock

MSGS = [{'role': 'user', 'content': 'What is 12 + 30?'}]

@pytest.fixture(scope='module')
def server(tiny):
    app = make_app(tiny, cfg=ServeConfig(max_queue=64, max_batch=32))
    with BackgroundServer(app) as url: yield url, app

@pytest.fixture(scope='module')
def client(server):
    return openai.OpenAI(base_url=server[0], api_key='unused', max_retries=0, timeout=120)

def health(url): return httpx.get(url.removesuffix('/v1') + '/health', timeout=30).json()

def assert_error(r, status, code=None):
    "An OpenAI-style error object with the given status (and code)."
    assert r.status_code == status, r.text
    e = r.json()['error']
    assert set(e) == {'message', 'type', 'param', 'code'} and e['message']
    if code: assert e['code'] == code, e

# -- happy paths -------------------------------------------------------------------------------------------------------

def test_models_and_health(server, client):
    ids = [m.id for m in client.models.list().data]
    assert ids[0] == 'tiny' and 'sc-8/tiny' in ids and 'bon-8/tiny' in ids
    assert client.models.retrieve('sc-8/tiny').id == 'sc-8/tiny'
    h = health(server[0])
    assert h['status'] == 'ok' and h['model'] == 'tiny' and h['max_queue'] == 64

def test_plain_completion(client, tiny):
    r = client.completions.create(model='tiny', prompt='1 + 1 =', max_tokens=5, seed=0)
    want = tiny.generate(['1 + 1 ='], SamplingParams(temperature=1.0, max_tokens=5, seed=0))[0][0]
    assert r.object == 'text_completion' and r.choices[0].text == want.text   # the same as calling the policy
    assert (r.usage.prompt_tokens, r.usage.completion_tokens) == (want.prompt_tokens, want.completion_tokens)
    r = client.completions.create(model='tiny', prompt=['a', 'b'], max_tokens=3, n=2)
    assert len(r.choices) == 4 and [c.index for c in r.choices] == [0, 1, 2, 3]

def test_chat_completion(client, tiny):
    r = client.chat.completions.create(model='tiny', messages=MSGS, max_tokens=8, seed=3, temperature=0.5)
    want = tiny.generate([MSGS], SamplingParams(temperature=0.5, max_tokens=8, seed=3))[0][0]
    assert r.choices[0].message.role == 'assistant' and r.choices[0].message.content == want.text
    assert r.usage.prompt_tokens == len(tiny.tok(tiny.render(MSGS)).input_ids) == want.prompt_tokens
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert getattr(r, 'reasoner', None) is None

def test_streaming(client):
    full = client.chat.completions.create(model='tiny', messages=MSGS, max_tokens=12, seed=1).choices[0].message.content
    chunks = list(client.chat.completions.create(model='tiny', messages=MSGS, max_tokens=12, seed=1, stream=True,
                                                 stream_options={'include_usage': True}))
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 1 and ''.join(pieces) == full          # several chunks, the same text
    assert chunks[0].choices[0].delta.role == 'assistant'
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] in ('stop', 'length')
    assert chunks[-1].usage.completion_tokens > 0
    text = ''.join(c.choices[0].text for c in client.completions.create(model='tiny', prompt='Hi', max_tokens=6, seed=2, stream=True))
    assert text == client.completions.create(model='tiny', prompt='Hi', max_tokens=6, seed=2).choices[0].text

def test_search_by_model_name(client, tiny):
    r = client.chat.completions.create(model='sc-4/tiny', messages=MSGS, max_tokens=8)
    want = get_strategy('self_consistency', budget=4, max_tokens=8).run([MSGS], tiny)[0]
    plain = client.chat.completions.create(model='tiny', messages=MSGS, max_tokens=8)
    assert r.choices[0].message.content == want.text
    assert r.usage.completion_tokens == want.tokens > plain.usage.completion_tokens   # every sample is paid for
    assert r.usage.prompt_tokens == plain.usage.prompt_tokens
    assert getattr(r, 'reasoner', None) is None                                     # the tree only when asked

def test_search_by_extra_body_with_tree(client, tiny):
    r = client.chat.completions.create(model='tiny', messages=MSGS, max_tokens=8, temperature=0.9,
                                       extra_body={'strategy': {'name': 'best_of_n', 'samples': 3, 'seed': 5}, 'return_tree': True})
    want = get_strategy('best_of_n', budget=3, max_tokens=8, temperature=0.9, seed=5).run([MSGS], tiny, ArithmeticScorer())[0]
    rz = r.reasoner
    assert rz['strategy'] == 'best_of_n' and rz['config']['budget'] == 3 and rz['config']['temperature'] == 0.9
    res = rz['results'][0]
    assert r.choices[0].message.content == want.text and r.usage.completion_tokens == res['tokens'] == want.tokens
    assert [c['text'] for c in res['candidates']] == [c['text'] for c in want.candidates]
    assert all(isinstance(c['score'], float) for c in res['candidates'])
    t = res['tree']
    assert t['parent'] == [-1, 0, 0, 0] and t['children'][0] == [1, 2, 3] and t['text'][t['chosen']] == want.text
    assert all(set(s) >= {'text', 'score'} for s in res['steps'])
    json.dumps(rz)                                                                   # plain JSON all the way down

def test_search_streaming(client):
    kw = dict(model='sc-3/tiny', messages=MSGS, max_tokens=8)
    full = client.chat.completions.create(**kw).choices[0].message.content
    chunks = list(client.chat.completions.create(**kw, stream=True, extra_body={'return_tree': True}))
    assert ''.join(c.choices[0].delta.content or '' for c in chunks if c.choices) == full
    assert chunks[-1].reasoner['strategy'] == 'self_consistency'

class Steps(Policy):
    "Slow scripted steps: right equations, an answer at depth 2; each call takes `delay` seconds."
    name = 'steps'
    def __init__(self, delay=0.5): self.delay, self.calls = delay, 0
    def _generate(self, prompts, params):
        time.sleep(self.delay); self.calls += 1
        out = []
        for p in prompts:
            d = p[-1]['content'].count('\n\n') if p[-1]['role'] == 'assistant' else 0   # steps so far
            text = f"{d + 1} + {d} = {2 * d + 1}" if d < 2 else "The answer is 5."
            out.append([Sample(text, 'stop', 10, 6, stop_str='\n\n' if d < 2 else None) for _ in range(params.n)])
        return out

def test_search_streams_steps_as_they_settle():
    "A one-beam search streams each step once the search has settled it, a policy call before the next; the whole equals the answer."
    pol = Steps()
    with BackgroundServer(make_app(pol, cfg=ServeConfig())) as url:
        body = {'model': 'beam-1x1/steps', 'messages': MSGS, 'strategy': {'max_steps': 4}}
        full = httpx.post(url + '/chat/completions', json=body, timeout=60).json()['choices'][0]['message']['content']
        got, t0 = [], time.time()
        with httpx.stream('POST', url + '/chat/completions', json=body | {'stream': True}, timeout=60) as r:
            for line in r.iter_lines():
                if line.startswith('data: {'): got.append((time.time() - t0, json.loads(line[6:])))
    text = [(t, c['choices'][0]['delta'].get('content')) for t, c in got if c['choices']]
    assert ''.join(x or '' for _, x in text) == full == '1 + 0 = 1\n\n2 + 1 = 3\n\nThe answer is 5.'
    first = next(t for t, x in text if x)
    assert text[1][1] == '1 + 0 = 1' and first < got[-1][0] - 0.4, text   # the first step came a call (0.5 s) before the end

def test_stream_error_is_an_event():
    "A streamed request that fails in the worker ends with an OpenAI error event and [DONE], not a broken connection."
    class Broken(Steps):
        def _generate(self, prompts, params): raise RuntimeError('boom')
    with BackgroundServer(make_app(Broken(0), cfg=ServeConfig())) as url:
        r = httpx.post(url + '/chat/completions', json={'model': 'beam-1x1/steps', 'messages': MSGS, 'stream': True}, timeout=60)
    events = [l[6:] for l in r.text.splitlines() if l.startswith('data: ')]
    assert r.status_code == 200 and events[-1] == '[DONE]' and 'boom' in json.loads(events[-2])['error']['message'], r.text

def test_tree_strategy_returns_its_tree(client):
    "A tree strategy (when reasoner_kit.search.tree_search is installed) returns its own tree export as JSON."
    pytest.importorskip('reasoner_kit.search.tree_search')
    r = client.chat.completions.create(model='mcts-4/tiny', messages=MSGS, max_tokens=16,
                                       extra_body={'strategy': {'max_step_tokens': 4, 'max_steps': 3}, 'return_tree': True})
    res = r.reasoner['results'][0]
    assert r.reasoner['config']['budget'] == 4 and r.usage.completion_tokens == res['tokens'] > 0
    assert res['tree']['parent'][0] == -1 and len(res['tree']['parent']) > 1 and res['steps']

def test_strategy_options_by_name(client, tiny):
    "Any option of the strategy's own Config (here MCTS's parallel and value) is a request field, as in get_strategy."
    kw = dict(budget=4, max_step_tokens=4, max_steps=3, parallel=4, value='rollout')
    r = client.chat.completions.create(model='mcts-4/tiny', messages=MSGS, max_tokens=16,
                                       extra_body={'strategy': {k: v for k, v in kw.items() if k != 'budget'}, 'return_tree': True})
    want = get_strategy('mcts', max_tokens=16, **kw).run([MSGS], tiny, ArithmeticScorer())[0]
    cfg = r.reasoner['config']
    assert (cfg['parallel'], cfg['value'], cfg['budget']) == (4, 'rollout', 4)
    assert r.choices[0].message.content == want.text and r.usage.completion_tokens == want.tokens
    assert len(r.reasoner['results'][0]['tree']['parent']) == len(want.tree['parent'])
    assert len(want.iterations[0]['selected']) == 4                              # 4 leaves selected per round

def test_bad_strategy_option_is_a_400(server):
    for st, msg in [({'name': 'sc', 'parallel': 4}, "unknown option 'parallel' for strategy self_consistency"),
                    ({'name': 'mcts', 'value': 'guess'}, "value='guess' is not valid"),
                    ({'name': 'mcts', 'parallel': 0}, "'parallel' must be an integer")]:
        r = httpx.post(f'{server[0]}/chat/completions', json={'model': 'tiny', 'messages': MSGS, 'strategy': st}, timeout=60)
        assert_error(r, 400, 'invalid_value')
        assert msg in r.json()['error']['message'] and r.json()['error']['param'].startswith('strategy'), r.json()

def test_models_list_the_context_length(server, tiny):
    "An OpenAIPolicy pointed at the server reads the served model's context length from /v1/models, as from vLLM."
    from reasoner_kit.policy.backends import OpenAIPolicy
    assert OpenAIPolicy('tiny', server[0], max_retries=0).context_length == tiny.context_length == 2048

def test_completions_search_two_prompts(client):
    r = client.completions.create(model='tiny', prompt=['2+2=', '3+3='], max_tokens=4, extra_body={'strategy': 'sc-2'})
    assert len(r.choices) == 2 and 4 <= r.usage.completion_tokens <= 16

# -- bad input ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('route,body,status,code', [
    ('chat/completions', {'model': 'tiny'}, 400, 'missing_required_parameter'),
    ('completions', {'model': 'tiny'}, 400, 'missing_required_parameter'),
    ('chat/completions', {'messages': MSGS}, 400, 'missing_required_parameter'),
    ('chat/completions', {'model': 'gpt-4', 'messages': MSGS}, 404, 'model_not_found'),
    ('chat/completions', {'model': 'nope-8/tiny', 'messages': MSGS}, 400, 'unknown_strategy'),
    ('chat/completions', {'model': 'tiny', 'messages': MSGS, 'strategy': {'name': 'nope'}}, 400, 'unknown_strategy'),
    ('chat/completions', {'model': 'tiny', 'messages': MSGS, 'strategy': {'name': 'sc', 'depth': 2}}, 400, 'invalid_value'),
    ('chat/completions', {'model': 'tiny', 'messages': MSGS, 'n': 0}, 400, 'invalid_value'),
    ('chat/completions', {'model': 'tiny', 'messages': MSGS, 'n': 17}, 400, 'invalid_value'),
    ('chat/completions', {'model': 'tiny', 'messages': MSGS, 'temperature': -0.1}, 400, 'invalid_value'),
    ('chat/completions', {'model': 'tiny', 'messages': MSGS, 'temperature': 2.1}, 400, 'invalid_value'),
    ('chat/completions', {'model': 'tiny', 'messages': MSGS, 'max_tokens': 0}, 400, 'invalid_value'),
    ('chat/completions', {'model': 'tiny', 'messages': MSGS, 'max_tokens': 10**6}, 400, 'invalid_value'),
    ('chat/completions', {'model': 'sc-0/tiny', 'messages': MSGS}, 400, 'invalid_value'),
    ('chat/completions', {'model': 'sc-1000/tiny', 'messages': MSGS}, 400, 'invalid_value'),
    ('chat/completions', {'model': 'tiny', 'messages': MSGS, 'strategy': {'name': 'sc', 'budget': -1}}, 400, 'invalid_value'),
    ('chat/completions', {'model': 'tiny', 'messages': [{'role': 'user'}]}, 400, 'invalid_value'),
    ('chat/completions', [1, 2], 400, 'invalid_value'),
    ('completions', {'model': 'tiny', 'prompt': [[1, 2, 3]]}, 400, 'invalid_value'),
    ('chat/completions', {'model': 'tiny', 'messages': [{'role': 'user', 'content': 'hi ' * 3000}], 'max_tokens': 4}, 400, 'context_length_exceeded'),
    ('chat/completions', {'model': 'beam-4x6/tiny', 'messages': MSGS}, 400, 'invalid_value'),                  # not a 500
    ('chat/completions', {'model': 'sc-64/tiny', 'messages': MSGS, 'max_tokens': 2048}, 400, 'work_limit_exceeded'),
])
def test_bad_requests(server, route, body, status, code):
    assert_error(httpx.post(f'{server[0]}/{route}', json=body, timeout=60), status, code)

def test_invalid_json_and_oversized(server):
    url = f'{server[0]}/chat/completions'
    assert_error(httpx.post(url, content=b'{"model": "tiny", "messages": [', headers={'content-type': 'application/json'}), 400, 'invalid_json')
    assert_error(httpx.post(url, content=b'\xff\xfe', timeout=30), 400, 'invalid_json')
    big = json.dumps({'model': 'tiny', 'messages': [{'role': 'user', 'content': 'x' * 1_100_000}]}).encode()
    assert_error(httpx.post(url, content=big, timeout=30), 413, 'request_too_large')                 # by Content-Length
    def chunked():
        for i in range(0, len(big), 65536): yield big[i:i + 65536]
    assert_error(httpx.post(url, content=chunked(), timeout=30), 413, 'request_too_large')          # by counting
    assert_error(httpx.get(f'{server[0]}/nope', timeout=30), 404)
    assert health(server[0])['status'] == 'ok'

def test_openai_client_errors(client):
    with pytest.raises(openai.BadRequestError) as e: client.chat.completions.create(model='tiny', messages=MSGS, temperature=3)
    assert e.value.status_code == 400 and e.value.body['param'] == 'temperature'
    with pytest.raises(openai.NotFoundError): client.chat.completions.create(model='gpt-4o', messages=MSGS)
    with pytest.raises(openai.NotFoundError): client.models.retrieve('gpt-4o')
    with pytest.raises(openai.BadRequestError, match="'n' must be 1"): client.chat.completions.create(model='sc-4/tiny', messages=MSGS, n=2)

def test_api_key(tiny):
    with BackgroundServer(make_app(tiny, cfg=ServeConfig(api_key='sekret'))) as url:
        c = openai.OpenAI(base_url=url, api_key='wrong', max_retries=0)
        with pytest.raises(openai.AuthenticationError) as e: c.models.list()
        assert e.value.status_code == 401 and e.value.body['code'] == 'invalid_api_key'
        assert_error(httpx.post(f'{url}/chat/completions', json={'model': 'tiny', 'messages': MSGS}), 401, 'invalid_api_key')
        ok = openai.OpenAI(base_url=url, api_key='sekret', max_retries=0)
        assert ok.chat.completions.create(model='tiny', messages=MSGS, max_tokens=2).choices[0].message.role == 'assistant'
        assert httpx.get(url.removesuffix('/v1') + '/health').status_code == 200   # no key needed

class Failing(Policy):
    "A policy whose backend fails on prompts that contain 'boom'."
    name = 'failing'
    def _generate(self, prompts, params):
        if any('boom' in str(p) for p in prompts): raise RuntimeError('backend exploded')
        return [[Sample('ok', 'stop', 1, 1) for _ in range(params.n)] for _ in prompts]

def test_backend_failure_is_a_500_and_isolated():
    app = make_app(Failing())
    with BackgroundServer(app) as url:
        c = openai.OpenAI(base_url=url, api_key='x', max_retries=0)
        with pytest.raises(openai.InternalServerError, match='backend exploded'): c.completions.create(model='failing', prompt='boom')
        with ThreadPoolExecutor(8) as ex:  # a bad prompt batched with good ones fails alone
            outs = list(ex.map(lambda p: httpx.post(f'{url}/completions', json={'model': 'failing', 'prompt': p}, timeout=30),
                               ['boom', 'a', 'b', 'c', 'boom', 'd', 'e', 'f']))
        assert [r.status_code for r in outs] == [500, 200, 200, 200, 500, 200, 200, 200]
        assert c.completions.create(model='failing', prompt='fine').choices[0].text == 'ok'

def test_queue_full_gives_429_then_recovers(tiny):
    app = make_app(tiny, cfg=ServeConfig(max_queue=2, max_batch=1))
    with BackgroundServer(app) as url:
        c = openai.OpenAI(base_url=url, api_key='x', max_retries=0, timeout=120)
        def ask(i):
            try: return c.chat.completions.create(model='tiny', messages=MSGS, max_tokens=2, seed=i).choices[0].message.role
            except openai.RateLimitError as e:
                assert e.status_code == 429 and e.body['type'] == 'rate_limit_error'; return 429
        ex = ThreadPoolExecutor(12)
        with policy_lock(tiny):   # the model is busy: the flood queues, then overflows
            futs = [ex.submit(ask, i) for i in range(12)]
            time.sleep(3)
        outs = [f.result() for f in futs]; ex.shutdown()
        assert outs.count(429) >= 1 and outs.count('assistant') >= 2 and set(outs) <= {429, 'assistant'}
        assert c.chat.completions.create(model='tiny', messages=MSGS, max_tokens=2).choices[0].message.role == 'assistant'
        assert health(url)['rejected'] == outs.count(429)

def test_load_200_requests_16_in_flight(server, client):
    before = health(server[0])
    def ask(i):
        t0 = time.perf_counter()
        r = client.chat.completions.create(model='tiny', messages=[{'role': 'user', 'content': f'What is {i} + 1?'}], max_tokens=4)
        return time.perf_counter() - t0, r.choices[0].finish_reason
    t0 = time.perf_counter()
    with ThreadPoolExecutor(16) as ex: outs = list(ex.map(ask, range(200)))
    wall = time.perf_counter() - t0
    lat = sorted(t for t, _ in outs)
    assert len(outs) == 200 and all(f in ('stop', 'length') for _, f in outs)   # every request answered 200 OK
    after = health(server[0])
    reqs, batches = after['requests'] - before['requests'], after['batches'] - before['batches']
    print(f"\nload: 200 requests, 16 in flight: p50 {lat[99] * 1000:.0f} ms, p95 {lat[189] * 1000:.0f} ms, "
          f"{200 / wall:.1f} req/s, {batches} batches (largest {after['largest_batch']})")
    assert reqs == 200 and batches < reqs   # concurrent requests shared policy calls

def test_serve_command_in_a_subprocess():
    "The exact entry point the CLI wires: add_serve_args + cmd_serve, with the key from the environment."
    port = free_port()
    code = ("import argparse, sys; from reasoner_kit.serve.app import add_serve_args, cmd_serve; "
            "p = argparse.ArgumentParser(); add_serve_args(p); cmd_serve(p.parse_args(sys.argv[1:]))")
    env = {**os.environ, 'REASONER_KIT_API_KEY': 'k2', 'OMP_NUM_THREADS': '1'}
    proc = subprocess.Popen([sys.executable, '-c', code, '--policy', 'tiny', '--port', str(port), '--max-queue', '4'],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        url = f'http://127.0.0.1:{port}'
        for _ in range(600):
            try:
                if httpx.get(f'{url}/health', timeout=1).status_code == 200: break
            except httpx.TransportError: pass
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.1)
        assert httpx.get(f'{url}/health').json()['max_queue'] == 4
        c = openai.OpenAI(base_url=f'{url}/v1', api_key='k2', max_retries=0)
        assert c.completions.create(model='sc-2/tiny', prompt='1+1=', max_tokens=2).usage.completion_tokens >= 2
        with pytest.raises(openai.AuthenticationError): openai.OpenAI(base_url=f'{url}/v1', api_key='bad', max_retries=0).models.list()
        # a second server on the same port fails at once with a KitError, before loading the model
        r = subprocess.run([sys.executable, '-c', code, '--policy', 'tiny', '--port', str(port)], capture_output=True, text=True, timeout=120)
        assert r.returncode != 0 and 'cannot listen on' in r.stderr
    finally:
        proc.terminate(); proc.wait(30)
