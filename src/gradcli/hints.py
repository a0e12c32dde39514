"""Hints for the usual mistakes: each turns an error a new user hits first
into one that says what to type instead, in gradcli's own error style.

Seen in first-contact sessions (issue 12), each with its pinned text in
tests/test_hints.py:

- a file's name given as the program (``gradcli grad examples/L.grad``):
  "`examples/L.grad` is a file: read the program from it with -f";
- ``a = 2`` or ``a= 2`` as separate words on the command line: "write `a=2`";
- names from other languages and the lecture: ``ln`` -> ``log``,
  ``arctan`` -> ``atan`` (when gradcli has it), ``Value(2.0)`` -> ``a = 2.0``;
- ``pi``, ``e`` read as inputs: gradcli has no built-in constants, bind
  ``pi=3.141592653589793`` (``exp(x)`` for e**x);
- ``2x``: "write `2*x`";
- ``x^1/2`` parses as ``(x^1)/2``, as in Python: a warning that says so.

Python and lecture habits (issue 25):

- ``math.sin(x)``, ``np.exp(x)``: read as the method call ``sin(math, x)``
  ("takes 1 argument, not 2"); the hint says the functions need no module;
- ``a.data * 2``, ``a.grad``: micrograd's attributes; a name is its value;
- ``f(x) = x**2``: no function definitions; the program is the body;
- ``x=3,y=2``: bindings are separate words;
- ``-p 3`` after the program: no such option (``--precision``?), said by
  the command line (cli.py) rather than "not a binding";
- ``gradcli grad mymodel.grad`` where no such file exists: it looks like
  a file name, and ``-f`` reads a file;
- ``gradcli grad a=2`` (the program forgotten): the program is one word
  ``NAME=NUMBER``, which reads as a binding: a warning when it runs, a note
  when a binding after it fails.

Nothing here decides whether something is an error; it only adds notes to
errors (``amend``) or returns notes for their makers to add. Only the error
path imports it.
"""

from __future__ import annotations

import math
import os
import re
from typing import Iterable, Sequence

from .errors import GradcliError, InputError, ParseError, ProgramError
from .safeio import printable

# Other languages' names for gradcli's functions (the value: gradcli's name).
ALIASES = {
    "ln": "log", "log_e": "log", "loge": "log", "arctan": "atan", "arcsin": "asin", "arccos": "acos",
    "arctanh": "atanh", "arcsinh": "asinh", "arccosh": "acosh", "atan2": None, "fabs": "abs",
    "sqr": None, "square": None, "expm1": None, "power": "pow", "maximum": "max", "minimum": "min",
    "logistic": "sigmoid", "expit": "sigmoid", "sgn": "sign", "signum": "sign", "heaviside": "step",
    "ReLU": "relu", "Relu": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid",
}
# How to write what has no function of its own.
SPELLED = {"sqr": "x**2", "square": "x**2", "expm1": "exp(x) - 1", "atan2": "atan(y/x) (when x > 0)",
           "log10": "log(x)/log(10)", "log2": "log(x)/log(2)", "cbrt": "x**(1/3) (for x > 0)"}

CONSTANTS = {"pi": math.pi, "tau": math.tau, "e": math.e}


def unknown_function(name: str, known: Iterable[str]) -> list[str]:
    """Notes for an unknown function ``name``; empty when there is no hint."""
    known = set(known)
    if name == "Value":
        return ["gradcli needs no `Value(...)`: a number is a value, so write `a = 2.0` "
                "for the lecture's `a = Value(2.0)`"]
    target = ALIASES.get(name, name.lower() if name.lower() in known else None)
    if target is not None and target in known:
        return [f"gradcli calls it `{target}`: write `{target}(x)`"]
    if name in SPELLED or (target is None and name in ALIASES and name in SPELLED):
        return [f"gradcli has no `{name}`: write `{SPELLED[name]}`"]
    if name in ALIASES:
        from .errors import words

        return [f"gradcli has no `{name}` under any name; the functions are {words(sorted(known))}"]
    if name in CONSTANTS:
        return [f"`{name}` is not a function; gradcli has no built-in constants: bind "
                f"{name}={CONSTANTS[name]!r}"]
    return []


def missing_inputs(names: Sequence[str]) -> list[str]:
    """Notes for missing inputs that are constants in other tools."""
    notes = []
    for name in names:
        if name in CONSTANTS:
            note = f"gradcli has no built-in constants: bind {name}={CONSTANTS[name]!r}"
            if name == "e":
                note += ", or write `exp(x)` for e**x"
            notes.append(note)
    return notes


def check_bindings(bindings: Sequence[str]) -> None:
    """A binding written as separate words (``a = 2``, ``a= 2``, ``a =2``) is
    an InputError that says to write ``a=2``; ``x=3,y=2`` one that says to
    write ``x=3 y=2``."""
    n = len(bindings)
    for word in bindings:
        parts = [p.strip() for p in re.split(r"[,;]", word)]
        if len(parts) > 1 and all(_ONE_BINDING.fullmatch(p) for p in parts if p) and "=" in word:
            raise InputError(f"`{printable(word)}`: bindings are separate words, not a list",
                             notes=[f"write `{' '.join(printable(p) for p in parts if p)}`"])
    for k, word in enumerate(bindings):
        name = value = None
        if word == "=" and 0 < k < n - 1 and "=" not in bindings[k - 1]:
            name, value, shown = bindings[k - 1], bindings[k + 1], " ".join(bindings[k - 1:k + 2])
        elif word.endswith("=") and word.count("=") == 1 and len(word) > 1 and k < n - 1 \
                and "=" not in bindings[k + 1]:
            name, value, shown = word[:-1], bindings[k + 1], f"{word} {bindings[k + 1]}"
        elif word.startswith("=") and len(word) > 1 and k > 0 and "=" not in bindings[k - 1]:
            name, value, shown = bindings[k - 1], word[1:], f"{bindings[k - 1]} {word}"
        if name is not None:
            raise InputError(f"`{printable(shown)}`: a binding is one word, with no spaces",
                             notes=[f"write `{printable(name)}={printable(value)}`"])


# Module names people write before a function out of habit.
MODULES = ("math", "np", "numpy", "torch", "jnp", "jax", "cmath", "F", "tf", "scipy", "sp", "sympy", "mp",
           "mpmath", "nn")
_MODULE_CALL = re.compile(r"\b(" + "|".join(MODULES) + r")\s*\.\s*$")
_ATTRIBUTE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\.\s*(data|grad)\s*$")
_DEFINITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*(?:\s*,\s*"
                         r"[A-Za-z_][A-Za-z0-9_]*)*)\s*\)\s*$")
_FILE_NAME = re.compile(r"[^\s=*+()]*[A-Za-z0-9_]\.(?:grad|txt|py|gc|prog|expr)|[^\s=*+()]*/[^\s=*+()]*")
# A program that is one binding: `gradcli grad a=2` with the program forgotten.
_ONE_BINDING = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=[+-]?[0-9.][0-9.eE+-]*")


def forgotten_program(text: str) -> bool:
    """The program's text is one word ``NAME=NUMBER``: most likely a
    binding, with the program itself forgotten."""
    return bool(_ONE_BINDING.fullmatch(text))


def forgotten_program_warning(text: str) -> GradcliError:
    w = GradcliError(f"the program is `{printable(text)}`, which reads like a binding: was the program "
                     "forgotten?",
                     notes=[f"the program comes first, then the bindings: `\"a*b\" {printable(text)} b=3`; "
                            f"a program that only sets a leaf reads better with spaces: `\"{_spaced(text)}\"`"])
    w.kind = "warning"
    return w


def _spaced(text: str) -> str:
    name, _, value = text.partition("=")
    return f"{printable(name)} = {printable(value)}"


_NUMBER_BEFORE = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_NAME_AT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TWO_VALUES = "two values need an operator between them, such as `*`"


def amend(error: GradcliError, text: str, from_argument: bool) -> None:
    """Add the notes that fit ``error``, raised for the program ``text``
    (given on the command line itself when ``from_argument``)."""
    if from_argument and isinstance(error, (ParseError, ProgramError, InputError)):
        candidate = text.strip()
        if candidate and "\n" not in candidate and _is_file(candidate):
            error.notes.append(f"`{printable(candidate)}` is a file: read the program from it with "
                               f"`-f {printable(candidate)}`")
    looks_like_a_file = False
    if from_argument and isinstance(error, ParseError):
        candidate = text.strip()
        looks_like_a_file = bool(_FILE_NAME.fullmatch(candidate))
        if looks_like_a_file and not _is_file(candidate):
            error.notes.append(f"`{printable(candidate)}` looks like a file name, but there is no such file "
                               f"here; to read the program from a file, use `-f FILE`")
    if isinstance(error, ProgramError) and error.pos is not None and "argument" in error.message:
        lines = text.split("\n")
        if 1 <= error.pos.line <= len(lines):
            line = lines[error.pos.line - 1]
            m = _MODULE_CALL.search(line[:error.pos.column - 1])
            function = line[error.pos.column - 1:].split("(")[0].strip()
            if m and function:
                error.message = f"`{m.group(1)}.{function}(...)`: gradcli's functions belong to no module"
                error.notes.append(f"write `{function}(x)`: `{m.group(1)}.{function}(x)` reads as the method "
                                   f"call `{function}({m.group(1)}, x)`")
    if isinstance(error, InputError) and error.message.startswith("--of `"):
        name = error.message.split("`")[1]
        if "." in name or "/" in name:
            error.notes.append(f"--of picks a node of the program, not a file; to write a file, "
                               f"use `-o {name}`")
    if isinstance(error, ParseError) and error.pos is not None:
        lines = text.split("\n")
        if 1 <= error.pos.line <= len(lines):
            line = lines[error.pos.line - 1]
            before, at = line[:error.pos.column - 1], line[error.pos.column - 1:]
            number, name = _NUMBER_BEFORE.search(before), _NAME_AT.match(at)
            if number and name and not before[:number.start()].endswith(("_",)) \
                    and not re.search(r"[A-Za-z_]$", before[:number.start()]):
                error.notes = [n for n in error.notes if n != _TWO_VALUES]
                error.notes.append(f"`{number.group()}{name.group()}`: write `{number.group()}*{name.group()}`")
        if at.startswith("=") and not at.startswith("==") and error.pos.line == 1 \
                and (m := _DEFINITION.match(before)):
            error.notes.append(f"gradcli has no function definitions: the program is the function's body; "
                               f"write `{m.group(1)} = {at[1:].strip() or '...'}` and bind "
                               f"{' '.join(a.strip() + '=...' for a in m.group(2).split(','))} after it")
        if (m := _ATTRIBUTE.search(before)) and not at.lstrip().startswith("(") and not looks_like_a_file:
            name, attribute = m.groups()
            error.notes.append(f"`{name}.{attribute}` is micrograd's attribute; in gradcli a name is its value: "
                               + (f"write `{name}`" if attribute == "data" else
                                  f"gradients are what `gradcli grad` prints (`--wrt {name}`)"))
        if re.search(r"\bValue\s*\(", text) and not any("Value(" in n for n in error.notes):
            error.notes.append("gradcli needs no `Value(...)`: a number is a value, so write `a = 2.0` "
                               "for the lecture's `a = Value(2.0, label='a')`")


def _is_file(text: str) -> bool:
    try:
        return os.path.isfile(text)
    except (OSError, ValueError):
        return False


_ONE_OVER = re.compile(r"(?P<base>[A-Za-z_][A-Za-z0-9_]*|[0-9.]+|\))?\s*(?P<op>\^|\*\*)\s*1\s*/\s*"
                       r"(?P<d>[0-9]+(?:\.[0-9]*)?)")


def warnings(text: str) -> list[GradcliError]:
    """Programs that parse, but likely not as meant: ``x^1/2`` is ``(x^1)/2``."""
    from .syntax import Pos

    found = []
    for k, line in enumerate(text.split("\n"), 1):
        code = line.split("#", 1)[0]
        for m in _ONE_OVER.finditer(code):
            base = m.group("base") or ""
            shown = "(...)" if base == ")" else base or "x"
            op, d = m.group("op"), m.group("d")
            start = m.start("op")
            w = GradcliError(f"`{shown}{op}1/{d}` is `({shown}{op}1)/{d}`: a power binds tighter than `/`, "
                             "as in Python", Pos(k, start + 1, m.end() - start),
                             [f"for the root, write `{shown}{op}(1/{d})`"])
            w.kind = "warning"
            found.append(w)
    return found
