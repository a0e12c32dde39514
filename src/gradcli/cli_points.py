"""``eval --at`` and ``grad --at``: the command-line side of many points.

CLI layer (it prints, through cli_common's helpers): read the program, open the
points (pointsio), run them (pointsrun) into the output, show progress on a
terminal, and say which points were skipped. No typer here, so the console
script's fast path (cli_fast.py) runs ``--at`` without importing it.

Output: ``-o FILE`` in the format of its extension, written whole or not at
all (safeio.atomic_open); standard output gets CSV, or JSON lines with
``--json``, held in a spooled temporary file until the last point is done,
so that a failure prints nothing at all. With ``--scheduler``, ``-o DIR`` is
a Parquet dataset directory, renamed into place when complete.
"""

from __future__ import annotations

import sys
import time
from contextlib import ExitStack, contextmanager
from typing import Optional

from .cli_common import Source, errors_to_exit, parse_bindings, read_program, split_names, stdin
from .errors import InputError
from .safeio import printable


def run_at(program, file, bindings, output, wrt, as_json, at, on_error, grads,
           out: Optional[str] = None, jobs: int = 1, scheduler: Optional[str] = None) -> None:
    source = Source()
    with errors_to_exit(source), ExitStack() as stack:
        if on_error not in ("fail", "skip"):
            raise InputError(f"--on-error `{printable(on_error)}`: expected `fail` or `skip`")
        if jobs < 0:
            raise InputError(f"--jobs {jobs}: expected a number of processes, or 0 for every core")
        from . import pointsrun

        workers = None
        if jobs != 1 and scheduler is None:
            # Started first: forked from this process while it is small and
            # runs one thread (pointsrun.Workers).
            workers = stack.enter_context(pointsrun.Workers(pointsrun.cores() if jobs == 0 else jobs))
        from . import pointsio
        from .arrays import Batch
        from .build import resolve, structure
        from .parse import parse

        inputs = parse_bindings(read_program(program, file, bindings, source))
        if at == "-" and source.filename == "<stdin>":
            raise InputError("standard input cannot hold both the program and the points: "
                             "give one of them as a file")
        graph = structure(parse(source.text), output)
        names = split_names(wrt)
        if names is not None:
            resolve(graph, names)
        skip = on_error == "skip"

        def fail(e, number, place, values):
            return pointsio.row_error(e, number, place, columns, values)

        if scheduler is not None:
            if out is None or out == "-" or pointsio.format_of(out):
                raise InputError("--scheduler writes a Parquet dataset: give its directory as -o DIR")
            files = pointsrun.dataset_parts(at)
            columns = _dataset_columns(files[0])
            batch = Batch(graph, columns, names, grads, fixed=inputs)
            heads = ["value", *(f"grad_{n}" for n in batch.wrt)]
            with _progress(None) as tick:
                done = pointsrun.run_dask(batch, scheduler, at, out, heads, skip, progress=tick, fail=fail)
            _note(done, pointsio.label(at))
            return
        fmt = pointsio.sink_format(out, as_json)
        points = pointsio.open_points(at, stdin().buffer if at == "-" else None)
        columns = points.columns
        batch = Batch(graph, columns, names, grads, fixed=inputs)
        heads = ["value", *(f"grad_{n}" for n in batch.wrt)]
        jobs = pointsrun.cores() if jobs == 0 else jobs
        pointsrun.keep_freed_memory()
        with _output(out) as f, _progress(points) as tick:
            sink = pointsio.Sink(fmt, heads, grads, f)
            done = pointsrun.run(batch, points, sink, skip, jobs, progress=tick, fail=fail, workers=workers)
            sink.close()
        _note(done, points.where)


def _dataset_columns(path: str) -> list:
    from . import pointsio

    pointsio.need_arrow("--scheduler")
    import pyarrow.parquet as pq

    try:
        if "://" in path:
            import fsspec

            with fsspec.open(path, "rb") as f:
                schema = pq.read_schema(f)
        else:
            schema = pq.read_schema(path)
    except Exception as e:
        raise InputError(f"cannot read {pointsio.label(path)} as Parquet: {pointsio._arrow_why(e)}") from None
    return pointsio._check_schema(schema, pointsio.label(path))


def _note(done, where: str) -> None:
    skipped = done.skipped
    if skipped:
        shown = ", ".join(skipped[:10]) + (", ..." if len(skipped) > 10 else "")
        sys.stderr.write(f"note: {len(skipped)} of {done.count} points had a math error and got an empty row "
                         f"({shown})\n")
        sys.stderr.flush()


@contextmanager
def _output(out: Optional[str]):
    """A binary file for the results: ``-o FILE`` atomically, or a spooled
    temporary file copied to standard output once every point is done."""
    if out is not None and out != "-":
        from .safeio import atomic_open

        with atomic_open(out, "wb") as f:
            yield f
        return
    import shutil
    import tempfile

    with tempfile.SpooledTemporaryFile(1 << 23, "w+b") as spool:
        yield _Held(spool)
        spool.seek(0)
        sys.stdout.flush()
        shutil.copyfileobj(spool, sys.stdout.buffer, 1 << 20)
        sys.stdout.buffer.flush()


class _Held:
    """The spooled results: past 8 MB they go to an unnamed temporary file
    (nothing another user can see or plant); a full temporary directory is
    an output that fails while it is written (exit 1)."""

    def __init__(self, spool):
        self.spool = spool

    def write(self, data) -> None:
        try:
            self.spool.write(data)
        except OSError as e:
            import tempfile

            from .safeio import WriteFailed, printable

            raise WriteFailed(f"could not hold the results in a temporary file in "
                              f"`{printable(tempfile.gettempdir())}`: {e.strerror or e}") from None

    def tell(self) -> int:
        return self.spool.tell()

    def seek(self, *args):
        return self.spool.seek(*args)

    def flush(self) -> None:
        self.spool.flush()


@contextmanager
def _progress(points):
    """A progress bar on standard error when it is a terminal (rows done,
    rows a second, and the time left when the input's size is known);
    yields the hook ``tick(rows_done)``, or None."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    total = None
    if points is not None:
        total = points.total_rows or points.total_bytes
    columns = [TextColumn("{task.fields[rows]:,} points"), TextColumn("{task.fields[rate]}")]
    if total:
        columns[1:1] = [BarColumn(), TextColumn("{task.percentage:>3.0f}%")]
        columns.append(TimeRemainingColumn())
    start = time.monotonic()
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("points", total=total, rows=0, rate="")

        def tick(rows: int) -> None:
            elapsed = max(time.monotonic() - start, 1e-9)
            done = rows if not (points and points.total_bytes and not points.total_rows) else points.bytes_done()
            bar.update(task, completed=done, rows=rows, rate=f"{rows / elapsed:,.0f} points/s")

        yield tick
