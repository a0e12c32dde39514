"""Many points at the speed of the data: `gradcli grad --at` against Polars.

    python bench/points.py                 # 1e6 points of the neuron, 2e5 of the MLP
    python bench/points.py --n 100000      # smaller
    python bench/points.py --big           # also peak memory at 1e7 points

Whole processes, timed side by side, round after round (min and median of
wall time, and CPU time: user + system), with peak RSS from ``wait4``:

- the lecture's neuron (examples/neuron.grad: value and 5 gradients) and
  the 193-node MLP of workloads.small_mlp (value and 71 gradients);
- CSV -> CSV (also with an id and a label column carried into the
  results), Parquet -> Parquet and JSON lines -> JSON lines (Polars
  writes flat objects, gradcli ``{"value": .., "grad": {..}}``); gradcli
  with ``--jobs 1`` and ``2``,
  and CSV -> CSV without the ``data`` extra (bench/bare.py hides pyarrow
  and orjson);
- against a ten-line Polars script that computes the same numbers from
  derivative expressions written by hand (bench/polars_neuron.py,
  bench/polars_mlp.py; ``pip install polars`` for the bench only).

Outputs are compared: the share of CSV lines that are byte-identical, and
the largest relative difference between the two. They are not meant to be
identical: the hand-written ``1 - o**2`` of the Polars scripts loses digits
of tanh' as ``o`` nears 1 (and gives 0 past |n| = 19), where gradcli keeps
the tail (issue 13), and recent Polars writes ``1e-7`` where Python writes
``1e-07``. The data lives in a temporary directory
that is removed at the end (``--keep DIR`` keeps it there).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import workloads  # noqa: E402

PY = sys.executable
GRADCLI = [str(Path(PY).with_name("gradcli"))] if Path(PY).with_name("gradcli").exists() else [PY, "-m", "gradcli"]


def run(cmd) -> dict:
    """One whole process: wall seconds, CPU seconds, peak RSS in MB. The
    command is started by GNU time: Linux carries a process's peak RSS
    across fork and exec, so a child of this (large) process would report
    at least this process's size; GNU time's child starts small."""
    with tempfile.NamedTemporaryFile("r") as f:
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-o", f.name, "-f", "%U %S %M", *cmd],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise SystemExit(f"failed: {' '.join(map(str, cmd))}\n{p.stderr.decode()}")
        user, system, rss = f.read().split()[-3:]
    return {"wall": wall, "cpu": float(user) + float(system), "rss": int(rss) / 1024}


def make_points(d: Path, name: str, names: list, n: int, seed: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    table = pa.table({k: rng.normal(size=n) for k in names})
    pq.write_table(table, d / f"{name}.parquet")
    from gradcli.pointsio import float_lines

    with open(d / f"{name}.csv", "wb") as f:
        f.write((",".join(names) + "\n").encode())
        for start in range(0, n, 100_000):
            part = table.slice(start, 100_000)
            f.write(float_lines([c.to_numpy() for c in part.columns]))
    with open(d / f"{name}.csv", "rb") as f, open(d / f"{name}.extra.csv", "wb") as g:
        # The same points with an id and a label: extra columns, carried into the results.
        g.write(b"id," + f.readline().rstrip(b"\n") + b",label\n")
        for i, line in enumerate(f):
            g.write(b"%d,%s,row%d\n" % (i, line.rstrip(b"\n"), i % 10))
    with open(d / f"{name}.jsonl", "wb") as f:
        for start in range(0, n, 100_000):
            part = table.slice(start, 100_000)
            rows = zip(*[c.to_numpy().tolist() for c in part.columns])
            f.write("".join("{" + ", ".join(f'"{k}": {v!r}' for k, v in zip(names, r)) + "}\n"
                            for r in rows).encode())


def compare(a: Path, b: Path) -> str:
    import numpy as np
    import pyarrow.csv as pacsv

    ta, tb = pacsv.read_csv(a), pacsv.read_csv(b)
    if ta.column_names != tb.column_names or ta.num_rows != tb.num_rows:
        return "DIFFERENT SHAPE"
    la, lb = a.read_bytes().split(b"\n"), b.read_bytes().split(b"\n")
    same = sum(x == y for x, y in zip(la, lb)) / max(1, len(la))
    worst = 0.0
    for ca, cb in zip(ta.columns, tb.columns):
        x, y = ca.to_numpy(), cb.to_numpy()
        scale = np.maximum(np.abs(x), np.abs(y))
        rel = np.where(scale > 0, np.abs(x - y) / np.where(scale > 0, scale, 1), 0)
        worst = max(worst, float(rel.max()))
    return f"{same:.1%} of lines identical, largest relative difference {worst:.1e}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--mlp-n", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--big", action="store_true", help="peak memory at 1e7 points too")
    ap.add_argument("--keep", type=Path)
    args = ap.parse_args()
    d = Path(tempfile.mkdtemp(prefix="gradcli-bench-")) if args.keep is None else args.keep
    d.mkdir(exist_ok=True)
    try:
        mlp_text, mlp_names = workloads.small_mlp()
        (d / "mlp.grad").write_text(mlp_text)
        workloads_ = [
            ("neuron", ROOT / "examples" / "neuron.grad", ["x1", "x2", "w1", "w2", "b"], args.n,
             HERE / "polars_neuron.py"),
            ("mlp", d / "mlp.grad", mlp_names, args.mlp_n, HERE / "polars_mlp.py"),
        ]
        print(f"load average at the start: {os.getloadavg()[0]:.1f}; {os.cpu_count()} cores\n")
        for name, program, names, n, script in workloads_:
            if not all((d / f"{name}.{ext}").exists() for ext in ("csv", "parquet", "jsonl", "extra.csv")):
                make_points(d, name, names, n, seed=1)
            cases = {
                "polars csv->csv": [PY, script, d / f"{name}.csv", d / f"{name}.polars.csv"],
                "gradcli csv->csv": [*GRADCLI, "grad", "-f", program, "--at", d / f"{name}.csv",
                                     "-o", d / f"{name}.gradcli.csv"],
                "gradcli csv->csv, an id and a label carried": [
                    *GRADCLI, "grad", "-f", program, "--at", d / f"{name}.extra.csv",
                    "-o", d / f"{name}.extra.out.csv"],
                "gradcli csv->csv --jobs 2": [*GRADCLI, "grad", "-f", program, "--at", d / f"{name}.csv",
                                              "-o", d / f"{name}.gradcli2.csv", "--jobs", "2"],
                "gradcli csv->csv, no extras (no pyarrow, no orjson)": [
                    PY, HERE / "bare.py", "grad", "-f", program, "--at", d / f"{name}.csv",
                    "-o", d / f"{name}.bare.csv"],
                "polars parquet->parquet": [PY, script, d / f"{name}.parquet", d / f"{name}.polars.parquet"],
                "gradcli parquet->parquet": [*GRADCLI, "grad", "-f", program, "--at", d / f"{name}.parquet",
                                             "-o", d / f"{name}.gradcli.parquet"],
                "gradcli parquet->parquet --jobs 2": [*GRADCLI, "grad", "-f", program, "--at",
                                                      d / f"{name}.parquet", "-o", d / f"{name}.gradcli2.parquet",
                                                      "--jobs", "2"],
                "polars jsonl->jsonl": [PY, script, d / f"{name}.jsonl", d / f"{name}.polars.jsonl"],
                "gradcli jsonl->jsonl": [*GRADCLI, "grad", "-f", program, "--at", d / f"{name}.jsonl",
                                         "-o", d / f"{name}.gradcli.jsonl"],
            }
            times: dict = {k: [] for k in cases}
            for _ in range(args.rounds):
                for k, cmd in cases.items():
                    times[k].append(run([str(c) for c in cmd]))
            base = min(t["wall"] for t in times["polars csv->csv"])
            print(f"### {name}: value and {len(names)} gradients at {n:,} points "
                  f"(best and median of {args.rounds}, whole processes)\n")
            print("| command | best s | median s | CPU s (best) | peak MB | Polars csv->csv ÷ this |")
            print("| --- | ---: | ---: | ---: | ---: | ---: |")
            for k, ts in times.items():
                best = min(t["wall"] for t in ts)
                print(f"| {k} | {best:.2f} | {statistics.median(t['wall'] for t in ts):.2f} "
                      f"| {min(t['cpu'] for t in ts):.2f} | {max(t['rss'] for t in ts):.0f} | {base / best:.2f}x |")
            print(f"\ngradcli vs Polars, CSV: {compare(d / f'{name}.gradcli.csv', d / f'{name}.polars.csv')}")
            same = (d / f"{name}.gradcli.csv").read_bytes() == (d / f"{name}.gradcli2.csv").read_bytes()
            bare = (d / f"{name}.gradcli.csv").read_bytes() == (d / f"{name}.bare.csv").read_bytes()
            print(f"--jobs 2 output identical to --jobs 1: {same}; without extras identical: {bare}\n")
        sizes = [args.n] + ([10 * args.n] if args.big else [])
        print("### peak memory, neuron, CSV -> CSV and Parquet -> Parquet\n")
        print("| points | csv->csv peak MB | parquet->parquet peak MB |")
        print("| ---: | ---: | ---: |")
        for n in sizes:
            if not (d / f"mem{n}.csv").exists():
                make_points(d, f"mem{n}", ["x1", "x2", "w1", "w2", "b"], n, seed=2)
            a = run([*GRADCLI, "grad", "-f", str(ROOT / "examples" / "neuron.grad"), "--at", str(d / f"mem{n}.csv"),
                     "-o", str(d / "mem.out.csv")])
            b = run([*GRADCLI, "grad", "-f", str(ROOT / "examples" / "neuron.grad"), "--at",
                     str(d / f"mem{n}.parquet"), "-o", str(d / "mem.out.parquet")])
            print(f"| {n:,} | {a['rss']:.0f} | {b['rss']:.0f} |")
    finally:
        if args.keep is None:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
