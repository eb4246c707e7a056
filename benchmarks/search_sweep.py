"""Accuracy against test-time compute on the arith test split (issue 3): one curve per strategy, budgets 1 to 16.

Flat strategies (self-consistency, best-of-N and weighted best-of-N with the calculator verifier, and with the reward
model the main job trains, when it exists) re-rank the first N of the same 16 samples per problem; the tree strategy
(beam search, 4 children a step) runs at the budgets given. Samples come from a `CachedPolicy`: by default the main
job's cache (`runs/main/samples_cache.jsonl`, same prompt, temperature 0.5, 160 tokens, seed 0), so after `make run`
the flat curves cost no generation at all. Writes runs/sweep/sweep.json and sweep.png; prints the table.

Run: .venv/bin/python benchmarks/search_sweep.py [--limit 40] [--tree-budgets 4] [--cache runs/main/samples_cache.jsonl]
"""
import argparse, json, os
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('REASONER_KIT_QUIET', '1'); os.environ.setdefault('MPLBACKEND', 'Agg')

from reasoner_kit.data import load_task
from reasoner_kit.policy.wrappers import CachedPolicy
from reasoner_kit.policy.base import load_policy
from reasoner_kit.reward.scorers import ArithmeticScorer
from reasoner_kit.search.sweep import plot_sweep, run_search

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--limit', type=int, default=40)
    ap.add_argument('--level', type=int, default=1)
    ap.add_argument('--budgets', default='1,2,4,8,16')
    ap.add_argument('--tree-budgets', default='4', help='beam budgets (multiples of 4; beam@N costs about N/4 x 16 samples)')
    ap.add_argument('--rm', default='runs/main/reward/rm', help='a trained reward model directory (skipped if absent)')
    ap.add_argument('--cache', default='runs/main/samples_cache.jsonl')
    ap.add_argument('--out', default='runs/sweep')
    a = ap.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    policy = CachedPolicy(load_policy('embedded'), a.cache)
    problems = load_task('arith', 'test', limit=a.limit, level=a.level)
    kw = dict(temperature=0.5, max_tokens=160, seed=0)
    arith = ArithmeticScorer()
    scorers = {'calculator': arith}
    if (Path(a.rm) / 'config.json').exists():
        from reasoner_kit.reward.rm import RMScorer
        scorers['RM'] = RMScorer.load(a.rm)
    budgets = sorted(map(int, a.budgets.split(',')), reverse=True)   # largest first: smaller budgets reuse its samples
    rows = [run_search('greedy', policy, problems, 1, None, out, **kw)]
    for b in budgets: rows.append(run_search('self_consistency', policy, problems, b, None, out, **kw))
    for name, sc in scorers.items():
        for strat in ('best_of_n', 'weighted_best_of_n'):
            for b in budgets:
                r = run_search(strat, policy, problems, b, sc, out / name, **kw)
                rows.append(dict(r, strategy=f'{strat} ({name})'))
    for b in sorted(map(int, a.tree_budgets.split(','))):
        rows.append(dict(run_search('beam', policy, problems, b, arith, out, **kw), strategy='beam (calculator)'))
    (out / 'sweep.json').write_text(json.dumps(rows, indent=1))
    plot_sweep(rows, out / 'sweep.png')
    print(f"arith test level {a.level}, {len(problems)} problems, embedded policy, temperature 0.5; drawn now: {policy.drawn} samples")
    print('| strategy | budget | accuracy (%) | tokens / problem |\n|---|---|---|---|')
    for r in sorted(rows, key=lambda r: (r['strategy'], r['budget'])):
        print(f"| {r['strategy']} | {r['budget']} | {r['accuracy']:.1f} | {r['tokens']:.0f} |")
    print(f"plot: {out / 'sweep.png'}")

if __name__ == '__main__':
    main()
