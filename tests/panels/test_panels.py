"""Tests for the phase panels (reasoner_kit.panels, from nbs/85_panels.ipynb): the DOM contract the browser tests rely
on, the threaded Run, Stop and resume, errors in the status line, and that each panel calls the library function the CLI
calls. Model runs use the tiny random-weight policy; the notebook runs every panel end to end on it too."""
import tempfile

import pytest

from reasoner_kit import panels as P
from reasoner_kit.core import KitError, read_jsonl

PANELS = [P.InitPanel, P.SearchPanel, P.RewardPanel, P.DataPanel, P.SynthPanel, P.LearnPanel, P.ServePanel]


def descendants(w):
    yield w
    for c in getattr(w, 'children', ()): yield from descendants(c)


def by_class(panel, cls):
    return [w for w in descendants(panel.widget) if cls in getattr(w, '_dom_classes', ())]


@pytest.mark.parametrize('cls', PANELS)
def test_dom_contract(cls):
    p = cls(out=tempfile.mkdtemp())
    assert isinstance(p, P.Panel) and 'rk-panel' in p.widget._dom_classes and callable(p._ipython_display_)
    for c, kind in (('rk-run', 'Button'), ('rk-stop', 'Button'), ('rk-progress', 'IntProgress'), ('rk-plot', 'Output'), ('rk-status', 'HTML')):
        found = by_class(p, c)
        assert len(found) == 1 and type(found[0]).__name__ == kind, c
    assert by_class(p, 'rk-run')[0].description == 'Run' and by_class(p, 'rk-stop')[0].disabled
    assert set(p.values) == set(cls.controls)


def test_controls_from_registries():
    from reasoner_kit.reward.scorers import SCORERS
    from reasoner_kit.search.base import load_strategies
    p = P.SearchPanel(out=tempfile.mkdtemp())
    assert [v for _, v in p.w['strategy'].options] == load_strategies(oracle=False)
    assert [v for _, v in p.w['scorer'].options] == SCORERS.names()
    assert {'embedded', 'tiny', 'dir', 'openai'} <= {v for _, v in p.w['policy'].options} and p.w['policy'].value == 'embedded'
    with pytest.raises(KitError, match='has no control'): P.InitPanel(strategy='beam')
    with pytest.raises(KitError, match='not an option'): P.SearchPanel(strategy='nope')


def test_search_panel_calls_run_search(monkeypatch):
    "The panel is a thin layer: it calls search.sweep.run_search, budget by budget, on growing prefixes of the problems."
    import reasoner_kit.search.sweep as S
    calls = []
    def fake(strategy, policy, problems, budget, scorer=None, out=None, chunk=8, **cfg):
        calls.append((strategy, budget, len(problems), cfg['beam_width'], scorer is None))
        return dict(strategy=strategy, budget=budget, problems=len(problems), accuracy=10.0 * budget, tokens=5.0 * budget, correct=[])
    monkeypatch.setattr(S, 'run_search', fake)
    monkeypatch.setattr(P, 'get_policy', lambda spec: P.load_policy('tiny'))
    p = P.SearchPanel(policy='tiny', strategy='self_consistency', budget=4, problems=6, out=tempfile.mkdtemp())
    rows = p.run()
    assert calls == [('self_consistency', b, k, min(4, b), True) for b in (1, 2, 4) for k in (4, 6)]
    assert [(r['budget'], r['accuracy']) for r in rows] == [(1, 10.0), (2, 20.0), (4, 40.0)] and 'correct' not in rows[0]
    assert p.status.value.startswith('done: budget 1: 10.0% at 5.0 tokens') and (p.bar.value, p.bar.max) == (18, 18)
    assert p.plot.outputs[0]['data']['image/png']


def test_run_async_and_error_status():
    p = P.InitPanel(policy='tiny', problems=4, samples=1, max_tokens=16, out=tempfile.mkdtemp())
    t = p.run_async(); t.join(300)
    assert not t.is_alive() and p.status.value.startswith('done: greedy pass@1') and p.plot.outputs
    assert not p.run_btn.disabled and p.stop_btn.disabled
    bad = P.InitPanel(policy='dir', where='/no/such/model', out=tempfile.mkdtemp())
    with pytest.raises(KitError): bad.run()
    assert bad.status.value.startswith('error: KitError')
    bad.run_async().join(60)   # the button's path: no traceback escapes, the status says what went wrong
    assert bad.status.value.startswith('error: ')


def test_stop_leaves_resumable_state():
    p = P.InitPanel(policy='tiny', problems=8, samples=1, max_tokens=16, out=tempfile.mkdtemp())
    p.progress = lambda done, total: p.stop()   # Stop pressed once the first chunk is in
    assert [r['problems'] for r in p.run()] == [4] and p.status.value.startswith('stopped: Run again')
    assert len(read_jsonl(p.folder(p.values) / 'samples.jsonl')) == 4
    del p.progress
    assert [r['problems'] for r in p.run()] == [4, 8] and len(read_jsonl(p.folder(p.values) / 'samples.jsonl')) == 8
    other = P.InitPanel(policy='tiny', problems=8, samples=2, out=p.out)
    assert other.folder(other.values) != p.folder(p.values)   # other settings: another folder, never mixed
