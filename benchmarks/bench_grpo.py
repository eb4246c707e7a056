"""Benchmark: GRPO steps per minute on the embedded model with TRL's two generation paths on this machine, same config:
  hf     TRL's plain generation (transformers `generate` in the training process, float32): the CPU default before
  vllm   vLLM colocated in the training process (TRL's `use_vllm=True, vllm_mode='colocate'`; vLLM's CPU build in the kit's
         `engine_dtype()`; the new weights are pushed into the engine before each step's generation): the default wherever
         vLLM is installed. TRL's importance-sampling correction as the kit sets it (`GRPOTrainConfig.is_correction=None`:
         off where engine and trainer both compute in float32, on otherwise)
  vllm_is  the same with the correction forced on (TRL's default): one more forward pass of the batch a step

Config (both paths): `reasoner_kit.learn.train.train_grpo` on the embedded model (SmolLM2-135M-Instruct), arith train
prompts levels 1-2, 1 prompt x 8 generations per step, up to 128 completion tokens, temperature 0.8, lr 1e-6,
`grading.answer_reward`, seed 0, fp32 weights, no KL reference. Each path runs in its own fresh Python process (so one
engine's start or caches do not help the other). Timed: the process's setup until training starts (model load; for
vllm the engine start, torch.compile included), and every optimizer step (generation + scoring + backward + update).
steps/min is over all measured steps; `steady` leaves out the first (warm-up) step.

Run:  .venv/bin/python benchmarks/bench_grpo.py [--steps 4] [--paths hf,vllm,vllm_is]     (~3 min a path on 2 quiet CPU cores)
Prints a table and writes benchmarks/results/bench_grpo.json (command, commit, date, machine, load, seconds).
"""
import argparse, json, os, platform, subprocess, sys, tempfile, time
from reasoner_kit.core import git_commit
from datetime import datetime, timezone
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('REASONER_KIT_QUIET', '1')

ROOT = Path(__file__).resolve().parents[1]
PATHS = {'hf': 'TRL plain generation (transformers, fp32)', 'vllm': 'TRL + vLLM colocate (CPU build)',
         'vllm_is': 'TRL + vLLM colocate (CPU build), importance-sampling correction forced on'}

def one(path:str, steps:int) -> dict:
    "Train `steps` GRPO steps on `path` in this process; timings."
    t0 = time.perf_counter()
    from transformers import TrainerCallback
    from reasoner_kit.data import load_task
    from reasoner_kit.grading import answer_reward
    from reasoner_kit.learn.data import grpo_prompts
    from reasoner_kit.learn.train import GRPOTrainConfig, train_grpo
    from reasoner_kit.policy.backends import embedded_model_dir
    marks = {}
    class Clock(TrainerCallback):
        def on_train_begin(self, args, state, control, **kw): marks['begin'] = time.perf_counter()
        def on_step_end(self, args, state, control, **kw): marks.setdefault('steps', []).append(time.perf_counter())
    rows = grpo_prompts(load_task('arith', 'train', limit=64, level=[1, 2]))
    cfg = GRPOTrainConfig(max_steps=steps, lr=1e-6, num_generations=8, prompts_per_step=1, max_completion_length=128,
                          temperature=0.8, save_steps=10_000, use_vllm=path != 'hf', is_correction=True if path == 'vllm_is' else None, seed=0,
                          skip_zero_advantage=False)   # every row through the loss: the paths differ in their samples, so in which groups agree
    with tempfile.TemporaryDirectory(prefix='bench-grpo-') as d:   # its checkpoints (2 GB) are not kept
        r = train_grpo(embedded_model_dir(), rows, [answer_reward], Path(d) / path, cfg, callbacks=[Clock()])
        lens, rewards = [v for _, v in r.series('completions/mean_length')], [round(v, 3) for _, v in r.series('reward')]
        corr = json.loads((Path(d) / path / 'settings.json').read_text())['config']['is_correction']   # as resolved on this machine
    ends = marks['steps']
    step_s = [round(b - a, 2) for a, b in zip([marks['begin']] + ends[:-1], ends)]
    from reasoner_kit.policy.vllm_engine import engine_dtype
    return dict(path=PATHS[path], is_correction=corr, engine_dtype=engine_dtype() if path != 'hf' else None, steps=len(step_s), setup_s=round(marks['begin'] - t0, 1), step_s=step_s,
                steps_per_min=round(60 * len(step_s) / sum(step_s), 2),
                steady_steps_per_min=round(60 * (len(step_s) - 1) / sum(step_s[1:]), 2) if len(step_s) > 1 else None,
                mean_completion_tokens=round(sum(lens) / len(lens), 1) if lens else None,
                reward=rewards, total_s=round(time.perf_counter() - t0, 1))

def machine() -> dict:
    import torch
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.processor()) if Path('/proc/cpuinfo').exists() else platform.processor()
    vers = {}
    for m in ('torch', 'transformers', 'trl', 'vllm'):
        try: vers[m] = __import__(m).__version__
        except Exception: vers[m] = None
    return dict(platform=platform.platform(), cpu=cpu, cores=os.cpu_count(), torch_threads=torch.get_num_threads(),
                cuda=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None, python=platform.python_version(), **vers)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=4, help='optimizer steps per path')
    ap.add_argument('--paths', default='hf,vllm', help='comma-separated: ' + ', '.join(PATHS))
    ap.add_argument('--one', default=None, help=argparse.SUPPRESS)   # internal: run one path in this process, print its JSON
    a = ap.parse_args()
    if a.one: print('RESULT ' + json.dumps(one(a.one, a.steps)), flush=True); return
    paths = [p.strip() for p in a.paths.split(',') if p.strip()]
    if bad := [p for p in paths if p not in PATHS]: sys.exit(f"error: unknown path(s) {bad}: use {', '.join(PATHS)}")
    res, load0, t0 = {}, os.getloadavg(), time.time()
    for p in paths:
        before, date = os.getloadavg(), datetime.now(timezone.utc).isoformat(timespec='seconds')
        proc = subprocess.run([sys.executable, __file__, '--one', p, '--steps', str(a.steps)], cwd=ROOT, capture_output=True, text=True)
        line = next((l for l in proc.stdout.splitlines() if l.startswith('RESULT ')), None)
        if proc.returncode or line is None:
            res[p] = dict(path=PATHS[p], error=(proc.stderr.strip().splitlines() or ['no output'])[-1][:500])
        else: res[p] = json.loads(line[len('RESULT '):])
        res[p].update(date=date, load_avg_before=[round(x, 2) for x in before], load_avg_after=[round(x, 2) for x in os.getloadavg()])
        print(p, json.dumps(res[p]), flush=True)
    ok = {p: r for p, r in res.items() if 'error' not in r}
    if 'hf' in ok and 'vllm' in ok:
        res['vllm']['speedup_vs_hf'] = round(ok['vllm']['steps_per_min'] / ok['hf']['steps_per_min'], 2)
        if ok['hf']['steady_steps_per_min'] and ok['vllm']['steady_steps_per_min']:
            res['vllm']['steady_speedup_vs_hf'] = round(ok['vllm']['steady_steps_per_min'] / ok['hf']['steady_steps_per_min'], 2)
    if 'vllm' in ok and 'vllm_is' in ok and ok['vllm']['steady_steps_per_min'] and ok['vllm_is']['steady_steps_per_min']:
        res['vllm']['steady_speedup_vs_is'] = round(ok['vllm']['steady_steps_per_min'] / ok['vllm_is']['steady_steps_per_min'], 2)
    print('| path | setup s | s per step | steps/min | steady steps/min | completion tokens |\n|---|---|---|---|---|---|')
    for p, r in ok.items():
        print(f"| {r['path']} | {r['setup_s']} | {', '.join(map(str, r['step_s']))} | {r['steps_per_min']} | {r['steady_steps_per_min']} | {r['mean_completion_tokens']} |")
    out = dict(command=' '.join([Path(sys.executable).name, *sys.argv]), commit=git_commit(), date=datetime.now(timezone.utc).isoformat(timespec='seconds'),
               machine=dict(machine(), load_avg_start=[round(x, 2) for x in load0], load_avg_end=[round(x, 2) for x in os.getloadavg()]),
               seconds=round(time.time() - t0, 1), paths=res)
    f = ROOT / 'benchmarks' / 'results' / 'bench_grpo.json'
    f.parent.mkdir(parents=True, exist_ok=True); f.write_text(json.dumps(out, indent=1) + '\n')
    print(f"wrote {f.relative_to(ROOT)}")
    if len(ok) < len(res): sys.exit(1)

if __name__ == '__main__':
    main()
