"""bf16 training keeps float32 master weights: one optimizer step at GRPO's lr of 1e-6 (an update far below bf16's
resolution) changes the saved float32 weights, where weights held in bf16 would have rounded it away."""
import json
import pytest, torch
from safetensors.torch import load_file

W = 'model.layers.0.mlp.down_proj.weight'

def _one_step(tmp_path, **kw):
    from reasoner_kit.data import load_task
    from reasoner_kit.learn.data import reference_sft
    from reasoner_kit.learn.train import SFTTrainConfig, train_sft
    from reasoner_kit.policy.backends import tiny_model_dir
    rows = reference_sft(load_task('arith', 'train', limit=4, level=1))
    r = train_sft(tiny_model_dir(), rows, tmp_path / 'run', SFTTrainConfig(max_steps=1, lr=1e-6, batch_size=4, micro_batch=4, **kw))
    w0, w1 = load_file(tiny_model_dir() / 'model.safetensors')[W].float(), load_file(r.model_dir / 'model.safetensors')[W]
    return json.loads((tmp_path / 'run' / 'result.json').read_text()), w0, w1

def _check(res, w0, w1):
    assert res['bf16'] is True and res['global_step'] == 1
    assert w1.dtype == torch.float32                                    # the master weights were float32 and saved as such
    d = (w1 - w0).abs()
    assert (d > 5e-7).float().mean() > 0.5, d.max()                     # Adam's first step moves each weight by ~lr: it was kept
    assert d.max() < 1.5e-6, d.max()                                    # and nothing else happened to the weights (no bf16 rounding)
    assert (w1.bfloat16() == w0.bfloat16()).float().mean() > 0.95       # a bf16 parameter would not have changed

def test_bf16_keeps_fp32_master_weights_cpu(tmp_path):
    _check(*_one_step(tmp_path, bf16=True))

@pytest.mark.cuda
def test_bf16_is_the_cuda_default_with_fp32_master_weights(tmp_path):
    _check(*_one_step(tmp_path))                                        # bf16=None: bf16 compute on CUDA, fp32 weights
