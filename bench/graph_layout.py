"""How long Graphviz takes to lay out gradcli pictures of growing size.

    python bench/graph_layout.py [--sizes 250,500,1000,2000] [--timeout 120]

Two shapes of program: a chain of neurons, each with its own inputs (a tree,
easy to lay out), and a running sum that reads ten shared inputs at every step
(long edges fanning out of a few nodes, hard to lay out). For each it prints
the number of value nodes, the time to write the DOT (gradcli graph, no
Graphviz) and the time `dot -Tsvg` takes. Speed is measured here, never asserted
in the tests.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def chain(n: int) -> tuple[str, list[str]]:
    lines = ["s = 0.0"]
    args = []
    for i in range(n):
        lines.append(f"s = tanh(w{i} * s + x{i} + b{i})")
        args += [f"w{i}=0.5", f"x{i}=0.{i % 10}", f"b{i}=0.1"]
    return "\n".join(lines) + "\n", args


def shared(n: int) -> tuple[str, list[str]]:
    lines = ["s = 0.0"] + [f"s += tanh(x{i % 10} * {i + 1}.5 + s)" for i in range(n)]
    return "\n".join(lines) + "\n", [f"x{i}=0.{i}" for i in range(min(n, 10))]


def programs(shapes: str, sizes: str, tmp: str):
    """(shape, n, program file, bindings) for each shape and size named
    (comma separated), the program written to a file in ``tmp``."""
    for shape in shapes.split(","):
        for n in map(int, sizes.split(",")):
            text, args = {"chain": chain, "shared": shared}[shape](n)
            prog = os.path.join(tmp, "p.grad")
            with open(prog, "w") as f:
                f.write(text)
            yield shape, n, prog, args


def layout_size(prog: str, args: list[str]) -> int:
    """gradcli's estimate of the layout's size (what its warning is based on)."""
    from gradcli import draw
    from gradcli.cli import Source, load

    return draw.layout_size(draw.select(load(None, prog, args, None, Source())))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,200,400,800")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--shapes", default="chain,shared")
    a = ap.parse_args()
    gradcli = os.path.join(os.path.dirname(sys.executable), "gradcli")
    with tempfile.TemporaryDirectory() as tmp:
        for shape, n, prog, args in programs(a.shapes, a.sizes, tmp):
            dot = os.path.join(tmp, "p.dot")
            t0 = time.perf_counter()
            subprocess.run([gradcli, "graph", "-f", prog, *args, "-o", dot], check=True)
            t1 = time.perf_counter()
            try:
                subprocess.run(["dot", "-Tsvg", "-o", os.devnull, dot], check=True, timeout=a.timeout)
                layout = f"{time.perf_counter() - t1:7.2f} s"
            except subprocess.TimeoutExpired:
                layout = f"> {a.timeout:.0f} s"
            with open(dot) as f:
                values = sum(1 for line in f if line.startswith("  n") and '[label="{' in line)
            size = layout_size(prog, args)
            print(f"{shape:7} n={n:6}  value nodes {values:7}  layout size {size:7}  DOT {t1 - t0:6.2f} s  layout {layout}", flush=True)


if __name__ == "__main__":
    main()
