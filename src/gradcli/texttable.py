"""Rows of strings as a table that never cuts a cell: aligned plain text for
pipes, and for terminals a ``Grid`` that lays itself out for the width it is
given. ``check``, ``explain``, ``grad``'s node table and ``hessian``'s
matrix build their rows once and hand them to either; nothing here prints.

Why not a plain rich ``Table``: at a width too small for it, rich shortens
cells with an ellipsis, so ``-1.23456e-07`` became ``-1.23456e…`` (a
different number to the reader) and a ten-leaf Hessian lost its row labels.
A ``Grid`` picks, for the width it is rendered at, the first layout that
shows every number whole (the order matters and is pinned by golden tests at
40, 80 and 200 columns):

1. every column, at its natural width;
2. the ``drop`` columns removed one by one, least useful first; the grid
   then says which columns it hid, and why;
3. for a matrix, the ``repeat`` column (the row names) kept and the other
   columns wrapped into blocks that each fit, as NumPy prints wide arrays;
4. the ``fold`` columns (names, text) wrapped onto more lines, at spaces
   when they have them; numbers are never folded;
5. records: one block per row, ``header  value`` per line, a value too
   long for that on lines of its own (the layout of last resort; at 28
   columns or more, room for the longest number there is, none is split).

It draws exactly what rich's ``box.SIMPLE_HEAD`` table draws (a blank line,
the bold header, a rule, the rows, a blank line), so a table that fits looks
as it always did; widths are computed once, in one pass over the cells, and
the lines are written directly, so a 100,000-row ``--all`` table renders in
about the time the rows take to format (rich's ``Table`` took 9 s).
"""

from __future__ import annotations

import re
import textwrap
from typing import Callable, Iterable, Iterator, Mapping, Optional, Sequence

Row = Sequence[str]


def pad(rows: Sequence[Row], right: Sequence[int] = ()) -> list[list[str]]:
    """Each row's cells padded to their column's width: the ``right``
    columns right-aligned, the others left-aligned."""
    widths: list[int] = []
    for row in rows:
        for i, cell in enumerate(row):
            if i == len(widths):
                widths.append(0)
            widths[i] = max(widths[i], len(cell))
    return [[cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)]
            for row in rows]


def align(rows: Sequence[Row], right: Sequence[int] = ()) -> list[str]:
    """Each row as one line: padded cells separated by two spaces, trailing
    spaces trimmed."""
    return ["  ".join(cells).rstrip() for cells in pad(rows, right)]


def plain_table(header: Row, rows: Sequence[Row], right: Sequence[int] = ()) -> str:
    """A header and rows as aligned plain text, one line each."""
    return "".join(line + "\n" for line in align([header, *rows], right))


def rich_table(header: Row, rows: Sequence[Row], right: Sequence[int] = (),
               styles: Mapping[int, str] | None = None, row_styles: Sequence[str] | None = None,
               title: str | None = None, sections: Sequence[int] = ()) -> "Grid":
    """The same rows for a terminal: ``styles`` colours whole columns,
    ``row_styles`` whole rows; a blank line is drawn before each row in
    ``sections``. The text columns fold when the width is short; the
    right-aligned (number) columns never do."""
    fold = [i for i in range(len(header)) if i not in right]
    return Grid(header, rows, right, styles, row_styles, title=title, sections=sections, fold=fold)


# ------------------------------------------------------------- the grid

MIN_FOLD = 6          # a folded column is never narrower than this
FOLD = -1             # in ``drop``: from here on, the fold columns may fold


def _len(text: str) -> int:
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def _is_number(token: str) -> bool:
    try:
        float(token.rstrip("%,;"))
    except ValueError:
        return False
    return True


_NUMBER_TOKEN = re.compile(r"(?<!\S)[-+]?[0-9.][^\s]*")


def _fold(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` cells: at spaces where it has
    them, a word longer than the width folded; never an empty list."""
    if _len(text) <= width:
        return [text]
    if " " in text:
        lines = textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False)
        return lines or [""]
    return [text[k:k + width] for k in range(0, len(text), width)]


class Note(str):
    """A line of prose under a grid: wrapped at spaces, never cropped."""


class Layout:
    """How a grid is drawn at one width: ``blocks`` of column indices (one
    block unless a matrix wraps), the widths of folded columns, the dropped
    columns; or ``records``."""

    def __init__(self, blocks: list[list[int]] | None, folded: dict[int, int] | None = None,
                 dropped: Sequence[int] = ()):
        self.blocks = blocks
        self.folded = folded or {}
        self.dropped = list(dropped)

    @property
    def records(self) -> bool:
        return self.blocks is None


class Grid:
    """A table for a terminal that lays itself out for the width it is
    rendered at (see the module's docstring). ``cell_styles(k, i)`` may give
    one cell's style; ``key`` names the columns that head a record."""

    def __init__(self, header: Row, rows: Sequence[Row], right: Sequence[int] = (),
                 styles: Mapping[int, str] | None = None, row_styles: Sequence[str] | None = None,
                 cell_styles: Optional[Callable[[int, int], str]] = None, title: str | None = None,
                 sections: Sequence[int] = (), drop: Sequence[int] = (), fold: Sequence[int] = (),
                 repeat: Optional[int] = None, key: Sequence[int] = (0,)):
        self.header = list(header)
        self.rows = rows
        self.right = set(right)
        self.styles = dict(styles or {})
        self.row_styles = row_styles
        self.cell_styles = cell_styles
        self.title = title
        self.sections = set(sections)
        self.drop = list(drop)
        self.fold = list(fold)
        self.repeat = repeat
        self.key = list(key)
        n = len(self.header)
        # One pass per column, in C where it can be: a 300,000-row --all
        # table is measured in about 0.1 s.
        columns = list(zip(*rows)) if rows else [()] * n
        self.ascii = all("".join(col).isascii() for col in columns)
        measure = len if self.ascii else _len
        widths = [max(_len(h), max(map(measure, col), default=0)) for h, col in zip(self.header, columns)]
        least = [0] * n      # the narrowest a folded column may be
        for i in self.fold:
            least[i] = max([MIN_FOLD, *(_len(w) for w in self.header[i].split())])
            # a number inside a text cell (explain's "2 * -3") is never split
            for token in _NUMBER_TOKEN.findall("\n".join(columns[i])):
                if _len(token) > least[i] and _is_number(token):
                    least[i] = _len(token)
        self.widths = widths
        self.least = [min(least[i], widths[i]) for i in range(n)]

    # --------------------------------------------------------- layout

    def _total(self, cols: Iterable[int], widths: Sequence[int] | None = None) -> int:
        w = self.widths if widths is None else widths
        cols = list(cols)
        return sum(w[i] for i in cols) + 3 * len(cols) + 1

    def layout(self, width: int) -> Layout:
        """The first layout that shows every cell whole at ``width``: the
        ``drop`` steps in order (a column left out, or ``FOLD``: folding
        allowed from there on; without ``FOLD``, only after every drop)."""
        cols = list(range(len(self.header)))
        dropped: list[int] = []
        may_fold = False

        def attempt() -> Layout | None:
            if self._total(cols) <= width:
                return Layout([list(cols)], dropped=dropped)
            if self.repeat is not None:
                blocks = self._wrap(cols, width)
                if blocks is not None:
                    return Layout(blocks, dropped=dropped)
            if may_fold:
                folded = self._folded(cols, width)
                if folded is not None:
                    return Layout([list(cols)], folded, dropped)
            return None

        found = attempt()
        for step in [*self.drop, FOLD]:
            if found is not None:
                return found
            if step == FOLD:
                may_fold = True
            elif step in cols:
                cols.remove(step)
                dropped.append(step)
            found = attempt()
        return found or Layout(None)

    def _wrap(self, cols: list[int], width: int) -> list[list[int]] | None:
        """The columns after ``repeat`` in blocks that fit, each led by it."""
        lead = [self.repeat]
        blocks: list[list[int]] = []
        for i in cols:
            if i == self.repeat:
                continue
            if blocks and self._total(blocks[-1] + [i]) <= width:
                blocks[-1].append(i)
            elif self._total(lead + [i]) <= width:
                blocks.append(lead + [i])
            else:
                return None
        return blocks

    def _folded(self, cols: list[int], width: int) -> dict[int, int] | None:
        """Widths for the fold columns that make ``cols`` fit, taken from
        the widest first; None when even their least widths do not fit."""
        widths = list(self.widths)
        foldable = [i for i in self.fold if i in cols and widths[i] > self.least[i]]
        excess = self._total(cols, widths) - width
        while excess > 0 and foldable:
            i = max(foldable, key=lambda j: widths[j] - self.least[j])
            room = widths[i] - self.least[i]
            if room <= 0:
                break
            cut = min(room, excess)
            widths[i] -= cut
            excess -= cut
        if excess > 0:
            return None
        return {i: widths[i] for i in foldable if widths[i] < self.widths[i]}

    # -------------------------------------------------------- drawing

    def lines(self, width: int) -> Iterator[list[tuple[str, str]] | Note]:
        """The grid at ``width`` as lines, each a list of (text, style), or
        a ``Note`` (dim prose, to be wrapped to the width)."""
        layout = self.layout(width)
        if layout.records:
            yield from self._records(width)
            return
        if self.title:
            yield [(self.title, "italic")]
        for cols in layout.blocks:
            if len(layout.blocks) > 1:
                first = cols[1] if len(cols) > 1 else cols[0]
                yield [(f"columns {first} to {cols[-1]} of {len(self.header) - 1}", "dim")]
            yield from self._table(cols, layout.folded)
        if layout.dropped:
            hidden = [self.header[i] or "#" for i in layout.dropped]
            from .errors import words

            were = "was" if len(hidden) == 1 else "were"
            yield Note(f"({words(hidden)} {were} left out to fit {width} columns; "
                       "a wider terminal shows them)")

    def _table(self, cols: list[int], folded: Mapping[int, int]) -> Iterator[list[tuple[str, str]]]:
        widths = [folded.get(i, self.widths[i]) for i in cols]
        total = sum(widths) + 3 * len(cols) + 1
        blank = [(" " * total, "")]
        yield blank
        yield self._line(cols, widths, [self.header[i] for i in cols], lambda i: "bold", folded)[0]
        yield [(" " + "─" * (total - 2) + " ", "")]
        row_styles, cell_styles, styles, right = self.row_styles, self.cell_styles, self.styles, self.right
        for k, row in enumerate(self.rows):
            if k in self.sections:
                yield blank
            base = row_styles[k] if row_styles else ""
            if not folded and not cell_styles and not styles and not base:
                # the common case of a long table, in one string
                parts = []
                for i, w in zip(cols, widths):
                    cell = row[i]
                    gap = w - _len(cell)
                    parts.append(" " * gap + cell if i in right else cell + " " * gap)
                yield [("  " + "   ".join(parts) + "  ", "")]
                continue

            def style(i: int, k: int = k, base: str = base) -> str:
                own = cell_styles(k, i) if cell_styles else ""
                return " ".join(s for s in (styles.get(i, ""), base, own) if s)

            yield from self._line(cols, widths, [row[i] for i in cols], style, folded)
        yield blank

    def _line(self, cols, widths, cells, style, folded) -> list[list[tuple[str, str]]]:
        """One row (which may take several lines when a cell folds)."""
        parts = [_fold(cell, w) if i in folded else [cell] for i, w, cell in zip(cols, widths, cells)]
        height = max(len(p) for p in parts)
        out = []
        for r in range(height):
            line: list[tuple[str, str]] = [(" ", "")]
            for j, (i, w) in enumerate(zip(cols, widths)):
                text = parts[j][r] if r < len(parts[j]) else ""
                gap = w - _len(text)
                line.append((" " * (1 + gap * (i in self.right)), ""))
                line.append((text, style(i) if text else ""))
                line.append((" " * (1 + gap * (i not in self.right)) + (" " if j + 1 < len(cols) else ""), ""))
            line.append((" ", ""))
            out.append(line)
        return out

    def _records(self, width: int) -> Iterator[list[tuple[str, str]]]:
        """One block per row: its key cells, then ``header  value`` lines."""
        if self.title:
            yield [(self.title, "italic")]
        others = [i for i in range(len(self.header)) if i not in self.key]
        label = max((_len(self.header[i]) for i in others), default=0)
        room = max(1, width - label - 4)
        for k, row in enumerate(self.rows):
            yield []
            head = " ".join(row[i] for i in self.key if row[i])
            for piece in _fold(head, max(1, width)):
                yield [(piece, "bold")]
            for i in others:
                if not row[i]:
                    continue
                own = self.cell_styles(k, i) if self.cell_styles else ""
                style = own or self.styles.get(i, "")
                if _len(row[i]) <= room:
                    yield [("  " + self.header[i].ljust(label) + "  ", "dim"), (row[i], style)]
                    continue
                # too long beside its header: on lines of its own, under it
                yield [("  " + self.header[i], "dim")]
                for piece in _fold(row[i], max(1, width - 4)):
                    yield [("    ", ""), (piece, style)]

    def text(self, width: int) -> str | None:
        """The grid at ``width`` as plain text, when it has no colour to
        show and fits as one table: written as it is, a 300,000-row table
        takes a third of the time rich's console takes for the same lines.
        None otherwise (print it as a renderable)."""
        if self.styles or self.cell_styles or self.row_styles or self.title or not self.ascii:
            return None
        layout = self.layout(width)
        if layout.records or len(layout.blocks) != 1 or layout.folded or layout.dropped or self.sections:
            return None
        cols = layout.blocks[0]
        widths = [self.widths[i] for i in cols]
        total = sum(widths) + 3 * len(cols) + 1
        template = "  " + "   ".join(("{:>%d}" if i in self.right else "{:<%d}") % w
                                     for i, w in zip(cols, widths)) + "  \n"
        blank = " " * total + "\n"
        if len(cols) == len(self.header):
            body = "".join(template.format(*row) for row in self.rows)
        else:
            body = "".join(template.format(*(row[i] for i in cols)) for row in self.rows)
        head = template.format(*(self.header[i] for i in cols))
        return blank + head + " " + "─" * (total - 2) + " \n" + body + blank

    def __rich_console__(self, console, options):
        from rich.segment import Segment
        from rich.style import Style

        cache: dict[str, Style] = {}
        newline = Segment.line()
        for line in self.lines(options.max_width):
            if isinstance(line, Note):
                from rich.text import Text

                yield from console.render(Text(str(line), style="dim"), options)
                continue
            for text, style in line:
                if style:
                    s = cache.get(style)
                    if s is None:
                        s = cache[style] = console.get_style(style)
                    yield Segment(text, s)
                else:
                    yield Segment(text)
            yield newline

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        return Measurement(1, options.max_width)
