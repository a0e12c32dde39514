"""How sure is the answer: the propagation of uncertainty, with exact derivatives.

``a=2±0.1`` gives an input a standard uncertainty; ``propagate`` returns the
``Budget``: the GUM's (JCGM 100:2008, 5.1.2 and 5.2.2) law of propagation

    u(y)² = Σᵢ Σⱼ cᵢ cⱼ u(xᵢ) u(xⱼ) r(xᵢ, xⱼ),   cᵢ = ∂f/∂xᵢ

with the sensitivity coefficients cᵢ from one backward pass (the same
numbers ``gradcli grad`` prints, not finite differences), and per input its
value, u, c, the contribution |c|·u and its share of the variance,
largest first: (c·u)²/u(y)², plus, for correlated inputs, half of each
covariance term cᵢcⱼuᵢuⱼr of its pairs, so that the shares add up to 100 %
(one may be negative: an input whose errors cancel another's). Correlations (``--corr a,b=0.5``) must form a
positive semi-definite matrix (its eigenvalues, to rounding).

Second order. The GUM's note to 5.1.2 adds, for uncorrelated normal inputs,
Σᵢ Σⱼ [½ (∂²f/∂xᵢ∂xⱼ)² + cᵢ ∂³f/∂xᵢ∂xⱼ²] u²(xᵢ) u²(xⱼ). Here the
derivatives are exact (symbolic.py's tape: the gradient built as nodes, each
row of the Hessian H built from it, and the third derivatives the formula
needs, tᵢ = ∂/∂xᵢ Σⱼₖ Σⱼₖ Hⱼₖ, from one float backward pass over that sum
built as a node), and the terms are the Taylor series to fourth order with
Σ the inputs' covariance matrix,

    var = cᵀΣc + ½ tr(HΣHΣ) + (Σc)ᵀt,    mean = f + ½ tr(HΣ)

exact to that order for normal inputs, correlated or not (Isserlis'
theorem), and the GUM's formula when they are independent. An independent
uniform or triangular input adds the terms of its own moments, with
κ = μ₄/σ⁴ (9/5 uniform, 12/5 triangular; 3 normal) and μ₃ (nonzero only for
a skewed triangle): ¼(κ-3)Hᵢᵢ²σᵢ⁴ + cᵢHᵢᵢμ₃ + (κ/3-1)cᵢTᵢᵢᵢσᵢ⁴, and
⅙Tᵢᵢᵢμ₃ to the mean. ``x**2`` at x = 0±1: first order u = 0, second order
u = √2, the exact standard deviation of a χ²₁ variable. The second order is
not computed for correlated inputs that are not normal, nor when the inputs
times the nodes exceed ``SECOND_ORDER_CELLS`` (each input costs one
symbolic pass: 2 s at the limit). It is *noticeable* when it moves u by
more than ``NOTICEABLE`` (5 %) of itself.

Monte Carlo (GUM Supplement 1, JCGM 101:2008). ``mc`` samples run through
the array engine (arrays.Batch, blocks of up to ``MC_BLOCK`` points), normal
by default, ``U(a,b)`` uniform, ``T(a,b)`` or ``T(a,c,b)`` triangular,
correlated normals through the covariance's eigenvectors. The result: mean,
standard deviation, the probabilistically symmetric 95 % coverage interval
(quantiles 2.5 % and 97.5 %; ``-p`` another probability), a histogram, and
the Supplement's validation (8.2): with u(y) written to two significant
digits as c·10ˡ, δ = ½·10ˡ; the GUM interval y ± 1.96·u(y) agrees when
both ends are within δ of the Monte Carlo ones. The verdict is
*conclusive* when Monte Carlo's ends are themselves known to δ (twice
their standard error, from the order statistics, within δ: the
Supplement's 7.9), or when the GUM is off by more than δ plus that noise;
else it says to take more samples. Samples outside the program's domain (a negative under
``sqrt``) are counted and reported with the float engine's error at the
first of them; the statistics are of the other samples.

Bindings (``parse_quantity``): ``2±0.1``, ``2+-0.1``, ``2±5%`` (relative),
``N(2,0.1)``, ``U(1,3)``, ``T(1,3)``, ``T(1,2,4)``, or a plain number (exact).
"""

from __future__ import annotations

import math
import re
import sys
import types
from functools import lru_cache
from typing import Mapping, NamedTuple, Sequence

from .build import VALUE_RE, bind, parse_binding, read_number, structure
from .engine import Graph
from .errors import DomainError, InputError, did_you_mean, words
from .safeio import printable

NOTICEABLE = 0.05            # second order moves u by more than this share: say so
SECOND_ORDER_CELLS = 20_000   # uncertain inputs x program nodes, at most, for the second order (about 2 s)
MC_BLOCK = 1 << 13           # Monte Carlo points per block, at most (the array engine drops each value
                             # after its last use, so a block's arrays stay in cache: on the 231-node
                             # MLP, 4,096 to 16,384 points ran within noise of each other)
MC_MAX = 10 ** 8              # samples, at most (800 MB of results)
MC_CELLS = 1 << 22           # and at most this many floats alive per block (points x the arrays alive at once)
P = 0.95                     # the coverage probability of the intervals, unless -p says otherwise
HISTOGRAM_BINS = 16


# ------------------------------------------------------------------ inputs

class Quantity(NamedTuple):
    """An input: its value (the mean), standard uncertainty and distribution
    (``normal``, ``uniform``, ``triangular``; ``exact`` when u is not given),
    ``params`` the distribution's numbers as written (``(1.0, 3.0)`` for
    ``U(1,3)``), ``text`` how it was written."""

    value: float
    u: float
    dist: str = "normal"
    params: tuple = ()
    text: str = ""

    @property
    def exact(self) -> bool:
        return self.dist == "exact"

    @property
    def kurtosis(self) -> float:
        return {"normal": 3.0, "uniform": 1.8, "triangular": 2.4}.get(self.dist, 3.0)

    @property
    def skew3(self) -> float:
        """The third central moment (nonzero only for a skewed triangle)."""
        if self.dist == "triangular":
            a, c, b = self.params
            return (a + b - 2 * c) * (2 * a - b - c) * (a - 2 * b + c) / 270.0
        return 0.0


_NUM = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_DIST = re.compile(r"([NUT])\((.*)\)", re.S)


def _number(text: str, what: str, whole: str) -> float:
    return read_number(text.strip(), f"`{printable(whole)}`: {what} ")


def parse_quantity(text: str, whole: str | None = None) -> Quantity:
    """A binding's value: ``2±0.1``, ``2+-0.1``, ``2±5%``, ``N(2,0.1)``,
    ``U(1,3)``, ``T(1,3)``, ``T(1,2,4)``, or a number (exact)."""
    whole = text if whole is None else whole
    s = text.strip()
    m = _DIST.fullmatch(s)
    if m:
        kind, inside = m.groups()
        parts = [p for p in inside.split(",")]
        shapes = {"N": (2,), "U": (2,), "T": (2, 3)}[kind]
        if len(parts) not in shapes:
            form = {"N": "N(MEAN,U)", "U": "U(LOW,HIGH)", "T": "T(LOW,HIGH) or T(LOW,MODE,HIGH)"}[kind]
            raise InputError(f"`{printable(whole)}`: expected {form}")
        nums = [_number(p, "the number", whole) for p in parts]
        if kind == "N":
            mean, u = nums
            if u < 0:
                raise InputError(f"`{printable(whole)}`: the standard uncertainty {u:g} is negative")
            return Quantity(mean, u, "normal" if u > 0 else "exact", (mean, u), s)
        low, high = nums[0], nums[-1]
        if not low < high:
            raise InputError(f"`{printable(whole)}`: the low end {low:g} is not below the high end {high:g}")
        if kind == "U":
            return Quantity((low + high) / 2, (high - low) / math.sqrt(12.0), "uniform", (low, high), s)
        mode = (low + high) / 2 if len(nums) == 2 else nums[1]
        if not low <= mode <= high:
            raise InputError(f"`{printable(whole)}`: the mode {mode:g} is not between {low:g} and {high:g}")
        var = (low * low + high * high + mode * mode - low * high - low * mode - high * mode) / 18.0
        return Quantity((low + mode + high) / 3, math.sqrt(var), "triangular", (low, mode, high), s)
    for sign in ("±", "+-"):
        if sign in s:
            value_text, _, u_text = s.partition(sign)
            break
    else:
        if not VALUE_RE.fullmatch(s):
            if "-+" in s or "∓" in s:
                raise InputError(f"`{printable(whole)}`: write the uncertainty as VALUE±U or VALUE+-U")
            raise InputError(f"`{printable(whole)}`: `{printable(s)}` is not a number or a quantity "
                             "(write 2, 2±0.1, 2+-0.1, 2±5%, U(1,3) or T(1,3))")
        return Quantity(_number(s, "the value", whole), 0.0, "exact", (), s)
    if not value_text.strip():
        raise InputError(f"`{printable(whole)}`: no value before `{sign}`: write VALUE{sign}U, such as 2{sign}0.1")
    if not u_text.strip():
        raise InputError(f"`{printable(whole)}`: no uncertainty after `{sign}`: write VALUE{sign}U, "
                         f"such as 2{sign}0.1")
    value = _number(value_text, "the value", whole)
    u_text = u_text.strip()
    relative = u_text.endswith("%")
    if relative:
        u_text = u_text[:-1]
    if u_text.strip().startswith("-"):
        raise InputError(f"`{printable(whole)}`: the uncertainty `{printable(u_text.strip())}` is negative",
                         notes=["an uncertainty is a standard deviation: zero or more"])
    u = _number(u_text, "the uncertainty", whole)
    if relative:
        u = abs(value) * u / 100.0
    return Quantity(value, u, "normal" if u > 0 else "exact", (value, u), s)


def parse_quantities(bindings: Sequence[str]) -> dict[str, Quantity]:
    """``NAME=QUANTITY`` arguments (the last one of a name wins)."""
    out: dict[str, Quantity] = {}
    for k, text in enumerate(bindings):
        name, eq, rest = text.partition("=")
        if not eq:
            if text.startswith(("±", "+-")) or k and bindings[k - 1].endswith(("±", "+-")):
                raise InputError(f"`{printable(text)}` is not a binding: write each VALUE±U as one word, "
                                 "without spaces, such as x=2±0.1")
            parse_binding(text)      # the usual error for a word that is not a binding
        parse_binding(f"{name}=0")   # the usual error for a bad name
        out[name] = parse_quantity(rest, text)
    return out


def quantity(name: str, given: object) -> Quantity:
    """An input from Python: a number (exact), a string as on the command
    line, a ``(value, u)`` pair, or a Quantity."""
    if isinstance(given, Quantity):
        return given
    if isinstance(given, str):
        return parse_quantity(given, f"{name}={given}")
    if isinstance(given, tuple) and len(given) == 2:
        value, u = (float(x) for x in given)
        if not (math.isfinite(value) and math.isfinite(u)) or u < 0:
            raise InputError(f"`{printable(name)}`: ({value!r}, {u!r}) is not a value and a standard uncertainty")
        return Quantity(value, u, "normal" if u > 0 else "exact", (value, u), f"{value!r}±{u!r}")
    if isinstance(given, bool) or not isinstance(given, (int, float)):
        raise InputError(f"`{printable(name)}`: a {type(given).__name__} is not a number or a quantity")
    value = float(given)
    if not math.isfinite(value):
        raise InputError(f"`{printable(name)}`: {value!r} is not a finite number")
    return Quantity(value, 0.0, "exact", (), repr(value))


def parse_correlation(text: str) -> tuple[str, str, float]:
    """``A,B=R`` from ``--corr``."""
    pair, eq, r_text = text.partition("=")
    names = [n.strip() for n in pair.split(",")]
    if not eq or len(names) != 2 or not all(names):
        raise InputError(f"--corr `{printable(text)}`: expected A,B=R, such as --corr a,b=0.5")
    if names[0] == names[1]:
        raise InputError(f"--corr `{printable(text)}`: a name is always fully correlated with itself")
    if not VALUE_RE.fullmatch(r_text.strip()):
        raise InputError(f"--corr `{printable(text)}`: `{printable(r_text)}` is not a number")
    r = float(r_text)
    if not -1.0 <= r <= 1.0:
        raise InputError(f"--corr `{printable(text)}`: a correlation is between -1 and 1, not {r:g}")
    return names[0], names[1], r


# ------------------------------------------------------------------ results

class Row(NamedTuple):
    """One input's line of the budget."""

    name: str
    value: float
    u: float
    c: float
    contribution: float     # |c|·u
    share: float            # of the variance, with half of each covariance term (0 when u(y) is 0)
    dist: str
    text: str


class SecondOrder(NamedTuple):
    """The second-order figures, or why there are none (``u`` None)."""

    u: float | None
    mean: float | None       # the value plus the second-order shift of the mean
    noticeable: bool
    note: str


class MonteCarlo(NamedTuple):
    n: int
    seed: int
    valid: int               # samples inside the program's domain
    outside: int
    outside_error: str | None
    mean: float | None
    std: float | None
    interval: tuple | None   # the probabilistically symmetric coverage interval (Budget.p)
    agrees: bool | None      # Supplement 1's 8.2 validation of the GUM interval
    conclusive: bool         # the verdict stands beyond twice the sampling error of the interval's ends
    delta: float | None
    d_low: float | None
    d_high: float | None
    histogram: tuple | None  # (edges, counts, below, above) over the central 99.5 %


class Budget:
    """The uncertainty of a program's output: ``value``, ``u`` (combined
    standard uncertainty), ``k`` and ``U`` = k·u (expanded), ``rows`` (the
    budget, largest contribution first), ``correlations`` ((a, b, r), ...),
    ``second_order`` and ``mc`` (None when not asked), ``samples`` (the
    Monte Carlo values of the output, NaN outside the domain; None without
    ``mc``). In Jupyter it shows as a table."""

    samples = None

    def __init__(self, name: str | None, value: float, u: float, k: float, rows: list[Row],
                 correlations: list[tuple[str, str, float]], exact: dict[str, float],
                 second_order: SecondOrder | None, mc: MonteCarlo | None, p: float = P):
        self.name, self.value, self.u, self.k, self.p = name, value, u, k, p
        self.z = coverage_factor(p)
        self.U = k * u
        self.rows, self.correlations, self.exact = rows, correlations, exact
        self.second_order, self.mc = second_order, mc

    def as_dict(self) -> dict:
        """Everything, as ``--json`` prints it (numbers as floats, a value
        that is not finite as None)."""
        def num(x):
            return None if x is None or not math.isfinite(x) else x + 0.0

        so = self.second_order
        mc = self.mc
        return {
            "name": self.name,
            "value": num(self.value), "u": num(self.u), "k": num(self.k), "U": num(self.U), "p": self.p,
            "budget": [{"name": r.name, "value": num(r.value), "u": num(r.u), "c": num(r.c),
                        "contribution": num(r.contribution), "share": num(r.share),
                        "distribution": r.dist, "given": r.text} for r in self.rows],
            "exact": {n: num(v) for n, v in self.exact.items()},
            "correlations": [{"a": a, "b": b, "r": r} for a, b, r in self.correlations],
            "second_order": None if so is None else {
                "u": num(so.u), "mean": num(so.mean), "noticeable": so.noticeable, "note": so.note},
            "mc": None if mc is None else {
                "n": mc.n, "seed": mc.seed, "valid": mc.valid, "outside": mc.outside,
                "outside_error": mc.outside_error, "mean": num(mc.mean), "std": num(mc.std),
                "interval": None if mc.interval is None else [num(mc.interval[0]), num(mc.interval[1])],
                "gum_interval": [num(self.value - self.z * self.u), num(self.value + self.z * self.u)],
                "agrees": mc.agrees, "conclusive": mc.conclusive, "delta": num(mc.delta), "d_low": num(mc.d_low), "d_high": num(mc.d_high),
                "histogram": None if mc.histogram is None else {
                    "edges": [num(e) for e in mc.histogram[0]], "counts": list(mc.histogram[1]),
                    "below": mc.histogram[2], "above": mc.histogram[3]}},
        }

    # -- for people
    def headline(self, precision: int = 6) -> str:
        name = self.name or "value"
        line = f"{name} = {_g(self.value, precision)} ± {_g(self.u, precision)}"
        if self.k != 1:
            line += f"  (U = {_g(self.U, precision)} with k = {_g(self.k, precision)})"
        return line

    HEADER = ("input", "value", "u", "c = ∂f/∂x", "|c|·u", "share")

    def table_rows(self, precision: int = 6) -> list[tuple[str, ...]]:
        return [(r.name, _g(r.value, precision), _g(r.u, precision), _g(r.c, precision),
                 _g(r.contribution, precision), f"{100 * r.share:.1f}%") for r in self.rows]

    def notes(self, precision: int = 6) -> list[str]:
        """Lines under the table: correlations, the second order, Monte Carlo."""
        out = []
        if self.correlations:
            out.append("correlations: " + ", ".join(f"r({a},{b}) = {_g(r, precision)}"
                                                    for a, b, r in self.correlations))
            independent = math.fsum(r.contribution ** 2 for r in self.rows)
            if independent > 0:
                change = self.u ** 2 / independent - 1
                out.append(f"the correlations {'add' if change >= 0 else 'take'} {100 * abs(change):.1f}% "
                           f"{'to' if change >= 0 else 'from'} the variance of independent inputs; "
                           "each share holds half of its pairs' covariance")
        so = self.second_order
        if so is not None and so.note and (so.noticeable or "not defined" in so.note):
            out.append(so.note)
        return out

    def mc_rows(self, precision: int = 6) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
        """The GUM and Monte Carlo figures side by side."""
        mc = self.mc
        so = self.second_order
        header = ["", "GUM"]
        second = so is not None and so.noticeable and so.u is not None
        if second:
            header.append("2nd order")
        header.append("Monte Carlo")
        lo, hi = self.value - self.z * self.u, self.value + self.z * self.u
        pct = f"{100 * self.p:.6g}%"
        rows = [["mean", _g(self.value, precision)], ["u", _g(self.u, precision)],
                [f"{pct} low", _g(lo, precision)], [f"{pct} high", _g(hi, precision)]]
        if second:
            for row, x in zip(rows, (so.mean, so.u, so.mean - self.z * so.u, so.mean + self.z * so.u)):
                row.append(_g(x, precision))
        missing = "-"
        interval = mc.interval or (None, None)
        for row, x in zip(rows, (mc.mean, mc.std, *interval)):
            row.append(missing if x is None else _g(x, precision))
        return tuple(header), [tuple(r) for r in rows]

    def mc_lines(self) -> list[str]:
        mc = self.mc
        out = [f"Monte Carlo: {mc.n:,} samples (seed {mc.seed})"]
        if mc.outside and not mc.valid:
            out.append(f"all {mc.n:,} samples are outside the program's domain ({mc.outside_error})")
        elif mc.outside:
            out.append(f"{mc.outside:,} of {mc.n:,} samples ({100 * mc.outside / mc.n:.3g}%) are outside the "
                       f"program's domain ({mc.outside_error}); the figures are of the other {mc.valid:,}")
        if mc.agrees is None:
            out.append("no verdict: no sample is inside the program's domain")
        elif not mc.conclusive:
            out.append(f"no verdict yet: at {mc.n:,} samples the ends of Monte Carlo's interval are not known "
                       f"to within δ = {_g(mc.delta, 2)} (GUM Supplement 1, 8.2); GUM is off by {_g(mc.d_low, 2)} "
                       f"and {_g(mc.d_high, 2)}: try --mc {_more(mc.n)}")
        elif mc.agrees:
            out.append(f"the GUM's {100 * self.p:.6g}% interval agrees with Monte Carlo's within δ = {_g(mc.delta, 2)} "
                       "(GUM Supplement 1, 8.2)")
        else:
            out.append(f"the GUM's {100 * self.p:.6g}% interval does NOT agree with Monte Carlo's: its ends are off by "
                       f"{_g(mc.d_low, 3)} and {_g(mc.d_high, 3)}, more than δ = {_g(mc.delta, 2)} "
                       "(GUM Supplement 1, 8.2): trust the Monte Carlo figures")
        return out

    def __repr__(self) -> str:
        from .texttable import plain_table

        text = self.headline() + "\n"
        if self.rows:
            text += plain_table(self.HEADER, self.table_rows(), (1, 2, 3, 4, 5))
        text += "".join(line + "\n" for line in self.notes())
        if self.mc is not None:
            header, rows = self.mc_rows()
            text += plain_table(header, rows, tuple(range(1, len(header))))
            text += "".join(line + "\n" for line in self.mc_lines())
        return text.rstrip("\n")

    def _repr_html_(self) -> str:
        from html import escape

        def table(header, rows):
            head = "".join(f"<th>{escape(h)}</th>" for h in header)
            body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
            return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

        parts = [f"<p><b>{escape(self.headline())}</b></p>"]
        if self.rows:
            parts.append(table(self.HEADER, self.table_rows()))
        parts += [f"<p>{escape(line)}</p>" for line in self.notes()]
        if self.mc is not None:
            parts.append(table(*self.mc_rows()))
            parts += [f"<p>{escape(line)}</p>" for line in self.mc_lines()]
            if self.mc.histogram is not None and self.samples is not None:
                parts.append(histogram_svg(self))
        return "\n".join(parts)


def coverage_factor(p: float) -> float:
    """The normal's coverage factor for probability ``p`` (1.959964 for 0.95)."""
    from statistics import NormalDist

    return NormalDist().inv_cdf((1 + p) / 2)


SVG_BINS = 48


def _nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Round numbers between ``lo`` and ``hi`` for an axis: steps of 1, 2 or
    5 times a power of ten, about ``count`` of them."""
    span = hi - lo
    if not span > 0:
        return [lo]
    raw = span / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step)
    return [k * step for k in range(first, math.floor(hi / step) + 1)]


def histogram_svg(budget: "Budget") -> str:
    """The Monte Carlo samples as an SVG picture (``-o FILE.svg``): a
    histogram over the central 99.5 % of the samples, scaled as a density,
    the normal the GUM assumes (value, u) as a curve, and the two 95 %
    intervals (Monte Carlo's solid, the GUM's dashed). Plain SVG, no
    dependency; the same picture in Jupyter."""
    import numpy as np
    from html import escape

    mc = budget.mc
    if mc is None or mc.histogram is None or budget.samples is None:
        raise InputError("no Monte Carlo samples to draw: give --mc N (with samples inside the domain)")
    good = budget.samples[np.isfinite(budget.samples)]
    a, b = mc.histogram[0][0], mc.histogram[0][-1]
    counts, edges = np.histogram(good, bins=SVG_BINS, range=(a, b))
    width, height, left, right, top, bottom = 640, 360, 56, 16, 40, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    density = counts / (len(good) * (edges[1] - edges[0]))
    xs = np.linspace(a, b, 161)
    gum = (np.exp(-0.5 * ((xs - budget.value) / budget.u) ** 2) / (budget.u * math.sqrt(2 * math.pi))
           if budget.u > 0 else np.zeros_like(xs))
    peak = float(max(density.max(), min(gum.max(), 3 * density.max()))) or 1.0

    def x_of(v: float) -> float:
        return left + (v - a) / (b - a) * plot_w

    def y_of(d: float) -> float:
        return top + plot_h - min(d, peak) / peak * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    title = (f"{budget.name or 'value'}: {mc.valid:,} Monte Carlo samples"
             + (f" ({mc.outside:,} outside the domain)" if mc.outside else ""))
    out.append(f'<text x="{left}" y="20" font-size="14">{escape(title)}</text>')
    for d, lo, hi in zip(density, edges, edges[1:]):
        x0, x1 = x_of(lo), x_of(hi)
        out.append(f'<rect class="bar" x="{x0:.2f}" y="{y_of(d):.2f}" width="{x1 - x0:.2f}" '
                   f'height="{top + plot_h - y_of(d):.2f}" fill="#4a78b5" stroke="white" stroke-width="0.5"/>')
    if budget.u > 0:
        points = " ".join(f"{x_of(x):.2f},{y_of(g):.2f}" for x, g in zip(xs, gum))
        out.append(f'<polyline class="gum" points="{points}" fill="none" stroke="#d08c00" stroke-width="2"/>')
    pct = f"{100 * budget.p:.6g}%"
    lines = []
    if mc.interval is not None:
        lines += [(v, "#1d3f6e", "", "mc") for v in mc.interval]
    lines += [(budget.value + s * budget.z * budget.u, "#d08c00", ' stroke-dasharray="5,4"', "gum-interval")
              for s in (-1, 1)]
    for v, colour, dash, cls in lines:
        if a <= v <= b:
            out.append(f'<line class="{cls}" x1="{x_of(v):.2f}" y1="{top}" x2="{x_of(v):.2f}" '
                       f'y2="{top + plot_h}" stroke="{colour}" stroke-width="1.5"{dash}/>')
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="black"/>')
    for t in _nice_ticks(a, b):
        x = x_of(t)
        out.append(f'<line x1="{x:.2f}" y1="{top + plot_h}" x2="{x:.2f}" y2="{top + plot_h + 5}" stroke="black"/>')
        out.append(f'<text x="{x:.2f}" y="{top + plot_h + 18}" text-anchor="middle">{_g(t, 6)}</text>')
    legend = [("#4a78b5", "samples"), ("#d08c00", f"GUM normal and its {pct} interval (dashed)"),
              ("#1d3f6e", f"Monte Carlo {pct} interval")]
    x = left
    for colour, text in legend:
        out.append(f'<rect x="{x}" y="{height - 16}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 14}" y="{height - 7}">{escape(text)}</text>')
        x += 24 + 6.5 * len(text)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _more(n: int) -> int:
    return n * 10


def _g(x: float | None, precision: int = 6) -> str:
    if x is None:
        return "-"
    text = f"{x + 0.0:.{precision}g}"
    return "0" if text in ("-0", "0") else text


# ------------------------------------------------------------------ the pass

def correlation_matrix(names: Sequence[str], quantities: Mapping[str, Quantity],
                       correlations: Sequence[tuple[str, str, float]], leaves: Sequence[str]) -> dict:
    """The correlations of the uncertain inputs ``names`` as ``{(i, j): r}``
    (indices into ``names``, i < j, nonzero r only), checked: every name an
    input with an uncertainty, and the matrix positive semi-definite (the
    eigenvalues of the rows and columns that have a correlation). Sparse:
    1,000 uncertain inputs with no correlation cost nothing here."""
    index = {n: i for i, n in enumerate(names)}
    pairs: dict = {}
    for a, b, rho in correlations:
        for n in (a, b):
            if n not in index:
                if n in quantities and n in leaves:
                    raise InputError(f"--corr {a},{b}: `{printable(n)}` has no uncertainty, so it correlates "
                                     "with nothing", notes=[f"give it one: {n}=VALUE±U"])
                raise InputError(f"--corr {a},{b}: `{printable(n)}` is not an input with an uncertainty",
                                 notes=did_you_mean(n, names) or
                                 ([f"the inputs with an uncertainty are {words([f'`{x}`' for x in names])}"]
                                  if names else ["no input has an uncertainty"]))
        i, j = sorted((index[a], index[b]))
        pairs[(i, j)] = rho                     # the last one given wins
    pairs = {ij: rho for ij, rho in pairs.items() if rho != 0.0}
    involved = sorted({i for ij in pairs for i in ij})
    if len(involved) > 2 or any(abs(rho) > 1 for rho in pairs.values()):
        import numpy as np

        where = {i: k for k, i in enumerate(involved)}
        m = np.eye(len(involved))
        for (i, j), rho in pairs.items():
            m[where[i], where[j]] = m[where[j], where[i]] = rho
        low = float(np.linalg.eigvalsh(m).min())
        if low < -1e-12:
            raise InputError("the correlations are not possible together: their matrix is not positive "
                             f"semi-definite (its smallest eigenvalue is {low:.3g})",
                             notes=["for example r(a,b) = 0.9 and r(b,c) = 0.9 force r(a,c) above 0.6"])
    return pairs


def propagate(graph: Graph, quantities: Mapping[str, Quantity],
              correlations: Sequence[tuple[str, str, float]] = (), k: float | None = None,
              mc: int | None = None, seed: int | None = None, second: bool = True,
              p: float | None = None) -> Budget:
    """The budget of a structured graph (build.structure) at the inputs
    ``quantities`` (every input of the program, exact or not)."""
    if p is not None:
        if k is not None:
            raise InputError("give the coverage factor -k or the coverage probability -p, not both")
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p < 1:
            raise InputError(f"-p {p!r}: the coverage probability is a number between 0 and 1, such as 0.95")
        k = coverage_factor(p)
    elif k is None:
        k = 1.0
    if not (isinstance(k, (int, float)) and math.isfinite(k) and k > 0) or isinstance(k, bool):
        raise InputError(f"-k {k!r}: the coverage factor is a number above 0, such as 2")
    p = P if p is None else float(p)
    if mc is not None and (isinstance(mc, bool) or not isinstance(mc, int) or mc < 1):
        raise InputError(f"--mc {mc!r}: the number of samples is a whole number of 1 or more, such as 100000")
    if mc is not None and mc > MC_MAX:
        raise InputError(f"--mc {mc}: at most {MC_MAX:,} samples (each is kept for the statistics)")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise InputError(f"--seed {seed!r}: a seed is a whole number of 0 or more")
    bind(graph, {n: q.value for n, q in quantities.items()})
    names = [n for n in graph.leaves if n in quantities and not quantities[n].exact]
    r = correlation_matrix(names, quantities, correlations, list(graph.leaves))
    c = _gradients(graph, names)
    u = [quantities[n].u for n in names]
    cu = [c[n] * ui for n, ui in zip(names, u)]
    # each input's part of the variance: (c u)^2, and half of each covariance
    # term 2 r c_i u_i c_j u_j of its pairs, so that the parts add up to u(y)^2
    part = [x * x for x in cu]
    for (i, j), rho in r.items():
        half = rho * cu[i] * cu[j]
        part[i] += half
        part[j] += half
    var = math.fsum([x * x for x in cu] + [2 * rho * cu[i] * cu[j] for (i, j), rho in r.items()])
    uy = math.sqrt(max(var, 0.0))
    rows = [Row(n, quantities[n].value, ui, c[n], abs(x), (mine / var) if var > 0 else 0.0,
                quantities[n].dist, quantities[n].text) for n, ui, x, mine in zip(names, u, cu, part)]
    rows.sort(key=lambda row: -row.contribution)
    uncertain = set(names)
    exact = {n: leaf.data for n, leaf in graph.leaves.items() if n not in uncertain}
    so = None
    if second and names:
        so = _second_order(graph, names, quantities, c, uy, r)
    result = samples = None
    if mc is not None:
        result, samples = _monte_carlo(graph, names, quantities, r, mc, seed, graph.value, uy, p)
        bind(graph, {n: q.value for n, q in quantities.items()})
        _gradients(graph, [])
    budget = Budget(graph.output_name, graph.value, uy, float(k), rows, list(correlations), exact, so, result, p)
    budget.samples = samples
    return budget


def _gradients(graph: Graph, names: list[str]) -> dict[str, float]:
    """Forward, then the gradient with respect to the leaves ``names``: the
    reference loops of engine.py, which raise the DomainError ``grad``
    gives. Not the Graph's flat tape: one pass each way is all this needs,
    and making the flat tape costs more than both (a 10,000-node program:
    about 70 ms against 15)."""
    from .engine import backward, forward, paused_gc

    with paused_gc():
        forward(graph.nodes)
        if not names:
            return {}
        targets = [graph.leaves[n] for n in names]
        for t in targets:
            t.grad = 0.0
        backward(graph.nodes[:graph.output.index + 1], graph.output, targets)
    return {n: t.grad + 0.0 for n, t in zip(names, targets)}


def _second_order(graph: Graph, names: list[str], quantities, c: dict, uy: float,
                  r: dict) -> SecondOrder:
    """The fourth-order Taylor series of the variance (see the module's
    docstring) with Σ the inputs' covariance matrix:

        var = cᵀΣc + ½ tr(HΣHΣ) + (Σc)ᵀ t,    tᵢ = ∂/∂xᵢ Σⱼₖ Σⱼₖ Hⱼₖ

    exact for normal inputs, correlated or not (Isserlis' theorem); plus,
    for each independent uniform or triangular input, the terms of its own
    fourth and third moments. t is one float backward pass over the node
    Σⱼₖ Σⱼₖ Hⱼₖ built on the tape; Tᵢᵢᵢ (for the non-normal inputs only) one
    pass each."""
    n = len(names)
    qs = [quantities[nm] for nm in names]
    skewed = [i for i in range(n) if qs[i].dist != "normal"]
    if r and any(i in skewed for ij in r for i in ij):
        return SecondOrder(None, None, False, "second order: not computed for correlated inputs that are not "
                                              "normal; --mc checks the linearisation")
    if n * len(graph.nodes) > SECOND_ORDER_CELLS:
        return SecondOrder(None, None, False,
                           f"second order: not computed ({n:,} uncertain inputs x {len(graph.nodes):,} "
                           "nodes is too many); --mc checks the linearisation")
    from .engine import backward
    from .symbolic import Tape, evaluate, live

    s2 = [q.u * q.u for q in qs]
    cov = {(i, i): s2[i] for i in range(n)}
    for (i, j), rho in r.items():
        cov[(i, j)] = cov[(j, i)] = rho * qs[i].u * qs[j].u

    def third(node) -> list[float]:
        """d node / d x for every input, by a float backward pass."""
        for leaf in leaves:
            leaf.grad = 0.0
        if node.kind != "const":
            backward(live(tape.nodes, [node]), node, leaves)
        return [leaf.grad + 0.0 for leaf in leaves]

    try:
        tape = Tape()
        copies = tape.copy(graph)
        leaves = [copies[graph.leaves[nm].index] for nm in names]
        firsts = tape.differentiate(copies[graph.output.index], leaves)
        seconds = [tape.differentiate(first, leaves) if first.kind != "const" else [tape.const(0.0)] * n
                   for first in firsts]
        weighted = tape.const(0.0)               # Σⱼₖ Σⱼₖ Hⱼₖ, as a node
        for (j, k), v in cov.items():
            weighted = tape.node("+", weighted, tape.node("*", v, seconds[j][k]))
        evaluate([*firsts, *(h for row in seconds for h in row), weighted])
        H = [[h.data for h in row] for row in seconds]
        t = third(weighted)
        diagonal = {i: third(seconds[i][i])[i] for i in skewed}     # Tᵢᵢᵢ
    except DomainError as e:
        return SecondOrder(None, None, False, f"second order: not defined here ({e.message})")
    cs = [c[nm] for nm in names]
    sigma_c = [math.fsum(v * cs[k] for (j, k), v in cov.items() if j == i) for i in range(n)]
    h_sigma = {}                                # (HΣ)ᵢₖ, sparse in Σ
    for i in range(n):
        for (j, k), v in cov.items():
            if H[i][j]:
                h_sigma[(i, k)] = h_sigma.get((i, k), 0.0) + H[i][j] * v
    terms = [cs[i] * sigma_c[i] for i in range(n)]
    terms += [0.5 * h_sigma.get((i, k), 0.0) * x for (k, i), x in h_sigma.items()]
    terms += [sigma_c[i] * t[i] for i in range(n)]
    for i in skewed:                            # independent, not normal: their own moments
        q = qs[i]
        terms.append(0.25 * (q.kurtosis - 3) * H[i][i] ** 2 * s2[i] ** 2)
        terms.append(cs[i] * H[i][i] * q.skew3)
        terms.append((q.kurtosis / 3 - 1) * cs[i] * diagonal[i] * s2[i] ** 2)
    var2 = math.fsum(terms)
    mean = graph.value + math.fsum([0.5 * H[j][k] * v for (j, k), v in cov.items()]
                                   + [diagonal[i] * qs[i].skew3 / 6 for i in skewed])
    if not math.isfinite(var2) or var2 < 0:
        return SecondOrder(None, None, False, "second order: the fourth-order variance is negative here: "
                                              "the Taylor series is no guide; use --mc")
    u2 = math.sqrt(var2)
    noticeable = abs(u2 - uy) > NOTICEABLE * max(u2, uy)
    shift = abs(mean - graph.value) > NOTICEABLE * max(u2, uy) if max(u2, uy) > 0 else mean != graph.value
    note = ""
    if noticeable or shift:
        change = (f"u = {_g(u2)} instead of {_g(uy)}" if noticeable else f"u = {_g(u2)}")
        note = (f"second order changes the answer: {change}, mean {_g(mean)}; the first-order (linear) "
                "answer is poor here" + ("" if noticeable else " for the mean"))
    return SecondOrder(u2, mean, noticeable or shift, note)


def _monte_carlo(graph: Graph, names: list[str], quantities, r: dict, n: int,
                 seed: int | None, y: float, uy: float, p: float = P) -> tuple:
    import numpy as np

    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (1 << 63))
    # one stream per input and one for the correlated ones: each draws its
    # samples in order, so the samples are the seed's whatever the block size
    streams = [np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(len(names) + 1)]
    qs = [quantities[nm] for nm in names]
    correlated = sorted({i for ij in r for i in ij})
    where = {i: k for k, i in enumerate(correlated)}
    for i in correlated:
        if qs[i].dist != "normal":
            raise InputError(f"--mc with --corr: `{names[i]}` is {qs[i].dist}; correlated inputs must be normal "
                             "(GUM Supplement 1's multivariate normal)")
    mix = None
    if correlated:
        sub = np.diag([qs[i].u ** 2 for i in correlated])
        for (i, j), rho in r.items():
            sub[where[i], where[j]] = sub[where[j], where[i]] = rho * qs[i].u * qs[j].u
        w, v = np.linalg.eigh(sub)
        mix = v * np.sqrt(np.clip(w, 0.0, None))
    uncertain = set(names)
    exact = {nm: leaf.data for nm, leaf in graph.leaves.items() if nm not in uncertain}
    sampler = _sampler()(graph, names, exact)
    sampler.block_size = max(1, min(MC_BLOCK, MC_CELLS // max(1, sampler.peak)))
    values = np.empty(n)
    done = 0
    while done < n:
        rows = min(sampler.block_size, n - done)
        columns = []
        for i, q in enumerate(qs):
            if i in where:
                columns.append(None)                  # drawn together below
            elif q.dist == "normal":
                columns.append(streams[i].normal(q.value, q.u, rows))
            elif q.dist == "uniform":
                columns.append(streams[i].uniform(q.params[0], q.params[1], rows))
            else:
                columns.append(streams[i].triangular(q.params[0], q.params[1], q.params[2], rows))
        if mix is not None:
            z = streams[-1].standard_normal((rows, len(correlated))) @ mix.T
            for k, i in enumerate(correlated):
                columns[i] = qs[i].value + z[:, k]
        block = sampler.run(columns)
        values[done:done + rows] = block.value
        done += rows
    outside = sampler.outside
    good = values[np.isfinite(values)] if outside else values
    valid = len(good)
    error = sampler.first_error
    if not valid:
        return MonteCarlo(n, seed, 0, outside, error, None, None, None, None, False, None, None, None, None), values
    mean = float(good.mean())
    std = float(good.std(ddof=1)) if valid > 1 else 0.0
    tail = (1 - p) / 2
    ordered = _Ordered(good, [tail, 1 - tail, 0.0025, 0.9975], [tail, 1 - tail])
    z = coverage_factor(p)
    lo, hi = _quantile(ordered, tail), _quantile(ordered, 1 - tail)
    scale = uy if uy > 0 else std
    agrees = delta = d_low = d_high = None
    conclusive = False
    if scale > 0:
        ell = math.floor(math.log10(scale)) - 1
        delta = 0.5 * 10.0 ** ell
        d_low = abs(y - z * uy - lo)
        d_high = abs(y + z * uy - hi)
        agrees = d_low <= delta and d_high <= delta
        noise_low, noise_high = _noise(ordered, tail), _noise(ordered, 1 - tail)
        # Supplement 1, 7.9: the Monte Carlo interval is stable when twice the
        # standard deviation of its ends is within delta; a disagreement
        # beyond that noise stands at any number of samples
        conclusive = max(noise_low, noise_high) <= delta or (
            not agrees and (d_low - noise_low > delta or d_high - noise_high > delta))
    else:
        agrees = lo == hi == y
        conclusive = True
    a, b = _quantile(ordered, 0.0025), _quantile(ordered, 0.9975)
    if b > a:
        counts, edges = np.histogram(good, bins=HISTOGRAM_BINS, range=(a, b))
        histogram = (edges.tolist(), counts.tolist(), int(np.count_nonzero(good < a)),
                     int(np.count_nonzero(good > b)))
    else:
        histogram = None
    return MonteCarlo(n, seed, valid, outside, error, mean, std, (lo, hi), agrees, conclusive, delta, d_low,
                      d_high, histogram), values


class _Ordered:
    """The order statistics of samples that ``_quantile`` and ``_noise``
    read for the probabilities ``quantiles`` and ``noises``, from one
    ``np.partition`` (a full sort of 10^6 samples cost 70 ms, this 15).
    Indexing it gives the k-th smallest sample for those k only."""

    def __init__(self, samples, quantiles: Sequence[float], noises: Sequence[float]):
        import numpy as np

        m = self.n = len(samples)
        wanted = set()
        for p in quantiles:
            i = math.floor((m - 1) * p)
            wanted |= {i, min(i + 1, m - 1)}
        for p in noises:
            wanted |= set(_noise_span(m, p))
        self.part = np.partition(samples, sorted(wanted))

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, k: int) -> float:
        return self.part[k]


def _quantile(ordered, p: float) -> float:
    """The ``p`` quantile of sorted samples, interpolated between the two
    nearest (NumPy's default ``linear`` method, without sorting again)."""
    h = (len(ordered) - 1) * p
    i = math.floor(h)
    j = min(i + 1, len(ordered) - 1)
    return float(ordered[i] + (h - i) * (ordered[j] - ordered[i]))


def _noise(ordered, p: float) -> float:
    """About twice the standard error of the ``p`` quantile of sorted
    samples, without assuming their distribution: half the spread of the
    order statistics two binomial standard deviations either side."""
    low, high = _noise_span(len(ordered), p)
    return float(ordered[high] - ordered[low]) / 2


def _noise_span(m: int, p: float) -> tuple[int, int]:
    """The order statistics two binomial standard deviations either side
    of the ``p`` quantile of ``m`` samples."""
    s = 2.0 * math.sqrt(m * p * (1 - p))
    i = p * (m - 1)
    return max(0, math.floor(i - s)), min(m - 1, math.ceil(i + s))


@lru_cache(maxsize=None)
def _sampler():
    """The class below, made on first use: arrays.py (the array engine) is
    imported only by Monte Carlo, not by every ``import gradcli`` (2.5 ms)."""
    from .arrays import Batch

    class _Sampler(Batch):
        """The array engine for Monte Carlo: a point the vector pass finds
        outside the domain is counted (its value NaN), the float engine naming
        the error at the first one; if the float engine finds that point fine
        (the vector pass was too cautious), every suspect point is judged by
        the float engine, as ``--at`` does."""

        def __init__(self, graph: Graph, names: list[str], exact: dict[str, float]):
            super().__init__(graph, names, grads=False, fixed=exact)
            self.outside = 0
            self.first_error: str | None = None
            self.careful = False

        def _recheck(self, columns, rows, value, grads):
            if not self.careful:
                if self.first_error is None:
                    errors = Batch._recheck(self, columns, rows[:1], value, grads)
                    if errors:
                        e, _ = next(iter(errors.values()))
                        self.first_error = _short_error(e)
                    else:
                        self.careful = True
                if not self.careful:
                    value[rows] = math.nan
                    self.outside += len(rows)
                    return {}
            errors = Batch._recheck(self, columns, rows, value, grads)
            for r, (e, _) in errors.items():
                value[r] = math.nan
                if self.first_error is None:
                    self.first_error = _short_error(e)
            self.outside += len(errors)
            return {}

    return _Sampler


def _short_error(e: DomainError) -> str:
    where = f" at {e.pos}" if e.pos is not None else ""
    return f"{e.message}{where}"


# ------------------------------------------------------------------ the library's one call

def uncertainty(program: str, inputs: Mapping[str, object] | None = None, /, *,
                corr: Sequence[tuple[str, str, float]] | Mapping | None = None, k: float | None = None,
                p: float | None = None, mc: int | None = None, seed: int | None = None,
                output: str | None = None, **more: object) -> Budget:
    """The uncertainty budget of a program's output::

        >>> import gradcli
        >>> b = gradcli.uncertainty("A = pi*r**2", pi=3.141592653589793, r="2±0.1")
        >>> round(b.value, 6), round(b.u, 6)
        (12.566371, 1.256637)

    Inputs by keyword (or in the ``inputs`` dict, for names such as ``k``):
    a number is exact; a string is a quantity as on the command line
    (``"2±0.1"``, ``"2+-5%"``, ``"U(1,3)"``); a pair is (value, u).
    ``corr`` is ``[("a", "b", 0.5), ...]`` or ``{("a", "b"): 0.5}``; ``k`` the
    coverage factor, or ``p`` a coverage probability (k from the normal);
    ``mc`` the number of Monte Carlo samples, ``seed`` theirs."""
    from .parse import parse

    given = {**(inputs or {}), **more}
    quantities = {name: quantity(name, v) for name, v in given.items()}
    if corr is None:
        pairs: list = []
    elif isinstance(corr, Mapping):
        pairs = [(a, b, float(r)) for (a, b), r in corr.items()]
    else:
        pairs = [(a, b, float(r)) for a, b, r in corr]
    for a, b, r in pairs:
        if not -1.0 <= r <= 1.0:
            raise InputError(f"the correlation of `{a}` and `{b}` is between -1 and 1, not {r:g}")
    graph = structure(parse(program), output)
    return propagate(graph, quantities, pairs, k, mc, seed, p=p)


class _UncertaintyModule(types.ModuleType):
    """``gradcli.uncertainty`` is this module, and calling it gives the
    budget (``uncertainty``): the package imports it only when it is first
    used (about 9 ms that every other command's start-up would pay), and
    the library's ``gradcli.uncertainty("x*y", x="2±0.1", y=3)`` is the
    function the contract names, as ``gradcli.draw`` is."""

    def __call__(self, *args, **kwargs) -> "Budget":
        return uncertainty(*args, **kwargs)


sys.modules[__name__].__class__ = _UncertaintyModule


__all__ = ["Budget", "MonteCarlo", "Quantity", "Row", "SecondOrder", "histogram_svg", "parse_correlation",
           "parse_quantities", "parse_quantity", "propagate", "uncertainty"]
