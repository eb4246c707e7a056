"""The README's measured tables are rendered from results files by benchmarks/tables.py: none may go stale."""
import importlib.util, json, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location('tables', ROOT / 'benchmarks' / 'tables.py')
tables = importlib.util.module_from_spec(spec); spec.loader.exec_module(tables)

def test_every_readme_table_matches_its_results_file():
    text = '\n'.join(''.join(c['source']) for c in json.loads((ROOT / 'nbs' / 'index.ipynb').read_text())['cells'] if c['cell_type'] == 'markdown')
    new, changed = tables.render_blocks(text)
    assert not changed, f"README tables {changed} differ from their results files: run `make readme`"

def test_readme_has_the_measured_tables():
    text = (ROOT / 'README.md').read_text()
    for name in tables.TABLES: assert f'<!-- table:{name} -->' in text, f"the README has no '{name}' table block"

def test_a_changed_results_file_makes_the_table_stale(tmp_path, monkeypatch):
    "Edit a number in a copy of a results file: the rendered block must differ (the check is not vacuous)."
    d = json.loads((ROOT / 'benchmarks' / 'results' / 'bench_engine.json').read_text())
    d['engines']['vllm']['workloads']['shared']['tokens_per_s'] += 100
    (tmp_path / 'bench_engine.json').write_text(json.dumps(d))
    block = '<!-- table:engine -->\n' + tables.t_engine() + '\n<!-- /table -->'
    monkeypatch.setattr(tables, 'RESULTS', tmp_path)
    assert tables.render_blocks(block)[1] == ['engine']

def test_every_rendered_table_names_its_source():
    for name in tables.TABLES:
        out = tables.render(name)
        if out.startswith('*Not measured yet'): continue       # its results file does not exist: no numbers at all
        assert 'From `benchmarks/results/' in out and 'commit' in out, f"table {name} does not say where its numbers come from"

def test_a_missing_results_file_renders_no_numbers(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, 'RESULTS', tmp_path)
    out = tables.render('engine')
    assert out.startswith('*Not measured yet') and 'bench_engine.json' in out and not any(c.isdigit() for c in out.replace('bench_engine', ''))

def test_grpo_losses_has_a_row_per_loss_type_run(tmp_path, monkeypatch):
    "One row per loss type whose results file exists, each with its own criterion; the loss types not run are named."
    d = json.loads((ROOT / 'benchmarks' / 'results' / 'grpo_curve.json').read_text())
    (tmp_path / 'grpo_curve.json').write_text(json.dumps(d))
    d['answer_reward'] = [[i, 0.2 if i < 50 else 0.9] for i in range(100)]    # a curve that rises by 0.7
    d.update(machine='x86_64, AMD EPYC (AVX2), 2 CPU cores', sampling_dtype='float32')   # another machine: the row says so
    d['settings'] = {**d['settings'], 'policy': 'runs/other/model', 'loss_type': 'dr_grpo'}  # the caption names each start
    (tmp_path / 'grpo_curve_dr_grpo.json').write_text(json.dumps(d))
    d['answer_reward'] = [[i, 0.5] for i in range(100)]; d['is_correction'] = False           # the same loss type again, uncorrected, flat
    d.update(skip_zero_advantage=True, step_s=[[i, 10.0 + i % 3] for i in range(100)]); d['settings']['no_skip_zero_advantage'] = False   # agreeing groups left out: the same gradient
    (tmp_path / 'grpo_curve_dr_grpo_nocorr.json').write_text(json.dumps(d))
    monkeypatch.setattr(tables, 'RESULTS', tmp_path)
    out = tables.t_grpo_losses()
    rows = [l for l in out.splitlines() if l.startswith('| `')]
    assert [r.split('|')[1].strip() for r in rows] == ['`dapo`', '`dr_grpo`', '`dr_grpo`']   # one row per run, its loss type from its settings
    assert '| on | run | 0.200 → 0.900 (+0.700) | met' in rows[1] and '| on |' in rows[0] and '| missed |' in rows[0]
    assert '| off | left out | 0.500 → 0.500 (+0.000) | missed' in rows[2] and '| 11.0 | AMD EPYC (AVX2)' in rows[2]   # median step seconds
    assert '| on | run |' in rows[0] and '| — | AMD EPYC,' in rows[0]            # runs before the field ran every row; no step times recorded
    assert 'Not run: `grpo`' in out
    assert 'from `runs/headline/round2/train/model` (`dapo`) and `runs/other/model` (`dr_grpo`),' in out
    assert rows[1].endswith('| AMD EPYC (AVX2), float32 |') and rows[0].endswith('| AMD EPYC, not recorded |')
    d['settings']['lr'] = 1e-4; (tmp_path / 'grpo_curve_dr_grpo.json').write_text(json.dumps(d))
    with pytest.raises(SystemExit, match='other GRPO settings'): tables.t_grpo_losses()   # never side by side with other settings
