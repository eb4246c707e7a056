"""Benchmark: seconds per SFT step of the embedded model on this CPU, with TRL's fused LM head scoring every position of
the batch (TRL's own rule off CUDA) and scoring only the positions that carry a loss (`TrainConfig.loss_positions_only`,
what the kit's trainers do). Same data, same settings, one run after the other in this process.

Config: `train_sft` on the embedded model (SmolLM2-135M-Instruct), the main job's SFT settings (8 rows a step in one
pass, lr 5e-5, bf16 compute with fp32 master weights where `bf16_fast()`). Rows: `--rows FILE`, a learning round's
`train_data.jsonl` (the policy's own right samples: `make run` writes runs/main/learn/round1/train_data.jsonl), else the
reference solutions of arith train problems, level 1 (short and even in length: little padding to skip). The first
step is warm-up and left out.

Run:  .venv/bin/python benchmarks/bench_sft_step.py [--steps 6] [--rows FILE]     (~2-3 min on 2 quiet CPU cores)
Prints a table and writes benchmarks/results/bench_sft_step.json (command, commit, date, machine, load, seconds).
"""
import argparse, json, os, tempfile, time
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('REASONER_KIT_QUIET', '1')

def run(compact:bool, rows, steps:int) -> dict:
    "Train `steps` steps with or without loss-positions-only scoring; per-step seconds, losses and tokens."
    from transformers import TrainerCallback
    from reasoner_kit.core import bf16_fast
    from reasoner_kit.learn.train import SFTTrainConfig, train_sft
    from reasoner_kit.policy.backends import embedded_model_dir
    marks = []
    class Clock(TrainerCallback):
        def on_train_begin(self, *a, **kw): marks.append(time.perf_counter())
        def on_step_end(self, *a, **kw): marks.append(time.perf_counter())
    cfg = SFTTrainConfig(max_steps=steps, lr=5e-5, batch_size=8, micro_batch=8, bf16=bf16_fast(), save_steps=10_000, seed=0,
                         loss_positions_only=compact)
    with tempfile.TemporaryDirectory() as d: r = train_sft(embedded_model_dir(), rows, Path(d) / 'sft', cfg, callbacks=[Clock()])
    dts = [b - a for a, b in zip(marks, marks[1:])][1:]           # the first step warms up
    tokens = [h['num_tokens'] for h in r.history if 'num_tokens' in h]
    return dict(compact=compact, s_per_step=round(sum(dts) / len(dts), 2), steps_timed=len(dts),
                tokens_per_s=round((tokens[-1] - tokens[0]) / sum(dts), 1), losses=[round(l, 5) for _, l in r.series('loss')])

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--steps', type=int, default=6, help='optimizer steps per mode (the first is warm-up)')
    p.add_argument('--rows', default=None, help="a train_data.jsonl of prompt/completion rows (default: arith reference solutions)")
    p.add_argument('--out', default=str(Path(__file__).parent / 'results' / 'bench_sft_step.json'))
    a = p.parse_args()
    from reasoner_kit.core import provenance, read_jsonl
    from reasoner_kit.data import load_task
    from reasoner_kit.learn.data import reference_sft
    t0 = time.time()
    rows = read_jsonl(a.rows)[:8 * a.steps] if a.rows else reference_sft(load_task('arith', 'train', limit=8 * a.steps, level=1))
    res = {m: run(m == 'loss positions', rows, a.steps) for m in ('every position', 'loss positions')}
    print('| scoring | s / step | tokens / s | losses |\n|---|---|---|---|')
    for m, r in res.items(): print(f"| {m} | {r['s_per_step']} | {r['tokens_per_s']} | {r['losses']} |")
    speed = res['every position']['s_per_step'] / res['loss positions']['s_per_step']
    print(f"speed-up {speed:.2f}x")
    Path(a.out).write_text(json.dumps(dict(provenance(time.time() - t0), steps=a.steps, rows=a.rows or 'arith reference solutions, level 1', speedup=round(speed, 2), modes=res), indent=1) + '\n')
