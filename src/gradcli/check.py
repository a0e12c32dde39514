"""Check: every backprop gradient against a central finite difference.

For a leaf, the difference runs the whole forward pass at ``x+h`` and
``x-h``; for an intermediate node (``every``), the node's own value is
nudged and only the tape after it is recomputed, so the difference measures
d output / d that node with everything before it held fixed. The step is
``h * max(1, |x|)``. Where a side leaves the domain (``log`` near 0) the
step shrinks tenfold a few times; failing that, a one-sided difference is
used, and said.

Some nodes sit exactly where calculus leaves the derivative to a convention
(``relu`` or ``abs`` at 0, ``sqrt`` at 0, a tie in ``max``...): each op's
row in ops.py says where (``Op.corner``) and what the convention is; the report names each one with the value backprop used,
and a disagreement on a gradient that flows through one is a ``kink``, not
a failure, because the finite difference straddles the corner.

Two modes. ``full`` checks row by row: one difference per gradient, each a
forward pass over the tape after the nudged node, so its cost is about the
number of gradients times the size of the program (8,000 leaves of a
40,000-node program: 82 s). ``fast`` is PyTorch gradcheck's fast mode: the
gradients are dotted with a few random directions (seeded, so every run
draws the same ones) and each dot product is compared with one central
difference along its direction, a forward pass that nudges every checked
node at once: a few passes whatever the number of gradients. A direction
that disagrees is halved until the gradient at fault is found (a few dozen
more passes), and that gradient gets a row of its own. ``auto`` (the
command's default) uses ``fast`` when the row-by-row check would take more
than ``FULL_WORK`` node evaluations.

The corners a gradient flows through (and the gradients a corner affects)
are found by one pass down and one up the tape, keeping at most ``LISTED``
of each (the first ones, in tape and report order) and whether there are
more, so 8,000 corners on a chain of 8,000 leaves take linear time and
memory (one set of upstream nodes per corner took 6 GB).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Callable, Sequence

from .engine import Graph, Value, forward, reaches
from .errors import DomainError, InputError
from .explain import accuracy, better_forms, expression, live, local, names
from .ops import OPS, compute, shown as shown_op
from .render import json_number, short as _n

H = 1e-6
RTOL = 1e-5
ATOL = 1e-8
SHRINK = 6   # times the step may shrink tenfold before a one-sided difference
MODES = ("auto", "full", "fast")
FULL_WORK = 4_000_000   # auto: node evaluations of the row-by-row check above which it is fast
DIRECTIONS = 4          # fast mode: random directions per group of gradients
SEED = 0                # fast mode: the directions' seed (the same directions on every run)
LISTED = 8              # corners listed per gradient, gradients listed per corner
CULPRITS = 8            # fast mode: at most this many gradients at fault are looked for per direction
HALVINGS = 16           # fast mode: halves looked at per level of a failing direction's search
CORNERED = " corners"   # fast mode: the name's end of a direction over gradients through corners


@dataclass
class Kink:
    node: Value
    convention: str
    used: list[float]          # the local derivative backprop used, per operand
    affects: list[str] = field(default_factory=list)   # the first rows whose gradient flows through it
    more: bool = False         # ... and there are more than those


@dataclass
class Row:
    name: str
    node: Value | None         # None for a random direction (fast mode)
    grad: float                # backprop
    numeric: float             # finite difference (nan when not defined on either side)
    method: str                # "central", "forward" (x, x+h), "backward" (x-h, x) or "none"
    step: float
    abs_error: float
    rel_error: float
    verdict: str               # "ok", "FAIL" or "kink"
    kinks: list[Kink] = field(default_factory=list)   # the (first) corners this gradient flows through
    more_kinks: bool = False   # ... and more than those
    gradients: int = 1         # how many gradients the row checks (a direction: its group's size)
    note: str = ""             # fast mode: what the search under a disagreeing direction found


@dataclass
class Report:
    value: float
    rows: list[Row]
    kinks: list[Kink]
    h: float
    rtol: float
    atol: float
    mode: str = "full"         # "full": a row per gradient; "fast": random directions, then culprits
    checked: int = 0           # how many gradients were checked
    seed: int = SEED

    @property
    def directions(self) -> list[Row]:
        return [r for r in self.rows if r.node is None]

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
        corner = OPS[node.op].corner if node.children else None
        if corner is None or not flags[node.index]:
            continue
        if corner.at(*(c.data for c in node.children)):
            used = [local(node, i) for i in range(len(node.children))]
            found.append(Kink(node, corner.convention, used))
    return found


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


def _merge(a: tuple, b: tuple) -> tuple:
    """Two sorted tuples of numbers as one, keeping the ``LISTED + 1``
    smallest (a tuple that long means: more than ``LISTED``)."""
    if not b or a is b:
        return a
    if not a:
        return b
    merged = tuple(sorted(set(a).union(b))[:LISTED + 1])
    return a if merged == a else merged


def _corner_lists(graph: Graph, corners: Sequence[Kink],
                  targets: Sequence[Value]) -> tuple[list[tuple], list[tuple]]:
    """Which corners each target's gradient flows through, and which targets
    each corner affects, as sorted tuples of corner and target numbers, each
    cut at ``LISTED + 1``. A gradient d output / d t flows through a corner
    when the corner's node depends on t (and is not t itself). One pass down
    the tape and one up, each merging tuples of bounded length: linear."""
    end = graph.output.index
    tape = graph.nodes[:end + 1]
    corner_at = {k.node.index: i for i, k in enumerate(corners)}
    down: list[tuple] = [()] * (end + 1)     # corners downstream of each node
    for node in reversed(tape):
        passes = down[node.index]
        i = corner_at.get(node.index)
        if i is not None:
            passes = _merge(passes, (i,))
        if passes:
            for child in node.children:
                down[child.index] = _merge(down[child.index], passes)
    own: dict[int, tuple] = {}
    for j, t in enumerate(targets):
        if t.index <= end:
            own[t.index] = _merge(own.get(t.index, ()), (j,))
    up: list[tuple] = [()] * (end + 1)       # targets upstream of each node, itself included
    affects = [()] * len(corners)
    for node in tape:
        acc: tuple = ()
        for child in node.children:
            acc = _merge(acc, up[child.index])
        i = corner_at.get(node.index)
        if i is not None:
            affects[i] = acc
        up[node.index] = _merge(acc, own.get(node.index, ()))
    through = [down[t.index] if t.index <= end else () for t in targets]
    return through, affects


def _compare(g: float, est: float, rtol: float, atol: float) -> tuple[float, float, bool]:
    """Absolute and relative error, and whether they agree within tolerance."""
    diff = abs(g - est)
    scale = max(abs(g), abs(est))
    if not math.isfinite(diff):
        rel = math.nan
    else:
        rel = diff / scale if scale > 0 else 0.0
    return diff, rel, math.isfinite(diff) and diff <= atol + rtol * scale


def check(graph: Graph, every: bool = False, wrt: Sequence[str] | None = None,
          h: float = H, rtol: float = RTOL, atol: float = ATOL, mode: str = "auto",
          seed: int = SEED, progress: Callable[[int, int], None] | None = None) -> Report:
    """Backprop against finite differences for the leaves (or ``wrt``, or
    with ``every`` each node up to the output that depends on a leaf).

    ``mode``: ``"full"`` (a row per gradient), ``"fast"`` (random
    directions, see the module docstring) or ``"auto"`` (fast when the full
    check would take more than ``FULL_WORK`` node evaluations).
    ``progress(done, total)`` hears how far the check has got."""
    if mode not in MODES:
        from .safeio import printable

        raise InputError(f"--mode must be one of {', '.join(MODES)}, not `{printable(str(mode))}`")
    graph.backward(check=())          # non-finite gradients are reported, not raised
    shown = names(graph)
    varies = _varies(graph)
    end = graph.output.index
    if wrt is not None:
        targets = [(name, graph.node(name)) for name in wrt]
    elif every:
        targets = [(shown[n.index], n) for n in graph.nodes[:end + 1] if varies[n.index]]
    else:
        targets = list(graph.leaves.items())
    if mode == "auto":
        mode = "fast" if len(targets) > 2 * DIRECTIONS and full_work(graph, [t for _, t in targets]) > FULL_WORK \
            else "full"
    flags = live(graph)
    corners = kinks(graph, flags)
    through, affects = _corner_lists(graph, corners, [t for _, t in targets])
    if mode == "fast":
        rows, numbered = _fast(graph, targets, through, h, rtol, atol, seed, progress)
    else:
        rows, numbered = [], []
        for j, (name, node) in enumerate(targets):
            if progress is not None:
                progress(j, len(targets))
            numbered.append((j, _row(graph, name, node, h, rtol, atol)))
    for j, row in numbered:
        row.kinks = [corners[i] for i in through[j][:LISTED]]
        row.more_kinks = len(through[j]) > LISTED
        if row.verdict == "FAIL" and through[j]:
            row.verdict = "kink"
        rows.append(row)
    for k, rows_of in zip(corners, affects):
        k.affects = [targets[j][0] for j in rows_of[:LISTED]]
        k.more = len(rows_of) > LISTED
    if progress is not None:
        progress(len(targets), len(targets))
    return Report(graph.output.data, rows, corners, h, rtol, atol, mode, len(targets), seed)


def full_work(graph: Graph, targets: Sequence[Value]) -> int:
    """Node evaluations of the row-by-row check: two forward passes over the
    tape after each target (more where a step must shrink)."""
    end = graph.output.index
    return sum(2 * (end - t.index) for t in targets if t.index <= end)


def _row(graph: Graph, name: str, node: Value, h: float, rtol: float, atol: float) -> Row:
    """One gradient against its own finite difference."""
    if node.index <= graph.output.index:
        g = node.grad
        est, method, step = numeric(graph, node, h)
    else:
        g, est, method, step = 0.0, 0.0, "central", 0.0
    diff, rel, agree = _compare(g, est, rtol, atol)
    return Row(name, node, g, est, method, step, diff, rel, "ok" if agree else "FAIL")


# ------------------------------------------------------------- fast mode

def _nudged(graph: Graph, start: int, bumps: dict[int, float], t: float) -> float | None:
    """The output with ``t * bumps[i]`` added to node i's value as the tape
    is recomputed from ``start`` (a leaf's value, an op's result), or None
    where an operation leaves its domain. Every value is put back after."""
    end = graph.output.index
    part = graph.nodes[start:end + 1]
    saved = [n.data for n in part]
    get = bumps.get
    try:
        for node in part:
            children = node.children
            if children:
                try:
                    out = compute(OPS[node.op], [c.data for c in children])
                except (ArithmeticError, ValueError):
                    return None
                if not math.isfinite(out):
                    return None
                node.data = out
            b = get(node.index)
            if b is not None:
                node.data += t * b
        out = graph.output.data
        return out if math.isfinite(out) else None
    finally:
        for node, x in zip(part, saved):
            node.data = x


def _along(graph: Graph, bumps: dict[int, float], h: float) -> tuple[float, str, float]:
    """The derivative of the output along ``bumps`` by finite differences:
    (estimate, method, step), shrinking the step near a domain's edge as
    ``numeric`` does."""
    start = min(bumps)
    trial = h
    for _ in range(SHRINK + 1):
        plus, minus = _nudged(graph, start, bumps, trial), _nudged(graph, start, bumps, -trial)
        if plus is not None and minus is not None:
            return (plus - minus) / (2 * trial), "central", trial
        trial /= 10.0
    plus, minus = _nudged(graph, start, bumps, h), _nudged(graph, start, bumps, -h)
    base = graph.output.data
    if plus is not None:
        return (plus - base) / h, "forward", h
    if minus is not None:
        return (base - minus) / h, "backward", h
    return math.nan, "none", h


def _direction_row(graph: Graph, name: str, group: Sequence[Value], bumps: dict[int, float],
                   h: float, rtol: float, atol: float) -> Row:
    g = math.fsum(n.grad * bumps[n.index] for n in group)
    est, method, step = _along(graph, bumps, h)
    diff, rel, agree = _compare(g, est, rtol, atol)
    return Row(name, None, g, est, method, step, diff, rel, "ok" if agree else "FAIL", gradients=len(group))


def _fast(graph: Graph, targets: Sequence[tuple[str, Value]], through: Sequence[tuple], h: float,
          rtol: float, atol: float, seed: int, progress: Callable[[int, int], None] | None
          ) -> tuple[list[Row], list[tuple[int, Row]]]:
    """Random directions over the gradients (those that flow through a
    corner apart: where they disagree, it is a ``kink``), then, for each
    direction that fails, the gradients at fault, found by halving it: the
    direction rows, and the gradients' rows with their targets' numbers."""
    end = graph.output.index
    number: dict[int, int] = {}
    for j, (_, node) in enumerate(targets):
        if node.index <= end:
            number.setdefault(node.index, j)      # a node named twice is checked once
    smooth = [targets[j][1] for j in number.values() if not through[j]]
    cornered = [targets[j][1] for j in number.values() if through[j]]
    found: dict[int, tuple[int, Row]] = {}
    if len(cornered) <= CULPRITS:      # a few: one by one, as in full mode
        for node in cornered:
            j = number[node.index]
            found[node.index] = (j, _row(graph, targets[j][0], node, h, rtol, atol))
        cornered = []
    rng = random.Random(seed)
    rows: list[Row] = []
    failed: list[tuple[Row, tuple[list[Value], dict[int, float]]]] = []
    groups = [(g, label) for g, label in ((smooth, ""), (cornered, CORNERED)) if g]
    total, done = DIRECTIONS * len(groups), 0
    for group, label in groups:
        for k in range(1, DIRECTIONS + 1):
            if progress is not None:
                progress(done * len(targets) // total, len(targets))
            done += 1
            bumps = {n.index: rng.gauss(0.0, 1.0) * max(1.0, abs(n.data)) for n in group}
            row = _direction_row(graph, f"dir {len(rows) + 1}{label}", group, bumps, h, rtol, atol)
            if row.verdict == "FAIL" and label:
                row.verdict = "kink"
            elif row.verdict == "FAIL":
                failed.append((row, (group, bumps)))
            rows.append(row)
    # the gradients at fault: halve each failing direction, following the
    # halves that still disagree, until single gradients remain
    for row, (group, bumps) in failed:
        culprits, complete = _search(graph, targets, number, group, bumps, h, rtol, atol, found)
        if culprits:
            continue                      # FAIL, and the gradients at fault have rows
        if complete:
            # no gradient disagrees on its own: the products cancel along the
            # direction and its dot product is within the difference's rounding
            row.verdict = "ok"
            row.note = (f"{row.name} disagrees by {_e(row.abs_error)}, yet no gradient along it does on its own: "
                        "their products cancel, leaving a dot product within the difference's rounding error")
        else:
            row.note = f"{row.name} disagrees, and halving it found no gradient at fault in time: --mode full"
    return rows, sorted(found.values(), key=lambda pair: pair[0])


def _search(graph: Graph, targets: Sequence[tuple[str, Value]], number: dict[int, int], group: list[Value],
            bumps: dict[int, float], h: float, rtol: float, atol: float,
            found: dict[int, tuple[int, Row]]) -> tuple[int, bool]:
    """Halve a failing direction depth first, following the halves that
    still disagree, down to single gradients, each then checked on its own;
    those that fail are added to ``found``. At most ``CULPRITS`` of them,
    and at most ``HALVINGS`` halvings per level of the search (so a few
    dozen passes over the tape). Returns how many gradients at fault it
    found and whether the search ran to its end."""
    levels = max(1, len(group).bit_length())
    budget = HALVINGS * levels
    culprits = 0
    stack = [(group, bumps)]
    while stack:
        if culprits >= CULPRITS or budget <= 0:
            return culprits, False
        part, sub = stack.pop()
        if len(part) == 1:
            node = part[0]
            j = number[node.index]
            row = found[node.index][1] if node.index in found else _row(graph, targets[j][0], node, h, rtol, atol)
            if row.verdict == "FAIL":
                found[node.index] = (j, row)
                culprits += 1
            continue
        half = len(part) // 2
        for piece in (part[half:], part[:half]):     # the first half is looked at first
            budget -= 1
            bumps_of = {n.index: sub[n.index] for n in piece}
            if _direction_row(graph, "", piece, bumps_of, h, rtol, atol).verdict == "FAIL":
                stack.append((piece, bumps_of))
    return culprits, True


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
        data = _n(r.node.data, precision) if r.node is not None else ""
        out.append([r.name, data, _n(r.grad, precision), numeric_text,
                    _e(r.abs_error), _e(r.rel_error), r.verdict])
    return out


def summary(report: Report) -> str:
    if report.mode == "fast":
        return _fast_summary(report)
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


def _fast_summary(report: Report) -> str:
    dirs = report.directions
    n, d = report.checked, len(dirs)
    params = f"(fast mode, seed {report.seed}, h {report.h:g}, rtol {report.rtol:g}, atol {report.atol:g})"
    failed = sum(r.verdict == "FAIL" for r in dirs)
    kinked = sum(r.verdict == "kink" for r in dirs)
    if report.failures:
        culprits = [r.name for r in report.rows if r.node is not None and r.verdict == "FAIL"]
        head = (f"FAIL: {failed} of {d} random directions disagree{'s' if failed == 1 else ''} "
                f"with finite differences")
        if culprits:
            head += f"; the gradient{'s' if len(culprits) > 1 else ''} at fault: {', '.join(culprits)}"
        return f"{head} {params}"
    cornered = sum(r.gradients for r in dirs if r.name.endswith(CORNERED))
    cornered += sum(1 for r in report.rows if r.node is not None and r.verdict == "kink")
    if kinked or cornered:
        head = (f"ok: {n - cornered:,} gradients agree with finite differences along random directions; "
                f"{cornered:,} flow{'s' if cornered == 1 else ''} through a corner where "
                f"{'it' if cornered == 1 else 'they'} cannot agree (see below), not counted as failures")
    else:
        head = f"ok: all {n:,} gradients agree with finite differences along {d} random directions"
    return f"{head} {params}"


def mode_lines(report: Report) -> list[str]:
    """What fast mode did, in words (nothing in full mode)."""
    if report.mode != "fast":
        return []
    return [f"fast mode: each `dir` row compares the dot product of the gradients with a random direction "
            f"(seed {report.seed}) with one central difference along it, for {report.checked:,} gradients at once; "
            "a direction that disagrees is halved until the gradient at fault is found; "
            "--mode full checks each gradient on its own"] + [r.note for r in report.directions if r.note]


def kink_lines(report: Report, graph: Graph, precision: int = 6) -> list[str]:
    shown = names(graph)
    lines = []
    for k in report.kinks:
        where = f" at {k.node.pos}" if k.node.pos else ""
        args = ", ".join(f"{shown[c.index]} = {_n(c.data, precision)}" for c in k.node.children)
        used = ", ".join(_n(u, precision) if math.isfinite(u) else "not finite" for u in k.used)
        what = "the local derivative used was" if len(k.used) == 1 else "the local derivatives used were"
        tail = f"; it affects {', '.join(k.affects)}" if k.affects else ""
        if k.more:
            tail += " and more"
        lines.append(f"corner: {shown[k.node.index]} = {expression(k.node, shown)}{where} with {args}: "
                     f"{k.convention}; {what} {used}{tail}")
    return lines


def accurate(graph: Graph) -> dict[int, str]:
    """The operations the output depends on whose derivative is computed
    otherwise for accuracy (a paired row), with the words that say how."""
    flags = live(graph)
    return {i: note for i, note in accuracy(graph, names(graph)).items() if flags[i]}


def better(graph: Graph) -> dict[int, tuple[str, str, str]]:
    """The composites the output depends on that lose digits as written
    (``explain.better_forms``)."""
    flags = live(graph)
    return {i: b for i, b in better_forms(graph, names(graph)).items() if flags[i]}


def accuracy_lines(graph: Graph) -> list[str]:
    shown = names(graph)

    def at(i: int) -> str:
        return f" at {graph.nodes[i].pos}" if graph.nodes[i].pos else ""

    return ([f"for accuracy: {shown[i]} = {expression(graph.nodes[i], shown)}{at(i)}: {note}"
             for i, note in accurate(graph).items()]
            + [f"for accuracy: {shown[i]} = {written}{at(i)} could be written {form}, the same function: {why}"
               for i, (written, form, why) in better(graph).items()])


def as_json(report: Report, graph: Graph) -> str:
    import json

    shown = names(graph)
    return json.dumps({
        "value": json_number(report.value),
        "ok": report.ok,
        "failures": report.failures,
        "h": report.h, "rtol": report.rtol, "atol": report.atol,
        "mode": report.mode, "checked": report.checked,
        **({"seed": report.seed} if report.mode == "fast" else {}),
        "rows": [{
            "name": r.name, "node": f"n{r.node.index}" if r.node is not None else None,
            "data": json_number(r.node.data) if r.node is not None else None, "grad": json_number(r.grad),
            "numeric": json_number(r.numeric), "method": r.method, "step": r.step,
            "abs_error": json_number(r.abs_error), "rel_error": json_number(r.rel_error), "verdict": r.verdict,
            "corners": [f"n{k.node.index}" for k in r.kinks], "more_corners": r.more_kinks,
            "gradients": r.gradients, **({"note": r.note} if r.note else {}),
        } for r in report.rows],
        "corners": [{
            "node": f"n{k.node.index}", "name": shown[k.node.index], "op": shown_op(k.node.op),
            "at": str(k.node.pos) if k.node.pos else None,
            "operands": [json_number(c.data) for c in k.node.children],
            "used": [json_number(u) for u in k.used], "convention": k.convention,
            "affects": k.affects, "more": k.more,
        } for k in report.kinks],
        "accuracy": [{"node": f"n{i}", "name": shown[i], "op": shown_op(graph.nodes[i].op), "note": note}
                     for i, note in accurate(graph).items()],
        "better": [{"node": f"n{i}", "name": shown[i], "written": written, "form": form, "why": why}
                   for i, (written, form, why) in better(graph).items()],
    })
