"""Expert iteration on vLLM: one engine for every round, the trained weights swapped in place (no restart), and the
swapped engine answers exactly as an engine started on the round's saved model."""
import pytest
from reasoner_kit.learn.iterate import IterateConfig, iterate
from reasoner_kit.learn.train import SFTTrainConfig
from reasoner_kit.policy.backends import tiny_model_dir
from reasoner_kit.core import read_jsonl
from reasoner_kit.data import load_task
from reasoner_kit.evaluate import EvalConfig, evaluate

def test_rounds_share_one_engine_and_swap_weights_in_place(tmp_path, monkeypatch):
    pytest.importorskip('vllm')
    import torch
    if torch.cuda.is_available(): pytest.skip('on a GPU the engine is freed for training (its memory), not kept')
    import reasoner_kit.policy.vllm_engine as ve
    starts, start = [], ve._start
    monkeypatch.setattr(ve, '_start', lambda s: starts.append(s['model']) or start(s))
    base = tmp_path / 'base'
    import shutil; shutil.copytree(tiny_model_dir(), base)            # its own folder: an engine of its own, not the tests' shared one
    cfg = IterateConfig(levels=(1,), train_per_round=3, test_limit=4, samples=1, max_tokens=8, eval_samples=0,
                        reference_for_unsolved=True, sft=SFTTrainConfig(max_steps=2, lr=1e-2, batch_size=3, micro_batch=3))
    rows = iterate(str(base), 'arith', rounds=2, method='sft', cfg=cfg, out=tmp_path / 'it', verbose=False)   # a path: vLLM, not `tiny`'s transformers
    assert [r['train_rows'] > 0 for r in rows[1:]] == [True, True]
    assert starts == [str(base)], starts                              # rounds 1 and 2 reused the round-0 engine
    # the in-place weights answer as an engine started on round 2's saved model does (iterate closed its engine at the end)
    swapped = {r['id']: r['greedy']['text'] for r in read_jsonl(tmp_path / 'it' / 'round2' / 'eval' / 'samples.jsonl')}
    fresh = ve.VLLMPolicy(rows[2]['model_dir'])
    try:
        s = evaluate(fresh, load_task('arith', 'test', limit=4, level=1), EvalConfig(samples=0, max_tokens=8))
        assert {r['id']: r['greedy']['text'] for r in s['records']} == swapped
        assert len(starts) == 2                                       # this check's own engine: the swapped one was shut down
    finally: fresh.close()
