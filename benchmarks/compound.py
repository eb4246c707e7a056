"""Search on the learned policy: does the best non-oracle strategy at budget 16 beat the learned policy's own greedy?

The learned policy is the one `make run` trains (one STaR round on level-1 training problems). On the dev split (levels
1-2) each candidate (strategy x temperature) runs at budget 16, and the best by accuracy (ties: fewer tokens) is chosen;
the test split (levels 1-2, 200 problems by default) is then used once: the learned policy's greedy and the chosen
search on the same problems, with 95% intervals and McNemar's paired test. The other candidates at the chosen
temperature are reported too (they re-rank the same samples), marked as not chosen. Flat strategies share one set of
16 samples per problem through a `CachedPolicy`.

Run:  .venv/bin/python benchmarks/compound.py [--model runs/main/learn/round1/train/model]      (~12 min on 2 cores)
      .venv/bin/python benchmarks/compound.py --model runs/headline/round2/train/model --out runs/compound_headline --results compound_headline.json
      .venv/bin/python benchmarks/compound.py --model embedded --out runs/compound_base --results compound_base.json   (the base policy)
Writes benchmarks/results/compound.json, or --results NAME (command, commit, date, machine, seconds); runs in --out.
"""
import argparse, json, os, sys, time
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('REASONER_KIT_QUIET', '1')

from reasoner_kit.core import KitError, provenance
from reasoner_kit.data import load_task
from reasoner_kit.evaluate import paired_diff
from reasoner_kit.learn.iterate import model_dir_for
from reasoner_kit.main import MainConfig
from reasoner_kit.policy.base import policy_identity
from reasoner_kit.policy.vllm_engine import local_policy
from reasoner_kit.policy.wrappers import CachedPolicy
from reasoner_kit.reward.scorers import ArithmeticScorer
from reasoner_kit.search.sweep import run_search

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = (('self_consistency', None), ('best_of_n', 'calculator'), ('weighted_best_of_n', 'calculator'))

def search_rows(policy, problems, temperatures, budget, out, kw):
    "Greedy, then every candidate at every temperature, on the same problems."
    arith, rows = ArithmeticScorer(), [dict(run_search('greedy', policy, problems, 1, None, out / 'greedy', **kw), temperature=0.0, scorer=None)]
    for t in temperatures:
        pol = CachedPolicy(policy, out / f'samples_t{t}.jsonl')          # one set of samples per temperature, shared by the candidates
        for name, sc in CANDIDATES:
            r = run_search(name, pol, problems, budget, arith if sc else None, out / f't{t}', **dict(kw, temperature=t))
            rows.append(dict(r, temperature=t, scorer=sc))
    return rows

def brief(r): return {k: r[k] for k in ('strategy', 'scorer', 'temperature', 'budget', 'problems', 'accuracy', 'ci95', 'tokens', 'wall_s')}

def main():
    m = MainConfig()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model', default='runs/main/learn/round1/train/model', help="the learned policy's weights (`make run` writes them), or 'embedded' for the base policy")
    ap.add_argument('--levels', default='1,2')
    ap.add_argument('--dev-limit', type=int, default=100)
    ap.add_argument('--limit', type=int, default=200, help='test problems')
    ap.add_argument('--budget', type=int, default=16)
    ap.add_argument('--temperatures', default='0.3,0.7', help='candidate sampling temperatures, chosen among on dev')
    ap.add_argument('--out', default='runs/compound')
    ap.add_argument('--results', default='compound.json', help='the results file under benchmarks/results/')
    a = ap.parse_args()
    model = model_dir_for('embedded') if a.model == 'embedded' else Path(a.model)
    if not (model / 'config.json').exists(): raise SystemExit(f"no model at {a.model}: run `make run` first, or pass --model")
    t0, out, levels = time.time(), Path(a.out), [int(x) for x in a.levels.split(',')]
    policy = local_policy(str(model), 'base' if a.model == 'embedded' else 'learned')
    kw = dict(max_tokens=m.max_tokens, seed=m.seed, chunk=m.chunk)
    temps = [float(x) for x in a.temperatures.split(',')]
    dev = search_rows(policy, load_task(m.task, 'dev', limit=a.dev_limit, level=levels), temps, a.budget, out / 'dev', kw)
    best = max(dev[1:], key=lambda r: (r['accuracy'], -r['tokens']))
    print('dev:', *[f"{r['strategy']}({r['scorer']}) T={r['temperature']}: {r['accuracy']:.1f}%" for r in dev], f"-> chosen {best['strategy']} T={best['temperature']}", sep='\n  ', flush=True)
    test_probs = load_task(m.task, 'test', limit=a.limit, level=levels)
    test = search_rows(policy, test_probs, [best['temperature']], a.budget, out / 'test', kw)
    greedy = test[0]
    chosen = next(r for r in test if r['strategy'] == best['strategy'] and r['scorer'] == best['scorer'])
    lv = [p.metadata['level'] for p in test_probs]
    by_level = {f'level {l}': {f"{r['strategy']}({r['scorer']})" if r['scorer'] else r['strategy']:
                               round(100 * sum(c for c, x in zip(r['correct'], lv) if x == l) / lv.count(l), 1) for r in test} for l in levels}
    d = paired_diff(chosen['correct'], greedy['correct'])
    res = dict(provenance(time.time() - t0), command='python benchmarks/compound.py ' + ' '.join(sys.argv[1:]), model=policy_identity(policy),
               task=m.task, levels=levels, budget=a.budget, settings=kw, dev=dict(problems=dev[0]['problems'], rows=[brief(r) for r in dev]),
               chosen=dict(strategy=best['strategy'], scorer=best['scorer'], temperature=best['temperature']),
               test=dict(problems=len(test_probs), rows=[dict(brief(r), chosen=r is chosen) for r in test], by_level=by_level),
               search_minus_greedy=d, target='chosen search >= greedy + 10 points', met=d['diff'] >= 10)
    (ROOT / 'benchmarks' / 'results' / a.results).write_text(json.dumps(res, indent=1))
    for r in test: print(f"| {r['strategy']} | {r['scorer']} | {r['temperature']} | {r['accuracy']:.1f} [{r['ci95'][0]:.0f}, {r['ci95'][1]:.0f}] | {r['tokens']:.0f} |{' chosen' if r is chosen else ''}")
    print(f"chosen - greedy: {d['diff']:+.1f} points [{d['low']:.1f}, {d['high']:.1f}], McNemar p={d['p']}; target (>= +10) {'met' if res['met'] else 'missed'}")

if __name__ == '__main__': main()
