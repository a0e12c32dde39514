"""Which Graphviz attributes bound `dot`'s layout of gradcli pictures.

    python bench/graph_limits.py [--sizes 50,100] [--timeout 90] [--shapes shared,chain]

For each shape and size (the shapes of bench/graph_layout.py: a chain of
neurons, a tree with short edges, and a running sum reading ten shared
inputs at every step, whose long edges make the layout hard) it lays the
DOT out with `dot -Tsvg` under each set of graph attributes below and prints
the CPU time `dot` used (user + system, which a busy machine disturbs less
than the wall clock), or `>` the time limit. The set gradcli writes in its
DOT header is draw.layout_limits's; bench/README.md has the figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile

import re

sys.path.insert(0, os.path.dirname(__file__))
from graph_layout import programs  # noqa: E402

SETS = [
    "",                                        # Graphviz's defaults
    "nslimit=1",
    "nslimit=1, nslimit1=1",
    "nslimit=1, mclimit=0.5",
    "nslimit=1, nslimit1=1, mclimit=0.5",
    "nslimit=1, nslimit1=1, mclimit=0.5, searchsize=10",
    "nslimit=0.2, nslimit1=1, mclimit=0.5",
]


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="50,100")
    ap.add_argument("--timeout", type=float, default=90)
    ap.add_argument("--shapes", default="shared,chain")
    ap.add_argument("--sets", default=None, help="indices into SETS, comma separated")
    a = ap.parse_args()
    sets = SETS if a.sets is None else [SETS[int(i)] for i in a.sets.split(",")]
    gradcli = os.path.join(os.path.dirname(sys.executable), "gradcli")
    with tempfile.TemporaryDirectory() as tmp:
        for shape, n, prog, args in programs(a.shapes, a.sizes, tmp):
            dot = subprocess.run([gradcli, "graph", "-f", prog, *args], check=True,
                                 capture_output=True, text=True).stdout
            # gradcli's own header, with its limits taken out, then each set put in
            base = re.sub(r", nslimit=[^,]*, mclimit=[^,\]]*", "", dot, count=1)
            values = sum(1 for line in base.splitlines() if line.startswith("  n") and '[label="{' in line)
            for attrs in sets:
                head = base.replace("graph [rankdir=LR,", f"graph [rankdir=LR, {attrs}," if attrs else
                                    "graph [rankdir=LR,", 1)
                path = os.path.join(tmp, "p.dot")
                with open(path, "w") as f:
                    f.write(head)
                before = cpu()
                try:
                    subprocess.run(["dot", "-Tsvg", "-o", os.devnull, path], check=True, timeout=a.timeout)
                    took = f"{cpu() - before:7.2f} s"
                except subprocess.TimeoutExpired:
                    took = f"> {a.timeout:.0f} s (wall)"
                print(f"{shape:7} n={n:5} values {values:5}  [{attrs or 'defaults'}]  dot CPU {took}", flush=True)


if __name__ == "__main__":
    main()
