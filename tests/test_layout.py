"""The page's own layered layout (layout.py): layers, order, coordinates."""

from __future__ import annotations

import random

import pytest

from conftest import EXAMPLES
from gradcli import build, parse
from gradcli.draw import select
from gradcli.layout import NODE_GAP, layers, layout
from gradcli.page import boxes


def _picture(path):
    g = build(parse(path.read_text()), {})
    bx, edges = boxes(select(g), 6)
    return bx, [(u, v) for u, v, _ in edges]


def _check(lay, widths, heights, edges):
    for u, v in edges:
        assert lay.x[u] + widths[u] / 2 < lay.x[v] - widths[v] / 2, (u, v)   # left to right, no overlap
    for row in lay.order:
        for a, b in zip(row, row[1:]):
            assert lay.y[b] - lay.y[a] >= (heights[a] + heights[b]) / 2 + NODE_GAP - 1e-6
            assert lay.layer[a] == lay.layer[b]
    assert sorted(b for row in lay.order for b in row) == list(range(len(widths)))


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.grad")))
def test_examples_lay_out_cleanly(example):
    bx, edges = _picture(EXAMPLES / example)
    w, h = [b.w for b in bx], [b.h for b in bx]
    lay = layout(w, h, edges)
    _check(lay, w, h, edges)
    assert lay == layout(w, h, edges)     # deterministic


def test_lecture_layers_and_no_crossing():
    """L = (a*b + c) * f: the picture of the lecture, in 5 columns, no edge crossing another."""
    bx, edges = _picture(EXAMPLES / "lecture_L.grad")
    lay = layout([b.w for b in bx], [b.h for b in bx], edges)
    col = {b.key: lay.layer[i] for i, b in enumerate(bx)}
    assert col == {"n0": 0, "n1": 0, "n3op": 1, "n3": 2, "n2": 2, "n4op": 3, "n4": 4, "n5": 4,
                   "n6op": 5, "n6": 6}
    assert lay.crossings == 0


def test_crossing_reduction_untangles():
    """Two chains given crossed (a0 feeds b1, a1 feeds b0, ...): the sweeps
    find the order without crossings."""
    n = 6
    # nodes 0..n-1 in layer 0, n..2n-1 in layer 1; edge i -> n + (n - 1 - i)
    edges = [(i, n + (n - 1 - i)) for i in range(n)]
    lay = layout([10.0] * (2 * n), [10.0] * (2 * n), edges)
    assert lay.crossings == 0


def test_random_dags_no_overlap_and_deterministic():
    rnd = random.Random(7)
    for _ in range(20):
        n = rnd.randint(2, 60)
        edges = [(rnd.randrange(v), v) for v in range(1, n) for _ in range(rnd.randint(0, 2))]
        w = [rnd.uniform(10, 200) for _ in range(n)]
        h = [rnd.uniform(10, 30) for _ in range(n)]
        lay = layout(w, h, edges)
        _check(lay, w, h, edges)
        assert lay == layout(w, h, edges)


def test_long_edges_are_rationed():
    """An input read at every step of a long chain: the dummies needed would
    grow as the square of the chain; they stay within the budget."""
    n = 3000
    edges = [(k, k + 1) for k in range(1, n - 1)] + [(0, k) for k in range(2, n, 2)]
    lay = layout([20.0] * n, [20.0] * n, edges)
    assert lay.dummies <= max(2000, 4 * n)
    assert len(lay.routes) == len(edges)


def test_layers_need_topological_order():
    assert layers(4, [(0, 3), (1, 2), (2, 3)]) == [1, 0, 1, 2]      # a source moves next to its use
    with pytest.raises(ValueError, match="against the order"):
        layers(2, [(1, 0)])
