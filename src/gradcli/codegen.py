"""Code generation: the value-and-gradient function of a program, written in
Python, NumPy, C, JavaScript or SQL (contract section 5).

One generator, five spellings. The graph is the one ``diff`` builds
(symbolic.py): the program's nodes copied as they are, then the backward
pass run on nodes, for every ``--wrt`` name at once, with equal parts shared
and the same exact simplifications. So evaluating it performs the float
operations ``grad`` performs, in the same order: the Python and the C agree
with ``grad --json`` bit for bit (same libm), the others within the
contract's tolerance. The printer walks that graph once (a plan: which nodes
get a statement of their own, and their names) and spells each op from
``ops.SPELLINGS``, the table beside the op rows with a template per
language, the way unparse.py spells gradcli and LaTeX. Where a row is
undefined (``ops.Op.undefined``), the guards are that row's conditions,
run once over ``_Term``s to a small tree that each language spells and
that folds where operands are numbers (``x ** -1`` is guarded by
``x == 0.0`` alone): no second copy of a domain here. ``js_rules()`` is the
same printer's ``js`` column for the live page (page.py): one generator for
derivatives as code, two uses.

What the output looks like:

- Forward values keep their source names (``c``, then ``c_2`` when the
  program reassigns ``c``), adjoints are ``d_c``; other parts used more than
  once are ``t1, t2, ...``; a part used once is written inline.
- One comment per source statement (``3:1  c = a + b``), quoted whole once
  where the forward sweep computes it; the adjoint sweep and the messages
  quote its first 60 characters (output linear in the program). Quoted
  text is printable ASCII (``safe_text``): no character a compiler could
  read as a line break, no comment ending in a backslash, no trigraph.
- Where an operation is undefined: a guard before it names the operation and
  its place (``log`` of a number that is not positive, a division by zero,
  ``**`` of zero to a negative power or of a negative number to a fractional
  one), and every statement whose result may overflow is checked after it.
  The operands of a guarded operation, and of an operation that could turn a
  non-finite operand into a finite result (``tanh``, ``relu``, a divisor...),
  get a name of their own, so the checks see every non-finite value ``grad``
  would stop at. The reported gradients are checked at the end.
- JavaScript is a script that also sets ``module.exports`` (``require``
  and Node's ``import`` take it); ``esm=True`` (``--esm``) writes ``export
  function``. Comments at the head of the adjoint explain the forms a
  reader cannot guess (``d_d_2``, tanh's one-exp derivative, pow's TwoSum,
  erf's Dekker product), and one the ``+ 0.0`` of the results.
- Names (issue 21): in C and SQL every name of the program gets the prefix
  ``v_``, which no generated name has (C's headers define macros of any
  spelling: ``M_PI``, ``HUGE_VAL``, ``errno``); in Python, NumPy and
  JavaScript a name that is a keyword, a builtin or a global the code reads
  gets a trailing ``_``. SQL refuses result columns that would coincide
  (``value``, ``grad_x``, ``X`` and ``x``: SQL folds case).
- No expression nests deeper than ``DEPTH_LIMIT`` operations (CPython's
  compiler recursed on a 3,000-term sum), an operation on numbers alone is
  its value as grad computes it (GCC folds ``tanh(0.84)`` with MPFR, 1 ulp
  from glibc), and C longer than 600 lines is static parts of
  ``C_PART_LINES`` (gcc -O2: 1,000 ops 1.0 s, 10^4 9.3 s, 10^5 102 s,
  linear; one function of 20,000 tanh statements took 136 s).
- C past ``C_TABLE_OPS`` program operations is a table (``_C.table``):
  rows of ints, a row per statement whose shape recurs (its case the
  statement's own C, within ``TABLE_CASE_OPS`` operations of cases), else
  per operation, run by a ``switch`` in a loop; the same operations on the
  same doubles, the same check numbers. gcc -O2 at 10^4 ops 0.2 s, at 10^5
  1.4 to 2.2 s (a tanh chain; the MLP of 67,135 ops 0.5 s), and it runs as
  fast as the statements (bench/README.md).

Size: the generated code's operation count (``Plan.op_count``: arithmetic
and calls, forward and adjoint together) is linear in the program whatever
its sharing, and at most 4 times the program's for the tests' random
programs without ``tanh``, ``max``/``min`` or a variable exponent. Those
rules of ops.py take more (``tanh``: one exp, ``4*(1/q)*(e/q)``, 9
operations with tanh; ``max``: ``(1 ± sign(a - b)) / 2``; ``x**y``: 26),
and bit-for-bit agreement means performing them; the bound is tested op by
op. Timed in C (bench/codegen.py --c), the gradient costs 1.2 to 1.4 times
the value alone on a tanh chain whose gradient stays normal, up to 10^5
operations, 2.95 to 3.6 on the MLP; on a chain whose gradient underflows
to the smallest subnormal and stays there (w = 0.9), 2.8 at 10^4 and 4.3
at 10^5, all of it subnormal arithmetic that grad performs too (1.75 with
flush-to-zero, which is not bit for bit). Python (``--cost``): 3.1 to 4.0;
NumPy 2.5 to 12 (its times move 2x with the load: it pays per array pass).

C and Python agree bit for bit where Python's ``math`` calls the C library:
every op but ``hypot`` (and ``asinh``, whose derivative uses it), for which
CPython has its own algorithm; the C agrees to 1e-15 there. bench/codegen.py compares
sizes and times with SymPy's diff + cse + printer.

Known limits (stated, tested where they can be):

- A statement whose check fails is blamed as a whole (its text and its last
  operation's place): which operation inside it overflowed first is not
  recomputed. Guards name their own operation exactly.
- A non-finite reported gradient is named with the operations whose
  derivatives can be non-finite (the rows marked ``steep``: ``/``, ``**``,
  ``sqrt``, ``log``, ``log1p``, ``hypot``) on its way, not the one that was.
- SQL (``--dialect duckdb|postgres|sqlite``, each tested in its engine):
  NULL where ``grad`` fails on the guarded domains and on values that are
  not finite. PostgreSQL raises on a float overflow and on an underflow to
  0, so there every ``+ - * / ** exp`` is a form that compares first
  (``ops.Spelling.dialects``; its operands are atoms) and gives NULL or 0.
  Up to SQL_QUERY_LEVELS steps deep one SELECT of MATERIALIZED CTEs;
  deeper, a script of temporary tables (``_SQL.script``): one SELECT of
  chained CTEs stops near 1,000 steps in every engine.
- Python's adjoint: where a statement can raise (a division by a value no
  guard keeps from 0, ``math.pow``, ``math.log``), it is NaN instead, as
  grad makes a gradient NaN where a chain rule fails.
"""

from __future__ import annotations

import builtins
import json
import keyword
import math
import re
from typing import NamedTuple, Sequence

from .build import resolve
from .engine import Graph, require_ops
from .errors import InputError
from .ops import OPS, PY_EXP_LIMIT, SPELLINGS, TARGETS, FloatMath, Spelling, Undefined, compute
from .safeio import printable
from .symbolic import Sym, Tape
from .unparse import _write
from .syntax import Pos

LANGS = TARGETS


# ------------------------------------------------------------------ guards

# A domain row of ops.py (``undefined``: ``(where(m, *operands), why)``) is
# run once over the terms below: it builds the condition as a small tree,
# which the printers spell in each language and fold where operands are
# numbers. So the guards are the rows' own conditions, never a second copy.

_CMP = {"python": {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="},
        "sql": {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}}
_CMP["c"] = _CMP["js"] = _CMP["numpy"] = _CMP["python"]
_NEGATED = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_LOGIC = {"python": (" and ", " or ", "not "), "c": (" && ", " || ", "!"), "js": (" && ", " || ", "!"),
          "sql": (" AND ", " OR ", "NOT ")}
_LOGIC["numpy"] = _LOGIC["python"]
_CALL = {"python": "math.{}", "numpy": "np.{}", "c": "{}", "js": "Math.{}", "sql": "{}"}
_PY_CMP = {"==": float.__eq__, "!=": float.__ne__, "<": float.__lt__, "<=": float.__le__,
           ">": float.__gt__, ">=": float.__ge__}


class _Term:
    """A number in a domain's condition: an operand (``arg``), a number, a
    call (``m.floor(y)``) or arithmetic."""

    __slots__ = ("kind", "parts")

    def __init__(self, kind: str, *parts: object):
        self.kind, self.parts = kind, parts

    def _cmp(self, sym: str, other: object) -> _Cond:
        return _Cond("cmp", sym, self, _term(other))

    def __eq__(self, o): return self._cmp("==", o)   # type: ignore[override]
    def __ne__(self, o): return self._cmp("!=", o)   # type: ignore[override]
    def __lt__(self, o): return self._cmp("<", o)
    def __le__(self, o): return self._cmp("<=", o)
    def __gt__(self, o): return self._cmp(">", o)
    def __ge__(self, o): return self._cmp(">=", o)
    def __add__(self, o): return _Term("bin", "+", self, _term(o))
    def __sub__(self, o): return _Term("bin", "-", self, _term(o))
    def __mul__(self, o): return _Term("bin", "*", self, _term(o))
    def __neg__(self): return _Term("bin", "-", _Term("num", 0.0), self)
    __hash__ = object.__hash__

    def value(self, known: Sequence[float | None]) -> float | None:
        """The term's value given the operands that are numbers, else None."""
        if self.kind == "num":
            return self.parts[0]
        if self.kind == "arg":
            return known[self.parts[0]]
        if self.kind == "call":
            inner = self.parts[1].value(known)
            return None if inner is None else float(getattr(FloatMath, self.parts[0])(inner))
        sym, a, b = self.parts
        x, y = a.value(known), b.value(known)
        return None if x is None or y is None else {"+": x + y, "-": x - y, "*": x * y}[sym]

    def template(self, lang: str) -> str:
        if self.kind == "num":
            text = _number(self.parts[0], lang)
            return text.replace(".0e0", "e0") if lang == "sql" else text    # 0e0, as a person writes it
        if self.kind == "arg":
            return "{%d}" % self.parts[0]
        if self.kind == "call":
            return _CALL[lang].format(self.parts[0]) + f"({self.parts[1].template(lang)})"
        sym, a, b = self.parts
        return f"({a.template(lang)} {sym} {b.template(lang)})"

    def args(self) -> set[int]:
        if self.kind == "arg":
            return {self.parts[0]}
        return set().union(*(p.args() for p in self.parts if isinstance(p, _Term)))


def _term(x: object) -> _Term:
    if isinstance(x, _Term):
        return x
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return _Term("num", float(x))
    raise TypeError(f"a domain's condition uses something that is not a number: {x!r}")


class _Cond:
    """A domain's condition: a comparison, or ``&`` / ``|`` of conditions."""

    __slots__ = ("kind", "parts")

    def __init__(self, kind: str, *parts: object):
        self.kind, self.parts = kind, parts

    def __and__(self, other: _Cond) -> _Cond: return _Cond("and", self, other)
    def __or__(self, other: _Cond) -> _Cond: return _Cond("or", self, other)

    def __bool__(self) -> bool:
        raise TypeError("a domain's condition is data: combine comparisons with & and |, not and, or, if")

    def truth(self, known: Sequence[float | None]) -> bool | None:
        """True or False where the operands that are numbers decide it, else None."""
        if self.kind == "cmp":
            sym, a, b = self.parts
            x, y = a.value(known), b.value(known)
            return None if x is None or y is None else _PY_CMP[sym](x, y)
        sides = [p.truth(known) for p in self.parts]
        decisive = self.kind == "or"          # True decides an or, False an and
        if decisive in sides:
            return decisive
        return None if None in sides else not decisive

    def template(self, lang: str, known: Sequence[float | None] = (), negate: bool = False) -> str:
        """The condition with ``{0}``, ``{1}`` for the operands; ``negate``:
        where it does not hold (a comparison flipped, else ``not (...)``).
        ``known``: the operands that are numbers; the parts they decide are
        left out where others remain (``x ** -1``: ``x == 0.0``)."""
        if self.kind == "cmp":
            sym, a, b = self.parts
            sym = _NEGATED[sym] if negate else sym
            return f"{a.template(lang)} {_CMP[lang][sym]} {b.template(lang)}"
        parts = list(self.parts)
        if known:
            idle = self.kind == "and"          # a True side changes nothing in an and, a False one in an or
            parts = [p for p in parts if p.truth(known) is not idle] or parts[:1]
            if len(parts) == 1:
                return parts[0].template(lang, known, negate)
        joined = _LOGIC[lang][self.kind == "or"].join(
            f"({p.template(lang, known)})" if p.kind != "cmp" else p.template(lang, known) for p in parts)
        return f"{_LOGIC[lang][2]}({joined})" if negate else joined

    def args(self) -> set[int]:
        return set().union(*(p.args() for p in self.parts if isinstance(p, (_Term, _Cond))))


class _Terms:
    """The namespace ``m`` a domain's condition is run over: every function a call."""

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda x: _Term("call", name, _term(x))


class Guard(NamedTuple):
    """A condition under which an operation is undefined, from its row."""
    cond: _Cond
    reason: str         # in the engine's words (ops.py)
    exception: str      # Python's exception class for it: the one Python's own operators raise

    def possible(self, known: Sequence[float | None]) -> bool:
        """Given the operands that are numbers (None for the others): can it fail?"""
        return self.cond.truth(known) is not False

    def template(self, lang: str, known: Sequence[float | None] = (), negate: bool = False) -> str:
        return self.cond.template(lang, known, negate)


def _guard(op_name: str, where, reason: str, exception: str | None = None) -> Guard:
    cond = where(_Terms(), *(_Term("arg", i) for i in range(OPS[op_name].arity)))
    if not isinstance(cond, _Cond):
        raise TypeError(f"the domain of {op_name!r} is not a comparison")
    if exception is None:
        exception = "ZeroDivisionError" if reason.startswith("division by zero") else "ArithmeticError"
    return Guard(cond, reason, exception)


EXP_LIMIT = PY_EXP_LIMIT

# Each op's guards, from its row's domain; and where a language's own
# function raises past a limit, that language's extra guard, from the op's
# spelling (Python's math.exp raises OverflowError where C's and
# JavaScript's give inf: ``ops.SPELLINGS["exp"].guards``).
GUARDS: dict[str, tuple[Guard, ...]] = {name: tuple(_guard(name, where, why) for where, why in op.undefined)
                                        for name, op in OPS.items()}
_LANG_GUARDS = {(lang, name): tuple(_guard(name, where, why, exception) for where, why, exception in rows)
                for name, s in SPELLINGS.items() for lang, rows in s.guards.items()}


def guards(op_name: str, lang: str) -> tuple[Guard, ...]:
    return GUARDS.get(op_name, ()) + _LANG_GUARDS.get((lang, op_name), ()) if op_name in _GUARDED else ()


# Operands that must be names or numbers: the spelling's, and every operand a guard reads.
_GUARDED = {name for name, gs in GUARDS.items() if gs} | {op for _, op in _LANG_GUARDS}
_ATOMS = {name: set(s.atoms).union(*(g.cond.args() for g in GUARDS[name]),
                                   *(g.cond.args() for lang in s.guards for g in _LANG_GUARDS[lang, name]))
          for name, s in SPELLINGS.items()}

# Python: the ops whose spelling raises (instead of giving inf or NaN).
_PY_RAISES = {name for name, s in SPELLINGS.items() if s.raises.get("python")}
# and those that may still overflow once their guards have passed (``**``)
_PY_OVERFLOWS = {name for name, s in SPELLINGS.items()
                 if "OverflowError" in s.raises.get("python", ()) and "python" not in s.guards}

# Not an op of the language: ``{1}`` where ``{0}`` is not 0, else 0; it
# carries the corner conventions of the rules (``CodeTape``).
_IFNZ = Spelling({"python": "({1} if {0} != 0.0 else 0.0)", "numpy": "np.where({0} != 0.0, {1}, 0.0)",
                  "c": "({0} != 0.0 ? {1} : 0.0)", "js": "({0} != 0 ? {1} : 0)",
                  "sql": "CASE WHEN {0} <> 0e0 THEN {1} ELSE 0e0 END"})
_SPELLED = {**SPELLINGS, "ifnz": _IFNZ}
_ATOMS["ifnz"] = set()
GUARDS["ifnz"] = ()



# GCC rewrites pow(x, 2.0) as x*x and pow(x, -1.0) as 1/x even without
# -ffast-math; glibc's pow is not correctly rounded (0.52 ulp), so the two can
# differ in the last bit (pow(0.20842058207626302, 2.0)). A volatile
# exponent keeps the call to libm's pow, which is what grad (math.pow) calls.
_C_FOLDED_POWERS = (2.0, -1.0)

class _Nonzero:
    """``x != 0`` asked by a rule on codegen's tape: true (the general
    branch, as on any symbolic tape), and it remembers ``x``."""

    __slots__ = ("node",)

    def __init__(self, node: Sym):
        self.node = node

    def __bool__(self) -> bool:
        return True


class CodeTape(Tape):
    """The tape code is generated from. A rule's corner convention,
    ``m.where(x != 0, a, 0.0)`` (``**``'s: d/dy is 0 at x = 0), becomes the
    node ``ifnz(x, a)``, which every target spells as a conditional: the
    generated code follows the row at the corner too, read from the row."""

    def differs(self, node: Sym, other: object) -> bool:
        if isinstance(other, (int, float)) and other == 0 and node.kind != "const":
            return _Nonzero(node)      # type: ignore[return-value]
        return super().differs(node, other)

    def where(self, known: bool, a: object, b: object) -> Sym:
        if isinstance(known, _Nonzero) and isinstance(b, (int, float)) and b == 0:
            return self.ifnz(known.node, self.lift(a))
        return super().where(known, a, b)

    def sech2(self, x: Sym) -> Sym:
        """tanh's derivative with one exp, as ``ops.FloatMath.sech2``
        computes it (the same bits as 4*sigmoid(2x)*sigmoid(-2x), which
        spelled out takes 6 exps): e = exp(-|2x|), q = 1 + e, then
        ``4*(1/q)*(e/q)``. grad multiplies ``4*(e/q)*(1/q)`` where 2x < 0:
        the same bits, with no branch here, since 4*(1/q) and 4*(e/q) are
        exact (a power of two, no overflow), so both products are 4ab
        rounded once (and 2*10^6 random x agree, subnormal e included)."""
        z = self.node("*", 2.0, x)
        e = self.node("exp", self.node("neg", self.node("abs", z)))
        q = self.node("+", 1.0, e)
        a, b = self.node("/", 1.0, q), self.node("/", e, q)
        return self.node("*", self.node("*", 4.0, a), b)

    def ifnz(self, cond: Sym, value: Sym) -> Sym:
        """The node ``ifnz(cond, value)``: ``value`` where ``cond`` is not 0,
        else 0. Not an op of the language (a Value refuses it), so made by
        hand, once."""
        key = ("ifnz", cond.index, value.index)
        node = self._shared.get(key)
        if node is None:
            node = Sym(self, 0.0, pos=self.at)
            node.op, node.children, node.kind = "ifnz", (cond, value), "op"
            node = self._shared[key] = self._push(node)
        return node


_INFIX = {"+": (1, 1, 2), "-": (1, 1, 2), "*": (2, 2, 3), "/": (2, 2, 3)}   # level, left, right
_ATOM, _SIGN = 5, 3



# ------------------------------------------------------------------ names

_C_WORDS = set("""auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void
volatile while _Bool _Complex _Imaginary in out exp log pow sqrt sin cos tan tanh fabs floor log1p isfinite
NAN INFINITY math""".split())
_JS_WORDS = set("""break case catch class const continue debugger default delete do else enum export extends
false finally for function if implements import in instanceof interface let new null package private protected
public return static super switch this throw true try typeof var void while with yield await arguments eval
undefined NaN Infinity Math Number RangeError""".split())
# DuckDB's reserved, type and column-name keywords, PostgreSQL's and Spark's
# reserved words, and the generated query's own column names
_SQL_WORDS = set("""all analyse analyze and anti any array as asc asof asymmetric at authorization between bigint
binary bit boolean both by case cast char character check coalesce collate collation column columns
concurrently constraint create cross current_date current_time current_timestamp current_user dec decimal
default deferrable desc describe distinct do double else end except exists extract false fetch float for
foreign freeze from full generated glob grant group grouping grouping_id having ilike in initially inner inout
int integer intersect interval into is isnull join lambda lateral leading left like limit localtime
localtimestamp map national natural nchar none not notnull null nullif numeric offset on only or order out outer
over overlaps overlay partition pivot pivot_longer pivot_wider placing position positional precision primary
qualify range real references returning right row rows select semi session_user setof show similar smallint
some struct substring summarize symmetric table tablesample then time timestamp to trailing treat trim true
try_cast tuple union unique unpack unpivot user using values varchar variadic verbose when where window with
xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize
xmltable value ok""".split()) | set("""abort action add after alter always attach autoincrement before begin cascade
conflict current database deferred delete detach drop each exclude exclusive explain fail filter first following
groups if ignore immediate index indexed insert instead key last match materialized no nothing nulls of others plan
pragma preceding query raise recursive regexp reindex release rename replace restrict rollback rowid savepoint set
temp temporary ties transaction trigger unbounded update vacuum view virtual without""".split())   # SQLite's
# Python: every builtin (the code raises OverflowError, reads max, abs,
# tuple...), the modules it imports and NumPy's row mask
_PY_WORDS = set(keyword.kwlist) | set(dir(builtins)) | {"math", "np", "bad"}
USER_PREFIX = {"c": "v_", "sql": "v_"}
RESERVED = {"python": _PY_WORDS, "numpy": _PY_WORDS, "c": _C_WORDS, "js": _JS_WORDS, "sql": _SQL_WORDS}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _number(x: float, lang: str) -> str:
    text = repr(float(x))
    if lang == "sql" and "e" not in text:
        text += "e0"      # a DOUBLE in DuckDB and Spark, not a DECIMAL
    if lang == "js" and text.endswith(".0") and "e" not in text:
        text = text[:-2]
    return text


# ------------------------------------------------------------------ the plan

class _Statement(NamedTuple):
    """A source statement: where it starts and its text (one line)."""
    pos: Pos
    text: str


_QUOTE_LIMIT = 60     # characters of a statement a message quotes (a comment quotes it whole, once)


def safe_text(text: str, limit: int | None = None) -> str:
    """``text`` as printable ASCII that no target's compiler can read as
    code in a comment or a string: every character outside ``' '..'~'``,
    and the backslash, as an escape (``\\x0c``, ``\\u2028``, ``\\x5c``), and a
    ``?`` after a ``?`` as ``\\x3f`` (no C trigraph such as ``??/``). So it
    never ends in a backslash and holds no line break of any language (C
    splices a line ending in ``\\``; Python, JavaScript and SQL each end a
    comment at their own line breaks). ``limit``: at most that many
    characters of ``text``, then ``...``."""
    cut = limit is not None and len(text) > limit
    if cut:
        text = text[:limit]
    out = []
    last = ""
    for c in text:
        code = ord(c)
        if c == "?" and last == "?":
            piece = "\\x3f"
        elif 0x20 <= code < 0x7F and c != "\\":
            piece = c
        elif code < 0x100:
            piece = f"\\x{code:02x}"
        elif code < 0x10000:
            piece = f"\\u{code:04x}"
        else:
            piece = f"\\U{code:08x}"
        out.append(piece)
        last = piece[-1]
    return "".join(out) + ("..." if cut else "")


def _statements(source: str):
    """A function from a position to its source statement. Lines are the
    parser's (split at ``\\n`` only: ``str.splitlines`` also splits at form
    feeds and the like, which would quote the wrong line)."""
    lines = [line[:-1] if line.endswith("\r") else line for line in source.split("\n")]
    cache: dict[int, list[tuple[int, _Statement]]] = {}

    def find(pos: Pos | None) -> _Statement | None:
        if pos is None or not 1 <= pos.line <= len(lines):
            return None
        parts = cache.get(pos.line)
        if parts is None:
            text = lines[pos.line - 1].split("#", 1)[0]
            parts, start = [], 0
            for piece in text.split(";"):
                stripped = piece.strip()
                if stripped:
                    column = start + len(piece) - len(piece.lstrip()) + 1
                    parts.append((start + len(piece), _Statement(Pos(pos.line, column), stripped)))
                start += len(piece) + 1
            cache[pos.line] = parts
        for end, statement in parts:
            if pos.column <= end + 1:
                return statement
        return parts[-1][1] if parts else None
    return find


DEPTH_LIMIT = 80
C_PART_LINES = 300
TABLE_CASE_OPS = 2_000   # operations in the table's cases at most (its statements that recur)
C_TABLE_OPS = 3_000      # program operations past which C is a table run by a loop (compiles in seconds)


class Plan:
    """The generated function, before spelling: the program's graph and its
    derivative on one tape, which nodes are written as statements, in what
    order, and under which names."""

    def __init__(self, graph: Graph, wrt: Sequence[str] | None = None, defaults: Sequence[str] = (),
                 atoms: dict[str, set[int]] | None = None):
        names = list(graph.leaves) if wrt is None else resolve(graph, list(wrt))
        self.graph = graph
        self.atoms = _ATOMS if atoms is None else atoms     # op -> the operands that must be names or numbers
        self.wrt = names
        self.tape = tape = CodeTape(keep_nan=True)
        copies = tape.copy(graph, defaults)
        self.program = copies[:]          # index in graph.nodes -> copy
        self.is_program = bytearray(len(copies) + 1)
        self.output = copies[graph.output.index]
        self.leaves = [copies[leaf.index] for leaf in graph.leaves.values()]
        targets = [copies[graph.node(n).index] for n in names]
        self.adjoint: dict[int, Sym] = {}
        self.gradients = tape.differentiate(self.output, targets, self.adjoint)
        self.size = len(tape.nodes)
        self.is_program = bytearray(self.size)
        for c in copies:
            self.is_program[c.index] = 1
        self._plan(copies)

    def _plan(self, copies: list[Sym]) -> None:
        from .engine import needed

        tape = self.tape
        roots = [self.output, *self.gradients] + [c for c in copies if c.kind == "op"]
        need = needed(tape.nodes, roots)
        self.nodes = [n for n in tape.nodes if need[n.index]]
        ops = [n for n in self.nodes if n.kind == "op"]
        uses = [0] * self.size
        atom = bytearray(self.size)
        for node in ops:
            atoms = self.atoms[node.op]
            for i, child in enumerate(node.children):
                uses[child.index] += 1
                if i in atoms:
                    atom[child.index] = 1
        for root in [self.output, *self.gradients]:
            uses[root.index] += 1
        keep = bytearray(self.size)
        for root in [self.output, *self.gradients]:
            keep[root.index] = root.kind == "op"
        for node in ops:
            i = node.index
            if uses[i] > 1 or atom[i]:
                keep[i] = 1
            elif self.is_program[i] and (node.label or uses[i] == 0):
                keep[i] = 1
        # adjoints of named nodes keep the name: d_c
        named_adjoints: dict[int, int] = {}    # adjoint node -> program node
        for node in reversed(copies):
            a = self.adjoint.get(node.index)
            if a is not None and a.kind == "op" and not self.is_program[a.index] and (node.label or node.is_leaf):
                keep[a.index] = 1
                named_adjoints.setdefault(a.index, node.index)
        # An operation on numbers alone is written as its value, computed as
        # grad computes it (ops.compute): GCC folds libm calls on constants
        # with MPFR, correctly rounded, where glibc's tanh(0.84) is 1 ulp
        # off; so the C computes no libm call on a constant. Where the
        # operation fails (log(-1), exp(1000)) it stays, for its guard or check.
        folded: dict[int, float] = {}
        for node in ops:
            if node.op not in OPS or not all(c.kind == "const" or c.index in folded for c in node.children):
                continue
            args = [c.data if c.kind == "const" else folded[c.index] for c in node.children]
            try:
                value = compute(OPS[node.op], args)
            except (Undefined, ArithmeticError, ValueError):
                continue
            if math.isfinite(value):
                folded[node.index] = value
        self.folded = folded
        for node in ops:       # a number needs no name, unless the program gave it one
            i = node.index
            if i in folded and keep[i] and not (self.is_program[i] and node.label) \
                    and node is not self.output and i not in named_adjoints:
                keep[i] = 0
        # No expression deeper than DEPTH_LIMIT operations: past it a node
        # gets a name (a 20,000-term sum is 250 statements), so that
        # CPython's compiler, gcc, node and the SQL engines take any program.
        depth = [0] * self.size
        for node in ops:
            i = node.index
            if keep[i]:
                continue
            d = 1 + max((depth[c.index] for c in node.children if not keep[c.index]), default=0)
            if d > DEPTH_LIMIT:
                keep[i], d = 1, 0
            depth[i] = d
        self.keep = keep
        self.statements = [n for n in ops if keep[n.index]]
        self.uses = uses
        self.named_adjoints = named_adjoints

    def names(self, lang: str) -> dict[int, str]:
        """Every kept node's and leaf's name in ``lang``."""
        reserved = RESERVED[lang]
        fold = (lambda s: s.lower()) if lang == "sql" else (lambda s: s)
        prefix = USER_PREFIX.get(lang, "")
        taken = {fold(prefix + n.label) for n in self.tape.nodes if n.label} | {fold(w) for w in reserved}
        given: dict[int, str] = {}
        used: set[str] = set()

        next_k: dict[str, int] = {}    # the next suffix to try for a name (no rescans: linear)

        def free(name: str, wanted: str) -> bool:
            key = fold(name)
            return key not in used and key not in reserved and (name == wanted or key not in taken)

        def claim(index: int, wanted: str) -> None:
            name = wanted
            if not free(name, wanted):
                name = wanted + "_"              # a keyword: `lambda` -> `lambda_`
                if fold(wanted) not in reserved or not free(name, name):
                    k = next_k.get(wanted, 2)
                    while not free(f"{wanted}_{k}", ""):
                        k += 1
                    next_k[wanted] = k + 1
                    name = f"{wanted}_{k}"
            used.add(fold(name))
            given[index] = name

        # C and SQL: a user's name gets the prefix (USER_PREFIX), which no
        # generated name has: C's headers define macros of any spelling
        # (M_PI, HUGE_VAL, FP_ZERO, errno), SQL's columns fold case.
        prefix = USER_PREFIX.get(lang, "")
        for leaf in self.leaves:
            claim(leaf.index, prefix + leaf.label)
        counter = 0
        for node in self.statements:
            i = node.index
            if self.is_program[i] and node.label:
                claim(i, prefix + node.label)
        for node in self.statements:
            i = node.index
            if i in given:
                continue
            source = self.named_adjoints.get(i)
            if source is not None:
                base = given[source][len(prefix):] if source in given else self.tape.nodes[source].label
                claim(i, "d_" + base)
                continue
            counter += 1
            while not free(f"t{counter}", ""):
                counter += 1
            claim(i, f"t{counter}")
        return given

    def op_count(self) -> int:
        """Operations written, forward and adjoint: arithmetic and function
        calls (a select such as relu's counts as one). Guards and checks are
        not counted, nor are sign flips (exact, and free where they meet a
        sum) and the rules' own corner branches (``ifnz``)."""
        return len([n for n in self.nodes if n.kind == "op" and n.op not in ("neg", "ifnz")])

    def program_op_count(self) -> int:
        return len([n for n in self.graph.nodes if n.children])


# ------------------------------------------------------------------ printing

def _pieces(template: str) -> list:
    out: list = []
    for part in re.split(r"(\{\d\})", template):
        if re.fullmatch(r"\{\d\}", part):
            before = out[-1] if out and isinstance(out[-1], str) else ""
            out.append((int(part[1]), _ATOM if before.endswith("-") else 0))
        elif part:
            out.append(part)
    return out


_TEMPLATES = {(op, lang): _pieces(form) for op, s in _SPELLED.items() for lang, form in s.forms.items()}
# SQL dialects (codegen --dialect): the spellings where one differs (ops.Spelling.dialects)
DIALECTS = ("duckdb", "postgres", "sqlite")
_DIALECT_TEMPLATES = {(op, d): _pieces(form) for op, s in _SPELLED.items() for d, form in s.dialects.items()}
# PostgreSQL's forms read their operands more than once: every operand is a name or a number
_PG_ATOMS = {op: atoms | set(range(OPS[op].arity)) if (op, "postgres") in _DIALECT_TEMPLATES else atoms
             for op, atoms in _ATOMS.items()}
_C_LIBM_POW = _pieces("pow({0}, (volatile double){{1}})")


def can_fail(node: Sym, lang: str = "") -> Sequence[Guard]:
    """The guards of a node's op (its row's domain, and ``lang``'s own) that
    may fail, given its operands that are numbers."""
    every = guards(node.op, lang)
    if not every:
        return []
    if any(c.kind == "const" for c in node.children):
        known = _known(node)
        return [g for g in every if g.possible(known)]
    return every    # no operand is a number: every guard may fail


def _known(node: Sym) -> list[float | None]:
    return [c.data if c.kind == "const" else None for c in node.children]


def _sql_guarded(node: Sym, inner: list) -> list:
    """SQL's guard: ``CASE WHEN`` the operation is defined ``THEN`` it ``END``
    (NULL elsewhere), each failing guard's condition negated."""
    known = _known(node)
    key = node.op if not any(x is not None for x in known) else None
    ok = _SQL_OK.get(key)
    if ok is None:
        ok = _pieces(" AND ".join(g.template("sql", known, negate=True) for g in can_fail(node)))
        if key is not None:
            _SQL_OK[key] = ok
    return ["CASE WHEN ", *ok, " THEN ", *inner, " END"]


_SQL_OK: dict[str, list] = {}    # op -> its SQL guard's pieces, where no operand is a number


class Printer:
    """Spells the nodes of a plan in one language."""

    dialect = ""     # SQL's, where its spellings differ (ops.Spelling.dialects)

    def __init__(self, plan: Plan, lang: str, dialect: str = ""):
        self.plan = plan
        self.lang = lang
        self.dialect = dialect
        self.names = plan.names(lang)

    def dialect_form(self, node: Sym) -> list | None:
        return _DIALECT_TEMPLATES.get((node.op, self.dialect)) if self.dialect else None

    def ident(self, name: str) -> str:
        if self.lang == "sql" and (name.lower() in _SQL_WORDS or not name.islower() and not name.isidentifier()):
            return '"' + name + '"'
        if self.lang == "sql" and not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            return '"' + name + '"'
        return name

    def atom(self, node: Sym) -> str | None:
        if node.kind == "const":
            return _number(node.data, self.lang)
        value = self.plan.folded.get(node.index)
        if value is not None and node.index not in self.names:
            return _number(value, self.lang)
        name = self.names.get(node.index)
        return None if name is None else self.ident(name)

    def level(self, node: Sym) -> int:
        if node.kind == "const":
            return _SIGN if node.data < 0 or math.copysign(1, node.data) < 0 else _ATOM
        if self.atom(node) is not None:
            return _ATOM
        if node.op in _INFIX and not (self.lang == "sql" and (can_fail(node) or self.dialect_form(node))) \
                and not self._np_divide(node):
            return _INFIX[node.op][0]
        if node.op == "neg":
            return _SIGN
        return _ATOM

    def layout(self, node: Sym) -> list:
        if self.lang == "sql" and can_fail(node):
            return _sql_guarded(node, self._layout(node))
        return self._layout(node)

    def _np_divide(self, node: Sym) -> bool:
        """NumPy's ``/`` of two numbers is Python's, which raises on 0:
        ``np.divide`` there (inf or NaN, a row the checks see)."""
        return self.lang == "numpy" and node.op == "/" and all(c.kind == "const" for c in node.children)

    def _layout(self, node: Sym) -> list:
        form = self.dialect_form(node)
        if form is not None:
            return form
        if node.op in _INFIX and not self._np_divide(node):
            _, left, right = _INFIX[node.op]
            sign = node.op
            return [(0, left), f" {sign} ", (1, right)]
        if node.op == "neg":
            return ["-", (0, _SIGN + 1)]
        if self.lang == "c" and node.op == "**" and node.children[1].kind == "const" \
                and node.children[1].data in _C_FOLDED_POWERS:
            return _C_LIBM_POW
        return _TEMPLATES[node.op, self.lang]

    def expr(self, root: Sym, inline_root: bool = True) -> str:
        """The text of ``root``, every node without a name written inline
        (unparse's writer: an explicit stack, no recursion however deep);
        an operation on numbers alone, its value."""
        value = self.plan.folded.get(root.index)
        if value is not None:
            return _number(value, self.lang)
        atom = (lambda n: None if n is root else self.atom(n)) if inline_root else self.atom
        return _write(root, atom, self.layout, self.level)

    def operand(self, node: Sym) -> str:
        text = self.expr(node, inline_root=False)
        return text if self.level(node) >= _ATOM else f"({text})"


# ------------------------------------------------------------------ the languages

class Generated(NamedTuple):
    code: str
    plan: Plan


def _header_lines(plan: Plan, func: str) -> list[str]:
    graph = plan.graph
    out_name = graph.output_name or "the output"
    wrt = ", ".join(plan.wrt) or "nothing"
    return [f"{func}: the value of {out_name} and its gradient with respect to {wrt},",
            "by reverse mode (a forward sweep, then an adjoint sweep). Generated by gradcli codegen."]


class _Writer:
    """The parts every language shares: the sweeps, statement by statement."""

    comment = "#"
    unguarded = False     # True: no guards, an undefined operation gives inf or NaN, the checks see it

    def __init__(self, plan: Plan, lang: str, func: str):
        self.plan = plan
        self.lang = lang
        self.func = func
        self.p = Printer(plan, lang)
        self.find = _statements(plan.graph.source)
        self.checks = 0
        self._quoted: set[Pos] = set()
        self._suspects: list[tuple[str, Pos]] | None = None

    # -- pieces every language spells its own way
    def assign(self, name: str, text: str) -> str: raise NotImplementedError
    def guard(self, node: Sym, guard: Guard, cond: str) -> list[str]: raise NotImplementedError
    def check(self, name: str, node: Sym, statement: _Statement | None) -> list[str]: raise NotImplementedError

    def unused(self, name: str) -> list[str]:
        """A value nothing reads (a statement computed only for its guards)."""
        return []

    def comment_line(self, statement: _Statement, adjoint: bool = False) -> str:
        """The statement quoted whole where the forward sweep computes it; the
        adjoint sweep refers to it with its first characters."""
        if adjoint:
            return f"{self.comment} {statement.pos}  {safe_text(statement.text, _QUOTE_LIMIT)} (adjoint)"
        if statement.pos in self._quoted:          # split over several steps (SQL): quoted whole once
            return f"{self.comment} {statement.pos}  {safe_text(statement.text, _QUOTE_LIMIT)} (continued)"
        self._quoted.add(statement.pos)
        return f"{self.comment} {statement.pos}  {safe_text(statement.text)}"

    def message(self, pos: Pos | None, reason: str, statement: _Statement | None) -> str:
        where = f"{pos}: " if pos is not None else ""
        text = f" in `{safe_text(statement.text, _QUOTE_LIMIT)}`" if statement is not None else ""
        return f"{where}{reason}{text}"

    def cond(self, guard: Guard, node: Sym) -> str | None:
        """The guard's condition at ``node``, or None where it cannot fail."""
        if guard not in can_fail(node, self.lang):
            return None
        return guard.template(self.lang, _known(node)).format(*(self.p.operand(c) for c in node.children))

    def inner_ops(self, root: Sym) -> list[Sym]:
        """The op nodes written inline in ``root``'s statement, root included, in tape order."""
        found, stack = [], [root]
        while stack:
            node = stack.pop()
            found.append(node)
            for child in node.children:
                if child.kind == "op" and not self.plan.keep[child.index]:
                    stack.append(child)
        return sorted(found, key=lambda n: n.index)

    def forward(self) -> list[str]:
        """The forward sweep in the tape's order, as grad computes it: each
        operation's guards where the operation is (an operation written
        inline in a later statement too), each statement then its check."""
        lines: list[str] = []
        last = None
        plan = self.plan
        for node in plan.nodes:
            if node.kind != "op" or not plan.is_program[node.index]:
                continue
            statement = self.find(node.pos)
            if statement is not None and statement != last:
                lines.append(self.comment_line(statement))
                last = statement
            for g in guards(node.op, self.lang):
                cond = self.cond(g, node)
                if cond is not None:
                    lines += self.guard(node, g, cond)
            if not plan.keep[node.index]:
                continue
            inner = self.inner_ops(node)
            name = self.p.names[node.index]
            lines += self.compute(name, node, inner, statement)
            if any(_SPELLED[op.op].overflows or self.unguarded and can_fail(op, self.lang) for op in inner):
                lines += self.check(name, node, statement)
            elif plan.uses[node.index] == 0:
                lines += self.unused(name)
        return lines

    def compute(self, name: str, node: Sym, inner: list[Sym], statement) -> list[str]:
        return [self.assign(name, self.p.expr(node))]

    def backward(self) -> list[str]:
        return [line for line, _ in self.backward_lines()]

    def backward_lines(self) -> list[tuple[str, Sym | None]]:
        """The adjoint sweep's lines, each with its node (None: a comment)."""
        lines: list[tuple[str, Sym | None]] = []
        last = None
        plan = self.plan
        for node in plan.statements:
            if plan.is_program[node.index]:
                continue
            statement = self.find(node.pos)
            if statement is not None and statement != last:
                lines.append((self.comment_line(statement, adjoint=True), None))
                last = statement
            lines.append((self.assign(self.p.names[node.index], self.p.expr(node)), node))
        return lines

    def notes(self) -> list[str]:
        """Comments at the head of the adjoint sweep on the forms a reader
        cannot guess: how adjoints are named where the program assigns a
        name again, and the derivatives written as grad computes them."""
        plan = self.plan
        out = []
        versions = sorted({self.p.names[i] for i in plan.named_adjoints if i in self.p.names
                           and re.search(r"_\d+$", self.p.names[i])})
        if versions:
            name = versions[0]
            value = name[2:]
            base = re.sub(r"_\d+$", "", value)
            out.append(f"d_NAME: the derivative of the output with respect to NAME; {name}: with respect to "
                       f"{value}, the value {base} has after the program assigns it again")
        ops = {n.op for n in plan.nodes if n.kind == "op"}
        if "tanh" in ops and "exp" in ops:
            out.append("tanh'(x) = 4*sigmoid(2x)*sigmoid(-2x), as grad computes it, with one exp: e = exp(-|2x|), "
                       "q = 1 + e, then 4*(1/q)*(e/q) (4*a is exact, so the order of the factors does not matter)")
        if any(n.op == "**" and n.children[1].kind != "const" and plan.is_program[n.index] for n in plan.nodes
               if n.kind == "op"):
            out.append("d/dx x**y = y*x**(y - 1) without rounding y - 1: r + e = y - 1 exactly (TwoSum: r = y - 1, "
                       "then (y - (r - (r - y))) + (-1 - (r - y))), x**(y - 1) = x**r * x**e; for |y| < 0.05 and "
                       "0 < x < 1e-150, x**r in two halves so that it does not overflow where the result does not")
        if "erf" in ops:
            out.append("erf'(x) = 2/sqrt(pi)*exp(-x*x) without rounding x*x: hi + lo = x*x exactly (Dekker's "
                       "product, x split in halves by Veltkamp, 134217729*x), exp(-(hi + lo)) = e - e*lo with "
                       "e = exp(-hi); past |x| = 28 the split is skipped")
        return [f"{self.comment} {line}" for line in out]

    def zero_note(self) -> list[str]:
        """Why a gradient is returned ``+ 0.0``, where one is."""
        if any(" + 0" in text for text in self.results()[1:]):
            return [f"{self.comment} + 0.0: grad's sums start at +0.0, so no gradient is -0.0"]
        return []

    def results(self) -> list[str]:
        """The returned texts: the value, then each gradient (``+ 0.0`` where it
        could be a negative zero: grad's sums start at +0)."""
        plan = self.plan
        out = [self.p.operand(plan.output) if plan.output.kind != "op" else self.p.atom(plan.output)]
        maybe = _negative_zero(plan)
        for g in plan.gradients:
            text = self.p.atom(g) if g.kind != "const" else _number(g.data, self.lang)
            if g.kind != "const" and maybe[g.index]:
                text = f"{text} + {_number(0.0, self.lang)}"
            out.append(text)
        return out

    def checked(self, g: Sym) -> bool:
        """Whether a reported gradient needs a check: one the adjoint sweep
        computed (a forward value or a number is finite already)."""
        return g.kind == "op" and not self.plan.is_program[g.index]

    def sweeps(self) -> list[str]:
        """The forward sweep, the adjoint sweep, and the gradients' checks."""
        lines: list[str] = []
        forward, backward = self.forward(), self.backward()
        if forward:
            lines += [f"{self.comment} forward"] + forward
        if backward:
            lines += [f"{self.comment} adjoint"] + self.notes() + backward
        for k, g in enumerate(self.plan.gradients):
            if self.checked(g):
                lines += self.gradient_check(k, self.p.atom(g))
        return lines

    def gradient_check(self, k: int, name: str) -> list[str]:
        raise NotImplementedError

    def gradient_failure(self, k: int | None) -> str:
        """What a non-finite gradient (the k-th, or any) is blamed on, in words."""
        if self._suspects is None:
            self._suspects = _suspects(self.plan)
        suspects = self._suspects
        where = ", ".join(f"`{op}` at {pos}" for op, pos in suspects[:6])
        more = "" if len(suspects) <= 6 else ", ..."
        tail = f": a derivative is not finite or overflows ({where}{more})" if suspects else ": an overflow"
        what = "a gradient" if k is None else f"the gradient of `{printable(self.plan.wrt[k])}`"
        return f"{what} is not finite{tail}"


def _negative_zero(plan: Plan) -> bytearray:
    """For each node: 1 if it may be -0.0."""
    maybe = bytearray(plan.size)
    for node in plan.tape.nodes:
        if node.kind == "const":
            maybe[node.index] = math.copysign(1, node.data) < 0
        elif node.kind != "op":
            maybe[node.index] = 1
        elif node.op == "+":
            maybe[node.index] = maybe[node.children[0].index] and maybe[node.children[1].index]
        elif node.op == "-":
            maybe[node.index] = maybe[node.children[0].index]
        elif node.op == "ifnz":      # the value, or +0.0 (a corner: d/dy of x**y at x = 0)
            maybe[node.index] = maybe[node.children[1].index]
        else:
            maybe[node.index] = OPS[node.op].signed_zero
    return maybe


def _suspects(plan: Plan) -> list[tuple[str, Pos]]:
    """The operations whose derivatives can be non-finite at finite operands,
    among those the output depends on, last first (one pass: the same list
    serves every gradient)."""
    from .engine import needed

    need = needed(plan.tape.nodes, [plan.output])
    found = []
    for node in reversed(plan.program):
        if node.kind == "op" and need[node.index] and OPS[node.op].steep \
                and node.pos is not None:
            found.append((node.op, node.pos))
            if len(found) > 6:
                break
    return found


# ------------------------------------------------------------------ Python

class _Python(_Writer):
    def assign(self, name, text):
        return f"{name} = {text}"

    def raise_(self, exception: str, message: str, values: list[tuple[str, str]]) -> str:
        if values:
            shown = ", ".join(f"{n} = %r" for n, _ in values)
            fmt = json.dumps(message.replace("%", "%%") + f" ({shown})")
            args = ", ".join(v for _, v in values)
            return f"raise {exception}({fmt} % ({args},))"
        return f"raise {exception}({json.dumps(message)})"

    def values(self, node: Sym) -> list[tuple[str, str]]:
        """The operands a guard's message shows: those with a name (an
        expression written again could raise where the guard is)."""
        out = []
        for c in node.children:
            text = self.p.atom(c) if c.kind != "const" else None
            if text is not None:
                out.append((text, text))
        return out

    def guard(self, node, guard, cond):
        msg = self.message(node.pos, guard.reason, self.find(node.pos))
        return [f"if {cond}:", "    " + self.raise_(guard.exception, msg, self.values(node))]

    def check(self, name, node, statement):
        msg = self.message(node.pos, "the result overflows or is not a number", statement)
        return [f"if not math.isfinite({name}):", "    " + self.raise_("OverflowError", msg, [])]

    def backward(self):
        """The adjoint sweep. Where a statement's Python can raise (``/`` by
        zero at sqrt'(0), ``math.log`` of a negative base in a derivative
        of ``**``, an overflow in ``math.pow``), it is NaN instead, as grad
        makes a gradient NaN where a chain rule fails: a NaN that reaches a
        reported gradient fails its check, one a corner's conditional drops
        does not (``a**b**c`` at b = 0, c = -0.0)."""
        if self.lang != "python":
            return super().backward()
        lines = []
        guarded = set()       # forward values a guard keeps from 0: divisors, log's operands, 1 + log1p's
        for node in self.plan.nodes:
            if node.kind == "op" and self.plan.is_program[node.index]:
                if node.op == "/":
                    guarded.add(node.children[1].index)
                elif node.op in ("log", "log1p"):
                    guarded.add(node.children[0].index)

        def nonneg(n: Sym) -> bool:
            return n.kind == "const" and n.data >= 0 or n.op in ("exp", "abs", "sqrt", "hypot", "sigmoid") \
                or n.op == "*" and n.children[0] is n.children[1]

        def nonzero(n: Sym) -> bool:
            if n.kind == "const":
                return n.data != 0
            if n.index in guarded:
                return True
            if n.op == "hypot":
                return any(c.kind == "const" and c.data != 0 for c in n.children)
            if n.op == "+":       # 1 + e, 1 + x*x, 1 + x with x > -1 (log1p's)
                a, b = n.children
                return any(c.kind == "const" and c.data >= 1 and (nonneg(o) or o.index in guarded)
                           for c, o in ((a, b), (b, a)))
            return False

        def may_raise(op: Sym) -> bool:
            # in the adjoint, operands are forward values (finite: checked)
            # or adjoints; exp only ever sees a number <= 0 there (sigmoid's,
            # tanh's, erf's); sin and cos a finite number
            if op.op == "/":
                return not nonzero(op.children[1])
            return op.op in ("**", "log", "log1p", "sqrt")

        for line, node in self.backward_lines():
            if node is None or not any(may_raise(op) for op in self.inner_ops(node)):
                lines.append(line)
                continue
            lines += ["try:", "    " + line, "except (ArithmeticError, ValueError):",
                      f"    {self.p.names[node.index]} = math.nan   # as grad: a chain rule failed here"]
        return lines

    def compute(self, name, node, inner, statement):
        line = self.assign(name, self.p.expr(node))
        pows = [op for op in inner if op.op in _PY_OVERFLOWS]
        if not pows:
            return [line]
        msg = self.message(pows[0].pos, "the result overflows", statement)
        return ["try:", "    " + line, "except OverflowError:", "    " + self.raise_("OverflowError", msg, []) + " from None"]

    def write(self) -> str:
        plan = self.plan
        params = self.parameters()
        body = [f'"""{line}' if i == 0 else line for i, line in enumerate(_header_lines(plan, self.func))]
        body.append("")
        body.append(f"Returns (value, {', '.join('d_' + w for w in plan.wrt) or ''}){'' if plan.wrt else ''}; "
                    + ("NaN in every output where grad fails." if self.lang == "numpy"
                       else "raises an ArithmeticError where grad fails."))
        body[-1] = body[-1].replace(", )", ")").replace("(value, )", "(value,)")
        if self.dropped:
            one = len(self.dropped) == 1
            body.append(f"The program's default{'' if one else 's'} {', '.join(self.dropped)} "
                        f"come{'s' if one else ''} before a parameter without one, which Python does not allow: "
                        f"pass {'it' if one else 'them'}.")
        body.append('"""')
        body += self.prologue()
        fwd = self.forward()
        if fwd:
            body += ["# forward"] + fwd
        bwd = self.backward()
        if bwd:
            body += ["# adjoint"] + self.notes() + bwd
        body += self.epilogue()
        lines = [self.imports(), "", "", f"def {self.func}({params}):"]
        lines += ["    " + line if line else "" for line in body]
        return "\n".join(lines) + "\n"

    def imports(self) -> str:
        return "import math"

    def parameters(self) -> str:
        plan = self.plan
        leaves = plan.leaves
        # defaults only on the trailing run of leaves that have them (Python's rule)
        trailing = len(leaves)
        while trailing > 0 and leaves[trailing - 1].kind == "leaf":
            trailing -= 1
        parts = []
        self.dropped = []     # defaults Python cannot take: before a parameter without one
        for i, leaf in enumerate(leaves):
            name = self.p.names[leaf.index]
            parts.append(f"{name}={_number(leaf.data, 'python')}" if i >= trailing else name)
            if i < trailing and leaf.kind == "leaf":
                self.dropped.append(f"{name} = {_number(leaf.data, 'python')}")
        return ", ".join(parts)

    def prologue(self) -> list[str]:
        return []

    def epilogue(self) -> list[str]:
        lines = []
        plan = self.plan
        results = self.results()
        checked = [(k, g) for k, g in enumerate(plan.gradients) if self.checked(g)]
        # One test per 200 gradients (an MLP has one per weight: 383 ifs were a
        # quarter of its gradient's time), then the one that failed, named.
        for at in range(0, len(checked), 200):
            group = checked[at:at + 200]
            each = []
            for k, g in group:
                each += [f"if not math.isfinite({self.p.atom(g)}):",
                         "    " + self.raise_("ArithmeticError", self.gradient_failure(k), [])]
            if len(group) < 3:
                lines += each
                continue
            lines.append(f"if not all(map(math.isfinite, ({', '.join(self.p.atom(g) for _, g in group)}))):")
            lines += ["    " + line for line in each]
        lines += self.zero_note()
        lines.append(f"return ({', '.join(results)}{',' if len(results) == 1 else ''})")
        return lines


class _NumPy(_Python):
    unguarded = True
    def imports(self):
        return "import numpy as np"

    def guard(self, node, guard, cond):
        return []

    def cond(self, guard, node):
        return None

    def check(self, name, node, statement):
        return [f"bad |= ~np.isfinite({name})"]

    def compute(self, name, node, inner, statement):
        return [self.assign(name, self.p.expr(node))]

    def prologue(self):
        plan = self.plan
        names = [self.p.names[leaf.index] for leaf in plan.leaves]
        lines = []
        if names:
            arrays = ", ".join(f"np.asarray({n}, dtype=np.float64)" for n in names)
            lines.append(f"{', '.join(names)}{',' if len(names) == 1 else ''} = np.broadcast_arrays({arrays})")
            lines.append(f"bad = np.zeros(np.shape({names[0]}), dtype=bool)   # rows where grad fails")
        else:
            lines.append("bad = np.zeros((), dtype=bool)")
        return lines

    def write(self):
        text = super().write()
        if "math.erf" in text:
            text = "import math\n" + text
        # the sweeps run with floating-point warnings off: bad rows become NaN at the end
        lines = text.split("\n")
        start = next(i for i, line in enumerate(lines) if line.startswith("    bad = "))
        end = next(i for i, line in enumerate(lines) if line.startswith("    return "))
        inside = ["    " + line if line else line for line in lines[start + 1:end]] or ["        pass"]
        lines = lines[:start + 1] + ['    with np.errstate(all="ignore"):'] + inside + lines[end:]
        return "\n".join(lines)

    def epilogue(self):
        lines = []
        plan = self.plan
        for g in plan.gradients:
            if self.checked(g):
                lines.append(f"bad |= ~np.isfinite({self.p.atom(g)})")
        results = self.results()
        lines += self.zero_note()
        lines.append(f"return tuple(np.where(bad, np.nan, v) for v in ({', '.join(results)}{',' if len(results) == 1 else ''}))")
        return lines


# ------------------------------------------------------------------ C

class _C(_Writer):
    comment = "//"

    def gradient_check(self, k, name):
        return [f"if (!isfinite({name})) {self.code(None, self.gradient_failure(k))}"]

    def unused(self, name):
        return [f"(void){name};   // not used: computed for its guards, as grad computes it"]

    def assign(self, name, text):
        return f"const double {name} = {text};"

    def code(self, pos, what) -> str:
        self.checks += 1
        return f"return {self.checks};   // {what}"

    def guard(self, node, guard, cond):
        where = f"{node.pos}: " if node.pos else ""
        return [f"if ({cond}) {self.code(node.pos, where + guard.reason)}"]

    def check(self, name, node, statement):
        where = f"{node.pos}: " if node.pos else ""
        return [f"if (!isfinite({name})) {self.code(node.pos, where + 'the result overflows or is not a number')}"]

    def write(self) -> str:
        plan = self.plan
        header = _header_lines(plan, self.func)
        leaves = ", ".join(leaf.label for leaf in plan.leaves) or "none"
        header += [f"in:  {leaves} (the leaves, in order)",
                   "out: the value, then " + (", ".join(f"d/d{w}" for w in plan.wrt) or "nothing"),
                   "Returns 0, or the number of the check that failed where grad fails (see the comments)."]
        lines = ["#include <math.h>", ""] + [f"// {h}" for h in header]
        if plan.program_op_count() > C_TABLE_OPS:
            return "\n".join(self.table(lines)) + "\n"
        lines += [f"int {self.func}(const double *in, double *out)", "{"]
        body = []
        for k, leaf in enumerate(plan.leaves):
            body.append(f"const double {self.p.names[leaf.index]} = in[{k}];")
            if not plan.uses[leaf.index]:
                body.append(f"(void){self.p.names[leaf.index]};   // not used")
        body += self.sweeps()
        body += self.zero_note()
        for k, text in enumerate(self.results()):
            body.append(f"out[{k}] = {text};")
        body.append("return 0;")
        if any("(volatile double)" in line for line in body):
            at = lines.index(f"int {self.func}(const double *in, double *out)")
            lines[at:at] = [
                "// pow(x, (volatile double){2.0}) calls libm's pow, as grad does; GCC would write x*x,",
                "// which can differ from it in the last bit."]
        if len(body) > C_PART_LINES * 2:
            at = lines.index(f"int {self.func}(const double *in, double *out)")
            lines[at:at + 2] = self.parts(body[:-1])
            return "\n".join(lines) + "\n"
        lines += ["    " + line for line in body] + ["}"]
        return "\n".join(lines) + "\n"

    def parts(self, body: list[str]) -> list[str]:
        """A long function as static parts of C_PART_LINES lines and the
        function that calls them in turn: GCC's time at -O2 grows faster
        than the function's length (a 20,000-statement function: 136 s;
        20 functions of 1,000: 9 s), so a program of 10^5 operations
        compiles in a time linear in it. A value one part computes and a
        later one reads passes through the array ``v``; the outputs are
        written by the last parts, after every check."""
        names = set(self.p.names.values())
        word = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
        define = re.compile(r"const double ([A-Za-z_][A-Za-z0-9_]*) = ")
        chunks = [body[i:i + C_PART_LINES] for i in range(0, len(body), C_PART_LINES)]
        owner: dict[str, int] = {}
        reads: list[list[str]] = []
        for k, chunk in enumerate(chunks):
            seen: dict[str, None] = {}
            for line in chunk:
                code = line.split("//", 1)[0]
                m = define.match(code)
                if m:
                    code = code[m.end():]
                for w in word.findall(code):
                    if w in names and owner.get(w, k) < k:
                        seen[w] = None
                if m:
                    owner[m.group(1)] = k
            reads.append(list(seen))
        slot: dict[str, int] = {}
        for k in range(len(chunks)):
            for w in reads[k]:
                slot.setdefault(w, len(slot))
        out: list[str] = []
        for k, chunk in enumerate(chunks):
            out += [f"static int {self.func}_part{k + 1}(const double *in, double *v, double *out)", "{"]
            out += [f"    const double {w} = v[{slot[w]}];" for w in reads[k]]
            out += ["    " + line for line in chunk]
            out += [f"    v[{slot[w]}] = {w};" for w in owner if owner[w] == k and w in slot]
            out += ["    (void)in;", "    (void)v;", "    (void)out;", "    return 0;", "}", ""]
        out += ["int " + f"{self.func}(const double *in, double *out)", "{",
                f"    double v[{max(1, len(slot))}];", "    int failed;"]
        out += [f"    if ((failed = {self.func}_part{k + 1}(in, v, out)) != 0) return failed;"
                for k in range(len(chunks))]
        out += ["    return 0;", "}"]
        return out


    # -- the table shape: a long program as rows of numbers run by a loop

    def table_rows(self) -> list[tuple]:
        """The function as rows in the order its statements would run, each
        ``(case, dest, operands, number, note)``: ``case`` the C of the row's
        kind, ``dest`` the node it computes (or None), ``number`` a check's
        return value or an output's index, ``note`` a comment. A statement
        is one row whose case is its own C (``r[p[1]] = tanh(r[p[2]] *
        r[p[3]] + r[p[4]]);``) where its shape recurs and the cases stay
        within ``TABLE_CASE_OPS`` operations, else a row per operation: the
        same operations as the statements, in the same order, on the same
        doubles (so the same bits); guards and checks numbered as the
        statements number them."""
        plan = self.plan
        rows: list[tuple] = []
        operand = [f"r[p[{k + 2}]]" for k in range(3)]
        p = self.p

        def operand_of(j: int) -> str:
            return f"r[p[{j + 2}]]"

        def spelled(node: Sym, flat: bool) -> tuple[str, tuple]:
            """``node``'s statement as a case, and its operands (``flat``:
            the node's own operation alone)."""
            order: dict[int, int] = {}
            operands: list[Sym] = []

            def atom(n: Sym) -> str | None:
                if n is node or not flat and n.kind == "op" and n.index not in plan.folded \
                        and n.index not in p.names:
                    return None
                k = order.get(n.index)
                if k is None:
                    k = order[n.index] = len(order)
                    operands.append(n)
                return f"r[p[{k + 2}]]"
            text = _write(node, atom, p.layout, p.level)
            seen: dict[str, int] = {}       # numbered in reading order: one case per shape
            for piece in re.findall(r"r\[p\[\d+\]\]", text):
                seen.setdefault(piece, len(seen))
            text = re.sub(r"r\[p\[(\d+)\]\]", lambda m: f"r[p[{seen[m.group(0)] + 2}]]", text)
            by = {f"r[p[{k + 2}]]": n for k, n in enumerate(operands)}
            return f"r[p[1]] = {text};", tuple(by[piece] for piece in seen)

        def compute(node: Sym) -> None:
            if node.index in plan.folded:
                return
            inner = [n for n in self.inner_ops(node) if n.index not in plan.folded]
            case, operands = spelled(node, len(inner) == 1)
            rows.append((case, node, operands, None, None, inner))

        last = None
        for node in plan.nodes:
            if node.kind != "op" or not plan.is_program[node.index]:
                continue
            statement = self.find(node.pos)
            if statement is not None and statement != last:
                rows.append((None, None, (), None, self.comment_line(statement)))
                last = statement
            for g in guards(node.op, self.lang):
                if g in can_fail(node, self.lang):
                    self.checks += 1
                    where = f"{node.pos}: " if node.pos else ""
                    read = sorted(g.cond.args())          # the operands the guard reads (named: _ATOMS)
                    cond = g.template(self.lang).format(*(operand[read.index(i)] if i in read else "" for i in
                                                          range(len(node.children))))
                    rows.append((f"if ({cond}) return p[1];", None, tuple(node.children[i] for i in read),
                                 self.checks, f"// {self.checks}: {where}{g.reason}"))
            if not plan.keep[node.index]:
                continue
            compute(node)
            if any(_SPELLED[op.op].overflows for op in self.inner_ops(node)):
                self.checks += 1
                where = f"{node.pos}: " if node.pos else ""
                rows.append(("if (!isfinite(r[p[2]])) return p[1];", None, (node,), self.checks,
                             f"// {self.checks}: {where}the result overflows or is not a number"))
        rows.append((None, None, (), None, "// adjoint"))
        rows += [(None, None, (), None, note) for note in self.notes()]
        for node in plan.statements:
            if not plan.is_program[node.index]:
                compute(node)
        # the gradients' checks and the outputs, 8 to a row (an MLP has a gradient per weight)
        checked = [(k, g) for k, g in enumerate(plan.gradients) if self.checked(g)]
        for at in range(0, len(checked), 8):
            group = checked[at:at + 8]
            n = len(group)
            every = " && ".join(f"isfinite({operand_of(j)})" for j in range(n))
            rows.append((f"if (!({every})) {{ for (i = 0; i < {n}; i++) if (!isfinite(r[p[2 + i]])) return p[1] + i; }}",
                         None, tuple(g for _, g in group), self.checks + 1,
                         f"// {self.checks + 1}..{self.checks + n}, for "
                         + safe_text(", ".join(plan.wrt[k] for k, _ in group)) + ": " + self.gradient_failure(None)))
            self.checks += n
        rows.append(("out[p[1]] = r[p[2]];", None, (plan.output,), 0, None))
        for at in range(0, len(plan.gradients), 8):        # + 0.0: grad's sums start at +0 (no -0.0)
            group = plan.gradients[at:at + 8]
            rows.append((" ".join(f"out[p[1] + {j}] = {operand_of(j)} + 0.0;" for j in range(len(group))), None,
                         tuple(group), 1 + at, None))
        rows.append(("return 0;", None, (), 0, None))
        return self.cases_within_budget(rows, spelled)

    def cases_within_budget(self, rows: list[tuple], spelled) -> list[tuple]:
        """The statements whose case is kept whole: those whose shape
        recurs, most frequent first, until the cases hold
        ``TABLE_CASE_OPS`` operations (GCC's time is in the cases); every
        other statement becomes a row per operation, in tape order."""
        count: dict[str, int] = {}
        size: dict[str, int] = {}
        for row in rows:
            if len(row) == 6 and len(row[5]) > 1:
                count[row[0]] = count.get(row[0], 0) + 1
                size[row[0]] = len(row[5])
        kept, budget = set(), TABLE_CASE_OPS
        for case in sorted(count, key=lambda c: -count[c]):
            if count[case] > 1 and size[case] <= budget:
                kept.add(case)
                budget -= size[case]
        out = []
        for row in rows:
            if len(row) == 6 and len(row[5]) > 1 and row[0] not in kept:
                for op in row[5]:
                    case, operands = spelled(op, True)
                    out.append((case, op, operands, None, None))
            else:
                out.append(row[:5])
        return out

    def table(self, head: list[str]) -> list[str]:
        """The table shape (past ``C_TABLE_OPS`` operations): the program as
        rows of ints, ``kind, result or number, operands...``, run by a loop
        whose ``switch`` has a case per kind of row the program uses, each
        the statement's own C (``r[p[1]] = tanh(r[p[2]]);``). GCC reads a
        table of ints in seconds where it optimises 10^5 statements for
        minutes, and the loop performs the same operations on the same
        doubles. Values live in ``r``: the constants, the leaves, then each
        result in a slot that is reused after its last read."""
        plan = self.plan
        func = self.func
        rows = self.table_rows()
        slot: dict[int, int] = {}
        constants: dict[str, int] = {}
        for node in plan.tape.nodes:
            if node.kind == "const" or node.index in plan.folded:
                text = _number(node.data if node.kind == "const" else plan.folded[node.index], "c")
                slot[node.index] = constants.setdefault(text, len(constants))
        for k, leaf in enumerate(plan.leaves):
            slot[leaf.index] = len(constants) + k
        fixed = len(constants) + len(plan.leaves)
        last: dict[int, int] = {}
        for r, row in enumerate(rows):
            for c in row[2]:
                last[c.index] = r
        free: list[int] = []
        size = fixed
        entries: list[tuple] = []         # (case, ints, note), a note alone where case is None
        for r, (case, dest, operands, number, note) in enumerate(rows):
            if case is None:
                entries.append((None, [], note))
                continue
            reads = [slot[c.index] for c in operands]
            for i in {c.index for c in operands}:       # a slot read for the last time takes this row's result
                if last[i] == r and slot[i] >= fixed:
                    free.append(slot[i])
            if dest is not None:
                if free:
                    number = free.pop()
                else:
                    number, size = size, size + 1
                slot[dest.index] = number
                if dest.index not in last:             # computed for its guards alone
                    free.append(number)
            entries.append((case, [number, *reads], note))
        # A run of rows of one kind that computes (an MLP's d_w = h * g, weight after
        # weight) is one row: the count, then each row's ints, the same case in a loop.
        kinds: dict[str, tuple[int, int]] = {}
        data: list[str] = []
        k = 0
        while k < len(entries):
            case, ints, note = entries[k]
            end = k + 1
            if case is not None and case.startswith("r[p[1]] = ") and note is None:
                while end < len(entries) and entries[end][0] == case and entries[end][2] is None:
                    end += 1
            if case is None:
                data.append(note)
            elif end - k > 1:
                width = len(ints)
                body = case.replace("p[", "q[")
                loop = (f"{{ const int *q = p + 1; for (i = 0; i < p[1]; i++, q += {width}) {{ {body} }} p = q + 1; }} "
                        "break;")
                kind = kinds.setdefault(loop, (len(kinds), 0))[0]
                data.append(",".join(map(str, [kind, end - k, *(x for e in entries[k:end] for x in e[1])])) + ",")
            else:
                kind = kinds.setdefault(case, (len(kinds), 1 + len(ints)))[0]
                text = ",".join(map(str, [kind, *ints])) + ","
                data.append(text if note is None else f"{text} {note}")
            k = end
        values = ", ".join(constants) or "0.0"
        lines = head + [
            f"// The table shape ({len(kinds)} kinds of row, {len(data)} rows): each row is",
            "// `kind, result or check, operands...` (slots of r: the constants, the leaves, then",
            "// results; a kind that loops: `kind, count, result, operands, result, operands...`),",
            "// run in order by the loop below, each kind the C the statements would have.",
            f"static const double {func}_K[] = {{{values}}};",
            "// (not const: GCC 12's strlen pass spends minutes folding loads from a const table of this size)",
            f"static int {func}_P[] = {{"]
        lines += data
        lines += ["};", "", f"int {func}(const double *in, double *out)", "{",
                  f"    double r[{max(1, size)}];",
                  f"    const int *p = {func}_P;",
                  "    int i;",
                  f"    for (i = 0; i < {len(constants)}; i++) r[i] = {func}_K[i];",
                  f"    for (i = 0; i < {len(plan.leaves)}; i++) r[{len(constants)} + i] = in[i];",
                  "    for (;;) {", "        switch (p[0]) {"]
        for case, (kind, width) in kinds.items():
            if case.startswith("return 0") or width == 0:
                lines.append(f"        case {kind}: {case}")
            else:
                lines.append(f"        case {kind}: {case} p += {width}; break;")
        lines += ["        default: return -1;", "        }", "    }", "}"]
        return lines

# ------------------------------------------------------------------ JavaScript

class _JS(_Writer):
    comment = "//"
    esm = False     # True: ``export function`` (an ES module), else a script that also sets module.exports

    def gradient_check(self, k, name):
        return [f"if (!Number.isFinite({name})) {self.throw(self.gradient_failure(k), [])}"]

    def assign(self, name, text):
        return f"const {name} = {text};"

    def throw(self, message: str, values: list[str]) -> str:
        text = json.dumps(message)
        if values:
            text += " + " + ' + ", " + '.join(f'{json.dumps(" (" + v + " = " if i == 0 else v + " = ")} + {v}'
                                               for i, v in enumerate(values)) + ' + ")"'
        return f"throw new RangeError({text});"

    def guard(self, node, guard, cond):
        msg = self.message(node.pos, guard.reason, self.find(node.pos))
        values = [self.p.atom(c) for c in node.children if c.kind != "const" and self.p.atom(c) is not None]
        return [f"if ({cond}) {self.throw(msg, values)}"]

    def check(self, name, node, statement):
        msg = self.message(node.pos, "the result overflows or is not a number", statement)
        return [f"if (!Number.isFinite({name})) {self.throw(msg, [])}"]

    def write(self) -> str:
        plan = self.plan
        header = _header_lines(plan, self.func)
        header.append("Returns [value, " + ", ".join(f"d_{w}" for w in plan.wrt) + "]; throws a RangeError where grad fails.")
        header[-1] = header[-1].replace(", ]", "]")
        params = ", ".join(self.p.names[leaf.index] + (f" = {_number(leaf.data, 'js')}" if leaf.kind == "leaf" else "")
                           for leaf in plan.leaves)
        if self.esm:
            header.append("An ES module: import { %s } from \"./FILE.js\"." % self.func)
        else:
            header.append("A script (a browser's <script>, node -e), and a CommonJS module: require(\"./FILE.js\")."
                          "%s, or import { %s } from it in Node (--esm: an ES module)." % (self.func, self.func))
        lines = [f"// {h}" for h in header] + [f"{'export ' if self.esm else ''}function {self.func}({params}) {{"]
        body = self.sweeps()
        body += self.zero_note()
        body.append(f"return [{', '.join(self.results())}];")
        lines += ["  " + line for line in body] + ["}"]
        if not self.esm:
            lines.append('if (typeof module === "object" && module !== null && module.exports) '
                         f"module.exports.{self.func} = {self.func};")
        return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ SQL

_FINITE = "abs({0}) <= 1.7976931348623157e308"
_TYPE = {"duckdb": "DOUBLE", "sqlite": "DOUBLE", "postgres": "DOUBLE PRECISION"}
_TEMP = {"duckdb": "temp.", "sqlite": "temp.", "postgres": "pg_temp."}
# PostgreSQL reads 1e0 as NUMERIC: every number of its query is a float8
_PG_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?e[-+]?\d+)(?![\w.])")
# One SELECT up to SQL_QUERY_LEVELS chained CTEs (levels) and
# SQL_QUERY_COLUMNS columns; past either, a script of temporary tables, each
# SQL_CHUNK_LEVELS levels deep, at most SQL_CHUNK_COLUMNS columns wide and
# joining at most SQL_CHUNK_TABLES tables (SQLite joins 64). Measured on a
# tanh chain (bench/README.md): one SELECT of 350 levels took DuckDB 4.3 s
# (the script 0.4 s), one of 700 levels 39 s; past about 1,000 DuckDB's
# expression depth, SQLite's and PostgreSQL's column limits (2,000 and
# 1,664) stop it; chunks of 10 levels were the fastest in DuckDB (5 and 25
# slower).
SQL_QUERY_LEVELS = 40
SQL_QUERY_COLUMNS = 400
SQL_CHUNK_LEVELS = 10
SQL_CHUNK_COLUMNS = 400
SQL_CHUNK_TABLES = 50
_ROW = "gradcli_row"


class _SQL(_Writer):
    comment = "--"

    def __init__(self, plan: Plan, lang: str, func: str, dialect: str = "duckdb", columns: Sequence[str] = ()):
        super().__init__(plan, lang, func)
        self.dialect = dialect
        self.p = Printer(plan, lang, dialect if dialect == "postgres" else "")
        # the leaves read from the table: the inputs, and the leaves with a
        # default named by --sql-columns (the default where the cell is NULL)
        self.read = [leaf for leaf in plan.leaves if leaf.kind == "input" or leaf.label in columns]
        self.columns = {leaf.index for leaf in self.read}

    def assign(self, name, text):
        return f"{text} AS {name}"

    def write(self, table: str = "points") -> str:
        plan = self.plan
        # Each kept node goes in the first CTE after the ones its operands come from.
        level: dict[int, int] = {}
        for node in plan.statements:
            deepest = 0
            for child in self.operands(node):
                if child.kind == "op":
                    deepest = max(deepest, level[child.index])
            level[node.index] = deepest + 1
        self.level = level
        depth = max(level.values(), default=0)
        self.check_columns(self.read)
        checked = [n for n in plan.statements if plan.is_program[n.index]]
        checked += [g for g in plan.gradients if self.checked(g)]
        self.checks = {n.index for n in checked}
        # the query's own names: columns v_NAME (a user's), t1, d_NAME, ok;
        # CTEs and tables named so that none is the table's name
        last_part = table.split(".")[-1].lower()
        self.prefix = "gradcli_" if re.fullmatch(r"inputs|checked|step\d+", last_part) else ""
        script = depth > SQL_QUERY_LEVELS or len(plan.statements) + len(plan.leaves) > SQL_QUERY_COLUMNS
        code = self.script(table, level) if script else self.query(table, depth, level)
        if self.dialect == "postgres":
            code = "\n".join(line if line.lstrip().startswith("--") else _PG_NUMBER.sub(r"\1::float8", line)
                             for line in code.split("\n"))
        return code

    def operands(self, node: Sym) -> list[Sym]:
        """The named nodes and leaves ``node``'s expression reads (inline operations seen through)."""
        found, stack = [], list(node.children)
        while stack:
            child = stack.pop()
            if child.kind == "const" or child.kind == "op" and child.index in self.plan.folded \
                    and child.index not in self.p.names:
                continue
            if child.kind != "op" or self.plan.keep[child.index]:
                found.append(child)
            else:
                stack.extend(child.children)
        return found

    def header(self, table: str, script: bool) -> list[str]:
        plan = self.plan
        inputs = [leaf.label for leaf in self.read]
        where = {"duckdb": "DuckDB", "sqlite": "SQLite 3.35 or later (with its math functions)",
                 "postgres": "PostgreSQL 12 or later"}[self.dialect]
        tested = "tested in PostgreSQL 15" if self.dialect == "postgres" else "tested in it"
        shape = ("A script: temporary tables (dropped first if they exist), then one SELECT"
                 if script else "One SELECT")
        lines = _header_lines(plan, self.func)
        lines += [f"{shape} over the table {table} (columns: {', '.join(inputs) or 'none'}): "
                  "value and grad_NAME are NULL where grad fails.",
                  f"Written for {where} (--dialect {self.dialect}) and {tested}."]
        return [f"-- {h}" for h in lines]

    def input_columns(self) -> list[str]:
        p = self.p
        typ = _TYPE[self.dialect]
        cols = []
        for leaf in self.plan.leaves:
            if leaf.index not in self.columns:
                cols.append(f"{_number(leaf.data, 'sql')} AS {p.atom(leaf)}")
                continue
            value = f"CAST({p.ident(leaf.label)} AS {typ})"
            if leaf.kind != "input":
                value = f"COALESCE({value}, {_number(leaf.data, 'sql')})"
            if self.dialect == "postgres":      # sin('Infinity') raises there
                value = f"CASE WHEN abs({value}) <= 1.7976931348623157e308 THEN {value} END"
            cols.append(f"{value} AS {p.atom(leaf)}")
        return cols

    def layer(self, nodes: list[Sym]) -> list[str]:
        """A CTE's new columns, each statement's comment before it."""
        p, plan = self.p, self.plan
        cols, last = [], None
        for node in nodes:
            statement = self.find(node.pos)
            key = (statement, plan.is_program[node.index])
            if statement is not None and key != last:
                cols.append("    " + self.comment_line(statement, adjoint=not plan.is_program[node.index]))
                last = key
            cols.append(f"    {p.expr(node)} AS {p.ident(p.names[node.index])},")
        cols[-1] = cols[-1].rstrip(",")
        return cols

    def result_columns(self, ok: str) -> list[str]:
        p, plan = self.p, self.plan
        results = self.results()
        select = [f"{p.atom(leaf)} AS {p.ident(leaf.label)}" for leaf in self.read]
        typ = _TYPE[self.dialect]
        select.append(f"CAST(CASE WHEN {ok} THEN {results[0]} END AS {typ}) AS value")
        for name, text in zip(plan.wrt, results[1:]):
            select.append(f"CAST(CASE WHEN {ok} THEN {text} END AS {typ}) AS {p.ident('grad_' + name)}")
        return select

    def query(self, table: str, depth: int, level: dict[int, int]) -> str:
        plan, p, cte = self.plan, self.p, self.prefix
        materialized = " MATERIALIZED"   # else each engine inlines the steps, copying expressions
        layers: list[list[Sym]] = [[] for _ in range(depth)]
        for node in plan.statements:
            layers[level[node.index] - 1].append(node)
        lines = self.header(table, False)
        ctes = [f"{cte}inputs AS{materialized} (\n  SELECT\n"
                + (",\n".join("    " + c for c in self.input_columns()) or "    0 AS nothing")
                + f"\n  FROM {self.table_ref(table)}\n)"]
        source = f"{cte}inputs"
        for k, layer in enumerate(layers):
            ctes.append(f"{cte}step{k + 1} AS{materialized} (\n  SELECT *,\n" + "\n".join(self.layer(layer))
                        + f"\n  FROM {source}\n)")
            source = f"{cte}step{k + 1}"
        checked = [n for n in plan.nodes if n.index in self.checks]
        ok = "\n      AND ".join(_FINITE.format(p.operand(n)) for n in checked) or "TRUE"
        ctes.append(f"{cte}checked AS{materialized} (\n  SELECT *,\n    {ok}\n    AS ok\n  FROM {source}\n)")
        lines.append("WITH\n" + ",\n".join(ctes))
        lines.append("SELECT " + ",\n       ".join(self.result_columns("ok")))
        lines.append(f"FROM {cte}checked")
        return "\n".join(lines) + "\n"

    def script(self, table: str, level: dict[int, int]) -> str:
        """Deep or wide programs: each chunk of steps is a temporary table
        (its own CTEs inside, at most SQL_CHUNK_LEVELS deep and
        SQL_CHUNK_COLUMNS wide), keyed by the row's number; a chunk reads
        the columns it needs from the tables before it, joined on that key,
        and carries ``okK``: the checks so far."""
        plan, p = self.plan, self.p
        temp = _TEMP[self.dialect]
        # temporary tables gradcli_FUNC_K, or gcx_FUNC_K where the table is gradcli_...: a
        # temporary table hides a table of its name, and the script reads the table again when rerun
        stem = "gcx_" if table.split(".")[-1].lower().startswith("gradcli_") else "gradcli_"
        name = lambda k: f"{stem}{self.func}_{k}"    # noqa: E731
        materialized = " MATERIALIZED"
        lines = self.header(table, True)
        statements = sorted(plan.statements, key=lambda n: (level[n.index], n.index))
        home: dict[int, int] = {leaf.index: 0 for leaf in plan.leaves}
        chunks: list[list[Sym]] = []
        chunk: list[Sym] = []
        seen: set[int] = set()
        first = 0
        sources: set[int] = set()      # the tables the chunk reads
        for node in statements:
            k = len(chunks) + 1
            reads = [c for c in self.operands(node) if home.get(c.index) != k]
            more = {home[c.index] for c in reads} - sources
            if chunk and (level[node.index] - first >= SQL_CHUNK_LEVELS
                          or len(chunk) + len(seen) + len(reads) >= SQL_CHUNK_COLUMNS
                          or len(sources) + len(more) + 2 > SQL_CHUNK_TABLES):
                chunks.append(chunk)
                chunk, seen, sources = [], set(), set()
                k += 1
                reads = self.operands(node)
            if not chunk:
                first = level[node.index]
            chunk.append(node)
            home[node.index] = k
            seen.update(c.index for c in reads)
            sources.update(home[c.index] for c in reads)
        if chunk:
            chunks.append(chunk)
        cols = ",\n".join("  " + c for c in self.input_columns())
        lines += [f"DROP TABLE IF EXISTS {temp}{name(0)};",
                  f"CREATE TEMP TABLE {name(0)} AS\nSELECT row_number() OVER () AS {_ROW}"
                  + (",\n" + cols if cols else "") + f"\nFROM {self.table_ref(table)};"]
        last_read: dict[int, int] = {}     # table -> the last chunk that reads it
        done: list[int] = []               # chunk k's statements end at lines[done[k - 1]]
        for k, chunk in enumerate(chunks, 1):
            mine = {n.index for n in chunk}
            reads: dict[int, Sym] = {}
            for node in chunk:
                for c in self.operands(node):
                    if c.index not in mine:
                        reads.setdefault(c.index, c)
            tables = sorted({home[i] for i in reads} | ({k - 1} if k > 1 else set()) | {0})
            base = [_ROW] + [p.atom(c) for c in reads.values()] + ([f"ok{k - 1}"] if k > 1 else [])
            joins = f"{temp}{name(tables[0])}" + "".join(f" JOIN {temp}{name(t)} USING ({_ROW})" for t in tables[1:])
            ctes = [f"s0 AS{materialized} (\n  SELECT " + ", ".join(base) + f"\n  FROM {joins}\n)"]
            start = level[chunk[0].index]
            local: list[list[Sym]] = []
            for node in chunk:
                at = level[node.index] - start
                while len(local) <= at:
                    local.append([])
                local[at].append(node)
            for j, nodes in enumerate(local):
                if nodes:
                    ctes.append(f"s{len(ctes)} AS{materialized} (\n  SELECT *,\n" + "\n".join(self.layer(nodes))
                                + f"\n  FROM s{len(ctes) - 1}\n)")
            checks = [_FINITE.format(p.ident(p.names[n.index])) for n in chunk if n.index in self.checks]
            ok = "\n    AND ".join(([f"ok{k - 1}"] if k > 1 else []) + checks) or "TRUE"
            own = [p.ident(p.names[n.index]) for n in chunk]
            lines += [f"DROP TABLE IF EXISTS {temp}{name(k)};",
                      f"CREATE TEMP TABLE {name(k)} AS\nWITH\n" + ",\n".join(ctes)
                      + f"\nSELECT {_ROW}, " + ", ".join(own) + f",\n    {ok}\n    AS ok{k}\nFROM s{len(ctes) - 1};"]
            for t in tables:
                last_read[t] = k
            done.append(len(lines))
        results = [plan.output, *plan.gradients]
        tables = sorted({home[n.index] for n in results if n.index in home} | {len(chunks), 0})
        # a table no later chunk and not the result reads is dropped after its last reader:
        # SQLite slowed with thousands of tables in its schema
        drops: dict[int, list[int]] = {}
        for t, k in last_read.items():
            if t not in tables:
                drops.setdefault(k, []).append(t)
        for k in sorted(drops, reverse=True):
            at = done[k - 1]
            lines[at:at] = [f"DROP TABLE {temp}{name(t)};" for t in sorted(drops[k])]
        gathered = len(chunks) + 1
        while len(tables) > SQL_CHUNK_TABLES:      # the results are in many tables: gather them, 50 at a time
            group, tables = tables[:SQL_CHUNK_TABLES], tables[SQL_CHUNK_TABLES:]
            cols = [p.atom(n) for n in {n.index: n for n in results if home.get(n.index) in group}.values()]
            cols += [f"ok{len(chunks)}"] if len(chunks) in group else []
            cols += [p.atom(leaf) for leaf in plan.leaves] if 0 in group else []
            joins = f"{temp}{name(group[0])}" + "".join(f" JOIN {temp}{name(t)} USING ({_ROW})" for t in group[1:])
            lines += [f"DROP TABLE IF EXISTS {temp}{name(gathered)};",
                      f"CREATE TEMP TABLE {name(gathered)} AS\nSELECT {_ROW}, " + ", ".join(cols) + f"\nFROM {joins};"]
            for n in results:
                if home.get(n.index) in group:
                    home[n.index] = gathered
            tables.append(gathered)
            gathered += 1
        joins = f"{temp}{name(tables[0])}" + "".join(f" JOIN {temp}{name(t)} USING ({_ROW})" for t in tables[1:])
        ok = f"ok{len(chunks)}" if chunks else "TRUE"
        lines.append("SELECT " + ",\n       ".join(self.result_columns(ok)) + f"\nFROM {joins}\nORDER BY {_ROW};")
        return "\n".join(lines) + "\n"

    def check_columns(self, inputs: list[Sym]) -> None:
        """The result's columns (the inputs, value, grad_NAME) must be
        distinct names in SQL, where case does not count (DuckDB and SQLite
        fold it even quoted): else an InputError naming the two."""
        seen: dict[str, str] = {}
        columns = [(leaf.label, f"the input `{leaf.label}`") for leaf in inputs]
        columns.append(("value", "the output column `value`"))
        columns += [(f"grad_{w}", f"the output column `grad_{w}`") for w in self.plan.wrt]
        for column, what in columns:
            other = seen.setdefault(column.lower(), what)
            if other is not what:
                raise InputError(f"in SQL {other} and {what} would be one column (SQL's names ignore case): "
                                 "rename one of them in the program")

    def table_ref(self, table: str) -> str:
        return ".".join(self.p.ident(part) for part in table.split("."))


_WRITERS = {"python": _Python, "numpy": _NumPy, "c": _C, "js": _JS, "sql": _SQL}


# ------------------------------------------------------------------ the library

def generate(graph: Graph, lang: str = "python", wrt: Sequence[str] | None = None, name: str = "gradient",
             table: str = "points", defaults: Sequence[str] = (), esm: bool = False, dialect: str = "duckdb",
             columns: Sequence[str] = ()) -> Generated:
    """The source text of ``name(leaves...)`` computing the program's value
    and its gradient with respect to ``wrt`` (default: every leaf) in
    ``lang``. ``defaults``: inputs whose current data becomes their default
    (``codegen``'s NAME=VALUE). ``esm``: JavaScript as an ES module
    (``export function``); without it, a script that also sets
    ``module.exports`` (so ``require`` and Node's ``import`` take it).
    ``dialect``: SQL's (``DIALECTS``); ``columns``: leaves with a default
    that SQL reads from the table's column of that name, the default where
    the cell is NULL (``--sql-columns``). Bad names raise ``InputError``."""
    if graph.opaque is not None:
        require_ops([graph.opaque], "code generation")
    if lang not in _WRITERS:
        raise InputError(f"--lang `{printable(lang)}` is not a target: the targets are {', '.join(LANGS)}")
    if not _IDENT.fullmatch(name) or name in RESERVED[lang] or name in ("math", "np"):
        raise InputError(f"--name `{printable(name)}` cannot name a function in {lang}: "
                         "use letters, digits and `_` (not first a digit), and not a keyword")
    if dialect not in DIALECTS:
        raise InputError(f"--dialect `{printable(dialect)}` is not an SQL dialect: the dialects are "
                         + ", ".join(DIALECTS))
    if lang == "sql" and not all(_IDENT.fullmatch(part) for part in table.split(".")):
        raise InputError(f"--sql-table `{printable(table)}` is not a table name: use letters, digits, `_` and `.`")
    from .engine import paused_gc

    with paused_gc():      # millions of small objects and no cycles
        plan = Plan(graph, wrt, defaults, _PG_ATOMS if lang == "sql" and dialect == "postgres" else None)
        if lang == "sql":
            unknown = [c for c in columns if c not in graph.leaves]
            if unknown:
                raise InputError(f"--sql-columns: `{printable(unknown[0])}` is not a leaf of the program: "
                                 f"the leaves are {', '.join(graph.leaves) or 'none'}")
            code = _SQL(plan, lang, name, dialect, columns).write(table)
        else:
            writer = _WRITERS[lang](plan, lang, name)
            writer.esm = esm
            code = writer.write()
    return Generated(code, plan)


def js_rules() -> dict[str, dict[str, object]]:
    """Each op of ``ops.OPS`` as JavaScript, for the live page (page.py):
    ``{"forward": "Math.log(x)", "guards": [["x <= 0", "log needs a positive
    number"]], "partials": ["1 / x"], "chains": ["g / x"]}``. Operands are
    ``x`` (and ``y``), the op's result ``out``, the upstream gradient ``g``.
    ``guards``: where the op is undefined, each condition with the row's own
    words; ``partials``: the local derivatives (the chain rules with g = 1);
    ``chains``: what each operand receives from ``g``, as ``grad`` computes
    it (``log`` divides). All through this module's one printer and its
    ``js`` column, on a tape that keeps NaN as ``grad`` does (``g * 0`` stays
    a product), with the rules' corner conventions."""
    rules: dict[str, dict[str, object]] = {}
    for op_name, op in OPS.items():
        tape = _RulesTape(keep_nan=True)
        args = [tape.leaf(n, "input") for n in ("x", "y")[:op.arity]]
        g = tape.leaf("g", "input")
        out = tape.make(op_name, tuple(args))
        partials, chains = [], []
        for rule in op.chain:
            for upstream, into in ((1.0, partials), (g, chains)):
                into.append(tape.lift(rule(tape, upstream, *args, out)))
        names = {a.index: a.label for a in (*args, g)} | {out.index: "out"}
        printer = _LoosePrinter(tape, names)
        known = [None] * op.arity
        rules[op_name] = {
            "forward": printer.expr(out),
            "guards": [[g.template("js").format(*("x", "y")[:op.arity]), g.reason]
                       for g in GUARDS[op_name] if g.possible(known)],
            "partials": [printer.operand(d) for d in partials],
            "chains": [printer.operand(d) for d in chains]}
    return rules


class _RulesTape(CodeTape):
    """The page's rules are one expression each, with no names: tanh's
    derivative as two sigmoids (CodeTape's one-exp form needs its names)."""

    sech2 = Tape.sech2


class _LoosePrinter(Printer):
    """A printer for a tape without a plan: the given names, the rest inline."""

    class _NoPlan:
        folded: dict[int, float] = {}

    def __init__(self, tape: Tape, names: dict[int, str]):
        self.lang = "js"
        self.names = names
        self.plan = self._NoPlan()   # type: ignore[assignment]
