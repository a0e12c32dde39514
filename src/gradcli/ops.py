"""The table of operations: everything an op is, in one row.

A row (``Op``) holds, side by side:

- ``forward(m, *operands)``: the op's value, written over ``m``, a namespace
  of elementary functions (``m.exp``, ``m.where``, ...);
- ``chain``, one rule per operand: ``d(m, g, *operands, out)`` is the
  gradient the operand receives, ``g`` times the op's local derivative with
  respect to it, given the upstream gradient ``g``, the operand values and the
  result ``out``. Written with ``g`` in it so that a rule may divide instead
  of multiplying by a reciprocal (``log``: ``g / x``, not ``g * (1/x)``, which
  overflows for a subnormal ``x`` where the result is finite);
- ``undefined``: where the op is not defined, as data: ``(where(m, *operands),
  why)`` pairs. The float engine checks them and raises with ``why``; the
  array engine turns them into masks;
- ``corner``: where calculus alone leaves the derivative open and which
  convention backprop uses there (``relu`` at 0). ``check`` names the
  corners it meets, ``explain`` says the convention, the README lists them;
- ``text``: explain's words for a local derivative, only where the text
  derived from the rule itself (``explain.rule``, through ``symbolic`` and
  ``unparse``) reads worse;
- two facts code generation needs about the numbers, as flags: ``steep``
  (a derivative can be infinite or overflow at finite operands inside the
  domain, ``1/x`` near 0: a generated function names these ops when a
  gradient is not finite) and ``signed_zero`` (the result can be -0.0; where
  it cannot, a generated function need not add ``+ 0.0`` to match grad);
- ``spreads``: the operands whose non-finite value (inf, -inf or nan)
  always makes the result non-finite (``a + b``: both; ``a / b``: only
  ``a``, since ``1/inf`` is 0; ``tanh``: none). The array engine checks a
  value for finiteness only where a non-finite one could be hidden by the
  ops that use it (tests/test_arrays.py checks each claim).

Beside the table, ``SPELLINGS`` (same keys) gives each op's spelling in every
target of code generation (codegen.py, whose ``js`` column the live page
runs too): a template per language, the operands that must be names, and
whether it can overflow. A second table rather than a column because the
templates are long (``sigmoid``'s is five branches, ``erf``'s a series) and
would bury the rows' mathematics; keyed by the row's name, checked at import
to cover every row, so an op is still one row here plus its spelling just
below it, and its tests. The domain guards are not spelled: the code
printers derive them from ``undefined``.

The rules use only ``+ - * /``, comparisons with ``==``/``!=`` in a
``m.where`` condition, and the functions of ``m``: the language's functions,
``where``, ``floor`` (in domains) and ``sech2(x)``, tanh's derivative,
which is ``4*sigmoid(2x)*sigmoid(-2x)`` (the symbolic tape builds exactly
that; FloatMath computes the same bits with one exp). So one row serves every
number type, each with a namespace of its own, and those namespaces are the
only number-type-specific code: ``FloatMath`` here (``grad``, IEEE results,
never an exception but for ``/`` by zero), ``arrays.ArrayMath`` (NumPy arrays,
for ``--at``), ``symbolic.Tape`` (nodes: the derivative as a graph, for
``diff``, ``hessian`` and code generation). Adding an op is one row here
plus its tests; the namespaces need a new function only if the row uses one
they lack.

Accuracy: the rules are written to keep the tails that the textbook forms
lose (measured against 60-digit mpmath, tests/test_ops.py):
``tanh'`` is ``4*sigmoid(2x)*sigmoid(-2x)``, not ``1 - tanh(x)**2`` (which is
exactly 0 past |x| = 19, where the truth is 1e-17 .. 1e-300); ``sigmoid'``
is ``s*sigmoid(-x)``, not ``s*(1 - s)`` (0 past x = 36.7); ``log'`` and
``/``'s divide; ``pow``'s derivative corrects the rounding of ``y - 1`` (at
x = -1, y = 1e16 the rounded exponent is even and the sign comes out wrong;
``x**(1/3)`` at 3.4e304 was 350 ulp off); ``erf'`` splits ``x*x`` exactly
before ``exp`` (rounded first it was 506 ulp off at x = -23.4; now within
1.7 ulp over [-27, 27]); ``atan'`` is ``g/h/h`` with ``h = hypot(1, x)`` (``1 +
x*x`` overflowed past 1.3e154 and gave 0 where the truth is 1/x**2, down
to subnormal at 4.5e161); ``hypot'`` scales subnormal operands by 2**600
(54 ulp off at (1e-310, 3e-310), now 0.2); ``max``/``min`` pass 0, not
inf*0, where their share is 0 (``log(max(x, y))`` at (1e-310, 1e-320) wrt
y); ``pow``'s d/dx splits ``x**(y - 1)`` in halves where it alone would
overflow (x = 1e-309, y = 0.001: 4.9e305).

Composites (tests/test_composites.py, the corpus in tests/composites.py,
worst error in ulps of 60-digit mpmath, gradcli / the rules before the
tail-keeping change / PyTorch float64): binary cross-entropy with label 1,
``-log(sigmoid(x))``, 0.96 / 4.3e15 / 4.3e15; with label 0,
``-log(1 - sigmoid(x))``, 1.9 / 1.9 / 0.96 (it was 4.3e15, 48% at x = 36.7,
before the paired rows below); ``log(1 - tanh(x))`` and ``log(1 + tanh(x))``
1.7 / 1.9e7 / 1.7e3 (was 4.0e14: 4.5% at x = 18); ``log(1 + t) - log(1 -
t)`` exact / 190 / 1; a tanh MLP's loss 7.3 / 5.2e15 / 5.2e15.
Where the forward itself rounds away the answer (``1 - sigmoid(z)`` with
both labels on one ``p``, a hand-written sigmoid, softmax of two at (30,
-10), ``sqrt(x*x + y*y)`` at 1e-160) all three are equally off: no rule
can give back bits the forward's value lost. The paired rows (``PAIRED``,
below the table) are what fixed label 0: ``log(1 - s)`` divides by the few
bits ``1 - s`` keeps, and only a rule made of the same bits cancels them.
Rewriting a program (``log(1 - sigmoid(x))`` as ``-softplus(x)``) would
mend the forward too; gradcli does not rewrite programs (docs/accuracy.md).

Conventions where calculus alone
leaves a derivative undefined match PyTorch and micrograd: relu'(0) = 0,
abs'(0) = 0, and ``max``/``min`` split the gradient evenly at a tie.
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
        return math.inf


def _pow(x: float, y: float) -> float:
    try:
        return math.pow(x, y)
    except OverflowError:
        return math.inf if x > 0 or y == math.floor(y) and y % 2 == 0 else math.copysign(math.inf, x)
    except (ValueError, ZeroDivisionError):   # 0 ** negative, negative ** fraction
        return math.inf if x == 0 else math.nan


def _sigmoid(x: float) -> float:
    # Never overflows: exp only ever sees a non-positive argument.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sign(x: float) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


def _step(x: float) -> float:
    return 1.0 if x > 0 else 0.0


def _where(cond: object, a: object, b: object) -> object:
    return a if cond else b


def _sech2(x: float) -> float:
    # 4*sigmoid(2x)*sigmoid(-2x), bit for bit, with one exp: both sigmoids
    # share exp(-|2x|) (see _sigmoid), one is 1/q and the other e/q.
    z = 2.0 * x
    e = math.exp(-abs(z))
    q = 1.0 + e
    return 4.0 * (1.0 / q) * (e / q) if z >= 0 else 4.0 * (e / q) * (1.0 / q)


class FloatMath:
    """The namespace ``m`` of the rows, on floats.

    IEEE results instead of exceptions: ``exp`` overflows to inf, ``log(0)``
    is -inf, ``sqrt(-1)`` nan, and the caller decides what a non-finite
    result means (the forward pass checks ``undefined`` first and raises;
    a derivative matters only if it reaches a reported gradient). Only
    Python's ``/`` by zero raises (``ZeroDivisionError``), and every caller
    catches it. ``where(c, a, b)`` is ``a if c else b`` (both are computed:
    a rule must not divide by zero in the branch it does not take)."""

    exp = staticmethod(_exp)
    log = staticmethod(lambda x: math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan))
    log1p = staticmethod(lambda x: math.log1p(x) if x > -1 else (-math.inf if x == -1 else math.nan))
    sqrt = staticmethod(lambda x: math.sqrt(x) if x >= 0 else math.nan)
    sin = staticmethod(math.sin)
    cos = staticmethod(math.cos)
    tan = staticmethod(math.tan)
    tanh = staticmethod(math.tanh)
    atan = staticmethod(math.atan)
    asinh = staticmethod(math.asinh)
    erf = staticmethod(math.erf)
    hypot = staticmethod(math.hypot)
    pow = staticmethod(_pow)
    sigmoid = staticmethod(_sigmoid)
    sech2 = staticmethod(_sech2)
    sign = staticmethod(_sign)
    step = staticmethod(_step)
    floor = staticmethod(math.floor)
    where = staticmethod(_where)


# ------------------------------------------------------------------ the table

class Corner(NamedTuple):
    """Where calculus alone leaves an op's derivative open, and what backprop
    does there: ``at(*operands)`` on floats, ``convention`` in words."""

    at: Callable[..., bool]
    convention: str


class Op(NamedTuple):
    name: str                 # how the op is shown: "+", "*", "exp", ...
    arity: int
    forward: Callable[..., object]                 # forward(m, *operands)
    chain: tuple[Callable[..., object], ...]       # chain[i](m, g, *operands, out) = g * d out / d operand i
    undefined: tuple[tuple[Callable[..., object], str], ...] = ()   # (where(m, *operands), why)
    corner: Corner | None = None
    infix: bool = False       # printed between its operands, not as f(x)
    text: tuple[str, ...] | None = None   # explain's words, where the derived text reads worse
    steep: bool = False       # a derivative can be infinite or overflow at finite operands in the domain
    signed_zero: bool = True  # the result can be -0.0 (False: never, whatever the operands)
    spreads: tuple[int, ...] = ()   # operands whose inf or nan always makes the result inf or nan

    @property
    def partials(self) -> tuple[Callable[..., object], ...]:
        """The local derivatives ``d(m, *operands, out)``: each rule with g = 1."""
        return tuple((lambda m, *args, _d=d: _d(m, 1.0, *args)) for d in self.chain)


def compute(op: Op, operands) -> float:
    """``op`` on floats, its domain checked: raises ``Undefined`` with the
    row's reason outside it. The result may still be inf or nan (an overflow):
    the caller judges that."""
    m = FloatMath
    for where, why in op.undefined:
        if where(m, *operands):
            raise Undefined(why)
    return op.forward(m, *operands)


def _pow_chain_x(m, g, x, y, o):
    # y * x**(y - 1), without the rounding of y - 1: r + e = y - 1 exactly
    # (TwoSum), and x**(y - 1) = x**r * x**e. Where y - 1 is exact (e = 0),
    # x**e = 1 and this is the textbook y * x**r, bit for bit. Otherwise x**e
    # is the correction (1 + e*log x, to the last bit), or the sign that the
    # rounding lost (x < 0 with an integer y: e is an integer).
    #
    # Where x**r alone would overflow and y*x**r would not (0 < x < 1e-150
    # and |y| < 0.05: x = 1e-309, y = 0.001 gives 4.9e305, x**r 4.9e308), x**r
    # is taken in two halves, h = r/2 each, and y multiplies one:
    # (y*x**h)*(x**(r - h)*x**e). Elsewhere h = 0 and x**h = 1: the bits
    # as before.
    r = y - 1.0
    rb = r - y
    e = (y - (r - rb)) + (-1.0 - rb)
    # (x**r overflows with y*x**r finite only for -1 < y < 0.047, within a
    # factor 1/|y| of the largest float: the split is made for |y| < 0.05;
    # where y is a number outside that, as in x**2 or x**-0.5, h is the
    # number 0 and code generation adds nothing)
    small = m.step(0.05 - abs(y))
    h = m.where(small != 0, r * (0.5 * (m.step(x) * m.step(1e-150 - x))), 0.0)
    return m.where(y != 0, g * ((y * m.pow(x, h)) * (m.pow(x, r - h) * m.pow(x, e))), 0.0)


def _erf_chain(m, g, x, o):
    # 2/sqrt(pi) * exp(-x*x), without the rounding of x*x: hi + lo = x*x
    # exactly (Dekker's product, x split in halves by Veltkamp), and
    # exp(-(hi + lo)) = e - e*lo with e = exp(-hi) (|lo| < 1e-13, so the
    # next term, e*lo**2/2, is below the last bit). exp(-hi) alone is off by
    # up to |lo| relatively: 500 ulp at x = 23. Where x*x is exact (lo = 0)
    # this is the textbook rule, bit for bit. Past |x| = 28 (hi >= 784, where
    # e is 0) the split is skipped (xs = 0), so that 134217729*x cannot
    # overflow into a NaN.
    hi = x * x
    xs = x * m.step(784.0 - hi)
    c = 134217729.0 * xs
    xh = c - (c - xs)
    xl = xs - xh
    lo = ((xh * xh - xs * xs) + 2.0 * xh * xl) + xl * xl
    e = m.exp(-hi)
    return g * (1.1283791670955126 * (e - e * lo))


def _atan_chain(m, g, x, o):
    # 1/(1 + x*x) as g/h/h with h = hypot(1, x): 1 + x*x overflows past
    # |x| = 1.3e154, where the rule gave 0 and the truth is 1/x**2, normal
    # up to 1.3e154 and subnormal up to 4.5e161. Within 2.5 ulp of mpmath
    # everywhere (the textbook form: 1.7 where it is finite), and 3
    # operations in generated code, as before.
    h = m.hypot(1.0, x)
    return g / h / h


def _hypot_share(m, a, b, o, c):
    # c/hypot(a, b). Where hypot is below 1e-290 its few bits (subnormal)
    # made this 54 ulp off at (1e-310, 3e-310): a and b are scaled by
    # 2**600 (exactly) and hypot taken again; elsewhere s = 1 and this is
    # c/o bit for bit.
    s = 1.0 + m.step(1e-290 - o) * 4.149515568880993e180   # 2**600 - 1 rounds to 2**600; 1 + it too
    return (c * s) / m.hypot(a * s, b * s)


def _share(m, g, w):
    # g*w, but 0 where w is 0 even if g is not finite: log(max(x, y)) at
    # (1e-310, 1e-320) passes y nothing (truth 0), not inf*0 = nan.
    return m.where(w != 0, g * w, 0.0)


_CORNER_AT_ZERO = (lambda x: x == 0.0)

OPS: dict[str, Op] = {op.name: op for op in (
    Op("+", 2, lambda m, a, b: a + b,
       (lambda m, g, a, b, o: g,
        lambda m, g, a, b, o: g), infix=True, spreads=(0, 1)),
    Op("-", 2, lambda m, a, b: a - b,
       (lambda m, g, a, b, o: g,
        lambda m, g, a, b, o: -g), infix=True, spreads=(0, 1)),
    Op("*", 2, lambda m, a, b: a * b,
       (lambda m, g, a, b, o: g * b,
        lambda m, g, a, b, o: g * a), infix=True, spreads=(0, 1)),
    Op("/", 2, lambda m, a, b: a / b,
       (lambda m, g, a, b, o: g / b,
        lambda m, g, a, b, o: g * (-o / b)),
       undefined=((lambda m, a, b: b == 0, "division by zero"),), infix=True, steep=True, spreads=(0,)),
    Op("**", 2, lambda m, x, y: m.pow(x, y),
       (_pow_chain_x,
        lambda m, g, x, y, o: m.where(x != 0, g * (o * m.log(x)), 0.0)),
       undefined=((lambda m, x, y: (x == 0) & (y < 0), "division by zero: zero to a negative power"),
                  (lambda m, x, y: (x < 0) & (y != m.floor(y)),
                   "a negative number to a fractional power is not a real number")),
       corner=Corner(lambda x, y: x == 0.0,
                     "x**y at x = 0: d/dx may not be finite, and d/dy = out*log(0) is taken as 0"),
       infix=True, text=("{y}*{x}**({y} - 1)", "{out}*log({x})"), steep=True),
    Op("neg", 1, lambda m, x: -x, (lambda m, g, x, o: -g,), spreads=(0,)),
    Op("exp", 1, lambda m, x: m.exp(x), (lambda m, g, x, o: g * o,), text=("exp({x}) = {out}",),
       signed_zero=False),
    Op("log", 1, lambda m, x: m.log(x), (lambda m, g, x, o: g / x,),
       undefined=((lambda m, x: x <= 0, "log needs a positive number"),), steep=True, spreads=(0,)),
    Op("tanh", 1, lambda m, x: m.tanh(x),
       (lambda m, g, x, o: g * m.sech2(x),),
       text=("1 - {out}**2, as 4*sigmoid(2*{x})*sigmoid(-2*{x})",)),
    Op("relu", 1, lambda m, x: m.where(x > 0, x, 0.0), (lambda m, g, x, o: g * m.step(x),),
       corner=Corner(_CORNER_AT_ZERO, "relu'(0) = 0 by convention: the slope is 0 on the left, 1 on the right"),
       text=("1 if {x} > 0 else 0",), signed_zero=False),
    Op("sigmoid", 1, lambda m, x: m.sigmoid(x), (lambda m, g, x, o: g * (o * m.sigmoid(-x)),),
       text=("{out}*(1 - {out}), as {out}*sigmoid(-{x})",), signed_zero=False),
    Op("sqrt", 1, lambda m, x: m.sqrt(x), (lambda m, g, x, o: g * (0.5 / o),),
       undefined=((lambda m, x: x < 0, "sqrt needs a number that is not negative"),),
       corner=Corner(_CORNER_AT_ZERO, "sqrt'(0) = 1/(2*sqrt(0)) is not finite"),
       text=("1/(2*{out})",), steep=True, spreads=(0,)),
    Op("abs", 1, lambda m, x: abs(x), (lambda m, g, x, o: g * m.sign(x),),
       corner=Corner(_CORNER_AT_ZERO, "abs'(0) = 0 by convention: the slope is -1 on the left, 1 on the right"),
       text=("sign({x}), 0 at 0",), signed_zero=False, spreads=(0,)),
    Op("sin", 1, lambda m, x: m.sin(x), (lambda m, g, x, o: g * m.cos(x),), spreads=(0,)),
    Op("cos", 1, lambda m, x: m.cos(x), (lambda m, g, x, o: g * -m.sin(x),), signed_zero=False, spreads=(0,)),
    Op("tan", 1, lambda m, x: m.tan(x), (lambda m, g, x, o: g * (1.0 + o * o),), spreads=(0,)),
    Op("softplus", 1, lambda m, x: m.log1p(m.exp(-abs(x))) + m.where(x >= 0, x, 0.0),
       (lambda m, g, x, o: g * m.sigmoid(x),), signed_zero=False),
    Op("log1p", 1, lambda m, x: m.log1p(x), (lambda m, g, x, o: g * (1.0 / (1.0 + x)),),
       undefined=((lambda m, x: x <= -1, "log1p needs a number greater than -1"),), steep=True, spreads=(0,)),
    Op("sign", 1, lambda m, x: m.sign(x), (lambda m, g, x, o: g * 0.0,),
       corner=Corner(_CORNER_AT_ZERO, "sign jumps at 0; its derivative is taken as 0"), signed_zero=False),
    Op("step", 1, lambda m, x: m.step(x), (lambda m, g, x, o: g * 0.0,),
       corner=Corner(_CORNER_AT_ZERO, "step jumps at 0; its derivative is taken as 0"), signed_zero=False),
    Op("max", 2, lambda m, a, b: m.where(a >= b, a, b),
       (lambda m, g, a, b, o: _share(m, g, (1.0 + m.sign(a - b)) / 2.0),
        lambda m, g, a, b, o: _share(m, g, (1.0 - m.sign(a - b)) / 2.0)),
       corner=Corner(lambda a, b: a == b, "at a tie max splits the gradient evenly, 1/2 to each operand"),
       text=("1 if {a} > {b}, 1/2 if equal, else 0", "1 if {b} > {a}, 1/2 if equal, else 0")),
    Op("min", 2, lambda m, a, b: m.where(a <= b, a, b),
       (lambda m, g, a, b, o: _share(m, g, (1.0 - m.sign(a - b)) / 2.0),
        lambda m, g, a, b, o: _share(m, g, (1.0 + m.sign(a - b)) / 2.0)),
       corner=Corner(lambda a, b: a == b, "at a tie min splits the gradient evenly, 1/2 to each operand"),
       text=("1 if {a} < {b}, 1/2 if equal, else 0", "1 if {b} < {a}, 1/2 if equal, else 0")),
    Op("atan", 1, lambda m, x: m.atan(x), (_atan_chain,), text=("1/({x}*{x} + 1)",)),
    Op("asinh", 1, lambda m, x: m.asinh(x), (lambda m, g, x, o: g / m.hypot(1.0, x),)),
    Op("erf", 1, lambda m, x: m.erf(x), (_erf_chain,), text=("2/sqrt(pi)*exp(-{x}**2)",)),
    Op("hypot", 2, lambda m, a, b: m.hypot(a, b),
       (lambda m, g, a, b, o: g * _hypot_share(m, a, b, o, a),
        lambda m, g, a, b, o: g * _hypot_share(m, a, b, o, b)),
       corner=Corner(lambda a, b: a == 0.0 and b == 0.0,
                     "hypot'(0, 0) is not defined: hypot is a cone there, its derivative is taken as not finite"),
       text=("{a}/{out}", "{b}/{out}"), steep=True, signed_zero=False),
)}

# Paired rows: for a node whose complement is a node of the program that
# something divides by. In ``log(1 - sigmoid(x))`` the forward's ``1 - s``
# keeps a few bits at x = 36.7 (s is within an ulp of 1); log's rule divides
# by those bits, and only a rule that multiplies by the same bits cancels
# their error: ``s*(1 - s)``, not ``s*sigmoid(-x)`` (48% off there; paired,
# within 2 ulp). tanh's derivative is (1 - t)*(1 + t): with ``1 - t``
# divided by, that factor is the node's bits and the other is taken
# accurately, 1 + t = 2*sigmoid(2x) (``log(1 - tanh(x))``: 4.0e14 ulp off at
# x = 18, 1.7e3 at x = -5 with both factors rounded, as torch; paired, 1.3);
# likewise ``1 + t``; with both divided by, both factors are the nodes'.
# ``build.pair`` gives a sigmoid or tanh node the key for the complements
# the program divides by, ``PAIRED[op, "1-" | "1+" | "1+-"]``; the row's
# ``name`` is the op's, so everything shows ``sigmoid``; every engine, code
# generation and the page read the row by its key, so they all compute the
# same bits. ``PAIRED_HOW``: the rule in words, for check and explain.
PAIRED: dict[tuple[str, str], str] = {("sigmoid", "1-"): "sigmoid:1-", ("tanh", "1-"): "tanh:1-",
                                      ("tanh", "1+"): "tanh:1+", ("tanh", "1+-"): "tanh:1+-"}
PAIRED_HOW: dict[str, str] = {"sigmoid:1-": "{out}*(1 - {out})", "tanh:1-": "(1 - {out})*2*sigmoid(2*{x})",
                              "tanh:1+": "(1 + {out})*2*sigmoid(-2*{x})", "tanh:1+-": "(1 - {out})*(1 + {out})"}
OPS["sigmoid:1-"] = OPS["sigmoid"]._replace(
    chain=(lambda m, g, x, o: g * (o * (1.0 - o)),), text=("{out}*(1 - {out})",))
OPS["tanh:1-"] = OPS["tanh"]._replace(
    chain=(lambda m, g, x, o: g * ((1.0 - o) * (2.0 * m.sigmoid(2.0 * x))),),
    text=("1 - {out}**2, as (1 - {out})*2*sigmoid(2*{x})",))
OPS["tanh:1+"] = OPS["tanh"]._replace(
    chain=(lambda m, g, x, o: g * ((1.0 + o) * (2.0 * m.sigmoid(-2.0 * x))),),
    text=("1 - {out}**2, as (1 + {out})*2*sigmoid(-2*{x})",))
OPS["tanh:1+-"] = OPS["tanh"]._replace(
    chain=(lambda m, g, x, o: g * ((1.0 - o) * (1.0 + o)),), text=("1 - {out}**2, as (1 - {out})*(1 + {out})",))


SHOWN: dict[str, str] = {key: op.name for key, op in OPS.items()}


def shown(key: str) -> str:
    """How an op is shown, from its key in ``OPS`` (a paired row's key
    shows as its op: ``sigmoid``); anything else as it is."""
    return SHOWN.get(key, key)


# What the language calls by name: `f(x)` and `x.f()`. `pow(x, y)` is `x ** y`.
FUNCTIONS: dict[str, Op] = {name: op for name, op in OPS.items()
                            if not op.infix and name != "neg" and name == op.name}
FUNCTIONS["pow"] = OPS["**"]

# The operators of the language, as the parser spells them.
BINARY = {sym: OPS[sym] for sym in ("+", "-", "*", "/", "**")}


def conventions() -> list[tuple[str, str]]:
    """Each op with a corner, and the convention there: for the docs."""
    return [(op.name, op.corner.convention) for op in OPS.values() if op.corner]


# ----------------------------------------------------- spellings for codegen

TARGETS = ("python", "numpy", "c", "js", "sql")   # codegen's --lang, in its order


class Spelling(NamedTuple):
    """An op in every target of code generation (``{0}``, ``{1}``: the
    operands). ``atoms``: the operands that must be names or numbers
    (repeated in a template, or able to turn a non-finite value into a finite
    one, as ``tanh(inf)`` is 1: the checks must see them; a guarded operand
    is one without being listed). ``overflows``: a finite operand can give a
    non-finite result. Where the row is ``undefined``, the printers guard the
    template with conditions derived from the row (codegen.guards).

    ``raises``: per target, the exceptions its spelling raises where the
    others give inf or NaN (Python's ``math.log(0)`` raises ValueError,
    ``math.exp(1000)`` OverflowError); ``guards``: per target, extra domain
    rows ``(where(m, *operands), why, exception)`` that the target's own
    function needs (Python's ``math.exp`` raises past ``PY_EXP_LIMIT``, where
    C's and JavaScript's give inf): its generated code guards them like
    ``undefined``.

    ``dialects``: an SQL dialect's own form where it differs from ``sql``
    (``codegen --dialect``; ``postgres``: PostgreSQL raises on a float
    overflow and on an underflow to zero, where the query needs NULL and 0).

    ``latex``: how ``diff --latex`` writes a function (``{0}``: the operand,
    written whole); by default ``\\operatorname{name}\\left({0}\\right)``. A form
    that ends in a superscript (``e^{{0}}``) binds like a power. The
    operators' LaTeX (``\\frac``, powers, products) is unparse.py's."""
    forms: dict[str, str]
    atoms: tuple[int, ...] = ()
    overflows: bool = False
    raises: dict[str, tuple[str, ...]] = {}
    guards: dict[str, tuple[tuple[Callable[..., object], str, str], ...]] = {}
    latex: str | None = None
    dialects: dict[str, str] = {}


def _py_exp_limit() -> float:
    """The largest float whose ``math.exp`` is finite (Python's raises past it)."""
    lo, hi = 709.0, 710.0
    while True:
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            return lo
        try:
            math.exp(mid)
            lo = mid
        except OverflowError:
            hi = mid


PY_EXP_LIMIT = _py_exp_limit()


def _same(template: str, **overrides: str) -> dict[str, str]:
    return {**dict.fromkeys(TARGETS, template), **overrides}


def _calls(py: str, sql: str | None = None, numpy: str | None = None) -> dict[str, str]:
    """A function of one argument, named ``py`` in Python's math, C and JavaScript's Math."""
    return {"python": f"math.{py}({{0}})", "numpy": f"np.{numpy or py}({{0}})", "c": f"{py}({{0}})",
            "js": f"Math.{py}({{0}})", "sql": f"{sql or py}({{0}})"}


# JavaScript has no erf: CPython's own (before 3.12's libm call), a series
# below 1.5 and a continued fraction above; within 1.8 ulp of 40-digit
# mpmath (the series to 160 terms: 6.9 ulp).
_ERF_JS = ("((x) => { const absx = Math.abs(x), sqrtpi = 1.772453850905516; if (Number.isNaN(x)) return x; "
           "if (absx < 1.5) { const x2 = x * x; let acc = 0.0, fk = 25.5; "
           "for (let i = 0; i < 25; i++) { acc = 2.0 + x2 * acc / fk; fk -= 1.0; } "
           "return acc * x * Math.exp(-x2) / sqrtpi; } "
           "let cf = 0.0; if (absx < 30.0) { const x2 = absx * absx; "
           "let a = 0.0, da = 0.5, p = 1.0, pLast = 0.0, q = da + x2, qLast = 1.0; "
           "for (let i = 0; i < 50; i++) { a += da; da += 2.0; const b = da + x2; "
           "let t = p; p = b * p - a * pLast; pLast = t; t = q; q = b * q - a * qLast; qLast = t; } "
           "cf = p / q * absx * Math.exp(-x2) / sqrtpi; } return x > 0.0 ? 1.0 - cf : cf - 1.0; })({0})")
# log1p(x) = ln(u) * (x / (u - 1)) with u = 1 + x (exact where u - 1 is x's
# rounding); the quotient first, so that x near the largest double does not
# overflow (ln(u) * x did, past 2.5e305).
_LOG1P_SQL = "CASE WHEN 1e0 + {0} = 1e0 THEN {0} ELSE ln(1e0 + {0}) * ({0} / ((1e0 + {0}) - 1e0)) END"


def _sql_number(x: float) -> str:
    text = repr(float(x))
    return text if "e" in text else text + "e0"      # a DOUBLE, not a DECIMAL


def _exp_low() -> float:
    """The smallest float whose ``math.exp`` is not 0 (a subnormal)."""
    lo, hi = -746.0, -745.0
    while True:
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            return hi
        if math.exp(mid) == 0.0:
            lo = mid
        else:
            hi = mid


EXP_LOW = _exp_low()
_MAX_SQL = "1.7976931348623157e308"


def _pg_exp(arg: str) -> str:
    """exp in PostgreSQL, which raises where the result is 0 or infinite: 0
    below EXP_LOW, inf past PY_EXP_LIMIT (as grad)."""
    return (f"CASE WHEN {arg} < {_sql_number(EXP_LOW)} THEN 0e0 "
            f"WHEN {arg} > {_sql_number(PY_EXP_LIMIT)} THEN CAST('Infinity' AS DOUBLE PRECISION) ELSE exp({arg}) END")


def _erf_taylor(c: float, n: int) -> list[float]:
    """erf's Taylor coefficients at c, a_0..a_n: erf' = g = 2/sqrt(pi) e^(-x^2)
    solves g' = -2x g, so g's coefficients b_k at c follow
    (k+1) b_(k+1) = -2c b_k - 2 b_(k-1), and a_(k+1) = b_k / (k+1).
    (Tested against mpmath: within 1e-14 relative where a term counts.)"""
    b = [2.0 / math.sqrt(math.pi) * math.exp(-c * c)]
    b.append(-2.0 * c * b[0])
    for k in range(1, n):
        b.append((-2.0 * c * b[k] - 2.0 * b[k - 1]) / (k + 1))
    return [math.erf(c)] + [b[k] / (k + 1) for k in range(n)]


def _erf_sql() -> str:
    """erf in SQL, which has no erf (DuckDB, SQLite, PostgreSQL before 16) and
    no loop: sign(x) times, for a = |x|, 2/sqrt(pi) a below 1e-12; the odd
    Maclaurin series a * sum c_n a^(2n) below 0.5; Taylor polynomials in
    h = a - c around c = 1, 2, ..., 5 and 5.75 (|h| <= 0.5, 11 to 25 terms,
    each below 1e-17 of the sum where it stops) up to 6; 1 from 6 on (as
    math.erf). Every term is ``a_k * power(h, k)``, a flat sum: SQLite's
    parser takes about 18 nested parentheses (a Horner form of 25 did not
    parse). No power underflows to 0 (PostgreSQL raises there): |h| below
    1e-200 is a_0, below 1e-12 a_0 + a_1 h; coefficients below 1e-20 are 0.
    About 9 KB of SQL per erf, within 1e-15 of math.erf (tests/test_codegen_sql.py)."""
    a = "abs({0})"
    arms = [f"WHEN {a} >= 6e0 THEN 1e0",
            f"WHEN {a} < 1e-12 THEN {_sql_number(2 / math.sqrt(math.pi))} * {a}"]
    series = []
    for n in range(11):
        cn = 2 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1))
        series.append(_sql_number(cn) if n == 0 else f"{_sql_number(cn)} * power({a}, {2 * n}e0)")
    arms.append(f"WHEN {a} < 0.5e0 THEN {a} * (" + " + ".join(series).replace("+ -", "- ") + ")")
    for c, top, terms in ((1.0, 1.5, 25), (2.0, 2.5, 24), (3.0, 3.5, 23), (4.0, 4.5, 22), (5.0, 5.5, 20),
                          (5.75, 6.0, 13)):
        half = top - c
        coef = [0.0 if abs(x) < 1e-20 or abs(x) * half ** k < 1e-18 else x
                for k, x in enumerate(_erf_taylor(c, terms))]
        h = f"({a} - {_sql_number(c)})"
        full = " + ".join([_sql_number(coef[0]), f"{_sql_number(coef[1])} * {h}"]
                          + [f"{_sql_number(x)} * power({h}, {k}e0)" for k, x in enumerate(coef) if k > 1 and x])
        arms.append(f"WHEN {a} < {_sql_number(top)} THEN CASE WHEN abs{h} < 1e-200 THEN {_sql_number(coef[0])} "
                    f"WHEN abs{h} < 1e-12 THEN {_sql_number(coef[0])} + {_sql_number(coef[1])} * {h} "
                    f"ELSE {full.replace('+ -', '- ')} END")
    return "(sign({0}) * CASE " + " ".join(arms) + " END)"


# hypot(a, b) = m * sqrt(1 + (n/m)^2), m = max(|a|, |b|), n = min: no
# overflow before the result does (sqrt(a*a + b*b) was NULL at 3e200), and
# in PostgreSQL no underflow: m where n <= m * 2^-26 (the sum rounds to 1
# there), and m * s checked where m > 1e300.
def _hypot_sql(m: str, n: str) -> str:
    s = f"sqrt(1e0 + ({n} / {m}) * ({n} / {m}))"
    return (f"CASE WHEN {m} = 0e0 THEN 0e0 "
            f"WHEN CASE WHEN {m} >= 1e0 THEN {n} <= {m} * 1.4901161193847656e-08 ELSE {n} * 67108864e0 <= {m} END "
            f"THEN {m} WHEN {m} <= 1e300 OR {s} <= {_MAX_SQL} / {m} THEN {m} * {s} END")


_HYPOT_SQL = (f"CASE WHEN abs({{0}}) >= abs({{1}}) THEN {_hypot_sql('abs({0})', 'abs({1})')} "
              f"ELSE {_hypot_sql('abs({1})', 'abs({0})')} END")

# PostgreSQL's arithmetic raises where a float overflows, and where a product
# or quotient of numbers that are not 0 rounds to 0 (`value out of range:
# underflow`); grad gives inf and 0. These forms test with comparisons and
# operations that cannot raise first (their operands are names or numbers:
# codegen makes them atoms in PostgreSQL) and give grad's inf (PostgreSQL
# computes with an infinite operand without raising; the checks turn it to
# NULL) and 0; an operand that is not finite takes the plain operation.
_INF_SQL = "CAST('Infinity' AS DOUBLE PRECISION)"
_BOTH_FINITE = f"abs({{0}}) <= {_MAX_SQL} AND abs({{1}}) <= {_MAX_SQL}"
_PG_FORMS = {
    "+": (f"CASE WHEN sign({{0}}) <> sign({{1}}) OR abs({{0}}) <= {_MAX_SQL} - abs({{1}}) THEN {{0}} + {{1}} "
          f"WHEN {_BOTH_FINITE} THEN sign({{0}}) * {_INF_SQL} ELSE {{0}} + {{1}} END"),
    "-": (f"CASE WHEN sign({{0}}) = sign({{1}}) OR abs({{0}}) <= {_MAX_SQL} - abs({{1}}) THEN {{0}} - {{1}} "
          f"WHEN {_BOTH_FINITE} THEN sign({{0}}) * {_INF_SQL} ELSE {{0}} - {{1}} END"),
    "*": ("CASE WHEN abs({0}) <= 1e0 AND abs({1}) <= 1e0 THEN "
          "CASE WHEN {1} = 0e0 OR abs({0}) > 5e-324 / abs({1}) THEN {0} * {1} ELSE 0e0 END "
          f"WHEN abs({{0}}) <= 1e0 OR abs({{1}}) <= 1e0 OR abs({{0}}) <= {_MAX_SQL} / abs({{1}}) THEN {{0}} * {{1}} "
          f"WHEN {_BOTH_FINITE} THEN sign({{0}}) * sign({{1}}) * {_INF_SQL} ELSE {{0}} * {{1}} END"),
    "/": ("CASE WHEN abs({1}) >= 1e0 THEN CASE WHEN abs({0}) > 5e-324 * abs({1}) THEN {0} / {1} ELSE 0e0 END "
          f"WHEN abs({{0}}) <= {_MAX_SQL} * abs({{1}}) THEN {{0}} / {{1}} "
          f"WHEN {_BOTH_FINITE} THEN sign({{0}}) * sign({{1}}) * {_INF_SQL} ELSE {{0}} / {{1}} END"),
    # x ** y with L = ln|x|: y*L decides; |y| <= 1e-300 or |x| = 1 cannot
    # overflow, |y| > 1e300 certainly does (or underflows); 0 below y*L = -744.8
    # (the result is at most a few subnormal ulp there), inf above
    # 709.782712892 (within 1e-9 of the largest double), signed as x**y.
    "**": ("CASE WHEN {0} = 0e0 OR abs({1}) <= 1e-300 OR abs({0}) = 1e0 THEN power({0}, {1}) "
           "WHEN abs({1}) > 1e300 THEN CASE WHEN {1} * sign(ln(abs({0}))) < 0e0 THEN 0e0 "
           f"ELSE power(sign({{0}}), {{1}}) * {_INF_SQL} END "
           "WHEN {1} * ln(abs({0})) <= -744.8e0 THEN 0e0 "
           "WHEN {1} * ln(abs({0})) <= 709.782712892e0 THEN power({0}, {1}) "
           f"WHEN {{1}} * ln(abs({{0}})) > 0e0 THEN power(sign({{0}}), {{1}}) * {_INF_SQL} END"),
    # sin(inf) raises (`input is out of range`): grad fails there, NULL
    "sin": f"CASE WHEN abs({{0}}) <= {_MAX_SQL} THEN sin({{0}}) END",
    "cos": f"CASE WHEN abs({{0}}) <= {_MAX_SQL} THEN cos({{0}}) END",
    "tan": f"CASE WHEN abs({{0}}) <= {_MAX_SQL} THEN tan({{0}}) END",
    "exp": _pg_exp("{0}"),
    "sigmoid": (f"CASE WHEN {{0}} >= 0e0 THEN 1e0 / (1e0 + {_pg_exp('-{0}')}) "
                f"ELSE {_pg_exp('{0}')} / (1e0 + {_pg_exp('{0}')}) END"),
    "softplus": ("(" + _LOG1P_SQL.replace("{0}", "(" + _pg_exp("-abs({0})") + ")")
                 + " + CASE WHEN {0} > 0e0 THEN {0} ELSE 0e0 END)"),
}

SPELLINGS: dict[str, Spelling] = {
    "+": Spelling(_same("{0} + {1}"), overflows=True),
    "-": Spelling(_same("{0} - {1}"), overflows=True),
    "*": Spelling(_same("{0} * {1}"), overflows=True),
    "/": Spelling(_same("{0} / {1}", numpy="np.divide({0}, {1})"), atoms=(1,), overflows=True,
                  raises={"python": ("ZeroDivisionError",)}),
    "**": Spelling({"python": "math.pow({0}, {1})", "numpy": "np.power({0}, {1})", "c": "pow({0}, {1})",
                    "js": "Math.pow({0}, {1})", "sql": "power({0}, {1})"}, overflows=True,
                   raises={"python": ("ValueError", "OverflowError")}),
    "neg": Spelling(_same("-{0}")),
    "exp": Spelling(_calls("exp"), atoms=(0,), overflows=True, raises={"python": ("OverflowError",)},
                    guards={"python": ((lambda m, x: x > PY_EXP_LIMIT, "the result overflows", "OverflowError"),)},
                    latex=r"e^{{0}}"),
    "log": Spelling(_calls("log", sql="ln"), raises={"python": ("ValueError",)}, latex=r"\log\left({0}\right)"),
    "tanh": Spelling(_calls("tanh"), atoms=(0,), latex=r"\tanh\left({0}\right)"),
    "relu": Spelling({"python": "max(0.0, {0})", "numpy": "np.where({0} > 0.0, {0}, 0.0)",
                      "c": "({0} > 0.0 ? {0} : 0.0)", "js": "({0} > 0 ? {0} : 0)",
                      "sql": "CASE WHEN {0} > 0e0 THEN {0} ELSE 0e0 END"}, atoms=(0,)),
    "sigmoid": Spelling({"python": "(1.0 / (1.0 + math.exp(-{0})) if {0} >= 0.0 else math.exp({0}) / (1.0 + math.exp({0})))",
                         "numpy": "np.where({0} >= 0.0, 1.0 / (1.0 + np.exp(-np.abs({0}))), "
                                  "np.exp(-np.abs({0})) / (1.0 + np.exp(-np.abs({0}))))",
                         "c": "({0} >= 0.0 ? 1.0 / (1.0 + exp(-{0})) : exp({0}) / (1.0 + exp({0})))",
                         "js": "({0} >= 0 ? 1 / (1 + Math.exp(-{0})) : Math.exp({0}) / (1 + Math.exp({0})))",
                         "sql": "CASE WHEN {0} >= 0e0 THEN 1e0 / (1e0 + exp(-{0})) ELSE exp({0}) / (1e0 + exp({0})) END"},
                        atoms=(0,), latex=r"\sigma\left({0}\right)"),
    "sqrt": Spelling(_calls("sqrt"), raises={"python": ("ValueError",)}, latex=r"\sqrt{{0}}"),
    "abs": Spelling({"python": "abs({0})", "numpy": "np.abs({0})", "c": "fabs({0})", "js": "Math.abs({0})",
                     "sql": "abs({0})"}, latex=r"\left|{0}\right|"),
    "sin": Spelling(_calls("sin"), atoms=(0,), raises={"python": ("ValueError",)}, latex=r"\sin\left({0}\right)"),
    "cos": Spelling(_calls("cos"), atoms=(0,), raises={"python": ("ValueError",)}, latex=r"\cos\left({0}\right)"),
    "tan": Spelling(_calls("tan"), atoms=(0,), raises={"python": ("ValueError",)}, latex=r"\tan\left({0}\right)"),
    "softplus": Spelling({"python": "(math.log1p(math.exp(-abs({0}))) + max({0}, 0.0))",
                          "numpy": "(np.log1p(np.exp(-np.abs({0}))) + np.maximum({0}, 0.0))",
                          "c": "(log1p(exp(-fabs({0}))) + (0.0 > {0} ? 0.0 : {0}))",
                          "js": "(Math.log1p(Math.exp(-Math.abs({0}))) + Math.max({0}, 0))",
                          "sql": "(" + _LOG1P_SQL.replace("{0}", "exp(-abs({0}))")
                                 + " + CASE WHEN {0} > 0e0 THEN {0} ELSE 0e0 END)"},
                         atoms=(0,)),
    "log1p": Spelling({**_calls("log1p"), "sql": _LOG1P_SQL}, raises={"python": ("ValueError",)}),
    "sign": Spelling({"python": "(1.0 if {0} > 0.0 else -1.0 if {0} < 0.0 else 0.0)", "numpy": "np.sign({0})",
                      "c": "({0} > 0.0 ? 1.0 : {0} < 0.0 ? -1.0 : 0.0)", "js": "({0} > 0 ? 1 : {0} < 0 ? -1 : 0)",
                      "sql": "CASE WHEN {0} > 0e0 THEN 1e0 WHEN {0} < 0e0 THEN -1e0 ELSE 0e0 END"}, atoms=(0,)),
    "step": Spelling({"python": "(1.0 if {0} > 0.0 else 0.0)", "numpy": "np.where({0} > 0.0, 1.0, 0.0)",
                      "c": "({0} > 0.0 ? 1.0 : 0.0)", "js": "({0} > 0 ? 1 : 0)",
                      "sql": "CASE WHEN {0} > 0e0 THEN 1e0 ELSE 0e0 END"}, atoms=(0,)),
    "max": Spelling({"python": "({0} if {0} >= {1} else {1})", "numpy": "np.where({0} >= {1}, {0}, {1})",
                     "c": "({0} >= {1} ? {0} : {1})", "js": "({0} >= {1} ? {0} : {1})",
                     "sql": "CASE WHEN {0} >= {1} THEN {0} ELSE {1} END"}, atoms=(0, 1),
                    latex=r"\max\left({0}, {1}\right)"),
    "min": Spelling({"python": "({0} if {0} <= {1} else {1})", "numpy": "np.where({0} <= {1}, {0}, {1})",
                     "c": "({0} <= {1} ? {0} : {1})", "js": "({0} <= {1} ? {0} : {1})",
                     "sql": "CASE WHEN {0} <= {1} THEN {0} ELSE {1} END"}, atoms=(0, 1),
                    latex=r"\min\left({0}, {1}\right)"),
    "atan": Spelling(_calls("atan", numpy="arctan"), atoms=(0,), latex=r"\arctan\left({0}\right)"),
    "asinh": Spelling(_calls("asinh", numpy="arcsinh"), latex=r"\operatorname{arsinh}\left({0}\right)"),
    "erf": Spelling({**_calls("erf"), "numpy": "np.vectorize(math.erf, otypes=[np.float64])({0})",
                     "js": _ERF_JS, "sql": _erf_sql()}, atoms=(0,)),
    "hypot": Spelling({"python": "math.hypot({0}, {1})", "numpy": "np.hypot({0}, {1})", "c": "hypot({0}, {1})",
                       "js": "Math.hypot({0}, {1})", "sql": _HYPOT_SQL},
                      atoms=(0, 1), overflows=True),
}

for _name, _form in _PG_FORMS.items():
    SPELLINGS[_name] = SPELLINGS[_name]._replace(dialects={"postgres": _form})
SPELLINGS.update({key: SPELLINGS[op.name] for key, op in OPS.items() if key != op.name})   # paired rows

_unspelled = [name for name in OPS if set(SPELLINGS.get(name, Spelling({})).forms) != set(TARGETS)]
if _unspelled:   # pragma: no cover - an op row without its spellings: fail on import, not in a user's codegen
    raise RuntimeError(f"ops.SPELLINGS lacks a target for {_unspelled}")
