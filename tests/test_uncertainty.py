"""The propagation of uncertainty (issue 27, uncertainty.py, `gradcli uncertainty`).

Closed forms; the `uncertainties` package as the oracle for first order with
correlations; the GUM's own worked example H.2 (correlated inputs) with its
figures, and the NIST Uncertainty Machine's examples (thermal expansion,
the Stefan-Boltzmann constant, the gauge block) with their published
results; the second order against exact moments; Monte Carlo against exact
distributions (a linear program: normal; x**2 of a normal: a scaled
chi-square; a sum of uniforms: Irwin-Hall, with GUM Supplement 1's own
figures); the command through real processes, with its errors pinned.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradcli
from gradcli.errors import InputError
from gradcli.uncertainty import parse_correlation, parse_quantity, uncertainty

GRADCLI = os.path.join(os.path.dirname(sys.executable), "gradcli")


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80"}
    return subprocess.run([GRADCLI, *args], capture_output=True, text=True, env=env, input=stdin, timeout=120)


# ------------------------------------------------------------------ bindings

@pytest.mark.parametrize("text,value,u,dist", [
    ("2±0.1", 2.0, 0.1, "normal"),
    ("2+-0.1", 2.0, 0.1, "normal"),
    ("-2.5 ± 1e-3", -2.5, 1e-3, "normal"),
    ("2±5%", 2.0, 0.1, "normal"),
    ("-4+-50%", -4.0, 2.0, "normal"),
    ("2±0", 2.0, 0.0, "exact"),
    ("3", 3.0, 0.0, "exact"),
    ("N(1,0.5)", 1.0, 0.5, "normal"),
    ("U(1,3)", 2.0, 2 / math.sqrt(12), "uniform"),
    ("T(1,3)", 2.0, 1 / math.sqrt(6), "triangular"),            # GUM 4.3.9: a/sqrt(6), half-width a = 1
    ("T(0,1,4)", 5 / 3, math.sqrt((0 + 16 + 1 - 0 - 0 - 4) / 18), "triangular"),
])
def test_quantities(text, value, u, dist):
    q = parse_quantity(text)
    assert q.value == pytest.approx(value, rel=1e-15) and q.u == pytest.approx(u, rel=1e-15) and q.dist == dist


@pytest.mark.parametrize("text,message", [
    ("2±-1", "`x=2±-1`: the uncertainty `-1` is negative"),
    ("2±", "`x=2±`: no uncertainty after `±`: write VALUE±U, such as 2±0.1"),
    ("±0.1", "`x=±0.1`: no value before `±`: write VALUE±U, such as 2±0.1"),
    ("2+-", "`x=2+-`: no uncertainty after `+-`: write VALUE+-U, such as 2+-0.1"),
    ("2±a", "`x=2±a`: the uncertainty `a` is not a number (write numbers such as 2, -3, 0.5 or 1e-3)"),
    ("U(3,1)", "`x=U(3,1)`: the low end 3 is not below the high end 1"),
    ("U(1)", "`x=U(1)`: expected U(LOW,HIGH)"),
    ("T(0,5,4)", "`x=T(0,5,4)`: the mode 5 is not between 0 and 4"),
    ("two", "`x=two`: `two` is not a number or a quantity (write 2, 2±0.1, 2+-0.1, 2±5%, U(1,3) or T(1,3))"),
])
def test_bad_quantities(text, message):
    with pytest.raises(InputError) as e:
        parse_quantity(text, f"x={text}")
    assert e.value.message == message


@pytest.mark.parametrize("text,message", [
    ("a,b=1.5", "--corr `a,b=1.5`: a correlation is between -1 and 1, not 1.5"),
    ("a,b=-1.01", "--corr `a,b=-1.01`: a correlation is between -1 and 1, not -1.01"),
    ("a=0.5", "--corr `a=0.5`: expected A,B=R, such as --corr a,b=0.5"),
    ("a,a=0.5", "--corr `a,a=0.5`: a name is always fully correlated with itself"),
    ("a,b=x", "--corr `a,b=x`: `x` is not a number"),
])
def test_bad_correlations(text, message):
    with pytest.raises(InputError) as e:
        parse_correlation(text)
    assert e.value.message == message


# ------------------------------------------------------------------ closed forms

def test_linear_closed_form_with_correlation():
    b = uncertainty("y = 3*a - 2*c + 1", a="1±0.2", c="4±0.5", corr=[("a", "c", 0.3)])
    var = (3 * 0.2) ** 2 + (2 * 0.5) ** 2 + 2 * 3 * (-2) * 0.3 * 0.2 * 0.5
    assert b.value == -4.0 and b.u == pytest.approx(math.sqrt(var), rel=1e-14)
    assert [r.name for r in b.rows] == ["c", "a"]                       # largest first
    assert [r.c for r in b.rows] == [-2.0, 3.0]
    assert b.rows[0].share == pytest.approx((1.0 + 3 * -2 * 0.3 * 0.2 * 0.5) / var, rel=1e-14)
    assert sum(r.share for r in b.rows) == pytest.approx(1.0, rel=1e-14)


def test_area_of_a_circle():
    b = uncertainty("A = pi*r**2", pi=math.pi, r="2±0.1", k=2)
    assert b.value == pytest.approx(4 * math.pi, rel=1e-15)
    assert b.u == pytest.approx(2 * math.pi * 2 * 0.1, rel=1e-14)
    assert b.U == 2 * b.u and b.k == 2.0
    assert b.exact == {"pi": math.pi}


def test_pendulum_relative_uncertainties_add_in_quadrature():
    b = uncertainty("g = 4*pi2*L/T**2", pi2=9.8696044010893586, L="1.000±0.002", T="2.007±0.005")
    rel = math.hypot(0.002 / 1.0, 2 * 0.005 / 2.007)
    assert b.u / b.value == pytest.approx(rel, rel=1e-13)
    assert [r.name for r in b.rows] == ["T", "L"]
    assert sum(r.share for r in b.rows) == pytest.approx(1.0, rel=1e-14)


def test_relative_and_distributions_give_their_u():
    b = uncertainty("x + y + z", x="10±1%", y="U(-1,1)", z="T(-1,1)")
    assert b.u == pytest.approx(math.sqrt(0.1 ** 2 + 1 / 3 + 1 / 6), rel=1e-14)


def test_no_uncertainty_is_exact():
    b = uncertainty("x*y", x=2, y=3)
    assert (b.value, b.u, b.rows) == (6.0, 0.0, [])


def test_psd_check_and_names():
    with pytest.raises(InputError, match="not positive semi-definite"):
        uncertainty("a+b+c", a="1±1", b="1±1", c="1±1", corr=[("a", "b", 0.9), ("b", "c", 0.9), ("a", "c", -0.9)])
    with pytest.raises(InputError) as e:
        uncertainty("a+b", a="1±1", b="1±1", corr=[("a", "q", 0.5)])
    assert e.value.message == "--corr a,q: `q` is not an input with an uncertainty"
    with pytest.raises(InputError) as e:
        uncertainty("a+b", a="1±1", b=1, corr=[("a", "b", 0.5)])
    assert e.value.message == "--corr a,b: `b` has no uncertainty, so it correlates with nothing"


# ------------------------------------------------------------------ the `uncertainties` package as oracle

unc = pytest.importorskip("uncertainties")
from uncertainties import umath  # noqa: E402

PROGRAMS = [
    ("x*sin(y) + exp(z/3)", lambda x, y, z: x * umath.sin(y) + umath.exp(z / 3)),
    ("sqrt(x**2 + y**2) / z", lambda x, y, z: umath.sqrt(x ** 2 + y ** 2) / z),
    ("log(x)*y - tanh(z*x)", lambda x, y, z: umath.log(x) * y - umath.tanh(z * x)),
    ("a = x*y; b = a/z + x; a*b - atan(y)", lambda x, y, z: (x * y) * ((x * y) / z + x) - umath.atan(y)),
]


@pytest.mark.parametrize("program,oracle", PROGRAMS, ids=[p for p, _ in PROGRAMS])
@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.floats(0.5, 3.0), min_size=3, max_size=3),
       us=st.lists(st.floats(1e-4, 0.2), min_size=3, max_size=3),
       mixing=st.lists(st.floats(-1, 1), min_size=9, max_size=9))
def test_first_order_agrees_with_uncertainties(program, oracle, values, us, mixing):
    a = np.array(mixing).reshape(3, 3) + 2 * np.eye(3)
    cov = a @ a.T
    d = np.sqrt(np.diag(cov))
    r = cov / np.outer(d, d)                       # a random correlation matrix, positive definite
    names = ["x", "y", "z"]
    cov_u = r * np.outer(us, us)
    xs = unc.correlated_values(values, cov_u.tolist())
    expected = oracle(*xs)
    corr = [(names[i], names[j], float(r[i, j])) for i in range(3) for j in range(i + 1, 3)]
    b = uncertainty(program, {n: (v, u) for n, v, u in zip(names, values, us)}, corr=corr)
    assert b.value == pytest.approx(expected.nominal_value, rel=1e-13)
    assert b.u == pytest.approx(expected.std_dev, rel=1e-9, abs=1e-15)


# ------------------------------------------------------------------ a published example

def test_gum_annex_h2_correlated_inputs():
    """JCGM 100:2008 (the GUM), Annex H.2, "Simultaneous resistance and
    reactance measurement": five sets of V, I and phi (Table H.2); their
    means, the standard deviations of the means and their correlation
    coefficients give, by the law of propagation with correlations (H.2.3,
    Table H.3): R = 127.732 ohm, u(R) = 0.071 ohm; X = 219.847 ohm,
    u(X) = 0.295 ohm; Z = 254.260 ohm, u(Z) = 0.236 ohm. The GUM prints
    the u to three decimals (our 0.29558 prints as 0.296: within 0.001)."""
    V = np.array([5.007, 4.994, 5.005, 4.990, 4.999])
    I = np.array([19.663, 19.639, 19.640, 19.685, 19.678]) / 1000
    phi = np.array([1.0456, 1.0438, 1.0468, 1.0428, 1.0433])
    r = np.corrcoef([V, I, phi])
    assert [round(r[0, 1], 2), round(r[0, 2], 2), round(r[1, 2], 2)] == [-0.36, 0.86, -0.65]   # H.2.2
    inputs = {n: (float(x.mean()), float(x.std(ddof=1) / math.sqrt(5))) for n, x in (("V", V), ("I", I), ("phi", phi))}
    corr = [("V", "I", r[0, 1]), ("V", "phi", r[0, 2]), ("I", "phi", r[1, 2])]
    for program, value, u in [("R = V/I*cos(phi)", 127.732, 0.071), ("X = V/I*sin(phi)", 219.847, 0.295),
                              ("Z = V/I + 0*phi", 254.260, 0.236)]:
        b = uncertainty(program, inputs, corr=corr)
        assert b.value == pytest.approx(value, abs=0.0005), program
        assert b.u == pytest.approx(u, abs=0.001), program


# ------------------------------------------------------------------ second order

def test_square_at_zero_is_chi_square():
    b = uncertainty("x**2", x="0±1")
    assert b.u == 0.0
    so = b.second_order
    assert so.u == pytest.approx(math.sqrt(2), rel=1e-15) and so.mean == 1.0 and so.noticeable
    assert so.note.startswith("second order changes the answer: u = 1.41421 instead of 0, mean 1")


def test_second_order_exact_for_quadratics():
    mu, s = 3.0, 0.7
    b = uncertainty("x**2", x=f"{mu}±{s}")
    assert b.second_order.u ** 2 == pytest.approx(4 * mu * mu * s * s + 2 * s ** 4, rel=1e-14)
    b = uncertainty("x**2", x="U(-1,1)")         # E[x^4] - E[x^2]^2 = 1/5 - 1/9
    assert b.second_order.u ** 2 == pytest.approx(4 / 45, rel=1e-14)
    b = uncertainty("x*y", x="2±0.3", y="-1±0.5")     # mu_x^2 s_y^2 + mu_y^2 s_x^2 + s_x^2 s_y^2
    assert b.second_order.u ** 2 == pytest.approx(4 * 0.25 + 0.09 + 0.09 * 0.25, rel=1e-14)


def test_second_order_uses_exact_third_derivatives():
    # exp of a normal: var = e^(2mu) (s^2 + 1.5 s^4 + O(s^6)); the fourth-order series exactly
    mu, s = 0.3, 0.1
    b = uncertainty("exp(x)", x=f"{mu}±{s}")
    assert b.second_order.u ** 2 == pytest.approx(math.exp(2 * mu) * (s ** 2 + 1.5 * s ** 4), rel=1e-14)
    assert not b.second_order.noticeable and b.second_order.note == ""
    # x^2 y of independent normals: the exact variance less its one sixth-order term 3 s_x^4 s_y^2
    mx, sx, my, sy = 1.5, 0.2, 2.0, 0.3
    b = uncertainty("x**2*y", x=f"{mx}±{sx}", y=f"{my}±{sy}")
    exact = (mx ** 4 + 6 * mx ** 2 * sx ** 2 + 3 * sx ** 4) * (my ** 2 + sy ** 2) - (mx ** 2 + sx ** 2) ** 2 * my ** 2
    assert b.second_order.u ** 2 == pytest.approx(exact - 3 * sx ** 4 * sy ** 2, rel=1e-14)
    assert b.second_order.mean == pytest.approx(mx * mx * my + sx * sx * my, rel=1e-15)


def test_second_order_skipped_with_reasons():
    assert uncertainty("x*y", x="U(0,1)", y="1±1", corr=[("x", "y", 0.5)]).second_order.note == (
        "second order: not computed for correlated inputs that are not normal; --mc checks the linearisation")
    assert uncertainty("x**1.5 + x", x="0±1").second_order.note == (
        "second order: not defined here (division by zero: zero to a negative power: `0 ** (-0.5)`)")


# ------------------------------------------------------------------ Monte Carlo

def normal_cdf(x, mu, s):
    return 0.5 * (1 + math.erf((x - mu) / (s * math.sqrt(2))))


def ks_statistic(samples, cdf) -> float:
    xs = np.sort(samples)
    n = len(xs)
    f = np.array([cdf(x) for x in xs])
    return float(max((np.arange(1, n + 1) / n - f).max(), (f - np.arange(0, n) / n).max()))


def test_mc_linear_is_normal():
    n = 200_000
    b = uncertainty("y = 2*a - b + 1", a="1±0.3", b="2±0.8", mc=n, seed=7)
    mu, s = 1.0, 1.0            # u = 1.0: delta = 0.05, and 2e5 samples know the ends to about 0.012
    mc = b.mc
    assert (mc.n, mc.valid, mc.outside, mc.seed) == (n, n, 0, 7)
    assert abs(mc.mean - mu) < 5 * s / math.sqrt(n)
    assert abs(mc.std - s) < 5 * s / math.sqrt(2 * n)
    assert mc.interval[0] == pytest.approx(mu - 1.959964 * s, abs=0.02) and \
        mc.interval[1] == pytest.approx(mu + 1.959964 * s, abs=0.02)
    assert ks_statistic(b.samples[:20_000], lambda x: normal_cdf(x, mu, s)) < 1.63 / math.sqrt(20_000)  # 1% level
    assert mc.agrees is True and mc.conclusive
    assert b.mc_lines()[1] == "the GUM's 95% interval agrees with Monte Carlo's within δ = 0.05 (GUM Supplement 1, 8.2)"
    # u = 0.72: delta = 0.005, finer than 2e5 samples know the interval's ends: no verdict yet
    b = uncertainty("y = 2*a - b + 1", a="1±0.3", b="2±0.4", mc=n, seed=7)
    assert b.mc.conclusive is False and b.mc_lines()[1].startswith("no verdict yet: at 200,000 samples")


def test_mc_correlated_normals():
    b = uncertainty("a + c", a="0±1", c="0±2", corr=[("a", "c", 0.5)], mc=200_000, seed=3)
    exact = math.sqrt(1 + 4 + 2 * 0.5 * 2)
    assert b.u == pytest.approx(exact, rel=1e-15)
    assert abs(b.mc.std - exact) < 5 * exact / math.sqrt(2 * 200_000)


def test_mc_square_of_a_normal_is_scaled_chi_square():
    """x ~ N(0, s^2): x^2/s^2 ~ chi-square with one degree of freedom, whose
    CDF is erf(sqrt(t/2)); mean s^2, std sqrt(2) s^2."""
    s, n = 0.5, 200_000
    b = uncertainty("x**2", x=f"0±{s}", mc=n, seed=11)
    mc = b.mc
    assert abs(mc.mean - s * s) < 5 * math.sqrt(2) * s * s / math.sqrt(n)
    assert mc.std == pytest.approx(math.sqrt(2) * s * s, rel=0.02)
    assert ks_statistic(b.samples[:20_000], lambda t: math.erf(math.sqrt(max(t, 0) / s / s / 2))) < 1.63 / math.sqrt(20_000)
    assert mc.agrees is False and mc.conclusive                 # the GUM's interval is the point 0
    assert "NOT agree" in repr(b)


def irwin_hall_quantile(p: float, n: int = 4) -> float:
    """The p quantile of a sum of n uniforms on (0, 1), by bisection of its
    exact CDF (1/n!) sum_k (-1)^k C(n,k) (x-k)^n."""
    def cdf(x):
        return sum((-1) ** k * math.comb(n, k) * (x - k) ** n for k in range(int(x) + 1)) / math.factorial(n)
    lo, hi = 0.0, float(n)
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < p else (lo, mid)
    return lo


def test_mc_sum_of_uniforms_gum_supplement_9_2_3():
    """GUM Supplement 1 (JCGM 101:2008) 9.2.3: the additive model
    X1+X2+X3+X4 with rectangular inputs of expectation 0 and u = 1: u(y) = 2
    and the 95 % coverage interval [-3.88, 3.88] (Table 3); exactly, the
    Irwin-Hall quantile scaled by 2*sqrt(3)."""
    a = math.sqrt(3)
    end = 2 * a * irwin_hall_quantile(0.975) - 4 * a
    assert round(end, 2) == 3.88
    b = uncertainty("x1+x2+x3+x4", **{f"x{i}": f"U({-a},{a})" for i in range(1, 5)}, mc=400_000, seed=5)
    assert b.u == pytest.approx(2.0, rel=1e-15)
    lo, hi = b.mc.interval
    assert lo == pytest.approx(-end, abs=0.02) and hi == pytest.approx(end, abs=0.02)
    assert b.samples.min() >= -4 * a and b.samples.max() <= 4 * a


def test_mc_triangular_and_seed():
    b1 = uncertainty("t", t="T(1,2,4)", mc=100_000, seed=1)
    b2 = uncertainty("t", t="T(1,2,4)", mc=100_000, seed=1)
    b3 = uncertainty("t", t="T(1,2,4)", mc=100_000, seed=2)
    assert b1.mc == b2.mc and b1.mc.mean != b3.mc.mean
    assert b1.samples.min() >= 1 and b1.samples.max() <= 4
    assert abs(b1.mc.mean - 7 / 3) < 5 * b1.u / math.sqrt(100_000)
    mode_cdf = (2 - 1) / (4 - 1)                        # the CDF at the mode
    assert np.mean(b1.samples <= 2) == pytest.approx(mode_cdf, abs=0.01)


def test_mc_outside_the_domain_is_counted():
    n = 100_000
    b = uncertainty("sqrt(x)", x="0.1±1", mc=n, seed=4)
    mc = b.mc
    expected = n * normal_cdf(0, 0.1, 1)
    assert abs(mc.outside - expected) < 5 * math.sqrt(n * 0.46 * 0.54)
    assert mc.outside == int(np.isnan(b.samples).sum()) and mc.valid == n - mc.outside
    assert mc.outside_error.startswith("sqrt needs a number that is not negative: `sqrt(-")
    assert mc.outside_error.endswith("` at 1:1")
    assert float(np.nanmin(b.samples)) >= 0


def test_mc_everything_outside():
    b = uncertainty("log(1 - step(abs(x)))", x="0±1", mc=1000, seed=1)     # defined at 0 alone
    assert b.mc.valid == 0 and b.mc.outside == 1000 and b.mc.mean is None and b.mc.agrees is None
    assert b.mc_lines()[1:] == ["all 1,000 samples are outside the program's domain "
                                "(log needs a positive number: `log(0)` at 1:1)",
                                "no verdict: no sample is inside the program's domain"]


def test_mc_needs_normal_for_correlations_and_positive_n():
    with pytest.raises(InputError, match="correlated inputs must be normal"):
        uncertainty("a+b", a="U(0,1)", b="0±1", corr=[("a", "b", 0.5)], mc=10)
    with pytest.raises(InputError) as e:
        uncertainty("a", a="0±1", mc=0)
    assert e.value.message == "--mc 0: the number of samples is a whole number of 1 or more, such as 100000"


# ------------------------------------------------------------------ the library and the notebook

def test_library_and_html():
    b = gradcli.uncertainty("A = pi*r**2", pi=3.141592653589793, r="2±0.1")
    assert (round(b.value, 6), round(b.u, 6)) == (12.566371, 1.256637)
    html = b._repr_html_()
    assert html.startswith("<p><b>A = 12.5664 ± 1.25664</b></p>")
    assert "<th>input</th>" in html and "<td>r</td><td>2</td><td>0.1</td><td>12.5664</td><td>1.25664</td><td>100.0%</td>" in html
    assert repr(b).splitlines()[0] == "A = 12.5664 ± 1.25664"
    # a program input named like an option goes in the dict
    assert gradcli.uncertainty("k*x", {"k": "2±0.1"}, x=3, k=2).U == pytest.approx(2 * 0.3, rel=1e-15)


# ------------------------------------------------------------------ the command

PENDULUM = ["g = 4*pi2*L/T**2", "pi2=9.8696044010893586", "L=1.000±0.002", "T=2.007±0.005"]


def test_cli_pipe_is_value_tab_u():
    r = run("uncertainty", *PENDULUM)
    b = uncertainty(PENDULUM[0], pi2=9.8696044010893586, L="1.000±0.002", T="2.007±0.005")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == f"{b.value!r}\t{b.u!r}\n"
    assert run("unc", *PENDULUM).stdout == r.stdout                   # the short alias


def test_cli_json_has_everything():
    r = run("uncertainty", "R = V/I", "V=5+-0.1", "I=0.1+-1%", "--corr", "V,I=0.5", "-k", "2", "--mc", "1000",
            "--seed", "3", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["value"] == 50.0 and out["k"] == 2.0 and out["U"] == 2 * out["u"]
    assert out["u"] == pytest.approx(math.sqrt(1 + 0.25 - 2 * 0.5 * 1 * 0.5), rel=1e-14)
    assert [row["name"] for row in out["budget"]] == ["V", "I"]
    assert set(out["budget"][0]) >= {"name", "value", "u", "c", "contribution", "share"}
    assert out["correlations"] == [{"a": "V", "b": "I", "r": 0.5}]
    assert out["mc"]["n"] == 1000 and out["mc"]["seed"] == 3 and len(out["mc"]["interval"]) == 2
    assert out["mc"]["agrees"] in (True, False) and "second_order" in out


def test_cli_table_shows_budget_second_order_and_histogram():
    r = run("uncertainty", "x**2", "x=0±1", "--mc", "20000", "--seed", "1", "--table")
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert text.splitlines()[0] == "value = 0 ± 0"
    assert "c = ∂f/∂x" in text and "second order changes the answer" in text
    assert "Monte Carlo: 20,000 samples (seed 1)" in text and "NOT agree" in text
    assert "samples: █   GUM normal: │" in text and "█" * 20 in text
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.parametrize("args,message", [
    (["x", "x=2±-1"], "error: `x=2±-1`: the uncertainty `-1` is negative\n"
                      "  = note: an uncertainty is a standard deviation: zero or more\n"),
    (["x", "x=2±"], "error: `x=2±`: no uncertainty after `±`: write VALUE±U, such as 2±0.1\n"),
    (["x", "x=±0.1"], "error: `x=±0.1`: no value before `±`: write VALUE±U, such as 2±0.1\n"),
    (["x+y", "x=1±1", "y=1±1", "--corr", "x,y=2"], "error: --corr `x,y=2`: a correlation is between -1 and 1, not 2\n"),
    (["x", "x=1±1", "--mc", "0"], "error: --mc 0: the number of samples is a whole number of 1 or more, "
                                  "such as 100000\n"),
    (["x+y", "x=1±1", "y=1±1", "--corr", "x,z=0.5"], "error: --corr x,z: `z` is not an input with an uncertainty\n"
                                                     "  = note: the inputs with an uncertainty are `x` and `y`\n"),
    (["x", "x=1±1", "-k", "0"], "error: -k 0.0: the coverage factor is a number above 0, such as 2\n"),
    (["x", "x=2", "±", "1"], "error: `±` is not a binding: write each VALUE±U as one word, without spaces, "
                            "such as x=2±0.1\n"),
    (["x", "x=1±1", "--mc", "10", "--seed", "-1"], "error: --seed -1: a seed is a whole number of 0 or more\n"),
    (["x", "x=1±1", "--mc", "1000000000"], "error: --mc 1000000000: at most 100,000,000 samples "
                                           "(each is kept for the statistics)\n"),
])
def test_cli_bad_input_exits_2(args, message):
    r = run("uncertainty", *args)
    assert (r.returncode, r.stdout, r.stderr) == (2, "", message)


def test_cli_domain_error_exits_1():
    r = run("uncertainty", "sqrt(x)", "x=-1±0.1")
    assert r.returncode == 1 and r.stdout == "" and r.stderr.startswith("math error: sqrt needs")


def test_fast_front_door_hands_over():
    from gradcli.cli_fast import plan

    assert plan(["uncertainty", "x", "x=1±1"]) is None and plan(["unc", "x", "x=1±1"]) is None


def test_coverage_probability():
    b = uncertainty("x", x="1±2", p=0.99)
    assert b.k == pytest.approx(2.5758293035489004, rel=1e-12) and b.U == pytest.approx(2 * b.k, rel=1e-15)
    b = uncertainty("y = 2*a - b + 1", a="1±0.3", b="2±0.8", p=0.9, mc=200_000, seed=7)
    lo, hi = b.mc.interval
    assert lo == pytest.approx(1 - 1.6448536269514722, abs=0.02) and hi == pytest.approx(1 + 1.6448536269514722, abs=0.02)
    assert b.as_dict()["mc"]["gum_interval"] == pytest.approx([1 - 1.6448536269514722, 1 + 1.6448536269514722])
    assert b.mc_rows()[1][2][0] == "90% low"
    with pytest.raises(InputError, match="not both"):
        uncertainty("x", x="1±2", p=0.9, k=2)


def test_cli_program_from_a_file_and_stdin(tmp_path):
    program = tmp_path / "pendulum.grad"
    program.write_text("# a pendulum\npi2 = 9.8696044010893586\ng = 4*pi2*L/T**2\n")
    r = run("uncertainty", "-f", str(program), "L=1.000±0.002", "T=2.007±0.005")
    expected = run("uncertainty", *PENDULUM).stdout
    assert (r.returncode, r.stdout) == (0, expected)
    r = run("unc", "-", "L=1.000±0.002", "T=2.007±0.005", "pi2=9.8696044010893586", stdin="g = 4*pi2*L/T**2\n")
    assert (r.returncode, r.stdout) == (0, expected)
    r = run("unc", "y = x*2; z = y + 1", "x=1±0.1", "--of", "y")
    assert r.stdout == "2.0\t0.2\n"


@pytest.mark.parametrize("n", [1, 2, 1000, 1001])
def test_quantiles_are_numpys(n):
    import sys

    module = sys.modules["gradcli.uncertainty"]
    x = np.sort(np.random.default_rng(n).standard_normal(n))
    for p in (0.0025, 0.025, 0.5, 0.975, 0.9975):
        assert module._quantile(x, p) == pytest.approx(float(np.quantile(x, p)), rel=1e-15, abs=1e-300)


def test_stefan_boltzmann_constant_codata_2010():
    """The Stefan-Boltzmann constant from the CODATA 2010 values of the
    constants it is computed from: sigma = 2 pi^5 k^4 / (15 h^3 c^2) with
    k = R/N_A and N_A = Ar(e) M_u c alpha^2 / (2 R_inf h), that is
    32 pi^5 h R^4 R_inf^4 / (15 Ar(e)^4 M_u^4 c^6 alpha^8). CODATA 2010
    (Mohr, Taylor, Newell, Rev. Mod. Phys. 84, 1527 (2012)) gives
    h = 6.62606957(29)e-34, R = 8.3144621(75), R_inf = 10973731.568539(55),
    Ar(e) = 5.4857990946(22)e-4, alpha = 7.2973525698(24)e-3, and
    sigma = 5.670373(21)e-8. Computed from the rounded inputs, without the
    adjustment's correlations, gradcli's figures agree to a twentieth of u
    and u to 3 % (R's uncertainty is almost all of it: sigma goes with R^4)."""
    b = uncertainty("32*pi**5*h*R**4*Rinf**4 / (15*Ae**4*Mu**4*c**6*alpha**8)",
                    pi=math.pi, h="6.62606957e-34±0.00000029e-34", R="8.3144621±0.0000075",
                    Rinf="10973731.568539±0.000055", Ae="5.4857990946e-4±0.0000000022e-4", Mu=0.001,
                    c=299792458, alpha="7.2973525698e-3±0.0000000024e-3")
    assert abs(b.value - 5.670373e-8) < 0.05 * 0.000021e-8
    assert b.u == pytest.approx(0.000021e-8, rel=0.03)
    assert b.rows[0].name == "R" and b.rows[0].share > 0.99


# ------------------------------------------------------------------ the NIST Uncertainty Machine's examples
#
# The inputs are the NIST Uncertainty Machine's own example files
# (github.com/usnistgov/NIST-Uncertainty-Machine, conf/config-Thermal.um,
# config-Stefan.um, config-Gauge.um: the examples of its user's manual,
# T. Lafarge and A. Possolo, "NIST Uncertainty Machine - User's Manual").
# The manual's text itself could not be read here; the published results are
# as quoted, with the tolerances of their printed digits, by Sandia's
# uncertainty calculator's test suite (github.com/sandialabs/suncal,
# test/test_uncertainty.py: test_NIST6, "Example E13 - Thermal Expansion
# Coefficient from NIST.TN.1900 ... same sigfigs as NIST NUM calculator";
# test_NIST10, "Example 10 (Stefan-Boltzmann Const) from NIST calculator
# manual"; test_GUMH1, the GUM's H.1 end gauge).

def test_nist_uncertainty_machine_thermal_expansion():
    """NIST TN 1900 (A. Possolo, 2015), Example E13, as the NUM runs it
    (config-Thermal.um): alpha = (L1 - L0) / (L0 (T1 - T0)) with L0 =
    1.4999 m, u 0.0001; T0 = 288.15 K, u 0.02; L1 = 1.5021 m, u 0.0002;
    T1 = 373.10 K, u 0.05. Gauss's formula: 1.7266e-5 /K, u 1.76e-6 /K.
    (The NUM's inputs are Student t with 3 degrees of freedom: first order
    does not depend on the shape; its Monte Carlo does, so it is not
    compared.)"""
    b = uncertainty("alpha = (L1 - L0) / (L0*(T1 - T0))", L0="1.4999±0.0001", T0="288.15±0.02",
                    L1="1.5021±0.0002", T1="373.10±0.05")
    assert b.value == pytest.approx(1.7266e-5, abs=0.00005e-5)
    assert b.u == pytest.approx(1.76e-6, abs=0.005e-6)
    assert [r.name for r in b.rows][:2] == ["L1", "L0"]       # the lengths are the budget


def test_nist_uncertainty_machine_stefan_boltzmann_with_coverage_intervals():
    """The NUM's Stefan-Boltzmann example (config-Stefan.um, the CODATA 2010
    inputs, written as the NUM writes it: N / D): Gauss's formula gives
    5.67037e-8, u 2.05e-13; Monte Carlo's 99 % interval is
    [5.67032e-8, 5.67043e-8] and its 68 % interval [5.67035e-8, 5.67039e-8]
    (each end to its printed digits plus the sampling noise of 10^6 draws,
    well under one printed digit here)."""
    program = ("N = 32 * pi**5 * h * R**4 * Rinf**4\n"
               "D = 15 * e**4 * (1e-3)**4 * 299792458**6 * alpha**8\n"
               "sigma = N / D")
    inputs = dict(pi=math.pi, h="6.62606957e-34±0.00000029e-34", R="8.3144621±0.0000075",
                  Rinf="10973731.568539±0.000055", e="5.4857990946e-4±0.0000000022e-4",
                  alpha="7.2973525698e-3±0.0000000024e-3")
    b = uncertainty(program, inputs, mc=10**6, seed=5, p=0.99)
    assert b.value == pytest.approx(5.67037e-8, abs=0.000005e-8)
    assert b.u == pytest.approx(2.05e-13, abs=0.005e-13)
    lo, hi = b.mc.interval
    assert lo == pytest.approx(5.67032e-8, abs=0.000006e-8) and hi == pytest.approx(5.67043e-8, abs=0.000006e-8)
    lo, hi = uncertainty(program, inputs, mc=10**6, seed=5, p=0.68).mc.interval
    assert lo == pytest.approx(5.67035e-8, abs=0.000006e-8) and hi == pytest.approx(5.67039e-8, abs=0.000006e-8)


def test_nist_uncertainty_machine_gauge_block():
    """The NUM's gauge example (config-Gauge.um) is the GUM's H.1 end gauge,
    in nm: l = lS + d - lS (d_alpha theta + alpha_S d_theta), lS =
    50000623 ± 25, d = 215 ± 9.7, d_alpha = 0 ± 0.58e-6, theta = -0.1 ± 0.41,
    alpha_S = 11.5e-6 ± 1.2e-6, d_theta = 0 ± 0.029. First order: u = 32 nm
    (the GUM's H.1 figure). l itself is lS + d, since d_alpha = d_theta = 0.
    Two products of inputs at 0 make the linearisation poor: the second
    order says so, and Monte Carlo agrees with it, not with 32."""
    b = uncertainty("l = lS + d - lS*(dalpha*theta + alphaS*dtheta)", lS="50000623±25", d="215±9.7",
                    dalpha="0±0.58e-6", theta="-0.1±0.41", alphaS="11.5e-6±1.2e-6", dtheta="0±0.029",
                    mc=200_000, seed=5)
    assert b.value == 50000838.0
    assert b.u == pytest.approx(32, abs=0.5)
    # to fourth order the variance adds (lS u(d_alpha) u(theta))^2 + (lS u(alpha_S) u(d_theta))^2: the products
    lS = 50000623
    exact = math.sqrt(b.u ** 2 + (lS * 0.58e-6 * 0.41) ** 2 + (lS * 1.2e-6 * 0.029) ** 2)
    assert b.second_order.noticeable and b.second_order.u == pytest.approx(exact, rel=1e-9)
    assert b.mc.std == pytest.approx(exact, rel=0.01)


def test_mc_log_of_a_uniform_exact_moments():
    """y = log(x), x uniform on [0.1, 1.1]: the GUM gives log(0.6) and
    u = (1/0.6)/sqrt(12); the exact mean is the integral of log over the
    interval, [x log x - x], and E[y^2] is [x (log x)^2 - 2 x log x + 2 x]."""
    def f1(x):
        return x * math.log(x) - x

    def f2(x):
        return x * math.log(x) ** 2 - 2 * x * math.log(x) + 2 * x

    mean = f1(1.1) - f1(0.1)
    std = math.sqrt(f2(1.1) - f2(0.1) - mean ** 2)
    assert (round(mean, 3), round(std, 3)) == (-0.665, 0.606)
    n = 200_000
    b = uncertainty("log(x)", x="U(0.1,1.1)", mc=n, seed=9)
    assert b.value == pytest.approx(math.log(0.6), rel=1e-15) and b.u == pytest.approx(1 / 0.6 / math.sqrt(12), rel=1e-14)
    assert abs(b.mc.mean - mean) < 5 * std / math.sqrt(n)
    assert b.mc.std == pytest.approx(std, rel=0.01)
    assert b.mc.agrees is False and b.mc.conclusive
    assert ks_statistic(b.samples[:20_000], lambda y: (min(max(math.exp(y), 0.1), 1.1) - 0.1)) < 1.63 / math.sqrt(20_000)


def test_svg_histogram(tmp_path):
    import xml.etree.ElementTree as ET

    from gradcli.uncertainty import SVG_BINS, histogram_svg

    b = uncertainty("R = V/I", V="5±0.05", I="0.1±0.004", mc=50_000, seed=3)
    root = ET.fromstring(histogram_svg(b))
    ns = {"s": "http://www.w3.org/2000/svg"}
    bars = [r for r in root.iterfind("s:rect", ns) if r.get("class") == "bar"]
    assert len(bars) == SVG_BINS
    heights = [float(r.get("height")) for r in bars]
    lo, hi = b.mc.histogram[0][0], b.mc.histogram[0][-1]
    counts, _ = np.histogram(b.samples, bins=SVG_BINS, range=(lo, hi))
    assert int(np.argmax(heights)) == int(np.argmax(counts))
    assert heights == pytest.approx((counts / counts.max() * max(heights)).tolist(), abs=0.02)
    mc_lines = sorted(float(line.get("x1")) for line in root.iterfind("s:line", ns) if line.get("class") == "mc")
    x_of = [56 + (v - lo) / (hi - lo) * (640 - 56 - 16) for v in b.mc.interval]
    assert mc_lines == pytest.approx(x_of, abs=0.01)
    assert root.find("s:polyline", ns).get("class") == "gum"
    assert "<svg" in b._repr_html_()                              # the notebook shows it too
    out = tmp_path / "r.svg"
    r = run("unc", "R = V/I", "V=5±0.05", "I=0.1±0.004", "--mc", "50000", "--seed", "3", "-o", str(out))
    assert r.returncode == 0 and out.read_text() == histogram_svg(b)
    for args, message in [(["-o", str(tmp_path / "a.svg")], "give --mc N too"),
                          (["--mc", "10", "-o", str(tmp_path / "a.png")], "name a .svg file")]:
        r = run("unc", "x", "x=1±1", *args)
        assert r.returncode == 2 and message in r.stderr
    assert not (tmp_path / "a.svg").exists() and not (tmp_path / "a.png").exists()


def test_docs_picture_is_what_the_command_draws():
    from tests.conftest import ROOT

    from gradcli.uncertainty import histogram_svg

    b = uncertainty("R = V/I", V="5±0.05", I="0.1±0.004", mc=100_000, seed=3)
    assert (ROOT / "docs" / "uncertainty_mc.svg").read_text() == histogram_svg(b)


def test_notebook_magic():
    from gradcli.notebook import run as cell

    r = cell("uncertainty x=2±0.1 --mc 1000 --seed 1", "y = x**2")
    assert (r.value, r.u) == (4.0, pytest.approx(0.4, rel=1e-15))
    assert r.budget.mc.n == 1000 and r.text.startswith("y = 4 ± 0.4\n")
    assert "Monte Carlo: 1,000 samples (seed 1)" in r.text and "<span" in r.html


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.eE+-±%()NUT, x", max_size=14))
def test_any_quantity_text_is_a_quantity_or_an_input_error(text):
    try:
        q = parse_quantity(text, f"x={text}")
    except InputError:
        return
    assert math.isfinite(q.value) and math.isfinite(q.u) and q.u >= 0


def test_no_uncertainty_anywhere_with_monte_carlo():
    b = uncertainty("x*2", x=3, mc=100, seed=1)
    assert (b.u, b.mc.mean, b.mc.std, b.mc.agrees) == (0.0, 6.0, 0.0, True)


def test_mc_too_cautious_vector_pass_is_judged_by_the_float_engine():
    # every point's op values sum past the largest float (the array engine's
    # quick test flags them all), yet each is fine in the float engine
    b = uncertainty("a = x*1e308; c = x*1e308; a - c + x", x="1±0.01", mc=2000, seed=1)
    assert b.mc.outside == 0 and b.mc.valid == 2000 and not np.isnan(b.samples).any()
    assert b.mc.std == pytest.approx(0.01, rel=0.1)


def test_second_order_correlated_product_is_exact():
    """X, Y bivariate normal with correlation rho: Var(XY) = mx^2 sy^2 +
    my^2 sx^2 + 2 mx my rho sx sy + sx^2 sy^2 (1 + rho^2), E[XY] = mx my +
    rho sx sy (Isserlis)."""
    mx, sx, my, sy, rho = 2.0, 0.3, -1.0, 0.5, -0.6
    b = uncertainty("x*y", x=f"{mx}±{sx}", y=f"{my}±{sy}", corr=[("x", "y", rho)])
    exact = mx * mx * sy * sy + my * my * sx * sx + 2 * mx * my * rho * sx * sy + sx * sx * sy * sy * (1 + rho * rho)
    assert b.second_order.u ** 2 == pytest.approx(exact, rel=1e-14)
    assert b.second_order.mean == pytest.approx(mx * my + rho * sx * sy, rel=1e-14)


@settings(max_examples=30, deadline=None)
@given(rho=st.floats(-0.95, 0.95), sx=st.floats(0.05, 0.5), sy=st.floats(0.05, 0.5))
def test_second_order_correlated_equals_independent_reparametrised(rho, sx, sy):
    """The fourth-order series is the same whether the inputs are correlated
    normals x, y or written through independent standard normals u, v
    (x = mx + sx u, y = my + sy (rho u + sqrt(1 - rho^2) v)): a check of the
    third-derivative term with correlations."""
    program = "x**2*y + sin(x*y)"
    mx, my = 1.2, -0.7
    b = uncertainty(program, x=f"{mx}±{sx}", y=f"{my}±{sy}", corr=[("x", "y", rho)])
    a = math.sqrt(1 - rho * rho)
    b2 = uncertainty(f"x = {mx} + {sx}*u; y = {my} + {sy}*({rho}*u + {a}*v); {program}", u="0±1", v="0±1")
    assert b.u == pytest.approx(b2.u, rel=1e-9)
    assert b.second_order.u == pytest.approx(b2.second_order.u, rel=1e-9)
    assert b.second_order.mean == pytest.approx(b2.second_order.mean, rel=1e-9, abs=1e-12)


def test_mc_samples_do_not_depend_on_the_block_size(monkeypatch):
    import sys

    module = sys.modules["gradcli.uncertainty"]
    args = dict(x="1±0.1", y="U(0,1)", z="0±1", w="2±0.5", corr=[("z", "w", 0.3)], mc=10_000, seed=5)
    first = uncertainty("x*y + z*w", **args).samples
    monkeypatch.setattr(module, "MC_BLOCK", 777)
    assert np.array_equal(uncertainty("x*y + z*w", **args).samples, first)


def test_star_import_names_exist():
    import sys

    module = sys.modules["gradcli.uncertainty"]
    assert all(hasattr(module, name) for name in module.__all__)
