"""The command line, through typer's CliRunner and through a real process:
outputs, options anywhere, bindings, exit statuses, and clean errors."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from gradcli.cli import app
from tests.conftest import EXAMPLES, ROOT

L = ["(a*b+c)*f", "a=2", "b=-3", "c=10", "f=-2"]


def run(*args: str, input: str | None = None):
    runner = CliRunner()
    return runner.invoke(app, list(args), input=input)


def ok(*args: str, input: str | None = None) -> str:
    result = run(*args, input=input)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    return result.stdout


def fails(code: int, *args: str, input: str | None = None) -> str:
    result = run(*args, input=input)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return result.stderr


# ---------------------------------------------------------------- outputs

def test_grad_prints_one_line_per_leaf():
    assert ok("grad", *L) == "a\t6.0\nb\t-4.0\nc\t-2.0\nf\t4.0\n"


def test_grad_wrt_one_name_prints_it_alone():
    assert ok("grad", *L, "--wrt", "a") == "6.0\n"


def test_grad_wrt_repeated_and_comma_separated():
    assert ok("grad", *L, "--wrt", "f", "--wrt", "a") == "f\t4.0\na\t6.0\n"
    assert ok("grad", *L, "--wrt", "f,a") == "f\t4.0\na\t6.0\n"


def test_grad_wrt_an_intermediate():
    assert ok("grad", "d = a*b + c; L = d*f", "a=2", "b=-3", "c=10", "f=-2", "--wrt", "d") == "-2.0\n"


def test_eval_prints_the_value_alone():
    assert ok("eval", "-f", str(EXAMPLES / "micrograd_readme.grad")) == "24.70408163265306\n"


def test_json():
    assert json.loads(ok("eval", *L, "--json")) == {"value": -8.0}
    out = ok("grad", *L, "--json")
    assert out.count("\n") == 1
    data = json.loads(out)
    assert data == {"value": -8.0, "grad": {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}}
    assert list(data["grad"]) == ["a", "b", "c", "f"]


def test_json_full_precision():
    data = json.loads(ok("grad", "-f", str(EXAMPLES / "micrograd_readme.grad"), "--json"))
    assert data["value"] == 24.70408163265306
    assert abs(data["grad"]["a"] - 138.83381924198252) < 1e-9
    assert abs(data["grad"]["b"] - 645.5772594752187) < 1e-9


def test_output_name():
    program = "y = a*2\nz = y + 1"
    assert ok("eval", program, "a=3") == "7.0\n"
    assert ok("eval", program, "a=3", "--of", "y") == "6.0\n"
    assert ok("grad", program, "a=3", "--of", "y") == "a\t2.0\n"


def test_defaults_and_overrides():
    program = "a = -4.0\nb = 2\ny = a*b"
    assert ok("eval", program) == "-8.0\n"
    assert ok("eval", program, "a=1") == "2.0\n"
    assert ok("eval", program, "a=1", "a=3") == "6.0\n"   # the last binding wins
    assert ok("grad", program, "b=+1e-3", "--wrt", "a") == "0.001\n"


def test_no_negative_zero():
    assert ok("eval", "-x*0", "x=1") == "0.0\n"


# -------------------------------------------------- where the program comes from

def test_program_from_stdin():
    assert ok("grad", "-", "x=3", input="y = x**2\n") == "x\t6.0\n"


def test_program_from_file_with_bindings(tmp_path):
    f = tmp_path / "p.grad"
    f.write_text("y = x**2 + k\n")
    assert ok("grad", "-f", str(f), "x=3", "k=1") == "x\t6.0\nk\t1.0\n"
    assert ok("grad", "x=3", "--file", str(f), "k=1", "--wrt", "x") == "6.0\n"


def test_program_starting_with_minus():
    assert ok("eval", "-a**2", "a=3") == "-9.0\n"
    assert ok("eval", "--", "-a**2", "a=3") == "-9.0\n"
    assert ok("eval", "-a*b", "a=3", "b=-2", "--json") == '{"value": 6.0}\n'
    assert ok("grad", "-x", "x=1", "--wrt", "x") == "-1.0\n"


def test_options_before_and_after_arguments():
    assert ok("grad", "--wrt", "a", "--json", *L) == ok("grad", *L, "--json", "--wrt", "a")
    assert ok("grad", "--wrt=a", *L) == "6.0\n"


def test_crlf_and_bom(tmp_path):
    f = tmp_path / "p.grad"
    f.write_bytes("\ufeffy = x*2\r\ny += 1\r\n".encode("utf-8"))
    assert ok("eval", "-f", str(f), "x=1") == "3.0\n"


# ------------------------------------------------------------------ errors

def test_syntax_error_exit_2_with_place():
    err = fails(2, "eval", "-", input="(a*b+\n")
    assert err == (
        "syntax error: expected a number, a name, `(` or a sign, found the end of the input\n"
        " --> <stdin>:1:6\n"
        "  |\n"
        "1 | (a*b+\n"
        "  |      ^\n"
        "  = note: the `(` at 1:1 is never closed\n")


def test_syntax_error_in_a_file_names_it(tmp_path):
    f = tmp_path / "bad.grad"
    f.write_text("x = 1\ny = x +* 2\n")
    err = fails(2, "eval", "-f", str(f))
    assert f" --> {f}:2:8\n" in err
    assert "2 | y = x +* 2\n" in err
    assert "  |        ^\n" in err


def test_empty_program():
    assert "the program has no statement" in fails(2, "eval", "# nothing\n;")


def test_unknown_function():
    err = fails(2, "eval", "sigmod(x)", "x=1")
    assert err.startswith("error: unknown function `sigmod`\n --> 1:1\n")
    assert "did you mean `sigmoid`" in err


def test_missing_inputs_are_all_listed():
    err = fails(2, "grad", "a*b + c", "b=1")
    assert err.startswith("error: missing inputs: `a` and `c`\n")
    assert "give a=VALUE c=VALUE after the program" in err


@pytest.mark.parametrize("binding,fragment", [
    ("a", "`a` is not a binding: expected NAME=VALUE"),
    ("a=", "`` is not a number"),
    ("a=inf", "`inf` is not a number"),
    ("a=nan", "`nan` is not a number"),
    ("a=0x10", "`0x10` is not a number"),
    ("a=1_0", "`1_0` is not a number"),
    ("a=--1", "`--1` is not a number"),
    ("a=1e999", "too large"),
    ("1a=2", "`1a` is not a name"),
])
def test_bad_bindings(binding, fragment):
    assert fragment in fails(2, "eval", "a+1", binding)


def test_binding_a_name_that_is_not_a_leaf():
    err = fails(2, "eval", "y = a*2", "a=1", "y=3")
    assert "`y` is computed by the program, not a leaf" in err
    err = fails(2, "eval", "y = a*2", "a=1", "b=3")
    assert "`b` is not a name in the program" in err


def test_unknown_wrt_and_output():
    assert "--wrt `q` is not a name in the program" in fails(2, "grad", *L, "--wrt", "q")
    err = fails(2, "grad", *L, "--wrt", "aa")
    assert "did you mean `a`" in err
    assert "--of `zz` is not a name in the program" in fails(2, "eval", *L, "--of", "zz")


def test_unreadable_file_and_bad_utf8(tmp_path):
    assert "cannot read `/nonexistent/p.grad`" in fails(2, "eval", "-f", "/nonexistent/p.grad")
    f = tmp_path / "latin1.grad"
    f.write_bytes(b"y = x * 2 # caf\xe9\n")
    assert "is not valid UTF-8 (byte 15 is 0xe9)" in fails(2, "eval", "-f", str(f), "x=1")


@pytest.mark.parametrize("args,fragment", [
    (["eval", "log(x)", "x=0"], "log needs a positive number: `log(0)`"),
    (["eval", "x/y", "x=1", "y=0"], "division by zero: `1 / 0`"),
    (["eval", "exp(x)", "x=1000"], "the result overflows: `exp(1000)`"),
    (["grad", "sqrt(x)", "x=0"], "the derivative of `sqrt(0)` is not finite"),
    (["grad", "x**y", "x=-2", "y=2"], "with respect to operand 2 is not finite"),
])
def test_math_errors_exit_1(args, fragment):
    err = fails(1, *args)
    assert err.startswith("math error: ")
    assert fragment in err
    assert " --> 1:" in err


def test_unknown_option_is_a_usage_error():
    result = run("eval", "a", "a=1", "--jsn")
    assert result.exit_code == 2
    assert result.stdout == ""


# ------------------------------------------------------------------- tables

def test_table_on_request():
    out = ok("grad", *L, "--table")
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines[0] == "value = -8.0"
    assert any(line.split()[:6] == ["n0", "a", "input", "2", "6"] or line.split() == ["n0", "a", "input", "2", "6"]
               for line in lines)
    assert any(line.split() == ["n6", "*", "output", "-8", "1"] for line in lines)


def test_table_golden():
    """The table for people, from a pinned rich Console."""
    from rich.console import Console

    import gradcli
    from gradcli import render

    graph = gradcli.build(gradcli.parse("L = (a*b + c) * f"), {"a": 2, "b": -3, "c": 10, "f": -2})
    grads = graph.gradients()
    buf = io.StringIO()
    Console(file=buf, width=80, color_system=None, force_terminal=False).print(
        render.table(graph, list(grads), every=True))
    assert [line.rstrip() for line in buf.getvalue().splitlines()] == [
        "",
        "  id   name   op   inputs   kind     data   grad",
        " ────────────────────────────────────────────────",
        "  n0   a                    input       2      6",
        "  n1   b                    input      -3     -4",
        "  n2          *    n0 n1               -6     -2",
        "  n3   c                    input      10     -2",
        "  n4          +    n2 n3                4     -2",
        "  n5   f                    input      -2      4",
        "  n6   L      *    n4 n5    output     -8      1",
        "",
    ]


def test_eval_table_and_plain_flags():
    assert ok("eval", *L, "--table").startswith("value = -8.0\n")
    assert ok("eval", *L, "--plain") == "-8.0\n"


# ---------------------------------------------------------- a real process

def gradcli_exe() -> str:
    exe = os.path.join(os.path.dirname(sys.executable), "gradcli")
    return exe if os.path.exists(exe) else "gradcli"


def proc(*args: str, input: str | None = None, env: dict | None = None):
    return subprocess.run([gradcli_exe(), *args], input=input, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60)


def test_subprocess_grad_and_eval():
    r = proc("grad", *L, "--wrt", "a")
    assert (r.returncode, r.stdout, r.stderr) == (0, "6.0\n", "")
    r = proc("eval", "-f", str(EXAMPLES / "micrograd_readme.grad"))
    assert (r.returncode, r.stdout) == (0, "24.70408163265306\n")


def test_subprocess_stdin_json():
    r = proc("grad", "-", "x1=2", "x2=0", "w1=-3", "w2=1", "b=6.8813735870195432", "--json",
             input="o = tanh(x1*w1 + x2*w2 + b)\n")
    assert r.returncode == 0
    data = json.loads(r.stdout)
    assert data["value"] == pytest.approx(0.7071067811865477)
    assert data["grad"]["w1"] == pytest.approx(1.0) and data["grad"]["w2"] == 0.0


def test_subprocess_errors_are_clean():
    r = proc("eval", "-", input="(a*b+\n")
    assert r.returncode == 2 and r.stdout == ""
    assert "1:6" in r.stderr and "Traceback" not in r.stderr
    r = proc("eval", "log(x)", "x=-1")
    assert r.returncode == 1 and r.stdout == "" and "`log(-1)`" in r.stderr
    r = proc("eval", "-f", str(ROOT / "no-such-file.grad"))
    assert r.returncode == 2 and r.stdout == "" and "cannot read" in r.stderr


def test_subprocess_python_m_and_version():
    r = subprocess.run([sys.executable, "-m", "gradcli", "eval", "2**-1"], capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout) == (0, "0.5\n")
    r = proc("--version")
    assert r.returncode == 0 and r.stdout.startswith("gradcli ")


def test_subprocess_no_color_table():
    r = proc("grad", *L, "--table", env={"NO_COLOR": "1", "FORCE_COLOR": ""})
    assert r.returncode == 0 and "\x1b[" not in r.stdout
    assert "output" in r.stdout


def test_subprocess_broken_pipe_is_quiet():
    program = " + ".join(f"x{i}" for i in range(3000))
    bindings = [f"x{i}=1" for i in range(3000)]
    p = subprocess.Popen([gradcli_exe(), "grad", program, *bindings], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert "Traceback" not in err


def test_table_marks_a_leaf_that_is_the_output():
    out = ok("grad", "y = 3", "--table")
    assert any(line.split() == ["n0", "y", "leaf,", "output", "3", "1"] for line in out.splitlines())


# ---------------------------------- a long line is echoed around the caret (issue 25)

def test_a_long_line_is_clipped_around_the_caret():
    program = " + ".join(f"x{i}" for i in range(300)) + " + ) + y"
    err = fails(2, "eval", program)
    lines = err.splitlines()
    assert lines[0] == "syntax error: expected a number, a name, `(` or a sign, found `)`"
    echoed, caret = lines[3], lines[4]
    assert echoed.startswith("1 | …") and echoed.endswith(" + ) + y") and len(echoed) <= 4 + 101
    assert echoed[caret.index("^")] == ")" and caret.count("^") == 1
    assert len(err) < 400


def test_a_long_line_ending_in_the_error_shows_its_end():
    program = " + ".join(f"x{i}" for i in range(40)) + " +"
    lines = fails(2, "eval", program).splitlines()
    assert lines[3].endswith("x38 + x39 +") and lines[3].startswith("1 | …")
    assert lines[4].index("^") == len(lines[3])          # the caret just past the end


def test_a_short_line_is_echoed_whole():
    assert fails(2, "eval", "a + ) + b").splitlines()[3:5] == ["1 | a + ) + b", "  |     ^"]


def test_force_color_colours_errors_in_a_pipe():
    r = proc("eval", "a +", env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    assert r.stderr.startswith("\x1b[1;31msyntax error\x1b[0m")
    r = proc("eval", "a +", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert r.stderr.startswith("syntax error:")


# --------------------------------------- a word on long work (issue 25, item 7)

def _accumulator(statements: int) -> str:
    return "x = 0.5\nacc = 0\n" + "".join(f"acc += x*{k % 7 + 1}\n" for k in range(statements))


def test_a_long_build_says_what_it_is_doing_on_a_terminal(tmp_path):
    """GRADCLI_PROGRESS_AFTER=0: the status line from the start (1 s by
    default), erased before the output, in a real pty."""
    pexpect = pytest.importorskip("pexpect")
    program = tmp_path / "acc.grad"
    program.write_text(_accumulator(20000))
    env = {**os.environ, "GRADCLI_PROGRESS_AFTER": "0", "NO_COLOR": "1", "TERM": "xterm"}
    child = pexpect.spawn(gradcli_exe(), ["eval", "-f", str(program), "--plain"], env=env, dimensions=(24, 80),
                          encoding="utf-8", timeout=120)
    child.expect(pexpect.EOF)
    child.close()
    shown = child.before
    assert child.exitstatus == 0
    assert re.search(r"\r\x1b\[Kgradcli: (parsing|building and running) the program \(0\.\d MB\)\.\.\. \d+ s", shown)
    assert shown.endswith("\r\x1b[K39998.5\r\n")          # erased, then the output as ever


def test_no_word_on_long_work_when_standard_error_is_not_a_terminal(tmp_path):
    program = tmp_path / "acc.grad"
    program.write_text(_accumulator(20000))
    r = proc("eval", "-f", str(program), env={"GRADCLI_PROGRESS_AFTER": "0"})
    assert (r.returncode, r.stdout, r.stderr) == (0, "39998.5\n", "")


def test_ctrl_c_during_descend_says_the_step_and_loss_reached(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    log = tmp_path / "fit.csv"
    log.write_text("what was there\n")
    child = pexpect.spawn(gradcli_exe(), ["descend", "(w*x - y)**2", "w=0.5", "x=2", "y=3", "--wrt", "w",
                                          "--steps", "100000000", "--lr", "1e-9", "--log", str(log)],
                          env={**os.environ, "NO_COLOR": "1", "TERM": "xterm"}, dimensions=(24, 80),
                          encoding="utf-8", timeout=60)
    child.expect(r"loss \d")                          # the progress bar: steps are being taken
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    m = re.search(r"interrupted at step ([\d,]+) of 100,000,000: loss (\S+), at w=(\S+)\r\n", child.before)
    assert m, child.before
    k, loss, w = int(m.group(1).replace(",", "")), float(m.group(2)), float(m.group(3))
    assert loss == pytest.approx((w * 2 - 3) ** 2, rel=1e-4)     # the loss at the parameters shown
    assert w == pytest.approx(0.5 + 8e-9 * k, abs=1e-6)          # each step moves w by lr * 4 * (3 - 2w)
    assert "Traceback" not in child.before
    assert log.read_text() == "what was there\n"                  # --log: whole or not at all


@pytest.mark.parametrize("columns,echoed,caret", [
    (40, "1 | … x296 + x297 + x298 + x299 + ) + y", "  |                               ^"),
    (80, "1 | …290 + x291 + x292 + x293 + x294 + x295 + x296 + x297 + x298 + x299 + ) + y",
         "  |                                                                       ^"),
])
def test_a_long_line_is_clipped_to_the_terminal_in_a_pty(columns, echoed, caret):
    pexpect = pytest.importorskip("pexpect")
    program = " + ".join(f"x{i}" for i in range(300)) + " + ) + y"
    child = pexpect.spawn(gradcli_exe(), ["eval", program], env={**os.environ, "NO_COLOR": "1", "TERM": "xterm"},
                          dimensions=(24, columns), encoding="utf-8", timeout=60)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert child.before.replace("\r\n", "\n") == (
        "syntax error: expected a number, a name, `(` or a sign, found `)`\n"
        " --> 1:1991\n"
        "  |\n"
        f"{echoed}\n"
        f"{caret}\n"
        "  = note: there is no `(` for this `)` to close\n")
