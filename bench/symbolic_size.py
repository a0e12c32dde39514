"""How big are derivatives? gradcli's printed derivative against SymPy's.

    python bench/symbolic_size.py [MAX_DEPTH]

For u0 = x*y, u_k = sin(u_{k-1})*u_{k-1} + x (each level uses the one below
twice), prints per depth: the program's operations, the operations in
`gradcli diff --wrt x` (first and second order), and SymPy's count_ops of
the expression and of its diff (SymPy only up to depth 10: it grows as 2**depth).
Not a test: sizes and times vary with the SymPy version and the machine.
"""

from __future__ import annotations

import sys
import time

from gradcli.build import structure
from gradcli.parse import parse
from gradcli.symbolic import derivative, live


def nested(depth: int) -> str:
    lines = ["u0 = x*y"] + [f"u{k} = sin(u{k - 1})*u{k - 1} + x" for k in range(1, depth + 1)]
    return "\n".join(lines)


def ops(root) -> int:
    return sum(1 for n in live(root.tape.nodes, [root]) if n.kind == "op")


def main(max_depth: int = 20) -> None:
    try:
        import sympy
    except ImportError:  # pragma: no cover
        sympy = None
    print("depth\tprogram_ops\tdiff_ops\tdiff2_ops\tdiff_ms\tsympy_ops\tsympy_diff_ops\tsympy_ms")
    for depth in [d for d in (4, 8, 12, 16, 20) if d <= max_depth]:
        text = nested(depth)
        graph = structure(parse(text))
        program_ops = sum(1 for n in graph.nodes if n.kind == "op")
        start = time.perf_counter()
        first = derivative(graph, "x")
        ms = (time.perf_counter() - start) * 1000
        second = derivative(structure(parse(text)), "x", 2)
        row = [depth, program_ops, ops(first), ops(second), f"{ms:.1f}"]
        if sympy is not None and depth <= 10:
            x, y = sympy.symbols("x y")
            u = x * y
            for _ in range(depth):
                u = sympy.sin(u) * u + x
            start = time.perf_counter()
            d = sympy.diff(u, x)
            row += [sympy.count_ops(u), sympy.count_ops(d), f"{(time.perf_counter() - start) * 1000:.1f}"]
        print("\t".join(map(str, row)))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
