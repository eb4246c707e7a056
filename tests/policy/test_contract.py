"""The policy contract, run against both engines on the tiny model (`engine_policy` is HFPolicy, then VLLMPolicy):
output shapes and counts, stop strings, log-probs, seeds, greedy with n > 1, duplicate prompts, token counts, context
length, one BOS; and the two engines agree on teacher-forced log-probs to bfloat16 precision."""
import pytest
from reasoner_kit.core import KitError
from reasoner_kit.policy.base import SamplingParams, load_policy

MSGS = [{'role': 'user', 'content': 'What is 2+3?'}]
texts = lambda out: [[s.text for s in o] for o in out]

def test_batched_shapes_and_counts(engine_policy):
    out = engine_policy.generate([MSGS, 'Once upon a time', MSGS], SamplingParams(n=4, temperature=1.0, max_tokens=10, seed=3))
    assert [len(o) for o in out] == [4, 4, 4]
    for o in out:
        for s in o:
            assert 1 <= s.completion_tokens <= 10 and s.prompt_tokens > 0
            assert s.finish_reason in ('stop', 'length')
            if s.finish_reason == 'length': assert s.completion_tokens == 10 and s.stop_str is None
    assert [o[0].prompt_tokens for o in out] == [engine_policy.count_tokens(p) for p in (MSGS, 'Once upon a time', MSGS)]
    # the finish reason says what happened: a one-token budget ends by 'length'; a stop string ends by 'stop'
    one = engine_policy.generate([MSGS, 'Once upon a time'], SamplingParams(n=3, temperature=1.0, max_tokens=1, seed=3))
    assert [[(s.finish_reason, s.completion_tokens, s.stop_str) for s in o] for o in one] == [[('length', 1, None)] * 3] * 2
    cut = engine_policy.generate([MSGS], SamplingParams(n=8, temperature=1.0, max_tokens=12, seed=0, stop=[' ']))[0]
    assert any(s.stop_str == ' ' for s in cut)
    for s in cut: assert s.finish_reason == ('stop' if s.stop_str == ' ' else 'length' if s.completion_tokens == 12 else 'stop')

def test_more_samples_than_one_batch(engine_policy):
    "90 samples: more than HFPolicy's batch of 64, so a second micro-batch must read the right prompts."
    prompts = ['Once upon a time', MSGS, 'Once']
    out = engine_policy.generate(prompts, n=30, temperature=1.0, max_tokens=3, seed=0)
    assert [len(o) for o in out] == [30, 30, 30]
    assert [{s.prompt_tokens for s in o} for o in out] == [{engine_policy.count_tokens(p)} for p in prompts]

def test_stop_strings_cut_text(engine_policy):
    # Sample until some completion contains a space, then check a stop string cuts there.
    out = engine_policy.generate([MSGS], n=8, temperature=1.0, max_tokens=12, seed=0, stop=[' '])[0]
    assert all(' ' not in s.text for s in out)
    assert any(s.finish_reason == 'stop' for s in out)
    assert any(s.stop_str == ' ' for s in out) and all(s.stop_str in (None, ' ') for s in out)

def test_logprobs(engine_policy):
    "One log-prob per generated token, each <= 0, summing to the teacher-forced log-prob of the same completion."
    p = engine_policy
    s = p.generate([MSGS], n=4, temperature=1.0, max_tokens=6, logprobs=True, seed=0)[0]
    tol = 1e-3 if type(p).__name__ == 'HFPolicy' else 0.05 * 6   # float32 on transformers; bfloat16 on vLLM
    for x, tf in zip(s, p.token_logprobs([MSGS] * len(s), [x.text for x in s])):
        assert x.finish_reason == 'length' and len(x.logprobs) == x.completion_tokens == 6 == len(tf)
        assert all(v <= 0 for v in x.logprobs)
        assert abs(sum(x.logprobs) - sum(tf)) < tol, (sum(x.logprobs), sum(tf))

def test_seeds_reproducible(engine_policy):
    kw = dict(n=3, temperature=1.0, max_tokens=8)
    a = engine_policy.generate([MSGS, 'Once upon a time'], seed=1, **kw)
    assert texts(engine_policy.generate([MSGS, 'Once upon a time'], seed=1, **kw)) == texts(a)
    assert texts(engine_policy.generate([MSGS, 'Once upon a time'], seed=2, **kw)) != texts(a)

def test_duplicate_prompts_independent(engine_policy):
    a, b = texts(engine_policy.generate([MSGS, MSGS], n=4, temperature=1.0, max_tokens=8, seed=0))
    assert a != b

def test_greedy_with_n(engine_policy):
    one = engine_policy.generate([MSGS, 'Once upon a time'], max_tokens=6)
    many = engine_policy.generate([MSGS, 'Once upon a time'], n=3, max_tokens=6, seed=5)
    assert texts(many) == [[o[0].text] * 3 for o in one]
    assert many[0][0] is not many[0][1]                    # copies, not one object three times

def test_token_count_and_context_length(engine_policy):
    p = engine_policy
    assert p.count_tokens(MSGS) == len(p.tok(p.render(MSGS)).input_ids) == p.generate([MSGS], max_tokens=1)[0][0].prompt_tokens
    assert p.count_tokens('Once upon a time') == len(p.tok('Once upon a time').input_ids) < p.count_tokens(MSGS)
    assert p.context_length == 2048                           # the tiny config's max_position_embeddings

def test_one_bos(engine_policy):
    p, bos = engine_policy, engine_policy.tok.bos_token_id
    ids = p.prompt_ids(MSGS)
    assert ids[0] == bos and ids[1] != bos                    # the chat template writes the BOS; nothing adds a second
    raw = p.prompt_ids(p.tok.bos_token + 'Once upon a time')
    assert raw[0] == bos and raw[1] != bos
    assert p.generate([p.tok.bos_token + 'Once upon a time'], max_tokens=1)[0][0].prompt_tokens == len(raw)

def test_token_logprobs_agree_across_engines(tiny, vllm_tiny):
    prompts = [MSGS, MSGS + [{'role': 'assistant', 'content': 'Step 1:'}], 'Once upon a time']
    comps = [' 2 + 3 = 5', ' add the numbers', '']
    a, b = tiny.token_logprobs(prompts, comps), vllm_tiny.token_logprobs(prompts, comps)
    assert [len(x) for x in a] == [len(x) for x in b] == [len(tiny.tok(c, add_special_tokens=False).input_ids) for c in comps]
    assert max(abs(u - v) for x, y in zip(a, b) for u, v in zip(x, y)) < 0.05   # float32 vs bfloat16
    assert vllm_tiny.token_logprobs(prompts, comps) == b                         # the same again (prefix cache on)

def test_one_engine_per_run(vllm_tiny):
    assert load_policy('vllm:tiny').llm is vllm_tiny.llm
    assert load_policy('tiny', engine='vllm').llm is vllm_tiny.llm

def test_closing_one_engine_keeps_the_others(vllm_tiny):
    "Engines in one process share vLLM's parallel groups: shutting one down must leave the others running."
    from reasoner_kit.policy.vllm_engine import close_policy
    greedy = SamplingParams(max_tokens=4, temperature=0.0)
    before = vllm_tiny.generate(['What is 2+3?'], greedy)[0][0].text
    other = load_policy('tiny', engine='vllm', seed=7)          # other settings: a second engine
    assert other.llm is not vllm_tiny.llm
    close_policy(other)
    assert vllm_tiny.generate(['What is 2+3?'], greedy)[0][0].text == before

def test_vllm_policy_reads_hidden_states_from_its_twin(tiny, vllm_tiny):
    "vLLM has no hidden states: the PRM's features come from `policy.hf`, transformers on the same weights."
    import torch
    from reasoner_kit.policy.backends import tiny_model_dir
    from reasoner_kit.reward.prm import step_features
    assert vllm_tiny.model_dir == tiny_model_dir() and type(vllm_tiny.hf).__name__ == 'HFPolicy' and vllm_tiny.hf is vllm_tiny.hf
    a, b = (step_features(p, ['What is 2+3?'], [['2 + 3 = 5', 'The answer is 5.']]) for p in (vllm_tiny, tiny))
    assert a[0].shape == (2, 64) and torch.allclose(a[0], b[0])

def test_engine_choice(monkeypatch):
    from reasoner_kit.policy.backends import tiny_model_dir
    from reasoner_kit.policy.vllm_engine import local_policy, pick_engine, vllm_installed
    assert type(load_policy('tiny')).__name__ == 'HFPolicy'   # tiny stays on transformers by default
    monkeypatch.setenv('REASONER_KIT_ENGINE', 'hf')
    assert type(local_policy(tiny_model_dir(), 'x')).__name__ == 'HFPolicy'
    assert pick_engine('auto') == ('vllm' if vllm_installed() else 'hf')   # an argument beats the variable
    monkeypatch.setenv('REASONER_KIT_ENGINE', 'tpu')
    with pytest.raises(KitError, match='unknown engine'): pick_engine()
    with pytest.raises(KitError, match='unknown engine'): load_policy('embedded', engine='gpu')
