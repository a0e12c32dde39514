"""Explain: the backward pass told step by step, and the paths a gradient takes.

``steps`` walks the tape backward exactly as ``engine.backward`` does (reverse
tape order, the output seeded with 1, each operand's gradient accumulated
with ``+=``) and records, for each operation, its upstream gradient and, for
each operand, the local derivative (computed by the op's own entry in the
ops table, never a second copy of the math), the product and the operand's
running sum. ``paths`` lists every path from the output to one node with the
product of the local derivatives along it: the paths' products add up to the
gradient.

``rule`` says each op's derivative in words: derived from the row's own
rule (run on symbolic nodes and written back as text), or the row's
``text`` where that reads better; the numbers always come from ``ops.OPS``.

For accuracy (issue 22), a step says where a derivative is computed with a
paired rule (``accuracy``: ``build.pair``, ``ops.PAIRED``) and where a
composite loses digits as written and the same function has an accurate
form (``better_forms``: ``log(1 + x)`` as ``log1p(x)``, ``log(1 -
sigmoid(x))`` as ``-softplus(x)``, ``sqrt(a*a + b*b)`` as ``hypot(a, b)``):
gradcli computes what the program says and rewrites nothing, so a value
shown is always the program's; ``check`` lists the same notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from .build import complements
from .engine import Graph, Value, needed, require_ops
from .ops import OPS, PAIRED_HOW, FloatMath, shown as shown_op
from .render import json_number, short as _n

def _operand_names(op: str) -> list[str]:
    return ["x", "y"] if op == "**" or OPS[op].arity == 1 else ["a", "b"]


@lru_cache(maxsize=None)
def _derived(op: str, operand: int) -> str:
    """The rule of ``op``'s row for ``operand``, as text: the rule run on
    symbolic nodes (g = 1) and written back as an expression, with
    ``{x}``/``{y}`` (or ``{a}``/``{b}``) for the operands and ``{out}`` for
    the result. So the words cannot drift from the numbers."""
    from .symbolic import Tape
    from .unparse import inline

    row = OPS[op]
    tape = Tape()
    names = _operand_names(op)[:row.arity]
    leaves = tuple(tape.leaf(n, "input") for n in names)
    node = tape.make(op, leaves)
    got = tape.lift(row.chain[operand](tape, tape.const(1.0), *leaves, node))
    named = {leaf.index: "{" + n + "}" for leaf, n in zip(leaves, names)}
    named[node.index] = "{out}"
    return inline(got, named)


def rule_text(op: str, operand: int) -> str:
    """d out / d operand of ``op`` as a template: the row's own words where
    it has them (``Op.text``), else derived from its rule."""
    row = OPS[op]
    if row.text is not None:
        return row.text[operand]
    return _derived(op, operand)


def rule(op: str, operand: int, args: Sequence[str] | None = None, out: str = "out") -> str:
    """d out / d operand of ``op``, in words: generic (``d(a*b)/da = b``), or
    with the operands' and the node's names (``dL/dd = f``)."""
    row = OPS.get(op)
    generic = args is None
    arity = row.arity if row else operand + 1
    if generic:
        args = _operand_names(op) if row else ["a", "b"]
        node = f"({args[0]}{op}{args[1]})" if row and row.infix else (
            f"(-{args[0]})" if op == "neg" else f"{op}({', '.join(args[:arity])})")
        lhs = f"d{node}/d{args[operand]}"
    else:
        lhs = f"d{out}/d{args[operand]}"
    if row is None or operand >= row.arity:
        return lhs
    fill = {"a": args[0], "x": args[0], "b": args[-1], "y": args[-1], "out": out}
    return f"{lhs} = {rule_text(op, operand).format(**fill)}"


def local(node: Value, operand: int) -> float:
    """d node / d its operand ``operand`` at the current data, from the ops
    table, as the engine computes it (an exception means not finite)."""
    return passed(node, operand, 1.0)


def passed(node: Value, operand: int, upstream: float) -> float:
    """What the operand's gradient receives from ``node`` whose gradient is
    ``upstream``: the row's rule, as the engine runs it (``upstream * local``
    but for the rules that divide)."""
    args = [c.data for c in node.children]
    try:
        return float(OPS[node.op].chain[operand](FloatMath, upstream, *args, node.data))
    except (ZeroDivisionError, OverflowError, ValueError):
        return math.nan


def corner(node: Value) -> str | None:
    """The row's convention when ``node`` sits on its op's corner (relu at
    0, a tie in max...), else None."""
    row = OPS.get(node.op) if node.children else None
    if row is None or row.corner is None or not row.corner.at(*(c.data for c in node.children)):
        return None
    return row.corner.convention


def accuracy(graph: Graph, shown: dict[int, str]) -> dict[int, str]:
    """The nodes whose local derivative is computed otherwise than their
    row's usual rule, for accuracy (a paired row: ``ops.PAIRED``,
    ``build.pair``), each with the words that say so."""
    out = {}
    for index, comps in complements(graph.nodes).items():
        node = graph.nodes[index]
        name, x = shown[index], shown[node.children[0].index]
        how = PAIRED_HOW[node.op].format(out=name, x=x)
        bits = " and ".join(f"{shown[c.index]} = {expression(c, shown)}" for c in comps)
        divided = " and ".join(shown[c.index] for c in comps)
        out[index] = (f"d{name}/d{x} is computed as {how}, with the bits of {bits}: the gradient is "
                      f"divided by {divided}, and the same bits here cancel their error")
    return out


def _one(node: Value) -> bool:
    return node.kind == "const" and node.data == 1.0


def _square_of(node: Value) -> Value | None:
    """``x`` where the node is ``x*x`` or ``x**2``."""
    if node.op == "*" and node.children[0] is node.children[1]:
        return node.children[0]
    if node.op == "**" and node.children[1].kind == "const" and node.children[1].data == 2.0:
        return node.children[0]
    return None


def better_forms(graph: Graph, shown: dict[int, str]) -> dict[int, tuple[str, str, str]]:
    """Composites that lose digits as written, each with the same function
    written to keep them: the composite's root node -> (the composite as
    written, the better form, why). gradcli computes what the program says
    (it rewrites nothing: a rewrite would change values the program shows);
    ``check`` and ``explain`` say where writing it otherwise would help.
    One pass over the tape."""
    out: dict[int, tuple[str, str, str]] = {}
    for node in graph.nodes:
        op = shown_op(node.op)
        if op == "log":
            (u,) = node.children
            inner = shown_op(u.op)
            if inner == "+" and (_one(u.children[0]) or _one(u.children[1])):
                x = u.children[1] if _one(u.children[0]) else u.children[0]
                if shown_op(x.op) == "exp":
                    e = shown[x.children[0].index]
                    out[node.index] = (f"log(1 + exp({e}))", f"softplus({e})",
                                       "exp overflows past 709, and 1 + exp drops the digits of a small exp")
                else:
                    v = shown[x.index]
                    out[node.index] = (f"log(1 + {v})", f"log1p({v})", f"1 + {v} drops the digits of a small {v}")
            elif inner == "-" and _one(u.children[0]) and shown_op(u.children[1].op) == "sigmoid":
                x = shown[u.children[1].children[0].index]
                out[node.index] = (f"log(1 - sigmoid({x}))", f"-softplus({x})",
                                   "1 - sigmoid keeps few digits where sigmoid is near 1, and none past 37")
            elif inner == "sigmoid":
                x = shown[u.children[0].index]
                out[node.index] = (f"log(sigmoid({x}))", f"-softplus(-{x})" if x.isidentifier() else f"-softplus(-({x}))",
                                   "the log of a sigmoid near 1 keeps few digits, and sigmoid is 0 below -745")
        elif op == "sqrt":
            (u,) = node.children
            if shown_op(u.op) == "+":
                a, b = (_square_of(c) for c in u.children)
                if a is not None and b is not None:
                    p, q = shown[a.index], shown[b.index]
                    out[node.index] = (f"sqrt({p}*{p} + {q}*{q})", f"hypot({p}, {q})",
                                       "the squares overflow past 1.3e154 and lose digits below 1.5e-154")
    return out


def live(graph: Graph) -> bytearray:
    """For each place on the tape: does the output depend on that node?"""
    return needed(graph.nodes, [graph.output])


def names(graph: Graph) -> dict[int, str]:
    """How each node is called in explanations: its name when no other node
    has it or when the name refers to it at the end of the program (``c``),
    name and id for the earlier nodes of a reused name (``c@n7``), its id
    when it has no name (``n4``); numbers are shown as themselves."""
    from .engine import literal

    counts: dict[str, int] = {}
    for node in graph.nodes:
        if node.label:
            counts[node.label] = counts.get(node.label, 0) + 1
    shown = {}
    for node in graph.nodes:
        if node.kind == "const":
            shown[node.index] = literal(node.data)
        elif node.label and (counts[node.label] == 1 or graph.names.get(node.label) is node):
            shown[node.index] = node.label
        elif node.label:
            shown[node.index] = f"{node.label}@n{node.index}"
        else:
            shown[node.index] = f"n{node.index}"
    return shown


def expression(node: Value, shown: dict[int, str]) -> str:
    """An op node written with its operands' names: ``d * f``, ``tanh(n)``."""
    args = [shown[c.index] for c in node.children]
    op = OPS[node.op]
    if op.infix:
        return f"{args[0]} {op.name} {args[1]}"
    if op.name == "neg":
        return f"-{args[0]}"
    return f"{op.name}({', '.join(args)})"


@dataclass
class Contribution:
    """One operand's share of one step: ``operand.grad += upstream * local``."""

    child: Value
    operand: int        # which operand of the node, from 0
    rule: str
    local: float
    product: float
    before: float       # the operand's gradient before this contribution
    after: float        # ... and after it
    use: int            # this is the use-th contribution to the operand (from 1)
    uses: int           # of this many


@dataclass
class Step:
    """One operation in the backward pass: its gradient (final when it is
    reached, as every node using it comes later on the tape) and what it
    passes to each operand."""

    node: Value
    upstream: float
    contributions: list[Contribution]
    corner: str | None = None   # the convention used, when the node sits on its op's corner
    accuracy: str | None = None  # how its derivative is computed for accuracy (a paired row), in words
    better: tuple[str, str, str] | None = None   # a composite ending here that loses digits (better_forms)


@dataclass
class Explanation:
    graph: Graph
    steps: list[Step]
    grads: dict[int, float]     # every live node's gradient, by tape index
    skipped: int                # operations the output does not depend on
    shown: dict[int, str]


def steps(graph: Graph) -> Explanation:
    """The backward pass of ``graph``, step by step, in the engine's order.
    Only the operations the output depends on are listed (the engine also
    visits the others, which pass on zeros)."""
    if graph.opaque is not None:
        require_ops([graph.opaque], "explain")
    end = graph.output.index
    tape = graph.nodes[:end + 1]
    flags = live(graph)
    uses = [0] * len(tape)
    for node in tape:
        if flags[node.index]:
            for child in node.children:
                uses[child.index] += 1
    acc = [0.0] * len(tape)
    seen = [0] * len(tape)
    acc[end] = 1.0
    out: list[Step] = []
    skipped = 0
    shown = names(graph)
    notes = accuracy(graph, shown)
    better = better_forms(graph, shown)
    for node in reversed(tape):
        if not node.children:
            continue
        if not flags[node.index]:
            skipped += 1
            continue
        g = acc[node.index]
        contributions = []
        for i, child in enumerate(node.children):
            if child.kind == "const":
                continue   # a number's gradient is never needed
            d = local(node, i)
            product = passed(node, i, g)
            before = acc[child.index]
            acc[child.index] = before + product
            seen[child.index] += 1
            contributions.append(Contribution(child, i, rule(node.op, i), d, product, before,
                                              acc[child.index], seen[child.index], uses[child.index]))
        out.append(Step(node, g, contributions, corner(node), notes.get(node.index), better.get(node.index)))
    grads = {node.index: acc[node.index] for node in tape if flags[node.index] and node.kind != "const"}
    return Explanation(graph, out, grads, skipped, shown)


# ------------------------------------------------------------------- paths

@dataclass
class Path:
    """One path from the output down to the target: the nodes (output first)
    with the operand taken at each, and the product of the local derivatives."""

    nodes: list[Value]
    operands: list[int]         # operands[k]: which operand of nodes[k] leads to nodes[k+1]
    factors: list[float]        # the local derivative along each edge
    product: float


def paths(graph: Graph, target: Value, limit: int = 100) -> tuple[list[Path], int]:
    """Up to ``limit`` paths from the output to ``target`` (depth first,
    operands in order) and how many there are in all. An operand used twice
    (``a*a``) is two paths. Explicit stack; no recursion."""
    end = graph.output.index
    tape = graph.nodes[:end + 1]
    count = [0] * len(tape)
    if target.index <= end:
        count[target.index] = 1
        for node in tape[target.index + 1:]:
            count[node.index] = sum(count[c.index] for c in node.children)
    total = count[end]
    found: list[Path] = []
    # Each entry: a node and a link back to the path that reached it,
    # (parent, operand, parent's link), so a push costs O(1) however deep.
    Link = tuple  # (Value, int, Link | None)
    stack: list[tuple[Value, Link | None]] = [(graph.output, None)]
    while stack and len(found) < limit:
        node, link = stack.pop()
        if node is target:
            trail = []
            while link is not None:
                parent, i, link = link
                trail.append((parent, i))
            trail.reverse()
            factors = [local(n, i) for n, i in trail]
            product = 1.0
            for f in factors:
                product *= f
            found.append(Path([n for n, _ in trail] + [node], [i for _, i in trail], factors, product))
            continue
        for i in reversed(range(len(node.children))):
            child = node.children[i]
            if count[child.index]:
                stack.append((child, (node, i, link)))
    return found, total


# ------------------------------------------------------------------ render

Segment = tuple[str, str]   # text and its style on a terminal ("" for none)

# the styles of a step's operand line: operand, rule, local, product, running sum
_STYLES = ("cyan", "magenta", "", "", "yellow")


def lines(ex: Explanation, precision: int = 6) -> list[list[Segment]]:
    """The steps as lines of styled segments: a heading per operation, then
    one aligned line per operand:
    ``operand  rule = local  upstream * local = product  operand.grad = sum``.
    Plain text is the segments' text joined."""
    from .texttable import pad

    shown = ex.shown
    body: list[list[str]] = []
    for step in ex.steps:
        node = shown[step.node.index]
        args = [shown[c.index] for c in step.node.children]
        g = _n(step.upstream, precision)
        for c in step.contributions:
            child = shown[c.child.index]
            if c.uses > 1 and c.use > 1:
                total = (f"{child}.grad = {_n(c.before, precision)} + {_n(c.product, precision)} = "
                         f"{_n(c.after, precision)}  (use {c.use} of {c.uses})")
            elif c.uses > 1:
                total = f"{child}.grad = {_n(c.after, precision)}  (use 1 of {c.uses})"
            else:
                total = f"{child}.grad = {_n(c.after, precision)}"
            body.append([child, rule(step.node.op, c.operand, args, node), "= " + _n(c.local, precision),
                         f"{g} * {_n(c.local, precision)} = {_n(c.product, precision)}", total])
    padded = iter(pad(body))
    out: list[list[Segment]] = []
    for k, step in enumerate(ex.steps, 1):
        node = shown[step.node.index]
        seed = " (the seed)" if step.node is ex.graph.output else ""
        out.append([(f"{k}. {node} = {expression(step.node, shown)}", "bold"),
                    (f"    {node}.grad = {_n(step.upstream, precision)}{seed}", "bold yellow")])
        if step.corner:
            out.append([(f"    (at a corner: {step.corner})", "yellow")])
        if step.accuracy:
            out.append([(f"    (for accuracy, {step.accuracy})", "cyan")])
        if step.better:
            written, form, why = step.better
            out.append([(f"    (for accuracy, write {written} as {form}, the same function: {why})", "cyan")])
        if not step.contributions:
            out.append([("    (its operands are numbers: no gradient to pass on)", "dim")])
        for _ in step.contributions:
            cells = next(padded)
            segments = [("    ", "")]
            for i, (cell, style) in enumerate(zip(cells, _STYLES)):
                segments.append((cell if i < len(cells) - 1 else cell.rstrip(), style))
                if i < len(cells) - 1:
                    segments.append(("  ", ""))
            out.append(segments)
    return out


def text(line: Sequence[Segment]) -> str:
    return "".join(t for t, _ in line)


def seed_line(ex: Explanation, precision: int = 6) -> str:
    out = ex.graph.output
    name = ex.shown[out.index]
    return (f"backward from the output {name} = {_n(out.data, precision)}: {name}.grad = d{name}/d{name} = 1; "
            "then each operation, the last computed first, adds grad * local derivative to each operand's grad")


def leaf_line(ex: Explanation, precision: int = 6) -> str:
    graph = ex.graph
    parts = [f"{name} = {_n(ex.grads.get(leaf.index, 0.0), precision)}" for name, leaf in graph.leaves.items()]
    return "gradients of the leaves: " + (", ".join(parts) if parts else "none (the program has no leaves)")


def skipped_line(ex: Explanation) -> str | None:
    if not ex.skipped:
        return None
    s = "s" if ex.skipped > 1 else ""
    return f"({ex.skipped} operation{s} the output does not depend on pass{'' if s else 'es'} on zeros; not shown)"


def path_rows(ex: Explanation, found: Sequence[Path], gradient: float,
              precision: int = 6) -> list[list[str]]:
    shown = ex.shown
    out = []
    for k, p in enumerate(found, 1):
        route = " <- ".join(shown[n.index] for n in p.nodes)
        factors = " * ".join(_n(f, precision) for f in p.factors) or "1"
        share = (_n(100.0 * p.product / gradient, 3) + "%") if gradient != 0 and math.isfinite(gradient) else ""
        out.append([str(k), route, factors, _n(p.product, precision), share])
    return out


PATH_HEADER = ("path", "route (output first)", "local derivatives", "product", "share")
PATH_RIGHT = (0, 3, 4)


# Counts of paths double with each diamond in a program, so they can have
# more digits than Python converts to text (4,300 by default, a guard against
# slow conversions). Past EXACT_BITS a count is shown rounded: about 1.23e4567.
EXACT_BITS = 10_000      # about 3,010 digits


def count_text(total: int) -> str:
    """A count of paths as text: exact, or rounded to 3 digits when huge."""
    if total.bit_length() <= EXACT_BITS:
        return str(total)
    exponent = math.floor(math.log10(total))
    mantissa = 10 ** (math.log10(total) - exponent)
    return f"{mantissa:.3g}e{exponent}"


def path_summary(name: str, found: Sequence[Path], total: int, gradient: float, precision: int = 6) -> str:
    s = "" if total == 1 else "s"
    about = "" if total.bit_length() <= EXACT_BITS else "about "
    text = (f"{about}{count_text(total)} path{s} from the output to {name}; the products add up to "
            f"d output/d {name} = {_n(gradient, precision)}")
    if len(found) < total:
        text += f" (the first {len(found)} are shown; --paths N shows more)"
    return text


def as_json(ex: Explanation, path_info: dict | None = None) -> str:
    import json

    shown = ex.shown
    obj: dict[str, object] = {
        "value": json_number(ex.graph.output.data),
        "output": shown[ex.graph.output.index],
        "steps": [{
            "node": f"n{s.node.index}", "name": shown[s.node.index], "op": shown_op(s.node.op),
            "expression": expression(s.node, shown), "grad": json_number(s.upstream), "corner": s.corner,
            **({"accuracy": s.accuracy} if s.accuracy else {}),
            **({"better": {"written": s.better[0], "form": s.better[1], "why": s.better[2]}} if s.better else {}),
            "contributions": [{
                "operand": shown[c.child.index], "node": f"n{c.child.index}", "index": c.operand,
                "rule": c.rule, "local_rule": rule(s.node.op, c.operand,
                                                   [shown[x.index] for x in s.node.children], shown[s.node.index]), "local": json_number(c.local), "product": json_number(c.product),
                "before": json_number(c.before), "after": json_number(c.after), "use": c.use, "uses": c.uses,
            } for c in s.contributions],
        } for s in ex.steps],
        "grad": {name: json_number(ex.grads.get(leaf.index, 0.0)) for name, leaf in ex.graph.leaves.items()},
    }
    if path_info is not None:
        obj["paths"] = path_info
    text = json.dumps(obj)
    if path_info is not None and isinstance(path_info["total"], str):
        # A huge count: a JSON number in exponent form (valid JSON; readers
        # that parse it as a double get infinity), put in as raw text.
        total = path_info["total"]
        text = text.replace(json.dumps(total), total[len(_HUGE):], 1)
    return text


_HUGE = "gradcli:huge-count:"


def paths_json(ex: Explanation, name: str, found: Sequence[Path], total: int, gradient: float) -> dict:
    return {
        "wrt": name, "grad": json_number(gradient),
        "total": total if total.bit_length() <= EXACT_BITS else _HUGE + count_text(total),
        "paths": [{"route": [ex.shown[n.index] for n in p.nodes], "factors": [json_number(f) for f in p.factors],
                   "product": json_number(p.product)} for p in found],
    }
