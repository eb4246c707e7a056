"""Benchmark (c): expanding a search frontier in one batched policy call vs node by node, at equal samples.

A frontier of P problems x F open nodes (partial solutions of the embedded model's own making) is expanded into M
next steps per node: once with ONE batched `policy.generate` call for the whole frontier (what every strategy in
reasoner_kit.search.base does), once with one call per node. Both ask for the same number of samples and tokens.

Run: .venv/bin/python benchmarks/bench_batching.py [--problems 4] [--nodes 4] [--width 4]
Prints wall time, tokens and tokens/s for both, and the speed-up; writes benchmarks/results/bench_batching.json
(command, commit, date, machine, seconds) unless --no-results.
"""
import argparse, json, time
from pathlib import Path
from reasoner_kit.core import set_seed
from reasoner_kit.data import load_task, to_messages
from reasoner_kit.policy.base import load_policy, SamplingParams
from reasoner_kit.reward.scorers import split_steps, STEP_SEP

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--problems', type=int, default=4)   # P
    ap.add_argument('--nodes', type=int, default=4)      # F open nodes per problem
    ap.add_argument('--width', type=int, default=4)      # M children per node
    ap.add_argument('--step-tokens', type=int, default=48)
    ap.add_argument('--no-results', action='store_true', help='do not write benchmarks/results/bench_batching.json')
    a = ap.parse_args()
    t0 = time.perf_counter()
    set_seed(0)
    pol = load_policy('embedded')
    probs = load_task('arith', 'test', limit=a.problems, level=2)
    # Build a realistic frontier: F first steps per problem, sampled from the model itself.
    first = pol.generate([to_messages(p) for p in probs], SamplingParams(n=a.nodes, temperature=0.8, max_tokens=a.step_tokens, stop=[STEP_SEP], seed=1))
    frontier = [to_messages(p) + [{'role': 'assistant', 'content': s.text + STEP_SEP}] for p, ss in zip(probs, first) for s in ss]
    sp = SamplingParams(n=a.width, temperature=0.8, max_tokens=a.step_tokens, stop=[STEP_SEP], seed=2)
    pol.generate(frontier[:2], SamplingParams(n=1, max_tokens=4))  # warm-up
    t = time.perf_counter(); batched = pol.generate(frontier, sp); tb = time.perf_counter() - t
    t = time.perf_counter(); single = [pol.generate([f], sp)[0] for f in frontier]; ts = time.perf_counter() - t
    nb = sum(s.completion_tokens for o in batched for s in o); ns = sum(s.completion_tokens for o in single for s in o)
    print(f"frontier: {a.problems} problems x {a.nodes} nodes = {len(frontier)} nodes, {a.width} children each "
          f"({len(frontier) * a.width} samples, <= {a.step_tokens} tokens per step)")
    print(f"batched (1 call):      {tb:7.1f} s  {nb:6d} tokens  {nb / tb:6.1f} tokens/s")
    print(f"node by node ({len(frontier)} calls): {ts:7.1f} s  {ns:6d} tokens  {ns / ts:6.1f} tokens/s")
    print(f"speed-up (wall time, equal samples): {ts / tb:.2f}x; per token: {(nb / tb) / (ns / ts):.2f}x")
    if not a.no_results:
        from reasoner_kit.core import provenance
        dest = Path(__file__).resolve().parent / 'results' / 'bench_batching.json'
        dest.write_text(json.dumps(dict(provenance(time.perf_counter() - t0), settings=vars(a), engine=type(pol).__name__, nodes=len(frontier),
                                        batched=dict(seconds=round(tb, 2), tokens=nb), node_by_node=dict(seconds=round(ts, 2), tokens=ns),
                                        speedup=round(ts / tb, 2), per_token_speedup=round((nb / tb) / (ns / ts), 2)), indent=1))
        print(f"wrote {dest}")

if __name__ == '__main__':
    main()
