"""Many points at the speed of the data (issue 14): formats, the fast CSV
path and its Python judge, repr-exact float text, --jobs, Dask, progress.

Every result is compared with one-point `grad` (the float engine), and
every output with the one-process, pure-Python one."""

from __future__ import annotations

import json
import math
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gradcli import pointsio, pointsrun
from gradcli.arrays import Batch
from gradcli.build import build, structure
from gradcli.cli import app
from gradcli.errors import InputError
from gradcli.parse import parse

from conftest import EXAMPLES

runner = CliRunner()
NEURON = (EXAMPLES / "neuron.grad").read_text()
EVERY_OP = ("y = exp(a*0.1) + log(b) - tanh(a) * relu(a - b) + sigmoid(b) / sqrt(b) + abs(a) "
            "+ sin(a) * cos(b) + tan(a*0.1) + softplus(a) + log1p(b) + sign(a) + step(a) "
            "+ max(a, b) * min(a, b) + a ** 2 + b ** a + pow(b, 0.5) + (-a) + relu(a) + abs(a - b)")


def one_point(program, point, wrt=None):
    graph = build(parse(program), point)
    return graph.value, graph.gradients(wrt)


def gradcli(*args, input=None, env=None):
    return subprocess.run([sys.executable, "-m", "gradcli", *map(str, args)], input=input,
                          capture_output=True, env=env)


def neuron_points(n, seed=0):
    rng = np.random.default_rng(seed)
    return {k: rng.normal(size=n) for k in ("x1", "x2", "w1", "w2", "b")}


def write_csv(path, cols):
    names = list(cols)
    rows = zip(*[cols[k].tolist() for k in names])
    path.write_text(",".join(names) + "\n" + "".join(",".join(map(repr, r)) + "\n" for r in rows))


# ------------------------------------------------------------ float text

WRITERS = ("format", "numpy")


def writers(which, monkeypatch=None):
    """The way numbers become text: "format" (C, Schubfach's digits; skipped where
    it is not built) or "numpy" (orjson's digits laid out by NumPy).
    Without ``monkeypatch`` it returns the undo."""
    if which == "format" and pointsio._c_format() is None:
        pytest.skip("the C half is not built here (no C compiler at install)")
    if which == "format":
        return None if monkeypatch is not None else (lambda: None)
    if monkeypatch is not None:
        monkeypatch.setattr(pointsio, "_c_format", lambda: None)
        return None
    saved = pointsio._c_format
    pointsio._c_format = lambda: None
    return lambda: setattr(pointsio, "_c_format", saved)


def test_the_c_half_is_built_where_there_is_a_compiler():
    """setup.py builds _layout.c as an optional extension: with a C
    compiler (CI installs gcc) it must be there and load."""
    import shutil

    if not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("no C compiler: orjson and NumPy write the numbers")
    assert pointsio._c_format() is not None


def test_the_c_format_is_repr_for_random_bit_patterns():
    """The C half's shortest digits in repr's layout, against repr itself,
    for doubles drawn as random bits (every exponent, subnormals, both
    signs), the smallest subnormals, and numbers of every length of
    digits."""
    if pointsio._c_format() is None:
        pytest.skip("the C half is not built here")
    rng = np.random.default_rng(11)
    x = rng.integers(0, 2 ** 64 - 1, size=300_000, dtype=np.uint64, endpoint=True).view(np.float64)
    x = x[np.isfinite(x)]
    x = np.concatenate([x, [0.0, 1.0, -1.0, 1e16, 9999999999999998.0, 1e-4, 9.999999999999999e-05, 1e-5,
                            5e-324, 2.0 ** 53, 2.0 ** 63, 1e21, 1e22, 123.0, 0.1, float("inf"), -float("inf")]])
    lengths = [float(f"{v:.{n}e}") for n in range(17) for v in rng.uniform(1, 10, 2_000) * 10.0 ** rng.integers(-320, 308, 2_000)]
    x = np.concatenate([x, np.arange(1, 100_001, dtype=np.uint64).view(np.float64), lengths,
                        [10.0 ** k for k in range(-323, 309)], [2.0 ** k for k in range(-1074, 1024)]])
    x = x + 0.0
    out = np.empty(25 * len(x), np.uint8)
    size = pointsio._c_format()(x.ctypes.data, len(x), 1, None, out.ctypes.data)
    assert out[:size].tobytes().decode() == "".join(f"{v!r}\n" for v in x.tolist())


def test_the_table_of_powers_of_ten_is_the_scripts():
    """src/gradcli/_pow10.h is what tools/pow10_table.py writes (exact
    integers), so the table is checked, not trusted."""
    import runpy

    from conftest import ROOT

    script = runpy.run_path(str(ROOT / "tools" / "pow10_table.py"))
    assert (ROOT / "src" / "gradcli" / "_pow10.h").read_text() == script["main"]()


@pytest.mark.parametrize("which", WRITERS)
@pytest.mark.parametrize("splice", [0.0, 1.0])     # edited with index arrays, or repr'd one by one
def test_float_text_is_repr_at_every_magnitude(splice, which, monkeypatch):
    writers(which, monkeypatch)
    monkeypatch.setattr(pointsio, "SPLICE", splice)
    rng = np.random.default_rng(1)
    x = rng.normal(size=50_000) * 10.0 ** rng.integers(-30, 30, size=50_000)
    x[20_000:30_000] = rng.normal(size=10_000) * 10.0 ** rng.integers(-320, 300, size=10_000)
    x[30_000:40_000] = rng.uniform(-1e-4, 1e-4, size=10_000) * 10.0 ** rng.integers(-6, 1, size=10_000)
    x[:20] = [0.0, -0.0, 1.0, 1e16, 9999999999999998.0, 1e-4, 9.999999999999999e-05, 1e-5, 5e-324,
              1.7976931348623157e308, -2.5, 123.0, 1e15, 1e22, 0.1, 1 / 3, 2.0 ** 53, -1e-7, 1e300, 2.0 ** -1074]
    y = -x[::-1].copy()
    text = pointsio.float_lines([x, y]).decode()
    assert text == "".join(f"{a + 0.0!r},{b + 0.0!r}\n" for a, b in zip(x.tolist(), y.tolist()))
    bad = rng.uniform(size=len(x)) < 0.1
    text = pointsio.float_lines([x, y, x], bad).decode()
    assert text == "".join(",,\n" if e else f"{a + 0.0!r},{b + 0.0!r},{a + 0.0!r}\n"
                           for a, b, e in zip(x.tolist(), y.tolist(), bad.tolist()))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e300, 1e300), st.floats(-1e-3, 1e-3)), min_size=1, max_size=40),
       st.integers(1, 4), st.sampled_from([*WRITERS, None]))
def test_float_text_with_and_without_orjson(values, k, with_orjson):
    """with_orjson: one of WRITERS, or None for no C and no orjson (repr
    one by one)."""
    cols = [np.array(values) * (j + 1) for j in range(k)]
    bad = np.zeros(len(values), bool)
    bad[::3] = True
    expected = "".join(("," * (k - 1) if b else ",".join(repr(float(c[r]) + 0.0) for c in cols)) + "\n"
                       for r, b in enumerate(bad.tolist()))
    saved = pointsio._orjson
    undo = writers(with_orjson or "numpy")
    if with_orjson is None:
        pointsio._orjson = lambda: None
    try:
        assert pointsio.float_lines(cols, bad).decode() == expected
    finally:
        pointsio._orjson = saved
        undo()


def test_orjson_fast_path_is_taken_when_orjson_is_installed():
    """The probe refuses an orjson whose float text it cannot put in repr's
    layout, silently falling back to repr (about 4x slower at 1e6 points).
    orjson 3.11 began writing ``1e+16`` where older ones wrote ``1e16``; the
    probe refused it and every run took the slow path unseen. This test fails
    when that happens again."""
    pytest.importorskip("orjson")
    assert pointsio._orjson() is not None


@pytest.mark.parametrize("big", [b"1e16", b"1e+16", b"-1.5e300", b"-1.5e+300", b"1.7976931348623157e308",
                                 b"1.7976931348623157e+308"])
def test_layout_takes_either_spelling_of_a_large_exponent(big):
    x = float(big)
    text = b"[0.5," + big + b",1e-7,0.000015]"
    expected = f"0.5,{x!r}\n1e-07,1.5e-05\n".encode()
    assert pointsio._layout(np, np.frombuffer(text, np.uint8), np.array([0.5, x, 1e-7, 1.5e-5]), 2).tobytes() \
        == expected


# ------------------------------------------- the fast CSV path and its judge

CELLS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["1", "-2", "+3", ".5", "5.", "1e3", "1E-3", "007", " 1", "1 ", "inf", "nan", "NaN",
                     "-inf", "1e999", "", '"1"', "0x10", "1_0", "1.5d3", "--1", "1e", "e5", "null", "N/A",
                     "\u0661", "1.2.3", "+-1", "true", "Infinity", "1e+308", "4.9e-324"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(CELLS, min_size=2, max_size=2), min_size=1, max_size=6))
def test_arrow_accepts_exactly_what_the_python_reader_accepts(rows):
    assert_fast_path_agrees(pointsio._arrow_csv, "".join(",".join(r) + "\n" for r in rows).encode(), json=False)


def assert_fast_path_agrees(fast_reader, data, json):
    """Arrow's reader declines (None) wherever Python's refuses, and reads
    the same numbers wherever it does not decline."""
    try:
        python = pointsio._python_chunk(data, 2, "t", ["a", "b"], json=json)
    except InputError:
        python = None
    fast = fast_reader(data, 2, "t", ["a", "b"], data.count(b"\n"))
    if python is None:
        assert fast is None
    elif fast is not None:
        assert fast.rows == python.rows
        for f, p in zip(fast.columns, python.columns):
            assert f.tolist() == p.tolist()


JSON_VALUES = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-10 ** 30, 10 ** 30).map(str),
    st.sampled_from(["1", "-0", "1e3", "1E-3", "01", ".5", "5.", "+1", "NaN", "Infinity", "-Infinity", "1e999",
                     "9" * 400, "true", "null", '"1"', "[1]", '{"a": 1}', "1,", "1}", "1} {\"a\": 1, \"b\": 2",
                     "9007199254740993", "4.9e-324", "1e-400"]),
)
JSON_LINES = st.one_of(
    st.tuples(JSON_VALUES, JSON_VALUES, st.sampled_from(['{"a": %s, "b": %s}', '{"b":%s,"a":%s}',
                                                        '  {"a" : %s ,"b": %s}\r', '{"a": %s, "a": %s, "b": 1}',
                                                        '{"a": %s, "b": %s, "c": 1}', '{"a": %s}  %s',
                                                        '\ufeff{"a": %s, "b": %s}', '{"\\u0061": %s, "b": %s}']))
    .map(lambda t: t[2] % t[:2]),
    st.sampled_from(["", " ", "[1, 2]", '{"a": 1, "b": 2}{"a": 1, "b": 2}', "{}", '{"a": {"b": 1}, "b": 2}']),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(JSON_LINES, min_size=1, max_size=6))
def test_arrow_reads_json_lines_exactly_as_the_python_reader(lines):
    """Arrow's JSON reader is the fast path; Python's json judges: Arrow
    must decline (None) wherever Python reads otherwise or refuses."""
    assert_fast_path_agrees(pointsio._arrow_json, "".join(line + "\n" for line in lines).encode(), json=True)


def test_arrow_takes_plain_json_lines():
    """The fast path is taken where it should be (else the test above
    passes with a path that always declines)."""
    pytest.importorskip("pyarrow")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(500, 2)) * 10.0 ** rng.integers(-300, 300, size=(500, 2))
    data = "".join(f'{{"a": {a!r}, "b": {b!r}}}\n' for a, b in x.tolist()).encode()
    fast = pointsio._arrow_json(data, 2, "t", ["a", "b"], 500)
    assert fast is not None and fast.rows == 500
    assert fast.columns[0].tolist() == x[:, 0].tolist() and fast.columns[1].tolist() == x[:, 1].tolist()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e300, 1e300), st.floats(-1e-3, 1e-3)), min_size=1, max_size=30),
       st.integers(1, 40), st.booleans(), st.booleans())
def test_json_lines_fast_writer_equals_the_plain_one(values, k, grads, some_bad):
    for which in WRITERS if pointsio._c_format() is not None else ("numpy",):
        undo = writers(which)
        try:
            check_json_lines_writer(values, k, grads, some_bad)
        finally:
            undo()


def check_json_lines_writer(values, k, grads, some_bad):
    """JSON lines from orjson's text with marked separators, byte for byte
    the lines Python writes one by one (also past the 30 marks, where the
    plain writer takes over), with error rows whole."""
    pytest.importorskip("orjson")
    k = k if grads else 1
    cols = [np.array(values) * (j + 1) for j in range(k)]
    names = ["value"] + [f"grad_x{j}" for j in range(1, k)]
    bad = None
    messages = []
    if some_bad:
        bad = np.zeros(len(values), bool)
        bad[::3] = True
        messages = [f"error {r} \"quoted\"" for r in np.flatnonzero(bad).tolist()]
    fast = pointsio.encode("jsonl", names, grads, cols, bad, messages)
    expected = []
    for r in range(len(values)):
        if bad is not None and bad[r]:
            expected.append(json.dumps({"value": None, "error": messages[r // 3]}))
        elif grads:
            expected.append(json.dumps({"value": float(cols[0][r]) + 0.0,
                                        "grad": {n[5:]: float(c[r]) + 0.0 for n, c in zip(names[1:], cols[1:])}}))
        else:
            expected.append(json.dumps({"value": float(cols[0][r]) + 0.0}))
    assert fast.decode() == "".join(line + "\n" for line in expected)


def test_errors_name_the_line_across_chunks_and_blank_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(pointsio, "CHUNK_BYTES", 64)
    body = "".join(f"{i}\n" if i % 7 else "\n" for i in range(1, 400))
    points = tmp_path / "p.csv"
    points.write_text("x\n" + body + "-1\n")
    r = runner.invoke(app, ["grad", "log(x)", "--at", str(points)])
    lines = ("x\n" + body).count("\n") + 1
    count = 399 - 399 // 7 + 1
    assert r.exit_code == 1 and r.stdout == ""
    assert f"at point {count} (line {lines} of `{points}`)" in r.stderr
    points.write_text("x\n" + body + "1,2\n")
    r = runner.invoke(app, ["grad", "log(x)", "--at", str(points)])
    assert r.exit_code == 2 and f"line {lines} of `{points}` has 2 values" in r.stderr
    # A chunk Arrow read with blank lines in it: the line is found on demand.
    points.write_text("x\n1\n\n2\n\n\n0\n3\n")
    r = runner.invoke(app, ["grad", "log(x)", "--at", str(points)])
    assert "at point 3 (line 7 of" in r.stderr


def test_a_line_longer_than_the_cap_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(pointsio, "MAX_LINE", 100)      # a line never makes a block larger by more
    monkeypatch.setattr(pointsio, "CHUNK_BYTES", 16)
    points = tmp_path / "p.csv"
    points.write_text("x\n1\n" + "1" * 500 + "\n")
    r = runner.invoke(app, ["eval", "x", "--at", str(points)])
    assert r.exit_code == 2 and "line 3 of" in r.stderr and "longer than 100 bytes" in r.stderr


# ------------------------------------------------------------- formats

@pytest.fixture(scope="module")
def neuron_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("neuron")
    cols = neuron_points(3000)
    write_csv(d / "p.csv", cols)
    table = pa.table(cols)
    pq.write_table(table, d / "p.parquet", row_group_size=700)
    feather.write_feather(table, d / "p.feather")
    with pa.OSFile(str(d / "p.arrow"), "wb") as f, pa.ipc.new_stream(f, table.schema) as w:
        w.write_table(table, max_chunksize=1000)                  # the IPC stream format
    (d / "p.jsonl").write_text("".join(json.dumps(dict(zip(cols, r))) + "\n"
                                       for r in zip(*[c.tolist() for c in cols.values()])))
    (d / "p.data").write_bytes((d / "p.parquet").read_bytes())  # sniffed by its magic
    return d, cols


@pytest.mark.parametrize("name", ["p.csv", "p.parquet", "p.feather", "p.arrow", "p.jsonl", "p.data"])
def test_every_input_format_gives_the_one_point_results(neuron_files, name):
    d, cols = neuron_files
    r = gradcli("grad", "-f", EXAMPLES / "neuron.grad", "--at", d / name)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines[0] == "value,grad_x1,grad_x2,grad_w1,grad_w2,grad_b"
    assert len(lines) == 3001
    reference = gradcli("grad", "-f", EXAMPLES / "neuron.grad", "--at", d / "p.csv").stdout.decode().splitlines()
    assert lines == reference
    for i in (0, 1, 1234, 2999):
        point = {k: cols[k][i] for k in cols}
        value, grads = one_point(NEURON, point)
        row = [float(v) for v in lines[i + 1].split(",")]
        assert row[0] == pytest.approx(value, rel=1e-12)
        assert row[1:] == pytest.approx(list(grads.values()), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet", "arrow", "feather"])
def test_every_output_format_by_extension(neuron_files, tmp_path, ext):
    d, cols = neuron_files
    out = tmp_path / f"out.{ext}"
    r = gradcli("grad", "-f", EXAMPLES / "neuron.grad", "--at", d / "p.parquet", "-o", out)
    assert r.returncode == 0 and r.stdout == b"" and r.stderr == b""
    csv_text = gradcli("grad", "-f", EXAMPLES / "neuron.grad", "--at", d / "p.csv").stdout.decode()
    header, *rows = csv_text.splitlines()
    expected = [[float(v) for v in row.split(",")] for row in rows]
    if ext == "csv":
        assert out.read_text() == csv_text
    elif ext == "jsonl":
        got = [json.loads(line) for line in out.read_text().splitlines()]
        assert [[g["value"], *g["grad"].values()] for g in got] == expected
        assert out.read_text() == gradcli("grad", "-f", EXAMPLES / "neuron.grad", "--at", d / "p.csv",
                                          "--json").stdout.decode()
    else:
        table = pq.read_table(out) if ext == "parquet" else feather.read_table(out)
        assert table.column_names == header.split(",")
        assert [list(r.values()) for r in table.to_pylist()] == expected


def test_a_directory_or_glob_is_read_in_sorted_order(tmp_path):
    d = tmp_path / "parts"
    d.mkdir()
    (d / "b.csv").write_text("x,y\n3,4\n")
    (d / "a.csv").write_text("x,y\n1,2\n")
    pq.write_table(pa.table({"y": [6.0], "x": [5.0]}), d / "c.parquet")   # columns in another order
    (d / "_SUCCESS").write_text("")
    (d / ".hidden.csv").write_text("x,y\nnot,numbers\n")
    for at in (d, d / "*"):
        r = runner.invoke(app, ["eval", "x*10 + y", "--at", str(at)])
        assert r.exit_code == 0, r.stderr
        assert r.stdout == "value\n12.0\n34.0\n56.0\n"
    (d / "d.csv").write_text("x,z\n1,2\n")
    r = runner.invoke(app, ["eval", "x*10 + y", "--at", str(d)])
    assert r.exit_code == 2 and "d.csv` has the columns x, z" in r.stderr and r.stdout == ""
    r = runner.invoke(app, ["eval", "x", "--at", str(tmp_path / "nothing*.csv")])
    assert r.exit_code == 2 and "no file matches" in r.stderr


def test_a_byte_order_mark_before_the_header_is_no_name(tmp_path):
    points = tmp_path / "p.csv"
    points.write_bytes(b"\xef\xbb\xbfx,y\r\n1,2\r\n")
    r = runner.invoke(app, ["eval", "x*y", "--at", str(points)])
    assert r.exit_code == 0 and r.stdout == "value\n2.0\n"


def test_bad_columnar_inputs_name_the_row_and_column(tmp_path):
    p = tmp_path / "p.parquet"
    pq.write_table(pa.table({"x": [1.0, None, 3.0]}), p)
    r = runner.invoke(app, ["eval", "x", "--at", str(p)])
    assert r.exit_code == 2 and f"row 2 of `{p}`: the value of `x` is missing" in r.stderr
    pq.write_table(pa.table({"x": [1.0, math.inf]}), p)
    r = runner.invoke(app, ["eval", "x", "--at", str(p)])
    assert r.exit_code == 2 and "row 2 of" in r.stderr and "not a finite number" in r.stderr
    pq.write_table(pa.table({"x": ["a"]}), p)
    r = runner.invoke(app, ["eval", "x", "--at", str(p)])
    assert r.exit_code == 2 and "holds string, not numbers" in r.stderr
    pq.write_table(pa.table({"x": [1, 2], "y": [3, 4]}), p)                 # integers are numbers
    r = runner.invoke(app, ["eval", "x*y", "--at", str(p)])
    assert r.stdout == "value\n3.0\n8.0\n"
    (tmp_path / "junk.parquet").write_text("x\n1\n")
    r = runner.invoke(app, ["eval", "x", "--at", str(tmp_path / "junk.parquet")])
    assert r.exit_code == 2 and "cannot read" in r.stderr and "as Parquet" in r.stderr


@pytest.mark.parametrize("args,message", [
    (["-o", "out.txt"], "cannot tell the format of -o `out.txt`"),
    (["--jobs", "-1"], "--jobs -1"),
    (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler writes a Parquet dataset: give its directory as -o DIR"),
])
def test_bad_points_options_exit_2(tmp_path, args, message):
    r = runner.invoke(app, ["eval", "x", "--at", "-", *args], input="x\n1\n")
    assert r.exit_code == 2 and r.stdout == "" and message in r.stderr


def test_points_options_need_at():
    r = runner.invoke(app, ["eval", "x", "x=1", "-o", "out.csv"])
    assert r.exit_code == 2 and "-o needs --at POINTS" in r.stderr
    r = runner.invoke(app, ["grad", "x", "x=1", "--jobs", "2", "--scheduler", "a:1"])
    assert r.exit_code == 2 and "--scheduler, --jobs need --at POINTS" in r.stderr


# -------------------------------------------------- every op, kinks, errors

def test_every_op_with_kinks_and_skipped_errors_agrees_with_one_point_grad(tmp_path):
    rng = np.random.default_rng(7)
    a = rng.uniform(-3, 3, 400)
    b = rng.uniform(-1, 4, 400)
    a[:8] = [0.0, 0.0, 1.0, 2.0, -1.0, 0.0, 3.0, 0.5]       # relu, abs, sign, step at 0; max/min ties
    b[:8] = [0.0, 1.0, 1.0, 2.0, -1.0, 2.0, 3.0, 0.5]       # log(0), b <= 0: errors
    points = tmp_path / "p.csv"
    write_csv(points, {"a": a, "b": b})
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"out.{fmt}"
        r = runner.invoke(app, ["grad", EVERY_OP, "--at", str(points), "--on-error", "skip", "-o", str(out)])
        assert r.exit_code == 0, r.stderr
        rows = (pq.read_table(out).to_pylist() if fmt == "parquet" else
                [dict(zip(["value", "grad_a", "grad_b"], [float(v) if v else None for v in line.split(",")]))
                 for line in out.read_text().splitlines()[1:]])
        errors = 0
        for i, row in enumerate(rows):
            try:
                value, grads = one_point(EVERY_OP, {"a": a[i], "b": b[i]})
            except Exception:
                errors += 1
                assert row == {"value": None, "grad_a": None, "grad_b": None}
                continue
            assert row["value"] == pytest.approx(value, rel=1e-12, abs=1e-14)
            assert row["grad_a"] == pytest.approx(grads["a"], rel=1e-12, abs=1e-14)
            assert row["grad_b"] == pytest.approx(grads["b"], rel=1e-12, abs=1e-14)
        assert errors > 50 and f"note: {errors} of 400 points had a math error" in r.stderr
        assert "line 2 of" in r.stderr                      # b = 0: log(0)


def test_a_failed_point_writes_nothing_anywhere(tmp_path):
    points = tmp_path / "p.csv"
    points.write_text("x\n" + "1\n" * 70000 + "-1\n")
    for ext in ("csv", "parquet", "arrow", "jsonl"):
        out = tmp_path / f"out.{ext}"
        out.write_bytes(b"before")
        for jobs in ("1", "2") if ext in ("csv", "parquet") else ("1",):
            r = gradcli("grad", "log(x)", "--at", points, "-o", out, "--jobs", jobs)
            assert r.returncode == 1 and r.stdout == b""
            assert b"at point 70001 (line 70002 of" in r.stderr and b"log(-1)" in r.stderr
            assert out.read_bytes() == b"before"
    assert sorted(os.listdir(tmp_path)) == ["out.arrow", "out.csv", "out.jsonl", "out.parquet", "p.csv"]


# --------------------------------------------------------------- --jobs

def test_jobs_give_the_one_process_output_byte_for_byte(tmp_path, monkeypatch):
    monkeypatch.setattr(pointsio, "CHUNK_BYTES", 1 << 14)     # many chunks in flight
    monkeypatch.setattr(pointsrun, "cores", lambda: 3)        # three workers, however many cores there are
    cols = neuron_points(20_000, seed=3)
    cols["x1"][7_777] = cols["w1"][7_777] = 1e300     # x1*w1 overflows: an error row
    points = tmp_path / "p.csv"
    write_csv(points, cols)
    args = ["grad", "-f", str(EXAMPLES / "neuron.grad"), "--at", str(points)]
    base = runner.invoke(app, [*args, "--on-error", "skip"])
    assert base.exit_code == 0 and "line 7779" in base.stderr
    for jobs in ("2", "3", "0"):
        r = runner.invoke(app, [*args, "--on-error", "skip", "--jobs", jobs])
        assert r.exit_code == 0 and r.stdout == base.stdout and r.stderr == base.stderr
    fail1 = runner.invoke(app, args)
    fail2 = runner.invoke(app, [*args, "-j", "2"])
    assert fail1.exit_code == fail2.exit_code == 1 and fail1.stderr == fail2.stderr and fail2.stdout == ""
    assert "at point 7778 (line 7779" in fail2.stderr
    r = gradcli(*args, "--jobs", "2")                 # and through the console script, in a real process
    assert r.returncode == 1 and r.stderr.decode() == fail1.stderr and r.stdout == b""


def test_jobs_count_lines_across_blocks_read_by_workers(tmp_path, monkeypatch):
    monkeypatch.setattr(pointsio, "CHUNK_BYTES", 1 << 10)
    rows = [f"{i % 13 - 6},{i}\n" + ("\n" if i % 97 == 0 else "") for i in range(3000)]
    points = tmp_path / "p.csv"
    points.write_text("\nx,y\n" + "".join(rows))                  # a blank line first
    args = ["grad", "log(x + 7) * y + sqrt(x + 6)", "--at", str(points)]
    for extra in (["--on-error", "skip"], []):
        one = runner.invoke(app, [*args, *extra])
        two = runner.invoke(app, [*args, *extra, "-j", "2"])
        assert (one.exit_code, one.stdout, one.stderr) == (two.exit_code, two.stdout, two.stderr)
    assert "at point 1 (line 3 of" in one.stderr                       # sqrt(0): its gradient
    points.write_text("x,y\n" + "".join(rows[:2500]) + "1,zz\n" + "".join(rows[2500:]))
    one = runner.invoke(app, [*args, "--on-error", "skip"])
    two = runner.invoke(app, [*args, "--on-error", "skip", "-j", "2"])
    assert one.exit_code == two.exit_code == 2 and one.stderr == two.stderr and two.stdout == ""
    assert "`zz` is not a number" in two.stderr


SMALL_SLOTS = textwrap.dedent("""
    import sys
    from gradcli import pointsrun
    pointsrun.Workers.SLOT = int(sys.argv.pop(1))     # blocks larger than this come through the pipe
    from gradcli.cli_fast import main
    sys.argv[0] = "gradcli"
    main()
""")


def test_jobs_in_a_real_process_fork_and_share_slots(tmp_path):
    """The console script forks its workers before it imports NumPy, and
    they leave each block's text in shared memory; in a process that has
    NumPy already (a library caller, this test process) a fork server starts
    them and text comes through pipes. Both give the one-process bytes, for
    CSV and JSON lines, in files and on standard output, with blocks that
    fit their slot and blocks that do not."""
    probe = "from gradcli import pointsrun; w = pointsrun.Workers(2); print(w.slots is not None); w.close()"
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert r.stdout == "True\n" and r.stderr == ""
    import gradcli.pointsrun as pr
    w = pr.Workers(2)                         # here NumPy and pyarrow are loaded: no fork, no slots
    try:
        assert w.slots is None
    finally:
        w.close()
    cols = neuron_points(90_000, seed=5)      # about 9 MB of CSV: three blocks for the workers
    cols["x1"][45_000] = cols["w1"][45_000] = 1e300
    points = tmp_path / "p.csv"
    write_csv(points, cols)
    args = ["grad", "-f", EXAMPLES / "neuron.grad", "--at", points, "--on-error", "skip"]
    for out in ("a.csv", "a.jsonl", None):
        o = ["-o", tmp_path / out] if out else []
        one = gradcli(*args, *o)
        assert one.returncode == 0
        expected = (tmp_path / out).read_bytes() if out else one.stdout
        assert len(expected) > 8_000_000
        for runner_args in ([], ["SMALL"]):
            if runner_args:
                cmd = [sys.executable, "-c", SMALL_SLOTS, "65536", *map(str, args), *map(str, o), "--jobs", "2"]
                two = subprocess.run(cmd, capture_output=True)
            else:
                two = gradcli(*args, *o, "--jobs", "2")
            assert two.returncode == 0 and two.stderr == one.stderr
            assert ((tmp_path / out).read_bytes() if out else two.stdout) == expected


def test_jobs_share_columns_both_ways_for_parquet(tmp_path):
    """Points this process reads (Parquet here) go to the workers through
    shared input slots, and results for Parquet come back as columns in
    shared slots (the record batch is made here): the same table as one
    process, error rows (nulls) included, and the same with slots too small
    (everything through pipes)."""
    cols = neuron_points(200_000, seed=9)
    cols["x1"][[10, 150_000]] = 1e300
    cols["w1"][[10, 150_000]] = 1e300                    # x1*w1 overflows: two error rows
    points = tmp_path / "p.parquet"
    pq.write_table(pa.table(cols), points, row_group_size=30_000)
    args = ["grad", "-f", EXAMPLES / "neuron.grad", "--at", points, "--on-error", "skip"]
    for out in ("a.parquet", "a.csv"):
        one = gradcli(*args, "-o", tmp_path / out)
        assert one.returncode == 0 and b"2 of 200000 points" in one.stderr
        expected = (tmp_path / out).read_bytes()
        table = pq.read_table(tmp_path / out) if out.endswith(".parquet") else None
        for small in (False, True):
            cmd = ([sys.executable, "-c", SMALL_SLOTS, "4096"] if small else [sys.executable, "-m", "gradcli"])
            two = subprocess.run([*cmd, *map(str, args), "-o", str(tmp_path / out), "--jobs", "2"],
                                 capture_output=True)
            assert two.returncode == 0 and two.stderr == one.stderr
            if table is None:
                assert (tmp_path / out).read_bytes() == expected
            else:
                again = pq.read_table(tmp_path / out)
                assert again.equals(table) and again.column("value").null_count == 2


def test_a_batch_travels_as_flat_data_without_recursion():
    program = "x = a\n" + "x = x * 1.0001 + b\n" * 5_000      # far deeper than the recursion limit
    batch = Batch(structure(parse(program)), ["a", "b"])
    again = pickle.loads(pickle.dumps(batch))                       # Batch.__reduce__: flat data
    block = again.run([[0.5, 1.0], [0.0, 0.25]])
    expected = batch.run([[0.5, 1.0], [0.0, 0.25]])
    assert block.value.tolist() == expected.value.tolist()
    assert block.grads["a"].tolist() == expected.grads["a"].tolist()


# ------------------------------------------------------ no extra installed

BLOCKER = textwrap.dedent("""
    import sys
    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("pyarrow", "orjson", "polars"):
                raise ImportError("hidden by the test: " + name)
    sys.meta_path.insert(0, Block())
    from gradcli.cli_fast import main
    sys.argv[0] = "gradcli"
    main()
""")


def test_csv_and_json_lines_work_without_pyarrow_or_orjson(tmp_path, neuron_files):
    d, _ = neuron_files

    def bare(*args, input=None):
        return subprocess.run([sys.executable, "-c", BLOCKER, *map(str, args)], capture_output=True, input=input)

    probe = BLOCKER.split("from gradcli")[0] + "import gradcli.pointsio as p; print(p.arrow(), p._orjson())"
    check = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert check.stdout.strip() == "None None"                 # the blocker works
    for name, extra in (("p.csv", []), ("p.jsonl", ["--json"])):
        with_all = gradcli("grad", "-f", EXAMPLES / "neuron.grad", "--at", d / name, *extra)
        without = bare("grad", "-f", EXAMPLES / "neuron.grad", "--at", d / name, *extra)
        assert without.returncode == 0 and without.stdout == with_all.stdout
    r = bare("grad", "-f", EXAMPLES / "neuron.grad", "--at", d / "p.parquet")
    assert r.returncode == 2 and r.stdout == b""
    assert b'Parquet needs pyarrow: pip install "gradcli[data]"' in r.stderr
    r = bare("grad", "a*b", "--at", "-", "-o", tmp_path / "o.feather", input=b"a,b\n1,2\n")
    assert r.returncode == 2 and b"Arrow IPC needs pyarrow" in r.stderr
    r = bare("eval", "log(x)", "--at", "-", "--on-error", "skip", input=b"x\n1\n0\n1e-7\n")
    assert r.stdout == b"value\n0.0\n\n-16.11809565095832\n"


# ----------------------------------------------------------- Dask cluster

@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("dask.distributed")
    c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                 dashboard_address=None)
    yield c
    c.close()


def test_dask_cluster_gives_every_row_of_the_single_process_result(cluster, tmp_path):
    cols = neuron_points(20_000, seed=5)
    cols["x1"][12_345] = cols["w1"][12_345] = 1e300     # an error row in the third part
    data = tmp_path / "data"
    data.mkdir()
    table = pa.table(cols)
    for i, start in enumerate(range(0, 20_000, 6000)):
        pq.write_table(table.slice(start, 6000), data / f"part-{i}.parquet", row_group_size=2500)
    out = tmp_path / "results"
    single = gradcli("grad", "-f", EXAMPLES / "neuron.grad", "--at", data, "-o", tmp_path / "single.parquet",
                     "--on-error", "skip")
    r = gradcli("grad", "-f", EXAMPLES / "neuron.grad", "--at", data.as_uri() + "/",   # through fsspec
                "--scheduler", cluster.scheduler_address, "-o", out, "--on-error", "skip")
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(out)) == [f"part-{i:05d}.parquet" for i in range(4)]
    assert pq.read_table(tmp_path / "single.parquet").to_pylist() == pq.read_table(out).to_pylist()
    for i in range(4):
        assert pq.read_table(out / f"part-{i:05d}.parquet").num_rows == min(6000, 20_000 - 6000 * i)
    assert b"1 of 20000 points had a math error" in r.stderr and b"row 346 of" in r.stderr
    # Without skip: the one-process error, and no dataset at all.
    single = gradcli("grad", "-f", EXAMPLES / "neuron.grad", "--at", data)
    failed = gradcli("grad", "-f", EXAMPLES / "neuron.grad", "--at", data, "--scheduler", cluster.scheduler_address,
                     "-o", tmp_path / "never")
    assert failed.returncode == single.returncode == 1 and failed.stdout == b""
    assert failed.stderr == single.stderr and b"at point 12346 (row 346 of" in failed.stderr
    assert not (tmp_path / "never").exists()
    assert sorted(p for p in os.listdir(tmp_path) if p.startswith(".")) == []
    # Files that do not give the same names: said as without a cluster, exit 2.
    odd = tmp_path / "odd"
    odd.mkdir()
    pq.write_table(table.slice(0, 10), odd / "a.parquet")
    pq.write_table(table.slice(0, 10).rename_columns(["x1", "x2", "w1", "w2", "c"]), odd / "b.parquet")
    r = gradcli("grad", "-f", EXAMPLES / "neuron.grad", "--at", odd, "--scheduler", cluster.scheduler_address,
                "-o", tmp_path / "never")
    assert r.returncode == 2 and b"b.parquet` has the columns x1, x2, w1, w2, c" in r.stderr
    assert not (tmp_path / "never").exists()
    # An existing dataset is replaced whole.
    r = gradcli("eval", "x1 + b + 0*(x2 + w1 + w2)", "--at", data / "part-0.parquet",
                "--scheduler", cluster.scheduler_address, "-o", out)
    assert r.returncode == 0 and os.listdir(out) == ["part-00000.parquet"]
    assert pq.read_table(out).column("value").to_pylist() == (table.column("x1")[:6000].to_numpy()
                                                              + table.column("b")[:6000].to_numpy()).tolist()


def test_scheduler_errors_exit_2(tmp_path):
    data = tmp_path / "p.csv"
    data.write_text("x\n1\n")
    r = runner.invoke(app, ["eval", "x", "--at", str(data), "--scheduler", "tcp://127.0.0.1:9", "-o",
                            str(tmp_path / "o")])
    assert r.exit_code == 2 and "reads a Parquet dataset" in r.stderr


# -------------------------------------------------------------- progress

def test_progress_on_a_terminal_and_nothing_when_piped(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    points = tmp_path / "p.csv"
    write_csv(points, neuron_points(60_000, seed=9))
    out = tmp_path / "out.csv"
    child = pexpect.spawn(sys.executable, ["-m", "gradcli", "grad", "-f", str(EXAMPLES / "neuron.grad"),
                                           "--at", str(points), "-o", str(out)],
                          env={**os.environ, "COLUMNS": "100"}, timeout=120)
    child.expect(r"[\d,]+ points")
    child.expect(r"points/s")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and len(out.read_text().splitlines()) == 60_001
    r = gradcli("grad", "-f", EXAMPLES / "neuron.grad", "--at", points, "-o", out)
    assert r.returncode == 0 and r.stderr == b""


def test_the_readme_real_cluster_commands_work(tmp_path):
    """docs/howto/speed.md's three commands for a real cluster, as written,
    with the scheduler's host, the program, the dataset and DIR filled in."""
    pytest.importorskip("dask.distributed")
    import re
    import socket
    import time

    from conftest import ROOT

    readme = (ROOT / "docs" / "howto" / "speed.md").read_text()
    block = next(b for b in re.findall(r"```sh\n(.*?)```", readme, flags=re.S) if "dask scheduler" in b)
    commands = [line.split("#")[0].split() for line in block.strip().splitlines()]
    assert [c[:2] for c in commands] == [["dask", "scheduler"], ["dask", "worker"], ["gradcli", "grad"]]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path / "points"
    data.mkdir()
    cols = neuron_points(5000, seed=11)
    pq.write_table(pa.table(cols).slice(0, 2000), data / "a.parquet")
    pq.write_table(pa.table(cols).slice(2000), data / "b.parquet")
    fill = {"8786": str(port), "SCHEDULER": "127.0.0.1", "model.grad": str(EXAMPLES / "neuron.grad"),
            "s3://bucket/points/": str(data), "/shared/results": str(tmp_path / "results")}

    def filled(cmd):
        out = []
        for word in cmd:
            for k, v in fill.items():
                word = word.replace(k, v)
            out.append(word)
        return out

    python_m = {"dask": [sys.executable, "-m", "dask"], "gradcli": [sys.executable, "-m", "gradcli"]}
    procs = [subprocess.Popen(python_m["dask"] + filled(c)[1:] + (["--no-dashboard"] if c[1] == "worker" else
                                                                   ["--no-dashboard", "--host", "127.0.0.1"]),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for c in commands[:2]]
    try:
        for _ in range(120):
            r = subprocess.run(python_m["gradcli"] + filled(commands[2])[1:], capture_output=True)
            if r.returncode == 0:
                break
            time.sleep(1)
        assert r.returncode == 0, r.stderr
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)
    single = gradcli("grad", "-f", EXAMPLES / "neuron.grad", "--at", data, "-o", tmp_path / "single.parquet")
    assert single.returncode == 0
    assert pq.read_table(tmp_path / "results").to_pylist() == pq.read_table(tmp_path / "single.parquet").to_pylist()


# ------------------------------------------------ the writing thread

def test_writer_keeps_order_and_raises_a_write_error_in_the_caller():
    written = []

    def write(payload):
        if payload == 3:
            raise OSError(28, "No space left on device")
        written.append(payload)

    with pointsrun.Writer(write) as w:
        for i in range(3):
            w(i)
    assert written == [0, 1, 2]
    with pytest.raises(OSError, match="No space"):
        with pointsrun.Writer(write) as w:
            for i in range(100):
                w(i)                        # raises at a later write, or at the end
    assert written == [0, 1, 2, 0, 1, 2]    # nothing after the failed write


def test_writer_stops_when_the_run_fails():
    written = []
    with pytest.raises(KeyError):
        with pointsrun.Writer(written.append, depth=100) as w:
            w(1)
            raise KeyError("a point failed")
    assert written in ([], [1])             # what waited is dropped, and the error is the run's


def test_a_full_disk_fails_the_run_cleanly(tmp_path, neuron_files):
    """Through the whole run: the writer thread's error is the command's
    (exit 1, a message, no traceback), as it was when this process wrote."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    d, _ = neuron_files
    with open("/dev/full", "wb") as full:
        r = subprocess.run([sys.executable, "-m", "gradcli", "grad", "-f", str(EXAMPLES / "neuron.grad"),
                            "--at", str(d / "p.csv")], stdout=full, stderr=subprocess.PIPE)
    assert r.returncode == 1
    assert b"No space left on device" in r.stderr and b"Traceback" not in r.stderr


def test_a_write_error_in_the_writer_thread_leaves_no_file(tmp_path, neuron_files, monkeypatch):
    d, _ = neuron_files
    calls = []

    def write_encoded(self, payload):
        calls.append(1)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pointsio, "CHUNK_BYTES", 4096)          # many blocks: the error comes mid-run
    monkeypatch.setattr(pointsio.Sink, "write_encoded", write_encoded)
    out = tmp_path / "out.csv"
    r = runner.invoke(app, ["grad", NEURON, "--at", str(d / "p.csv"), "-o", str(out)])
    assert r.exit_code == 1 and r.stdout == "" and "No space left on device" in r.stderr
    assert calls == [1] and not out.exists() and os.listdir(tmp_path) == []


# ------------------------------------- extra columns (issue 25, item 8)

EXTRA_CSV = ('id,a,label,b\n'
             '007,1.5,"x, y",2\n'
             '8,2,"say ""hi""",3\n'
             '9,0.1,plain,-4\n')


def extra_expected(ids, labels, json_ids=False):
    """The results of grad a*b at EXTRA_CSV's points, with ``ids`` and
    ``labels`` as the output writes them: CSV and JSON lines."""
    points = [(1.5, 2.0), (2.0, 3.0), (0.1, -4.0)]
    csv_rows = [f"{i},{label},{a * b!r},{b!r},{a!r}\n" for i, label, (a, b) in zip(ids[0], labels[0], points)]
    json_rows = [f'{{"id": {i}, "label": {label}, "value": {a * b!r}, "grad": {{"a": {b!r}, "b": {a!r}}}}}\n'
                 for i, label, (a, b) in zip(ids[1], labels[1], points)]
    return "id,label,value,grad_a,grad_b\n" + "".join(csv_rows), "".join(json_rows)


def test_extra_columns_of_csv_are_carried_in_every_output_format(tmp_path):
    points = tmp_path / "p.csv"
    points.write_text(EXTRA_CSV)
    csv_text, json_text = extra_expected(
        (["007", "8", "9"], ['"007"', '"8"', '"9"']),
        (['"x, y"', '"say ""hi"""', "plain"], ['"x, y"', '"say \\"hi\\""', '"plain"']))
    for jobs in ("1", "2"):
        for source, stdin in ((points, None), ("-", EXTRA_CSV.encode())):
            r = gradcli("grad", "a*b", "--at", source, "--jobs", jobs, input=stdin)
            assert (r.returncode, r.stdout.decode(), r.stderr) == (0, csv_text, b"")
            r = gradcli("grad", "a*b", "--at", source, "--json", "--jobs", jobs, input=stdin)
            assert (r.returncode, r.stdout.decode(), r.stderr) == (0, json_text, b"")
        for out, read in (("o.parquet", pq.read_table), ("o.arrow", feather.read_table)):
            r = gradcli("grad", "a*b", "--at", points, "-o", tmp_path / out, "--jobs", jobs)
            assert r.returncode == 0, r.stderr
            table = read(tmp_path / out)
            assert table.column_names == ["id", "label", "value", "grad_a", "grad_b"]
            assert table.schema.field("id").type == pa.string()         # text, as it was: 007 stays 007
            assert table.column("id").to_pylist() == ["007", "8", "9"]
            assert table.column("label").to_pylist() == ["x, y", 'say "hi"', "plain"]
            assert table.column("value").to_pylist() == [3.0, 6.0, 0.1 * -4.0]
    # --drop-extra: exactly the results of the points without them
    plain = tmp_path / "plain.csv"
    plain.write_text("a,b\n1.5,2\n2,3\n0.1,-4\n")
    for extra in ([], ["--json"]):
        dropped = gradcli("grad", "a*b", "--at", points, "--drop-extra", *extra)
        assert dropped.returncode == 0 and dropped.stdout == gradcli("grad", "a*b", "--at", plain, *extra).stdout


def test_extra_columns_of_parquet_and_arrow_keep_their_types(tmp_path):
    import datetime

    table = pa.table({
        "id": pa.array([2**60 + 1, 2, 3], pa.int64()),          # an id past 2**53, carried exactly
        "a": [1.5, 2.0, 0.1],
        "label": ["x, y", 'say "hi"', None],
        "when": pa.array([datetime.date(2024, 1, 2)] * 3, pa.date32()),
        "ok": [True, False, None],
        "b": [2.0, 3.0, -4.0],
    })
    pq.write_table(table, tmp_path / "p.parquet")
    feather.write_feather(table, tmp_path / "p.arrow")
    extras = table.select(["id", "label", "when", "ok"])
    for source in ("p.parquet", "p.arrow"):
        for jobs in ("1", "2"):
            r = gradcli("grad", "a*b", "--at", tmp_path / source, "-o", tmp_path / "o.parquet", "--jobs", jobs)
            assert r.returncode == 0, r.stderr
            out = pq.read_table(tmp_path / "o.parquet")
            assert out.select(["id", "label", "when", "ok"]).equals(extras)
            assert out.column_names[4:] == ["value", "grad_a", "grad_b"]
        r = gradcli("eval", "a*b", "--at", tmp_path / source)
        assert r.stdout.decode() == ("id,label,when,ok,value\n"
                                     f"1152921504606846977,\"x, y\",2024-01-02,true,3.0\n"
                                     f"2,\"say \"\"hi\"\"\",2024-01-02,false,6.0\n"
                                     f"3,,2024-01-02,,{0.1 * -4.0!r}\n")
        r = gradcli("eval", "a*b", "--at", tmp_path / source, "--json")
        assert [json.loads(line) for line in r.stdout.decode().splitlines()] == [
            {"id": 2**60 + 1, "label": "x, y", "when": "2024-01-02", "ok": True, "value": 3.0},
            {"id": 2, "label": 'say "hi"', "when": "2024-01-02", "ok": False, "value": 6.0},
            {"id": 3, "label": None, "when": "2024-01-02", "ok": None, "value": 0.1 * -4.0}]


def test_extra_keys_of_json_lines_keep_their_kinds(tmp_path):
    points = tmp_path / "p.jsonl"
    points.write_text('{"id": 7, "a": 1.5, "tag": "q", "w": 0.5, "ok": true, "b": 2}\n'
                      '{"id": 8, "a": 2, "tag": null, "w": 3, "ok": false, "b": 3}\n')
    r = gradcli("eval", "a*b", "--at", points, "--json")
    assert r.stdout.decode() == ('{"id": 7, "tag": "q", "w": 0.5, "ok": true, "value": 3.0}\n'
                                 '{"id": 8, "tag": null, "w": 3.0, "ok": false, "value": 6.0}\n')
    r = gradcli("eval", "a*b", "--at", points)
    assert r.stdout.decode() == "id,tag,w,ok,value\n7,q,0.5,true,3.0\n8,,3.0,false,6.0\n"
    r = gradcli("eval", "a*b", "--at", points, "-o", tmp_path / "o.parquet")
    out = pq.read_table(tmp_path / "o.parquet")
    assert [str(t) for t in out.schema.types] == ["int64", "string", "double", "bool", "double"]
    # one kind a column: said with its line
    points.write_text('{"id": 7, "a": 1, "b": 2}\n{"id": "eight", "a": 2, "b": 3}\n')
    r = gradcli("eval", "a*b", "--at", points)
    assert r.returncode == 2 and r.stdout == b""
    assert r.stderr.decode() == (f"error: line 2 of `{points}`: the value of `id` is a string; the first line "
                                 "gives an integer\n  = note: an extra column holds one kind of value, or null\n")
    points.write_text('{"id": {"x": 1}, "a": 1, "b": 2}\n')
    r = gradcli("eval", "a*b", "--at", points)
    assert r.returncode == 2 and r.stderr.decode() == (
        f"error: line 1 of `{points}`: the value of `id` is an object; an extra column carries strings, "
        "numbers, true, false or null\n")


def test_extra_columns_with_skip_keep_their_row(tmp_path):
    points = tmp_path / "p.csv"
    points.write_text("id,x\nfirst,1\nsecond,-1\nthird,4\n")
    r = gradcli("eval", "log(x)", "--at", points, "--on-error", "skip")
    assert r.stdout.decode() == f"id,value\nfirst,0.0\nsecond,\nthird,{math.log(4)!r}\n"
    r = gradcli("eval", "log(x)", "--at", points, "--on-error", "skip", "--json")
    lines = [json.loads(line) for line in r.stdout.decode().splitlines()]
    assert [line["id"] for line in lines] == ["first", "second", "third"]
    assert lines[1]["value"] is None and "log" in lines[1]["error"]
    r = gradcli("eval", "log(x)", "--at", points)              # without skip: the point, and nothing written
    assert r.returncode == 1 and r.stdout == b"" and b"at point 2 (line 3 of" in r.stderr


@pytest.mark.parametrize("text, message", [
    ("value,a\n1,2\n", "error: the column `value` of `{p}` is not an input of the program, and the results have "
                       "a column `value` too\n  = note: rename it, or leave the extra columns out with --drop-extra\n"),
    ("id,a\n1,2,3\n", "error: line 2 of `{p}` has 3 values; the header names 2\n"),
    ('id,a\n"open,2\n', "error: line 2 of `{p}`: unexpected end of data (a quote left open?)\n"),
    ("id,a\nx,two\n", "error: line 2 of `{p}`: `two` is not a number (write numbers such as 2, -3, 0.5 or 1e-3)\n"),
    ("1.5,a\n1,2\n", "error: line 1 of `{p}`: `1.5` is not a column name; the first row names the columns, "
                     "such as `a,b`\n"),
    ("id,a,id\n1,2,3\n", "error: line 1 of `{p}`: the column `id` appears twice\n"),
])
def test_bad_points_with_extra_columns(tmp_path, text, message):
    points = tmp_path / "p.csv"
    points.write_text(text)
    r = gradcli("eval", "a*2", "--at", points)
    assert (r.returncode, r.stdout, r.stderr.decode()) == (2, b"", message.format(p=points))


def test_a_column_named_like_a_computed_node_is_carried(tmp_path):
    points = tmp_path / "p.csv"
    points.write_text("x,y,loss\n1,3,0.5\n2,3,0.25\n")
    r = gradcli("eval", "loss = (2*x - y)**2; loss", "--at", points)
    assert (r.returncode, r.stdout.decode()) == (0, "loss,value\n0.5,1.0\n0.25,1.0\n")


def test_a_missing_input_says_which_columns_are_carried(tmp_path):
    points = tmp_path / "p.csv"
    points.write_text("a,bb\n1,2\n")
    r = gradcli("eval", "a*b", "--at", points)
    assert r.returncode == 2 and r.stderr.decode().endswith(
        f"  = note: the columns of `{points}` that are not inputs of the program are carried into the results; "
        "it gives the inputs `a`\n")


@pytest.mark.parametrize("json_lines", [False, True])
def test_the_fast_reader_of_extra_columns_agrees_with_its_judge(json_lines):
    head = pointsio.Head(["id", "a", "tag", "b"], ["a", "b"],
                         [("id", "int" if json_lines else "string"), ("tag", "string")], True)
    if json_lines:
        rows = [f'{{"id": {i}, "a": {i * 0.5!r}, "tag": "t{i}", "b": {-i}}}\n' for i in range(500)]
    else:
        rows = [f'{i},{i * 0.5!r},"t, {i}",{-i}\n' for i in range(500)]
    data = "".join(rows).encode()
    fast = pointsio._arrow_mixed(data, 2, "t", head, 500, json_lines)
    slow = pointsio._python_mixed(data, 2, "t", head, json_lines)
    assert fast is not None and fast.rows == slow.rows == 500
    for f, s in zip(fast.columns, slow.columns):
        assert f.tolist() == s.tolist()
    assert [c.to_pylist() for c in fast.extras] == slow.extras
    assert [fast.locate(r) for r in (0, 499)] == [slow.locate(r) for r in (0, 499)] == ["line 2 of t", "line 501 of t"]


def test_extra_columns_over_many_blocks_with_jobs(tmp_path, monkeypatch):
    monkeypatch.setattr(pointsio, "CHUNK_BYTES", 1 << 12)     # many blocks in flight
    cols = neuron_points(5_000, seed=8)
    rows = zip(*[cols[k].tolist() for k in cols])
    points = tmp_path / "p.csv"
    points.write_text("key," + ",".join(cols) + ",note\n" +
                      "".join(f"k{i}," + ",".join(map(repr, r)) + f",n{i % 7}\n" for i, r in enumerate(rows)))
    args = ["grad", "-f", str(EXAMPLES / "neuron.grad"), "--at", str(points)]
    one = runner.invoke(app, args)
    assert one.exit_code == 0
    lines = one.stdout.splitlines()
    assert lines[0].startswith("key,note,value,grad_") and len(lines) == 5_001
    assert lines[4_321].startswith("k4320,n1,")
    for jobs in ("2", "3"):
        r = runner.invoke(app, [*args, "--jobs", jobs])
        assert r.exit_code == 0 and r.stdout == one.stdout


def test_extra_columns_on_a_dask_cluster(cluster, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for i in range(3):
        pq.write_table(pa.table({"id": pa.array(range(10 * i, 10 * i + 10), pa.int64()),
                                 "a": np.arange(10.0) + i, "label": [f"r{10 * i + j}" for j in range(10)]}),
                       data / f"part-{i}.parquet")
    out = tmp_path / "results"
    r = gradcli("grad", "a*a", "--at", data, "--scheduler", cluster.scheduler_address, "-o", out)
    assert r.returncode == 0, r.stderr
    single = gradcli("grad", "a*a", "--at", data, "-o", tmp_path / "single.parquet")
    assert single.returncode == 0
    assert pq.read_table(out).to_pylist() == pq.read_table(tmp_path / "single.parquet").to_pylist()
    assert pq.read_table(out).column_names == ["id", "label", "value", "grad_a"]
    assert pq.read_table(out).column("id").to_pylist() == list(range(30))
    r = gradcli("grad", "a*a", "--at", data, "--scheduler", cluster.scheduler_address, "-o", out, "--drop-extra")
    assert r.returncode == 0 and pq.read_table(out).column_names == ["value", "grad_a"]


def test_extra_columns_across_the_files_of_a_directory(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "1.csv").write_text("id,a,tag\nr1,1,x\n")
    (data / "2.csv").write_text("tag,a,id\ny,2,r2\n")          # the same columns, in another order
    r = gradcli("eval", "a*10", "--at", data)
    assert (r.returncode, r.stdout.decode()) == (0, "id,tag,value\nr1,x,10.0\nr2,y,20.0\n")
    (data / "3.csv").write_text("id,a\nr3,3\n")                 # one extra column fewer
    r = gradcli("eval", "a*10", "--at", data)
    assert r.returncode == 2 and r.stdout == b""
    assert r.stderr.decode().startswith(f"error: `{data / '3.csv'}` has the columns a, id; `{data / '1.csv'}` "
                                        "has a, id, tag\n")
    (data / "3.csv").unlink()
    for i, ids in enumerate((pa.array([1], pa.int64()), pa.array(["two"]))):
        pq.write_table(pa.table({"id": ids, "a": [float(i)]}), tmp_path / f"p{i}.parquet")
    r = gradcli("eval", "a", "--at", tmp_path / "p*.parquet")
    assert r.returncode == 2 and r.stderr.decode() == (
        f"error: the column `id` of `{tmp_path / 'p1.parquet'}` holds string; in `{tmp_path / 'p0.parquet'}` "
        "it holds int64\n  = note: every file of the points gives the same kinds of values\n")


def test_integers_past_2_53_on_a_dask_cluster_are_noted_too(cluster, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    pq.write_table(pa.table({"a": pa.array([1, 2**53 + 1], pa.int64())}), data / "part-0.parquet")
    r = gradcli("eval", "a", "--at", data, "--scheduler", cluster.scheduler_address, "-o", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert r.stderr.decode() == (f"note: row 2 of `{data / 'part-0.parquet'}`: `a` is 9007199254740993, past 2**53, "
                                 "where floats skip integers; it and any other such value of `a` are rounded to "
                                 "the nearest float (9007199254740992.0)\n")
    assert pq.read_table(tmp_path / "out").column("value").to_pylist() == [1.0, 9007199254740992.0]
