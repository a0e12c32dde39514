"""Shell completion of option values (issue 25): what Tab offers after an
option, in bash, zsh and fish (typer's scripts: ``--install-completion``).

- A file option (``-f``, ``-o``, ``--at``, ``--log``) offers nothing of its
  own, and every shell then completes file names (bash's ``-o default``,
  zsh's ``_files``, fish's file fallback).
- A choice option offers its choices: ``--lang`` ``python numpy c js sql``,
  ``--mode``, ``--rankdir``, ``--on-error``.
- ``--wrt`` offers the program's leaves, then its other assigned names, and
  ``--of`` its assigned names, when the program is already on the line (as
  text, or ``-f FILE``); ``--wrt a,<Tab>`` completes the name after the comma.

Nothing here prints, exits or raises: a program that does not parse, a file
that cannot be read, anything odd offers nothing. gradcli's own usage
checks do not run while the shell completes (cli._ProgramFirst). A program
file is read up to COMPLETE_LIMIT bytes: completion must answer at once.
"""

from __future__ import annotations

COMPLETE_LIMIT = 1 << 20


def choices(*values: tuple):
    """A typer ``autocompletion`` offering ``values``, each ``(value, help)``."""

    def complete(ctx, incomplete):
        return [(value, text) for value, text in values if value.startswith(incomplete)]

    return complete


def _program(ctx) -> str | None:
    """The program's text from the command line being completed, or None."""
    params = getattr(ctx, "params", None) or {}
    file, program = params.get("file"), params.get("program")
    try:
        if file:
            with open(file, "rb") as f:
                return f.read(COMPLETE_LIMIT).decode("utf-8", "replace")
        if program and program != "-":
            return program
    except (OSError, ValueError):
        return None
    return None


def _names(ctx, leaves_first: bool) -> list:
    """The program's leaves (then its other assigned names), or its assigned
    names alone; empty when there is no program on the line yet."""
    text = _program(ctx)
    if text is None:
        return []
    try:
        from .build import structure
        from .parse import parse

        graph = structure(parse(text))
    except Exception:       # anything at all: completion offers nothing
        return []
    leaves = list(graph.leaves)
    others = [name for name in graph.names if name not in graph.leaves]
    return [(n, "a leaf") for n in leaves] + [(n, "an assigned name") for n in others] if leaves_first \
        else [(n, "an assigned name") for n in [*others, *(n for n in graph.names if n in graph.leaves)]]


def wrt_names(ctx, incomplete):
    """``--wrt``: the names, after the last comma of ``a,b,`` too."""
    head, comma, tail = incomplete.rpartition(",")
    prefix = head + comma
    given = set(head.split(",")) if comma else set()
    return [(prefix + name, text) for name, text in _names(ctx, True)
            if name.startswith(tail) and name not in given]


def of_names(ctx, incomplete):
    """``--of``: the program's assigned names."""
    return [(name, text) for name, text in _names(ctx, False) if name.startswith(incomplete)]
