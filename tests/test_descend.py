"""gradcli descend: gradient descent on the leaves."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradcli import build, parse
from gradcli.cli import app
from gradcli.descend import descend, parameters
from gradcli.errors import DomainError, InputError

from tests.conftest import EXAMPLES

runner = CliRunner()
LINE = str(EXAMPLES / "fit_line.grad")


def gradcli(*args):
    """A real gradcli process, as a shell script would run it."""
    exe = Path(sys.executable).with_name("gradcli")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "gradcli"]
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(cmd + list(args), capture_output=True, text=True, env=env, timeout=60)


def test_quadratic_reaches_its_minimum():
    g = build(parse("(w*x - y)**2"), {"w": 0.5, "x": 2, "y": 3})
    result = descend(g, ["w"], lr=0.05, steps=100)
    assert result.params["w"] == pytest.approx(1.5, abs=1e-12)
    assert result.loss < 1e-20 and result.first == 4.0 and result.steps == 100
    assert g.leaves["x"].data == 2.0      # only w moved


def test_each_step_lowers_the_loss_on_a_convex_fit():
    g = build(parse(Path(LINE).read_text()), {})
    losses = []
    result = descend(g, ["w", "b"], lr=0.05, steps=1000, on_step=lambda k, loss, v: losses.append(loss))
    assert len(losses) == 1001
    # lr is below 2 / (the largest curvature): every step lowers the loss,
    # up to rounding once it has settled at the minimum
    assert all(b <= a + 1e-15 for a, b in zip(losses, losses[1:]))
    assert losses[0] == pytest.approx(40.725) and losses[100] < 0.1
    # least squares by hand: w = Sxy/Sxx = 9.7/5, b = mean(y) - w*mean(x)
    assert result.params["w"] == pytest.approx(1.94, abs=1e-6)
    assert result.params["b"] == pytest.approx(1.15, abs=1e-6)
    assert result.loss == pytest.approx(0.0205, abs=1e-10)


def test_one_step_is_the_lecture_update():
    g = build(parse("(a*b+c)*f"), {"a": 2, "b": -3, "c": 10, "f": -2})
    result = descend(g, list(g.leaves), lr=0.01, steps=1, maximize=True)
    # grads 6, -4, -2, 4: each leaf moves by 0.01 * grad, and L goes up
    assert result.params == pytest.approx({"a": 2.06, "b": -3.04, "c": 9.98, "f": -1.96})
    assert result.loss > result.first == -8.0


def test_tol_stops_early():
    g = build(parse("(w - 3)**2"), {"w": 0})
    result = descend(g, ["w"], lr=0.1, steps=10_000, tol=1e-6)
    assert result.stopped == "tol" and result.steps < 100
    assert abs(result.grads["w"]) <= 1e-6


def test_divergence_names_the_step():
    g = build(parse("w**4"), {"w": 2})
    with pytest.raises(DomainError) as e:
        descend(g, ["w"], lr=1.0, steps=100)
    assert e.value.message.startswith("step ")
    assert any("try a smaller one, such as --lr 0.1" in n for n in e.value.notes)


def test_parameters_must_be_leaves():
    g = build(parse("y = a * 2; y + b"), {"a": 1, "b": 2})
    assert parameters(g, None) == ["a", "b"]
    with pytest.raises(InputError, match="computed by the program"):
        parameters(g, ["y"])
    with pytest.raises(InputError, match="not a name"):
        parameters(g, ["q"])


# ---------------------------------------------------------------- the CLI

def test_issue_commands_round_trip():
    out = gradcli("descend", "(w*x - y)**2", "w=0.5", "x=2", "y=3", "--wrt", "w", "--lr", "0.05", "--steps", "100")
    assert out.returncode == 0 and out.stderr == ""
    assert out.stdout == "w=1.4999999999999998\n"
    bindings = gradcli("descend", "(w*x - y)**2", "w=0.5", "x=2", "y=3", "--wrt", "w", "--steps", "100").stdout.split()
    assert [b.split("=")[0] for b in bindings] == ["w"]
    grad = gradcli("grad", "(w*x - y)**2", "x=2", "y=3", *bindings, "--wrt", "w")
    assert grad.returncode == 0
    assert abs(float(grad.stdout)) < 0.01          # much nearer the minimum than at w = 0.5 (grad -8)


def test_output_round_trips_for_every_leaf():
    out = runner.invoke(app, ["descend", "-f", LINE, "--lr", "0.05", "--steps", "1000"])
    assert out.exit_code == 0
    lines = out.stdout.splitlines()
    assert [line.split("=")[0] for line in lines] == ["w", "b"]
    value = runner.invoke(app, ["eval", "-f", LINE, *lines])
    assert float(value.stdout) == pytest.approx(0.0205, abs=1e-10)


def test_log_csv(tmp_path):
    log = tmp_path / "fit.csv"
    out = runner.invoke(app, ["descend", "-f", LINE, "--lr", "0.05", "--steps", "20", "--log", str(log)])
    assert out.exit_code == 0
    rows = list(csv.reader(log.open()))
    assert rows[0] == ["step", "loss", "w", "b"]
    assert [int(r[0]) for r in rows[1:]] == list(range(21))
    assert float(rows[1][1]) == pytest.approx((3.1**2 + 4.9**2 + 7.2**2 + 8.8**2) / 4)
    assert rows[1][2:] == ["0.0", "0.0"]
    losses = [float(r[1]) for r in rows[1:]]
    assert all(b < a for a, b in zip(losses, losses[1:]))
    # the last row is the printed result
    assert out.stdout.splitlines() == [f"w={rows[-1][2]}", f"b={rows[-1][3]}"]


def test_json_and_maximize():
    out = runner.invoke(app, ["descend", "-f", str(EXAMPLES / "lecture_L.grad"), "--maximize", "--steps", "1", "--json"])
    obj = json.loads(out.stdout)
    assert obj["initial"] == -8.0 and obj["value"] > -8.0 and obj["steps"] == 1
    assert obj["params"]["a"] == pytest.approx(2.06)


def test_divergence_exits_1_with_nothing_on_stdout():
    out = gradcli("descend", "(w*x - y)**2", "w=0.5", "x=2", "y=3", "--wrt", "w", "--lr", "0.5", "--steps", "1000")
    assert out.returncode == 1 and out.stdout == ""
    assert "math error: step " in out.stderr and "made the loss not finite" in out.stderr
    assert "try a smaller one, such as --lr 0.05" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("args, code, message", [
    (["x", "x=1", "--lr", "0"], 2, "--lr must be a positive number"),
    (["x*y", "x=1", "y=2", "--wrt", "z"], 2, "--wrt `z` is not a name in the program"),
    (["2*3"], 2, "no leaves"),
    (["x", "x=1", "--log", "/nonexistent/dir/log.csv"], 2, "cannot write the log"),
    (["log(x)", "x=-1"], 1, "log needs a positive number"),
])
def test_errors(args, code, message):
    out = runner.invoke(app, ["descend", *args])
    assert out.exit_code == code, out.output
    assert message in out.stderr and out.stdout == ""
