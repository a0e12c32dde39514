"""The parser: the language of the contract, precedence, positions, and
errors a person can act on."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradcli
from gradcli import GradcliError, ParseError, ProgramError
from gradcli.syntax import Assign, Binary, Call, ExprStmt, Name, Num, Pos, Unary


def value(program: str, **inputs: float) -> float:
    return gradcli.evaluate(program, **inputs)


@pytest.mark.parametrize("program,inputs,expected", [
    ("-a**2", {"a": 3}, -9.0),
    ("-2**2", {}, -4.0),
    ("2**3**2", {}, 512.0),
    ("2^3^2", {}, 512.0),
    ("(2**3)**2", {}, 64.0),
    ("a-b-c", {"a": 10, "b": 3, "c": 2}, 5.0),
    ("a/b/c", {"a": 12, "b": 3, "c": 2}, 2.0),
    ("2**-1", {}, 0.5),
    ("a -1", {"a": 5}, 4.0),
    ("- -a", {"a": 5}, 5.0),
    ("--a", {"a": 5}, 5.0),
    ("+-+a", {"a": 5}, -5.0),
    ("a + b * c", {"a": 1, "b": 2, "c": 3}, 7.0),
    ("(a + b) * c", {"a": 1, "b": 2, "c": 3}, 9.0),
    ("-a * b", {"a": 2, "b": 3}, -6.0),
    ("2 * -a", {"a": 2}, -4.0),
    ("a**-b**c", {"a": 2, "b": 1, "c": 2}, 0.5),
    ("-(2)**2", {}, -4.0),
    ("(-2)**2", {}, 4.0),
    ("a.exp().log()", {"a": 1.5}, 1.5),
    ("(b + a).relu()", {"a": 1, "b": -3}, 0.0),
    ("relu(b + a)", {"a": 1, "b": 3}, 4.0),
    ("max(a, b) - min(a, b)", {"a": 1, "b": 3}, 2.0),
    ("pow(2, 10)", {}, 1024.0),
    ("a.pow(2)", {"a": 3}, 9.0),
])
def test_precedence_and_associativity(program, inputs, expected):
    assert value(program, **inputs) == expected


@pytest.mark.parametrize("text,expected", [
    ("2", 2.0), ("2.", 2.0), (".5", 0.5), ("3.25", 3.25), ("1e-3", 1e-3),
    ("1e+3", 1e3), ("6.02E23", 6.02e23), ("007", 7.0),
])
def test_numbers(text, expected):
    assert value(text) == expected


@pytest.mark.parametrize("program", [
    "y = a*2\n", "y = a*2;", "y = a*2;;", ";;y = a*2", "\n\n# c\ny = a*2 # c\n\n",
    "y = a*2\r\n", "\ty\t=\ta  *  2", "x = a; y = x*2", "y = a\ny *= 2",
])
def test_statements_separators_and_comments(program):
    assert value(program, a=3) == 6.0


def test_augmented_assignment_makes_new_nodes():
    graph = gradcli.build(gradcli.parse("x = a\nx += 1\nx -= 2\nx *= 3\nx /= 4"), {"a": 5})
    assert graph.value == (5 + 1 - 2) * 3 / 4
    assert graph.gradients() == {"a": 0.75}
    assert graph.names["x"].op == "/"


def test_syntax_tree_has_positions():
    program = gradcli.parse("y = a * exp(b)\n  -c")
    first, second = program.statements
    assert isinstance(first, Assign) and first.target == "y" and first.pos == Pos(1, 1, 1)
    mul = first.expr
    assert isinstance(mul, Binary) and mul.op == "*" and mul.pos == Pos(1, 7, 1)
    assert isinstance(mul.left, Name) and mul.left.pos == Pos(1, 5, 1)
    call = mul.right
    assert isinstance(call, Call) and call.func == "exp" and call.pos == Pos(1, 9, 3)
    assert isinstance(second, ExprStmt) and isinstance(second.expr, Unary)
    assert second.expr.pos == Pos(2, 3, 1)


def test_method_call_is_the_same_node_as_a_call():
    a = gradcli.parse("(b + a).relu()").statements[0].expr
    b = gradcli.parse("relu(b + a)").statements[0].expr
    assert isinstance(a, Call) and isinstance(b, Call)
    assert a.func == b.func == "relu"
    (x,), (y,) = a.args, b.args
    assert isinstance(x, Binary) and isinstance(y, Binary) and x.op == y.op == "+"
    assert [x.left.id, x.right.id] == [y.left.id, y.right.id] == ["b", "a"]


def test_caret_power_is_double_star():
    expr = gradcli.parse("a ^ 2").statements[0].expr
    assert isinstance(expr, Binary) and expr.op == "**"
    assert isinstance(expr.right, Num) and expr.right.value == 2.0


# ------------------------------------------------------------------- errors

def error(program: str, **inputs: float) -> GradcliError:
    with pytest.raises(GradcliError) as e:
        gradcli.build(gradcli.parse(program), inputs)
    return e.value


def test_unclosed_paren_at_the_end():
    e = error("(a*b+")
    assert isinstance(e, ParseError) and e.exit_code == 2
    assert e.render("(a*b+") == (
        "syntax error: expected a number, a name, `(` or a sign, found the end of the input\n"
        " --> 1:6\n"
        "  |\n"
        "1 | (a*b+\n"
        "  |      ^\n"
        "  = note: the `(` at 1:1 is never closed")


def test_unclosed_paren_before_a_newline():
    e = error("y = (a*b\nz = 2")
    assert e.message == "expected an operator or `)`, found the end of the line"
    assert str(e.pos) == "1:9"
    assert e.notes == ["the `(` at 1:5 is never closed"]


def test_two_values_without_an_operator():
    e = error("a b")
    assert e.message == "expected an operator, `=` or the end of the statement, found the name `b`"
    assert str(e.pos) == "1:3"
    assert e.notes == ["two values need an operator between them, such as `*`"]


def test_stray_close_paren():
    e = error("a)")
    assert e.message.endswith("found `)`")
    assert e.notes == ["there is no `(` for this `)` to close"]


def test_unexpected_character():
    e = error("a $ b")
    assert e.message.startswith("unexpected character `$`")
    assert str(e.pos) == "1:3"


def test_error_on_a_later_line_counts_columns_in_characters():
    e = error("x = 1\n# ünïcödé\ny = é")
    assert e.message.startswith("unexpected character `é`")
    assert str(e.pos) == "3:5"


@pytest.mark.parametrize("program", ["", "\n", "# only a comment", ";;", " ; \n ;"])
def test_empty_program(program):
    e = error(program)
    assert isinstance(e, ParseError)
    assert e.message == "the program has no statement"


@pytest.mark.parametrize("program", ["1_0", "0x10", "2a", "1.2.3", "1e", "1e+"])
def test_numbers_the_language_rejects(program):
    e = error(program)
    assert isinstance(e, ParseError)


def test_lark_token_names_never_show():
    for program in ["(a*b+", "a b", "a)", "a = = b", "exp(", "a.", "a.exp(", "a,b", "*a", "a +* b", "a ** ", "x.1"]:
        text = error(program).render(program)
        for name in ("RPAR", "LPAR", "__ANON", "$END", "_SEP", "NAME", "NUMBER", "ADDOP", "MULOP", "Token("):
            assert name not in text, (program, text)


def test_unknown_function_suggests_the_closest():
    e = error("tanhh(x)", x=1)
    assert isinstance(e, ProgramError) and e.exit_code == 2
    assert e.message == "unknown function `tanhh`"
    assert e.notes == ["did you mean `tanh`, `tan` or `atan`?"]
    assert str(e.pos) == "1:1"


def test_unknown_method_suggests_the_closest():
    e = error("x.sigmoidd()", x=1)
    assert e.message == "unknown function `sigmoidd`" and str(e.pos) == "1:3"
    assert "`sigmoid`" in e.notes[0]


def test_function_name_is_not_a_value():
    e = error("exp + 1")
    assert e.message == "`exp` is a function, not a value"
    e = error("exp = 3")
    assert e.message == "`exp` is a function and cannot be assigned to"


def test_wrong_number_of_arguments():
    assert error("exp(a, b)", a=1, b=2).message == "`exp` takes 1 argument, not 2"
    assert error("max(a)", a=1).message == "`max` takes 2 arguments, not 1"


# --------------------------------------------------------------- properties

@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab1.e+-*/^()=;# \n\trelu(x)", max_size=30))
def test_any_text_parses_or_gives_a_clean_error(text):
    try:
        program = gradcli.parse(text)
    except ParseError as e:
        assert e.pos is None or (e.pos.line >= 1 and e.pos.column >= 1)
        rendered = e.render(text)
        assert rendered.startswith("syntax error: ")
        assert "Traceback" not in rendered
    else:
        assert program.statements


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_unicode_text_parses_or_gives_a_clean_error(text):
    try:
        gradcli.parse(text)
    except ParseError as e:
        if e.message == "the program has no statement":
            assert not text.strip(" \t\r\n;\ufeff") or text.lstrip().startswith("#")
            return
        assert e.pos is not None
        lines = text.lstrip("\ufeff").split("\n")
        assert 1 <= e.pos.line <= len(lines) + 1
        e.render(text)


OPS = ["+", "-", "*", "/", "**"]


@st.composite
def trees(draw, depth=0):
    """(text with every operation parenthesised, expected value) pairs."""
    if depth > 3 or draw(st.booleans()):
        v = draw(st.integers(1, 9))
        return str(v), float(v)
    kind = draw(st.sampled_from(["bin", "neg", "call"]))
    if kind == "neg":
        text, v = draw(trees(depth + 1))
        return f"(-{text})", -v
    if kind == "call":
        text, v = draw(trees(depth + 1))
        return f"abs({text})", abs(v)
    op = draw(st.sampled_from(OPS))
    (lt, lv), (rt, rv) = draw(trees(depth + 1)), draw(trees(depth + 1))
    if op == "/" and rv == 0 or op == "**":
        op = "*"
    v = {"+": lv + rv, "-": lv - rv, "*": lv * rv, "/": lv / rv if rv else 0.0}[op]
    return f"({lt} {op} {rt})", v


@settings(max_examples=300, deadline=None)
@given(trees())
def test_fully_parenthesised_programs_evaluate_as_python_does(tree):
    text, expected = tree
    assert value(text) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["-", "+"]), max_size=6), st.sampled_from(OPS), st.sampled_from(OPS),
       st.integers(1, 4), st.integers(1, 4), st.integers(1, 4))
def test_precedence_matches_python(signs, op1, op2, a, b, c):
    """Without parentheses, gradcli reads arithmetic as Python does."""
    text = f"{''.join(signs)}{a} {op1} {b} {op2} {c}"
    try:
        expected = eval(text)
    except ZeroDivisionError:  # pragma: no cover - operands are never zero
        return
    if isinstance(expected, complex):
        return
    assert value(text) == pytest.approx(expected, rel=1e-12)


def test_after_a_dot_a_function_name_is_expected():
    e = error("x.1", x=1)
    assert e.message == "expected a function name, found the number `1`"
    assert e.notes == []


def test_missing_input_that_looks_like_a_typo():
    e = error("rate = 2; y = rat * 3")
    assert e.message == "missing input: `rat`"
    assert str(e.pos) == "1:15"
    assert e.notes == ["give rat=VALUE after the program", "for `rat`, did you mean `rate`?"]


def test_paused_gc_hands_back_no_young_generation_and_cycles_stay_collectable():
    """syntax.paused_gc: the objects made inside go to the oldest generation
    on the way out (no collection of them all at the next allocation), and
    a cycle made inside is still collected by the next full collection."""
    import gc
    import weakref

    from gradcli.syntax import paused_gc

    class Node:
        pass

    collections = []

    def seen(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    assert gc.isenabled()
    gc.collect()
    gc.callbacks.append(seen)
    try:
        with paused_gc():
            assert not gc.isenabled()
            made = [[i] for i in range(20_000)]
            a, b = Node(), Node()
            a.other, b.other = b, a
            alive = weakref.ref(a)
        after = [[i] for i in range(100)]                  # allocations: no collection of the 20,000
    finally:
        gc.callbacks.remove(seen)
    assert gc.isenabled() and collections == [] and len(after) == 100
    assert gc.get_freeze_count() == 0
    del a, b, made
    assert alive() is not None
    gc.collect()
    assert alive() is None
