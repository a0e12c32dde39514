"""Derivatives as programs (issue 6): the symbolic backward pass, the printed
program and its LaTeX, higher orders and the Hessian.

The printed derivative is checked against `grad` (it must give the same
number), against finite differences of `grad` (second derivatives), against
SymPy (at random points), and for size (linear in the program, never
exponential)."""

from __future__ import annotations

import math
import random
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gradcli.build import build, structure
from gradcli.errors import DomainError, InputError
from gradcli.parse import parse
from gradcli.symbolic import Tape, derivative, evaluate, hessian
from gradcli.unparse import latex, latex_name, program
from tests.conftest import EXAMPLES

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.grad"))


def diff(source: str, wrt: str, order: int = 1, defaults=()) -> str:
    graph = structure(parse(source))
    return program(derivative(graph, wrt, order, defaults))


def run(text: str, inputs: dict[str, float]) -> float:
    """Evaluate a program, binding only the leaves it has."""
    leaves = structure(parse(text)).leaves
    return build(parse(text), {k: v for k, v in inputs.items() if k in leaves}).value


def grad_of(source: str, inputs: dict[str, float], wrt: str) -> float:
    return build(parse(source), inputs).gradients([wrt])[wrt]


# ------------------------------------------------------------ known results

@pytest.mark.parametrize("source,wrt,order,expected", [
    ("(a*b+c)*f", "a", 1, "b*f"),
    ("(a*b+c)*f", "c", 1, "f"),
    ("(a*b+c)*f", "f", 1, "a*b + c"),
    ("x**3 - 2*x", "x", 1, "3*x**2 - 2"),
    ("x**3 - 2*x", "x", 2, "6*x"),
    ("x**3 - 2*x", "x", 3, "6"),
    ("x**3 - 2*x", "x", 4, "0"),
    ("sin(x)*y", "x", 1, "y*cos(x)"),
    ("sin(x)*y", "x", 2, "-(y*sin(x))"),
    ("b = a + a", "a", 1, "2"),
    ("a*a", "a", 1, "2*a"),
    ("x*y", "x", 1, "y"),
    ("exp(x)", "x", 1, "exp(x)"),
    ("log(x)", "x", 2, "-(1/x/x)"),
    ("relu(x)*x", "x", 1, "relu(x) + x*step(x)"),
    ("x/y", "y", 1, "-(x/y/y)"),
    ("tanh(w*x)", "w", 1, "t1 = w*x\nx*(4*sigmoid(2*t1)*sigmoid(-2*t1))"),
    ("e = x*y\ne*e", "e", 1, "e = x*y\n2*e"),
])
def test_known_derivatives(source, wrt, order, expected):
    assert diff(source, wrt, order) == expected


def test_neuron_names_shared_parts_once_and_keeps_source_names():
    text = (EXAMPLES / "neuron.grad").read_text()
    assert diff(text, "w1") == (
        "x1 = 2\nx2 = 0\nw1 = -3\nw2 = 1\nb = 6.881373587019543\n"
        "x1w1 = x1*w1\nx2w2 = x2*w2\nn = x1w1 + x2w2 + b\n"
        "x1*(4*sigmoid(2*n)*sigmoid(-2*n))")


def test_reassigned_names_get_numbered_and_never_clash():
    text = diff("c = a + b\nc += c*c\nt1 = c*3\nt1*t1", "a")
    assert re.findall(r"^(\w+) =", text, flags=re.M) == ["c", "c_2", "t1", "t2", "t3"]
    assert run(text, {"a": 0.5, "b": -1.5}) == grad_of("c = a + b\nc += c*c\nt1 = c*3\nt1*t1",
                                                       {"a": 0.5, "b": -1.5}, "a")


def test_bindings_become_defaults_of_the_printed_program():
    graph = structure(parse("x**2 + y"))
    text = program(derivative(graph, "x", defaults={"x"}))
    assert text == "x = 0\n2*x"
    from gradcli.build import bind
    graph = structure(parse("x**2 + y"))
    bind(graph, {"x": 3.0}, complete=False)
    assert program(derivative(graph, "x", defaults={"x"})) == "x = 3\n2*x"


def test_equal_parts_of_a_derivative_are_one_node_but_the_program_is_kept_as_written():
    assert diff("sin(x)*y + sin(x)*y", "x") == "2*(y*cos(x))"    # y*cos(x) made twice: one node
    assert diff("u = a*b\nv = a*b\nu*v", "a") == "u = a*b\nv = a*b\nb*u + b*v"


def test_wrt_a_name_whose_expression_is_written_twice_means_that_node():
    text = "e = a*b\nf = a*b\nL = e + 2*f"
    assert diff(text, "e") == "1"
    assert diff(text, "f") == "2"
    assert grad_of(text, {"a": 1, "b": 2}, "e") == 1.0


def test_higher_order_needs_a_leaf():
    with pytest.raises(InputError, match="needs a leaf"):
        derivative(structure(parse("e = x*y\ne*e")), "e", 2)


# ------------------------------------------------------------------ LaTeX

@pytest.mark.parametrize("source,wrt,order,expected", [
    ("sin(x)*y", "x", 1, r"y \cos\left(x\right)"),
    ("x**3 - 2*x", "x", 1, r"3 x^{2} - 2"),
    ("x1/x2", "x2", 1, r"-\frac{\frac{x_{1}}{x_{2}}}{x_{2}}"),
    ("sqrt(alpha)*exp(beta)", "alpha", 1, r"e^{\beta} \frac{0.5}{\sqrt{\alpha}}"),
    ("abs(w_out)*sigmoid(w_out)", "w_out", 1,
     r"\begin{aligned}" "\n"
     r"t_{1} &= \sigma\left(w_{\mathrm{out}}\right) \\" "\n"
     r"&\left|w_{\mathrm{out}}\right| \left(t_{1} \sigma\left(-w_{\mathrm{out}}\right)\right) + t_{1} \operatorname{sign}\left(w_{\mathrm{out}}\right)" "\n"
     r"\end{aligned}"),
    ("1e-7*x**2", "x", 1, r"2 \cdot 10^{-7} x"),
])
def test_latex(source, wrt, order, expected):
    assert latex(derivative(structure(parse(source)), wrt, order)) == expected


@pytest.mark.parametrize("name,expected", [
    ("x", "x"), ("x1", "x_{1}"), ("w_1", "w_{1}"), ("alpha", r"\alpha"), ("w_out", r"w_{\mathrm{out}}"),
    ("loss", r"\mathrm{loss}"), ("_a", r"\mathrm{\_a}"),
])
def test_latex_names(name, expected):
    assert latex_name(name) == expected


# ------------------------------------------------- simplification rules

def _tape():
    t = Tape()
    return t, t.leaf("x", "input"), t.leaf("y", "input")


@pytest.mark.parametrize("build_it,expected", [
    (lambda t, x, y: x * 1, "x"),
    (lambda t, x, y: 1 * x, "x"),
    (lambda t, x, y: x * 0, "0"),
    (lambda t, x, y: x + 0, "x"),
    (lambda t, x, y: 0 + x, "x"),
    (lambda t, x, y: x - 0, "x"),
    (lambda t, x, y: 0 - x, "-x"),
    (lambda t, x, y: x / 1, "x"),
    (lambda t, x, y: -(-x), "x"),
    (lambda t, x, y: x ** 1, "x"),
    (lambda t, x, y: x ** 0, "1"),
    (lambda t, x, y: x + x, "2*x"),
    (lambda t, x, y: x - x, "0"),
    (lambda t, x, y: x * -1, "-x"),
    (lambda t, x, y: (-x) * y, "-(x*y)"),
    (lambda t, x, y: x + -y, "x - y"),
    (lambda t, x, y: x - (-y), "x + y"),
    (lambda t, x, y: -(x - y), "y - x"),
    (lambda t, x, y: x - -2.0, "x + 2"),
    (lambda t, x, y: x + -2.0, "x - 2"),
    (lambda t, x, y: 2 + x, "x + 2"),
    (lambda t, x, y: y * x, "x*y"),
    (lambda t, x, y: x * 3, "3*x"),
    (lambda t, x, y: 3 * (2 * x), "6*x"),
    (lambda t, x, y: 3 * (-4 * x), "-12*x"),
    (lambda t, x, y: 2 * (3 * x), "2*(3*x)"),      # 6*x would round differently among subnormals
    (lambda t, x, y: 3 * (0.5 * x), "3*(0.5*x)"),
    (lambda t, x, y: t.exp(t.const(0.0)) * x, "x"),
    (lambda t, x, y: t.log(t.const(0.0)) * x, "x*log(0)"),   # undefined: kept, evaluation says so
    (lambda t, x, y: t.sqrt(t.const(4.0)) + t.pow(t.const(2.0), t.const(10.0)), "1026"),
])
def test_simplification_rules(build_it, expected):
    t, x, y = _tape()
    assert program(t.lift(build_it(t, x, y))) == expected


@pytest.mark.parametrize("build_it,expected", [
    (lambda t, x, y, m: m("**", m("**", x, y), 2), "(x**y)**2"),
    (lambda t, x, y, m: m("**", x, m("**", y, 2)), "x**y**2"),
    (lambda t, x, y, m: m("**", m("neg", x), 2), "(-x)**2"),
    (lambda t, x, y, m: m("neg", m("**", x, 2)), "-x**2"),
    (lambda t, x, y, m: m("**", -2.0, x), "(-2)**x"),
    (lambda t, x, y, m: m("**", 2, m("neg", x)), "2**(-x)"),
    (lambda t, x, y, m: m("-", x, m("-", y, 2)), "x - (y - 2)"),
    (lambda t, x, y, m: m("-", m("-", x, y), 2), "x - y - 2"),
    (lambda t, x, y, m: m("+", x, m("+", y, 2)), "x + (y + 2)"),
    (lambda t, x, y, m: m("/", x, m("*", y, 2)), "x/(y*2)"),
    (lambda t, x, y, m: m("*", m("/", x, y), 2), "x/y*2"),
    (lambda t, x, y, m: m("*", m("+", x, y), m("-", x, y)), "(x + y)*(x - y)"),
    (lambda t, x, y, m: m("neg", m("neg", x)), "-(-x)"),
    (lambda t, x, y, m: m("neg", m("+", x, y)), "-(x + y)"),
    (lambda t, x, y, m: m("*", x, m("neg", y)), "x*(-y)"),
    (lambda t, x, y, m: m("+", x, -2.0), "x + (-2)"),
    (lambda t, x, y, m: m("max", m("-", x, y), m("neg", x)), "max(x - y, -x)"),
    (lambda t, x, y, m: m("exp", m("neg", m("*", x, y))), "exp(-(x*y))"),
    (lambda t, x, y, m: m("*", 1e-7, 2.5), "1e-07*2.5"),
])
def test_printing_keeps_the_grouping(build_it, expected):
    t, x, y = _tape()
    text = program(build_it(t, x, y, lambda op, *a: t.make(op, tuple(t.lift(v) for v in a))))
    assert text == expected


def test_equal_nodes_are_one_node():
    t, x, y = _tape()
    assert t.node("*", x, y) is t.node("*", y, x)
    assert t.sin(x) is t.sin(x)
    assert t.const(2) is t.const(2.0)
    assert t.const(-0.0) is t.const(0.0)


_OPS = ["+", "-", "*", "/", "**", "neg", "exp", "tanh", "sin", "sigmoid", "relu", "abs", "max"]
_CONSTS = [0.0, 1.0, -1.0, 2.0, 0.5, 3.0, -2.0, 0.1]


@st.composite
def recipes(draw, ops=tuple(_OPS)):
    """A random expression as a list of steps over two leaves and constants."""
    steps = []
    for _ in range(draw(st.integers(1, 12))):
        op = draw(st.sampled_from(ops))
        arity = 1 if op in ("neg", "exp", "tanh", "sin", "sigmoid", "relu", "abs") else 2
        args = []
        for _ in range(arity):
            if draw(st.booleans()):
                args.append(("c", draw(st.sampled_from(_CONSTS))))
            else:
                latest = len(steps) + 1        # often the step just made: deep trees
                args.append(("n", draw(st.one_of(st.just(latest), st.integers(0, latest)))))
        steps.append((op, args))
    return steps


EDGES = st.floats(-3, 3) | st.sampled_from([5e-324, -2.5e-320, 1e-310, 1e300, -1e300])


@settings(max_examples=300, deadline=None)
@given(recipes(), EDGES, EDGES)
def test_simplification_never_changes_a_value(steps, xv, yv):
    """Built as it is (`make`) and simplified (`node`): where the plain one
    evaluates, the simplified one evaluates to exactly the same number."""
    t, x, y = _tape()
    plain, simple = [x, y], [x, y]
    for op, args in steps:
        pa = tuple(t.const(v) if k == "c" else plain[v] for k, v in args)
        sa = tuple(t.const(v) if k == "c" else simple[v] for k, v in args)
        plain.append(t.make(op, pa))
        simple.append(t.node(op, *sa))
    x.data, y.data = xv, yv
    try:
        (expected,) = evaluate([plain[-1]])
    except DomainError:
        return
    (got,) = evaluate([simple[-1]])
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(recipes(ops=("+", "-", "*", "/", "**", "neg", "+", "-", "*", "/", "neg", "max")),
       st.floats(-3, 3), st.floats(-3, 3))
def test_printed_programs_keep_the_tree(steps, xv, yv):
    """Any graph, printed and parsed back, gives exactly the same number:
    the parentheses keep every grouping (and `--`, `(-2)**x`, `x**-y`...)."""
    t, x, y = _tape()
    nodes = [x, y]
    for op, args in steps:
        nodes.append(t.make(op, tuple(t.const(v) if k == "c" else nodes[v] for k, v in args)))
    x.data, y.data = xv, yv
    text = program(nodes[-1])
    try:
        (expected,) = evaluate([nodes[-1]])
    except DomainError:
        with pytest.raises(DomainError):
            run(text, {"x": xv, "y": yv})
        return
    assert run(text, {"x": xv, "y": yv}) == expected, text


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([0.1, 3.0, -7.0, 0.3, 2.0, 0.5, -4.0, 1.5]),
       st.sampled_from([0.1, 3.0, -7.0, 0.3, 2.0, 0.5, -4.0, 1.5]),
       st.floats(-1e6, 1e6) | st.floats(-1e-300, 1e-300))
def test_collecting_constants_is_exact(c1, c2, xv):
    t, x, y = _tape()
    plain = t.make("*", (t.const(c1), t.make("*", (t.const(c2), x))))
    simple = t.node("*", c1, t.node("*", c2, x))
    x.data = xv
    assert evaluate([simple]) == evaluate([plain])


# ---------------------------------------------------- agreement with grad


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_example_derivative_evaluates_to_grad(path):
    text = path.read_text()
    graph = build(parse(text))
    names = list(graph.leaves) + [n for n in graph.names if n not in graph.leaves]
    grads = graph.gradients(names)
    for name in names:
        printed = diff(text, name)
        parse(printed)                                  # it re-parses
        assert run(printed, {}) == grads[name], (name, printed)    # bit for bit


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_example_second_derivative_matches_finite_differences(path):
    text = path.read_text()
    graph = build(parse(text))
    point = {n: leaf.data for n, leaf in graph.leaves.items()}
    h = hessian(build(parse(text)), list(point))
    for i, name in enumerate(point):
        second = run(diff(text, name, 2), {})
        assert second == pytest.approx(h.matrix[i][i], rel=1e-9, abs=1e-9)
        for j, other in enumerate(point):
            step = 1e-5 * max(1.0, abs(point[other]))
            up = grad_of(text, {**point, other: point[other] + step}, name)
            down = grad_of(text, {**point, other: point[other] - step}, name)
            numeric = (up - down) / (2 * step)
            assert h.matrix[i][j] == pytest.approx(numeric, rel=1e-4, abs=1e-4), (name, other)


SMOOTH = ["tanh", "sigmoid", "sin", "cos", "softplus", "exp", "neg"]
LEAVES = ["x", "y", "z"]


KINKED = ["relu({a})", "abs({a})", "max({a}, {b})", "min({a}, {b})", "sqrt(1 + {a}*{a})",
          "log(2 + tanh({a}))", "(2 + tanh({a}))**{b}", "log1p(sigmoid({a}))", "step({a})*{b}"]


@st.composite
def programs(draw, kinks=False):
    """Random smooth programs over x, y, z, with names used more than once
    (with ``kinks``, also relu, abs, max, min, variable exponents...)."""
    lines: list[str] = []
    pool = list(LEAVES)
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.integers(0, 5 if kinks else 4))
        a, b = draw(st.sampled_from(pool)), draw(st.sampled_from(pool))
        if kind == 0:
            f = draw(st.sampled_from(SMOOTH))
            expr = f"-({a})" if f == "neg" else (f"exp(tanh({a}))" if f == "exp" else f"{f}({a})")
        elif kind == 1:
            expr = f"{a} {draw(st.sampled_from(['+', '-', '*']))} {b}"
        elif kind == 2:
            expr = f"{a} / (2 + tanh({b}))"
        elif kind == 3:
            expr = f"({a})**{draw(st.sampled_from(['2', '3']))}"
        elif kind == 4:
            c = draw(st.floats(0.1, 3.0).map(lambda v: round(v, 2)))
            expr = f"{c}*{a} + {b}"
        else:
            expr = draw(st.sampled_from(KINKED)).format(a=a, b=b)
        name = f"u{i}"
        lines.append(f"{name} = {expr}")
        pool.append(name)
    return "\n".join(lines)


def used(text, values):
    return {n: v for n, v in zip(LEAVES, values) if re.search(rf"\b{n}\b", text)}


@settings(max_examples=150, deadline=None)
@given(programs(kinks=True), st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3))
def test_random_programs_derivative_is_a_program_that_gives_grad(text, values):
    point = used(text, values)
    assume(point)
    graph = build(parse(text), point)
    grads = graph.gradients()
    for name, g in grads.items():
        printed = diff(text, name)
        parse(printed)
        assert run(printed, point) == g, printed             # bit for bit


@settings(max_examples=60, deadline=None)
@given(programs(), st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3))
def test_random_programs_second_derivatives_match_finite_differences_of_grad(text, values):
    point = used(text, values)
    assume(point)
    names = list(point)
    h = hessian(build(parse(text), point), names)
    for i, name in enumerate(names):
        assert run(diff(text, name, 2), point) == pytest.approx(h.matrix[i][i], rel=1e-9, abs=1e-9)
        for j, other in enumerate(names):
            assert h.matrix[i][j] == pytest.approx(h.matrix[j][i], rel=1e-9, abs=1e-9)
            step = 1e-5
            numeric = (grad_of(text, {**point, other: point[other] + step}, name)
                       - grad_of(text, {**point, other: point[other] - step}, name)) / (2 * step)
            assert h.matrix[i][j] == pytest.approx(numeric, rel=1e-4, abs=1e-4), (text, name, other)


# ------------------------------------------------------------------ SymPy

def to_sympy(text: str):
    """A program as a SymPy expression (test-only; an explicit stack)."""
    sympy = pytest.importorskip("sympy")
    from gradcli.syntax import Assign, Binary, Call, Name, Num, Unary, children

    functions = {
        "exp": sympy.exp, "log": sympy.log, "sin": sympy.sin, "cos": sympy.cos, "tanh": sympy.tanh,
        "sqrt": sympy.sqrt, "sigmoid": lambda u: 1 / (1 + sympy.exp(-u)),
        "softplus": lambda u: sympy.log(1 + sympy.exp(u)),
    }
    env: dict[str, object] = {}
    last = None
    for stmt in parse(text).statements:
        out: list = []
        stack = [(stmt.expr, False)]
        while stack:
            expr, ready = stack.pop()
            if isinstance(expr, Num):
                out.append(sympy.Float(expr.value, 30) if expr.value != int(expr.value) else sympy.Integer(int(expr.value)))
            elif isinstance(expr, Name):
                out.append(env.setdefault(expr.id, sympy.Symbol(expr.id)))
            elif not ready:
                stack.append((expr, True))
                stack.extend((c, False) for c in reversed(children(expr)))
            else:
                n = len(children(expr))
                args = out[len(out) - n:]
                del out[len(out) - n:]
                if isinstance(expr, Unary):
                    out.append(-args[0] if expr.op == "-" else args[0])
                elif isinstance(expr, Binary):
                    a, b = args
                    out.append({"+": a + b, "-": a - b, "*": a * b, "/": a / b, "**": a ** b}[expr.op])
                else:
                    assert isinstance(expr, Call)
                    out.append(functions[expr.func](*args))
        last = out[0]
        if isinstance(stmt, Assign):
            env[stmt.target] = last
    return last


@settings(max_examples=25, deadline=None)
@given(programs(), st.randoms(use_true_random=False))
def test_derivatives_agree_with_sympy_at_random_points(text, rnd):
    sympy = pytest.importorskip("sympy")
    expr = to_sympy(text)
    names = [n for n in LEAVES if re.search(rf"\b{n}\b", text)]
    assume(names)
    for _ in range(2):
        point = {n: rnd.uniform(-1.5, 1.5) for n in names}
        subs = {sympy.Symbol(n): v for n, v in point.items()}
        for name in names:
            expected = float(sympy.diff(expr, sympy.Symbol(name)).evalf(20, subs=subs))
            assert run(diff(text, name), point) == pytest.approx(expected, rel=1e-9, abs=1e-9), (text, name)


def test_a_caret_is_a_power():
    assert diff("x^3", "x") == diff("x**3", "x") == "3*x**2"


# ------------------------------------------------------------------- size

def nested(depth: int) -> str:
    """A depth-`depth` expression in which each level uses the one below
    twice: as a tree it has 2**depth leaves, as a program `depth` lines."""
    lines = ["u0 = x*y"]
    for k in range(1, depth + 1):
        lines.append(f"u{k} = sin(u{k - 1})*u{k - 1} + x")
    return "\n".join(lines)


def test_printed_derivative_of_a_depth_20_expression_stays_linear():
    sizes = {}
    for depth in (5, 10, 20):
        text = nested(depth)
        printed = diff(text, "x")
        sizes[depth] = len(printed)
        assert len(printed) < 12 * len(text)
        point = {"x": 0.7, "y": -0.3}
        assert run(printed, point) == pytest.approx(grad_of(text, point, "x"), rel=1e-12)
    # linear: twice the depth, about twice the text, not 2**10 times
    assert sizes[20] < 2.4 * sizes[10] < 2.4 * 2.4 * sizes[5]
    second = diff(nested(20), "x", 2)
    assert len(second) < 40 * len(nested(20))


def test_deep_chain_without_recursion():
    depth = 3000
    text = "tanh(" * depth + "x*y" + ")" * depth
    printed = diff(text, "x")
    assert printed.count("\n") == depth          # each tanh's operand is used twice (sigmoid(2*t), sigmoid(-2*t)): named once
    point = {"x": 0.3, "y": 0.2}
    assert run(printed, point) == pytest.approx(grad_of(text, point, "x"), rel=1e-12)


# ---------------------------------------------------------------- hessian

def test_hessian_known_values():
    h = hessian(build(parse("x**2*y + y**3"), {"x": 1, "y": 2}), ["x", "y"])
    assert h.value == 10.0
    assert h.grad == {"x": 4.0, "y": 13.0}
    assert h.matrix == [[4.0, 2.0], [2.0, 12.0]]


def test_hessian_of_a_linear_program_is_zero():
    h = hessian(build(parse("2*x + 3*y"), {"x": 1, "y": 2}), ["x", "y"])
    assert h.matrix == [[0.0, 0.0], [0.0, 0.0]]


def test_hessian_conventions_at_kinks():
    h = hessian(build(parse("relu(x)*abs(y) + x*y"), {"x": 0, "y": 0}), ["x", "y"])
    assert h.matrix == [[0.0, 1.0], [1.0, 0.0]]


@pytest.mark.parametrize("source,inputs,fragment", [
    ("sqrt(x)", {"x": 0}, "sqrt(0)"),            # the gradient itself: grad's error
    ("x**1.5", {"x": 0}, "0 ** 0.5"),            # the second derivative is not finite
    ("x*log(y)", {"x": 1, "y": 0}, "log"),
])
def test_hessian_domain_errors(source, inputs, fragment):
    with pytest.raises(DomainError) as e:
        hessian(build(parse(source), inputs), list(inputs))
    assert fragment in e.value.message
    assert e.value.pos is not None


def test_hessian_needs_leaves():
    with pytest.raises(InputError, match="needs leaves"):
        hessian(build(parse("e = x*y\ne*e"), {"x": 1, "y": 2}), ["e"])


def test_random_point_hessian_matches_sympy():
    sympy = pytest.importorskip("sympy")
    text = "u = sin(x)*y + exp(x*y/3)\nv = u*tanh(y) + x**3/(1 + y*y)\nv*u"
    expr = to_sympy(text)
    rnd = random.Random(6)
    x, y = sympy.symbols("x y")
    for _ in range(3):
        point = {"x": rnd.uniform(-1, 1), "y": rnd.uniform(-1, 1)}
        h = hessian(build(parse(text), point), ["x", "y"])
        for i, a in enumerate((x, y)):
            for j, b in enumerate((x, y)):
                expected = float(sympy.diff(expr, a, b).evalf(20, subs={x: point["x"], y: point["y"]}))
                assert h.matrix[i][j] == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert math.isfinite(h.value)
