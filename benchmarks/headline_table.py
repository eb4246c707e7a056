"""Issue 15's headline in one command: base greedy, base + best search, learned greedy, learned + best search and `auto`
routing, on the same 200 arith test problems (levels 1-2), with 95% intervals, tokens per problem and wall time, and
levels 3-4 reported too.

It runs the four measuring scripts in order, each only when its results file under benchmarks/results/ is missing
(--force: all of them), then prints the table (`benchmarks/tables.py search_and_learning`, the README's block):
  1. learning_headline.py  -> headline.json           expert iteration from the embedded model (the learned policy)
  2. compound.py embedded  -> compound_base.json      the base policy: greedy, and the search chosen on dev
  3. compound.py learned   -> compound_headline.json  the learned policy: greedy, and the search chosen on dev
  4. route.py learned      -> route.json              `auto` against the best fixed strategy at budget 16, at the
                                                      temperature step 3 chose on dev and the same generation cap
Each step resumes from its folder under runs/ after a kill, and each results file records its own command, commit,
date and machine. The choices (strategy, temperature, routing table) are made on the dev split; the test split is read
once per method.

Run:  .venv/bin/python benchmarks/headline_table.py            (from nothing: ~15 + 15 + 15 + 25 min on 2 cores)
      .venv/bin/python benchmarks/headline_table.py --dry-run  (print the commands it would run)
"""
import argparse, json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / 'benchmarks' / 'results'

def learned_model() -> str:
    "The headline's final model, as its results file names it."
    return json.loads((RESULTS / 'headline.json').read_text())['rounds'][-1]['model_dir']

def route_args() -> list:
    "route.py on the learned policy, at the temperature and generation cap compound.py used and chose on dev."
    c = json.loads((RESULTS / 'compound_headline.json').read_text())
    return ['--policy', f'vllm:{learned_model()}', '--temperature', str(c['chosen']['temperature']), '--max-tokens', str(c['settings']['max_tokens']),
            '--cache', 'runs/route_headline/samples_cache.jsonl', '--out', 'benchmarks/results/route.json']

STEPS = [  # (results file, script, its arguments: a list, or a function of the earlier steps' results)
    ('headline.json', 'learning_headline.py', ['--out', 'runs/headline']),
    ('compound_base.json', 'compound.py', ['--model', 'embedded', '--out', 'runs/compound_base', '--results', 'compound_base.json']),
    ('compound_headline.json', 'compound.py', lambda: ['--model', learned_model(), '--out', 'runs/compound_headline', '--results', 'compound_headline.json']),
    ('route.json', 'route.py', route_args),
]

def plan(force:bool=False) -> list:
    "The steps to run now: (results file, script, how to get its arguments), those whose results file is missing unless force."
    return [s for s in STEPS if force or not (RESULTS / s[0]).exists()]

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--force', action='store_true', help='re-run every step, even where its results file exists')
    ap.add_argument('--dry-run', action='store_true', help='print the commands and stop')
    a = ap.parse_args(argv)
    todo = plan(a.force)
    for file, script, args in todo:
        try: args = args() if callable(args) else args
        except FileNotFoundError:   # only in a dry run: a real run has written the earlier steps' results by now
            print(f"[{file}] benchmarks/{script} (its arguments come from the results of the steps above)"); continue
        cmd = [sys.executable, str(ROOT / 'benchmarks' / script)] + args
        print(f"[{file}] python benchmarks/{script} {' '.join(args)}", flush=True)
        if a.dry_run: continue
        if subprocess.run(cmd, cwd=ROOT).returncode: raise SystemExit(f"{script} failed: fix it and run this again (finished steps are kept)")
    if not todo: print('every results file exists (--force re-runs them)')
    if not a.dry_run:
        sys.path.insert(0, str(ROOT / 'benchmarks')); import tables
        print(tables.render('search_and_learning'))

if __name__ == '__main__': main()
