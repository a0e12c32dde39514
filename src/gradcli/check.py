"""Check: every backprop gradient against a central finite difference.

For a leaf, the difference runs the whole forward pass at ``x+h`` and
``x-h``; for an intermediate node (``every``), the node's own value is
nudged and only the tape after it is recomputed, so the difference measures
d output / d that node with everything before it held fixed. The step is
``h * max(1, |x|)``. Where a side leaves the domain (``log`` near 0) the
step shrinks tenfold a few times; failing that, a one-sided difference is
used, and said.

Some nodes sit exactly where calculus leaves the derivative to a convention
(``relu`` or ``abs`` at 0, ``sqrt`` at 0, a tie in ``max``...). ``KINKS``
recognises them; the report names each one with the value backprop used,
and a disagreement on a gradient that flows through one is a ``kink``, not
a failure, because the finite difference straddles the corner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

from .engine import Graph, Value, forward, reaches
from .errors import DomainError
from .explain import expression, live, local, names
from .render import json_number, short as _n

H = 1e-6
RTOL = 1e-5
ATOL = 1e-8
SHRINK = 6   # times the step may shrink tenfold before a one-sided difference


def _base_zero(x: float, y: float) -> bool:
    return x == 0.0


# op name -> (is this node at a corner?, what the convention is)
KINKS: dict[str, tuple[Callable[..., bool], str]] = {
    "relu": (lambda x: x == 0.0, "relu'(0) = 0 by convention: the slope is 0 on the left, 1 on the right"),
    "abs": (lambda x: x == 0.0, "abs'(0) = 0 by convention: the slope is -1 on the left, 1 on the right"),
    "sqrt": (lambda x: x == 0.0, "sqrt'(0) = 1/(2*sqrt(0)) is not finite"),
    "sign": (lambda x: x == 0.0, "sign jumps at 0; its derivative is taken as 0"),
    "step": (lambda x: x == 0.0, "step jumps at 0; its derivative is taken as 0"),
    "max": (lambda a, b: a == b, "at a tie max splits the gradient evenly, 1/2 to each operand"),
    "min": (lambda a, b: a == b, "at a tie min splits the gradient evenly, 1/2 to each operand"),
    "**": (_base_zero, "x**y at x = 0: d/dx may not be finite, and d/dy = out*log(0) is taken as 0"),
}


@dataclass
class Kink:
    node: Value
    convention: str
    used: list[float]          # the local derivative backprop used, per operand


@dataclass
class Row:
    name: str
    node: Value
    grad: float                # backprop
    numeric: float             # finite difference (nan when not defined on either side)
    method: str                # "central", "forward" (x, x+h), "backward" (x-h, x) or "none"
    step: float
    abs_error: float
    rel_error: float
    verdict: str               # "ok", "FAIL" or "kink"
    kinks: list[Kink] = field(default_factory=list)   # the corners this gradient flows through


@dataclass
class Report:
    value: float
    rows: list[Row]
    kinks: list[Kink]
    h: float
    rtol: float
    atol: float

    @property
    def failures(self) -> int:
        return sum(r.verdict == "FAIL" for r in self.rows)

    @property
    def ok(self) -> bool:
        return self.failures == 0


def kinks(graph: Graph, flags: Sequence[bool] | None = None) -> list[Kink]:
    """The operations the output depends on that sit exactly on a corner."""
    flags = live(graph) if flags is None else flags
    found = []
    for node in graph.nodes[:graph.output.index + 1]:
        test = KINKS.get(node.op)
        if test is None or not flags[node.index]:
            continue
        if test[0](*(c.data for c in node.children)):
            used = [local(node, i) for i in range(len(node.children))]
            found.append(Kink(node, test[1], used))
    return found


def _upstream(kink: Kink) -> set[int]:
    """Tape indices of every node ``kink``'s node depends on (not itself)."""
    seen: set[int] = set()
    stack = list(kink.node.children)
    while stack:
        node = stack.pop()
        if node.index in seen:
            continue
        seen.add(node.index)
        stack.extend(node.children)
    return seen


def _varies(graph: Graph) -> bytearray:
    """For each place on the tape: does the node depend on a leaf? A node
    computed from numbers alone (``2**2``) is a constant, not checked."""
    return reaches(graph.nodes, [n for n in graph.nodes if n.is_leaf])


def numeric(graph: Graph, node: Value, h: float = H) -> tuple[float, str, float]:
    """d output / d node by finite differences: (estimate, method, step).
    The node's value is nudged and the tape after it recomputed; everything
    is put back as it was afterwards."""
    end = graph.output.index
    tail = graph.nodes[node.index + 1:end + 1]
    x = node.data
    step = h * max(1.0, abs(x))

    def at(v: float) -> float | None:
        node.data = v
        try:
            forward(tail)
        except DomainError:
            return None
        return graph.output.data

    try:
        plus, minus = at(x + step), at(x - step)
        trial = step
        for _ in range(SHRINK):
            if plus is not None and minus is not None and (x + trial) - (x - trial):
                return (plus - minus) / ((x + trial) - (x - trial)), "central", trial
            trial /= 10.0     # a side left the domain (log near 0): try closer in
            plus, minus = at(x + trial), at(x - trial)
        plus, minus = at(x + step), at(x - step)
        if plus is None and minus is None:
            return math.nan, "none", step
        node.data = x
        forward(tail)
        base = graph.output.data
        if plus is not None and (x + step) - x:
            return (plus - base) / ((x + step) - x), "forward", step
        if minus is not None and x - (x - step):
            return (base - minus) / (x - (x - step)), "backward", step
        return math.nan, "none", step       # the step is lost in rounding
    finally:
        node.data = x
        forward(tail)


def check(graph: Graph, every: bool = False, wrt: Sequence[str] | None = None,
          h: float = H, rtol: float = RTOL, atol: float = ATOL) -> Report:
    """Backprop against finite differences for the leaves (or ``wrt``, or
    with ``every`` each node up to the output that depends on a leaf)."""
    graph.backward(check=())          # non-finite gradients are reported, not raised
    shown = names(graph)
    varies = _varies(graph)
    if wrt is not None:
        targets = [(name, graph.node(name)) for name in wrt]
    elif every:
        targets = [(shown[n.index], n) for n in graph.nodes[:graph.output.index + 1] if varies[n.index]]
    else:
        targets = list(graph.leaves.items())
    flags = live(graph)
    corners = kinks(graph, flags)
    behind = [(k, _upstream(k)) for k in corners]
    rows = []
    for name, node in targets:
        g = node.grad if node.index <= graph.output.index else 0.0
        est, method, step = numeric(graph, node, h) if node.index <= graph.output.index else (0.0, "central", 0.0)
        diff = abs(g - est)
        scale = max(abs(g), abs(est))
        if not math.isfinite(diff):
            rel = math.nan
        else:
            rel = diff / scale if scale > 0 else 0.0
        agree = math.isfinite(diff) and diff <= atol + rtol * scale
        through = [k for k, ups in behind if node.index in ups]
        verdict = "ok" if agree else ("kink" if through else "FAIL")
        rows.append(Row(name, node, g, est, method, step, diff, rel, verdict, through))
    return Report(graph.output.data, rows, corners, h, rtol, atol)


# ------------------------------------------------------------------ render

def _e(x: float) -> str:
    if math.isnan(x):
        return "nan"
    return "0" if x == 0 else (f"{x:.1e}" if math.isfinite(x) else "inf")


HEADER = ("name", "data", "backprop", "numeric", "abs error", "rel error", "verdict")
RIGHT = (1, 2, 3, 4, 5)


def rows(report: Report, precision: int = 6) -> list[list[str]]:
    out = []
    for r in report.rows:
        numeric_text = _n(r.numeric, precision) if r.method != "none" else "undefined"
        if r.method in ("forward", "backward"):
            numeric_text += " (" + r.method + ")"
        out.append([r.name, _n(r.node.data, precision), _n(r.grad, precision), numeric_text,
                    _e(r.abs_error), _e(r.rel_error), r.verdict])
    return out


def summary(report: Report) -> str:
    n = len(report.rows)
    kinked = sum(r.verdict == "kink" for r in report.rows)
    params = f"(h {report.h:g}, rtol {report.rtol:g}, atol {report.atol:g})"
    if report.failures:
        s = "s" if report.failures > 1 else ""
        head = f"FAIL: {report.failures} of {n} gradient{'s' if n > 1 else ''} disagree{'' if s else 's'} with finite differences"
    elif kinked:
        head = (f"ok: {n - kinked} of {n} agree with finite differences; {kinked} sit{'s' if kinked == 1 else ''} "
                "on a corner where they cannot agree (see below), not counted as failures")
    elif n == 0:
        head = "ok: nothing to check (the program has no leaves)"
    elif n == 1:
        head = "ok: the gradient agrees with finite differences"
    else:
        head = f"ok: all {n} gradients agree with finite differences"
    return f"{head} {params}"


def kink_lines(report: Report, graph: Graph, precision: int = 6) -> list[str]:
    shown = names(graph)
    lines = []
    for k in report.kinks:
        where = f" at {k.node.pos}" if k.node.pos else ""
        args = ", ".join(f"{shown[c.index]} = {_n(c.data, precision)}" for c in k.node.children)
        used = ", ".join(_n(u, precision) if math.isfinite(u) else "not finite" for u in k.used)
        what = "the local derivative used was" if len(k.used) == 1 else "the local derivatives used were"
        affected = [r.name for r in report.rows if k in r.kinks]
        tail = f"; it affects {', '.join(affected)}" if affected else ""
        lines.append(f"corner: {shown[k.node.index]} = {expression(k.node, shown)}{where} with {args}: "
                     f"{k.convention}; {what} {used}{tail}")
    return lines


def as_json(report: Report, graph: Graph) -> str:
    import json

    shown = names(graph)
    return json.dumps({
        "value": json_number(report.value),
        "ok": report.ok,
        "failures": report.failures,
        "h": report.h, "rtol": report.rtol, "atol": report.atol,
        "rows": [{
            "name": r.name, "node": f"n{r.node.index}", "data": json_number(r.node.data), "grad": json_number(r.grad),
            "numeric": json_number(r.numeric), "method": r.method, "step": r.step,
            "abs_error": json_number(r.abs_error), "rel_error": json_number(r.rel_error), "verdict": r.verdict,
            "corners": [f"n{k.node.index}" for k in r.kinks],
        } for r in report.rows],
        "corners": [{
            "node": f"n{k.node.index}", "name": shown[k.node.index], "op": k.node.op,
            "at": str(k.node.pos) if k.node.pos else None,
            "operands": [json_number(c.data) for c in k.node.children],
            "used": [json_number(u) for u in k.used], "convention": k.convention,
        } for k in report.kinks],
    })
