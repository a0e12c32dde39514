"""Rows of strings as a table: aligned plain text for pipes, a rich Table for
terminals. ``check`` and ``explain`` build their rows once and hand them to
either; nothing here prints, and rich is imported only by ``rich_table``.
"""

from __future__ import annotations

from typing import Mapping, Sequence

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
               styles: Mapping[int, str] | None = None, row_styles: Sequence[str] | None = None):
    """The same rows as a rich Table: ``styles`` colours whole columns,
    ``row_styles`` whole rows."""
    from rich import box
    from rich.table import Table

    t = Table(header_style="bold", box=box.SIMPLE_HEAD)
    for i, h in enumerate(header):
        t.add_column(h, justify="right" if i in right else "left",
                     style=(styles or {}).get(i, ""), no_wrap=i in right)
    for k, row in enumerate(rows):
        t.add_row(*row, style=row_styles[k] if row_styles else None)
    return t
