"""Run every phase tutorial top to bottom as a learner does (the `#| slow` cells on the embedded model included), time each,
and keep the executed copies for the docs site.

What it does per tutorial (nbs/tutorials/*.ipynb, in phase order):
  - executes every code cell that `nbdev_test --flags slow` would run (cells marked `#| eval: false` are skipped), in the
    notebook's folder, with nbdev's own executor (execnb); stops at the first error and exits 1 naming it,
  - writes the executed notebook to benchmarks/results/tutorials/NAME.ipynb (committed: a fresh clone's docs show a real run)
    with the hash of its code cells, so `make docs` shows the
    outputs of this real run (and falls back to the clean notebook when its code cells changed since),
  - records the wall time.
Writes benchmarks/results/tutorials.json (command, commit, date, machine, seconds and each tutorial's wall time); the
README's tutorial table is rendered from it by benchmarks/tables.py.

Run:  .venv/bin/python benchmarks/tutorials.py              (all of them: `make tutorials`)
      .venv/bin/python benchmarks/tutorials.py --missing    (only those without an executed copy of their current source)
      .venv/bin/python benchmarks/tutorials.py 2_ 3_        (the tutorials whose names start so)
The results file is written by a run that ran all of them (`--missing` from a fresh clone does).
"""
import hashlib, json, os, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS, EXEC = ROOT / 'nbs' / 'tutorials', ROOT / 'benchmarks' / 'results' / 'tutorials'
RESULTS = ROOT / 'benchmarks' / 'results' / 'tutorials.json'

def source_hash(path:Path) -> str:
    "A hash of a notebook's code cells: what decides whether an executed copy's outputs are still this notebook's (prose edits keep them)."
    nb = json.loads(path.read_text())
    return hashlib.sha1(json.dumps([c['source'] for c in nb['cells'] if c['cell_type'] == 'code']).encode()).hexdigest()[:16]

def run(path:Path) -> float:
    "Execute one tutorial as `nbdev_test --flags slow` would, save the executed copy, return its wall time in seconds."
    from execnb.shell import CaptureShell
    from fastcore.foundation import working_directory
    from nbdev.frontmatter import FrontmatterProc
    from nbdev.process import NBProcessor
    nb = NBProcessor(path, procs=FrontmatterProc, process=True).nb    # as nbdev_test reads it: cells carry their directives
    skip = lambda c: c.cell_type != 'code' or (getattr(c, 'directives_', {}) or {}).get('eval:', [''])[0].lower() == 'false'
    t0, sh = time.time(), CaptureShell(path)
    try:
        with working_directory(path.parent): sh.run_all(nb, exc_stop=True, preproc=skip)
    except BaseException as e: sys.exit(f"{path.name} failed: {type(e).__name__}: {e}\n{sh.prettytb(fname=path)}")
    secs = time.time() - t0
    ran = {c.get('id'): c for c in nb.cells if c.cell_type == 'code'}
    out = json.loads(path.read_text())                                # the notebook as written, with this run's outputs
    for i, c in enumerate(c for c in out['cells'] if c['cell_type'] == 'code'):
        r = ran.get(c.get('id'))
        if r is not None: c['outputs'], c['execution_count'] = [dict(o) for o in r.get('outputs', [])], i + 1
    out['metadata']['reasoner_kit'] = dict(source_hash=source_hash(path), seconds=round(secs, 1))
    EXEC.mkdir(parents=True, exist_ok=True); (EXEC / path.name).write_text(json.dumps(out, indent=1, default=str) + '\n')
    return secs

def current(path:Path) -> bool:
    "Whether the executed copy of a tutorial exists and was run from its current source."
    ran = EXEC / path.name
    return ran.exists() and json.loads(ran.read_text())['metadata'].get('reasoner_kit', {}).get('source_hash') == source_hash(path)

def main(args:list) -> None:
    missing = '--missing' in args; prefixes = [a for a in args if a != '--missing']
    os.environ.setdefault('MPLBACKEND', 'Agg'); os.environ.setdefault('HF_HUB_OFFLINE', '1')
    sys.path.insert(0, str(ROOT))
    from reasoner_kit.core import provenance
    names = sorted(p for p in TUTORIALS.glob('*.ipynb') if (not prefixes or p.name.startswith(tuple(prefixes))) and not (missing and current(p)))
    times, t0 = {}, time.time()
    for p in names:
        print(f"{p.name}: running ...", flush=True)
        times[p.stem] = round(run(p), 1)
        print(f"{p.name}: {times[p.stem] / 60:.1f} min", flush=True)
    if prefixes or len(times) < len(list(TUTORIALS.glob('*.ipynb'))): return   # a partial run leaves the timings of a whole one
    d = dict(provenance(time.time() - t0, 'benchmarks/tutorials.py'), tutorials=times,
             note='every cell a learner runs top to bottom, the #| slow cells on the embedded model included; panels shown, not pressed')
    RESULTS.write_text(json.dumps(d, indent=1) + '\n'); print(f"wrote {RESULTS.relative_to(ROOT)}")

if __name__ == '__main__': main(sys.argv[1:])
