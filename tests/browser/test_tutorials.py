"""Each phase tutorial in JupyterLab (headless Chromium): run it, press its panel's Run, use its tree view, screenshot."""
import pytest
from pathlib import Path
from helpers import page_problems, open_notebook, shutdown_kernel, run_all, run_panel, click_node, move_round, tree_signature, find_tree_view

pytestmark = pytest.mark.browser
NBS = Path(__file__).resolve().parents[2]/'nbs'
TUTORIALS = sorted(p.name for p in (NBS/'tutorials').glob('*.ipynb'))
PANELLED = ('1_', '2_', '3_', '4_', '4b_', '5_', '6_')   # the phases of issue 16, each with its panel; later tutorials may have none

@pytest.mark.parametrize('name', TUTORIALS)
def test_tutorial(name, lab, workdir, page, out_dir):
    rel, stem = f'nbs/tutorials/{name}', name.removesuffix('.ipynb')
    nb = open_notebook(page, lab, rel)
    try: _check(name, stem, nb, page, workdir, out_dir)
    finally: shutdown_kernel(page)

def _check(name, stem, nb, page, workdir, out_dir):
    rel = f'nbs/tutorials/{name}'
    run_all(page, rel, workdir)
    page.wait_for_timeout(500)  # widgets render once their models arrive
    assert not page_problems(page), f'{name}: {page_problems(page)}'
    # 1. the phase's panel: Run, wait for the status line and the plot
    panels, status = nb.query_selector_all('.rk-panel'), 'no panel'
    assert panels or not stem.startswith(PANELLED), f'{name}: no control panel (.rk-panel) in the notebook'
    if panels:
        panel = panels[0]
        panel.scroll_into_view_if_needed()
        status = run_panel(page, panel)
        panel.screenshot(path=str(out_dir/f'{stem}_panel.png'))
    # 2. the tree view, where the tutorial has one: click a node, move the round slider
    view = find_tree_view(nb)
    if stem.startswith('2_'): assert view is not None, 'the search tutorial shows no tree view (.rk-treeview)'
    if view is not None and view.query_selector('.rk-node'):
        view.scroll_into_view_if_needed()
        shown = click_node(page, view)
        assert 'visits' in shown.lower(), shown
        view.screenshot(path=str(out_dir/f'{stem}_tree.png'))
        if view.query_selector('.rk-round'):
            last = tree_signature(view)
            move_round(page, view)
            assert tree_signature(view) != last
            view.screenshot(path=str(out_dir/f'{stem}_tree_round.png'))
    page.screenshot(path=str(out_dir/f'{stem}.png'), full_page=False)
    assert not page_problems(page), f'{name} after Run ({status}): {page_problems(page)}'
