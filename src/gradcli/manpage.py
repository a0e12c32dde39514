"""The man page, gradcli(1), written from the same help as ``--help``.

``python -m gradcli.manpage > man/gradcli.1`` regenerates it; a test keeps
the committed page equal to what this writes, so the page cannot drift
from the help. The wheel installs it as ``share/man/man1/gradcli.1``
(pyproject.toml's data-files), where ``man gradcli`` finds it for any
virtual environment or pipx install whose ``bin`` is on ``PATH``.

The page is made from the click commands typer builds: each command's
help (its purpose, its paragraphs, its examples), its arguments and options
in their help panels, the exit statuses, and the environment variables
gradcli reads. It carries no date, so it is the same on every build.
"""

from __future__ import annotations

import re
import sys
from typing import Iterable, List

ENVIRONMENT = [
    ("NO_COLOR", "When set (to anything but the empty string), no colour on the terminal: tables and "
                 "errors are plain text."),
    ("COLUMNS, LINES", "The terminal's width and height, when set; otherwise the terminal's own. "
                       "Tables fit the width: columns that do not fit are left out (and the table "
                       "says which), names fold onto more lines, and a wide matrix wraps into blocks; "
                       "a number is never cut."),
    ("GRADCLI_PAGER, PAGER", "The pager for output taller than the terminal (GRADCLI_PAGER first, "
                             "then PAGER, then less); empty or cat for none. Output that is not for a "
                             "terminal is never paged."),
    ("LESS", "Options for less; gradcli sets FRX when LESS is unset, as git does."),
]


def _escape(text: str) -> str:
    """Plain text as roff: backslashes, hyphens in options, and lines that
    would start with a control character."""
    text = text.replace("\\", "\\e")
    text = re.sub(r"(?<![\w-])(-+)(?=[\w\s*(]|$)", lambda m: "\\-" * len(m.group(1)), text)
    text = re.sub(r"`([^`]+)`", lambda m: "\\fB" + m.group(1) + "\\fR", text)
    return text


def _line(text: str) -> str:
    """One roff text line (a leading dot or quote made literal)."""
    text = _escape(text)
    return "\\&" + text if text[:1] in (".", "'") else text


def _paragraphs(help_text: str) -> tuple[str, list[str], list[str]]:
    """The purpose line, the prose paragraphs (each on one line) and the
    example lines: cli_help's reading of a docstring."""
    from .cli_help import _sections

    purpose, prose, examples = _sections(help_text)
    return purpose, [" ".join(part.split()) for part in prose], examples


def _examples(lines: Iterable[str]) -> List[str]:
    out = [".PP", "Examples:", ".RS 4", ".nf"]
    out += [_line(line) for line in lines]
    out += [".fi", ".RE"]
    return out


def _option_lines(command, ctx) -> List[str]:
    """The arguments, then the options by help panel, as .TP entries."""
    from .cli_help import _grouped

    arguments, panels = _grouped(command, ctx)
    out: list[str] = []
    if arguments:
        out += [".PP", "\\fBArguments\\fR"]
        for param in arguments:
            out += [".TP", f"\\fI{_escape(param.metavar or param.name)}\\fR",
                    _line(getattr(param, "help", "") or "")]
    order = [p for p in panels if p != "Options"] + [p for p in panels if p == "Options"]
    for panel in order:
        out += [".PP", f"\\fB{_escape(panel)}\\fR"]
        for param in panels[panel]:
            # short names first, then long ones (-f, --file), the same on every build
            names = sorted([*param.opts, *param.secondary_opts], key=lambda n: (n.startswith("--"), n))
            head = ", ".join(f"\\fB{_escape(n)}\\fR" for n in names)
            if not param.is_flag and param.metavar:
                head += f" \\fI{_escape(param.metavar)}\\fR"
            help_text = param.help or ""
            default = param.default
            if not param.is_flag and default not in (None, "", [], ()) and getattr(param, "show_default", True) \
                    is not False and not callable(default):
                help_text += f" (default: {default})"
            out += [".TP", head, _line(help_text)]
    return out


def _language() -> List[str]:
    """The LANGUAGE section: ``gradcli help language``'s text (cli_help.py)."""
    from .cli_help import language_sections

    out = [".SH LANGUAGE", _line("A program is one or more statements, run top to bottom; gradcli evaluates it, "
                                 "backpropagates from the output, and reports the gradient of every leaf. "
                                 "`gradcli help language` shows this section.")]
    for title, rows, prose in language_sections():
        out += [".SS " + _escape(title)]
        for what, words in rows:
            out += [".TP", f"\\fB{_escape(what)}\\fR", _line(words)]
        if prose:
            out += [".PP", _line(prose)]
    return out


def render() -> str:
    """The whole page, as roff."""
    import typer.main

    from . import __version__
    from .cli import EXIT_STATUSES, app

    root = typer.main.get_command(app)
    ctx = root.make_context("gradcli", [], resilient_parsing=True)
    purpose, prose, examples = _paragraphs(root.callback.__doc__ if root.callback else root.help)
    lines = [
        '.\\" gradcli(1), written by `python -m gradcli.manpage` from the --help texts: do not edit.',
        f'.TH GRADCLI 1 "" "gradcli {__version__}" "User Commands"',
        ".SH NAME",
        "gradcli \\- " + _escape(purpose[0].lower() + purpose[1:]).rstrip("."),
        ".SH SYNOPSIS",
        ".B gradcli",
        "\\fICOMMAND\\fR [\\fIOPTIONS\\fR] \\fIPROGRAM\\fR [\\fINAME\\fR=\\fIVALUE\\fR...]",
        ".br",
        ".B gradcli",
        "\\fICOMMAND\\fR [\\fIOPTIONS\\fR] \\fB\\-f\\fR \\fIFILE\\fR [\\fINAME\\fR=\\fIVALUE\\fR...]",
        ".br",
        ".B gradcli",
        "[\\fB\\-\\-version\\fR | \\fB\\-\\-install\\-completion\\fR | \\fB\\-\\-show\\-completion\\fR | "
        "\\fB\\-h\\fR]",
        ".SH DESCRIPTION",
    ]
    for paragraph in prose:
        lines += [".PP", _line(paragraph)]
    lines += _examples(examples)
    lines += [".PP", _line("Options may come before or after the arguments; `--` ends them. "
                           "A program that starts with a minus sign is a program, not an option. "
                           "On a terminal, output is a table for people (paged when taller than the "
                           "terminal); in a pipe or a file, plain lines for scripts.")]
    lines += [".SH COMMANDS"]
    for name, command in root.commands.items():
        if getattr(command, "hidden", False):
            continue
        sub = command.make_context(name, [], parent=ctx, resilient_parsing=True)
        purpose, prose, examples = _paragraphs(command.help or "")
        lines += [".SS " + f'"gradcli {name} [OPTIONS] [PROGRAM] [NAME=VALUE]..."', _line(purpose)]
        for paragraph in prose:
            lines += [".PP", _line(paragraph)]
        if examples:
            lines += _examples(examples)
        lines += _option_lines(command, sub)
    lines += [".SH OPTIONS", "These come before the command.", ".TP", "\\fB\\-\\-version\\fR",
              "Print the version and exit.", ".TP", "\\fB\\-\\-install\\-completion\\fR",
              "Install completion for the current shell (bash, zsh or fish); it takes effect in a new shell.",
              ".TP", "\\fB\\-\\-show\\-completion\\fR",
              "Print the completion script for the current shell, to install it by hand.",
              ".TP", "\\fB\\-h\\fR, \\fB\\-\\-help\\fR", "Show the help and exit."]
    lines += _language()
    lines += [".SH EXIT STATUS", ".TP"]
    statuses = EXIT_STATUSES.split("\n")[1:]
    entries: list[tuple[str, str]] = []
    for raw in statuses:
        m = re.match(r"\s*(\d+)\s+(.*)", raw)
        if m:
            entries.append((m.group(1), m.group(2)))
        elif raw.strip() and entries:
            entries[-1] = (entries[-1][0], entries[-1][1] + " " + raw.strip())
    for k, (code, text) in enumerate(entries):
        lines += ([] if k == 0 else [".TP"]) + [f"\\fB{code}\\fR", _line(text)]
    lines += [".SH ENVIRONMENT"]
    for name, text in ENVIRONMENT:
        lines += [".TP", f"\\fB{_escape(name)}\\fR", _line(text)]
    lines += [".SH SEE ALSO", _line("`gradcli COMMAND --help`, `gradcli help language`; the README, which "
                                   "documents the language, every command and the library (`import gradcli`)."),
              ""]
    return "\n".join(lines)


def markdown() -> str:
    """docs/reference/cli.md, from the same help (cli_help.markdown)."""
    from .cli import EXIT_STATUSES, app
    from .cli_help import markdown as write

    return write(app, EXIT_STATUSES)


if __name__ == "__main__":  # pragma: no cover - python -m gradcli.manpage [--markdown]
    sys.stdout.write(markdown() if sys.argv[1:] == ["--markdown"] else render())
