"""The formerly quadratic passes, at two sizes a factor of 4 apart.

    python bench/linear.py [--scale 1.0] [--only NAME,...] [--gradcli PATH]

Each case is a whole `gradcli` command (a fresh process, the program from a
file or standard input, output to a pipe) run at size n and 4n. For each it
prints the wall time and peak memory (max RSS of that process) at both sizes
and their ratios: about 4 for a pass linear in the program, about 16 for a
quadratic one. The sizes are those of issue 9's reports (or a quarter of
them with --scale 0.25). Timings depend on the machine and its load: this is
run by hand, never asserted in the tests (tests/test_linear.py counts work
instead). bench/README.md has a run's figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def unclosed(n: int) -> tuple[list[str], str, list[str]]:
    """`(` n times: a syntax error whose notes once rescanned the text per `(`."""
    return ["eval", "-"], "(" * n + "a", []


def nested_error(n: int):
    """A syntax error at the innermost of n nested calls."""
    return ["eval", "-"], "exp(" * n + "a +" + ")" * n, []


def reassigned(n: int):
    """diff of a chain reassigning one name n times (names x_2, x_3, ...)."""
    return ["diff", "-f", "{prog}", "--wrt", "a"], "x = a\n" + "x = x*a + b\n" * n, []


def kinks(n: int):
    """check of a chain through n relu corners (relu at 0), two leaves, row by row."""
    return (["check", "-f", "{prog}", "x=0.5", "y=1", "--plain"],   # two leaves: row by row
            "s = x\n" + "s = relu(s*0) + s*y\n" * n, [])


def _leaves(n: int) -> str:
    return "".join(f"w{i} = 0.{i % 9 + 1}\n" for i in range(n)) + "s = 0\n" + \
        "".join(f"s = s + tanh(w{i} * s * 0.01 + w{i})\n" for i in range(n))


def leaves(n: int):
    """check of a program with n leaves (auto: fast mode)."""
    return ["check", "-f", "{prog}", "--plain"], _leaves(n), []


def leaves_all(n: int):
    """check --all of the same program: every node (auto: fast mode)."""
    return ["check", "-f", "{prog}", "--plain", "--all"], _leaves(n), []


def explain(n: int):
    """explain --wrt a leaf of a chain: every step and the paths."""
    return ["explain", "-f", "{prog}", "--wrt", "a", "--plain"], "x = a\n" + "x = x*a + b\n" * n, \
        ["a=0.999", "b=0.001"]


def draw_dot(n: int):
    """graph (DOT) of a chain reassigning one name."""
    return ["graph", "-f", "{prog}"], "x = a\n" + "x = tanh(x*a + b)\n" * n, ["a=0.5", "b=0.1"]


def missing_inputs(n: int):
    """n missing inputs, each next to a computed name (each once got a "did you mean")."""
    return ["eval", "-f", "{prog}"], "".join(f"y{i} = x{i} * 2\n" for i in range(n)), []


def unknown_name(n: int):
    """an unknown name in a program of n names (the closest are suggested)."""
    return ["eval", "-f", "{prog}"], "".join(f"v{i} = {i}\n" for i in range(n)) + "v = vv + 1\n", []


# name -> (case, n at scale 1)
CASES = {
    "unclosed": (unclosed, 100_000),          # issue 9: 4e5 `(` took 20 s
    "nested-error": (nested_error, 25_000),
    "reassigned": (reassigned, 10_000),       # issue 9: 40k steps took 70 s
    "kinks": (kinks, 2_000),                  # issue 9: 8k corners took 6 GB
    "leaves": (leaves, 2_000),                # issue 9: 8k leaves took 82 s
    "leaves-all": (leaves_all, 2_000),
    "explain": (explain, 10_000),
    "graph-dot": (draw_dot, 25_000),
    "unknown-name": (unknown_name, 25_000),
    "missing-inputs": (missing_inputs, 2_000),   # 2,000 took 47 s
}


def run(gradcli: str, case, n: int, tmp: str) -> tuple[float, float, int]:
    args, text, extra = case(n)
    prog = os.path.join(tmp, "p.grad")
    with open(prog, "w") as f:
        f.write(text)
    argv = [gradcli, *[a.replace("{prog}", prog) for a in args], *extra]
    stdin = text.encode() if "-" in args else b""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as inp:
        inp.write(stdin)
        inp.seek(0)
        start = time.perf_counter()
        p = subprocess.Popen(argv, stdin=inp, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(p.pid, 0)
        took = time.perf_counter() - start
        p.returncode = os.waitstatus_to_exitcode(status)
    return took, usage.ru_maxrss / 1024, p.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--only", default=None)
    ap.add_argument("--gradcli", default=os.path.join(os.path.dirname(sys.executable), "gradcli"))
    a = ap.parse_args()
    names = a.only.split(",") if a.only else list(CASES)
    print(f"load average {os.getloadavg()[0]:.1f}; {a.gradcli}")
    print("| case | n | 4n | time n | time 4n | ratio | MiB n | MiB 4n | ratio | exit |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            case, base = CASES[name]
            n = max(1, int(base * a.scale))
            t1, m1, rc1 = run(a.gradcli, case, n, tmp)
            t4, m4, rc4 = run(a.gradcli, case, 4 * n, tmp)
            print(f"| {name} | {n:,} | {4 * n:,} | {t1:.2f} s | {t4:.2f} s | {t4 / t1:.1f} | "
                  f"{m1:.0f} | {m4:.0f} | {m4 / m1:.1f} | {rc1}, {rc4} |", flush=True)


if __name__ == "__main__":
    main()
