"""The trainers under `accelerate launch`: 2 CPU processes (DDP over gloo, configs/accelerate/cpu_ddp.yaml) train the tiny
model for a few steps of SFT and of GRPO through `python -m reasoner_kit.cli train`, like the same command run plainly."""
import json, os, socket, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REWARDS = '''
def vowel_reward(completions, **kw):
    "Share of vowels in a completion: varies within a group, so the tiny random model gets a signal."
    from reasoner_kit.grading import completion_text
    return [sum(ch in 'aeiou' for ch in t) / max(len(t), 1) for t in map(completion_text, completions)]
'''

def _port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _train(tmp, name, ddp, *args):
    "Run `reasoner-kit train ...` plainly or on 2 processes; its history and result.json."
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'REASONER_KIT_QUIET': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false',
           'PYTHONPATH': f"{tmp}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env.pop('WORLD_SIZE', None); env.pop('RANK', None)
    launch = ([str(BIN / 'accelerate'), 'launch', '--config_file', str(ROOT / 'configs/accelerate/cpu_ddp.yaml'),
               '--main_process_port', str(_port()), '-m'] if ddp else [sys.executable, '-m'])
    out = tmp / name
    p = subprocess.run(launch + ['reasoner_kit.cli', 'train', *args, '--policy', 'tiny', '--out', str(out)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert p.stdout.count('trained ') == 1, p.stdout       # rank 0 reports, once
    hist = [json.loads(l) for l in (out / 'history.jsonl').read_text().splitlines()]
    return hist, json.loads((out / 'result.json').read_text())

def _series(hist, k): return [h[k] for h in hist if k in h and 'train_runtime' not in h]

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    from reasoner_kit.core import write_jsonl
    from reasoner_kit.data import load_task
    from reasoner_kit.learn.data import grpo_prompts, reference_sft
    tmp = tmp_path_factory.mktemp('ddp')
    write_jsonl(tmp / 'sft.jsonl', reference_sft(load_task('arith', 'train', limit=4, level=1)) * 2)
    write_jsonl(tmp / 'grpo.jsonl', grpo_prompts(load_task('arith', 'train', limit=8, level=1)))
    (tmp / 'ddp_test_rewards.py').write_text(REWARDS)
    return tmp

def test_sft_ddp_matches_single_process(data):
    args = ['sft', '--data', str(data / 'sft.jsonl'), '--max-steps', '4', '--lr', '3e-3', '--batch-size', '4', '--micro-batch', '2']
    h1, r1 = _train(data, 'sft1', False, *args)
    h2, r2 = _train(data, 'sft2', True, *args)
    assert (r1['processes'], r2['processes'], r1['global_step'], r2['global_step']) == (1, 2, 4, 4)
    l1, l2 = _series(h1, 'loss'), _series(h2, 'loss')
    assert len(l1) == len(l2) == 4, (l1, l2)
    assert l1[-1] < l1[0] and l2[-1] < l2[0], (l1, l2)             # both learn
    assert abs(l1[0] - l2[0]) < 0.02 * l1[0], (l1, l2)              # same data, seeds and global batch: the same first step
    assert abs(l1[-1] - l2[-1]) < 0.25 * (l1[0] - l1[-1]), (l1, l2)   # and about the same curve
    assert (data / 'sft2' / 'model' / 'model.safetensors').exists() and not list(data.glob('sft2/model.tmp*'))

def test_grpo_ddp_matches_single_process(data):
    args = ['grpo', '--data', str(data / 'grpo.jsonl'), '--max-steps', '3', '--lr', '1e-2', '--reward', 'ddp_test_rewards:vowel_reward',
            '--set', 'num_generations=4', '--set', 'prompts_per_step=2', '--set', 'max_completion_length=12']
    h1, r1 = _train(data, 'grpo1', False, *args)
    h2, r2 = _train(data, 'grpo2', True, *args)
    assert (r1['processes'], r2['processes'], r1['global_step'], r2['global_step']) == (1, 2, 3, 3)
    (g1, g2), (w1, w2) = [_series(h, 'grad_norm') for h in (h1, h2)], [_series(h, 'reward') for h in (h1, h2)]
    assert len(w1) == len(w2) == len(g1) == len(g2) == 3, (h1, h2)
    # GRPO's loss is ~0 by construction (on-policy, group-normalized advantages): the gradient shows the run moving.
    assert g1[-1] < g1[0] and g2[-1] < g2[0], (g1, g2)              # both runs move the same way
    assert abs(g1[0] - g2[0]) < 0.2 * g1[0], (g1, g2)               # same prompts and starting weights: about the same first step
    assert abs(w1[0] - w2[0]) < 0.1, (w1, w2)                       # the same reward level (the samples themselves differ)
