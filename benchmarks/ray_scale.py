"""Benchmark: search at scale on a local Ray cluster, with a driver whose memory stays flat.

Runs `best_of_n` (budget 2, the calculator scorer) with the tiny random model over N `arith` test problems through
`search.sweep.run_search(..., pool=PolicyPool('tiny', actors))`: the chunks run on Ray actors that each hold the model,
and the driver appends each chunk's records to `search.jsonl` as they come back. Reports:
  - throughput (problems/s, cluster start and model loading excluded),
  - the driver's peak RSS when 1,000 problems are on disk and at the end (it must not grow with the problems in flight),
  - records lost and duplicated, counted in the JSONL file itself (must be 0 and 0).
Writes benchmarks/results/ray_scale.json (command, commit, date, machine, seconds and the figures).

Run: .venv/bin/python benchmarks/ray_scale.py --problems 10000   (about 1,000 for a quick check)
"""
import argparse, json, os, tempfile, threading, time
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('REASONER_KIT_QUIET', '1')
os.environ.setdefault('RAY_USAGE_STATS_ENABLED', '0')

from reasoner_kit.core import provenance
from reasoner_kit.data import load_task
from reasoner_kit.policy.ray_pool import PolicyPool, ray_init
from reasoner_kit.reward.scorers import ArithmeticScorer
from reasoner_kit.search.sweep import run_search

def rss_mb() -> float:
    "This process's resident memory now, in MiB."
    for l in Path('/proc/self/status').read_text().splitlines():
        if l.startswith('VmRSS:'): return int(l.split()[1]) / 1024
    return 0.0

class Watch(threading.Thread):
    "Samples the driver's RSS; notes the peak so far when the log first holds `mark` records."
    def __init__(self, log:Path, mark:int):
        super().__init__(daemon=True); self.log, self.mark, self.peak, self.at_mark, self.stop = log, mark, 0.0, None, False
    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss_mb())
            if self.at_mark is None and self.log.exists() and self.log.read_bytes().count(b'\n') >= self.mark: self.at_mark = self.peak
            time.sleep(0.1)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--problems', type=int, default=10000, help='arith test problems (all levels)')
    ap.add_argument('--actors', type=int, default=2, help='Ray actors, one CPU each')
    ap.add_argument('--num-cpus', type=int, default=2, help='CPUs of the local cluster')
    ap.add_argument('--strategy', default='best_of_n')
    ap.add_argument('--budget', type=int, default=2)
    ap.add_argument('--max-tokens', type=int, default=8)
    ap.add_argument('--chunk', type=int, default=50, help='problems per chunk (one strategy call on an actor)')
    ap.add_argument('--out', default=None, help='folder for search.jsonl (default: a fresh temp folder)')
    ap.add_argument('--result', default='benchmarks/results/ray_scale.json')
    a = ap.parse_args()
    out = Path(a.out or tempfile.mkdtemp(prefix='ray_scale_'))
    problems = load_task('arith', 'test', limit=a.problems)
    t0 = time.time()
    ray_init(num_cpus=a.num_cpus)
    pool = PolicyPool('tiny', actors=a.actors, engine='hf')
    pool.pids()                                                   # every actor has loaded the model
    ready = time.time() - t0
    log = out / 'search.jsonl'
    w = Watch(log, min(1000, a.problems)); w.start()
    t1 = time.time()
    row = run_search(a.strategy, None, problems, a.budget, ArithmeticScorer(), out, chunk=a.chunk, pool=pool,
                     max_tokens=a.max_tokens, temperature=1.0, seed=0)
    secs = time.time() - t1
    w.stop = True; w.join()
    lines = log.read_bytes().splitlines()
    keys = [json.loads(l)['key'] for l in lines]
    want = {f"{a.strategy}|{a.budget}|{p.id}" for p in problems}
    res = dict(provenance(secs), problems=a.problems, actors=a.actors, cluster_cpus=a.num_cpus, strategy=a.strategy, budget=a.budget,
               max_tokens=a.max_tokens, chunk=a.chunk, model='tiny (random weights, transformers)', startup_s=round(ready, 1),
               problems_per_s=round(a.problems / secs, 2), accuracy=row['accuracy'], tokens_per_problem=row['tokens'],
               driver_peak_rss_mb_at_1k=round(w.at_mark or w.peak, 1), driver_peak_rss_mb_at_end=round(w.peak, 1),
               records=len(lines), lost=len(want - set(keys)), duplicated=len(keys) - len(set(keys)), out=str(out))
    pool.close()
    Path(a.result).parent.mkdir(parents=True, exist_ok=True)
    Path(a.result).write_text(json.dumps(res, indent=1) + '\n')
    print(f"{a.problems:,} problems, {a.strategy}@{a.budget}, {a.actors} actors: {secs:.1f} s ({res['problems_per_s']} problems/s; "
          f"cluster and models ready in {ready:.1f} s)")
    print(f"driver peak RSS: {res['driver_peak_rss_mb_at_1k']} MiB at 1,000 problems, {res['driver_peak_rss_mb_at_end']} MiB at {a.problems:,}")
    print(f"records: {len(lines):,}, lost {res['lost']}, duplicated {res['duplicated']} -> {a.result}")

if __name__ == '__main__': main()
