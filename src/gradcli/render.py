"""Render: results -> text. Plain lines for pipes, JSON for programs, rich
tables for people. Nothing here prints; the command line does.

rich is imported only by the table functions, so piped calls never load it.
"""

from __future__ import annotations

import json
import math
from typing import Mapping, Sequence

from .engine import Graph, Value, paused_gc
from .ops import SHOWN


def full(x: float) -> str:
    """A number at full precision (Python's repr), with no negative zero."""
    return repr(x + 0.0)


def short(x: float, precision: int = 6) -> str:
    """A number for people: ``precision`` significant digits, no ``-0``."""
    text = f"{x + 0.0:.{precision}g}"
    return "0" if text in ("-0", "0") else text


def json_number(x: float) -> float | None:
    """A number for JSON: finite as itself (no negative zero), else null."""
    return x + 0.0 if math.isfinite(x) else None


def plain_grads(grads: Mapping[str, float]) -> str:
    """``NAME<TAB>GRADIENT`` lines."""
    return "".join(f"{name}\t{full(g)}\n" for name, g in grads.items())


def as_json(value: float, grads: Mapping[str, float] | None = None, **extra: object) -> str:
    """The one JSON object of ``--json``: ``{"value": V, "grad": {...}}``."""
    obj: dict[str, object] = {"value": value + 0.0}
    if grads is not None:
        obj["grad"] = {name: g + 0.0 for name, g in grads.items()}
    obj.update(extra)
    return json.dumps(obj)


def points_header(grads: Sequence[str] | None) -> str:
    """The CSV header of ``--at``: ``value``, then ``grad_NAME`` for each gradient."""
    return ",".join(["value", *(f"grad_{name}" for name in grads or ())]) + "\n"


def points_csv(block) -> str:
    """CSV lines for a block of points (arrays.Block): the value and each
    gradient at full precision; a point with an error gets empty fields."""
    columns = [(block.value + 0.0).tolist(), *((g + 0.0).tolist() for g in block.grads.values())]
    lines = [",".join(map(repr, row)) for row in zip(*columns)]
    for r in block.errors:
        lines[r] = "," * (len(columns) - 1)
    return "\n".join(lines) + "\n"


def points_json(block, grads: bool) -> str:
    """JSON lines for a block of points: each ``{"value": V, "grad": {...}}``
    as ``--json`` prints it for one point; a point with an error gets
    ``{"value": null, "error": MESSAGE}``."""
    names = list(block.grads)
    if grads:
        inner = ", ".join(f"{json.dumps(n)}: %r" for n in names)
        template = '{"value": %r, "grad": {' + inner + "}}"
    else:
        template = '{"value": %r}'
    columns = [(block.value + 0.0).tolist(), *((g + 0.0).tolist() for g in block.grads.values())]
    lines = [template % row for row in zip(*columns)]
    for r, (e, _) in block.errors.items():
        lines[r] = json.dumps({"value": None, "error": e.message})
    return "\n".join(lines) + "\n"


def value_line(graph: Graph, precision: int | None = None) -> str:
    """The output's name and value, as rich markup, above a table: at full
    precision, or ``precision`` significant digits."""
    name = graph.output_name or "value"
    shown = full(graph.value) if precision is None else short(graph.value, precision)
    return f"[bold]{name}[/bold] = [bold green]{shown}[/bold green]"


def _node_fields(graph: Graph, node: Value) -> tuple[str, str, str, str, str]:
    """id, name, op, inputs and kind (``op`` for an unnamed operation) as
    ``--all`` writes them for scripts."""
    return (node_id(node), node.label or "", SHOWN.get(node.op, node.op) or ("number" if node.kind == "const" else ""),
            " ".join(node_id(c) for c in node.children), kind_of(node, graph) or "op")


def nodes_json(graph: Graph, grads: Mapping[str, float] | bool | None = None) -> str:
    """``--all --json``: the usual object plus ``nodes``, every node in tape
    order with its id, name, op, inputs (ids), kind, data and (for ``grad``)
    grad; a number's grad, never computed, is null."""
    with paused_gc():
        return _nodes_json(graph, grads)


def _nodes_json(graph: Graph, grads: Mapping[str, float] | bool | None) -> str:
    with_grads = grads is not False
    nodes = []
    for node in graph.nodes:
        ident, name, op, inputs, kind = _node_fields(graph, node)
        item: dict[str, object] = {"id": ident, "name": name or None, "op": op or None,
                                   "inputs": inputs.split() if inputs else [], "kind": kind,
                                   "data": json_number(node.data)}
        if with_grads:
            item["grad"] = None if node.kind == "const" else json_number(node.grad)
        nodes.append(item)
    return as_json(graph.value, grads if with_grads else None, nodes=nodes) + "\n"


def nodes_tsv(graph: Graph, grads: bool, precision: int | None = None) -> str:
    """``--all`` in plain output: a header line, then one tab-separated line
    per node in tape order (id, name, op, inputs, kind, data, grad)."""
    with paused_gc():
        return _nodes_tsv(graph, grads, precision)


def _nodes_tsv(graph: Graph, grads: bool, precision: int | None) -> str:
    number = full if precision is None else (lambda x: short(x, precision))
    header = ["id", "name", "op", "inputs", "kind", "data"] + (["grad"] if grads else [])
    lines = ["\t".join(header)]
    for node in graph.nodes:
        fields = [*_node_fields(graph, node), number(node.data)]
        if grads:
            fields.append("" if node.kind == "const" else number(node.grad))
        lines.append("\t".join(fields))
    return "".join(line + "\n" for line in lines)


def node_id(node: Value) -> str:
    """A node's id: its place on the tape, as the graph picture names it."""
    return f"n{node.index}"


def node_rows(graph: Graph, every: bool = False, reported: Sequence[str] = ()) -> list[Value]:
    """The nodes a table shows, in tape order: every node with ``every``;
    otherwise the leaves, the reported (``--wrt``) nodes and the output. A
    5,000-step accumulator names 5,000 nodes; a table of them helps nobody
    by default (``hidden`` says what was left out)."""
    end = graph.output.index
    if every:
        return list(graph.nodes)
    wanted = {node.index for node in graph.leaves.values()}
    wanted.update(graph.node(n).index for n in reported)
    wanted.add(end)
    return [graph.nodes[i] for i in sorted(wanted)]


def hidden(graph: Graph, shown: Sequence[Value]) -> str:
    """What a table without ``--all`` left out, in words, when named nodes
    were (numbers in the program are not counted); empty otherwise."""
    seen = {node.index for node in shown}
    named = ops = 0
    for node in graph.nodes:
        if node.index in seen or node.kind == "const":
            continue
        if node.label:
            named += 1
        else:
            ops += 1
    if not named:   # unnamed operations alone: the table never showed them
        return ""
    parts = [f"{named:,} named node{'s' * (named != 1)}"]
    if ops:
        parts.append(f"{ops:,} operation{'s' * (ops != 1)}")
    return " and ".join(parts) + " not shown (--all shows every node)"


def kind_of(node: Value, graph: Graph) -> str:
    """input, leaf or const, and output; empty for an intermediate op."""
    kinds = [node.kind] if node.kind != "op" else []
    if node is graph.output:
        kinds.append("output")
    return ", ".join(kinds)


NODE_HEADER = ("id", "name", "op", "inputs", "kind", "data", "grad")
# Rows past this many are drawn without colour: a table that long is for
# scrolling through, and one style per cell would make drawing it slower
# than computing it.
LONG_TABLE = 5000


def table(graph: Graph, reported: Sequence[str] = (), every: bool = False,
          precision: int = 6, grads: bool = True, title: str | None = None):
    """The table of nodes (a texttable.Grid): id, name, op, (inputs with
    ``every``), kind, data and grad. Leaves and the output are marked; the
    reported gradients stand out. At a short width the kind, op, inputs and
    (for the default rows) id columns go first, then names fold; numbers
    are never cut."""

    with paused_gc():      # a million new lists: the collector would walk the graph each time
        return _table(graph, reported, every, precision, grads, title)


def _table(graph: Graph, reported: Sequence[str], every: bool, precision: int, grads: bool, title: str | None):
    from .texttable import FOLD, Grid

    nodes = node_rows(graph, every, reported)
    wanted = {graph.node(n).index for n in reported}
    header = [h for h in NODE_HEADER if (every or h != "inputs") and (grads or h != "grad")]
    col = {h: i for i, h in enumerate(header)}
    output = graph.output
    rows = []
    spec = f".{precision}g"
    for node in nodes:     # one row per node, inline: --all on 300,000 nodes
        kind = node.kind
        row = [f"n{node.index}", node.label, SHOWN.get(node.op, node.op) or ("number" if kind == "const" else "")]
        if every:
            row.append(" ".join([f"n{c.index}" for c in node.children]))
        shown = format(node.data + 0.0, spec)
        row += [kind_of(node, graph) if kind != "op" or node is graph.output else "",
                "0" if shown == "-0" else shown]
        if grads:
            # a number's gradient is never computed: show none rather than a false 0
            shown = "" if kind == "const" else format(node.grad + 0.0, spec)
            row.append("0" if shown == "-0" else shown)
        rows.append(row)
    plain = len(rows) > LONG_TABLE
    name_col, grad_col = col["name"], col.get("grad")

    def cell_style(k: int, i: int) -> str:
        node = nodes[k]
        if i == name_col:
            return "bold green" if node is output else "cyan" if node.is_leaf else ""
        if i == grad_col and node.index in wanted:
            return "bold yellow"
        return ""

    dim = {col[h]: "dim" for h in ("id", "inputs", "kind") if h in col}
    drop = [col["kind"], col["op"], FOLD] + ([col["inputs"]] if every else [col["id"]])
    fold = [col[h] for h in ("name", "inputs") if h in col]
    return Grid(header, rows, right=[col["data"]] + ([grad_col] if grads else []),
                styles=None if plain else dim, cell_styles=None if plain else cell_style,
                title=title, drop=drop, fold=fold, key=[col["id"], name_col])


def matrix_tsv(names: Sequence[str], matrix: Sequence[Sequence[float]], precision: int | None = None) -> str:
    """A square matrix with its names: a header line (an empty corner, then
    the names) and one ``NAME<TAB>V<TAB>V...`` line per row, at full precision
    (or ``precision`` digits);
    nothing at all for no names."""
    if not names:
        return ""
    lines = ["\t".join(["", *names])]
    number = full if precision is None else (lambda x: short(x, precision))
    lines += ["\t".join([name, *(number(v) for v in row)]) for name, row in zip(names, matrix)]
    return "".join(line + "\n" for line in lines)


def matrix_table(names: Sequence[str], matrix: Sequence[Sequence[float]], precision: int = 6):
    """A square matrix with its names (a texttable.Grid), the diagonal in
    bold. Too wide for the terminal, it wraps into blocks of columns, each
    with the row names, as NumPy prints wide arrays: no entry is ever left
    out or cut."""
    from .texttable import Grid

    rows = [[name, *(short(v, precision) for v in row)] for name, row in zip(names, matrix)]

    def cell_style(k: int, i: int) -> str:
        return "bold" if i == k + 1 else ""

    return Grid(["", *names], rows, right=range(1, len(names) + 1), styles={0: "cyan"},
                cell_styles=cell_style, repeat=0, fold=[0])


# ------------------------------------------ lines of segments fitted to a width

def fold(segments: Sequence[tuple], width: int, indent: int = 8) -> list[list[tuple]]:
    """A line of ``(text, style)`` segments (explain's steps: an operand,
    its rule, the local derivative, the product, the running sum, with
    spaces between) as lines no wider than ``width``: broken between
    segments where it can be, else at the spaces inside one, never inside
    a number or a name; the lines after the first are indented by
    ``indent``. A word wider than the width stays whole."""
    lines: list[list[tuple]] = [[]]
    used = 0

    def new_line() -> None:
        nonlocal used
        while lines[-1] and not lines[-1][-1][0].strip():
            lines[-1].pop()                                 # no spaces at the end of a line
        if lines[-1]:
            lines[-1][-1] = (lines[-1][-1][0].rstrip(), lines[-1][-1][1])
        lines.append([(" " * indent, "")])
        used = indent

    for text, style in segments:
        if not text.strip():                                # a gap between segments
            if used > indent or len(lines) == 1:
                lines[-1].append((text, style))
                used += len(text)
            continue
        if used + len(text.rstrip()) <= width:
            lines[-1].append((text, style))
            used += len(text)
            continue
        if used > indent and indent + len(text.rstrip()) <= width:
            new_line()
            lines[-1].append((text, style))
            used += len(text)
            continue
        for k, word in enumerate(text.rstrip().split(" ")):   # too long for any line: its words
            if k and used + 1 + len(word) > width and used > indent:
                new_line()
            elif k:
                lines[-1].append((" ", style))
                used += 1
            elif used + len(word) > width and used > indent:
                new_line()
            lines[-1].append((word, style))
            used += len(word)
    return lines


class Folded:
    """A rich renderable: ``fold`` at the console's width, one Text a line."""

    def __init__(self, segments: Sequence[tuple], indent: int = 8):
        self.segments = list(segments)
        self.indent = indent

    def __rich_console__(self, console, options):
        from rich.text import Text

        for line in fold(self.segments, options.max_width, self.indent):
            text = Text.assemble(*line)
            text.no_wrap = True
            text.overflow = "ignore"
            yield text
