"""Fixtures of the policy tests: the tiny model on each engine. vLLM's is one eager engine for the whole run (the
kit shares engines per model and settings), started on first use and skipped only where vLLM does not import."""
import pytest

@pytest.fixture(scope='session')
def vllm_tiny():
    "The tiny model on vLLM (eager: nothing to gain from compiling a 2-layer model)."
    try: import vllm  # noqa: F401
    except Exception as e: pytest.skip(f"vLLM does not import here ({type(e).__name__}: {e}): the vLLM half of the policy contract is not run")
    from reasoner_kit.policy.base import load_policy
    return load_policy('vllm:tiny')

@pytest.fixture(scope='session', params=['hf', 'vllm'])
def engine_policy(request):
    "The tiny model on transformers, then on vLLM: every contract test runs against both."
    return request.getfixturevalue('tiny' if request.param == 'hf' else 'vllm_tiny')
