"""Descend: gradient descent (or ascent) on a program's leaves.

Each step is the lecture's loop on one graph, never re-parsed: forward,
zero the grads, backward, then nudge every parameter against its gradient
(``p -= lr * grad``; ``+=`` to maximize). ``--tol`` stops early once every
parameter's gradient is at most ``tol`` in size. A step that takes the
program out of its domain or makes the loss overflow raises ``DomainError``
saying which step it was and suggesting a smaller rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from .engine import Graph
from .errors import DomainError, InputError, did_you_mean, words

LR = 0.01
STEPS = 100


@dataclass
class Result:
    params: dict[str, float]      # the final value of each parameter
    loss: float                   # the loss at the final values
    first: float                  # the loss at the start
    steps: int                    # updates made
    stopped: str                  # "steps" (ran them all) or "tol" (gradient small enough)
    grads: dict[str, float]       # the gradient at the final values


def parameters(graph: Graph, wrt: Sequence[str] | None) -> list[str]:
    """The leaves to move: every leaf, or those named; a name that is not a
    leaf is an error (descent moves values, and only leaves have one)."""
    if wrt is None:
        if not graph.leaves:
            raise InputError("the program has no leaves: there is nothing to descend on")
        return list(graph.leaves)
    for name in wrt:
        if name not in graph.leaves:
            what = ("is computed by the program, not a leaf" if name in graph.names
                    else "is not a name in the program")
            raise InputError(f"--wrt `{name}` {what}: descend moves leaves only",
                             notes=did_you_mean(name, graph.leaves) or
                             [f"the program's leaves are {words([f'`{n}`' for n in graph.leaves])}"
                              if graph.leaves else "the program has no leaves"])
    return list(wrt)


Callback = Callable[[int, float, Sequence[float]], None]


def descend(graph: Graph, names: Sequence[str], lr: float = LR, steps: int = STEPS,
            tol: float | None = None, maximize: bool = False,
            on_step: Callback | None = None) -> Result:
    """Run up to ``steps`` updates on the leaves ``names``. ``on_step(k,
    loss, values)`` is called with the loss and parameter values before
    update ``k`` (from 0) and once more after the last update."""
    leaves = [graph.leaves[n] for n in names]
    sign = 1.0 if maximize else -1.0
    first = graph.output.data
    stopped = "steps"
    k = 0
    while True:
        try:
            loss = graph.forward()
            graph.backward(leaves)           # zeroes every grad, then backpropagates
        except DomainError as e:
            if k == 0:
                raise
            raise _diverged(e, k, lr, names, [leaf.data for leaf in leaves]) from None
        values = [leaf.data for leaf in leaves]
        if on_step is not None:
            on_step(k, loss, values)
        if tol is not None and all(abs(leaf.grad) <= tol for leaf in leaves):
            stopped = "tol"
            break
        if k == steps:
            break
        for leaf in leaves:
            leaf.data += sign * lr * leaf.grad
        k += 1
    return Result({n: leaf.data for n, leaf in zip(names, leaves)}, loss, first, k, stopped,
                  {n: leaf.grad for n, leaf in zip(names, leaves)})


def _diverged(e: DomainError, k: int, lr: float, names: Sequence[str], values: Sequence[float]) -> DomainError:
    from .render import full, short

    at = ", ".join(f"{n} = {short(v)}" for n, v in zip(names, values))
    notes = [f"step {k} moved the parameters to {at}",
             f"the learning rate {full(lr)} may be too large: try a smaller one, such as --lr {short(lr / 10)}"]
    return DomainError(f"step {k} made the loss not finite: {e.message}", e.pos, notes + e.notes, op=e.op, operands=e.operands)


def bindings(params: dict[str, float]) -> str:
    """``NAME=VALUE`` lines at full precision: arguments for any gradcli command."""
    from .render import full

    return "".join(f"{n}={full(v)}\n" for n, v in params.items())


def as_json(result: Result) -> str:
    import json

    return json.dumps({"value": result.loss + 0.0, "params": result.params, "grad": result.grads,
                       "initial": result.first + 0.0, "steps": result.steps, "stopped": result.stopped})


class CsvLog:
    """``--log FILE``: a CSV of step, loss and each parameter, one row per
    step (the values before that step's update) and one for the end. A
    context manager: the log is written whole when the run ends well, and a
    failed or interrupted run leaves what was at FILE before
    (``safeio.atomic_open``)."""

    def __init__(self, path: str, names: Sequence[str], stream=None):
        self.path, self.names, self.stream = path, list(names), stream

    def __enter__(self) -> "CsvLog":
        import contextlib
        import csv

        from .safeio import atomic_open

        # ``stream``: the log goes there instead (``--log -``: the command
        # line holds it and prints it once the run has ended well).
        self._open = (contextlib.nullcontext(self.stream) if self.stream is not None
                      else atomic_open(self.path, "w", "the log", newline=""))
        self.writer = csv.writer(self._open.__enter__())
        self.writer.writerow(["step", "loss", *self.names])
        return self

    def __exit__(self, *exc) -> None:
        self._open.__exit__(*exc)

    def __call__(self, k: int, loss: float, values: Sequence[float]) -> None:
        self.writer.writerow([k, repr(loss), *(repr(v) for v in values)])
