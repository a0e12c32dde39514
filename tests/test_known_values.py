"""Known values: micrograd's README example, the lecture's L and neuron, reuse."""

from __future__ import annotations

import math

import pytest

import gradcli
from tests.conftest import EXAMPLES

MICROGRAD = (EXAMPLES / "micrograd_readme.grad").read_text()


def test_micrograd_readme_program():
    graph = gradcli.build(gradcli.parse(MICROGRAD))
    grads = graph.gradients()
    assert list(grads) == ["a", "b"]
    assert graph.value == pytest.approx(24.70408163265306, rel=1e-15)
    assert grads["a"] == pytest.approx(138.83381924198252, rel=1e-12)
    assert grads["b"] == pytest.approx(645.5772594752187, rel=1e-12)
    # the contract's four places
    assert (round(graph.value, 4), round(grads["a"], 4), round(grads["b"], 4)) == (24.7041, 138.8338, 645.5773)


def test_lecture_L():
    graph = gradcli.build(gradcli.parse("L = (a*b + c) * f"), {"a": 2, "b": -3, "c": 10, "f": -2})
    assert graph.value == -8.0
    assert graph.gradients() == {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}
    # intermediates: dL/d(a*b + c) = f, dL/dL = 1
    assert graph.names["L"].grad == 1.0


def test_lecture_L_example_file_intermediates():
    graph = gradcli.build(gradcli.parse((EXAMPLES / "lecture_L.grad").read_text()))
    grads = graph.gradients(["a", "b", "c", "f", "e", "d", "L"])
    assert grads == {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0, "e": -2.0, "d": -2.0, "L": 1.0}


def test_lecture_neuron():
    graph = gradcli.build(gradcli.parse((EXAMPLES / "neuron.grad").read_text()))
    grads = graph.gradients()
    assert graph.value == pytest.approx(math.sqrt(0.5), rel=1e-12)
    assert list(grads) == ["x1", "x2", "w1", "w2", "b"]
    assert grads["x1"] == pytest.approx(-1.5)
    assert grads["w1"] == pytest.approx(1.0)
    assert grads["x2"] == pytest.approx(0.5)
    assert grads["w2"] == 0.0
    assert grads["b"] == pytest.approx(0.5)
    # tanh's local derivative: 1 - o**2 = 0.5
    assert graph.names["n"].grad == pytest.approx(0.5)


def test_reuse_accumulates():
    """The lecture's bug: b = a + a must give db/da = 2, not 1."""
    assert gradcli.grad("b = a + a", a=3) == {"a": 2.0}
    assert gradcli.grad("a*a", a=3) == {"a": 6.0}
    graph = gradcli.build(gradcli.parse((EXAMPLES / "reuse.grad").read_text()))
    assert graph.value == 6.0 and graph.gradients() == {"a": 2.0}


def test_library_shortcuts():
    assert gradcli.evaluate("x**2 + 1", x=3) == 10.0
    assert gradcli.grad("x**2 + y", x=3, y=1) == {"x": 6.0, "y": 1.0}
    assert gradcli.grad("x**2 + y", wrt=["y"], x=3, y=1) == {"y": 1.0}


def test_library_docstrings_run():
    import doctest

    result = doctest.testmod(gradcli)
    assert result.attempted >= 5 and result.failed == 0


def test_library_diff_is_a_program_that_gives_grad():
    printed = gradcli.diff("tanh(w*x)", "w")
    assert gradcli.evaluate(printed, w=0.5, x=2) == gradcli.grad("tanh(w*x)", w=0.5, x=2)["w"]
    assert gradcli.diff("(a*b + c) * f", "a") == "b*f"
