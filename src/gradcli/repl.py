"""The prompt (issue 28, contract section 8): ``gradcli repl``, and
``gradcli`` alone on a terminal.

A session holds a program that grows a statement at a time and the values of
its leaves. What a line does:

- ``a = 2`` (a plain number, for a name that is a leaf of the program or not
  in it yet) sets the leaf ``a``: the session's bindings are the
  ``NAME=VALUE`` arguments of a command line, so a later ``a = 3`` moves the
  leaf, not the program;
- any other statement (``c = a*b``, ``c += 1``, several at once separated by
  ``;`` or newlines) is added to the program, after its text has been
  checked on its own (so a syntax error's caret is under what was typed);
  on a terminal the assigned value is shown when every input has a value;
- a bare expression prints its value (the statements of the program it
  depends on, then that expression, run as ``gradcli eval`` runs it, so an
  input it does not read needs no value); it is not added;
- ``:grad``, ``:explain``, ``:check``, ``:graph``, ``:diff``, ``:eval``,
  ``:hessian``, ``:codegen``, ``:descend`` and ``:uncertainty`` (when the
  command exists) run the command of that name through the command line's
  own click group, with the session's program and bindings in front of
  whatever follows on the line (``:grad --wrt a``, ``:check --all``,
  ``:graph -o L.html``, ``:grad a=5``: the last binding wins): what they
  print, options and errors are the command's, as on a terminal;
- ``:nudge [h]`` moves every leaf by h times its gradient (default 0.01) and
  compares the new output with its first-order prediction, as the live
  page's Nudge does; ``:show``, ``:reset``, ``:help [topic]``, ``:quit``.

Errors are the command line's (``errors_to_exit``: the same messages,
carets, notes and colours) and never end the session; Ctrl-C cancels the
line (or the running command), Ctrl-D leaves.

The prompt is prompt_toolkit's (imported only here, so no other command
pays for it) with history in ``$XDG_STATE_HOME/gradcli/history`` (default
``~/.local/state/gradcli/history``; the directory is made when missing, and
nothing else is written), multi-line input (Esc Enter or Alt-Enter starts a
new line; a pasted block is one input), highlighting from the language's own
patterns (``syntax.NUMBER``, ``syntax.NAME``, ``ops.FUNCTIONS``) and
completion of names, functions, commands and their options. ``NO_COLOR``
turns the colours off. When standard input or output is not a terminal
(``gradcli repl < session.txt``), lines are read plainly, without
prompt_toolkit, and every command prints what it prints on a pipe; the exit
status is then the last failing line's, or 0.

Start-up (bench/repl_startup.py, in a pty, on the shared 2-core machine at
load 8): the prompt waits for a line 555 ms after the process starts, where
`eval` and a `grad` table on a terminal take 601 and 620 ms: the prompt's
path skips typer (about 150 ms of imports) and pays prompt_toolkit's (75 to
120 ms) instead. The first `:command` imports typer (296 ms; the next 114).

Layering: a front end. It imports the command line (cli.py, lazily, for its
click group) and the library; nothing imports it, the console script's front
door (cli_fast.py) hands over to it and gives cli.py's ``repl`` command its
hook (cli_common.PROMPT).
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from typing import Dict, List, Optional

from .cli_common import Source, errors_to_exit
from .errors import InputError
from .ops import FUNCTIONS
from .safeio import printable
from .syntax import NAME, NUMBER

# The session's commands: what they take and what they do (`:help`).
COMMANDS: Dict[str, tuple] = {
    "grad": ("[--wrt NAME ...] [OPTIONS]", "the value and every leaf's gradient (gradcli grad)"),
    "explain": ("[--wrt NAME] [OPTIONS]", "the backward pass step by step (gradcli explain)"),
    "check": ("[--all] [OPTIONS]", "each gradient against its finite difference (gradcli check)"),
    "graph": ("[-o FILE] [OPTIONS]", "the graph: DOT, or a file (.svg, .png, .pdf, .html: the live page)"),
    "nudge": ("[h] [--wrt NAME ...]", "move every leaf by h*grad (default 0.01); compare with the prediction"),
    "diff": ("[--wrt NAME] [--order N]", "the derivative as a program (gradcli diff)"),
    "uncertainty": ("[NAME=VALUE±U ...] [OPTIONS]", "propagate uncertainties (gradcli uncertainty)"),
    "eval": ("[OPTIONS]", "the output's value (gradcli eval)"),
    "hessian": ("[--wrt NAME ...]", "the matrix of second derivatives (gradcli hessian)"),
    "codegen": ("[--lang L] [-o FILE]", "code for the value and gradient (gradcli codegen)"),
    "descend": ("[--lr R] [--steps N]", "gradient descent on the leaves (gradcli descend)"),
    "show": ("", "the program so far, the leaves' values, and the same as a command line"),
    "reset": ("", "forget the program and the leaves' values"),
    "help": ("[COMMAND | FUNCTION | language]", "this list, a command's options, a function's derivative, "
                                                  "or the language"),
    "quit": ("", "leave (also Ctrl-D)"),
}
# The commands that are the command line's own, run through its click group.
CLI_COMMANDS = ("grad", "explain", "check", "graph", "diff", "uncertainty", "eval", "hessian", "codegen",
                "descend")
ALIASES = {"q": "quit", "exit": "quit", "h": "help", "?": "help"}
NUDGE_H = 0.01            # the live page's default step

_NUMBER_RE = re.compile(rf"[+-]?{NUMBER}")
_SEPARATORS = re.compile(r"[;\n]")


class Quit(Exception):
    """``:quit``: the session ends."""


def state_dir() -> str:
    """``$XDG_STATE_HOME/gradcli`` (an absolute XDG_STATE_HOME only, as the
    XDG spec says), else ``~/.local/state/gradcli``."""
    base = os.environ.get("XDG_STATE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "gradcli")


def _statements(text: str) -> List[str]:
    """The statements of a text that parses, each stripped, comments
    dropped (the language has no strings, so ``#``, ``;`` and newlines mean
    the same everywhere)."""
    pieces = []
    for line in text.splitlines():
        for piece in _SEPARATORS.split(line.split("#", 1)[0]):
            if piece.strip():
                pieces.append(piece.strip())
    return pieces


class Session:
    """A program being built up and the values of its leaves.

    ``run(text)`` does one input, prints what it prints (standard output
    and standard error, as the command line does) and returns its exit
    status (0, or the command line's status for the error); ``:quit``
    raises ``Quit``. Nothing here reads the terminal: the prompt is
    ``main``'s.
    """

    def __init__(self, statements: Optional[List[str]] = None, bindings: Optional[Dict[str, float]] = None):
        self.statements: List[str] = list(statements or [])
        self.bindings: Dict[str, float] = dict(bindings or {})
        self._group = None

    # ------------------------------------------------------------ the program

    @property
    def program(self) -> str:
        return "\n".join(self.statements)

    def _structure(self, text: str):
        from .build import structure
        from .parse import parse

        return structure(parse(text))

    def leaves(self) -> List[str]:
        """The program's leaves, in order of first appearance."""
        if not self.statements:
            return []
        return list(self._structure(self.program).leaves)

    def names(self) -> List[str]:
        """Every name the session knows: the program's names and the bound ones."""
        known: List[str] = []
        if self.statements:
            try:
                graph = self._structure(self.program)
                known = list(graph.leaves) + [n for n in graph.names if n not in graph.leaves]
            except Exception:     # completion must never fail
                known = []
        return known + [n for n in self.bindings if n not in known]

    def _inputs(self, leaves) -> Dict[str, float]:
        """The bindings that are leaves of the program (a name bound and then
        assigned is no leaf: its binding waits, unused)."""
        return {name: value for name, value in self.bindings.items() if name in leaves}

    def command_line(self, command: str = "grad") -> str:
        """The session as one command line a shell runs."""
        leaves = self.leaves()
        words = ["gradcli", command, shlex.quote("; ".join(self.statements))]
        words += [f"{name}={value!r}" for name, value in self._inputs(leaves).items()]
        return " ".join(words)

    # -------------------------------------------------------------- one input

    def run(self, text: str) -> int:
        """One input: a `:command`, statements, or a bare expression."""
        stripped = text.strip()
        if stripped.startswith(":"):
            return self.command(stripped[1:])
        if not _statements(text):
            return 0                                  # blank, or comments only
        source = Source(text)
        return self._guard(source, lambda: self._statements_of(text, source))

    def _guard(self, source: Source, work) -> int:
        """``work()`` with the command line's errors: the message on standard
        error (against ``source.text``, which ``work`` may change to the
        whole program's) and its status returned; the session goes on."""
        try:
            with errors_to_exit(source):
                try:
                    work()
                except InputError as e:
                    _repl_notes(e)
                    raise
            return 0
        except SystemExit as e:
            return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)

    def _statements_of(self, text: str, source: Source) -> None:
        """Statements as typed: checked on their own first (a syntax error
        or an unknown function is shown against what was typed), then each
        one sets a leaf, joins the program, or is a bare expression."""
        from .build import parse_binding
        from .parse import parse
        from .syntax import Assign, ExprStmt, plain_number

        program = parse(text)
        self._structure(text)                       # unknown functions, a function read as a value
        pieces = _statements(text)
        assert len(program.statements) == len(pieces), (program, pieces)
        added = False
        for piece, stmt in zip(pieces, program.statements):
            if isinstance(stmt, ExprStmt):
                if added and _on_terminal():
                    self._show_assigned(source)
                added = False
                self._value_of(piece, source)
                continue
            number = plain_number(stmt.expr) if isinstance(stmt, Assign) and stmt.op is None else None
            if number is not None and self._is_leaf_or_new(stmt.target):
                self.bindings[stmt.target] = parse_binding(f"{stmt.target}={number!r}")[1]
                added = added or bool(self.statements)     # a leaf of the program moved: show the output
                continue
            self.statements.append(piece)
            added = True
        if added and _on_terminal():
            self._show_assigned(source)

    def _is_leaf_or_new(self, name: str) -> bool:
        if not self.statements:
            return True
        graph = self._structure(self.program)
        return name in graph.leaves or name not in graph.names

    def _value_of(self, expression: str, source: Source) -> None:
        """A bare expression: its value after the program, as ``eval``
        computes it (errors shown against the whole program's text)."""
        from .build import build
        from .parse import parse
        from . import render

        from .errors import GradcliError

        text = self._needed_for(expression)
        last = len(self.statements) + 1
        try:
            leaves = self._structure(text).leaves
            graph = build(parse(text), self._inputs(leaves))
        except GradcliError as e:
            if e.pos is not None and e.pos.line == last:     # in what was typed: shown as typed
                e.pos = e.pos._replace(line=1)
                source.text = expression
            else:                                            # in the program: its line, as :show numbers it
                source.text = text
            raise
        _out(render.full(graph.value) + "\n")

    def _needed_for(self, expression: str) -> str:
        """The program with only the statements ``expression`` depends on,
        the others left as blank lines (so every line keeps its number),
        then the expression: an input nothing of it reads needs no value.
        One pass backwards over the statements, each expression walked
        with a stack."""
        from .parse import parse
        from .syntax import Name, children

        if not self.statements:
            return expression
        statements = parse(self.program + "\n" + expression).statements

        def reads(expr) -> set:
            found, stack = set(), [expr]
            while stack:
                e = stack.pop()
                if isinstance(e, Name):
                    found.add(e.id)
                stack.extend(children(e))
            return found

        needed = reads(statements[-1].expr)
        kept = [False] * len(self.statements)
        for i in range(len(self.statements) - 1, -1, -1):
            stmt = statements[i]
            target = getattr(stmt, "target", None)
            if target is None or target not in needed:
                continue
            kept[i] = True
            if stmt.op is None:
                needed.discard(target)
            needed |= reads(stmt.expr)
        return "\n".join(s if k else "" for s, k in zip(self.statements, kept)) + "\n" + expression

    def _show_assigned(self, source: Source) -> None:
        """On a terminal, the new output's value when every input is bound;
        otherwise which inputs still need one."""
        from .build import build
        from .parse import parse
        from . import render

        graph = self._structure(self.program)
        missing = [n for n, leaf in graph.leaves.items() if leaf.kind == "input" and n not in self.bindings]
        if missing:
            one = len(missing) == 1
            _rich(f"[dim]{_words(missing)} {'has' if one else 'have'} no value yet: "
                  f"set {'it' if one else 'them'} with `{missing[0]} = VALUE`[/dim]")
            return
        source.text = self.program
        graph = build(parse(self.program), self._inputs(graph.leaves))
        _rich(render.value_line(graph))

    # --------------------------------------------------------------- commands

    def command(self, line: str) -> int:
        try:
            words = shlex.split(line)
        except ValueError as e:
            why = InputError(f"cannot read the command's line: {str(e)[:1].lower()}{str(e)[1:]}")
            return self._guard(Source(), lambda: _raise(why))
        if not words:
            return self._guard(Source(), lambda: _raise(InputError(
                "a `:` needs a command after it", notes=["`:help` lists them"])))
        name, args = words[0], words[1:]
        name = ALIASES.get(name, name)
        if name == "quit":
            raise Quit()
        if name == "reset":
            self.statements.clear()
            self.bindings.clear()
            return 0
        if name == "show":
            return self._guard(Source(), self._show)
        if name == "help":
            return self._guard(Source(), lambda: self._help(args))
        if name == "nudge":
            return self._nudge(args)
        if name in CLI_COMMANDS:
            return self._cli(name, args)
        from .errors import did_you_mean

        return self._guard(Source(), lambda: _raise(InputError(
            f"`:{printable(name)}` is not a command of the prompt",
            notes=did_you_mean(name, list(COMMANDS)) or ["`:help` lists them"])))

    def _no_program(self, name: str) -> None:
        if not self.statements:
            raise InputError(f"there is no program yet for `:{name}`",
                             notes=["type a statement first, such as `y = a*b + c`, and set the leaves: `a = 2`"])

    def _missing(self, extra: Optional[Dict[str, float]] = None) -> None:
        """Every input needs a value before a command runs: the command
        line's missing-input error (with its carets), worded for the prompt.
        ``extra``: bindings given on the command's own line."""
        from .build import bind

        graph = self._structure(self.program)
        given = {**self.bindings, **(extra or {})}
        bind(graph, {name: value for name, value in given.items() if name in graph.leaves})

    def _cli(self, name: str, args: List[str]) -> int:
        """A command of the command line on the session's program."""
        group = self._commands()
        command = group.commands.get(name)
        if command is None:
            return self._guard(Source(), lambda: _raise(InputError(
                f"`:{name}` is not available yet: this gradcli has no `gradcli {name}` command")))
        from .cli import option_names
        from .cli_common import split_args

        flags, valued = option_names(command.params)
        flags |= {"-h", "--help"}
        source = Source(self.program)

        def prepare():
            options, positionals = split_args(args, flags, valued)
            given = {option[0].split("=", 1)[0] for option in options}
            if given & {"-f", "--file"} or any(o[0].startswith("-f") and not o[0].startswith("--")
                                                for o in options):
                raise InputError("the session's program is the program: the prompt's commands take no -f/--file")
            if given & {"-h", "--help"}:
                return [name, "--help"]
            self._no_program(name)
            if name not in ("diff", "codegen", "uncertainty"):   # these take unbound inputs
                from .cli_common import parse_bindings
                from .errors import GradcliError

                try:
                    extra = parse_bindings(positionals)
                except GradcliError:
                    extra = None             # not bindings: the command says what is wrong
                if extra is not None:
                    self._missing(extra)
            bound = [f"{k}={v!r}" for k, v in self._inputs(self.leaves()).items()]
            return [name, *(a for option in options for a in option), "--", self.program, *bound, *positionals]

        argv: list = []
        status = self._guard(source, lambda: argv.extend(prepare()))
        if status:
            return status
        return self._main(argv)

    def _main(self, argv: List[str]) -> int:
        """The command line's click group on ``argv``; its exit status."""
        group = self._commands()
        try:
            returned = group.main(args=argv, prog_name="gradcli", standalone_mode=False)
            return returned if isinstance(returned, int) else 0
        except SystemExit as e:
            return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except KeyboardInterrupt:
            return 130
        except Exception as e:        # a usage error that escaped click's own handling
            if hasattr(e, "show") and type(e).__module__.split(".")[0] in ("click", "typer"):
                e.show()
                return getattr(e, "exit_code", 2)
            raise

    def _commands(self):
        if self._group is None:
            import typer

            from .cli import app

            self._group = typer.main.get_command(app)
        return self._group

    # ------------------------------------------------------------------ nudge

    def _nudge(self, args: List[str]) -> int:
        source = Source(self.program)
        return self._guard(source, lambda: self._do_nudge(args))

    def _do_nudge(self, args: List[str]) -> None:
        from .build import build, resolve
        from .cli_common import split_args, split_names
        from .errors import GradcliError
        from .parse import parse
        from . import render

        options, positionals = split_args(args, set(), {"--wrt"})
        wrt = [o[1] if len(o) == 2 else o[0].split("=", 1)[1] for o in options if o[0].startswith("--wrt")]
        unknown = [o[0] for o in options if not o[0].startswith("--wrt")]
        if unknown or len(positionals) > 1:
            raise InputError(f"`:nudge` takes a step h and --wrt NAME, not `{printable(' '.join(unknown or positionals[1:]))}`",
                             notes=["for example `:nudge 0.01`, or `:nudge -0.01 --wrt a` to go down"])
        h = NUDGE_H
        if positionals:
            if not _NUMBER_RE.fullmatch(positionals[0]):
                raise InputError(f"`:nudge` takes a number h, not `{printable(positionals[0])}`",
                                 notes=["for example `:nudge 0.01`, or `:nudge -0.01` to go down the gradient"])
            h = float(positionals[0])
        self._no_program("nudge")
        self._missing()
        tree = parse(self.program)
        leaves = self._structure(self.program).leaves
        graph = build(tree, self._inputs(leaves))
        names = list(graph.leaves) if not wrt else resolve(graph, split_names(wrt))
        not_leaves = [n for n in names if n not in graph.leaves]
        if not_leaves:
            raise InputError(f"`:nudge` moves leaves; {_words(not_leaves)} "
                             f"{'is' if len(not_leaves) == 1 else 'are'} computed by the program",
                             notes=[f"the leaves are {_words(list(graph.leaves))}"])
        grads = graph.gradients(names)
        before = graph.value
        values = {n: graph.leaves[n].data for n in graph.leaves}
        moved = dict(values)
        for n in names:
            moved[n] = values[n] + h * grads[n]
        predicted = before + h * sum(g * g for g in grads.values())
        try:
            after = build(tree, moved).value
        except GradcliError as e:
            e.notes.append("the leaves keep their values")
            raise
        for n in names:
            self.bindings[n] = moved[n]
        from . import texttable

        rows = [(n, render.short(values[n]), render.short(grads[n]), render.short(moved[n])) for n in names]
        out = graph.output_name or "value"
        summary = [("before", render.short(before)), ("after", render.short(after)),
                   ("predicted", render.short(predicted)), ("after - predicted", render.short(after - predicted))]
        if _on_terminal():
            _rich(f"every leaf moved by h*grad with h = {render.short(h)}")
            _rich(texttable.rich_table(("leaf", "before", "grad", "after"), rows, (1, 2, 3), {0: "cyan"}))
            from rich.text import Text

            _rich(texttable.rich_table(("", out), summary, (1,), {0: "bold"}))
            _rich(Text(f"predicted: {out} before + h*Σgrad² (first order in h)", style="dim"))
        else:
            # for scripts: full precision, tab-separated, as grad's plain lines
            full = render.full
            _out("".join(f"{n}\t{full(values[n])}\t{full(grads[n])}\t{full(moved[n])}\n" for n in names)
                 + "".join(f"{k}\t{full(v)}\n" for k, v in
                           (("before", before), ("after", after), ("predicted", predicted))))

    # ------------------------------------------------------------ show / help

    def _show(self) -> None:
        if not self.statements and not self.bindings:
            _out("the program is empty: type a statement, such as `y = a*b + c`\n")
            return
        width = len(str(len(self.statements)))
        lines = [f"{i:>{width}} | {s}" for i, s in enumerate(self.statements, 1)]
        leaves = self.leaves()
        used = self._inputs(leaves)
        if used:
            lines.append("leaves: " + ", ".join(f"{n} = {render_full(v)}" for n, v in used.items()))
        unused = [n for n in self.bindings if n not in used]
        if unused:
            lines.append("set, not used yet: " + ", ".join(f"{n} = {render_full(self.bindings[n])}" for n in unused))
        missing = [n for n in leaves if n not in used and self._structure(self.program).leaves[n].kind == "input"]
        if missing:
            lines.append("no value yet: " + ", ".join(missing))
        # the command line alone on its line, never folded, so that it copies whole
        command = f"as a command:\n{printable(self.command_line())}\n" if self.statements else ""
        _out(_wrapped([printable(line) for line in lines]) + command)

    def _help(self, args: List[str]) -> None:
        if not args:
            _out(_wrapped(help_text().splitlines()))
            return
        topic = args[0].lstrip(":")
        topic = ALIASES.get(topic, topic)
        if topic in CLI_COMMANDS and self._commands().commands.get(topic) is not None:
            _out(f":{topic} {COMMANDS[topic][0]}\n  {COMMANDS[topic][1]}, on the session's program and "
                 "leaves; its options are the command's:\n\n")
            self._cli(topic, ["--help"])
            return
        if topic in COMMANDS:
            usage, what = COMMANDS[topic]
            _out(_wrapped([f":{topic} {usage}".rstrip(), f"  {what}"]))
            return
        if topic in FUNCTIONS:
            _out(_wrapped(function_help(topic).splitlines()))
            return
        if topic == "language" and "help" in self._commands().commands:
            self._main(["help", "language"])       # `gradcli help language`
            return
        from .errors import did_you_mean

        raise InputError(f"no help on `{printable(topic)}`",
                         notes=did_you_mean(topic, list(COMMANDS) + list(FUNCTIONS) + ["language"])
                         or ["`:help` lists the commands; `:help tanh` tells about a function"])


def render_full(x: float) -> str:
    from .render import full

    return full(x)


def _raise(e: Exception) -> None:
    raise e


def _repl_notes(e: InputError) -> None:
    """The command line's notes say ``give b=VALUE after the program``; at
    the prompt a leaf is set with ``b = VALUE``."""
    e.notes = [re.sub(r"^give (.*) after the program$",
                      lambda m: "set " + ", ".join(w.replace("=VALUE", " = VALUE") for w in m.group(1).split()
                                                   if w != "...") + " first", note)
               for note in e.notes]


def _words(names: List[str]) -> str:
    from .errors import words

    return words([f"`{n}`" for n in names])


def _wrapped(lines: List[str]) -> str:
    """Lines for people, folded at spaces to the terminal's width (on a
    pipe, as they are), each continuation under its line's own indent (a
    gutter's `|` included)."""
    if not _on_terminal():
        return "".join(line + "\n" for line in lines)
    import shutil
    import textwrap

    width = max(20, shutil.get_terminal_size().columns)
    out = []
    for line in lines:
        m = re.match(r"(\s*)(?:(\d+) \| |[-\w]+: )?", line)
        if m.group(2):                                  # a numbered program line: under its gutter
            indent = m.group(1) + " " * len(m.group(2)) + " | "
        else:
            indent = m.group(1) + ("  " if m.end() > len(m.group(1)) else "")
        if len(indent) > width // 2:
            indent = "  "
        folded = textwrap.wrap(line.replace(" = ", "\0=\0"), width, subsequent_indent=indent,
                               break_on_hyphens=False)            # `a = 2` stays on one line
        out += [part.replace("\0", " ") for part in folded] or [""]
    return "".join(line + "\n" for line in out)


def _on_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _rich(item) -> None:
    from .cli_common import console

    console().print(item, soft_wrap=False)


def help_text() -> str:
    """`:help`: one paragraph a line (folded to the terminal by the caller)."""
    lines = [
        "Type statements to build a program: `a = 2` sets a leaf, `c = a*b + 1` adds a statement, "
        "a bare expression (`c**2`) prints its value. Commands:",
        "",
    ]
    for name, (usage, what) in COMMANDS.items():
        lines.append(f"  :{name} {usage}".rstrip())
        lines.append(f"      {what}")
    lines += [
        "",
        "`:grad a=5` runs with a leaf changed for that command only. `:help grad` shows a command's "
        "options; `:help tanh` a function's derivative. Functions: " + ", ".join(sorted(FUNCTIONS)) + ".",
        "Keys: Tab completes; Esc Enter starts a new line; Ctrl-C cancels the line; Ctrl-D leaves.",
    ]
    return "\n".join(lines) + "\n"


def function_help(name: str) -> str:
    """A function of the language: its derivative, where it is undefined,
    and its corner convention, from its row in ops.py."""
    from . import explain
    from .ops import OPS

    op = OPS[name]
    params = ["x"] if op.arity == 1 else ["a", "b"][:op.arity]
    lines = [f"{name}({', '.join(params)})   also written {params[0]}.{name}({', '.join(params[1:])})"]
    for i, p in enumerate(params):
        rule = explain.rule_text(name, i).replace("{out}", "out").replace("{x}", "x").replace("{a}", "a") \
            .replace("{b}", "b")
        lines.append(f"  d out/d {p} = {rule}")
    for _, why in op.undefined:
        lines.append(f"  undefined: {why}")
    if op.corner is not None:
        lines.append(f"  corner: {op.corner.convention}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ the prompt

def _lexer():
    """prompt_toolkit's lexer for the language, from its own patterns."""
    from prompt_toolkit.lexers import Lexer

    token = re.compile(rf"(?P<comment>#.*)|(?P<number>{NUMBER})|(?P<name>{NAME})"
                       r"|(?P<op>\*\*|[-+*/]=|[-+*/^=(),.;])|(?P<space>\s+)|(?P<other>.)")
    command = re.compile(r"(\s*)(:\S*)(.*)")
    option = re.compile(r"(\s+)(--?[A-Za-z][-A-Za-z]*)|(\s*)(\S+)")
    styles = {"comment": "class:comment", "number": "class:number", "op": "class:operator",
              "space": "", "other": "class:other"}

    class GradcliLexer(Lexer):
        def lex_document(self, document):
            lines = document.lines
            is_command = bool(lines) and lines[0].lstrip().startswith(":")

            def line(i: int):
                text = lines[i]
                if is_command:
                    m = command.fullmatch(text) if i == 0 else None
                    if m is None:
                        return [("", text)]
                    name = ALIASES.get(m.group(2)[1:], m.group(2)[1:])
                    parts = [("", m.group(1)), ("class:command" if name in COMMANDS else "class:other", m.group(2))]
                    for o in option.finditer(m.group(3)):
                        if o.group(2):
                            parts += [("", o.group(1)), ("class:option", o.group(2))]
                        else:
                            parts += [("", o.group(3)), ("", o.group(4))]
                    return parts
                parts = []
                for t in token.finditer(text):
                    kind = t.lastgroup
                    if kind == "name":
                        style = "class:function" if t.group() in FUNCTIONS else "class:name"
                    else:
                        style = styles[kind]
                    parts.append((style, t.group()))
                return parts

            return line

    return GradcliLexer()


def _completer(session: Session):
    from prompt_toolkit.completion import Completer, Completion

    class GradcliCompleter(Completer):
        def get_completions(self, document, complete_event):
            text = document.text_before_cursor
            word = re.search(r"[-A-Za-z0-9_:]*$", text).group()
            stripped = text.lstrip()
            if stripped.startswith(":") and " " not in stripped:
                for name in COMMANDS:
                    if (":" + name).startswith(word):
                        yield Completion(":" + name, -len(word), display_meta=COMMANDS[name][1][:40])
                return
            candidates: List[tuple] = []
            if stripped.startswith(":"):
                name = ALIASES.get(stripped[1:].split()[0], stripped[1:].split()[0])
                if name == "help":
                    candidates = [(c, "command") for c in COMMANDS] + [(f, "function") for f in sorted(FUNCTIONS)]
                    candidates.append(("language", "topic"))
                else:
                    if word.startswith("-") and name in CLI_COMMANDS:
                        try:
                            command = session._commands().commands.get(name)
                        except Exception:
                            command = None
                        if command is not None:
                            candidates = [(opt, "option") for p in command.params
                                          for opt in (*getattr(p, "opts", ()), *getattr(p, "secondary_opts", ()))
                                          if opt.startswith("--")]
                    elif name == "nudge" and word.startswith("-"):
                        candidates = [("--wrt", "option")]
                    candidates += [(n, "name") for n in session.names()]
            else:
                candidates = [(n, "name") for n in session.names()]
                candidates += [(f, "function") for f in sorted(FUNCTIONS)]
            seen = set()
            for candidate, meta in candidates:
                if candidate.startswith(word) and candidate not in seen and word:
                    seen.add(candidate)
                    yield Completion(candidate, -len(word), display_meta=meta)

    return GradcliCompleter()


def _history():
    """The history file, its directory made when missing; an in-memory
    history (with a word on standard error) when it cannot be."""
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    folder = state_dir()
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        path = os.path.join(folder, "history")
        with open(path, "a", encoding="utf-8"):
            pass
        return FileHistory(path)
    except OSError as e:
        sys.stderr.write(f"warning: no history this session: cannot write `{printable(folder)}`: "
                         f"{e.strerror or e}\n")
        return InMemoryHistory()


STYLE = {
    "number": "ansicyan",
    "function": "ansimagenta",
    "name": "",
    "operator": "ansiyellow",
    "comment": "ansibrightblack italic",
    "command": "ansigreen bold",
    "option": "ansiyellow",
    "other": "ansired",
    "prompt": "ansigreen bold",
    "continuation": "ansibrightblack",
}


def prompt_session(session: Session):
    """prompt_toolkit's PromptSession for ``session``."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.styles import Style

    keys = KeyBindings()

    @keys.add("enter")
    def _(event):
        event.current_buffer.validate_and_handle()

    @keys.add("escape", "enter")
    def _(event):
        event.current_buffer.insert_text("\n")

    colour = "NO_COLOR" not in os.environ or os.environ["NO_COLOR"] == ""
    return PromptSession(
        history=_history(),
        multiline=True,
        key_bindings=keys,
        lexer=_lexer() if colour else None,
        style=Style.from_dict(STYLE if colour else {}),
        completer=_completer(session),
        complete_while_typing=False,
        prompt_continuation=lambda width, line, wrap: [("class:continuation", ". ".rjust(width))],
        enable_history_search=True,
        include_default_pygments_style=False,
    )


BANNER = "gradcli {version}: :help for help, Ctrl-D to leave\n"


def main(program: Optional[str] = None, bindings: Optional[Dict[str, float]] = None) -> int:
    """The session, from an optional starting program and bindings; returns
    the exit status (0 at a terminal)."""
    session = Session(_statements(program) if program else [], bindings)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return _lines(session)
    from . import __version__

    prompt = prompt_session(session)
    _out(BANNER.format(version=__version__))
    while True:
        try:
            text = prompt.prompt([("class:prompt", "> ")])
        except KeyboardInterrupt:
            continue                     # Ctrl-C: the line is dropped
        except EOFError:
            return 0                     # Ctrl-D
        try:
            _run(session, text)
        except Quit:
            return 0
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")


def _run(session: Session, text: str) -> int:
    """One input; a bug is said as the command line says it (never a
    traceback), and the session goes on."""
    try:
        return session.run(text)
    except (Quit, KeyboardInterrupt):
        raise
    except Exception as e:
        from .cli_common import _internal

        try:
            _internal(e)
        except SystemExit as exit:
            return exit.code if isinstance(exit.code, int) else 1
        return 1


def _lines(session: Session) -> int:
    """Without a terminal: each line of standard input is one input."""
    status = 0
    for line in sys.stdin:
        try:
            code = _run(session, line)
        except Quit:
            break
        if code:
            status = code
    return status
