"""Programs of a million nodes: parsed, built and differentiated with no
recursion, and right (checked against a plain Python loop)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from gradcli.build import build
from gradcli.parse import parse


def chain(lines: int) -> str:
    return "w = 0.9\nc = 0.1\nh = 0.5\n" + "h = tanh(h * w + c)\n" * lines


def chain_by_hand(lines: int):
    """Value and gradients of `chain` by forward-mode in plain Python."""
    h, dh_dw, dh_dc, dh_dh0 = 0.5, 0.0, 0.0, 1.0
    for _ in range(lines):
        t = math.tanh(h * 0.9 + 0.1)
        s = 1 - t * t
        dh_dw, dh_dc, dh_dh0 = s * (h + 0.9 * dh_dw), s * (1 + 0.9 * dh_dc), s * 0.9 * dh_dh0
        h = t
    return h, {"w": dh_dw, "c": dh_dc, "h": dh_dh0}


def check_chain(lines: int):
    graph = build(parse(chain(lines)))
    assert len(graph.nodes) == 3 * lines + 3
    value, grads = chain_by_hand(lines)
    assert graph.value == pytest.approx(value, rel=1e-12)
    got = graph.gradients()
    for name in ("w", "c", "h"):
        assert got[name] == pytest.approx(grads[name], rel=1e-9, abs=1e-300)


def test_a_deep_chain_of_sixty_thousand_nodes():
    check_chain(20_000)


def test_one_expression_a_hundred_thousand_terms_wide_and_deep():
    n = 50_000
    text = "s = " + " + ".join(f"x{i % 100} * {i % 7}" for i in range(n))
    graph = build(parse(text), {f"x{j}": 1.0 for j in range(100)})
    assert graph.value == sum(i % 7 for i in range(n))
    grads = graph.gradients()
    assert grads["x3"] == sum(i % 7 for i in range(3, n, 100))


@pytest.mark.slow
def test_a_million_nodes():
    check_chain(333_333)


@pytest.mark.slow
def test_a_million_node_program_from_the_command_line(tmp_path):
    program = tmp_path / "chain.grad"
    program.write_text(chain(333_333))
    out = subprocess.run([sys.executable, "-m", "gradcli", "grad", "-f", str(program), "--json"],
                         capture_output=True, text=True, check=True).stdout
    import json

    result = json.loads(out)
    value, grads = chain_by_hand(333_333)
    assert result["value"] == pytest.approx(value, rel=1e-12)
    assert result["grad"]["w"] == pytest.approx(grads["w"], rel=1e-9)
