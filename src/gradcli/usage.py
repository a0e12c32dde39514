"""Usage errors (click's) in gradcli's own error style.

click words its errors one way (``Error: No such option: --fo (Possible
options: --file, --json)`` after a usage line) and gradcli another
(``error: ...`` and ``= note:`` lines); a user met both, depending on what
was mistyped. Every usage error is now gradcli's:

    error: no such option `--fo` for `gradcli grad`
      = note: did you mean `--file`?
      = note: `gradcli grad --help` lists the options

with exit status 2, as click gives it. Only the error path imports this.
"""

from __future__ import annotations

import re

from .errors import did_you_mean, words
from .safeio import printable

_QUOTED = re.compile(r"'([^']*)'")


def _ticks(text: str) -> str:
    """click's 'quotes' as gradcli's `backticks`, user text escaped."""
    return _QUOTED.sub(lambda m: f"`{printable(m.group(1))}`", text)


def _command_path(ctx) -> str:
    return ctx.command_path if ctx is not None and ctx.command_path else "gradcli"


def _options(ctx) -> list[str]:
    names: list[str] = []
    if ctx is None:
        return names
    for param in ctx.command.get_params(ctx):
        if getattr(param, "param_type_name", "") == "option" and not getattr(param, "hidden", False):
            names += [n for n in (*param.opts, *param.secondary_opts) if n.startswith("--")]
    return names


def _short_for(e, ctx) -> list[str]:
    """``-p 3``: the long options ``-p`` may stand for (``--precision``),
    those that take a value first when a number follows."""
    name = e.option_name
    if name.startswith("--") or len(name) < 2 or ctx is None:
        return []
    valued, flags = [], []
    for param in ctx.command.get_params(ctx):
        if getattr(param, "param_type_name", "") != "option" or getattr(param, "hidden", False):
            continue
        for n in (*param.opts, *param.secondary_opts):
            if n.startswith("--" + name[1:]):
                (flags if param.is_flag else valued).append(n)
    following = getattr(e, "next_word", None)
    if following is not None and re.fullmatch(r"[+-]?[0-9.][0-9.eE+-]*", following) and valued:
        return ["did you mean " + words([f"`{n} {printable(following)}`" for n in valued], "or") + "?"]
    both = valued + flags
    return ["did you mean " + words([f"`{n}`" for n in both], "or") + "?"] if both else []


def message(e) -> str:
    """The error text for click's exception ``e``."""
    from typer._click.exceptions import BadParameter, MissingParameter, NoSuchOption

    ctx = getattr(e, "ctx", None)
    where = _command_path(ctx)
    notes: list[str] = []
    if isinstance(e, NoSuchOption):
        text = f"no such option `{printable(e.option_name)}` for `{where}`"
        notes += did_you_mean(e.option_name, _options(ctx)) or _short_for(e, ctx)
        notes.append(f"`{where} --help` lists the options")
    elif isinstance(e, MissingParameter):
        text = _ticks(e.format_message()).rstrip(".")
        text = text[0].lower() + text[1:]
        notes.append(f"`{where} --help` says what it takes")
    elif isinstance(e, BadParameter):
        text = _ticks(e.format_message()).rstrip(".")
        text = text[0].lower() + text[1:]
        notes.append(f"`{where} --help` says what it takes")
    else:
        raw = e.format_message()
        m = re.match(r"No such command '([^']*)'", raw)
        if m:
            name = m.group(1)
            text = f"no such command `{printable(name)}`"
            commands = list(getattr(ctx.command, "commands", {})) if ctx is not None else []
            notes += did_you_mean(name, commands)
            if commands:
                notes.append("the commands are " + words([f"`{c}`" for c in commands]))
        else:
            text = _ticks(raw).rstrip(".")
            text = text[:1].lower() + text[1:]
            notes.append(f"`{where} --help` lists the options")
    return "\n".join([f"error: {text}", *(f"  = note: {n}" for n in notes)])
