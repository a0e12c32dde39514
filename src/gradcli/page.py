"""The live page: a graph as one self-contained HTML file (``graph -o L.html``).

``html(graph)`` returns the page as text. It needs nothing at run time: no
network (a Content-Security-Policy of ``default-src 'none'`` forbids every
request, fonts and favicon included), no Graphviz (layout.py lays the graph
out here, in Python), no library (the script is ``web/page.js``, gradcli's
own, inlined with ``web/page.css``).

What goes into it, all computed from the library's own code:

- the picture: an SVG drawn here like draw.py's DOT (the same records
  ``name · n<i> | data | grad``, op nodes ``n<i>op``, numbers, stubs for
  ``--max-nodes``, the same colours), at the coordinates of ``layout.layout``;
- the whole tape (every node, drawn or not): op, operands, kind, name,
  place in the source, data; so the page recomputes forward and backward
  at any leaf values exactly as the engine does;
- the op table as JavaScript: ``op_table()``, each row of ``ops.py``
  spelled by the code generator's ``js`` printer (``codegen.js_rules``,
  the printer ``codegen --lang js`` uses): forward, domain guards throwing
  a ``RangeError`` with the row's own words, local derivatives and chain
  rules;
- the backward steps of ``explain.steps`` (which operation, which operands,
  which use of how many) and explain's texts (names, expressions, rules), so
  the page steps through ``gradcli explain``'s steps and prints its numbers.

The page's script exposes ``window.gradcli`` (``result``, ``set``,
``steps``, ``step``) as the contract's section 4 gives it.

Size and time (bench/page_bench.py, this machine's 2 shared cores): 200 to
900 bytes per program node (the picture's markup is most of it); a page of
1,055 nodes (an unrolled MLP) in 0.75 s, 5,007 nodes in 4.7 s, the layout
taking three quarters of it.
"""

from __future__ import annotations

import html as _html
import json
from importlib import resources

from . import explain as _explain
from .draw import Picture, select
from .engine import Graph, Value
from .errors import DomainError
from .codegen import js_rules
from .layout import layout
from .ops import shown as _shown_op
from .render import short

# Geometry of the boxes (px). Numbers are set in a monospace font so that a
# cell fits the longest of `%.6g`'s forms (`-1.23457e-05`, 12 characters).
NAME_CH = 7.0
NUM_CH = 7.3
NUM_CHARS = 12
VALUE_H = 28.0
SMALL_H = 22.0
FIELD_PAD = 7.0



def _asset(name: str) -> str:
    return resources.files("gradcli").joinpath("web", name).read_text(encoding="utf-8")


def _attr(text: str) -> str:
    return _html.escape(text, quote=True)


def _json(obj: object) -> str:
    """JSON safe inside a <script> element."""
    return (json.dumps(obj, separators=(",", ":"), allow_nan=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _finite(x: float) -> float | None:
    return x + 0.0 if x == x and x not in (float("inf"), float("-inf")) else None


class _Box:
    __slots__ = ("key", "node", "shape", "w", "h", "text")

    def __init__(self, key: str, node: Value, shape: str, w: float, h: float, text: str):
        self.key, self.node, self.shape, self.w, self.h, self.text = key, node, shape, w, h, text


def _value_name(node: Value) -> str:
    name = node.label or _shown_op(node.op) or ("number" if node.kind == "const" else "value")
    return f"{name} · n{node.index}"


def _num_w(chars: int = NUM_CHARS) -> float:
    return 2 * FIELD_PAD + 4 * NAME_CH + chars * NUM_CH


def num_chars(pic: Picture, precision: int, grads: dict[int, float]) -> int:
    """How many characters a data or grad cell holds: the longest number
    the picture shows now, at least 6 and at most 12 (`-1.23457e-05`). A
    longer number after a poke is squeezed into the cell by the page."""
    longest = 6
    for node in pic.nodes:
        longest = max(longest, len(short(node.data, precision)), len(short(grads.get(node.index, 0.0), precision)))
    return min(longest, NUM_CHARS)


def boxes(pic: Picture, precision: int, chars: int = NUM_CHARS) -> tuple[list[_Box], list[tuple[int, int, str]]]:
    """The boxes of the picture in topological order (an op's circle just
    before its value) and the edges between them, each with its DOM id:
    ``e<i>_<k>`` for operand k into op i, ``e<i>`` for op i into its value."""
    graph = pic.graph
    out = graph.output
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
            box = _Box(f"n{i}op", node, "op", max(SMALL_H + 6, NAME_CH * len(text) + 14), SMALL_H + 6, text)
        elif kind == "const":
            text = short(node.data, precision)
            box = _Box(f"n{i}", node, "const", NAME_CH * len(text) + 2 * FIELD_PAD, SMALL_H, text)
        else:
            text = _value_name(node)
            w = max(40.0, NAME_CH * len(text) + 2 * FIELD_PAD) + 2 * _num_w(chars)
            box = _Box(f"n{i}", node, "value", w, VALUE_H, text)
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


def svg(pic: Picture, precision: int, grads: bool, shown_grads: dict[int, float]) -> tuple[str, float, float]:
    """The picture as SVG markup, its width and height."""
    graph = pic.graph
    chars = num_chars(pic, precision, shown_grads)
    bx, edges = boxes(pic, precision, chars)
    lay = layout([b.w for b in bx], [b.h for b in bx], [(u, v) for u, v, _ in edges])
    margin = 16.0
    top = 28.0 if pic.omitted else 0.0
    width = lay.width + 2 * margin
    height = lay.height + 2 * margin + top
    out = []
    add = out.append
    add(f'<svg id="graph" data-chars="{chars}" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="group" aria-label="the graph">')
    add('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="context-stroke"/></marker>'
        '<marker id="arrow-hot" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="3" markerHeight="3" '
        'orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#e8590c"/></marker></defs>')
    add(f'<g transform="translate({margin:.0f},{margin + top:.0f})">')
    if pic.omitted:
        add(f'<text class="more" x="0" y="{-top + 10:.0f}">{pic.omitted:,} more nodes not drawn (--max-nodes)</text>')
    add('<g class="edges">')
    for (u, v, eid), pts in zip(edges, lay.routes):
        add(f'<path id="{eid}" class="e" d="{_path(pts)}"/>')
    add("</g><g class=\"nodes\">")
    numw = _num_w(chars)
    for b, x, y in zip(bx, lay.x, lay.y):
        node = b.node
        i = node.index
        left, topy = x - b.w / 2, y - b.h / 2
        if b.shape == "op":
            add(f'<g id="{b.key}" class="op" transform="translate({x:.0f},{y:.0f})">'
                f'<ellipse rx="{b.w / 2:.1f}" ry="{b.h / 2:.1f}"/><text y="4">{_attr(b.text)}</text></g>')
        elif b.shape == "const":
            add(f'<g id="{b.key}" class="const" transform="translate({x:.0f},{y:.0f})">'
                f'<ellipse rx="{b.w / 2:.1f}" ry="{b.h / 2:.1f}"/><text y="4">{_attr(b.text)}</text></g>')
        elif b.shape == "stub":
            add(f'<g id="{b.key}" class="stub" transform="translate({left:.0f},{topy:.0f})">'
                f'<rect width="{b.w:.1f}" height="{b.h:.1f}" rx="5"/>'
                f'<text x="{b.w / 2:.1f}" y="{b.h / 2 + 4:.1f}">{_attr(b.text)}</text></g>')
        else:
            cls = "v out" if node is graph.output else f"v {node.kind}"
            name_w = b.w - 2 * numw
            g = shown_grads.get(i)
            gtext = short(g, precision) if grads and g is not None else ""
            ty = f"{b.h / 2 + 4:.0f}"
            add(f'<g id="{b.key}" class="{cls}" tabindex="0" role="button" transform="translate({left:.0f},{topy:.0f})">'
                f'<rect class="box" width="{b.w:.0f}" height="{b.h:.0f}" rx="6"/>'
                f'<path class="sep" d="M{name_w:.0f},0v{b.h:.0f}M{name_w + numw:.0f},0v{b.h:.0f}"/>'
                f'<text x="{name_w / 2:.0f}" y="{ty}">{_attr(b.text)}</text>'
                f'<text class="num" x="{name_w + FIELD_PAD:.0f}" y="{ty}">data<tspan class="d" x="{name_w + FIELD_PAD + 4 * NAME_CH:.0f}">'
                f'{_attr(short(node.data, precision))}</tspan></text>'
                f'<rect class="gcell" x="{name_w + numw:.0f}" width="{numw:.0f}" height="{b.h:.0f}" rx="6"/>'
                f'<text class="num" x="{name_w + numw + FIELD_PAD:.0f}" y="{ty}">grad<tspan class="g" x="{name_w + numw + FIELD_PAD + 4 * NAME_CH:.0f}">'
                f'{_attr(gtext)}</tspan></text></g>')
    add("</g></g></svg>")
    return "".join(out), width, height


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
    pic = select(graph, max_nodes)
    ex = _explain.steps(graph)
    body, width, height = svg(pic, precision, grads, ex.grads)
    name = graph.output_name or "value"
    heading = title or f"{name} = {short(graph.output.data, precision)}"
    payload = data(graph, pic, ex, precision, grads, filename)
    return _TEMPLATE.format(
        title=_attr(title or f"gradcli · {name}"),
        heading=_attr(heading),
        css=_asset("page.css"),
        svg=body,
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
<html lang="en">
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
<header>
  <h1 id="heading">{heading}</h1>
  <p class="hint">Step with &larr; &rarr; (or the buttons), play with <kbd>space</kbd>; hover, focus or tap a node to inspect it; change a leaf to recompute.</p>
</header>
<main>
<section id="canvas" aria-label="the graph">
<div id="zoombar"><button id="zoom-in" title="zoom in (+)" aria-label="zoom in">+</button><button id="zoom-out" title="zoom out (-)" aria-label="zoom out">&minus;</button><button id="zoom-fit" title="fit (0)" aria-label="fit the graph">fit</button></div>
{svg}
</section>
<aside id="panel">
  <div id="error" role="alert" hidden><pre id="error-text"></pre></div>
  <section id="stepper" aria-label="the backward pass">
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
</main>
<script id="gradcli-data" type="application/json">{data}</script>
<script>
"use strict";
/* The op table: gradcli's ops.py, spelled by its code generator's js printer. */
const OPS = {ops};
</script>
<script>
{js}
</script>
</body>
</html>
"""

__all__ = ("html", "boxes", "svg", "data", "op_table")
