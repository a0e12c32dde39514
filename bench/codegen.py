"""`gradcli codegen` against SymPy's diff + cse + printer: size and time.

    python bench/codegen.py [--max-nodes N] [--sympy-timeout SECONDS]
    python bench/codegen.py --c [--max-nodes N] [--shape auto|statements|table]
    python bench/codegen.py --cost [--max-nodes N]
    python bench/codegen.py --sql [--max-nodes N] [--rows R]

``--c``: the C target, for the tanh chain and the MLP: gcc -O2's seconds
(the compiler's CPU time) and the time of one call of the gradient against
the value alone (the generated C with no --wrt), best of 5, on a tanh
chain, the same chain with w = 1 (its gradient stays normal) and the MLP.
``--cost``: the same ratio for the generated Python and NumPy.
``--sql``: the SQL of the tanh chain (w, c and the start read from the
table with --sql-columns) in DuckDB, SQLite and a throwaway PostgreSQL
(tests/test_codegen_sql.py's): generation seconds, bytes, statements, and
each engine's seconds for R rows, with the first row checked against grad.

For programs of about 10 to 100,000 nodes in three shapes (the issue's
`u = sin(u + y)` iterated, a deep tanh chain, an unrolled tanh MLP with every
weight a leaf), prints per program:

- gradcli: the time from text to the generated Python and C (parse,
  differentiate, plan, print), the generated code's operation count
  (``Plan.op_count``, forward and adjoint together) against the program's,
  and the size of the Python in lines and bytes;
- SymPy: the time of ``diff`` for every leaf, then ``cse`` of the value and
  the gradients together, then ``pycode`` of the result (the way a SymPy
  user writes the same function), with ``count_ops`` of the expression
  before and after ``cse``, and the bytes printed. Each SymPy run is a
  fresh process with a time limit; a run that fails (RecursionError on a
  deep expression) or passes the limit is reported as such, and larger
  programs of that shape are not tried.

Not a test: times vary with the machine and the SymPy version. The results
of a full run are in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from workloads import deep_chain, mlp  # noqa: E402


def iterated_sin(nodes: int) -> str:
    """The issue's example: u = sin(u + y), k times (2k operations)."""
    return "\n".join(["u = x"] + ["u = sin(u + y)"] * max(1, nodes // 2)) + "\n"


def small_mlp(nodes: int) -> str:
    """The unrolled tanh MLP, narrower for the small sizes."""
    width = max(2, min(32, int(nodes ** 0.5) // 2))
    return mlp(nodes, width=width, inputs=min(8, width))


SHAPES = {"sin(u + y)": iterated_sin, "tanh chain": deep_chain, "tanh MLP": small_mlp}
SIZES = (10, 100, 1000, 10_000, 100_000)


def gradcli_run(text: str) -> dict:
    from gradcli.build import structure
    from gradcli.codegen import generate
    from gradcli.parse import parse

    python_s = c_s = float("inf")
    for _ in range(3 if len(text) < 1_000_000 else 1):    # the best of three: the machine is shared
        start = time.perf_counter()
        graph = structure(parse(text))
        result = generate(graph, "python")
        python_s = min(python_s, time.perf_counter() - start)
        start = time.perf_counter()
        generate(structure(parse(text)), "c")
        c_s = min(c_s, time.perf_counter() - start)
    plan = result.plan
    return {"program_ops": plan.program_op_count(), "leaves": len(graph.leaves), "ops": plan.op_count(),
            "python_s": python_s, "c_s": c_s, "lines": result.code.count("\n"), "bytes": len(result.code)}


SYMPY_WORKER = r"""
import json, sys, time
import sympy
from gradcli.build import structure
from gradcli.parse import parse

text = sys.stdin.read()
graph = structure(parse(text))
F = {"exp": sympy.exp, "log": sympy.log, "tanh": sympy.tanh, "sin": sympy.sin, "cos": sympy.cos,
     "sqrt": sympy.sqrt, "abs": sympy.Abs}
value = {}
leaves = []
for node in graph.nodes:
    if node.kind == "const":
        value[node.index] = sympy.Float(node.data)
    elif node.is_leaf:
        value[node.index] = s = sympy.Symbol(node.label)
        leaves.append(s)
    else:
        a = [value[c.index] for c in node.children]
        op = node.op
        value[node.index] = (a[0] + a[1] if op == "+" else a[0] - a[1] if op == "-" else a[0] * a[1] if op == "*"
                             else a[0] / a[1] if op == "/" else a[0] ** a[1] if op == "**" else -a[0] if op == "neg"
                             else F[op](a[0]))
out = value[graph.output.index]
start = time.perf_counter()
grads = [sympy.diff(out, s) for s in leaves]
diff_s = time.perf_counter() - start
raw_ops = sum(sympy.count_ops(e) for e in [out, *grads])
replacements, reduced = sympy.cse([out, *grads])
cse_s = time.perf_counter() - start - diff_s
lines = [f"{sym} = {sympy.pycode(e)}" for sym, e in replacements] + [sympy.pycode(e) for e in reduced]
total_s = time.perf_counter() - start
ops = sum(sympy.count_ops(e) for _, e in replacements) + sum(sympy.count_ops(e) for e in reduced)
print(json.dumps({"diff_s": diff_s, "cse_s": cse_s, "total_s": total_s, "raw_ops": raw_ops, "ops": ops,
                  "bytes": sum(len(l) + 1 for l in lines)}))
"""


def sympy_run(text: str, timeout: float) -> dict:
    try:
        done = subprocess.run([sys.executable, "-c", SYMPY_WORKER], input=text, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"failed": f"over {timeout:.0f} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        return {"failed": last.split(":")[0][:40]}
    return json.loads(done.stdout)


DRIVER = """
#include <time.h>
double gradcli_bench(int calls, const double *in, double *out)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int k = 0; k < calls; k++) {
        gradient(in, out);
        __asm__ volatile("" : : "r"(out) : "memory");
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a.tv_sec) + 1e-9 * (b.tv_nsec - a.tv_nsec);
}
"""


def steady_chain(nodes: int) -> str:
    """h = tanh(h * w + c) with w = 1, c = 0: a chain whose gradient stays a
    normal number (it falls like n^-1.5). deep_chain's (w = 0.9, c = 0.1)
    underflows after about 1,300 steps and then stays at the smallest
    subnormal, 4.9e-324 (times 0.67 rounds back to it): every adjoint step
    past that is subnormal arithmetic, which x86 runs in microcode."""
    return deep_chain(nodes).replace("w = 0.9", "w = 1.0").replace("c = 0.1", "c = 0.0")


def c_run(text: str, wrt: list[str] | None, tmp: Path, calls: int, shape: str = "auto") -> tuple[float, float, str]:
    """gcc -O2 -ffp-contract=off seconds (user + system, of the compiler
    alone), seconds per call of the generated C for the gradient with
    respect to ``wrt`` (None: every leaf; []: the value alone), and the
    shape written (``statements`` or ``table``; ``shape`` forces one)."""
    import ctypes
    import resource

    from gradcli import codegen
    from gradcli.build import structure
    from gradcli.codegen import generate
    from gradcli.parse import parse

    graph = structure(parse(text))
    src, lib = tmp / f"g{len(list(tmp.iterdir()))}.c", tmp / f"g{len(list(tmp.iterdir()))}.so"
    saved = codegen.C_TABLE_OPS
    codegen.C_TABLE_OPS = {"auto": saved, "table": -1, "statements": 10 ** 12}[shape]
    try:
        code = generate(graph, "c", wrt).code
    finally:
        codegen.C_TABLE_OPS = saved
    src.write_text("#define _POSIX_C_SOURCE 199309L\n" + code + DRIVER)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["gcc", "-std=c99", "-O2", "-ffp-contract=off", "-shared", "-fPIC", "-o", str(lib), str(src), "-lm"],
                   check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    compile_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    f = ctypes.CDLL(str(lib)).gradcli_bench
    f.restype = ctypes.c_double
    f.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_double)]
    n_in = len(graph.leaves)
    args = (ctypes.c_double * max(1, n_in))(*[graph.leaves[name].data or 0.5 for name in graph.leaves])
    out = (ctypes.c_double * (1 + n_in))()
    best = min(f(calls, args, out) for _ in range(5))
    return compile_s, best / calls, "table" if "switch (p[0])" in code else "statements"


COST_SHAPES = {"tanh chain": deep_chain, "tanh chain, w = 1": steady_chain, "tanh MLP": small_mlp}


def c_main(max_nodes: int, shape: str) -> None:
    """The C target: compile seconds at -O2 up to ``max_nodes`` operations,
    and the timed cost of the gradient against the value alone (the cheap
    gradient principle: at most 4 on a tanh chain)."""
    import tempfile

    print("| program | program ops | shape | gcc -O2 s (value and gradient) | gradient s/call | value alone s/call "
          "| ratio |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for name, make in COST_SHAPES.items():
            for size in (s for s in SIZES[2:] if s <= max_nodes):
                text = make(size)
                calls = max(1, 2_000_000 // size)
                compile_s, grad_s, written = c_run(text, None, tmp, calls, shape)
                _, value_s, value_written = c_run(text, [], tmp, calls, shape)
                ops = program_ops(text)
                shapes = written if written == value_written else f"{written} ({value_written} for the value)"
                print(f"| {name} | {ops:,} | {shapes} | {compile_s:.1f} | {grad_s:.3g} | {value_s:.3g} "
                      f"| {grad_s / value_s:.2f} |", flush=True)


def program_ops(text: str) -> int:
    from gradcli.build import structure
    from gradcli.parse import parse

    return len([n for n in structure(parse(text)).nodes if n.children])


def cost_main(max_nodes: int) -> None:
    """Python and NumPy: one call's time of the gradient against the value
    alone (NumPy on 1,000 points at once), best of 5."""
    import numpy as np

    from gradcli.build import structure
    from gradcli.codegen import generate
    from gradcli.parse import parse

    print("| program | program ops | Python gradient / value | NumPy (1,000 points) gradient / value |")
    print("| --- | ---: | ---: | ---: |")
    for name, make in COST_SHAPES.items():
        for size in (s for s in SIZES[2:] if s <= max_nodes):
            text = make(size)
            graph = structure(parse(text))
            leaves = [leaf.data for leaf in graph.leaves.values()]
            arrays = [np.full(1000, x) + np.linspace(0, 1e-3, 1000) for x in leaves]
            row = []
            for lang, args in (("python", leaves), ("numpy", arrays)):
                times = []
                for wrt in (None, []):
                    namespace: dict = {}
                    exec(compile(generate(graph, lang, wrt).code, "<generated>", "exec"), namespace)
                    f = namespace["gradient"]
                    best = float("inf")
                    for _ in range(5):
                        start = time.perf_counter()
                        f(*args)
                        best = min(best, time.perf_counter() - start)
                    times.append(best)
                row.append(f"{times[0]:.3g} / {times[1]:.3g} s = {times[0] / times[1]:.2f}")
            print(f"| {name} | {program_ops(text):,} | {row[0]} | {row[1]} |", flush=True)


def sql_main(max_nodes: int, rows: int) -> None:
    import random

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from gradcli.build import build, structure
    from gradcli.codegen import DIALECTS, generate
    from gradcli.parse import parse
    from tests.test_codegen_sql import Postgres

    pg = Postgres()
    try:
        print("| program ops | dialect | shape | generate s | MB | statements | engine s | first row vs grad |")
        print("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
        for size in (s for s in (100, 1000, 10_000, 100_000) if s <= max_nodes):
            text = deep_chain(size)
            graph = structure(parse(text))
            rnd = random.Random(size)
            points = [{"w": rnd.uniform(0.5, 1.0), "c": rnd.uniform(-0.2, 0.2), "h": rnd.uniform(-1, 1)}
                      for _ in range(rows)]
            want = build(parse(text), points[0])
            want = (want.value, *want.gradients().values())
            for dialect in DIALECTS:
                start = time.perf_counter()
                code = generate(graph, "sql", dialect=dialect, columns=["w", "c", "h"]).code
                gen = time.perf_counter() - start
                start = time.perf_counter()
                try:
                    have = _run_columns(dialect, code, points, pg)
                    took = f"{time.perf_counter() - start:.2f}"
                    err = max(abs(a - b) / max(abs(a), 1e-300) for a, b in zip(want, have[0]))
                    agree = f"{err:.1e}"
                except Exception as e:  # a limit of the engine: say which
                    took, agree = "failed", str(e).splitlines()[0][:60]
                shape = "script" if "CREATE TEMP TABLE" in code else "one SELECT"
                print(f"| {graph_ops(graph):,} | {dialect} | {shape} | {gen:.2f} | {len(code) / 1e6:.2f} | "
                      f"{code.count(';') + (shape == 'one SELECT')} | {took} | {agree} |", flush=True)
    finally:
        pg.stop()


def graph_ops(graph) -> int:
    return len([n for n in graph.nodes if n.children])


def _run_columns(dialect: str, code: str, points, pg):
    """The SQL over a table of w, c, h: (value, grads...) per row."""
    import sqlite3

    import duckdb

    if dialect == "postgres":
        values = ", ".join(f"({p['w']!r}::float8, {p['c']!r}::float8, {p['h']!r}::float8)" for p in points)
        done = pg.run(f"DROP TABLE IF EXISTS points;\nCREATE TABLE points (w float8, c float8, h float8);\n"
                      f"INSERT INTO points VALUES {values};\n{code}")
        if done.returncode:
            raise RuntimeError(done.stderr.strip().splitlines()[-1])
        rows = [tuple(float(v) for v in line.split("|")) for line in done.stdout.splitlines()]
    else:
        con = duckdb.connect() if dialect == "duckdb" else sqlite3.connect(":memory:")
        con.execute("CREATE TABLE points (w DOUBLE, c DOUBLE, h DOUBLE)")
        con.executemany("INSERT INTO points VALUES (?, ?, ?)", [[p["w"], p["c"], p["h"]] for p in points])
        if dialect == "sqlite":
            head, _, last = code.rstrip().rstrip(";").rpartition(";\n")
            if head:
                con.executescript(head + ";")
            rows = con.execute(last).fetchall()
        else:
            rows = con.execute(code).fetchall()
    return [row[3:] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-nodes", type=int, default=100_000)
    parser.add_argument("--sympy-timeout", type=float, default=300.0)
    parser.add_argument("--no-sympy", action="store_true", help="gradcli's columns only")
    parser.add_argument("--c", action="store_true", help="the C target: compile time and gradient/value time")
    parser.add_argument("--shape", choices=("auto", "statements", "table"), default="auto",
                        help="--c: the C's shape (auto: a table past codegen.C_TABLE_OPS operations)")
    parser.add_argument("--cost", action="store_true", help="Python and NumPy: gradient/value time")
    parser.add_argument("--sql", action="store_true", help="SQL in DuckDB, SQLite and PostgreSQL: time and size")
    parser.add_argument("--rows", type=int, default=100, help="--sql: the table's rows")
    args = parser.parse_args()
    if args.sql:
        sql_main(args.max_nodes, args.rows)
        return
    if args.c:
        c_main(args.max_nodes, args.shape)
        return
    if args.cost:
        cost_main(args.max_nodes)
        return
    print("| program | nodes | leaves | gradcli ops (x program) | gradcli Python s | gradcli C s | Python lines / KB "
          "| SymPy ops: diff -> cse (x program) | SymPy diff+cse+print s | SymPy KB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for shape, make in SHAPES.items():
        sympy_gave_up = ""
        for size in (s for s in SIZES if s <= args.max_nodes):
            text = make(size)
            g = gradcli_run(text)
            n = g["program_ops"]
            row = [shape, f"{n:,}", f"{g['leaves']:,}", f"{g['ops']:,} ({g['ops'] / n:.1f}x)", f"{g['python_s']:.3f}",
                   f"{g['c_s']:.3f}", f"{g['lines']:,} / {g['bytes'] / 1024:,.1f}"]
            if args.no_sympy:
                row += ["", "", ""]
            elif sympy_gave_up:
                row += ["not tried", sympy_gave_up, ""]
            else:
                s = sympy_run(text, args.sympy_timeout)
                if "failed" in s:
                    sympy_gave_up = s["failed"]
                    row += ["-", sympy_gave_up, ""]
                else:
                    row += [f"{s['raw_ops']:,} -> {s['ops']:,} ({s['ops'] / n:.1f}x)", f"{s['total_s']:.3f}",
                            f"{s['bytes'] / 1024:,.1f}"]
            print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
