"""The console script's front door: plain ``eval`` and ``grad`` without typer.

gradcli is called from shell loops, where its output goes to a pipe. For
those calls importing typer and building its app costs more than all the
rest (about 55 ms of 75). So ``main`` first reads the arguments itself; when
they are a plain ``eval`` or ``grad`` (a program, bindings, ``-f FILE``,
``--of`` (or the older ``--output``, with the same note), ``--wrt``, ``--json``, ``--plain``; output not for a terminal,
or ``--json``/``--plain``; or ``--at`` with its options), it runs the command with the very same helpers
the typer commands use (cli_common.py). Anything else (help, tables, other
commands and options, anything odd) goes to the typer app (cli.py), which
also gives every usage error. Tests run the same arguments both ways and
compare outputs, errors and exit statuses.

The argument rules are _ProgramFirst's (cli.py): options may come anywhere,
``--`` ends them, and an argument that starts with ``-`` but is not an
option (``-a**2``) is the program or a binding.
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional

# What the fast path runs; every other option of eval and grad goes to typer.
_FLAGS = {"--json": "json", "--plain": "plain", "--drop-extra": "drop_extra"}
_VALUED = {"--wrt": "wrt", "--of": "output", "--output": "output", "--file": "file", "-f": "file",
           "--at": "at", "--on-error": "on_error", "-o": "out", "--out": "out", "--jobs": "jobs", "-j": "jobs",
           "--scheduler": "scheduler"}
# Every option name of the typer eval and grad commands (a test keeps this in
# step with cli.py), so that arguments are split exactly as typer splits them.
EVAL_GRAD_FLAGS = {"--json", "--table", "--plain", "--all", "-h", "--help", "--drop-extra"}
EVAL_GRAD_VALUED = {"--file", "-f", "--of", "--output", "--wrt", "--precision", "--at", "--on-error",
                    "-o", "--out", "--jobs", "-j", "--scheduler"}


def plan(argv: List[str]) -> Optional[dict]:
    """The command and its arguments if the fast path can run them exactly
    as the typer app would; None otherwise."""
    if not argv or argv[0] not in ("eval", "grad") or "_GRADCLI_COMPLETE" in os.environ:
        return None                          # shell completion is typer's
    from .cli_common import RENAMED, MissingValue, split_args

    try:
        options, positionals = split_args(argv[1:], EVAL_GRAD_FLAGS, EVAL_GRAD_VALUED)
    except MissingValue:
        return None                          # typer says which option needs a value
    opts: dict = {"command": argv[0], "json": False, "plain": False, "wrt": [], "output": None,
                  "file": None, "positionals": positionals, "at": None, "on_error": "fail", "out": None,
                  "jobs": "1", "scheduler": None, "renamed": [], "drop_extra": False}
    for option in options:
        name, eq, value = option[0].partition("=")
        if name in _FLAGS and not eq and len(option) == 1:
            opts[_FLAGS[name]] = True
            continue
        if name not in _VALUED or (eq and not name.startswith("--")):
            return None                      # another option, or one written another way
        if not eq:
            if len(option) == 1:
                return None                  # -fFILE: typer's
            value = option[1]
        if value.startswith("-") and value != "-" or (name == "--wrt" and opts["command"] != "grad"):
            return None
        key = _VALUED[name]
        if name in RENAMED:
            opts["renamed"].append([name, value])
        if key == "wrt":
            opts["wrt"].append(value)
        else:
            opts[key] = value                # the last one wins, as with click
    if not opts["positionals"] and opts["file"] is None:
        return None
    bindings = opts["positionals"][0 if opts["file"] is not None else 1:]
    if any(len(word) > 1 and word[0] == "-" for word in bindings):
        return None                          # `-p 3`: typer says there is no such option
    if opts["at"] is not None:                # many points: no table either way
        if opts["plain"] or not opts["jobs"].isdigit():
            return None
        return opts
    if opts["out"] is not None or opts["scheduler"] is not None or opts["jobs"] != "1" \
            or opts["on_error"] != "fail" or opts["drop_extra"]:
        return None                          # without --at: typer says what is wrong
    if not (opts["json"] or opts["plain"]) and sys.stdout.isatty():
        return None                          # a table for people: rich, via typer
    return opts


def run(opts: dict) -> None:
    """Run a plan; exits like the typer command (SystemExit on failure)."""
    from .cli_common import RENAMED, Source, emit, errors_to_exit, gradients, load, plain_eval, plain_grad, \
        rename_options

    rename_options(opts["renamed"], RENAMED)      # the older --output: its note

    positionals = opts["positionals"]
    program, bindings = (positionals[0], positionals[1:]) if positionals else (None, [])
    if opts["at"] is not None:
        from .cli_points import run_at

        run_at(program, opts["file"], bindings, opts["output"], opts["wrt"] or None, opts["json"], opts["at"],
               opts["on_error"], opts["command"] == "grad", opts["out"], int(opts["jobs"]), opts["scheduler"],
               opts["drop_extra"])
        return
    source = Source()
    with errors_to_exit(source):
        graph = load(program, opts["file"], bindings, opts["output"], source)
        if opts["command"] == "eval":
            emit(plain_eval(graph, opts["json"]))
        else:
            wrt = opts["wrt"] or None
            emit(plain_grad(graph, gradients(graph, wrt), wrt, opts["json"]))


def prompt(program: Optional[str] = None, bindings: Optional[dict] = None) -> int:
    """The prompt (repl.py), imported only when it opens."""
    from .repl import main as session

    return session(program, bindings)


def interactive() -> bool:
    """Standard input and output are both terminals."""
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def main(argv: Optional[List[str]] = None) -> None:
    """The console script (called by gradcli_entry.main, which catches
    Ctrl-C from the start). ``gradcli`` alone on a terminal, and ``gradcli
    repl`` alone, open the prompt without typer; ``gradcli`` alone on a
    pipe goes to typer, which prints the usage on standard error (exit 2)."""
    from . import cli_common
    from .cli_common import guard_streams

    guard_streams()
    cli_common.PROMPT = prompt
    args = sys.argv[1:] if argv is None else list(argv)
    if (args == ["repl"] or not args and interactive()) and "_GRADCLI_COMPLETE" not in os.environ:
        from .cli_common import as_script

        as_script(lambda: sys.exit(prompt()), prompt=True)   # the prompt's own Ctrl-C
        return
    opts = plan(args)
    if opts is None:
        from .cli import main as full

        full(argv)
        return
    from .cli_common import as_script

    as_script(lambda: run(opts))
