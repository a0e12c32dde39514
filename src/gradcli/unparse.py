"""Unparse: a symbolic graph (symbolic.py) -> a program in gradcli's language,
or a LaTeX expression.

The printed program parses with gradcli's own parser and evaluates to the
same number, bit for bit: the tree is kept exactly as it is (parentheses
wherever the language's precedence would regroup it, since floating-point
``+`` and ``*`` are not associative). A node used more than once gets a
statement of its own and a name, once; a node that had a name in the source
keeps it. Leaves with defaults keep their defaults, so
``gradcli eval "$(gradcli diff ...)"`` runs. The printed size grows with the
graph, never with the number of paths through it.

Expressions are written with an explicit stack, so a chain a million nodes
deep prints as well as a short one.
"""

from __future__ import annotations

import re
from typing import Callable, Mapping

from .engine import literal
from .ops import OPS, SPELLINGS, shown
from .symbolic import Sym, live

_INFIX = {"+": (1, " + "), "-": (1, " - "), "*": (2, "*"), "/": (2, "/")}


def _level(node: Sym) -> int:
    """How tightly a node's text binds: 1 sums, 2 products, 3 signs, 4 powers, 5 atoms."""
    if node.kind == "const":
        return 3 if node.data < 0 else 5
    if node.op in _INFIX:
        return _INFIX[node.op][0]
    return {"neg": 3, "**": 4}.get(node.op, 5)


def _program_layout(node: Sym) -> list:
    """A node's text as pieces: strings, and ``(i, level)`` for operand ``i``,
    which needs parentheses if it binds more loosely than ``level``."""
    op = node.op
    if op in _INFIX:
        level, sign = _INFIX[op]
        return [(0, level), sign, (1, level + 1)]
    if op == "**":
        return [(0, 5), "**", (1, 3)]
    if op == "neg":
        return ["-", (0, 3)]
    pieces: list = [f"{shown(op)}("]
    for i in range(len(node.children)):
        if i:
            pieces.append(", ")
        pieces.append((i, 0))
    return pieces + [")"]


def _write(root: Sym, atom: Callable[[Sym], str | None], layout: Callable[[Sym], list],
           level: Callable[[Sym], int], parens: tuple[str, str] = ("(", ")")) -> str:
    """The text of ``root``, inlining every node for which ``atom`` gives None."""
    out: list[str] = []
    stack: list[object] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        node = item
        text = atom(node)
        if text is not None:
            out.append(text)
            continue
        pieces = layout(node)
        for piece in reversed(pieces):
            if isinstance(piece, str):
                stack.append(piece)
            else:
                child = node.children[piece[0]]
                named = child.kind != "const" and atom(child) is not None
                tight = level(child)
                # a sign right after an operator reads badly (`a + -b`): parenthesize it
                if not named and (tight < piece[1] or tight == 3 and piece[1] and piece is not pieces[0]):
                    stack.extend((parens[1], child, parens[0]))
                else:
                    stack.append(child)
    return "".join(out)


class _Plan:
    """Which nodes get a statement of their own, and their names."""

    def __init__(self, root: Sym, keep_labels: bool):
        self.nodes = live(root.tape.nodes, [root])
        uses = [0] * len(root.tape.nodes)
        for node in self.nodes:
            for child in node.children:
                uses[child.index] += 1
        taken = {n.label for n in root.tape.nodes if n.label}
        self.names: dict[int, str] = {}
        for node in self.nodes:
            if node.is_leaf:
                self.names[node.index] = node.label
        given = set(self.names.values())
        counter = 0
        # the next suffix to try per name: a name reassigned 40,000 times
        # (`x = x*a + b` in a loop) takes x_2, x_3, ... without starting over
        # at x_2 each time (which made 40k steps take 70 s)
        suffix: dict[str, int] = {}
        self.probes = 0     # names tried: at most one per node plus one per name taken (the tests count them)
        for node in self.nodes:
            if node.kind != "op":
                continue
            if uses[node.index] > 1 or (keep_labels and node.label):
                name = node.label if keep_labels else ""
                if name and name in given:
                    k = suffix.get(name, 2)
                    while f"{name}_{k}" in taken:
                        k += 1
                        self.probes += 1
                    self.probes += 1
                    suffix[name] = k + 1
                    name = f"{name}_{k}"
                    taken.add(name)
                if not name:
                    counter += 1
                    while f"t{counter}" in taken:
                        counter += 1
                        self.probes += 1
                    self.probes += 1
                    name = f"t{counter}"
                    taken.add(name)
                self.names[node.index] = name
                given.add(name)

    def statements(self) -> list[Sym]:
        return [n for n in self.nodes if n.kind == "op" and n.index in self.names]


def _program_atom(plan: _Plan) -> Callable[[Sym], str | None]:
    def atom(node: Sym) -> str | None:
        if node.kind == "const":
            return literal(node.data)
        return plan.names.get(node.index)
    return atom


def program(root: Sym) -> str:
    """The derivative as a gradcli program whose output is ``root``."""
    plan = _Plan(root, keep_labels=True)
    atom = _program_atom(plan)
    lines = [f"{n.label} = {literal(n.data)}" for n in plan.nodes if n.kind == "leaf"]
    for node in plan.statements():
        lines.append(f"{plan.names[node.index]} = " + _write(node, lambda n, node=node: None if n is node else atom(n),
                                                            _program_layout, _level))
    last_is_root = root.kind == "leaf" or root.index in plan.names and root.kind == "op"
    if not last_is_root:
        lines.append(_write(root, atom, _program_layout, _level))
    return "\n".join(lines)


def inline(root: Sym, named: Mapping[int, str]) -> str:
    """``root`` as one expression of the language: every node written out
    but numbers and the nodes in ``named`` (tape index -> their text)."""
    def atom(node: Sym) -> str | None:
        if node.index in named:
            return named[node.index]
        return literal(node.data) if node.kind == "const" else None
    return _write(root, atom, _program_layout, _level)


# ------------------------------------------------------------------ LaTeX

_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
          "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
          "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"}
_NAME = re.compile(r"([A-Za-z]+)_?([0-9]+|[A-Za-z0-9]+)?")


def _latex_form(op: str) -> list:
    """A function's LaTeX from its spelling (``ops.SPELLINGS[op].latex``), in
    pieces: text, and ``(operand, 0)`` where an operand goes, written whole."""
    form = _LATEX_FORMS.get(op)
    if form is None:
        arity = OPS[op].arity
        text = SPELLINGS[op].latex or (r"\operatorname{" + op + r"}\left("
                                       + ", ".join(f"{{{i}}}" for i in range(arity)) + r"\right)")
        form = _LATEX_FORMS[op] = [(int(part[1]), 0) if re.fullmatch(r"\{\d\}", part) else part
                                   for part in re.split(r"(\{\d\})", text) if part]
    return form


_LATEX_FORMS: dict[str, list] = {}


def latex_name(name: str) -> str:
    """``x1`` -> ``x_{1}``, ``alpha`` -> ``\\alpha``, ``w_out`` -> ``w_{out}``."""
    m = _NAME.fullmatch(name)
    if not m:
        return r"\mathrm{" + name.replace("_", r"\_") + "}"
    base, sub = m.groups()
    if base in _GREEK:
        base = "\\" + base
    elif len(base) > 1:
        base = r"\mathrm{" + base + "}"
    if sub is None:
        return base
    return f"{base}_{{{latex_name(sub) if not sub.isdigit() and len(sub) > 1 else sub}}}"


def latex_number(x: float) -> str:
    text = literal(x)
    if "e" in text:
        mantissa, exponent = text.split("e")
        exponent = str(int(exponent))
        return f"10^{{{exponent}}}" if mantissa == "1" else f"{mantissa} \\cdot 10^{{{exponent}}}"
    return text


def _latex_level(node: Sym) -> int:
    if node.kind == "const":
        return 3 if node.data < 0 else (5 if "e" not in literal(node.data) else 2)
    if node.op in ("+", "-"):
        return 1
    if node.op == "*":
        return 2
    if node.op == "neg":
        return 3
    if node.op in ("**", "/"):
        return 4
    if node.op in SPELLINGS and (SPELLINGS[node.op].latex or "").endswith("}") and "^{" in SPELLINGS[node.op].latex:
        return 4          # a superscript (e^{x}) binds like a power
    return 5


def _latex_layout(node: Sym) -> list:
    op = node.op
    if op in ("+", "-"):
        return [(0, 1), f" {op} ", (1, 2)]
    if op == "*":
        a, b = node.children
        if a is b:
            return [(0, 5), "^{2}"]
        joined = b.kind != "const" and (b.op not in ("**", "neg") or b.children[0].kind != "const")
        return [(0, 2), " " if joined else r" \cdot ", (1, 4)]
    if op == "/":
        return [r"\frac{", (0, 0), "}{", (1, 0), "}"]
    if op == "**":
        return [(0, 5), "^{", (1, 0), "}"]
    if op == "neg":
        return ["-", (0, 4)]
    return _latex_form(op)


def latex(root: Sym) -> str:
    """The derivative as LaTeX: one expression, or, when a part is used more
    than once, its definitions first (``t_{1} = ...``) in an aligned block."""
    plan = _Plan(root, keep_labels=False)

    def atom(node: Sym) -> str | None:
        if node.kind == "const":
            return latex_number(node.data)
        name = plan.names.get(node.index)
        return None if name is None else latex_name(name)

    def write(node: Sym, inline_self: bool = False) -> str:
        own = (lambda n: None if n is node else atom(n)) if inline_self else atom
        return _write(node, own, _latex_layout, _latex_level, (r"\left(", r"\right)"))

    defs = plan.statements()
    if root.index in plan.names and root.kind == "op":
        defs = [d for d in defs if d is not root]
    body = write(root, inline_self=root.kind == "op")
    if not defs:
        return body
    lines = [f"{latex_name(plan.names[d.index])} &= {write(d, inline_self=True)} \\\\" for d in defs]
    return "\\begin{aligned}\n" + "\n".join(lines) + f"\n&{body}\n\\end{{aligned}}"
