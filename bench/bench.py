"""gradcli's benchmark: one-shot latency, huge programs, many points.

    python bench/bench.py            # the full run (about ten minutes on 2 cores)
    python bench/bench.py --quick    # small sizes, a minute or two

Run it by hand (not in CI) from the repository with gradcli installed in the
same Python. Contenders that are not installed (micrograd, torch, sympy,
qalc, hyperfine) are skipped, and the report says so.

Every measurement of a library runs in a fresh worker process (this script
with ``--worker``), timed inside the worker around the work alone: text in,
value and every gradient out. Contenders are interleaved, round after round,
and the report gives medians and ratios. Commands are timed as whole
processes with standard output on a pipe.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads  # noqa: E402

PY = sys.executable
GRADCLI = [str(Path(PY).with_name("gradcli"))] if Path(PY).with_name("gradcli").exists() else [PY, "-m", "gradcli"]
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def have(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None


# ================================================================== workers
# Each returns a dict: seconds (the timed work), nodes, and anything else.

def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def w_gradcli(text: str) -> dict:
    import gc

    from gradcli.build import build
    from gradcli.parse import parse

    gc.collect()
    t0 = time.perf_counter()
    graph = build(parse(text))
    grads = graph.gradients()
    t1 = time.perf_counter()
    assert all(math.isfinite(g) for g in grads.values())
    return {"seconds": t1 - t0, "nodes": len(graph.nodes), "value": graph.value, "peak_mb": _peak_mb()}


def w_engine(text: str) -> dict:
    """gradcli's engine alone: forward and backward on a built graph."""
    from gradcli.build import build
    from gradcli.engine import paused_gc
    from gradcli.parse import parse

    graph = build(parse(text))
    with paused_gc():
        t0 = time.perf_counter()
        graph.forward()
        graph.backward()
        t1 = time.perf_counter()
    return {"seconds": t1 - t0, "nodes": len(graph.nodes), "value": graph.value}


def w_flat(text: str) -> dict:
    """A minimal flat tape (the yardstick): parallel lists of op codes and
    operand indices, one loop forward and one back, on the same graph."""
    from gradcli.build import build
    from gradcli.engine import paused_gc
    from gradcli.parse import parse

    graph = build(parse(text))
    nodes = graph.nodes
    code = {"+": 0, "-": 1, "*": 2, "tanh": 3, "sigmoid": 4}
    ops = [code[n.op] if n.children else -1 for n in nodes]
    a = [n.children[0].index if n.children else 0 for n in nodes]
    b = [n.children[1].index if len(n.children) > 1 else 0 for n in nodes]
    v = [n.data for n in nodes]
    tanh, exp = math.tanh, math.exp
    with paused_gc():
        t0 = time.perf_counter()
        for i, op in enumerate(ops):
            if op < 0:
                continue
            if op == 0:
                v[i] = v[a[i]] + v[b[i]]
            elif op == 1:
                v[i] = v[a[i]] - v[b[i]]
            elif op == 2:
                v[i] = v[a[i]] * v[b[i]]
            elif op == 3:
                v[i] = tanh(v[a[i]])
            else:
                v[i] = 1.0 / (1.0 + exp(-v[a[i]]))
        g = [0.0] * len(v)
        g[graph.output.index] = 1.0
        for i in range(len(ops) - 1, -1, -1):
            op = ops[i]
            if op < 0:
                continue
            gi = g[i]
            if op == 0:
                g[a[i]] += gi
                g[b[i]] += gi
            elif op == 1:
                g[a[i]] += gi
                g[b[i]] -= gi
            elif op == 2:
                g[a[i]] += gi * v[b[i]]
                g[b[i]] += gi * v[a[i]]
            elif op == 3:
                g[a[i]] += gi * (1.0 - v[i] * v[i])
            else:
                g[a[i]] += gi * v[i] * (1.0 - v[i])
        t1 = time.perf_counter()
    assert abs(v[graph.output.index] - graph.value) < 1e-9 * (1 + abs(graph.value))
    return {"seconds": t1 - t0, "nodes": len(nodes), "value": v[graph.output.index]}


def _micrograd_value():
    from micrograd.engine import Value

    if not hasattr(Value, "tanh"):  # micrograd 0.1.0 has relu only; add the lecture's tanh, and sigmoid
        def tanh(self):
            t = math.tanh(self.data)
            out = Value(t, (self,), "tanh")

            def _backward():
                self.grad += (1 - t ** 2) * out.grad
            out._backward = _backward
            return out

        def sigmoid(self):
            s = 1 / (1 + math.exp(-self.data))
            out = Value(s, (self,), "sigmoid")

            def _backward():
                self.grad += s * (1 - s) * out.grad
            out._backward = _backward
            return out

        Value.tanh, Value.sigmoid = tanh, sigmoid
    return Value


def _last_name(text: str) -> str:
    return text.rstrip().rsplit("\n", 1)[-1].split("=", 1)[0].strip().split()[0]


def w_micrograd(text: str) -> dict:
    import threading

    Value = _micrograd_value()
    py = workloads.to_python(text)
    out_name = _last_name(py)
    sys.setrecursionlimit(10_000_000)   # micrograd's topological sort recurses
    threading.stack_size(1 << 29)
    result = {}

    def run():
        t0 = time.perf_counter()
        ns = {"Value": Value}
        exec(py, ns)
        out = ns[out_name]
        out.backward()
        t1 = time.perf_counter()
        result.update(seconds=t1 - t0, value=out.data, peak_mb=_peak_mb())

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return result


def w_torch(text: str) -> dict:
    import torch

    torch.set_num_threads(1)
    py = workloads.to_python(text, leaf="_leaf({})")
    out_name = _last_name(py)

    def _leaf(x):
        return torch.tensor(float(x), dtype=torch.float64, requires_grad=True)

    t0 = time.perf_counter()
    ns = {"_leaf": _leaf, "tanh": torch.tanh}
    exec(py, ns)
    out = ns[out_name]
    out.backward()
    t1 = time.perf_counter()
    return {"seconds": t1 - t0, "value": out.item(), "peak_mb": _peak_mb()}


# -------------------------------------------------------- many points workers

def _points(n: int, names: list[str], seed: int = 3):
    import numpy as np

    rnd = np.random.default_rng(seed)
    return {name: rnd.uniform(-1, 1, n) for name in names}


def w_points_gradcli(n: int) -> dict:
    from gradcli.arrays import at_points
    from gradcli.build import structure
    from gradcli.parse import parse

    text, names = workloads.small_mlp()
    cols = _points(n, names)
    t0 = time.perf_counter()
    block = at_points(structure(parse(text)), cols)
    t1 = time.perf_counter()
    assert not block.errors and len(block.grads) == len(names)
    return {"seconds": t1 - t0, "check": float(block.grads[names[-1]].sum())}


def w_points_torch(n: int) -> dict:
    import torch

    torch.set_num_threads(1)
    text, names = workloads.small_mlp()
    py = workloads.to_python(text)
    cols = _points(n, names)
    t0 = time.perf_counter()
    leaves = {k: torch.tensor(v, requires_grad=True) for k, v in cols.items()}
    ns = dict(leaves)
    exec(py, ns)
    ns["y"].sum().backward()
    grads = {k: leaves[k].grad.numpy() for k in names}
    t1 = time.perf_counter()
    return {"seconds": t1 - t0, "check": float(grads[names[-1]].sum())}


def w_points_sympy(n: int) -> dict:
    import numpy as np
    import sympy

    text, names = workloads.small_mlp()
    cols = _points(n, names)
    t0 = time.perf_counter()
    syms = {k: sympy.Symbol(k) for k in names}
    ns = {"tanh": sympy.tanh, **syms}
    exec(text, ns)  # the program is Python too: tanh(...) is sympy.tanh
    y = ns["y"]
    f = sympy.lambdify([syms[k] for k in names], [y, *[sympy.diff(y, syms[k]) for k in names]], "numpy")
    t1 = time.perf_counter()
    out = f(*[cols[k] for k in names])
    t2 = time.perf_counter()
    return {"seconds": t2 - t1, "setup": t1 - t0, "check": float(np.sum(out[-1]))}


def w_points_micrograd(n: int) -> dict:
    Value = _micrograd_value()
    text, names = workloads.small_mlp()
    code = compile(workloads.to_python(text), "mlp", "exec")
    cols = _points(n, names)
    t0 = time.perf_counter()
    for i in range(n):
        leaves = {k: Value(float(cols[k][i])) for k in names}
        ns = dict(leaves)
        exec(code, ns)
        ns["y"].backward()
    t1 = time.perf_counter()
    return {"seconds": t1 - t0}


WORKERS = {name[2:]: fn for name, fn in globals().items() if name.startswith("w_")}


def worker(args: list[str]) -> None:
    kind, workload, size = args
    if kind.startswith("points_"):
        result = WORKERS[kind](int(size))
    else:
        result = WORKERS[kind](workloads.WORKLOADS[workload](int(size)))
    print(json.dumps(result), flush=True)
    # Leave without freeing the graph: tearing down a deep graph is no part
    # of the measurement (and takes micrograd and torch minutes on a deep
    # chain), so no contender pays for it.
    os._exit(0)


TIMEOUT = 180.0   # seconds for one worker; a contender that takes longer is reported so


def run_worker(kind: str, workload: str, size: int, timeout: float = TIMEOUT) -> dict | None:
    try:
        p = subprocess.run([PY, __file__, "--worker", kind, workload, str(size)], capture_output=True,
                           text=True, timeout=timeout, env=ENV)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(p.stdout)


# ================================================================ the parts

def rounds(contenders: list, reps: int):
    """Interleave: every round runs each contender once, in a rotated order."""
    for r in range(reps):
        k = r % len(contenders)
        for c in contenders[k:] + contenders[:k]:
            yield c


def time_commands(commands: dict, reps: int) -> dict:
    times = {name: [] for name in commands}
    for name in rounds(list(commands), reps):
        t0 = time.perf_counter()
        p = subprocess.run(commands[name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        t = time.perf_counter() - t0
        if p.returncode != 0:
            raise SystemExit(f"{name} failed: {p.stderr.decode()[-300:]}")
        times[name].append(t)
    return {name: statistics.median(ts) for name, ts in times.items()}


def part_latency(reps: int, skipped: list) -> list[str]:
    commands = {
        "python3 -c pass": [PY, "-c", "pass"],
        "gradcli eval (piped)": GRADCLI + ["eval", "(a*b+c)*f", "a=2", "b=-3", "c=10", "f=-2"],
        "gradcli grad (piped)": GRADCLI + ["grad", "(a*b+c)*f", "a=2", "b=-3", "c=10", "f=-2"],
        "gradcli grad --json": GRADCLI + ["grad", "(a*b+c)*f", "a=2", "b=-3", "c=10", "f=-2", "--json"],
    }
    if shutil.which("qalc"):
        commands["qalc (eval)"] = ["qalc", "-t", "(2*(-3)+10)*(-2)"]
        commands["qalc (diff)"] = ["qalc", "-t", "diff((a*(-3)+10)*(-2), a)"]
    else:
        skipped.append("qalc (not installed)")
    time_commands(commands, 1)  # warm up: compile bytecode, fill caches
    med = time_commands(commands, reps)
    ref = med.get("qalc (eval)")
    lines = ["| command | median ms | vs qalc eval |", "| --- | ---: | ---: |"]
    for name, t in med.items():
        lines.append(f"| {name} | {t * 1000:.1f} | {t / ref:.2f}x |" if ref else f"| {name} | {t * 1000:.1f} | |")
    return lines


def part_huge(size: int, reps: int, skipped: list) -> list[str]:
    contenders = ["gradcli", "engine", "flat"]
    for mod, name in (("micrograd", "micrograd"), ("torch", "torch")):
        if have(mod):
            contenders.append(name)
        else:
            skipped.append(f"{name} (not installed)")
    lines = [f"Text to value and every gradient, µs per graph node, median of {reps} "
             f"(about {size:,} nodes; gradcli's graph's node count for all):", "",
             "| workload | nodes | gradcli | micrograd | torch | gradcli ÷ micrograd | engine | flat tape "
             "| engine ÷ flat | gradcli command | peak MB (gradcli / micrograd) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, gen in workloads.WORKLOADS.items():
        results = {c: [] for c in contenders}
        for c in rounds(contenders, reps):
            if any("error" in r for r in results[c]):
                continue                     # it timed out or failed once: once is enough
            results[c].append(run_worker(c, name, size, timeout=TIMEOUT))
        prog = Path(tempfile.mkdtemp()) / f"{name}.grad"
        prog.write_text(gen(size))
        cmd = time_commands({"cmd": GRADCLI + ["grad", "-f", str(prog)]}, max(1, reps // 2))["cmd"]
        nodes = next(r["nodes"] for r in results["gradcli"] if "nodes" in r)

        def per_node(c):
            ok = [r["seconds"] for r in results.get(c, []) if r and "seconds" in r]
            if not ok:
                errs = [r.get("error") for r in results.get(c, []) if r and "error" in r]
                return None, errs[0] if errs else "skipped"
            return statistics.median(ok) / nodes * 1e6, None

        def cell(c):
            v, err = per_node(c)
            return f"{v:.2f}" if v is not None else f"({err})"

        def ratio(x, y):
            a, b = per_node(x)[0], per_node(y)[0]
            return f"{a / b:.2f}" if a is not None and b is not None else "-"

        peak = [max((r.get("peak_mb", 0) for r in results.get(c, []) if r), default=0) for c in ("gradcli", "micrograd")]
        lines.append(f"| {name} | {nodes:,} | {cell('gradcli')} | {cell('micrograd')} | {cell('torch')} "
                     f"| {ratio('gradcli', 'micrograd')} | {cell('engine')} | {cell('flat')} | {ratio('engine', 'flat')} "
                     f"| {cmd / nodes * 1e6:.2f} | {peak[0]:.0f} / {peak[1]:.0f} |")
    return lines


def part_million(size: int) -> list[str]:
    lines = [f"One program of about {size:,} nodes, gradcli as a library (one run each):", "",
             "| workload | nodes | seconds | µs per node | peak MB |", "| --- | ---: | ---: | ---: | ---: |"]
    for name in workloads.WORKLOADS:
        r = run_worker("gradcli", name, size)
        if "error" in r:
            lines.append(f"| {name} | | ({r['error']}) | | |")
            continue
        lines.append(f"| {name} | {r['nodes']:,} | {r['seconds']:.2f} | {r['seconds'] / r['nodes'] * 1e6:.2f} "
                     f"| {r['peak_mb']:.0f} |")
    return lines


def part_points(n: int, reps: int, skipped: list) -> list[str]:
    contenders = ["points_gradcli"]
    for mod, name in (("torch", "points_torch"), ("sympy", "points_sympy"), ("micrograd", "points_micrograd")):
        if have(mod):
            contenders.append(name)
        else:
            skipped.append(f"{mod} (not installed)")
    text, names = workloads.small_mlp()
    results = {c: [] for c in contenders}
    for c in rounds(contenders, reps):
        size = min(n, 300) if c == "points_micrograd" else n
        r = run_worker(c, "-", size)
        r["n"] = size
        results[c].append(r)
    tmp = Path(tempfile.mkdtemp())
    (tmp / "mlp.grad").write_text(text)
    cols = {k: [random.Random(i).uniform(-1, 1) for i in range(n)] for k in names}
    with open(tmp / "points.csv", "w") as f:
        f.write(",".join(names) + "\n")
        for i in range(n):
            f.write(",".join(repr(cols[k][i]) for k in names) + "\n")
    cmd = time_commands({"c": GRADCLI + ["grad", "-f", str(tmp / "mlp.grad"), "--at", str(tmp / "points.csv")]},
                        reps)["c"]
    nodes = len(__import__("gradcli").build(__import__("gradcli").parse(text), {k: 0.5 for k in names}).nodes)
    label = {"points_gradcli": "gradcli (library: text and arrays in, arrays out)",
             "points_torch": "torch, batched tensors (exec of the program included)",
             "points_sympy": "SymPy lambdify (evaluation only; set-up below)",
             "points_micrograd": "micrograd, one point at a time"}
    lines = [f"Value and all {len(names)} gradients of a {nodes}-node program at {n:,} points, "
             f"median of {reps}:", "", "| contender | points/s | vs gradcli |", "| --- | ---: | ---: |"]
    rate = {}
    for c in contenders:
        ok = [r for r in results[c] if "seconds" in r]
        if not ok:
            lines.append(f"| {label[c]} | ({results[c][0].get('error')}) | |")
            continue
        rate[c] = ok[0]["n"] / statistics.median(r["seconds"] for r in ok)
    for c, v in rate.items():
        lines.append(f"| {label[c]} | {v:,.0f} | {v / rate['points_gradcli']:.2f}x |")
    lines.append(f"| gradcli command: `grad -f mlp.grad --at points.csv` (start-up, CSV in and out) "
                 f"| {n / cmd:,.0f} | {n / cmd / rate['points_gradcli']:.2f}x |")
    if "points_sympy" in rate:
        setup = statistics.median(r["setup"] for r in results["points_sympy"] if "setup" in r)
        lines += ["", f"SymPy's set-up (build the expression, differentiate, lambdify): {setup:.2f} s."]
    return lines


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for mod in ("gradcli", "lark", "typer", "numpy", "torch", "micrograd", "sympy"):
        try:
            from importlib.metadata import version

            versions.append(f"{mod} {version(mod)}")
        except Exception:
            pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu}, {os.cpu_count()} cores; command: {' '.join(GRADCLI)}, Python {platform.python_version()}, {platform.system()}; "
            f"{', '.join(versions)}; load average {load:.1f} at the start")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes and few rounds")
    ap.add_argument("--only", choices=["latency", "huge", "million", "points"], action="append")
    ap.add_argument("--gradcli", metavar="PATH",
                    help="the gradcli command to time (default: the one next to this Python); "
                         "an editable install adds its finder's start-up cost, so time a regular install")
    args = ap.parse_args()
    if args.gradcli:
        global GRADCLI
        GRADCLI = [args.gradcli]
    q = args.quick
    parts = args.only or ["latency", "huge", "million", "points"]
    skipped: list[str] = []
    def say(lines):
        print("\n".join(lines), flush=True)

    say([f"Machine: {machine()}.", ""])
    if "latency" in parts:
        say(["### One-shot latency", "", f"`(a*b+c)*f` at a point, whole process, standard output on a pipe, "
             f"median of {10 if q else 40}:", ""] + part_latency(10 if q else 40, skipped) + [""])
    if "huge" in parts:
        say(["### Huge programs", ""] + part_huge(10_000 if q else 100_000, 3, skipped) + [""])
    if "points" in parts:
        say(["### Many points", ""] + part_points(2_000 if q else 10_000, 3 if q else 7, skipped) + [""])
    if "million" in parts:
        say(["### A million nodes", ""] + part_million(100_000 if q else 1_000_000) + [""])
    if skipped:
        say(["Skipped: " + ", ".join(sorted(set(skipped))) + "."])


if __name__ == "__main__":
    main()
