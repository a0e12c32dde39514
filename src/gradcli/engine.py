"""The engine: scalar Value nodes, forward and backward, in the spirit of micrograd.

A ``Value`` holds its data and grad, the op that made it and its operands in
order. Every op comes from one table (ops.py), where the forward function and
the local derivatives sit side by side; no node keeps a closure.

A ``Graph`` is a tape: the nodes in a topological order (every node after its
operands). Programs build their nodes in that order already, so forward is one
loop up the tape and backward one loop down it. ``topological_order`` finds an
order for Values built by hand, with an explicit stack. Nothing here recurses,
so a chain a million nodes deep is as fine as a wide one.
"""

from __future__ import annotations

import gc
import math
from collections import deque
from contextlib import contextmanager
from itertools import repeat
from operator import attrgetter
from typing import Iterable, Iterator, Sequence

from .errors import DomainError
from .ops import FUNCTIONS, OPS, FloatMath, Op, Undefined
from .syntax import Pos

LEAF_KINDS = ("input", "leaf")


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside: building a graph makes millions
    of objects and no cycles (children point only to older nodes, syntax
    nodes only to their operands), so the collector would only walk the
    growing heap again and again. Re-entrant; restores the previous state."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Value:
    """One scalar node of the graph.

    ``kind`` is ``"input"`` (a name read before it is assigned), ``"leaf"``
    (a name given a number first: a leaf with a default, or a Value made by
    hand), ``"const"`` (a number in the program) or ``"op"``.
    """

    __slots__ = ("data", "grad", "op", "children", "label", "kind", "pos", "index")

    def __init__(self, data: float, children: tuple[Value, ...] = (), op: str = "",
                 label: str = "", kind: str = "", pos: Pos | None = None):
        try:
            self.data = float(data)
        except (OverflowError, TypeError, ValueError):
            from .errors import InputError

            raise InputError(f"a Value's data is a number that fits a float, not {repr(data)[:40]}") from None
        self.grad = 0.0
        self.op = op
        self.children = children
        self.label = label
        self.kind = kind or ("op" if op else "leaf")
        self.pos = pos
        self.index = -1   # place on a Graph's tape; -1 until it has one

    def __repr__(self) -> str:
        name = f"{self.label}, " if self.label else ""
        return f"Value({name}data={self.data!r}, grad={self.grad!r})"

    @property
    def is_leaf(self) -> bool:
        return self.kind in LEAF_KINDS

    # -- building by hand, micrograd style: Value(2.0) * Value(3.0) + 1
    def _apply(self, op: str, *others: object) -> Value:
        operands = (self, *(_lift(o) for o in others))
        if any(o is NotImplemented for o in operands):
            return NotImplemented        # Python's TypeError: unsupported operand types
        return apply(OPS[op], operands)

    def __add__(self, other): return self._apply("+", other)
    def __radd__(self, other): return _lift(other)._apply("+", self)
    def __sub__(self, other): return self._apply("-", other)
    def __rsub__(self, other): return _lift(other)._apply("-", self)
    def __mul__(self, other): return self._apply("*", other)
    def __rmul__(self, other): return _lift(other)._apply("*", self)
    def __truediv__(self, other): return self._apply("/", other)
    def __rtruediv__(self, other): return _lift(other)._apply("/", self)
    def __pow__(self, other): return self._apply("**", other)
    def __rpow__(self, other): return _lift(other)._apply("**", self)
    def __neg__(self): return self._apply("neg")
    def __pos__(self): return self
    def __abs__(self): return self._apply("abs")

    def backward(self) -> None:
        """Fill in ``grad`` for every node this one depends on: d self / d node."""
        backward(topological_order(self), self)


def _function_method(name: str):
    op = FUNCTIONS[name]

    def method(self: Value, *others: object) -> Value:
        return apply(op, (self, *(_lift(o) for o in others)))

    method.__name__ = name
    method.__doc__ = f"{name}() of this value, as a new node."
    return method


for _name in FUNCTIONS:
    setattr(Value, _name, _function_method(_name))


def _lift(x: object) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, (int, float)):
        return Value(float(x), kind="const")
    return NotImplemented  # type: ignore[return-value]


# ------------------------------------------------------------------- forward

def describe(op: Op, operands: Sequence[float]) -> str:
    """An operation with its operand values, as it would be written: `4 / 0`."""
    shown = [_num(v) for v in operands]
    if op.infix:
        left, right = (f"({s})" if s.startswith("-") else s for s in shown)
        return f"{left} {op.name} {right}"
    if op.name == "neg":
        return f"-({shown[0]})"
    return f"{op.name}({', '.join(shown)})"


def _num(v: float) -> str:
    # inf and nan are shown as Python writes them (int() of either raises)
    return repr(int(v)) if math.isfinite(v) and v == int(v) and abs(v) < 1e16 else repr(v)


def evaluate(op: Op, operands: Sequence[float], pos: Pos | None = None) -> float:
    """One op on floats; a domain error, an overflow or a result that is not a
    number raises ``DomainError`` naming the op, its place and its operands."""
    try:
        out = op.forward(*operands)
        if math.isfinite(out):
            return out
        reason = "the result overflows" if math.isinf(out) else "the result is not a number"
    except Undefined as e:
        reason = str(e)
    except (OverflowError, ZeroDivisionError, ValueError) as e:  # pragma: no cover - belt and braces
        reason = str(e)
    raise DomainError(f"{reason}: `{describe(op, operands)}`", pos, op=op.name, operands=tuple(operands))


def apply(op: Op, children: tuple[Value, ...], pos: Pos | None = None) -> Value:
    """A new node ``op(children)``, with its data computed now."""
    data = evaluate(op, [c.data for c in children], pos)
    return Value(data, children, op.name, pos=pos)


def forward(nodes: Sequence[Value]) -> None:
    """Recompute every op node's data from its operands, up the tape."""
    ops = OPS
    for node in nodes:
        children = node.children
        if children:
            op = ops[node.op]
            args = [c.data for c in children]
            try:
                out = op.forward(*args)
            except (Undefined, OverflowError, ZeroDivisionError, ValueError):
                out = math.nan
            if not math.isfinite(out):
                evaluate(op, args, node.pos)  # raises with the reason
            node.data = out


# ------------------------------------------------------------ dependencies

def needed(nodes: Sequence[Value], roots: Iterable[Value]) -> bytearray:
    """For each node of a tape (``node.index`` is its place): 1 if a root
    depends on it (the roots included), else 0. One pass down the tape."""
    flags = bytearray(len(nodes))
    top = -1
    for root in roots:
        flags[root.index] = 1
        top = max(top, root.index)
    for node in reversed(nodes[:top + 1]):
        if flags[node.index]:
            for child in node.children:
                flags[child.index] = 1
    return flags


def reaches(nodes: Sequence[Value], sources: Iterable[Value]) -> bytearray:
    """For each node of a tape: 1 if it depends on a source (the sources
    included), else 0. One pass up the tape."""
    flags = bytearray(len(nodes))
    for source in sources:
        flags[source.index] = 1
    for node in nodes:
        if not flags[node.index]:
            for child in node.children:
                if flags[child.index]:
                    flags[node.index] = 1
                    break
    return flags


# ------------------------------------------------------------------ backward

def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, operands before the nodes using them,
    with an explicit stack (no recursion) and children visited in order."""
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, int]] = [(root, 0)]
    while stack:
        node, i = stack.pop()
        if i == 0:
            if id(node) in seen:
                continue
            seen.add(id(node))
        if i < len(node.children):
            stack.append((node, i + 1))
            child = node.children[i]
            if id(child) not in seen:
                stack.append((child, 0))
        else:
            order.append(node)
    return order


def backward(nodes: Sequence[Value], output: Value, check: Iterable[Value] = ()) -> None:
    """Reverse mode: ``grad`` of every node on the tape becomes d output / d node.

    ``nodes`` is a topological order containing ``output``. Nodes used more
    than once accumulate every contribution. Running it twice gives the same
    answer: grads are zeroed first. If any node in ``check`` (the gradients
    that will be reported) ends up not finite, ``DomainError`` names the
    operation whose derivative was not finite, its place and its operand.
    """
    check = list(check)
    for node in nodes:
        node.grad = 0.0
    output.grad = 1.0
    m = FloatMath
    ops = OPS
    reached = {id(output)}   # only nodes the output depends on pass a gradient on
    for node in reversed(nodes):
        children = node.children
        if not children or id(node) not in reached:
            continue
        reached.update(map(id, children))
        g = node.grad
        args = [c.data for c in children]
        args.append(node.data)
        for child, d in zip(children, ops[node.op].partials):
            if child.kind == "const":
                continue   # a number's gradient is never needed
            try:
                child.grad += g * d(m, *args)
            except (ZeroDivisionError, OverflowError, ValueError):
                child.grad = math.nan
    for node in check:
        if not math.isfinite(node.grad):
            raise _blame(nodes, output, [n for n in check if not math.isfinite(n.grad)])


def _blame(nodes: Sequence[Value], output: Value, bad: list[Value]) -> DomainError:
    """Find the operation that made a reported gradient non-finite: the first
    one, going backward from the output, whose derivative with respect to an
    operand leading to a bad gradient was not finite."""
    wanted = {id(n) for n in bad}
    leads = set()          # ids of nodes from which a bad node can be reached
    for node in nodes:     # operands come first, so one pass up the tape
        if id(node) in wanted or any(id(c) in leads for c in node.children):
            leads.add(id(node))
    m = FloatMath
    reached = {id(output)}
    for node in reversed(nodes):
        if id(node) in reached:
            reached.update(map(id, node.children))
        if not node.children or not math.isfinite(node.grad) or id(node) not in leads or id(node) not in reached:
            continue
        args = [c.data for c in node.children]
        op = OPS[node.op]
        for i, (child, d) in enumerate(zip(node.children, op.partials)):
            if child.kind == "const" or id(child) not in leads:
                continue
            try:
                local = d(m, *args, node.data)
            except (ZeroDivisionError, OverflowError, ValueError):
                local = math.nan
            if not math.isfinite(local) or not math.isfinite(node.grad * local):
                which = f" with respect to operand {i + 1}" if len(args) > 1 else ""
                what = "is not finite" if not math.isfinite(local) else "overflows"
                names = ", ".join(f"`{n.label}`" for n in bad if n.label)
                notes = [f"so the gradient of {names} is not finite"] if names else []
                return DomainError(f"the derivative of `{describe(op, args)}`{which} {what}",
                                   node.pos, notes, op=op.name, operands=tuple(args))
    names = ", ".join(f"`{n.label}`" for n in bad if n.label) or "a reported node"
    return DomainError(f"the gradient of {names} is not finite", bad[0].pos)


class Graph:
    """A program's nodes on a tape, with its names, its leaves and its output.

    ``nodes``: every node, operands before the nodes that use them.
    ``names``: each name to the node it refers to at the end of the program.
    ``leaves``: each leaf's name to its node, in order of first appearance.
    ``output``: the node whose value is the program's value.
    """

    def __init__(self, nodes: list[Value], names: dict[str, Value], leaves: dict[str, Value],
                 output: Value, output_name: str | None = None, source: str = ""):
        self.nodes = nodes
        self.names = names
        self.leaves = leaves
        self.output = output
        self.output_name = output_name
        self.source = source

    @property
    def value(self) -> float:
        return self.output.data

    def node(self, name: str) -> Value:
        """The node a name means for ``--wrt``: a leaf's name means the leaf,
        any other name the node it refers to at the end of the program."""
        node = self.leaves.get(name) or self.names.get(name)
        if node is None:
            from .build import resolve  # an unknown name: the same InputError as --wrt

            resolve(self, [name], "")
        return node

    def forward(self) -> float:
        """Recompute every node's data from the leaves (see ``FlatTape``)."""
        tape = self._flat()
        if not tape.forward():
            forward(self.nodes)   # the reference loop: it raises the DomainError
        return self.output.data

    def _flat(self) -> FlatTape:
        tape = getattr(self, "_tape", None)
        if tape is None or tape.size != len(self.nodes):
            tape = self._tape = FlatTape(self.nodes)
        return tape

    def backward(self, check: Iterable[Value] | None = None) -> None:
        """Gradients of the output with respect to every node; the leaves'
        (or ``check``'s) gradients must come out finite. They are taken at
        the values of the last ``forward``: after changing a leaf's data,
        run ``forward`` first (``build`` does)."""
        end = self.output.index + 1
        nodes = self.nodes if end == len(self.nodes) else self.nodes[:end]
        for node in self.nodes[end:]:
            node.grad = 0.0
        check = list(self.leaves.values()) if check is None else list(check)
        with paused_gc():
            if not self._flat().backward(self.output.index, check):
                backward(nodes, self.output, check)   # the reference loop: it raises the DomainError

    def gradients(self, wrt: Sequence[str] | None = None) -> dict[str, float]:
        """Backward, then each name's gradient (every leaf without ``wrt``)."""
        names = list(self.leaves) if wrt is None else list(wrt)
        targets = [self.node(n) for n in names]
        self.backward(targets)
        return {n: t.grad for n, t in zip(names, targets)}


# ------------------------------------------------------------- the flat tape

_DATA = attrgetter("data")
_consume = deque(maxlen=0).extend     # run an iterator for its effects

# Op codes of the flat tape's inline cases; every other op calls its table entry.
_ADD, _SUB, _MUL, _DIV, _NEG, _TANH, _EXP, _CALL1, _CALL2, _CALLN = range(10)
_INLINE = {"+": _ADD, "-": _SUB, "*": _MUL, "/": _DIV, "neg": _NEG, "tanh": _TANH, "exp": _EXP}
# The inline cases are a hand-compiled copy of these table entries, for speed
# (backward runs about 3x faster than calling the table's functions); the
# tests check them bit for bit against the table. Should an entry be replaced
# at run time, the tape calls the table instead of the copy.
_INLINED_OPS = {name: OPS[name] for name in _INLINE}


class FlatTape:
    """A Graph's nodes as parallel lists of op codes and operand indices,
    for the forward and backward loops of programs with millions of nodes.

    One loop per pass, no attribute look-ups, the common ops inline. The
    inline cases compute exactly what the ops table computes, in the same
    order (``g * (1.0 / b)``, not ``g / b``), so results are bit for bit
    those of the reference loops (``forward``, ``backward`` above). The tape
    never explains a failure: when an op raises or a value is not finite,
    it says so (returns False) and the Graph runs the reference loop, which
    raises the ``DomainError`` with its reason and place.
    """

    def __init__(self, nodes: Sequence[Value]):
        self.nodes = nodes
        self.size = n = len(nodes)
        steps = []
        append = steps.append
        inline = _INLINE
        for node in nodes:
            children = node.children
            if not children:
                continue
            op = OPS[node.op]
            code = inline.get(node.op) if _INLINED_OPS.get(node.op) is op else None
            # a constant's gradient is never needed: it goes to slot n, never read
            if len(children) == 2:
                a, b = children
                x, y = a.index, b.index
                gx = n if a.kind == "const" else x
                gy = n if b.kind == "const" else y
                gall = (gx, gy)
                if code is None:
                    code = _CALL2
            elif len(children) == 1:
                x, y = children[0].index, -1
                gx = gy = n if children[0].kind == "const" else x
                gall = (gx,)
                if code is None:
                    code = _CALL1
            else:
                x, y, code = tuple(c.index for c in children), -1, _CALLN
                gall = tuple(n if c.kind == "const" else c.index for c in children)
                gx = gy = n
            append((node.index, code, x, y, op.forward, op.partials, gx, gy, gall))
        # the forward loop unpacks only what it needs; the backward loop runs down the tape
        self.values: list[float] | None = None
        self.forward_steps = [(i, k, x, y, f) for i, k, x, y, f, *_ in steps]
        self.backward_steps = [(i, k, x, y, p, gx, gy, gall) for i, k, x, y, _, p, gx, gy, gall in reversed(steps)]
        self.steps = steps
        self.op_index = [step[0] for step in steps]
        self.op_nodes = [nodes[i] for i in self.op_index]

    def forward(self) -> bool:
        """Every node's data; False (nothing written) if an op failed or a
        value is not finite."""
        self.values = None     # until this pass succeeds
        v = list(map(_DATA, self.nodes))
        tanh, exp = math.tanh, math.exp
        try:
            for i, k, x, y, f in self.forward_steps:
                if k == _MUL:
                    v[i] = v[x] * v[y]
                elif k == _ADD:
                    v[i] = v[x] + v[y]
                elif k == _SUB:
                    v[i] = v[x] - v[y]
                elif k == _TANH:
                    v[i] = tanh(v[x])
                elif k == _CALL1:
                    v[i] = f(v[x])
                elif k == _CALL2:
                    v[i] = f(v[x], v[y])
                elif k == _DIV:
                    v[i] = v[x] / v[y]
                elif k == _NEG:
                    v[i] = -v[x]
                elif k == _EXP:
                    v[i] = exp(v[x])
                else:
                    v[i] = f(*[v[j] for j in x])
        except (ArithmeticError, ValueError):
            return False
        if not math.isfinite(sum(v)):   # a value that is inf or nan makes the sum so
            return False
        # leaves and numbers are unchanged; map() runs the loop in C
        _consume(map(setattr, self.op_nodes, repeat("data"), map(v.__getitem__, self.op_index)))
        self.values = v
        return True

    def backward(self, out: int, check: Sequence[Value]) -> bool:
        """d node[out] / d node for every node up to ``out``; False (nothing
        written) if a derivative failed or a ``check`` node's is not finite."""
        v = self.values    # the last forward pass's values (Graph.forward runs it first)
        if v is None:
            v = list(map(_DATA, self.nodes))
        g = [0.0] * (self.size + 1)
        g[out] = 1.0
        m = FloatMath
        try:
            for i, k, x, y, partials, gx, gy, gall in self.backward_steps:
                if i > out:
                    continue
                gi = g[i]
                if k == _MUL:
                    g[gx] += gi * v[y]
                    g[gy] += gi * v[x]
                elif k == _ADD:
                    g[gx] += gi * 1.0
                    g[gy] += gi * 1.0
                elif k == _SUB:
                    g[gx] += gi * 1.0
                    g[gy] += gi * -1.0
                elif k == _TANH:
                    o = v[i]
                    g[gx] += gi * (1.0 - o * o)
                elif k == _DIV:
                    b = v[y]
                    g[gx] += gi * (1.0 / b)
                    g[gy] += gi * (-v[i] / b)
                elif k == _NEG:
                    g[gx] += gi * -1.0
                elif k == _EXP:
                    g[gx] += gi * v[i]
                else:
                    args = [v[j] for j in x] if k == _CALLN else [v[x]] if k == _CALL1 else [v[x], v[y]]
                    args.append(v[i])
                    for j, d in zip(gall, partials):
                        g[j] += gi * d(m, *args)
        except (ArithmeticError, ValueError):
            return False
        if not math.isfinite(sum(g)):   # else look closer: only reported gradients must be finite
            if not all(math.isfinite(g[node.index]) for node in check):
                return False
        _consume(map(setattr, self.nodes, repeat("grad"), g[:out + 1]))
        return True
