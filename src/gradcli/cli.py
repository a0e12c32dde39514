"""The command line: argv in, text out. The only module that prints or exits.

Each command reads the program, hands it to the library (parse -> build ->
engine -> render) and prints the result. Errors are converted once, here:
a ``GradcliError`` becomes its message on standard error and its exit status;
nothing is printed on standard output when a command fails.
"""

from __future__ import annotations

import os
import re
import sys
from contextlib import contextmanager
from typing import List, Optional

import typer
from typer.core import TyperCommand

from . import __version__
from .errors import InputError


class _ProgramFirst(TyperCommand):
    """Options may come before or after the arguments, and a program that
    starts with a minus sign (``gradcli eval "-a**2" a=3``) is a program, not
    an option: anything that is not one of the command's options is moved
    after ``--`` in its place among the arguments."""

    _OPTION = re.compile(r"--[A-Za-z][-A-Za-z0-9]*")

    def parse_args(self, ctx, args):
        takes_value, flags = set(), set()
        for param in self.get_params(ctx):
            if getattr(param, "param_type_name", "") != "option":
                continue
            names = list(param.opts) + list(param.secondary_opts)
            (flags if param.is_flag or param.count else takes_value).update(names)
        options, positionals = [], []
        i = 0
        while i < len(args):
            arg = args[i]
            if arg == "--":
                positionals += args[i + 1:]
                break
            name = arg.split("=", 1)[0]
            if arg.startswith("-") and arg != "-":
                if name in flags:
                    options.append(arg)
                elif name in takes_value:
                    options.append(arg)
                    if "=" not in arg and i + 1 < len(args):
                        options.append(args[i + 1])
                        i += 1
                elif arg[:2] in takes_value and not arg.startswith("--"):
                    options.append(arg)          # -fFILE
                elif self._OPTION.fullmatch(name):
                    options.append(arg)          # an unknown option: let click say so
                else:
                    positionals.append(arg)      # a program such as -a**2
            else:
                positionals.append(arg)
            i += 1
        return super().parse_args(ctx, options + ["--"] + positionals)


app = typer.Typer(
    name="gradcli",
    help="Differentiate expressions and small scalar programs with a reverse-mode autograd engine.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gradcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Differentiate expressions and small scalar programs.

    A program is one or more statements (`y = a*b + c`, `y += 1`, a bare
    expression) separated by newlines or `;`. Names read before they are
    assigned are inputs, bound as NAME=VALUE; `name = number` gives a leaf a
    default. See the README for the language.
    """


# ------------------------------------------------------------------ helpers
# The helpers live in cmdline.py, which does not import typer, so that the
# console script's fast path (fastcli.py) shares them; they are used here
# under the same names as ever.

from .cmdline import (  # noqa: E402
    EXIT_INTERNAL, Source, as_script, console, emit, errors_to_exit, gradients, load, parse_bindings, plain_eval,
    plain_grad, read_program, split_names, wants_table,
)


# Shared parameters, declared once.
PROGRAM = typer.Argument(None, metavar="PROGRAM", show_default=False,
                         help="The program's text, or - to read it from standard input.")
BINDINGS = typer.Argument(None, metavar="[NAME=VALUE]...", show_default=False,
                          help="Values for the inputs; they also override `name = number` defaults.")
FILE = typer.Option(None, "--file", "-f", metavar="FILE", help="Read the program from FILE.")
OUTPUT = typer.Option(None, "--output", metavar="NAME",
                      help="Report this assigned name instead of the last statement.")
JSON = typer.Option(False, "--json", help="Print one JSON object.")
TABLE = typer.Option(None, "--table/--plain",
                     help="Force the table for people, or the plain lines for scripts "
                          "(default: the table on a terminal only).")
PRECISION = typer.Option(6, "--precision", min=1, max=17, help="Significant digits in tables.")
ALL = typer.Option(False, "--all", help="Show every node of the graph, not only the named ones.")
AT = typer.Option(None, "--at", metavar="POINTS",
                  help="Run at every point of POINTS (- for standard input): CSV with a header row of "
                       "input names, or JSON lines; one output row per point, in order.")
ON_ERROR = typer.Option("fail", "--on-error", metavar="fail|skip",
                        help="With --at, a math error at a point stops the command (fail) "
                             "or gives that point an empty row (skip).")


# ----------------------------------------------------------------- commands

@app.command("eval", cls=_ProgramFirst)
def eval_(
    program: Optional[str] = PROGRAM,
    bindings: Optional[List[str]] = BINDINGS,
    file: Optional[str] = FILE,
    output: Optional[str] = OUTPUT,
    json: bool = JSON,
    table: Optional[bool] = TABLE,
    precision: int = PRECISION,
    every: bool = ALL,
    at: Optional[str] = AT,
    on_error: str = ON_ERROR,
) -> None:
    """Evaluate a program and print its output's value."""
    if at is not None:
        return run_at(program, file, bindings or [], output, None, json, at, on_error, grads=False)
    source = Source()
    with errors_to_exit(source):
        graph = load(program, file, bindings or [], output, source)
        from . import render

        if not json and wants_table(table):
            c = console()
            name = graph.output_name or "value"
            c.print(f"[bold]{name}[/bold] = [bold green]{render.full(graph.value)}[/bold green]")
            if every:
                c.print(render.table(graph, every=True, precision=precision, grads=False))
        else:
            emit(plain_eval(graph, json))


@app.command("grad", cls=_ProgramFirst)
def grad(
    program: Optional[str] = PROGRAM,
    bindings: Optional[List[str]] = BINDINGS,
    file: Optional[str] = FILE,
    output: Optional[str] = OUTPUT,
    wrt: Optional[List[str]] = typer.Option(
        None, "--wrt", metavar="NAME",
        help="Report only these names (repeat it, or a,b). A leaf means the leaf; "
             "another assigned name means its node at the end of the program."),
    json: bool = JSON,
    table: Optional[bool] = TABLE,
    precision: int = PRECISION,
    every: bool = ALL,
    at: Optional[str] = AT,
    on_error: str = ON_ERROR,
) -> None:
    """Evaluate a program, backpropagate, and print every gradient."""
    if at is not None:
        return run_at(program, file, bindings or [], output, wrt, json, at, on_error, grads=True)
    source = Source()
    with errors_to_exit(source):
        from . import render

        graph = load(program, file, bindings or [], output, source)
        grads = gradients(graph, wrt)
        if not json and wants_table(table):
            c = console()
            name = graph.output_name or "value"
            c.print(f"[bold]{name}[/bold] = [bold green]{render.full(graph.value)}[/bold green]")
            c.print(render.table(graph, list(grads), every=every, precision=precision))
            if not every and not grads:
                c.print("[dim]the program has no leaves: nothing to differentiate[/dim]")
        else:
            emit(plain_grad(graph, grads, wrt, json))


# ------------------------------------------- many points (issue 5: --at, speed)

def run_at(program, file, bindings, output, wrt, as_json, at, on_error, grads):
    """``eval --at`` and ``grad --at``: one output row per point, in order.

    Points are read and computed a block at a time (batch.py), so memory
    does not grow with their number. The output goes through a spooled
    temporary file (in memory up to 8 MB, then on disk) and reaches
    standard output only when every point is done: a command that fails at
    its millionth point still prints nothing on standard output."""
    import shutil
    import tempfile

    source = Source()
    with errors_to_exit(source):
        if on_error not in ("fail", "skip"):
            raise InputError(f"--on-error `{on_error}`: expected `fail` or `skip`")
        from . import batch, render
        from .build import build_graph, resolve
        from .parse import parse

        inputs = parse_bindings(read_program(program, file, bindings, source))
        if at == "-" and source.filename == "<stdin>":
            raise InputError("standard input cannot hold both the program and the points: "
                             "give one of them as a file")
        graph = build_graph(parse(source.text), output)
        names = split_names(wrt)
        if names is not None:
            resolve(graph, names)
        where = "standard input" if at == "-" else f"`{at}`"
        with _open_points(at) as stream, tempfile.SpooledTemporaryFile(1 << 23, "w+", encoding="utf-8") as out:
            points = batch.read_points(stream, where)
            runner = batch.Batch(graph, points.columns, names, grads, fixed=inputs)
            if not as_json:
                out.write(render.points_header(runner.wrt if grads else None))
            skipped, count = [], 0
            for lines, block in batch.run_points(runner, points):
                for r, (e, values) in sorted(block.errors.items()):
                    if on_error == "fail":
                        raise batch.row_error(e, count + r + 1, lines[r], where, runner.columns, values)
                    skipped.append(lines[r])
                out.write(render.points_json(block, grads) if as_json else render.points_csv(block))
                count += len(lines)
            out.seek(0)
            shutil.copyfileobj(out, sys.stdout)
            sys.stdout.flush()
        if skipped:
            shown = ", ".join(map(str, skipped[:10])) + (", ..." if len(skipped) > 10 else "")
            typer.echo(f"note: {len(skipped)} of {count} points had a math error and got an empty row "
                       f"(line{'s' * (len(skipped) > 1)} {shown} of {where})", err=True)


@contextmanager
def _open_points(at: str):
    if at == "-":
        yield sys.stdin
        return
    try:
        f = open(at, encoding="utf-8", newline="")
    except OSError as e:
        raise InputError(f"cannot read `{at}`: {e.strerror or e}") from None
    with f:
        yield f


# ------------------------------------------------- graph (issue 3: the picture)


# ------------------------------------- check / explain / descend (issue 4)


# ------------------------------------------- diff / hessian (issue 6: symbolic)


def main(argv: Optional[List[str]] = None) -> None:
    """The console script."""
    as_script(lambda: app(args=argv, prog_name="gradcli"))
