"""Resumable learning outputs resume only the run that made them (issue 14, item 3): a trainer's checkpoint made with
other data, settings or starting model, and the main job's reward-model folder made from other samples, are refused."""
from dataclasses import replace

import pytest

from reasoner_kit.core import KitError, write_jsonl
from reasoner_kit.data import load_task
from reasoner_kit.learn.data import reference_sft
from reasoner_kit.learn.train import SFTTrainConfig, train_sft
from reasoner_kit.policy.backends import tiny_model_dir

def test_checkpoint_made_with_other_data_or_settings_is_refused(kill_at, tmp_path):
    rows = reference_sft(load_task('arith', 'train', limit=4, level=1)) * 2
    cfg = SFTTrainConfig(max_steps=4, lr=1e-3, batch_size=4, micro_batch=4, save_steps=2)
    with pytest.raises(KeyboardInterrupt): train_sft(tiny_model_dir(), rows, tmp_path, cfg, callbacks=[kill_at(2)])
    other = reference_sft(load_task('arith', 'train', limit=8, level=1)[4:]) * 2
    with pytest.raises(KitError, match='other settings'): train_sft(tiny_model_dir(), other, tmp_path, cfg)
    with pytest.raises(KitError, match='lr'): train_sft(tiny_model_dir(), rows, tmp_path, replace(cfg, lr=1e-4))
    with pytest.raises(KitError, match='model'): train_sft(tiny_model_dir(1), rows, tmp_path, cfg)
    res = train_sft(tiny_model_dir(), rows, tmp_path, replace(cfg, max_steps=6))   # the same run, trained longer: resumes
    assert res.resumed_from == 2 and res.global_step == 6

def _traces(path, wrong):
    "Two training problems, each with a right and a wrong sample (the wrong answer is `wrong`)."
    write_jsonl(path, [dict(id=f't{i}', prompt=[{'role': 'user', 'content': f'What is {i} + {i}?'}],
                            samples=[dict(text=f'{i} + {i} = {2 * i}\n\nThe answer is {2 * i}.', correct=True),
                                     dict(text=f'The answer is {wrong}.', correct=False)]) for i in range(2)])
    return path

def test_main_reward_model_folder_refuses_other_samples(tmp_path, tiny):
    from reasoner_kit.main import MainConfig, phase_reward
    cfg = MainConfig(policy='tiny', limit=2, budget=2, max_tokens=4, learn_problems=2, rm_pairs_per_problem=1)
    probs = load_task('arith', 'test', limit=2, level=1)
    rows = phase_reward(tiny, probs, cfg, tmp_path, _traces(tmp_path / 'a.jsonl', 7))
    assert set(rows) == {'best_of_n@2 (RM)', 'weighted_best_of_n@2 (RM)'}
    with pytest.raises(KitError, match='other settings'):             # a reward model trained on other pairs is not reused
        phase_reward(tiny, probs, cfg, tmp_path, _traces(tmp_path / 'b.jsonl', 9))
    assert phase_reward(tiny, probs, cfg, tmp_path, _traces(tmp_path / 'a.jsonl', 7)) == rows   # the same run resumes
