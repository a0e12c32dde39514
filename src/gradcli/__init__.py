"""gradcli: a command-line expression differentiator with a real reverse-mode
autograd engine.

The library is what the command line runs::

    >>> import gradcli
    >>> g = gradcli.build(gradcli.parse("L = (a*b + c) * f"), {"a": 2, "b": -3, "c": 10, "f": -2})
    >>> g.value
    -8.0
    >>> g.gradients()
    {'a': 6.0, 'b': -4.0, 'c': -2.0, 'f': 4.0}
    >>> gradcli.grad("x**2 + 1", x=3)
    {'x': 6.0}

and ``gradcli.Value`` builds graphs by hand, as micrograd does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = [
    "parse", "build", "evaluate", "grad", "Value", "Graph", "Program",
    "GradcliError", "ParseError", "ProgramError", "InputError", "DomainError",
    "OPS", "FUNCTIONS",
]

# Submodules are imported on first use, so `gradcli --version` and the parts
# of the command line that need no parser stay quick to start.
_LAZY = {
    "parse": "parse", "build": "build", "Value": "engine", "Graph": "engine",
    "Program": "syntax", "GradcliError": "errors", "ParseError": "errors",
    "ProgramError": "errors", "InputError": "errors", "DomainError": "errors",
    "OPS": "ops", "FUNCTIONS": "ops",
}

if TYPE_CHECKING:  # pragma: no cover
    from .build import build
    from .engine import Graph, Value
    from .errors import DomainError, GradcliError, InputError, ParseError, ProgramError
    from .ops import FUNCTIONS, OPS
    from .parse import parse
    from .syntax import Program


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gradcli' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def evaluate(program: str, **inputs: float) -> float:
    """The value of a program's output at the given inputs."""
    from .build import build
    from .parse import parse

    return build(parse(program), inputs).value


def grad(program: str, wrt: list[str] | None = None, **inputs: float) -> dict[str, float]:
    """The gradient of a program's output with respect to each leaf (or each
    name in ``wrt``) at the given inputs."""
    from .build import build, resolve
    from .parse import parse

    graph = build(parse(program), inputs)
    return graph.gradients(None if wrt is None else resolve(graph, wrt))
