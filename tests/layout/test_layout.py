"""The package layout: four service wings over a ground floor, no upward import, no import cycle, modules readable in one sitting.

Run: `pytest -q tests/layout`. Reads the exported sources with `ast`; imports nothing from the package.
"""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / 'reasoner_kit'
# Each module's floor: a module may import only from its own floor or below.
FLOORS = [
    ('ground', ['core', 'data', 'grading', 'sandbox']),
    ('policy', ['policy']),
    ('evaluate', ['evaluate']),   # samples from a Policy and grades with the gold answer: just above the policy wing
    ('reward', ['reward']),
    ('search', ['search']),
    ('learn', ['learn']),
    ('synth', ['synth']),
    ('serve', ['serve']),
    ('blueprint', ['blueprint']),
    ('main', ['main']),
    ('panels', ['panels']),   # the phase panels: widgets over the library functions the CLI calls
    ('cli', ['cli']),
]
MAX_LINES = 450

def floor_of(mod:str) -> int:
    top = mod.split('.')[0]
    for i, (_, tops) in enumerate(FLOORS):
        if top in tops: return i
    raise AssertionError(f"module reasoner_kit.{mod} has no floor in tests/layout/test_layout.py: add it to FLOORS")

def modules() -> dict:
    "module name (without the package) -> path, for every exported source file."
    out = {}
    for f in PKG.rglob('*.py'):
        if f.name == '_modidx.py': continue
        parts = f.relative_to(PKG).with_suffix('').parts
        if parts[-1] == '__init__': parts = parts[:-1]
        if parts: out['.'.join(parts)] = f
    return out

def imports(mod:str, path:Path) -> set:
    "Package modules that `mod` imports, anywhere in its file (function-level imports count too)."
    pkg = mod.split('.')[:-1] if path.name != '__init__.py' else mod.split('.')
    out = set()
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.ImportFrom):
            if n.level:
                base = pkg[:len(pkg) - n.level + 1] if n.level > 1 else pkg
                target = base + (n.module.split('.') if n.module else [])
            elif n.module and n.module.split('.')[0] == 'reasoner_kit': target = n.module.split('.')[1:]
            else: continue
            names = [a.name for a in n.names]
            for nm in names:   # `from . import tree` names a module
                cand = '.'.join(target + [nm])
                out.add(cand if cand in MODS else '.'.join(target))
        elif isinstance(n, ast.Import):
            for a in n.names:
                if a.name.split('.')[0] == 'reasoner_kit': out.add('.'.join(a.name.split('.')[1:]))
    return {m for m in out if m and not m.startswith('_ctree')}

MODS = modules()

def test_every_module_has_a_floor():
    for m in MODS: floor_of(m)

def test_no_upward_import():
    bad = [f"{m} (floor {FLOORS[floor_of(m)][0]}) imports {t} (floor {FLOORS[floor_of(t)][0]})"
           for m, p in MODS.items() for t in imports(m, p) if t in MODS and floor_of(t) > floor_of(m)]
    assert not bad, '\n'.join(bad)

def test_no_import_cycle():
    graph = {m: {t for t in imports(m, p) if t in MODS and t != m} for m, p in MODS.items()}
    state, cycles = {}, []
    def visit(m, stack):
        state[m] = 1
        for t in graph[m]:
            if state.get(t) == 1: cycles.append(' -> '.join(stack[stack.index(t):] + [t]))
            elif t not in state: visit(t, stack + [t])
        state[m] = 2
    for m in graph:
        if m not in state: visit(m, [m])
    assert not cycles, '\n'.join(cycles)

def test_modules_readable_in_one_sitting():
    long = {m: n for m, p in MODS.items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"

def test_wings_are_packages():
    for wing in ('policy', 'reward', 'search', 'learn', 'synth'):
        assert (PKG / wing / '__init__.py').exists(), wing

def test_checker_sees_imports():
    "The checker itself: it finds the imports it must judge (else every test above would pass vacuously)."
    assert 'core' in imports('data', MODS['data'])
    assert 'policy.base' in imports('policy.backends', MODS['policy.backends'])
    assert 'search.tree' in imports('search.treeview', MODS['search.treeview'])
