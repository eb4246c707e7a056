"""Parity of the C++ tree core with its pure-Python twin (reasoner_kit.search.tree, from nbs/31_tree.ipynb).

Hypothesis draws random sequences of operations (add_children, select with UCT / PUCT and virtual loss, backprop,
prune, top_k, frontier, path, export, reset_roots, and calls with bad indices), runs each on `PyTrees` and `CTrees`, and
checks that both return the same thing (or raise the same exception type) and that every field array is the same
afterwards. A few plain tests pin down the semantics. Needs the extension: `python setup.py build_ext --inplace`.
"""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from reasoner_kit.search import tree as T
from reasoner_kit.search.tree import FIELDS, NO_PARENT, ROOT_INDEX, UNVISITED, CTrees, PyTrees, make_trees

if T._ctree is None:
    pytest.fail("reasoner_kit._ctree is not built: run `python setup.py build_ext --inplace`", pytrace=False)

BACKENDS = ['py', 'c']


# ---- helpers ----------------------------------------------------------------------------------------------------
def assert_same(py, c):
    "Every field of the two backends: same dtype and shape; ints and bools equal, floats equal to 1e-12."
    for name in FIELDS:
        a, b = getattr(py, name), getattr(c, name)
        assert (a.dtype, a.shape) == (b.dtype, b.shape), name
        if a.dtype.kind == 'f': np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12, err_msg=name)
        else: np.testing.assert_array_equal(b, a, err_msg=name)


def assert_equal_out(a, b):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b): assert_equal_out(x, y)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a: assert_equal_out(a[k], b[k])
    elif isinstance(a, np.ndarray):
        assert (a.dtype, a.shape) == (b.dtype, b.shape)
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12) if a.dtype.kind == 'f' else np.testing.assert_array_equal(b, a)
    else: assert a == b


def both(py, c, op, /, *args, **kw):
    "Call `op` on both backends: same exception type or same result; then every field must agree."
    outs, errs = [], []
    for t in (py, c):
        try: outs.append(getattr(t, op)(*args, **kw)); errs.append(None)
        except (IndexError, ValueError) as e: outs.append(None); errs.append(type(e))
    assert errs[0] == errs[1], (op, args, kw, errs)
    assert_equal_out(outs[0], outs[1])
    assert_same(py, c)
    return outs[0], errs[0]


values = st.one_of(st.sampled_from([0.0, 0.5, 1.0, -1.0]), st.floats(-2, 2, allow_nan=False, width=64))
priors = st.one_of(st.sampled_from([0.0, 0.25, 0.5, 1.0]), st.floats(0, 1, width=64))
OPS = ['add', 'add', 'add', 'select', 'select', 'backprop', 'backprop', 'prune', 'top_k', 'frontier', 'path',
       'export', 'reset']


def draw_pairs(data, py, M, bad_ok=True):
    "M (tree, node) pairs of existing nodes; with probability ~1/10 one of them is out of range."
    B = py.batch_size
    trees = [data.draw(st.integers(0, B - 1)) for _ in range(M)]
    nodes = [data.draw(st.integers(0, int(py.num_nodes[b]) - 1)) for b in trees]
    if M and bad_ok and data.draw(st.integers(0, 9)) == 0:
        m = data.draw(st.integers(0, M - 1))
        if data.draw(st.booleans()): trees[m] = data.draw(st.sampled_from([-1, B]))
        else: nodes[m] = data.draw(st.sampled_from([-1, int(py.num_nodes[trees[m]])]))
    return trees, nodes


# ---- the property test ------------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_random_operation_sequences(data):
    B, N = data.draw(st.integers(1, 4), label='B'), data.draw(st.integers(1, 14), label='N')
    py, c = PyTrees(B, N), CTrees(B, N)
    assert_same(py, c)
    for _ in range(data.draw(st.integers(1, 40), label='steps')):
        op = data.draw(st.sampled_from(OPS))
        if op == 'add':  # parents may be nodes added earlier in the same call; may overflow capacity
            M = data.draw(st.integers(0, 5))
            tree = [data.draw(st.integers(0, B - 1)) for _ in range(M)]
            parent = [data.draw(st.integers(0, int(py.num_nodes[b]) + m)) for m, b in enumerate(tree)]
            if M and data.draw(st.integers(0, 9)) == 0: tree[0] = B
            both(py, c, 'add_children', np.array(tree, np.int32), np.array(parent, np.int32),
                 [data.draw(priors) for _ in range(M)], [data.draw(values) for _ in range(M)],
                 [data.draw(st.integers(0, 4)) == 0 for _ in range(M)], list(range(M)))
        elif op == 'select':
            both(py, c, 'select', c=data.draw(st.sampled_from([0.0, 0.5, 1.25, 2.0])),
                 rule=data.draw(st.sampled_from(['uct', 'puct'])), virtual_loss=data.draw(st.sampled_from([0, 0, 1, 3])),
                 seed=data.draw(st.integers(-2**63, 2**64 - 1)), fpu=data.draw(st.sampled_from([0.0, -1.0, 0.5])))
        elif op == 'backprop':
            M = data.draw(st.integers(0, 4))
            tree, node = draw_pairs(data, py, M)
            both(py, c, 'backprop', np.array(tree, np.int32), np.array(node, np.int32),
                 [data.draw(values) for _ in range(M)], discount=data.draw(st.sampled_from([1.0, 0.9, 0.5])))
        elif op == 'prune':
            tree, node = draw_pairs(data, py, data.draw(st.integers(0, 2)))
            both(py, c, 'prune', np.array(tree, np.int32), np.array(node, np.int32))
        elif op == 'top_k':
            R, M = data.draw(st.integers(0, 4)), data.draw(st.integers(0, 6))
            nodes = np.array([[data.draw(st.integers(-1, 5)) for _ in range(M)] for _ in range(R)], np.int32).reshape(R, M)
            scores = np.array([[data.draw(st.one_of(values, st.just(math.nan), st.just(-math.inf)))
                                for _ in range(M)] for _ in range(R)], np.float64).reshape(R, M)
            both(py, c, 'top_k', nodes, scores, data.draw(st.integers(0, 7)))
        elif op == 'frontier':
            both(py, c, 'frontier', include_terminal=data.draw(st.booleans()))
        elif op == 'path':
            tree, node = draw_pairs(data, py, data.draw(st.integers(0, 4)))
            both(py, c, 'path', np.array(tree, np.int32), np.array(node, np.int32))
        elif op == 'export':
            both(py, c, 'export', data.draw(st.integers(0, B)))
        elif op == 'reset':
            vals = None if data.draw(st.booleans()) else [data.draw(values) for _ in range(B)]
            both(py, c, 'reset_roots', list(range(100, 100 + B)), vals)
    np.testing.assert_array_equal(c.q_values(), py.q_values())


def test_random_search_runs_match():
    "A longer run (batched MCTS with both rules, virtual loss, rewards, discount, pruning) stays bit-identical."
    py, c = T.run_random_search(PyTrees(6, 300), steps=120, seed=1), T.run_random_search(CTrees(6, 300), steps=120, seed=1)
    for name in FIELDS: np.testing.assert_array_equal(getattr(c, name), getattr(py, name), err_msg=name)
    assert py.num_nodes.min() > 100


@given(st.integers(-2**63, 2**64 - 1), st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1))
@settings(max_examples=200, deadline=None)
def test_tie_key_matches(seed, tree, node):
    assert T.tie_key(seed, tree, node) == T._ctree.tie_key(T._seed64(seed), tree, node)


# ---- semantics --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('backend', BACKENDS)
def test_uct_visits_unvisited_children_first(backend):
    t = make_trees(1, 8, backend)
    t.add_children(0, [0, 0, 0])
    seen = []
    for step in range(3):
        leaf, depth = t.select(c=1.0, rule='uct', seed=step)
        assert depth[0] == 1 and leaf[0] not in seen
        seen.append(int(leaf[0]))
        t.backprop(0, leaf, 1.0)
    assert sorted(seen) == [1, 2, 3]


@pytest.mark.parametrize('backend', BACKENDS)
def test_puct_follows_prior_then_value(backend):
    t = make_trees(1, 8, backend)
    t.add_children(0, [0, 0], prior=[0.1, 0.9])
    assert t.select(rule='puct')[0][0] == 2
    t.backprop(0, [2, 2, 2], [-1.0, -1.0, -1.0])  # a bad child: Q = -1
    assert t.select(rule='puct', c=0.5)[0][0] == 1


@pytest.mark.parametrize('backend', BACKENDS)
def test_backprop_sums_and_discounts(backend):
    t = make_trees(2, 8, backend)
    a, = t.add_children(1, 0)
    b, = t.add_children(1, a, reward=0.5)
    t.backprop([1, 1], [b, a], [1.0, 2.0])
    np.testing.assert_array_equal(t.visit_count[1, :3], [2, 2, 1])
    np.testing.assert_allclose(t.value_sum[1, :3], [1.5 + 2.0, 1.5 + 2.0, 1.0])
    t.backprop(1, b, 1.0, discount=0.5)
    np.testing.assert_allclose(t.value_sum[1, :3], [3.5 + 0.5 * 1.0, 3.5 + 1.0, 2.0])
    np.testing.assert_allclose(t.q_values()[1, :3], [4.0 / 3, 4.5 / 3, 1.0])
    assert t.visit_count[0].sum() == 0  # the other tree is untouched


@pytest.mark.parametrize('backend', BACKENDS)
def test_virtual_loss_spreads_a_batch(backend):
    t = make_trees(1, 8, backend)
    t.add_children(0, [0, 0])
    t.backprop(0, [1, 2], [1.0, 1.0])
    first = int(t.select(rule='uct', virtual_loss=1, seed=0)[0][0])
    second = int(t.select(rule='uct', virtual_loss=1, seed=0)[0][0])
    assert {first, second} == {1, 2}
    np.testing.assert_array_equal(t.virtual_loss[0, :3], [2, 1, 1])
    t.backprop(0, [first, second], [0.0, 0.0])
    assert t.virtual_loss.sum() == 0


@pytest.mark.parametrize('backend', BACKENDS)
def test_prune_excludes_from_select_and_frontier(backend):
    t = make_trees(1, 16, backend)
    k = t.add_children(0, [0, 0, 0])
    t.add_children(0, [k[0], k[0]])
    t.prune(0, k[0])
    assert t.pruned[0, :t.num_nodes[0]].tolist() == [False, True, False, False, True, True]
    for s in range(20): assert t.select(seed=s)[0][0] in (k[1], k[2])
    np.testing.assert_array_equal(t.frontier(), [[k[1], k[2]]])
    t.add_children(0, k[0])  # a child of a pruned node is born pruned
    assert t.pruned[0, 6]


@pytest.mark.parametrize('backend', BACKENDS)
def test_terminal_stops_descent(backend):
    t = make_trees(1, 8, backend)
    x, y = t.add_children(0, [0, 0], terminal=[True, False])
    np.testing.assert_array_equal(t.frontier(), [[y]])
    np.testing.assert_array_equal(t.frontier(include_terminal=True), [[x, y]])
    t.backprop(0, y, -1.0)  # y is bad, so select goes to x and stops there,
    t.add_children(0, x)    # even though x has a child
    for s in range(5): assert t.select(seed=s)[0][0] == x


@pytest.mark.parametrize('backend', BACKENDS)
def test_errors_are_clear_and_atomic(backend):
    t = make_trees(2, 4, backend)
    t.add_children(0, [0, 0, 0])
    with pytest.raises(ValueError, match='full'): t.add_children(0, 0)
    with pytest.raises(ValueError, match='full'): t.add_children([1, 1, 1, 1], 0)
    assert t.num_nodes.tolist() == [4, 1]
    with pytest.raises(IndexError): t.add_children(2, 0)
    with pytest.raises(IndexError): t.add_children(1, 1)
    with pytest.raises(IndexError): t.backprop(0, 4, 1.0)
    with pytest.raises(IndexError): t.prune(-1, 0)
    with pytest.raises(IndexError): t.path(1, 3)
    with pytest.raises(ValueError): t.backprop([0, 0], [1, 2, 3], 1.0)
    with pytest.raises(ValueError): t.select(rule='ucb')
    with pytest.raises(ValueError): PyTrees(0, 3) if backend == 'py' else CTrees(3, 0)
    assert t.visit_count.sum() == 0


@pytest.mark.parametrize('backend', BACKENDS)
def test_path_frontier_top_k_shapes(backend):
    t = make_trees(3, 8, backend)
    a = t.add_children([0, 0, 2], [0, 0, 0])
    t.add_children(0, a[1])
    np.testing.assert_array_equal(t.path([0, 2, 1], [3, 1, 0]), [[0, 2, 3], [0, 1, -1], [0, -1, -1]])
    np.testing.assert_array_equal(t.frontier(), [[1, 3], [0, -1], [1, -1]])
    assert t.top_k(np.zeros((2, 0), np.int32), np.zeros((2, 0)), 2).tolist() == [[UNVISITED] * 2] * 2
    np.testing.assert_array_equal(t.top_k([[7, 8, 9]], [[1.0, 1.0, 2.0]], 2), [[9, 7]])


def test_views_are_zero_copy_and_keep_the_core_alive():
    t = CTrees(2, 4)
    vc = t.visit_count
    t.backprop(0, 0, 1.0)
    assert vc[0, 0] == 1 and vc.base is not None
    del t
    assert vc[0, 0] == 1 and vc.shape == (2, 4)


def test_export_has_everything_to_rebuild_the_tree():
    for backend in BACKENDS:
        t = make_trees(1, 8, backend)
        t.add_children(0, [0, 0, 1], handle=[10, 11, 12])
        e = t.export(0)
        assert e['children'] == [[1, 2], [3], [], []]
        assert e['parent'].tolist() == [NO_PARENT, ROOT_INDEX, ROOT_INDEX, 1]
        assert e['handle'].tolist() == [-1, 10, 11, 12]
        assert all(len(v) == 4 for v in e.values())
