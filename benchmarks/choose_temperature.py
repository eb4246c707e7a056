"""Choose the main job's sampling temperature on the dev split (never the test split).

The embedded model samples 8 answers per problem for 100 `arith` dev problems of level 1 at each candidate temperature;
the choice is the temperature with the highest maj@8 (what the search phase's voting needs), ties broken by pass@8.
`MainConfig.temperature` and `learn_temperature` cite the results file.

Run:  .venv/bin/python benchmarks/choose_temperature.py          (~8 min on 2 cores with vLLM)
Writes benchmarks/results/choose_temperature.json (command, commit, date, machine, seconds); samples in runs/choose_temperature/.
"""
import argparse, json, time
from pathlib import Path
from reasoner_kit.core import provenance
from reasoner_kit.data import load_task
from reasoner_kit.evaluate import EvalConfig, evaluate, interval95
from reasoner_kit.policy.base import load_policy

ROOT = Path(__file__).resolve().parents[1]

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--temperatures', default='0.3,0.5,0.7,0.9')
    ap.add_argument('--limit', type=int, default=100)
    ap.add_argument('--level', type=int, default=1)
    a = ap.parse_args()
    t0, pol = time.time(), load_policy('embedded')
    probs = load_task('arith', 'dev', limit=a.limit, level=a.level)
    rows = []
    for t in [float(x) for x in a.temperatures.split(',')]:
        s = evaluate(pol, probs, EvalConfig(samples=8, temperature=t, max_tokens=160, greedy=False, seed=0),
                     out=ROOT / 'runs' / 'choose_temperature' / f't{t}', desc=f'T={t}')
        per = [sum(x['correct'] for x in r['samples']) / 8 for r in s['records']]
        rows.append(dict(temperature=t, **{k: s[k] for k in ('maj@8', 'pass@8', 'sampled_acc', 'sampled_tokens')}, sampled_acc_ci95=interval95(per)))
        print(rows[-1], flush=True)
    best = max(rows, key=lambda r: (r['maj@8'], r['pass@8']))
    out = dict(provenance(time.time() - t0), split='dev', task='arith', level=a.level, problems=len(probs), samples=8,
               criterion='maj@8, ties by pass@8', rows=rows, chosen=best['temperature'])
    (ROOT / 'benchmarks' / 'results' / 'choose_temperature.json').write_text(json.dumps(out, indent=1))
    print(f"chosen on dev: temperature {best['temperature']} (maj@8 {best['maj@8']}%, pass@8 {best['pass@8']}%)")

if __name__ == '__main__': main()
