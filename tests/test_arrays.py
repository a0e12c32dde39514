"""Many points: arrays.py and `eval/grad --at`."""

from __future__ import annotations

import io
import itertools
import json
import re
import math
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import numpy as np

from gradcli.arrays import Batch, array_math, at_points
from gradcli.ops import OPS
from gradcli.pointsio import open_points
from gradcli.build import build, structure
from gradcli.cli import app
from gradcli.errors import DomainError, InputError
from gradcli.parse import parse

from conftest import EXAMPLES

runner = CliRunner()
NEURON = "o = tanh(x1*w1 + x2*w2 + b)"


def one_point(program, point, wrt=None):
    graph = build(parse(program), point)
    return graph.value, graph.gradients(wrt)


def test_blocks_agree_with_one_point_results():
    program = (EXAMPLES / "micrograd_readme.grad").read_text()
    graph = structure(parse(program))
    a = [-4.0, -3.5, 0.25, 1.0, 2.0, 3.0]
    b = [2.0, 1.5, -0.5, 0.75, 4.0, -2.0]
    block = at_points(graph, {"a": a, "b": b})
    assert not block.errors
    for i, (x, y) in enumerate(zip(a, b)):
        value, grads = one_point(program, {"a": x, "b": y})
        assert block.value[i] == pytest.approx(value, rel=1e-12)
        assert block.grads["a"][i] == pytest.approx(grads["a"], rel=1e-12)
        assert block.grads["b"][i] == pytest.approx(grads["b"], rel=1e-12)
    assert block.value[0] == pytest.approx(24.7041, abs=1e-4)


EVERY_OP = ("y = exp(a*0.1) + log(b) - tanh(a) * relu(a - b) + sigmoid(b) / sqrt(b) + abs(a) "
            "+ sin(a) * cos(b) + tan(a*0.1) + softplus(a) + log1p(b) + sign(a) + step(a) "
            "+ max(a, b) * min(a, b) + a ** 2 + b ** a + pow(b, 0.5) + (-a)")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-3, 3), st.floats(0.1, 4)), min_size=1, max_size=20))
def test_every_op_batched_equals_float_engine(points):
    graph = structure(parse(EVERY_OP))
    a = [p[0] for p in points]
    b = [p[1] for p in points]
    block = at_points(graph, {"a": a, "b": b})
    for i, (x, y) in enumerate(points):
        value, grads = one_point(EVERY_OP, {"a": x, "b": y})
        assert block.value[i] == pytest.approx(value, rel=1e-9, abs=1e-12)
        for name in ("a", "b"):
            assert block.grads[name][i] == pytest.approx(grads[name], rel=1e-9, abs=1e-12)


def test_a_domain_error_is_the_float_engines_error_at_that_row():
    graph = structure(parse("y = log(x) + sqrt(x)"))
    block = at_points(graph, {"x": [1.0, -2.0, 4.0, 0.0]})
    assert sorted(block.errors) == [1, 3]
    err, values = block.errors[1]
    assert isinstance(err, DomainError) and "log(-2)" in err.message and values == [-2.0]
    assert "log(0)" in block.errors[3][0].message
    assert block.value[2] == pytest.approx(math.log(4) + 2)
    block = at_points(structure(parse("sqrt(x) + 1")), {"x": [0.0, 1.0]})
    assert list(block.errors) == [0]                          # a gradient that is not finite
    assert "the derivative of `sqrt(0)`" in block.errors[0][0].message


NONFINITE = (math.inf, -math.inf, math.nan)
FINITE = (0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-300, -1e-300, 1e300, -1e300, 5e-324)


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if op.spreads))
def test_each_spreads_claim_holds_on_arrays(name):
    """``Op.spreads``: an inf or nan at such an operand makes the array
    result inf or nan, whatever the other operands (the array engine then
    checks only values some user could hide: a wrong claim would let an
    overflow through unseen)."""
    op = OPS[name]
    m = array_math()
    for k in op.spreads:
        for others in itertools.product(FINITE + NONFINITE, repeat=op.arity - 1):
            args = list(others)
            args.insert(k, np.array(NONFINITE))
            with np.errstate(all="ignore"):
                out = np.broadcast_to(op.forward(m, *[np.asarray(a, dtype=float) for a in args]), (3,))
            assert not np.isfinite(out).any(), (name, k, others, out)


@pytest.mark.parametrize("program, x, where", [
    ("y = tanh(exp(x))", 800.0, "exp(800)"),                 # tanh(inf) = 1 would hide it
    ("y = tanh(exp(x) * x + 1)", 800.0, "exp(800)"),          # through * and +, then tanh
    ("h = exp(x)\ny = sigmoid(h - h)", 800.0, "exp(800)"),   # inf - inf = nan, then sigmoid
    ("dead = exp(x)\ny = tanh(x)", 800.0, "exp(800)"),       # a value no op uses
    ("y = relu(-exp(x))", 800.0, "exp(800)"),                 # relu(-inf) = 0 would hide it
    ("y = relu(exp(x)) + 1", 800.0, "exp(800)"),
])
def test_an_overflow_a_later_op_hides_is_still_the_float_engines_error(program, x, where):
    graph = structure(parse(program))
    with pytest.raises(DomainError) as expected:
        build(parse(program), {"x": x}).gradients()
    for grads in (True, False):
        block = at_points(graph, {"x": [0.5, x, 0.25]}, grads=grads)
        assert list(block.errors) == [1]
        assert block.errors[1][0].message == expected.value.message
        assert where in block.errors[1][0].message
        one = build(parse(program), {"x": 0.5})
        assert block.value[0] == one.value


def test_values_dropped_after_their_last_use_leave_the_results_whole():
    """Without gradients a value is dropped after its last use (its memory
    reused, still in the cache); every row's value is still the float
    engine's, on a program where values are used far apart."""
    program = "a = x*x\nb = tanh(a)\nc = b*a + x\nd = sigmoid(c) * b\ny = d + a + c"
    graph = structure(parse(program))
    xs = np.linspace(-3, 3, 101)
    block = at_points(graph, {"x": xs}, grads=False)
    assert not block.errors
    for i, x in enumerate(xs):
        assert block.value[i] == pytest.approx(build(parse(program), {"x": float(x)}).value, rel=1e-13)


def test_eval_mode_does_not_need_finite_gradients():
    graph = structure(parse("sqrt(x)"))
    block = at_points(graph, {"x": [0.0, 4.0]}, grads=False)
    assert not block.errors and block.value.tolist() == [0.0, 2.0] and block.grads == {}


def test_rows_stream_from_a_generator_in_order():
    graph = structure(parse("y = 2*x + 1"))
    batch = Batch(graph, ["x"])
    batch.block_size = 100
    endless = ([float(i)] for i in itertools.count())           # never ends: must be read lazily
    blocks = batch.blocks(endless)
    values = []
    for start, block in itertools.islice(blocks, 25):
        assert start == len(values)
        values += block.value.tolist()
    assert values == [2.0 * i + 1 for i in range(2500)]


def test_fixed_bindings_and_missing_or_unknown_columns():
    graph = structure(parse("y = a*b + c"))
    block = Batch(graph, ["a"], fixed={"b": 3.0, "c": 1.0}).run([[1.0, 2.0]])
    assert block.value.tolist() == [4.0, 7.0]
    with pytest.raises(InputError, match="missing input"):
        Batch(structure(parse("y = a*b + c")), ["a"])
    with pytest.raises(InputError, match="not a name"):
        Batch(structure(parse("y = a*b")), ["a", "b", "z"])
    with pytest.raises(InputError, match="twice"):
        Batch(structure(parse("y = a*b")), ["a", "b", "a"])


def read_points(text):
    """The points of a text as standard input: (columns, [(place, values)])."""
    points = open_points("-", io.BytesIO(text.encode()))
    rows = [(chunk.locate(r), [float(c[r]) for c in chunk.columns])
            for chunk in points.chunks for r in range(chunk.rows)]
    return points.columns, rows


def test_read_points_csv_and_json_lines():
    columns, rows = read_points("a, b\r\n1,2\n\n-3.5 , 4e1\n")
    assert columns == ["a", "b"]
    assert rows == [("line 2 of standard input", [1.0, 2.0]), ("line 4 of standard input", [-3.5, 40.0])]
    columns, rows = read_points('{"a": 1, "b": 2.5}\n{"b": 0, "a": -1}\n')
    assert columns == ["a", "b"]
    assert rows == [("line 1 of standard input", [1, 2.5]), ("line 2 of standard input", [-1, 0])]


@pytest.mark.parametrize("text,message", [
    ("a,b\n1,x\n", "line 2 of standard input: `x` is not a number"),
    ("a,b\n1,2,3\n", "line 2 of standard input has 3 values"),
    ("a,b\n1,inf\n", "`inf` is not a number"),
    ("a,b\n1,1e999\n", "too large"),
    ("a,2b\n", "`2b` is not an input name"),
    ("", "no header row"),
    ('{"a": 1}\n{"b": 1}\n', "line 2 of standard input lacks `a`"),
    ('{"a": true}\n', "not a finite number"),
    ('{"a": 1}\n[1]\n', "expected an object"),
    ('{"a": 1}\n{"a": \n', "is not JSON"),
    ("a,b\n1,\x1b[31m\n", "`\\e[31m` is not a number"),
])
def test_bad_points_name_the_line(text, message):
    with pytest.raises(InputError, match=re.escape(message)):
        read_points(text)


# ---------------------------------------------------------------- the CLI

def test_cli_grad_at_csv_round_trip(tmp_path):
    points = tmp_path / "p.csv"
    points.write_text("x1,x2,w1,w2,b\n2,0,-3,1,6.8813735870195432\n1,1,1,1,0\n")
    r = runner.invoke(app, ["grad", NEURON, "--at", str(points)])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "value,grad_x1,grad_w1,grad_x2,grad_w2,grad_b"
    rows = [[float(v) for v in line.split(",")] for line in lines[1:]]
    for row, point in zip(rows, ({"x1": 2, "x2": 0, "w1": -3, "w2": 1, "b": 6.8813735870195432},
                                 {"x1": 1, "x2": 1, "w1": 1, "w2": 1, "b": 0})):
        value, grads = one_point(NEURON, point)
        assert row[0] == pytest.approx(value, rel=1e-12)
        assert row[1:] == pytest.approx(list(grads.values()), rel=1e-12, abs=1e-15)


def test_cli_json_lines_match_single_point_json(tmp_path):
    points = tmp_path / "p.jsonl"
    points.write_text('{"a": 2, "b": -3}\n{"a": 0.5, "b": 4}\n')
    r = runner.invoke(app, ["grad", "a*b + b**2", "--at", str(points), "--json"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    for row, (a, b) in zip(rows, [(2, -3), (0.5, 4)]):
        single = runner.invoke(app, ["grad", "a*b + b**2", f"a={a}", f"b={b}", "--json"])
        assert row == json.loads(single.stdout)


def test_cli_eval_at_standard_input_with_fixed_binding():
    r = runner.invoke(app, ["eval", "a*b", "b=10", "--at", "-"], input="a\n1\n2\n3\n")
    assert r.exit_code == 0 and r.stdout == "value\n10.0\n20.0\n30.0\n"


def test_cli_wrt_limits_the_columns():
    r = runner.invoke(app, ["grad", "a*b", "--wrt", "b", "--at", "-"], input="a,b\n2,3\n")
    assert r.stdout == "value,grad_b\n6.0,2.0\n"


def test_cli_row_error_fails_with_nothing_on_stdout(tmp_path):
    points = tmp_path / "p.csv"
    points.write_text("x\n" + "1\n" * 5000 + "-1\n1\n")
    r = runner.invoke(app, ["grad", "log(x)", "--at", str(points)])
    assert r.exit_code == 1 and r.stdout == ""
    assert "at point 5001 (line 5002 of" in r.stderr and "log(-1)" in r.stderr and "^^^" in r.stderr


def test_cli_on_error_skip_writes_an_empty_row():
    r = runner.invoke(app, ["grad", "y = log(x)*z", "--at", "-", "--on-error", "skip"], input="x,z\n1,2\n-1,2\n2,0\n")
    assert r.exit_code == 0
    assert r.stdout.splitlines() == ["value,grad_x,grad_z", "0.0,2.0,0.0", ",,",
                                     f"0.0,0.0,{math.log(2)!r}"]
    assert "1 of 3 points had a math error" in r.stderr and "line 3" in r.stderr
    r = runner.invoke(app, ["eval", "log(x)", "--at", "-", "--on-error", "skip", "--json"], input="x\n-1\n1\n")
    assert [json.loads(line) for line in r.stdout.splitlines()] == [
        {"value": None, "error": "log needs a positive number: `log(-1)`"}, {"value": 0.0}]


@pytest.mark.parametrize("args,stdin,message", [
    (["grad", "a*b", "--at", "-"], "a\n1\n", "missing input"),
    (["grad", "a*b", "--at", "-", "--on-error", "maybe"], "a,b\n1,2\n", "--on-error `maybe`"),
    (["grad", "a*b", "--at", "/nonexistent/points.csv"], "", "cannot read"),
    (["grad", "-", "--at", "-"], "a*b", "both the program and the points"),
    (["grad", "a*b", "--at", "-"], "a,b\n1,2\n1,zz\n", "line 3 of standard input: `zz`"),
])
def test_cli_input_errors_exit_2(args, stdin, message):
    r = runner.invoke(app, args, input=stdin)
    assert r.exit_code == 2 and r.stdout == "" and message in r.stderr


def test_cli_many_rows_through_a_real_process(tmp_path):
    n = 20_000
    points = tmp_path / "p.csv"
    points.write_text("x,y\n" + "".join(f"{i},{i % 7}\n" for i in range(n)))
    out = subprocess.run([sys.executable, "-m", "gradcli", "grad", "x*y + y", "--at", str(points)],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(out) == n + 1
    assert out[12345] == f"{float(12344 * (12344 % 7) + 12344 % 7)!r},{float(12344 % 7)!r},{float(12344 + 1)!r}"


def test_blocks_are_sized_by_the_arrays_alive_at_once():
    """Without gradients a value is dropped after its last use, so a long
    chain has only a few arrays alive at once and gets full blocks; with
    gradients every value is kept for the backward pass."""
    chain = "\n".join(["y0 = x"] + [f"y{i} = tanh(y{i - 1}) * 0.9 + x" for i in range(1, 3000)])
    graph = structure(parse(chain))
    values = Batch(graph, ["x"], grads=False)
    assert values.peak <= 4 and values.block_size == 4096
    both = Batch(graph, ["x"])
    assert both.peak == len(graph.nodes) and both.block_size == (1 << 21) // len(graph.nodes)
    xs = np.linspace(-1, 1, 5000)
    assert np.array_equal(values.run([xs]).value, both.run([xs]).value)
    # a value read again much later stays alive until then
    wide = "\n".join([f"a{i} = x*{i + 1}" for i in range(50)] + ["y = " + " + ".join(f"a{i}" for i in range(50))])
    assert Batch(structure(parse(wide)), ["x"], grads=False).peak >= 50
