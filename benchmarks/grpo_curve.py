"""GRPO on arith with the embedded model on CPU (issue 5, item 6): the mean reward of the sampled groups over steps.

TRL's GRPOTrainer fine-tunes a policy (default: SmolLM2-135M-Instruct; --policy takes any model directory, e.g. a
Phase-1 SFT model) on arith TRAIN prompts; the reward is the kit's verifier (`grading.answer_reward`: 1 when the final
answer equals the training answer). `--format-bonus` adds `learn_data.format_reward` (0.2 for a 'The answer is N.'
line): in the first measured run (1 prompt x 8, 64 tokens) the policy learned to write that line and skip the work, and
the answer reward fell. Each step samples `--generations` completions for `--prompts` prompts.
Prints the per-step mean reward, a moving average, the wall time, and saves the curve as a PNG.
Resumable: checkpoints every 5 steps under --out; run the same command again after a kill.

With --eval-problems N (default 200) the starting and the trained policy answer the same N held-out arith test problems
(greedy, levels --levels) before and after, compared with McNemar's paired test. The curve is judged by the mean answer
reward of the first and the last quarter of the steps (Welch's t-test on the step means) and the least-squares slope
over all steps with its 95% interval. Writes benchmarks/results/grpo_curve.json (command, commit, date, machine,
seconds) and grpo_reward.png unless --no-results.

Run: .venv/bin/python benchmarks/grpo_curve.py [--policy embedded|DIR] [--skip N] [--steps 100] [--prompts 2] [--max-tokens 128]
Measured (README; TRL's default loss, dapo):
    .venv/bin/python benchmarks/grpo_curve.py --policy runs/headline/round2/train/model --skip 320 --levels 1,2 --steps 100 --prompts 4 --generations 4 --temperature 0.8 --lr 1e-5 --out runs/grpo_sft
the same with another loss normalisation (issue 15, item 6): add --loss-type dr_grpo --out runs/grpo_sft_dr_grpo --results grpo_curve_dr_grpo.json
without the importance-sampling correction (GRPOTrainConfig.is_correction=None turns it off for float32 on a CPU), measured with dapo:
the same from runs/headline/round1/train/model with --loss-type dapo --no-skip-zero-advantage --out runs/grpo_sft_dapo_nocorr --results grpo_curve_dapo_nocorr.json
and leaving groups that all scored alike out of the backward pass (GRPOTrainConfig.skip_zero_advantage, the default; the same gradient):
the same without --no-skip-zero-advantage, --out runs/grpo_sft_dapo_skip --results grpo_curve_dapo_skip.json
and grpo with its held-out eval: --loss-type grpo --out runs/grpo_sft_grpo_skip --results grpo_curve_grpo_skip.json
"""
import argparse, json, math, os, shutil, sys, time
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('REASONER_KIT_QUIET', '1')
os.environ.setdefault('MPLBACKEND', 'Agg')

from reasoner_kit.data import load_task
from reasoner_kit.grading import answer_reward
from reasoner_kit.learn.data import format_reward, grpo_prompts
from reasoner_kit.core import machine, provenance
from reasoner_kit.evaluate import EvalConfig, ci95, evaluate, paired_diff
from reasoner_kit.policy.vllm_engine import close_policy, engine_dtype, local_policy
from reasoner_kit.learn.iterate import model_dir_for
from reasoner_kit.learn.train import GRPOTrainConfig, moving_average, plot_history, train_grpo

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=100)
    ap.add_argument('--generations', type=int, default=8, help='completions per prompt (the GRPO group)')
    ap.add_argument('--prompts', type=int, default=2, help='prompts per optimizer step')
    ap.add_argument('--max-tokens', type=int, default=128)
    ap.add_argument('--lr', type=float, default=5e-6)
    ap.add_argument('--temperature', type=float, default=0.7)
    ap.add_argument('--levels', default='1', help='arith levels of the training prompts, comma-separated')
    ap.add_argument('--policy', default='embedded', help="'embedded' or a model directory (e.g. an SFT round's train/model)")
    ap.add_argument('--format-bonus', action='store_true', help='add format_reward (0.2 for an answer line) to the reward')
    ap.add_argument('--skip', type=int, default=0, help='skip the first N train problems (those an SFT policy was trained on)')
    ap.add_argument('--eval-problems', type=int, default=200, help='held-out test problems answered greedily before and after (0: skip)')
    ap.add_argument('--loss-type', default='dapo', help="TRL's GRPO loss normalisation: dapo (TRL's default), grpo, dr_grpo, bnpo, ...")
    ap.add_argument('--no-skip-zero-advantage', action='store_true', help='run groups that all scored alike through the loss too (TRL as it is; the runs before skip_zero_advantage)')
    ap.add_argument('--results', default='grpo_curve.json', help='the results file under benchmarks/results/ (its plot: grpo_reward.png, else NAME.png)')
    ap.add_argument('--no-results', action='store_true', help='do not write a results file (a trial run)')
    ap.add_argument('--out', default='runs/grpo_curve')
    a = ap.parse_args()
    t0 = time.time()
    levels = [int(x) for x in a.levels.split(',')]
    prompts = grpo_prompts(load_task('arith', 'train', limit=a.skip + a.steps * a.prompts, level=levels)[a.skip:])
    cfg = GRPOTrainConfig(max_steps=a.steps, lr=a.lr, num_generations=a.generations, prompts_per_step=a.prompts,
                          max_completion_length=a.max_tokens, temperature=a.temperature, save_steps=5, seed=0, loss_type=a.loss_type,
                          skip_zero_advantage=not a.no_skip_zero_advantage)
    res = train_grpo(model_dir_for(a.policy), prompts, [answer_reward] + [format_reward] * a.format_bonus, a.out, cfg)
    rs = res.series('rewards/answer_reward/mean')
    k = max(1, len(rs) // 4)
    first, last = sum(v for _, v in rs[:k]) / k, sum(v for _, v in rs[-k:]) / k
    print(f"GRPO, policy {a.policy}, arith level-{a.levels} train prompts, {machine()}")
    print(f"{a.steps} steps x {a.prompts} prompts x {a.generations} completions (<= {a.max_tokens} tokens), lr {a.lr}")
    lens = dict(res.series('completions/mean_length'))
    for (s, v), (_, tot) in zip(rs, res.series('reward')):
        print(f"step {s:3d}  answer reward {v:.3f}  total reward {tot:.3f}  mean length {lens.get(s, float('nan')):.0f}")
    print(f"mean answer reward, first {k} steps: {first:.3f}; last {k} steps: {last:.3f}")
    print(f"wall time of this call: {(time.time() - t0) / 60:.1f} min (trainer {res.wall_s / 60:.1f} min"
          f"{', resumed from step %d' % res.resumed_from if res.resumed_from else ''})")
    # the curve: per-step mean answer reward (noisy: a step sees only --prompts prompts) and its moving average
    print('moving average (5 steps): ' + ' '.join(f'{m:.2f}' for m in moving_average([v for _, v in rs], 5)))
    plot_history({Path(a.policy).name: res}, keys=('rewards/answer_reward/mean', 'completions/mean_length'), smooth=5,
                 path=f'{a.out}/reward.png', title=f'GRPO on arith, CPU, {res.wall_s / 60:.0f} min')
    json_path = f'{a.out}/curve.json'
    with open(json_path, 'w') as f:
        json.dump(dict(machine=machine(), args=vars(a), answer_reward=rs, first=first, last=last, wall_s=res.wall_s), f, indent=1)
    print(f"plot: {a.out}/reward.png; numbers: {json_path}")
    stats = dict(curve_stats([v for _, v in rs]), steps=len(rs))
    print(f"first quarter {stats['first']:.3f}, last quarter {stats['last']:.3f}: {stats['last_minus_first']:+.3f} (Welch p {stats['p']:.3g}); "
          f"slope per 100 steps {stats['slope_per_100']:+.3f} [{stats['slope_low']:+.3f}, {stats['slope_high']:+.3f}]")
    ev = {}
    if a.eval_problems:   # the starting and the trained policy on the same held-out test problems
        test = load_task('arith', 'test', limit=a.eval_problems, level=levels)
        for tag, d in (('before', model_dir_for(a.policy)), ('after', res.model_dir)):
            pol = local_policy(str(d), tag)
            ev[tag] = evaluate(pol, test, EvalConfig(samples=0, max_tokens=a.max_tokens), out=Path(a.out) / f'eval_{tag}', desc=f'{tag}: eval'); close_policy(pol)
            print(f"greedy pass@1 {tag}: {ev[tag]['greedy_pass@1']:.1f} on {len(test)} test problems", flush=True)
        c = {t: [int(r['greedy']['correct']) for r in ev[t]['records']] for t in ev}
        ev = dict(problems=len(test), **{t: dict(greedy_pass_at_1=ev[t]['greedy_pass@1'], ci95=ci95(c[t])) for t in c},
                  after_minus_before=paired_diff(c['after'], c['before']))
    if not a.no_results:
        dest = Path(__file__).resolve().parent / 'results'
        run_cfg = json.loads((Path(a.out) / 'settings.json').read_text())['config']   # what the trainer resolved
        shutil.copy(f'{a.out}/reward.png', dest / ('grpo_reward.png' if a.results == 'grpo_curve.json' else Path(a.results).stem + '.png'))
        (dest / a.results).write_text(json.dumps(dict(provenance(time.time() - t0), command='python benchmarks/grpo_curve.py ' + ' '.join(sys.argv[1:]),
            settings=vars(a), sampling_dtype=engine_dtype(), **{k: run_cfg[k] for k in ('is_correction', 'skip_zero_advantage')}, skipped=res.series('zero_advantage/skipped'), trainer_s=res.wall_s, resumed_from=res.resumed_from, answer_reward=rs, mean_length=sorted(lens.items()), step_s=res.series('step_time'), curve=stats, eval=ev), indent=1, default=str))
        print(f"wrote {dest / a.results}")

def curve_stats(xs:list) -> dict:
    "Means of the first and last quarter of the step rewards (Welch's t-test, normal approximation) and the least-squares slope with its 95% interval."
    import numpy as np
    x = np.asarray(xs, dtype=float); n = len(x); k = max(2, n // 4)
    f, l = x[:k], x[-k:]
    se = math.sqrt(f.var(ddof=1) / k + l.var(ddof=1) / k) or 1e-12
    z = (l.mean() - f.mean()) / se; p = math.erfc(abs(z) / math.sqrt(2))
    t = np.arange(n, dtype=float); tc = t - t.mean()
    b = float((tc * (x - x.mean())).sum() / (tc ** 2).sum()); resid = x - x.mean() - b * tc
    sb = math.sqrt(float((resid ** 2).sum()) / max(1, n - 2) / float((tc ** 2).sum()))
    r = lambda v: round(float(v), 4)
    return dict(quarter=k, first=r(f.mean()), last=r(l.mean()), last_minus_first=r(l.mean() - f.mean()), p=r(p),
                slope_per_100=r(100 * b), slope_low=r(100 * (b - 1.959964 * sb)), slope_high=r(100 * (b + 1.959964 * sb)))

if __name__ == '__main__':
    main()
