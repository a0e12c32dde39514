"""Reports that render themselves: what a command computed, three ways.

Each report holds a command's results and renders them as plain text (for
pipes and scripts), as one JSON object (``--json``) and as rich renderables
(for a terminal), so each typer command is a few lines: load, compute, hand
the report to ``cli.show``, which picks the rendering and prints it. Nothing
here prints or exits; ``ok`` false asks the caller to exit 1 after printing
(``check``'s verdict).

``plain()`` and ``json()`` return the exact text to write, newline included;
``rich()`` returns ``Line``s: a renderable (rich markup, a ``Text``, a
``Table``) and how to print it.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

from .engine import Graph


class Line(NamedTuple):
    """One thing to print on a terminal, and how."""

    item: object
    style: str | None = None
    soft_wrap: bool = False


class Report:
    ok: bool = True

    def plain(self) -> str:
        raise NotImplementedError

    def json(self) -> str:
        raise NotImplementedError

    def rich(self) -> list[Line]:
        raise NotImplementedError


def _digits(precision: int | None) -> int:
    """Digits in a table: ``--precision``, else 6."""
    return 6 if precision is None else precision


class EvalReport(Report):
    """``eval``: the output's value (``every``: and every node's data).
    ``precision`` None: full precision in plain lines, 6 digits in tables."""

    def __init__(self, graph: Graph, every: bool = False, precision: int | None = None):
        self.graph, self.every, self.precision = graph, every, precision

    def plain(self) -> str:
        from . import render
        from .cli_common import plain_eval

        if self.every:
            return render.nodes_tsv(self.graph, False, self.precision)
        if self.precision is not None:
            return render.short(self.graph.value, self.precision) + "\n"
        return plain_eval(self.graph, False)

    def json(self) -> str:
        from . import render
        from .cli_common import plain_eval

        if self.every:
            return render.nodes_json(self.graph, grads=False)
        return plain_eval(self.graph, True)

    def rich(self) -> list[Line]:
        from . import render

        out = [Line(render.value_line(self.graph, self.precision))]
        if self.every:
            out.append(Line(render.table(self.graph, every=True, precision=_digits(self.precision), grads=False)))
        return out


class GradReport(Report):
    """``grad``: the value and each reported name's gradient; ``every``:
    every node's data and grad (a ``nodes`` list in JSON, tab-separated
    lines in plain text, every row in the table). Without ``every`` the
    table shows the leaves, the ``wrt`` names and the output, and says what
    it left out."""

    def __init__(self, graph: Graph, grads: dict, wrt: Sequence[str] | None = None, every: bool = False,
                 precision: int | None = None):
        self.graph, self.grads, self.wrt, self.every, self.precision = graph, grads, wrt, every, precision

    def plain(self) -> str:
        from . import render
        from .cli_common import plain_grad, split_names

        if self.every:
            return render.nodes_tsv(self.graph, True, self.precision)
        if self.precision is not None:
            names = split_names(self.wrt)
            if names is not None and len(names) == 1:
                return render.short(self.grads[names[0]], self.precision) + "\n"
            return "".join(f"{name}\t{render.short(g, self.precision)}\n" for name, g in self.grads.items())
        return plain_grad(self.graph, self.grads, self.wrt, False)

    def json(self) -> str:
        from . import render
        from .cli_common import plain_grad

        if self.every:
            return render.nodes_json(self.graph, grads=self.grads)
        return plain_grad(self.graph, self.grads, self.wrt, True)

    def rich(self) -> list[Line]:
        from . import render

        out = [Line(render.value_line(self.graph, self.precision)),
               Line(render.table(self.graph, list(self.grads), every=self.every,
                                 precision=_digits(self.precision)))]
        if not self.every:
            note = render.hidden(self.graph, render.node_rows(self.graph, False, list(self.grads)))
            if note:
                out.append(Line(note, "dim"))
            if not self.grads:
                out.append(Line("[dim]the program has no leaves: nothing to differentiate[/dim]"))
        return out


class CheckReport(Report):
    """``check``: each gradient against its finite difference, the verdict,
    and the corners met; ``ok`` is the verdict."""

    def __init__(self, report, graph: Graph, precision: int = 6):
        from . import check

        self.report, self.graph, self.precision = report, graph, precision
        self.ok = report.ok
        self.rows = check.rows(report, precision)
        self.notes = (check.mode_lines(report) + check.kink_lines(report, graph, precision)
                      + check.accuracy_lines(graph))

    def plain(self) -> str:
        from . import check, texttable

        return (texttable.plain_table(check.HEADER, self.rows, check.RIGHT)
                + "".join(line + "\n" for line in [check.summary(self.report), *self.notes]))

    def json(self) -> str:
        from . import check

        return check.as_json(self.report, self.graph) + "\n"

    def rich(self) -> list[Line]:
        from . import check, texttable, render

        styles = {"ok": "", "kink": "yellow", "FAIL": "bold red"}
        return [Line(render.value_line(self.graph)),
                Line(texttable.rich_table(check.HEADER, self.rows, check.RIGHT, {0: "cyan"},
                                        [styles[r.verdict] for r in self.report.rows])),
                Line(check.summary(self.report), "green" if self.report.ok else "bold red"),
                *(Line(note, "yellow") for note in self.notes)]


class ExplainReport(Report):
    """``explain``: the backward pass step by step, and with ``wrt`` the
    paths from the output to that node."""

    def __init__(self, graph: Graph, wrt: str | None = None, paths: int = 20, precision: int = 6):
        from . import explain as ex
        from .build import resolve

        self.precision = precision
        self.told = ex.steps(graph)
        self.wrt = wrt
        if wrt is not None:
            target = graph.node(resolve(graph, [wrt])[0])
            self.found, self.total = ex.paths(graph, target, paths)
            self.gradient = self.told.grads.get(target.index, 0.0)
        self.lines = ex.lines(self.told, precision)
        self.extra = [line for line in (ex.skipped_line(self.told),) if line]

    def _path_parts(self):
        from . import explain as ex

        return (ex.path_summary(self.wrt, self.found, self.total, self.gradient, self.precision),
                ex.path_rows(self.told, self.found, self.gradient, self.precision))

    def plain(self) -> str:
        from . import texttable
        from . import explain as ex

        p = self.precision
        text = [ex.seed_line(self.told, p), *(ex.text(line) for line in self.lines), *self.extra,
                ex.leaf_line(self.told, p)]
        if self.wrt is None:
            return "".join(line + "\n" for line in text)
        head, rows = self._path_parts()
        return "".join(line + "\n" for line in [*text, "", head]) + texttable.plain_table(
            ex.PATH_HEADER, rows, ex.PATH_RIGHT)

    def json(self) -> str:
        from . import explain as ex

        info = None
        if self.wrt is not None:
            info = ex.paths_json(self.told, self.wrt, self.found, self.total, self.gradient)
        return ex.as_json(self.told, info) + "\n"

    def rich(self) -> list[Line]:
        from . import explain as ex
        from . import render, texttable

        p = self.precision
        out = [Line(ex.seed_line(self.told, p), "dim")]
        out += [Line(render.Folded(line)) for line in self.lines]       # fitted to the terminal
        out += [Line(line, "dim") for line in self.extra]
        out.append(Line(ex.leaf_line(self.told, p), "bold green"))
        if self.wrt is not None:
            head, rows = self._path_parts()
            out += [Line(""), Line(head),
                    Line(texttable.rich_table(ex.PATH_HEADER, rows, ex.PATH_RIGHT, {1: "cyan", 3: "bold yellow"}))]
        return out


class HessianReport(Report):
    """``hessian``: the matrix of second derivatives at the point."""

    def __init__(self, h, graph: Graph, precision: int | None = None):
        self.h, self.graph, self.precision = h, graph, precision

    def plain(self) -> str:
        from . import render

        return render.matrix_tsv(self.h.names, self.h.matrix, self.precision)

    def json(self) -> str:
        from . import render

        h = self.h
        return render.as_json(h.value, h.grad, names=h.names, hessian=h.matrix) + "\n"

    def rich(self) -> list[Line]:
        from . import render

        out = [Line(render.value_line(self.graph))]
        if self.h.names:
            out.append(Line(render.matrix_table(self.h.names, self.h.matrix, _digits(self.precision))))
        else:
            out.append(Line("[dim]the program has no leaves: nothing to differentiate[/dim]"))
        return out


class UncertaintyReport(Report):
    """``uncertainty``: the value and its combined standard uncertainty
    (plain: ``VALUE<TAB>U``), the budget, the second order's note and the
    Monte Carlo figures side by side with the GUM's, with a histogram
    (uncertainty.Budget holds them all)."""

    def __init__(self, budget, precision: int | None = None):
        self.budget, self.precision = budget, precision

    def plain(self) -> str:
        from . import render

        b = self.budget
        if self.precision is not None:
            return f"{render.short(b.value, self.precision)}\t{render.short(b.u, self.precision)}\n"
        return f"{render.full(b.value)}\t{render.full(b.u)}\n"

    def json(self) -> str:
        import json

        return json.dumps(self.budget.as_dict()) + "\n"

    def rich(self) -> list[Line]:
        from . import texttable

        b, p = self.budget, _digits(self.precision)
        out = [Line(b.headline(p), "bold", soft_wrap=True)]
        if b.rows:
            out.append(Line(texttable.rich_table(b.HEADER, b.table_rows(p), (1, 2, 3, 4, 5), {0: "cyan"})))
        else:
            out.append(Line("no input has an uncertainty: the value is exact (give one as NAME=VALUE±U)", "dim"))
        for note in b.notes(p):
            out.append(Line(texttable.Note(note), "yellow" if note.startswith("second order changes") else "dim"))
        if b.mc is not None:
            header, rows = b.mc_rows(p)
            out.append(Line(texttable.rich_table(header, rows, tuple(range(1, len(header))), {0: "cyan"})))
            lines = b.mc_lines()
            out.append(Line(texttable.Note(lines[0]), "dim"))
            for line in lines[1:]:
                bad = "NOT agree" in line or "outside the program" in line
                out.append(Line(texttable.Note(line), "bold red" if "NOT agree" in line else
                                "yellow" if bad else "green" if "agrees" in line else "dim"))
            if b.mc.histogram is not None:
                out += [Line(""), Line(Histogram(b))]
        return out


class Histogram:
    """The Monte Carlo samples as a histogram on a terminal, one line per
    bin (its middle, a bar of ``█``), against the GUM's normal (``│``:
    where the bar would end if the output were normal with the GUM's value
    and u); fits the width it is given."""

    def __init__(self, budget):
        self.budget = budget

    def lines(self, width: int) -> list[tuple[str, str]]:
        """(label, bar) per bin: the bin's middle, its bar and the normal's mark."""
        import math

        b = self.budget
        edges, counts = b.mc.histogram[:2]
        labels = [f"{(lo + hi) / 2:.4g}" for lo, hi in zip(edges, edges[1:])]
        room = max(8, width - max(map(len, labels)) - 3)
        expected = []
        for lo, hi in zip(edges, edges[1:]):
            if b.u > 0:
                cdf = [0.5 * (1 + math.erf((x - b.value) / (b.u * math.sqrt(2)))) for x in (lo, hi)]
                expected.append(b.mc.valid * (cdf[1] - cdf[0]))
            else:
                expected.append(b.mc.valid if lo <= b.value < hi else 0.0)
        top = max(max(counts), max(expected), 1)
        out = []
        for label, count, e in zip(labels, counts, expected):
            bar = "█" * round(room * count / top)
            mark = min(room, round(room * e / top)) - 1     # the last cell of a bar of the expected count
            cells = list(bar.ljust(room))
            if mark >= 0:
                cells[mark] = "│" if cells[mark] == " " else "┃"
            text = "".join(cells).rstrip()
            out.append((label, text))
        return out

    def __rich_console__(self, console, options):
        from rich.text import Text

        b = self.budget
        rows = self.lines(options.max_width)
        width = max(len(label) for label, _ in rows)
        edges, _, below, above = b.mc.histogram
        yield Text(f"{'':>{width}}  samples: █   GUM normal: │", style="dim")
        for label, bar in rows:
            line = Text(f"{label:>{width}}  ", style="cyan")
            for ch in bar:
                line.append(ch, style="yellow" if ch in "│┃" else "blue")
            yield line
        if below or above:
            yield Text(f"not drawn: {below:,} samples below {edges[0]:.4g}, {above:,} above {edges[-1]:.4g}",
                       style="dim")
