"""Reports render themselves (reports.py): the library's objects give the
very text the commands print, plain, JSON and rich."""

from __future__ import annotations

import json

import pytest
from rich.console import Console
from typer.testing import CliRunner

from gradcli import build, parse
from gradcli.check import check
from gradcli.cli import app
from gradcli.reports import CheckReport, EvalReport, ExplainReport, GradReport, HessianReport
from gradcli.symbolic import hessian

runner = CliRunner()
PROGRAM = "y = relu(a)*b + tanh(b)"
POINT = {"a": 0.0, "b": -1.5}
ARGS = [PROGRAM, "a=0", "b=-1.5"]


def graph():
    return build(parse(PROGRAM), POINT)


def reports():
    g = graph()
    yield "eval", EvalReport(g), []
    g = graph()
    yield "grad", GradReport(g, g.gradients()), []
    g = graph()
    yield "check", CheckReport(check(g), g), []
    g = graph()
    yield "explain", ExplainReport(g, "b"), ["--wrt", "b"]
    g = graph()
    yield "hessian", HessianReport(hessian(g, list(g.leaves)), g), []


@pytest.mark.parametrize("command", ["eval", "grad", "check", "explain", "hessian"])
def test_report_renderings_are_the_command_output(command):
    name, report, extra = next(r for r in reports() if r[0] == command)
    plain = runner.invoke(app, [command, *ARGS, *extra, "--plain"])
    assert plain.exit_code == (0 if report.ok else 1)
    assert plain.output == report.plain()
    as_json = runner.invoke(app, [command, *ARGS, *extra, "--json"])
    assert as_json.output == report.json()
    assert json.loads(report.json())["value"] == pytest.approx(graph().value)
    console = Console(record=True, width=100, color_system=None)
    for line in report.rich():
        console.print(line.item, style=line.style, soft_wrap=line.soft_wrap)
    shown = console.export_text()
    assert "y = " in shown
    table = runner.invoke(app, [command, *ARGS, *extra, "--table"], env={"COLUMNS": "100", "NO_COLOR": "1"})
    assert [line.rstrip() for line in table.output.splitlines()] == [line.rstrip() for line in shown.splitlines()]


def test_check_report_is_not_ok_when_a_gradient_disagrees():
    g = build(parse("x**3"), {"x": 1.3})
    report = CheckReport(check(g, rtol=0.0, atol=0.0), g)      # no finite difference is that exact
    assert report.ok is False and "FAIL: 1 of 1" in report.plain()
