"""Help that fits the terminal (issue 25, item 2), and the language topic.

gradcli writes its own ``--help`` (typer's boxed panels cut option names
below 56 columns and wrapped examples mid-command): plain sections, the
width of the terminal (at most 100 columns; 80 when it is not one), and

- option names are never cut: past the width of the name column a
  description starts on the next line, and below 56 columns every
  description does (names on their own line, the words under them);
- an example is never wrapped mid-word: a line too long for the width is
  broken between two shell words with a `` \\`` at the end, so that any
  copied part of it either is a whole command or waits for the rest;
- on a terminal, help taller than the screen goes through the pager
  (terminal.py's, as for tables); colour (option names, headings) only
  where terminal.colour_allowed says, FORCE_COLOR included.

``gradcli help [TOPIC]``: TOPIC a command (its help), ``language`` (the
language: statements, operators, ``**`` and ``^``, numbers and names, every
function from ops.FUNCTIONS), or nothing (the top-level help). The man
page's LANGUAGE section is ``language_sections()``, the same text.
"""

from __future__ import annotations

import inspect
import re
import shutil
import sys
import textwrap
from typing import List, Optional, Sequence, Tuple

WIDEST = 100          # help wider than this is hard to read
STACKED_BELOW = 56    # narrower: each option's description under its name
NAME_COLUMN = 26      # at most this wide; longer names put the words below


def width() -> int:
    """The help's width: COLUMNS, else the terminal's (standard output's, or
    standard error's when the help goes to a pipe on a terminal, ``gradcli
    --help | head``, as rich sizes tables), else 80; at most WIDEST."""
    import os

    columns = 0
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        pass
    for fd in (1, 2, 0):
        if columns > 0:
            break
        try:
            columns = os.get_terminal_size(fd).columns
        except OSError:
            continue
    return max(20, min(WIDEST, columns or 80))


# ------------------------------------------------------------------ pieces

def wrap(text: str, columns: int, indent: int = 0) -> List[str]:
    """Prose filled to ``columns``, never breaking a word or a `code span`
    across lines where it can be helped."""
    pad = " " * indent
    text = re.sub(r"`[^`]*`", lambda m: m.group().replace(" ", "\x00"), " ".join(text.split()))
    lines = textwrap.wrap(text, max(indent + 10, columns), initial_indent=pad, subsequent_indent=pad,
                          break_long_words=False, break_on_hyphens=False) or [pad]
    return [line.replace("\x00", " ") for line in lines]


def shell_words(command: str) -> List[str]:
    """``command`` split at the spaces outside quotes, the words' text
    unchanged (a break inside ``$(...)`` is fine: a backslash-newline
    continues the line there too)."""
    words, current, quote = [], "", None
    k = 0
    while k < len(command):
        c = command[k]
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c.isspace():
            if current:
                words.append(current)
            current = ""
            k += 1
            continue
        current += c
        k += 1
    if current:
        words.append(current)
    return words


def example(line: str, columns: int, indent: int = 2) -> List[str]:
    """An example command: whole on one line when it fits; otherwise broken
    between shell words with `` \\`` (its comment, ``# 6.0``, on a line of
    its own above it), never inside a word or a quoted program."""
    command, hash_, comment = line.partition("  #")
    command = command.rstrip()
    out = []
    if hash_ and indent + len(line) > columns:
        out.append(" " * indent + "# " + comment.strip())
    elif hash_:
        return [" " * indent + line]
    words = shell_words(command)
    lines: List[str] = []
    current = " " * indent
    for word in words:
        candidate = (current + " " + word) if current.strip() else current + word
        if current.strip() and len(candidate) + 2 > columns:
            lines.append(current + " \\")
            current = " " * (indent + 4) + word
        else:
            current = candidate
    lines.append(current)
    return out + lines


def _names(param) -> str:
    if getattr(param, "param_type_name", "") == "argument":
        return param.metavar or param.name.upper()
    names = sorted(param.opts, key=lambda n: (n.startswith("--"), n)) + list(param.secondary_opts)
    head = ", ".join(names)
    if not (param.is_flag or getattr(param, "count", False)):
        head += " " + (param.metavar or {"integer": "N", "float": "NUMBER"}.get(param.type.name.split()[0],
                                                                               param.type.name.upper()))
    return head


def _describe(param) -> str:
    text = getattr(param, "help", "") or ""
    default = param.default
    if getattr(param, "param_type_name", "") == "option" and not param.is_flag \
            and default not in (None, "", [], ()) and not callable(default) \
            and getattr(param, "show_default", True) is not False:
        text += f" [default: {default}]"
    return text


def entries(rows: Sequence[Tuple[str, str]], columns: int, bold=lambda s: s,
            column: Optional[int] = None, narrow: bool = False) -> List[str]:
    """Two columns, names and words (the names ``column`` wide, else as wide
    as the widest fitting); the names are never cut. Below STACKED_BELOW
    columns each name has its words under it, unless the names are
    ``narrow`` (the exit statuses)."""
    out: List[str] = []
    if columns < STACKED_BELOW and not narrow:
        for name, text in rows:
            out.append("  " + bold(name))
            if text:
                out += wrap(text, columns, 6)
        return out
    if column is None:
        column = name_column([name for name, _ in rows])
    for name, text in rows:
        body = wrap(text, columns, 2 + column) if text else []
        if len(name) + 2 <= column and body:
            out.append("  " + bold(name) + " " * (column - len(name)) + body[0][2 + column:])
            out += body[1:]
        else:
            out.append("  " + bold(name))
            out += body
    return out


def name_column(names: Sequence[str]) -> int:
    """The name column: the widest name that fits NAME_COLUMN, plus 2."""
    fitting = [len(n) for n in names if len(n) + 2 <= NAME_COLUMN]
    return (max(fitting) if fitting else NAME_COLUMN - 2) + 2


def _grouped(command, ctx) -> Tuple[list, dict]:
    """A command's visible arguments, and its options by help panel."""
    panels: dict = {}
    arguments = []
    for param in command.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        if getattr(param, "param_type_name", "") == "argument":
            arguments.append(param)
        else:
            panels.setdefault(getattr(param, "rich_help_panel", None) or "Options", []).append(param)
    return arguments, panels


def _sections(help_text: str) -> Tuple[str, List[str], List[str]]:
    """The purpose, the prose paragraphs and the example lines of a docstring."""
    text = inspect.cleandoc(help_text or "")
    parts = [p for p in text.split("\n\n") if p.strip()]
    purpose = " ".join(parts[0].split()) if parts else ""
    prose, examples = [], []
    for part in parts[1:]:
        lines = part.split("\n")
        if lines[0].strip().rstrip(":") == "Examples":
            examples += [line.strip() for line in lines[1:] if line.strip()]
        else:
            prose.append(part)
    return purpose, prose, examples


def _prose(part: str, columns: int) -> List[str]:
    """A paragraph; lines indented in the source (a table such as the exit
    statuses) keep their lines."""
    lines = part.split("\n")
    if any(line.startswith("  ") for line in lines[1:]):
        return [line.rstrip() for line in lines]
    return wrap(part, columns)


# ------------------------------------------------------------------ the help

def _epilog(epilog: str, columns: int, heading) -> List[str]:
    """The epilog (the exit statuses: a title line, then ``CODE  words``
    entries with continuation lines) fitted to the width."""
    lines = inspect.cleandoc(epilog).split("\n")
    rows: List[List[str]] = []
    for line in lines[1:]:
        m = re.match(r"\s*(\d+)\s+(.*)", line)
        if m:
            rows.append([m.group(1), m.group(2)])
        elif line.strip() and rows:
            rows[-1][1] += " " + line.strip()
    if not rows:
        return [line.rstrip() for line in lines]
    return [heading(lines[0])] + entries([(code, text) for code, text in rows], columns, column=5,
                                         narrow=True)


def render(command, ctx, columns: Optional[int] = None, colour: bool = False) -> str:
    """The help of ``command`` (a click command or the group) as text."""
    columns = columns or width()
    bold = (lambda s: f"\x1b[1;36m{s}\x1b[0m") if colour else (lambda s: s)
    heading = (lambda s: f"\x1b[1m{s}\x1b[0m") if colour else (lambda s: s)
    out: List[str] = []
    usage = " ".join(command.collect_usage_pieces(ctx))
    out += wrap(f"Usage: {ctx.command_path} {usage}", columns)
    out[1:] = [" " * 7 + line.lstrip() for line in out[1:]]
    purpose, prose, examples = _sections(command.help or "")
    out += [""] + wrap(purpose, columns)
    for part in prose:
        out += [""] + _prose(part, columns)
    if examples:
        out += ["", heading("Examples:")]
        for line in examples:
            out += example(line, columns)
    commands = getattr(command, "commands", None)
    if commands:
        out += ["", heading("Commands:")]
        rows = [(name, _sections(c.help or "")[0]) for name, c in commands.items() if not getattr(c, "hidden", False)]
        out += entries(rows, columns, bold, name_column([n for n, _ in rows] + ["help [TOPIC]"]))
        out += entries([("help [TOPIC]", "Help on a command, or on the language (`gradcli help language`).")],
                       columns, bold, name_column([n for n, _ in rows] + ["help [TOPIC]"]))
    arguments, panels = _grouped(command, ctx)
    column = name_column([_names(p) for p in arguments] + [_names(p) for ps in panels.values() for p in ps])
    if arguments:
        out += ["", heading("Arguments:")]
        out += entries([(_names(p), _describe(p)) for p in arguments], columns, bold, column)
    for panel in [p for p in panels if p != "Options"] + [p for p in panels if p == "Options"]:
        out += ["", heading(f"{panel}:")]
        out += entries([(_names(p), _describe(p)) for p in panels[panel]], columns, bold, column)
    epilog = getattr(command, "epilog", None)
    if epilog:
        out += [""] + _epilog(epilog, columns, heading)
    return "\n".join(out).rstrip("\n") + "\n"


def show(text: str) -> None:
    """Help on standard output; through the pager on a terminal when it is
    taller than the screen."""
    from .terminal import page, pager_command

    try:
        on_terminal = sys.stdout.isatty()
    except (AttributeError, ValueError):
        on_terminal = False
    if on_terminal:
        rows = shutil.get_terminal_size((80, 24)).lines
        command = pager_command()
        if command is not None and text.count("\n") >= rows:
            page(text, command)
            return
    sys.stdout.write(text)
    sys.stdout.flush()


def wants_colour() -> bool:
    from .terminal import colour_allowed

    return colour_allowed(sys.stdout)


# ------------------------------------------------------------- the language

def language_sections() -> List[Tuple[str, List[Tuple[str, str]], str]]:
    """The language topic, as (heading, rows of (what, words), prose after)."""
    from .ops import FUNCTIONS

    def arity(op) -> str:
        return "(x)" if op.arity == 1 else "(x, y)"

    functions = [(f"{name}{arity(op)}", _FUNCTION_WORDS.get(name, "")) for name, op in FUNCTIONS.items()]
    return [
        ("Statements", [
            ("NAME = expr", "assign: the name now refers to the expression's value"),
            ("NAME += expr", "also -=, *=, /=: a new node `NAME + (expr)`; the name refers to it"),
            ("expr", "a bare expression (the last statement is the output)"),
        ], "Statements are separated by newlines or `;`. `#` starts a comment to the end of the line. "
           "A name read before it is assigned is an input, bound as NAME=VALUE after the program; "
           "`a = 2.0` (a plain number) gives a leaf a default that NAME=VALUE overrides. The output is the "
           "last statement; `--of NAME` picks another assigned name."),
        ("Operators, loosest first", [
            ("a + b   a - b", "left to right"),
            ("a * b   a / b", "left to right"),
            ("-a   +a", "a sign; `-2**2` is -4, `a -1` is `a - 1`"),
            ("a ** b   a ^ b", "power: the same operator, right to left (`2**3**2` is 512); tighter than a "
                               "sign on its left (`-a**2` is `-(a**2)`), so `2**-1` is 0.5"),
            ("f(x)   x.f()   (e)", "a call, a method call (`(a + b).relu()`), parentheses"),
        ], "`^` is a power, as in the lecture's notes, not Python's exclusive or; `x^1/2` is `(x^1)/2`, as "
           "in Python: write `x**0.5` or `sqrt(x)` for a root. There is no `%`, `//`, `==` or `<`."),
        ("Numbers and names", [
            ("2  2.  .5  1e-3  6.02E23", "numbers are unsigned; a sign is the operator"),
            ("a  x_1  _tmp", "names: letters, digits and `_`, not starting with a digit, not a function"),
        ], "There are no built-in constants: bind pi=3.141592653589793, and write exp(x) for e**x."),
        ("Functions", functions,
         "Each has its derivative. `f(x)` and `x.f()` are the same node; calls chain: `a.exp().log()`."),
    ]


_FUNCTION_WORDS = {
    "exp": "e to the x", "log": "natural logarithm (x > 0)", "tanh": "hyperbolic tangent",
    "relu": "max(x, 0); relu'(0) = 0", "sigmoid": "1 / (1 + exp(-x))", "sqrt": "square root (x >= 0)",
    "abs": "|x|; abs'(0) = 0", "sin": "sine (radians)", "cos": "cosine (radians)", "tan": "tangent (radians)",
    "softplus": "log(1 + exp(x))", "log1p": "log(1 + x), exact for small x", "sign": "-1, 0 or 1",
    "step": "0 for x <= 0, 1 for x > 0", "max": "the larger", "min": "the smaller",
    "atan": "arc tangent", "asinh": "inverse hyperbolic sine", "erf": "the error function",
    "hypot": "sqrt(x**2 + y**2), without overflow", "pow": "x ** y",
}


def language(columns: Optional[int] = None, colour: bool = False) -> str:
    """``gradcli help language``."""
    columns = columns or width()
    heading = (lambda s: f"\x1b[1m{s}\x1b[0m") if colour else (lambda s: s)
    bold = (lambda s: f"\x1b[1;36m{s}\x1b[0m") if colour else (lambda s: s)
    out = wrap("A program is one or more statements, run top to bottom; gradcli evaluates it, "
               "backpropagates from the output, and reports the gradient of every leaf.", columns)
    for title, rows, prose in language_sections():
        out += ["", heading(f"{title}:")]
        out += entries(rows, columns, bold)
        if prose:
            out += [""] + wrap(prose, columns, 2)
    out += ["", *wrap("Example (micrograd's README, unchanged but for Value(...)):", columns), ""]
    out += ["  a = -4.0; b = 2.0", "  c = a + b; d = a * b + b**3", "  c += c + 1", "  e = c - d; f = e**2"]
    return "\n".join(out) + "\n"


TOPICS = {"language": "the language: statements, operators, `**` and `^`, numbers, names, functions"}


# ------------------------------------------------- docs/reference/cli.md

def _md(text: str) -> str:
    """Prose for Markdown: kept as written (its `code` spans are Markdown's
    too); a bare `<` or `|` outside code is escaped."""
    parts = re.split(r"(`[^`]*`)", " ".join(text.split()))
    return "".join(p if p.startswith("`") else p.replace("|", "\\|").replace("<", "&lt;") for p in parts)


def _md_rows(params) -> List[str]:
    out = ["| option | what it does |", "| --- | --- |"]
    for param in params:
        out.append(f"| `{_names(param).replace('|', chr(92) + '|')}` | {_md(_describe(param))} |")
    return out


def markdown(app, EXIT_STATUSES: str) -> str:
    """The command-line reference, docs/reference/cli.md: every command and
    option of ``app`` (cli.app) as the help says it (``python -m
    gradcli.manpage --markdown > docs/reference/cli.md``; a test keeps the
    page equal to the help). The CLI is passed in: this module is below it."""
    import typer.main

    root = typer.main.get_command(app)
    ctx = root.make_context("gradcli", [], resilient_parsing=True)
    purpose, prose, examples = _sections(root.help or "")
    out = ["# gradcli: the command line", "",
           "<!-- written by `python -m gradcli.manpage --markdown > docs/reference/cli.md` from the --help texts: "
           "do not edit -->", "", _md(purpose), ""]
    for part in prose:
        out += [_md(part), ""]
    out += ["```sh", *examples, "```", "",
            "Options may come before or after the arguments; `--` ends them. A program that starts with a "
            "minus sign is a program, not an option. `gradcli COMMAND --help` and `gradcli help TOPIC` show "
            "the same text on the terminal, fitted to its width.", ""]
    out += ["## Contents", ""]
    commands = [(name, c) for name, c in root.commands.items() if not getattr(c, "hidden", False)]
    out += [f"- [`gradcli {name}`](#gradcli-{name}): {_md(_sections(c.help or '')[0])}" for name, c in commands]
    out += ["- [`gradcli help [TOPIC]`](#gradcli-help-topic): help on a command, or on the language",
            "- [The language](#the-language)", "- [Exit status](#exit-status)", ""]
    for name, command in commands:
        sub = command.make_context(name, [], parent=ctx, resilient_parsing=True)
        purpose, prose, examples = _sections(command.help or "")
        usage = " ".join(command.collect_usage_pieces(sub))
        out += [f"## gradcli {name}", "", f"`gradcli {name} {usage}`", "", _md(purpose), ""]
        for part in prose:
            out += [_md(part), ""]
        if examples:
            out += ["```sh", *examples, "```", ""]
        arguments, panels = _grouped(command, sub)
        if arguments:
            out += ["**Arguments**", "", "| argument | what it is |", "| --- | --- |"]
            out += [f"| `{_names(p)}` | {_md(_describe(p))} |" for p in arguments] + [""]
        for panel in [p for p in panels if p != "Options"] + [p for p in panels if p == "Options"]:
            out += [f"**{panel}**", ""] + _md_rows(panels[panel]) + [""]
    out += ["## gradcli help [TOPIC]", "",
            "`gradcli help` is `gradcli --help`; `gradcli help COMMAND` is `gradcli COMMAND --help`; "
            "`gradcli help language` is the next section.", ""]
    out += ["## The language", ""]
    for title, rows, prose_text in language_sections():
        out += [f"**{title}**", "", "| written | means |", "| --- | --- |"]
        out += [f"| `{what}` | {_md(words)} |" for what, words in rows] + [""]
        if prose_text:
            out += [_md(prose_text), ""]
    out += ["## Exit status", "", "| status | when |", "| --- | --- |"]
    rows: List[List[str]] = []
    for line in EXIT_STATUSES.split("\n")[1:]:
        m = re.match(r"\s*(\d+)\s+(.*)", line)
        if m:
            rows.append([m.group(1), m.group(2)])
        elif line.strip() and rows:
            rows[-1][1] += " " + line.strip()
    out += [f"| {code} | {_md(text)} |" for code, text in rows]
    return "\n".join(out) + "\n"

