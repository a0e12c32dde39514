"""Build: syntax tree + inputs -> a Graph of Values, ready for forward and backward.

Statements run in order. A name read before it is assigned is an *input*; a
name whose first assignment, made before it is read, is a plain number is a
*leaf with a default*. Together they are the leaves, kept in order of first
appearance. ``x op= e`` makes a new node ``x op (e)``; ``x = a`` makes ``x``
another name for ``a``'s node. Expressions are walked with an explicit stack.
"""

from __future__ import annotations

import math
import re
from typing import Mapping, Sequence

from .engine import Graph, Value, bind, names_note, op_node, paused_gc, resolve  # noqa: F401 - bind, resolve, names_note: used from here too
from .errors import DomainError, InputError, ProgramError, did_you_mean, words
from .safeio import printable
from .ops import BINARY, FUNCTIONS, OPS, PAIRED, shown
from .syntax import NAME, NUMBER, Assign, Binary, Call, Expr, Name, Num, Program, Unary, children, plain_number

# A NAME=VALUE value: a number of the language with an optional sign.
VALUE_RE = re.compile(rf"[+-]?{NUMBER}")
NAME_RE = re.compile(NAME)


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[Value] = []
        self.env: dict[str, Value] = {}      # name -> node it refers to now
        self.leaves: dict[str, Value] = {}   # in order of first appearance

    def push(self, node: Value) -> Value:
        """Put a node on the tape (once)."""
        if node.index is None:
            node.index = len(self.nodes)
            self.nodes.append(node)
        return node

    def read(self, name: Name) -> Value:
        node = self.env.get(name.id)
        if node is not None:
            return node
        if name.id in FUNCTIONS:
            raise ProgramError(f"`{name.id}` is a function, not a value", name.pos,
                               [f"call it: `{name.id}(x)` or `x.{name.id}()`"])
        node = self.push(Value(0.0, label=name.id, kind="input", pos=name.pos))
        self.env[name.id] = self.leaves[name.id] = node
        return node

    def op(self, expr: Expr, args: list[Value]) -> Value:
        """A sign or a call applied to its built operands."""
        if isinstance(expr, Unary):
            arg = args[0]
            if expr.op == "+":
                return arg
            if arg.kind == "const" and arg.index is None:   # fold the sign of a number
                return Value(-arg.data, kind="const", pos=expr.pos)
            op = OPS["neg"]
        else:   # binary operators are built inline in ``expr``
            assert isinstance(expr, Call)
            op = FUNCTIONS.get(expr.func)
            if op is None:
                hint = (f"`{expr.func}` is a value, not a function" if expr.func in self.env
                        else f"unknown function `{expr.func}`")
                from .hints import unknown_function

                raise ProgramError(hint, expr.pos,
                                   unknown_function(expr.func, FUNCTIONS) or
                                   did_you_mean(expr.func, FUNCTIONS) or
                                   [f"the functions are {words(sorted(FUNCTIONS))}"])
            if len(args) != op.arity:
                raise ProgramError(
                    f"`{expr.func}` takes {op.arity} argument{'s' * (op.arity > 1)}, "
                    f"not {len(args)}", expr.pos)
        for a in args:
            self.push(a)
        return self.push(op_node(tuple(args), op.name, expr.pos))

    def expr(self, root: Expr) -> Value:
        """Build an expression bottom-up with an explicit stack.

        This loop runs once per syntax node of programs with millions of
        them, so it dispatches on the exact type and does the common cases
        (names, numbers, binary operators) inline; ``op`` does the rest.
        A 1-tuple ``(expr,)`` on the stack means: its operands are done."""
        out: list[Value] = []
        stack: list = [root]
        env, nodes = self.env, self.nodes
        while stack:
            expr = stack.pop()
            t = type(expr)
            if t is Name:
                node = env.get(expr.id)
                out.append(node if node is not None else self.read(expr))
            elif t is tuple:
                expr = expr[0]
                if type(expr) is Binary:
                    right = out.pop()
                    left = out[-1]
                    if left.index is None:
                        left.index = len(nodes)
                        nodes.append(left)
                    if right.index is None:
                        right.index = len(nodes)
                        nodes.append(right)
                    node = op_node((left, right), BINARY[expr.op].name, expr.pos)
                    node.index = len(nodes)
                    nodes.append(node)
                    out[-1] = node
                elif type(expr) is Call and (op := FUNCTIONS.get(expr.func)) is not None \
                        and len(expr.args) == op.arity:
                    # a call of a known function with its arity (``op`` inline)
                    n = op.arity
                    args = tuple(out[len(out) - n:])
                    del out[len(out) - n:]
                    for a in args:
                        if a.index is None:
                            a.index = len(nodes)
                            nodes.append(a)
                    node = op_node(args, op.name, expr.pos)
                    node.index = len(nodes)
                    nodes.append(node)
                    out.append(node)
                else:
                    n = len(children(expr))
                    args = out[len(out) - n:]
                    del out[len(out) - n:]
                    out.append(self.op(expr, args))
            elif t is Binary:
                stack += ((expr,), expr.right, expr.left)
            elif t is Num:
                if not math.isfinite(expr.value):
                    raise DomainError(f"the number `{expr.text}` is too large for a float", expr.pos)
                out.append(Value(expr.value, kind="const", pos=expr.pos))
            else:
                stack.append((expr,))
                stack.extend(reversed(children(expr)))
        return out[0]

    def statement(self, stmt) -> Value:
        if not isinstance(stmt, Assign):
            return self.push(self.expr(stmt.expr))
        target = stmt.target
        if target in FUNCTIONS:
            raise ProgramError(f"`{target}` is a function and cannot be assigned to", stmt.pos)
        if stmt.op is not None:
            # x op= e  is  x = x op (e): a new node, and x now names it
            current = self.read(Name(target, stmt.pos))
            value = self.push(self.expr(stmt.expr))
            node = self.push(op_node((current, value), BINARY[stmt.op].name, stmt.pos))
        elif target not in self.env and (default := plain_number(stmt.expr)) is not None:
            node = self.push(Value(default, label=target, kind="leaf", pos=stmt.pos))
            self.leaves[target] = node
        else:
            node = self.push(self.expr(stmt.expr))
        if not node.label:
            node.label = target
        self.env[target] = node
        return node


def build(program: Program, inputs: Mapping[str, float] | None = None,
          output: str | None = None) -> Graph:
    """The program's graph with ``inputs`` bound and the forward pass done.

    Raises ``ProgramError`` for unknown functions, ``InputError`` for missing
    inputs, bindings of names that are not leaves and an unknown ``output``,
    and ``DomainError`` when the forward pass leaves the domain of an op.
    """
    graph = structure(program, output)
    bind(graph, inputs or {})
    with paused_gc():
        graph.forward()
    return graph


def structure(program: Program, output: str | None = None) -> Graph:
    """The program's graph, not evaluated: no inputs needed, op nodes' data
    not computed yet (the leaves with defaults hold their defaults). For
    symbolic derivatives (symbolic.py) and many points (arrays.py)."""
    b = _Builder()
    last = None
    with paused_gc():
        for stmt in program.statements:
            last = b.statement(stmt)
    assert last is not None  # the parser rejects programs with no statement
    last_stmt = program.statements[-1]
    output_name = last_stmt.target if isinstance(last_stmt, Assign) else None
    if output is not None:
        if output not in b.env:
            raise InputError(f"--of `{printable(output)}` is not a name in the program",
                             notes=did_you_mean(output, b.env) or names_note(b.env))
        last, output_name = b.env[output], output
    pair(b.nodes)
    return Graph(b.nodes, b.env, b.leaves, last, output_name, program.source)


def _one(node: Value) -> bool:
    return node.kind == "const" and node.data == 1.0


def pair(nodes: Sequence[Value]) -> dict[int, Value]:
    """Give a ``sigmoid`` or ``tanh`` node its paired row (``ops.PAIRED``)
    where the program has its complement, ``1 - s`` (for tanh also ``1 + t``
    or ``t + 1``), as a node that a ``log`` or a ``/`` divides by: there the
    complement keeps a few bits, and only a rule made of the same bits
    cancels their error (``log(1 - sigmoid(x))`` at x = 36.7: 48% off,
    paired within 2 ulp). The key says which complements (``1-``, ``1+``,
    both). Values and every other rule stay as they are. Returns
    ``complements``. Two passes up the tape."""
    found = complements(nodes)
    for index, comps in found.items():
        node = nodes[index]
        signs = {c.op for c in comps}
        node.op = PAIRED[node.op, "1+-" if len(signs) == 2 else "1" + signs.pop()]
    return found


def complements(nodes: Sequence[Value]) -> dict[int, list[Value]]:
    """Each node ``pair`` pairs (or has paired), by its place on the tape ->
    its complements that something divides by, in tape order (what
    ``check`` and ``explain`` name)."""
    wanted = {"-": ("sigmoid", "tanh"), "+": ("tanh",)}
    divided = bytearray(len(nodes))
    for node in nodes:
        if node.op == "log":
            divided[node.children[0].index] = 1
        elif node.op == "/":
            divided[node.children[1].index] = 1
    found: dict[int, list[Value]] = {}
    for node in nodes:
        if not divided[node.index] or node.op not in wanted:
            continue
        a, b = node.children
        inner = b if _one(a) else a if _one(b) and node.op == "+" else None
        if inner is not None and shown(inner.op) in wanted[node.op]:
            found.setdefault(inner.index, []).append(node)
    return found



def parse_binding(text: str) -> tuple[str, float]:
    """``NAME=VALUE`` from the command line; VALUE is a number of the
    language with an optional sign (no inf, nan, hex or underscores)."""
    name, eq, value = text.partition("=")
    if not eq:
        raise InputError(f"`{printable(text)}` is not a binding: expected NAME=VALUE, such as a=2 or b=-3")
    if not NAME_RE.fullmatch(name):
        raise InputError(f"`{printable(text)}`: `{printable(name)}` is not a name "
                         "(letters, digits and `_`, not starting with a digit)")
    return name, read_number(value, f"`{printable(text)}`: ")


def read_number(text: str, where: str) -> float:
    """A number of the language with an optional sign (VALUE_RE: no inf,
    nan, hex or underscores), read from user text: a binding's value, a CSV
    cell, an uncertainty's parts. ``where`` starts the error message."""
    if not VALUE_RE.fullmatch(text):
        raise InputError(f"{where}`{printable(text)}` is not a number (write numbers such as 2, -3, 0.5 or 1e-3)")
    number = float(text)
    if not math.isfinite(number):
        raise InputError(f"{where}`{printable(text)}` is too large for a float")
    return number


