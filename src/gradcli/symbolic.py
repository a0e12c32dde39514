"""Symbolic derivatives: the backward pass run on nodes instead of floats.

``ops.py`` writes each op's chain rules once, as ``d(m, g, *operands, out)``
(what an operand's gradient receives from an upstream gradient ``g``) over
a namespace ``m`` of elementary functions. ``grad`` runs them with
``m = FloatMath`` on floats. Here they run with ``m = Tape``, whose functions
and arithmetic build new nodes: the backward pass then *builds a graph*, the
derivative, made of the same ``Value`` nodes and the same ops as any program.
So a derivative can be printed as a program (unparse.py), evaluated at a
point (``engine.forward``), and differentiated again.

A ``Sym`` is a ``Value`` that does not evaluate when it is made: its data is
computed only when the tape is evaluated at a point. A ``Tape`` keeps every
node it made in the order it made them (operands first), shares equal nodes
(the same op on the same operands is one node; the program's own nodes are
copied as they are, so that the derivative adds up exactly what ``grad``
adds up), and simplifies as it builds, only in ways that never change a value:

- constant folding (an op whose operands are all numbers, when the op is
  defined there and the result is finite; otherwise the node stays, so that
  evaluating it reports the error);
- ``x*1``, ``x/1``, ``x+0``, ``x-0``, ``x**1``, ``x**0``, ``--x``,
  ``x*0`` (every value gradcli computes is finite, or evaluation stops with
  an error), ``x + x`` as ``2*x``, ``x - x`` as ``0``;
- signs moved outward (``(-a)*b`` is ``-(a*b)``; ``a + -b`` is ``a - b``;
  ``-(a - b)`` is ``b - a``): IEEE negation is exact;
- constants collected, ``c1*(c2*x)`` as ``(c1*c2)*x``, when ``c2*x`` is
  exact: ``c2`` is a power of two, at least 1 in size (``3*(2*x)`` is
  ``6*x``; ``2*(3*x)`` stays, since ``3*x`` may round differently from
  ``6*x`` among the subnormals);
- a product's operands in a fixed order: numbers, leaves, the rest
  (``2*x``, ``y*cos(x)``) (IEEE ``*`` and ``+`` are commutative).

Nothing here recurses: the tape is a list in topological order, and every
pass is a loop over it.
"""

from __future__ import annotations

import math
from typing import Collection, Sequence

from .engine import Graph, Value, backward, forward, names_note, needed, reaches, resolve
from .errors import DomainError, InputError, words
from .ops import FUNCTIONS, OPS, Undefined, compute
from .syntax import Pos


class Sym(Value):
    """A node of a symbolic graph: made without being evaluated.

    Arithmetic with numbers and other ``Sym`` builds nodes on the same tape.
    Comparison with a number asks whether the node is *known* to be that
    number (a constant), as SymPy's structural comparison does: so the
    table's ``y != 0`` guards pick the general rule for a symbolic ``y``.
    """

    __slots__ = ("tape",)

    def __init__(self, tape: Tape, data: float = 0.0, children: tuple[Value, ...] = (), op: str = "",
                 label: str = "", kind: str = "", pos: Pos | None = None):
        super().__init__(data, children, op, label, kind, pos)
        self.tape = tape

    def __repr__(self) -> str:
        if self.kind == "const":
            return f"Sym({self.data!r})"
        return f"Sym({self.label or self.op or self.kind}, n{self.index})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (int, float)):
            return self.kind == "const" and self.data == other
        return self is other

    def __ne__(self, other: object) -> bool:
        return self.tape.differs(self, other)

    __hash__ = Value.__hash__

    def __add__(self, other): return self.tape.node("+", self, other)
    def __radd__(self, other): return self.tape.node("+", other, self)
    def __sub__(self, other): return self.tape.node("-", self, other)
    def __rsub__(self, other): return self.tape.node("-", other, self)
    def __mul__(self, other): return self.tape.node("*", self, other)
    def __rmul__(self, other): return self.tape.node("*", other, self)
    def __truediv__(self, other): return self.tape.node("/", self, other)
    def __rtruediv__(self, other): return self.tape.node("/", other, self)
    def __pow__(self, other): return self.tape.node("**", self, other)
    def __rpow__(self, other): return self.tape.node("**", other, self)
    def __neg__(self): return self.tape.node("neg", self)
    def __pos__(self): return self
    def __abs__(self): return self.tape.node("abs", self)

    def backward(self) -> None:  # pragma: no cover - a Sym has no data to backpropagate yet
        raise TypeError("a symbolic node has no value: evaluate its tape at a point first")


def _const(node: Value, value: float | None = None) -> bool:
    return node.kind == "const" and (value is None or node.data == value)


def _rank(node: Value) -> tuple[int, int]:
    """The order of a product's operands: numbers, then leaves, then other
    nodes, each in the order they were made."""
    return (0 if node.kind == "const" else 1 if node.is_leaf else 2, node.index)


def _exact_scale(c: float) -> bool:
    """Whether ``c*x`` is exact for every finite ``x`` whose product does not
    overflow: ``c`` is plus or minus a power of two, at least 1 (a smaller one
    would lose the low bits of a subnormal)."""
    return abs(c) >= 1 and math.frexp(c)[0] in (0.5, -0.5)


class Tape:
    """Symbolic nodes in the order they were made, and the namespace of
    elementary functions the ops table's derivative rules use: ``exp(x)``,
    ``pow(x, y)``, ``step(x)``... each builds a node (every function of the
    language is here, so any rule can use any of them)."""

    def __init__(self, keep_nan: bool = False) -> None:
        # keep_nan: no simplification that would turn a NaN or an infinity
        # into a number (``x*0``, ``x - x``, skipping a zero adjoint), so a
        # gradient that ``grad`` finds not finite stays so (codegen.py)
        self.keep_nan = keep_nan
        self.nodes: list[Sym] = []
        self._shared: dict[tuple, Sym] = {}
        self.at: Pos | None = None    # the place new nodes are blamed on

    # ------------------------------------------------------------ making nodes

    def _push(self, node: Sym) -> Sym:
        node.index = len(self.nodes)
        self.nodes.append(node)
        return node

    def const(self, value: float) -> Sym:
        value = float(value) + 0.0    # one zero, not two
        key = ("const", value)
        node = self._shared.get(key)
        if node is None:
            node = self._shared[key] = self._push(Sym(self, value, kind="const"))
        return node

    def leaf(self, label: str, kind: str, data: float = 0.0, pos: Pos | None = None) -> Sym:
        """A named leaf: ``kind`` is ``"input"`` or ``"leaf"`` (with the default ``data``)."""
        return self._push(Sym(self, data, label=label, kind=kind, pos=pos))

    def lift(self, x: object) -> Sym:
        if isinstance(x, Sym):
            return x
        if isinstance(x, (int, float)):
            return self.const(x)
        raise TypeError(f"not a number or a symbolic node: {x!r}")

    def make(self, name: str, args: tuple[Sym, ...]) -> Sym:
        """The node ``name(args)`` as it is: shared, not simplified."""
        key = (name, *(a.index for a in args))
        node = self._shared.get(key)
        if node is None:
            node = self._shared[key] = self._push(Sym(self, 0.0, args, name, pos=self.at))
        return node

    def differs(self, node: Sym, other: object) -> bool:
        """``node != other`` as a rule asks it (``m.where(y != 0, ...)``):
        structurally, true unless ``node`` is known to be ``other``.
        codegen's tape answers with the condition itself."""
        return not node.__eq__(other)

    def where(self, known: bool, a: object, b: object) -> Sym:
        """The rules' ``m.where``: ``known`` is a structural answer (``y != 0``
        on a node is true unless the node is the number 0), so the choice is
        made once, for every point, and ``a`` serves wherever the condition
        is not known to fail."""
        return self.lift(a if known else b)

    def sech2(self, x: Sym) -> Sym:
        """tanh's derivative as the language writes it (ops.FloatMath.sech2
        computes these bits): 4*sigmoid(2*x)*sigmoid(-2*x)."""
        return 4.0 * self.sigmoid(2.0 * x) * self.sigmoid(-2.0 * x)

    def node(self, name: str, *operands: object) -> Sym:
        """The node ``name(operands)`` (``name`` as in ``OPS``), simplified."""
        args = tuple(self.lift(a) for a in operands)
        return self._simplify(name, args) or self.make(name, args)

    def _simplify(self, name: str, args: tuple[Sym, ...]) -> Sym | None:
        """A node equal in value to ``name(args)`` that is simpler, or None."""
        if all(a.kind == "const" for a in args):
            try:
                value = compute(OPS[name], [a.data for a in args])
            except (Undefined, OverflowError, ZeroDivisionError, ValueError):
                return None
            return self.const(value) if math.isfinite(value) else None
        if name == "neg":
            (x,) = args
            if x.op == "neg":
                return x.children[0]
            if x.op == "-":
                return self.node("-", x.children[1], x.children[0])
            return None
        if len(args) != 2:
            return None
        a, b = args
        if name == "+":
            if _const(a, 0):
                return b
            if _const(b, 0):
                return a
            if a is b:
                return self.node("*", 2.0, a)
            if b.op == "neg":
                return self.node("-", a, b.children[0])
            if a.op == "neg":
                return self.node("-", b, a.children[0])
            if _const(b) and b.data < 0:
                return self.node("-", a, -b.data)
            if _const(a):
                return self.node("+", b, a)         # numbers last in a sum
            return None
        if name == "-":
            if _const(b, 0):
                return a
            if _const(a, 0):
                return self.node("neg", b)
            if a is b and not self.keep_nan:
                return self.const(0.0)
            if b.op == "neg":
                return self.node("+", a, b.children[0])
            if _const(b) and b.data < 0:
                return self.node("+", a, -b.data)
            return None
        if name in ("*", "/"):        # x*1 = 1*x = x/1 = x; times or over -1, and signs, move out
            if name == "*" and _const(a, 1):
                return b
            if _const(b, 1):
                return a
            if name == "*" and _const(a, -1):
                return self.node("neg", b)
            if _const(b, -1):
                return self.node("neg", a)
            if a.op == "neg":
                return self.node("neg", self.node(name, a.children[0], b))
            if b.op == "neg":
                return self.node("neg", self.node(name, a, b.children[0]))
        if name == "*":
            if (_const(a, 0) or _const(b, 0)) and not self.keep_nan:
                return self.const(0.0)
            if _rank(b) < _rank(a):
                a, b = b, a                       # numbers, then leaves, then the rest
            if _const(a) and b.op == "*" and _const(b.children[0]) and _exact_scale(b.children[0].data):
                product = a.data * b.children[0].data
                if math.isfinite(product):
                    return self.node("*", product, b.children[1])
            if a is not args[0]:
                return self.make("*", (a, b))
            return None
        if name == "**":
            if _const(b, 1):
                return a
            if _const(b, 0) or _const(a, 1):
                return self.const(1.0)
            return None
        return None

    # ------------------------------------------------------------ the passes

    def copy(self, graph: Graph, defaults: Collection[str] = ()) -> list[Sym]:
        """The program's graph on this tape, node for node, as it is: returns
        the copies, indexed like ``graph.nodes``. Nothing is simplified or
        merged, so every node keeps its identity (``--wrt`` an assigned name
        means that node) and the backward pass adds up exactly what ``grad``
        adds up. Inputs named in ``defaults`` become leaves with their data
        as default."""
        copies: list[Sym] = []
        for node in graph.nodes:
            if node.kind == "const":
                copy = self.const(node.data)
            elif node.is_leaf:
                kind = "leaf" if node.kind == "leaf" or node.label in defaults else "input"
                copy = self.leaf(node.label, kind, node.data, node.pos)
            else:
                args = tuple(copies[c.index] for c in node.children)
                copy = self._push(Sym(self, 0.0, args, node.op, label=node.label, pos=node.pos))
                self._shared.setdefault((node.op, *(a.index for a in args)), copy)
            copies.append(copy)
        return copies

    def differentiate(self, output: Sym, targets: Sequence[Sym], adjoint: dict[int, Sym] | None = None) -> list[Sym]:
        """Reverse mode on nodes: ``d output / d target`` for each target, as
        nodes on this tape. The same rules as ``engine.backward``, in the same
        order, so evaluating the result gives ``grad``'s numbers.

        ``adjoint``, if given, is filled with every node's adjoint (by tape
        index)."""
        order = live(self.nodes, [output])
        leads = reaches(self.nodes, targets)   # nodes that depend on a target
        if adjoint is None:
            adjoint = {}
        adjoint[output.index] = self.const(1.0)
        for node in reversed(order):
            g = adjoint.get(node.index)
            if g is None or not node.children or _const(g, 0) and not self.keep_nan:
                continue
            self.at = node.pos
            args = (*node.children, node)
            for i, (child, d) in enumerate(zip(node.children, OPS[node.op].chain)):
                if not leads[child.index]:
                    continue               # numbers, and nodes no target reaches
                contribution = self.lift(d(self, g, *args))
                before = adjoint.get(child.index)
                adjoint[child.index] = contribution if before is None else self.node("+", before, contribution)
        zero = self.const(0.0)
        return [adjoint.get(t.index, zero) for t in targets]


def _function(name: str):
    op_name = FUNCTIONS[name].name

    def function(self: Tape, *args: object) -> Sym:
        return self.node(op_name, *args)

    function.__name__ = name
    function.__doc__ = f"The node {name}(...), simplified."
    return function


for _name in FUNCTIONS:   # the namespace: Tape.exp, Tape.pow, Tape.step, ...
    setattr(Tape, _name, _function(_name))


def live(nodes: Sequence[Sym], roots: Sequence[Sym]) -> list[Sym]:
    """The nodes the roots depend on (the roots too), in tape order."""
    need = needed(nodes, roots)
    return [node for node in nodes if need[node.index]]


def evaluate(roots: Sequence[Sym]) -> list[float]:
    """The roots' values with the leaves' current data; a domain error raises
    ``DomainError`` at the place of the operation it came from."""
    if not roots:
        return []
    forward(live(roots[0].tape.nodes, roots))
    return [r.data for r in roots]


# ------------------------------------------------------------------ commands


MAX_ORDER = 8   # the highest order `diff` builds (the CLI's --order has the same bound)


def derivative(graph: Graph, wrt: str, order: int = 1, defaults: Collection[str] = ()) -> Sym:
    """``d^order output / d wrt^order`` of a program's graph, as a node on a
    new tape. ``wrt`` is a leaf, or (for the first order) any assigned name:
    the node it names at the end of the program, as ``grad --wrt`` means it.
    ``order`` is a whole number from 1 to MAX_ORDER: each order can multiply
    the derivative's size (about 5x an order for ``exp(sin(x)*x)/(1+x*x)``,
    1.3 million characters at order 12), so a larger one is refused up front
    rather than left to run out of memory."""
    if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= MAX_ORDER:
        raise InputError(f"the order of a derivative is a whole number from 1 to {MAX_ORDER}, not {order!r}"[:200])
    resolve(graph, [wrt])
    node = graph.node(wrt)
    if order > 1 and not node.is_leaf:
        raise InputError(f"--order {order} needs a leaf: `{wrt}` is computed by the program",
                         notes=names_note(graph.leaves, "leaves"))
    tape = Tape()
    copies = tape.copy(graph, defaults)
    target = copies[node.index]
    out = copies[graph.output.index]
    for _ in range(order):
        (out,) = tape.differentiate(out, [target])
    return out


class Hessian:
    """The gradient and the matrix of second derivatives at a point."""

    def __init__(self, names: list[str], value: float, grad: dict[str, float], matrix: list[list[float]]):
        self.names = names
        self.value = value
        self.grad = grad
        self.matrix = matrix


def hessian(graph: Graph, names: Sequence[str]) -> Hessian:
    """Second derivatives of a built (evaluated) graph with respect to the
    leaves ``names``: reverse over reverse. The symbolic gradient is built
    once, evaluated at the graph's point, and each row is one float backward
    pass over it (``engine.backward``), so a gradient or a second derivative
    that is not finite is the same error ``grad`` gives."""
    names = list(names)
    for name in names:
        if name not in graph.leaves:
            raise InputError(f"hessian needs leaves: `{name}` is computed by the program",
                             notes=names_note(graph.leaves, "leaves"))
    grad = graph.gradients(names)            # the domain errors of `grad`, first
    tape = Tape()
    copies = tape.copy(graph)
    leaves = [copies[graph.leaves[n].index] for n in names]
    firsts = tape.differentiate(copies[graph.output.index], leaves)
    evaluate(firsts)
    matrix = []
    for name, first in zip(names, firsts):
        for leaf in leaves:
            leaf.grad = 0.0
        if first.kind != "const":
            try:
                backward(live(tape.nodes, [first]), first, leaves)
            except DomainError as e:
                bad = [f"`{leaf.label}`" for leaf in leaves if not math.isfinite(leaf.grad)]
                e.notes = ["it is an operation of the first derivative, made for the operation here",
                           f"so the second derivative with respect to `{name}` and {words(bad, 'and')} "
                           "is not finite"]
                raise
        matrix.append([leaf.grad + 0.0 for leaf in leaves])
    # The truth is symmetric; the two passes that give (i, j) and (j, i)
    # round in different orders (the lecture's neuron: 4.742640687119282
    # and ...284). Each pair becomes its mean, so the matrix is exactly
    # symmetric and no entry is further from the truth than the worse of
    # its two (the neuron: within 4.5 ulp of mpmath before, 2.5 after).
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            matrix[i][j] = matrix[j][i] = matrix[i][j] * 0.5 + matrix[j][i] * 0.5
    return Hessian(names, graph.value, grad, matrix)
