"""The op table's rules spelled as JavaScript, for the live page (page.py).

The page recomputes forward and backward in the browser, and its numbers must
be ``grad``'s (relative 1e-12). So its arithmetic is not written by hand: the
Python rules of ``ops.py`` are *run* here over a namespace whose numbers are
JavaScript expressions (``J``), and what they build is the JavaScript.

- Operands are ``J("x0")``, ``J("x1")`` and the op's result ``J("o")``;
  arithmetic on them builds expression text (``(x0 * x1)``).
- ``m`` (the namespace of a derivative rule) is ``FloatMath`` itself, and an
  op's ``forward`` is the op's own function: both are re-run with the name
  ``math`` bound to ``SPELLING`` below, the only per-language table
  (``math.exp`` is ``Math.exp``, ``math.inf`` is ``Infinity``).
- A comparison (``y != 0``, ``x >= 0``) is a ``Cond``; when Python asks for
  its truth (an ``if``, a conditional expression, ``and``, ``max``), the rule
  is run once for each answer and the two results become ``(c ? t : f)``.
  Every branch of every rule is so explored (an op's rule has at most a few
  comparisons, so this is a handful of runs per op, once per page).
- ``raise Undefined(message)`` on a branch becomes ``U("message")``, which
  throws in the page: the page's domain errors carry ``ops.py``'s own words.

The JavaScript operators ``+ - * /``, ``Math.sqrt`` and ``Math.abs`` are IEEE
correctly rounded as Python's are; ``Math.exp``, ``Math.log``, ``Math.pow``,
``Math.tanh``... may differ from the C library by an ulp, well inside the
contract's 1e-12.

If a code printer with a JavaScript spelling lands (the ``codegen`` issue),
this module is the one to replace by it.
"""

from __future__ import annotations

import json
import math
import types
from typing import Callable

from . import ops
from .ops import OPS, FloatMath, Undefined

# math.NAME -> JavaScript, the one spelling table. Functions take JS text.
_FUNCTIONS = {
    "exp": "Math.exp", "log": "Math.log", "sqrt": "Math.sqrt", "sin": "Math.sin", "cos": "Math.cos",
    "tan": "Math.tan", "tanh": "Math.tanh", "log1p": "Math.log1p", "floor": "Math.floor",
    "fabs": "Math.abs", "pow": "Math.pow",
}


def _num(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "(-Infinity)"
    text = repr(float(x))
    return f"({text})" if text.startswith("-") else text


def lift(x: object) -> J:
    if isinstance(x, J):
        return x
    if isinstance(x, bool):
        return J("true" if x else "false")
    if isinstance(x, (int, float)):
        return J(_num(float(x)))
    raise TypeError(f"a rule used something that is not a number: {x!r}")


class _Branches:
    """The answers to give the comparisons of one run of a rule, in order,
    and the comparisons met on the way."""

    def __init__(self, answers: list[bool]):
        self.answers = answers
        self.met: list[str] = []

    def ask(self, cond: str) -> bool:
        for k, seen in enumerate(self.met):   # the same comparison again: the same answer
            if seen == cond:
                return self.answers[k] if k < len(self.answers) else True
        k = len(self.met)
        self.met.append(cond)
        return self.answers[k] if k < len(self.answers) else True


_current: list[_Branches] = []


class Cond:
    """A comparison between JavaScript numbers; its truth is a branch."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __bool__(self) -> bool:
        return _current[-1].ask(self.text)


class J:
    """A JavaScript expression that is a number."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def _bin(self, op: str, other: object, swap: bool = False) -> J:
        a, b = (lift(other), self) if swap else (self, lift(other))
        return J(f"({a.text} {op} {b.text})")

    def __add__(self, o): return self._bin("+", o)
    def __radd__(self, o): return self._bin("+", o, True)
    def __sub__(self, o): return self._bin("-", o)
    def __rsub__(self, o): return self._bin("-", o, True)
    def __mul__(self, o): return self._bin("*", o)
    def __rmul__(self, o): return self._bin("*", o, True)
    def __truediv__(self, o): return self._bin("/", o)
    def __rtruediv__(self, o): return self._bin("/", o, True)
    def __pow__(self, o): return J(f"Math.pow({self.text}, {lift(o).text})")
    def __rpow__(self, o): return J(f"Math.pow({lift(o).text}, {self.text})")
    def __neg__(self): return J(f"(-{self.text})")
    def __pos__(self): return self
    def __abs__(self): return J(f"Math.abs({self.text})")
    def __floor__(self): return J(f"Math.floor({self.text})")

    def _cmp(self, op: str, other: object) -> Cond:
        return Cond(f"({self.text} {op} {lift(other).text})")

    def __eq__(self, o): return self._cmp("===", o)   # type: ignore[override]
    def __ne__(self, o): return self._cmp("!==", o)   # type: ignore[override]
    def __lt__(self, o): return self._cmp("<", o)
    def __le__(self, o): return self._cmp("<=", o)
    def __gt__(self, o): return self._cmp(">", o)
    def __ge__(self, o): return self._cmp(">=", o)
    __hash__ = object.__hash__

    def __float__(self) -> float:
        raise TypeError(f"a rule needs a float where the page has an expression: {self.text}")


class _Spelling:
    """``math`` as the rules see it when they are run to write JavaScript."""

    inf = math.inf
    nan = math.nan
    pi = math.pi
    e = math.e


for _name, _js in _FUNCTIONS.items():
    setattr(_Spelling, _name, staticmethod(
        lambda *args, _js=_js: J(f"{_js}({', '.join(lift(a).text for a in args)})")))

SPELLING = _Spelling()


def _rebound() -> dict[str, object]:
    """ops.py's module namespace with ``math`` spelled as JavaScript, and each
    of its functions re-made over that namespace (so ``_softplus`` calling
    ``math.log1p`` and ``FloatMath.pow`` calling ``_pow`` both write JS)."""
    space = dict(vars(ops))
    space["math"] = SPELLING
    for name, value in list(space.items()):
        if isinstance(value, types.FunctionType) and value.__module__ == ops.__name__:
            space[name] = _rebind(value, space)
    return space


def _rebind(fn: Callable, space: dict) -> Callable:
    if isinstance(fn, types.FunctionType):
        return types.FunctionType(fn.__code__, space, fn.__name__, fn.__defaults__, fn.__closure__)
    # A builtin used as a rule (math.tanh as tanh's forward, abs): the same name in the spelling.
    name = getattr(fn, "__name__", "")
    if name == "abs":
        return abs
    spelled = getattr(SPELLING, name, None)
    if spelled is None:
        raise TypeError(f"no JavaScript spelling for the built-in {name!r}")
    return spelled


class _MathSpace:
    """``FloatMath`` re-made over the JavaScript namespace: what ``m`` is."""

    def __init__(self, space: dict):
        for name in dir(FloatMath):
            if name.startswith("_"):
                continue
            setattr(self, name, _rebind(getattr(FloatMath, name), space))


def expression(fn: Callable, args: list[J]) -> str:
    """One rule as a JavaScript expression, every branch included.

    A run with answers ``[True, False]`` gives the comparisons it met; each
    one met past the given answers is split into its two runs. Depth: the
    number of comparisons on one path through one rule (at most 3 in the
    table), so the recursion is bounded by ops.py, never by a program."""
    return _split(fn, args, [])


def _split(fn: Callable, args: list[J], answers: list[bool]) -> str:
    branches = _Branches(answers)
    _current.append(branches)
    try:
        try:
            out = lift(fn(*args)).text
        except Undefined as e:
            out = f"U({json.dumps(str(e))})"
    finally:
        _current.pop()
    if len(branches.met) <= len(answers):
        return out
    cond = branches.met[len(answers)]
    yes = _split(fn, args, answers + [True])
    no = _split(fn, args, answers + [False])
    return yes if yes == no else f"({cond} ? {yes} : {no})"


_SPACE: list = []


def _space() -> tuple[dict, _MathSpace]:
    if not _SPACE:
        space = _rebound()
        _SPACE.append((space, _MathSpace(space)))
    return _SPACE[0]


def forward(name: str) -> str:
    """The op's forward as a JavaScript expression in ``x0``, ``x1``..."""
    space, _ = _space()
    op = OPS[name]
    return expression(_rebind(op.forward, space), [J(f"x{i}") for i in range(op.arity)])


def partial(name: str, k: int) -> str:
    """d op / d operand ``k`` as a JavaScript expression in ``x0``, ``x1``... and ``o``."""
    space, m = _space()
    op = OPS[name]
    rule = _rebind(op.partials[k], space)
    return expression(lambda *a: rule(m, *a), [*(J(f"x{i}") for i in range(op.arity)), J("o")])


def op_table() -> str:
    """The JavaScript object ``OPS``: for each op of ``ops.OPS``, its forward
    ``f(x0, x1)`` and its partials ``d[i](x0, x1, o)``, all generated."""
    rows = []
    for name, op in OPS.items():
        params = ", ".join(f"x{i}" for i in range(op.arity))
        partials = [f"function ({params}, o) {{ return {partial(name, k)}; }}" for k in range(op.arity)]
        rows.append(f"  {json.dumps(name)}: {{f: function ({params}) {{ return {forward(name)}; }},\n"
                    f"    d: [{', '.join(partials)}]}}")
    return "{\n" + ",\n".join(rows) + "\n}"


__all__ = ("J", "Cond", "SPELLING", "expression", "forward", "partial", "op_table")
