"""Jupyter: values that show their number and their graph, and the
``%%gradcli`` cell magic. A front end: it imports the passes and, lazily,
the command line; nothing below imports it (the engine's ``DISPLAY`` hook
is set from above, by ``gradcli/__init__.py``).

A ``Value`` (a graph built by hand, micrograd style) and a ``Graph`` (a
built program) show their repr first, the number a reader looks for
(``Value(data=4.84, grad=0.0)``), and below it their graph, data and grad
on every node, as ``gradcli graph`` draws a program: Graphviz's SVG inline
when ``dot`` is on PATH, otherwise the live page (page.py) in a sandboxed
frame. A Value is drawn as it is (grads of 0 until ``backward()``); a Graph
with its gradients. Past ``DISPLAY_NODES`` values (a net's loss has
hundreds) one line says how to draw the graph instead: the lecture's
notebook, run, is about 280 kB (micrograd's, with its pictures, 1.4 MB;
gradcli's drawing every loss, 11 MB). A picture wider than the output is
scaled to fit down to ``MIN_SCALE``, then scrolls.

``%load_ext gradcli`` adds the magic, as a cell magic and a line magic::

    %%gradcli grad a=2 b=-3 c=10 f=-2
    L = (a*b + c) * f

runs ``gradcli grad`` on the cell's text, with the line's bindings and
options, in the kernel: the real command (cli.py), its options checked by
click as on the command line. What it prints is captured: rich's tables
become HTML (as rich renders them in a notebook), plain text stays text,
``graph`` without ``-o`` shows the picture instead of the DOT. The magic
returns a ``Result``: it displays that output, and holds what the command
computed (``result.value``, ``result.grad``, ``result.graph``, ...), so the
next cell can use ``_``. The line magic takes a whole command line:
``r = %gradcli grad "x**2" x=3``.

A command that fails, or a line that names no command or a misspelt one,
raises ``CellError``, whose message is exactly what the command line prints
on standard error, notes and "did you mean" kept (no traceback in the
notebook: IPython shows ``_render_traceback_``).
Warnings go to the cell's standard error. Nothing is written outside the
files a command names (``-o``).
"""

from __future__ import annotations

import html
import io
import re
import shlex
import sys
from contextlib import redirect_stderr, redirect_stdout
from typing import Any, Optional

from . import engine
from .draw import FRAME_HEIGHT, GraphvizMissing, drawable, framed, render, to_dot
from .engine import Graph, Value, topological_order
from .errors import GradcliError, InputError, did_you_mean, words
from .page import html as html_page

# A Value or a Graph in a cell shows its picture up to this many value nodes
# (the lecture's neuron has 10, its MLP's loss about 400); past it, one line
# says how to draw it. Chosen from screenshots of the lecture's notebook
# (tests/test_notebook.py exports it): at 40 values Graphviz's left-to-right
# picture, scaled to a notebook's width, is about as small as its numbers
# stay readable.
DISPLAY_NODES = 40
# The smallest a picture is scaled to fit a notebook's width: at half of
# Graphviz's size its 12 pt labels are 8 px, the smallest that stayed
# readable in the screenshots (the lecture's neuron, 10 values, fits a
# 960 px output at 0.52); a wider picture scrolls sideways at this scale.
MIN_SCALE = 0.5
# rich's width in a notebook (rich.console.JUPYTER_DEFAULT_COLUMNS).
NOTEBOOK_COLUMNS = 115


# ------------------------------------------------------------ the pictures

def _picture(graph: Graph, max_nodes: Optional[int] = None, dot: Optional[str] = None) -> dict:
    """The picture of a graph for a notebook: ``image/svg+xml`` laid out by
    Graphviz, or without it ``text/html``: the live page in a frame."""
    if dot is None:
        dot = to_dot(graph, max_nodes=max_nodes)
    try:
        return {"image/svg+xml": render(dot, "svg").decode("utf-8")}
    except GraphvizMissing:
        return {"text/html": embedded_page(graph, max_nodes)}


def embedded_page(graph: Graph, max_nodes: Optional[int] = None) -> str:
    """The live page (page.py) as an HTML fragment for a notebook: a
    sandboxed ``<iframe>`` (``draw.framed``), so that its script, styles and
    Content-Security-Policy stay its own."""
    return framed(html_page(graph, max_nodes=max_nodes), FRAME_HEIGHT)


def _filtered(bundle: dict, include=None, exclude=None) -> dict:
    if include:
        bundle = {k: v for k, v in bundle.items() if k in include}
    if exclude:
        bundle = {k: v for k, v in bundle.items() if k not in exclude}
    return bundle


def _inline(svg_text: str) -> str:
    """Graphviz's SVG document as markup to put in HTML, without its XML
    declaration and doctype. At its own size where the output is wide
    enough; narrower, scaled down to the output's width, but never below
    ``MIN_SCALE`` of its size (the numbers stay readable): past that the
    output scrolls sideways, as Jupyter's do."""
    start = svg_text.find("<svg")
    body = svg_text[start:] if start >= 0 else svg_text
    found = _WIDTH.search(body[:400])
    if found is None:
        return body.replace("<svg ", '<svg style="max-width:100%;height:auto" ', 1)
    px = float(found.group(1)) * 4 / 3          # Graphviz's points, as CSS pixels
    style = f"width:100%;max-width:{px:.0f}px;min-width:{px * MIN_SCALE:.0f}px;height:auto"
    return body.replace("<svg ", f'<svg style="{style}" ', 1)


_WIDTH = re.compile(r'<svg[^>]*?\swidth="([0-9.]+)pt"')


def _size(thing: Value | Graph) -> int:
    """How many value nodes the picture of ``thing`` would have."""
    if isinstance(thing, Graph):
        return thing.output.index + 1 if thing.output.index is not None else len(thing.nodes)
    return len(topological_order(thing))


def mimebundle(thing: Value | Graph, include=None, exclude=None) -> dict:
    """``_repr_mimebundle_`` of a Value or a Graph (engine.DISPLAY): its
    repr as ``text/plain``, and as ``text/html`` the same line, the number
    first, with below it the graph's picture (``DISPLAY_NODES`` value nodes
    at most: past that, one line saying how to draw it). The picture is
    Graphviz's SVG, inline; without Graphviz the live page in a frame."""
    text = repr(thing)
    head = f'<pre style="margin:0 0 4px 0">{html.escape(text)}</pre>'
    size = _size(thing)
    if size > DISPLAY_NODES:
        what = "value" if isinstance(thing, Value) else "graph"
        tail = (f'<div class="gradcli-summary" style="color:#555;font-size:90%">a graph of {size:,} values, '
                f'too many to draw here: <code>gradcli.draw({what})</code> is its SVG, '
                f'<code>gradcli.draw({what}, "html")</code> the live page, '
                f'<code>gradcli.draw({what}, max_nodes={DISPLAY_NODES})</code> the values nearest the output</div>')
    else:
        graph = drawable(thing)
        try:
            picture = _picture(graph)
        except GradcliError as e:   # no Graphviz, and the live page cannot run an op of the user's own
            picture = {"text/html": f'<div class="gradcli-summary" style="color:#555;font-size:90%">'
                                    f'no picture: {html.escape(e.message)}</div>'}
        if "image/svg+xml" in picture:
            tail = f'<div class="gradcli-graph" style="overflow-x:auto">{_inline(picture["image/svg+xml"])}</div>'
        else:
            tail = picture["text/html"]
    bundle = {"text/plain": text, "text/html": f'<div class="gradcli-value">{head}{tail}</div>'}
    return _filtered(bundle, include, exclude)


def svg(thing: Value | Graph) -> Optional[str]:
    """The picture of a Value or a Graph as SVG (every node), or None
    without Graphviz."""
    graph = drawable(thing)
    try:
        return render(to_dot(graph), "svg").decode("utf-8")
    except GraphvizMissing:
        return None


def register() -> None:
    """Make Jupyter show every Value and Graph through ``mimebundle``: the
    engine's ``DISPLAY`` hook (the engine imports nothing from here)."""
    engine.DISPLAY = mimebundle


register()


# ---------------------------------------------------------------- the magic

class CellError(GradcliError):
    """A ``%%gradcli`` command failed. The message is what the command line
    prints on standard error; ``exit_code`` its exit status. Jupyter shows
    the message alone, without a traceback."""

    def __init__(self, text: str, exit_code: int):
        super().__init__(text.rstrip("\n") or f"the command failed with exit status {exit_code}")
        self.exit_code = exit_code

    def render(self, source: str | None = None, filename: str | None = None) -> str:
        return self.message

    def _render_traceback_(self) -> list[str]:
        return self.message.split("\n")


class Result:
    """What ``%%gradcli COMMAND`` returns: the command's output, displayed
    as it prints it (tables as HTML, ``graph`` as its picture), and what it
    computed, as attributes: ``value``, ``grad`` (``grad``, ``hessian``),
    ``graph`` (the built program: every node's data and grad), ``report``
    and ``ok`` (``check``), ``steps`` (``explain``), ``result``, ``loss``
    and ``params`` (``descend``), ``program`` and ``latex`` (``diff``),
    ``names`` and ``hessian`` (``hessian``), ``dot`` (``graph``).

    ``text`` is what the command printed as text (standard output and the
    tables' text), ``html`` the tables as HTML, ``exit_code`` its status
    (``check`` gives 1 when a gradient disagrees with its finite
    difference)."""

    def __init__(self, command: str, argv: list[str], parts: dict, text: str, html: str,
                 exit_code: int = 0):
        self.command = command
        self.argv = argv
        self.parts = {k: v for k, v in parts.items() if v is not None}
        self.text = text
        self.html = html
        self.exit_code = exit_code

    def __getattr__(self, name: str) -> Any:
        parts = self.__dict__.get("parts", {})
        if name in parts:
            return parts[name]
        raise AttributeError(f"the result of `gradcli {self.__dict__.get('command', '')}` has no "
                             f"`{name}`; it has {words(sorted(parts)) or 'no parts'}")

    def __dir__(self):
        return [*super().__dir__(), *self.parts]

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={self.parts[k]!r}" for k in ("value", "grad", "ok", "loss", "program")
                          if k in self.parts)
        return f"<gradcli {self.command}{': ' + shown if shown else ''}>"

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs) -> dict:
        dot = self.parts.get("dot")
        graph = self.parts.get("graph")
        if dot is not None and graph is not None:       # `graph` without -o: the picture
            picture = _picture(graph, dot=dot)
            if "image/svg+xml" in picture:              # as a Value's: scaled to fit, down to MIN_SCALE
                picture = {"text/html": f'<div class="gradcli-graph" style="overflow-x:auto">'
                                        f'{_inline(picture["image/svg+xml"])}</div>'}
            return _filtered({"text/plain": dot, **picture}, include, exclude)
        bundle = {"text/plain": self.text or repr(self)}
        if self.html:
            bundle["text/html"] = self.html
        return _filtered(bundle, include, exclude)


_GROUP = None


def _commands():
    """The command line's click group (typer's app), made once."""
    global _GROUP
    if _GROUP is None:
        import typer

        from .cli import app

        _GROUP = typer.main.get_command(app)
    return _GROUP


def _from_click(e: BaseException) -> bool:
    """A usage error or an abort from click (typer may carry its own copy)."""
    return type(e).__module__.split(".")[0] in ("click", "typer")


def _recording_console():
    from rich.console import Console

    return Console(file=io.StringIO(), record=True, force_terminal=True, force_jupyter=False,
                   color_system="truecolor", width=NOTEBOOK_COLUMNS, highlight=False)


def _argv(line: str, cell: Optional[str]) -> tuple[str, list[str]]:
    """The command's name and its argv from the magic's line (and cell)."""
    from .cli import option_names
    from .cli_common import split_args

    try:
        words_ = shlex.split(line)
    except ValueError as e:
        raise InputError(f"cannot read the magic's line: {e}") from None
    group = _commands()
    usage = "usage: %%gradcli COMMAND [NAME=VALUE ...] [OPTIONS], then the program in the cell"
    commands = sorted(group.commands)
    if not words_:
        raise InputError("which command? " + usage,
                         notes=[f"the commands are {words([f'`{c}`' for c in commands])}"])
    name, *args = words_
    command = group.commands.get(name)
    if command is None and name not in ("-h", "--help", "--version"):
        raise InputError(f"`{name}` is not a gradcli command",
                         notes=did_you_mean(name, commands) or
                         [f"the commands are {words([f'`{c}`' for c in commands])}"])
    argv = words_
    if command is not None:
        flags, valued = option_names(command.params)
        flags |= {"-h", "--help"}
        options, positionals = split_args(args, flags, valued)
        given = {option[0].split("=", 1)[0] for option in options}
        if cell is not None:
            if given & {"-f", "--file"} or any(o[0].startswith("-f") and not o[0].startswith("--")
                                                for o in options):
                raise InputError("the cell is the program: %%gradcli takes no -f/--file",
                                 notes=["to run a file, use the line magic: %gradcli grad -f FILE"])
            positionals = [cell, *positionals]
        elif positionals[:1] == ["-"]:
            raise InputError("a notebook has no standard input to read the program from",
                             notes=["put the program in the cell: %%gradcli " + name + " ..."])
        if "--table" in flags and not given & {"--table", "--plain", "--json"}:
            options.insert(0, ["--table"])       # a notebook is a place for people
        argv = [name, *(arg for option in options for arg in option), "--", *positionals]
    return name, argv


def run(line: str, cell: Optional[str] = None) -> Result:
    """Run ``gradcli COMMAND ...`` in this process, as ``%%gradcli`` does.

    ``line`` is the magic's line: ``COMMAND [NAME=VALUE ...] [OPTIONS]``
    (shell quoting). With ``cell``, the cell's text is the program; without
    it, the line is a whole command line with its program
    (``grad "x**2" x=3``). Returns the ``Result``; raises ``CellError``
    with the command line's message when it fails, or when the line is
    wrong (no command, a misspelt one: the "did you mean" kept as a note).

        >>> r = run("grad a=2 b=-3 --plain", "L = a*b")
        >>> r.value, r.grad
        (-6.0, {'a': -3.0, 'b': 2.0})
        >>> r.text
        'a\\t-3.0\\nb\\t2.0\\n'
    """
    try:
        name, argv = _argv(line, cell)
    except CellError:
        raise
    except GradcliError as e:   # the line itself is wrong: worded as the command line words it
        raise CellError(e.render(), e.exit_code) from None
    from .cli_common import CONSOLE, RESULTS

    group = _commands()
    parts: dict = {}
    out, err = io.StringIO(), io.StringIO()
    recorder = _recording_console()
    failed, code = False, 0
    tokens = CONSOLE.set(recorder), RESULTS.set(parts)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                returned = group.main(args=argv, prog_name="gradcli", standalone_mode=False)
                code = returned if isinstance(returned, int) else 0   # typer.Exit(n): a verdict
            except SystemExit as e:                    # errors_to_exit: the message is on err
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
                failed = code != 0
            except Exception as e:
                if not _from_click(e):
                    raise
                if hasattr(e, "show"):                 # a usage error, worded as click words it
                    e.show(file=err)
                failed, code = True, getattr(e, "exit_code", 1)
    finally:
        CONSOLE.reset(tokens[0])
        RESULTS.reset(tokens[1])
    if failed:
        raise CellError(err.getvalue(), code)
    if err.getvalue():
        sys.stderr.write(err.getvalue())
    from rich.jupyter import JUPYTER_HTML_FORMAT

    table_text = recorder.export_text(clear=False)
    table_html = recorder.export_html(inline_styles=True, code_format=JUPYTER_HTML_FORMAT) if table_text else ""
    printed = out.getvalue()
    if printed and table_html:
        table_html += f"<pre>{html.escape(printed)}</pre>"
    return Result(name, argv, parts, table_text + printed, table_html, code)


def load_ipython_extension(ipython) -> None:
    """``%load_ext gradcli``: register ``%%gradcli`` (and ``%gradcli``)."""

    def gradcli(line: str, cell: Optional[str] = None) -> Result:
        return run(line, cell)

    gradcli.__doc__ = __doc__
    ipython.register_magic_function(gradcli, magic_kind="line_cell", magic_name="gradcli")


__all__ = ["DISPLAY_NODES", "CellError", "Result", "embedded_page", "load_ipython_extension",
           "mimebundle", "run", "svg"]
