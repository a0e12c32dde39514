"""`gradcli uncertainty`'s speed (issue 27), side by side with doing it by hand.

1. Monte Carlo, 10^6 samples, of the lecture's neuron (examples/neuron.grad,
   every leaf given a standard uncertainty) and of a 200-node tanh MLP
   (workloads.mlp, its 4 inputs uncertain): ``gradcli.uncertainty(...,
   mc=10**6)`` (the whole budget: first and second order, the samples
   through the array engine, mean, std, the 95 % interval, the histogram)
   against a NumPy script written by hand that draws the same number of
   normal samples, computes the program on them and takes the mean, std
   and quantiles. For the MLP the script is the program's own statements
   run on arrays (what a person translating the formula does), and also the
   same network as matrices (``np.tanh(x @ W + b)``, which needs the
   network to be written as one).
2. First order on a 10^4-node program (workloads.random_dag, 10, 100 and
   1,000 uncertain leaves) against the ``uncertainties`` package (the program run as Python
   on its ``ufloat``s), both from the program's text to u; and on a
   500-node tanh MLP whose every input, weight and bias is uncertain (184
   inputs, each one reaching the output), where ``uncertainties``' lazy
   propagation grows with the network's depth (700 nodes: about 2 minutes).

    python bench/uncertainty.py            # about two minutes
    python bench/uncertainty.py --quick    # 10^5 samples, one round

Best and median of 5 rounds (the contenders interleaved round by round),
in this process, timed around the work alone.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from workloads import mlp, random_dag  # noqa: E402

import gradcli  # noqa: E402
from gradcli.build import structure  # noqa: E402
from gradcli.parse import parse  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(fns: dict, rounds: int) -> dict:
    """{name: (best, median)} seconds of each function, run in turn round
    after round (so a busy moment of the machine hits them all)."""
    times: dict = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {name: (min(ts), statistics.median(ts)) for name, ts in times.items()}


def shown(pair) -> str:
    return f"{pair[0]:.3f} s (median {pair[1]:.3f})"


def ratio(theirs, ours) -> str:
    return f"{theirs[0] / ours[0]:.2f}x (medians {theirs[1] / ours[1]:.2f}x)"


def leaves_of(program: str) -> dict[str, float]:
    graph = structure(parse(program))
    return {name: leaf.data for name, leaf in graph.leaves.items()}


def by_hand(program: str, values: dict[str, float], u: dict[str, float], n: int, seed: int) -> tuple:
    """The NumPy script: normal samples of each uncertain input, the
    program's statements on arrays, the statistics."""
    rng = np.random.default_rng(seed)
    env = {"tanh": np.tanh, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
           "sigmoid": lambda x: 1 / (1 + np.exp(-x))}
    for name, v in values.items():
        env[name] = v + u[name] * rng.standard_normal(n) if name in u else v
    body = "\n".join(line for line in program.splitlines()
                     if line and not line.startswith("#") and not _is_default(line))
    exec(compile(body, "<program>", "exec"), env)
    y = env[body.splitlines()[-1].split("=")[0].strip()]
    return y.mean(), y.std(ddof=1), np.quantile(y, [0.025, 0.975])


def _is_default(line: str) -> bool:
    target, _, expr = line.partition("=")
    try:
        float(expr)
    except ValueError:
        return False
    return True


def matrices(n: int, seed: int, inputs: int = 4, width: int = 4) -> tuple:
    """The same MLP as workloads.mlp(200, width=4, inputs=4), as matrices."""
    import random

    rnd = random.Random(1)
    x0 = np.array([rnd.uniform(-1, 1) for _ in range(inputs)])
    layers = []
    prev, count = inputs, inputs
    while count < 200:
        W = np.empty((prev, width))
        b = np.empty(width)
        for j in range(width):
            for k in range(prev):
                W[k, j] = float(f"{rnd.uniform(-1, 1) / prev ** 0.5:.6f}")
            b[j] = float(f"{rnd.uniform(-0.1, 0.1):.6f}")
            count += 3 * prev + 3
        layers.append((W, b))
        prev = width
    rng = np.random.default_rng(seed)
    x = x0 + 0.05 * rng.standard_normal((n, inputs))
    for W, b in layers:
        x = np.tanh(x @ W + b)
    y = x.sum(axis=1)
    return y.mean(), y.std(ddof=1), np.quantile(y, [0.025, 0.975])


def main() -> None:
    quick = "--quick" in sys.argv
    n = 10 ** 5 if quick else 10 ** 6
    rounds = 1 if quick else 5
    print(f"numpy {np.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; {n:,} samples, best and median of {rounds}")

    neuron = open(os.path.join(ROOT, "examples", "neuron.grad")).read()
    values = leaves_of(neuron)
    u = {name: 0.05 for name in values}
    inputs = {name: (v, u[name]) for name, v in values.items()}
    check = gradcli.uncertainty(neuron, inputs, mc=n, seed=1)
    hand = by_hand(neuron, values, u, n, 1)
    assert abs(check.mc.std - hand[1]) < 0.05 * hand[1]
    t = timed({"ours": lambda: gradcli.uncertainty(neuron, inputs, mc=n, seed=1),
               "hand": lambda: by_hand(neuron, values, u, n, 1)}, rounds)
    print(f"neuron ({len(structure(parse(neuron)).nodes)} nodes, 5 uncertain inputs): "
          f"gradcli {shown(t['ours'])}, NumPy by hand {shown(t['hand'])}: {ratio(t['hand'], t['ours'])}")

    net = mlp(200, width=4, inputs=4)
    values = leaves_of(net)
    u = {f"x{i}": 0.05 for i in range(4)}
    inputs = {name: ((v, u[name]) if name in u else v) for name, v in values.items()}
    check = gradcli.uncertainty(net, inputs, mc=n, seed=1)
    hand = by_hand(net, values, u, n, 1)
    mat = matrices(n, 1)
    assert abs(check.mc.std - hand[1]) < 0.05 * hand[1] and abs(mat[1] - hand[1]) < 0.05 * hand[1]
    t = timed({"ours": lambda: gradcli.uncertainty(net, inputs, mc=n, seed=1),
               "gum": lambda: gradcli.uncertainty(net, inputs),
               "hand": lambda: by_hand(net, values, u, n, 1),
               "mat": lambda: matrices(n, 1)}, rounds)
    print(f"MLP ({len(structure(parse(net)).nodes)} nodes, 4 uncertain inputs): gradcli {shown(t['ours'])} "
          f"(of which first and second order {t['gum'][0]:.3f} s), "
          f"NumPy by hand statement by statement {shown(t['hand'])}: {ratio(t['hand'], t['ours'])}; "
          f"as matrices {shown(t['mat'])}: {ratio(t['mat'], t['ours'])}")

    try:
        import uncertainties
        from uncertainties import ufloat, umath
    except ImportError:
        print("uncertainties is not installed: first order not compared")
        return

    def python_of(program: str, values: dict, u: float, out: str):
        code = "\n".join(line for line in program.splitlines() if not _is_default(line))

        def theirs():               # from the text, as gradcli: Python's compile is part of it
            env = {"tanh": umath.tanh, "sigmoid": lambda x: 1 / (1 + umath.exp(-x))}
            for name, v in values.items():
                env[name] = ufloat(v, u)
            exec(compile(code, "<program>", "exec"), env)
            return env[out].std_dev
        return theirs

    def first_order(what: str, program: str, out: str) -> None:
        values = leaves_of(program)
        inputs = {name: (v, 0.01) for name, v in values.items()}
        theirs = python_of(program, values, 0.01, out)
        ours = gradcli.uncertainty(program, inputs)
        their_u = theirs()
        assert math.isclose(ours.u, their_u, rel_tol=1e-9), (ours.u, their_u)
        t = timed({"ours": lambda: gradcli.uncertainty(program, inputs), "theirs": theirs}, rounds)
        print(f"first order, {what}, {len(structure(parse(program)).nodes):,} nodes, {len(values)} uncertain "
              f"inputs: gradcli {shown(t['ours'])}, uncertainties {uncertainties.__version__} "
              f"{shown(t['theirs'])}: {ratio(t['theirs'], t['ours'])}")

    for leaves in (10, 100, 1000):
        first_order("random DAG", random_dag(10_000, leaves=leaves), "out")
    net = mlp(500, width=4, inputs=4)
    first_order("MLP, every input, weight and bias uncertain", net, net.strip().splitlines()[-1].split("=")[0].strip())
    if not quick:
        growth()


def growth() -> None:
    """First order on tanh MLPs whose 4 inputs alone are uncertain, as the
    network grows: once each (``uncertainties`` takes about a minute at 700
    nodes, its time multiplying by about 15 for every 100 nodes), then
    gradcli alone at 10^4 nodes."""
    for nodes in (300, 500, 600, 700, 10_000):
        net = mlp(nodes, width=4, inputs=4)
        out = net.strip().splitlines()[-1].split("=")[0].strip()
        values = leaves_of(net)
        inputs = {name: ((v, 0.01) if name in (f"x{i}" for i in range(4)) else v) for name, v in values.items()}
        gradcli.uncertainty(net, inputs)                     # warm: the lazy imports
        start = time.perf_counter()
        ours = gradcli.uncertainty(net, inputs)
        mine = time.perf_counter() - start
        size = len(structure(parse(net)).nodes)
        if nodes > 700:
            print(f"first order, MLP, {size:,} nodes, 4 uncertain inputs: gradcli {mine:.3f} s "
                  "(uncertainties not run: see 700)")
            continue
        start = time.perf_counter()
        their_u = _four_uncertain(net, values, out)
        spent = time.perf_counter() - start
        assert math.isclose(ours.u, their_u, rel_tol=1e-9), (ours.u, their_u)
        print(f"first order, MLP, {size:,} nodes, 4 uncertain inputs: gradcli {mine:.3f} s, "
              f"uncertainties {spent:.3f} s: {spent / mine:.1f}x")


def _four_uncertain(program: str, values: dict, out: str) -> float:
    """``uncertainties`` on ``program`` with x0..x3 uncertain (u 0.01), the
    rest exact, from the text (Python's compile included)."""
    from uncertainties import ufloat, umath

    code = "\n".join(line for line in program.splitlines() if not _is_default(line))
    env = {"tanh": umath.tanh}
    for name, v in values.items():
        env[name] = ufloat(v, 0.01) if name in {"x0", "x1", "x2", "x3"} else v
    exec(compile(code, "<program>", "exec"), env)
    return env[out].std_dev


if __name__ == "__main__":
    main()
