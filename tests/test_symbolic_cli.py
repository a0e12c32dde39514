"""`gradcli diff` and `gradcli hessian` on the command line: CliRunner and a
real process, outputs, pipelines into `gradcli eval`, and clean errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from gradcli.cli import app
from tests.conftest import EXAMPLES, ROOT

BIN = os.path.dirname(sys.executable)


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def ok(*args: str, input: str | None = None) -> str:
    result = run(*args, input=input)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    return result.stdout


def fails(code: int, *args: str) -> str:
    result = run(*args)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return result.stderr


def shell(command: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", ""), "NO_COLOR": "1"}
    return subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, env=env, timeout=60)


# ------------------------------------------------------------------- diff

def test_diff_the_issue_examples():
    assert ok("diff", "(a*b+c)*f", "--wrt", "a") == "b*f\n"
    assert ok("diff", "x**3 - 2*x", "--wrt", "x", "--order", "2") == "6*x\n"
    assert ok("diff", "sin(x)*y", "--wrt", "x", "--latex") == "y \\cos\\left(x\\right)\n"
    assert ok("diff", "-f", str(EXAMPLES / "neuron.grad"), "--wrt", "w1").endswith("n = x1w1 + x2w2 + b\nx1*(4*sigmoid(2*n)*sigmoid(-2*n))\n")


def test_diff_options_anywhere_and_program_from_stdin():
    assert ok("diff", "--wrt", "x", "-x**2") == "-(2*x)\n"
    assert ok("diff", "-", "--wrt", "x", input="y = x*x\ny += x\n") == "x + 1 + x\n"


def test_diff_with_one_leaf_needs_no_wrt():
    assert ok("diff", "exp(2*x)") == "2*exp(2*x)\n"


def test_diff_bindings_become_defaults():
    assert ok("diff", "x**2*y", "x=3", "--wrt", "x") == "x = 3\ny*(2*x)\n"


def test_diff_json():
    out = json.loads(ok("diff", "sin(x)*y", "--wrt", "x", "--json"))
    assert out == {"program": "y*cos(x)", "latex": "y \\cos\\left(x\\right)",
                   "value": None, "unbound": ["x", "y"]}


def test_diff_json_value_at_the_bindings_is_eval_of_the_program():
    """`diff --json` gives the derivative's value where every input is
    bound: the printed program run by `eval`, and `grad`'s gradient."""
    out = json.loads(ok("diff", "tanh(w*x)", "--wrt", "w", "w=0.5", "x=2", "--json"))
    assert out["value"] == float(ok("eval", out["program"], "w=0.5", "x=2"))
    assert out["value"] == pytest.approx(float(ok("grad", "tanh(w*x)", "w=0.5", "x=2", "--wrt", "w")), rel=1e-15)
    # second order: d2/dx2 of x**3 at 2 is 12
    assert json.loads(ok("diff", "x**3", "--order", "2", "x=2", "--json"))["value"] == 12.0
    # undefined at the point: null and why (the command itself succeeds)
    out = json.loads(ok("diff", "sqrt(x)", "x=0", "--json"))
    assert out["value"] is None and out["error"].startswith("division by zero")


def test_diff_wrt_an_assigned_name():
    assert ok("diff", "e = x*y\nL = e*e + e", "--wrt", "e") == "e = x*y\ne + 1 + e\n"


@pytest.mark.parametrize("args,fragment", [
    (["diff", "x*y"], "diff needs --wrt NAME"),
    (["diff", "x*y", "--wrt", "q"], "--wrt `q` is not a name"),
    (["diff", "x*y", "--wrt", "x,y"], "diff takes one --wrt name"),
    (["diff", "e = x*y; e*e", "--wrt", "e", "--order", "2"], "--order 2 needs a leaf"),
    (["diff", "x*y+", "--wrt", "x"], "1:5"),
    (["diff", "foo(x)", "--wrt", "x"], "unknown function `foo`"),
    (["diff", "x*y", "q=1", "--wrt", "x"], "`q` is not a name in the program"),
    (["diff", "x*y", "--wrt", "x", "--order", "0"], "--order"),
])
def test_diff_errors(args, fragment):
    assert fragment in fails(2, *args)


# ---------------------------------------------------------------- hessian

def test_hessian_tsv_when_piped():
    assert ok("hessian", "x**2*y + y**3", "x=1", "y=2") == "\tx\ty\nx\t4.0\t2.0\ny\t2.0\t12.0\n"


def test_hessian_wrt_some_leaves():
    assert ok("hessian", "x**2*y + y**3", "x=1", "y=2", "--wrt", "y") == "\ty\ny\t12.0\n"


def test_hessian_json():
    out = json.loads(ok("hessian", "x**2*y + y**3", "x=1", "y=2", "--json"))
    assert out == {"value": 10.0, "grad": {"x": 4.0, "y": 13.0}, "names": ["x", "y"],
                   "hessian": [[4.0, 2.0], [2.0, 12.0]]}


def test_hessian_table():
    out = ok("hessian", "x**2*y + y**3", "x=1", "y=2", "--table")
    lines = [line.split() for line in out.splitlines() if line.strip()]
    assert lines[0] == ["value", "=", "10.0"]
    assert ["x", "4", "2"] in lines and ["y", "2", "12"] in lines


def test_hessian_without_leaves():
    assert ok("hessian", "2*3") == ""
    assert "no leaves" in ok("hessian", "2*3", "--table")
    assert json.loads(ok("hessian", "2*3", "--json"))["hessian"] == []


def test_hessian_of_the_micrograd_example_is_symmetric():
    out = ok("hessian", "-f", str(EXAMPLES / "micrograd_readme.grad"), "--json")
    h = json.loads(out)["hessian"]
    assert h[0][1] == pytest.approx(h[1][0], rel=1e-12)


@pytest.mark.parametrize("args,code,fragment", [
    (["hessian", "sqrt(x)", "x=0"], 1, "the derivative of `sqrt(0)` is not finite"),
    (["hessian", "x**1.5", "x=0"], 1, "not finite"),
    (["hessian", "log(x)", "x=0"], 1, "log"),
    (["hessian", "x*y", "x=1"], 2, "missing input: `y`"),
    (["hessian", "e = x*y; e*e", "x=1", "y=2", "--wrt", "e"], 2, "hessian needs leaves"),
    (["hessian", "x*y", "x=1", "y=2", "--wrt", "z"], 2, "--wrt `z` is not a name"),
])
def test_hessian_errors(args, code, fragment):
    err = fails(code, *args)
    assert fragment in err


def test_hessian_domain_error_points_into_the_source():
    err = fails(1, "hessian", "y + x**1.5", "x=0", "y=1")
    assert " --> 1:6" in err and "y + x**1.5" in err


# ------------------------------------------------------- a real process

def test_derivative_programs_run_as_programs():
    r = shell("gradcli eval \"$(gradcli diff 'tanh(w*x)' --wrt w)\" w=0.5 x=2")
    g = shell("gradcli grad 'tanh(w*x)' w=0.5 x=2 --wrt w")
    assert (r.returncode, r.stderr) == (0, "")
    assert float(r.stdout) == pytest.approx(float(g.stdout), rel=1e-15)


def test_every_example_derivative_piped_into_eval_gives_grad():
    for path in sorted(EXAMPLES.glob("*.grad")):
        grads = shell(f"gradcli grad -f {path}").stdout.splitlines()
        for line in grads:
            name, value = line.split("\t")
            r = shell(f"gradcli diff -f {path} --wrt {name} | gradcli eval -")
            assert r.returncode == 0, r.stderr
            assert float(r.stdout) == pytest.approx(float(value), rel=1e-12, abs=1e-12), (path.name, name)


def test_second_derivative_program_runs():
    r = shell("gradcli eval \"$(gradcli diff 'x**3 - 2*x' --wrt x --order 2)\" x=1.5")
    assert r.stdout == "9.0\n"


def test_errors_leave_stdout_empty_in_a_process():
    r = shell("gradcli hessian 'sqrt(x)' x=0")
    assert (r.returncode, r.stdout) == (1, "")
    assert "sqrt" in r.stderr and "Traceback" not in r.stderr
