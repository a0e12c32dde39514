"""Code generation (issue 11): every target generated, run, and compared with
`grad` at random points.

Python runs in-process and must agree bit for bit; C is compiled with the
system `cc -O2 -ffp-contract=off` and called through ctypes, bit for bit;
JavaScript runs in `node`, SQL in DuckDB, NumPy on arrays of points, each
within the contract's tolerance. Where `grad` fails, each target fails the
contract's way: Python raises an ArithmeticError naming the place, C returns
non-zero, JavaScript throws a RangeError, NumPy's row is NaN, SQL's NULL.
A target whose toolchain is missing is skipped, saying which.
"""

from __future__ import annotations

import ctypes
import json
import math
import random
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

import gradcli
from gradcli import codegen
from gradcli.build import build, structure
from gradcli.codegen import LANGS, SPELLINGS, generate, js_rules
from gradcli.errors import DomainError
from gradcli.ops import FUNCTIONS, OPS, FloatMath, compute
from gradcli.parse import parse
from tests.composites import paired_program
from tests.conftest import EXAMPLES
from tests.test_symbolic import programs as symbolic_programs

CC = shutil.which("cc") or shutil.which("gcc")
NODE = shutil.which("node")
try:
    import duckdb
except ImportError:  # pragma: no cover - a test dependency
    duckdb = None

needs_cc = pytest.mark.skipif(CC is None, reason="no C compiler (cc) on PATH: .ci/run installs gcc")
needs_node = pytest.mark.skipif(NODE is None, reason="no node on PATH: .ci/run installs nodejs")
needs_duckdb = pytest.mark.skipif(duckdb is None, reason="duckdb is not installed (pip install duckdb)")

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.grad"))
# the contract's micrograd program, as examples/ holds it (comments aside)
MICROGRAD = "".join(line for line in (EXAMPLES / "micrograd_readme.grad").read_text().splitlines(True)
                    if not line.startswith("#"))

FAIL = "fail"


def same(x: float, y: float) -> bool:
    """Bit for bit (a negative zero is not a zero)."""
    return struct.pack("<d", x) == struct.pack("<d", y)


def close(x, y, rel: float) -> bool:
    # relative to the size of the numbers, with an absolute floor for results
    # that cancel to near zero (the terms are O(1) here)
    return math.isclose(x, y, rel_tol=rel, abs_tol=rel)


# ------------------------------------------------------------------ the oracle

class Case:
    """A program, its graph, and grad's results at points."""

    def __init__(self, text: str, wrt=None):
        self.text = text
        self.wrt = wrt
        self.graph = structure(parse(text))
        self.leaves = list(self.graph.leaves)
        self.defaults = {n: v.data for n, v in self.graph.leaves.items() if v.kind == "leaf"}

    def grad(self, point: dict):
        """(value, gradients...) as `grad` gives them, or (FAIL, the DomainError)."""
        try:
            graph = build(parse(self.text), point)
        except DomainError as e:
            return FAIL, e, "forward"
        try:
            grads = graph.gradients(self.wrt)
        except DomainError as e:
            return FAIL, e, "backward"
        return (graph.value, *grads.values())

    def points(self, rnd: random.Random, n: int, spread=2.0, defaults=True):
        special = [0.0, -0.0, 1.0, -1.0, 0.5]
        out = []
        for k in range(n):
            point = {}
            for name in self.leaves:
                if name in self.defaults and (defaults or k == 0):
                    point[name] = self.defaults[name]
                    if defaults and k % 2:
                        point[name] = rnd.uniform(-spread, spread)
                else:
                    point[name] = rnd.choice(special) if rnd.random() < 0.15 else rnd.uniform(-spread, spread)
            out.append(point)
        return out


# ------------------------------------------------------------------ runners

def run_python(code: str, points, leaves, func="gradient"):
    namespace: dict = {}
    exec(compile(code, "<generated>", "exec"), namespace)
    function = namespace[func]
    out = []
    for point in points:
        try:
            out.append(tuple(function(*[point[n] for n in leaves])))
        except ArithmeticError as e:
            out.append((FAIL, str(e)))
    return out


def run_numpy(code: str, points, leaves, func="gradient"):
    namespace: dict = {}
    exec(compile(code, "<generated>", "exec"), namespace)
    arrays = [np.array([p[n] for p in points]) for n in leaves]
    results = namespace[func](*arrays)
    assert all(r.dtype == np.float64 for r in results)
    out = []
    for k in range(len(points)):
        row = [np.broadcast_to(r, (len(points),))[k] for r in results]
        out.append((FAIL,) if any(math.isnan(v) for v in row) else tuple(float(v) for v in row))
    return out


_compiled = 0


def run_c_many(jobs, tmp: Path):
    """jobs: (code, func, points, leaves, n_out); one compilation for all."""
    global _compiled
    _compiled += 1
    src, lib = tmp / f"g{_compiled}.c", tmp / f"g{_compiled}.so"
    code = "\n".join(job[0] for job in jobs)
    src.write_text(code)
    done = subprocess.run([CC, "-std=c99", "-O2", "-ffp-contract=off", "-Wall", "-Wextra", "-Werror", "-shared",
                           "-fPIC", "-o", str(lib), str(src), "-lm"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + code
    dll = ctypes.CDLL(str(lib))
    results = []
    for _, func, points, leaves, n_out in jobs:
        function = getattr(dll, func)
        function.argtypes = [ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_double)]
        function.restype = ctypes.c_int
        out = []
        for point in points:
            args = (ctypes.c_double * max(1, len(leaves)))(*[point[n] for n in leaves])
            res = (ctypes.c_double * n_out)()
            rc = function(args, res)
            out.append((FAIL, rc) if rc else tuple(res))
        results.append(out)
    return results


def run_c(code: str, points, leaves, n_out: int, tmp: Path):
    return run_c_many([(code, "gradient", points, leaves, n_out)], tmp)[0]


def run_js_many(jobs):
    """jobs: (code, func, points, leaves); one node process for all."""
    script = "\n".join(job[0] for job in jobs)
    calls = json.dumps([[func, [[p[n] for n in leaves] for p in points]] for _, func, points, leaves in jobs])
    script += f"""
const all = [];
for (const [name, calls] of {calls}) {{
  const f = eval(name);
  const out = [];
  for (const args of calls) {{
    try {{ out.push(f(...args)); }}
    catch (e) {{ out.push({{error: e.constructor.name, message: e.message}}); }}
  }}
  all.push(out);
}}
process.stdout.write(JSON.stringify(all));
"""
    done = subprocess.run([NODE, "-"], input=script, capture_output=True, text=True, timeout=300)   # stdin: any size
    assert done.returncode == 0, done.stderr
    return [[(FAIL, r["error"], r["message"]) if isinstance(r, dict) else tuple(r) for r in out]
            for out in json.loads(done.stdout)]


def run_js(code: str, points, leaves):
    return run_js_many([(code, "gradient", points, leaves)])[0]


def run_sql(code: str, points, inputs, engine: str = "duckdb"):
    con = duckdb.connect() if engine == "duckdb" else sqlite3.connect(":memory:")
    if inputs:
        con.execute("CREATE TABLE points (" + ", ".join(f'"{n}" DOUBLE' for n in inputs) + ")")
        con.executemany("INSERT INTO points VALUES (" + ", ".join("?" * len(inputs)) + ")",
                        [[p[n] for n in inputs] for p in points])
    else:
        con.execute("CREATE TABLE points (_row INTEGER)")
        con.executemany("INSERT INTO points VALUES (?)", [[k] for k in range(len(points))])
    rows = con.execute(code).fetchall()
    assert len(rows) == len(points)
    out = []
    for row in rows:
        values = row[len(inputs):]
        assert all(isinstance(v, float) for v in values if v is not None)
        out.append((FAIL,) if any(v is None for v in values) else tuple(values))
    return out


# ------------------------------------------------------------------ the comparison

GUARDED = ("log needs", "sqrt needs", "log1p needs", "division by zero", "fractional power")


def compare_many(cases, tmp: Path, rnd: random.Random, n: int = 12, langs=LANGS, spread=2.0):
    """Generate every target for every case, run each at n random points
    (C: one compilation, JavaScript: one node process), compare with grad."""
    jobs = []
    for k, case in enumerate(cases):
        graph = case.graph
        points = case.points(rnd, n, spread)
        sql_points = [{**p, **case.defaults} for p in points]
        inputs = [name for name, leaf in graph.leaves.items() if leaf.kind == "input"]
        n_out = 1 + len(case.wrt if case.wrt is not None else case.leaves)
        codes = {lang: generate(graph, lang, case.wrt, name=f"gradient_{k}").code for lang in langs}
        jobs.append((case, points, sql_points, inputs, n_out, codes))
    got: dict[str, list] = {}
    if "c" in langs and CC is not None:
        got["c"] = run_c_many([(codes["c"], f"gradient_{k}", points, case.leaves, n_out)
                               for k, (case, points, _, _, n_out, codes) in enumerate(jobs)], tmp)
    if "js" in langs and NODE is not None:
        got["js"] = run_js_many([(codes["js"], f"gradient_{k}", points, case.leaves)
                                 for k, (case, points, _, _, _, codes) in enumerate(jobs)])
    expected_all = []
    for k, (case, points, sql_points, inputs, n_out, codes) in enumerate(jobs):
        expected = [case.grad(p) for p in points]
        sql_expected = [case.grad(p) for p in sql_points] if "sql" in langs else []
        expected_all.append(expected)
        for lang in langs:
            code = codes[lang]
            if lang == "python":
                have_all = run_python(code, points, case.leaves, f"gradient_{k}")
            elif lang == "numpy":
                have_all = run_numpy(code, points, case.leaves, f"gradient_{k}")
            elif lang == "sql":
                if duckdb is None:
                    continue
                have_all = run_sql(code, sql_points, inputs)
            elif lang in got:
                have_all = got[lang][k]
            else:
                continue
            check(case, lang, code, sql_points if lang == "sql" else points,
                  sql_expected if lang == "sql" else expected, have_all)
    return expected_all


# CPython's math.hypot is its own algorithm, not the C library's hypot: C's
# hypot (and asinh's derivative, g / hypot(1, x)) can differ in the last bit.
NOT_LIBM = ("hypot", "asinh")


def check(case, lang, code, points, expected, results):
    exact = lang == "python" or lang == "c" and not any(n.op in NOT_LIBM for n in case.graph.nodes)
    for point, want, have in zip(points, expected, results):
        where = f"{lang} at {point}:\n{case.text}\n{code}"
        if want[0] == FAIL:
            assert have[0] == FAIL, f"grad fails ({want[1].message}) but {where} gives {have}"
            error, phase = want[1], want[2]
            if lang == "python" and phase == "forward" and any(g in error.message for g in GUARDED):
                assert have[1].startswith(f"{error.pos}: "), (have[1], error.message, where)
            if lang == "js":
                assert have[1] == "RangeError", where
            continue
        assert have[0] != FAIL, f"grad gives {want} but {where} fails: {have}"
        assert len(have) == len(want), where
        slack = None
        for k, (w, h) in enumerate(zip(want, have)):
            if exact:
                assert same(w, h), f"{w!r} != {h!r}: {where}"
                continue
            rel = 1e-15 if lang == "c" else 1e-13 if lang == "numpy" else 1e-12
            if close(w, h, rel):
                continue
            # Another libm (V8's, DuckDB's) is 1 ulp off here and there; an
            # ill-conditioned program (tan of exp(3u)**40) magnifies that. The
            # tolerance is then the program's own: how far grad moves when the
            # inputs move by 1 to 8 ulp.
            if slack is None:
                slack = [0.0] * len(want)
                for e in (2 ** -50, -2 ** -50, 2 ** -47, -2 ** -47):
                    nudged = case.grad({n: v * (1 + e) for n, v in point.items()})
                    if nudged[0] != FAIL:
                        slack = [max(s, abs(a - b)) for s, a, b in zip(slack, want, nudged)]
            if slack[k] > 1e-6 * abs(w):
                continue    # chaotic here (tan of 1e68): an 8-ulp nudge moves grad's own answer past 1e-6
            assert abs(w - h) <= 4 * slack[k], f"{w!r} !~ {h!r} (grad moves {slack[k]!r}): {where}"


def compare(case: Case, tmp: Path, rnd: random.Random, n: int = 12, langs=LANGS, spread=2.0):
    return compare_many([case], tmp, rnd, n, langs, spread)[0]


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("codegen")


# ------------------------------------------------------------------ examples

@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_example_in_every_target(path, tmp):
    compare(Case(path.read_text()), tmp, random.Random(path.name), n=20)


def test_the_contracts_micrograd_program(tmp):
    case = Case(MICROGRAD)
    expected = compare(case, tmp, random.Random(7), n=30)
    assert expected[0][0] == pytest.approx(24.7041, abs=5e-5)
    value, da, db = run_python(generate(case.graph).code, [case.defaults], case.leaves)[0]
    assert (round(value, 4), round(da, 4), round(db, 4)) == (24.7041, 138.8338, 645.5773)


@pytest.mark.parametrize("path", [EXAMPLES / "micrograd_readme.grad", EXAMPLES / "neuron.grad"], ids=lambda p: p.name)
def test_python_and_c_agree_with_grad_json_from_the_command_line(path, tmp):
    case = Case(path.read_text())
    point = case.points(random.Random(3), 2)[1]
    args = [f"{n}={v!r}" for n, v in point.items()]
    done = subprocess.run([sys.executable, "-m", "gradcli", "grad", "--json", "-f", str(path), *args],
                          capture_output=True, text=True, check=True)
    printed = json.loads(done.stdout)
    want = (printed["value"], *printed["grad"].values())
    assert all(same(w, h) for w, h in zip(want, run_python(generate(case.graph).code, [point], case.leaves)[0]))
    if CC:
        got = run_c(generate(case.graph, "c").code, [point], case.leaves, len(want), tmp)[0]
        assert all(same(w, h) for w, h in zip(want, got))


# ------------------------------------------------------------------ every op

def one_op_program(name: str) -> str:
    op = OPS[name]
    if name != op.name:   # a paired row (ops.PAIRED): the program has the complement a log divides by
        program = paired_program(name) + " * w"
        assert name in [n.op for n in structure(parse(program)).nodes]
        return program
    if op.infix:
        return f"y = (x + 0.25) {name} w"
    if name == "neg":
        return "y = -(x * w)"
    args = ", ".join(["x", "w"][:op.arity])
    return f"y = {name}({args}) * w" if op.arity == 1 else f"y = {name}({args})"


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_in_every_target(name, tmp):
    compare(Case(one_op_program(name)), tmp, random.Random(name), n=16, spread=1.5)


def test_erf_derivative_in_the_tails_in_every_target(tmp):
    """erf's accurate derivative (x*x split exactly) written once in its row:
    every target performs it, Python and C bit for bit with grad, out to
    where it is subnormal, 0, and where the split would overflow."""
    case = Case("y = erf(x)")
    points = [{"x": x} for x in (4.9, 5.0000001, -23.418088901882395, 26.55, -27.5, 28.0, 1e200, 0.3)]
    expected = [case.grad(p) for p in points]
    assert expected[2][1] == OPS["erf"].chain[0](FloatMath, 1.0, -23.418088901882395, 0.0)
    for lang in LANGS:
        code = generate(case.graph, lang).code
        if lang == "python":
            have = run_python(code, points, case.leaves)
        elif lang == "numpy":
            have = run_numpy(code, points, case.leaves)
        elif lang == "c" and CC is not None:
            have = run_c(code, points, case.leaves, 2, tmp)
        elif lang == "js" and NODE is not None:
            have = run_js(code, points, case.leaves)
        elif lang == "sql" and duckdb is not None:
            have = run_sql(code, points, case.leaves)
        else:
            continue
        check(case, lang, code, points, expected, have)


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_has_a_spelling_in_every_target(name):
    assert set(SPELLINGS[name].forms) == set(LANGS)


@pytest.mark.parametrize("text", ["y = z**2", "y = z**3", "y = z**-1", "y = 1 / z**-2"])
def test_c_calls_libms_pow_where_gcc_would_multiply(text, tmp):
    """glibc's pow(z, 2.0) is not z*z here; GCC rewrites pow(z, 2.0) as z*z."""
    z = 0.20842058207626302
    assert math.pow(z, 2.0) != z * z
    case = Case(text)
    want = case.grad({"z": z})
    if CC:
        assert all(same(w, h) for w, h in zip(want, run_c(generate(case.graph, "c").code, [{"z": z}], ["z"], 2, tmp)[0]))
    assert all(same(w, h) for w, h in zip(want, run_python(generate(case.graph).code, [{"z": z}], ["z"])[0]))


# ------------------------------------------------------------------ random programs

RISKY = ["log({a})", "sqrt({a})", "{a} / {b}", "({a}) ** {b}", "exp({a}) * {b}", "log1p({a})", "tan({a})",
         "sign({a}) * {b}", "step({a}) + {b}", "softplus({a})", "{a} ** 0.5", "exp(3 * {a}) ** 40",
         "max({a}, 0.5) / {b}", "{a} - {a}"]


@st.composite
def codegen_programs(draw):
    """The symbolic tests' random programs (all ops, reused names, kinks),
    with leaves that have defaults, operations undefined at some points, and
    a --wrt that is sometimes a subset or an assigned name."""
    text = draw(symbolic_programs(kinks=True))
    lines = text.split("\n")
    pool = ["x", "y", "z"] + [line.split(" = ")[0] for line in lines]
    for _ in range(draw(st.integers(0, 2))):
        a, b = draw(st.sampled_from(pool)), draw(st.sampled_from(pool))
        name = draw(st.sampled_from(["r", "u0", "x"] + pool[3:4]))
        lines.append(f"{name} {draw(st.sampled_from(['=', '+=', '*=']))} " + draw(st.sampled_from(RISKY)).format(a=a, b=b))
    if draw(st.booleans()):
        used = [v for v in "xyz" if v in "\n".join(lines)]
        if used:
            leaf = draw(st.sampled_from(used))
            lines.insert(0, f"{leaf} = {draw(st.sampled_from(['0.7', '-1.25', '2', '0']))}")
    return "\n".join(lines)


def random_case(text: str, wrt_kind: int) -> Case | None:
    try:
        case = Case(text)
    except gradcli.GradcliError:
        return None
    if not case.leaves:
        return None
    names = list(case.graph.names)
    if wrt_kind == 1:
        case.wrt = case.leaves[:1]
    elif wrt_kind == 2:
        case.wrt = list(dict.fromkeys([names[-1], case.leaves[-1]]))
    return case


@settings(max_examples=6, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
@given(st.lists(st.tuples(codegen_programs(), st.integers(0, 3)), min_size=40, max_size=40), st.integers(0, 2**32))
def test_random_programs_in_every_target(tmp, programs, seed):
    """6 batches of 40 random programs: 240 programs, 6 points each, 5 targets
    (in batches: one compilation and one node process per batch). No
    shrinking: a batch shrinks slowly, and a failure names its program."""
    cases = [c for c in (random_case(text, kind) for text, kind in programs) if c is not None]
    compare_many(cases, tmp, random.Random(seed), n=6, spread=1.5)


# ------------------------------------------------------------------ domain errors

ERRORS = [
    # program, point, the place grad blames
    ("y = log(x - 1)", {"x": 0.5}, "1:5"),
    ("y = sqrt(x) + 1", {"x": -2.0}, "1:5"),
    ("a = 2 * x\ny = 3 / (a - 4)", {"x": 2.0}, "2:7"),
    ("y = x ** w", {"x": -2.0, "w": 0.5}, "1:7"),
    ("y = x ** w", {"x": 0.0, "w": -1.0}, "1:7"),
    ("y = log1p(x)", {"x": -1.0}, "1:5"),
    ("y = exp(x)", {"x": 1000.0}, "1:5"),
    ("y = tanh(x * x)", {"x": 1e200}, "1:12"),
    ("y = x * x * x", {"x": 1e120}, "1:11"),
    ("t = log(x)\ny = 2 * x", {"x": 0.0}, "1:5"),          # an unused statement fails too
    ("y = sqrt(x)", {"x": 0.0}, None),                      # the gradient is not finite
    ("y = x ** w", {"x": -2.0, "w": 2.0}, None),            # a variable exponent over a negative base
]


@pytest.mark.parametrize("text,point,place", ERRORS, ids=[e[0].replace("\n", "; ") for e in ERRORS])
def test_where_grad_fails_every_target_fails_the_contracts_way(text, point, place, tmp):
    case = Case(text)
    want = case.grad(point)
    assert want[0] == FAIL
    if place is not None:
        assert str(want[1].pos) == place
    leaves = case.leaves
    got = run_python(generate(case.graph).code, [point], leaves)[0]
    assert got[0] == FAIL
    if place is not None:
        assert got[1].startswith(place + ": "), got[1]
        assert want[1].op in got[1] or want[1].op in ("*", "tanh") or "division" in got[1], got
    else:
        assert "gradient" in got[1] and "not finite" in got[1]
    assert run_numpy(generate(case.graph, "numpy").code, [point], leaves)[0] == (FAIL,)
    if CC:
        rc = run_c(generate(case.graph, "c").code, [point], leaves, 1 + len(leaves), tmp)[0]
        assert rc[0] == FAIL and rc[1] != 0
    if NODE:
        js = run_js(generate(case.graph, "js").code, [point], leaves)[0]
        assert js[:2] == (FAIL, "RangeError")
        if place is not None:
            assert js[2].startswith(place + ": ")
    if duckdb is not None:
        assert run_sql(generate(case.graph, "sql").code, [point], leaves)[0] == (FAIL,)


def test_python_raises_the_exception_that_fits():
    code = generate(structure(parse("y = 1 / x + log(x)"))).code
    ns: dict = {}
    exec(code, ns)
    with pytest.raises(ZeroDivisionError, match=r"^1:7: division by zero in `y = 1 / x \+ log\(x\)` \(x = 0.0\)$"):
        ns["gradient"](0.0)
    with pytest.raises(ArithmeticError, match=r"^1:13: log needs a positive number .*\(x = -1.0\)$"):
        ns["gradient"](-1.0)
    ns = {}
    exec(generate(structure(parse("y = exp(x)"))).code, ns)
    with pytest.raises(OverflowError, match=r"^1:5: the result overflows in `y = exp\(x\)`"):
        ns["gradient"](710.0)
    assert ns["gradient"](codegen.EXP_LIMIT)[0] == math.exp(codegen.EXP_LIMIT)


# ------------------------------------------------------------------ issue 21: hostile text and names

# What gradcli reads as a line break and C does not, after a backslash or
# the trigraph ??/ that C reads as one: echoed into a `//` comment, C would
# splice the next line (a guard) into it.
BREAKS = ["\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\r"]


def program_with_hostile_comments(br: str) -> str:
    return (f"a = x * 2   # a note \\{br}b = 2 \\\n"
            f"y = log(a) + sqrt(x)  # ??/{br}é \\\n"
            f"z = y * y   # {br}\\")


@pytest.mark.parametrize("br", BREAKS, ids=[repr(b) for b in BREAKS])
def test_comments_cannot_rewrite_the_code(br, tmp):
    """Every target's text is printable ASCII, no line ends in a backslash
    or holds a trigraph, and the code still fails exactly where grad does
    (x < 0: the guards are all there) in the real engines."""
    case = Case(program_with_hostile_comments(br))
    for lang in LANGS:
        code = generate(case.graph, lang).code
        assert all(c == "\n" or " " <= c <= "~" for c in code), (lang, code)
        assert not any(line.endswith("\\") for line in code.split("\n")), (lang, code)
        assert "??" not in code, (lang, code)
    points = [{"x": x} for x in (-1.0, -1e-300, 0.0, 0.5, 2.0)]
    compare_points(case, tmp, points)
    assert case.grad({"x": -1.0})[0] == FAIL


def compare_points(case: Case, tmp: Path, points, langs=LANGS):
    """compare_many at the given points, then 4 random ones."""
    original = case.points
    case.points = lambda rnd, n, spread=2.0, defaults=True: [dict(p) for p in points] + original(rnd, n, spread, defaults)
    try:
        return compare_many([case], tmp, random.Random(len(points)), n=4, langs=langs)
    finally:
        case.points = original


# Names that are something already in a target: its own columns (ok,
# value, grad_x), keywords, builtins the code uses, C's macros, JavaScript's
# prototype's names, the generated code's own (t1, d_x, v_x, bad, math, np).
HOSTILE_NAMES = ["ok", "grad_x", "int", "select", "M_PI", "HUGE_VAL", "FP_ZERO", "INFINITY", "NAN", "errno",
                 "math_errhandling", "I", "OverflowError", "ArithmeticError", "tuple", "float", "range", "len",
                 "__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "Math", "RangeError",
                 "math", "np", "bad", "t1", "d_x", "v_x", "v_ok", "d_v_x", "in", "out", "isfinite", "ln",
                 "pow_", "gradient", "nothing", "inputs", "step1", "checked"]


def hostile_program(names) -> str:
    terms = [f"{n} * {m}" for n, m in zip(names, names[1:] + names[:1])]
    return "x = 0.5\nu = " + " + ".join(terms[:len(terms) // 2]) + "\nw = log(1 + u * u) * x\n" \
        + "v = " + " + ".join(terms[len(terms) // 2:]) + "\nout_ = sin(w) + v * x"


@pytest.mark.parametrize("names", [HOSTILE_NAMES + ["value", "X", "x_"],
                                   [n for n in HOSTILE_NAMES if n not in ("Math", "grad_x")]],
                         ids=["with value and X", "sql"])
def test_hostile_names_in_every_target(names, tmp):
    case = Case(hostile_program(names))
    langs = [lang for lang in LANGS if lang != "sql"] if "value" in names else LANGS
    compare(case, tmp, random.Random(21), n=8, langs=langs)


@pytest.mark.parametrize("text,message", [
    ("y = value * x", "in SQL the input `value` and the output column `value` would be one column"),
    ("y = grad_x * x", "in SQL the input `grad_x` and the output column `grad_x` would be one column"),
    ("y = X * x", "in SQL the input `X` and the input `x` would be one column"),
])
def test_sql_refuses_columns_that_would_be_one(text, message):
    with pytest.raises(gradcli.GradcliError, match="^" + re.escape(message)):
        generate(structure(parse(text)), "sql")
    done = subprocess.run([sys.executable, "-m", "gradcli", "codegen", text, "--lang", "sql"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == "" and done.stderr.startswith("error: " + message), done.stderr


@pytest.mark.parametrize("args,message", [
    (["--lang", "c", "--dialect", "postgres"], "--dialect is for --lang sql, not --lang c"),
    (["--dialect", "duckdb"], "--dialect is for --lang sql, not --lang python"),   # the default, given
    (["--lang", "js", "--sql-table", "t"], "--sql-table is for --lang sql, not --lang js"),
    (["--lang", "numpy", "--table", "t"], "--sql-table is for --lang sql, not --lang numpy"),
    (["--lang", "python", "--sql-columns", "x"], "--sql-columns is for --lang sql, not --lang python"),
    (["--lang", "sql", "--esm"], "--esm is for --lang js, not --lang sql"),
    (["--lang", "sql", "--sql-columns", ","], "--sql-columns `,` names nothing: give a name, such as "
                                              "--sql-columns a, or a,b"),
])
def test_an_option_of_another_language_is_an_error_not_ignored(args, message, tmp):
    target = tmp / "out.c"
    done = subprocess.run([sys.executable, "-m", "gradcli", "codegen", "y = x * x", *args, "-o", str(target)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr.splitlines()[-2 if "is for" in message else -1] == "error: " + message
    assert not target.exists()
    good = subprocess.run([sys.executable, "-m", "gradcli", "codegen", "y = x * x", "--lang", "sql",
                           "--dialect", "sqlite", "--sql-table", "t"], capture_output=True, text=True)
    assert good.returncode == 0 and "FROM t" in good.stdout.replace('"t"', "t"), good.stderr


@needs_duckdb
def test_sql_table_named_like_a_step(tmp):
    case = Case("y = log(x) * x")
    for table in ("inputs", "step1", "checked"):
        con = duckdb.connect()
        con.execute(f"CREATE TABLE {table} (x DOUBLE)")
        con.execute(f"INSERT INTO {table} VALUES (2.0), (-1.0)")
        rows = con.execute(generate(case.graph, "sql", table=table).code).fetchall()
        assert rows[0][1:] == case.grad({"x": 2.0}) and rows[1][1:] == (None, None)


@pytest.mark.parametrize("text,point", [
    ("y = sin(x * x)", {"x": 1e200}),              # math.sin(inf) raised ValueError
    ("y = cos(x * x) + tan(x * x)", {"x": 1e200}),
    ("y = sqrt(x)", {"x": 0.0}),                   # 0.5 / 0 in the adjoint
    ("y = hypot(x, w)", {"x": 0.0, "w": 0.0}),
    ("y = x ** 0.5 * w", {"x": 0.0, "w": 2.0}),
])
def test_python_fails_with_an_arithmetic_error_naming_the_place(text, point):
    case = Case(text)
    want = case.grad(point)
    assert want[0] == FAIL
    got = run_python(generate(case.graph).code, [point], case.leaves)[0]
    assert got[0] == FAIL
    assert re.search(r"\d+:\d+", got[1]) and (want[1].op in got[1] or "overflows" in got[1]), (got, want[1].message)


@pytest.mark.parametrize("text,point,wrt", [
    ("y = a ** b ** c", {"a": -1e300, "b": 0.0, "c": -0.0}, None),   # log(a < 0) in a discarded branch
    ("t = sqrt(x)\ny = t ** w", {"x": 0.0, "w": 2.0}, ["w"]),        # 0.5 / 0 where no gradient needs it
])
def test_python_succeeds_where_grad_does(text, point, wrt, tmp):
    case = Case(text, wrt)
    want = case.grad(point)
    assert want[0] != FAIL
    got = run_python(generate(case.graph, wrt=wrt).code, [point], case.leaves)[0]
    assert all(same(w, h) for w, h in zip(want, got)), (want, got)
    compare_points(case, tmp, [point])


# ------------------------------------------------------------------ readable, small, safe names

def test_the_python_reads_like_the_program():
    code = generate(structure(parse(MICROGRAD))).code
    assert "def gradient(a=-4.0, b=2.0):" in code
    assert "    # 3:1  c = a + b\n    c = a + b\n" in code
    assert "    # 12:1  g += 10.0 / f\n" in code
    for name in ("c_2", "c_3", "d_2", "d_3", "d_f", "d_e", "d_c", "d_a", "d_b"):
        assert f"    {name} = " in code or f"        {name} = " in code, name
    assert "return (g_2, d_a + 0.0, d_b + 0.0)" in code


def test_a_part_used_once_is_written_inline():
    code = generate(structure(parse("y = (a * b + c) * 2"))).code
    assert "    y = (a * b + c) * 2.0\n" in code
    assert "t1" not in code
    # a part the gradient uses as well is computed once
    code = generate(structure(parse("y = tanh(a) * b + c"))).code
    assert "    t1 = math.tanh(a)\n    y = t1 * b + c\n" in code
    assert "    return (y, d_a + 0.0, t1 + 0.0, 1.0)\n" in code


@pytest.mark.parametrize("lang", LANGS)
def test_keyword_leaves_work(lang, tmp):
    text = "lambda = 2.0\nselect = int * for + lambda * ok\nselect"
    case = Case(text)
    compare(case, tmp, random.Random(lang), n=4, langs=[lang])


@needs_duckdb
def test_sql_quotes_every_keyword_duckdb_reserves():
    reserved = {r[0] for r in duckdb.sql("SELECT keyword_name FROM duckdb_keywords() "
                                        "WHERE keyword_category <> 'unreserved'").fetchall()}
    assert reserved <= codegen.RESERVED["sql"]


def test_a_default_before_an_input_keeps_python_valid(tmp):
    case = Case("w = 0.5\ny = w * x")
    code = generate(case.graph).code
    assert "def gradient(w, x):" in code
    compare(case, tmp, random.Random(1), n=4)


@pytest.mark.parametrize("lang", LANGS)
def test_loading_the_code_defines_the_function_and_nothing_else(lang):
    code = generate(structure(parse(MICROGRAD)), lang, name="f_and_g").code
    if lang in ("python", "numpy"):
        namespace: dict = {}
        exec(code, namespace)
        assert sorted(k for k in namespace if not k.startswith("__")) == sorted(["f_and_g", "math" if lang == "python" else "np"])
    elif lang == "c":
        assert code.startswith("#include <math.h>\n") and code.count("#include") == 1
        assert "int f_and_g(const double *in, double *out)" in code
    elif lang == "js":
        assert "function f_and_g(a = -4, b = 2) {" in code
    else:
        assert "FROM points" in code and ";" not in code
        if duckdb is not None:
            assert len(duckdb.extract_statements(code)) == 1


def program_ops(text: str) -> int:
    return len([n for n in structure(parse(text)).nodes if n.children])


@settings(max_examples=200, deadline=None)
@given(codegen_programs())
def test_operation_count_is_at_most_four_times_the_programs(text):
    try:
        graph = structure(parse(text))
    except gradcli.GradcliError:
        assume(False)
    plan = generate(graph).plan
    costly = [n for n in graph.nodes
              if n.op in ("max", "min", "tanh", "erf", "hypot") or n.op == "**" and n.children[1].kind != "const"]
    if not costly:
        assert plan.op_count() <= 4 * plan.program_op_count(), text
    # grad's rules for max/min, (1 ± sign(a - b)) / 2, tanh (one exp, then 1/q,
    # e/q and four products: 11 with tanh), a variable exponent (TwoSum-corrected
    # y*x**(y-1), and x**y*log(x): 26 with x**x) take more; erf's (exp(-x*x) with x*x split
    # exactly) about 20: each op's cost is bounded, so the count is linear
    cost = {"tanh": 12, "erf": 22, "max": 10, "min": 10}
    allowed = sum(26 if n.op == "**" and n.children[1].kind != "const" else cost.get(n.op, 4)
                  for n in graph.nodes if n.children)
    assert plan.op_count() <= allowed + 2, text


def test_erf_costs_a_bounded_number_of_operations():
    assert generate(structure(parse("erf(x)"))).plan.op_count() <= 22


@pytest.mark.parametrize("path", EXAMPLE_FILES + [None], ids=lambda p: p.name if p else "micrograd")
def test_operation_count_of_the_examples(path):
    text = path.read_text() if path else MICROGRAD
    plan = generate(structure(parse(text))).plan
    assert plan.op_count() <= (5 if "tanh" in text else 4) * plan.program_op_count()


def chain(n: int) -> str:
    lines = ["x = 0.5", "s = x"]
    for k in range(n):
        lines.append(f"s = s * {1 + k % 3} + tanh(s) / (2 + x)")
    return "\n".join(lines)


def test_size_is_linear_and_nothing_recurses(monkeypatch):
    for threshold in (10 ** 9, -1):          # C as statements, and as a table
        monkeypatch.setattr(codegen, "C_TABLE_OPS", threshold)
        small = generate(structure(parse(chain(500))), "c").code
        large = generate(structure(parse(chain(1000))), "c").code
        assert ("switch (p[0])" in large) == (threshold < 0)
        assert 1.9 < len(large) / len(small) < 2.1
    monkeypatch.undo()
    deep = "y = x" + " + x" * 20000 + "\n" + "z = " + "tanh(" * 2000 + "y" + ")" * 2000
    for lang in LANGS:
        assert generate(structure(parse(deep)), lang).code


def test_deep_expressions_are_split_so_every_compiler_takes_them(tmp):
    """A 20,000-term sum and a 3,000-deep tanh (whose adjoint is one long
    product) compile in CPython, and no generated expression nests deeper
    than codegen.DEPTH_LIMIT operations; the code stays linear in size."""
    wide = "y = x" + "".join(f" + x*{k % 7 + 1}" for k in range(20000))
    deep = "y = " + "tanh(" * 3000 + "x" + ")" * 3000
    for text in (wide, deep):
        graph = structure(parse(text))
        code = generate(graph, "python").code
        compile(code, "<generated>", "exec")
        assert len(code) < 700 * len(graph.nodes), len(code) / len(graph.nodes)
        ns: dict = {}
        exec(code, ns)
        case = Case(text)
        want = case.grad({"x": 0.001})
        assert all(same(w, h) for w, h in zip(want, ns["gradient"](0.001)))


def test_a_statement_is_quoted_whole_once():
    text = "y = x" + " + x" * 3000
    for lang in LANGS:
        code = generate(structure(parse(text)), lang).code
        assert code.count(text) == 1, lang
        assert len(code) < 100 * len(text), (lang, len(code))


@needs_cc
def test_c_in_parts_agrees_bit_for_bit(tmp, monkeypatch):
    """Long C is written as parts (codegen.C_PART_LINES lines each, values
    passed through an array): at 6 lines a part, every example and the
    error cases agree with grad exactly, failures included."""
    monkeypatch.setattr(codegen, "C_PART_LINES", 6)
    cases = [Case(p.read_text()) for p in EXAMPLE_FILES] + [Case(text) for text, _, _ in ERRORS]
    code = generate(cases[0].graph, "c").code
    assert "static int gradient_part1(const double *in, double *v, double *out)" in code
    compare_many(cases, tmp, random.Random(6), n=12, langs=["c"])



@needs_cc
def test_c_as_a_table_agrees_bit_for_bit(tmp, monkeypatch):
    """Past codegen.C_TABLE_OPS operations the C is a table of rows run by
    a loop (it compiles in seconds at 10^5 operations): at a threshold of -1,
    every example and the error cases agree with grad exactly, failures
    included, and a failure returns the same check number as the
    statements do."""
    cases = [Case(p.read_text()) for p in EXAMPLE_FILES] + [Case(text) for text, _, _ in ERRORS]
    straight = [run_c(generate(case.graph, "c").code, [point], case.leaves, 1 + len(case.leaves), tmp)[0]
                for case, (_, point, _) in zip(cases[-len(ERRORS):], ERRORS)]
    monkeypatch.setattr(codegen, "C_TABLE_OPS", -1)
    code = generate(cases[0].graph, "c").code
    assert "static int gradient_P[] = {" in code and "switch (p[0])" in code
    compare_many(cases, tmp, random.Random(7), n=12, langs=["c"])
    table = [run_c(generate(case.graph, "c").code, [point], case.leaves, 1 + len(case.leaves), tmp)[0]
             for case, (_, point, _) in zip(cases[-len(ERRORS):], ERRORS)]
    assert all(s[0] == FAIL for s in straight) and table == straight


CONSTANT_CALLS = [f"{name}({c})" for name, op in sorted(FUNCTIONS.items()) if op.arity == 1 for c in ("0.84", "1.7", "2.9", "0.3")] + ["0.84 ** 0.3", "hypot(0.3, 1.7)", "-1.3 * 2"]


@needs_cc
def test_c_calls_no_libm_function_on_a_number(tmp):
    """GCC folds tanh(0.84) with MPFR (correctly rounded), glibc's differs
    in the last bit: an operation on numbers alone is written as the value
    grad computes, so C agrees bit for bit at -O2."""
    text = "y = x * (" + " + ".join(CONSTANT_CALLS) + ")\nz = y + sin(cos(0.3)) * x"
    case = Case(text)
    code = generate(case.graph, "c").code
    statements = "\n".join(line.split("//")[0] for line in code.split("\n"))
    assert not re.search(r"[a-z]\(\(?-?[0-9]", statements), code
    compare_points(case, tmp, [{"x": 1.0}, {"x": -0.5}], langs=["c", "python", "js"])


SQLITE_PROGRAMS = [p.read_text() for p in EXAMPLE_FILES] + [
    one_op_program(name) for name in sorted(OPS) if name in FUNCTIONS or OPS[name].infix or name == "neg"
    ] + [text for text, _, _ in ERRORS]


@pytest.mark.skipif(sqlite3.sqlite_version_info < (3, 35), reason="SQLite before 3.35 has no math functions")
@pytest.mark.parametrize("text", SQLITE_PROGRAMS, ids=[t.replace("\n", "; ")[:40] for t in SQLITE_PROGRAMS])
def test_the_sql_runs_in_sqlite(text):
    """The SELECT for SQLite in Python's SQLite: the examples, every op
    (erf too: a flat sum, SQLite's parser takes about 18 nested parentheses)
    and the failures, at random points and where grad fails, NULL where
    grad fails."""
    case = Case(text)
    rnd = random.Random(text)
    points = case.points(rnd, 16, 2.0) + [{n: v for n, v in zip(case.leaves, point.values())}
                                           for _, point, _ in ERRORS if set(point) == set(case.leaves)]
    points = [{**p, **case.defaults} for p in points]
    inputs = [name for name, leaf in case.graph.leaves.items() if leaf.kind == "input"]
    code = generate(case.graph, "sql", dialect="sqlite").code
    have = run_sql(code, points, inputs, engine="sqlite")
    check(case, "sql", code, points, [case.grad(p) for p in points], have)


# ------------------------------------------------------------------ the page's rules

@needs_node
def test_js_rules_agree_with_the_ops_table():
    from gradcli.ops import FloatMath

    rules = js_rules()
    assert set(rules) == set(OPS)
    rnd = random.Random(5)
    cases = []
    for name, op in OPS.items():
        for _ in range(4):
            args = [rnd.uniform(0.2, 1.8) for _ in range(op.arity)]
            out = compute(op, args)
            partials = [d(FloatMath, *args, out) for d in op.partials]
            cases.append((name, args, out, partials))
    script = "const rules = " + json.dumps(rules) + ";\nconst res = [];\n"
    script += f"for (const [name, args] of {json.dumps([[c[0], c[1]] for c in cases])}) {{\n"
    script += ("  const [x, y] = args; const r = rules[name];\n"
               "  const out = eval(r.forward);\n"
               "  res.push([out, ...r.partials.map(p => eval(p))]);\n}\n"
               "process.stdout.write(JSON.stringify(res));\n")
    done = subprocess.run([NODE, "-e", script], capture_output=True, text=True, check=True)
    for (name, args, out, partials), got in zip(cases, json.loads(done.stdout)):
        assert close(got[0], out, 1e-12), (name, args)
        for want, have in zip(partials, got[1:]):
            assert close(have, want, 1e-12), (name, args, rules[name])


def test_js_rules_shape():
    rules = js_rules()
    assert rules["exp"] == {"forward": "Math.exp(x)", "guards": [], "partials": ["out"], "chains": ["(g * out)"]}
    assert rules["*"] == {"forward": "x * y", "guards": [], "partials": ["y", "x"], "chains": ["(y * g)", "(x * g)"]}
    assert len(rules["**"]["partials"]) == 2 and len(rules["**"]["guards"]) == 2


def test_guards_are_the_rows_domains():
    """Each guard is its row's ``undefined`` condition, spelled per language
    and folded where operands are numbers; a condition that is not data
    (``and`` instead of ``&``) is refused when the table is read."""
    from gradcli.codegen import GUARDS, _guard

    for name, op in OPS.items():
        assert [g.reason for g in GUARDS[name]] == [why for _, why in op.undefined]
    (zero, negative) = GUARDS["**"]
    assert zero.template("python") == "{0} == 0.0 and {1} < 0.0"
    assert negative.template("c") == "{0} < 0.0 && {1} != floor({1})"
    assert negative.template("sql", negate=True) == "NOT ({0} < 0e0 AND {1} <> floor({1}))"
    assert zero.template("js", [None, -1.0]) == "{0} == 0"          # x ** -1: only x decides
    assert not negative.possible([None, 2.0]) and negative.possible([-1.0, None])
    assert GUARDS["log"][0].template("sql", negate=True) == "{0} > 0e0"
    assert (zero.exception, negative.exception) == ("ZeroDivisionError", "ArithmeticError")
    with pytest.raises(TypeError, match="combine comparisons with &"):
        _guard("**", lambda m, x, y: x == 0 and y < 0, "division by zero")


def test_a_corner_s_zero_keeps_its_sign():
    """d/dy of z**y at z = 1 is out*log(1) = -0.0 times a negative upstream:
    grad's sums start at +0.0, so the reported gradient is +0.0."""
    src = ("u0 = y / (2 + tanh(y))\nu2 = 1.77*y + z\nu3 = u2 / (2 + tanh(z))\n"
           "u0 += softplus(y)\nu0 *= (z) ** u3")
    case = Case(src, wrt=["u3", "z"])
    point = {"y": -0.8255987056953922, "z": 1.0}
    namespace: dict = {}
    exec(generate(case.graph, "python", wrt=["u3", "z"]).code, namespace)
    got = namespace["gradient"](point["y"], point["z"])
    assert math.copysign(1.0, got[1]) == 1.0
    assert all(same(a, b) for a, b in zip(got, case.grad(point)))


# ------------------------------------------------------------------ the command line

def cli(*args: str, input: str | None = None):
    from typer.testing import CliRunner

    from gradcli.cli import app

    return CliRunner().invoke(app, list(args), input=input)


def test_cli_prints_the_library_code_and_reads_files_and_stdin():
    path = EXAMPLES / "micrograd_readme.grad"
    graph = structure(parse(path.read_text()))
    for lang in LANGS:
        result = cli("codegen", "-f", str(path), "--lang", lang)
        assert result.exit_code == 0 and result.stderr == ""
        assert result.stdout == generate(graph, lang).code
    piped = cli("codegen", "-", "--lang", "c", input=path.read_text())
    assert piped.stdout == generate(graph, "c").code


def test_cli_options_name_table_wrt_output_and_defaults():
    out = cli("codegen", "y = a * b; z = y + c", "--of", "y", "--wrt", "a,y", "--name", "f", "b=3").stdout
    assert "def f(a, b=3.0, c):" not in out          # Python: defaults only on the trailing leaves
    assert "def f(a, b, c):" in out and "return (y, b + 0.0, 1.0)" in out
    js = cli("codegen", "y = a * b", "b=3", "--lang", "js").stdout
    assert "function gradient(a, b = 3) {" in js
    sql = cli("codegen", "y = a * b", "--lang", "sql", "--sql-table", "lake.pts").stdout
    assert "FROM lake.pts" in sql


@pytest.mark.parametrize("args,message", [
    (["y = a*b", "--lang", "rust"], "error: --lang `rust` is not a target: the targets are python, numpy, c, js, sql\n"),
    (["y = a*b", "--name", "2f"], "error: --name `2f` cannot name a function in python"),
    (["y = a*b", "--name", "for", "--lang", "js"], "error: --name `for` cannot name a function in js"),
    (["y = a*b", "--lang", "sql", "--sql-table", "pts; DROP"], "error: --sql-table `pts; DROP` is not a table name"),
    (["y = a*b", "--wrt", "q"], "error: --wrt `q` is not a name in the program\n"),
    (["y = a*b", "q=1"], "error: `q` is not a name in the program"),
    (["y = a*"], "syntax error"),
])
def test_cli_bad_input_exits_2_with_nothing_on_stdout(args, message):
    result = cli("codegen", *args)
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_cli_writes_the_file_whole(tmp_path):
    target = tmp_path / "g.c"
    result = cli("codegen", "y = a*b", "--lang", "c", "-o", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert target.read_text() == generate(structure(parse("y = a*b")), "c").code
    target.write_text("before")
    bad = cli("codegen", "y = a*", "--lang", "c", "-o", str(target))
    assert bad.exit_code == 2 and target.read_text() == "before"
    missing = cli("codegen", "y = a*b", "-o", str(tmp_path / "no" / "g.py"))
    assert missing.exit_code == 2 and "no such file or directory" in missing.stderr.lower()


NEW_ROW = '''
import json, sys
from gradcli import ops
ops.OPS["cube"] = ops.Op("cube", 1, lambda m, x: x * x * x, (lambda m, g, x, o: g * (3.0 * (x * x)),))
ops.FUNCTIONS["cube"] = ops.OPS["cube"]
ops.SPELLINGS["cube"] = ops.Spelling(ops._same("({0} * {0} * {0})"), atoms=(0,), overflows=True)
import numpy as np
from typer.testing import CliRunner
import gradcli
from gradcli.arrays import at_points
from gradcli.build import structure
from gradcli.cli import app
from gradcli.codegen import generate, js_rules
from gradcli.parse import parse

graph = structure(parse("cube(x) * y"))
block = at_points(graph, {"x": np.array([1.5, -2.0]), "y": np.array([2.0, 3.0])})
ns = {}
exec(generate(graph, "python").code, ns)
run = CliRunner().invoke
out = {"grad": gradcli.grad("cube(x) * y", x=1.5, y=2.0),
       "at": [block.value.tolist(), {k: v.tolist() for k, v in block.grads.items()}],
       "python": ns["gradient"](1.5, 2.0),
       "c": generate(graph, "c").code, "js": js_rules()["cube"],
       "explain": run(app, ["explain", "cube(x)", "x=2"]).output,
       "latex": run(app, ["diff", "cube(x)", "--latex"]).output,
       "check": run(app, ["check", "cube(x)", "x=2"]).exit_code}
json.dump(out, sys.stdout)
'''


def test_adding_a_row_and_its_spelling_is_enough():
    """An op nobody wrote code for (``cube``), added as one row and one
    spelling, at run time: grad, --at, code generation, the page's rules,
    explain, check and diff --latex take it with no other edit."""
    done = subprocess.run([sys.executable, "-c", NEW_ROW], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["grad"] == {"x": 13.5, "y": 3.375}
    assert out["at"] == [[6.75, -24.0], {"x": [13.5, 36.0], "y": [3.375, -8.0]}]
    assert out["python"] == [6.75, 13.5, 3.375]
    assert "(v_x * v_x * v_x)" in out["c"] and "3.0 * (v_x * v_x)" in out["c"]
    assert out["js"] == {"forward": "(x * x * x)", "guards": [], "partials": ["(3 * (x * x))"],
                         "chains": ["(g * (3 * (x * x)))"]}
    assert "cube" in out["explain"] and "12" in out["explain"]
    assert out["latex"] == "3 \\left(x^{2}\\right)\n"
    assert out["check"] == 0


@pytest.mark.parametrize("text", ["y = x", "y = x + 1/0", "y = 2 * 3", "y = x * log(0 - 1)"])
def test_numpy_takes_a_program_with_nothing_to_do_or_a_failing_constant(text):
    """`y = x` has no operation (the `with` was empty: no import); `1/0` on
    numbers is NaN rows, not a ZeroDivisionError; the docstring says NaN."""
    case = Case(text)
    code = generate(case.graph, "numpy").code
    assert "NaN in every output where grad fails" in code and "raises" not in code
    points = [{n: v for n in case.leaves} for v in (0.5, -2.0, 3.0)]
    want = [case.grad(p) for p in points]
    have = run_numpy(code, points, case.leaves)
    for w, h in zip(want, have):
        assert (h == (FAIL,)) if w[0] == FAIL else all(same(a, b) for a, b in zip(w, h)), (w, h)


# docs/codegen.md's console examples run, in order, in tests/test_site.py (every page's do).


# ------------------------------------------------------------------ issue 21, item 6: JS modules, names, notes, defaults

@needs_node
def test_js_loads_as_a_script_a_commonjs_module_and_an_es_module(tmp):
    """The default JavaScript is a script that also sets module.exports:
    `require` takes it, Node's `import` of a .js file takes it (named
    export), `node -e` runs it; --esm (and -o FILE.mjs) writes `export
    function`, which an ES module imports (in a package of type module
    too). Each gives grad's numbers."""
    case = Case("y = x * tanh(w) + x ** 2", wrt=None)
    point = {"x": 0.7, "w": -1.3}
    want = case.grad(point)
    script = generate(case.graph, "js").code
    esm = generate(case.graph, "js", esm=True).code
    assert "export " not in script and esm.count("export function gradient(") == 1
    (tmp / "cjs").mkdir()
    (tmp / "cjs" / "g.js").write_text(script)
    (tmp / "esm").mkdir()
    (tmp / "esm" / "package.json").write_text('{"type": "module"}')
    (tmp / "esm" / "g.js").write_text(esm)
    done = subprocess.run([sys.executable, "-m", "gradcli", "codegen", case.text, "--lang", "js",
                           "-o", str(tmp / "g.mjs")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "export function gradient(" in (tmp / "g.mjs").read_text()
    call = "JSON.stringify(gradient(0.7, -1.3))"
    runs = {
        "require": [NODE, "-e", f"const {{gradient}} = require({json.dumps(str(tmp / 'cjs' / 'g.js'))});"
                                f"process.stdout.write({call})"],
        "import of the script": [NODE, "--input-type=module", "-e",
                                 f"import {{ gradient }} from {json.dumps(str(tmp / 'cjs' / 'g.js'))};"
                                 f"process.stdout.write({call})"],
        "node -e": [NODE, "-e", script + f"\nprocess.stdout.write({call})"],
        "import of --esm": [NODE, "--input-type=module", "-e",
                            f"import {{ gradient }} from {json.dumps(str(tmp / 'esm' / 'g.js'))};"
                            f"process.stdout.write({call})"],
        "import of -o g.mjs": [NODE, "--input-type=module", "-e",
                               f"import {{ gradient }} from {json.dumps(str(tmp / 'g.mjs'))};"
                               f"process.stdout.write({call})"],
    }
    for how, argv in runs.items():
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (how, done.stderr)
        assert all(close(w, h, 1e-12) for w, h in zip(want, json.loads(done.stdout))), (how, done.stdout)
    # the script form in an ES package is not a module: importing it gives no export (why --esm exists)
    (tmp / "esm" / "s.js").write_text(script)
    done = subprocess.run([NODE, "--input-type=module", "-e",
                           f"import {{ gradient }} from {json.dumps(str(tmp / 'esm' / 's.js'))};"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "gradient" in done.stderr


def test_generated_code_says_what_its_unusual_forms_are():
    """The adjoint of a name assigned again (d_d_2), tanh's one-exp
    derivative, pow's TwoSum and the trailing + 0.0 each come with a
    comment, in every target but SQL; none where the form is absent."""
    notes = {"d_NAME: the derivative": MICROGRAD, "tanh'(x) = 4*sigmoid(2x)*sigmoid(-2x)": "y = tanh(x) * x",
             "TwoSum": "y = x ** w", "erf'(x)": "y = erf(x) * x", "+ 0.0: grad's sums start at +0.0": "y = x * w"}
    for note, text in notes.items():
        graph = structure(parse(text))
        for lang in ("python", "numpy", "c", "js"):
            assert note in generate(graph, lang).code, (lang, note)
    plain = generate(structure(parse("y = exp(x)")), "python").code
    assert not any(note in plain for note in notes)
    code = generate(structure(parse(MICROGRAD)), "c").code
    assert "d_d_2: with respect to d_2, the value d has after the program assigns it again" in code


def test_python_defaults_before_an_input_are_named_in_the_docstring():
    """grad's leaf order is kept (positional calls are the contract's); a
    default before a parameter without one is not valid Python, so it is
    dropped and the docstring says which to pass; trailing ones stay."""
    import inspect

    text = "a = 1.5\nb = -2\ny = a * x + b * z\nc = 0.25\ny = y * c"
    case = Case(text)
    code = generate(case.graph, "python").code
    ns: dict = {}
    exec(code, ns)
    params = inspect.signature(ns["gradient"]).parameters
    assert list(params) == case.leaves == ["a", "b", "x", "z", "c"]
    assert [p.default for p in params.values()] == [inspect.Parameter.empty] * 4 + [0.25]
    assert "The program's defaults a = 1.5, b = -2.0 come before a parameter without one" in ns["gradient"].__doc__
    point = {"a": 1.5, "b": -2.0, "x": 0.3, "z": -0.7, "c": 0.25}
    want = case.grad(point)
    assert all(same(w, h) for w, h in zip(want, ns["gradient"](1.5, -2.0, 0.3, -0.7)))


# ------------------------------------------------------------------ issue 21: 10^5 operations, hostile names

BIG_FORMS = ["tanh({a} * {b} + {c})", "sin({a}) * {b}", "sigmoid({a} - {b})", "{a} * 0.5 + {b} * 0.25",
             "atan({a} * {b})", "max({a}, {b}) - min({a}, {c})", "relu({a}) * {b}", "abs({a}) * {b} - {c}",
             "{a} / (1 + {b} * {b})", "sqrt(1 + {a} * {a}) - 1", "exp(-{a} * {a}) * {b}", "erf({a}) * {b}",
             "softplus({a}) - {b}", "{a} ** 2 - {b}", "log1p({a} * {a}) * {b}", "cos({a} + {b}) * {c}",
             "tanh({a}) ** 3", "sign({a}) * {b} + step({c})", "{a} - {a} * {b}"]


def big_program(seed: int, operations: int) -> str:
    """About ``operations`` operations of random statements over hostile
    names (each assigned again and again), values kept within a few units;
    its first statement fails where the leaf `x` is not positive and one
    leaf has a default."""
    rnd = random.Random(seed)
    leaves = ["x", "M_PI", "tuple", "__proto__", "ok"]
    names = [n for n in HOSTILE_NAMES if n not in leaves] + ["value", "X", "x_"]
    lines = ["ok = 0.375", "r = log(x) * M_PI"]
    pool = ["x", "M_PI", "tuple", "__proto__", "ok", "r"]
    count = 3
    while count < operations:
        form = rnd.choice(BIG_FORMS)
        recent = pool[-12:]
        a, b, c = (rnd.choice(recent if rnd.random() < 0.8 else pool) for _ in range(3))
        target = rnd.choice(names)
        lines.append(f"{target} = {form.format(a=a, b=b, c=c)}")
        count += sum(form.count(s) for s in ("(", " * ", " + ", " - ", " / ", " ** "))
        if target not in pool[-40:]:
            pool.append(target)
    lines.append("out_ = " + " + ".join(f"{n} * {leaves[k % len(leaves)]}" for k, n in enumerate(pool[-6:])))
    return "\n".join(lines) + "\n"


@needs_cc
@needs_node
@settings(max_examples=1, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.integers(0, 2 ** 32))
def test_random_programs_of_ten_to_the_five_operations_with_hostile_names(tmp, seed):
    """Random programs of 10^5 operations over hostile names (ok, M_PI,
    tuple, __proto__, value, ...): Python and C (a table at that size) give
    grad's numbers bit for bit, NumPy within 1e-13, JavaScript within
    1e-12, at points where grad succeeds and where it fails (x <= 0)."""
    text = big_program(seed, 110_000)
    case = Case(text)
    ops = len([n for n in case.graph.nodes if n.children])
    assert 100_000 <= ops < 150_000, ops
    assert ops > codegen.C_TABLE_OPS         # so the C is a table (test_c_as_a_table_agrees_bit_for_bit)
    base = {"x": 0.8, "M_PI": 0.6, "tuple": -0.4, "__proto__": 0.3, "ok": 0.375}
    points = [base, {**base, "x": -0.5}, {**base, "x": 1.7, "tuple": 0.9}]
    expected = compare_points(case, tmp, points, langs=["python", "c", "numpy", "js"])[0]
    assert expected[0][0] != FAIL and expected[1][0] == FAIL and expected[2][0] != FAIL


def test_python_checks_many_gradients_at_once_and_names_the_one_that_failed():
    """Past two gradients Python tests them with one all(map(math.isfinite,
    ...)), then names the one that is not finite as grad does."""
    text = "y = a * b * c * sqrt(x) + a * b * c"
    case = Case(text)
    code = generate(case.graph, "python").code
    assert "if not all(map(math.isfinite, (" in code
    ns: dict = {}
    exec(code, ns)
    point = {"a": 1.0, "b": 2.0, "c": 3.0, "x": 0.0}
    want = case.grad(point)
    assert want[0] == FAIL and want[2] == "backward"
    with pytest.raises(ArithmeticError, match="^the gradient of `x` is not finite"):
        ns["gradient"](*[point[n] for n in case.leaves])
    point["x"] = 4.0
    assert all(same(w, h) for w, h in zip(case.grad(point), ns["gradient"](*[point[n] for n in case.leaves])))
