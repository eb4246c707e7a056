"""Benchmark (b): the share of wall time an MCTS run spends outside policy calls, with the embedded model.

Runs `mcts` (PUCT on the compiled tree core, values from the calculator process scorer) on a batch of arith problems
with the embedded SmolLM2-135M policy, and splits the wall time into:
  - policy: inside `policy.generate` (the model),
  - scorer: inside the process scorer (pure Python here: it checks the arithmetic of each step),
  - search: everything else (tree bookkeeping in C++, prompt building, selection, backprop, Python glue).
Target (issue 3): search + scorer <= 2% of the wall time, i.e. the model is the bottleneck.

Run: .venv/bin/python benchmarks/bench_search_overhead.py [--problems 8] [--budget 8] [--backend c|py]
Writes benchmarks/results/bench_search_overhead.json (command, commit, date, machine, seconds) unless --no-results.
"""
import argparse, json, os, time
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('REASONER_KIT_QUIET', '1')

from reasoner_kit.core import set_seed
from reasoner_kit.data import load_task, to_messages
from reasoner_kit.policy.base import Policy, load_policy
from reasoner_kit.reward.scorers import ArithmeticScorer
from reasoner_kit.search.base import STRATEGIES, load_strategies

class Timed:
    "Wrap an object; time every call of the named methods."
    def __init__(self, obj, methods):
        self.obj, self.seconds, self.calls = obj, 0.0, 0
        for m in methods: setattr(self, m, self._timed(getattr(obj, m)))
    def _timed(self, f):
        def g(*a, **k):
            t = time.perf_counter()
            try: return f(*a, **k)
            finally: self.seconds += time.perf_counter() - t; self.calls += 1
        return g
    def __getattr__(self, k): return getattr(self.obj, k)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--problems', type=int, default=8, help='arith level-1 test problems, searched as one batch')
    ap.add_argument('--budget', type=int, default=8, help='MCTS simulations per problem')
    ap.add_argument('--width', type=int, default=4, help='children per expansion')
    ap.add_argument('--backend', default='c', choices=['c', 'py'], help='tree core: compiled or the Python reference')
    ap.add_argument('--no-results', action='store_true', help='do not write benchmarks/results/bench_search_overhead.json')
    a = ap.parse_args()
    t0 = time.perf_counter()
    set_seed(0); load_strategies()
    policy = Timed(load_policy('embedded'), ['generate', 'token_logprobs'])
    scorer = Timed(ArithmeticScorer(), ['score', 'score_steps'])
    probs = load_task('arith', 'test', limit=a.problems, level=1)
    strat = STRATEGIES['mcts'](budget=a.budget, beam_width=a.width, temperature=0.7, max_tokens=160, seed=0, backend=a.backend)
    policy.generate([to_messages(probs[0])], max_tokens=4)            # warm-up (first call allocates)
    policy.seconds, policy.calls = 0.0, 0
    t = time.perf_counter()
    res = strat.run([to_messages(p) for p in probs], policy, scorer)
    wall = time.perf_counter() - t
    other = wall - policy.seconds - scorer.seconds
    tokens = sum(r.tokens for r in res)
    print(f"mcts: {a.problems} problems x {a.budget} simulations, {a.width} children per expansion, tree core '{a.backend}'")
    print(f"wall {wall:.1f} s, {tokens} tokens generated, {policy.calls} policy calls, {scorer.calls} scorer calls")
    print(f"policy (model)  {policy.seconds:8.2f} s  {100 * policy.seconds / wall:6.2f} %")
    print(f"scorer          {scorer.seconds:8.3f} s  {100 * scorer.seconds / wall:6.2f} %")
    print(f"search (rest)   {other:8.3f} s  {100 * other / wall:6.2f} %")
    print(f"outside policy calls: {100 * (wall - policy.seconds) / wall:.2f} % of wall time (target <= 2 %)")
    if not a.no_results:
        from reasoner_kit.core import provenance
        dest = Path(__file__).resolve().parent / 'results' / 'bench_search_overhead.json'
        dest.write_text(json.dumps(dict(provenance(time.perf_counter() - t0), settings=vars(a), engine=type(policy.obj).__name__, wall_s=round(wall, 2),
                                        policy_s=round(policy.seconds, 3), scorer_s=round(scorer.seconds, 4), search_s=round(other, 4), tokens=tokens,
                                        policy_calls=policy.calls, outside_policy_pct=round(100 * (wall - policy.seconds) / wall, 3)), indent=1))
        print(f"wrote {dest}")

if __name__ == '__main__':
    main()
