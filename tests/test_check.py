"""gradcli check: backprop against finite differences."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gradcli import build, parse
from gradcli.check import check, numeric
from gradcli.cli import app
from gradcli.ops import FUNCTIONS, OPS

from tests.conftest import EXAMPLES

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def graph(src, **inputs):
    return build(parse(src), inputs)


# ------------------------------------------------------------ the library

def test_lecture_rows_known_values():
    report = check(graph("(a*b+c)*f", a=2, b=-3, c=10, f=-2))
    assert report.ok
    assert [r.name for r in report.rows] == ["a", "b", "c", "f"]
    assert [r.grad for r in report.rows] == [6.0, -4.0, -2.0, 4.0]
    for r in report.rows:
        assert r.numeric == pytest.approx(r.grad, rel=1e-8)
        assert r.method == "central" and r.verdict == "ok"


def test_intermediates_are_held_fixed_upstream():
    # L = d*f with d = e + c: dL/dd = f = -2, dL/de = -2; perturbing d must
    # not recompute d from e and c.
    g = graph("e = a*b; d = e + c; L = d * f", a=2, b=-3, c=10, f=-2)
    report = check(g, every=True)
    by_name = {r.name: r for r in report.rows}
    assert by_name["d"].numeric == pytest.approx(-2.0)
    assert by_name["e"].numeric == pytest.approx(-2.0)
    assert by_name["L"].numeric == pytest.approx(1.0)
    # and everything is put back afterwards
    assert g.value == -8.0 and g.names["d"].data == 4.0


def test_numeric_restores_values():
    g = graph("x**3", x=1.5)
    before = [n.data for n in g.nodes]
    est, method, step = numeric(g, g.leaves["x"])
    assert est == pytest.approx(3 * 1.5**2, rel=1e-8)
    assert [n.data for n in g.nodes] == before
    assert step == pytest.approx(1.5e-6)


def test_domain_edge_shrinks_the_step():
    # log at 1e-7: x - 1e-6 is outside the domain; the step shrinks until both sides exist
    report = check(graph("log(x)", x=1e-3))
    r = report.rows[0]
    assert r.method == "central" and r.step < 1e-3
    assert r.verdict == "ok"


def test_relu_at_zero_is_a_kink_not_a_failure():
    report = check(graph("relu(x) * y", x=0, y=2))
    assert report.ok
    x = report.rows[0]
    assert x.grad == 0.0 and x.numeric == pytest.approx(1.0)   # (2 - 0) / 2h
    assert x.verdict == "kink"
    assert [k.node.op for k in report.kinks] == ["relu"]
    assert report.kinks[0].used == [0.0]


def test_max_tie_is_reported_with_the_split():
    report = check(graph("max(a, b)", a=1, b=1))
    assert [k.used for k in report.kinks] == [[0.5, 0.5]]
    # central differences give 1/2 too: they agree, the corner is still said
    assert all(r.verdict == "ok" for r in report.rows)


def test_away_from_corners_nothing_is_reported():
    assert check(graph("relu(x) + abs(x) + sqrt(x)", x=0.25)).kinks == []


@pytest.fixture
def wrongtanh(monkeypatch):
    """A test-only op, `wrongtanh`: tanh with a wrong derivative (1 - out
    where it should be 1 - out**2). The real rows are never replaced."""
    wrong = OPS["tanh"]._replace(name="wrongtanh", chain=(lambda m, g, x, o: g * (1.0 - o),), text=None)
    monkeypatch.setitem(OPS, "wrongtanh", wrong)
    monkeypatch.setitem(FUNCTIONS, "wrongtanh", wrong)
    return wrong


def test_wrong_derivative_fails(wrongtanh):
    report = check(graph("wrongtanh(x) * y", x=0.5, y=3))
    assert not report.ok
    assert [r.verdict for r in report.rows] == ["FAIL", "ok"]


# hypothesis: smooth programs of two leaves; check must agree everywhere.
_leaf = st.sampled_from(["x", "y"])
_const = st.sampled_from(["0.5", "2", "1.5"])


def _expr():
    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]} / (1 + {t[1]}**2))"),
            st.tuples(st.sampled_from(["tanh", "sin", "cos", "sigmoid", "softplus"]), inner)
              .map(lambda t: f"{t[0]}({t[1]})"),
            inner.map(lambda e: f"({e})**2"),
        )
    return st.recursive(st.one_of(_leaf, _const), extend, max_leaves=8)


@settings(max_examples=60, deadline=None)
@given(_expr(), st.floats(-2, 2), st.floats(-2, 2))
def test_check_passes_on_generated_programs(src, x, y):
    program = f"out = {src}"
    inputs = {n: v for n, v in (("x", x), ("y", y)) if n in src}
    g = build(parse(program), inputs)
    # generated values may reach ~1e4; the tolerance is relative to them
    report = check(g, every=True, rtol=1e-4, atol=1e-6)
    assert report.ok, [(r.name, r.grad, r.numeric) for r in report.rows if r.verdict != "ok"]


# ---------------------------------------------------------------- the CLI

@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.grad")))
@pytest.mark.parametrize("every", [False, True])
def test_check_passes_on_every_example(example, every):
    args = ["check", "-f", str(EXAMPLES / example), "--plain"] + (["--all"] if every else [])
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "ok: " in result.output and "FAIL" not in result.output


def test_plain_output_exact():
    result = run("check", "(a*b+c)*f", "a=2", "b=-3", "c=10", "f=-2", "--plain")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["name", "data", "backprop", "numeric", "abs", "error", "rel", "error", "verdict"]
    assert lines[1].split()[:4] == ["a", "2", "6", "6"]
    assert lines[-1] == "ok: all 4 gradients agree with finite differences (h 1e-06, rtol 1e-05, atol 1e-08)"


def test_failure_exits_1_and_still_reports(wrongtanh):
    program = (EXAMPLES / "neuron.grad").read_text().replace("tanh", "wrongtanh")
    assert "wrongtanh(" in program
    result = run("check", program, "--plain")
    assert result.exit_code == 1
    # w2 multiplies x2 = 0: its gradient is 0 either way
    assert "FAIL: 4 of 5 gradients disagree" in result.output


def test_json():
    result = run("check", "relu(x) * y", "x=0", "y=2", "--json")
    assert result.exit_code == 0
    obj = json.loads(result.output)
    assert obj["ok"] is True and obj["failures"] == 0
    assert obj["rows"][0] == {**obj["rows"][0], "name": "x", "grad": 0.0, "verdict": "kink", "corners": ["n1"]}
    assert obj["corners"][0]["op"] == "relu" and obj["corners"][0]["used"] == [0.0]
    assert obj["corners"][0]["at"] == "1:1"


def test_sqrt_at_zero_is_reported_not_an_error():
    # grad exits 1 here (the gradient is not finite); check says why instead
    result = run("check", "sqrt(x)", "x=0", "--plain")
    assert result.exit_code == 0, result.output
    assert "sqrt'(0)" in result.output and "kink" in result.output
    obj = json.loads(run("check", "sqrt(x)", "x=0", "--json").output)
    assert obj["rows"][0]["grad"] is None and obj["rows"][0]["method"] == "forward"


def test_kink_lines_say_the_value_used():
    result = run("check", "abs(x) + x", "x=0", "--plain")
    assert result.exit_code == 0
    assert ("corner: n1 = abs(x) at 1:1 with x = 0: abs'(0) = 0 by convention: the slope is -1 on "
            "the left, 1 on the right; the local derivative used was 0; it affects x") in result.output


def test_wrt_and_options():
    result = run("check", "a*b", "a=2", "b=3", "--wrt", "b", "--step", "1e-4", "--rtol", "0", "--atol", "1e-9", "--json")
    obj = json.loads(result.output)
    assert [r["name"] for r in obj["rows"]] == ["b"] and obj["h"] == 1e-4 and obj["rtol"] == 0


@pytest.mark.parametrize("args, code, message", [
    (["x", "x=1", "--step", "0"], 2, "--step must be a positive number"),
    (["x", "x=1", "--wrt", "z"], 2, "--wrt `z` is not a name"),
    (["log(x)", "x=-1"], 1, "log needs a positive number"),
])
def test_errors(args, code, message):
    result = run("check", *args)
    assert result.exit_code == code
    assert message in result.stderr and result.stdout == ""


def test_no_leaves_and_one_leaf_summaries():
    assert run("check", "2*3", "--plain").output.splitlines()[-1].startswith("ok: nothing to check")
    assert run("check", "x*x", "x=3", "--plain").output.splitlines()[-1].startswith(
        "ok: the gradient agrees with finite differences")


def test_table_for_people():
    result = run("check", "relu(x)*y", "x=0", "y=2", "--table")
    assert result.exit_code == 0
    assert "value = 0.0" in result.output
    assert "verdict" in result.output and "kink" in result.output
    assert "relu'(0) = 0 by convention" in result.output
