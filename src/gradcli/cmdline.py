"""The command line's plumbing, without typer: reading the program and the
bindings, the one place where errors become messages and exit statuses,
and writing the output.

cli.py (the typer app) and fastcli.py (the console script's fast path for
plain eval and grad) both use these, so both behave the same. Importing this
module imports nothing heavy.
"""

from __future__ import annotations

import os
import re
import sys
from contextlib import contextmanager
from typing import Callable, Iterator, List, Optional

from .errors import GradcliError, InputError

EXIT_INTERNAL = 70  # a bug in gradcli (EX_SOFTWARE); never a traceback

_LONG_OPTION = re.compile(r"--[A-Za-z][-A-Za-z0-9]*")


def split_args(args: List[str], flags: set, valued: set) -> tuple:
    """gradcli's argument rules, for both front doors: options may come
    before or after the arguments, ``--`` ends them, and an argument that
    starts with ``-`` but is not an option (``-a**2``) is a positional (the
    program, or a binding). ``flags`` and ``valued`` are the command's option
    names. Returns ``(options, positionals)``, each option as the list of its
    raw arguments (``["--wrt", "a"]``, ``["--wrt=a"]``, ``["-fFILE"]``); an
    unknown long option is kept as an option, for click to reject."""
    options: List[List[str]] = []
    positionals: List[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            positionals += args[i + 1:]
            break
        name = arg.split("=", 1)[0]
        if not arg.startswith("-") or arg == "-":
            positionals.append(arg)
        elif name in flags:
            options.append([arg])
        elif name in valued:
            if "=" in arg or i + 1 == len(args):
                options.append([arg])
            else:
                options.append([arg, args[i + 1]])
                i += 1
        elif arg[:2] in valued and not arg.startswith("--"):
            options.append([arg])              # -fFILE
        elif _LONG_OPTION.fullmatch(name):
            options.append([arg])              # unknown: click says so
        else:
            positionals.append(arg)            # a program such as -a**2
        i += 1
    return options, positionals


class Source:
    """The program's text and where it came from (for error messages)."""

    def __init__(self, text: str = "", filename: str | None = None):
        self.text = text
        self.filename = filename


@contextmanager
def errors_to_exit(source: Source) -> Iterator[None]:
    """The one place where errors become messages and exit statuses."""
    try:
        yield
    except GradcliError as e:
        if source.text and e.exit_code == 2:
            from .hints import amend

            amend(e, source.text, from_argument=source.filename is None)
        _fail(e.render(source.text, source.filename), e.exit_code)
    except RecursionError:  # pragma: no cover - the code has no recursion to hit
        _fail("error: the program is too deeply nested", 2)
    except MemoryError:  # pragma: no cover
        _fail("error: out of memory", 1)
    except KeyboardInterrupt:  # pragma: no cover
        _fail("", 130)
    except BrokenPipeError:  # the reader left (`| head`): that is fine
        _reader_left()
    except Exception as e:  # a bug: say so plainly, never a traceback
        if _is_click_exit(e):   # typer.Exit / typer.Abort raised on purpose inside
            raise
        _fail(f"internal error: {type(e).__name__}: {e}\n"
              "this is a bug in gradcli; please report it with the command that caused it",
              EXIT_INTERNAL)


def _is_click_exit(e: Exception) -> bool:
    kind = type(e)
    return kind.__name__ in ("Exit", "Abort") and kind.__module__.split(".")[0] in ("click", "typer")


def _fail(message: str, code: int) -> None:
    """The message on standard error, then exit with ``code`` (SystemExit,
    which typer/click let through unchanged, as CliRunner records it)."""
    if message:
        from .terminal import paint_error

        sys.stderr.write(paint_error(message) + "\n")
        sys.stderr.flush()
    raise SystemExit(code)


def read_program(program: Optional[str], file: Optional[str], bindings: List[str],
                 source: Source) -> List[str]:
    """Fill ``source`` from PROGRAM, ``-`` (standard input) or ``--file``;
    return the NAME=VALUE arguments."""
    if file is not None:
        if program is not None:
            bindings = [program, *bindings]
        source.filename = file
        data = _read_bytes(file)
    elif program is None:
        raise InputError("no program: give it as an argument, `-` for standard input, or -f FILE")
    elif program == "-":
        source.filename = "<stdin>"
        data = _read_bytes("-")
    else:
        try:
            program.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError("the program is not valid UTF-8") from None
        source.text = program
        return bindings
    try:
        source.text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        where = "standard input" if file is None else f"`{file}`"
        raise InputError(f"{where} is not valid UTF-8 (byte {e.start} is {data[e.start]:#04x})") from None
    return bindings


def _read_bytes(path: str) -> bytes:
    if path == "-":
        from .terminal import waiting_for_stdin

        waiting_for_stdin()
        return sys.stdin.buffer.read()
    with open_input(path, "rb") as f:
        return f.read()


def open_input(path: str, mode: str = "r", **kwargs):
    """A file the user named, opened; one that cannot be is an InputError."""
    try:
        return open(path, mode, **kwargs)
    except OSError as e:
        raise InputError(f"cannot read `{path}`: {e.strerror or e}") from None


def parse_bindings(bindings: List[str]) -> dict:
    from .build import parse_binding

    inputs = {}
    for text in bindings:
        try:
            name, value = parse_binding(text)
        except InputError:
            from .hints import check_bindings

            check_bindings(bindings)   # `a = 2` as three words: say to write a=2
            raise
        inputs[name] = value  # the last binding wins
    return inputs


def split_names(values: Optional[List[str]]) -> Optional[List[str]]:
    """``--wrt a --wrt b`` and ``--wrt a,b``, in order, once each."""
    if not values:
        return None
    names: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if name and name not in names:
                names.append(name)
    return names


def load(program, file, bindings, output, source):
    """Read, parse, build and run forward: the steps every command shares."""
    from .build import build
    from .parse import parse

    inputs = parse_bindings(read_program(program, file, bindings, source))
    tree = parse(source.text)
    warn_likely_mistakes(source)
    return build(tree, inputs, output)


def warn_likely_mistakes(source: Source) -> None:
    """A program that parses, but likely not as meant (``x^1/2``): a
    warning on standard error; the command goes on."""
    text = source.text
    if "1" in text and ("^" in text or "**" in text):
        from .hints import warnings
        from .terminal import paint_error

        for w in warnings(text):
            sys.stderr.write(paint_error(w.render(text, source.filename)) + "\n")


def wants_table(table: Optional[bool]) -> bool:
    return sys.stdout.isatty() if table is None else table


def console():
    from rich.console import Console

    return Console(highlight=False)


def emit(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def gradients(graph, wrt: Optional[List[str]]) -> dict:
    """``grad``'s gradients: every leaf, or the ``--wrt`` names (checked)."""
    from .build import resolve

    names = split_names(wrt)
    return graph.gradients(None if names is None else resolve(graph, names))


def plain_eval(graph, as_json: bool) -> str:
    """``eval``'s output for scripts: JSON, or the value alone."""
    from . import render

    return render.as_json(graph.value) + "\n" if as_json else render.full(graph.value) + "\n"


def plain_grad(graph, grads: dict, wrt: Optional[List[str]], as_json: bool) -> str:
    """``grad``'s output for scripts: JSON, one gradient alone for exactly
    one ``--wrt`` name, or ``NAME<TAB>GRADIENT`` lines."""
    from . import render

    if as_json:
        return render.as_json(graph.value, grads) + "\n"
    names = split_names(wrt)
    if names is not None and len(names) == 1:
        return render.full(grads[names[0]]) + "\n"
    return render.plain_grads(grads)


def as_script(run: Callable[[], object]) -> None:
    """Run the console script's work: a reader that leaves early
    (`gradcli ... | head`) is fine, and Ctrl-C exits 130, never a traceback."""
    try:
        run()
    except BrokenPipeError:
        _reader_left()
    except KeyboardInterrupt:
        sys.exit(130)


def _reader_left() -> None:
    """Standard output's reader has gone: exit 0, quietly (the output left
    unwritten goes to /dev/null, so that Python's final flush cannot fail)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(0)
