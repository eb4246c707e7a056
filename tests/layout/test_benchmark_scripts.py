"""Every benchmark script still imports: a renamed or moved function must not break a script that only runs for a report."""
import importlib.util, json, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(p for p in (ROOT / 'benchmarks').glob('*.py'))

@pytest.mark.parametrize('path', SCRIPTS, ids=lambda p: p.name)
def test_benchmark_script_imports(path, monkeypatch):
    "Import the script as a module (its `__main__` block does not run): every name it imports must exist."
    monkeypatch.syspath_prepend(str(path.parent))
    spec = importlib.util.spec_from_file_location(f'bench_{path.stem}', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.__doc__, f"{path.name} has no top docstring saying how to run it"

def _headline_table(monkeypatch, tmp_path):
    "benchmarks/headline_table.py as a module, reading results files from tmp_path."
    monkeypatch.syspath_prepend(str(ROOT / 'benchmarks'))
    spec = importlib.util.spec_from_file_location('bench_headline_table', ROOT / 'benchmarks' / 'headline_table.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, 'RESULTS', tmp_path)
    return mod

def test_headline_table_runs_only_missing_steps(monkeypatch, tmp_path):
    "The one-command headline runs each step whose results file is missing, in order, and every step with --force."
    m = _headline_table(monkeypatch, tmp_path)
    assert [s[0] for s in m.plan()] == ['headline.json', 'compound_base.json', 'compound_headline.json', 'route.json']
    (tmp_path / 'headline.json').write_text('{}'); (tmp_path / 'route.json').write_text('{}')
    assert [s[0] for s in m.plan()] == ['compound_base.json', 'compound_headline.json']
    assert len(m.plan(force=True)) == 4

def test_headline_table_routes_with_the_dev_choices(monkeypatch, tmp_path):
    "route.py gets the headline's final model and the temperature and generation cap compound.py chose and used, read from their results."
    m = _headline_table(monkeypatch, tmp_path)
    (tmp_path / 'headline.json').write_text(json.dumps({'rounds': [{'model_dir': 'a'}, {'model_dir': 'runs/h/round3/train/model'}]}))
    (tmp_path / 'compound_headline.json').write_text(json.dumps({'chosen': {'temperature': 0.3}, 'settings': {'max_tokens': 96}}))
    args = m.route_args()
    assert args[args.index('--policy') + 1] == 'vllm:runs/h/round3/train/model'
    assert args[args.index('--temperature') + 1] == '0.3' and args[args.index('--max-tokens') + 1] == '96'
