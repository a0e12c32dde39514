"""Running a program at many points: in this process, over ``--jobs N``
processes, or on a Dask cluster (``--scheduler``).

The unit of work is a chunk of points (pointsio.Chunk): ``compute`` runs it
through the graph (arrays.Batch, in blocks sized to the graph) and encodes the
results for the output (text for CSV and JSON lines, a record batch for
Parquet and Arrow), so that workers do the encoding too, which is most of the
time for text. What comes back is the payload and the rows where an
operation is undefined, with their values.

Errors are judged in this process: a worker only says which rows failed; the
point is run again here through the float engine, which raises the very
``DomainError`` one-point ``grad`` gives (operation, place, operand). So
``--jobs`` and ``--scheduler`` fail exactly as one process does, with the
same point number.

``--jobs N`` starts N workers (``0``: one per core) before the command has
read its program: forked from the command line while it runs one thread and
has not loaded NumPy (so the fork is safe, and nothing is imported twice),
or, for a library caller with pyarrow loaded, by a fresh fork server (never
a fork of a process whose Arrow threads may hold locks). Each gets the
compiled graph once. For CSV files the workers read too: each task is a
block of lines (its byte range), which the worker reads, parses, computes
and encodes, leaving the text in a slot of memory shared with this process
(or, from a fork server, sending it through a pipe) with its number of
lines, so this process only writes; line numbers in messages are counted
here, in order, and a block that does not parse is read again here to say
where, exactly as one process says it. Other inputs are read here and their
chunks sent out (through shared input slots when forked); results for
Parquet and Arrow come back as columns (in shared slots), made into record
batches here. Tasks go out in order, at most two per worker in flight, and
results are written in input order: memory stays flat and the output is the
one-process output, byte for byte. Measured (2 cores, quiet): the MLP's
CSV at 2e5 points took 2.7 s with one process and 2.2 s with ``--jobs 2``
until numbers were written in C; now one process takes 1.56 s and keeps
both cores busy (reading, computing and writing in threads), and
``--jobs 2`` takes the same. Where reading and writing are most of the work
(the neuron's CSV, any Parquet) one process is faster: this process reads
and writes while two workers compute, three processes on two cores.
``--jobs`` is for machines with cores to spare.

Points with extra columns (an id, a label) are read here, not by the
workers, which compute their inputs; the extra values wait here with their
block and are added to its results as they are written (``Sink.carry``).
``--jobs`` past the cores is capped at them (cli_points). A worker dies
with the process that started it (``_die_with_parent``), and a Ctrl-C
while the pool forks ends the workers begun: nothing is left behind,
however the command ends.

``--scheduler ADDRESS`` ships the compiled graph to a Dask cluster once
(``Client.scatter``, broadcast), runs one task per file of a Parquet dataset
(local paths or any URL fsspec reads), and each task writes its part
(``part-00000.parquet``, ...) into a temporary directory beside ``-o DIR``,
which is renamed into place once every task has succeeded: the dataset
appears whole or not at all.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Callable, List, NamedTuple, Optional, Sequence

from .arrays import pack, unpack
from .errors import DomainError, GradcliError, InputError

CELLS = 1 << 21      # floats alive per block (rows x nodes), as arrays.CELLS
MAX_BLOCK = 1 << 16  # rows per block: fewer NumPy calls per point than batch's 4096


class Done(NamedTuple):
    """What a run did: points written, and the places of skipped points."""

    count: int
    skipped: list
    notes: list = []     # (key, text) to say on standard error (the Dask run's reading notes)


def block_rows(batch) -> int:
    return max(1, min(MAX_BLOCK, CELLS // max(1, len(batch.graph.nodes))))


# ------------------------------------------------------------ one chunk

def compute(batch, columns: Sequence[object], fmt: str, names: List[str], skip: bool, pieces: bool = False,
            raw: bool = False):
    """(payload, error rows as [(row, values)]) for a chunk: with ``skip``
    false, the payload is None as soon as a row fails (nothing is encoded).
    ``pieces``: text may come as buffers to write in turn (in this process).
    ``raw``: the payload is (columns, bad rows, messages), not encoded."""
    from . import pointsio
    from .engine import paused_gc

    np = pointsio._np()
    n = len(columns[0]) if columns else 0
    step = block_rows(batch)
    values, grads = [], []
    errors: list = []
    messages: list = []
    with paused_gc():
        for s in range(0, n, step):
            block = batch.run([c[s:s + step] for c in columns])
            for r, (e, point) in sorted(block.errors.items()):
                errors.append((s + r, point))
                messages.append(e.message)
            if errors and not skip:
                return None, errors[:1]
            values.append(block.value)
            grads.append(list(block.grads.values()))
    if n == 0:
        return None, []
    cols = [np.concatenate(values)] + [np.concatenate([g[j] for g in grads]) for j in range(len(grads[0]))]
    bad = None
    if errors:
        bad = np.zeros(n, bool)
        bad[[r for r, _ in errors]] = True
    if raw:
        return (cols, bad, messages), errors
    return pointsio.encode(fmt, names, batch.grads, cols, bad, messages, pieces), errors


def point_error(batch, values: Sequence[float]) -> DomainError:
    """The float engine's error at a point (the judge of every failed row)."""
    graph = batch.graph
    for name, value in batch.fixed.items():
        graph.leaves[name].data = float(value)
    for name, value in zip(batch.columns, values):
        graph.leaves[name].data = float(value)
    try:
        graph.forward()
        if batch.grads:
            graph.gradients(batch.wrt)
    except DomainError as e:
        return e
    return DomainError("an operation is not defined at this point")  # pragma: no cover


# ------------------------------------------------------- in this process

def run(batch, points, sink, skip: bool, jobs: int = 1,
        progress: Optional[Callable[[int], None]] = None,
        fail: Optional[Callable] = None, workers: Optional["Workers"] = None) -> Done:
    """Every chunk of ``points`` through ``batch`` into ``sink``, in order.
    ``fail(error, point_number, place, values)`` makes the exception
    raised for a failed point without ``skip``; ``progress(rows_done)`` is
    called after each chunk. ``workers``: the processes for ``jobs`` > 1,
    started early (else they are started here and ended at the end)."""
    count, skipped = 0, []
    fmt, names = sink.fmt, sink.names
    write = sink.write_encoded

    def take(chunk, payload, errors):
        nonlocal count
        if errors and not skip:
            r, values = errors[0]
            raise fail(point_error(batch, values), count + r + 1, chunk.locate(r), values)
        for r, _ in errors:
            skipped.append(chunk.locate(r))
        if payload is not None:
            if getattr(chunk, "extras", None) is not None:
                payload = sink.carry(payload, chunk.extras)
            write(payload)
        count += chunk.rows
        if progress:
            progress(count)

    if jobs == 1:
        with Writer(sink.write_encoded) as writer:
            write = writer
            for chunk in prefetched(points.chunks):
                take(chunk, *compute(batch, chunk.columns, fmt, names, skip, pieces=True))
        return Done(count, skipped)

    from collections import deque

    from . import pointsio

    own = workers is None
    if own:
        workers = Workers(jobs)
    workers.start(batch, fmt, names, skip)
    pool, slot = workers.pool, workers.slot
    try:
        pending: deque = deque()
        parts = pointsio.csv_parts(points)
        if parts is not None:
            # Workers read and parse their own blocks of the file too: this
            # process only writes what comes back, in order.
            lines = {}
            for i, part in enumerate(parts):
                pending.append((part, pool.apply_async(_worker_part, (part, slot(i)))))
                while len(pending) >= workers.depth:
                    take_part(*pending.popleft(), lines, take, workers)
            while pending:
                take_part(*pending.popleft(), lines, take, workers)
            return Done(count, skipped)
        for i, chunk in enumerate(points.chunks):
            pending.append((chunk, pool.apply_async(_worker_compute, (workers.send(i, chunk.columns), slot(i)))))
            chunk.columns = None            # the worker has them; free ours
            while len(pending) >= workers.depth:
                c, result = pending.popleft()
                take(c, *workers.payload(result.get()))
        while pending:
            c, result = pending.popleft()
            take(c, *workers.payload(result.get()))
    finally:
        if own:
            workers.close()
    return Done(count, skipped)


class Workers:
    """The processes of ``--jobs N``, started before the run has read its
    program: ``start(batch, ...)`` then hands each its compiled graph (a
    worker waits for it in its initializer), and ``close()`` ends them.

    On Linux, from a process that has not yet imported NumPy or pyarrow and
    runs one thread (the command line, which starts them first thing), the
    workers are forked from it: no interpreter to start or modules to import
    again, and a fork of a one-thread process is safe. They also share
    ``depth`` slots of memory with it (an anonymous shared mapping made
    before the fork): a worker writes a block's text into its slot and says
    how long it is, and this process writes the slot to the output, instead
    of the text being pickled through a pipe and copied twice. Elsewhere
    (a library caller that has imported pyarrow, whose threads may hold
    locks a forked child would wait on for ever; or no ``fork``) a fresh
    fork server starts them and results come back through pipes.

    At most ``depth`` (two a worker) blocks are out at once, so the slot of
    block ``i`` (``i % depth``) is free again when block ``i`` is sent: the
    block ``depth`` before it has been written."""

    SLOT = 1 << 24           # bytes of text a slot holds; a larger block comes through the pipe

    def __init__(self, jobs: int):
        import multiprocessing
        import sys
        import threading

        self.jobs, self.depth = jobs, 2 * jobs
        forkable = (sys.platform.startswith("linux") and threading.active_count() == 1
                    and "numpy" not in sys.modules and "pyarrow" not in sys.modules)   # (macOS: spawn's reasons)
        ctx = multiprocessing.get_context("fork") if forkable else warm_up()
        self.slots = self.inputs = None
        if forkable:
            import mmap

            self.slots = mmap.mmap(-1, self.SLOT * self.depth)      # results
            self.inputs = mmap.mmap(-1, self.SLOT * self.depth)     # points read here
        self._state = ctx.SimpleQueue()
        before = set(multiprocessing.active_children())
        try:
            self.pool = ctx.Pool(jobs, initializer=_worker_init,
                                 initargs=(self._state, self.slots, self.inputs, os.getpid() if forkable else None))
        except BaseException:
            # Ctrl-C while the pool forks: the workers started so far are
            # not the half-made pool's to end; they are ended here.
            for child in set(multiprocessing.active_children()) - before:
                child.terminate()
                child.join()
            raise

    def start(self, batch, fmt: str, names: List[str], skip: bool) -> None:
        self._fmt, self._names, self._grads = fmt, names, batch.grads
        self._shared = self.slots is not None
        state = (pack(batch), fmt, names, skip)
        for _ in range(self.jobs):
            self._state.put(state)

    def slot(self, i: int) -> Optional[int]:
        return i % self.depth if self._shared else None

    def send(self, i: int, columns):
        """The columns of block ``i`` for a worker: written into its input
        slot (the task carries only where they are), or as they are."""
        n, c = (len(columns[0]), len(columns)) if columns else (0, 0)
        if not self._shared or not n or n * c * 8 > self.SLOT:
            return columns
        from . import pointsio

        np = pointsio._np()
        start = (i % self.depth) * self.SLOT
        view = np.frombuffer(self.inputs, np.float64, count=n * c, offset=start).reshape(c, n)
        for j, column in enumerate(columns):
            view[j] = column
        return Columns(i % self.depth, n, c, False)

    def payload(self, result):
        """A worker's (payload, errors) with the payload read from its slot:
        text as it is, columns encoded here (a record batch)."""
        payload, errors = result
        if isinstance(payload, Slot):
            start = payload.index * self.SLOT
            payload = memoryview(self.slots)[start:start + payload.size]
        elif isinstance(payload, Columns):
            from . import pointsio

            cols, bad = payload.read(self.slots)
            payload = pointsio.encode(self._fmt, self._names, self._grads, cols, bad, [])
        return payload, errors

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()
        for shared in (self.slots, self.inputs):
            if shared is not None:
                try:
                    shared.close()
                except BufferError:
                    # A view of it is still held (by the traceback of a write
                    # that failed, or a payload waiting for the writer): the
                    # mapping is anonymous (no file, nothing in /dev/shm), and
                    # goes with the last view, or with this process.
                    pass
        self.slots = self.inputs = None

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Columns(NamedTuple):
    """``count`` float64 columns of ``rows`` numbers in slot ``index`` (one
    after the other), and after them, with ``bad``, a boolean per row."""

    index: int
    rows: int
    count: int
    bad: bool

    def read(self, shared) -> tuple:
        from . import pointsio

        np = pointsio._np()
        start, n = self.index * Workers.SLOT, self.rows
        cols = [np.frombuffer(shared, np.float64, count=n, offset=start + 8 * n * j) for j in range(self.count)]
        bad = np.frombuffer(shared, bool, count=n, offset=start + 8 * n * self.count) if self.bad else None
        return cols, bad

    @staticmethod
    def write(shared, index: int, cols, bad) -> "Columns":
        from . import pointsio

        np = pointsio._np()
        n, start = len(cols[0]), index * Workers.SLOT
        for j, column in enumerate(cols):
            np.frombuffer(shared, np.float64, count=n, offset=start + 8 * n * j)[:] = column
        if bad is not None:
            np.frombuffer(shared, bool, count=n, offset=start + 8 * n * len(cols))[:] = bad
        return Columns(index, n, len(cols), bad is not None)


class Slot(NamedTuple):
    """A block's text, left in shared slot ``index`` by a worker."""

    index: int
    size: int


class Writer:
    """``write(payload)`` handed to a thread, which writes while the next
    block is computed and encoded (a write, and Parquet's encoding and
    compression, let go of the GIL). At most ``depth`` payloads wait: memory
    stays flat. A write's error (a full disk) is raised in the caller, at
    its next write or at the end; on leaving early, what waits is dropped."""

    def __init__(self, write: Callable, depth: int = 2):
        import queue
        import threading

        self._write, self._error = write, None
        self._q: queue.Queue = queue.Queue(depth)
        self._thread = threading.Thread(target=self._drain, daemon=True, name="gradcli-write")
        self._thread.start()

    def _drain(self) -> None:
        while True:
            payload = self._q.get()
            if payload is None:
                return
            if self._error is None:
                try:
                    self._write(payload)
                except BaseException as e:  # handed over to the caller
                    self._error = e

    def __call__(self, payload) -> None:
        if self._error is not None:
            raise self._error
        self._q.put(payload)

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is not None:
            self._error = self._error or value       # stop writing: the run failed
        self._q.put(None)
        self._thread.join()
        if kind is None and self._error is not None:
            raise self._error


def keep_freed_memory() -> None:
    """Ask glibc's malloc to keep freed blocks for reuse instead of handing
    them back to the kernel: every block of points allocates the same large
    arrays and text buffers again, and getting fresh pages from the kernel
    each time cost 120,000 page faults and 0.4 s of system time at 1e6
    points (16,000 faults after this). Elsewhere, nothing happens."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return
    mallopt(-3, 32 << 20)     # M_MMAP_THRESHOLD: its largest; blocks below it come from the heap
    mallopt(-1, 1 << 30)      # M_TRIM_THRESHOLD: keep up to 1 GiB of freed heap
    mallopt(-2, 64 << 20)     # M_TOP_PAD: grow the heap in 64 MiB steps


def warm_up():
    """The multiprocessing context for ``Workers`` that cannot be forked
    from this process: a fork server, started now with NumPy and gradcli
    loaded (about 0.2 s), which forks each worker warm (spawn where there is
    no fork server)."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if "forkserver" not in methods:  # pragma: no cover - not Unix
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["numpy", "gradcli.pointsrun", "gradcli.pointsio", "gradcli.arrays"])
    from multiprocessing import forkserver

    forkserver.ensure_running()
    return ctx


def prefetched(chunks, depth: int = 2):
    """The chunks, read ahead by a thread: Arrow parses the next block of
    text (without the GIL) while this one is computed and written, so one
    process uses two cores. At most ``depth`` chunks wait: memory stays flat.
    An error while reading is raised here, in order."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(depth)
    stop = threading.Event()
    end = object()

    def put(item) -> bool:
        # Every put gives up once the reading side has gone (an error or
        # Ctrl-C there): a blocking put into a full queue no one reads
        # would keep the process waiting for ever.
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def feed():
        try:
            for chunk in chunks:
                if not put((chunk, None)):
                    return
            put((end, None))
        except BaseException as e:  # handed over to the reading side
            put((end, e))

    thread = threading.Thread(target=feed, daemon=True, name="gradcli-read-ahead")
    thread.start()
    try:
        while True:
            chunk, error = q.get()
            if chunk is end:
                if error is not None:
                    raise error
                return
            yield chunk
    finally:
        stop.set()
        thread.join()


_WORKER: dict = {}


def _die_with_parent(parent: Optional[int]) -> None:
    """A worker ends when the process that started it ends, however that
    ends (killed, or interrupted before it could end its pool): Linux's
    parent-death signal. Without it, a forked worker whose parent is gone
    waits on its task pipe for ever (it holds the pipe's other end too)."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))     # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if parent is not None and os.getppid() != parent:
        os._exit(1)                                  # the parent ended before the signal was set


def _worker_init(state_queue, slots, inputs=None, parent=None):
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle
    _die_with_parent(parent)
    keep_freed_memory()
    from . import arrays, pointsio   # NumPy, pyarrow and orjson load while the parent reads the program

    arrays.array_math()
    pointsio.arrow()
    pointsio._orjson()
    state, fmt, names, skip = state_queue.get()    # waits for the parent's start()
    _WORKER.update(batch=unpack(state), fmt=fmt, names=names, skip=skip, slots=slots, inputs=inputs)


def _worker_compute(columns, slot=None):
    """A block computed here; with ``slot``, its result is left in that
    shared slot: text for CSV and JSON lines, else the columns themselves
    (the parent makes the record batch, which it writes anyway)."""
    w = _WORKER
    if isinstance(columns, Columns):
        columns, _ = columns.read(w["inputs"])
    if slot is not None and w["fmt"] not in ("csv", "jsonl"):
        raw, errors = compute(w["batch"], columns, w["fmt"], w["names"], w["skip"], raw=True)
        if raw is None:
            return None, errors
        cols, bad, _ = raw
        if len(cols[0]) * (8 * len(cols) + 1) <= Workers.SLOT:
            return Columns.write(w["slots"], slot, cols, bad), errors
        from . import pointsio

        return pointsio.encode(w["fmt"], w["names"], w["batch"].grads, cols, bad, []), errors
    payload, errors = compute(w["batch"], columns, w["fmt"], w["names"], w["skip"])
    if slot is not None and payload is not None and len(payload) <= Workers.SLOT:
        start = slot * Workers.SLOT
        w["slots"][start:start + len(payload)] = payload
        payload = Slot(slot, len(payload))
    return payload, errors


def _worker_part(part, slot=None):
    """A block of a CSV file, read, parsed, computed and encoded here: (its
    number of lines, payload, errors with their line counted from 1), or
    None where the block does not parse (the parent reads it again to say
    where, with the right line numbers)."""
    from . import pointsio

    try:
        chunk, lines = pointsio.read_csv_part(part, 1)
    except GradcliError:
        return None
    payload, errors = _worker_compute(chunk.columns, slot)
    return lines, chunk.rows, payload, [(r, v, chunk.line_of(r) - 1) for r, v in errors]


class _Place:
    """Where a point of a block read by a worker came from."""

    def __init__(self, places: dict, rows: int):
        self.places, self.rows = places, rows

    def locate(self, r: int) -> str:
        return self.places[r]


def take_part(part, result, lines: dict, take, workers) -> None:
    from . import pointsio

    first = lines.setdefault(part.path, None)
    if first is None:
        with open(part.path, "rb") as f:           # the header's line, as the reader counts it
            f.seek(0)
            head = f.read(part.start)
        first = lines[part.path] = head.count(b"\n") + 1
    out = result.get()
    if out is None:
        pointsio.read_csv_part(part, first)         # raises the reader's error, with its line
        raise InputError(f"{part.where} could not be read")   # pragma: no cover
    n, rows, payload, errors = out
    payload, _ = workers.payload((payload, None))
    places = {r: f"line {first + line} of {part.where}" for r, _, line in errors}
    lines[part.path] = first + n
    take(_Place(places, rows), payload, [(r, v) for r, v, _ in errors])


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


# ------------------------------------------------------------- on Dask

def dataset_parts(at: str) -> List[str]:
    """The files of a Parquet dataset: a local file, directory or glob, or a
    URL fsspec reads (a file, a directory, or a glob), in sorted order."""
    from . import pointsio

    if "://" not in at:
        files = pointsio.expand(at)
    else:
        import fsspec

        fs, _, paths = fsspec.get_fs_token_paths(at)
        if len(paths) == 1 and fs.isdir(paths[0]):
            paths = [p for p in fs.ls(paths[0], detail=False)
                     if not os.path.basename(p).startswith((".", "_"))]
        protocol = at.split("://", 1)[0]
        files = sorted(p if "://" in p else f"{protocol}://{p}" for p in paths)
        if not files:
            raise InputError(f"no file matches {pointsio.label(at)}")
    for path in files:
        if pointsio.format_of(path) != "parquet":
            raise InputError(f"--scheduler reads a Parquet dataset; {pointsio.label(path)} is not a .parquet file")
    return files


def _dask_part(state_or_batch, path: str, out: str, skip: bool, names: List[str], extras=(), drop=False):
    """One partition on a worker: read it, compute, write its part (the
    extra columns ``extras`` carried first). Returns (rows, error rows as
    [(row, values)])."""
    from . import pointsio

    batch = state_or_batch if not isinstance(state_or_batch, tuple) else unpack(state_or_batch)
    fs = None
    if "://" in path:
        import fsspec

        fs = fsspec.core.url_to_fs(path)[0]
    split = pointsio.Split(set(batch.graph.leaves), drop)
    try:
        notes: list = []
        cols, order, _, more, _ = pointsio._parquet(path, [0], fs=fs, split=split, notes=notes)
        if sorted(cols) != sorted(batch.columns) or dict(more) != dict(extras):
            shown = ", ".join([*cols, *(n for n, _ in more)])
            known = ", ".join([*batch.columns, *(n for n, _ in extras)])
            raise InputError(f"{pointsio.label(path)} has the columns {pointsio.printable(shown)}; "
                             f"the first file has {pointsio.printable(known)}")
    except GradcliError as e:
        return -1, e.message, []            # raised again by the client, as an InputError
    index = [cols.index(c) for c in batch.columns]
    extra_index = [[n for n, _ in more].index(n) for n, _ in extras]
    count, errors = 0, []
    sink = pointsio.Sink("parquet", names, batch.grads, None, extras)   # no file: its schema and carry
    writer = pointsio.parquet_writer(out, sink._schema)
    try:
        for chunk in order:
            payload, errs = compute(batch, [chunk.columns[j] for j in index], "parquet", names, skip)
            errors += [(count + r, v) for r, v in errs]
            if errs and not skip:
                break
            if payload is not None:
                if extras:
                    payload = sink.carry(payload, [chunk.extras[j] for j in extra_index])
                writer.write_batch(payload)
            count += chunk.rows
    finally:
        writer.close()
    if errors and not skip:
        os.unlink(out)
    return count, errors, notes


class _Batched:
    """A Batch that pickles as plain data (pack/unpack): how the compiled
    graph travels to the workers."""

    def __init__(self, batch):
        self.batch = batch

    def __reduce__(self):
        return unpack, (pack(self.batch),)


def run_dask(batch, address: str, at: str, out_dir: str, names: List[str], skip: bool,
             progress: Optional[Callable[[int], None]] = None, fail: Optional[Callable] = None,
             client=None, extras=(), drop: bool = False) -> Done:
    """The points of the Parquet dataset ``at`` on the Dask cluster at
    ``address`` (or an existing ``client``), written as a Parquet dataset at
    ``out_dir``, one part per input file, in order."""
    from . import pointsio

    pointsio.need_arrow("--scheduler")
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise InputError("--scheduler needs Dask: pip install \"gradcli[dask]\"") from None
    parts = dataset_parts(at)
    final = os.path.abspath(out_dir)
    parent = os.path.dirname(final)
    if os.path.exists(final) and not os.path.isdir(final):
        raise InputError(f"cannot write the dataset {pointsio.label(out_dir)}: it is a file, not a directory")
    try:
        tmp = tempfile.mkdtemp(prefix="." + os.path.basename(final) + ".", suffix=".tmp", dir=parent)
    except OSError as e:
        raise InputError(f"cannot write the dataset {pointsio.label(out_dir)}: {e.strerror or e}") from None
    own = client is None
    try:
        if own:
            try:
                client = Client(address, timeout=30)
            except (OSError, TimeoutError, ValueError) as e:
                raise InputError(f"cannot reach the Dask scheduler at `{address}`: {e}") from None
        shipped = client.scatter(_Batched(batch), broadcast=True)
        targets = [os.path.join(tmp, f"part-{i:05d}.parquet") for i in range(len(parts))]
        futures = [client.submit(_dask_part, shipped, p, t, skip, names, list(extras), drop, pure=False,
                                 key=f"gradcli-part-{i}-{id(tmp)}")
                   for i, (p, t) in enumerate(zip(parts, targets))]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list = [None] * len(futures)
        done_rows = 0
        for future in as_completed(futures):
            results[index[future.key]] = future.result()
            done_rows += max(0, results[index[future.key]][0])
            if progress:
                progress(done_rows)
        count, skipped = 0, []
        notes = [note for _, _, part_notes in results for note in part_notes]
        for path, (rows, errors, _) in zip(parts, results):
            if rows < 0:
                raise InputError(errors)
            if errors and not skip:
                r, values = errors[0]
                raise fail(point_error(batch, values), count + r + 1, f"row {r + 1} of {pointsio.label(path)}",
                           values)
            skipped += [f"row {r + 1} of {pointsio.label(path)}" for r, _ in errors]
            count += rows
        _swap_in(tmp, final)
        return Done(count, skipped, notes)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if own and client is not None:
            client.close()


def _swap_in(tmp: str, final: str) -> None:
    """Rename the finished dataset into place; an old one at that path is
    moved aside first and removed after."""
    old = None
    if os.path.exists(final):
        old = tempfile.mkdtemp(prefix="." + os.path.basename(final) + ".", suffix=".old",
                               dir=os.path.dirname(final))
        os.rmdir(old)
        os.rename(final, old)
    os.rename(tmp, final)
    if old:
        shutil.rmtree(old, ignore_errors=True)
