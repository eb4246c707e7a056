"""The main job's compound phase on vLLM: the learned weights go into the main policy's running engine (no second engine
start), its samples are the learned weights', and the base weights are back afterwards (the main policy is what it says)."""
import shutil
import pytest
from reasoner_kit.core import read_jsonl
from reasoner_kit.data import load_task
from reasoner_kit.main import MainConfig, phase_compound, phase_search
from reasoner_kit.policy.backends import tiny_model_dir
from reasoner_kit.policy.base import policy_identity
from reasoner_kit.policy.wrappers import CachedPolicy

def texts(path): return [s['text'] for r in read_jsonl(path) for s in r['samples']]

def test_compound_swaps_weights_into_the_main_engine(tmp_path, monkeypatch):
    pytest.importorskip('vllm')
    import torch
    from transformers import AutoModelForCausalLM
    import reasoner_kit.policy.vllm_engine as ve
    starts, start = [], ve._start
    monkeypatch.setattr(ve, '_start', lambda s: starts.append(s['model']) or start(s))
    base, learned = tmp_path / 'base', tmp_path / 'learned'             # own folders: engines of their own, not the tests' shared one
    shutil.copytree(tiny_model_dir(), base); shutil.copytree(tiny_model_dir(), learned)
    m = AutoModelForCausalLM.from_pretrained(learned)
    with torch.no_grad():
        for p in m.parameters(): p.add_(torch.randn_like(p) * 0.5)    # other weights: other samples
    m.save_pretrained(learned)
    cfg = MainConfig(policy=str(base), limit=3, budget=2, max_tokens=8, chunk=3, out=str(tmp_path / 'run'))
    problems = load_task('arith', 'test', limit=3, level=1)
    inner = ve.VLLMPolicy(base, 'embedded', enforce_eager=True)
    try:
        policy, out = CachedPolicy(inner), tmp_path / 'run'
        phase_search(CachedPolicy(inner, tmp_path / 'base_before.jsonl'), problems, cfg, out / 'base_before')
        rows = phase_compound(str(learned), problems, cfg, out, policy)
        assert set(rows) == {'learned + self_consistency@2', 'learned + weighted_best_of_n@2'}
        assert starts == [str(base)], starts                          # no second engine
        got = texts(out / 'learned_samples_cache.jsonl')
        assert len(got) == 3 * 2 and got != texts(tmp_path / 'base_before.jsonl')   # the learned weights sampled them
        assert (inner.model_dir, inner.name, policy_identity(inner)['model']) == (base, 'embedded', str(base.resolve()))
        phase_search(CachedPolicy(inner, tmp_path / 'base_after.jsonl'), problems, cfg, out / 'base_after')
        assert texts(tmp_path / 'base_after.jsonl') == texts(tmp_path / 'base_before.jsonl')   # the base weights are back
    finally: inner.close()
