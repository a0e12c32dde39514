"""The table of operations: each op's forward and its local derivatives, side by side.

``forward`` works on floats and raises ``Undefined`` where the operation is
not defined (log of 0, division by 0, a result too large for a float).

``partials`` holds one function per operand: ``d(m, *operands, out)`` is the
derivative of the op's result with respect to that operand, given the operand
values and the result ``out``. The functions use only ``+ - * /`` and the
functions of ``m``, a namespace of elementary functions, so the same rule
serves floats (``m = FloatMath``, used by ``grad``) and any other number-like
type given a namespace of its own (a graph of Values, for derivatives of
derivatives). Conventions where calculus alone leaves a derivative undefined
match PyTorch and micrograd: relu'(0) = 0, abs'(0) = 0, and ``max``/``min``
split the gradient evenly at a tie.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple


class Undefined(ArithmeticError):
    """An operation is not defined at these operands; the message says why."""


# ------------------------------------------------------------- float helpers

def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise Undefined("the result overflows") from None


def _log(x: float) -> float:
    if x <= 0:
        raise Undefined("log needs a positive number")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0:
        raise Undefined("sqrt needs a number that is not negative")
    return math.sqrt(x)


def _log1p(x: float) -> float:
    if x <= -1:
        raise Undefined("log1p needs a number greater than -1")
    return math.log1p(x)


def _div(a: float, b: float) -> float:
    if b == 0:
        raise Undefined("division by zero")
    return a / b


def _pow(x: float, y: float) -> float:
    if x == 0 and y < 0:
        raise Undefined("division by zero: zero to a negative power")
    if x < 0 and y != math.floor(y):
        raise Undefined("a negative number to a fractional power is not a real number")
    try:
        return math.pow(x, y)
    except OverflowError:
        raise Undefined("the result overflows") from None


def _sigmoid(x: float) -> float:
    # Never overflows: exp only ever sees a non-positive argument.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus(x: float) -> float:
    # log(1 + e^x) without overflow for large x.
    return math.log1p(math.exp(-abs(x))) + max(x, 0.0)


def _sign(x: float) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


def _step(x: float) -> float:
    return 1.0 if x > 0 else 0.0


def _tan(x: float) -> float:
    return math.tan(x)


class FloatMath:
    """The elementary functions the derivative rules use, on floats.

    Unlike ``forward``, these follow IEEE rules instead of raising: the
    derivative of sqrt at 0 is inf, and the caller decides whether a
    non-finite gradient matters (only a reported one does)."""

    exp = staticmethod(lambda x: math.exp(x) if x < 709.78 else math.inf)
    log = staticmethod(lambda x: math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan))
    sqrt = staticmethod(lambda x: math.sqrt(x) if x >= 0 else math.nan)
    sin = staticmethod(math.sin)
    cos = staticmethod(math.cos)
    tanh = staticmethod(math.tanh)
    sigmoid = staticmethod(_sigmoid)
    sign = staticmethod(_sign)
    step = staticmethod(_step)

    @staticmethod
    def pow(x: float, y: float) -> float:
        try:
            return _pow(x, y)
        except Undefined:
            return math.inf if x == 0 else math.nan


# ------------------------------------------------------------------ the table

class Op(NamedTuple):
    name: str                 # how the op is shown: "+", "*", "exp", ...
    arity: int
    forward: Callable[..., float]
    partials: tuple[Callable[..., object], ...]   # d out / d operand i
    infix: bool = False       # printed between its operands, not as f(x)


OPS: dict[str, Op] = {op.name: op for op in (
    #  name        arity  forward                       local derivatives, one per operand
    Op("+", 2, lambda a, b: a + b,                     (lambda m, a, b, o: 1.0,
                                                        lambda m, a, b, o: 1.0), infix=True),
    Op("-", 2, lambda a, b: a - b,                     (lambda m, a, b, o: 1.0,
                                                        lambda m, a, b, o: -1.0), infix=True),
    Op("*", 2, lambda a, b: a * b,                     (lambda m, a, b, o: b,
                                                        lambda m, a, b, o: a), infix=True),
    Op("/", 2, _div,                                   (lambda m, a, b, o: 1.0 / b,
                                                        lambda m, a, b, o: -o / b), infix=True),
    Op("**", 2, _pow,                                  (lambda m, x, y, o: y * m.pow(x, y - 1.0) if y != 0 else 0.0,
                                                        lambda m, x, y, o: o * m.log(x) if x != 0 else 0.0), infix=True),
    Op("neg", 1, lambda x: -x,                         (lambda m, x, o: -1.0,)),
    Op("exp", 1, _exp,                                 (lambda m, x, o: o,)),
    Op("log", 1, _log,                                 (lambda m, x, o: 1.0 / x,)),
    Op("tanh", 1, math.tanh,                           (lambda m, x, o: 1.0 - o * o,)),
    Op("relu", 1, lambda x: x if x > 0 else 0.0,       (lambda m, x, o: m.step(x),)),
    Op("sigmoid", 1, _sigmoid,                         (lambda m, x, o: o * (1.0 - o),)),
    Op("sqrt", 1, _sqrt,                               (lambda m, x, o: 0.5 / o,)),
    Op("abs", 1, abs,                                  (lambda m, x, o: m.sign(x),)),
    Op("sin", 1, math.sin,                             (lambda m, x, o: m.cos(x),)),
    Op("cos", 1, math.cos,                             (lambda m, x, o: -m.sin(x),)),
    Op("tan", 1, _tan,                                 (lambda m, x, o: 1.0 + o * o,)),
    Op("softplus", 1, _softplus,                       (lambda m, x, o: m.sigmoid(x),)),
    Op("log1p", 1, _log1p,                             (lambda m, x, o: 1.0 / (1.0 + x),)),
    Op("sign", 1, _sign,                               (lambda m, x, o: 0.0,)),
    Op("step", 1, _step,                               (lambda m, x, o: 0.0,)),
    Op("max", 2, lambda a, b: a if a >= b else b,      (lambda m, a, b, o: (1.0 + m.sign(a - b)) / 2.0,
                                                        lambda m, a, b, o: (1.0 - m.sign(a - b)) / 2.0)),
    Op("min", 2, lambda a, b: a if a <= b else b,      (lambda m, a, b, o: (1.0 - m.sign(a - b)) / 2.0,
                                                        lambda m, a, b, o: (1.0 + m.sign(a - b)) / 2.0)),
)}

# What the language calls by name: `f(x)` and `x.f()`. `pow(x, y)` is `x ** y`.
FUNCTIONS: dict[str, Op] = {name: op for name, op in OPS.items() if not op.infix and name != "neg"}
FUNCTIONS["pow"] = OPS["**"]

# The operators of the language, as the parser spells them.
BINARY = {sym: OPS[sym] for sym in ("+", "-", "*", "/", "**")}
