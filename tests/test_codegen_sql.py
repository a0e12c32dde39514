"""Generated SQL in its three dialects (issue 21 items 5 and 6), each run in
its real engine: DuckDB (Python package), SQLite (Python's sqlite3) and
PostgreSQL (Debian's server, started here: initdb into a temporary folder,
a unix socket there and no TCP, stopped at the end; talked to with `psql`).
Against `grad` within the contract's 1e-12, NULL where grad fails, never an
error: the examples, every op, the failures, hostile names, the places
where PostgreSQL raises (float overflow and underflow), deep programs (a
script of temporary tables), and the spellings that were NULL or 0 where
grad gives numbers (hypot at 3e200, asinh' past 1.3e154, log1p past
2.5e305, erf in SQLite).
"""

from __future__ import annotations

import glob
import math
import os
import random
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import pytest

from gradcli.codegen import DIALECTS, generate
from gradcli.ops import FUNCTIONS, OPS
from tests.test_codegen import (ERRORS, EXAMPLE_FILES, FAIL, HOSTILE_NAMES, Case, check, hostile_program,
                                one_op_program)

try:
    import duckdb
except ImportError:  # pragma: no cover - a test dependency
    duckdb = None

INITDB = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
PSQL = shutil.which("psql")


# ------------------------------------------------------------------ engines

class Postgres:
    """A throwaway PostgreSQL server: its own data folder and socket in a
    temporary folder (owned by the `postgres` user when the tests run as
    root: initdb refuses root), no TCP."""

    def __init__(self):
        bindir = Path(INITDB[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="gradcli-pg-"))
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.ctl = [*self.as_user, str(bindir / "pg_ctl"), "-D", str(self.dir / "data")]
        subprocess.run([*self.as_user, str(bindir / "initdb"), "-D", str(self.dir / "data"), "-A", "trust",
                        "-U", "postgres", "--no-sync"], check=True, capture_output=True)
        subprocess.run([*self.ctl, "-o", f"-k {self.dir} -c listen_addresses=''", "-l", str(self.dir / "log"),
                        "-w", "start"], check=True, capture_output=True)

    def run(self, script: str) -> subprocess.CompletedProcess:
        return subprocess.run([PSQL or "psql", "-h", str(self.dir), "-U", "postgres", "-X", "-q", "-A", "-t",
                               "-v", "ON_ERROR_STOP=1", "-f", "-"], input=script, capture_output=True, text=True)

    def stop(self):
        subprocess.run([*self.ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def pg():
    if not INITDB or PSQL is None:
        pytest.skip("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb and psql: "
                    ".ci/run installs Debian's postgresql)")
    server = Postgres()
    yield server
    server.stop()


def parse(value: str):
    return None if value == "" else float(value)


def run(dialect: str, code: str, points, inputs, pg=None, table="points"):
    """The rows the generated SQL returns over a table of ``points``:
    (value, grads...) or (FAIL,) where any is NULL."""
    n = len(points)
    if dialect == "postgres":
        cols = ", ".join(f'"{c}" DOUBLE PRECISION' for c in inputs) or "_row INTEGER"
        values = ", ".join("(" + (", ".join(f"'{p[c]!r}'::float8" for c in inputs) or str(k)) + ")"
                           for k, p in enumerate(points))
        done = pg.run(f"DROP TABLE IF EXISTS {table};\nCREATE TABLE {table} ({cols});\n"
                      f"INSERT INTO {table} VALUES {values};\n{code}")
        assert done.returncode == 0, done.stderr[-3000:] + code[:3000]
        rows = [tuple(parse(v) for v in line.split("|")) for line in done.stdout.splitlines() if line]
    else:
        con = duckdb.connect() if dialect == "duckdb" else sqlite3.connect(":memory:")
        con.execute(f"CREATE TABLE {table} (" + (", ".join(f'"{c}" DOUBLE' for c in inputs) or "_row INTEGER")
                    + ")")
        con.executemany(f"INSERT INTO {table} VALUES (" + (", ".join("?" * len(inputs)) or "?") + ")",
                        [[p[c] for c in inputs] or [k] for k, p in enumerate(points)])
        if dialect == "sqlite":
            statements = code.rstrip().rstrip(";").rsplit(";\n", 1)
            if len(statements) == 2:
                con.executescript(statements[0] + ";")
            rows = con.execute(statements[-1]).fetchall()
        else:
            rows = con.execute(code).fetchall()
    assert len(rows) == n
    out = []
    for row in rows:
        values = row[len(inputs):]
        assert all(isinstance(v, float) for v in values if v is not None), row
        out.append((FAIL,) if any(v is None for v in values) else tuple(values))
    return out


def compare(text: str, dialect: str, pg=None, points=None, n: int = 16, spread: float = 2.0, wrt=None):
    case = Case(text, wrt)
    if points is None:
        points = case.points(random.Random(text), n, spread)
    points = [{**p, **case.defaults} for p in points]
    inputs = [name for name, leaf in case.graph.leaves.items() if leaf.kind == "input"]
    code = generate(case.graph, "sql", wrt, dialect=dialect).code
    have = run(dialect, code, points, inputs, pg)
    want = [case.grad(p) for p in points]
    check(case, "sql", code, points, want, have)
    return want, have, code


def engines(pg_needed=True):
    out = []
    for d in DIALECTS:
        marks = []
        if d == "duckdb" and duckdb is None:
            marks.append(pytest.mark.skip(reason="duckdb is not installed (pip install duckdb)"))
        if d == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
            marks.append(pytest.mark.skip(reason="SQLite before 3.35 has no math functions"))
        out.append(pytest.param(d, marks=marks))
    return out


@pytest.fixture
def engine(request, pg):
    return request.param, (pg if request.param == "postgres" else None)


def failing_points(case: Case):
    """ERRORS' points that fit the case (its leaves)."""
    return [{n: v for n, v in zip(case.leaves, point.values())}
            for _, point, _ in ERRORS if set(point) == set(case.leaves)]


PROGRAMS = ([p.read_text() for p in EXAMPLE_FILES]
            + [one_op_program(name) for name in sorted(OPS)]
            + [text for text, _, _ in ERRORS])


# ------------------------------------------------------------------ every program, every engine

@pytest.mark.parametrize("dialect", engines())
@pytest.mark.parametrize("text", PROGRAMS, ids=[t.replace("\n", "; ")[:40] for t in PROGRAMS])
def test_every_example_op_and_failure_in_every_dialect(text, dialect, request):
    pg = request.getfixturevalue("pg") if dialect == "postgres" else None
    case = Case(text)
    points = case.points(random.Random(text), 16, 1.5) + failing_points(case)
    compare(text, dialect, pg, points)


@pytest.mark.parametrize("dialect", engines())
def test_hostile_names_in_every_dialect(dialect, request):
    pg = request.getfixturevalue("pg") if dialect == "postgres" else None
    names = [n for n in HOSTILE_NAMES if n not in ("Math", "grad_x")]
    compare(hostile_program(names), dialect, pg, n=8)


# ------------------------------------------------------------------ where PostgreSQL raises, and the old spellings

# (program, points): where a float overflows or underflows to 0 (PostgreSQL
# raises `value out of range` in both: grad gives inf, a failure, NULL here,
# and 0), and where the old spellings were NULL or 0 (hypot at 3e200,
# asinh' past 1.3e154, log1p past 2.5e305).
EXTREMES = [
    ("y = x * w", [(1e-200, 1e-200), (1e200, 1e200), (-1e-300, 1e-30), (5e-324, 0.5), (1e300, 1e8), (0.0, 1e300)]),
    ("y = x / w", [(1e-300, 1e30), (1e300, 1e-30), (5e-324, 3.0), (-1e-310, 1e10), (1.0, 5e-324)]),
    ("y = x + w", [(1e308, 1e308), (1e308, -1e308), (-1.7e308, -1e307), (1.7976931348623157e308, 1e291)]),
    ("y = x - w", [(1e308, -1e308), (-1e308, 1e308), (1.7e308, 1.7e308)]),
    ("y = exp(x)", [(-800.0,), (800.0,), (-745.0,), (-745.2,), (709.7,), (709.8,)]),
    ("y = sigmoid(x) * w", [(800.0, 2.0), (-800.0, 2.0), (-745.5, 1.0), (40.0, 1e-300)]),
    ("y = softplus(x) * w", [(800.0, 2.0), (-800.0, 2.0), (-740.0, 1.0)]),
    ("y = tanh(x) * w", [(400.0, 2.0), (-400.0, 2.0), (20.0, 1e-300), (1e300, 1.0)]),
    ("y = x ** w", [(10.0, -400.0), (10.0, 400.0), (0.5, 1e301), (2.0, 1e301), (10.0, -320.0), (-10.0, 3.0),
                    (1e-200, 2.0), (1.5, 5e-324), (0.0, 3.0), (-1.0, 1e300), (1e-300, -2.0), (3.0, 700.0)]),
    ("y = x ** 3", [(1e-120,), (1e120,), (-1e-110,), (2.0,)]),
    ("y = x * x * x", [(1e-120,), (1e110,), (1e-110,)]),
    ("y = erf(x) * w", [(30.0, 1.0), (-30.0, 2.0), (1e-300, 1.0), (5e-324, 1.0), (5.5, 1.0), (0.5, 1e-300)]),
    ("y = hypot(x, w)", [(3e200, 4e200), (3e-200, 4e-200), (1e-320, 1e-320), (1e308, 1e308), (1.2e308, 1e300),
                         (0.0, 2e-310), (1e200, 1e-200), (-3.0, 4.0)]),
    ("y = asinh(x)", [(2.6e154,), (1e200,), (-1e300,), (1e-300,)]),
    ("y = atan(x)", [(1e200,), (1e-300,)]),
    ("y = log1p(x)", [(1e306,), (1.7e308,), (2.6e305,), (-0.999999,), (1e-300,)]),
    ("y = sqrt(x) * log(x)", [(1e-320,), (5e-324,), (1e300,)]),
    ("y = sin(x) + cos(x) + tan(x)", [(1e300,), (1e-300,)]),
    ("y = relu(x) * max(x, w) * min(x, w) * sign(w) * step(x) * abs(w)", [(1e-200, -1e-200), (1e200, 1e200)]),
]


@pytest.mark.parametrize("dialect", engines())
@pytest.mark.parametrize("text,points", EXTREMES, ids=[e[0] for e in EXTREMES])
def test_overflow_underflow_and_the_tails_in_every_dialect(text, points, dialect, request):
    pg = request.getfixturevalue("pg") if dialect == "postgres" else None
    case = Case(text)
    want, have, code = compare(text, dialect, pg, [dict(zip(case.leaves, p)) for p in points])
    for w, h in zip(want, have):     # relative, not the absolute floor of check(): 1e-155 is not 0
        if w[0] != FAIL:
            assert all(abs(a - b) <= 1e-12 * abs(a) + 1e-320 for a, b in zip(w, h)), (w, h, dialect, text)
