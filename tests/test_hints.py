"""The usual first mistakes get a fix, in gradcli's own error style (issue
12): pinned texts through the command (CliRunner), and what depends on a
terminal (the stdin prompt, colour) through a real pty with pexpect."""

from __future__ import annotations

import os
import sys

import pytest
from typer.testing import CliRunner

from gradcli.cli import app
from gradcli.ops import FUNCTIONS
from tests.conftest import ROOT

GRADCLI = os.path.join(os.path.dirname(sys.executable), "gradcli")


def fails(code: int, *args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return result.stderr


def test_a_file_name_as_the_program_suggests_f(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert fails(2, "grad", "examples/lecture_L.grad") == (
        "syntax error: expected `(`, found the end of the input\n"
        " --> 1:24\n"
        "  |\n"
        "1 | examples/lecture_L.grad\n"
        "  |                        ^\n"
        "  = note: `examples/lecture_L.grad` is a file: read the program from it with "
        "`-f examples/lecture_L.grad`\n")


def test_a_program_that_is_no_file_gets_no_file_hint(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert "is a file" not in fails(2, "grad", "examples/lecture_L.grad")


def test_of_with_a_file_name_suggests_o():
    assert fails(2, "graph", "a*b", "a=1", "b=2", "--of", "out.svg") == (
        "error: --of `out.svg` is not a name in the program\n"
        "  = note: the program's names are `a` and `b`\n"
        "  = note: --of picks a node of the program, not a file; to write a file, use `-o out.svg`\n")


def test_the_older_output_works_with_a_note_and_still_hints_o():
    assert fails(2, "codegen", "a*b", "--output", "f.py") == (
        "note: --output is now called --of; --output still works for a while: write `--of f.py`\n"
        "error: --of `f.py` is not a name in the program\n"
        "  = note: the program's names are `a` and `b`\n"
        "  = note: --of picks a node of the program, not a file; to write a file, use `-o f.py`\n")


def test_older_spellings_work_with_a_note():
    result = CliRunner().invoke(app, ["eval", "y = a*2; z = y + 1", "a=3", "--output=y"])
    assert (result.exit_code, result.stdout) == (0, "6.0\n")
    assert result.stderr == "note: --output is now called --of; --output still works for a while: write `--of y`\n"
    result = CliRunner().invoke(app, ["codegen", "y = a*b", "--lang", "sql", "--table", "pts"])
    assert result.exit_code == 0 and "FROM pts" in result.stdout
    assert result.stderr == ("note: --table is now called --sql-table; --table still works for a while: "
                             "write `--sql-table pts`\n")
    result = CliRunner().invoke(app, ["check", "a*a", "a=1", "--h", "1e-4", "--plain"])
    assert result.exit_code == 0
    assert result.stderr == "note: --h is now called --step; --h still works for a while: write `--step 1e-4`\n"


def test_graph_out_is_the_file_and_no_longer_suggests_a_node_option():
    result = CliRunner().invoke(app, ["graph", "a*b", "a=1", "b=2", "--out", "-"])
    assert result.exit_code == 0 and result.stdout.startswith("digraph")


@pytest.mark.parametrize("step", ["1e-4", "0.001", ".5"])
def test_check_h_with_a_number_is_the_step_not_help(step):
    assert fails(2, "check", "a*a", "a=1", "-h", step) == (
        f"error: `-h {step}`: -h asks for help and takes no value\n"
        f"  = note: for the finite-difference step, write `--step {step}`\n")


@pytest.mark.parametrize("words,shown", [
    (["a", "=", "2"], "a = 2"),
    (["a=", "2"], "a= 2"),
    (["a", "=2"], "a =2"),
])
def test_a_binding_in_separate_words_says_write_it_as_one(words, shown):
    assert fails(2, "grad", "a*b", *words, "b=3") == (
        f"error: `{shown}`: a binding is one word, with no spaces\n"
        "  = note: write `a=2`\n")


def test_ln_is_log():
    assert fails(2, "eval", "ln(x)", "x=2") == (
        "error: unknown function `ln`\n"
        " --> 1:1\n"
        "  |\n"
        "1 | ln(x)\n"
        "  | ^^\n"
        "  = note: gradcli calls it `log`: write `log(x)`\n")


def test_arctan_names_atan_when_gradcli_has_it():
    note = fails(2, "eval", "arctan(x)", "x=2").splitlines()[-1]
    if "atan" in FUNCTIONS:
        assert note == "  = note: gradcli calls it `atan`: write `atan(x)`"
    else:
        assert note.startswith("  = note: gradcli has no `arctan` under any name; the functions are abs, ")


def test_log10_is_spelled_out():
    assert fails(2, "eval", "log10(x)", "x=1").splitlines()[-1] == \
        "  = note: gradcli has no `log10`: write `log(x)/log(10)`"


def test_pi_says_there_are_no_constants():
    assert fails(2, "eval", "pi*r**2", "r=1") == (
        "error: missing input: `pi`\n"
        " --> 1:1\n"
        "  |\n"
        "1 | pi*r**2\n"
        "  | ^^\n"
        "  = note: give pi=VALUE after the program\n"
        "  = note: gradcli has no built-in constants: bind pi=3.141592653589793\n")


def test_e_says_bind_it_or_use_exp():
    assert fails(2, "eval", "e**x", "x=1").splitlines()[-1] == (
        "  = note: gradcli has no built-in constants: bind e=2.718281828459045, or write `exp(x)` for e**x")


def test_value_from_the_lecture():
    assert fails(2, "eval", "a = Value(2.0)").splitlines()[-1] == (
        "  = note: gradcli needs no `Value(...)`: a number is a value, so write `a = 2.0` "
        "for the lecture's `a = Value(2.0)`")
    # with a label it is a syntax error (the `=` inside the call): the same advice
    assert fails(2, "eval", "a = Value(2.0, label='a')").splitlines()[-1] == (
        "  = note: gradcli needs no `Value(...)`: a number is a value, so write `a = 2.0` "
        "for the lecture's `a = Value(2.0, label='a')`")


def test_2x_says_2_times_x():
    assert fails(2, "eval", "3*2x + 1", "x=1") == (
        "syntax error: expected an operator, `)`, `,` or the end of the statement, found the name `x`\n"
        " --> 1:4\n"
        "  |\n"
        "1 | 3*2x + 1\n"
        "  |    ^\n"
        "  = note: `2x`: write `2*x`\n")
    # two names are not a number and a name: the general note stays
    assert "two values need an operator between them" in fails(2, "eval", "a b", "a=1", "b=2")


def test_x_to_the_1_over_2_warns_and_runs():
    result = CliRunner().invoke(app, ["eval", "x^1/2", "x=4"])
    assert result.exit_code == 0 and result.stdout == "2.0\n"
    assert result.stderr == (
        "warning: `x^1/2` is `(x^1)/2`: a power binds tighter than `/`, as in Python\n"
        " --> 1:2\n"
        "  |\n"
        "1 | x^1/2\n"
        "  |  ^^^^\n"
        "  = note: for the root, write `x^(1/2)`\n")
    # the root written as meant: no warning
    assert CliRunner().invoke(app, ["eval", "x^(1/2)", "x=4"]).stderr == ""


def test_798_missing_inputs_name_the_first_five_and_the_count():
    program = " + ".join(f"x{i}" for i in range(798))
    err = fails(2, "eval", program)
    lines = err.splitlines()
    assert lines[0] == "error: missing inputs: `x0`, `x1`, `x2`, `x3`, `x4` and 793 more"
    assert lines[-1] == "  = note: give x0=VALUE x1=VALUE x2=VALUE x3=VALUE x4=VALUE ... after the program"
    assert len(lines) <= 12


# ------------------------------------------------- usage errors: one style

def test_unknown_option_in_gradclis_style():
    assert fails(2, "grad", "x", "x=1", "--jsn") == (
        "error: no such option `--jsn` for `gradcli grad`\n"
        "  = note: did you mean `--json` or `--jobs`?\n"
        "  = note: `gradcli grad --help` lists the options\n")


def test_unknown_option_same_style_on_every_command():
    for command in ("eval", "graph", "check", "explain", "descend", "diff", "hessian"):
        err = fails(2, command, "x", "x=1", "--bogus")
        assert err.startswith(f"error: no such option `--bogus` for `gradcli {command}`\n"), err
        assert "Usage:" not in err and "Try '" not in err


def test_unknown_command():
    """Pinned, with the list of commands as the app has them (helpers add
    commands; the list is theirs, the wording this test's)."""
    import typer.main

    from gradcli.errors import words

    commands = list(typer.main.get_command(app).commands)
    assert commands[:3] == ["eval", "grad", "graph"] and "codegen" in commands
    assert fails(2, "gard", "x") == (
        "error: no such command `gard`\n"
        "  = note: did you mean `grad`?\n"
        f"  = note: the commands are {words([f'`{c}`' for c in commands])}\n")


def test_bad_option_value():
    assert fails(2, "eval", "x", "x=1", "--precision", "0") == (
        "error: invalid value for `--precision`: 0 is not in the range 1<=x<=17\n"
        "  = note: `gradcli eval --help` says what it takes\n")


def test_unknown_option_through_the_console_script_is_the_same():
    import subprocess

    r = subprocess.run([GRADCLI, "grad", "x", "x=1", "--wrtt", "x"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == fails(2, "grad", "x", "x=1", "--wrtt", "x")


# ------------------------------------------------------ in a real terminal

pexpect = pytest.importorskip("pexpect")


def spawn(*args: str, **env: str):
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES", "PAGER")}
    environ.update({"TERM": "xterm-256color", **env})
    return pexpect.spawn(GRADCLI, list(args), env=environ, encoding="utf-8", timeout=30,
                         dimensions=(40, 100))


def test_stdin_on_a_terminal_says_it_is_reading():
    child = spawn("grad", "-", "a=2", "b=3", "--plain", NO_COLOR="1")
    child.expect_exact("reading the program from standard input (Ctrl-D to end)")
    child.sendline("a*b")
    child.sendeof()
    child.expect_exact("a\t3.0")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_stdin_from_a_pipe_says_nothing():
    import subprocess

    r = subprocess.run([GRADCLI, "grad", "-", "a=2", "b=3"], input="a*b", capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "" and r.stdout == "a\t3.0\nb\t2.0\n"


def test_errors_are_coloured_on_a_terminal():
    child = spawn("eval", "(a*b+", "a=1", "b=2")
    child.expect(pexpect.EOF)
    child.close()
    text = child.before
    assert child.exitstatus == 2
    assert "\x1b[1;31msyntax error\x1b[0m" in text          # the heading
    assert "\x1b[1;31m^\x1b[0m" in text                     # the caret
    assert "\x1b[1;34m --> \x1b[0m1:6" in text


def test_no_color_means_no_colour_in_errors():
    child = spawn("eval", "(a*b+", "a=1", "b=2", NO_COLOR="1")
    child.expect(pexpect.EOF)
    child.close()
    assert "\x1b[" not in child.before
    assert child.before.replace("\r\n", "\n").startswith("syntax error: expected a number")


def test_errors_into_a_pipe_are_never_coloured():
    import subprocess

    r = subprocess.run([GRADCLI, "eval", "(a*b+", "a=1"], capture_output=True, text=True,
                       env={**os.environ, "TERM": "xterm-256color"})
    assert r.returncode == 2 and "\x1b" not in r.stderr


# ------------------------------------------ Python and lecture habits (issue 25)

@pytest.mark.parametrize("module,function,column", [("math", "sin", 6), ("np", "exp", 4), ("torch", "tanh", 7)])
def test_a_module_before_a_function_says_functions_need_none(module, function, column):
    program = f"{module}.{function}(x)"
    assert fails(2, "grad", program, "x=1") == (
        f"error: `{module}.{function}(...)`: gradcli's functions belong to no module\n"
        f" --> 1:{column}\n"
        "  |\n"
        f"1 | {program}\n"
        f"  | {' ' * (column - 1)}{'^' * len(function)}\n"
        f"  = note: write `{function}(x)`: `{module}.{function}(x)` reads as the method call "
        f"`{function}({module}, x)`\n")


def test_a_method_with_too_many_arguments_is_not_called_a_module():
    assert fails(2, "grad", "y.sin(x)", "x=1", "y=2").startswith("error: `sin` takes 1 argument, not 2\n")


def test_micrograd_data_attribute_says_a_name_is_its_value():
    assert fails(2, "grad", "a.data * 2", "a=1") == (
        "syntax error: expected `(`, found `*`\n"
        " --> 1:8\n"
        "  |\n"
        "1 | a.data * 2\n"
        "  |        ^\n"
        "  = note: `a.data` is micrograd's attribute; in gradcli a name is its value: write `a`\n")


def test_micrograd_grad_attribute_points_to_grad():
    assert fails(2, "eval", "y = a*b; y.grad + 1", "a=1", "b=2").endswith(
        "  = note: `y.grad` is micrograd's attribute; in gradcli a name is its value: gradients are what "
        "`gradcli grad` prints (`--wrt y`)\n")


@pytest.mark.parametrize("program,column,written,bound", [
    ("f(x) = x**2", 6, "f = x**2", "x=..."),
    ("loss(w, b) = (w*2 + b - 1)**2", 12, "loss = (w*2 + b - 1)**2", "w=... b=..."),
])
def test_a_function_definition_says_the_program_is_the_body(program, column, written, bound):
    assert fails(2, "grad", program, "x=1") == (
        "syntax error: expected an operator, `)`, `,` or the end of the statement, found `=`\n"
        f" --> 1:{column}\n"
        "  |\n"
        f"1 | {program}\n"
        f"  | {' ' * (column - 1)}^\n"
        "  = note: gradcli has no function definitions: the program is the function's body; "
        f"write `{written}` and bind {bound} after it\n")


@pytest.mark.parametrize("word,written", [("x=3,y=2", "x=3 y=2"), ("x=3, y=-2", "x=3 y=-2"), ("x=1;y=2", "x=1 y=2")])
def test_a_list_of_bindings_says_separate_words(word, written):
    assert fails(2, "grad", "x*y", word) == (
        f"error: `{word}`: bindings are separate words, not a list\n"
        f"  = note: write `{written}`\n")


def test_a_short_option_that_does_not_exist_suggests_the_long_one():
    assert fails(2, "grad", "x*y", "x=3", "y=2", "-p", "3") == (
        "error: no such option `-p` for `gradcli grad`\n"
        "  = note: did you mean `--precision 3`?\n"
        "  = note: `gradcli grad --help` lists the options\n")
    assert fails(2, "explain", "x*y", "x=3", "y=2", "-p", "3") == (
        "error: no such option `-p` for `gradcli explain`\n"
        "  = note: did you mean `--paths 3` or `--precision 3`?\n"
        "  = note: `gradcli explain --help` lists the options\n")


def test_a_short_option_through_the_console_script_says_the_same():
    """The fast path leaves `-p` to typer: the same message, not "not a binding"."""
    import subprocess

    r = subprocess.run([GRADCLI, "grad", "x*y", "x=3", "y=2", "-p", "3"], capture_output=True, text=True)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr.startswith("error: no such option `-p` for `gradcli grad`\n  = note: did you mean `--precision 3`?")


def test_a_program_that_is_a_negative_number_is_still_a_program():
    result = CliRunner().invoke(app, ["eval", "-a**2", "a=3"])
    assert (result.exit_code, result.stdout) == (0, "-9.0\n")


def test_a_missing_file_given_as_the_program_says_it_looks_like_a_file(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert fails(2, "grad", "mymodel.grad") == (
        "syntax error: expected `(`, found the end of the input\n"
        " --> 1:13\n"
        "  |\n"
        "1 | mymodel.grad\n"
        "  |             ^\n"
        "  = note: `mymodel.grad` looks like a file name, but there is no such file here; to read the "
        "program from a file, use `-f FILE`\n")
    assert "looks like a file name" in fails(2, "eval", "models/net.txt")


def test_a_forgotten_program_warns_and_still_runs():
    result = CliRunner().invoke(app, ["grad", "a=2"])
    assert (result.exit_code, result.stdout) == (0, "a\t1.0\n")
    assert result.stderr == (
        "warning: the program is `a=2`, which reads like a binding: was the program forgotten?\n"
        "  = note: the program comes first, then the bindings: `\"a*b\" a=2 b=3`; a program that only "
        "sets a leaf reads better with spaces: `\"a = 2\"`\n")
    result = CliRunner().invoke(app, ["grad", "a = 2"])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "a\t1.0\n", "")


def test_a_forgotten_program_with_more_bindings_warns_before_the_error():
    err = CliRunner().invoke(app, ["eval", "a=2", "b=3"]).stderr
    assert err.startswith("warning: the program is `a=2`, which reads like a binding")
    assert "error: `b` is not a name in the program\n" in err
