"""Every option a command takes does something (issue 12): --precision on
eval and grad, --all with --json and in plain output, --on-error only with
--at, hessian --precision in plain output; diff --json's value is tested in
test_symbolic_cli.py."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

import gradcli
from gradcli.cli import app

L = ["L = (a*b + c) * f", "a=2", "b=-3", "c=10", "f=-2"]


def ok(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    return result.stdout


def test_eval_precision_in_plain_output_and_the_table():
    assert ok("eval", "1/3") == "0.3333333333333333\n"
    assert ok("eval", "1/3", "--precision", "3") == "0.333\n"
    assert ok("eval", "1/3", "--precision", "3", "--table").splitlines()[0] == "value = 0.333"
    assert json.loads(ok("eval", "1/3", "--precision", "3", "--json")) == {"value": 1 / 3}   # JSON is full


def test_grad_precision():
    assert ok("grad", "x/3", "x=1", "--precision", "2") == "x\t0.33\n"
    assert ok("grad", "x/3 + y", "x=1", "y=2", "--precision", "2", "--wrt", "x") == "0.33\n"
    table = ok("grad", "x/3", "x=1", "--precision", "2", "--table")
    assert table.splitlines()[0] == "value = 0.33" and " 0.33 " in table


def test_grad_all_json_has_every_node():
    out = json.loads(ok("grad", *L, "--all", "--json"))
    assert out["value"] == -8.0 and out["grad"] == {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}
    graph = gradcli.build(gradcli.parse(L[0]), {"a": 2, "b": -3, "c": 10, "f": -2})
    graph.gradients()
    assert len(out["nodes"]) == len(graph.nodes)
    for item, node in zip(out["nodes"], graph.nodes):
        assert item["id"] == f"n{node.index}"
        assert item["data"] == node.data and item["grad"] == node.grad
        assert item["inputs"] == [f"n{c.index}" for c in node.children]
    assert out["nodes"][2] == {"id": "n2", "name": None, "op": "*", "inputs": ["n0", "n1"], "kind": "op",
                               "data": -6.0, "grad": -2.0}
    assert out["nodes"][-1]["name"] == "L" and out["nodes"][-1]["kind"] == "output"


def test_a_numbers_grad_is_null_not_zero():
    out = json.loads(ok("grad", "2*x", "x=1", "--all", "--json"))
    (const,) = [n for n in out["nodes"] if n["kind"] == "const"]
    assert const["data"] == 2.0 and const["grad"] is None


def test_eval_all_json_has_data_only():
    out = json.loads(ok("eval", *L, "--all", "--json"))
    assert out["value"] == -8.0 and "grad" not in out
    assert [n["data"] for n in out["nodes"]] == [2.0, -3.0, -6.0, 10.0, 4.0, -2.0, -8.0]
    assert all("grad" not in n for n in out["nodes"])


def test_grad_all_plain_is_one_tab_separated_line_per_node():
    lines = ok("grad", *L, "--all").splitlines()
    assert lines[0] == "id\tname\top\tinputs\tkind\tdata\tgrad"
    assert lines[1] == "n0\ta\t\t\tinput\t2.0\t6.0"
    assert lines[3] == "n2\t\t*\tn0 n1\top\t-6.0\t-2.0"
    assert lines[-1] == "n6\tL\t*\tn4 n5\toutput\t-8.0\t1.0"
    assert len(lines) == 8


def test_eval_all_plain_has_no_grad_column():
    lines = ok("eval", *L, "--all").splitlines()
    assert lines[0] == "id\tname\top\tinputs\tkind\tdata"
    assert len(lines) == 8


def test_hessian_precision_in_plain_output():
    assert ok("hessian", "x**2*y/3", "x=1", "y=2", "--precision", "3") == \
        "\tx\ty\nx\t1.33\t0.667\ny\t0.667\t0\n"
    assert ok("hessian", "x**2*y/3", "x=1", "y=2").splitlines()[1] == "x\t1.3333333333333333\t0.6666666666666666"


@pytest.mark.parametrize("command", ["eval", "grad"])
def test_on_error_without_at_is_an_error(command):
    result = CliRunner().invoke(app, [command, "x", "x=1", "--on-error", "skip"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "error: --on-error applies to --at POINTS, which is not given\n"


def test_precision_never_shows_negative_zero():
    assert ok("eval", "-1e-30", "--precision", "2") == "-1e-30\n"
    assert ok("eval", "0*-1") == "0.0\n"
    assert ok("eval", "0*-1", "--precision", "3") == "0\n"
    assert not math.copysign(1, float(ok("eval", "0*-1", "--precision", "3"))) < 0
