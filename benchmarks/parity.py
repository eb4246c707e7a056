"""Benchmark: accuracy parity of the two policy engines on the embedded model (issue: one engine from laptop to GPU).

The vLLM engine (bfloat16, the default wherever vLLM is installed) and `HFPolicy` (float32, the pure-transformers
fallback) answer the same held-out `arith` test problems (levels 1-2): one greedy answer and `--samples` sampled answers
each (temperature 0.5, max_tokens 160, seed 0). Reported per engine: greedy pass@1 and sampled accuracy with 95%
intervals; and the paired difference (vLLM - HF) on the same problems with its standard error. The engines agree when
|difference| <= 2 standard errors. Sampled answers differ token by token between engines (different kernels and
precision), so only the accuracies are compared, not the texts.

Run:  .venv/bin/python benchmarks/parity.py                 (200 problems x (1 + 4) answers per engine; ~20 min on 2 cores)
      .venv/bin/python benchmarks/parity.py --limit 20      (a smoke run)
Samples go to runs/parity/<engine>/ (resumable: a killed run picks up where it stopped); the table to
benchmarks/results/parity.json (with command, commit, date, machine, seconds) unless --limit is below 200.
"""
import argparse, json, time
from pathlib import Path
from reasoner_kit.core import provenance
from reasoner_kit.data import load_task
from reasoner_kit.evaluate import EvalConfig, evaluate, interval95, paired_diff
from reasoner_kit.policy.backends import HFPolicy, embedded_model_dir
from reasoner_kit.policy.vllm_engine import VLLMPolicy, close_policy

ROOT = Path(__file__).resolve().parents[1]

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--limit', type=int, default=200, help='test problems (levels 1-2)')
    ap.add_argument('--samples', type=int, default=4, help='sampled answers per problem')
    ap.add_argument('--out', default=str(ROOT / 'runs' / 'parity'))
    a = ap.parse_args()
    t0 = time.time()
    problems = load_task('arith', 'test', limit=a.limit, level=[1, 2])
    cfg = EvalConfig(samples=a.samples, temperature=0.5, max_tokens=160, seed=0)
    res, scores = {}, {}
    for name, make in [('vllm_bf16', lambda: VLLMPolicy(embedded_model_dir(), name='embedded')),
                       ('hf_fp32', lambda: HFPolicy(embedded_model_dir(), name='embedded'))]:
        t = time.time(); pol = make()
        s = evaluate(pol, problems, cfg, out=Path(a.out) / name, desc=name)
        close_policy(pol)
        recs = s['records']
        g = [float(r['greedy']['correct']) for r in recs]
        f = [sum(x['correct'] for x in r['samples']) / len(r['samples']) for r in recs]
        scores[name] = (g, f)
        res[name] = dict(greedy_pass1=interval95(g), sampled_acc=interval95(f), greedy_tokens=s['greedy_tokens'],
                         seconds=round(time.time() - t, 1))
    (gv, fv), (gh, fh) = scores['vllm_bf16'], scores['hf_fp32']
    diff = dict(greedy_pass1=paired_diff(gv, gh), sampled_acc=paired_diff(fv, fh))
    for d in diff.values(): d['within_2se'] = abs(d['diff']) <= 2 * d['se']
    rows = ['| engine | greedy pass@1 (%) [95% CI] | sampled accuracy (%) [95% CI] |', '|---|---|---|']
    for n, r in res.items():
        rows.append(f"| {n} | {r['greedy_pass1']['mean']:.1f} [{r['greedy_pass1']['low']:.1f}, {r['greedy_pass1']['high']:.1f}] | "
                    f"{r['sampled_acc']['mean']:.1f} [{r['sampled_acc']['low']:.1f}, {r['sampled_acc']['high']:.1f}] |")
    for k, d in diff.items():
        rows.append(f"| vLLM - HF, {k} | {d['diff']:+.1f} ± {d['se']:.1f} (SE), p = {d['p']:.2f} | {'within' if d['within_2se'] else 'OUTSIDE'} 2 SE |")
    table = '\n'.join(rows); print(table)
    if a.limit >= 200:
        out = dict(provenance(time.time() - t0), problems=len(problems), split='test', levels=[1, 2], samples=a.samples,
                   temperature=0.5, max_tokens=160, engines=res, paired=diff, table=table)
        (ROOT / 'benchmarks' / 'results' / 'parity.json').write_text(json.dumps(out, indent=1))

if __name__ == '__main__': main()
