"""The accuracy corpus: isolated functions and the composites people write.

Each entry is a program, the points where it is measured, and the leaves
whose gradients are compared. Three ways to compute each gradient are
measured against 60-digit mpmath (``truth``: the program's forward in
mpmath arithmetic, differentiated by ``mpmath.diff``, independent of the
op table's chain rules):

- ``ours``: gradcli as it is (``gradcli.grad``);
- ``old``: the op table's rules before the tail-keeping change (commit
  2c182d9): ``tanh' = 1 - o*o``, ``sigmoid' = o*(1 - o)``, ``log' = 1/x``,
  ``/``'s ``1/b``, ``pow``'s ``y*x**(y - 1)``, ``erf'`` with ``x*x``
  rounded, the others as now; a plain backward loop over the same graph;
- ``torch``: the same graph in float64 PyTorch (``torch.sigmoid``,
  ``torch.tanh``, ...), backpropagated by autograd.

Errors are in units in the last place of the truth (``ulps``). Run
``python -m tests.composites`` for the table; tests/test_composites.py pins
the figures.
"""

from __future__ import annotations

import math

import mpmath

import gradcli
from gradcli import parse
from gradcli.build import bind, structure
from gradcli.ops import OPS, PAIRED, FloatMath, shown

mp = mpmath.mp

# name, program, points (each a dict of leaf values), the leaves compared
CORPUS: list[tuple[str, str, list[dict[str, float]]]] = [
    # isolated functions
    ("sigmoid", "sigmoid(x)", [{"x": v} for v in (-40.0, -3.0, 0.5, 20.0, 36.7, 40.0)]),
    ("tanh", "tanh(x)", [{"x": v} for v in (-25.0, 0.5, 10.0, 18.0, 30.0)]),
    ("log", "1e-10*log(x)", [{"x": v} for v in (1e-310, 0.3, 7.0)]),
    ("pow", "x**y", [{"x": 3.4e304, "y": 1 / 3}, {"x": 7.5, "y": -0.3}, {"x": -1.0, "y": 1e16}]),
    ("pow tail", "x**y", [{"x": 1e-309, "y": 0.001}, {"x": 1e-200, "y": -0.01}]),
    ("erf", "erf(x)", [{"x": v} for v in (-23.4, 0.4, 4.9)]),
    ("atan", "atan(x)", [{"x": v} for v in (3.0, -1e10, 1e155, -1e160, 1e200)]),
    ("hypot", "hypot(x, y)", [{"x": 3.0, "y": 4.0}, {"x": 1e-310, "y": 3e-310}, {"x": 5e-324, "y": 1e-323}]),
    ("log(max)", "log(max(x, y))", [{"x": 1e-310, "y": 1e-320}, {"x": 2.0, "y": 3.0}]),
    # binary cross-entropy, both labels, with the sigmoid's row and written out
    ("bce y=0", "-log(1 - sigmoid(x))", [{"x": v} for v in (-30.0, 0.5, 20.0, 30.0, 35.0, 36.7)]),
    ("bce y=1", "-log(sigmoid(x))", [{"x": v} for v in (-36.7, -30.0, 0.5, 30.0, 36.7)]),
    ("bce", "p = sigmoid(z)\n-(y*log(p) + (1 - y)*log(1 - p))",
     [{"z": z, "y": y} for z in (-30.0, 0.5, 30.0, 36.7) for y in (0.0, 1.0, 0.25)]),
    ("bce by hand", "p = 1/(1 + exp(-z))\n-(y*log(p) + (1 - y)*log(1 - p))",
     [{"z": z, "y": y} for z in (-30.0, 0.5, 30.0, 36.0) for y in (0.0, 1.0, 0.25)]),
    # ... and as a numerical analyst writes it (what a rewrite would give)
    ("bce as softplus", "y*softplus(-z) + (1 - y)*softplus(z)",
     [{"z": z, "y": y} for z in (-30.0, 0.5, 30.0, 36.7) for y in (0.0, 1.0, 0.25)]),
    ("hypot(x, y)", "hypot(x, y)", [{"x": 3.0, "y": 4.0}, {"x": 1e-160, "y": 3e-160},
                                   {"x": 1e150, "y": -2e150}]),
    ("log1p(x)", "log1p(x)", [{"x": v} for v in (1e-10, -0.5, 3.0)]),
    ("log-sigmoid", "log(sigmoid(x))", [{"x": v} for v in (-700.0, -30.0, 0.5, 30.0, 36.7)]),
    ("log(1 - tanh)", "log(1 - tanh(x))", [{"x": v} for v in (-5.0, 0.5, 10.0, 18.0)]),
    ("log(1 + tanh)", "log(1 + tanh(x))", [{"x": v} for v in (-18.0, -10.0, 0.5, 5.0)]),
    ("2x as logs of tanh", "t = tanh(x)\nlog(1 + t) - log(1 - t)", [{"x": v} for v in (-18.0, -5.0, 0.5, 5.0, 18.0)]),
    ("softmax of two", "exp(a)/(exp(a) + exp(b))", [{"a": 1.0, "b": 2.0}, {"a": 30.0, "b": -10.0},
                                                    {"a": -20.0, "b": 20.0}]),
    ("log-softmax of two", "a - log(exp(a) + exp(b))", [{"a": 1.0, "b": 2.0}, {"a": 30.0, "b": -10.0}]),
    ("sqrt(x*x + y*y)", "sqrt(x*x + y*y)", [{"x": 3.0, "y": 4.0}, {"x": 1e-160, "y": 3e-160},
                                           {"x": 1e150, "y": -2e150}]),
    ("exp(x) - 1", "exp(x) - 1", [{"x": v} for v in (1e-10, -1e-5, 0.3, 5.0)]),
    ("log(1 + x)", "log(1 + x)", [{"x": v} for v in (1e-10, -0.5, 3.0)]),
    ("tanh MLP loss", "h1 = tanh(w1*x + b1)\nh2 = tanh(w2*x + b2)\ny = v1*h1 + v2*h2 + c\n(y - t)**2",
     [{"x": 0.7, "t": 0.2, "w1": 0.5, "b1": -0.1, "w2": -1.3, "b2": 0.4, "v1": 0.8, "v2": -0.6, "c": 0.05},
      {"x": 9.0, "t": 1.0, "w1": 2.5, "b1": 0.3, "w2": -2.0, "b2": 1.0, "v1": 1.1, "v2": 0.9, "c": 0.0}]),
]


def paired_program(key: str) -> str:
    """A program in which ``build.pair`` gives a node the paired row ``key``
    (``ops.PAIRED``): its op beside the complements a log divides by."""
    op, which = next(k for k, v in PAIRED.items() if v == key)
    return {"1-": f"y = log(1 - {op}(x))", "1+": f"y = log(1 + {op}(x))",
            "1+-": f"s = {op}(x)\ny = log(1 + s) - log(1 - s)"}[which]


def ulps(got: float, exact) -> float:
    """|got - exact| in units in the last place of the exact value (a
    subnormal's ulp is 5e-324); inf if got is not finite."""
    if not math.isfinite(got):
        return math.inf
    want = float(exact)
    err = abs(mpmath.mpf(got) - exact)
    return float(err / math.ulp(want)) if want else float(err / 5e-324)


# --------------------------------------------------------------- the truth

def _sig(x):
    return 1 / (1 + mpmath.exp(-x))


def _dsig(x):   # e/(1 + e)**2 with e = exp(-|x|): s*(1 - s) without cancelling 1 - s
    e = mpmath.exp(-abs(x))
    return e / (1 + e) ** 2


def _dpow(x, y, dx, dy):
    out = mpmath.power(x, y)
    d = (y * mpmath.power(x, y - 1) * dx if y != 0 else 0) if dx else 0
    return out, d + (out * mpmath.log(x) * dy if dy else 0)


# each op: its value and its derivative, from its operands' values and
# derivatives (forward mode), in textbook forms: at 60 digits they are exact
_DUAL = {
    "+": lambda a, b, da, db: (a + b, da + db),
    "-": lambda a, b, da, db: (a - b, da - db),
    "*": lambda a, b, da, db: (a * b, da * b + a * db),
    "/": lambda a, b, da, db: (a / b, (da * b - a * db) / b ** 2),
    "**": _dpow,
    "neg": lambda x, dx: (-x, -dx),
    "exp": lambda x, dx: (mpmath.exp(x), mpmath.exp(x) * dx),
    "log": lambda x, dx: (mpmath.log(x), dx / x),
    "tanh": lambda x, dx: (mpmath.tanh(x), mpmath.sech(x) ** 2 * dx),
    "sigmoid": lambda x, dx: (_sig(x), _dsig(x) * dx),
    "softplus": lambda x, dx: (mpmath.log1p(mpmath.exp(x)), _sig(x) * dx),
    "sqrt": lambda x, dx: (mpmath.sqrt(x), dx / (2 * mpmath.sqrt(x))),
    "log1p": lambda x, dx: (mpmath.log1p(x), dx / (1 + x)),
    "atan": lambda x, dx: (mpmath.atan(x), dx / (1 + x * x)),
    "erf": lambda x, dx: (mpmath.erf(x), 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x) * dx),
    "hypot": lambda a, b, da, db: (mpmath.hypot(a, b), (a * da + b * db) / mpmath.hypot(a, b)),
    "max": lambda a, b, da, db: (a, da) if a > b else (b, db),
    "min": lambda a, b, da, db: (a, da) if a < b else (b, db),
}


def truth(program: str, point: dict[str, float], wrt: str):
    """d output / d wrt at ``point``, to 60 digits: the program's forward in
    mpmath with a derivative carried along (forward mode), independent of
    the op table's rules."""
    graph = structure(parse(program))
    mp.dps = 60
    values = {}
    for node in graph.nodes:
        if node.kind == "const":
            values[id(node)] = (mpmath.mpf(node.data), 0)
        elif node.is_leaf:
            values[id(node)] = (mpmath.mpf(point[node.label]), 1 if node.label == wrt else 0)
        else:
            args = [values[id(c)] for c in node.children]
            values[id(node)] = _DUAL[shown(node.op)](*[v for v, _ in args], *[d for _, d in args])
    d = values[id(graph.output)][1]
    return None if isinstance(d, mpmath.mpc) else mpmath.mpf(d)   # d/dy of x**y at x < 0: none


# ----------------------------------------------------------- the old rules

def _old_pow_x(m, g, x, y, o):
    return m.where(y != 0, g * (y * m.pow(x, y - 1.0)), 0.0)


OLD_CHAIN = {
    "tanh": (lambda m, g, x, o: g * (1.0 - o * o),),
    "sigmoid": (lambda m, g, x, o: g * (o * (1.0 - o)),),
    "log": (lambda m, g, x, o: g * (1.0 / x),),
    "/": (lambda m, g, a, b, o: g * (1.0 / b), lambda m, g, a, b, o: g * (-o / b)),
    "**": (_old_pow_x, OPS["**"].chain[1]),
    "erf": (lambda m, g, x, o: g * (1.1283791670955126 * m.exp(-(x * x))),),
    # added by that change, in their textbook forms
    "atan": (lambda m, g, x, o: g / (1.0 + x * x),),
    "hypot": (lambda m, g, a, b, o: g * (a / o), lambda m, g, a, b, o: g * (b / o)),
    "max": (lambda m, g, a, b, o: g * ((1.0 + m.sign(a - b)) / 2.0),
            lambda m, g, a, b, o: g * ((1.0 - m.sign(a - b)) / 2.0)),
}


def old(program: str, point: dict[str, float]) -> dict[str, float]:
    """The gradients by the rules before the tail-keeping change."""
    graph = structure(parse(program))
    bind(graph, point)
    graph.forward()
    for node in graph.nodes:
        node.grad = 0.0
    graph.output.grad = 1.0
    for node in reversed(graph.nodes):
        if not node.children:
            continue
        chain = OLD_CHAIN.get(shown(node.op), OPS[shown(node.op)].chain)
        args = [c.data for c in node.children] + [node.data]
        for child, d in zip(node.children, chain):
            try:
                child.grad += d(FloatMath, node.grad, *args)
            except ZeroDivisionError:
                child.grad = math.nan
    return {name: leaf.grad for name, leaf in graph.leaves.items()}


# ------------------------------------------------------------------ torch

def torch_grad(program: str, point: dict[str, float]) -> dict[str, float]:
    import torch

    f = torch.nn.functional
    table = {
        "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
        "**": lambda a, b: a ** b, "neg": lambda a: -a, "exp": torch.exp, "log": torch.log,
        "tanh": torch.tanh, "sigmoid": torch.sigmoid, "sqrt": torch.sqrt, "erf": torch.erf,
        "atan": torch.atan, "hypot": torch.hypot, "log1p": torch.log1p, "softplus": f.softplus,
        "max": torch.maximum, "min": torch.minimum,
    }
    graph = structure(parse(program))
    leaves = {name: torch.tensor(point[name], dtype=torch.float64, requires_grad=True) for name in graph.leaves}
    values = {}
    for node in graph.nodes:
        if node.kind == "const":
            values[id(node)] = torch.tensor(node.data, dtype=torch.float64)
        elif node.is_leaf:
            values[id(node)] = leaves[node.label]
        else:
            values[id(node)] = table[shown(node.op)](*[values[id(c)] for c in node.children])
    values[id(graph.output)].backward()
    return {name: (t.grad.item() if t.grad is not None else 0.0) for name, t in leaves.items()}


def ours(program: str, point: dict[str, float]) -> dict[str, float]:
    """gradcli's gradients, each on its own (--wrt): one that is not
    finite is nan, the others still measured."""
    out = {}
    for name in point:
        try:
            out[name] = gradcli.grad(program, wrt=[name], **point)[name]
        except gradcli.GradcliError:
            out[name] = math.nan
    return out


def measure(with_torch: bool = True) -> list[tuple[str, str, dict[str, float], dict[str, float]]]:
    """Per corpus entry and leaf: the worst error (ulps) of ours, old and
    torch over its points, and the point where ours is worst."""
    rows = []
    for name, program, points in CORPUS:
        worst: dict[str, dict[str, float]] = {}
        where: dict[str, dict[str, float]] = {}
        for point in points:
            got = {"ours": ours(program, point), "old": old(program, point)}
            if with_torch:
                got["torch"] = torch_grad(program, point)
            for leaf in point:
                exact = truth(program, point, leaf)
                if exact is None or not math.isfinite(float(exact)):
                    continue   # no real derivative, or none a float holds (1/1e-310)
                w = worst.setdefault(leaf, dict.fromkeys(got, 0.0))
                for way, grads in got.items():
                    e = ulps(grads[leaf], exact)
                    if way == "ours" and e >= w["ours"]:
                        where[leaf] = point
                    w[way] = max(w[way], e)
        rows += [(name, leaf, w, where[leaf]) for leaf, w in worst.items()]
    return rows


if __name__ == "__main__":   # pragma: no cover - the table, by hand
    for name, leaf, worst, where in measure():
        print(f"{name:20} {leaf:3} ours {worst['ours']:9.3g}  old {worst['old']:9.3g}  "
              f"torch {worst['torch']:9.3g}  at {where}"[:150])
