"""Tests for the search-tree view (reasoner_kit.search.treeview and .treeview_export, from nbs/34_treeview.ipynb and 34b).

Trees are grown by the real tree core (`run_random_search`, both backends), labelled with made-up step texts. The
exported page's script and the widget's click bridge are run under node.js against a minimal fake DOM (skipped when
node is missing), so the in-browser behaviour is checked too: the page must render the same details as Python.
"""
import html, json, re, shutil, subprocess, time

import numpy as np
import pytest

from reasoner_kit.search import tree as T
from reasoner_kit.core import KitError
from reasoner_kit.policy.base import Policy, Sample
from reasoner_kit.reward.scorers import ArithmeticScorer, split_steps
from reasoner_kit.search.base import SearchResult
from reasoner_kit.search.tree_search import BeamSearch
from reasoner_kit.search.tree import make_trees, run_random_search
from reasoner_kit.search import treeview as TV, treeview_export as TVE
from reasoner_kit.search.treeview import (CHOSEN, TreeView, as_tree, demo_tree, frames_of, most_visited_path, node_colors,
                                   node_details, render_svg, size_key, tree_at, tree_from_trees, tree_layout)
from reasoner_kit.search.treeview_export import compare, png_figure, to_html, to_png

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
    for bad in ('http://', 'https://', '//cdn', '<link', 'src=', '@import'): assert bad not in page, bad
    assert not re.search(r'url\((?!#)', page)  # only in-page references (the legend's gradient)
    assert page.count('<script>') == 1 and page.count('</script>') == 1  # the text cannot end the script early
    assert page.startswith('<!doctype html>') and '<svg class="rk-tree" id="rk-svg-0"' in page
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
const svg = new El({viewBox: '0 0 1 1'}), byNode = k => shapes.find(e => e.getAttribute('data-node') === String(k));
svg.querySelectorAll = s => { if (s !== '[data-node],[data-edge]') throw Error('selector ' + s); return shapes.filter(e => 'data-node' in e.a || 'data-edge' in e.a); };
svg.querySelector = s => { if (s === '.sel-ring') return ring; throw Error('selector ' + s); };
const parts = {'svg.rk-tree': svg, '.rk-details': new El({}), '.rk-round': new El({}), '.rk-label': new El({}), '.rk-prev': new El({}),
               '.rk-next': new El({}), '.rk-fold': new El({}), '.rk-fit': new El({})};
const root = {querySelector: s => { if (!(s in parts)) throw Error('selector ' + s); return parts[s]; }};
const document = {getElementById: id => { if (id !== 'rk-view-0') throw Error('id ' + id); return root; }};
new Function('document', 'DATA', PAYLOAD.script)(document, PAYLOAD.data);
const out = [], nodes = shapes.filter(e => 'data-node' in e.a);
const state = () => out.push({details: parts['.rk-details'].innerHTML, label: parts['.rk-label'].textContent, slider: String(parts['.rk-round'].value),
  shown: nodes.filter(e => e.a.display !== 'none').map(e => +e.a['data-node']),
  edges: shapes.filter(e => 'data-edge' in e.a && e.a.display !== 'none').length,
  fill: nodes.map(e => e.a.fill), ring: [ring.a.visibility, ring.a.cx, ring.a.cy], viewBox: svg.a.viewBox,
  pruned: nodes.filter(e => e.a.display !== 'none' && e.a.class.split(' ').includes('rk-pruned')).map(e => +e.a['data-node'])});
state();
for (const [what, arg] of PAYLOAD.actions) {
  if (what === 'click' || what === 'dblclick') svg.fire(what, byNode(arg));
  if (what === 'slide') { parts['.rk-round'].value = String(arg); parts['.rk-round'].fire('input'); }
  if (what === 'prev' || what === 'next' || what === 'fold' || what === 'fit') parts['.rk-' + what].fire('click');
  state();
}
console.log(JSON.stringify(out));
"""


def page_script(page:str) -> tuple:
    "(script without its data line, the data) of an exported page."
    script = re.search(r'<script>(.*)</script>', page, re.S).group(1)
    line = re.search(r'const DATA = (.*);\n', script).group(0)
    return script.replace(line, ''), json.loads(line[len('const DATA = '):-2])


@pytest.mark.skipif(NODE is None, reason='needs node.js to run the page script')
def test_html_script_behaviour(tmp_path):
    tree, its = demo_tree(rounds=10, seed=0)
    page = to_html(tree, tmp_path / 't.html', its).read_text()
    script, data = page_script(page)
    t, frames = TV._load(tree, its)
    k, late = tree['chosen'][-1], len(tree['parent']) - 1
    actions = [['click', k], ['slide', 0], ['click', 2], ['next'], ['click', late], ['slide', 9], ['click', late], ['slide', 1], ['prev']]
    st = run_node(JS_DOM, dict(script=script, data=data, shapes=shapes(page), actions=actions))
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
const events = [], input = {value: '-1', dispatchEvent: e => events.push([e.type, e.bubbles, input.value, det.innerHTML])};
const det = {innerHTML: ''}, root = {querySelector: s => s === '.rk-pick input' ? input : s === '.rk-details .widget-html-content' ? det : null};
const svg = {closest: s => s === '.rk-treeview' ? root : null};
const handler = new Function('event', PAYLOAD.onclick);
const node = k => ({target: {getAttribute: a => a === 'data-node' ? k : null}});
handler.call(svg, node('7'));                                                      // a node
handler.call(svg, {target: {getAttribute: k => null}});                            // an edge or the background
handler.call(svg, node('7'));                                                      // the same node again: nothing to ask
svg._m = 1; handler.call(svg, node('3'));                                          // the end of a drag, not a click
handler.call(svg, node('3'));
console.log(JSON.stringify(events));
"""
    wait = '<i>node {}: waiting for the kernel\u2026</i>'
    assert run_node(js, dict(onclick=TV._ONCLICK)) == [['change', True, '7', wait.format(7)], ['change', True, '3', wait.format(3)]]
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


# ---- real beam search trees: pruned marks, the prompt at the root, sizes ------------------------------------------
class Steps(Policy):
    "Two steps of `d + j`, then a stated answer: enough for beam search to keep some steps and prune others."
    name = 'steps'
    def _generate(self, prompts, params):
        out = []
        for p in prompts:
            d = len(split_steps(p[-1]['content'])) if p[-1]['role'] == 'assistant' else 0
            if d < 2: out.append([Sample(f"{d + 1} + {j} = {d + 1 + j + j % 2}", 'stop', 10, 3 + j, stop_str='\n\n') for j in range(params.n)])
            else: out.append([Sample(f"The answer is {j}.", 'stop', 10, 4) for j in range(params.n)])
        return out


def beam_result(question='What is 2+3?'):
    cfg = dict(budget=4, beam_width=2, max_steps=3, max_step_tokens=8, max_tokens=64, seed=0)
    return BeamSearch(**cfg).run([[{'role': 'user', 'content': question}]], Steps(), ArithmeticScorer())[0]


def test_beam_pruned_flags_per_round(tmp_path):
    "Beam search records the ids pruned each round; the view must read them as ids, never flag the root or a live node."
    r = beam_result()
    frames = frames_of(r.iterations, len(r.tree['parent']))
    assert any(s['pruned'] for s in r.iterations)  # the fixture prunes something
    gone, expanded_later = set(), set()
    for k, s in enumerate(r.iterations):
        gone |= set(s['pruned'])
        t = tree_at(r.tree, frames[k])
        assert set(np.flatnonzero(t['pruned'][:frames[k]['num_nodes']])) == gone and not t['pruned'][0]
        expanded_later |= {i for s2 in r.iterations[k + 1:] for i in s2['expanded']}
    final = as_tree(r.tree)
    assert not final['pruned'][0] and not any(final['pruned'][i] for i in expanded_later | set(r.tree['chosen']))
    # the same in every rendering: widget, page data, PNG key
    view = TreeView(r)
    for k in range(len(view.frames)):
        view.step(k)
        drawn = {i for i, a in nodes_of(view.canvas.value).items() if 'rk-pruned' in a['class'].split()}
        assert drawn == set(np.flatnonzero(view.at(k)['pruned'][:view.num_nodes])) and 0 not in drawn
    _, data = page_script(to_html(r, tmp_path / 'beam.html').read_text())
    for f in data[0]['frames']:
        if 'pruned' in f: assert f['pruned'][0] is False
    # a live node (expanded later) is shown live in the page at every frame
    if NODE:
        script, data = page_script(to_html(r, tmp_path / 'b.html').read_text())
        page = (tmp_path / 'b.html').read_text()
        st = run_node(JS_DOM, dict(script=script, data=data, shapes=shapes(page), actions=[['slide', k] for k in range(len(frames))]))
        for k, s in enumerate(st[1:]):
            assert 0 not in s['pruned'] and set(s['pruned']) == set(np.flatnonzero(tree_at(r.tree, frames[k])['pruned'][:frames[k]['num_nodes']]))


def test_prompt_at_root():
    r = beam_result('What is 7+8?')
    assert r.tree['text'][0] == '' and r.tree['prompt'][-1]['content'] == 'What is 7+8?'
    assert as_tree(r)['text'][0] == 'What is 7+8?'
    assert 'What is 7+8?' in node_details(r.tree, 0) and 'What is 7+8?' in TreeView(r, selected=0).details.value
    assert 'What is 7+8?' in re.search(r'data-node="0".*?</title>', render_svg(r.tree), re.S).group(0)  # the hover text


def test_beam_nodes_sized_by_tokens():
    r = beam_result()
    t = as_tree(r)
    assert t['visits'].max() == 0 and size_key(t) == 'tokens'
    radii = {float(a['r']) for a in nodes_of(render_svg(r.tree)).values()}
    assert len(radii) > 2  # sizes say something
    assert size_key(demo_tree(rounds=5)[0]) == 'visits'


def test_legend_present(tmp_path):
    tree, its = demo_tree(rounds=10, seed=0)
    lo, hi = TV.value_scale(tree)
    view = TreeView(tree, its)
    assert "class='rk-legend'" in view.canvas.value and f'{lo:+.3f}' in view.canvas.value and f'{hi:+.3f}' in view.canvas.value
    assert 'size = visits' in view.canvas.value
    assert "class='rk-legend'" in to_html(tree, tmp_path / 't.html', its).read_text()
    fig = png_figure(tree, its)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ['chosen path', 'terminal', 'pruned', 'size = visits']
    assert fig.axes[1].get_ylabel() == 'value'  # the colour bar


def big_tree(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    parent = [-1] + [int(rng.integers(max(0, i - 40), i)) for i in range(1, n)]
    return dict(parent=parent, visit_count=rng.integers(0, 20, n).tolist(), value_sum=rng.normal(size=n).tolist(),
                text=[f'step {i}: ' + 'x' * 200 for i in range(n)], chosen=[0])


def test_thousand_nodes_fast_and_light():
    tree = big_tree()
    t0 = time.perf_counter(); t = as_tree(tree); pos = tree_layout(t); svg = render_svg(t, pos=pos); dt = time.perf_counter() - t0
    assert dt < 3.0, dt  # measured about 0.05 s; generous for a loaded 2-core machine
    assert len(nodes_of(svg)) == 1000 and len(svg) < 400_000  # hover texts are cut, styles live in one <style>
    t0 = time.perf_counter(); view = TreeView(tree); view.select(500); dt = time.perf_counter() - t0
    assert dt < 6.0, dt
    assert 'width="100%"' in view.canvas.value and 'viewBox="0 0 ' in view.canvas.value  # fits the output area


def test_fold_and_fit():
    tree, its = demo_tree(rounds=12, seed=3)
    view = TreeView(tree, its, selected=tree['chosen'][1])
    k, n = tree['chosen'][1], len(tree['parent'])
    below = sum(1 for i in range(n) if k in TV.hidden_by(tree, [k]).nonzero()[0] or TV.hidden_by(tree, [k])[i])
    view.fold_btn.click()
    assert k in view.collapsed and len(nodes_of(view.canvas.value)) == n - below and f'>+{below}<' in view.canvas.value
    assert view.pos[:, 0].max() < tree_layout(tree)[:, 0].max()  # the layout closed up
    view.fold(k)
    assert not view.collapsed and len(nodes_of(view.canvas.value)) == n
    view.vbox.value = '5 5 40 40'; view.step(0)
    assert 'viewBox="5 5 40 40"' in view.canvas.value
    view.fit_btn.click(); assert view.vb is None and 'viewBox="0 0 ' in view.canvas.value
    with pytest.raises(KitError, match='not in this tree'): view.fold(n)


def test_compare_side_by_side(tmp_path):
    a, ia = demo_tree(rounds=6, seed=0); b, ib = demo_tree(rounds=9, seed=1)
    box = compare(a, b, ('six', 'nine'), (ia, ib))
    assert [v.tree['n'] for v in box.views] == [len(a['parent']), len(b['parent'])]
    assert box.views[0].widget.children[0].value.startswith('<b>six: ') and 'rk-compare' in box._dom_classes
    page = to_html([a, b], tmp_path / 'two.html', [ia, ib], names=['six', 'nine']).read_text()
    assert page.count("class='rk-view rk-treeview'") == 2 and page.count('<svg class="rk-tree"') == 2
    _, data = page_script(page)
    assert [len(d['nodes']['parent']) for d in data] == [len(a['parent']), len(b['parent'])]
    with pytest.raises(KitError, match='iteration lists'): to_html([a, b], tmp_path / 'x.html', [ia])


def test_exports_written(tmp_path):
    r = beam_result()
    h, p = to_html(r, tmp_path / 'o' / 'beam.html'), to_png(r, tmp_path / 'o' / 'beam.png')
    assert h.exists() and h.stat().st_size > 1000 and p.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    for c in ('rk-node', 'data-id="0"', 'rk-round', 'rk-chosen', 'rk-details', 'rk-legend'): assert c in h.read_text(), c


def test_png_labels_do_not_overlap():
    "A deep, narrow chosen path with long steps: every label kept is clear of the others."
    n = 30
    tree = dict(parent=[-1] + list(range(n - 1)), text=['a long first line of a step that goes on'] * n, chosen=list(range(n)),
                value=list(np.linspace(0, 1, n)))
    fig = png_figure(tree)
    r = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(r) for t in fig.axes[0].texts if t.get_visible()]
    assert boxes and all(not a.overlaps(b) for k, a in enumerate(boxes) for b in boxes[k + 1:])


@pytest.mark.skipif(NODE is None, reason='needs node.js')
def test_inline_handlers_compile_and_page_folds(tmp_path):
    "The zoom / pan / click handlers are valid JS; in the page, a double click folds a subtree and fit frames what is shown."
    handlers = dict(TV._ZOOM, onclick=TV._ONCLICK)
    assert run_node("for (const k in PAYLOAD) new Function('event', PAYLOAD[k]); console.log(JSON.stringify(Object.keys(PAYLOAD).length));",
                    handlers) == len(handlers)
    tree, its = demo_tree(rounds=10, seed=0)
    page = to_html(tree, tmp_path / 't.html', its).read_text()
    for k in TV._ZOOM: assert f' {k}="' in page, k   # the page's SVG zooms and pans too (clicks go to its script)
    script, data = page_script(page)
    k = tree['chosen'][1]
    st = run_node(JS_DOM, dict(script=script, data=data, shapes=shapes(page), actions=[['dblclick', k], ['dblclick', k], ['click', k], ['fold'], ['fit']]))
    start, folded, unfolded, sel, refolded, fitted = st
    below = set(np.flatnonzero(TV.hidden_by(tree, [k])))
    assert below and set(start['shown']) - set(folded['shown']) == below and unfolded['shown'] == start['shown']
    assert refolded['shown'] == folded['shown'] and fitted['viewBox'] != start['viewBox']
    xs = [float(a['cx']) for i, a in nodes_of(page).items() if i in fitted['shown']]
    assert float(fitted['viewBox'].split()[0]) == min(xs) - TV.PAD
