"""The op table's rules spelled as JavaScript, for the live page (page.py).

The page recomputes forward and backward in the browser, and its numbers must
be ``grad``'s (relative 1e-12). So its arithmetic is not written by hand: the
Python rules of ``ops.py`` are *run* here over a namespace whose numbers are
JavaScript expressions (``J``), and what they build is the JavaScript.

- Operands are ``J("x0")``, ``J("x1")`` and the op's result ``J("o")``;
  arithmetic on them builds expression text (``(x0 * x1)``).
- ``m`` (the namespace of a row's forward and chain rules) is ``FloatMath``
  itself, re-run with the name ``math`` bound to ``SPELLING`` below, the
  only per-language table (``math.exp`` is ``Math.exp``, ``math.inf`` is
  ``Infinity``; ``erf``, which JavaScript lacks, is ``PRELUDE``'s).
- A comparison (``y != 0``, ``x >= 0``) is a ``Cond``; when Python asks for
  its truth (an ``if``, a conditional expression, ``and``, ``max``), the rule
  is run once for each answer and the two results become ``(c ? t : f)``.
  Every branch of every rule is so explored (an op's rule has at most a few
  comparisons, so this is a handful of runs per op, once per page).
- A row's domain (``undefined``: ``(where, why)`` pairs) is checked first,
  and ``raise Undefined(why)`` on a branch becomes ``U("why")``, which throws
  in the page: the page's domain errors carry ``ops.py``'s own words.
- Each op gets its local derivatives ``d`` (the chain rules with g = 1, for
  the page to show) and its chain rules ``c(g, ...)``, which the backward
  pass uses, as ``grad`` does (``log`` divides: ``g / x``).

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
    "fabs": "Math.abs", "pow": "Math.pow", "atan": "Math.atan", "asinh": "Math.asinh", "hypot": "Math.hypot",
    "erf": "erf",   # JavaScript has none: PRELUDE defines it
}

# JavaScript the generated table calls: ``erf`` (CPython's own erf before
# 3.12's libm call, a series below 1.5 and a continued fraction above it,
# accurate to a few ulp) and ``U`` (throw with ops.py's words).
PRELUDE = """function U(message) { throw new RangeError(message); }
function erf(x) {
  const absx = Math.abs(x), sqrtpi = 1.772453850905516;
  if (Number.isNaN(x)) return x;
  if (absx < 1.5) {
    const x2 = x * x;
    let acc = 0.0, fk = 25.5;
    for (let i = 0; i < 25; i++) { acc = 2.0 + x2 * acc / fk; fk -= 1.0; }
    return acc * x * Math.exp(-x2) / sqrtpi;
  }
  let cf = 0.0;
  if (absx < 30.0) {
    const x2 = absx * absx;
    let a = 0.0, da = 0.5, p = 1.0, pLast = 0.0, q = da + x2, qLast = 1.0;
    for (let i = 0; i < 50; i++) {
      a += da; da += 2.0;
      const b = da + x2;
      let t = p; p = b * p - a * pLast; pLast = t;
      t = q; q = b * q - a * qLast; qLast = t;
    }
    cf = p / q * absx * Math.exp(-x2) / sqrtpi;
  }
  return x > 0.0 ? 1.0 - cf : cf - 1.0;
}
"""


def _num(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "(-Infinity)"
    text = repr(float(x))
    return f"({text})" if text.startswith("-") else text


def _one(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x == 1.0


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

    def __and__(self, other: object) -> Cond:     # the rows' domains: (x == 0) & (y < 0)
        return Cond(f"({self.text} && {_cond(other)})")

    def __or__(self, other: object) -> Cond:
        return Cond(f"({self.text} || {_cond(other)})")


def _cond(x: object) -> str:
    if isinstance(x, Cond):
        return x.text
    if isinstance(x, bool):
        return "true" if x else "false"
    raise TypeError(f"not a condition: {x!r}")


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
    # 1.0 * x is x exactly: the chain rules' g = 1 (the local derivatives) leaves no trace
    def __mul__(self, o): return self if _one(o) else self._bin("*", o)
    def __rmul__(self, o): return self if _one(o) else self._bin("*", o, True)
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
    """The op's forward as a JavaScript expression in ``x0``, ``x1``...: the
    row's domain (``undefined``) first, each a ``U(why)``, then its value."""
    space, m = _space()
    op = OPS[name]

    def checked(*args):
        for where, why in op.undefined:
            if where(m, *args):
                raise Undefined(why)
        return op.forward(m, *args)

    return expression(checked, [J(f"x{i}") for i in range(op.arity)])


def chain(name: str, k: int, g: J | float = J("g")) -> str:
    """What operand ``k`` receives from the upstream gradient ``g``, as a
    JavaScript expression in ``g``, ``x0``, ``x1``... and ``o``."""
    space, m = _space()
    op = OPS[name]
    return expression(lambda *a: op.chain[k](m, g, *a), [*(J(f"x{i}") for i in range(op.arity)), J("o")])


def partial(name: str, k: int) -> str:
    """d op / d operand ``k`` (the chain rule with g = 1) as a JavaScript
    expression in ``x0``, ``x1``... and ``o``."""
    return chain(name, k, 1.0)


def op_table() -> str:
    """The JavaScript object ``OPS``: for each op of ``ops.OPS``, its forward
    ``f(x0, x1)``, its local derivatives ``d[i](x0, x1, o)`` and its chain
    rules ``c[i](g, x0, x1, o)``, all generated (they call PRELUDE's helpers)."""
    rows = []
    for name, op in OPS.items():
        params = ", ".join(f"x{i}" for i in range(op.arity))
        partials = [f"function ({params}, o) {{ return {partial(name, k)}; }}" for k in range(op.arity)]
        chains = [f"function (g, {params}, o) {{ return {chain(name, k)}; }}" for k in range(op.arity)]
        rows.append(f"  {json.dumps(name)}: {{f: function ({params}) {{ return {forward(name)}; }},\n"
                    f"    d: [{', '.join(partials)}],\n    c: [{', '.join(chains)}]}}")
    return "{\n" + ",\n".join(rows) + "\n}"


__all__ = ("J", "Cond", "SPELLING", "PRELUDE", "expression", "forward", "chain", "partial", "op_table")
