"""Accuracy against test-time compute on the arith test split: one curve per strategy, budgets 1 to 16.

Flat strategies (self-consistency, best-of-N and weighted best-of-N with the calculator verifier, and with the reward
model the main job trains, when it exists) re-rank the first N of the same 16 samples per problem; the tree strategy
(beam search, 4 children a step) runs at the budgets given. Sampling settings are the main job's (`MainConfig`: the
temperature and generation cap chosen on the dev split), so the first 100 problems reuse `make run`'s samples where
its cache holds them. Every accuracy has its 95% interval; all rows are on the same problems, and each strategy at the largest budget
is compared with greedy by a paired test (McNemar).

Run:  .venv/bin/python benchmarks/search_sweep.py [--limit 200] [--tree-budgets 4]     (~20 min on 2 cores after `make run`)
Writes benchmarks/results/sweep.json (command, commit, date, machine, seconds) and sweep.png; runs in runs/sweep/.
"""
import argparse, json, os, sys, time
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('REASONER_KIT_QUIET', '1'); os.environ.setdefault('MPLBACKEND', 'Agg')

from reasoner_kit.core import provenance
from reasoner_kit.data import load_task
from reasoner_kit.evaluate import paired_diff
from reasoner_kit.main import MainConfig
from reasoner_kit.policy.wrappers import CachedPolicy
from reasoner_kit.policy.base import load_policy, policy_identity
from reasoner_kit.reward.scorers import ArithmeticScorer
from reasoner_kit.search.sweep import plot_sweep, run_search

ROOT = Path(__file__).resolve().parents[1]

def main():
    m = MainConfig()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--limit', type=int, default=200, help='test problems (>= 200 for a +-7-point interval)')
    ap.add_argument('--level', type=int, default=m.level)
    ap.add_argument('--budgets', default='1,2,4,8,16')
    ap.add_argument('--tree-budgets', default='4', help="beam budgets (multiples of 4; beam@N costs about N/4 x 16 samples); '' for none")
    ap.add_argument('--rm', default='runs/main/reward/rm', help='a trained reward model directory (skipped if absent)')
    ap.add_argument('--cache', default='runs/main/samples_cache.jsonl', help="a sample cache to read and extend (the main job's)")
    ap.add_argument('--out', default='runs/sweep')
    a = ap.parse_args()
    t0, out = time.time(), Path(a.out); out.mkdir(parents=True, exist_ok=True)
    policy = CachedPolicy(load_policy(m.policy), a.cache)
    problems = load_task(m.task, 'test', limit=a.limit, level=a.level)
    kw = dict(temperature=m.temperature, max_tokens=m.max_tokens, seed=m.seed, chunk=m.chunk)
    arith = ArithmeticScorer()
    scorers = {'calculator': arith}
    if (Path(a.rm) / 'config.json').exists():
        from reasoner_kit.reward.rm import RMScorer
        from reasoner_kit.policy.wrappers import CachedScorer
        scorers['reward model'] = CachedScorer(RMScorer.load(a.rm))
    budgets = sorted(map(int, a.budgets.split(',')), reverse=True)   # largest first: smaller budgets reuse its samples
    rows = [dict(run_search('greedy', policy, problems, 1, None, out, **kw), strategy='greedy')]
    for b in budgets: rows.append(dict(run_search('self_consistency', policy, problems, b, None, out, **kw), strategy='self-consistency'))
    for name, sc in scorers.items():
        for strat, label in (('best_of_n', 'best-of-N'), ('weighted_best_of_n', 'weighted best-of-N')):
            for b in budgets:
                rows.append(dict(run_search(strat, policy, problems, b, sc, out / name.replace(' ', '_'), **kw), strategy=f'{label} ({name})'))
    for b in sorted(int(x) for x in a.tree_budgets.split(',') if x):
        rows.append(dict(run_search('beam', policy, problems, b, arith, out, **kw), strategy='beam, 4 children a step (calculator)'))
    greedy, top = rows[0], max(budgets)
    vs_greedy = {r['strategy']: paired_diff(r['correct'], greedy['correct']) for r in rows[1:] if r['budget'] == top or r['strategy'].startswith('beam')}
    res = dict(provenance(time.time() - t0), command='python benchmarks/search_sweep.py ' + ' '.join(sys.argv[1:]), split='test',
               task=m.task, level=a.level, problems=len(problems), policy=policy_identity(policy), settings=kw, rows=rows,
               vs_greedy=vs_greedy)   # each strategy at the largest budget minus greedy, paired (McNemar) on the same problems
    (ROOT / 'benchmarks' / 'results' / 'sweep.json').write_text(json.dumps(res, indent=1))
    plot_sweep(rows, ROOT / 'benchmarks' / 'results' / 'sweep.png')
    print(f"{m.task} test level {a.level}, {len(problems)} problems, temperature {m.temperature}; drawn now: {policy.drawn} samples")
    for r in rows: print(f"| {r['strategy']} | {r['budget']} | {r['accuracy']:.1f} [{r['ci95'][0]:.0f}, {r['ci95'][1]:.0f}] | {r['tokens']:.0f} |")

if __name__ == '__main__':
    main()
