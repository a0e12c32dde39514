"""The console script's fast path (cli_fast.py) behaves exactly as the typer
app: same standard output, standard error and exit status."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from gradcli import cli_fast
from gradcli.cli import app

from conftest import EXAMPLES

L = ["(a*b+c)*f", "a=2", "b=-3", "c=10", "f=-2"]
README = str(EXAMPLES / "micrograd_readme.grad")

FAST = [
    ["eval", *L],
    ["grad", *L],
    ["grad", *L, "--json"],
    ["grad", "--json", *L, "--wrt", "a"],
    ["grad", *L, "--wrt", "a,b", "--wrt", "f"],
    ["grad", *L, "--wrt=c", "--plain"],
    ["eval", "-a**2", "a=3"],
    ["eval", "--", "-a**2", "a=3"],
    ["eval", "-f", README],
    ["grad", "--file", README, "a=1"],
    ["grad", "--file=" + README, "--of", "c"],
    ["eval", "y = x*2; z = y + 1", "x=2", "--of", "y"],
    ["eval", "y = x*2; z = y + 1", "x=2", "--output", "y"],       # the older spelling, with its note
    ["grad", "y = x*2; z = y + 1", "x=2", "--output=y", "--json"],
    ["eval", "-", "x=3"],
    # errors
    ["eval", "(a*b+", "a=1", "b=2"],
    ["grad", "sqrt(x)", "x=0"],
    ["eval", "log(x)", "x=-1", "--json"],
    ["eval", "a*b", "a=1"],
    ["eval", "a*b", "a=1", "b=x"],
    ["eval", "a*b", "a=1", "b=2", "c=3"],
    ["grad", "a*b", "a=1", "b=2", "--wrt", "q"],
    ["eval", "a*b", "a=1", "b=2", "--of", "q"],
    ["grad", "a=2"],                                   # the program forgotten: a warning
    ["grad", "x*y", "x=3,y=2"],
    ["grad", "math.sin(x)", "x=1"],
    ["eval", "a*b", "a=1", "b=2", "--output", "q"],
    ["eval", "-f", "/nonexistent/prog.grad"],
    ["eval", "fo(x)", "x=1"],
    ["eval", ""],
    ["eval", "# nothing"],
]

TYPER_ONLY = [
    ["eval"],
    ["eval", *L, "--table"],
    ["eval", *L, "--all"],
    ["eval", *L, "--json=1"],
    ["eval", *L, "--wrt", "a"],
    ["grad", *L, "--of"],
    ["grad", *L, "--output"],
    ["grad", *L, "--of", "-x"],
    ["grad", "-f" + README],
    ["grad", "-h"],
    ["grad", *L, "--precision", "3"],
    ["grad", *L, "--bogus"],
    ["grad", "x*y", "x=3", "-p", "3"],                 # an option gradcli lacks: typer says so
    ["graph", *L],
    ["--version"],
]


def run_fast(argv, capfd, stdin=""):
    import io

    old = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()))
    try:
        cli_fast.main(argv)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.stdin = old
    out, err = capfd.readouterr()
    return out, err, code


@pytest.mark.parametrize("argv", FAST, ids=" ".join)
def test_fast_path_matches_the_typer_app(argv, capfd):
    assert cli_fast.plan(argv) is not None, "this case should take the fast path"
    stdin = "x*x + 1" if "-" in argv else ""
    fast = run_fast(argv, capfd, stdin)
    r = CliRunner().invoke(app, argv, input=stdin)
    assert fast == (r.stdout, r.stderr, r.exit_code)


@pytest.mark.parametrize("argv", TYPER_ONLY, ids=" ".join)
def test_anything_else_goes_to_typer(argv):
    assert cli_fast.plan(argv) is None


@pytest.mark.parametrize("argv", [["eval", *L], ["grad", *L, "--wrt", "a"], ["grad", "(a*b+", "a=1"]])
def test_real_processes_agree(argv):
    fast = subprocess.run([sys.executable, "-m", "gradcli", *argv], capture_output=True, text=True)
    slow = subprocess.run([sys.executable, "-c", "from gradcli.cli import main; main()", *argv],
                          capture_output=True, text=True)
    assert (fast.stdout, fast.stderr, fast.returncode) == (slow.stdout, slow.stderr, slow.returncode)
    assert "Traceback" not in fast.stderr


def test_fast_path_does_not_import_typer_rich_lark_or_numpy():
    code = ("import sys; from gradcli.cli_fast import main; main(['grad', '(a*b+c)*f', 'a=2', 'b=-3', 'c=10', 'f=-2']); "
            "print(sorted(m for m in ('typer', 'rich', 'lark', 'numpy', 'click') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "[]"


@pytest.mark.parametrize("front", [["-m", "gradcli"], ["-c", "from gradcli.cli import main; main()"]])
def test_a_reader_that_left_is_no_error(front):
    import os

    read, write = os.pipe()
    os.close(read)                      # the reader is gone before anything is written
    try:
        p = subprocess.run([sys.executable, *front, "grad", "x**2", "x=3"], stdout=write,
                           stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write)
    assert p.stderr == "" and p.returncode == 0


def test_fast_path_knows_every_option_of_eval_and_grad():
    """The fast path splits arguments with typer's option names for eval and
    grad; a new option in cli.py must be added there too."""
    import typer.main

    from gradcli.cli import app as typer_app

    group = typer.main.get_command(typer_app)
    ctx = group.make_context("gradcli", ["eval", "x"], resilient_parsing=True)
    names = {"flags": set(), "valued": set()}
    for command in ("eval", "grad"):
        cmd = group.get_command(ctx, command)
        for param in cmd.get_params(ctx):
            if getattr(param, "param_type_name", "") != "option":
                continue
            kind = "flags" if param.is_flag or param.count else "valued"
            names[kind].update(param.opts, param.secondary_opts)
    assert names["flags"] == cli_fast.EVAL_GRAD_FLAGS
    assert names["valued"] | {"--output"} == cli_fast.EVAL_GRAD_VALUED   # --output: the older --of
