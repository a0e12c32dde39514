"""Imports only go down (issue 26): the modules of src/gradcli stand in
layers, and no module imports one in a layer above its own, lazily inside a
function or not; within a layer, imports never go round in a circle.

    front ends   cli, cli_fast, cli_common, cli_points, cli_complete, cli_help,
                 terminal, reports, notebook, repl, manpage, __init__, __main__
    passes       build, check, explain, unparse, codegen, draw, page, render,
                 descend, uncertainty, pointsio, pointsrun
    engines      engine (floats), arrays (NumPy), symbolic (graph nodes)
    bottom       syntax, ops, errors, safeio, hints, usage, texttable, layout,
                 shipped, fastparse, parse

A layer below that needs something from above takes it as a hook that the
upper layer registers (draw.WRITERS["html"], set by gradcli/__init__.py for
the live page; IPython's display formatters, set by notebook.py). A new
module must be given its layer here: the test fails until it is.
"""

from __future__ import annotations

import ast

from tests.conftest import ROOT

LAYERS = [
    {"syntax", "ops", "errors", "safeio", "hints", "usage", "texttable", "layout", "shipped", "fastparse", "parse"},
    {"engine", "arrays", "symbolic"},
    {"build", "check", "explain", "unparse", "codegen", "draw", "page", "render", "descend", "uncertainty",
     "pointsio", "pointsrun"},
    {"cli", "cli_fast", "cli_common", "cli_points", "cli_complete", "cli_help", "terminal", "reports", "notebook",
     "repl", "manpage", "__init__", "__main__"},
]
NAMES = ["bottom", "engines", "passes", "front ends"]
SRC = ROOT / "src" / "gradcli"


def imports() -> dict[str, set[str]]:
    """Every `from .x import ...` and `from . import x` of each module,
    wherever it stands (module level or inside a function)."""
    modules = {p.stem for p in SRC.glob("*.py")}
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for module in modules:
        tree = ast.parse((SRC / f"{module}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names = [node.module] if node.module else [alias.name for alias in node.names]
                edges[module] |= {n.split(".")[0] for n in names if n.split(".")[0] in modules} - {module}
    return edges


def layer(module: str) -> int:
    return next(i for i, members in enumerate(LAYERS) if module in members)


def test_every_module_has_a_layer():
    modules = {p.stem for p in SRC.glob("*.py")}
    placed = set().union(*LAYERS)
    assert modules - placed == set(), "give each new module its layer in LAYERS"
    assert placed - modules == set(), "LAYERS names modules that are gone"


def test_no_import_goes_up():
    upward = sorted(f"{m} ({NAMES[layer(m)]}) imports {t} ({NAMES[layer(t)]})"
                    for m, targets in imports().items() for t in targets if layer(t) > layer(m))
    assert upward == []


def test_no_circle():
    edges = imports()
    circles = []
    for start in sorted(edges):
        seen, stack = set(), [start]
        while stack:                      # every module reachable from start
            for target in edges[stack.pop()]:
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        if start in seen:
            circles.append(start)
    assert circles == []


def test_the_test_sees_lazy_imports(tmp_path):
    """The parser of imports finds one inside a function, so a lazy import
    cannot hide an edge."""
    tree = ast.parse("def f():\n    from .cli import app\n    return app\n")
    found = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 1]
    assert found == ["cli"]
