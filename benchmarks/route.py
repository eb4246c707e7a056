"""Compute-optimal routing (issue 15, item 4): `auto` against the best fixed strategy at budget 16, on the same test problems.

1. On ~100 dev problems of arith levels 1-2, every fixed strategy (self-consistency, best-of-N and weighted best-of-N
   with the calculator) runs at the budget; the most accurate one is "the best fixed strategy" (chosen on dev).
2. `fit_router` fits the routing table on the same dev problems: probes per prompt, confidence bins, and per bin the
   route (strategy, budget) that maximises dev accuracy within `--token-frac` of the best fixed strategy's dev tokens
   (the issue's target: <= 1/4). If no table fits, it keeps the most accurate one and says so.
3. On >= 200 test problems (used once), both run; accuracy with its 95% interval (Wilson), tokens per problem (every
   sample generated, probes included), and the paired difference (McNemar's exact test).

Samples go through a `CachedPolicy` (`--cache`): a killed run resumes from it, and the probes and routes are the first
samples of the fixed runs at the same settings, so `auto` is compared on the very samples it would have drawn and costs
no extra generation here. Tokens are counted per sample a method uses, whether drawn now or read from the cache.
Writes `--out` (default benchmarks/results/route.json) with command, commit, date, machine and seconds, and the router
JSON next to the cache.

Run (full: ~4,800 samples; 10.9 min on the vLLM engine and 2 cores in the README's run):
    .venv/bin/python benchmarks/route.py --policy vllm:runs/headline/round2/train/model --temperature 0.7 --max-tokens 112 --cache runs/route_headline/samples_cache.jsonl
(benchmarks/headline_table.py runs it that way: the learning headline's policy, at the temperature and generation cap
compound.py chose and used on dev.) The same router within half the tokens, reading the same samples (copy the cache):
    .venv/bin/python benchmarks/route.py ... --token-frac 0.5 --cache runs/route_half/samples_cache.jsonl --out benchmarks/results/route_half.json
Smoke test: .venv/bin/python benchmarks/route.py --dev 10 --test 10 --budget 4 --probe 2 --out /tmp/route.json --cache /tmp/route_cache.jsonl
"""
import argparse, json, os, time
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('REASONER_KIT_QUIET', '1')

from reasoner_kit.core import KitError, provenance
from reasoner_kit.data import load_task
from reasoner_kit.evaluate import paired_diff
from reasoner_kit.policy.base import load_policy
from reasoner_kit.policy.wrappers import CachedPolicy
from reasoner_kit.reward.scorers import ArithmeticScorer
from reasoner_kit.search.route import fit_router
from reasoner_kit.search.sweep import run_search

FIXED = ('self_consistency', 'best_of_n', 'weighted_best_of_n')   # flat strategies at the budget; the scored ones use the calculator

def row(r:dict) -> dict:
    "A run_search result without its per-problem list."
    return {k: v for k, v in r.items() if k != 'correct'}

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--policy', default='embedded')
    ap.add_argument('--levels', default='1,2')
    ap.add_argument('--dev', type=int, default=100, help='dev problems: the best fixed strategy and the router are chosen on them')
    ap.add_argument('--test', type=int, default=200, help='test problems, used once for the report')
    ap.add_argument('--budget', type=int, default=16, help="the fixed strategies' budget, and the most a route may spend")
    ap.add_argument('--candidates', default='self_consistency,weighted_best_of_n', help='strategies a route may use')
    ap.add_argument('--probe', type=int, default=2, help='probes per prompt (they count in the tokens)')
    ap.add_argument('--bins', type=int, default=4)
    ap.add_argument('--token-frac', type=float, default=0.25, help="the router's dev token budget, as a share of the best fixed strategy's")
    ap.add_argument('--temperature', type=float, default=0.5)
    ap.add_argument('--max-tokens', type=int, default=160)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--chunk', type=int, default=32, help='problems per batched strategy call (larger: bigger vLLM batches)')
    ap.add_argument('--cache', default='runs/route/samples_cache.jsonl')
    ap.add_argument('--out', default='benchmarks/results/route.json')
    a = ap.parse_args()
    t0 = time.time()
    levels = [int(x) for x in a.levels.split(',')]
    dev = load_task('arith', 'dev', limit=a.dev, level=levels)
    test = load_task('arith', 'test', limit=a.test, level=levels)
    policy, calc = CachedPolicy(load_policy(a.policy), a.cache), ArithmeticScorer()
    kw = dict(temperature=a.temperature, max_tokens=a.max_tokens, seed=a.seed)
    ck = dict(chunk=a.chunk)
    cands = [s.strip() for s in a.candidates.split(',') if s.strip()]
    budgets = sorted({b for b in (a.probe, 4, 8, 16, a.budget) if a.probe <= b <= a.budget})
    # 1. the best fixed strategy at the budget, chosen on dev
    dev_fixed = [run_search(s, policy, dev, a.budget, calc if s != 'self_consistency' else None, **ck, **kw) for s in FIXED]
    best = max(dev_fixed, key=lambda r: (r['accuracy'], -r['tokens']))
    # 2. the router, fitted on the same dev problems within a share of the best fixed strategy's tokens
    scorer = calc if any(c != 'self_consistency' and c != 'greedy' for c in cands) else None
    token_budget, note = a.token_frac * best['tokens'], None
    try: router = fit_router(policy, dev, cands, budgets, scorer, token_budget, probe_n=a.probe, bins=a.bins, **kw)
    except KitError as e:
        note = f"no table fits {a.token_frac} of the best fixed strategy's dev tokens ({e}); kept the most accurate table"
        router = fit_router(policy, dev, cands, budgets, scorer, None, probe_n=a.probe, bins=a.bins, **kw)
    router_path = router.save(Path(a.cache).parent / 'router.json')
    # 3. the test split, once: the best fixed strategy and auto on the same problems
    fixed = run_search(best['strategy'], policy, test, a.budget, calc if best['strategy'] != 'self_consistency' else None, **ck, **kw)
    auto = run_search('auto', policy, test, a.budget, scorer, router=router, **ck, **kw)
    pd = paired_diff(auto['correct'], fixed['correct'])
    ratio = auto['tokens'] / fixed['tokens'] if fixed['tokens'] else None
    res = dict(**provenance(time.time() - t0),
               settings=dict(policy=a.policy, levels=levels, dev=len(dev), test=len(test), budget=a.budget, candidates=cands,
                             budgets=budgets, probe=a.probe, bins=a.bins, token_frac=a.token_frac, **kw),
               dev=dict(fixed=[row(r) for r in dev_fixed], best_fixed=best['strategy'], token_budget=round(token_budget, 1), note=note,
                        router=dict(path=str(router_path), edges=router.edges, table=router.table, **{k: router.fit[k] for k in ('accuracy', 'tokens', 'bins')})),
               test=dict(fixed=row(fixed), auto=row(auto), auto_minus_fixed=pd, token_ratio=round(ratio, 3) if ratio is not None else None,
                         target=dict(goal="auto's accuracy not significantly below the best fixed strategy's (paired p >= 0.05 or auto ahead) "
                                          "with <= 1/4 of its tokens",
                                     met=bool((pd['diff'] >= 0 or pd['p'] >= 0.05) and ratio is not None and ratio <= 0.25))))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1) + '\n')
    print(f"arith levels {a.levels}: {len(dev)} dev, {len(test)} test problems; budget {a.budget}; best fixed on dev: {best['strategy']}")
    print('| test | accuracy (%) | 95% interval | tokens / problem |\n|---|---|---|---|')
    for name, r in ((f"{fixed['strategy']}@{a.budget}", fixed), ('auto', auto)):
        print(f"| {name} | {r['accuracy']:.1f} | {r['ci95'][0]:.1f}-{r['ci95'][1]:.1f} | {r['tokens']:.0f} |")
    print(f"auto - fixed: {pd['diff']:+.1f} points (95% {pd['low']:+.1f} to {pd['high']:+.1f}, McNemar p={pd['p']}); "
          f"tokens x{res['test']['token_ratio']}; target met: {res['test']['target']['met']}")
    print(f"routes: {router.table} at confidence edges {router.edges}{'; ' + note if note else ''}\nwrote {a.out}")

if __name__ == '__main__':
    main()
