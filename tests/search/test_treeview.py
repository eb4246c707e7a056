"""Tests for the search-tree view (reasoner_kit.search.treeview, from nbs/34_treeview.ipynb).

Trees are grown by the real tree core (`run_random_search`, both backends), labelled with made-up step texts. The
exported page's script and the widget's click bridge are run under node.js against a minimal fake DOM (skipped when
node is missing), so the in-browser behaviour is checked too: the page must render the same details as Python.
"""
import html, json, re, shutil, subprocess

import numpy as np
import pytest

from reasoner_kit.search import tree as T
from reasoner_kit.core import KitError
from reasoner_kit.search.base import SearchResult
from reasoner_kit.search.tree import make_trees, run_random_search
from reasoner_kit.search import treeview as TV
from reasoner_kit.search.treeview import (CHOSEN, TreeView, as_tree, demo_tree, frames_of, most_visited_path, node_colors,
                                   node_details, render_svg, to_html, to_png, tree_at, tree_from_trees, tree_layout)

BACKENDS = ['py'] + (['c'] if T._ctree is not None else [])
NODE = shutil.which('node')


# ---- helpers ----------------------------------------------------------------------------------------------------
def grown(backend='py', steps=30, width=3, seed=3):
    "Tree 0 of a batch grown by the core's random search (it prunes and ends some nodes), with 'step d.k' labels."
    trees = make_trees(2, 90, backend)
    run_random_search(trees, steps=steps, width=width, seed=seed)
    e = trees.export(0)
    texts = ['Q: 2 + 3 * 4 = ?'] + [''] * (len(e['parent']) - 1)
    for p, kids in enumerate(e['children']):
        for k, c in enumerate(kids): texts[c] = f"step {e['depth'][c]}.{k + 1} (child of {p})"
    tree = tree_from_trees(trees, 0, texts)
    tree['chosen'] = most_visited_path(tree)
    return trees, tree


def attrs(tag:str) -> dict: return dict(re.findall(r'([\w-]+)="([^"]*)"', tag))


def shapes(svg:str) -> list:
    "Every <circle> and <line> of an SVG string as an attribute dict."
    return [attrs(m) for m in re.findall(r'<(?:circle|line) [^>]*>', svg)]


def nodes_of(svg:str) -> dict:
    "node id -> attributes of its circle."
    return {int(a['data-node']): a for a in shapes(svg) if 'data-node' in a}


def run_node(js:str, payload) -> object:
    "Run `js` under node with PAYLOAD bound to `payload`; it must print one JSON value."
    src = f"const PAYLOAD = {json.dumps(payload)};\n{js}"
    out = subprocess.run([NODE, '-e', src], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


# ---- the format -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('backend', BACKENDS)
def test_tree_from_trees(backend):
    trees, tree = grown(backend)
    e = trees.export(0)
    assert set(e) | {'text', 'chosen'} <= set(tree)
    json.dumps(tree)  # plain lists: fits in a JSON result
    n = len(e['parent'])
    for k in ('parent', 'visit_count', 'value_sum', 'prior', 'reward', 'terminal', 'pruned'):
        np.testing.assert_array_equal(np.asarray(tree[k]), e[k], err_msg=k)
    t = as_tree(tree)
    assert t['n'] == n and t['text'][0].startswith('Q:')
    np.testing.assert_array_equal(t['depth'], e['depth'])
    assert [sorted(c) for c in t['children']] == [sorted(c) for c in e['children']]
    visited = e['visit_count'] > 0
    np.testing.assert_allclose(t['value'][visited], e['q'][visited])
    assert np.isnan(t['value'][~visited]).all()
    assert e['pruned'].any() and e['terminal'].any()  # the fixture exercises both marks


def test_most_visited_path():
    _, tree = grown()
    t, path = as_tree(tree), tree['chosen']
    assert path[0] == 0
    for a, b in zip(path, path[1:]):
        assert t['parent'][b] == a and t['visits'][b] == max(t['visits'][c] for c in t['children'][a])
    assert all(t['visits'][c] == 0 for c in t['children'][path[-1]])


def test_optional_keys_and_bad_input():
    # only `parent` is needed; values fall back to q, then score
    t = as_tree({'parent': [-1, 0, 0]})
    assert t['text'] == ['', '', ''] and t['chosen'] == [] and np.isnan(t['value']).all()
    assert as_tree({'parent': [-1, 0], 'q': [0.5, -0.25]})['value'].tolist() == [0.5, -0.25]
    assert as_tree({'parent': [-1, 0], 'score': [0.2, 0.9]})['value'].tolist() == [0.2, 0.9]
    v = as_tree({'parent': [-1, 0, 0], 'visit_count': [2, 1, 0], 'value_sum': [1.0, 0.3, 0], 'score': [0, 0, 0.7]})['value']
    assert v.tolist() == [0.5, 0.3, 0.7]  # unvisited node 2 shows its score
    assert 'score' in node_details({'parent': [-1, 0], 'score': [0.2, 0.9]}, 1)
    for bad, msg in [(None, 'not a search tree'), ({'text': ['a']}, 'not a search tree'), ({'parent': []}, 'root'),
                     ({'parent': [0, 0]}, 'root'), ({'parent': [-1, 1]}, 'earlier node'),
                     ({'parent': [-1, 0], 'visit_count': [1]}, "tree['visit_count']"),
                     ({'parent': [-1, 0], 'text': ['a', 'b', 'c']}, "tree['text']"),
                     ({'parent': [-1, 0], 'chosen': [0, 5]}, "tree['chosen']"),
                     (SearchResult('x', None), 'not a search tree')]:
        with pytest.raises(KitError, match=re.escape(msg)): as_tree(bad)
    with pytest.raises(KitError, match='no .num_nodes.'): frames_of([{'tokens': 3}], 4)
    with pytest.raises(KitError, match='outside 1..4'): frames_of([0], 4)


def test_frames():
    tree = {'parent': [-1, 0, 0, 1], 'visit_count': [3, 2, 1, 0], 'value_sum': [0.9, 0.8, 0.1, 0]}
    assert [f['num_nodes'] for f in frames_of(None, 4)] == [4]  # no snapshots: one frame
    assert [f['num_nodes'] for f in frames_of([1, 3], 4)] == [1, 3, 4]  # bare counts; the whole tree is added
    assert [f['num_nodes'] for f in frames_of([1, 4], 4)] == [1, 4]
    snap = {'num_nodes': 3, 'visit_count': [1, 0, 0], 'value_sum': [-0.5, 0, 0], 'tokens': 40}
    t = tree_at(tree, frames_of([snap], 4)[0])
    assert t['visits'].tolist() == [1, 0, 0, 0] and t['value'][0] == -0.5 and np.isnan(t['value'][1])
    assert as_tree(tree)['visits'][0] == 3  # the final tree is untouched
    assert TV._label(frames_of([snap], 4), 0) == 'iteration 1/2 · 3 nodes · tokens=40'


# ---- layout and drawing -----------------------------------------------------------------------------------------
@pytest.mark.parametrize('backend', BACKENDS)
def test_layout(backend):
    _, tree = grown(backend)
    t, pos = as_tree(tree), tree_layout(tree)
    n = t['n']
    svg = render_svg(tree)
    assert [svg.count(f'data-node="{i}"') for i in range(n)] == [1] * n  # every node drawn once
    assert len(re.findall(r'data-edge="\d+"', svg)) == n - 1
    circles = nodes_of(svg)
    leaves = [i for i in range(n) if not t['children'][i]]
    assert sorted(pos[leaves, 0]) == list(range(len(leaves)))  # leaves take distinct consecutive columns
    for i in range(1, n):
        p = t['parent'][i]
        assert pos[i, 1] == pos[p, 1] + 1 and float(circles[i]['cy']) > float(circles[p]['cy'])  # children below parents
    for i in range(n):
        if t['children'][i]:
            xs = pos[t['children'][i], 0]
            assert xs.min() <= pos[i, 0] <= xs.max() and (np.diff(xs) > 0).all()  # centred over ordered children
    for d in range(int(t['depth'].max()) + 1):  # same depth: no two nodes share a spot, and edges do not cross
        row = sorted(np.flatnonzero(t['depth'] == d), key=lambda i: pos[i, 0])
        assert len({pos[i, 0] for i in row}) == len(row)
        if d: assert all(pos[t['parent'][a], 0] <= pos[t['parent'][b], 0] for a, b in zip(row, row[1:]))


def test_node_colors_scale():
    "The colour scale itself (the drawing test below only checks that the SVG uses it): ends, middle, clamping, unknown."
    hexa = lambda rgb: '#%02x%02x%02x' % rgb
    low, mid, high = hexa(TV.LOW), hexa(TV.MID), hexa(TV.HIGH)
    assert len({low, mid, high, TV.GREY}) == 4
    assert node_colors(np.array([0.0, 0.5, 1.0, np.nan, -5.0, 5.0]), (0.0, 1.0)) == [low, mid, high, TV.GREY, low, high]
    q = node_colors(np.array([0.25]), (0.0, 1.0))[0]                    # halfway between the low end and the middle
    assert q == hexa(tuple(round((a + b) / 2) for a, b in zip(TV.LOW, TV.MID)))
    assert node_colors(np.array([2.0, 4.0]), TV.value_scale({'parent': [-1, 0], 'score': [2.0, 4.0]})) == [low, high]


def test_chosen_pruned_terminal_marks():
    _, tree = grown()
    t, svg = as_tree(tree), render_svg(tree)
    circles = nodes_of(svg)
    chosen = {i for i, a in circles.items() if 'chosen' in a['class'].split()}
    assert chosen == set(tree['chosen']) and all(circles[i]['stroke'] == CHOSEN for i in chosen)
    edges = [a for a in shapes(svg) if 'data-edge' in a and 'chosen' in a['class'].split()]
    assert sorted(int(a['data-edge']) for a in edges) == tree['chosen'][1:] and all(a['stroke'] == CHOSEN for a in edges)
    assert {i for i, a in circles.items() if 'pruned' in a['class'].split()} == set(np.flatnonzero(t['pruned']))
    assert {i for i, a in circles.items() if 'terminal' in a['class'].split()} == set(np.flatnonzero(t['terminal']))
    assert all(circles[i]['fill'] == c for i, c in zip(range(t['n']), node_colors(t['value'], TV.value_scale(t))))
    plain = render_svg(dict(tree, chosen=None))
    assert 'chosen' not in plain and CHOSEN not in plain  # no chosen path: no highlight


# ---- the widget -------------------------------------------------------------------------------------------------
def test_select_shows_details():
    _, tree = grown()
    t = as_tree(tree)
    view = TreeView(tree)
    assert len(view.frames) == 1 and 'click a node' in view.details.value
    k = tree['chosen'][2]
    assert view.select(k) is view and view.selected == k and view.pick.value == k
    d = view.details.value
    for s in (html.escape(t['text'][k]), f"{t['value'][k]:+.3f}", f"<td>{t['visits'][k]}</td>", f"{t['prior'][k]:+.3f}",
              f"{t['reward'][k]:+.3f}", 'on the chosen path', ' → '.join(map(str, tree['chosen'][:3]))):
        assert s in d, s
    ring = attrs(re.search(r'<circle class="sel-ring"[^>]*>', view.canvas.value).group(0))
    node = nodes_of(view.canvas.value)[k]
    assert (ring['cx'], ring['cy'], ring['visibility']) == (node['cx'], node['cy'], 'visible')
    view.select(None)
    assert view.selected is None and view.pick.value == -1 and 'visibility="hidden"' in view.canvas.value
    with pytest.raises(KitError, match='does not exist'): view.select(t['n'])


def test_step_through_iterations():
    tree, its = demo_tree(rounds=12, width=3, seed=2)
    view = TreeView(tree, its)
    counts = [s['num_nodes'] for s in its]
    assert len(view.frames) == 12 and view.frame == 11 and view.slider.max == 11
    for i, c in enumerate(counts):  # what is drawn follows the frame
        view.step(i)
        assert len(nodes_of(view.canvas.value)) == c and view.num_nodes == c
        assert f'iteration {i + 1}/12 · {c} nodes' in view.label.value
        assert [int(x) for x in nodes_of(view.canvas.value)] == list(range(c))
    # the statistics are those of the snapshot, not the final tree
    view.step(0).select(0)
    assert f"<td>{its[0]['visit_count'][0]}</td>" in view.details.value and its[0]['visit_count'][0] != tree['visit_count'][0]
    # a node that did not exist yet is unselected when stepping back
    view.step(-1).select(counts[-1] - 1)
    view.step(0)
    assert view.selected is None and view.pick.value == -1
    # the controls drive the same state
    view.slider.value = 5; assert view.frame == 5
    view.next.click(); assert view.frame == 6 and view.slider.value == 6
    view.prev.click(); view.prev.click(); assert view.frame == 4
    view.step(0); view.prev.click(); assert view.frame == 0
    with pytest.raises(KitError, match='out of range'): view.step(12)


def test_pick_box_is_the_click_path():
    tree, its = demo_tree(rounds=8, seed=1)
    view = TreeView(tree, its, selected=3)
    assert view.selected == 3
    view.pick.value = 5  # what a click on node 5 does in the browser
    assert view.selected == 5 and html.escape(tree['text'][5]) in view.details.value
    view.step(0)
    view.pick.value = its[-1]['num_nodes'] - 1  # typed a node that is not born yet: a message, not a traceback
    assert view.selected is None and 'does not exist' in view.details.value


def test_search_result_input():
    tree, its = demo_tree(rounds=6, seed=4)
    res = SearchResult('text', '33', tree=tree, iterations=[{'num_nodes': s['num_nodes']} for s in its])
    view = TreeView(res)
    assert len(view.frames) == 6 and view.tree['n'] == len(tree['parent'])
    # snapshots with only node counts show the final statistics
    view.step(0).select(0)
    assert f"<td>{tree['visit_count'][0]}</td>" in view.details.value
    assert 'application/vnd.jupyter.widget-view+json' in view._repr_mimebundle_()
    with pytest.raises(KitError, match='not a search tree'): TreeView(SearchResult('flat', None))


# ---- exports ----------------------------------------------------------------------------------------------------
def test_html_is_self_contained(tmp_path):
    tree, its = demo_tree(rounds=10, seed=0)
    tree['text'][2] = 'evil </script><script>alert(1)</script> step'
    page = to_html(tree, tmp_path / 'sub' / 't.html', its, title='demo').read_text()
    for bad in ('http://', 'https://', '//cdn', '<link', 'src=', '@import', 'url('): assert bad not in page, bad
    assert page.count('<script>') == 1 and page.count('</script>') == 1  # the text cannot end the script early
    assert page.startswith('<!doctype html>') and '<svg class="rk-tree" id="rk-svg"' in page
    assert len(nodes_of(page)) == len(tree['parent'])


JS_DOM = r"""
// a minimal DOM: just what the exported page's script touches
class El {
  constructor(a) { this.a = Object.assign({}, a); this.h = {}; this.innerHTML = ''; this.textContent = ''; this.value = ''; }
  getAttribute(k) { return k in this.a ? String(this.a[k]) : null; }
  setAttribute(k, v) { this.a[k] = String(v); }
  addEventListener(t, f) { (this.h[t] = this.h[t] || []).push(f); }
  fire(t, target) { (this.h[t] || []).forEach(f => f({target: target || this})); }
}
const shapes = PAYLOAD.shapes.map(a => new El(a)), ring = shapes.find(e => e.a.class === 'sel-ring');
const svg = new El({}), byNode = k => shapes.find(e => e.getAttribute('data-node') === String(k));
svg.querySelectorAll = s => { if (s !== '[data-node],[data-edge]') throw Error('selector ' + s); return shapes.filter(e => 'data-node' in e.a || 'data-edge' in e.a); };
svg.querySelector = s => { if (s === '.sel-ring') return ring; const m = s.match(/^\[data-node="(\d+)"\]$/); if (!m) throw Error('selector ' + s); return byNode(m[1]); };
const ids = {'rk-svg': svg, 'rk-details': new El({}), 'rk-slider': new El({}), 'rk-label': new El({}), 'rk-prev': new El({}), 'rk-next': new El({})};
const document = {getElementById: id => ids[id]};
new Function('document', PAYLOAD.script)(document);
const out = [], nodes = shapes.filter(e => 'data-node' in e.a);
const state = () => out.push({details: ids['rk-details'].innerHTML, label: ids['rk-label'].textContent, slider: String(ids['rk-slider'].value),
  shown: nodes.filter(e => e.a.display !== 'none').map(e => +e.a['data-node']),
  edges: shapes.filter(e => 'data-edge' in e.a && e.a.display !== 'none').length,
  fill: nodes.map(e => e.a.fill), ring: [ring.a.visibility, ring.a.cx, ring.a.cy]});
state();
for (const [what, arg] of PAYLOAD.actions) {
  if (what === 'click') svg.fire('click', byNode(arg));
  if (what === 'slide') { ids['rk-slider'].value = String(arg); ids['rk-slider'].fire('input'); }
  if (what === 'prev' || what === 'next') ids['rk-' + what].fire('click');
  state();
}
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(NODE is None, reason='needs node.js to run the page script')
def test_html_script_behaviour(tmp_path):
    tree, its = demo_tree(rounds=10, seed=0)
    page = to_html(tree, tmp_path / 't.html', its).read_text()
    script = re.search(r'<script>(.*)</script>', page, re.S).group(1)
    t, frames = TV._load(tree, its)
    k, late = tree['chosen'][-1], len(tree['parent']) - 1
    actions = [['click', k], ['slide', 0], ['click', 2], ['next'], ['click', late], ['slide', 9], ['click', late], ['slide', 1], ['prev']]
    st = run_node(JS_DOM, dict(script=script, shapes=shapes(page), actions=actions))
    start, clicked, f0, f0sel, f1, f1late, f9, f9late, f1b, back = st
    # the page opens on the whole tree, nothing selected
    assert start['label'] == TV._label(frames, 9) and len(start['shown']) == t['n'] and start['ring'][0] == 'hidden'
    assert start['details'] == node_details(t, None) and start['edges'] == t['n'] - 1
    # clicking a node shows exactly what the widget shows, and rings it
    assert clicked['details'] == node_details(tree_at(t, frames[9]), k) and clicked['ring'][0] == 'visible'
    c = nodes_of(page)[k]; assert clicked['ring'][1:] == [c['cx'], c['cy']]
    # the slider steps back: later nodes hidden, the selection (born later) cleared, colours as they were
    n0 = frames[0]['num_nodes']
    assert f0['shown'] == list(range(n0)) and f0['edges'] == n0 - 1 and f0['label'] == TV._label(frames, 0) and f0['slider'] == '0'
    assert k >= n0 and f0['ring'][0] == 'hidden' and f0['details'] == node_details(t, None)
    assert f0['fill'][:n0] == node_colors(tree_at(t, frames[0])['value'], TV.value_scale(t))[:n0]
    assert f0sel['details'] == node_details(tree_at(t, frames[0]), 2)  # statistics of iteration 1
    assert f1['label'] == TV._label(frames, 1) and f1['slider'] == '1' and f1['details'] == node_details(tree_at(t, frames[1]), 2)
    assert f1late == f1  # a node not born yet cannot be selected: nothing changes
    assert f9['label'] == TV._label(frames, 9)
    assert f9late['details'] == node_details(t, late)
    assert f1b['label'] == TV._label(frames, 1) and f1b['details'] == node_details(t, None)  # `late` is not born at iteration 2
    assert back['label'] == TV._label(frames, 0) and back['slider'] == '0' and back['shown'] == list(range(n0))


@pytest.mark.skipif(NODE is None, reason='needs node.js to run the click bridge')
def test_widget_click_bridge():
    "The widget's inline onclick writes the clicked node id into the node box and fires its change event."
    js = r"""
const events = [], input = {value: '-1', dispatchEvent: e => events.push([e.type, e.bubbles, input.value])};
const root = {querySelector: s => s === '.rk-pick input' ? input : null};
const svg = {closest: s => s === '.rk-treeview' ? root : null};
const handler = new Function('event', PAYLOAD.onclick);
handler.call(svg, {target: {getAttribute: k => k === 'data-node' ? '7' : null}});  // a node
handler.call(svg, {target: {getAttribute: k => null}});                            // an edge or the background
console.log(JSON.stringify(events));
"""
    assert run_node(js, dict(onclick=TV._ONCLICK)) == [['change', True, '7']]
    view = TreeView(*demo_tree(rounds=4))
    assert html.escape(TV._ONCLICK, quote=True) in view.canvas.value  # the bridge is on the drawn SVG


def test_png(tmp_path):
    from matplotlib.image import imread
    tree, its = demo_tree(rounds=12, seed=0)
    p = to_png(tree, tmp_path / 'a' / 't.png', its)
    assert p.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    img = imread(p)[..., :3]
    assert img.shape[0] > 200 and img.shape[1] > 400 and img.std() > 0.05
    orange = lambda im: (np.abs(im - np.array([1.0, 0.498, 0.055])).max(-1) < 0.06).sum()
    assert orange(img) > 100  # the chosen path is drawn in orange
    plain = imread(to_png(dict(tree, chosen=None), tmp_path / 'plain.png'))[..., :3]
    assert orange(plain) == 0
    early = imread(to_png(tree, tmp_path / 'early.png', its, frame=0))[..., :3]
    assert (early < 0.99).sum() < (img < 0.99).sum()  # fewer nodes, less ink
    with pytest.raises(KitError, match='out of range'): to_png(tree, tmp_path / 'x.png', its, frame=40)
