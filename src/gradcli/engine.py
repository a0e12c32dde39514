"""The engine: scalar Value nodes, forward and backward, in the spirit of micrograd.

A ``Value`` holds its data and grad, the op that made it and its operands in
order. Every op comes from one table (ops.py), where the forward function,
the chain rules, the domain and the corner sit side by side; no node keeps
a closure, but one a user made the lecture's way (``out._backward =
_backward``: an op of their own, which only ``Value.backward`` runs).

A ``Graph`` is a tape: the nodes in a topological order (every node after its
operands). Programs build their nodes in that order already, so forward is one
loop up the tape and backward one loop down it. ``topological_order`` finds an
order for Values built by hand, with an explicit stack. Nothing here recurses,
so a chain a million nodes deep is as fine as a wide one.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Set
from collections import deque
from functools import cached_property
from itertools import repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Iterable, Iterator, Mapping, Sequence

from .errors import DomainError, InputError, did_you_mean, printable, words
from .ops import FUNCTIONS, OPS, FloatMath, Op, Undefined, compute
from .syntax import Pos, paused_gc  # noqa: F401 - paused_gc is used here and by callers

LEAF_KINDS = ("input", "leaf")


class Value:
    """One scalar node of the graph, and micrograd's ``Value``, drop-in.

    ``Value(data, _children=(), _op='', label='')`` as in micrograd and the
    lecture: ``.data``, ``.grad``, ``._prev`` (the distinct operands, in
    order), ``._op``, ``.label``; ``+ - * / **`` with a number or a Value on
    either side; the function methods (``exp log tanh relu sigmoid sqrt abs
    sin cos tan softplus log1p sign step atan asinh erf``, and ``max min
    hypot pow`` of another operand); ``backward()`` with micrograd's semantics (see there).

    gradcli's own code reads ``children`` (the operands in order, repeats
    kept: ``a + a`` has two) and ``op`` (a key of ``ops.OPS``), and gives
    two more arguments: ``kind`` is ``"input"`` (a name read before it is
    assigned), ``"leaf"`` (a name given a number first: a leaf with a
    default, or a Value made by hand), ``"const"`` (a number in the program,
    or a number in ``Value(2) * 3``) or ``"op"``; ``pos`` is the place in
    the source. ``index`` is the node's place on a Graph's tape.

    An op of one's own, the lecture's way: ``out = Value(t, (self,),
    'tanh')`` then ``out._backward = _backward`` (a closure adding
    ``out.grad`` times the local derivative to each operand's ``grad``).
    Any ``_op`` string is taken; a node whose ``_op`` is not one of gradcli's
    operations with that many operands (``'**2'``, ``'cube'``) is *opaque*:
    its local step is the user's ``_backward``, which ``backward()`` calls,
    and ``draw`` and the notebook draw it with its ``_op`` as written. What
    needs the op table (a Graph's own forward and backward, code generation,
    the live page's arithmetic) says so with an ``InputError`` naming the
    op (``require_ops``). ``backward()`` on an opaque node without a
    ``_backward`` is an ``InputError`` too (with a "did you mean" for a
    misspelt op).

    Bad arguments raise ``InputError``: data that is not a real number, an
    ``_op`` that is not a string, an operand that is not a Value.

    Jupyter shows a Value through ``DISPLAY``, a function set from above
    (``gradcli/__init__.py`` sets notebook.py's): the engine imports no
    display code.
    """

    __slots__ = ("data", "grad", "op", "children", "label", "kind", "pos", "index", "backstep")

    def __init__(self, data: float, _children: Iterable[Value] = (), _op: str = "",
                 label: str = "", kind: str = "", pos: Pos | None = None):
        if type(data) is not float:
            data = _real(data)
        if _op or _children:
            _children = _checked(_children, _op)
        if type(label) is not str:
            label = "" if label is None else str(label)
        self.data = data
        self.grad = 0.0
        self.op = _op
        self.children = _children
        self.label = label
        self.kind = kind or ("op" if _op else "leaf")
        self.pos = pos
        self.index: int | None = None   # place on a Graph's tape; None until it has one
        self.backstep = None    # the user's _backward closure (an op of their own), or None

    def __repr__(self) -> str:
        """micrograd's repr, the number first; the label, if any, last."""
        label = self.label
        name = f", label={label!r}" if label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{name})"

    @property
    def is_leaf(self) -> bool:
        return self.kind in LEAF_KINDS

    # -- micrograd's names for the graph's structure
    @property
    def _prev(self) -> Operands:
        """The operands, each once, in order: what micrograd keeps as the set
        ``_prev`` (``(a + a)._prev`` has one member), iterated in a fixed order."""
        return Operands(self.children)

    @property
    def _op(self) -> str:
        """The operation that made this node (``""`` for a leaf): ``+ - * / **
        neg`` or a function's name."""
        return self.op

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """What Jupyter shows: ``DISPLAY``'s bundle (set by gradcli's
        ``__init__``: the number, then the graph's picture), else the repr."""
        if DISPLAY is None:
            return {"text/plain": repr(self)}
        return DISPLAY(self, include, exclude)

    @property
    def _backward(self):
        """micrograd's step for this one node, a function of no arguments:
        add ``grad`` times each local derivative to each operand's ``grad``.
        The one assigned (``out._backward = _backward``, the lecture's way
        of adding an op) if any, else the op table's rule."""
        return self.backstep if self.backstep is not None else self._table_step

    @_backward.setter
    def _backward(self, step) -> None:
        if not callable(step):
            raise InputError(f"a Value's _backward is a function of no arguments, not {_shown(step)}")
        self.backstep = step

    def _table_step(self) -> None:
        if self.children:
            if _opaque(self):
                raise _no_step(self)
            _propagate(self, FloatMath)

    # -- building by hand, micrograd style: Value(2.0) * Value(3.0) + 1
    def __add__(self, other: Value | float) -> Value: return _binary("+", self, other)
    def __radd__(self, other: Value | float) -> Value: return _binary("+", other, self)
    def __sub__(self, other: Value | float) -> Value: return _binary("-", self, other)
    def __rsub__(self, other: Value | float) -> Value: return _binary("-", other, self)
    def __mul__(self, other: Value | float) -> Value: return _binary("*", self, other)
    def __rmul__(self, other: Value | float) -> Value: return _binary("*", other, self)
    def __truediv__(self, other: Value | float) -> Value: return _binary("/", self, other)
    def __rtruediv__(self, other: Value | float) -> Value: return _binary("/", other, self)
    def __pow__(self, other: Value | float) -> Value: return _binary("**", self, other)
    def __rpow__(self, other: Value | float) -> Value: return _binary("**", other, self)
    def __neg__(self) -> Value: return _made(OPS["neg"], (self,))
    def __pos__(self) -> Value: return self
    def __abs__(self) -> Value: return _made(OPS["abs"], (self,))

    if TYPE_CHECKING:   # the function methods, made from the ops table below
        def exp(self) -> Value: ...
        def log(self) -> Value: ...
        def tanh(self) -> Value: ...
        def relu(self) -> Value: ...
        def sigmoid(self) -> Value: ...
        def sqrt(self) -> Value: ...
        def abs(self) -> Value: ...
        def sin(self) -> Value: ...
        def cos(self) -> Value: ...
        def tan(self) -> Value: ...
        def softplus(self) -> Value: ...
        def log1p(self) -> Value: ...
        def sign(self) -> Value: ...
        def step(self) -> Value: ...
        def atan(self) -> Value: ...
        def asinh(self) -> Value: ...
        def erf(self) -> Value: ...
        def max(self, other: Value | float) -> Value: ...
        def min(self, other: Value | float) -> Value: ...
        def hypot(self, other: Value | float) -> Value: ...
        def pow(self, other: Value | float) -> Value: ...

    def backward(self) -> None:
        """Backpropagate from this node, as micrograd does: this node's grad
        is set to 1; then, going down a topological order, every node adds
        its grad times each local derivative to its operands' grads. Nothing
        is zeroed, so gradients add up across calls until they are set back
        to 0 (micrograd's ``zero_grad``): call it twice on ``w * w`` at
        ``w = 2`` and ``w.grad`` is 8, as in micrograd and the lecture.

        Nothing recurses: a chain 100,000 nodes deep is fine. Where a local
        derivative is not finite (``sqrt`` at 0) the gradients it feeds are
        ``inf`` or ``nan``, as in PyTorch; nothing is raised. For a program's
        gradients, checked and zeroed first, use ``Graph.backward``.

        A node with a ``_backward`` of its own (an op added the lecture's way)
        takes its step from it; the numbers' grads are filled in too, as
        micrograd fills in those of the ``Value(3)`` it makes for ``w * 3``.

        One difference from micrograd remains (a ``RuntimeWarning`` says so
        when it happens), in what a *second* call adds
        to a node in the middle of the graph: micrograd builds ``a - b`` as
        ``a + b*-1``, ``-a`` as ``a*-1`` and ``a / b`` as ``a * b**-1``, and
        those hidden nodes keep grads of their own, which a second call adds
        in again; gradcli's ``-``, ``neg`` and ``/`` are one node each (and
        ``a / b`` is a true division). One call, and any number of calls on
        graphs of ``+``, ``*``, ``**`` with a number and ``relu``, give
        micrograd's numbers, as does a training loop that builds its graph
        anew each step, ``zero_grad`` forgotten or not.

        ``InputError`` before any grad changes if a node's ``_op`` is not one of
        gradcli's operations and it has no ``_backward``.
        """
        nodes = topological_order(self)
        subtracts = again = False
        ops, splits = OPS, _MICROGRAD_SPLITS
        for node in nodes:      # before any grad changes: an op only the user knows needs its step
            children = node.children
            if children:
                if node.backstep is None:
                    entry = ops.get(node.op)
                    if entry is None or entry.arity != len(children):
                        raise _no_step(node)
                if node.grad:
                    again = again or node is not self
                if node.op in splits:
                    subtracts = True
        if again and subtracts:
            import warnings

            warnings.warn(
                "backward() again without zeroing the grads: they add up, as in micrograd, but "
                "micrograd makes `a - b`, `-a` and `a / b` of several nodes whose grads add up too, "
                "so its numbers differ here; set every grad to 0 first (zero_grad) or build the graph anew",
                RuntimeWarning, stacklevel=2)
        self.grad = 1.0
        m = FloatMath
        with paused_gc():
            for node in reversed(nodes):
                step = node.backstep
                if step is not None:
                    step()
                elif node.children:
                    _propagate(node, m)


def _real(x: object) -> float:
    """A Value's data: a real number as a float (micrograd takes ints too)."""
    if isinstance(x, numbers.Real):
        try:
            return float(x)
        except (OverflowError, ValueError):
            pass
    raise InputError(f"a Value's data is a number that fits a float, not {printable(repr(x)[:40])}")


def _shown(x: object) -> str:
    text = repr(x)
    return f"{type(x).__name__} `{printable(text if len(text) <= 40 else text[:37] + '...')}`"


def _checked(children: Iterable[Value], op: object) -> tuple[Value, ...]:
    """The operands of a node made with ``Value(data, _children, _op)``: each
    a Value; the op a string (any: one gradcli does not know makes an opaque
    node, whose step is the user's ``_backward``)."""
    if type(children) is not tuple:
        try:
            children = tuple(children)
        except TypeError:
            raise InputError(f"a Value's operands are a tuple of Values, not {_shown(children)}") from None
    for child in children:
        if not isinstance(child, Value):
            raise InputError(f"a Value's operand must be a Value, not {_shown(child)}")
    if type(op) is not str:
        raise InputError(f"an operation is named by a string, not {_shown(op)}")
    return children


def op_node(children: tuple[Value, ...], op: str, pos: Pos | None = None) -> Value:
    """``Value(0.0, children, op, pos=pos)`` for operands known to be Values
    and a known op (build.py's): the same node without checking the
    arguments, 3x faster to make (0.18 µs against 0.53; a 10,000-node
    program makes 10,000 of them). tests/test_engine.py checks that every
    slot agrees with ``Value``'s."""
    node = _new_value(Value)
    node.data = 0.0
    node.grad = 0.0
    node.op = op
    node.children = children
    node.label = ""
    node.kind = "op"
    node.pos = pos
    node.index = None
    node.backstep = None
    return node


_new_value = object.__new__


def _opaque(node: Value) -> bool:
    """An op node whose ``_op`` is not one of gradcli's operations with this
    many operands: only the user's ``_backward`` knows its local step."""
    entry = OPS.get(node.op)
    return entry is None or entry.arity != len(node.children)


def _what_op(node: Value) -> str:
    """Why a node is opaque, as a sentence."""
    if not node.op:
        return "its `_op` is empty, which names none of gradcli's operations"
    entry = OPS.get(node.op)
    if entry is not None:
        n = len(node.children)
        return (f"its `_op` is `{printable(node.op)}` with {n} operand{'s' * (n != 1)}, "
                f"where gradcli's `{node.op}` takes {entry.arity}")
    return f"its `_op` `{printable(node.op)}` is not one of gradcli's operations"


def _no_step(node: Value) -> InputError:
    near = did_you_mean(node.op, OPS) or did_you_mean(node.op.lower(), OPS) if node.op else []
    label = f" `{printable(node.label)}`" if node.label else ""
    return InputError(f"backward() cannot pass the gradient through the node{label}: {_what_op(node)}, "
                      f"and it has no `_backward` of its own",
                      notes=[*near, "give it one, as the lecture does: `out._backward = _backward`, a function "
                                    "adding out.grad times the local derivative to each operand's grad"])


def require_ops(nodes: Iterable[Value], feature: str) -> None:
    """``InputError`` if a node's op is not in the op table (an op added the
    lecture's way, with its own ``_backward``): ``feature`` (``"code
    generation"``, ...) needs every op's rules. Linear in the nodes."""
    for node in nodes:
        if node.children and _opaque(node):
            label = f"`{printable(node.label)}`" if node.label else "a node"
            raise InputError(f"{feature} needs gradcli's rules for every operation: in this graph, "
                             f"{label} was made by an op of your own ({_what_op(node)[4:]})",
                             notes=["backward(), gradcli.draw(v) as 'svg', 'dot' or 'png', and the notebook's "
                                    "picture take such a node (its rule is its `_backward`); for the rest, "
                                    "build it from gradcli's operations (x.tanh(), x.exp(), x**2, ...)"])


# micrograd builds these of more than one node (a + b*-1, a*-1, a * b**-1)
_MICROGRAD_SPLITS = frozenset(("-", "/", "neg"))

# How Jupyter shows a Value or a Graph: a function (thing, include, exclude)
# -> mime bundle, set from above (gradcli/__init__.py sets notebook.py's).
DISPLAY = None


class Operands(Set):
    """``Value._prev``: a node's distinct operands in their order; a set in
    every other way (``len``, ``in``, ``==`` with a set, ``|``, ``&``)."""

    __slots__ = ("_items",)

    def __init__(self, children: Sequence[Value] = ()):
        items: list[Value] = []
        for child in children:
            if not any(child is seen for seen in items):
                items.append(child)
        self._items = tuple(items)

    def __iter__(self) -> Iterator[Value]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, x: object) -> bool:
        return any(x is item for item in self._items)

    def __repr__(self) -> str:
        return "{" + ", ".join(map(repr, self._items)) + "}" if self._items else "set()"

    @classmethod
    def _from_iterable(cls, it: Iterable[Value]) -> Operands:
        return cls(tuple(it))


def _propagate(node: Value, m: type) -> None:
    """One node's backward step: each operand's grad += what the row's chain
    rule passes it (grad * local derivative, or grad / x for the rules that
    divide); a number's where it is finite. As in PyTorch, a derivative that divides
    by zero is infinite (``sqrt`` at 0), one that cannot be computed
    otherwise nan."""
    children = node.children
    if not children:
        return
    g = node.grad
    args = [c.data for c in children]
    args.append(node.data)
    for child, d in zip(children, OPS[node.op].chain):
        if child.kind == "const":
            try:      # a number's grad, as micrograd gives its Value(3): where it is a number
                passed = d(m, g, *args)
            except (ArithmeticError, ValueError):
                continue
            if math.isfinite(passed):
                child.grad += passed
            continue
        try:
            child.grad += d(m, g, *args)
        except ZeroDivisionError:
            child.grad += g * math.inf
        except (OverflowError, ValueError):
            child.grad = math.nan


def _binary(name: str, left: object, right: object) -> Value:
    """``left <op> right`` where one side is a Value and the other a Value or
    a real number; anything else is not ours to handle (NotImplemented, so
    Python raises its TypeError, as for numbers)."""
    a, b = _lift(left), _lift(right)
    if a is NotImplemented or b is NotImplemented:
        return NotImplemented  # type: ignore[return-value]
    try:
        return apply(OPS[name], (a, b))
    except DomainError as e:
        error = _pythons(e)
    raise error.with_traceback(None) from None   # the traceback: the user's line, the operator, here


class DivisionByZero(DomainError, ZeroDivisionError):
    """A division by zero in a Value's arithmetic (``Value(1.0) / 0``, ``0 **
    -1``): a DomainError that is also Python's ZeroDivisionError, so
    micrograd-era ``except ZeroDivisionError:`` keeps working."""


class Overflow(DomainError, OverflowError):
    """A result too large for a float in a Value's arithmetic (``exp(1000)``):
    a DomainError that is also Python's OverflowError."""


def _pythons(e: DomainError) -> DomainError:
    """A Value arithmetic's DomainError, as Python's own kind too where there
    is one (DivisionByZero, Overflow)."""
    kind = (DivisionByZero if e.message.startswith("division by zero") else
            Overflow if e.message.startswith("the result overflows") else None)
    return e if kind is None else kind(e.message, e.pos, e.notes, e.op, e.operands)


def _made(op: Op, children: tuple[Value, ...]) -> Value:
    """``apply`` for a Value's methods, its DomainError as ``_pythons``, raised
    from here (the traceback ends at the method, not in the engine)."""
    try:
        return apply(op, children)
    except DomainError as e:
        error = _pythons(e)
    raise error.with_traceback(None) from None


def _function_method(name: str):
    arity = FUNCTIONS[name].arity
    op_name = FUNCTIONS[name].name

    if arity == 1:
        def method(self: Value) -> Value:
            return _made(OPS[op_name], (self,))
        method.__doc__ = f"{name}() of this value, as a new node."
    else:
        def method(self: Value, other: Value | float) -> Value:  # type: ignore[misc]
            lifted = _lift(other)
            if lifted is NotImplemented:
                raise TypeError(f"{name}() takes a Value or a real number, not {type(other).__name__}")
            return _made(OPS[op_name], (self, lifted))
        method.__doc__ = f"{name}(this value, other), as a new node."
    method.__name__ = method.__qualname__ = name
    return method


for _name in FUNCTIONS:
    setattr(Value, _name, _function_method(_name))


def _lift(x: object) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, (int, float)) or isinstance(x, numbers.Real):
        return Value(float(x), kind="const")
    return NotImplemented  # type: ignore[return-value]


# ------------------------------------------------------------------- forward

def describe(op: Op, operands: Sequence[float]) -> str:
    """An operation with its operand values, as it would be written: `4 / 0`."""
    shown = [literal(v) for v in operands]
    if op.infix:
        left, right = (f"({s})" if s.startswith("-") else s for s in shown)
        return f"{left} {op.name} {right}"
    if op.name == "neg":
        return f"-({shown[0]})"
    return f"{op.name}({', '.join(shown)})"


def literal(v: float) -> str:
    """A float as a number of the language: ``2`` for 2.0, else its repr
    (inf and nan as Python writes them: int() of either raises)."""
    return repr(int(v)) if math.isfinite(v) and v == int(v) and abs(v) < 1e16 else repr(v)


def evaluate(op: Op, operands: Sequence[float], pos: Pos | None = None) -> float:
    """One op on floats; outside the row's domain (``op.undefined``), an
    overflow or a result that is not a number raises ``DomainError`` naming
    the op, its place and its operands."""
    try:
        out = compute(op, operands)
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
                out = compute(op, args)
            except ArithmeticError:
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
    with an explicit stack (no recursion) and children visited in order.
    Each stack entry is a node and the iterator over its operands still to
    visit (about 1.5 µs a node: 0.6 s for a 400,000-node chain)."""
    order: list[Value] = []
    seen = {id(root)}
    mark = seen.add
    stack = [(root, iter(root.children))]
    push, pop, append = stack.append, stack.pop, order.append
    with paused_gc():
        while stack:
            node, rest = stack[-1]
            for child in rest:
                if id(child) not in seen:
                    mark(id(child))
                    push((child, iter(child.children)))
                    break
            else:
                pop()
                append(node)
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
        for child, d in zip(children, ops[node.op].chain):
            if child.kind == "const":
                continue   # a number's gradient is never needed
            try:
                child.grad += d(m, g, *args)
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
        for i, (child, d) in enumerate(zip(node.children, op.chain)):
            if child.kind == "const" or id(child) not in leads:
                continue
            try:
                local = d(m, 1.0, *args, node.data)
                passed = d(m, node.grad, *args, node.data)
            except (ZeroDivisionError, OverflowError, ValueError):
                local = passed = math.nan
            if not math.isfinite(passed):
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
        # a node made by an op of the user's own (Value(t, (x,), 'cube')), whose rule
        # is its _backward: Graph.of finds the first; a Graph's passes need the op table
        self.opaque: Value | None = None

    @classmethod
    def of(cls, output: Value) -> Graph:
        """The graph of a Value built by hand (or any Value): every node it
        depends on, operands first (``topological_order``), as a snapshot.

        The nodes are copies, with the same data, grad, label, op and kind,
        so the Values given are left as they are (a node of a program keeps
        its place on its own tape). Each leaf is named by its label, or by
        its id (``n3``) when it has none or shares it; ``names`` has every
        labelled node (the last of a label) and the leaves; the output's
        label is the output's name. What ``draw`` and the live page draw::

            >>> from gradcli import Graph, Value
            >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
            >>> g = Graph.of(a * b + a)
            >>> [n.label or n.op for n in g.nodes], list(g.leaves)
            (['a', 'b', '*', '+'], ['a', 'b'])
            >>> g.gradients()
            {'a': -2.0, 'b': 2.0}
        """
        if not isinstance(output, Value):
            raise InputError(f"a graph is made from a Value, not {_shown(output)}")
        copies: dict[int, Value] = {}
        nodes: list[Value] = []
        new = Value.__new__
        for i, node in enumerate(topological_order(output)):
            copy = new(Value)
            label = node.label   # set by hand, as the lecture does: any object, shown as text
            copy.data, copy.grad, copy.op = node.data, node.grad, node.op
            copy.label = label if type(label) is str else "" if label is None else str(label)
            copy.children = tuple([copies[id(c)] for c in node.children]) if node.children else ()
            copy.kind, copy.pos, copy.index, copy.backstep = node.kind, node.pos, i, None
            copies[id(node)] = copy
            nodes.append(copy)
        names: dict[str, Value] = {}
        for node in nodes:
            if node.label.isidentifier():
                names[node.label] = node
        leaves: dict[str, Value] = {}
        for node in nodes:
            if node.is_leaf:
                name = node.label
                if not name.isidentifier() or name in leaves or names.get(name) is not node:
                    name = f"n{node.index}"
                leaves[name] = names[name] = node
        root = nodes[-1]
        graph = cls(nodes, names, leaves, root, root.label or None)
        graph.opaque = next((n for n in nodes if n.children and _opaque(n)), None)
        return graph

    @property
    def value(self) -> float:
        return self.output.data

    def __repr__(self) -> str:
        name = self.output_name or "value"
        return (f"<Graph {name} = {self.value!r}: {len(self.nodes)} node{'s' * (len(self.nodes) != 1)}, "
                f"leaves {', '.join(self.leaves) or 'none'}>")

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """What Jupyter shows: ``DISPLAY``'s bundle (the value, then the
        graph as ``gradcli graph`` draws it), else the repr."""
        if DISPLAY is None:
            return {"text/plain": repr(self)}
        return DISPLAY(self, include, exclude)

    def node(self, name: str) -> Value:
        """The node a name means for ``--wrt``: a leaf's name means the leaf,
        any other name the node it refers to at the end of the program."""
        node = self.leaves.get(name) or self.names.get(name)
        if node is None:
            resolve(self, [name], "")    # an unknown name: the same InputError as --wrt
        return node

    def forward(self) -> float:
        """Recompute every node's data from the leaves (see ``FlatTape``)."""
        if not self.flat.forward():
            forward(self.nodes)   # the reference loop: it raises the DomainError
        return self.output.data

    @cached_property
    def flat(self) -> FlatTape:
        """The tape as flat lists, made on first use (a Graph's nodes never
        change once it is made; their data and grads do)."""
        if self.opaque is not None:
            require_ops([self.opaque], "a Graph's own forward and backward")
        return FlatTape(self.nodes)

    def backward(self, check: Iterable[Value] | None = None) -> None:
        """Gradients of the output with respect to every node, at the nodes'
        current data (``forward`` first after changing a leaf: ``build``
        does); the leaves' (or ``check``'s) gradients must come out finite."""
        end = self.output.index + 1
        nodes = self.nodes if end == len(self.nodes) else self.nodes[:end]
        for node in self.nodes[end:]:
            node.grad = 0.0
        check = list(self.leaves.values()) if check is None else list(check)
        with paused_gc():
            if not self.flat.backward(self.output.index, check):
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

# Op codes of the flat tape's inline cases; every other op calls its row.
_ADD, _SUB, _MUL, _DIV, _NEG, _TANH, _EXP, _CALL1, _CALL2, _CALLN = range(10)
INLINE = {"+": _ADD, "-": _SUB, "*": _MUL, "/": _DIV, "neg": _NEG, "tanh": _TANH, "exp": _EXP}
"""The ops the flat tape computes inline: a hand-compiled copy of their rows,
for speed (backward runs about 3x faster than calling the rows' functions).
tests/test_flat_tape.py checks each against its row, bit for bit, over
values from 0 to the tails (a test that replaces a row uses an op of its
own, never one of these)."""


class FlatTape:
    """A Graph's nodes as parallel lists of op codes and operand indices,
    for the forward and backward loops of programs with millions of nodes.

    One loop per pass, no attribute look-ups, the common ops inline. The
    inline cases compute exactly what the rows compute, in the same order,
    so results are bit for bit those of the reference loops (``forward``,
    ``backward`` above). The tape never explains a failure: when an op
    raises or a value is not finite, it says so (returns False) and the
    Graph runs the reference loop, which raises the ``DomainError`` with its
    reason and place. It checks no domain either: outside its domain every
    row's float forward is inf or nan (tests/test_ops.py), which the tape
    sees.
    """

    def __init__(self, nodes: Sequence[Value]):
        self.nodes = nodes
        self.size = n = len(nodes)
        forward_steps = []
        backward_steps = []
        for node in nodes:
            children = node.children
            if not children:
                continue
            op = OPS[node.op]
            code = INLINE.get(node.op)
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
                x, y = children[0].index, 0
                gx = gy = n if children[0].kind == "const" else x
                gall = (gx,)
                if code is None:
                    code = _CALL1
            else:
                x, y, code = tuple(c.index for c in children), 0, _CALLN
                gall = tuple(n if c.kind == "const" else c.index for c in children)
                gx = gy = n
            forward_steps.append((node.index, code, x, y, op.forward))
            backward_steps.append((node.index, code, x, y, op.chain, gx, gy, gall))
        # the forward loop runs up the tape, the backward loop down it
        self.forward_steps = forward_steps
        backward_steps.reverse()
        self.backward_steps = backward_steps
        self.op_index = [step[0] for step in forward_steps]
        self.op_nodes = [nodes[i] for i in self.op_index]

    def forward(self) -> bool:
        """Every node's data; False (nothing written) if an op failed or a
        value is not finite."""
        v = list(map(_DATA, self.nodes))
        tanh, exp = math.tanh, math.exp
        m = FloatMath
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
                    v[i] = f(m, v[x])
                elif k == _CALL2:
                    v[i] = f(m, v[x], v[y])
                elif k == _DIV:
                    v[i] = v[x] / v[y]
                elif k == _NEG:
                    v[i] = -v[x]
                elif k == _EXP:
                    v[i] = exp(v[x])
                else:
                    v[i] = f(m, *[v[j] for j in x])
        except (ArithmeticError, ValueError):
            return False
        if not math.isfinite(sum(v)):   # a value that is inf or nan makes the sum so
            return False
        # leaves and numbers are unchanged; map() runs the loop in C
        _consume(map(setattr, self.op_nodes, repeat("data"), map(v.__getitem__, self.op_index)))
        return True

    def backward(self, out: int, check: Sequence[Value]) -> bool:
        """d node[out] / d node for every node up to ``out``, at the nodes'
        current data; False (nothing written) if a derivative failed or a
        ``check`` node's is not finite."""
        v = list(map(_DATA, self.nodes))
        g = [0.0] * (self.size + 1)
        g[out] = 1.0
        # only nodes the output depends on pass a gradient on, as in the
        # reference loop (an unreached node's 0 times an infinite local
        # derivative would be nan); every user of a node comes later on the
        # tape, so marking operands on the way down finds them all
        reached = bytearray(self.size + 1)
        reached[out] = 1
        m = FloatMath
        exp = math.exp
        try:
            for i, k, x, y, chain, gx, gy, gall in self.backward_steps:
                if i > out or not reached[i]:
                    continue
                if k == _CALLN:
                    for j in x:
                        reached[j] = 1
                else:
                    reached[x] = reached[y] = 1   # y is 0 for one operand: node 0 has none to pass on
                gi = g[i]
                if k == _MUL:
                    g[gx] += gi * v[y]
                    g[gy] += gi * v[x]
                elif k == _ADD:
                    g[gx] += gi
                    g[gy] += gi
                elif k == _SUB:
                    g[gx] += gi
                    g[gy] += -gi
                elif k == _TANH:
                    # ops.FloatMath.sech2, inline
                    z = 2.0 * v[x]
                    e = exp(-abs(z))
                    q = 1.0 + e
                    if z >= 0:
                        g[gx] += gi * (4.0 * (1.0 / q) * (e / q))
                    else:
                        g[gx] += gi * (4.0 * (e / q) * (1.0 / q))
                elif k == _DIV:
                    b = v[y]
                    g[gx] += gi / b
                    g[gy] += gi * (-v[i] / b)
                elif k == _NEG:
                    g[gx] += -gi
                elif k == _EXP:
                    g[gx] += gi * v[i]
                else:
                    args = [v[j] for j in x] if k == _CALLN else [v[x]] if k == _CALL1 else [v[x], v[y]]
                    args.append(v[i])
                    for j, d in zip(gall, chain):
                        g[j] += d(m, gi, *args)
        except (ArithmeticError, ValueError):
            return False
        if not math.isfinite(sum(g)):   # else look closer: only reported gradients must be finite
            if not all(math.isfinite(g[node.index]) for node in check):
                return False
        _consume(map(setattr, self.nodes, repeat("grad"), g[:out + 1]))
        return True


# ------------------------------------------------------- names given by a user

def names_note(names: Sequence[str] | Mapping[str, object], what: str = "names") -> list[str]:
    names = list(names)
    if not names:
        return [f"the program has no {what}"]
    return [f"the program's {what} are {words([f'`{n}`' for n in names])}"]


def resolve(graph: Graph, names: Sequence[str], option: str = "--wrt") -> list[str]:
    """Check names given on the command line (or by Python code: one name
    alone is a list of one) against the graph."""
    if isinstance(names, str):
        names = [names]
    for name in names:
        if not isinstance(name, str):
            raise InputError(f"{option} {printable(repr(name)[:40])} is not a name".lstrip())
        if name not in graph.leaves and name not in graph.names:
            raise InputError(f"{option} `{printable(name)}` is not a name in the program".lstrip(),
                             notes=did_you_mean(name, graph.names) or names_note(graph.names))
    return list(names)


# ------------------------------------------------------- binding the leaves

SUGGESTED = 5   # missing inputs that get a "did you mean" note


def bind(graph: Graph, inputs: Mapping[str, float], complete: bool = True) -> None:
    """Give the leaves their values: every input must be bound (unless not
    ``complete``); a binding overrides a leaf's default; binding anything
    else is an error."""
    for name, value in inputs.items():
        leaf = graph.leaves.get(name)
        if leaf is None:
            if name in graph.names:
                what = f"`{name}` is computed by the program, not a leaf, so it cannot be set"
            else:
                what = f"`{printable(name)}` is not a name in the program"
            raise InputError(what, notes=did_you_mean(name, graph.leaves) or names_note(graph.leaves, "leaves"))
        leaf.data = _number(name, value)
    missing = [leaf for name, leaf in graph.leaves.items() if leaf.kind == "input" and name not in inputs]
    if missing and complete:
        raise _missing(graph, missing)


SHOWN_MISSING = 5   # a program with 798 inputs names the first few and the count


def _missing(graph: Graph, missing: list[Value]) -> InputError:
    """The error for missing inputs: every name when there are a few; the
    first ``SHOWN_MISSING`` and the count when there are more."""
    shown = missing[:SHOWN_MISSING]
    more = len(missing) - len(shown)
    names = words([f"`{leaf.label}`" for leaf in shown] + ([f"{more:,} more"] if more else []))
    s = "s" if len(missing) > 1 else ""
    notes = [f"`{leaf.label}` is first read at {leaf.pos}" for leaf in shown] if len(missing) > 1 else []
    give = " ".join(f"{leaf.label}=VALUE" for leaf in shown) + (" ..." if more else "")
    notes.append(f"give {give} after the program")
    absent = {id(leaf) for leaf in missing}
    known = [n for n in graph.names if id(graph.leaves.get(n)) not in absent]
    # suggestions for the first few only: each one compares a name with
    # every known name, so one per missing input made 2,000 of them take 47 s
    for leaf in shown[:SUGGESTED]:
        notes += [f"for `{leaf.label}`, " + note for note in did_you_mean(leaf.label, known)]
    from .hints import missing_inputs   # only on the error path: 5 ms off every start-up

    notes += missing_inputs([leaf.label for leaf in missing])
    return InputError(f"missing input{s}: {names}", missing[0].pos, notes)


def _number(name: str, value: object) -> float:
    """A leaf's value from Python code: a real, finite number (a str, None,
    an int too large for a float, inf or nan is an InputError, as on the
    command line)."""
    if isinstance(value, (str, bytes)):
        raise InputError(f"`{printable(name)}`: {printable(repr(value)[:40])} is not a number")
    try:
        number = float(value)  # type: ignore[arg-type]
    except OverflowError:
        raise InputError(f"`{printable(name)}`: the value is too large for a float") from None
    except (TypeError, ValueError):
        raise InputError(f"`{printable(name)}`: a {type(value).__name__} is not a number") from None
    if not math.isfinite(number):
        raise InputError(f"`{printable(name)}`: {number!r} is not a finite number")
    return number
