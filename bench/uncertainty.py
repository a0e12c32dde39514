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
   on its ``ufloat``s), both from the program's text to u.

    python bench/uncertainty.py            # about a minute
    python bench/uncertainty.py --quick    # 10^5 samples, one round

Medians of a few rounds, in this process, timed around the work alone.
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


def timed(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


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
    rounds = 1 if quick else 3
    print(f"numpy {np.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; {n:,} samples, median of {rounds}")

    neuron = open(os.path.join(ROOT, "examples", "neuron.grad")).read()
    values = leaves_of(neuron)
    u = {name: 0.05 for name in values}
    inputs = {name: (v, u[name]) for name, v in values.items()}
    check = gradcli.uncertainty(neuron, inputs, mc=n, seed=1)
    hand = by_hand(neuron, values, u, n, 1)
    assert abs(check.mc.std - hand[1]) < 0.05 * hand[1]
    t_ours = timed(lambda: gradcli.uncertainty(neuron, inputs, mc=n, seed=1), rounds)
    t_hand = timed(lambda: by_hand(neuron, values, u, n, 1), rounds)
    print(f"neuron ({len(structure(parse(neuron)).nodes)} nodes, 5 uncertain inputs): "
          f"gradcli {t_ours:.3f} s, NumPy by hand {t_hand:.3f} s: {t_hand / t_ours:.2f}x")

    net = mlp(200, width=4, inputs=4)
    values = leaves_of(net)
    u = {f"x{i}": 0.05 for i in range(4)}
    inputs = {name: ((v, u[name]) if name in u else v) for name, v in values.items()}
    check = gradcli.uncertainty(net, inputs, mc=n, seed=1)
    hand = by_hand(net, values, u, n, 1)
    mat = matrices(n, 1)
    assert abs(check.mc.std - hand[1]) < 0.05 * hand[1] and abs(mat[1] - hand[1]) < 0.05 * hand[1]
    t_ours = timed(lambda: gradcli.uncertainty(net, inputs, mc=n, seed=1), rounds)
    t_gum = timed(lambda: gradcli.uncertainty(net, inputs), rounds)
    t_hand = timed(lambda: by_hand(net, values, u, n, 1), rounds)
    t_mat = timed(lambda: matrices(n, 1), rounds)
    print(f"MLP ({len(structure(parse(net)).nodes)} nodes, 4 uncertain inputs): gradcli {t_ours:.3f} s "
          f"(of which first and second order {t_gum:.3f} s), "
          f"NumPy by hand statement by statement {t_hand:.3f} s ({t_hand / t_ours:.2f}x), "
          f"as matrices {t_mat:.3f} s ({t_mat / t_ours:.2f}x)")

    try:
        import uncertainties
        from uncertainties import ufloat, umath
    except ImportError:
        print("uncertainties is not installed: first order not compared")
        return
    for leaves in (10, 100, 1000):
        dag = random_dag(10_000, leaves=leaves)
        values = leaves_of(dag)
        inputs = {name: (v, 0.01) for name, v in values.items()}
        code = "\n".join(line for line in dag.splitlines() if not _is_default(line))

        def theirs():
            env = {"tanh": umath.tanh, "sigmoid": lambda x: 1 / (1 + umath.exp(-x))}
            for name, v in values.items():
                env[name] = ufloat(v, 0.01)
            exec(compile(code, "<dag>", "exec"), env)
            return env["out"].std_dev

        ours = gradcli.uncertainty(dag, inputs)
        their_u = theirs()
        assert math.isclose(ours.u, their_u, rel_tol=1e-9), (ours.u, their_u)
        t_ours = timed(lambda: gradcli.uncertainty(dag, inputs), rounds)
        t_theirs = timed(theirs, rounds)
        print(f"first order, {len(structure(parse(dag)).nodes):,} nodes, {leaves} uncertain leaves: gradcli "
              f"{t_ours:.3f} s, uncertainties {uncertainties.__version__} {t_theirs:.3f} s: {t_theirs / t_ours:.1f}x")


if __name__ == "__main__":
    main()
