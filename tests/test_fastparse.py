"""The fast parser (fastparse.py) agrees with Lark: on every text it accepts
it builds exactly Lark's tree, and it accepts every valid program we
generate, so Lark is only needed for syntax errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcli.fastparse import parse_fast
from gradcli.parse import parse, parse_lark
from gradcli.errors import ParseError

from conftest import EXAMPLES

PIECES = ["a", "b", "x1", "exp", "max", "2", "2.", ".5", "1e3", "3E-2", "+", "-", "*", "/", "**", "^",
          "(", ")", ",", ".", "=", "+=", "-=", "*=", "/=", ";", "\n", "\r\n", " ", "\t", "# note\n", "@", "\r"]


def lark_or_error(text):
    try:
        return parse_lark(text)
    except ParseError as e:
        return e


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=14), st.sampled_from(["", " "]))
def test_fast_parser_never_disagrees_with_lark(pieces, sep):
    text = sep.join(pieces)
    fast = parse_fast(text)
    if fast is not None:
        assert fast == lark_or_error(text)


def expressions():
    leaf = st.sampled_from(["a", "b", "c1", "2", "0.5", ".25", "3e2", "1E-3"])

    def grow(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**", "^", " + ", " ** "]), inner).map("".join),
            st.tuples(st.sampled_from(["-", "+", "- "]), inner).map("".join),
            inner.map(lambda e: f"({e})"),
            st.tuples(st.sampled_from(["exp", "tanh", "relu"]), inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(inner, inner).map(lambda t: f"max({t[0]}, {t[1]})"),
            inner.map(lambda e: f"({e}).sigmoid()"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]}).min({t[1]})"),
        )

    return st.recursive(leaf, grow, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["", "y = ", "y += ", "z *= ", "w /= ", "q -= "]), expressions()),
                min_size=1, max_size=4),
       st.sampled_from(["\n", ";", "\r\n", " # c\n", ";\n\n"]))
def test_fast_parser_accepts_valid_programs_and_builds_larks_tree(statements, sep):
    text = sep.join(target + expr for target, expr in statements)
    fast = parse_fast(text)
    assert fast is not None, text
    assert fast == parse_lark(text)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.grad")), ids=lambda p: p.name)
def test_examples_parse_the_same(path):
    text = path.read_text("utf-8")
    assert parse_fast(text) == parse_lark(text)


@pytest.mark.parametrize("text", ["-a**2", "2**-1", "a ** -b ** c", "2..exp()", "x.exp().log()",
                                  "- -a*-b/ +c", "a.max(b, c)", "pow(a, b) ^ 2"])
def test_tricky_precedence(text):
    assert parse_fast(text) == parse_lark(text)


@pytest.mark.parametrize("text", ["pow(a,b,)", "a b", "(a,b)", "x = ", "f()", "a.exp", "(a", "a)", "1e", "a @ b"])
def test_declines_what_is_not_a_program(text):
    assert parse_fast(text) is None
    with pytest.raises(ParseError):
        parse(text)


def test_positions_match_lark_on_several_lines():
    text = "a = 2\n\tb = a *\tc ^ 2  # comment\r\ny += (b).exp(); z = -y"
    assert parse_fast(text) == parse_lark(text)
    stmt = parse(text).statements[1]
    assert stmt.pos == (2, 2, 1)
    assert stmt.expr.pos == (2, 8, 1)        # the `*`


def test_deep_and_wide_programs_need_no_recursion():
    wide = " + ".join(f"x{i}" for i in range(20000))
    deep = "(" * 5000 + "x" + ")" * 5000
    chain = "x" + ".exp()" * 5000
    for text in (wide, deep, chain):
        assert parse_fast(text) is not None
