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

from .cli_common import Source, errors_to_exit, finished, parse_bindings, read_program, split_names, stdin
from .errors import InputError
from .safeio import printable


MAX_JOBS = 1024     # --jobs past this is refused, not capped: a slip of the keyboard, not a machine


def run_at(program, file, bindings, output, wrt, as_json, at, on_error, grads,
           out: Optional[str] = None, jobs: int = 1, scheduler: Optional[str] = None,
           drop_extra: bool = False) -> None:
    source = Source()
    with errors_to_exit(source), ExitStack() as stack:
        if on_error not in ("fail", "skip"):
            raise InputError(f"--on-error `{printable(on_error)}`: expected `fail` or `skip`")
        if jobs < 0:
            raise InputError(f"--jobs {jobs}: expected a number of processes, or 0 for every core")
        if jobs > MAX_JOBS:
            raise InputError(f"--jobs {jobs} is more processes than gradcli starts (at most {MAX_JOBS})",
                             notes=["--jobs 0 starts one per core"])
        from . import pointsrun

        if jobs > pointsrun.cores() and scheduler is None:
            # More workers than cores only compete for them (and each holds
            # its shared memory): as many as there are.
            sys.stderr.write(f"note: --jobs {jobs}: this machine gives gradcli {pointsrun.cores()} "
                             f"core{'s' * (pointsrun.cores() != 1)}; running {pointsrun.cores()} processes\n")
            jobs = pointsrun.cores()

        workers = None
        if jobs != 1 and scheduler is None:
            # Started first: forked from this process while it is small and
            # runs one thread (pointsrun.Workers).
            workers = stack.enter_context(pointsrun.Workers(pointsrun.cores() if jobs == 0 else jobs))
        from . import pointsio
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
        # Columns that are not inputs (leaves) of the program are extra columns,
        # carried into the results (or left out with --drop-extra).
        split = pointsio.Split(set(graph.leaves), drop_extra)

        def fail(e, number, place, values):
            return pointsio.row_error(e, number, place, columns, values)

        if scheduler is not None:
            if out is None or out == "-" or pointsio.format_of(out):
                raise InputError("--scheduler writes a Parquet dataset: give its directory as -o DIR")
            files = pointsrun.dataset_parts(at)
            columns, extras = _dataset_columns(files[0], split)
            batch = _batch(graph, columns, names, grads, inputs, bool(extras), split, pointsio.label(files[0]))
            heads = ["value", *(f"grad_{n}" for n in batch.wrt)]
            _no_clash(extras, heads, pointsio.label(files[0]))
            with _progress(None) as tick:
                done = pointsrun.run_dask(batch, scheduler, at, out, heads, skip, progress=tick, fail=fail,
                                          extras=extras, drop=drop_extra)
            _note(done, pointsio.label(at), done.notes)
            return
        fmt = pointsio.sink_format(out, as_json)
        points = pointsio.open_points(at, stdin().buffer if at == "-" else None, split)
        columns = points.columns
        batch = _batch(graph, columns, names, grads, inputs, points.mixed, split, points.where)
        heads = ["value", *(f"grad_{n}" for n in batch.wrt)]
        _no_clash(points.extras, heads, points.where)
        jobs = pointsrun.cores() if jobs == 0 else jobs
        pointsrun.keep_freed_memory()
        with _output(out) as f, _progress(points) as tick:
            sink = pointsio.Sink(fmt, heads, grads, f, points.extras)
            try:
                done = pointsrun.run(batch, points, sink, skip, jobs, progress=tick, fail=fail, workers=workers)
            except BaseException:
                sink.abandon()
                raise
            sink.close()
        _note(done, points.where, points.notes)


def _batch(graph, columns, names, grads, inputs, mixed: bool, split, where: str):
    """The program ready for the points; where an input is missing and the
    points have columns that are not inputs of the program, say so (a
    column named otherwise than its input is carried, not read)."""
    from .arrays import Batch

    try:
        return Batch(graph, columns, names, grads, fixed=inputs)
    except InputError as e:
        if mixed and e.message.startswith("missing input"):
            how = "left out (--drop-extra)" if split.drop else "carried into the results"
            e.notes.append(f"the columns of {where} that are not inputs of the program are {how}; "
                           f"it gives the inputs {', '.join(f'`{c}`' for c in columns) or '(none)'}")
        raise


def _no_clash(extras, heads, where: str) -> None:
    for name, _ in extras:
        if name in heads:
            raise InputError(f"the column `{printable(name)}` of {where} is not an input of the program, and "
                             f"the results have a column `{printable(name)}` too",
                             notes=["rename it, or leave the extra columns out with --drop-extra"])


def _dataset_columns(path: str, split) -> tuple:
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
    names, extras, _ = pointsio._split_schema(schema, pointsio.label(path), split)
    return names, extras


def _note(done, where: str, notes=()) -> None:
    for _, text in notes:
        sys.stderr.write(f"note: {text}\n")
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
        finished()
        return
    import shutil
    import tempfile

    with tempfile.SpooledTemporaryFile(1 << 23, "w+b") as spool:
        yield _Held(spool)
        if not sys.stdout.isatty():
            # Every point is done: the results go out whole. A Ctrl-C now
            # would leave half of them in a pipe or file with status 130
            # (a terminal, where that harms nothing, can still stop them).
            finished()
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
