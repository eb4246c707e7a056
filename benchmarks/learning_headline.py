"""Headline of the learning service (issue 5): expert iteration lifts the embedded model's greedy pass@1 on held-out
arith problems of levels 1-2 by >= 30 points, in at most 3 rounds and 30 minutes on 2 CPU cores.

Each round: the current policy samples 4 solutions at the dev-chosen temperature (MainConfig.learn_temperature) for each of --train-problems fresh TRAIN problems;
the right ones (gold answer check = the STaR filter, train split only), cut after their "The answer is N." line, become
SFT targets (at most 2 per problem, shortest first); the train split's reference solution of every problem none of
whose samples was right is added too (level-2 problems, which the base model almost never solves, get data that way;
--star-only leaves them out); TRL's SFTTrainer fine-tunes all weights for two epochs; greedy pass@1 is measured on 100
held-out TEST problems (200 by default). (benchmarks/choose_temperature.py on 100 dev problems: a sample is right
17% of the time at 0.3, 14% at 0.5, 8% at 0.7: 0.3 gives the most targets.) Stops after the round that reaches the target gain, or after --rounds. Then
(unless --no-hard) greedy pass@1 on levels 3-4 before and after, and with --sampled-eval K maj@K/pass@K of the
starting and final policy. Resumable: re-run the same command after a kill.

The measured run (README; writes benchmarks/results/headline.json with command, commit, date, machine, 95% intervals
and McNemar's paired test of the final round against round 0 on the same 200 test problems):
    .venv/bin/python benchmarks/learning_headline.py --out runs/headline
Plain STaR (no reference solutions; issue 15, item 5):
    .venv/bin/python benchmarks/learning_headline.py --star-only --out runs/headline_star --results headline_star.json
"""
import argparse, json, os, sys, time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault('REASONER_KIT_QUIET', '1')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
os.environ.setdefault('HF_HUB_OFFLINE', '1')

from reasoner_kit.data import load_task
from reasoner_kit.evaluate import EvalConfig, evaluate, format_table
from reasoner_kit.learn.iterate import IterateConfig, iterate, model_dir_for
from reasoner_kit.core import bf16_fast, machine, provenance, read_jsonl
from reasoner_kit.evaluate import ci95, paired_diff
from reasoner_kit.main import MainConfig
from reasoner_kit.policy.vllm_engine import close_policy, local_policy
from reasoner_kit.learn.train import SFTTrainConfig

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rounds', type=int, default=3, help='most rounds')
    ap.add_argument('--target', type=float, default=30.0, help='stop once greedy pass@1 gained this many points')
    ap.add_argument('--train-problems', type=int, default=160)
    ap.add_argument('--samples', type=int, default=4)
    ap.add_argument('--temperature', type=float, default=MainConfig.learn_temperature, help='sampling temperature (chosen on the dev split: the most right samples)')
    ap.add_argument('--per-problem', type=int, default=2, help='correct solutions kept per problem')
    ap.add_argument('--lr', type=float, default=5e-5)
    ap.add_argument('--epochs', type=float, default=2.0)
    ap.add_argument('--test-limit', type=int, default=200, help='held-out test problems (levels 1-2)')
    ap.add_argument('--hard-limit', type=int, default=40, help='held-out level 3-4 problems for the before/after check')
    ap.add_argument('--no-hard', action='store_true')
    ap.add_argument('--sampled-eval', type=int, default=0, help='afterwards, maj@k/pass@k of the starting and final policy with k samples (0: skip)')
    ap.add_argument('--star-only', action='store_true',
                    help="plain STaR: no reference solutions for the train problems the policy solved in none of its samples")
    ap.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: torch decides; 1 on a shared machine)')
    ap.add_argument('--out', default='runs/headline')
    ap.add_argument('--results', default='headline.json', help='the results file under benchmarks/results/')
    ap.add_argument('--no-results', action='store_true', help='do not write a results file (a trial run)')
    a = ap.parse_args()
    if a.threads:
        import torch; torch.set_num_threads(a.threads)
    t0 = time.time()
    cfg = IterateConfig(levels=(1, 2), train_per_round=a.train_problems, samples=a.samples, temperature=a.temperature,
                        per_problem=a.per_problem, test_limit=a.test_limit, eval_samples=0, max_tokens=160,
                        reference_for_unsolved=not a.star_only,
                        sft=SFTTrainConfig(epochs=a.epochs, lr=a.lr, batch_size=8, micro_batch=8, save_steps=10, bf16=bf16_fast()))   # as the main job: bf16 compute where fast
    print(f"learning headline: embedded policy, arith levels 1-2, {a.test_limit} test problems, {machine()}, "
          f"torch threads {__import__('torch').get_num_threads()}", flush=True)
    # 1. rounds until the gain reaches the target (iterate resumes, so each call only runs the new round)
    for r in range(1, a.rounds + 1):
        rows = iterate('embedded', 'arith', rounds=r, method='sft', cfg=cfg, out=a.out, verbose=False)
        gain = rows[-1]['greedy_pass@1'] - rows[0]['greedy_pass@1']
        print(f"round {r}: greedy pass@1 {rows[-1]['greedy_pass@1']:.1f} (gain {gain:+.1f}), cumulative wall {rows[-1]['wall_s']/60:.1f} min", flush=True)
        if gain >= a.target: break
    cols = ['problems', 'train_rows', 'train_reference_rows', 'train_sample_acc', 'train_solved', 'greedy_pass@1', 'greedy_tokens', 'gen_s', 'train_s', 'eval_s', 'round_s', 'wall_s']
    print('\n' + format_table({f"round {x['round']}": x for x in rows}, cols))
    res = dict(machine=machine(), rounds=[{k: v for k, v in x.items()} for x in rows], gain=round(gain, 1),
               wall_min=round(rows[-1]['wall_s'] / 60, 1), by_level={x['round']: x.get('by_level') for x in rows})
    for x in rows:
        if x.get('by_level'): print(f"round {x['round']} by level: " + ', '.join(f"L{l} {b['greedy_pass@1']:.1f}" for l, b in x['by_level'].items()))
    # 2. the starting and the final policy on other held-out sets: greedy on levels 3-4 (never trained on), and maj@k /
    #    pass@k on the same test problems (after the timed rounds: the stretch goal compares the final greedy pass@1
    #    with the starting policy's pass@k)
    checks = [] if a.no_hard else [('hard', load_task('arith', 'test', limit=a.hard_limit, level=[3, 4]), EvalConfig(samples=0, max_tokens=256))]
    if a.sampled_eval:
        checks.append(('sampled', load_task('arith', 'test', limit=a.test_limit, level=[1, 2]),
                       EvalConfig(samples=a.sampled_eval, temperature=a.temperature, max_tokens=160, seed=0)))
    k = a.sampled_eval
    for tag, probs, ecfg in checks:
        for name, d in [('before', model_dir_for('embedded')), ('after', Path(rows[-1]['model_dir']))]:
            t = time.time()
            pol = local_policy(str(d), name)
            s = evaluate(pol, probs, ecfg, out=Path(a.out) / f'{tag}_{name}'); close_policy(pol)
            res[f'{tag}_{name}'] = {x: v for x, v in s.items() if x != 'records'}
            extra = f", maj@{k} {s[f'maj@{k}']:.1f}, pass@{k} {s[f'pass@{k}']:.1f} (temperature {a.temperature})" if tag == 'sampled' else ''
            print(f"{tag} check ({len(probs)} problems) {name}: greedy pass@1 {s['greedy_pass@1']:.1f}{extra}, {time.time() - t:.0f} s", flush=True)
    res['total_wall_min'] = round((time.time() - t0) / 60, 1)
    res.update(paired(a.out, rows))
    Path(a.out, 'headline.json').write_text(json.dumps(res, indent=1, default=str))
    if not a.no_results:
        settings = {k: getattr(a, k) for k in ('rounds', 'target', 'train_problems', 'samples', 'temperature', 'per_problem', 'lr', 'epochs', 'test_limit', 'hard_limit', 'sampled_eval', 'star_only')}
        dest = Path(__file__).resolve().parent / 'results' / a.results
        dest.write_text(json.dumps(dict(provenance(time.time() - t0), command='python benchmarks/learning_headline.py ' + ' '.join(sys.argv[1:]),
                                        settings=settings, **res), indent=1, default=str))
        print(f"wrote {dest}")
    print(f"\ngreedy pass@1 gain after {len(rows) - 1} round(s): {gain:+.1f} points; learning wall time {res['wall_min']} min "
          f"(this invocation {res['total_wall_min']} min, hard-level check included)")

def paired(out, rows) -> dict:
    "Per-problem greedy results of round 0 and the last round (same test problems): 95% intervals and McNemar's paired test."
    rec = lambda r: {x['id']: x['greedy']['correct'] for x in read_jsonl(Path(out) / f'round{r}' / 'eval' / 'samples.jsonl')}
    first, last = rec(0), rec(rows[-1]['round'])
    ids = sorted(first.keys() & last.keys())
    a, b = [int(last[i]) for i in ids], [int(first[i]) for i in ids]
    return dict(ci95={'round0': ci95(b), f"round{rows[-1]['round']}": ci95(a)},
                vs_round0=paired_diff(a, b))

if __name__ == '__main__':
    main()
