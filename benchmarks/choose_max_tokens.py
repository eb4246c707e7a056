"""Choose the main job's generation cap (`MainConfig.max_tokens`) on the dev split (never the test split).

The embedded model decodes one greedy answer and 8 samples (temperature 0.3, seed 0) for 100 `arith` dev problems of
level 1 at each candidate cap, the largest first. Per-request seeds make the samples at a smaller cap the same tokens cut
shorter, so a smaller cap can only lose answers (those still unfinished at the cap) and saves the time spent on them.
The choice: the smallest cap that loses nothing on dev (greedy pass@1, maj@8 and pass@8 all at least the largest cap's).

Run:  .venv/bin/python benchmarks/choose_max_tokens.py          (~8 min on 2 cores with vLLM)
Writes benchmarks/results/choose_max_tokens.json (command, commit, date, machine, seconds); samples in runs/choose_max_tokens/.
"""
import argparse, json, shutil, time
from pathlib import Path
from reasoner_kit.core import provenance
from reasoner_kit.data import load_task
from reasoner_kit.evaluate import EvalConfig, evaluate
from reasoner_kit.policy.base import load_policy

ROOT = Path(__file__).resolve().parents[1]
KEYS = ('greedy_pass@1', 'maj@8', 'pass@8', 'greedy_tokens', 'sampled_tokens')

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--caps', default='160,128,112,96', help='candidate caps, largest first (the reference)')
    ap.add_argument('--limit', type=int, default=100)
    ap.add_argument('--temperature', type=float, default=0.3, help="MainConfig.temperature (chosen by choose_temperature.py)")
    ap.add_argument('--chunk', type=int, default=50, help="problems per engine call, as MainConfig.chunk")
    a = ap.parse_args()
    t0, pol = time.time(), load_policy('embedded')
    probs = load_task('arith', 'dev', limit=a.limit, level=1)
    rows = []
    for cap in sorted({int(x) for x in a.caps.split(',')}, reverse=True):
        out = ROOT / 'runs' / 'choose_max_tokens' / f'm{cap}'
        shutil.rmtree(out, ignore_errors=True)                      # timed from scratch: no resumed samples
        t = time.time()
        s = evaluate(pol, probs, EvalConfig(samples=8, temperature=a.temperature, max_tokens=cap, seed=0, chunk=a.chunk), out=out, desc=f'cap {cap}')
        capped = sum(x['tokens'] >= cap for r in s['records'] for x in r['samples']) / (8 * len(probs))
        rows.append(dict(max_tokens=cap, seconds=round(time.time() - t, 1), **{k: s[k] for k in KEYS}, samples_at_cap=round(capped, 3)))
        print(rows[-1], flush=True)
    ref = rows[0]
    ok = [r for r in rows if all(r[k] >= ref[k] for k in ('greedy_pass@1', 'maj@8', 'pass@8'))]
    best = min(ok, key=lambda r: r['max_tokens'])
    out = dict(provenance(time.time() - t0), split='dev', task='arith', level=1, problems=len(probs), samples=8, temperature=a.temperature,
               criterion='smallest cap with greedy pass@1, maj@8 and pass@8 no lower than the largest cap', rows=rows, chosen=best['max_tokens'])
    (ROOT / 'benchmarks' / 'results' / 'choose_max_tokens.json').write_text(json.dumps(out, indent=1))
    print(f"chosen on dev: max_tokens {best['max_tokens']} ({best['seconds']} s vs {ref['seconds']} s at {ref['max_tokens']}; "
          f"maj@8 {best['maj@8']}% vs {ref['maj@8']}%, pass@8 {best['pass@8']}% vs {ref['pass@8']}%)")

if __name__ == '__main__': main()
