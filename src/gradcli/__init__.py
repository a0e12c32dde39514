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

``gradcli.Value`` builds graphs by hand, as micrograd does (a drop-in for
micrograd's ``Value``, backward semantics included), ``gradcli.draw(v,
format)`` draws them, and in Jupyter a Value or a Graph shows its number
and, below it, its graph (docs/notebook.md);
``%load_ext gradcli`` adds the ``%%gradcli COMMAND ...`` cell magic
(notebook.py).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = [
    "parse", "build", "evaluate", "grad", "diff", "Value", "Graph", "Program",
    "GradcliError", "ParseError", "ProgramError", "InputError", "DomainError",
    "DivisionByZero", "Overflow", "OPS", "FUNCTIONS", "draw", "load_ipython_extension", "uncertainty",
]

# The modules `parse` and `build` share their names with the functions they
# define; importing the functions here makes `gradcli.parse` the function.
from .build import build, resolve  # noqa: E402
from .engine import Graph, Value  # noqa: E402
from .errors import DomainError, GradcliError, InputError, ParseError, ProgramError  # noqa: E402
from .ops import FUNCTIONS, OPS  # noqa: E402
from .parse import parse  # noqa: E402
from .syntax import Program  # noqa: E402
from . import draw  # noqa: E402  (the module is callable: gradcli.draw(v, "svg"))


def _live_page(*args, **kwargs) -> str:
    """The live page (page.py), for draw's "html": imported when first asked for."""
    from .page import html

    return html(*args, **kwargs)


draw.WRITERS["html"] = _live_page
from . import engine as _engine  # noqa: E402
from .engine import DivisionByZero, Overflow  # noqa: E402


def _display(thing, include=None, exclude=None) -> dict:
    """How Jupyter shows a Value or a Graph (``engine.DISPLAY``): notebook.py's
    ``mimebundle``, imported the first time a notebook shows one. Set from
    here, the top of the house, so the engine imports nothing above it."""
    from .notebook import mimebundle

    return mimebundle(thing, include, exclude)


if _engine.DISPLAY is None:
    _engine.DISPLAY = _display


def load_ipython_extension(ipython) -> None:
    """``%load_ext gradcli`` in IPython or Jupyter: adds ``%%gradcli``."""
    from .notebook import load_ipython_extension as load

    load(ipython)


def evaluate(program: str, **inputs: float) -> float:
    """The value of a program's output at the given inputs."""
    return build(parse(program), inputs).value


def grad(program: str, wrt: list[str] | None = None, **inputs: float) -> dict[str, float]:
    """The gradient of a program's output with respect to each leaf (or each
    name in ``wrt``) at the given inputs."""
    graph = build(parse(program), inputs)
    return graph.gradients(None if wrt is None else resolve(graph, wrt))


def diff(program: str, wrt: str, order: int = 1) -> str:
    """The derivative of a program's output with respect to ``wrt``, ``order``
    times, printed as a program in gradcli's own language (what
    ``gradcli diff`` prints)::

        >>> import gradcli
        >>> gradcli.diff("x**3 - 2*x", "x", order=2)
        '6*x'
    """
    from .build import structure
    from .symbolic import derivative
    from .unparse import program as unparse

    return unparse(derivative(structure(parse(program)), wrt, order))


def __getattr__(name: str):
    """``gradcli.uncertainty`` (the module, callable: ``gradcli.uncertainty("x*y",
    x="2±0.1", y=3)`` gives the budget) is imported when first used, not by
    every command's start-up."""
    if name == "uncertainty":
        import importlib

        return importlib.import_module(f"{__name__}.uncertainty")   # sets the attribute too
    raise AttributeError(f"module 'gradcli' has no attribute {name!r}")
