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
import sys
import tempfile
from pathlib import Path

import pytest

from gradcli.codegen import DIALECTS, generate
from gradcli.ops import OPS
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


# ------------------------------------------------------------------ deep and wide programs: a script

def tanh_chain(n: int) -> str:
    return "h = x\n" + "h = tanh(h * w + 0.1)\n" * n + "y = h"


@pytest.mark.parametrize("dialect", engines())
def test_a_chain_of_400_statements_runs_in_every_dialect(dialect, request):
    """One SELECT of chained CTEs exceeded DuckDB's expression depth at 300
    statements (SQLite's and PostgreSQL's column limits before): past
    SQL_QUERY_LEVELS the SQL is a script of temporary tables."""
    pg = request.getfixturevalue("pg") if dialect == "postgres" else None
    want, have, code = compare(tanh_chain(400), dialect, pg,
                               [{"x": 0.3, "w": 0.7}, {"x": -1.2, "w": 1.1}, {"x": 1e200, "w": 1e200}])
    assert code.count("CREATE TEMP TABLE") > 100 and code.rstrip().endswith(";")
    assert want[2][0] == FAIL


@pytest.mark.parametrize("dialect", engines())
def test_ten_thousand_operations_run_in_every_dialect(dialect, request):
    """A tanh chain of 10^4 operations (3,333 statements): DuckDB about
    23 s, PostgreSQL 7 s, SQLite 3 s here (10^5: bench/README.md)."""
    pg = request.getfixturevalue("pg") if dialect == "postgres" else None
    want, have, code = compare(tanh_chain(3333), dialect, pg, [{"x": 0.3, "w": 0.9}])
    assert want[0][0] != FAIL and code.count("CREATE TEMP TABLE") > 1000


def test_a_wide_program_is_chunked_by_columns_and_joins(request):
    """1,500 terms side by side (3,000 columns: more than a PostgreSQL table
    or an SQLite result takes) and gradients spread over more than 64
    tables (SQLite's most in a join): chunks of at most SQL_CHUNK_COLUMNS
    columns, results gathered 50 tables at a time."""
    text = "y = " + " + ".join(f"tanh(x * {k % 7 + 1} + w{k % 80})" for k in range(1500))
    case = Case(text)
    code = generate(case.graph, "sql", dialect="sqlite").code
    assert "CREATE TEMP TABLE" in code
    points = case.points(random.Random(5), 3, 1.0)
    for dialect in DIALECTS:
        if dialect == "duckdb" and duckdb is None:
            continue
        pg = request.getfixturevalue("pg") if dialect == "postgres" else None
        compare(text, dialect, pg, points)


@pytest.mark.parametrize("dialect", engines())
def test_the_script_agrees_on_every_example_and_failure(dialect, request, monkeypatch):
    """The script (forced here at every size) is the query's results on the
    examples, every op and the failures."""
    from gradcli import codegen
    monkeypatch.setattr(codegen, "SQL_QUERY_LEVELS", 0)
    monkeypatch.setattr(codegen, "SQL_CHUNK_LEVELS", 3)
    pg = request.getfixturevalue("pg") if dialect == "postgres" else None
    for text in PROGRAMS + [hostile_program([n for n in HOSTILE_NAMES if n not in ("Math", "grad_x")])]:
        case = Case(text)
        points = case.points(random.Random(text), 6, 1.5) + failing_points(case)
        _, _, code = compare(text, dialect, pg, points)
        assert "CREATE TEMP TABLE" in code


@pytest.mark.parametrize("dialect", engines())
def test_the_script_runs_twice_and_leaves_a_table_named_like_its_own(dialect, request, monkeypatch):
    from gradcli import codegen
    monkeypatch.setattr(codegen, "SQL_QUERY_LEVELS", 0)
    pg = request.getfixturevalue("pg") if dialect == "postgres" else None
    case = Case("y = log(x) * x")
    for table in ("gradcli_gradient_1", "gradcli_gradient_0", "points"):
        code = generate(case.graph, "sql", table=table, dialect=dialect).code
        if dialect == "postgres":     # twice in one session: the second SELECT's rows
            code = code + "\n" + code
            done = pg.run(f"DROP TABLE IF EXISTS {table};\nCREATE TABLE {table} (x DOUBLE PRECISION);\n"
                          f"INSERT INTO {table} VALUES (2), (-1);\n{code}")
            assert done.returncode == 0, done.stderr
            assert done.stdout.splitlines()[2:] == done.stdout.splitlines()[:2], done.stdout
            rows = [tuple(parse(v) for v in line.split("|")) for line in done.stdout.splitlines()[2:]]
            have = [(FAIL,) if None in r[1:] else r[1:] for r in rows]
        else:
            have = run(dialect, code + code, [{"x": 2.0}, {"x": -1.0}], ["x"], pg, table=table)
        assert have == [case.grad({"x": 2.0}), (FAIL,)]


# ------------------------------------------------------------------ leaves with a default, from the table

@pytest.mark.parametrize("dialect", engines())
def test_sql_columns_reads_leaves_with_a_default_from_the_table(dialect, request):
    """--sql-columns w1,b: those leaves are columns (their default where the
    cell is NULL); the neuron's SQL read `columns: none` before."""
    pg = request.getfixturevalue("pg") if dialect == "postgres" else None
    text = (Path(__file__).parent.parent / "examples" / "neuron.grad").read_text()
    case = Case(text)
    code = generate(case.graph, "sql", dialect=dialect, columns=["w1", "b"]).code
    assert "(columns: w1, b)" in code
    rnd = random.Random(4)
    cells = [{"w1": rnd.uniform(-3, 3), "b": rnd.uniform(-2, 2)} for _ in range(6)] + [{"w1": None, "b": 0.5}]
    # the table holds the cells (None: NULL); grad is given the default where a cell is NULL
    if dialect == "postgres":
        values = ", ".join(f"({'NULL' if c['w1'] is None else repr(c['w1'])}::float8, {c['b']!r}::float8)"
                           for c in cells)
        done = pg.run(f"DROP TABLE IF EXISTS points;\nCREATE TABLE points (w1 DOUBLE PRECISION, b DOUBLE PRECISION);\n"
                      f"INSERT INTO points VALUES {values};\n{code}")
        assert done.returncode == 0, done.stderr
        rows = [tuple(parse(v) for v in line.split("|")) for line in done.stdout.splitlines()]
    else:
        con = duckdb.connect() if dialect == "duckdb" else sqlite3.connect(":memory:")
        con.execute("CREATE TABLE points (w1 DOUBLE, b DOUBLE)")
        con.executemany("INSERT INTO points VALUES (?, ?)", [[c["w1"], c["b"]] for c in cells])
        rows = con.execute(code).fetchall()
    for cell, row in zip(cells, rows, strict=True):
        point = {**case.defaults, **{k: v for k, v in cell.items() if v is not None}}
        want = case.grad(point)
        assert row[:2] == (point["w1"], point["b"])     # the values used: the default for NULL
        assert all(math.isclose(w, h, rel_tol=1e-12, abs_tol=1e-300) for w, h in zip(want, row[2:])), (want, row)


def test_sql_columns_names_a_leaf():
    done = subprocess.run([sys.executable, "-m", "gradcli", "codegen", "y = a * b", "--lang", "sql",
                           "--sql-columns", "a,q"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "error: --sql-columns: `q` is not a leaf of the program: the leaves are a, b\n"
    done = subprocess.run([sys.executable, "-m", "gradcli", "codegen", "a = 2\ny = a * b", "--lang", "sql",
                           "--sql-columns", "a", "--dialect", "sqlite"], capture_output=True, text=True, check=True)
    assert "COALESCE(CAST(a AS DOUBLE), 2.0e0) AS v_a" in done.stdout
    done = subprocess.run([sys.executable, "-m", "gradcli", "codegen", "y = a", "--lang", "sql",
                           "--dialect", "oracle"], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr == "error: --dialect `oracle` is not an SQL dialect: the dialects are duckdb, postgres, sqlite\n"


# ------------------------------------------------------------------ erf's spelling

def test_erf_in_sql_is_within_1e_15_of_math_erf():
    """SQL's erf (ops._erf_sql: Taylor polynomials, a flat sum) in SQLite at
    25,000 points over [-7, 7] and the pieces' edges; its coefficients (a
    recurrence in floats) against mpmath's."""
    mpmath = pytest.importorskip("mpmath")
    from gradcli.ops import SPELLINGS, _erf_taylor
    mpmath.mp.dps = 40
    for c in (1.0, 3.0, 5.75):
        exact = mpmath.taylor(mpmath.erf, mpmath.mpf(c), 20)
        for k, (a, b) in enumerate(zip(_erf_taylor(c, 20), exact)):
            assert abs(a - float(b)) <= 1e-13 * abs(float(b)) * 2 ** k + 1e-300, (c, k)
    rnd = random.Random(11)
    xs = [rnd.uniform(-7, 7) for _ in range(20000)] + [rnd.uniform(-0.6, 0.6) for _ in range(5000)]
    xs += [e + d for e in (0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.0) for d in (-1e-12, 0.0, 1e-12)]
    xs += [1e-13, 1e-300, 5e-324, 0.0, 1.0 + 1e-13, 2.0 + 1e-250, 1e-12]
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (x REAL)")
    con.executemany("INSERT INTO t VALUES (?)", [[x] for x in xs])
    rows = con.execute("SELECT x, " + SPELLINGS["erf"].forms["sql"].replace("{0}", "x") + " FROM t").fetchall()
    assert len(rows) == len(xs)
    for x, v in rows:
        assert abs(v - math.erf(x)) <= 1e-15 * abs(math.erf(x)), (x, v, math.erf(x))


@pytest.mark.parametrize("dialect", engines())
def test_an_overflow_in_the_adjoint_is_inf_as_in_grad(dialect, request):
    """grad's adjoint may pass through inf to a finite gradient (erf' at
    1e200: x*x is inf, exp(-inf) is 0); PostgreSQL's forms give inf there,
    not NULL, and sin of it is NULL, not an error."""
    pg = request.getfixturevalue("pg") if dialect == "postgres" else None
    for text, points in [("y = erf(x) * w", [(1e200, 2.0), (-1e160, 1.0)]),
                         ("y = tanh(x)", [(1e308,), (-1.7e308,)]),
                         ("y = sin(x * x) + w", [(1e200, 1.0)])]:
        case = Case(text)
        points = [dict(zip(case.leaves, p)) for p in points]
        want, have, _ = compare(text, dialect, pg, points)    # NULL exactly where grad fails, else its numbers
        if "sin" not in text:
            assert FAIL not in [w[0] for w in want] and have == want, (text, want, have)


# ------------------------------------------------------------------ random programs

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.test_codegen import codegen_programs, random_case  # noqa: E402

HUGE_AND_TINY = [1e200, -1e200, 1e-200, -1e-310, 3e154, 800.0, -800.0]


@settings(max_examples=3, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(st.lists(st.tuples(codegen_programs(), st.integers(0, 3)), min_size=30, max_size=30), st.integers(0, 2**32))
def test_random_programs_in_postgres_and_sqlite(pg, programs, seed):
    """3 batches of 30 random programs (every op, reused names, kinks,
    undefined points, --wrt subsets), 6 points each at ordinary sizes and 2
    at huge and tiny ones (where PostgreSQL would raise), in PostgreSQL and
    SQLite (DuckDB: tests/test_codegen.py)."""
    rnd = random.Random(seed)
    for text, kind in programs:
        case = random_case(text, kind)
        if case is None:
            continue
        points = case.points(rnd, 6, 1.5) + [{n: rnd.choice(HUGE_AND_TINY) for n in case.leaves} for _ in range(2)]
        for dialect in ("postgres", "sqlite"):
            compare(case.text, dialect, pg if dialect == "postgres" else None, points, wrt=case.wrt)
