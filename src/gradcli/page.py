"""The live page: a graph as one self-contained HTML file (``graph -o L.html``).

``html(graph)`` returns the page as text. It needs nothing at run time: no
network (a Content-Security-Policy of ``default-src 'none'`` forbids every
request, fonts and favicon included), no Graphviz (layout.py lays the graph
out here, in Python), no library (the script is ``web/page.js``, gradcli's
own, inlined with ``web/page.css``).

What goes into it, all computed from the library's own code:

- the picture as data (``geometry``): each box's place and size from
  ``layout.layout`` and each edge's path, drawn by the page's script only
  where the camera looks (a few dozen elements at a readable zoom, however
  big the graph; far out, edges and operations painted on a canvas). The
  records are draw_dot's (name, then data above grad; ids on hover); two
  edges between the same boxes (``a + a``) are drawn apart;
- the whole tape (every node, drawn or not): op, operands, kind, name,
  place in the source, data; so the page recomputes forward and backward
  at any leaf values exactly as the engine does;
- the op table as JavaScript: ``op_table()``, each row of ``ops.py``
  spelled by the code generator's ``js`` printer (``codegen.js_rules``,
  the printer ``codegen --lang js`` uses): forward, domain guards throwing
  a ``RangeError`` with the row's own words, local derivatives and chain
  rules;
- the backward steps of ``explain.steps`` (which operation, which operands,
  which use of how many), explain's names and expressions, and the
  textbook form of each local derivative (``textbook``: ``1 - o²`` for
  tanh, with the engine's more accurate form as a footnote), so the page
  writes each step as the lecture does,
  ``dL/de = dL/dd · dd/de = (-2) · 1 = -2``, with explain's numbers.

The page's script exposes ``window.gradcli`` (``result``, ``set``,
``steps``, ``step``) as the contract's section 4 gives it; objects keyed
by the user's names are prototype-free (a leaf may be called
``__proto__``).

Size and time (bench/page_bench.py, this machine's 2 shared cores, an
unrolled tanh MLP): writing is linear, 0.5 to 1 s per 1,000 program nodes
(the layout is most of it), about 470 bytes per node; in headless
Chromium the first frame of a 9,691-node page is painted after 0.4 to 0.7 s and
a step takes two frames (35 to 40 ms) at 100, 1,000 and 10,000 nodes.
"""

from __future__ import annotations

import html as _html
import json
from importlib import resources

from . import explain as _explain
from .draw import Picture, select
from .engine import Graph, Value, require_ops
from .errors import DomainError
from .codegen import js_rules
from .layout import layout
from .ops import shown as _shown_op
from .render import short

# Geometry of the boxes (px at zoom 1). The text on the picture is 12 to
# 14 px (names 14, numbers 13 in a monospace font, the tags "data"/"grad"
# 12), so at the zoom the page opens with (never below 1 unless the whole
# graph fits) nothing on it is smaller than 12 px on screen. A value's
# record is draw_dot's (name | data | grad) with data above grad: half as
# wide, so the lecture's graph fits a laptop's window at a readable size.
NAME_CH = 8.0          # a 14 px proportional character, generously
NUM_CH = 7.9           # a 13 px monospace character
TAG_W = 34.0           # "data " / "grad " at 12 px
ROW_H = 21.0           # one line of the record
VALUE_H = 2 * ROW_H
SMALL_H = 24.0
FIELD_PAD = 8.0
MIN_CHARS = 4          # a number cell holds at least this many characters
MARGIN = 24.0
SHAPES = {"value": 0, "op": 1, "const": 2, "stub": 3}


def _asset(name: str) -> str:
    return resources.files("gradcli").joinpath("web", name).read_text(encoding="utf-8")


def _attr(text: str) -> str:
    return _html.escape(text, quote=True)


def _json(obj: object) -> str:
    """JSON safe inside a <script> element."""
    return (json.dumps(obj, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _finite(x: float) -> float | None:
    return x + 0.0 if x == x and x not in (float("inf"), float("-inf")) else None


class _Box:
    __slots__ = ("key", "node", "shape", "w", "h", "text", "split")

    def __init__(self, key: str, node: Value, shape: str, w: float, h: float, text: str, split: float = 0.0):
        self.key, self.node, self.shape, self.w, self.h, self.text = key, node, shape, w, h, text
        self.split = split


def _value_name(node: Value) -> str:
    """The record's name, as draw_dot writes it: the node's name (its id,
    ``n4``, only where it has none; the page shows ids on hover)."""
    return node.label or f"n{node.index}"


def num_w(chars: int) -> float:
    """The width of a number cell holding ``chars`` characters."""
    return 2 * FIELD_PAD + TAG_W + max(chars, MIN_CHARS) * NUM_CH


def boxes(pic: Picture, precision: int, grads: dict[int, float] | None = None) -> tuple[list[_Box], list[tuple[int, int, str]]]:
    """The boxes of the picture in topological order (an op's circle just
    before its value) and the edges between them, each with its DOM id:
    ``e<i>_<k>`` for operand k into op i, ``e<i>`` for op i into its value.
    A value's number cell is as wide as its longest number (data, or the
    grad in ``grads``); the page widens it when a poke makes it longer."""
    graph = pic.graph
    out = graph.output
    grads = grads or {}
    items: list[tuple[int, int, Value, str]] = []   # (tape index, 0 stub / 1 op / 2 value, node, kind)
    for node in pic.cut:
        items.append((node.index, 0, node, "stub"))
    for node in pic.nodes:
        if node.children:
            items.append((node.index, 1, node, "op"))
        items.append((node.index, 2, node, "const" if node.kind == "const" and node is not out else "value"))
    items.sort(key=lambda t: (t[0], t[1]))
    result: list[_Box] = []
    where: dict[str, int] = {}
    for _, _, node, kind in items:
        i = node.index
        if kind == "stub":
            text = f"n{i} …"
            box = _Box(f"n{i}", node, "stub", NAME_CH * len(text) + 2 * FIELD_PAD, SMALL_H, text)
        elif kind == "op":
            text = _shown_op(node.op)
            box = _Box(f"n{i}op", node, "op", max(SMALL_H + 8, NAME_CH * len(text) + 16), SMALL_H + 6, text)
        elif kind == "const":
            text = short(node.data, precision)
            box = _Box(f"n{i}", node, "const", NUM_CH * len(text) + 2 * FIELD_PAD + 4, SMALL_H, text)
        else:
            text = _value_name(node)
            chars = max(len(short(node.data, precision)), len(short(grads.get(i, 0.0), precision)))
            split = max(34.0, NAME_CH * len(text) + 2 * FIELD_PAD)
            box = _Box(f"n{i}", node, "value", split + num_w(chars), VALUE_H, text, split)
        where[box.key] = len(result)
        result.append(box)
    edges: list[tuple[int, int, str]] = []
    for box in result:
        if box.shape != "op":
            continue
        node = box.node
        i = node.index
        for k, child in enumerate(node.children):
            tail = where.get(f"n{child.index}")
            if tail is not None:
                edges.append((tail, where[box.key], f"e{i}_{k}"))
        edges.append((where[box.key], where[f"n{i}"], f"e{i}"))
    return result, edges


def _path(points: list[tuple[float, float]]) -> str:
    """A smooth path through the points: a cubic per segment, level at each point."""
    (x0, y0) = points[0]
    parts = [f"M{x0:.0f},{y0:.0f}"]
    for (x1, y1) in points[1:]:
        mx = (x0 + x1) / 2
        parts.append(f"C{mx:.0f},{y0:.0f} {mx:.0f},{y1:.0f} {x1:.0f},{y1:.0f}")
        x0, y0 = x1, y1
    return "".join(parts)


def _separate(edges: list[tuple[int, int, str]], routes: list[list[tuple[float, float]]]) -> None:
    """Two edges between the same boxes (``a + a``: one node used twice by
    one operation) are drawn apart, 12 px between them, so the picture shows
    both uses (the lecture's point about a node used twice)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for k, (u, v, _) in enumerate(edges):
        groups.setdefault((u, v), []).append(k)
    for ks in groups.values():
        if len(ks) < 2:
            continue
        for j, k in enumerate(ks):
            off = (j - (len(ks) - 1) / 2) * 12.0
            pts = routes[k]
            (x0, y0), (x1, y1) = pts[0], pts[-1]
            if len(pts) == 4:      # adjacent columns: a bow through the gap
                routes[k] = [(x0, y0 + off), ((pts[1][0] + pts[2][0]) / 2, (y0 + y1) / 2 + 2 * off), (x1, y1 + off)]
            else:
                routes[k] = [(x0, y0 + off)] + [(x, y + 2 * off) for x, y in pts[1:-1]] + [(x1, y1 + off)]


def geometry(pic: Picture, precision: int, shown_grads: dict[int, float]) -> dict:
    """The picture as data for the page's renderer (web/page.js draws only
    what is on screen): per box ``[shape, node, left, top, w, h, split]``
    flattened into ``b`` with its text in ``t``; per edge ``[tail box, head
    box, op node, operand (-1: op to value), x0, y0, x1, y1 (its bounding
    box), lx, ly (its middle)]`` flattened into ``e``, its SVG path in
    ``d``; the picture's width and height ``W``, ``H``."""
    bx, edges = boxes(pic, precision, shown_grads)
    lay = layout([b.w for b in bx], [b.h for b in bx], [(u, v) for u, v, _ in edges])
    routes = [list(r) for r in lay.routes]
    _separate(edges, routes)
    flat_b: list[int] = []
    texts: list[str] = []
    for b, x, y in zip(bx, lay.x, lay.y):
        flat_b += [SHAPES[b.shape], b.node.index, round(MARGIN + x - b.w / 2), round(MARGIN + y - b.h / 2),
                   round(b.w), round(b.h), round(b.split)]
        texts.append(b.text)
    flat_e: list[int] = []
    paths: list[str] = []
    for (u, v, eid), pts in zip(edges, routes):
        pts = [(px + MARGIN, py + MARGIN) for px, py in pts]
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        op = bx[v].node.index if bx[v].shape == "op" else bx[u].node.index
        k = int(eid.split("_")[1]) if "_" in eid else -1
        mid = len(pts) // 2
        if len(pts) % 2:
            lx, ly = pts[mid]
        else:
            (ax, ay), (cx, cy) = pts[mid - 1], pts[mid]
            lx, ly = (ax + cx) / 2, (ay + cy) / 2
        flat_e += [u, v, op, k, round(min(xs)), round(min(ys) - 2), round(max(xs)), round(max(ys) + 2), round(lx), round(ly)]
        paths.append(_path(pts))
    return {"W": round(lay.width + 2 * MARGIN), "H": round(lay.height + 2 * MARGIN),
            "b": flat_b, "t": texts, "e": flat_e, "d": paths}


# The textbook form of each local derivative, as the lecture writes it
# ({a}/{b} or {x}/{y}: the operands, {out}: the result). Where the engine
# computes it another way (more accurately), footnote() says how; ops not
# listed here are written with explain's words.
TEXTBOOK = {
    "+": ["1", "1"], "-": ["1", "-1"], "*": ["{b}", "{a}"],
    "/": ["1/{b}", "-{a}/{b}²"], "**": ["{y}·{x}^({y} - 1)", "{out}·log({x})"],
    "neg": ["-1"], "exp": ["exp({x}) = {out}"], "log": ["1/{x}"],
    "tanh": ["1 - {out}²"], "sigmoid": ["{out}·(1 - {out})"], "relu": ["1 if {x} > 0 else 0"],
    "sqrt": ["1/(2·{out})"], "sin": ["cos({x})"], "cos": ["-sin({x})"], "tan": ["1 + {out}²"],
    "softplus": ["sigmoid({x})"], "log1p": ["1/(1 + {x})"], "atan": ["1/(1 + {x}²)"],
    "asinh": ["1/√(1 + {x}²)"], "erf": ["(2/√π)·exp(-{x}²)"], "hypot": ["{a}/{out}", "{b}/{out}"],
}


def textbook() -> tuple[dict[str, list[str]], dict[str, str]]:
    """The local derivatives' templates for the page, and the footnotes
    (``op -> text``) where the engine's rule is another, more accurate form
    of the same derivative (explain's words after ``, as``)."""
    from .ops import OPS

    forms: dict[str, list[str]] = {}
    notes: dict[str, str] = {}
    for op, row in OPS.items():
        words = [_explain.rule_text(op, k) for k in range(row.arity)]
        forms[op] = TEXTBOOK.get(op) or TEXTBOOK.get(row.name) or [w.replace("**", "^").replace("*", "·") for w in words]
        for w in words:
            if ", as " in w:
                notes[op] = "gradcli computes " + w.split(", as ")[0].replace("**2", "²").replace("**", "^") + " as " + w.split(", as ")[1] + \
                    ": the same number, accurate where the textbook form loses digits"
    return forms, notes


def data(graph: Graph, pic: Picture, ex: _explain.Explanation, precision: int, grads: bool,
         filename: str | None) -> dict:
    """Everything the page's script needs, as JSON-ready lists (one entry per
    node of the tape, so the page computes exactly what the engine does)."""
    nodes = graph.nodes
    drawn = bytearray(len(nodes))
    for node in pic.nodes:
        drawn[node.index] = 1
    live = _explain.live(graph)
    shown = ex.shown
    texts: dict[int, list] = {}
    for node in nodes:
        if node.children and (drawn[node.index] or live[node.index]):
            args = [shown[c.index] for c in node.children]
            texts[node.index] = [_explain.expression(node, shown),
                                 [_explain.rule(node.op, k, args, shown[node.index])
                                  for k in range(len(node.children))]]
    steps = [[s.node.index, [[c.child.index, c.operand, c.use, c.uses] for c in s.contributions]]
             for s in ex.steps]
    return {
        "op": [n.op for n in nodes],
        "ch": [[c.index for c in n.children] for n in nodes],
        "kind": [n.kind for n in nodes],
        "label": [n.label for n in nodes],
        "pos": [[n.pos.line, n.pos.column, n.pos.length] if n.pos is not None else None for n in nodes],
        "data": [_finite(n.data) for n in nodes],
        "shown": [shown.get(n.index, f"n{n.index}") for n in nodes],
        "drawn": [n.index for n in pic.nodes],
        "texts": {str(k): v for k, v in texts.items()},
        "leaves": [[name, leaf.index] for name, leaf in graph.leaves.items()],
        "out": graph.output.index,
        "outName": graph.output_name or "value",
        "source": graph.source or "",
        "filename": filename,
        "mathKind": DomainError.kind,
        "steps": steps,
        "precision": precision,
        "startAtEnd": grads,
        "omitted": pic.omitted,
        "skipped": _explain.skipped_line(ex),
        "graphName": f"{pic.omitted:,} more nodes not drawn (--max-nodes)" if pic.omitted else "",
    }


def html(graph: Graph, precision: int = 6, grads: bool = True, max_nodes: int | None = None,
         filename: str | None = None, title: str | None = None) -> str:
    """The live page of ``graph`` as one HTML document (text).

    ``grads``: open showing every gradient (the backward pass done, as
    ``graph`` draws it), or before the backward pass. ``max_nodes``: draw
    only that many value nodes nearest the output, as ``graph --max-nodes``
    (the page still computes every node). ``filename``: how errors name
    the program's file, as the command line does. The graph's nodes are
    not changed (its Values' data and grad stay as they are)."""
    if graph.opaque is not None:
        require_ops([graph.opaque], "the live page (it recomputes every node in the browser)")
    pic = select(graph, max_nodes)
    ex = _explain.steps(graph)
    name = graph.output_name or "value"
    heading = title or f"{name} = {short(graph.output.data, precision)}"
    payload = data(graph, pic, ex, precision, grads, filename)
    payload["geo"] = geometry(pic, precision, ex.grads)
    payload["tb"], payload["notes"] = textbook()
    return _TEMPLATE.format(
        title=_attr(title or f"gradcli · {name}"),
        heading=_attr(heading),
        css=_asset("page.css"),
        data=_json(payload),
        ops=op_table(),
        js=_asset("page.js"),
    )


def op_table() -> str:
    """The JavaScript object ``OPS``: for each op of ``ops.OPS``, its forward
    ``f(x, y)`` (throwing a ``RangeError`` with the row's words where the op
    is undefined: the page shows the command line's message), its local
    derivatives ``d[i](x, y, out)`` and its chain rules ``c[i](g, x, y, out)``."""
    rows = []
    for name, rule in js_rules().items():
        params = ", ".join(("x", "y")[:len(rule["partials"])])
        checks = "".join(f"if ({cond}) throw new RangeError({json.dumps(why)}); " for cond, why in rule["guards"])
        f = f"function ({params}) {{ {checks}return {rule['forward']}; }}"
        d = ", ".join(f"function ({params}, out) {{ return {t}; }}" for t in rule["partials"])
        c = ", ".join(f"function (g, {params}, out) {{ return {t}; }}" for t in rule["chains"])
        rows.append(f"  {json.dumps(name)}: {{f: {f},\n    d: [{d}],\n    c: [{c}]}}")
    return "{\n" + ",\n".join(rows) + "\n}"


_TEMPLATE = """<!DOCTYPE html>
<html lang="en" data-gradcli>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="gradcli">
<link rel="icon" href="data:,">
<title>{title}</title>
<style>
{css}
</style>
</head>
<body>
<p class="gradcli-embedded">This is gradcli's live page. It runs as a page of its own: in a notebook, show <code>gradcli.draw(v, "html")</code> as a cell's last line (it is shown in a frame), or write it to a file and open that.</p>
<a class="skip" href="#stepper">Skip to the controls</a>
<header>
  <h1 id="heading">{heading}</h1>
  <p class="hint">Step with &larr; &rarr; (or the buttons), play with <kbd>space</kbd>; drag to move, <kbd>+</kbd> <kbd>&minus;</kbd> to zoom; hover or tap a node to inspect it; drag a leaf's number to change it.</p>
</header>
<main>
<aside id="panel">
  <div id="error" role="alert" hidden><pre id="error-text"></pre></div>
  <section id="stepper" aria-label="the backward pass" tabindex="-1">
    <h2>Backward pass</h2>
    <div class="row buttons">
      <button id="first" title="before the backward pass (Home)" aria-label="before the backward pass">|&#x25C0;&#xFE0E;</button>
      <button id="prev" title="one step back (&larr;)" aria-label="one step back">&#x25C0;&#xFE0E;</button>
      <button id="play" title="play or pause (space)" aria-label="play">&#x25B6;&#xFE0E; play</button>
      <button id="next" title="one step forward (&rarr;)" aria-label="one step forward">&#x25B6;&#xFE0E;</button>
      <button id="last" title="after the backward pass (End)" aria-label="after the backward pass">&#x25B6;&#xFE0E;|</button>
      <span id="counter" aria-live="polite"></span>
    </div>
    <div id="steptext" class="steptext" aria-live="polite"></div>
  </section>
  <section id="inspect" aria-label="the node under the pointer">
    <h2>Node</h2>
    <div id="inspect-body" class="muted">Hover, focus or tap a node.</div>
  </section>
  <section id="leaves" aria-label="the leaves">
    <h2>Leaves <button id="reset" class="small" title="back to the values the page was written with">reset</button></h2>
    <div id="leaf-list"></div>
  </section>
  <section id="nudge" aria-label="nudge the leaves along the gradient">
    <h2>Nudge</h2>
    <div class="row">
      <label for="h">step h</label> <input id="h" type="text" inputmode="decimal" value="0.01" size="8">
      <button id="nudge-up" title="every leaf += h * grad">+h&middot;grad</button>
      <button id="nudge-down" title="every leaf -= h * grad">&minus;h&middot;grad</button>
    </div>
    <div id="nudge-out" class="muted" aria-live="polite">Moves every leaf by h times its gradient, and compares the new output with its first-order prediction.</div>
  </section>
  <section id="quiz" aria-label="quiz">
    <h2>Quiz</h2>
    <label><input type="checkbox" id="quiz-on"> hide the grads and work them out</label>
    <div id="quiz-body" hidden></div>
  </section>
</aside>
<section id="canvas" aria-label="the graph">
<div id="zoombar"><button id="zoom-in" title="zoom in (+)" aria-label="zoom in">+</button><button id="zoom-out" title="zoom out (-)" aria-label="zoom out">&minus;</button><button id="zoom-fit" title="the whole graph (0)" aria-label="show the whole graph">fit</button><button id="zoom-step" title="back to the step (.)" aria-label="show the current step">step</button></div>
<div id="more" hidden></div>
<canvas id="far" hidden aria-hidden="true"></canvas>
<div id="toast" aria-live="polite" hidden></div>
<svg id="graph" xmlns="http://www.w3.org/2000/svg" role="group" aria-label="the graph"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="context-stroke"/></marker><marker id="arrow-hot" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="3" markerHeight="3" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#e8590c"/></marker></defs><g id="edges"></g><g id="nodes"></g><g id="labels"></g></svg>
<canvas id="minimap" width="150" height="90" aria-hidden="true" hidden></canvas>
</section>
</main>
<script id="gradcli-data" type="application/json">{data}</script>
<script>
"use strict";
/* The op table: gradcli's ops.py, spelled by its code generator's js printer. */
var OPS = document.documentElement.hasAttribute("data-gradcli") ? {ops} : null;
</script>
<script>
{js}
</script>
</body>
</html>
"""

__all__ = ("html", "boxes", "geometry", "data", "op_table", "textbook")
