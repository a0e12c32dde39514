"""Passes linear in the program (issue 9, items 6 and 7), asserted by counting
work or comparing sizes, never by timing (bench/linear.py measures the time):
the unclosed-`(` notes, diff's names for a reassigned name, check's corners,
check's fast mode, and Graphviz's bounded layout and time limit."""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import importlib

import gradcli
from gradcli import build, check as checking, draw, unparse
from gradcli.build import structure
from gradcli.cli import app
from gradcli.errors import ParseError
from gradcli.ops import FUNCTIONS, OPS
from gradcli.symbolic import derivative

from tests.test_check import _expr

GRADCLI = str(Path(sys.executable).with_name("gradcli"))
parsing = importlib.import_module("gradcli.parse")    # gradcli.parse is the function


def syntax_error(text: str) -> ParseError:
    with pytest.raises(ParseError) as e:
        gradcli.parse(text)
    return e.value


def graph(src: str, **inputs: float):
    return build(gradcli.parse(src), inputs)


def invoke(*args: str):
    runner = CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames \
        else CliRunner()
    return runner.invoke(app, list(args))


# ------------------------------------------------------- unclosed parentheses

def test_many_unclosed_parens_get_one_note():
    text = "(" * 100_000 + "a"
    e = syntax_error(text)
    assert e.message == "expected an operator or `)`, found the end of the input"
    assert str(e.pos) == "1:100002"
    assert e.notes == ["100,000 `(` are never closed: the first at 1:1, the last at 1:100000"]


def test_a_few_unclosed_parens_get_a_note_each():
    e = syntax_error("y = (a * (b +\n  (c")        # the error is at the end of line 1
    assert str(e.pos) == "1:14"
    assert e.notes == ["the `(` at 1:5 is never closed", "the `(` at 1:10 is never closed"]
    e = syntax_error("((a +\t(b")
    assert e.notes == [f"the `(` at 1:{c} is never closed" for c in (1, 2, 7)]
    e = syntax_error("((((a")
    assert e.notes == ["4 `(` are never closed: the first at 1:1, the last at 1:4"]


def test_deeply_nested_error_text():
    # a program nested 50,000 deep, with the error in its innermost part
    text = "y = " + "exp(" * 50_000 + "a +" + ")" * 50_000
    e = syntax_error(text)
    assert e.message == "expected a number, a name, `(` or a sign, found `)`"
    assert str(e.pos) == f"1:{4 + 4 * 50_000 + 4}"
    rendered = e.render(text)
    assert rendered.splitlines()[-1].endswith("^")
    # the same nesting closed is a program
    x = 0.5
    for _ in range(2_000):
        x = math.sin(x)
    assert gradcli.evaluate("sin(" * 2_000 + "a" + ")" * 2_000, a=0.5) == x


def test_the_unclosed_notes_scan_the_text_a_bounded_number_of_times(monkeypatch):
    """Each place is found by a scan of the text before it; the number of
    scans does not grow with the number of `(` (it did: one per `(`)."""
    calls = []
    real = parsing._line_col
    monkeypatch.setattr(parsing, "_line_col", lambda text, offset: calls.append(offset) or real(text, offset))
    for n in (10, 1_000, 40_000):
        calls.clear()
        syntax_error("(" * n + "a")
        assert len(calls) <= parsing.OPEN_NOTES + 1


def test_cli_error_for_many_parens_is_short():
    got = subprocess.run([GRADCLI, "eval", "-"], input=("(" * 200_000 + "a").encode(), capture_output=True)
    assert got.returncode == 2 and got.stdout == b""
    err = got.stderr.decode()
    assert err.count("never closed") == 1
    assert "200,000 `(` are never closed: the first at 1:1, the last at 1:200000" in err


# ------------------------------------------------------- diff: reassigned names

@pytest.mark.parametrize("n", [1_000, 4_000])
def test_names_for_a_reassigned_name_take_linear_work(n):
    src = "x = a\n" + "x = x*a + b\n" * n
    d = derivative(structure(gradcli.parse(src)), "a")
    plan = unparse._Plan(d, keep_labels=True)
    named = len(plan.names)
    assert named > n                        # every step keeps a name of its own
    assert plan.probes <= 2 * named         # was about n**2 / 2
    text = unparse.program(d)
    names = [line.split(" = ")[0] for line in text.splitlines()]
    assert len(names) == len(set(names))    # no name assigned twice


def test_suffixes_skip_names_the_program_already_uses():
    # x_2 is taken by the source: the reassigned x's get x_3, x_4, ...
    src = "x_2 = 1\nx = a\nx = x*x + x_2\nx = x*x + x_2\nx = x*x"
    d = derivative(structure(gradcli.parse(src)), "a")
    text = unparse.program(d)
    lines = text.splitlines()
    assert sum(line.startswith("x_2 = ") for line in lines) == 1
    inputs = {"a": 0.7}
    assert gradcli.evaluate(text, **inputs) == pytest.approx(
        gradcli.grad(src, **inputs)["a"], rel=1e-12)


# -------------------------------------------------------------- check: corners

def _brute_force(g, corners, targets):
    """Which corners each target's gradient flows through, by one walk per corner."""
    ups = []
    for k in corners:
        seen, stack = set(), list(k.node.children)
        while stack:
            node = stack.pop()
            if node.index not in seen:
                seen.add(node.index)
                stack.extend(node.children)
        ups.append(seen)
    return [tuple(i for i, up in enumerate(ups) if t.index in up) for t in targets]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["relu", "abs", "*", "+", "max"]),
                          st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=40),
       st.integers(0, 3))
def test_capped_corner_lists_match_brute_force(steps, zeros):
    # leaves some at 0 (corners for relu and abs), built on one another at random
    lines, names = [], [f"x{i}" for i in range(4)]
    for op, i, j in steps:
        a, b = names[i % len(names)], names[j % len(names)]
        expr = f"{op}({a})" if op in ("relu", "abs") else (f"max({a}, {b})" if op == "max" else f"{a} {op} {b}")
        names.append(f"t{len(lines)}")
        lines.append(f"{names[-1]} = {expr}")
    src = "\n".join(lines + [" + ".join(names[4:])])
    g = graph(src, **{f"x{i}": (0.0 if i < zeros else 0.5 + i) for i in range(4) if f"x{i}" in src})
    g.backward(check=())
    corners = checking.kinks(g)
    targets = [n for n in g.nodes[:g.output.index + 1] if n.kind != "const"]
    through, affects = checking._corner_lists(g, corners, targets)
    exact = _brute_force(g, corners, targets)
    for got, want in zip(through, exact):
        assert got == want[:checking.LISTED + 1]
    for i, got in enumerate(affects):
        want = tuple(j for j, t in enumerate(targets) if i in exact[j])
        assert got == want[:checking.LISTED + 1]


def test_corners_of_a_long_chain_take_bounded_space():
    """8,000 corners on a chain: every gradient flows through all of them;
    each list keeps LISTED + 1 (it kept a set of upstream nodes per corner)."""
    n = 8_000
    src = "s = x\n" + "s = relu(s * 0) + s * y\n" * n
    g = graph(src, x=0.5, y=1.0)
    g.backward(check=())
    corners = checking.kinks(g)
    assert len(corners) == n
    nodes = [n for n in g.nodes if n.kind != "const"]
    through, affects = checking._corner_lists(g, corners, nodes)
    assert max(map(len, through)) == checking.LISTED + 1
    assert max(map(len, affects)) == checking.LISTED + 1
    report = checking.check(g, mode="full")
    x = report.rows[0]
    assert len(x.kinks) == checking.LISTED and x.more_kinks
    assert all(k.more is False and k.affects == ["x", "y"][:len(k.affects)] for k in report.kinks[:1])


def test_kink_line_says_when_there_are_more():
    src = "".join(f"t{i} = relu(y*x{i} - y*x{i})\n" for i in range(12)) + " + ".join(f"t{i}" for i in range(12))
    inputs = {f"x{i}": 1.0 for i in range(12)}
    result = invoke("check", src, *[f"{k}={v}" for k, v in inputs.items()], "y=2", "--plain", "--mode", "full")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("corner: ")]
    assert len(lines) == 12
    # y flows through every corner; each affects its x_i and y
    assert all(line.endswith(f"it affects y, x{i}") for i, line in enumerate(lines))   # in report order
    obj = json.loads(invoke("check", src, *[f"{k}={v}" for k, v in inputs.items()], "y=2", "--json",
                            "--mode", "full").stdout)
    y = next(r for r in obj["rows"] if r["name"] == "y")
    assert len(y["corners"]) == checking.LISTED and y["more_corners"] is True


# ------------------------------------------------------------ check: fast mode

def _wide(n: int, seed: int = 1) -> tuple[str, dict[str, float]]:
    """A sum of n neurons, each with its own two leaves: 2n + 1 gradients."""
    rng = random.Random(seed)
    src = "s = 0\n" + "".join(f"s = s + tanh(w{i} * x{i}) * 0.5\n" for i in range(n))
    inputs = {}
    for i in range(n):
        inputs[f"w{i}"] = rng.uniform(-1, 1)
        inputs[f"x{i}"] = rng.uniform(-2, 2)
    return src, inputs


def test_fast_mode_passes_a_correct_gradient():
    src, inputs = _wide(200)
    report = checking.check(graph(src, **inputs), mode="fast")
    assert report.ok and report.mode == "fast" and report.checked == 401
    dirs = report.directions
    assert len(dirs) == checking.DIRECTIONS and all(r.gradients == 401 for r in dirs)
    assert all(r.method == "central" and r.verdict == "ok" for r in dirs)
    summary = checking.summary(report)
    assert summary.startswith("ok: all 401 gradients agree with finite differences along 4 random directions")
    assert "fast mode, seed 0" in summary


def _wrong(monkeypatch, name: str, base: str, chain) -> None:
    """A test-only op ``name``: ``base`` with a wrong derivative."""
    wrong = OPS[base]._replace(name=name, chain=(chain,), text=None)
    monkeypatch.setitem(OPS, name, wrong)
    monkeypatch.setitem(FUNCTIONS, name, wrong)


def test_fast_mode_catches_a_wrong_rule_and_finds_the_gradient(monkeypatch):
    src, inputs = _wide(200)
    src += "s = s + wrongsin(q) * 3\n"
    _wrong(monkeypatch, "wrongsin", "sin", lambda m, g, x, o: g * m.cos(x) * 1.01)   # 1% too big
    report = checking.check(graph(src, q=0.4, **inputs), mode="fast")
    assert not report.ok
    assert all(r.verdict == "FAIL" for r in report.directions)
    culprits = [r for r in report.rows if r.node is not None]
    assert [(r.name, r.verdict) for r in culprits] == [("q", "FAIL")]
    assert culprits[0].numeric == pytest.approx(3 * 0.9210609940028851, rel=1e-6)
    assert checking.summary(report).startswith(
        "FAIL: 4 of 4 random directions disagree with finite differences; the gradient at fault: q")


def test_fast_mode_catches_a_wrong_rule_everywhere(monkeypatch):
    src, inputs = _wide(100)
    src = src.replace("tanh(", "wrongtanh(")
    _wrong(monkeypatch, "wrongtanh", "tanh", lambda m, g, x, o: g * (1.0 - o))   # should be 1 - o**2
    report = checking.check(graph(src, **inputs), mode="fast")
    assert not report.ok
    culprits = [r for r in report.rows if r.node is not None]
    assert len(culprits) >= checking.CULPRITS and all(r.verdict == "FAIL" for r in culprits)
    result = invoke("check", src, *[f"{k}={v!r}" for k, v in inputs.items()], "--plain", "--mode", "fast")
    assert result.exit_code == 1
    assert "FAIL: 4 of 4 random directions disagree" in result.stdout


def test_fast_mode_is_deterministic_and_seeded():
    src, inputs = _wide(50)
    g = graph(src, **inputs)
    one = [(r.grad, r.numeric) for r in checking.check(g, mode="fast").directions]
    two = [(r.grad, r.numeric) for r in checking.check(g, mode="fast").directions]
    other = [(r.grad, r.numeric) for r in checking.check(g, mode="fast", seed=7).directions]
    assert one == two and one != other
    # and the program's values are put back
    assert g.value == gradcli.evaluate(src, **inputs)


def test_fast_mode_every_node_is_the_sum_of_its_parts():
    """With --all, every node is nudged at once as the tape is recomputed;
    the difference is still the dot product of all the gradients (the
    intermediate nodes' too) with the direction."""
    src = "e = a*b; d = e + c; L = d * f; M = tanh(L) * L"
    g = graph(src, a=2, b=-3, c=10, f=-2)
    report = checking.check(g, every=True, mode="fast")
    assert report.ok and report.checked == len(checking.check(g, every=True, mode="full").rows) == 9
    for r in report.directions:
        assert r.numeric == pytest.approx(r.grad, rel=1e-7)


def test_fast_mode_with_corners():
    src = "relu(x) * y + relu(z - z) * y + w * y"
    report = checking.check(graph(src, x=0, y=2, z=1, w=3), mode="fast")
    assert report.ok
    # the gradients through a corner (x and z; y multiplies after it) are
    # few: they get rows of their own
    own = {r.name: r.verdict for r in report.rows if r.node is not None}
    assert own == {"x": "kink", "z": "ok"}     # z - z does not move: z's difference is 0 too
    assert "through a corner" in checking.summary(report)


def test_fast_mode_many_gradients_through_corners():
    n = 40
    src = "s = 0\n" + "".join(f"s = s + relu(x{i}) * y\n" for i in range(n))
    inputs = {f"x{i}": 0.0 for i in range(n)}
    report = checking.check(graph(src, y=1.5, **inputs), mode="fast")
    assert report.ok
    cornered = [r for r in report.directions if r.name.endswith(checking.CORNERED)]
    assert cornered and all(r.verdict == "kink" for r in cornered)


def test_fast_mode_work_does_not_grow_with_the_gradients(monkeypatch):
    """Fast mode runs a fixed number of passes over the tape however many
    gradients there are; full mode runs two per gradient."""
    passes = []
    real = checking._nudged
    monkeypatch.setattr(checking, "_nudged", lambda *a: passes.append(1) or real(*a))
    counts = []
    for n in (50, 200):
        src, inputs = _wide(n)
        passes.clear()
        assert checking.check(graph(src, **inputs), mode="fast").ok
        counts.append(len(passes))
    assert counts[0] == counts[1] == 2 * checking.DIRECTIONS
    work = []
    for n in (50, 200):
        src, inputs = _wide(n)
        g = graph(src, **inputs)
        work.append(checking.full_work(g, list(g.leaves.values())))
    assert work[1] > 10 * work[0]      # full mode: gradients times program size


def test_auto_mode_chooses_by_the_work(monkeypatch):
    src, inputs = _wide(20)
    g = graph(src, **inputs)
    assert checking.check(g, mode="auto").mode == "full"
    monkeypatch.setattr(checking, "FULL_WORK", 100)
    assert checking.check(g, mode="auto").mode == "fast"
    # a few gradients are checked one by one however long the program
    few = graph("s = x\n" + "s = s * 0.999 + y\n" * 500, x=1, y=2)
    assert checking.check(few, mode="auto").mode == "full"


def test_cli_modes_and_json():
    src, inputs = _wide(30)
    args = [src, *[f"{k}={v!r}" for k, v in inputs.items()]]
    fast = invoke("check", *args, "--mode", "fast", "--json")
    assert fast.exit_code == 0
    obj = json.loads(fast.stdout)
    assert obj["mode"] == "fast" and obj["seed"] == 0 and obj["checked"] == 61
    assert [r["name"] for r in obj["rows"]] == ["dir 1", "dir 2", "dir 3", "dir 4"]
    assert all(r["node"] is None and r["data"] is None and r["gradients"] == 61 for r in obj["rows"])
    full = json.loads(invoke("check", *args, "--mode", "full", "--json").stdout)
    assert full["mode"] == "full" and len(full["rows"]) == 61 and "seed" not in full
    plain = invoke("check", *args, "--mode", "fast", "--plain")
    assert plain.exit_code == 0 and plain.stderr == ""
    assert "fast mode: each `dir` row compares the dot product" in plain.stdout
    bad = invoke("check", "x", "x=1", "--mode", "quick")
    assert bad.exit_code == 2 and bad.stdout == ""
    assert "--mode must be one of auto, full, fast, not `quick`" in bad.stderr


def test_progress_on_a_terminal_only(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    src, inputs = _wide(60)
    prog = tmp_path / "wide.grad"
    prog.write_text(src)
    args = ["check", "-f", str(prog), "--mode", "full", "--plain", *[f"{k}={v!r}" for k, v in inputs.items()]]
    piped = subprocess.run([GRADCLI, *args], capture_output=True)
    assert piped.returncode == 0 and piped.stderr == b""
    child = pexpect.spawn(GRADCLI, args, env={**os.environ, "TERM": "xterm", "COLUMNS": "100"}, timeout=300)
    shown = child.read().decode()
    child.close()
    assert child.exitstatus == 0
    assert "check" in shown and "gradients" in shown and "/121" in shown


# ----------------------------------------------------------------- Graphviz

def test_dot_header_bounds_the_layout():
    dot = draw.to_dot(graph("a*b + c", a=1, b=2, c=3))
    assert dot.splitlines()[1].endswith(f"ranksep=0.45, nslimit=1, {draw.LAYOUT_LIMITS}];")


def _nslimit(dot: str) -> float:
    return float(dot.splitlines()[1].split("nslimit=")[1].split(",")[0])


def test_nslimit_shrinks_as_the_layout_grows():
    """The network simplex's iterations (nslimit times the nodes, each
    costing about the layout's size) are kept near LAYOUT_WORK: nslimit
    times nodes times layout size stays put as the picture grows."""
    work = []
    for n in (100, 200, 400):
        src = "s = 0.0\n" + "".join(f"s += tanh(x{i % 10} * {i + 1}.5 + s)\n" for i in range(n))
        g = graph(src, **{f"x{i}": 0.1 * i for i in range(10)})
        pic = draw.select(g)
        dot = draw.to_dot(g, picture=pic)
        nodes = len(pic.nodes) + sum(1 for node in pic.nodes if node.children)
        work.append(_nslimit(dot) * nodes * draw.layout_size(pic))
        assert _nslimit(dot) < 1
    for w in work:
        assert w == pytest.approx(draw.LAYOUT_WORK, rel=0.06)   # nslimit has 2 digits


def test_dot_that_takes_too_long_is_stopped(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dot").write_text("#!/bin/sh\nexec sleep 60\n")
    (fake / "dot").chmod(0o755)
    out = tmp_path / "L.svg"
    out.write_bytes(b"the old picture")
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    got = subprocess.run([GRADCLI, "graph", "(a*b+c)*f", "a=2", "b=-3", "c=10", "f=-2", "-o", str(out),
                          "--timeout", "0.5"], capture_output=True, env=env)
    assert got.returncode == 1 and got.stdout == b""
    err = got.stderr.decode()
    assert err.startswith("error: Graphviz's `dot` did not finish laying out the picture of 7 value nodes "
                          "(a layout size of ")
    assert "within 0.5 s; nothing was written" in err
    assert "-o FILE.dot writes the DOT at once" in err and "--max-nodes N" in err and "--timeout SECONDS" in err
    assert "Traceback" not in err
    assert out.read_bytes() == b"the old picture"
    assert {p.name for p in tmp_path.iterdir()} == {"bin", "L.svg"}    # no temporary file left


def test_timeout_through_the_library(tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text(f"#!/bin/sh\nexec {shutil.which('sleep')} 60\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(draw.GraphvizTimeout) as e:
        draw.render("digraph { a }", "svg", timeout=0.2)
    assert e.value.exit_code == 1


# ------------------------------------------------------------ missing inputs

def test_missing_inputs_get_a_bounded_number_of_suggestions(monkeypatch):
    """Each suggestion compares a name with every known name; one per
    missing input made 2,000 missing inputs take 47 s."""
    module = importlib.import_module("gradcli.engine")   # where a graph's leaves are bound
    calls = []
    real = module.did_you_mean
    monkeypatch.setattr(module, "did_you_mean", lambda name, known: calls.append(name) or real(name, known))
    src = "\n".join(f"xs{i} = x{i} * 2" for i in range(300))
    with pytest.raises(gradcli.InputError) as e:
        gradcli.build(gradcli.parse(src), {})
    assert len(calls) == module.SUGGESTED
    assert e.value.message.startswith("missing inputs: `x0`, `x1`, ")
    assert any(note.startswith("for `x0`, did you mean `xs0`") for note in e.value.notes)


@settings(max_examples=40, deadline=None)
@given(_expr(), st.floats(-2, 2), st.floats(-2, 2))
def test_fast_mode_passes_on_generated_programs(src, x, y):
    """The programs test_check.py checks row by row pass in fast mode too
    (every node nudged at once, with the same tolerances)."""
    inputs = {n: v for n, v in (("x", x), ("y", y)) if n in src}
    g = build(gradcli.parse(f"out = {src}"), inputs)
    report = checking.check(g, every=True, rtol=1e-4, atol=1e-6, mode="fast")
    assert report.ok, [(r.name, r.grad, r.numeric) for r in report.rows if r.verdict != "ok"]


def test_a_direction_no_gradient_explains_is_cleared(monkeypatch):
    """A direction whose products cancel (a dot product smaller than the
    difference's rounding error: seen on 8,000 leaves) may disagree while
    every gradient agrees on its own; halving it finds no gradient at
    fault, and it is not counted as a failure, but said."""
    real = checking._direction_row

    def noisy(graph, name, *rest):
        row = real(graph, name, *rest)
        if name == "dir 1":                      # as if the rounding error were larger than the dot product
            row.numeric += 1e-3 * max(1.0, abs(row.grad))
            row.abs_error, row.rel_error, agree = checking._compare(row.grad, row.numeric, 1e-5, 1e-8)
            row.verdict = "ok" if agree else "FAIL"
        return row

    monkeypatch.setattr(checking, "_direction_row", noisy)
    src, inputs = _wide(100)
    report = checking.check(graph(src, **inputs), mode="fast")
    assert report.ok
    first = report.directions[0]
    assert first.verdict == "ok" and first.rel_error > 1e-5
    assert first.note.startswith("dir 1 disagrees by ")
    assert "yet no gradient along it does on its own" in checking.mode_lines(report)[1]
    assert all(r.node is None for r in report.rows)          # no gradient's row: none is at fault


def test_dot_that_crashes_is_an_error_with_the_ways_out(tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\nkill -SEGV $$\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    result = invoke("graph", "a*b", "a=1", "b=2", "-o", str(tmp_path / "x.svg"))
    assert result.exit_code == 1 and result.stdout == ""
    assert "Graphviz's `dot` crashed (SIGSEGV) laying out the picture of 3 value nodes" in result.stderr
    assert "--max-nodes N" in result.stderr
    assert not (tmp_path / "x.svg").exists()
