"""Tasks and data: arith determinism and split disjointness at scale, the real benchmark files, and bad input."""
import os, re, subprocess, sys
import pytest
from reasoner_kit.core import KitError
from reasoner_kit.data import load_task, make_arith, arith_split, check_arith_solution, data_dirs

def test_arith_splits_never_overlap():
    for seed in (0, 1):
        tr = load_task('arith', 'train', limit=2000, seed=seed)
        te = load_task('arith', 'test', limit=500, seed=seed)
        assert not {p.question for p in tr} & {p.question for p in te}
        assert all(arith_split(p.metadata['equation']) == 'test' for p in te)
        dev = load_task('arith', 'dev', limit=500, seed=seed)
        assert all(arith_split(p.metadata['equation']) == 'dev' for p in dev)
        assert not {p.question for p in dev} & ({p.question for p in tr} | {p.question for p in te})

def _equation(p):
    "A problem's equation read from its reference solution: start, (operation, operand) per step, answer."
    steps = re.findall(r"(\d+) ([-+*/]) (\d+) = (\d+)", p.solution)
    assert len(steps) == p.metadata['level']
    return (steps[0][0], *[(op, b) for _, op, b, _ in steps], p.answer)

@pytest.mark.parametrize('level', [1, 2, 3, 4])
def test_arith_no_twin_across_splits(level):
    # a twin: another name, item or phrasing, the same numbers, operations and answer (issue 14, item 2)
    train = {_equation(p) for p in load_task('arith', 'train', limit=5000, level=level)}
    test = load_task('arith', 'test', limit=500, level=level)
    assert [p.question for p in test if _equation(p) in train] == []
    dev = load_task('arith', 'dev', limit=500, level=level)
    assert [p.question for p in dev if _equation(p) in train] == []
    assert {_equation(p) for p in dev}.isdisjoint({_equation(p) for p in test})
    assert len({p.question for p in dev}) == 500 and {p.metadata['level'] for p in dev} == {level}

def test_arith_levels_and_solutions():
    for level in (1, 2, 3, 4):
        ps = load_task('arith', 'test', limit=100, level=level)
        assert {p.metadata['level'] for p in ps} == {level}
        assert len({p.question for p in ps}) == 100
        assert all(check_arith_solution(p.solution) and p.solution.endswith(f'The answer is {p.answer}.') for p in ps)
        # level = number of operations = number of `a op b = c` steps
        assert all(p.solution.count(' = ') == level for p in ps)

def test_arith_deterministic_across_processes():
    "Another interpreter (another PYTHONHASHSEED) makes the same problems: a second call in this process could not tell."
    code = "from reasoner_kit.data import load_task; print(' '.join(p.id for p in load_task('arith', 'test', limit=50)))"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120, env={**os.environ, 'PYTHONHASHSEED': '123'})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [p.id for p in load_task('arith', 'test', limit=50)]

@pytest.mark.skipif(not data_dirs(), reason='no local benchmark data')
def test_gsm8k_and_math500_sizes():
    train, dev = load_task('gsm8k', 'train'), load_task('gsm8k', 'dev')
    assert (len(train), len(dev)) == (6973, 500)    # dev: the train file's last 500 rows, which train leaves out
    assert [p.id for p in train + dev] == [f'gsm8k-train-{i}' for i in range(7473)]
    assert len(load_task('gsm8k', 'test')) == 1319
    assert len(load_task('math500')) == 500

def test_bad_task_input(tmp_path, monkeypatch):
    with pytest.raises(KitError, match='unknown task'): load_task('nope')
    with pytest.raises(KitError, match="arith has no split 'val' — use train, dev or test"): load_task('arith', 'val')
    with pytest.raises(KitError, match='file not found'): load_task(str(tmp_path / 'missing.jsonl'))
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setattr('reasoner_kit.data.data_dirs', lambda: [])
    with pytest.raises(KitError, match='REASONER_KIT_DATA'): load_task('gsm8k')
