"""GRPO on arith with the embedded model on CPU (issue 5, item 6): the mean reward of the sampled groups over steps.

TRL's GRPOTrainer fine-tunes SmolLM2-135M-Instruct on arith level-1 TRAIN prompts; the reward is the kit's verifier
(`grading.answer_reward`: 1 when the final answer equals the training answer) plus `learn_data.format_reward` (a small
bonus for a 'The answer is N.' line). Each step samples `--generations` completions for `--prompts` prompts.
Prints the per-step mean reward, a moving average, the wall time, and saves the curve as a PNG.
Resumable: checkpoints every 5 steps under --out; run the same command again after a kill.

Run: .venv/bin/python benchmarks/grpo_curve.py [--steps 40] [--generations 8] [--prompts 2] [--max-tokens 64]
"""
import argparse, json, os, time
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('REASONER_KIT_QUIET', '1')
os.environ.setdefault('MPLBACKEND', 'Agg')

from reasoner_kit.data import load_task
from reasoner_kit.grading import answer_reward
from reasoner_kit.learn_data import format_reward, grpo_prompts
from reasoner_kit.mainjob import machine
from reasoner_kit.policy import embedded_model_dir
from reasoner_kit.train import GRPOTrainConfig, plot_history, train_grpo

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=40)
    ap.add_argument('--generations', type=int, default=8, help='completions per prompt (the GRPO group)')
    ap.add_argument('--prompts', type=int, default=2, help='prompts per optimizer step')
    ap.add_argument('--max-tokens', type=int, default=64)
    ap.add_argument('--lr', type=float, default=5e-6)
    ap.add_argument('--out', default='runs/grpo_curve')
    a = ap.parse_args()
    t0 = time.time()
    prompts = grpo_prompts(load_task('arith', 'train', limit=a.steps * a.prompts, level=1))
    cfg = GRPOTrainConfig(max_steps=a.steps, lr=a.lr, num_generations=a.generations, prompts_per_step=a.prompts,
                          max_completion_length=a.max_tokens, temperature=0.8, save_steps=5, seed=0)
    res = train_grpo(embedded_model_dir(), prompts, [answer_reward, format_reward], a.out, cfg)
    rs = res.series('rewards/answer_reward/mean')
    k = max(1, len(rs) // 4)
    first, last = sum(v for _, v in rs[:k]) / k, sum(v for _, v in rs[-k:]) / k
    print(f"GRPO, embedded policy, arith level-1 train prompts, {machine()}")
    print(f"{a.steps} steps x {a.prompts} prompts x {a.generations} completions (<= {a.max_tokens} tokens), lr {a.lr}")
    for (s, v), (_, tot) in zip(rs, res.series('reward')):
        print(f"step {s:3d}  answer reward {v:.3f}  total reward {tot:.3f}")
    print(f"mean answer reward, first {k} steps: {first:.3f}; last {k} steps: {last:.3f}")
    print(f"wall time of this call: {(time.time() - t0) / 60:.1f} min (trainer {res.wall_s / 60:.1f} min"
          f"{', resumed from step %d' % res.resumed_from if res.resumed_from else ''})")
    plot_history({'grpo (embedded)': res}, keys=('rewards/answer_reward/mean', 'reward', 'completions/mean_length'),
                 path=f'{a.out}/reward.png', title='GRPO on arith (CPU)')
    json_path = f'{a.out}/curve.json'
    with open(json_path, 'w') as f:
        json.dump(dict(machine=machine(), args=vars(a), answer_reward=rs, first=first, last=last, wall_s=res.wall_s), f, indent=1)
    print(f"plot: {a.out}/reward.png; numbers: {json_path}")

if __name__ == '__main__':
    main()
