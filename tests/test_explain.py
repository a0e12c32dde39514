"""gradcli explain: the backward pass step by step, and the paths to a leaf."""

from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gradcli import build, parse
from gradcli.cli import app
from tests.composites import paired_program
from gradcli.explain import _derived, paths, rule, rule_text, steps
from gradcli.ops import OPS

from tests.conftest import EXAMPLES

runner = CliRunner()


def graph(src, **inputs):
    return build(parse(src), inputs)


def test_every_op_has_a_rule_per_operand():
    for name, op in OPS.items():
        assert op.text is None or len(op.text) == op.arity, name
        for i in range(op.arity):
            assert rule_text(name, i)


@pytest.mark.parametrize("name", sorted(OPS))
def test_derived_rule_text_computes_the_engine_number(name):
    """The words explain prints for a rule, derived from the row, are a
    program: run at a point, it gives the local derivative the engine uses,
    bit for bit."""
    from gradcli import evaluate
    from gradcli.explain import local

    op = OPS[name]
    names = ["x", "y"] if name == "**" or op.arity == 1 else ["a", "b"]
    point = dict(zip(names[:op.arity], [0.7, 1.3]))
    program = {"neg": "-x", "**": "x**y"}.get(name) or (
        f"a {name} b" if op.infix else f"{name}({', '.join(names[:op.arity])})")
    if name != op.name:   # a paired row (ops.PAIRED): its op beside a complement that log divides by
        program = paired_program(name).replace(f"{op.name}(x)", "s").replace("s = s\n", "")
        program = f"s = {op.name}(x)\n" + program
    built = graph(program, **point)
    node = built.names.get("s") or built.output
    assert node.op == name
    for i in range(op.arity):
        text = _derived(name, i).format(out="out", **{n: n for n in names})
        values = {n: v for n, v in {**point, "out": node.data}.items() if re.search(rf"\b{n}\b", text)}
        assert evaluate(text, **values) == local(node, i), (name, i, text)


def test_rules_generic_and_named():
    assert rule("*", 0) == "d(a*b)/da = b"
    assert rule("/", 1) == "d(a/b)/db = -(out/b)"
    assert rule("tanh", 0) == "dtanh(x)/dx = 1 - out**2, as 4*sigmoid(2*x)*sigmoid(-2*x)"
    assert rule("hypot", 1) == "dhypot(a, b)/db = b/out"
    assert rule("*", 0, ["d", "f"], "L") == "dL/dd = f"
    assert rule("**", 1, ["x", "n"], "p") == "dp/dn = p*log(x)"


def test_lecture_steps_known_values():
    ex = steps(graph("e = a*b; d = e + c; L = d * f", a=2, b=-3, c=10, f=-2))
    got = [(ex.shown[s.node.index], s.upstream,
            [(ex.shown[c.child.index], c.local, c.product, c.after) for c in s.contributions])
           for s in ex.steps]
    assert got == [
        ("L", 1.0, [("d", -2.0, -2.0, -2.0), ("f", 4.0, 4.0, 4.0)]),
        ("d", -2.0, [("e", 1.0, -2.0, -2.0), ("c", 1.0, -2.0, -2.0)]),
        ("e", -2.0, [("a", -3.0, 6.0, 6.0), ("b", 2.0, -4.0, -4.0)]),
    ]


def test_reuse_running_sum():
    ex = steps(graph("b = a * a", a=3))
    (step,) = ex.steps
    assert [(c.use, c.uses, c.before, c.after) for c in step.contributions] == [(1, 2, 0.0, 3.0), (2, 2, 3.0, 6.0)]


def _engine_grads(g):
    g.backward(check=())
    return {n.index: n.grad for n in g.nodes if n.kind != "const"}


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.grad")))
def test_steps_add_up_to_grad_on_examples(example):
    g = build(parse((EXAMPLES / example).read_text()), {})
    ex = steps(g)
    engine = _engine_grads(g)
    for index, total in ex.grads.items():
        assert total == engine[index]          # the same sums in the same order: exactly equal
    # the last contribution to each node is its final gradient
    final = {}
    for s in ex.steps:
        for c in s.contributions:
            final[c.child.index] = c.after
            assert c.product == s.upstream * c.local
    for index, total in final.items():
        assert total == engine[index]


def test_paths_of_micrograd_add_up():
    g = build(parse((EXAMPLES / "micrograd_readme.grad").read_text()), {})
    for name in ("a", "b"):
        found, total = paths(g, g.leaves[name], limit=10_000)
        assert len(found) == total > 1
        assert math.fsum(p.product for p in found) == pytest.approx(g.gradients()[name], rel=1e-12)


def test_paths_reuse_counts_twice_and_limit():
    g = graph("b = a * a", a=3)
    found, total = paths(g, g.leaves["a"])
    assert total == 2 and [p.product for p in found] == [3.0, 3.0] and [p.operands for p in found] == [[0], [1]]
    # 2**20 paths: counted, not enumerated
    g = graph("x = a\n" + "x = x + x\n" * 20, a=1)
    found, total = paths(g, g.leaves["a"], limit=5)
    assert total == 2**20 and len(found) == 5


def test_deep_chain_no_recursion():
    g = graph("x = a\n" + "x = x * 1.0001\n" * 5000, a=1)
    found, total = paths(g, g.leaves["a"])
    assert total == 1 and len(found[0].nodes) == 5001
    assert len(steps(g).steps) == 5000


_expr = st.recursive(
    st.sampled_from(["x", "y", "2", "0.5"]),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["tanh", "sin", "relu", "abs"]), inner).map(lambda t: f"{t[0]}({t[1]})"),
    ),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(_expr, st.floats(-3, 3), st.floats(-3, 3))
def test_steps_and_paths_match_grad_on_generated_programs(src, x, y):
    g = build(parse(f"z = x*0 + y*0 + {src}"), {"x": x, "y": y})
    ex = steps(g)
    grads = g.gradients()
    for name in ("x", "y"):
        assert ex.grads[g.leaves[name].index] == grads[name]
        found, total = paths(g, g.leaves[name], limit=10_000)
        if total <= 10_000:
            assert math.fsum(p.product for p in found) == pytest.approx(grads[name], rel=1e-9, abs=1e-9)


# ---------------------------------------------------------------- the CLI

LECTURE = """\
backward from the output L = -8: L.grad = dL/dL = 1; then each operation, the last computed first, adds grad * local derivative to each operand's grad
1. L = d * f    L.grad = 1 (the seed)
    d  dL/dd = f  = -2  1 * -2 = -2  d.grad = -2
    f  dL/df = d  = 4   1 * 4 = 4    f.grad = 4
2. d = e + c    d.grad = -2
    e  dd/de = 1  = 1   -2 * 1 = -2  e.grad = -2
    c  dd/dc = 1  = 1   -2 * 1 = -2  c.grad = -2
3. e = a * b    e.grad = -2
    a  de/da = b  = -3  -2 * -3 = 6  a.grad = 6
    b  de/db = a  = 2   -2 * 2 = -4  b.grad = -4
gradients of the leaves: a = 6, b = -4, c = -2, f = 4
"""


def test_plain_lecture_exact():
    result = runner.invoke(app, ["explain", "-f", str(EXAMPLES / "lecture_L.grad")])
    assert result.exit_code == 0
    assert result.output == LECTURE


def test_wrt_paths_plain():
    result = runner.invoke(app, ["explain", "-f", str(EXAMPLES / "reuse.grad"), "--wrt", "a"])
    assert result.exit_code == 0
    assert "a.grad = 1 + 1 = 2  (use 2 of 2)" in result.output
    tail = result.output.split("\n\n")[1]
    assert tail.splitlines() == [
        "2 paths from the output to a; the products add up to d output/d a = 2",
        "path  route (output first)  local derivatives  product  share",
        "   1  b <- a                1                        1    50%",
        "   2  b <- a                1                        1    50%",
    ]


def test_json_steps_and_paths():
    result = runner.invoke(app, ["explain", "(a*b+c)*f", "a=2", "b=-3", "c=10", "f=-2", "--json", "--wrt", "a"])
    obj = json.loads(result.output)
    assert obj["value"] == -8.0 and obj["grad"] == {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}
    first = obj["steps"][0]
    assert first["grad"] == 1.0 and first["expression"] == "n4 * f"
    assert first["contributions"][0]["rule"] == "d(a*b)/da = b"
    assert first["contributions"][0]["local_rule"] == "dn6/dn4 = f"
    assert obj["paths"]["total"] == 1 and obj["paths"]["paths"][0]["product"] == 6.0
    assert obj["paths"]["paths"][0]["route"] == ["n6", "n4", "n2", "a"]


def test_table_on_request_and_dead_code_note():
    result = runner.invoke(app, ["explain", "y = a*2; z = b*3", "a=1", "b=1", "--table"])
    assert result.exit_code == 0
    assert "1. z = b * 3" in result.output
    assert "1 operation the output does not depend on passes on zeros" in result.output


@pytest.mark.parametrize("args, code, message", [
    (["a*b", "a=1", "b=2", "--wrt", "c"], 2, "--wrt `c` is not a name"),
    (["sqrt(x)", "x=-1"], 1, "sqrt needs"),
    (["a*", "a=1"], 2, "syntax error"),
])
def test_errors(args, code, message):
    result = runner.invoke(app, ["explain", *args])
    assert result.exit_code == code
    assert message in result.stderr and result.stdout == ""


def test_a_step_on_a_corner_says_its_rows_convention():
    result = runner.invoke(app, ["explain", "relu(x)*y", "x=0", "y=2", "--plain"])
    assert result.exit_code == 0
    assert ("    (at a corner: relu'(0) = 0 by convention: the slope is 0 on the left, 1 on the right)"
            in result.output.splitlines())
    obj = json.loads(runner.invoke(app, ["explain", "relu(x)*y", "x=0", "y=2", "--json"]).output)
    assert [s["corner"] for s in obj["steps"]] == [None, OPS["relu"].corner.convention]
    away = runner.invoke(app, ["explain", "relu(x)*y", "x=1", "y=2", "--plain"])
    assert "corner" not in away.output
