"""The benchmark's workloads: programs in gradcli's language, generated.

Every generator returns gradcli program text whose leaves all have defaults
(`name = number`), so it runs with no bindings. ``to_python`` turns such a
program into Python for micrograd, PyTorch and SymPy (each `name = number`
becomes a leaf of that library); the only syntax difference is the wide sum,
whose single huge expression CPython's compiler cannot take, so its Python
form adds the terms a hundred per statement (the same nodes).
"""

from __future__ import annotations

import random
import re


def wide_sum(nodes: int) -> str:
    """One expression summing n/2 leaves: x0 + x1 + ... (about ``nodes`` nodes)."""
    k = max(2, nodes // 2)
    leaves = "\n".join(f"x{i} = {((i * 7919) % 1000) / 1000 - 0.5!r}" for i in range(k))
    return leaves + "\ns = " + " + ".join(f"x{i}" for i in range(k)) + "\n"


def deep_chain(nodes: int) -> str:
    """h = tanh(h * w + c), repeated: a chain ``nodes`` deep."""
    lines = ["w = 0.9", "c = 0.1", "h = 0.5"]
    lines += ["h = tanh(h * w + c)"] * max(1, nodes // 3)
    return "\n".join(lines) + "\n"


def mlp(nodes: int, width: int = 32, inputs: int = 8, seed: int = 1) -> str:
    """An unrolled tanh MLP, layer after layer of ``width`` neurons, each
    neuron `h = tanh(w0*x0 + ... + b)`, until about ``nodes`` nodes."""
    rnd = random.Random(seed)
    lines = [f"x{i} = {rnd.uniform(-1, 1)!r}" for i in range(inputs)]
    prev = [f"x{i}" for i in range(inputs)]
    count, layer = inputs, 0
    while count < nodes:
        cur = []
        for j in range(width):
            terms = []
            for k, p in enumerate(prev):
                w = f"w{layer}_{j}_{k}"
                lines.append(f"{w} = {rnd.uniform(-1, 1) / len(prev) ** 0.5:.6f}")
                terms.append(f"{w}*{p}")
            b = f"b{layer}_{j}"
            lines.append(f"{b} = {rnd.uniform(-0.1, 0.1):.6f}")
            h = f"h{layer}_{j}"
            lines.append(f"{h} = tanh({' + '.join(terms)} + {b})")
            cur.append(h)
            count += 3 * len(prev) + 3
        prev, layer = cur, layer + 1
    lines.append("out = " + " + ".join(prev))
    return "\n".join(lines) + "\n"


def random_dag(nodes: int, leaves: int = 100, seed: int = 2) -> str:
    """Statements over earlier values picked at random (heavy reuse: each
    value is read about three times); every value stays in [-1, 1] or below
    the largest leaf, so no workload overflows."""
    rnd = random.Random(seed)
    lines = [f"v{i} = {rnd.uniform(-1, 1)!r}" for i in range(leaves)]
    n = leaves
    count = leaves
    while count < nodes:
        a, b, c = (f"v{rnd.randrange(n)}" for _ in range(3))
        if rnd.random() < 0.5:
            lines.append(f"v{n} = tanh({a} * {b} + {c})")
        else:
            lines.append(f"v{n} = sigmoid({a} - {b}) * {c}")
        n += 1
        count += 3
    lines.append(f"out = v{n - 1} + v{n - 2}")
    return "\n".join(lines) + "\n"


def small_mlp(inputs: int = 4, hidden: int = 11) -> tuple[str, list[str]]:
    """The many-points workload: a one-hidden-layer tanh MLP whose inputs
    and parameters are all inputs of the program (4 inputs, 11 hidden units:
    193 nodes, 71 inputs). Returns the program and its input names in order."""
    names = [f"x{i}" for i in range(inputs)]
    lines = []
    outs = []
    for j in range(hidden):
        ws = [f"w{j}_{i}" for i in range(inputs)]
        names += ws + [f"b{j}"]
        lines.append(f"h{j} = tanh({' + '.join(f'{w}*{x}' for w, x in zip(ws, names[:inputs]))} + b{j})")
        outs.append(f"v{j}*h{j}")
    names += [f"v{j}" for j in range(hidden)] + ["c"]
    lines.append(f"y = tanh({' + '.join(outs)} + c)")
    order = sorted(names, key=lambda n: "\n".join(lines).find(n))  # order of first appearance
    return "\n".join(lines) + "\n", order


WORKLOADS = {"wide_sum": wide_sum, "deep_chain": deep_chain, "mlp": mlp, "random_dag": random_dag}

_LEAF = re.compile(r"^([A-Za-z_]\w*) = ([-+]?[0-9.eE+-]+)$", re.M)


def to_python(program: str, leaf: str = "Value({})", chunk: int = 100) -> str:
    """The program as Python: `x = 0.5` becomes `x = Value(0.5)` (``leaf`` is
    the constructor), `f(x)` becomes `x.f()` for the unary functions, and the
    one huge sum (wide_sum) is split into `s += ...` statements."""
    out = []
    for line in program.splitlines():
        m = _LEAF.match(line)
        if m:
            out.append(f"{m[1]} = {leaf.format(m[2])}")
            continue
        target, _, expr = line.partition(" = ")
        terms = expr.split(" + ")
        if len(terms) > chunk and "(" not in expr:
            out.append(f"{target} = " + " + ".join(terms[:chunk]))
            for i in range(chunk, len(terms), chunk):
                out.append(f"{target} += " + " + ".join(terms[i:i + chunk]))
            continue
        out.append(line)
    return "\n".join(_methods(line) for line in out) + "\n"


_CALL = re.compile(r"(?<![.\w])(tanh|sigmoid)\(")


def _methods(text: str) -> str:
    """f(expr) -> (expr).f() for the unary functions, with an explicit scan
    for the matching parenthesis (one line at a time: the calls are short)."""
    while True:
        m = _CALL.search(text)
        if not m:
            return text
        depth, i = 1, m.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        text = f"{text[:m.start()]}({text[m.end():i - 1]}).{m[1]}(){text[i:]}"
