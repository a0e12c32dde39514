"""Points in, results out: CSV, JSON lines, Parquet and Arrow IPC, by extension.

The contract (many points): ``--at POINTS`` reads CSV (a header
row of input names), JSON lines (``.jsonl``, ``.ndjson``), Parquet
(``.parquet``) or Arrow IPC (``.arrow``, ``.feather``), a directory or glob of
such files (in sorted order), or ``-`` for standard input; ``-o FILE`` writes
the results in the format of its extension. A file of another extension (or
standard input) is told apart by its first bytes: Parquet and Arrow by their
magic numbers, JSON lines by a first non-blank line that starts with ``{``,
CSV otherwise.

Reading. Every input becomes a stream of ``Chunk``s: float64 columns (one
NumPy array per input name) of some tens of thousands of points, so memory
does not grow with the number of points. Text is read in blocks of
``CHUNK_BYTES`` cut at a line end. With pyarrow (``gradcli[data]``) a CSV
block is parsed by Arrow's multi-threaded reader, strictly (no quotes, no
null markers, float64 columns); whenever Arrow refuses a block, or its
numbers are not all finite, the block is read again by the pure-Python
reader (``csv_rows``, ``json_row``), which accepts exactly the language's numbers and names
the line and the cell that is wrong. So the fast path never accepts what the
slow one rejects, and errors read the same with or without pyarrow. JSON
lines go the same way: a block through Arrow's JSON reader with a float64
schema, taken only where it cannot read otherwise than Python's ``json``
(ASCII, one object a line; see ``_arrow_json``), else the Python reader
(1e6 points of the neuron: 1.7 s instead of 10.5 s). Parquet and Arrow are read record
batch by record batch; a missing or non-finite value is an error naming its
row and column.

Writing. ``open_sink`` gives a writer for a path (by extension) or for
standard output. Text formats keep Python's ``repr`` of every float (the
shortest string that reads back as the same float). ``repr`` one float at a
time costs about a microsecond; with orjson installed (``gradcli[data]``)
a block of floats is written by orjson's Ryu-based serializer, which gives
the very same shortest digits, in the same layout for every magnitude in
[1e-4, 1e16); outside it, orjson's layout is edited into Python's with
NumPy index arrays over the bytes (``0.000015`` -> ``1.5e-05``, ``1e-7`` ->
``1e-07``, ``1e16`` -> ``1e+16``), no Python per number. A
probe at first use checks that orjson agrees with ``repr``; if it does not,
``repr`` does all (and a test fails: orjson 3.11 began to write ``1e+16``,
which the probe refused, and every run silently took the slow path until
the layout learned both spellings). Measured: 1,000,000 points x 6 columns
in 0.35 s instead of 3.5 s (tests compare with ``repr`` at every
magnitude). JSON lines are the same text with each row's separators marked
and replaced by the keys (``_json_lines``). Where a C compiler was there at
install, ``_layout.c`` writes the numbers itself (``gradcli_format``: the
shortest digits by its own implementation of Schubfach, a published
algorithm, with a table of powers of ten written by ``tools/pow10_table.py``,
in repr's layout; loaded with ctypes, it lets go of the GIL): about 40 ns a
number, the MLP's 72 columns at 2e5 points 1.6 s instead of 2.6 s for the
whole run. orjson with NumPy's ``_layout`` is the
fallback, to the same bytes; the tests run both against ``repr``.

Extra columns (contract section 6). Columns that are not inputs of the
program (``Split``: its leaves are) are carried into the results, before
the result columns (``Sink.carry``), or with ``--drop-extra`` read past.
A file without them takes exactly the paths above; one with them is read
by ``_mixed_chunk``: Arrow where it reads the block as the Python reader
would (CSV may quote extra cells; JSON lines give each extra key one kind,
from the first line), else the Python reader, which names the line and
cell. CSV's extra cells stay text as written; Parquet and Arrow keep their
types. Measured (1e6 points of the neuron, CSV -> CSV, a loaded 2-core
machine): 2.5 s without extra columns, 4.0 s with an id and a label.
Integers past 2**53 in an input column of Parquet or Arrow are rounded to
the nearest float, with a note (``Points.notes``) naming the first row.

Files named by ``-o`` are written whole or not at all (safeio.atomic_open);
a dataset directory (``--scheduler``) is written into a temporary directory
beside it and renamed into place.
"""

from __future__ import annotations

import glob as globmod
import json
import math
import os
import re
from functools import lru_cache
from typing import IO, Iterator, List, NamedTuple, Optional, Sequence

from .build import NAME_RE as _NAME, VALUE_RE as _VALUE, read_number
from .errors import DomainError, InputError
from .safeio import printable

CHUNK_BYTES = 1 << 22      # text read per block (cut at a line end)
CHUNK_CELLS = 1 << 19      # numbers per record batch of Parquet and Arrow (4 MB) ...
CHUNK_ROWS = 1 << 16       # ... and rows, at most
MAX_LINE = 1 << 20         # one CSV row or JSON line, at most (1 MiB)
THREADED_BYTES = 1 << 20   # text blocks from this size are parsed by Arrow's threads
SPLICE = 0.02              # numbers outside [1e-4, 1e16) up to this share: repr'd one by one

TEXT = ("csv", "jsonl")
EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
              ".arrow": "arrow", ".feather": "arrow"}
_KNOWN = ".csv, .jsonl, .ndjson, .parquet, .arrow or .feather"
_GLOB = set("*?[")


# ---------------------------------------------------------------- optional parts

def _np():
    import numpy

    return numpy


@lru_cache(maxsize=None)
def arrow():
    """pyarrow, or None when it is not installed (``gradcli[data]``)."""
    try:
        import pyarrow
        import pyarrow.csv  # noqa: F401
    except ImportError:
        return None
    return pyarrow


def need_arrow(what: str):
    pa = arrow()
    if pa is None:
        raise InputError(f"{what} needs pyarrow: pip install \"gradcli[data]\"",
                         notes=["CSV and JSON lines need nothing extra"])
    return pa


def format_of(path: str) -> Optional[str]:
    """The format named by a path's extension, or None."""
    return EXTENSIONS.get(os.path.splitext(path)[1].lower())


def label(path: str) -> str:
    return "standard input" if path == "-" else f"`{printable(path)}`"


# ------------------------------------------------------------------- reading

class Chunk:
    """Points, as float64 columns in the order of ``Points.columns``.
    ``locate(r)`` says where row ``r`` of the chunk came from (``line 7 of
    `p.csv```), for error messages only."""

    __slots__ = ("columns", "rows", "_where", "_first", "_lines", "_data", "_unit", "extras")

    def __init__(self, columns, rows, where, first, lines=None, data=None, unit="line", extras=None):
        self.columns, self.rows, self._where = columns, rows, where
        self._first, self._lines, self._data, self._unit = first, lines, data, unit
        self.extras = extras         # the extra columns carried (Arrow arrays or lists), or None

    def line_of(self, r: int) -> int:
        """The line (or row) number of row ``r``."""
        if self._lines is None and self._data is not None:
            self._lines = [n for n, _ in _python_csv_rows(self._data, self._first, self._where, None)]
        return self._lines[r] if self._lines is not None else self._first + r

    def locate(self, r: int) -> str:
        return f"{self._unit} {self.line_of(r)} of {self._where}"


class Points:
    """An input opened: its column names, its chunks (lazily, once), and what
    is known of its size for a progress bar: ``total_rows`` (Parquet, Arrow)
    or ``total_bytes`` (text files), and ``bytes_done()``."""

    def __init__(self, columns: List[str], chunks: Iterator[Chunk], where: str,
                 total_rows: Optional[int] = None, total_bytes: Optional[int] = None,
                 counter: Optional[list] = None, files: Sequence[str] = (),
                 extras: Sequence[tuple] = (), mixed: bool = False, notes: Optional[list] = None):
        self.columns, self.chunks, self.where = columns, chunks, where
        self.total_rows, self.total_bytes = total_rows, total_bytes
        self._counter = counter if counter is not None else [0]
        self.files = list(files)
        self.extras = list(extras)     # (name, kind) of each extra column carried, in order
        self.mixed = mixed             # the points have columns that are not inputs (carried or not)
        self.notes = notes if notes is not None else []    # said on standard error after a run

    def bytes_done(self) -> int:
        return self._counter[0]


class Split:
    """Which columns of the points are inputs: those whose names are the
    program's leaves (``names``; None: every column, as the library's
    callers and the workers read). The others are extra columns (an id, a label):
    carried into the results unchanged (contract section 6), or with
    ``drop`` (``--drop-extra``) read past and left out."""

    def __init__(self, names=None, drop: bool = False):
        self.names, self.drop = names, drop

    def is_input(self, name: str) -> bool:
        return self.names is None or name in self.names


class Head(NamedTuple):
    """The columns of a text file with extra columns: every name in the
    file's order, the inputs, and each extra column's name and kind (CSV:
    ``string``; JSON lines: the kind of its value on the first line)."""

    names: list
    inputs: list
    extras: list           # [(name, kind)], every extra column of the file
    keep: bool             # carried (else read past: --drop-extra)

    def kept(self) -> list:
        return self.extras if self.keep else []


def expand(at: str) -> List[str]:
    """The files of POINTS: itself, a directory's data files (by extension),
    or a glob's matches, in sorted order; names that start with ``.`` or
    ``_`` (``_SUCCESS``, ``_metadata``) are not data."""
    if at == "-":
        return ["-"]
    if os.path.isdir(at):
        names = sorted(n for n in os.listdir(at) if not n.startswith((".", "_")))
        files = [os.path.join(at, n) for n in names
                 if os.path.isfile(os.path.join(at, n)) and format_of(n)]
        if not files:
            raise InputError(f"the directory {label(at)} holds no points files ({_KNOWN})")
        return files
    if not os.path.exists(at) and _GLOB & set(at):
        files = sorted(p for p in globmod.glob(at)
                       if os.path.isfile(p) and not os.path.basename(p).startswith((".", "_")))
        if not files:
            raise InputError(f"no file matches {label(at)}")
        return files
    return [at]


def open_points(at: str, stdin: Optional[IO[bytes]] = None, split: Optional[Split] = None) -> Points:
    """Open POINTS for reading: see the module's docstring. ``split`` says
    which columns are inputs (default: every one)."""
    split = split or Split()
    files = expand(at)
    counter = [0]
    notes: list = []
    first = _open_one(files[0], stdin, counter, split, notes)
    columns, extras, mixed = first[0], first[3], first[4]
    where = label(at) if len(files) == 1 else f"{label(at)} ({len(files)} files)"

    def chunks():
        yield from first[1]
        for path in files[1:]:
            names, it, _, more, _ = _open_one(path, stdin, counter, split, notes)
            if sorted(names) != sorted(columns) or sorted(n for n, _ in more) != sorted(n for n, _ in extras):
                shown = ", ".join([*names, *(n for n, _ in more)])
                known = ", ".join([*columns, *(n for n, _ in extras)])
                raise InputError(f"{label(path)} has the columns {printable(shown)}; "
                                 f"{label(files[0])} has {printable(known)}",
                                 notes=["every file of the points gives the same names"])
            if dict(more) != dict(extras):
                name = next(n for n, k in more if dict(extras)[n] != k)
                raise InputError(f"the column `{printable(name)}` of {label(path)} holds {dict(more)[name]}; "
                                 f"in {label(files[0])} it holds {dict(extras)[name]}",
                                 notes=["every file of the points gives the same kinds of values"])
            order = [names.index(c) for c in columns]
            extra_order = [[n for n, _ in more].index(n) for n, _ in extras]
            for chunk in it:
                chunk.columns = [chunk.columns[j] for j in order]
                if chunk.extras is not None:
                    chunk.extras = [chunk.extras[j] for j in extra_order]
                yield chunk

    known = [None if p == "-" else _open_rows(p) for p in files]
    rows = None if None in known else sum(known)
    sizes = None
    if rows is None and "-" not in files:
        sizes = sum(os.path.getsize(p) for p in files)
    return Points(columns, chunks(), where, total_rows=rows, total_bytes=sizes,
                  counter=counter, files=files, extras=extras, mixed=mixed, notes=notes)


class CsvPart(NamedTuple):
    """A block of lines of a CSV file, for a worker to read by itself."""

    path: str
    where: str
    start: int             # byte offsets: a line's start ...
    end: int               # ... and the next block's
    names: list            # the file's columns
    order: list            # their places for the points' column order


def csv_parts(points: "Points"):
    """Blocks of about CHUNK_BYTES of lines of every file of ``points``,
    in order, when they are all CSV files (not standard input); else None.
    Each file's header is read again here; nothing else is."""
    parts = []
    if points.mixed:
        return None             # extra columns: read here, computed by the workers
    for path in points.files:
        if path == "-" or format_of(path) not in ("csv", None):
            return None
        with open(path, "rb") as f:
            head = f.peek(8)[:8] if hasattr(f, "peek") else b""
            if _sniff(path, head) not in ("csv", "text"):
                return None
            names, _, fmt, _, _ = _text(f, label(path), [0], owned=False)
            if fmt != "csv":
                return None
            if sorted(names) != sorted(points.columns):
                return None             # the reader says what is wrong
            parts.append((path, f.tell(), names))
    return _csv_blocks(parts, points.columns)


def _csv_blocks(parts, columns):
    for path, offset, names in parts:
        size = os.path.getsize(path)
        order = [names.index(c) for c in columns]
        with open(path, "rb") as f:
            start = offset
            while start < size:
                f.seek(min(start + CHUNK_BYTES, size))
                f.readline(MAX_LINE + 1)
                end = min(f.tell(), size)
                yield CsvPart(path, label(path), start, end, names, order)
                start = end


def read_csv_part(part: CsvPart, first_line: int) -> tuple:
    """The points of a block, its first line numbered ``first_line``, and
    its number of line ends."""
    with open(part.path, "rb") as f:
        f.seek(part.start)
        data = f.read(part.end - part.start)
    lines = data.count(b"\n") + (not data.endswith(b"\n"))
    chunk = _arrow_csv(data, first_line, part.where, part.names, lines) or \
        _python_chunk(data, first_line, part.where, part.names, json=False)
    chunk.columns = [chunk.columns[j] for j in part.order]
    return chunk, data.count(b"\n")


def _sniff(path: str, head: bytes) -> str:
    fmt = format_of(path) if path != "-" else None
    if fmt:
        return fmt
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"ARROW1") or head.startswith(b"\xff\xff\xff\xff"):
        return "arrow"
    return "text"


def _open_one(path: str, stdin, counter, split: Optional[Split] = None, notes: Optional[list] = None):
    """(input columns, chunks, format, extra columns carried as (name,
    kind), whether there are extra columns) of one file."""
    split = split or Split()
    if path == "-":
        f = stdin
        return _text(f, "standard input", counter, owned=False, split=split)
    try:
        f = open(path, "rb")
    except OSError as e:
        raise InputError(f"cannot read {label(path)}: {e.strerror or e}") from None
    head = f.peek(8)[:8] if hasattr(f, "peek") else b""
    fmt = _sniff(path, head)
    if fmt in ("parquet", "arrow"):
        f.close()
        reader = _parquet if fmt == "parquet" else _arrow_ipc
        return reader(path, counter, split=split, notes=notes)
    return _text(f, label(path), counter, owned=True, split=split)


def _open_rows(path: str) -> Optional[int]:
    """The number of points in a Parquet or Arrow file (from its metadata), or None."""
    fmt = format_of(path)
    if fmt not in ("parquet", "arrow") or arrow() is None:
        return None
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        pa = arrow()
        with pa.memory_map(path) as source:
            reader = pa.ipc.open_file(source)
            return sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))
    except Exception:  # the reader itself will say what is wrong
        return None


# -- text: CSV and JSON lines

def _readline(f, lineno: int, where: str) -> bytes:
    line = f.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE and not line.endswith(b"\n"):
        _readline_too_long(lineno, where)
    return line


def _readline_too_long(lineno: int, where: str):
    size = f"{MAX_LINE >> 20} MiB" if MAX_LINE % (1 << 20) == 0 else f"{MAX_LINE} bytes"
    raise InputError(f"line {lineno} of {where} is longer than {size}, the most a row of points can be; "
                     "stopped reading there")


def _decode(data: bytes, first_line: int, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = first_line + data.count(b"\n", 0, e.start)
        raise InputError(f"line {line} of {where} is not valid UTF-8 "
                         f"(byte {data[e.start]:#04x})") from None


def _text(f, where: str, counter, owned: bool, split: Optional[Split] = None):
    split = split or Split()
    lineno = 0
    while True:
        lineno += 1
        line = _readline(f, lineno, where)
        if not line:
            if owned:
                f.close()
            raise InputError(f"{where} has no header row: expected input names, such as `a,b`, "
                             "or JSON lines such as {\"a\": 1}")
        counter[0] += len(line)
        if lineno == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]                  # a byte order mark, as spreadsheets write
        if line.strip():
            break
    text = _decode(line, lineno, where)
    if text.lstrip().startswith("{"):
        if split.names is not None:
            head, first = _json_head(text, lineno, where, split)
            if head is not None:
                return (head.inputs, _text_chunks(f, where, counter, owned, lineno, head.inputs, first, head),
                        "jsonl", head.kept(), True)
        first = json_row(text, lineno, where, None)
        columns = list(first)
        return columns, _text_chunks(f, where, counter, owned, lineno, columns, first), "jsonl", [], False
    columns = [c.strip() for c in text.rstrip("\r\n").split(",")]
    if split.names is not None and not all(map(split.is_input, columns)):
        head = _csv_head(text, lineno, where, split)
        return (head.inputs, _text_chunks(f, where, counter, owned, lineno, head.inputs, None, head),
                "csv", head.kept(), True)
    for name in columns:
        if not _NAME.fullmatch(name):
            raise InputError(f"line {lineno} of {where}: `{printable(name)}` is not an input name; "
                             "the first row names the inputs, such as `a,b`")
    return columns, _text_chunks(f, where, counter, owned, lineno, columns, None), "csv", [], False


def _csv_cells(text: str, lineno: int, where: str) -> list:
    """The cells of a CSV line that may quote them (``"x, y"``, ``""``
    for a quote), as the csv module reads them (strict: a quote left open
    is an error)."""
    import csv

    text = text.rstrip("\r\n")
    if '"' not in text:
        return text.split(",")
    try:
        return next(csv.reader([text], strict=True))
    except (csv.Error, StopIteration) as e:
        raise InputError(f"line {lineno} of {where}: {printable(str(e))} (a quote left open?)") from None


def _csv_head(text: str, lineno: int, where: str, split: Split) -> Head:
    names = [c.strip() for c in _csv_cells(text, lineno, where)]
    seen = set()
    for name in names:
        if not name or _VALUE.fullmatch(name):
            raise InputError(f"line {lineno} of {where}: `{printable(name)}` is not a column name; "
                             "the first row names the columns, such as `a,b`")
        if name in seen:
            raise InputError(f"line {lineno} of {where}: the column `{printable(name)}` appears twice")
        seen.add(name)
    inputs = [n for n in names if split.is_input(n)]
    return Head(names, inputs, [(n, "string") for n in names if not split.is_input(n)], not split.drop)


def _json_int(text: str):
    # Integers as ints while an int64 holds them, else as floats (from
    # their text: hundreds of digits are too large for a float, rejected
    # later, not an error of Python's int conversion).
    return int(text) if len(text) <= 18 else float(text)


_KIND_WORDS = {"string": "a string", "int": "an integer", "float": "a number", "bool": "true or false"}


def _kind_of(value) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return "object"


def _json_object(line: str, lineno: int, where: str, parse_int=None) -> dict:
    """A JSON line that must be an object (an ``InputError`` naming the line
    otherwise); integers read by ``parse_int`` (default ``_json_int``)."""
    try:
        row = json.loads(line, parse_int=parse_int or _json_int)
    except ValueError as e:
        raise InputError(f"line {lineno} of {where} is not JSON: {e.msg}") from None
    if not isinstance(row, dict):
        raise InputError(f"line {lineno} of {where}: expected an object such as {{\"a\": 1}}")
    return row


def _json_head(text: str, lineno: int, where: str, split: Split):
    """The head of JSON lines whose first line has extra keys (their kinds
    from their values there: null counts as a string), and that line's
    chunk; (None, None) when every key is an input."""
    row = _json_object(text, lineno, where)
    names = list(row)
    if all(map(split.is_input, names)):
        return None, None
    inputs = [n for n in names if split.is_input(n)]
    extras = []
    for name in names:
        if not split.is_input(name):
            kind = _kind_of(row[name]) or "string"
            if kind == "object":
                raise InputError(f"line {lineno} of {where}: the value of `{printable(name)}` is "
                                 f"{'a list' if isinstance(row[name], list) else 'an object'}; an extra column "
                                 "carries strings, numbers, true, false or null")
            extras.append((name, kind))
    head = Head(names, inputs, extras, not split.drop)
    values, carried = json_mixed_row(text, lineno, where, head)
    np = _np()
    first = Chunk([np.array([v]) for v in values], 1, where, lineno,
                  extras=[[v] for v in carried] if head.keep else None)
    return head, first


def json_mixed_row(line: str, lineno: int, where: str, head: Head) -> tuple:
    """One JSON line of points with extra keys: (the inputs' values, the
    kept extra values), or an ``InputError`` naming the line."""
    row = _json_object(line, lineno, where)
    for name in head.inputs:
        value = row.get(name)
        if name in row and (isinstance(value, bool) or not isinstance(value, (int, float))
                            or not math.isfinite(value)):
            raise InputError(f"line {lineno} of {where}: the value of `{name}` is not a finite number")
    if set(row) != set(head.names):
        missing = [c for c in head.names if c not in row]
        extra = [c for c in row if c not in head.names]
        what = (f"lacks {', '.join(f'`{printable(c)}`' for c in missing)}" if missing
                else f"has {', '.join(f'`{printable(c)}`' for c in extra)}, which the first line has not")
        raise InputError(f"line {lineno} of {where} {what}; every line gives the same names")
    carried = []
    for name, kind in head.extras:
        value = row[name]
        got = _kind_of(value)
        if got is not None and got != kind and not (kind == "float" and got == "int"):
            raise InputError(f"line {lineno} of {where}: the value of `{printable(name)}` is "
                             f"{_KIND_WORDS.get(got, 'an object or a list')}; the first line gives "
                             f"{_KIND_WORDS[kind]}", notes=["an extra column holds one kind of value, or null"])
        if head.keep:
            carried.append(float(value) if kind == "float" and got == "int" else value)
    return [float(row[n]) for n in head.inputs], carried


def _text_chunks(f, where, counter, owned, lineno, columns, first_json, head: Optional[Head] = None):
    np = _np()
    try:
        if head is not None and first_json is not None:
            yield first_json                       # the first line's chunk, made by _json_head
        elif first_json is not None:
            yield Chunk([np.array([float(first_json[c])]) for c in columns], 1, where, lineno)
        while True:
            data = f.read(CHUNK_BYTES)
            if not data:
                return
            if not data.endswith(b"\n"):
                rest = f.readline(MAX_LINE + 1)
                if len(rest) > MAX_LINE and not rest.endswith(b"\n"):
                    _readline_too_long(lineno + data.count(b"\n") + 1, where)
                data += rest
            counter[0] += len(data)
            start = lineno + 1
            lines = data.count(b"\n") + (not data.endswith(b"\n"))
            lineno += lines
            if head is not None:
                chunk = _mixed_chunk(data, start, where, head, lines, first_json is not None)
            elif first_json is not None:
                chunk = _arrow_json(data, start, where, columns, lines) or \
                    _python_chunk(data, start, where, columns, json=True)
            else:
                chunk = _arrow_csv(data, start, where, columns, lines) or \
                    _python_chunk(data, start, where, columns, json=False)
            if chunk.rows:
                yield chunk
    finally:
        if owned:
            f.close()


def _arrow_csv(data: bytes, start: int, where: str, columns: List[str], lines: int) -> Optional[Chunk]:
    """A block of CSV rows through Arrow, or None where Arrow refuses it
    (the Python reader then reads it and names what is wrong)."""
    pa = arrow()
    if pa is None:
        return None
    from pyarrow import csv as pacsv

    np = _np()
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=columns, use_threads=_threads(data)),
            parse_options=pacsv.ParseOptions(quote_char=False, escape_char=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.float64() for c in columns},
                                                 null_values=[], strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False))
    except (pa.ArrowException, ValueError):
        return None
    cols = _finite_columns(np, table.columns)
    if cols is None:
        return None
    rows = table.num_rows
    # Rows in order of lines; blank lines (skipped) make the map lazy.
    return Chunk(cols, rows, where, start, data=None if rows == lines else data)


def _threads(data: bytes) -> bool:
    """Arrow's threads for a block of text only when it is large: a few
    lines read by Arrow's thread pool just before the process ends made
    the C++ runtime abort at exit about once in 50 runs ("terminate called
    without an active exception", status -6, after the results were out)
    while its threads were still starting."""
    return len(data) >= THREADED_BYTES


def _finite_columns(np, columns) -> Optional[list]:
    """Arrow's columns as NumPy arrays, or None if a value is missing or
    not finite (the Python reader then says where). Finite: one sum (its
    overflow is no error), and the full test only when the sum is not."""
    arrays = []
    for column in columns:
        if column.null_count:
            return None
        array = column.to_numpy()
        with np.errstate(over="ignore", invalid="ignore"):
            if not (math.isfinite(float(np.sum(array))) or np.isfinite(array).all()):
                return None
        arrays.append(array)
    return arrays


def _arrow_json(data: bytes, start: int, where: str, columns: List[str], lines: int) -> Optional[Chunk]:
    """A block of JSON lines through Arrow, or None where Arrow refuses it
    or where it might read it otherwise than Python's ``json`` (the Python
    reader then reads it and names what is wrong). Arrow is stricter than
    ``json.loads`` (no ``NaN`` literal, a key given twice refused), except
    that it skips blank lines, takes two objects on one line and reads the
    BOM mid-file: so the block must be ASCII, with one ``{`` on each line
    and a row for each line (values are numbers, so every ``{`` opens a
    row)."""
    pa = arrow()
    if pa is None or not data.isascii():
        return None
    from pyarrow import json as pajson

    np = _np()
    text = np.frombuffer(data, np.uint8)
    opens = np.flatnonzero(text == 123)
    if len(opens) != lines or not np.array_equal(
            np.searchsorted(np.flatnonzero(text == 10), opens), np.arange(lines)):
        return None
    try:
        table = pajson.read_json(
            pa.py_buffer(data),
            read_options=pajson.ReadOptions(use_threads=_threads(data), block_size=1 << 20),
            parse_options=pajson.ParseOptions(
                explicit_schema=pa.schema([(c, pa.float64()) for c in columns]),
                unexpected_field_behavior="error", newlines_in_values=False))
    except (pa.ArrowException, ValueError):
        return None
    if table.num_rows != lines:
        return None
    cols = _finite_columns(np, [table.column(name) for name in columns])
    return None if cols is None else Chunk(cols, lines, where, start)


_ARROW_KINDS = ("string", "int", "float", "bool")


def _arrow_kind(pa, kind):
    """The Arrow type of an extra column's kind (an Arrow type stays)."""
    if not isinstance(kind, str):
        return kind
    return {"string": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}[kind]


def _mixed_chunk(data: bytes, start: int, where: str, head: Head, lines: int, json: bool) -> Chunk:
    """A block of text with extra columns: through Arrow where it reads it
    as the Python reader would, else the Python reader (which names what is
    wrong). Not the fast path of plain points: only files with extras."""
    return _arrow_mixed(data, start, where, head, lines, json) or _python_mixed(data, start, where, head, json)


def _arrow_mixed(data: bytes, start: int, where: str, head: Head, lines: int, json: bool) -> Optional[Chunk]:
    pa = arrow()
    if pa is None or (json and not data.isascii()):
        return None
    np = _np()
    kept = [n for n, _ in head.kept()]
    try:
        if json:
            from pyarrow import json as pajson

            text = np.frombuffer(data, np.uint8)
            if len(np.flatnonzero(text == 123)) != lines or b"[" in data:
                return None             # (a string holding "{": the Python reader)
            schema = pa.schema([(n, pa.float64()) for n in head.inputs] +
                               [(n, _arrow_kind(pa, k)) for n, k in head.extras])
            table = pajson.read_json(
                pa.py_buffer(data), read_options=pajson.ReadOptions(use_threads=_threads(data), block_size=1 << 20),
                parse_options=pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error",
                                                  newlines_in_values=False))
            if table.num_rows != lines:
                return None
        else:
            from pyarrow import csv as pacsv

            types = {n: pa.float64() for n in head.inputs}
            types.update({n: pa.string() for n, _ in head.extras})
            table = pacsv.read_csv(
                pa.py_buffer(data),
                read_options=pacsv.ReadOptions(column_names=head.names, use_threads=_threads(data)),
                parse_options=pacsv.ParseOptions(quote_char='"', double_quote=True, escape_char=False,
                                                 ignore_empty_lines=True, newlines_in_values=False),
                convert_options=pacsv.ConvertOptions(column_types=types, include_columns=head.inputs + kept,
                                                     null_values=[], strings_can_be_null=False,
                                                     quoted_strings_can_be_null=False))
    except (pa.ArrowException, ValueError):
        return None
    cols = _finite_columns(np, [table.column(n) for n in head.inputs])
    if cols is None:
        return None
    extras = [table.column(n).combine_chunks() for n in kept] if head.keep else None
    if table.num_rows != lines:
        return None                 # blank lines: the Python reader numbers the rows' lines
    return Chunk(cols, lines, where, start, extras=extras)


def _python_mixed(data: bytes, start: int, where: str, head: Head, json: bool) -> Chunk:
    np = _np()
    text = _decode(data, start, where)
    width = len(head.names)
    places = [head.names.index(n) for n in head.inputs]
    keep = [head.names.index(n) for n, _ in head.kept()]
    lines, values, carried = [], [], [[] for _ in keep]
    lineno = start - 1
    for line in text.splitlines(True):
        lineno += 1
        if not line.strip():
            continue
        if json:
            row, extra = json_mixed_row(line, lineno, where, head)
            for column, value in zip(carried, extra):
                column.append(value)
        else:
            cells = _csv_cells(line, lineno, where)
            if len(cells) != width:
                raise InputError(f"line {lineno} of {where} has {len(cells)} values; the header names {width}")
            row = []
            for j in places:
                row.append(read_number(cells[j].strip(), f"line {lineno} of {where}: "))
            for column, j in zip(carried, keep):
                column.append(cells[j])
        lines.append(lineno)
        values.append(row)
    table = np.array(values, dtype=float).reshape(len(values), len(head.inputs))
    return Chunk([table[:, j].copy() for j in range(len(head.inputs))], len(values), where, start, lines=lines,
                 extras=carried if head.keep else None)


def _python_csv_rows(data: bytes, start: int, where: str, width: Optional[int]):
    text = _decode(data, start, where)
    return csv_rows(text.splitlines(True), start - 1, where, width if width is not None else
                    text.split("\n", 1)[0].count(",") + 1)


def _python_chunk(data: bytes, start: int, where: str, columns: List[str], json: bool) -> Chunk:
    np = _np()
    text = _decode(data, start, where)
    lines, values = [], []
    if json:
        lineno = start - 1
        for line in text.splitlines(True):
            lineno += 1
            if line.strip():
                row = json_row(line, lineno, where, columns)
                lines.append(lineno)
                values.append([row[c] for c in columns])
    else:
        for lineno, row in csv_rows(text.splitlines(True), start - 1, where, len(columns)):
            lines.append(lineno)
            values.append(row)
    table = np.array(values, dtype=float).reshape(len(values), len(columns))
    return Chunk([table[:, j].copy() for j in range(len(columns))], len(values), where, start, lines=lines)


# -- Parquet and Arrow IPC

def _check_schema(schema, where: str) -> List[str]:
    return _split_schema(schema, where, Split())[0]


def _split_schema(schema, where: str, split: Split) -> tuple:
    """(input names, extra columns carried as (name, Arrow type), whether
    there are extra columns) of a Parquet or Arrow schema."""
    pa = arrow()
    names = [n for n in schema.names if split.is_input(n)]
    extras = [(field.name, field.type) for field in schema if not split.is_input(field.name)]
    if len(set(schema.names)) != len(schema.names):
        twice = next(n for n in schema.names if schema.names.count(n) > 1)
        raise InputError(f"the column `{printable(twice)}` of {where} appears twice")
    for field in schema:
        if not split.is_input(field.name):
            continue
        if not _NAME.fullmatch(field.name):
            raise InputError(f"the column `{printable(field.name)}` of {where} is not an input name")
        t = field.type
        if not (pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t)):
            raise InputError(f"the column `{field.name}` of {where} holds {t}, not numbers")
    return names, ([] if split.drop else extras), bool(extras)


def _columns_of(batch, names, where, first_row: int, extras=(), notes=None) -> Chunk:
    pa = arrow()
    np = _np()
    cols = []
    for name in names:
        column = batch.column(name)
        if column.null_count:
            r = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
            raise InputError(f"row {first_row + r} of {where}: the value of `{name}` is missing")
        if column.type != pa.float64():       # (a cast loads pyarrow.compute: only when needed)
            try:
                column = column.cast(pa.float64())
            except pa.ArrowInvalid:
                column = _inexact_integers(column, name, where, first_row, notes)
        array = column.to_numpy(zero_copy_only=False)
        if not np.isfinite(array).all():
            r = int(np.flatnonzero(~np.isfinite(array))[0])
            raise InputError(f"row {first_row + r} of {where}: the value of `{name}` is not a finite number")
        cols.append(array)
    carried = [batch.column(n) for n, _ in extras] if extras else None
    return Chunk(cols, batch.num_rows, where, first_row, unit="row", extras=carried)


def _inexact_integers(column, name: str, where: str, first_row: int, notes):
    """An integer column with values past 2**53, which a float cannot hold
    exactly (Arrow's safe cast refuses them): gradcli computes with floats,
    so each is rounded to the nearest float, and the run says so once per
    column of each file (the first such row, its value and what it became)
    on standard error. Refusing instead would turn away every dataset with
    a large integer column that is meant as a number."""
    pa = arrow()
    np = _np()
    if not pa.types.is_integer(column.type):
        raise InputError(f"the column `{name}` of {where} holds {column.type}, which gradcli cannot read "
                         "as numbers")
    ints = column.to_numpy(zero_copy_only=False)
    floats = ints.astype(np.float64)
    limit = np.array(1 << 53, ints.dtype)
    past = np.flatnonzero(ints > limit) if ints.dtype.kind == "u" else \
        np.flatnonzero((ints > limit) | (ints < -limit))
    if notes is not None:
        said = {n[0] for n in notes}
        for r in past.tolist():
            exact = int(ints[r])
            if int(floats[r]) != exact and (where, name) not in said:
                from .render import full

                notes.append(((where, name),
                              f"row {first_row + r} of {where}: `{name}` is {exact}, past 2**53, where floats "
                              f"skip integers; it and any other such value of `{name}` are rounded to the "
                              f"nearest float ({full(float(floats[r]))})"))
                break
    return pa.array(floats)


def _parquet(path: str, counter, fs=None, split: Optional[Split] = None, notes: Optional[list] = None):
    split = split or Split()
    need_arrow("Parquet")
    import pyarrow.parquet as pq

    where = label(path)
    try:
        # No pre-buffering: with it, Arrow keeps every row group it has read
        # until the file is closed (541 MB at 1e7 points instead of 150).
        pf = pq.ParquetFile(path if fs is None else fs.open(path, "rb"), pre_buffer=False,
                            buffer_size=1 << 20)
    except Exception as e:
        raise InputError(f"cannot read {where} as Parquet: {_arrow_why(e)}") from None
    names, extras, mixed = _split_schema(pf.schema_arrow, where, split)

    def chunks():
        row = 1
        try:
            wanted = names + [n for n, _ in extras]
            for batch in pf.iter_batches(batch_size=_rows_for(wanted), columns=wanted, use_threads=True):
                chunk = _columns_of(batch, names, where, row, extras, notes)
                row += batch.num_rows
                yield chunk
        except OSError as e:
            raise InputError(f"cannot read {where} as Parquet: {_arrow_why(e)}") from None
        finally:
            pf.close()

    return names, chunks(), "parquet", extras, mixed


def _arrow_ipc(path: str, counter, split: Optional[Split] = None, notes: Optional[list] = None):
    split = split or Split()
    pa = need_arrow("Arrow IPC")
    where = label(path)
    try:
        source = pa.OSFile(path)    # read, not mapped: mapped pages would count as memory
        try:
            reader = pa.ipc.open_file(source)
            batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
        except pa.ArrowInvalid:
            source.seek(0)
            reader = pa.ipc.open_stream(source)
            batches = iter(reader)
        schema = reader.schema
    except Exception as e:
        raise InputError(f"cannot read {where} as Arrow IPC: {_arrow_why(e)}") from None
    names, extras, mixed = _split_schema(schema, where, split)

    def chunks():
        row = 1
        try:
            step = _rows_for(names + extras)
            for batch in batches:
                for start in range(0, batch.num_rows, step):
                    part = batch.slice(start, step)
                    yield _columns_of(part, names, where, row, extras, notes)
                    row += part.num_rows
        finally:
            source.close()

    return names, chunks(), "arrow", extras, mixed


def _rows_for(names) -> int:
    """Rows per chunk: fewer for wide tables, so that a chunk (and the
    results computed from it) stays a few megabytes."""
    return max(1024, min(CHUNK_ROWS, CHUNK_CELLS // max(1, len(names))))


def _arrow_why(e: Exception) -> str:
    return printable(str(e).splitlines()[0] if str(e) else type(e).__name__)


# ------------------------------------------------------------- number text

_PROBE = (0.0, 1.0, -2.5, 123.0, 0.1, 1 / 3, 0.7071067811865476, -1.4999999999999996, 1e-4,
          9999999999999998.0, 1234567890123456.0, 123456.789, 0.00012345678901234567)
_PROBE_OUTSIDE = (1.5e-05, 1e-05, -9.999999999999999e-05, 1.5e-06, 1e-07, 2.5e-10, 1e-300, 5e-324,
                  1e16, -1.5e16, 1.2345678901234568e+16, 1e300, 1.7976931348623157e308)


@lru_cache(maxsize=None)
def _orjson():
    """orjson's dumps when it writes floats as ``repr`` does in [1e-4, 1e16)."""
    try:
        import orjson
    except ImportError:
        return None
    np = _np()
    try:
        text = orjson.dumps(np.array(_PROBE), option=orjson.OPT_SERIALIZE_NUMPY).decode()
    except Exception:  # pragma: no cover - an orjson without NumPy support
        return None
    outside = np.array(_PROBE_OUTSIDE)
    again = _layout(np, np.frombuffer(orjson.dumps(outside, option=orjson.OPT_SERIALIZE_NUMPY), np.uint8),
                    outside, 1).tobytes().decode()
    if text[1:-1].split(",") != [repr(x) for x in _PROBE] or \
            again.splitlines() != [repr(x) for x in _PROBE_OUTSIDE]:
        return None    # pragma: no cover - an orjson that writes floats otherwise
    return lambda a: orjson.dumps(a, option=orjson.OPT_SERIALIZE_NUMPY)


# Control bytes that never occur in a float's text, nor are a newline.
MARKS = bytes(b for b in range(1, 32) if b != 10)


def float_lines(columns: Sequence[object], bad=None, pieces: bool = False, marks: bool = False):
    """Rows of floats as text, ``repr`` for each, a comma between the
    fields of a row and a newline after each row; a row whose index is in
    ``bad`` (a boolean array) has empty fields. No negative zeros. Bytes;
    with ``pieces``, possibly a NumPy buffer (no copy to make bytes).
    ``marks`` (not without C or orjson, where repr writes one number at a
    time): the j-th comma of each row is ``MARKS[j - 1]`` instead, for JSON
    lines to replace with its keys."""
    np = _np()
    k = len(columns)
    n = len(columns[0]) if k else 0
    if n == 0:
        return b""
    m = np.empty((n, k))
    for j, column in enumerate(columns):
        np.add(column, 0.0, out=m[:, j])
    native = _c_format()
    if native is not None:
        if bad is not None and bad.any():
            m[bad] = np.nan                             # an empty field
        out = np.empty(m.size * 25 + 16, np.uint8)      # at most 24 characters and a separator a number
        size = native(m.ctypes.data, n, k, MARKS if marks else None, out.ctypes.data)
        return out[:size] if pieces else out[:size].tobytes()
    dumps = _orjson()
    if dumps is None:
        rows = zip(*[map(repr, m[:, j].tolist()) for j in range(k)])
        lines = [",".join(row) for row in rows]
        if bad is not None:
            for r in np.flatnonzero(bad).tolist():
                lines[r] = "," * (k - 1)
        return ("\n".join(lines) + "\n").encode()
    if bad is not None and bad.any():
        m[bad] = np.nan                                 # orjson writes null
    out = _layout(np, np.frombuffer(dumps(m.ravel()), np.uint8), m.ravel(), k, marks)
    return out if pieces else out.tobytes()


@lru_cache(maxsize=None)
def _c_format():
    """``gradcli_format`` (``_layout.c``, built at install where there is a
    C compiler): rows of float64 straight to repr's text with the shortest
    digits (Schubfach), loaded with ctypes, which lets go of the GIL during each call;
    or None: then orjson's digits and ``_layout``, or repr."""
    import ctypes
    import importlib.util

    try:
        spec = importlib.util.find_spec("gradcli._layout")
        function = ctypes.CDLL(spec.origin).gradcli_format if spec is not None and spec.origin else None
    except (ImportError, OSError, ValueError, AttributeError):  # pragma: no cover - a broken build
        return None
    if function is not None:
        function.restype = ctypes.c_long
        function.argtypes = [ctypes.c_void_p, ctypes.c_long, ctypes.c_long, ctypes.c_char_p, ctypes.c_void_p]
    return function


def _layout(np, text, flat, k: int, marks: bool = False):
    """orjson's ``[x,y,...]`` as CSV rows of ``k`` fields in Python's
    layout: every k-th comma a newline, and each number outside [1e-4, 1e16)
    edited in place, all at once with index arrays (no Python per number):
    ``0.000015`` -> ``1.5e-05``, ``0.00001`` -> ``1e-05``, ``1.5e-7`` ->
    ``1.5e-07``, ``1e16`` -> ``1e+16``, ``null`` (an error row) -> empty."""
    out = text[1:].copy()                               # without "[", with "]" last
    ends = np.flatnonzero(out == 44)                    # each number ends at a comma...
    ends = np.append(ends, len(out) - 1)                # ... or at the final "]"
    out[ends[k - 1::k]] = 10                            # every k-th: a newline
    if marks:
        for j in range(1, k):
            out[ends[j - 1::k]] = MARKS[j - 1]
    a = np.abs(flat)
    odd = np.flatnonzero(~((a >= 1e-4) & (a < 1e16)) & (flat != 0.0))   # nan too
    if not len(odd):
        return out
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    v = flat[odd]
    if len(odd) <= len(flat) * SPLICE or np.isinf(v).any():
        # A few: each one's text from repr, spliced in (a Python step per
        # number, cheaper than whole-buffer edits when they are rare).
        view, parts, done = memoryview(out), [], 0
        for s, t, x in zip(starts[odd].tolist(), ends[odd].tolist(), v.tolist()):
            parts.append(view[done:s])
            if x == x:
                parts.append(repr(x).encode())
            done = t
        parts.append(view[done:])
        return np.frombuffer(b"".join(parts), np.uint8)
    return _edit(np, out, v, starts[odd], ends[odd])


def _edit(np, out, v, s, t):
    """Many numbers' text edited at once, in one pass over the bytes: each
    input byte is repeated 0, 1 or more times (``np.repeat`` with counts),
    then the few bytes that differ are written at their places. ``s`` and
    ``t`` are where each number starts and its separator is; a number's
    place in the output is its place in the input plus the growth of the
    numbers before it (a cumulative sum over the edited numbers only).

    - ``null`` (an error row) -> empty: its 4 bytes counted 0 times;
    - ``[-]0.0000ddd`` -> ``[-]d.dde-05``: ``0.0000`` counted 0 times, the
      first digit twice (the second copy becomes ``.``, unless it is the
      only digit), the separator 5 times (the first 4 become ``e-05``);
    - ``1.5e-7`` -> ``1.5e-07``: the ``-`` twice, the second becomes ``0``;
    - ``1e16`` -> ``1e+16`` (older orjson): the ``e`` twice, the second ``+``.

    Measured on the 193-node MLP's 72 columns at 2e5 points (22% of the
    numbers edited; 288 MB of text): the layout took 1.8 s under cProfile,
    against 2.1 s with ``np.delete`` and ``np.insert`` (which sort their
    places); ``np.repeat`` is 0.85 s of it, at about 3 ns a byte."""
    counts = np.ones(len(out), np.intp)
    grow = np.zeros(len(v), np.intp)
    av = np.abs(v)
    patches: list = []                          # (places in the input's terms, the number, bytes)

    nan = np.flatnonzero(np.isnan(v))
    if len(nan):
        counts[(s[nan][:, None] + np.arange(4)).ravel()] = 0
        grow[nan] = -4
    fixed = np.flatnonzero((av >= 1e-5) & (av < 1e-4))
    if len(fixed):
        p = s[fixed] + (v[fixed] < 0)           # the "0" of "0.0000"
        counts[(p[:, None] + np.arange(6)).ravel()] = 0
        more = out[np.minimum(p + 7, len(out) - 1)]
        dot = (p + 7 < t[fixed]) & (more >= 48) & (more <= 57)
        counts[p[dot] + 6] = 2
        counts[t[fixed]] = 5
        grow[fixed] = dot - 2
        patches.append((p[dot] - 6 + 7, fixed[dot], 46))                 # "." after the first digit
        end = t[fixed] - 6 + dot                                          # where "e-05" goes
        for j, byte in enumerate(b"e-05"):
            patches.append((end + j, fixed, byte))
    tiny = np.flatnonzero(av < 1e-5)
    if len(tiny):
        te = t[tiny]
        one = (out[te - 3] == 101) & (out[te - 2] == 45)
        counts[te[one] - 2] = 2
        grow[tiny[one]] = 1
        patches.append((te[one] - 1, tiny[one], 48))
    large = np.flatnonzero(av >= 1e16)
    if len(large):
        te = t[large]
        e = np.where(out[te - 3] == 101, te - 3, np.where(out[te - 4] == 101, te - 4, te - 5))
        plus = out[e + 1] != 43                 # newer orjson writes the "+" itself
        counts[e[plus]] = 2
        grow[large[plus]] = 1
        patches.append((e[plus] + 1, large[plus], 43))
    shift = np.cumsum(grow) - grow              # the growth of the numbers before each
    result = np.repeat(out, counts)
    for place, which, byte in patches:
        result[place + shift[which]] = byte
    return result


# ------------------------------------------------- the pure-Python judges

_NUMBER = _VALUE.pattern
_CSV_ROW = re.compile(rf"[ \t]*{_NUMBER}[ \t]*(?:,[ \t]*{_NUMBER}[ \t]*)*")


def csv_rows(stream, lineno, where, width):
    """(line number, values) for each row of CSV lines, blank lines skipped;
    the first row that is not ``width`` numbers of the language raises an
    ``InputError`` naming its line and cell."""
    match = _CSV_ROW.fullmatch
    for line in stream:
        lineno += 1
        text = line.rstrip("\r\n")
        if match(text):
            cells = text.split(",")
            if len(cells) == width:
                values = [float(c) for c in cells]
                if math.isfinite(sum(values)) or all(map(math.isfinite, values)):
                    yield lineno, values
                    continue
        elif not text.strip():
            continue
        raise _bad_csv(text, lineno, where, width)


def _bad_csv(text, lineno, where, width) -> InputError:
    cells = text.split(",")
    for cell in cells:
        if not _VALUE.fullmatch(cell.strip()):
            return InputError(f"line {lineno} of {where}: `{printable(cell.strip())}` is not a number "
                              "(write numbers such as 2, -3, 0.5 or 1e-3)")
        if not math.isfinite(float(cell)):
            return InputError(f"line {lineno} of {where}: `{printable(cell.strip())}` is too large for a float")
    return InputError(f"line {lineno} of {where} has {len(cells)} values; the header names {width}")


def json_row(line, lineno, where, columns) -> dict:
    """One JSON line as ``{name: number}``, every value a finite number and,
    with ``columns``, exactly those names; else an ``InputError`` naming the
    line."""
    # Integers as floats, from their text: a number of hundreds of digits is
    # too large for a float (rejected below), not an error of Python's int
    # conversion.
    row = _json_object(line, lineno, where, float)
    for name, value in row.items():
        if not _NAME.fullmatch(name):
            raise InputError(f"line {lineno} of {where}: `{printable(name)}` is not an input name")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InputError(f"line {lineno} of {where}: the value of `{name}` is not a finite number")
    if columns is not None and set(row) != set(columns):
        missing = [c for c in columns if c not in row]
        extra = [c for c in row if c not in columns]
        what = (f"lacks {', '.join(f'`{c}`' for c in missing)}" if missing
                else f"has {', '.join(f'`{c}`' for c in extra)}, which the first line has not")
        raise InputError(f"line {lineno} of {where} {what}; every line gives the same names")
    return row


def row_error(e: DomainError, row: int, place: str, names: Sequence[str],
              values: Sequence[float]) -> DomainError:
    """A point's math error, saying which point: its number and ``place``
    (``line 7 of `p.csv```, ``row 3 of `p.parquet```)."""
    from .render import full

    point = ", ".join(f"{n}={full(float(v))}" for n, v in zip(names, values))
    return DomainError(f"at point {row} ({place}): {e.message}", e.pos,
                       [f"the point is {point}", *e.notes], op=e.op, operands=e.operands)


# ------------------------------------------------------------------- writing

class Sink:
    """A writer of results: ``write(columns, bad, messages)`` for each block
    (``bad`` a boolean array of error rows or None, ``messages`` the error
    message of each bad row for JSON lines), then ``close()``. ``extras``:
    the extra columns carried, as (name, kind), written first in each row
    (``carry`` adds their values to an encoded block)."""

    def __init__(self, fmt: str, names: List[str], grads: bool, f: IO[bytes], extras: Sequence[tuple] = ()):
        self.fmt, self.names, self.grads, self.f = fmt, names, grads, f
        self.extras = list(extras)
        self._writer = None
        if fmt == "csv":
            f.write((",".join([*(_csv_cell(n) for n, _ in self.extras), *names]) + "\n").encode())
        elif fmt in ("parquet", "arrow"):
            pa = need_arrow("Parquet" if fmt == "parquet" else "Arrow IPC")
            self._schema = pa.schema([(n, _arrow_kind(pa, k)) for n, k in self.extras] +
                                     [(n, pa.float64()) for n in names])
            if f is None:
                pass                # (only the schema and carry are wanted)
            elif fmt == "parquet":
                self._writer = parquet_writer(f, self._schema)
            else:
                self._writer = pa.ipc.new_file(f, self._schema)

    def encode(self, columns, bad, messages) -> object:
        """What ``write_encoded`` writes for a block: bytes for text, a
        record batch for Parquet and Arrow (so workers can do this part)."""
        return encode(self.fmt, self.names, self.grads, columns, bad, messages)

    def write(self, columns, bad=None, messages=()) -> None:
        self.write_encoded(self.encode(columns, bad, messages))

    def write_encoded(self, payload) -> None:
        if self._writer is not None:
            self._writer.write_batch(payload)
        elif isinstance(payload, list):
            for piece in payload:
                self.f.write(piece)
        else:
            self.f.write(payload)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()

    def abandon(self) -> None:
        """The run failed or was interrupted: the file goes (atomic_open
        removes it), so nothing more is written to it, its footer
        included. (Left to itself, pyarrow's ParquetWriter would close
        itself when collected, into a file already closed: a traceback on
        standard error after Ctrl-C.)"""
        if self._writer is not None and hasattr(self._writer, "is_open"):
            self._writer.is_open = False
        self._writer = None

    def carry(self, payload, extras):
        """An encoded block with the values of the extra columns before its
        results: each text row prefixed with its cells, or the record
        batch's columns after theirs. A Python step per row, only for
        points that have extra columns."""
        if not self.extras or extras is None:
            return payload
        if self.fmt in ("parquet", "arrow"):
            pa = arrow()
            arrays = []
            for (name, kind), column in zip(self.extras, extras):
                want = _arrow_kind(pa, kind)
                if isinstance(column, list):
                    column = pa.array(column, want)
                elif hasattr(column, "combine_chunks"):
                    column = column.combine_chunks()
                arrays.append(column if column.type == want else column.cast(want))
            return pa.record_batch(arrays + list(payload.columns), schema=self._schema)
        text = b"".join(payload) if isinstance(payload, list) else bytes(payload)
        rows = text.decode("ascii").split("\n")       # numbers, and JSON's escaped messages: ASCII
        rows.pop()
        values = [column.to_pylist() if hasattr(column, "to_pylist") else column for column in extras]
        if self.fmt == "csv":
            cells = [_csv_column(column) for column in values]
            heads = cells[0] if len(cells) == 1 else list(map(",".join, zip(*cells)))
            lines = [f"{h},{r}" for h, r in zip(heads, rows)]
        else:
            keys = [json.dumps(name, ensure_ascii=False) + ": " for name, _ in self.extras]
            cells = [[k + v for v in _json_column(column)] for k, column in zip(keys, values)]
            heads = cells[0] if len(cells) == 1 else list(map(", ".join, zip(*cells)))
            lines = [f"{{{h}, {r[1:]}" for h, r in zip(heads, rows)]
        lines.append("")
        return "\n".join(lines).encode()


_QUOTED = re.compile('[,"\r\n]')


def _csv_column(values: list) -> list:
    """A column of extra values as CSV cells: text with nothing to quote,
    and integers, at C speed; anything else value by value (_csv_cell)."""
    kinds = set(map(type, values))
    if kinds == {str} and not _QUOTED.search("\0".join(values)):
        return values
    if kinds == {int}:
        return list(map(str, values))
    return [_csv_cell(v) for v in values]


def _json_column(values: list) -> list:
    kinds = set(map(type, values))
    if kinds <= {str, int}:
        dumps = json.JSONEncoder(ensure_ascii=False).encode
        return list(map(dumps, values)) if str in kinds else list(map(str, values))
    return [_json_value(v) for v in values]


def _csv_cell(value) -> str:
    """An extra value as a CSV cell: text as it was (quoted where it holds
    a comma, a quote or a line end), numbers as repr writes them, true and
    false, and nothing for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    text = value if isinstance(value, str) else str(value)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _json_value(value) -> str:
    if value is None or isinstance(value, (bool, int)) or (isinstance(value, float) and math.isfinite(value)):
        return json.dumps(value)
    if isinstance(value, float):
        return "null"            # JSON has no NaN or infinity
    return json.dumps(value if isinstance(value, str) else str(value), ensure_ascii=False)


def encode(fmt: str, names: List[str], grads: bool, columns, bad, messages, pieces: bool = False):
    """A block of results for ``fmt``: text (bytes, or with ``pieces`` the
    buffers to write in turn) or a record batch."""
    np = _np()
    if fmt == "csv":
        return float_lines(columns, bad, pieces=pieces)
    if fmt == "jsonl":
        if _c_format() is not None or _orjson() is not None:
            return _json_lines(names, grads, columns, bad, messages)
        words = [float_lines([c])[:-1].split(b"\n") for c in columns]
        if grads:
            inner = ", ".join(f"{json.dumps(n[5:])}: %s" for n in names[1:])
            template = ('{"value": %s, "grad": {' + inner + "}}").encode()
        else:
            template = b'{"value": %s}'
        lines = [template % row for row in zip(*words)]
        if bad is not None:
            for r, message in zip(np.flatnonzero(bad).tolist(), messages):
                lines[r] = json.dumps({"value": None, "error": message}).encode()
        return b"\n".join(lines) + b"\n"
    pa = arrow()
    mask = bad if bad is not None and bad.any() else None
    arrays = [pa.array(np.asarray(c) + 0.0, mask=mask) for c in columns]
    return pa.record_batch(arrays, names=names)


def _json_lines(names: List[str], grads: bool, columns, bad, messages) -> bytes:
    """JSON lines from the CSV text of the block (``float_lines``: repr's
    digits and layout), each separator replaced by what goes between the numbers
    (``, "grad": {"x": ``, ``, "y": ``, ``}}\n{"value": ``); rows that
    failed are written whole afterwards (error messages).

    Up to 31 columns each row's j-th separator is marked with a byte of its
    own and each mark replaced by a pass of ``bytes.replace``; with more,
    there are not enough marks, and every separator is widened at once
    (``np.repeat`` with counts) and its text written in (``_widen``).
    Measured at 1e6 points x 6 columns: 0.25 s more than CSV; 72 columns at
    2e5 points: 1.1 s more, where a row template in Python took 3 s."""
    head = b'{"value": '
    tail = b"}"
    keys = [json.dumps(n[5:]).encode() for n in names[1:]] if grads else []
    if keys:
        tail = b"}}"
    elif grads:
        tail = b', "grad": {}}'
    seps = [b', "grad": {' + keys[0] + b": "] + [b", " + key + b": " for key in keys[1:]] if keys else []
    if len(seps) > len(MARKS):
        text = _widen(float_lines(columns, bad), seps + [tail + b"\n" + head])
        if not text:
            return b""
        text = head + text[:-len(head)]
    else:
        text = float_lines(columns, bad, marks=True)
        if not text:
            return b""
        for mark, sep in zip(MARKS, seps):
            text = text.replace(bytes([mark]), sep)
        text = head + text[:-1].replace(b"\n", tail + b"\n" + head) + tail + b"\n"
    if bad is not None and bad.any():
        np = _np()
        lines = text.split(b"\n")
        for r, message in zip(np.flatnonzero(bad).tolist(), messages):
            lines[r] = json.dumps({"value": None, "error": message}).encode()
        text = b"\n".join(lines)
    return text


def _widen(text, seps: List[bytes]) -> bytes:
    """CSV text of rows of ``len(seps)`` fields with the separator after
    each row's j-th field (its comma, or the newline at its end) replaced
    by ``seps[j]``: each separator byte repeated to its new width, then the
    new bytes written in, a column of separators at a time."""
    np = _np()
    out = np.frombuffer(text, np.uint8) if isinstance(text, (bytes, bytearray)) else text
    if not len(out):
        return b""
    k = len(seps)
    at = np.flatnonzero((out == 44) | (out == 10))
    width = np.array([len(sep) for sep in seps], np.intp)
    counts = np.ones(len(out), np.intp)
    grow = np.tile(width, len(at) // k)
    counts[at] = grow
    result = np.repeat(out, counts)
    place = at + np.cumsum(grow - 1) - (grow - 1)      # each separator's place in the result
    for j, sep in enumerate(seps):
        where = place[j::k]
        result[(where[:, None] + np.arange(len(sep))).ravel()] = np.tile(np.frombuffer(sep, np.uint8), len(where))
    return result.tobytes()


def parquet_writer(where, schema):
    """A Parquet writer for results: no dictionary encoding (computed floats
    are all different: trying a dictionary cost 4x the time of the whole
    write and made the file 20% larger), Snappy compression."""
    import pyarrow.parquet as pq

    return pq.ParquetWriter(where, schema, use_dictionary=False, compression="snappy")


def open_sink(path: Optional[str], as_json: bool, names: List[str], grads: bool, f: IO[bytes]) -> Sink:
    return Sink(sink_format(path, as_json), names, grads, f)


def sink_format(path: Optional[str], as_json: bool) -> str:
    if path is None or path == "-":
        return "jsonl" if as_json else "csv"
    fmt = format_of(path)
    if fmt is None:
        raise InputError(f"cannot tell the format of -o {label(path)} from its extension: use {_KNOWN}")
    if fmt in ("parquet", "arrow"):
        need_arrow("Parquet" if fmt == "parquet" else "Arrow IPC")
    return fmt


__all__ = ("Chunk", "Points", "Sink", "open_points", "open_sink", "float_lines", "expand", "format_of",
           "csv_rows", "json_row", "row_error")
