"""Benchmark: tokens/s of the policy engines on the embedded model, in one run: `HFPolicy` float32 (the CPU default
before vLLM), `HFPolicy` bfloat16, and the vLLM engine (`VLLMPolicy`, the default wherever vLLM is installed); each
one's speed-up over HFPolicy float32 and its share of this machine's bfloat16 matmul limit, measured in the same run.

Workloads (arith dev problems, levels 1-2; temperature 0.5, max_tokens 160, seed 0; one `generate` call each):
  single    64 prompts x 1 sample
  shared    40 prompts x 16 samples (the 16 samples of a prompt share it)
  frontier  a beam frontier: 4 level-2 problems x 4 partial solutions (their first 0-3 reference steps, so the 16
            partials extend 4 shared prefixes), 4 samples each
The matmul limit is the GFLOP/s of a 2048 x 2048 bfloat16 matmul with torch on this machine's threads; a generated
token costs about 2 x parameters FLOPs, so share = tokens/s x 2 x parameters / limit (prompt tokens not counted).

Run:  .venv/bin/python benchmarks/bench_engine.py            (~25 min on 2 CPU cores, most of it HFPolicy; run it on
      a quiet machine: `uptime`)
      .venv/bin/python benchmarks/bench_engine.py --quick    (a smoke run: a few prompts per workload, ~4 min)
      --engines hf32,hf16,vllm picks engines; --eager runs vLLM without torch.compile; --reuse FILE keeps the engines
      not run now from an earlier bench_engine.json; --dtype bfloat16|float32 overrides vLLM's (default: the kit's,
      `engine_dtype()`: bfloat16 where the CPU has AVX512-BF16 or AMX, else float32); --results NAME writes elsewhere (each engine records its own date and load average, so a phase that
      shared the machine with other work shows, and can be run again alone).
Prints the table and writes benchmarks/results/bench_engine.json (command, commit, date, machine, numbers);
--quick writes benchmarks/results/bench_engine_quick.json instead.
"""
import argparse, gc, json, os, platform, subprocess, sys, time
from reasoner_kit.core import git_commit
from datetime import datetime, timezone
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('REASONER_KIT_QUIET', '1')
import torch
from reasoner_kit.data import load_task, to_messages
from reasoner_kit.policy.base import SamplingParams
from reasoner_kit.policy.backends import HFPolicy, embedded_model_dir
from reasoner_kit.reward.scorers import STEP_SEP

ROOT = Path(__file__).resolve().parents[1]
ENGINES = {'hf32': 'HFPolicy float32', 'hf16': 'HFPolicy bfloat16', 'vllm': 'vLLM (compiled)'}

def matmul_gflops(dtype, n:int=2048, reps:int=10) -> float:
    "GFLOP/s of an n x n matmul in `dtype` with torch's threads (n 256 where one 256 x 256 matmul takes over 10 ms: an emulated dtype)."
    a, b = torch.randn(256, 256).to(dtype), torch.randn(256, 256).to(dtype)
    t = time.perf_counter(); a @ b; a @ b
    if time.perf_counter() - t > 0.02: n, reps = 256, 3   # bfloat16 on an AVX2-only CPU: ~0.3 GFLOP/s, one 2048 matmul would take a minute
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    for _ in range(2): a @ b
    t = time.perf_counter()
    for _ in range(reps): a @ b
    return 2 * n ** 3 * reps / (time.perf_counter() - t) / 1e9

def workloads(quick:bool) -> dict:
    "name -> (prompts, samples per prompt)."
    probs = load_task('arith', 'dev', limit=8 if quick else 64, level=[1, 2])
    single = [to_messages(p) for p in probs]
    frontier = []
    for p in load_task('arith', 'dev', limit=2 if quick else 4, level=2):
        steps = p.solution.split(STEP_SEP)
        for k in range(4):   # 0-3 reference steps: partial solutions that extend the same prompt
            frontier.append(to_messages(p) + ([{'role': 'assistant', 'content': STEP_SEP.join(steps[:k]) + STEP_SEP}] if k else []))
    return {'single': (single, 1), 'shared': (single[:4 if quick else 40], 16), 'frontier': (frontier, 4)}

def make(engine:str, eager:bool, dtype:str):
    "(the policy, seconds to start it)."
    t = time.perf_counter()
    if engine == 'vllm':
        from reasoner_kit.policy.vllm_engine import VLLMPolicy
        pol = VLLMPolicy(embedded_model_dir(), name='embedded', enforce_eager=eager, dtype=dtype)
    else: pol = HFPolicy(embedded_model_dir(), name='embedded', dtype=torch.float32 if engine == 'hf32' else torch.bfloat16)
    return pol, time.perf_counter() - t

def run(pol, wl:dict) -> dict:
    "Seconds, generated tokens and tokens/s per workload."
    pol.generate([wl['single'][0][0]], max_tokens=8)   # warm-up
    rows = {}
    for name, (prompts, n) in wl.items():
        t = time.perf_counter()
        out = pol.generate(prompts, SamplingParams(n=n, temperature=0.5, max_tokens=160, seed=0))
        dt = time.perf_counter() - t
        tok = sum(s.completion_tokens for o in out for s in o)
        rows[name] = dict(prompts=len(prompts), samples=len(prompts) * n, seconds=round(dt, 1), tokens=tok, tokens_per_s=round(tok / dt, 1))
        print(f"  {name:9s} {len(prompts):3d} x {n:2d}: {tok:6d} tokens in {dt:6.1f} s = {tok / dt:6.1f} tokens/s", flush=True)
    return rows

def machine() -> dict:
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.processor()) if Path('/proc/cpuinfo').exists() else platform.processor()
    vers = {}
    for m in ('torch', 'transformers', 'vllm'):
        try: vers[m] = __import__(m).__version__
        except Exception: vers[m] = None
    from reasoner_kit.core import cpu_flags, cpu_isa
    return dict(platform=platform.platform(), cpu=cpu, isa=cpu_isa(cpu_flags()), cores=os.cpu_count(), torch_threads=torch.get_num_threads(),
                python=platform.python_version(), **vers)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--engines', default='hf32,hf16,vllm', help=f"comma-separated, of: {', '.join(ENGINES)}")
    ap.add_argument('--quick', action='store_true', help='a few prompts per workload (smoke run)')
    ap.add_argument('--eager', action='store_true', help='vLLM without torch.compile')
    ap.add_argument('--dtype', default=None, choices=['bfloat16', 'float32'], help="vLLM's dtype (default: the kit's, engine_dtype())")
    ap.add_argument('--results', default=None, help='the results file under benchmarks/results/ (default bench_engine.json, --quick: bench_engine_quick.json)')
    ap.add_argument('--reuse', default=None, help='an earlier bench_engine.json: keep its engines that are not run now')
    a = ap.parse_args()
    from reasoner_kit.policy.vllm_engine import engine_dtype
    dtype = a.dtype or engine_dtype()
    engines = [e for e in a.engines.split(',') if e]
    if bad := set(engines) - set(ENGINES): sys.exit(f"unknown engine(s) {bad}: use {', '.join(ENGINES)}")
    if 'vllm' in engines: engines = [e for e in engines if e != 'vllm'] + ['vllm']   # last: its engine stays in the process
    load0 = os.getloadavg()
    bf16, fp32 = matmul_gflops(torch.bfloat16), matmul_gflops(torch.float32)   # before any engine: torch's own threads
    print(f"matmul 2048^2 on {torch.get_num_threads()} threads: bfloat16 {bf16:.0f} GFLOP/s, float32 {fp32:.0f} GFLOP/s; load {load0[0]:.2f}", flush=True)
    wl = workloads(a.quick)
    from transformers import AutoModelForCausalLM
    params = sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(embedded_model_dir()).parameters())
    res = {}
    for e in engines:
        print(f"{ENGINES[e]}:", flush=True)
        pol, start = make(e, a.eager, dtype)
        print(f"  started in {start:.1f} s", flush=True)
        before, date = os.getloadavg(), datetime.now(timezone.utc).isoformat(timespec='seconds')
        res[e] = dict(engine=ENGINES[e] if e != 'vllm' else f"vLLM ({dtype}, {'eager' if a.eager else 'compiled'})",
                      dtype={'hf32': 'float32', 'hf16': 'bfloat16'}.get(e, dtype), start_s=round(start, 1), workloads=run(pol, wl),
                      date=date, load_avg_before=[round(x, 2) for x in before], load_avg_after=[round(x, 2) for x in os.getloadavg()])
        if e != 'vllm': del pol; gc.collect()
    if a.reuse:   # earlier measurements of the engines not run now, marked as such
        old = json.loads(Path(a.reuse).read_text())
        for e, r in old['engines'].items():
            if e not in res: res[e] = dict(r, reused_from=dict(file=a.reuse, commit=old['commit'], date=r.get('date', old['date']), matmul_gflops=old['matmul_gflops']))
        res = {e: res[e] for e in ENGINES if e in res}
    ref = res.get('hf32')
    for e, r in res.items():
        for name, w in r['workloads'].items():
            dt = r.get('dtype', 'bfloat16')   # results before the dtype was recorded: bfloat16 engines but HF float32
            lim = (r['reused_from']['matmul_gflops'] if 'reused_from' in r else dict(bfloat16=bf16, float32=fp32))[dt]   # the limit of its dtype, measured with it
            w['share_of_limit'] = round(w['tokens_per_s'] * 2 * params / (lim * 1e9), 4)
            if ref: w['speedup_vs_hf32'] = round(w['tokens_per_s'] / ref['workloads'][name]['tokens_per_s'], 2)
    # the table
    cols = list(res)
    print(f"\ntokens/s (speed-up over HFPolicy float32; share of the matmul limit of its dtype, bfloat16 {bf16:.0f} / float32 {fp32:.0f} GFLOP/s, at {2 * params / 1e9:.2f} GFLOP/token)")
    print('| workload | ' + ' | '.join(res[e]['engine'] for e in cols) + ' |')
    print('|---|' + '---|' * len(cols))
    for name, (prompts, n) in wl.items():
        cells = [f"{(w := res[e]['workloads'][name])['tokens_per_s']:.0f} ({w.get('speedup_vs_hf32', float('nan')):.2f}x; {100 * w['share_of_limit']:.1f}%)" for e in cols]
        print(f"| {name} ({len(prompts)} x {n}) | " + ' | '.join(cells) + ' |')
    print('| engine start (s) | ' + ' | '.join(f"{res[e]['start_s']:.0f}" for e in cols) + ' |')
    load1 = os.getloadavg()
    out = dict(command=' '.join([Path(sys.executable).name, *sys.argv]), commit=git_commit(), date=datetime.now(timezone.utc).isoformat(timespec='seconds'),
               machine=dict(machine(), load_avg_start=[round(x, 2) for x in load0], load_avg_end=[round(x, 2) for x in load1]),
               settings=dict(temperature=0.5, max_tokens=160, seed=0, task='arith dev, levels 1-2', quick=a.quick),
               matmul_gflops=dict(bfloat16=round(bf16, 1), float32=round(fp32, 1), n=2048), parameters=params,
               flops_per_token=2 * params, engines=res)
    f = ROOT / 'benchmarks' / 'results' / (a.results or ('bench_engine_quick.json' if a.quick else 'bench_engine.json'))
    f.write_text(json.dumps(out, indent=1) + '\n')
    print(f"-> {f.relative_to(ROOT)}")

if __name__ == '__main__':
    main()
