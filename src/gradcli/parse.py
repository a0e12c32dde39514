"""Parse: program text -> syntax tree (syntax.py).

Lark's LALR(1) parser runs the grammar in ``grammar/gradcli.lark`` and calls
``_ToSyntax`` as it reduces each rule, so the syntax tree is built bottom-up
by the shift-reduce loop itself: no parse tree, no recursion, at any nesting
depth. Lark's errors are turned into ``ParseError`` with the place, the line,
and what was expected in words, never Lark's token names.

Valid programs take a faster road first: ``fastparse.parse_fast`` builds the
same tree with one regular expression and an operator-precedence loop, and
hands anything it is not sure about (every syntax error) to Lark.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from .syntax import paused_gc
from .errors import ParseError, words
from .fastparse import parse_fast
from .syntax import Assign, Binary, Call, ExprStmt, Name, Num, Pos, Program, Unary

if TYPE_CHECKING:  # pragma: no cover
    from lark import Lark, Token
    from lark.exceptions import UnexpectedInput

# Lark is imported only when the fast path (fastparse.py) declines a text:
# a syntax error, or something it is not sure about. Valid programs never
# pay for Lark's import or its per-token cost.


def _pos(tok: Token) -> Pos:
    return Pos(tok.line, tok.column, len(tok.value))


class _ToSyntax:
    """Lark callbacks, one per rule alias, each building one syntax node."""

    def start(self, statements):
        return statements

    def assign(self, c):
        return Assign(c[0].value, c[2], _pos(c[0]))

    def augassign(self, c):
        return Assign(c[0].value, c[2], _pos(c[0]), c[1].value[0])

    def exprstmt(self, c):
        return ExprStmt(c[0])

    def binary(self, c):
        op = c[1].value
        return Binary("**" if op == "^" else op, c[0], c[2], _pos(c[1]))

    def unary(self, c):
        return Unary(c[0].value, c[1], _pos(c[0]))

    def number(self, c):
        tok = c[0]
        return Num(float(tok.value), tok.value, _pos(tok))

    def name(self, c):
        return Name(c[0].value, _pos(c[0]))

    def call(self, c):
        # NAME ( expr , expr ... )
        return Call(c[0].value, tuple(c[2:-1:2]), _pos(c[0]))

    def method(self, c):
        # primary . NAME ( expr , ... )
        return Call(c[2].value, (c[0], *c[4:-1:2]), _pos(c[2]))

    def group(self, c):
        return c[1]


@lru_cache(maxsize=None)
def parser() -> Lark:
    """The LALR parser, built once per process, in memory only.

    No ``cache=True``: Lark's cache is a pickle at a predictable name in the
    shared temporary directory, loaded without checking who made it, so a
    file planted there by another user ran code as whoever made a typo, and
    every syntax error wrote that file unasked. Without it, building the
    tables costs about 38 ms instead of 21 ms (measured on the first syntax
    error in a process); only text the fast path declines pays it."""
    from importlib import resources

    from lark import Lark

    grammar = resources.files("gradcli.grammar").joinpath("gradcli.lark").read_text("utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        transformer=_ToSyntax(),
        maybe_placeholders=False,
    )


def parse(text: str) -> Program:
    """Parse a program. Raises ``ParseError`` for anything that is not one."""
    if not isinstance(text, str):
        from .errors import InputError

        raise InputError(f"a program is text (a str), not a {type(text).__name__}")
    if text.startswith("\ufeff"):
        text = text[1:]
    with paused_gc():
        statements = parse_fast(text)
    if statements is None:
        statements = parse_lark(text)
    if not statements:
        raise ParseError("the program has no statement",
                         notes=["write an expression, such as `a*b + c`, or assignments such as `y = a*b`"])
    return Program(tuple(statements), text)


def parse_lark(text: str) -> list:
    """The statements of ``text`` by Lark alone (``parse`` uses it when the
    fast path declines); raises ``ParseError`` for a syntax error."""
    from lark.exceptions import UnexpectedInput

    try:
        with paused_gc():   # millions of objects and no cycles, as in parse_fast
            return parser().parse(text + "\n")
    except UnexpectedInput as e:
        raise _syntax_error(e, text) from None


# ---------------------------------------------------------------- errors

_OPERATORS = {"ADDOP", "MULOP", "POW"}


def _describe_expected(expected: set[str]) -> str:
    """Terminal names -> what a person would call them."""
    parts: list[str] = []
    if expected == {"NAME"}:
        return "a function name"
    if "NUMBER" in expected:
        parts += ["a number", "a name", "`(`"]
        if "ADDOP" in expected:
            parts.append("a sign")
        if "RPAR" in expected:  # an empty argument list: `x.exp()`
            parts.append("`)`")
        return words(parts, "or")
    if expected & _OPERATORS:
        parts.append("an operator")
    if "ASSIGN" in expected:
        parts.append("`=`")
    if "RPAR" in expected:
        parts.append("`)`")
    if "COMMA" in expected:
        parts.append("`,`")
    if "LPAR" in expected and not parts:
        parts.append("`(`")
    if "NAME" in expected:
        parts.append("a name")
    if "_SEP" in expected or "$END" in expected:
        parts.append("the end of the statement")
    return words(parts, "or") or "something else"


def _at_end(text: str, offset: int) -> bool:
    """Only blanks and comments follow ``offset``."""
    for line in text[offset:].split("\n"):
        stripped = line.strip(" \t\r")
        if stripped and not stripped.startswith("#"):
            return False
    return True


def _describe_token(tok: Token, text: str) -> str:
    if tok.type == "_SEP":
        if tok.start_pos >= len(text) or _at_end(text, tok.start_pos):
            return "the end of the input"
        return "`;`" if tok.value == ";" else "the end of the line"
    if tok.type == "$END":
        return "the end of the input"
    if tok.type == "NUMBER":
        return f"the number `{tok.value}`"
    if tok.type == "NAME":
        return f"the name `{tok.value}`"
    return f"`{tok.value}`"


def _open_parens(text: str, offset: int) -> list[int]:
    """Offsets of the `(` still open at ``offset`` in the current statement."""
    stack: list[int] = []
    i = 0
    while i < offset:
        ch = text[i]
        if ch == "#":
            nl = text.find("\n", i)
            if nl < 0 or nl >= offset:
                break
            i = nl
            continue
        if ch in "\n;":
            stack.clear()
        elif ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            stack.pop()
        i += 1
    return stack


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# At most this many unclosed `(` get a note each; past it, one note says how
# many there are and where the first and the last are (a text of 400,000 `(`
# gets two lines, not 400,000).
OPEN_NOTES = 3


def _unclosed_notes(text: str, opened: list[int]) -> list[str]:
    """Notes for the `(` at the offsets ``opened`` (in order) that are never
    closed. Each place is found with one scan of the text before it, and
    there are at most ``OPEN_NOTES`` + 1 of them, so this is linear in the
    text however many there are."""
    if len(opened) <= OPEN_NOTES:
        places = [_line_col(text, o) for o in opened]
        return [f"the `(` at {line}:{col} is never closed" for line, col in places]
    (l1, c1), (l2, c2) = _line_col(text, opened[0]), _line_col(text, opened[-1])
    return [f"{len(opened):,} `(` are never closed: the first at {l1}:{c1}, the last at {l2}:{c2}"]


def _syntax_error(e: UnexpectedInput, text: str) -> ParseError:
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    notes: list[str] = []
    if isinstance(e, UnexpectedToken):
        tok = e.token
        expected = set(e.expected)
        found = _describe_token(tok, text)
        offset = min(tok.start_pos if tok.start_pos is not None else len(text), len(text))
        length = 1 if tok.type in ("_SEP", "$END") else len(tok.value)
        message = f"expected {_describe_expected(expected)}, found {found}"
        if tok.type == "RPAR" and not _open_parens(text, offset):
            notes.append("there is no `(` for this `)` to close")
        if tok.type in ("NAME", "NUMBER") and expected & _OPERATORS:
            notes.append("two values need an operator between them, such as `*`")
    elif isinstance(e, UnexpectedCharacters):
        offset = e.pos_in_stream
        ch = text[offset] if offset < len(text) else ""
        shown = f"`{ch}`" if ch.isprintable() and not ch.isspace() else repr(ch)
        message = f"unexpected character {shown}"
        if e.allowed:
            message += f"; expected {_describe_expected(set(e.allowed))}"
        length = 1
    else:  # UnexpectedEOF: the parser always sees a final newline, but be safe
        offset = len(text)
        message = f"unexpected end of the input; expected {_describe_expected(set(getattr(e, 'expected', ())))}"
        length = 1
    if isinstance(e, UnexpectedToken) and e.token.type in ("_SEP", "$END"):
        notes += _unclosed_notes(text, _open_parens(text, offset))
    line, col = _line_col(text, offset)
    return ParseError(message, Pos(line, col, length), notes)
