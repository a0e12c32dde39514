"""Render: results -> text. Plain lines for pipes, JSON for programs, rich
tables for people. Nothing here prints; the command line does.

rich is imported only by the table functions, so piped calls never load it.
"""

from __future__ import annotations

import json
import math
from typing import Mapping, Sequence

from .engine import Graph, Value


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
    """CSV lines for a block of points (batch.Block): the value and each
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


def value_line(graph: Graph) -> str:
    """The output's name and value, as rich markup, above a table."""
    name = graph.output_name or "value"
    return f"[bold]{name}[/bold] = [bold green]{full(graph.value)}[/bold green]"


def node_id(node: Value) -> str:
    """A node's id: its place on the tape, as the graph picture names it."""
    return f"n{node.index}"


def node_rows(graph: Graph, every: bool = False) -> list[Value]:
    """The nodes a table shows, in tape order: every node with ``every``,
    otherwise the named ones and the output."""
    end = graph.output.index
    rows = []
    for node in graph.nodes:
        if every or node.label or node.index == end:
            rows.append(node)
    return rows


def kind_of(node: Value, graph: Graph) -> str:
    """input, leaf or const, and output; empty for an intermediate op."""
    kinds = [node.kind] if node.kind != "op" else []
    if node is graph.output:
        kinds.append("output")
    return ", ".join(kinds)


def table(graph: Graph, reported: Sequence[str] = (), every: bool = False,
          precision: int = 6, grads: bool = True):
    """A rich Table of nodes: id, name, op, (inputs), data and grad. Leaves and
    the output are marked; the reported gradients stand out."""
    from rich.table import Table
    from rich.text import Text

    wanted = {id(graph.node(n)) for n in reported}
    t = Table(header_style="bold", box=_box())
    t.add_column("id", style="dim", no_wrap=True)
    t.add_column("name", no_wrap=True)
    t.add_column("op", no_wrap=True)
    if every:
        t.add_column("inputs", style="dim")
    t.add_column("kind", style="dim", no_wrap=True)
    t.add_column("data", justify="right", no_wrap=True)
    if grads:
        t.add_column("grad", justify="right", no_wrap=True)
    for node in node_rows(graph, every):
        kind = kind_of(node, graph)
        style = "bold green" if node is graph.output else "cyan" if node.is_leaf else ""
        row: list[object] = [
            node_id(node),
            Text(node.label or "", style=style),
            node.op or ("number" if node.kind == "const" else ""),
        ]
        if every:
            row.append(" ".join(node_id(c) for c in node.children))
        row += [kind, short(node.data, precision)]
        if grads:
            # a number's gradient is never computed: show none rather than a false 0
            shown = "" if node.kind == "const" else short(node.grad, precision)
            row.append(Text(shown, style="bold yellow" if id(node) in wanted else ""))
        t.add_row(*row)
    return t


def matrix_tsv(names: Sequence[str], matrix: Sequence[Sequence[float]]) -> str:
    """A square matrix with its names: a header line (an empty corner, then
    the names) and one ``NAME<TAB>V<TAB>V...`` line per row, at full precision;
    nothing at all for no names."""
    if not names:
        return ""
    lines = ["\t".join(["", *names])]
    lines += ["\t".join([name, *(full(v) for v in row)]) for name, row in zip(names, matrix)]
    return "".join(line + "\n" for line in lines)


def matrix_table(names: Sequence[str], matrix: Sequence[Sequence[float]], precision: int = 6):
    """A square matrix with its names as a rich Table, the diagonal in bold."""
    from rich.table import Table
    from rich.text import Text

    t = Table(header_style="bold", box=_box())
    t.add_column("", style="cyan", no_wrap=True)
    for name in names:
        t.add_column(name, justify="right", no_wrap=True)
    for i, (name, row) in enumerate(zip(names, matrix)):
        t.add_row(name, *(Text(short(v, precision), style="bold" if i == j else "") for j, v in enumerate(row)))
    return t


def _box():
    from rich import box

    return box.SIMPLE_HEAD
