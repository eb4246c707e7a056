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

def test_html_export_stays_responsive_at_1000_nodes(page, tmp_path, out_dir):
    "A 1,000-node tree: every node drawn, the whole tree fits the box (root on screen), a click and a round change answer within seconds."
    import time
    from reasoner_kit.search.treeview import demo_tree
    tree, its = demo_tree(rounds=560, width=4, seed=0)
    n = len(tree['parent'])
    assert n >= 1000, n
    path = _to_html()(tree, tmp_path/'big.html', its, title='1,000-node search tree')
    t0 = time.time(); page.goto(path.as_uri())
    view = find_tree_view(page) or page
    page.wait_for_function('k => document.querySelectorAll(".rk-node").length >= k', arg=n, timeout=30000)
    drawn_s = time.time() - t0
    svg = view.query_selector('svg').bounding_box()
    root = view.query_selector('.rk-node[data-id="0"]').bounding_box()
    assert svg['x'] <= root['x'] and root['x'] + root['width'] <= svg['x'] + svg['width'] + 1, (svg, root)   # fitted, not 6,000 px wide
    det, node = view.query_selector('.rk-details'), view.query_selector(f'.rk-node[data-id="{n - 1}"]')   # the newest node, deepest in the drawing
    before = det.inner_text()
    t0 = time.time(); node.click()
    page.wait_for_function('([d, b]) => d.innerText !== b && /visits/i.test(d.innerText)', arg=[det, before], timeout=30000)
    click_s = time.time() - t0
    page.screenshot(path=str(out_dir/'treeview_export_1000.png'))   # the whole tree, fitted, with the clicked node's details
    box = lambda: [float(v) for v in view.query_selector('svg').get_attribute('viewBox').replace(',', ' ').split()]
    whole = box()
    page.mouse.move(root['x'] + root['width'] / 2, root['y'] + root['height'] / 2)
    for _ in range(6): page.mouse.wheel(0, -120)                     # zoom in on the root
    page.wait_for_timeout(200)
    zoomed = box()
    assert zoomed[2] < 0.4 * whole[2] and zoomed[0] <= 0 + whole[0] + whole[2], (whole, zoomed)
    page.screenshot(path=str(out_dir/'treeview_export_1000_zoom.png'))
    page.mouse.down(); page.mouse.move(root['x'] + 200, root['y'] + 50, steps=5); page.mouse.up()   # drag: pan
    panned = box()
    assert panned[2] == zoomed[2] and panned[0] < zoomed[0], (zoomed, panned)
    view.query_selector('.rk-fit').click()
    assert all(abs(a - b) <= 2 for a, b in zip(box(), whole)), (box(), whole)   # fit frames the whole tree again
    t0 = time.time(); move_round(page, view); round_s = time.time() - t0
    print(f"1,000-node tree ({n} nodes): drawn {drawn_s:.2f} s, click -> details {click_s:.2f} s, round change {round_s:.2f} s")
    assert drawn_s < 15 and click_s < 5 and round_s < 10, (drawn_s, click_s, round_s)   # responsive even on a loaded 2-core machine
    assert not page_problems(page), page_problems(page)
