"""Draw: a Graph -> DOT text, and DOT -> SVG, PNG or PDF through Graphviz.

The picture is micrograd's ``draw_dot``: one record per value showing its name
(or its operation when it has none), its data and its grad, and one small node
per operation between them, left to right. Nodes are told apart by kind:

    input (bound as NAME=VALUE)   blue record
    leaf with a default           green record
    number in the program         small grey oval showing the number
    intermediate value            white record
    output                        gold record with a thick border
    operation                     small grey circle

Node ids come from the tape (``n0``, ``n1``, ... as in ``grad --all``; an
operation's node is its result's id with ``op`` after it), so the same program
gives byte-identical DOT on every run. The DOT is written here, by string
building in one pass over the tape, so 100,000 nodes take well under a second
and need no Graphviz; only SVG, PNG and PDF call Graphviz's ``dot`` (a subprocess,
bounded by the header's ``layout_limits`` and stopped after ``TIMEOUT`` seconds).

The module is also the library's drawing function: ``gradcli.draw(v,
format="svg")`` draws a Value built by hand (or a built program, a Graph) as
``gradcli graph`` draws a program: ``"dot"``, ``"svg"`` and ``"html"`` (the
live page) as text, ``"png"`` and ``"pdf"`` as bytes (see ``picture``).
"""

from __future__ import annotations

import sys
import types
from collections import deque

from .engine import Graph, Value, needed
from .errors import GradcliError, InputError
from .ops import shown
from .render import kind_of, node_id, short

FORMATS = {".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png", ".pdf": "pdf", ".html": "html", ".htm": "html"}
RANKDIRS = ("LR", "TB", "RL", "BT")

# Graphviz's layout time grows fast with the size of the layout (nodes, plus
# the virtual nodes of edges spanning many ranks; see ``layout_size``): with
# the header's bounds (``layout_limits``) about 2 s at a size of 2,200 for a
# chain of neurons and 30 s at 8,800 (the initial spanning trees of Graphviz
# 2.43's network simplex, which no attribute bounds), 0.7 s at 8,000 and 4 s
# at 31,000 for a running sum reading ten inputs at every step
# (bench/graph_layout.py, bench/graph_limits.py). Above this size the command
# says so on stderr before the layout starts.
WARN_SIZE = 4000

# Seconds ``dot`` may take before it is stopped (graph --timeout; 0: no limit).
TIMEOUT = 60.0

# Bounds on Graphviz's layout, in every DOT header (so a user's own `dot` run
# on gradcli's DOT is bounded too); bench/graph_limits.py measures them and
# bench/README.md has the figures. What took minutes is the network simplex
# that places the nodes (x in a left-to-right picture): on a running sum
# reading ten shared inputs at each of 50 steps (211 values; 13,411 nodes for
# dot with the long edges' virtual nodes) dot used 26.7 s of CPU on a busy
# machine (>90 s of wall time), 0.9 s with nslimit=1. Its iterations are
# nslimit times the number of nodes, each costing about the layout's size, so
# nslimit shrinks with nodes x layout size past LAYOUT_WORK: the simplex then
# takes about a second at any size. mclimit=0.5 halves the crossing
# minimisation's passes (1.1 -> 0.8 s at 100 steps, the same crossings).
# Small pictures (every example) come out byte for byte as without them.
LAYOUT_LIMITS = "mclimit=0.5"
LAYOUT_WORK = 10_000_000


class GraphvizMissing(GradcliError):
    """Graphviz's ``dot`` is needed for SVG, PNG and PDF and is not installed."""

    exit_code = 1


class GraphvizFailed(GradcliError):
    """``dot`` ran and failed (it should not: gradcli writes the DOT)."""

    exit_code = 1


class GraphvizTimeout(GradcliError):
    """``dot`` took longer than the time limit and was stopped."""

    exit_code = 1


class Picture:
    """What to draw: the chosen nodes in tape order, and the operands that are
    referred to but left out (only with a node limit)."""

    def __init__(self, graph: Graph, nodes: list[Value], cut: list[Value], total: int):
        self.graph = graph
        self.nodes = nodes
        self.cut = cut
        self.total = total      # how many nodes there were to draw without a limit

    @property
    def omitted(self) -> int:
        return self.total - len(self.nodes)


def select(graph: Graph, max_nodes: int | None = None) -> Picture:
    """The nodes of the picture, in tape order.

    Without a limit: every node the output depends on, as micrograd's
    ``draw_dot(root)`` traces it, and every leaf (``grad`` reports them all,
    so a leaf the output ignores is drawn with its grad of 0).

    With ``max_nodes``: the ``max_nodes`` value nodes nearest the output,
    found breadth first from the output through each node's operands in order;
    operands beyond the limit are listed in ``cut`` and drawn as stubs.
    """
    nodes = graph.nodes
    out = graph.output
    wanted = needed(nodes, [out])
    for leaf in graph.leaves.values():
        wanted[leaf.index] = 1
    total = sum(wanted)
    if max_nodes is None or total <= max_nodes:
        return Picture(graph, [n for n in nodes if wanted[n.index]], [], total)

    chosen = bytearray(len(nodes))
    chosen[out.index] = 1
    count = 1
    queue = deque([out])
    while queue and count < max_nodes:
        node = queue.popleft()
        for child in node.children:
            if not chosen[child.index] and count < max_nodes:
                chosen[child.index] = 1
                count += 1
                queue.append(child)
    cut_mark = bytearray(len(nodes))
    for node in nodes:
        if chosen[node.index]:
            for child in node.children:
                if not chosen[child.index]:
                    cut_mark[child.index] = 1
    return Picture(graph,
                   [n for n in nodes if chosen[n.index]],
                   [n for n in nodes if cut_mark[n.index]],
                   total)


def _escape(text: str) -> str:
    """Text for a record label: Graphviz's record specials made literal."""
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text


def value_label(node: Value, graph: Graph, precision: int, grads: bool) -> str:
    """A value's record: ``name · id | data D | grad G``."""
    name = node.label or shown(node.op) or ("number" if node.kind == "const" else "value")
    fields = [f"{_escape(name)} · {node_id(node)}", f"data {short(node.data, precision)}"]
    if grads:
        fields.append(f"grad {short(node.grad, precision)}")
    return "{ " + " | ".join(fields) + " }"


def to_dot(graph: Graph, precision: int = 6, grads: bool = True, rankdir: str = "LR",
           max_nodes: int | None = None, picture: Picture | None = None, option: str = "--max-nodes") -> str:
    """The graph as DOT text, deterministic to the byte. ``option``: how a
    cut picture names the setting that cut it (``max_nodes=`` in Python).

    Sections: the values (records, in tape order), the numbers, the
    operations, then the edges (operands in order, tape order). Each section
    sets its defaults once, so a node's line carries only what is its own.
    """
    if rankdir not in RANKDIRS:
        raise InputError(f"--rankdir must be one of {', '.join(RANKDIRS)}, not `{rankdir}`")
    pic = picture or select(graph, max_nodes)
    out = graph.output
    title = f"{graph.output_name or 'value'} = {short(graph.value, precision)}"
    if not grads:
        title += "  (forward pass)"
    lines = [
        "digraph gradcli {",
        f'  graph [rankdir={rankdir}, label="{_escape(title)}", labelloc=t, fontname="Helvetica", '
        f"fontsize=16, nodesep=0.25, ranksep=0.45, {layout_limits(pic)}];",
        '  edge [color="#555555", arrowsize=0.7];',
        "  // values: blue input, green leaf with a default, white intermediate, gold output",
        '  node [shape=record, style="filled,rounded", fillcolor="#ffffff", fontname="Helvetica", '
        "fontsize=12];",
    ]
    add = lines.append
    consts, ops = [], []
    for node in pic.nodes:
        if node.kind == "const" and node is not out:
            consts.append(node)
            continue
        if node.children:
            ops.append(node)
        extra = STYLE.get(kind_of(node, graph), "")
        add(f'  {node_id(node)} [label="{value_label(node, graph, precision, grads)}"'
            f'{", " + extra if extra else ""}];')
    if consts:
        add("  // numbers in the program")
        add('  node [shape=ellipse, style=filled, fillcolor="#eeeeee", color="#999999", '
            'fontcolor="#444444", fontsize=10, height=0.3, margin="0.04,0.02"];')
        for node in consts:
            add(f'  {node_id(node)} [label="{short(node.data, precision)}"];')
    if ops:
        add("  // operations: n<i>op makes n<i>")
        add('  node [shape=ellipse, style=filled, fillcolor="#f0f0f0", color="#888888", '
            'fontcolor="#000000", fontsize=11, width=0.35, height=0.35, margin="0.02,0.01", ordering=in];')
        for node in ops:
            add(f'  {node_id(node)}op [label="{_escape(shown(node.op))}"];')
    if pic.cut or pic.omitted:
        add(f"  // left out by {option}")
        add('  node [shape=box, style="dashed,rounded", fillcolor="#ffffff", color="#999999", '
            'fontcolor="#777777", fontsize=10, height=0.3];')
        for node in pic.cut:
            add(f'  {node_id(node)} [label="{node_id(node)} …"];')
        add(f'  more [label="{pic.omitted:,} more nodes not drawn ({option})", shape=plaintext];')
    add("  // edges: operands in order into each operation, the operation into its value")
    for node in ops:
        nid = node_id(node)
        for child in node.children:
            add(f"  {node_id(child)} -> {nid}op;")
        add(f"  {nid}op -> {nid};")
    add("}")
    return "\n".join(lines) + "\n"


def format_for(path: str | None) -> str:
    """The output format from ``-o``'s extension; DOT without ``-o`` or for ``-o -``."""
    if path is None or path == "-":
        return "dot"
    dot = path.rfind(".")
    ext = path[dot:].lower() if dot > path.replace("\\", "/").rfind("/") else ""
    fmt = FORMATS.get(ext)
    if fmt is None:
        shown = f"`{ext}`" if ext else "no extension"
        raise InputError(f"-o `{path}` has {shown}: the format comes from the extension",
                         notes=[f"use one of {', '.join(FORMATS)}, or -o - for DOT on standard output"])
    return fmt


def layout_size(pic: Picture) -> int:
    """How much work Graphviz's layout has: the nodes it draws plus the
    virtual nodes it adds for every edge that spans more than one rank.

    Ranks are estimated as ``dot`` assigns them: an operation one rank after
    its latest operand, its value one after it, and a node with no operands
    (a leaf, a number, a stub) one rank before its first use. An input read at
    every step of a long chain makes long edges, and those, more than the
    node count, are what makes a layout take minutes.
    """
    graph = pic.graph
    n = len(graph.nodes)
    rank = [0] * n
    drawn = bytearray(n)
    for node in pic.nodes:
        drawn[node.index] = 1
    first_use = [1 << 62] * n
    ops = 0
    for node in pic.nodes:                       # tape order: operands first
        if node.children:
            ops += 1
            rank[node.index] = 2 + max(rank[c.index] if c.children and drawn[c.index] else 0
                                       for c in node.children)
    for node in pic.nodes:
        for child in node.children:
            if not child.children or not drawn[child.index]:
                first_use[child.index] = min(first_use[child.index], rank[node.index])
    virtual = 0
    for node in pic.nodes:
        op_rank = rank[node.index] - 1
        for child in node.children:
            start = rank[child.index] if child.children and drawn[child.index] else first_use[child.index] - 2
            virtual += max(0, op_rank - start - 1)
    return len(pic.nodes) + len(pic.cut) + ops + virtual


def layout_limits(pic: Picture) -> str:
    """The header's bounds for this picture: ``nslimit`` (1, or less for a
    big layout) and ``LAYOUT_LIMITS``."""
    ops = sum(1 for node in pic.nodes if node.children)
    work = (len(pic.nodes) + ops + len(pic.cut)) * layout_size(pic)
    nslimit = 1.0 if work <= LAYOUT_WORK else LAYOUT_WORK / work
    return f"nslimit={dot_number(nslimit)}, {LAYOUT_LIMITS}"


def dot_number(x: float) -> str:
    """``x`` to two significant digits as DOT reads a number: digits and a
    point, never an exponent (DOT's lexer splits ``5.3e-05`` into ``5.3e``
    and ``-05``, "badly delimited number", and rejects the file)."""
    from decimal import Decimal

    text = format(Decimal(f"{x:.2g}"), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text

# Fill colours by kind (see the module docstring and the README's key).
STYLE = {
    "input": 'fillcolor="#cfe2ff"',
    "leaf": 'fillcolor="#d3f0d0"',
    "output": 'fillcolor="#ffe08a", penwidth=2',
}


def layout_warning(pic: Picture, timeout: float | None = TIMEOUT) -> str | None:
    """A warning for stderr when Graphviz's layout will take a long time."""
    size = layout_size(pic)
    if size <= WARN_SIZE:
        return None
    limit = f"it is stopped after {timeout:g} s (--timeout)" if timeout else "--timeout 0: it has no time limit"
    return (f"warning: the picture has {len(pic.nodes):,} value nodes (a layout size of {size:,} with "
            f"its operations and long edges), and Graphviz's layout time grows faster than that: "
            f"seconds to minutes from here on; {limit}\n"
            f"  = note: --max-nodes N draws only the N nodes nearest the output\n"
            f"  = note: -o FILE.dot writes the DOT at once, with no layout")


# The live page grows with its nodes (measured: 0.45 to 1.1 KB a value node,
# 4.5 MB at 9,691 value nodes of a tanh MLP, 3.1 MB at 5,102 of an
# accumulator, 9.9 MB at 9,998 of a sum of squares, 32 MB at 29,999; written
# in 2 to 3 s at 10,000 nodes, 6 s at 30,000); past PAGE_WARN_NODES, say so
# before the wait. A browser paints the first frame of a 10,000-node page in
# about 0.4 s (bench/page_bench.py).
PAGE_WARN_NODES = 5_000
PAGE_KB_A_NODE = (0.45, 1.1)


def page_warning(nodes: int) -> str | None:
    """A warning for stderr before a live page of ``nodes`` value nodes is
    written, when it is big enough to take seconds to write."""
    if nodes <= PAGE_WARN_NODES:
        return None
    low, high = (round(nodes * kb / 1000) for kb in PAGE_KB_A_NODE)
    return (f"warning: the live page of {nodes:,} value nodes will be {low} to {high} MB "
            f"({PAGE_KB_A_NODE[0]} to {PAGE_KB_A_NODE[1]} KB a node) and take seconds to write\n"
            "  = note: --max-nodes N draws only the N value nodes nearest the output")


def render(dot_text: str, fmt: str, timeout: float | None = TIMEOUT, what: str = "the picture") -> bytes:
    """DOT text laid out and rendered by Graphviz's ``dot`` as SVG, PNG or PDF.

    ``dot`` runs as a subprocess for at most ``timeout`` seconds (None or 0:
    no limit); past that it is killed and ``GraphvizTimeout`` says what to
    do instead. ``what`` names the picture in that message."""
    if fmt == "dot":
        return dot_text.encode("utf-8")
    import shutil
    import subprocess

    exe = shutil.which("dot")
    if exe is None:
        raise _missing(fmt)
    try:
        done = subprocess.run([exe, f"-T{fmt}"], input=dot_text.encode("utf-8"), capture_output=True,
                              timeout=timeout or None)
    except FileNotFoundError:   # removed between which() and run()
        raise _missing(fmt) from None
    except subprocess.TimeoutExpired:   # run() has killed dot and waited for it
        raise GraphvizTimeout(
            f"Graphviz's `dot` did not finish laying out {what} within {timeout:g} s; nothing was written",
            notes=["-o FILE.dot writes the DOT at once, with no layout "
                   "(`dot -Tsvg FILE.dot -o FILE.svg` then takes as long as it needs)",
                   "--max-nodes N draws only the N value nodes nearest the output",
                   "--timeout SECONDS gives `dot` longer (0: no limit)"]) from None
    except OSError as e:
        raise GraphvizFailed(f"Graphviz's `dot` could not be run: {e.strerror or e}") from None
    if done.returncode < 0:     # killed by a signal: Graphviz 2.43 overflows its stack on some big layouts
        import signal

        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = f"signal {-done.returncode}"
        raise GraphvizFailed(f"Graphviz's `dot` crashed ({name}) laying out {what}; nothing was written",
                             notes=["-o FILE.dot writes the DOT at once, with no layout",
                                    "--max-nodes N draws only the N value nodes nearest the output"])
    if done.returncode != 0:
        said = [line.strip() for line in done.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        raise GraphvizFailed(f"Graphviz's `dot` failed to render {fmt.upper()}",   # its words, a note a line
                             notes=[f"Graphviz says: {line}" for line in said[:5]]
                             + ([f"... and {len(said) - 5} more lines"] if len(said) > 5 else []))
    return done.stdout


def _missing(fmt: str) -> GraphvizMissing:
    return GraphvizMissing(
        f"Graphviz must be installed to write {fmt.upper()}: its `dot` program was not found on PATH",
        notes=["install it from https://graphviz.org/download/ "
               "(`apt-get install graphviz`, `brew install graphviz`, `choco install graphviz`)",
               "-o FILE.dot (or no -o at all, for standard output) writes DOT and needs no Graphviz",
               "in Python, gradcli.draw(v, 'dot') and gradcli.draw(v, 'html') (the live page) need none"])


def write(path: str, data: bytes) -> None:
    """Write the picture, whole or not at all (safeio.atomic_write): an
    unwritable path is bad input (exit 2), a write that fails part way exit 1."""
    from .safeio import atomic_write

    atomic_write(path, data)


# Formats written by a layer above this one, registered from there: "html",
# the live page (page.py, which imports this module), is registered by
# gradcli/__init__.py. So draw never imports page.
WRITERS: dict = {}


def draw(graph: Graph, fmt: str, precision: int = 6, grads: bool = True, rankdir: str = "LR",
         max_nodes: int | None = None, warn=None, filename: str | None = None,
         timeout: float | None = TIMEOUT, option: str = "--max-nodes") -> bytes:
    """The whole stage: choose nodes, write DOT, render it (``dot`` for at
    most ``timeout`` seconds). ``warn`` (a callable taking a message) hears
    about layouts that will be slow. ``html`` is the live page (page.py;
    ``filename`` names the program's file in its error messages)."""
    if fmt == "html":
        if rankdir != "LR":
            raise InputError(f"--rankdir {rankdir}: the live page is drawn left to right (LR); "
                             "--rankdir applies to DOT, SVG, PNG and PDF")
        if warn is not None:
            message = page_warning(len(select(graph, max_nodes).nodes))
            if message:
                warn(message)
        return WRITERS["html"](graph, precision, grads, max_nodes, filename=filename).encode("utf-8")
    pic = select(graph, max_nodes)
    text = to_dot(graph, precision, grads, rankdir, picture=pic, option=option)
    if fmt != "dot" and warn is not None:
        message = layout_warning(pic, timeout)
        if message:
            warn(message)
    what = f"the picture of {len(pic.nodes):,} value nodes (a layout size of {layout_size(pic):,})"
    return render(text, fmt, timeout, what if fmt != "dot" else "the picture")


# ------------------------------------------------- the library: gradcli.draw(v)

PICTURE_FORMATS = ("svg", "dot", "html", "png", "pdf")


def drawable(thing: Value | Graph, grads: bool = True) -> Graph:
    """The Graph to draw for a Value or a Graph.

    A Value (built by hand, or any node) is drawn as it is, its data and
    grad as they are now (``Graph.of``: a snapshot): so, as in the lecture,
    the grads are 0 until ``backward()`` runs. A Graph (a built program) is
    drawn as ``gradcli graph`` draws it: with ``grads``, its backward pass
    is run first (the gradients of every node; none is raised for a
    gradient that is not finite: it is drawn as inf or nan)."""
    if isinstance(thing, Graph):
        if grads:
            thing.backward(check=())
        return thing
    if isinstance(thing, Value):
        return Graph.of(thing)
    raise InputError(f"gradcli.draw draws a Value or a Graph (gradcli.build's result), "
                     f"not {type(thing).__name__}")


def picture(thing: Value | Graph, format: str = "svg", *, precision: int = 6, grads: bool = True,
            rankdir: str = "LR", max_nodes: int | None = None) -> str | bytes:
    """``gradcli.draw(v, format)``: the graph behind ``v`` (a Value, or a
    Graph from ``gradcli.build``) as ``gradcli graph`` draws it.

    ``format``: ``"dot"`` (DOT text; no Graphviz needed), ``"svg"`` (text),
    ``"png"`` or ``"pdf"`` (bytes) laid out by Graphviz's ``dot``, or
    ``"html"``: the live page of ``gradcli graph -o FILE.html``, one
    self-contained document (no Graphviz needed). SVG, HTML and PNG come as
    ``str``/``bytes`` subclasses that Jupyter shows as the picture (the
    page in its own frame). ``precision``,
    ``grads``, ``rankdir`` and ``max_nodes`` are ``graph``'s
    ``--precision``, ``--grad/--no-grad``, ``--rankdir`` and ``--max-nodes``.

    Raises ``InputError`` for a format or option it does not know and
    ``GraphvizMissing`` when SVG, PNG or PDF is asked for without Graphviz::

        >>> import gradcli
        >>> a = gradcli.Value(2.0, label="a")
        >>> y = a * a
        >>> y.label = "y"
        >>> print(gradcli.draw(y, "dot").splitlines()[5])
          n0 [label="{ a · n0 | data 2 | grad 0 }", fillcolor="#d3f0d0"];
    """
    if format not in PICTURE_FORMATS:
        raise InputError(f"format {_printable(format)} is not one gradcli draws",
                         notes=[f"use one of {', '.join(repr(f) for f in PICTURE_FORMATS)}"])
    if type(precision) is not int or not 1 <= precision <= 17:
        raise InputError(f"precision must be a whole number from 1 to 17, not {_printable(precision)}")
    if max_nodes is not None and (type(max_nodes) is not int or max_nodes < 1):
        raise InputError(f"max_nodes must be a positive whole number or None, not {_printable(max_nodes)}")
    if rankdir not in RANKDIRS:
        raise InputError(f"rankdir must be one of {', '.join(RANKDIRS)}, not {_printable(rankdir)}")
    data = draw(drawable(thing, bool(grads)), format, precision, bool(grads), rankdir, max_nodes,
                option=f"max_nodes={max_nodes}")
    if format == "svg":
        return SvgText(data.decode("utf-8"))
    if format == "html":
        return PageText(data.decode("utf-8"))
    if format == "png":
        return PngBytes(data)
    return data if format == "pdf" else data.decode("utf-8")


# What gradcli.draw returns: the str (or bytes) a script writes to a file, and
# in Jupyter, as a cell's last line, the picture (IPython's _repr_*_ methods).

class SvgText(str):
    """``gradcli.draw(v, "svg")``: the SVG text, shown as the picture in Jupyter."""

    def _repr_svg_(self) -> str:
        return str(self)

    def _repr_pretty_(self, p, cycle) -> None:   # IPython's text: not the whole XML
        p.text(f"<SVG picture, {len(self):,} characters (a str)>")


class PageText(str):
    """``gradcli.draw(v, "html")``: the live page, one HTML document; in
    Jupyter shown in its own frame (``framed``), so its styles and script
    cannot touch the notebook."""

    def _repr_html_(self) -> str:
        return framed(str(self))

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(f"<the live page, an HTML document of {len(self):,} characters (a str)>")


class PngBytes(bytes):
    """``gradcli.draw(v, "png")``: the PNG's bytes, shown as the picture in Jupyter."""

    def _repr_png_(self) -> bytes:
        return bytes(self)

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(f"<PNG picture, {len(self):,} bytes>")


# The height of the live page's frame in a notebook (px).
FRAME_HEIGHT = 620


def framed(page: str, height: int = FRAME_HEIGHT) -> str:
    """The live page as an HTML fragment for a notebook: an ``<iframe>``
    whose ``srcdoc`` is the page, sandboxed to run scripts only, so its
    script, styles and Content-Security-Policy stay its own and it cannot
    restyle the notebook (``IPython.display.HTML(page)`` would put the
    page's global CSS into the notebook's document)."""
    from html import escape

    return (f'<iframe class="gradcli-page" title="gradcli graph" sandbox="allow-scripts" '
            f'style="width:100%;height:{height}px;border:1px solid #ddd" '
            f'srcdoc="{escape(page, quote=True)}"></iframe>')


def _printable(x: object) -> str:
    from .safeio import printable

    text = repr(x)
    return f"`{printable(text if len(text) <= 40 else text[:37] + '...')}`"


class _DrawModule(types.ModuleType):
    """``gradcli.draw`` is this module, and calling it draws (``picture``):
    the command line's ``from . import draw`` keeps its module, and the
    library's ``gradcli.draw(v, "svg")`` is the function the contract names."""

    def __call__(self, thing: Value | Graph, format: str = "svg", **options) -> str | bytes:
        return picture(thing, format, **options)


sys.modules[__name__].__class__ = _DrawModule


__all__ = ("FORMATS", "RANKDIRS", "WARN_SIZE", "TIMEOUT", "LAYOUT_LIMITS", "layout_limits", "GraphvizMissing",
           "GraphvizFailed", "GraphvizTimeout", "Picture",
           "select", "to_dot", "format_for", "layout_size", "layout_warning", "page_warning", "render", "write", "draw",
           "PICTURE_FORMATS", "drawable", "picture", "SvgText", "PageText", "PngBytes", "framed")
