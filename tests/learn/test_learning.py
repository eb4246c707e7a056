"""The learning service on the tiny model: each trainer moves its loss or reward, a killed run resumes, the dataset
builders write TRL's columns, and iterate never trains on a test problem."""
import json
from dataclasses import replace
from pathlib import Path

import pytest

from reasoner_kit.core import KitError, read_jsonl
from reasoner_kit.data import load_task
from reasoner_kit.grading import completion_text
from reasoner_kit.learn.data import dpo_pairs, grpo_prompts, prm_steps, reference_sft, star_sft
from reasoner_kit.learn.iterate import IterateConfig, check_no_leak, iterate
from reasoner_kit.policy.backends import tiny_model_dir
from reasoner_kit.learn.train import (DPOTrainConfig, GRPOTrainConfig, SFTTrainConfig, train_dpo, train_grpo, train_sft)


def _record(id, answer, texts):
    from reasoner_kit.grading import grade
    return dict(id=id, question=id, answer=answer, level=1, prompt=[{'role': 'user', 'content': f'What is {id}?'}],
                samples=[dict(text=t, pred=None, correct=grade(answer, t), tokens=len(t), finish='stop') for t in texts])

RECORDS = [_record(f'{a} + {a}', str(2 * a), [f'{a} + {a} = {2*a}\n\nThe answer is {2*a}.', f'{a} + {a} = {2*a+1}\n\nThe answer is {2*a+1}.'])
           for a in range(2, 10)]

def test_builders_write_trl_columns():
    sft = star_sft(RECORDS)
    assert len(sft) == 8 and set(sft[0]) == {'prompt', 'completion'}
    assert sft[0]['prompt'][-1]['role'] == 'user' and sft[0]['completion'] == [{'role': 'assistant', 'content': '2 + 2 = 4\n\nThe answer is 4.'}]
    pairs = dpo_pairs(RECORDS)
    assert len(pairs) == 8 and set(pairs[0]) == {'prompt', 'chosen', 'rejected', 'weight'}
    assert 'answer is 4' in pairs[0]['chosen'][0]['content'] and 'answer is 5' in pairs[0]['rejected'][0]['content']
    g = grpo_prompts(load_task('arith', 'train', limit=2, level=1))
    assert set(g[0]) == {'prompt', 'answer', 'id'} and g[0]['prompt'][0]['role'] == 'user'
    prm = prm_steps(RECORDS[:1])
    assert [r['labels'] for r in prm] == [[True, True], [False, False]] and prm[0]['completions'][0] == '2 + 2 = 4'
    assert isinstance(prm[0]['prompt'], str)

def test_sft_loss_falls_and_resumes_after_kill(kill_at, tmp_path):
    rows = reference_sft(load_task('arith', 'train', limit=4, level=1)) * 4
    cfg = SFTTrainConfig(max_steps=6, lr=3e-3, batch_size=4, micro_batch=4, save_steps=3)
    with pytest.raises(KeyboardInterrupt):
        train_sft(tiny_model_dir(), rows, tmp_path, cfg, callbacks=[kill_at(3)])
    assert (tmp_path / 'checkpoints' / 'checkpoint-3').is_dir() and not (tmp_path / 'model').exists()
    res = train_sft(tiny_model_dir(), rows, tmp_path, cfg)                  # the same call again resumes
    assert res.resumed_from == 3 and res.global_step == 6
    steps = [s for s, _ in res.series('loss')]
    assert steps == [1, 2, 3, 4, 5, 6]                                        # one history across the kill
    loss = [v for _, v in res.series('loss')]
    assert loss[-1] < loss[0]
    assert (res.model_dir / 'model.safetensors').exists() and (res.model_dir / 'tokenizer.json').exists()

def test_dpo_with_lora_loss_starts_at_log2_and_falls(tmp_path):
    cfg = DPOTrainConfig(max_steps=4, lr=1e-2, batch_size=4, micro_batch=4, lora=True, lora_r=8)
    res = train_dpo(tiny_model_dir(), dpo_pairs(RECORDS), tmp_path, cfg)
    loss = [v for _, v in res.series('loss')]
    assert abs(loss[0] - 0.6931) < 1e-3 and loss[-1] < loss[0]      # policy = reference at first (LoRA B starts at 0)
    assert not list(res.model_dir.glob('adapter_*'))                  # adapters merged: a plain model directory
    assert (res.model_dir / 'model.safetensors').exists()

def _vowels(completions, **kw):
    "A toy reward with variance even for a random model: the share of vowels."
    return [sum(ch in 'aeiou' for ch in t) / max(len(t), 1) for t in map(completion_text, completions)]

def test_grpo_rewards_and_updates(tmp_path):
    import torch
    from transformers import AutoModelForCausalLM
    g = grpo_prompts(load_task('arith', 'train', limit=2, level=1))
    res = train_grpo(tiny_model_dir(), g, [_vowels], tmp_path, GRPOTrainConfig(max_steps=2, lr=1e-2, num_generations=4, max_completion_length=8))
    rewards = [v for _, v in res.series('reward')]
    assert len(rewards) == 2 and rewards[0] != rewards[1] and all(0 < r < 1 for r in rewards)
    assert all(v > 0 for _, v in res.series('grad_norm'))
    before = AutoModelForCausalLM.from_pretrained(tiny_model_dir()).state_dict()
    after = AutoModelForCausalLM.from_pretrained(res.model_dir).state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)

def test_grpo_loss_type_reaches_trl(tmp_path, monkeypatch):
    "A GRPO loss type is checked before any work and handed to TRL's GRPOTrainer in its GRPOConfig."
    import trl
    g = grpo_prompts(load_task('arith', 'train', limit=2, level=1))
    with pytest.raises(KitError, match="loss_type 'dr-grpo'"):
        train_grpo(tiny_model_dir(), g, [_vowels], tmp_path / 'bad', GRPOTrainConfig(max_steps=1, loss_type='dr-grpo'))
    seen, init = [], trl.GRPOTrainer.__init__
    def spy(self, *a, **kw): seen.append((kw['args'].loss_type, kw['args'].vllm_importance_sampling_correction)); init(self, *a, **kw)
    monkeypatch.setattr(trl.GRPOTrainer, '__init__', spy)
    train_grpo(tiny_model_dir(), g, [_vowels], tmp_path / 'ok', GRPOTrainConfig(max_steps=1, num_generations=4, max_completion_length=8, loss_type='dr_grpo'))
    assert seen == [('dr_grpo', False)]   # tiny samples with transformers: nothing to correct

def test_is_correction_only_where_sampler_and_trainer_differ(monkeypatch):
    "TRL's importance-sampling correction: off where vLLM and the trainer both compute in float32 on a CPU, on where either uses bf16 or a GPU."
    import torch
    from reasoner_kit.learn import train
    from reasoner_kit.policy import vllm_engine
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(vllm_engine, 'engine_dtype', lambda *a: 'float32')
    assert train._is_correction(GRPOTrainConfig(), vllm=True) is False
    assert train._is_correction(GRPOTrainConfig(bf16=True), vllm=True) is True          # a bf16 trainer
    assert train._is_correction(GRPOTrainConfig(is_correction=True), vllm=True) is True
    monkeypatch.setattr(vllm_engine, 'engine_dtype', lambda *a: 'bfloat16')
    assert train._is_correction(GRPOTrainConfig(), vllm=True) is True                   # a bf16 sampler (AVX512-BF16 CPU)
    assert train._is_correction(GRPOTrainConfig(), vllm=False) is False                 # transformers samples with the trainer's numbers
    monkeypatch.setattr(vllm_engine, 'engine_dtype', lambda *a: 'float32')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert train._is_correction(GRPOTrainConfig(), vllm=True) is True                   # a GPU's kernels differ from the trainer's

def test_trl_vllm_gets_the_kits_dtype(monkeypatch):
    "On a CPU, TRL's colocated vLLM is built in the kit's engine_dtype() (not vLLM's 'auto'), and TRL's LLM is put back afterwards."
    import torch, trl.generation.vllm_generation as vg
    from reasoner_kit.learn.train import _trl_vllm_dtype
    from reasoner_kit.policy.vllm_engine import engine_dtype
    if torch.cuda.is_available(): pytest.skip("on a GPU vLLM's own choice stands")
    seen = []
    def fake(**kw): seen.append(kw)
    monkeypatch.setattr(vg, 'LLM', fake, raising=False)
    with _trl_vllm_dtype(): vg.LLM(model='m', seed=0)
    assert seen == [dict(model='m', seed=0, dtype=engine_dtype())] and vg.LLM is fake

def test_iterate_never_trains_on_test_problems(tmp_path):
    cfg = IterateConfig(levels=(1,), train_per_round=3, test_limit=3, samples=1, max_tokens=8, eval_samples=0,
                        reference_for_unsolved=True, sft=SFTTrainConfig(max_steps=1, batch_size=3, micro_batch=3))
    rows = iterate('tiny', 'arith', rounds=1, method='sft', cfg=cfg, out=tmp_path, verbose=False)
    assert [r['round'] for r in rows] == [0, 1] and rows[1]['train_rows'] == 3
    trained = read_jsonl(tmp_path / 'round1' / 'train_data.jsonl')
    test = load_task('arith', 'test', limit=3, level=1)
    test_q = {p.question for p in test}
    assert trained and all(not any(q in r['prompt'][-1]['content'] for q in test_q) for r in trained)
    # the guard itself: a test question smuggled into the rows is refused
    with pytest.raises(KitError, match='test problem is in the training data'):
        check_no_leak(trained + reference_sft(test[:1]), test)
    # the folder resumes only the run that made it: other settings are refused, the same ones resume
    with pytest.raises(KitError, match='samples'):
        iterate('tiny', 'arith', rounds=1, method='sft', cfg=replace(cfg, samples=2), out=tmp_path, verbose=False)
    assert iterate('tiny', 'arith', rounds=1, method='sft', cfg=cfg, out=tmp_path, verbose=False)[1]['train_rows'] == 3

@pytest.mark.slow
def test_embedded_model_trains_and_serves(tmp_path):
    "The embedded model's directory (converted from GGUF) trains as plain weights, and the result loads as a policy."
    from reasoner_kit.policy.backends import HFPolicy, embedded_model_dir
    rows = reference_sft(load_task('arith', 'train', limit=2, level=1))
    res = train_sft(embedded_model_dir(), rows, tmp_path, SFTTrainConfig(max_steps=1, batch_size=2, micro_batch=2, lr=1e-5))
    assert res.global_step == 1 and 0 < res.series('loss')[0][1] < 10
    assert 'quantization_config' not in json.loads((res.model_dir / 'config.json').read_text())
    out = HFPolicy(str(res.model_dir)).generate([[{'role': 'user', 'content': 'What is 2 + 2?'}]], max_tokens=8)
    assert out[0][0].completion_tokens > 0

@pytest.mark.cuda
def test_grpo_on_gpu_uses_bf16_and_vllm(tmp_path):
    import importlib.util
    g = grpo_prompts(load_task('arith', 'train', limit=2, level=1))
    res = train_grpo(tiny_model_dir(), g, [_vowels], tmp_path, GRPOTrainConfig(max_steps=2, num_generations=4, max_completion_length=8,
                                                                                 use_vllm=importlib.util.find_spec('vllm') is not None))
    assert res.global_step == 2
    assert json.loads((res.model_dir / 'config.json').read_text())['dtype'] == 'float32'   # fp32 master weights (issue 13 item 6)
    assert json.loads((tmp_path / 'result.json').read_text())['bf16'] is True               # computed in bf16
