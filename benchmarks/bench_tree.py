"""Benchmark of the tree core: the C++ `CTrees` against the pure-Python reference `PyTrees` (reasoner_kit.search.tree).

Run: `.venv/bin/python benchmarks/bench_tree.py` after `python setup.py build_ext --inplace` (a few minutes;
`--quick` for a smoke run). It prints measured numbers and writes benchmarks/results/bench_tree.json (command, commit,
date, machine, seconds; not with --quick); it is not a test.

A *simulation step* is one round of search bookkeeping for every tree in the batch:
    select (UCT, c=1) -> expand (add one child) -> backprop (one random value, from the new child).
Expansion uses simple progressive widening so that the trees stay bushy instead of becoming chains: the new child
goes to the selected leaf's parent while that parent has fewer than K=4 children, else under the leaf itself. The
widening is three numpy lines, the same for both backends. Times include everything a caller pays (Python wrapper,
argument checks, numpy glue of the loop).

  (a) one tree (B=1) grown to 100,000 nodes, on C++ and on Python (one pass each);
  (b) 1,000 trees (B=1000), each grown to 1,000 nodes (10^6 nodes in all) on C++; growing them all in Python takes a minute or more,
      so Python is timed for a few steps from the grown state;
  (c) select + backprop at depth exactly 10: complete binary trees of depth 10 (2,047 nodes each); every select
      descends 10 levels and every backprop walks 11 nodes. Reported per tree per step, for UCT and PUCT, with
      B=100 trees (about 14 MB of fields: mostly in cache) and B=1000 (about 135 MB: bound by memory latency,
      so it is also the number most sensitive to other jobs on the machine).
In (a) and (b) both backends are also timed from the *same* grown state (copied into a `PyTrees`), with the same calls,
and their states are checked to be identical afterwards. Each same-state timing is the best of a few repeats, each
starting again from a snapshot of that state.

Clock: CPU time of this process (`time.process_time`) by default, so that other jobs on a shared machine do not
count against either backend (all the work here is single-threaded); `--wall` uses wall-clock time instead.
"""
import argparse, json, os, platform, sys, time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reasoner_kit.search.tree import FIELDS, ROOT_INDEX, CTrees, PyTrees  # noqa: E402

K = 4  # widening: children per node before the leaf itself is expanded


def snapshot(t): return {n: getattr(t, n).copy() for n in FIELDS}
def restore(t, snap):
    for n in FIELDS: getattr(t, n)[...] = snap[n]


def clone_py(t):
    "A `PyTrees` with exactly the state of `t`."
    p = PyTrees(t.batch_size, t.capacity)
    restore(p, snapshot(t))
    return p


clock = time.process_time  # see the docstring; --wall switches to time.perf_counter


def run_steps(t, steps, seed=0, first_seed=0):
    "`steps` simulation steps on every tree of `t`; returns the seconds they took."
    B = t.batch_size
    ar = np.arange(B, dtype=np.int32)
    prior, reward, terminal, handle = np.full(B, 1.0 / K), np.zeros(B), np.zeros(B, bool), np.zeros(B, np.int64)
    values = np.random.default_rng(seed).random((steps, B))
    t0 = clock()
    for s in range(steps):
        leaf, _ = t.select(c=1.0, rule='uct', seed=first_seed + s)       # 1. selection
        par = t.parent[ar, leaf]                                          # 2. widening target (numpy glue)
        target = np.where((leaf != ROOT_INDEX) & (t.num_children[ar, np.maximum(par, 0)] < K), par, leaf)
        new = t.add_children(ar, target, prior, reward, terminal, handle)  # 3. expansion
        t.backprop(ar, new, values[s])                                    # 4. backup
    return clock() - t0


def best_of(t, snap, steps, repeats):
    "Best seconds over `repeats` runs of `steps` steps, each from `snap`."
    runs = []
    for _ in range(repeats):
        restore(t, snap)
        runs.append(run_steps(t, steps, seed=2, first_seed=10**6))
    return min(runs)


def line(name, sec, steps, B):
    return (f"  {name:<24s}{sec / steps * 1e6:11.1f} us/step {sec / (steps * B) * 1e6:9.3f} us/tree-step "
            f"{steps * B / sec:12,.0f} tree-steps/s")


def grow_and_compare(B, nodes, same_steps, label, py_grow, c_repeats=10, py_repeats=3):
    print(f"\n({label}) B={B} tree(s), each grown to {nodes:,} nodes")
    cap = nodes + same_steps + 1
    ct = CTrees(B, cap)
    tc = run_steps(ct, nodes - 1, seed=1)
    depth = ct.depth.max(1)
    print(f"  grown: max depth {int(depth.max())}, mean max depth over trees {depth.mean():.1f}")
    print(line("C++ growth (one pass)", tc, nodes - 1, B))
    out = {}
    if py_grow:
        pt = PyTrees(B, cap)
        tp = run_steps(pt, nodes - 1, seed=1)
        same = all(np.array_equal(getattr(ct, n), getattr(pt, n)) for n in FIELDS)
        print(line("Python growth (one pass)", tp, nodes - 1, B))
        print(f"  growth speed-up: {tp / tc:.1f}x; identical trees: {same}")
        out['growth'] = tp / tc
    else:
        print("  Python growth: not run (too slow); see the same-state timing below")
    # the same further steps on both backends, from the same grown state (best of `repeats`)
    pt, snap = clone_py(ct), snapshot(ct)
    c = best_of(ct, snap, same_steps, c_repeats)
    p = best_of(pt, snap, same_steps, py_repeats)
    same = all(np.array_equal(getattr(ct, n), getattr(pt, n)) for n in FIELDS)
    print(f"  {same_steps} more steps from the grown state (best of {c_repeats} for C++, {py_repeats} for Python):")
    print(line("C++", c, same_steps, B))
    print(line("Python", p, same_steps, B))
    print(f"  same-state speed-up: {p / c:.1f}x; identical states: {same}")
    out.update(same=p / c, c_tree_step=c / (same_steps * B), B=B)
    return out


def complete_binary(B, depth):
    "B complete binary trees of the given depth (C++), every leaf visited once with a random value."
    t = CTrees(B, 2 ** (depth + 1) - 1)
    level = np.zeros(1, np.int32)
    for _ in range(depth):  # breadth-first numbering: the children of node i are 2i+1 and 2i+2
        par = np.repeat(level, 2)
        level = t.add_children(np.repeat(np.arange(B, dtype=np.int32), len(par)), np.tile(par, B), prior=0.5)[:len(par)]
    leaves = np.arange(2 ** depth - 1, 2 ** (depth + 1) - 1, dtype=np.int32)
    t.backprop(np.repeat(np.arange(B, dtype=np.int32), len(leaves)), np.tile(leaves, B),
               np.random.default_rng(0).random(B * len(leaves)))
    return t


def depth10(B, steps, py_steps, repeats=10):
    print(f"\n(c) select + backprop at depth 10: B={B} complete binary trees of 2,047 nodes "
          f"(best of {repeats} runs for C++, 2 for Python, each from one snapshot)")
    ct = complete_binary(B, 10)
    pt, snap = clone_py(ct), snapshot(ct)
    ar = np.arange(B, dtype=np.int32)
    out = {}
    for rule in ('uct', 'puct'):
        res = {}
        for name, t, n, reps in (('C++', ct, steps, repeats), ('Python', pt, py_steps, 2)):
            vals = np.random.default_rng(3).random((n, B))
            best, depths = np.inf, set()
            for _ in range(reps):
                restore(t, snap)
                t0 = clock()
                for s in range(n):
                    leaf, d = t.select(c=1.0, rule=rule, seed=s)
                    t.backprop(ar, leaf, vals[s])
                    depths.add(int(d.min())); depths.add(int(d.max()))
                best = min(best, clock() - t0)
            assert depths == {10}, depths
            res[name] = best / (n * B)
            print(f"  {rule:4s} {name:6s} {res[name] * 1e6:8.3f} us/tree-step  ({n} steps x {B} trees)")
        print(f"  {rule:4s} speed-up {res['Python'] / res['C++']:.0f}x")
        out[rule] = (res['C++'], res['Python'] / res['C++'])
    out['B'] = B
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='smaller sizes (a smoke run)')
    ap.add_argument('--wall', action='store_true', help='wall-clock time instead of process CPU time')
    args = ap.parse_args()
    quick = args.quick
    global clock
    if args.wall: clock = time.perf_counter
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    print(f"tree core benchmark: python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} cpus, load average {load:.1f} at start; clock: {'wall' if args.wall else 'process CPU time'}")
    t0 = time.perf_counter()
    if quick:
        a = grow_and_compare(1, 5_000, 200, 'a', py_grow=True)
        b = grow_and_compare(100, 200, 3, 'b', py_grow=False)
        cs = [depth10(100, 20, 2)]
    else:
        a = grow_and_compare(1, 100_000, 2_000, 'a', py_grow=True)
        b = grow_and_compare(1_000, 1_000, 5, 'b', py_grow=False)
        cs = [depth10(100, 50, 2), depth10(1_000, 10, 2)]
    print("\nsummary (targets: >= 30x the Python reference; <= 1 us per tree per simulation step at depth 10, batched)")
    print(f"  (a) B=1  speed-up {a['growth']:.1f}x over the whole growth, {a['same']:.1f}x same-state; "
          f"one tree per call: the Python-side cost of each call dominates")
    print(f"  (b) B={b['B']}  speed-up {b['same']:.1f}x; C++ {b['c_tree_step'] * 1e6:.3f} us per tree per step "
          f"(select + expand + backprop)")
    for c in cs:
        print(f"  (c) depth 10, B={c['B']}: C++ {c['uct'][0] * 1e6:.3f} us (UCT) / {c['puct'][0] * 1e6:.3f} us (PUCT) "
              f"per tree per select + backprop; speed-up {c['uct'][1]:.0f}x / {c['puct'][1]:.0f}x")
    print(f"total benchmark time {time.perf_counter() - t0:.0f} s")
    if not quick:
        from reasoner_kit.core import provenance
        res = dict(provenance(time.perf_counter() - t0), clock='wall' if args.wall else 'process CPU time',
                   one_tree=dict(nodes=100_000, growth_speedup=a['growth'], same_state_speedup=a['same']),
                   batched=dict(B=b['B'], nodes=1_000, same_state_speedup=b['same'], c_us_per_tree_step=b['c_tree_step'] * 1e6),
                   depth10=[dict(B=c['B'], uct_us=c['uct'][0] * 1e6, puct_us=c['puct'][0] * 1e6, uct_speedup=c['uct'][1], puct_speedup=c['puct'][1]) for c in cs])
        dest = Path(__file__).resolve().parent / 'results' / 'bench_tree.json'
        dest.write_text(json.dumps(res, indent=1)); print(f"wrote {dest}")


if __name__ == '__main__':
    main()
