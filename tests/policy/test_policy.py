"""Policy service: OpenAIPolicy against a real loopback server, spec errors, and the embedded model (the contract both
local engines keep is test_contract.py)."""
import pytest
from reasoner_kit.core import KitError
from reasoner_kit.policy.backends import OpenAIPolicy, embedded_model_dir, tiny_model_dir
from reasoner_kit.policy.base import SamplingParams, load_policy
from openai_stub_server import make_app, ServerThread

MSGS = [{'role': 'user', 'content': 'What is 2+3?'}]

def test_openai_policy_against_loopback_server(tiny):
    with ServerThread(make_app(tiny)) as url:
        pol = load_policy(f'openai:tiny@{url}')
        out = pol.generate([MSGS, 'Once upon a time'], n=3, temperature=1.0, max_tokens=8)
        assert [len(o) for o in out] == [3, 3]
        assert all(s.completion_tokens >= 1 for o in out for s in o)

def test_openai_policy_without_token_limits(tiny):
    "The OpenAI API has no tokenizer route, and this stub lists no max_model_len: both say so in one line, no guess."
    with ServerThread(make_app(tiny)) as url:
        pol = load_policy(f'openai:tiny@{url}')
        with pytest.raises(KitError, match='cannot count tokens'): pol.count_tokens(MSGS)
        with pytest.raises(KitError, match='does not know its context length'): pol.context_length

def test_openai_policy_servers_without_n(tiny):
    app = make_app(tiny, ignore_n=True)
    with ServerThread(app) as url:
        out = OpenAIPolicy('tiny', url, max_retries=0).generate([MSGS], n=4, temperature=1.0, max_tokens=6)
    assert len(out[0]) == 4
    assert app.state.calls == 4          # one choice per call: called again for the rest

def test_openai_server_down_is_one_line():
    with pytest.raises(KitError, match='cannot reach the server') as e:
        OpenAIPolicy('m', 'http://127.0.0.1:9/v1', max_retries=0, timeout=2).generate(['hi'])
    assert '\n' not in str(e.value)

def test_bad_specs():
    for spec, msg in [('gpt9', 'unknown policy spec'), ('openai:m', 'openai:MODEL@BASE_URL'), ('hf:/nope/x.gguf', 'GGUF file not found'),
                      ('hf:/nope/dir', 'cannot load model')]:
        with pytest.raises(KitError, match=msg): load_policy(spec)

@pytest.mark.slow
def test_embedded_cache_matches_gguf():
    """The cached safetensors copy computes the same logits as the model loaded from the GGUF."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from reasoner_kit.policy.backends import embedded_gguf_path
    g = embedded_gguf_path()
    ref = AutoModelForCausalLM.from_pretrained(g.parent, gguf_file=g.name, dtype=torch.float32)
    d = embedded_model_dir()
    m = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32)
    ids = AutoTokenizer.from_pretrained(d)('Tom has 3 apples.', return_tensors='pt').input_ids
    with torch.no_grad():
        assert torch.allclose(ref(ids).logits, m(ids).logits, atol=1e-4)

@pytest.mark.slow
def test_embedded_solves_something(embedded):
    """The real model answers a one-step problem correctly in at least one of 8 samples."""
    from reasoner_kit.grading import grade
    q = [{'role': 'user', 'content': 'Tom has 3 apples and buys 5 more. How many apples does he have now? End with "The answer is N."'}]
    out = embedded.generate([q], n=8, temperature=0.7, max_tokens=96, seed=0)[0]
    assert sum(grade('8', s.text) for s in out) >= 1
