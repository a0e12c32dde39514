"""The NumPy array engine: one program at many points, in vectorised blocks
through the same tape (``ArrayMath``, ``Batch``; the CLI glue of ``--at`` is
cli_points.py, files are read and written by pointsio.py).

A program's graph is built once (build.structure); then each block of
points runs through the graph's tape with NumPy arrays in place of floats:
every leaf holds one column, every op node one array, so a forward and a
backward pass cost one NumPy call per node and per block instead of one
Python call per node and per point. Without gradients a value is dropped
after its last use, so the next arrays reuse its memory while it is still
in the cache: on the 231-node MLP at 10^6 points this alone made the
forward pass 3x to 4x faster (0.11 s against 0.46 s in blocks of 4,096;
keeping every value, each block asked for 4.7 MB of fresh memory).

The ops table stays the one source of the math: each step runs its row's
own ``forward``, ``chain`` and ``undefined`` with ``m = ArrayMath`` (NumPy's
functions), so a new row works here at once; a rule that cannot take arrays
runs element by element, only slower.

Errors: the float engine is the judge. A row is suspect if any value of any
op node or any reported gradient is not finite in the vector pass (only
the values that a later op could hide are summed to find out: ``Op.spreads``
says which operands' inf or nan always reach the result), or outside an
op's domain (its ``undefined`` masks); each
suspect row runs again through the float engine, which raises the very
``DomainError`` (operation, place and operand) ``gradcli grad`` would give
at that point, or gives the row's results if the vector pass was too
cautious. So batched and one-point results agree, to rounding.
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache, partial
from typing import Iterable, Iterator, Mapping, NamedTuple, Sequence

from .engine import Graph, Value, bind, paused_gc, require_ops
from .errors import DomainError, InputError, printable
from .ops import OPS, FloatMath

BLOCK = 4096            # points per block, at most
CELLS = 1 << 21         # at most this many floats alive per block (rows x nodes)


# ------------------------------------------------------------ the array math

@lru_cache(maxsize=None)
def _np():
    import numpy  # only batch work pays for NumPy

    return numpy


class ArrayMath:
    """The namespace ``m`` of the op rows (ops.FloatMath's twin) on NumPy
    arrays: with it, each row's own ``forward``, ``chain`` and ``undefined``
    run on a whole block of points at once. This class is the only
    NumPy-specific math; a function NumPy lacks (``erf``) runs element by
    element through the float one."""

    def __init__(self):
        np = _np()
        self.exp, self.log, self.log1p, self.sqrt = np.exp, np.log, np.log1p, np.sqrt
        self.sin, self.cos, self.tan, self.tanh = np.sin, np.cos, np.tan, np.tanh
        self.atan, self.asinh, self.hypot = np.arctan, np.arcsinh, np.hypot
        self.pow, self.sign, self.floor, self.where = np.power, np.sign, np.floor, np.where
        self.erf = _elementwise(FloatMath.erf, 1)

    @staticmethod
    def sigmoid(x):
        np = _np()
        e = np.exp(-np.abs(x))     # as FloatMath.sigmoid: exp never overflows
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    @staticmethod
    def sech2(x):
        np = _np()
        e = np.exp(-2.0 * np.abs(x))   # 4*sigmoid(2x)*sigmoid(-2x), as FloatMath.sech2, in fewer array steps
        r = 1.0 / (1.0 + e)
        return 4.0 * r * (e * r)

    @staticmethod
    def step(x):
        return _np().where(x > 0, 1.0, 0.0)


def _elementwise(fn, nargs: int):
    """An array version of a float function, one element at a time; an
    error at an element gives nan there (the float engine judges it later)."""
    np = _np()

    def one(*args):
        try:
            return float(fn(*args))
        except (ArithmeticError, ValueError):
            return math.nan

    ufunc = np.frompyfunc(one, nargs, 1)
    return lambda *args: np.asarray(ufunc(*args), dtype=float)


@lru_cache(maxsize=None)
def array_math() -> ArrayMath:
    return ArrayMath()


@lru_cache(maxsize=None)
def vector_op(name: str):
    """(forward, chain, undefined) of an op's row for arrays, bound to
    ``ArrayMath``: ``forward(*operands)``, ``chain[i](g, *operands, out)``,
    ``undefined`` a list of ``where(*operands)`` masks. A rule that cannot
    take arrays runs element by element with ``FloatMath``."""
    op = OPS[name]
    m = array_math()

    def bind(fn, nargs):
        def run(*args):
            try:
                return fn(m, *args)
            except (TypeError, ValueError, ZeroDivisionError):   # cannot take arrays
                return _elementwise(lambda *a: fn(FloatMath, *a), nargs)(*args)
        return run

    forward = bind(op.forward, op.arity)
    chain = tuple(bind(d, op.arity + 2) for d in op.chain)
    undefined = tuple(bind(where, op.arity) for where, _ in op.undefined)
    return forward, chain, undefined


# ------------------------------------------------------------------- running

class Block(NamedTuple):
    """Results for a block of points, one array element per point.
    ``errors`` maps a row's place in the block to the float engine's error
    there and the point's values, in column order."""

    value: object                  # ndarray
    grads: dict                    # name -> ndarray
    errors: dict                   # index in block -> (DomainError, values)


class Batch:
    """A graph ready to run at many points.

    ``columns`` are the names each point gives values for (they must be
    leaves); ``fixed`` binds other leaves for every point; every input must
    be one or the other, as for ``bind``. With ``grads`` false only values
    are computed; ``wrt`` picks the gradients as ``Graph.gradients`` does.
    """

    def __init__(self, graph: Graph, columns: Sequence[str], wrt: Sequence[str] | None = None,
                 grads: bool = True, fixed: Mapping[str, float] | None = None):
        seen = set()
        for name in columns:
            if name in seen:
                raise InputError(f"the column `{name}` appears twice")
            seen.add(name)
        fixed = dict(fixed or {})
        bind(graph, {**fixed, **{name: 0.0 for name in columns}})  # checks every name
        self.graph = graph
        self.columns = list(columns)
        self.fixed = fixed
        self.grads = grads
        self.wrt = (list(graph.leaves) if wrt is None else list(wrt)) if grads else []
        nodes = graph.nodes
        self._base = [node.data for node in nodes]          # constants, defaults, fixed values
        self._column_index = [graph.leaves[name].index for name in columns]
        self._out = graph.output.index
        self._reported = [graph.node(name).index for name in self.wrt]
        # Which op values need their own finiteness check: one whose every
        # user spreads a non-finite operand (``Op.spreads``: inf or nan in
        # ``a + b`` gives inf or nan) is seen in that user's value; only the
        # values some user could hide (``tanh(inf)`` is 1), the output, and
        # values no op uses, are summed. And when each value is last used
        # (``dead``): without gradients it is dropped there, so that the
        # next arrays reuse its memory (still in the cache) instead of
        # fresh pages: the 231-node MLP's blocks ran 2x to 4x faster.
        hidden = bytearray(len(nodes))      # 1: some user could hide it (or none uses it)
        used = bytearray(len(nodes))
        last = [-1] * len(nodes)
        for node in nodes:
            if node.children:
                spreads = OPS[node.op].spreads
                for k, c in enumerate(node.children):
                    used[c.index] = 1
                    last[c.index] = node.index
                    if k not in spreads:
                        hidden[c.index] = 1
        self._steps = []
        for node in nodes:
            if node.children:
                i = node.index
                forward, chain, undefined = vector_op(node.op)
                dead = () if grads else tuple(sorted({c.index for c in node.children
                                                      if last[c.index] == i and c.children and c.index != self._out}))
                self._steps.append((i, forward, chain, undefined,
                                    tuple(c.index for c in node.children),
                                    tuple(c.kind != "const" for c in node.children),
                                    bool(hidden[i] or not used[i] or i == self._out), dead,
                                    partial(OPS[node.op].forward, array_math())))
        # The most arrays alive at once in a forward pass: every value with
        # gradients (backward needs them all); without, the columns and the
        # values not yet dropped, at their peak (a chain: 2; a 10,000-node
        # random DAG: most of it). It sizes the blocks within ``CELLS``.
        self.peak = len(nodes)
        if not grads:
            alive = peak = 0
            for step in self._steps:
                alive += 1
                peak = max(peak, alive)
                alive -= len(step[7])
            self.peak = min(len(nodes), peak + len(self.columns))
        self.block_size = max(1, min(BLOCK, CELLS // max(1, self.peak)))

    def __reduce__(self):
        """Pickled as plain data, the graph a flat list (``pack``): how
        --jobs and --scheduler ship a compiled program to workers."""
        return unpack, (pack(self),)

    # -- one block of columns
    def run(self, columns: Sequence[object]) -> Block:
        """Values (and gradients) at a block of points: ``columns[j]`` is an
        array of the values of ``self.columns[j]``, one per point."""
        np = _np()
        rows = len(columns[0]) if columns else 1
        vals = list(self._base)
        for index, column in zip(self._column_index, columns):
            vals[index] = np.asarray(column, dtype=float)
        # The sum of the op values that need a check (see __init__): not
        # finite at a row if any op value there is not (or, rarely, if the
        # sum overflows: the row is only checked again).
        total = np.zeros(rows)
        outside = np.zeros(rows, dtype=bool)     # rows outside an op's domain (``Op.undefined``)
        add, any_of = np.add, np.logical_or
        with np.errstate(all="ignore"):
            for i, forward, _, undefined, ci, _, check, dead, fast in self._steps:
                args = [vals[c] for c in ci]
                try:
                    out = fast(*args)            # the row itself on arrays: no wrapper to call
                except (TypeError, ValueError, ZeroDivisionError):
                    out = forward(*args)         # a rule that cannot take arrays (vector_op)
                vals[i] = out
                if check:
                    add(total, out, out=total)
                for where in undefined:
                    any_of(outside, where(*args), out=outside)
                for c in dead:
                    vals[c] = None
            bad = ~np.isfinite(total) | outside
            value = np.broadcast_to(vals[self._out], (rows,)) + 0.0
            grads = {}
            if self.grads:
                grads = self._backward(vals, bad)
        errors = self._recheck(columns, np.flatnonzero(bad), value, grads) if bad.any() else {}
        return Block(value, grads, errors)

    def _backward(self, vals: list, bad) -> dict:
        np = _np()
        g = [0.0] * len(vals)
        g[self._out] = 1.0
        end = self._out
        zero = 0.0
        owned = set()        # gradients held in arrays no one else holds
        keep = set(self._reported)
        ndarray, add, shape = np.ndarray, np.add, bad.shape
        for i, _, chain, _, ci, wanted, _, _, _ in reversed(self._steps):
            if i > end:
                continue
            gi = g[i]
            args = [vals[c] for c in ci]
            args.append(vals[i])
            for c, d, w in zip(ci, chain, wanted):
                if w:
                    term = d(gi, *args)
                    # a new array (not gi or an operand) may be kept and
                    # added to in place
                    fresh = term is not gi and all(term is not a for a in args)
                    old = g[c]
                    if old is zero:
                        g[c] = term
                        if fresh and term.__class__ is ndarray and term.shape == shape:
                            owned.add(c)
                    elif c in owned:
                        add(old, term, out=old)      # ours alone: add in place
                    else:
                        g[c] = old + term
                        if g[c].__class__ is ndarray and g[c].shape == shape:
                            owned.add(c)
            # Every user of node i came later on the tape and is done: its
            # value and gradient are needed no more (unless reported), and
            # freeing them now lets the next arrays reuse their memory.
            vals[i] = None
            if i not in keep:
                g[i] = None
        rows = len(bad)
        grads = {}
        for name, index in zip(self.wrt, self._reported):
            column = np.broadcast_to(g[index], (rows,)) + 0.0
            finite = np.isfinite(column)
            if not finite.all():
                bad |= ~finite
            grads[name] = column
        return grads

    def _recheck(self, columns, rows, value, grads) -> dict:
        """The float engine at each suspect row: its error, or its results."""
        graph, errors = self.graph, {}
        leaves = [graph.leaves[name] for name in self.columns]
        for r in rows.tolist():
            for leaf, column in zip(leaves, columns):
                leaf.data = float(column[r])
            try:
                value[r] = graph.forward()
                if self.grads:
                    for name, g in graph.gradients(self.wrt).items():
                        grads[name][r] = g
            except DomainError as e:
                errors[r] = (e, [float(column[r]) for column in columns])
        return errors

    # -- many points, block by block
    def blocks(self, rows: Iterable[Sequence[float]]) -> Iterator[tuple[int, Block]]:
        """(index of the block's first row, its results) for points given
        row by row, reading only one block of rows at a time."""
        np = _np()
        it = iter(rows)
        start = 0
        width = len(self.columns)
        while True:
            chunk = list(itertools.islice(it, self.block_size))
            if not chunk:
                return
            table = np.array(chunk, dtype=float).reshape(len(chunk), width)
            with paused_gc():
                yield start, self.run([table[:, j] for j in range(width)])
            start += len(chunk)


def at_points(graph: Graph, columns: Mapping[str, Sequence[float]], wrt: Sequence[str] | None = None,
              grads: bool = True) -> Block:
    """The library's one call: a graph at the points given as columns,
    ``{"a": [1, 2, 3], "b": [...]}``, in one block however many points.
    Columns of different lengths, or a value that is not a finite number
    (NaN, a string, a bool, a list), raise an ``InputError`` naming the
    column and the row (counted from 1), as ``--at`` names a file's."""
    if graph.opaque is not None:
        require_ops([graph.opaque], "many points at once (--at)")
    if not isinstance(columns, Mapping):
        raise InputError(f"the points are {type(columns).__name__}: give them as columns, "
                         "such as {\"a\": [1, 2, 3], \"b\": [4, 5, 6]}")
    for name in columns:
        if not isinstance(name, str):
            raise InputError(f"the column name {name!r} is not a string: name each column by its input")
    batch = Batch(graph, list(columns), wrt, grads)
    checked = [_column(name, columns[name]) for name in batch.columns]
    for name, column in zip(batch.columns[1:], checked[1:]):
        if len(column) != len(checked[0]):
            raise InputError(f"the column `{name}` has {len(column)} values; `{batch.columns[0]}` has "
                             f"{len(checked[0])}", notes=["every column gives one value a point"])
    return batch.run(checked)


def _column(name: str, values):
    """One column of ``at_points`` as float64, or an ``InputError`` saying
    which row is not a finite number. Arrays of numbers pass in one NumPy
    step; anything else is judged value by value."""
    np = _np()
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise InputError(f"the column `{name}` is {type(values).__name__}, not a sequence of numbers",
                         notes=[f"give it as a list or an array, such as \"{name}\": [1, 2, 3]"])
    array = values if isinstance(values, np.ndarray) else None
    if array is None and not isinstance(values, (list, tuple)):
        array = np.asarray(values)              # (a pandas Series, an Arrow array, a range)
    if array is not None and array.ndim == 1 and array.dtype.kind in "iuf":
        array = array.astype(np.float64)
        bad = np.flatnonzero(~np.isfinite(array))
        if len(bad):
            raise InputError(f"row {bad[0] + 1} of `{name}`: {float(array[bad[0]])!r} is not a finite number")
        return array
    out = np.empty(len(values), np.float64)
    for r, value in enumerate(values):
        ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
        if ok:
            try:
                value = float(value)
            except OverflowError:
                ok = False
        if not ok or not math.isfinite(value):
            if isinstance(value, np.generic):
                value = value.item()
            shown = repr(value)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            what = "is text, not a number" if isinstance(value, (str, bytes)) else "is not a finite number"
            raise InputError(f"row {r + 1} of `{name}`: {printable(shown)} {what}")
        out[r] = value
    return out


# ------------------------------------------------------- a graph, shipped

def pack(batch) -> tuple:
    """A Batch as plain data (no recursion: the nodes as a flat list of
    tuples, operands by index), for pickling to other processes."""
    graph = batch.graph
    nodes = [(n.data, n.op, tuple(c.index for c in n.children), n.label, n.kind, n.pos)
             for n in graph.nodes]
    names = {k: v.index for k, v in graph.names.items()}
    leaves = {k: v.index for k, v in graph.leaves.items()}
    return (nodes, names, leaves, graph.output.index, graph.output_name, graph.source,
            batch.columns, batch.wrt if batch.grads else None, batch.grads, batch.fixed)


def unpack(state: tuple):
    nodes, names, leaves, out, output_name, source, columns, wrt, grads, fixed = state
    built: list = []
    with paused_gc():
        for i, (data, op, children, label, kind, pos) in enumerate(nodes):
            node = Value(data, tuple(built[c] for c in children), op, label, kind, pos)
            node.index = i
            built.append(node)
    graph = Graph(built, {k: built[i] for k, i in names.items()},
                  {k: built[i] for k, i in leaves.items()}, built[out], output_name, source)
    return Batch(graph, columns, wrt, grads, fixed=fixed)
