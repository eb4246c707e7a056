"""The tree view's static HTML export in Chromium: offline page, click a node for its details, step back a round."""
import importlib
import pytest
from helpers import page_problems, click_node, move_round, tree_signature, find_tree_view

pytestmark = pytest.mark.browser

def _to_html():
    for mod in ('reasoner_kit.search.treeview_export', 'reasoner_kit.search.treeview'):
        try: f = getattr(importlib.import_module(mod), 'to_html', None)
        except ImportError: f = None
        if f is not None: return f
    pytest.fail('no to_html in reasoner_kit.search.treeview(_export)')

def test_html_export(page, tmp_path, out_dir):
    from reasoner_kit.search.treeview import demo_tree
    tree, its = demo_tree(rounds=25, width=3, seed=0)
    path = _to_html()(tree, tmp_path/'tree.html', its, title='demo search tree')
    requests = []
    page.on('request', lambda r: r.url.startswith(('http:', 'https:')) and requests.append(r.url))
    page.goto(path.as_uri())
    view = find_tree_view(page) or page
    n_all = len(view.query_selector_all('.rk-node'))
    assert n_all == len(tree['parent']), (n_all, len(tree['parent']))
    shown = click_node(page, view)
    assert 'visits' in shown.lower()
    page.screenshot(path=str(out_dir/'treeview_export.png'))
    first = tree_signature(view)
    move_round(page, view)
    assert tree_signature(view) != first
    page.screenshot(path=str(out_dir/'treeview_export_round0.png'))
    assert not requests, f'the export fetched {requests}'
    assert not page_problems(page), page_problems(page)
