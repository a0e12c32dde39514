"""What a person at a terminal gets, and nothing a script does: long output
through a pager, coloured error headings and carets, and a word when
gradcli waits for a program on standard input.

Each behaviour depends on a stream being a terminal and is off otherwise,
so pipes, files and ``$(...)`` see exactly the bytes they always did:

- ``paged(console)``: a console whose output reaches standard output at the end of
  the command. When standard output is a terminal and the output is taller
  than it, it goes through the pager, chosen as ``git`` chooses it:
  ``$GRADCLI_PAGER``, else ``$PAGER``, else ``less``; ``LESS=FRX`` unless
  ``LESS`` is set (colour kept, the screen not cleared); an empty value or
  ``cat`` means no pager. A pager that cannot be found means no pager.
- ``paint_error(text)``: an error as ``errors.GradcliError.render`` writes
  it, with the heading (``error:``, ``syntax error:``, ``math error:``) and
  the caret in bold red, the place and the notes' ``note`` in colour; only
  when standard error is a terminal, ``NO_COLOR`` is unset and ``TERM`` is
  not ``dumb``, or ``FORCE_COLOR`` is set (``colour_allowed``: help and
  errors follow the same rule as rich's tables).
- ``waiting_for_stdin(what)``: says on standard error that gradcli is
  reading standard input (Ctrl-D to end) when it is a terminal, where it
  would otherwise seem to hang.

Importing this module imports nothing heavy (rich when a console is made,
subprocess when a pager runs): cli.py imports it at start-up.
"""

from __future__ import annotations

import os
import re
import sys
from contextlib import contextmanager
from typing import Callable, Iterator

RESET = "\x1b[0m"
RED = "\x1b[1;31m"
BLUE = "\x1b[1;34m"
CYAN = "\x1b[1;36m"
BOLD = "\x1b[1m"


def colour_allowed(stream) -> bool:
    """Colour for ``stream``: never with ``NO_COLOR``; always with
    ``FORCE_COLOR`` (set and not empty: CI logs, ``less -R``, as rich and
    typer read it); otherwise on a terminal that is not a dumb one."""
    if "NO_COLOR" in os.environ and os.environ["NO_COLOR"] != "":
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


_HEADING = re.compile(r"^((?:syntax |math )?(?:error|warning)):")
_CARET = re.compile(r"^(\s*\|\s)(\s*)(\^+)$")
_WHERE = re.compile(r"^( --> )(.*)$")
_NOTE = re.compile(r"^(  = )(note|help):")
_GUTTER = re.compile(r"^(\d*\s*\|)(.*)$")


def paint(text: str) -> str:
    """``text`` (an error as rendered) with ANSI colour on its parts."""
    out = []
    for line in text.split("\n"):
        if m := _HEADING.match(line):
            line = f"{RED}{m.group(1)}{RESET}{BOLD}:{line[m.end():]}{RESET}"
        elif m := _CARET.match(line):
            line = f"{BLUE}{m.group(1)}{RESET}{m.group(2)}{RED}{m.group(3)}{RESET}"
        elif m := _WHERE.match(line):
            line = f"{BLUE}{m.group(1)}{RESET}{m.group(2)}"
        elif m := _NOTE.match(line):
            line = f"{BLUE}{m.group(1)}{RESET}{CYAN}{m.group(2)}{RESET}:{line[m.end():]}"
        elif m := _GUTTER.match(line):
            line = f"{BLUE}{m.group(1)}{RESET}{m.group(2)}"
        out.append(line)
    return "\n".join(out)


def paint_error(text: str, stream=None) -> str:
    """``text`` coloured if ``stream`` (standard error) wants colour."""
    return paint(text) if colour_allowed(stream or sys.stderr) else text


def waiting_for_stdin(what: str = "the program") -> None:
    """Say, on standard error, that standard input is being read, when it
    is a terminal (where a silent wait looks like a hang)."""
    try:
        interactive = sys.stdin.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return
    if interactive:
        sys.stderr.write(f"reading {what} from standard input (Ctrl-D to end)\n")
        sys.stderr.flush()


# ------------------------------------------------------------------ pager

def pager_command(environ=None) -> str | None:
    """The pager to run, as ``git`` picks it; None for no pager."""
    env = os.environ if environ is None else environ
    for var in ("GRADCLI_PAGER", "PAGER"):
        if var in env:
            command = env[var].strip()
            break
    else:
        command = "less"
    if not command or command == "cat":
        return None
    import shlex
    import shutil

    try:
        program = shlex.split(command)[0]
    except (ValueError, IndexError):
        return None
    return command if shutil.which(program) else None


def console(**kwargs):
    from rich.console import Console

    return Console(highlight=False, **kwargs)


@contextmanager
def paged(stdout_console: Callable[[], object]) -> Iterator[object]:
    """A rich Console for the command's output; see the module docstring.
    ``stdout_console`` makes the console on standard output (the command
    line's, cli_common.console: a reader that leaves early is no error)."""
    real = stdout_console()
    try:
        on_terminal = sys.stdout.isatty()
    except (AttributeError, ValueError):
        on_terminal = False
    if not on_terminal:
        yield real
        return
    import io

    buffer = io.StringIO()
    capture = console(file=buffer, force_terminal=True, color_system=real.color_system,
                      width=real.width, no_color=real.no_color, legacy_windows=False)
    yield capture
    text = buffer.getvalue()
    command = pager_command()
    if command is None or text.count("\n") < real.height:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    page(text, command)


def put(console, renderable, style=None, soft_wrap: bool = False) -> None:
    """Print ``renderable`` on ``console``; a long table without colour
    (texttable.Grid.text) is written as text, the same characters, faster."""
    text = getattr(renderable, "text", None) if style is None and not soft_wrap else None
    recording = getattr(console, "record", False)          # the notebook's console keeps what it prints
    plain = text(console.width) if callable(text) and not recording else None
    if plain is None:
        console.print(renderable, style=style, soft_wrap=soft_wrap)
    else:
        console.file.write(plain)


def page(text: str, command: str) -> None:
    """``text`` through the pager ``command`` (run by the shell, as git
    does); a pager that quits early (``q`` in less) is no error."""
    import subprocess

    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    env.setdefault("LV", "-c")
    sys.stdout.flush()
    proc = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, env=env)
    try:
        assert proc.stdin is not None
        proc.stdin.write(text.encode("utf-8", "replace"))
        proc.stdin.close()
    except BrokenPipeError:
        pass
    while True:
        try:
            proc.wait()
            return
        except KeyboardInterrupt:   # Ctrl-C belongs to the pager while it runs
            continue
