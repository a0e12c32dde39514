"""The command line: argv in, text out; the typer app.

The command-line layer is the only one that prints or exits: this module,
cli_fast.py (the console script's fast path for plain eval and grad) and the
helpers both share in cli_common.py (``emit`` writes, ``errors_to_exit``
turns a ``GradcliError`` into its message on standard error and its exit
status, ``as_script`` exits). Each command reads the program, hands it to
the library (parse -> build -> engine), gets a report back (reports.py),
and ``show`` prints the report's plain, JSON or rich rendering. Nothing is
printed on standard output when a command fails.
"""

from __future__ import annotations

import math
import os
import sys
from contextlib import ExitStack, contextmanager
from typing import List, Optional

import typer
from typer._click.exceptions import UsageError
from typer.core import TyperCommand, TyperGroup

from . import __version__
from .check import ATOL, H, RTOL
from .descend import LR, STEPS
from .errors import InputError
from .safeio import printable


class _ProgramFirst(TyperCommand):
    """Options may come before or after the arguments, and a program that
    starts with a minus sign (``gradcli eval "-a**2" a=3``) is a program, not
    an option: anything that is not one of the command's options is moved
    after ``--`` in its place among the arguments."""

    def get_help(self, ctx) -> str:
        return _help_text(self, ctx)

    def get_help_option(self, ctx):
        return _paged_help_option(super().get_help_option(ctx))

    def get_params(self, ctx):
        """While the shell completes, an older spelling (``--output``) is one
        of its option's names, so that Tab after it offers what Tab after
        the new one does (click finds the option by the word before)."""
        params = super().get_params(ctx)
        if _completing():
            renames = {**RENAMED, **self.renamed}
            for param in params:
                for old, new in renames.items():
                    if new in getattr(param, "opts", ()) and old not in param.opts:
                        param.opts.append(old)
        return params

    def shell_complete(self, ctx, incomplete):
        """Option names offered by Tab: the new spellings only."""
        renames = {**RENAMED, **self.renamed}
        return [item for item in super().shell_complete(ctx, incomplete) if item.value not in renames]

    # Older spellings still accepted, each with a note on standard error
    # (issue 25): the command's own renames, added by ``renamed(...)``.
    renamed: dict = {}

    def parse_args(self, ctx, args):
        if ctx.resilient_parsing or _completing():
            return self._parse_for_completion(ctx, args)
        flags, valued = option_names(self.get_params(ctx))
        renames = {**RENAMED, **self.renamed}
        if not _completing():
            check_trap(self.name, args)
        valued = valued | {old for old, new in renames.items() if new in valued}
        try:
            options, positionals = split_args(args, flags, valued)
        except MissingValue as e:
            option = renames.get(e.option, e.option)
            metavar = next((p.metavar for p in self.get_params(ctx) if option in getattr(p, "opts", ())), None)
            raise UsageError(f"{e.option} needs a value after it"
                                   + (f", as in {e.option} {metavar}" if metavar else ""), ctx) from None
        if not _completing():
            _no_option_as_binding(ctx, self, options, positionals)
            options = rename_options(options, {old: new for old, new in renames.items() if new in valued})
        options = [arg for option in options for arg in option]
        return super().parse_args(ctx, options + ["--"] + positionals)

    def _parse_for_completion(self, ctx, args):
        """While the shell completes (click parses resiliently): the same
        rules, but no usage error, no note, nothing on standard error. An
        option still waiting for its value is left out (click's completion
        finds it on the line itself), so that the program before it is
        parsed: ``--wrt`` offers its names."""
        flags, valued = option_names(self.get_params(ctx))
        renames = {**RENAMED, **self.renamed}
        valued = valued | set(renames)
        try:
            options, positionals = split_args(args, flags, valued)
        except MissingValue:
            options, positionals = split_args(args[:-1], flags, valued)
        options = rename_options(options, renames, quiet=True)
        options = [arg for option in options for arg in option]
        return super().parse_args(ctx, options + ["--"] + positionals)


def _no_option_as_binding(ctx, command, options, positionals) -> None:
    """A word such as ``-p`` among the bindings is an option gradcli does not
    have (a binding never starts with ``-``): say so, as for ``--bogus``,
    rather than "`-p` is not a binding"."""
    from typer._click.exceptions import NoSuchOption

    has_file = any(o[0].split("=")[0] in ("-f", "--file") or (o[0].startswith("-f") and not o[0].startswith("--"))
                   for o in options)
    for k, word in enumerate(positionals[0 if has_file else 1:], 0 if has_file else 1):
        if len(word) > 1 and word[0] == "-" and (word[1].isalpha() or word[1] == "-") and "=" not in word:
            e = NoSuchOption(word, ctx=ctx)
            e.next_word = positionals[k + 1] if k + 1 < len(positionals) else None
            raise e


def _completing() -> bool:
    """Shell completion is running (typer's ``_GRADCLI_COMPLETE``): no usage
    checks and no notes, only candidates."""
    return "_GRADCLI_COMPLETE" in os.environ


def _renamed(cls, **renames):
    """``cls`` with older option spellings accepted (new name by old)."""
    return type(cls.__name__, (cls,), {"renamed": {f"--{old.replace('_', '-')}": new
                                                    for old, new in renames.items()}})


def _help_text(command, ctx) -> str:
    """gradcli's own help (cli_help.py): fitted to the terminal's width."""
    from .cli_help import render, wants_colour

    return render(command, ctx, colour=wants_colour())


def _paged_help_option(option):
    """``-h``/``--help`` that pages help taller than the terminal."""
    if option is None:
        return None

    def show_help(ctx, param, value):
        if not value or ctx.resilient_parsing:
            return
        from .cli_help import show

        show(ctx.get_help())
        ctx.exit()

    option.callback = show_help
    return option


class _Gradcli(TyperGroup):
    """The app's group: usage errors (an unknown option or command, an
    option without its value, a bad option value) are printed in gradcli's
    own error style, as every other error is, with exit status 2. A short
    alias (``ALIASES``) names its command without being listed."""

    ALIASES = {"unc": "uncertainty"}

    def get_help(self, ctx) -> str:
        return _help_text(self, ctx)

    def get_help_option(self, ctx):
        return _paged_help_option(super().get_help_option(ctx))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for command in self.commands.values():      # every command's help is gradcli's, whatever its class
            if not isinstance(command, _ProgramFirst):
                command.get_help = lambda ctx, _command=command: _help_text(_command, ctx)
                command.get_help_option = lambda ctx, _command=command: _paged_help_option(
                    type(_command).get_help_option(_command, ctx))

    def get_command(self, ctx, cmd_name):
        return super().get_command(ctx, self.ALIASES.get(cmd_name, cmd_name))

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        from typer._click.exceptions import ClickException, NoArgsIsHelpError

        import os
        from contextlib import nullcontext, redirect_stdout

        alone = not (sys.argv[1:] if args is None else args) and "_GRADCLI_COMPLETE" not in os.environ
        try:
            with redirect_stdout(sys.stderr) if alone else nullcontext():   # its help is its usage
                rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError as e:     # `gradcli` alone, not on a terminal: the help, on stderr
            if e.format_message():
                sys.stderr.write(e.format_message().rstrip("\n") + "\n")
            raise SystemExit(2) from None
        except ClickException as e:
            from .cli_common import _fail
            from .usage import message

            _fail(message(e), e.exit_code)
        if not standalone_mode:
            return rv
        raise SystemExit(rv if isinstance(rv, int) else 0)


EXIT_STATUSES = """Exit status:
  0    success; `check`: every gradient agrees with its finite difference
  1    a math domain error (log or sqrt outside its domain, division by
       zero, overflow, a gradient that is not finite); `check`: a gradient
       disagrees; Graphviz missing for SVG/PNG/PDF; a failed write
  2    bad input: a syntax error, an unknown name or function, a missing
       input, a bad NAME=VALUE or option, an unreadable file or -o path
  130  interrupted (Ctrl-C)
"""


def option_names(params) -> tuple:
    """A command's option names: ``(flags, options that take a value)``."""
    valued, flags = set(), set()
    for param in params:
        if getattr(param, "param_type_name", "") != "option":
            continue
        names = list(param.opts) + list(param.secondary_opts)
        (flags if param.is_flag or param.count else valued).update(names)
    return flags, valued


def _keep(**parts) -> None:
    """What a command computed, by name (``graph``, ``value``, ``grad``, ...),
    for the notebook's ``%%gradcli`` (notebook.py), which sets
    ``cli_common.RESULTS`` to a dict while it runs a command and returns these
    in its result. On the command line it is None: nothing is kept."""
    kept = RESULTS.get()
    if kept is not None:
        kept.update(parts)


app = typer.Typer(
    name="gradcli",
    cls=_Gradcli,
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gradcli {__version__}")
        raise typer.Exit()


@app.callback(epilog=EXIT_STATUSES)
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Differentiate expressions and small scalar programs with a reverse-mode autograd engine.

    A program is one or more statements separated by newlines or `;`:
    `y = a*b + c`, `y += 1`, or a bare expression. Names read before they are
    assigned are inputs, bound as NAME=VALUE after the program; `a = 2.0`
    gives a leaf a default. The last statement is the output.

    Examples:
      gradcli grad "(a*b+c)*f" a=2 b=-3 c=10 f=-2
      gradcli examples micrograd_readme | gradcli eval -
      gradcli examples lecture_L | gradcli graph - -o L.svg

    `gradcli examples` lists the example programs that ship with gradcli;
    `gradcli COMMAND --help` shows each command's options and examples,
    `gradcli help language` the language; `man gradcli` shows them all.
    """


# ------------------------------------------------------------------ helpers
# The helpers live in cli_common.py, which does not import typer, so that the
# console script's fast path (cli_fast.py) shares them; they are used here
# under the same names as ever.

from .cli_common import (  # noqa: E402
    RENAMED, RESULTS, MissingValue, Source, as_script, check_trap, console, emit, errors_to_exit, gradients, load,
    parse_bindings, read_program, rename_options, split_args, split_names, wants_table,
)
from .cli_complete import choices, of_names, wrt_names  # noqa: E402
from .terminal import paged  # noqa: E402


# Shared parameters, declared once; the help groups them in panels.
IN, OUT, POINTS, PICTURE = "Program and inputs", "Output", "Many points", "Picture"
CHECK, DESCENT, SYMBOLIC, CODE = "Finite differences", "Descent", "Derivative", "Code"
PROGRAM = typer.Argument(None, metavar="PROGRAM", show_default=False,
                         help="The program's text, or - to read it from standard input.")
BINDINGS = typer.Argument(None, metavar="[NAME=VALUE]...", show_default=False,
                          help="Values for the inputs; they also override `name = number` defaults.")
FILE = typer.Option(None, "--file", "-f", metavar="FILE", help="Read the program from FILE.",
                    rich_help_panel=IN)
OUTPUT = typer.Option(None, "--of", metavar="NAME", rich_help_panel=IN, autocompletion=of_names,
                      help="Report this assigned name instead of the last statement: "
                           "`grad --of h1 --wrt a` (a node of the program, not a file; "
                           "the older --output still works).")
JSON = typer.Option(False, "--json", help="Print one JSON object (numbers at full precision).",
                    rich_help_panel=OUT)
WRT = typer.Option(None, "--wrt", metavar="NAME", autocompletion=wrt_names, rich_help_panel=IN,
                   help="Report only these names (repeat it, or a,b). A leaf means the leaf; "
                        "another assigned name means its node at the end of the program.")
TABLE = typer.Option(None, "--table/--plain", rich_help_panel=OUT,
                     help="Force the table for people, or the plain lines for scripts "
                          "(default: the table on a terminal only).")
PRECISION = typer.Option(None, "--precision", min=1, max=17, metavar="DIGITS", show_default=False,
                         rich_help_panel=OUT,
                         help="Significant digits of the numbers shown (default: 6 in tables, "
                              "full precision in plain lines; --json is always full).")
ALL = typer.Option(False, "--all", rich_help_panel=OUT,
                   help="Every node of the graph: all rows in the table, a `nodes` list with --json, "
                        "one tab-separated line per node in plain output.")
AT = typer.Option(None, "--at", metavar="POINTS", rich_help_panel=POINTS,
                  help="Run at every point of POINTS: CSV with a header row of input names, JSON lines "
                       "(.jsonl), Parquet, Arrow (.arrow, .feather), a directory or glob of them, or - "
                       "for standard input; one output row per point, in order.")
AT_OUT = typer.Option(None, "-o", "--out", metavar="FILE", rich_help_panel=POINTS,
                      help="With --at, write the results to FILE, in the format of its extension "
                           "(.csv, .jsonl, .parquet, .arrow, .feather); with --scheduler, a directory.")
JOBS = typer.Option(1, "--jobs", "-j", metavar="N", rich_help_panel=POINTS,
                    help="With --at, split the points over N processes (0: one per core).")
DROP_EXTRA = typer.Option(False, "--drop-extra", rich_help_panel=POINTS,
                          help="With --at, leave out the columns of POINTS that are not inputs (by default "
                               "they are carried into the results, before them).")
SCHEDULER = typer.Option(None, "--scheduler", metavar="ADDRESS", rich_help_panel=POINTS,
                         help="With --at, run the points of a Parquet dataset on the Dask cluster at "
                              "ADDRESS and write a Parquet dataset to -o DIR.")
ON_ERROR = typer.Option(None, "--on-error", metavar="fail|skip", rich_help_panel=POINTS, show_default=False,
                        autocompletion=choices(("fail", "a math error stops the command"),
                                               ("skip", "a math error gives that point an empty row")),
                        help="With --at, a math error at a point stops the command (fail, the default) "
                             "or gives that point an empty row (skip).")


def _digits(precision: Optional[int]) -> int:
    """Digits for a table: --precision, else 6."""
    return 6 if precision is None else precision


def show(report, json: bool, table: Optional[bool]) -> None:
    """Print a report (reports.py): JSON, the rich rendering on a terminal
    (or with --table; paged when taller than the terminal), else plain text; a report that is not ``ok`` (a
    failed check) exits 1 after it is printed."""
    if json:
        emit(report.json())
    elif wants_table(table):
        from .terminal import put

        with paged(console) as c:   # through a pager when taller than the terminal
            for line in report.rich():
                put(c, line.item, line.style, line.soft_wrap)
    else:
        emit(report.plain())
    if not report.ok:
        raise typer.Exit(1)


# ----------------------------------------------------------------- commands

@app.command("eval", cls=_ProgramFirst)
def eval_(
    program: Optional[str] = PROGRAM,
    bindings: Optional[List[str]] = BINDINGS,
    file: Optional[str] = FILE,
    output: Optional[str] = OUTPUT,
    json: bool = JSON,
    table: Optional[bool] = TABLE,
    precision: Optional[int] = PRECISION,
    every: bool = ALL,
    at: Optional[str] = AT,
    on_error: Optional[str] = ON_ERROR,
    out: Optional[str] = AT_OUT,
    jobs: int = JOBS,
    scheduler: Optional[str] = SCHEDULER,
    drop_extra: bool = DROP_EXTRA,
) -> None:
    """Evaluate a program and print its output's value.

    Examples:
      gradcli eval "a*b + c" a=2 b=-3 c=10          # 4.0
      gradcli examples micrograd_readme | gradcli eval -
      printf 'x\\n1\\n-2\\n4\\n' | gradcli eval "log(x) + x" --at - --on-error skip
    """
    if at is not None:
        return run_at(program, file, bindings or [], output, None, json, at, on_error or "fail", False,
                      out, jobs, scheduler, drop_extra)
    _points_only(out, jobs, scheduler, drop_extra)
    source = Source()
    with errors_to_exit(source):
        from .reports import EvalReport

        _on_error_alone(on_error or "fail")
        graph = load(program, file, bindings or [], output, source)
        _keep(graph=graph, value=graph.value)
        show(EvalReport(graph, every, precision), json, table)


@app.command("grad", cls=_ProgramFirst)
def grad(
    program: Optional[str] = PROGRAM,
    bindings: Optional[List[str]] = BINDINGS,
    file: Optional[str] = FILE,
    output: Optional[str] = OUTPUT,
    wrt: Optional[List[str]] = WRT,
    json: bool = JSON,
    table: Optional[bool] = TABLE,
    precision: Optional[int] = PRECISION,
    every: bool = ALL,
    at: Optional[str] = AT,
    on_error: Optional[str] = ON_ERROR,
    out: Optional[str] = AT_OUT,
    jobs: int = JOBS,
    scheduler: Optional[str] = SCHEDULER,
    drop_extra: bool = DROP_EXTRA,
) -> None:
    """Evaluate a program, backpropagate, and print every gradient.

    On a terminal: a table of the leaves and the output with their data and
    grad (--all: every node). In a pipe: one NAME<TAB>GRADIENT line per leaf.

    Examples:
      gradcli grad "(a*b+c)*f" a=2 b=-3 c=10 f=-2
      gradcli grad "(a*b+c)*f" a=2 b=-3 c=10 f=-2 --wrt a    # 6.0
      gradcli examples lecture_L | gradcli grad - --all --json
    """
    if at is not None:
        return run_at(program, file, bindings or [], output, wrt, json, at, on_error or "fail", True,
                      out, jobs, scheduler, drop_extra)
    _points_only(out, jobs, scheduler, drop_extra)
    source = Source()
    with errors_to_exit(source):
        from .reports import GradReport

        _on_error_alone(on_error or "fail")
        graph = load(program, file, bindings or [], output, source)
        grads = gradients(graph, wrt)
        _keep(graph=graph, value=graph.value, grad=grads)
        show(GradReport(graph, grads, wrt, every, precision), json, table)


# ------------------------------------- many points (issues 5 and 14: --at)

def _on_error(on_error: str) -> None:
    if on_error not in ("fail", "skip"):
        raise InputError(f"--on-error `{printable(on_error)}`: expected `fail` or `skip`")


def _on_error_alone(on_error: str) -> None:
    """``--on-error`` without ``--at``: a bad value, or a skip with no points to skip."""
    _on_error(on_error)
    if on_error != "fail":
        raise InputError("--on-error applies to --at POINTS, which is not given")


def _points_only(out, jobs, scheduler, drop_extra=False) -> None:
    """-o, --jobs, --scheduler and --drop-extra belong to --at."""
    given = [name for name, v in (("-o", out), ("--scheduler", scheduler)) if v is not None]
    if jobs != 1:
        given.append("--jobs")
    if drop_extra:
        given.append("--drop-extra")
    if given:
        with errors_to_exit(Source()):
            raise InputError(f"{', '.join(given)} need{'s' * (len(given) == 1)} --at POINTS")


def run_at(program, file, bindings, output, wrt, as_json, at, on_error, grads, out=None, jobs=1,
           scheduler=None, drop_extra=False):
    """``eval --at`` and ``grad --at`` (cli_points.py, shared with the fast path)."""
    from .cli_points import run_at as run

    run(program, file, bindings, output, wrt, as_json, at, on_error, grads, out, jobs, scheduler, drop_extra)


# ------------------------------------------------- graph (issue 3: the picture)

@app.command("graph", cls=_ProgramFirst)
def graph_(
    program: Optional[str] = PROGRAM,
    bindings: Optional[List[str]] = BINDINGS,
    file: Optional[str] = FILE,
    output: Optional[str] = OUTPUT,
    out: Optional[str] = typer.Option(
        None, "-o", "--out", metavar="FILE", rich_help_panel=OUT,
        help="Write the picture to FILE: .dot/.gv (DOT), .svg, .png or .pdf (these three need "
             "Graphviz), or .html (the live page: step, inspect, poke, nudge; needs nothing). "
             "Without -o, or with -o -, DOT goes to standard output."),
    rankdir: str = typer.Option("LR", "--rankdir", metavar="LR|TB|RL|BT", rich_help_panel=PICTURE,
                                autocompletion=choices(("LR", "left to right"), ("TB", "top to bottom"),
                                                       ("RL", "right to left"), ("BT", "bottom to top")),
                                help="Direction of the edges: LR left to right, TB top to bottom."),
    grads: bool = typer.Option(True, "--grad/--no-grad", rich_help_panel=PICTURE,
                               help="Show each node's grad (--no-grad draws the forward pass only)."),
    max_nodes: Optional[int] = typer.Option(
        None, "--max-nodes", min=1, metavar="N", rich_help_panel=PICTURE,
        help="Draw only the N value nodes nearest the output (for graphs too big to lay out)."),
    timeout: float = typer.Option(60.0, "--timeout", min=0.0, metavar="SECONDS", rich_help_panel=PICTURE,
                                  help="Stop Graphviz's layout (SVG, PNG, PDF) after SECONDS; 0: no limit."),
    precision: int = typer.Option(6, "--precision", min=1, max=17, metavar="DIGITS", rich_help_panel=PICTURE,
                                  help="Significant digits of the data and grad in each node's label."),
) -> None:
    """Draw the graph: values with data and grad, and the operations between them.

    Left to right, as micrograd's draw_dot draws it; -o FILE.html writes
    the live page.

    Examples:
      gradcli graph "a*b + c" a=2 b=-3 c=10                  # DOT on standard output
      gradcli examples lecture_L | gradcli graph - -o L.svg  # a picture (needs Graphviz)
      gradcli examples lecture_L | gradcli graph - -o L.dot --rankdir TB
    """
    source = Source()
    with errors_to_exit(source):
        from . import draw

        fmt = draw.format_for(out)                 # a bad extension fails before any work
        graph = load(program, file, bindings or [], output, source)
        if grads:
            graph.backward()
        data = draw.draw(graph, fmt, precision, grads, rankdir.upper(), max_nodes,
                         warn=lambda message: typer.echo(message, err=True), filename=source.filename,
                         timeout=timeout)
        to_stdout = out is None or out == "-"
        _keep(graph=graph, value=graph.value, dot=data.decode("utf-8") if to_stdout else None, file=out)
        if to_stdout:
            emit(data.decode("utf-8"))
        else:
            draw.write(out, data)



# ------------------------------------- check / explain / descend (issue 4)

@contextmanager
def _check_progress():
    """A progress bar for ``check`` on standard error when it is a
    terminal (rich hides it again at the end); yields the ``(done, total)``
    hook, or None when standard error is not a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("check"), BarColumn(), MofNCompleteColumn(), TextColumn("gradients"),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("check", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _positive(value: float, option: str) -> float:
    if not value > 0:
        raise InputError(f"{option} must be a positive number, not {value:g}")
    if math.isinf(value):
        raise InputError(f"{option} must be a finite number, not inf")
    return value


def _a_number(value: Optional[float], option: str) -> None:
    """A tolerance may be anything but nan (every comparison with nan is false)."""
    if value is not None and math.isnan(value):
        raise InputError(f"{option} must be a number, not nan")


# The smallest --h whose step survives rounding at every x: the step is
# h * max(1, |x|), and x + step == x once step is below half an ulp of x.
SMALLEST_H = 2.0 ** -52


@app.command("check", cls=_renamed(_ProgramFirst, h="--step"))
def check_(
    program: Optional[str] = PROGRAM,
    bindings: Optional[List[str]] = BINDINGS,
    file: Optional[str] = FILE,
    output: Optional[str] = OUTPUT,
    wrt: Optional[List[str]] = typer.Option(
        None, "--wrt", metavar="NAME", autocompletion=wrt_names, help="Check only these names (repeat it, or a,b).", rich_help_panel=IN),
    h: float = typer.Option(H, "--step", metavar="H", rich_help_panel=CHECK,
                            help="Finite-difference step, scaled by max(1, |x|) (the older --h still works)."),
    rtol: float = typer.Option(RTOL, "--rtol", min=0.0, help="Relative tolerance.", rich_help_panel=CHECK),
    atol: float = typer.Option(ATOL, "--atol", min=0.0, help="Absolute tolerance.", rich_help_panel=CHECK),
    json: bool = JSON,
    table: Optional[bool] = TABLE,
    precision: Optional[int] = PRECISION,
    every: bool = typer.Option(False, "--all", rich_help_panel=CHECK,
                               help="Check every node up to the output, not only the leaves."),
    mode: str = typer.Option("auto", "--mode", metavar="auto|full|fast", rich_help_panel=CHECK,
                             autocompletion=choices(("auto", "fast when full would be long"),
                                                    ("full", "one finite difference per gradient"),
                                                    ("fast", "a few random directions")),
                             help="full: one finite difference per gradient; fast: the gradients' dot products "
                                  "with a few random directions; auto: fast when full would be long."),
    seed: int = typer.Option(0, "--seed", help="Seed of fast mode's random directions.", rich_help_panel=CHECK),
) -> None:
    """Check every gradient against finite differences.

    Each backprop gradient (the leaves; every node with --all) is compared
    with a central finite difference. Exits 1 if any disagrees; nodes on a
    corner (relu or abs at 0, sqrt at 0, ...) are reported, not failed.
    On big programs (--mode auto) the gradients are checked together along
    random directions, as PyTorch's gradcheck does in its fast mode.

    Examples:
      gradcli examples micrograd_readme | gradcli check -
      gradcli check "relu(x)*y + abs(x)" x=0 y=2
      gradcli examples neuron | gradcli check - --all --json
    """
    precision = _digits(precision)
    source = Source()
    with errors_to_exit(source):
        from . import check as checking
        from .build import resolve
        from .reports import CheckReport

        _positive(h, "--step")
        if h < SMALLEST_H:
            raise InputError(f"--step {h:g} is too small: a step below {SMALLEST_H:.2g} is lost in rounding")
        _a_number(rtol, "--rtol")
        _a_number(atol, "--atol")
        graph = load(program, file, bindings or [], output, source)
        names = split_names(wrt)
        with _check_progress() as progress:
            report = checking.check(graph, every, None if names is None else resolve(graph, names),
                                    h, rtol, atol, mode, seed, progress)
        _keep(graph=graph, value=graph.value, report=report, ok=report.ok)
        show(CheckReport(report, graph, precision), json, table)


@app.command("explain", cls=_ProgramFirst)
def explain_(
    program: Optional[str] = PROGRAM,
    bindings: Optional[List[str]] = BINDINGS,
    file: Optional[str] = FILE,
    output: Optional[str] = OUTPUT,
    wrt: Optional[str] = typer.Option(
        None, "--wrt", metavar="NAME", autocompletion=wrt_names, rich_help_panel=IN,
        help="Also list each path from the output to NAME and the share of the gradient it carries."),
    paths: int = typer.Option(20, "--paths", min=1, metavar="N", help="Show at most N paths (with --wrt).",
                              rich_help_panel=OUT),
    json: bool = JSON,
    table: Optional[bool] = TABLE,
    precision: Optional[int] = PRECISION,
) -> None:
    """Explain the backward pass step by step.

    For each operation, in the order the engine runs them: its gradient, the
    local derivative for each operand, the product, and the operand's
    running sum. --wrt NAME also lists the paths from the output to NAME.

    Examples:
      gradcli examples lecture_L | gradcli explain -
      gradcli examples reuse | gradcli explain - --wrt a
      gradcli explain "tanh(w*x)" w=0.5 x=2 --json
    """
    precision = _digits(precision)
    source = Source()
    with errors_to_exit(source):
        from .reports import ExplainReport

        graph = load(program, file, bindings or [], output, source)
        told = ExplainReport(graph, wrt, paths, precision)
        _keep(graph=graph, value=graph.value, steps=told.told)
        show(told, json, table)


@app.command("descend", cls=_ProgramFirst)
def descend_(
    program: Optional[str] = PROGRAM,
    bindings: Optional[List[str]] = BINDINGS,
    file: Optional[str] = FILE,
    output: Optional[str] = OUTPUT,
    wrt: Optional[List[str]] = typer.Option(
        None, "--wrt", metavar="NAME", autocompletion=wrt_names, help="Move only these leaves (repeat it, or a,b); default: every leaf.",
        rich_help_panel=IN),
    lr: float = typer.Option(LR, "--lr", help="Learning rate: each step moves a leaf by lr * its gradient.",
                             rich_help_panel=DESCENT),
    steps: int = typer.Option(STEPS, "--steps", min=0, help="How many updates at most.", rich_help_panel=DESCENT),
    tol: Optional[float] = typer.Option(None, "--tol", min=0.0, rich_help_panel=DESCENT,
                                        help="Stop early once every gradient is at most TOL in size."),
    maximize: bool = typer.Option(False, "--maximize", help="Gradient ascent: move with the gradient.",
                                  rich_help_panel=DESCENT),
    log: Optional[str] = typer.Option(None, "--log", metavar="FILE", rich_help_panel=OUT,
                                      help="Write a CSV of step, loss and each parameter to FILE "
                                           "(-: standard output, in place of the final values)."),
    json: bool = JSON,
) -> None:
    """Run gradient descent on the leaves.

    Each step: forward, zero the grads, backward, move every parameter by
    -lr * grad. Prints the final NAME=VALUE bindings, which any gradcli
    command takes back.

    Examples:
      gradcli descend "(w*x - y)**2" w=0.5 x=2 y=3 --wrt w --lr 0.05
      gradcli examples fit_line | gradcli descend - --lr 0.05 --steps 1000 --log fit.csv
      gradcli eval "(a*b+c)*f" $(gradcli descend "(a*b+c)*f" a=2 b=-3 c=10 f=-2 --maximize --steps 1)
    """
    source = Source()
    with errors_to_exit(source):
        from . import descend as gd

        _positive(lr, "--lr")
        _a_number(tol, "--tol")
        if log == "-" and json:
            raise InputError("--log - and --json both write to standard output: give the log a file")
        graph = load(program, file, bindings or [], output, source)
        names = gd.parameters(graph, split_names(wrt))
        reached: list = []                  # the last step and loss, for Ctrl-C

        def last(k, loss, values) -> None:
            reached[:] = [k, loss, values]

        hooks = [last]
        try:
            with ExitStack() as stack:
                held = _held_log(stack) if log == "-" else None
                if log is not None:
                    hooks.append(stack.enter_context(gd.CsvLog(log, names, held)))
                advance = stack.enter_context(_progress(steps))
                if advance is not None:
                    hooks.append(advance)
                result = gd.descend(graph, names, lr, steps, tol, maximize,
                                    lambda k, loss, values: [hook(k, loss, values) for hook in hooks])
                if held is not None:        # the log is standard output; its last row has the final values
                    _print_held(held)
        except KeyboardInterrupt:
            _interrupted_descent(reached, steps, names)
        _keep(graph=graph, result=result, loss=result.loss, params=result.params)
        if sys.stderr.isatty():
            from .render import short

            why = ", where every gradient is within --tol" if result.stopped == "tol" else ""
            typer.echo(f"loss {short(result.first)} -> {short(result.loss)} after {result.steps} "
                       f"step{'s' * (result.steps != 1)}{why}", err=True)
        if held is None:
            emit(gd.as_json(result) + "\n" if json else gd.bindings(result.params))


def _held_log(stack):
    """``--log -``: the log, held in a spooled temporary file until the run
    has ended well (a failed run prints nothing on standard output)."""
    import tempfile

    return stack.enter_context(tempfile.SpooledTemporaryFile(1 << 23, "w+", newline=""))


def _print_held(held) -> None:
    import shutil

    held.seek(0)
    shutil.copyfileobj(held, sys.stdout, 1 << 16)
    sys.stdout.flush()


def _interrupted_descent(reached: list, steps: int, names) -> None:
    """Ctrl-C during ``descend``: one short line with the step and loss
    reached and where the parameters were, then exit 130 (the contract's
    status for Ctrl-C; ``--log FILE`` keeps what was there before)."""
    from .cli_common import _fail
    from .render import short

    if not reached:
        _fail("", 130)
    k, loss, values = reached
    at = " ".join(f"{name}={short(v)}" for name, v in zip(names, values))
    _fail(f"interrupted at step {k:,} of {steps:,}: loss {short(loss)}" + (f", at {at}" if at else ""), 130)


@contextmanager
def _progress(steps: int):
    """A progress bar on standard error when it is a terminal; yields the
    per-step hook, or None."""
    if not sys.stderr.isatty() or steps == 0:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn("descend"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("loss {task.fields[loss]}"),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("descend", total=steps, loss="")

        def advance(k: int, loss: float, values) -> None:
            bar.update(task, completed=k, loss=f"{loss:.6g}")

        yield advance



# ------------------------------------------- diff / hessian (issue 6: symbolic)

WRT_LEAVES = typer.Option(
    None, "--wrt", metavar="NAME", autocompletion=wrt_names, rich_help_panel=IN,
    help="The leaves to differentiate with respect to (repeat it, or a,b); default: every leaf.")


def _one_name(graph, wrt: Optional[List[str]]) -> str:
    """The one --wrt name of `diff` (the only leaf when there is one)."""
    from .build import names_note, resolve

    names = split_names(wrt)
    if names is None:
        if len(graph.leaves) == 1:
            return next(iter(graph.leaves))
        raise InputError("diff needs --wrt NAME: which leaf to differentiate with respect to",
                         notes=names_note(graph.leaves, "leaves"))
    if len(names) > 1:
        raise InputError("diff takes one --wrt name",
                         notes=["for every second derivative at a point, use `gradcli hessian`"])
    return resolve(graph, names)[0]


@app.command("diff", cls=_ProgramFirst)
def diff(
    program: Optional[str] = PROGRAM,
    bindings: Optional[List[str]] = BINDINGS,
    file: Optional[str] = FILE,
    output: Optional[str] = OUTPUT,
    wrt: Optional[List[str]] = typer.Option(
        None, "--wrt", metavar="NAME", autocompletion=wrt_names, rich_help_panel=SYMBOLIC,
        help="Differentiate with respect to this name (a leaf, or for --order 1 any assigned "
             "name); optional when the program has one leaf."),
    order: int = typer.Option(1, "--order", min=1, max=8, metavar="N", rich_help_panel=SYMBOLIC,
                              help="Differentiate N times (1 to 8)."),
    latex: bool = typer.Option(False, "--latex", help="Print LaTeX instead of a program.", rich_help_panel=OUT),
    json: bool = typer.Option(False, "--json", rich_help_panel=OUT,
                              help="Print one JSON object: the program, its LaTeX, and its value "
                                   "where every input is bound (else null)."),
) -> None:
    """Print the derivative as a program, in gradcli's own language.

    Shared parts are named once, names from the source kept. NAME=VALUE
    gives a leaf its default in the printed program.

    Examples:
      gradcli diff "(a*b+c)*f" --wrt a                 # b*f
      gradcli diff "x**3 - 2*x" --wrt x --order 2
      gradcli diff 'tanh(w*x)' --wrt w w=0.5 x=2 --json
    """
    source = Source()
    with errors_to_exit(source):
        from .build import bind, structure
        from .parse import parse
        from .symbolic import derivative
        from . import unparse

        inputs = parse_bindings(read_program(program, file, bindings or [], source))
        graph = structure(parse(source.text), output)
        bind(graph, inputs, complete=False)
        root = derivative(graph, _one_name(graph, wrt), order, defaults=inputs)
        _keep(program=unparse.program(root), latex=unparse.latex(root))
        if json:
            import json as json_module

            text = unparse.program(root)
            emit(json_module.dumps({"program": text, "latex": unparse.latex(root),
                                    **_derivative_value(text, graph, inputs)}) + "\n")
        else:
            emit((unparse.latex(root) if latex else unparse.program(root)) + "\n")


def _derivative_value(text: str, graph, inputs: dict) -> dict:
    """``diff --json``'s value: the printed derivative run at the bindings
    (the leaves' defaults and NAME=VALUE), as `gradcli eval` would run it;
    null, with the reason, when an input is unbound or the value is not defined."""
    from .build import build
    from .errors import GradcliError
    from .parse import parse
    from .render import json_number

    unbound = [name for name, leaf in graph.leaves.items() if leaf.kind == "input" and name not in inputs]
    if unbound:
        return {"value": None, "unbound": unbound}
    try:
        derivative = build(parse(text), {k: v for k, v in inputs.items() if k in graph.leaves})
    except GradcliError as e:
        return {"value": None, "error": e.message}
    return {"value": json_number(derivative.value)}


@app.command("hessian", cls=_ProgramFirst)
def hessian(
    program: Optional[str] = PROGRAM,
    bindings: Optional[List[str]] = BINDINGS,
    file: Optional[str] = FILE,
    output: Optional[str] = OUTPUT,
    wrt: Optional[List[str]] = WRT_LEAVES,
    json: bool = JSON,
    table: Optional[bool] = TABLE,
    precision: Optional[int] = PRECISION,
) -> None:
    """Evaluate a program and print its matrix of second derivatives at the point.

    On a terminal, a matrix too wide for it wraps into blocks of columns;
    in a pipe, tab-separated lines with a header of names.

    Examples:
      gradcli hessian "x**2*y + y**3" x=1 y=2
      gradcli hessian "x**2*y + y**3" x=1 y=2 --json
      gradcli examples neuron | gradcli hessian - --wrt w1,w2
    """
    source = Source()
    with errors_to_exit(source):
        from .build import resolve
        from .reports import HessianReport
        from .symbolic import hessian as second_derivatives

        graph = load(program, file, bindings or [], output, source)
        names = split_names(wrt)
        h = second_derivatives(graph, list(graph.leaves) if names is None else resolve(graph, names))
        _keep(graph=graph, value=h.value, grad=h.grad, names=h.names, hessian=h.matrix)
        show(HessianReport(h, graph, precision), json, table)



# ------------------------------------------------- uncertainty (issue 27)

UNCERTAINTY = "Uncertainty"
QUANTITIES = typer.Argument(None, metavar="[NAME=VALUE±U]...", show_default=False,
                            help="Values for the inputs: VALUE±U (or VALUE+-U) with a standard uncertainty, "
                                 "VALUE±P% relative, U(LOW,HIGH) uniform, T(LOW,HIGH) or T(LOW,MODE,HIGH) "
                                 "triangular, or a plain VALUE, exact.")


@app.command("uncertainty", cls=_ProgramFirst)
def uncertainty_(
    program: Optional[str] = PROGRAM,
    bindings: Optional[List[str]] = QUANTITIES,
    file: Optional[str] = FILE,
    output: Optional[str] = OUTPUT,
    corr: Optional[List[str]] = typer.Option(
        None, "--corr", metavar="A,B=R", rich_help_panel=UNCERTAINTY,
        help="The correlation coefficient R of the inputs A and B (repeat it for more pairs)."),
    k: Optional[float] = typer.Option(None, "-k", metavar="K", rich_help_panel=UNCERTAINTY, show_default=False,
                                      help="Coverage factor: also give the expanded uncertainty U = K*u "
                                           "(K = 2: about 95% for a normal output)."),
    p: Optional[float] = typer.Option(None, "-p", "--coverage", metavar="P", rich_help_panel=UNCERTAINTY,
                                      show_default=False,
                                      help="Coverage probability instead of -k: K from the normal "
                                           "(0.95: K = 1.96), and Monte Carlo's interval at P (default 0.95)."),
    mc: Optional[int] = typer.Option(None, "--mc", metavar="N", rich_help_panel=UNCERTAINTY,
                                     help="Also run N Monte Carlo samples (GUM Supplement 1) and compare."),
    seed: Optional[int] = typer.Option(None, "--seed", metavar="S", rich_help_panel=UNCERTAINTY,
                                       help="Seed of the Monte Carlo samples (default: a new one, reported)."),
    out: Optional[str] = typer.Option(None, "-o", "--out", metavar="FILE.svg", rich_help_panel=UNCERTAINTY,
                                      help="With --mc, also draw the samples' histogram against the GUM's "
                                           "normal in FILE.svg (written whole or not at all)."),
    json: bool = JSON,
    table: Optional[bool] = TABLE,
    precision: Optional[int] = PRECISION,
) -> None:
    """Propagate the inputs' uncertainties to the output (the GUM), with exact derivatives.

    Gives the value, its combined standard uncertainty u and the budget: per
    input its value, u, the sensitivity coefficient c = ∂f/∂x (the exact
    gradient), the contribution |c|·u and its share of the variance, largest
    first; second-order terms from exact higher derivatives when they change
    the answer; with --mc N, Monte Carlo side by side. In a pipe: one
    VALUE<TAB>U line. `unc` is the same command.

    Examples:
      gradcli uncertainty "g = 4*pi2*L/T**2" pi2=9.8696044010893586 L=1.000±0.002 T=2.007±0.005
      gradcli uncertainty "R = V/I" V=5.0+-0.1 I=0.1+-0.001 --corr V,I=0.5 -k 2 --json
      gradcli uncertainty "x**2" x=0±1 --mc 100000 --seed 1
    """
    source = Source()
    with errors_to_exit(source):
        from .build import structure
        from .cli_common import warn_likely_mistakes
        from .parse import parse
        from .reports import UncertaintyReport
        from .uncertainty import parse_correlation, parse_quantities, propagate

        quantities = parse_quantities(read_program(program, file, bindings or [], source))
        pairs = [parse_correlation(text) for text in corr or []]
        tree = parse(source.text)
        warn_likely_mistakes(source)
        if out is not None and (mc is None or not out.lower().endswith(".svg")):
            raise InputError(f"-o {printable(out)}: " + ("the picture is of the Monte Carlo samples: give --mc N too"
                                                          if mc is None else "the picture is SVG: name a .svg file"))
        budget = propagate(structure(tree, output), quantities, pairs, k, mc, seed, p=p)
        if out is not None:
            from .safeio import atomic_write
            from .uncertainty import histogram_svg

            atomic_write(out, histogram_svg(budget))
        _keep(budget=budget, value=budget.value, u=budget.u)
        show(UncertaintyReport(budget, precision), json, table)


# ------------------------------------------------------------ codegen (issue 11)

def _for_one_language(ctx, lang: str, options: dict) -> None:
    """An option of one target language given with another (``--dialect``
    with ``--lang c``) would be ignored without a word: it is an error."""
    from typer._click.core import ParameterSource

    from .codegen import LANGS

    if lang not in LANGS:
        return                  # generate says which languages there are
    for param in ctx.command.params:
        meant = options.get(param.name)
        if meant and meant != lang and ctx.get_parameter_source(param.name) is not ParameterSource.DEFAULT:
            flag = "--sql-table" if param.name == "table" else param.opts[0]
            raise InputError(f"{flag} is for --lang {meant}, not --lang {lang}",
                             notes=[f"use --lang {meant}, or leave {flag} out"])


@app.command("codegen", cls=_renamed(_ProgramFirst, table="--sql-table"))
def codegen_(
    ctx: typer.Context,
    program: Optional[str] = PROGRAM,
    bindings: Optional[List[str]] = BINDINGS,
    file: Optional[str] = FILE,
    output: Optional[str] = OUTPUT,
    wrt: Optional[List[str]] = WRT,
    lang: str = typer.Option("python", "--lang", metavar="python|numpy|c|js|sql", help="The target language.",
                             autocompletion=choices(("python", "Python"), ("numpy", "NumPy, arrays of points"),
                                                    ("c", "C"), ("js", "JavaScript"), ("sql", "SQL")),
                             rich_help_panel=CODE),
    name: str = typer.Option("gradient", "--name", metavar="FUNC", help="The function's name.",
                             rich_help_panel=CODE),
    table: str = typer.Option("points", "--sql-table", metavar="T", rich_help_panel=CODE,
                              help="The SQL table of points (--lang sql; the older --table still works)."),
    dialect: str = typer.Option("duckdb", "--dialect", metavar="duckdb|postgres|sqlite", rich_help_panel=CODE,
                                help="The SQL engine the query is for (--lang sql).",
                                autocompletion=choices(("duckdb", "DuckDB"), ("postgres", "PostgreSQL 12 or later"),
                                                       ("sqlite", "SQLite 3.35 or later"))),
    sql_columns: Optional[List[str]] = typer.Option(
        None, "--sql-columns", metavar="NAMES", rich_help_panel=CODE,
        help="Leaves with a default to read from the table's columns of those names (--lang sql; the default "
             "where a cell is NULL); a comma-separated list, or repeat the option."),
    out: Optional[str] = typer.Option(None, "-o", "--out", metavar="FILE", rich_help_panel=OUT,
                                      help="Write the code to FILE (whole or not at all) instead of printing it."),
    esm: bool = typer.Option(False, "--esm", rich_help_panel=CODE,
                             help="--lang js: an ES module (export function; also for -o FILE.mjs)."),
) -> None:
    """Print code that computes the output's value and its gradient by reverse mode.

    In Python, NumPy, C, JavaScript or SQL, with the numbers `grad` gives.
    NAME=VALUE gives an input a default (a Python or JavaScript default argument).

    Examples:
      gradcli codegen "y = x * sin(x)"
      gradcli codegen "y = x * sin(x)" --lang c -o xsin.c
      gradcli codegen "y = x * log(x)" --lang sql --dialect postgres --sql-table points
    """
    source = Source()
    with errors_to_exit(source):
        from .build import bind, structure
        from .codegen import generate
        from .parse import parse

        _for_one_language(ctx, lang.lower(), {"table": "sql", "dialect": "sql", "sql_columns": "sql", "esm": "js"})
        inputs = parse_bindings(read_program(program, file, bindings or [], source))
        graph = structure(parse(source.text), output)
        bind(graph, inputs, complete=False)
        names = split_names(wrt)
        esm = esm or (out or "").endswith(".mjs")
        code = generate(graph, lang.lower(), names, name=name, table=table, defaults=list(inputs), esm=esm,
                        dialect=dialect.lower(),
                        columns=split_names(sql_columns, "--sql-columns") or ()).code
        if out is None or out == "-":
            emit(code)
        else:
            from .safeio import atomic_write

            atomic_write(out, code)


@app.command("examples")
def examples_(
    name: Optional[str] = typer.Argument(None, metavar="[NAME]", show_default=False,
                                         help="An example to print (`neuron` or `neuron.grad`); none: the list."),
    path: bool = typer.Option(False, "--path", help="Print the folder the examples are in, to copy them."),
) -> None:
    """List the example programs and data that ship with gradcli, or print one.

    They come with every install (pip, pipx or a clone), so the examples of
    every command's help run anywhere.

    Examples:
      gradcli examples
      gradcli examples neuron | gradcli grad -
      cp -r "$(gradcli examples --path)" gradcli-examples
    """
    from . import shipped

    with errors_to_exit(Source()):
        if path:
            emit(f"{shipped.folder()}\n")
        elif name is None:
            listed = shipped.names()
            width = max(len(n) for n in listed)
            emit("".join(f"{n.ljust(width)}  {shipped.describe(n)}\n" for n in listed))
        else:
            emit(shipped.find(name).read_text(encoding="utf-8"))


# ------------------------------------------------------------- repl (issue 28)

@app.command("repl", cls=_ProgramFirst)
def repl_(
    program: Optional[str] = PROGRAM,
    bindings: Optional[List[str]] = BINDINGS,
    file: Optional[str] = FILE,
) -> None:
    """Open the prompt: build a program a line at a time and ask about it.

    `gradcli` alone on a terminal opens it too. A statement joins the
    program, `a = 2` sets a leaf, a bare expression prints its value;
    `:grad`, `:explain`, `:check`, `:graph`, `:nudge`, `:diff`, `:show`,
    `:help`, `:quit` (`:help` lists them all). A PROGRAM or -f FILE, with
    NAME=VALUE, starts the session with it. Without a terminal, each line
    of standard input is one input.

    Examples:
      gradcli repl "y = a*b" a=2 b=3 <<< ":grad --wrt a"    # 3.0
      gradcli repl <<< $'x = 3\\ny = x**2\\n:nudge 0.1'
    """
    from . import cli_common

    source = Source()
    with errors_to_exit(source):
        inputs = None
        if program is not None or file is not None:
            from .build import bind, structure
            from .parse import parse

            inputs = parse_bindings(read_program(program, file, bindings or [], source))
            bind(structure(parse(source.text)), inputs, complete=False)
        elif bindings:
            raise InputError("NAME=VALUE needs a program: give one, or set leaves at the prompt with `a = 2`")
        if cli_common.PROMPT is None:
            raise InputError("the prompt opens from the gradcli command (`gradcli repl`)")
    raise SystemExit(cli_common.PROMPT(source.text or None, inputs))


# ------------------------------------------------------------- help (issue 25)

@app.command("help", hidden=True)
def help_(
    topic: Optional[str] = typer.Argument(None, metavar="[TOPIC]", show_default=False,
                                          help="A command, or `language`."),
) -> None:
    """Help on a command, or on the language (`gradcli help language`).

    Examples:
      gradcli help language
      gradcli help grad
    """
    import typer.main as typer_main

    from .cli_help import TOPICS, language, show, wants_colour

    ctx = click_context = typer_main.get_command(app).make_context("gradcli", [], resilient_parsing=True)
    group = click_context.command
    if topic is None:
        show(group.get_help(ctx))
    elif topic in TOPICS:
        show(language(colour=wants_colour()))
    elif topic in group.commands and topic != "help":
        command = group.commands[topic]
        show(command.get_help(command.make_context(topic, [], parent=ctx, resilient_parsing=True)))
    else:
        from .errors import did_you_mean, words

        names = [n for n, c in group.commands.items() if not c.hidden] + list(TOPICS)
        with errors_to_exit(Source()):
            raise InputError(f"no help on `{printable(topic)}`",
                             notes=did_you_mean(topic, names) + [
                                 "the topics are " + words([f"`{n}`" for n in names])])


def main(argv: Optional[List[str]] = None) -> None:
    """The console script."""
    as_script(lambda: app(args=argv, prog_name="gradcli"))
