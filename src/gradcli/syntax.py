"""The syntax tree: small frozen dataclasses that remember where they came from.

The parser (parse.py) builds these straight from Lark's LALR callbacks; the
builder (build.py) turns them into a graph of Values. Nothing here evaluates.

Trees may be deep (a 200,000-term sum is a left-leaning tree 200,000 levels
deep), so code that walks them uses explicit stacks. The generated ``__eq__``
and ``__repr__`` recurse; they are for tests and debugging of small trees.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, NamedTuple, Union

# The language's tokens, written once: the Lark grammar's terminals
# (grammar/gradcli.lark, which cannot import Python: tests/test_parse.py
# checks its NUMBER and NAME lines against these), the fast parser's scanner
# (fastparse.py) and NAME=VALUE bindings (build.py).
NUMBER = r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
NAME = r"[A-Za-z_][A-Za-z0-9_]*"


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside: parsing and building make
    millions of objects and no cycles (syntax nodes point only to their
    operands, graph nodes only to older nodes), so the collector would only
    walk the growing heap again and again. Re-entrant; restores the
    previous state.

    On the way out the objects made inside go straight to the oldest
    generation (``gc.freeze()`` then ``gc.unfreeze()``: two list splices,
    and the young generation's count set back to 0). Otherwise the first
    allocation after ``gc.enable()`` collects the young generation, which
    holds every object made inside: 10 to 20 ms after parsing or building
    a 10,000-node program, for nothing. They stay collectable: the next
    full collection sees them (and any cycle among them) as it sees every
    old object. Skipped if something else keeps objects frozen."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()


class Pos(NamedTuple):
    """A place in the source: line and column counted from 1, columns in
    characters; ``length`` is how many characters to underline."""

    line: int
    column: int
    length: int = 1

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Num:
    """A number literal, always unsigned: a sign is the unary operator."""

    value: float
    text: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Name:
    """A variable read."""

    id: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Unary:
    """``-operand`` or ``+operand``; ``pos`` is the sign."""

    op: str
    operand: Expr
    pos: Pos


@dataclass(frozen=True, slots=True)
class Binary:
    """``left op right`` with op one of ``+ - * / **`` (``^`` is read as ``**``);
    ``pos`` is the operator."""

    op: str
    left: Expr
    right: Expr
    pos: Pos


@dataclass(frozen=True, slots=True)
class Call:
    """``func(args...)`` or ``args[0].func(args[1:]...)``; ``pos`` is the name."""

    func: str
    args: tuple[Expr, ...]
    pos: Pos


Expr = Union[Num, Name, Unary, Binary, Call]


# The same nodes made without the frozen dataclasses' ``__init__`` (one
# ``object.__setattr__`` per field): each slot's own setter, for the fast
# parser's loop, which makes one per token (Name 0.38 µs against 0.53,
# Binary 0.33 against 0.58). They are equal to the ones ``__init__`` makes
# (tests/test_fastparse.py compares whole trees with Lark's).
_new = object.__new__
_NAME = (Name.id.__set__, Name.pos.__set__)
_NUM = (Num.value.__set__, Num.text.__set__, Num.pos.__set__)
_BINARY = (Binary.op.__set__, Binary.left.__set__, Binary.right.__set__, Binary.pos.__set__)


def make_name(id: str, pos: Pos) -> Name:
    node = _new(Name)
    _NAME[0](node, id)
    _NAME[1](node, pos)
    return node


def make_num(value: float, text: str, pos: Pos) -> Num:
    node = _new(Num)
    _NUM[0](node, value)
    _NUM[1](node, text)
    _NUM[2](node, pos)
    return node


def make_binary(op: str, left: Expr, right: Expr, pos: Pos) -> Binary:
    node = _new(Binary)
    _BINARY[0](node, op)
    _BINARY[1](node, left)
    _BINARY[2](node, right)
    _BINARY[3](node, pos)
    return node


@dataclass(frozen=True, slots=True)
class Assign:
    """``target = expr``, or with ``op`` set, ``target op= expr``."""

    target: str
    expr: Expr
    pos: Pos
    op: str | None = None


@dataclass(frozen=True, slots=True)
class ExprStmt:
    """A bare expression: its value is the output if it comes last."""

    expr: Expr


Statement = Union[Assign, ExprStmt]


@dataclass(frozen=True, slots=True)
class Program:
    """A parsed program: its statements in order and the text they came from."""

    statements: tuple[Statement, ...]
    source: str

    def __repr__(self) -> str:  # the source can be huge; the statements are enough
        return f"Program({len(self.statements)} statements)"


def children(expr: Expr) -> tuple[Expr, ...]:
    """The operands of an expression, in order."""
    if isinstance(expr, Binary):
        return (expr.left, expr.right)
    if isinstance(expr, Unary):
        return (expr.operand,)
    if isinstance(expr, Call):
        return expr.args
    return ()


def plain_number(expr: Expr) -> float | None:
    """The value of a plain number (a literal under optional signs; the parser
    has already dropped parentheses), or None for anything else."""
    sign = 1.0
    while isinstance(expr, Unary):
        if expr.op == "-":
            sign = -sign
        expr = expr.operand
    if isinstance(expr, Num):
        return sign * expr.value
    return None
