"""A fast recogniser for valid programs: text -> the same syntax tree as Lark.

Lark's LALR parser costs 6 to 20 µs per graph node and its import alone
costs tens of milliseconds, while almost every program gradcli sees is
valid. So ``parse`` (parse.py) first tries this: one regular expression
tokenises the text (the same terminals as ``grammar/gradcli.lark``) and an
operator-precedence parser with explicit stacks builds the very same frozen
dataclasses, with the same positions, that Lark's callbacks build.

It is strict: at the first thing it does not expect it gives up and returns
``None``, and ``parse`` runs Lark, which either parses the text (nothing is
lost but time) or explains the syntax error exactly as before. So error
messages keep coming from one place, and this module only ever has to agree
with Lark on programs that are valid (tests check that it does).
"""

from __future__ import annotations

import re

from .syntax import NAME, NUMBER, Assign, Call, ExprStmt, Pos, Unary, make_binary, make_name, make_num

# Each match is (blanks and a comment, one token); the last alternative
# takes any other character (and a lone `\r`), so no text is ever skipped.
_SCAN = re.compile(rf"""
  ([ \t]*(?:\#[^\n]*)?)
  ( {NUMBER}
  | {NAME}
  | \*\*|[-+*/]=|\r?\n
  | . )
""", re.VERBOSE | re.DOTALL)

_KINDS = {t: t for t in ("**", "+=", "-=", "*=", "/=", "+", "-", "*", "/", "^", "=", "(", ")", ",", ".")}
_KINDS.update({";": "SEP", "\n": "SEP", "\r\n": "SEP"})
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NUM_START = frozenset("0123456789.")

# Binding power of binary operators; `**` is right-associative.
_BINARY = {"+": 1, "-": 1, "*": 2, "/": 2, "**": 4, "^": 4}
_UNARY = 3
_AUG = {"+=", "-=", "*=", "/="}

# Markers on the operator stack (besides operator entries).
_GROUP, _CALL, _METHOD = "(", "call", "method"


class _GiveUp(Exception):
    pass


def tokens(text: str):
    """(kind, value, Pos) for every token; None if a character is not the
    language's. ``kind`` is NUM, NAME, SEP or the operator itself."""
    out = []
    append = out.append
    kinds = _KINDS
    new_pos = tuple.__new__      # Pos(line, column, length) without a Python-level call
    line, line_start, offset = 1, 0, 0
    for blanks, tok in _SCAN.findall(text):
        offset += len(blanks)
        kind = kinds.get(tok)
        if kind is None:
            c = tok[0]
            if c in _NAME_START:
                kind = "NAME"
            elif c in _NUM_START and tok != ".":
                kind = "NUM"
            else:
                return None
        elif kind == "SEP":
            append(("SEP", tok, None))
            offset += len(tok)
            if tok != ";":
                line += 1
                line_start = offset
            continue
        size = len(tok)
        append((kind, tok, new_pos(Pos, (line, offset - line_start + 1, size))))
        offset += size
    return out


def parse_fast(text: str):
    """The statements of a valid program, or None if the text is not one
    this parser is sure about (then Lark decides)."""
    toks = tokens(text + "\n")
    if toks is None:
        return None
    try:
        return _statements(toks)
    except (_GiveUp, IndexError):
        return None


def _statements(toks):
    statements = []
    i, n = 0, len(toks)
    while i < n:
        kind = toks[i][0]
        if kind == "SEP":
            i += 1
            continue
        if kind == "NAME" and i + 1 < n and (toks[i + 1][0] == "=" or toks[i + 1][0] in _AUG):
            target, (op, _, _) = toks[i], toks[i + 1]
            expr, i = _expr(toks, i + 2)
            statements.append(Assign(target[1], expr, target[2], None if op == "=" else op[0]))
        else:
            expr, i = _expr(toks, i)
            statements.append(ExprStmt(expr))
        if toks[i][0] != "SEP":
            raise _GiveUp
        i += 1
    return statements


def _reduce_one(ops, out):
    entry = ops.pop()
    kind = entry[0]
    if kind == "bin":
        right = out.pop()
        left = out.pop()
        out.append(make_binary(entry[1], left, right, entry[2]))
    elif kind == "un":
        out.append(Unary(entry[1], out.pop(), entry[2]))
    else:  # an unclosed `(` or call at the end of the expression
        raise _GiveUp


def _expr(toks, i):
    """One expression from ``toks[i]``; returns it and the index after it."""
    out: list = []    # operands
    ops: list = []    # ("bin", op, pos, power) | ("un", sign, pos) | markers
    expect_operand = True
    while True:
        kind, value, pos = toks[i]
        if expect_operand:
            if kind == "NUM":
                out.append(make_num(float(value), value, pos))
                expect_operand = False
            elif kind == "NAME":
                if toks[i + 1][0] == "(":
                    if toks[i + 2][0] == ")":
                        raise _GiveUp          # f(): a call needs an argument
                    ops.append((_CALL, value, pos, len(out)))
                    i += 1
                else:
                    out.append(make_name(value, pos))
                    expect_operand = False
            elif kind == "+" or kind == "-":
                ops.append(("un", value, pos))
            elif kind == "(":
                ops.append((_GROUP, None, pos, len(out)))
            else:
                raise _GiveUp
            i += 1
            continue
        # expecting an operator after a complete operand
        power = _BINARY.get(kind)
        if power is not None:
            # reduce what binds at least as tightly (`**` only what binds tighter)
            while ops:
                top = ops[-1]
                tk = top[0]
                if tk == "bin":
                    p = top[3]
                    if p > power or (p == power and power != 4):
                        ops.pop()                      # _reduce_one's "bin", inline: the hot case
                        right = out.pop()
                        out[-1] = make_binary(top[1], out[-1], right, top[2])
                        continue
                elif tk == "un" and _UNARY > power:
                    _reduce_one(ops, out)
                    continue
                break
            ops.append(("bin", "**" if value == "^" else value, pos, power))
            expect_operand = True
            i += 1
        elif kind == ".":
            # primary . NAME ( args? ): binds to the last operand, which is
            # always complete and unreduced here
            name = toks[i + 1]
            if name[0] != "NAME" or toks[i + 2][0] != "(":
                raise _GiveUp
            if toks[i + 3][0] == ")":
                out.append(Call(name[1], (out.pop(),), name[2]))
                i += 4
            else:
                ops.append((_METHOD, name[1], name[2], len(out) - 1))
                expect_operand = True
                i += 3
        elif kind == ")" or kind == ",":
            while ops:
                top = ops[-1]
                if top[0] == "bin":
                    ops.pop()
                    right = out.pop()
                    out[-1] = make_binary(top[1], out[-1], right, top[2])
                elif top[0] == "un":
                    _reduce_one(ops, out)
                else:
                    break
            if not ops:
                raise _GiveUp
            marker, name, mpos, base = ops[-1]
            if kind == ",":
                if marker == _GROUP:
                    raise _GiveUp
                expect_operand = True
            else:
                ops.pop()
                if marker == _GROUP:
                    if len(out) != base + 1:
                        raise _GiveUp
                else:
                    args = tuple(out[base:])
                    del out[base:]
                    out.append(Call(name, args, mpos))
            i += 1
        elif kind == "SEP":
            while ops:
                top = ops[-1]
                if top[0] == "bin":
                    ops.pop()
                    right = out.pop()
                    out[-1] = make_binary(top[1], out[-1], right, top[2])
                else:
                    _reduce_one(ops, out)
            if len(out) != 1:
                raise _GiveUp
            return out[0], i
        else:
            raise _GiveUp
