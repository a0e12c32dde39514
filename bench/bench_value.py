"""Speed of the micrograd-compatible Value (issue 10). Not a test: prints numbers.

    python bench/bench_value.py

Against micrograd 0.1.0, the library a learner would otherwise use, on the
same code: micrograd's own nn.py (its MLP, ReLU layers) run unchanged with
each Value, the lecture's 4-sample dataset, one training step (forward,
loss, zero_grad, backward, update) of MLP(3, [16, 16, 1]); the medians of
rounds that interleave the two. Then a chain y = y*c + d a given number of
operations deep: gradcli backpropagates any depth; micrograd's recursive
topological sort stops at Python's recursion limit. Then the notebook's
costs: drawing a hand-built graph (Graph.of and the DOT; the SVG adds
Graphviz's own time) and what `%%gradcli grad` adds to `grad` itself.
"""

from __future__ import annotations

import inspect
import random
import statistics
import sys
import time

import gradcli
from gradcli import Value
from gradcli.engine import Graph

XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def nn_on(value_class):
    import micrograd.nn

    source = inspect.getsource(micrograd.nn).replace("from micrograd.engine import Value", "")
    namespace = {"__name__": "nn", "Value": value_class}
    exec(compile(source, "nn.py", "exec"), namespace)
    return namespace


def step_time(value_class, rounds=1) -> float:
    nn = nn_on(value_class)
    random.seed(0)
    model = nn["MLP"](3, [16, 16, 1])
    start = time.perf_counter()
    for _ in range(rounds):
        ypred = [model(x) for x in XS]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(YS, ypred))
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data += -0.01 * p.grad
    return (time.perf_counter() - start) / rounds


def chain(value_class, depth: int):
    x = value_class(0.5)
    y = x
    for _ in range(depth):
        y = y * 0.999 + 0.001
    return x, y


def main() -> None:
    try:
        from micrograd.engine import Value as MValue
    except ImportError:  # pragma: no cover
        MValue = None
    print(f"Python {sys.version.split()[0]}, recursion limit {sys.getrecursionlimit()}")

    ours, theirs = [], []
    for _ in range(7):
        ours.append(step_time(Value, 3))
        if MValue is not None:
            theirs.append(step_time(MValue, 3))
    line = f"MLP(3,[16,16,1]) training step: gradcli {statistics.median(ours) * 1e3:7.1f} ms"
    if theirs:
        line += f", micrograd {statistics.median(theirs) * 1e3:7.1f} ms"
    print(line)

    for depth in (500, 1_000, 10_000, 100_000):
        x, y = chain(Value, depth)
        start = time.perf_counter()
        y.backward()
        ours_t = time.perf_counter() - start
        text = f"chain {depth:>7,} ops deep: gradcli backward {ours_t * 1e3:8.1f} ms"
        if MValue is not None:
            mx, my = chain(MValue, depth)
            start = time.perf_counter()
            try:
                my.backward()
                text += f", micrograd {(time.perf_counter() - start) * 1e3:8.1f} ms"
            except RecursionError:
                text += ", micrograd: RecursionError"
        print(text)

    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    L = (a * b + 10) * -2
    L.backward()
    start = time.perf_counter()
    for _ in range(100):
        gradcli.draw(L, "dot")
    print(f"draw(L, 'dot'), the lecture's L: {(time.perf_counter() - start) * 10:.2f} ms")
    x, y = chain(Value, 100_000)
    start = time.perf_counter()
    Graph.of(y)
    print(f"Graph.of on a 400,001-node hand-built chain: {time.perf_counter() - start:.2f} s")

    from gradcli.notebook import run

    run("grad x=1", "x*x")    # imports and typer's app, once
    start = time.perf_counter()
    for _ in range(20):
        run("grad a=2 b=-3 c=10 f=-2", "L = (a*b + c) * f")
    print(f"%%gradcli grad on L (table as HTML): {(time.perf_counter() - start) * 50:.1f} ms")
    start = time.perf_counter()
    for _ in range(20):
        gradcli.grad("L = (a*b + c) * f", a=2, b=-3, c=10, f=-2)
    print(f"gradcli.grad on L (library, no table): {(time.perf_counter() - start) * 50:.2f} ms")


if __name__ == "__main__":
    main()
