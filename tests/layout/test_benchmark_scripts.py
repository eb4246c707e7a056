"""Every benchmark script still imports: a renamed or moved function must not break a script that only runs for a report."""
import importlib.util, sys
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
