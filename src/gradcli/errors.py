"""Errors a person can act on.

Every error gradcli raises on purpose is a ``GradcliError``: it carries the exit
status the contract gives it, the message, and where in the source it happened.
``render`` turns it into the text the command line prints on standard error:

    error: expected a number, a name, `(` or a sign, found the end of the input
     --> 1:6
      |
    1 | (a*b+
      |      ^
      = note: the `(` at 1:1 is never closed
"""

from __future__ import annotations

from typing import Iterable, Sequence

from .syntax import Pos


class GradcliError(Exception):
    """Bad input: exit status 2 unless a subclass says otherwise."""

    exit_code = 2
    kind = "error"

    def __init__(self, message: str, pos: Pos | None = None, notes: Sequence[str] = ()):
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.notes = list(notes)

    @property
    def __notes__(self) -> list[str]:
        """The notes as PEP 678's ``__notes__``, which Python's and IPython's
        tracebacks print under the message: a library error raised in a
        notebook or a script keeps its "did you mean"."""
        return [f"note: {note}" for note in self.notes]

    def render(self, source: str | None = None, filename: str | None = None, width: int | None = None) -> str:
        """The error as a person reads it: message, place, the source line with
        a caret under the spot, and notes. A source line longer than ``width``
        (a terminal's columns; ECHO_WIDTH when None) is clipped around the spot."""
        # User text (the source line, names, file names, bindings) is shown
        # with control characters escaped (printable): no terminal escape
        # reaches the terminal and no newline forges a line.
        lines = [f"{self.kind}: {printable(self.message)}"]
        if self.pos is not None:
            where = f"{printable(filename)}:{self.pos}" if filename else str(self.pos)
            lines.append(f" --> {where}")
            text = _source_line(source, self.pos.line) if source is not None else None
            if text is not None:
                gutter = str(self.pos.line)
                pad = " " * len(gutter)
                start = self.pos.column - 1
                length = max(1, self.pos.length)
                # A long line is clipped around the spot (ECHO_WIDTH characters
                # with an ellipsis on each side cut), not echoed whole.
                fit = ECHO_WIDTH if width is None else max(20, width - len(gutter) - 5)
                left, right = _window(len(text), start, length, fit)
                before = ("…" if left else "") + printable(text[left:start], keep_tabs=True)
                spot = printable(text[start:start + length], keep_tabs=True)
                shown = before + spot + printable(text[start + length:right], keep_tabs=True) \
                    + ("…" if right < len(text) else "")
                # Tabs keep their width so the caret stays under the spot.
                indent = "".join(c if c == "\t" else " " for c in before)
                carets = max(1, min(len(spot), fit))
                lines.append(f"{pad} |")
                lines.append(f"{gutter} | {shown}")
                lines.append(f"{pad} | {indent}{'^' * carets}")
        for note in self.notes:
            lines.append(f"  = note: {printable(note)}")
        return "\n".join(lines)


class ParseError(GradcliError):
    """The text is not a program: a syntax error or no statement at all."""

    kind = "syntax error"


class ProgramError(GradcliError):
    """The program parses but names something that does not exist: an unknown
    function, a function name used as a variable, a call with the wrong number
    of arguments."""


class InputError(GradcliError):
    """Something around the program is wrong: a NAME=VALUE binding, a missing
    input, an unknown --wrt or --of name, an unreadable file."""


class DomainError(GradcliError):
    """A math domain error while evaluating or differentiating: exit status 1."""

    exit_code = 1
    kind = "math error"

    def __init__(self, message: str, pos: Pos | None = None, notes: Sequence[str] = (),
                 op: str | None = None, operands: tuple[float, ...] = ()):
        super().__init__(message, pos, notes)
        self.op = op
        self.operands = operands


# C0 controls, DEL and C1 controls; everything else (any printable Unicode)
# is shown as it is.
_CONTROL = {c: None for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))}
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e"}


def printable(text: str, keep_tabs: bool = False) -> str:
    """``text`` with control characters shown as escapes (``\\n``, ``\\e``,
    ``\\x07``, ``\\u009b``). ``keep_tabs`` leaves tabs as they are (a source
    line under a caret keeps its width)."""
    if not any(ord(c) in _CONTROL for c in text):
        return text
    out = []
    for c in text:
        code = ord(c)
        if code not in _CONTROL or (keep_tabs and c == "\t"):
            out.append(c)
        elif c in _NAMED:
            out.append(_NAMED[c])
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        else:  # pragma: no cover - C1 controls are below 0x100
            out.append(f"\\u{code:04x}")
    return "".join(out)



# The most characters of a source line an error echoes: a longer line is
# clipped around the spot (issue 25: a line of 798 names was echoed whole,
# 5,477 characters).
ECHO_WIDTH = 100


def _window(size: int, start: int, length: int, width: int) -> tuple[int, int]:
    """The part ``[left, right)`` of a line of ``size`` characters to echo:
    all of it when it fits ``width``, else ``width`` characters with the
    spot a third of the way in."""
    if size <= width:
        return 0, size
    left = max(0, min(start - width // 3, size - width))
    spot_end = min(size, start + min(length, width))
    if spot_end > left + width:
        left = spot_end - width
    return left, min(size, left + width)


def _source_line(source: str, line: int) -> str | None:
    lines = source.split("\n")
    if not 1 <= line <= len(lines):
        return None
    return lines[line - 1].rstrip("\r")


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The known names closest to a mistyped one, best first."""
    import difflib  # only on the error path

    return difflib.get_close_matches(name, sorted(set(candidates)), n=n, cutoff=0.6)


def did_you_mean(name: str, candidates: Iterable[str]) -> list[str]:
    """A note suggesting the closest known names, or no note."""
    near = closest(name, candidates)
    if not near:
        return []
    return ["did you mean " + words([f"`{c}`" for c in near], "or") + "?"]


def words(items: Sequence[str], last: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]
