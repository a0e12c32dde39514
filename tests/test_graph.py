"""`gradcli graph`: DOT, SVG, PNG and PDF pictures of the graph (issue 3)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from typer.testing import CliRunner

from conftest import EXAMPLES, ROOT
from gradcli import draw
from gradcli.build import build
from gradcli.cli import app
from gradcli.engine import topological_order
from gradcli.parse import parse
from gradcli.render import short

GOLDEN = ROOT / "tests" / "golden"
GRADCLI = str(Path(sys.executable).with_name("gradcli"))
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed (.ci/run installs it)")

L = ["(a*b+c)*f", "a=2", "b=-3", "c=10", "f=-2"]
RECORD = re.compile(r'^  (n\d+) \[label="\{ (.*?) · (n\d+) \| data (\S+)(?: \| grad (\S+))? \}"', re.M)
EDGE = re.compile(r"^  (\w+) -> (\w+);$", re.M)


def run(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([GRADCLI, *args], capture_output=True, cwd=ROOT, **kw)


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def graph_of(text: str, **inputs: float):
    g = build(parse(text), inputs)
    g.backward()
    return g


# ---------------------------------------------------------------- DOT itself

@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.grad")))
def test_examples_match_golden_dot(example):
    """Byte-identical DOT for every example (regenerate: python docs/make_pictures.py)."""
    got = run("graph", "-f", f"examples/{example}")
    assert got.returncode == 0, got.stderr
    assert got.stderr == b""
    assert got.stdout == (GOLDEN / example.replace(".grad", ".dot")).read_bytes()


def test_same_dot_every_run_and_from_every_entry_point(tmp_path):
    first = run("graph", *L).stdout
    assert run("graph", *L).stdout == first
    assert run("graph", *L, "-o", "-").stdout == first
    assert invoke("graph", *L).stdout.encode() == first
    out = tmp_path / "L.gv"
    assert run("graph", *L, "-o", str(out)).stdout == b""
    assert out.read_bytes() == first
    assert run("graph", *L, "-o", str(tmp_path / "L.DOT")).returncode == 0
    assert (tmp_path / "L.DOT").read_bytes() == first


def test_lecture_graph_records_and_edges():
    dot = run("graph", *L).stdout.decode()
    records = {m[0]: m[1:] for m in RECORD.findall(dot)}
    # a, b, c, f are inputs; n2 = a*b, n4 = n2 + c, n6 = n4 * f is the output
    assert records == {
        "n0": ("a", "n0", "2", "6"), "n1": ("b", "n1", "-3", "-4"),
        "n2": ("*", "n2", "-6", "-2"), "n3": ("c", "n3", "10", "-2"),
        "n4": ("+", "n4", "4", "-2"), "n5": ("f", "n5", "-2", "4"),
        "n6": ("*", "n6", "-8", "1"),
    }
    assert EDGE.findall(dot) == [
        ("n0", "n2op"), ("n1", "n2op"), ("n2op", "n2"),
        ("n2", "n4op"), ("n3", "n4op"), ("n4op", "n4"),
        ("n4", "n6op"), ("n5", "n6op"), ("n6op", "n6"),
    ]
    assert re.search(r'^  n2op \[label="\*"\];$', dot, re.M)
    assert 'label="value = -8"' in dot
    assert "rankdir=LR" in dot
    # kinds told apart: inputs blue, the output gold, intermediates the default white
    assert re.search(r'^  n0 \[.*fillcolor="#cfe2ff"\];$', dot, re.M)
    assert re.search(r'^  n6 \[.*fillcolor="#ffe08a", penwidth=2\];$', dot, re.M)
    assert re.search(r'^  n2 \[label="[^"]*"\];$', dot, re.M)


def test_every_record_matches_the_engine():
    """Each record's data and grad are the node's, as the grad table shows them."""
    text = (EXAMPLES / "micrograd_readme.grad").read_text()
    g = graph_of(text)
    dot = draw.to_dot(g)
    records = RECORD.findall(dot)
    assert len(records) == sum(1 for n in g.nodes if n.kind != "const")
    for nid, name, nid2, data, grad in records:
        node = g.nodes[int(nid[1:])]
        assert nid == nid2
        assert name == (node.label or node.op)
        assert (data, grad) == (short(node.data), short(node.grad))
    assert 'label="g = 24.7041"' in dot
    a = g.leaves["a"]
    assert f'n{a.index} [label="{{ a · n{a.index} | data -4 | grad 138.834 }}", fillcolor="#d3f0d0"];' in dot


def test_a_node_used_twice_is_one_node_with_two_edges():
    dot = run("graph", "-f", "examples/reuse.grad").stdout.decode()
    assert len(re.findall(r"^  n0 \[", dot, re.M)) == 1
    assert EDGE.findall(dot) == [("n0", "n1op"), ("n0", "n1op"), ("n1op", "n1")]
    assert "{ b · n1 | data 6 | grad 1 }" in dot
    assert "{ a · n0 | data 3 | grad 2 }" in dot


def test_numbers_are_small_grey_nodes_and_operands_keep_their_order():
    dot = run("graph", "10 / x", "x=4").stdout.decode()
    # x is read (n0) before the number is put on the tape (n1); edges keep operand order
    assert re.search(r'^  n1 \[label="10"\];$', dot, re.M)
    assert EDGE.findall(dot) == [("n1", "n2op"), ("n0", "n2op"), ("n2op", "n2")]
    assert "ordering=in" in dot   # Graphviz draws operands in this order
    assert "{ / · n2 | data 2.5 | grad 1 }" in dot
    assert "{ x · n0 | data 4 | grad -0.625 }" in dot


def test_precision_and_no_negative_zero():
    dot = run("graph", "y = x * 0 + 1/3", "x=-1", "--precision", "3").stdout.decode()
    assert "data -0" not in dot and "grad -0" not in dot
    assert "{ * · n2 | data 0 | grad 1 }" in dot
    assert "data 0.333 " in dot
    assert 'label="y = 0.333"' in dot
    dot = run("graph", "y = x / 3", "x=1", "--precision", "10").stdout.decode()
    assert "data 0.3333333333 " in dot


def test_no_grad_draws_the_forward_pass():
    dot = run("graph", *L, "--no-grad").stdout.decode()
    assert "| grad" not in dot
    assert "{ a · n0 | data 2 }" in dot
    assert 'label="value = -8  (forward pass)"' in dot
    # no backward pass: an undefined gradient is not an error without grads
    assert run("graph", "sqrt(x)", "x=0", "--no-grad").returncode == 0
    bad = run("graph", "sqrt(x)", "x=0")
    assert bad.returncode == 1 and bad.stdout == b""
    assert b"math error" in bad.stderr


def test_rankdir_and_output_name():
    dot = run("graph", "--rankdir", "TB", *L).stdout.decode()
    assert "rankdir=TB" in dot
    assert "rankdir=BT" in run("graph", *L, "--rankdir", "bt").stdout.decode()
    bad = run("graph", *L, "--rankdir", "UP")
    assert bad.returncode == 2 and bad.stdout == b""
    assert b"--rankdir must be one of LR, TB, RL, BT" in bad.stderr
    dot = run("graph", "-f", "examples/lecture_L.grad", "--of", "d").stdout.decode()
    assert 'label="d = 4"' in dot
    assert "L · " not in dot                # nodes after d are not part of its picture
    assert "{ d · n4 | data 4 | grad 1 }" in dot


def test_leaves_the_output_ignores_are_still_drawn():
    dot = run("graph", "u = 1.0; y = x * 2", "x=3").stdout.decode()
    assert "{ u · n0 | data 1 | grad 0 }" in dot
    assert "{ y · n3 | data 6 | grad 1 }" in dot
    assert "{ number · n0 | data 3 | grad 1 }" in run("graph", "3").stdout.decode()


def test_errors_leave_stdout_empty_and_write_nothing(tmp_path):
    target = tmp_path / "x.svg"
    for args, code, words in [
        (["(a*b+", "a=1", "-o", str(target)], 2, b"syntax error"),
        (["log(x)", "x=-1", "-o", str(target)], 1, b"log needs a positive number"),
        (["a*b", "a=1", "-o", str(target)], 2, b"missing input"),
        ([*L, "-o", str(tmp_path / "L.jpg")], 2, b"use one of .dot, .gv, .svg, .png, .pdf"),
        ([*L, "-o", str(tmp_path / "L")], 2, b"no extension"),
        ([*L, "-o", str(tmp_path / "no" / "such" / "L.dot")], 2, b"cannot write"),
        ([*L, "--max-nodes", "0"], 2, b"max-nodes"),
    ]:
        got = run("graph", *args)
        assert got.returncode == code, (args, got.stderr)
        assert got.stdout == b""
        assert words in got.stderr
        assert b"Traceback" not in got.stderr
    assert not target.exists()


# ---------------------------------------------------------- rendered formats

@needs_dot
def test_svg_parses_and_shows_every_label(tmp_path):
    out = tmp_path / "m.svg"
    got = run("graph", "-f", "examples/micrograd_readme.grad", "-o", str(out))
    assert got.returncode == 0 and got.stdout == b"" and got.stderr == b""
    root = ET.parse(out).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    titles = {t.text for t in root.iter("{http://www.w3.org/2000/svg}title")}
    g = graph_of((EXAMPLES / "micrograd_readme.grad").read_text())
    for node in g.nodes:
        nid = f"n{node.index}"
        assert nid in titles
        if node.kind == "const":
            assert short(node.data) in texts
            continue
        assert f"{node.label or node.op} · {nid}" in texts
        assert f"data {short(node.data)}" in texts
        assert f"grad {short(node.grad)}" in texts
        if node.children:
            assert f"{nid}op" in titles
    assert "g = 24.7041" in texts


@needs_dot
@pytest.mark.parametrize("ext, magic", [(".png", b"\x89PNG\r\n\x1a\n"), (".pdf", b"%PDF-")])
def test_png_and_pdf_start_with_their_magic_bytes(tmp_path, ext, magic):
    out = tmp_path / f"neuron{ext.upper() if ext == '.pdf' else ext}"
    got = run("graph", "-f", "examples/neuron.grad", "-o", str(out), "--rankdir", "TB")
    assert got.returncode == 0, got.stderr
    assert got.stdout == b""
    data = out.read_bytes()
    assert data.startswith(magic)
    assert len(data) > 1000


def _svg_content(svg: bytes) -> tuple[list[str], list[str]]:
    """What an SVG shows, without Graphviz's coordinates (which vary by version)."""
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    return ([t.text or "" for t in root.iter(f"{ns}title")], [t.text or "" for t in root.iter(f"{ns}text")])


@needs_dot
def test_readme_picture_is_current(tmp_path):
    """docs/L.svg is what the command beside it in docs/howto/draw.md draws
    now, and the README shows it (regenerate it with python
    docs/make_pictures.py)."""
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import make_pictures
    finally:
        sys.path.pop(0)
    command = list(make_pictures.COMMAND)
    assert command[-2:] == ["-o", "docs/L.svg"]
    page = (ROOT / "docs" / "howto" / "draw.md").read_text()
    assert "$ gradcli " + " ".join(command) + "\n" in page
    assert "![" in page and "(../L.svg)" in page
    readme = (ROOT / "README.md").read_text()
    assert "![" in readme and "(docs/L.svg)" in readme
    fresh = tmp_path / "L.svg"
    got = run(*command[:-1], str(fresh))
    assert got.returncode == 0, got.stderr
    assert _svg_content(fresh.read_bytes()) == _svg_content((ROOT / "docs" / "L.svg").read_bytes())


# ------------------------------------------------------------ no Graphviz

def test_missing_dot_exits_1_with_the_contract_message(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path / "empty")}
    for ext in (".svg", ".png", ".pdf"):
        out = tmp_path / f"L{ext}"
        got = run("graph", *L, "-o", str(out), env=env)
        assert got.returncode == 1
        assert got.stdout == b""
        err = got.stderr.decode()
        assert f"Graphviz must be installed to write {ext[1:].upper()}" in err
        assert "-o FILE.dot" in err and "needs no Graphviz" in err
        assert "Traceback" not in err
        assert not out.exists()
    # DOT never needs Graphviz
    got = run("graph", *L, "-o", str(tmp_path / "L.dot"), env=env)
    assert got.returncode == 0 and (tmp_path / "L.dot").read_bytes() == run("graph", *L).stdout
    assert run("graph", *L, env=env).stdout.startswith(b"digraph gradcli {")


def test_missing_dot_through_the_library(monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(draw.GraphvizMissing) as e:
        draw.render("digraph { a }", "svg")
    assert e.value.exit_code == 1


# -------------------------------------------------------------- big graphs

def chain_program(n: int) -> str:
    """n neurons in a chain, each with its own inputs: 3n + 1 values, short edges."""
    return "s = 0.0\n" + "".join(f"s = tanh(w{i} * s + x{i})\n" for i in range(n))


def chain_inputs(n: int) -> dict:
    return {**{f"w{i}": 0.5 for i in range(n)}, **{f"x{i}": 0.01 * i for i in range(n)}}


def shared_program(n: int) -> str:
    """A running sum reading three inputs at every step: long edges from them."""
    return "s = 0.0\n" + "".join(f"s += tanh(x{i % 3} * {i + 1}.5 + s)\n" for i in range(n))


def test_layout_size_counts_nodes_operations_and_long_edges():
    # a*b: three values, one operation, no edge longer than a rank
    assert draw.layout_size(draw.select(graph_of("a*b", a=1, b=2))) == 4
    # x*x*x: x is used at ranks 1 and 3, so its edge into the second * spans 2 ranks (1 virtual)
    assert draw.layout_size(draw.select(graph_of("x*x*x", x=1))) == 3 + 2 + 2
    # a chain's size grows linearly; a shared input's long edges grow quadratically
    chain = [draw.layout_size(draw.select(graph_of(chain_program(n), **chain_inputs(n)))) for n in (50, 100)]
    assert chain[1] - chain[0] == chain[0] - draw.layout_size(draw.select(graph_of("s = 0.0", )))
    shared = [draw.layout_size(draw.select(graph_of(shared_program(n), x0=1, x1=2, x2=3))) for n in (50, 100)]
    assert shared[1] > 3.5 * shared[0]


def test_large_graph_warning_and_max_nodes():
    g = graph_of(chain_program(900), **chain_inputs(900))
    pic = draw.select(g)
    assert draw.layout_size(pic) > draw.WARN_SIZE
    warning = draw.layout_warning(pic)
    assert warning.startswith(f"warning: the picture has {len(pic.nodes):,} value nodes")
    assert "--max-nodes N" in warning and "-o FILE.dot" in warning
    assert draw.layout_warning(draw.select(graph_of(chain_program(100), **chain_inputs(100)))) is None
    # few nodes, but inputs read at every step: still a slow layout, still a warning
    few = draw.select(graph_of(shared_program(80), x0=1, x1=2, x2=3))
    assert len(few.nodes) < 500 and draw.layout_warning(few) is not None

    small = draw.select(g, 40)
    assert draw.layout_warning(small) is None
    assert len(small.nodes) == 40 and small.omitted == pic.total - 40
    assert small.nodes[-1] is g.output
    assert [n.index for n in small.nodes] == sorted(n.index for n in small.nodes)
    dot = draw.to_dot(g, picture=small)
    # every edge ends at a drawn node or its op, and starts at a drawn node, an op or a stub
    declared = set(re.findall(r"^  (\w+) \[", dot, re.M))
    for a, b in EDGE.findall(dot):
        assert a in declared and b in declared
    assert f'more [label="{pic.total - 40:,} more nodes not drawn (--max-nodes)"' in dot
    stubs = re.findall(r'^  (n\d+) \[label="\1 …"\];$', dot, re.M)
    assert stubs and all(g.nodes[int(s[1:])] not in small.nodes for s in stubs)


def test_large_graph_warning_goes_to_stderr_before_layout(tmp_path, monkeypatch):
    """The warning is printed on stderr when rendering a big graph, never for DOT."""
    monkeypatch.setattr(draw, "WARN_SIZE", 5)
    runner = CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames \
        else CliRunner()
    dot = runner.invoke(app, ["graph", *L])
    assert dot.exit_code == 0 and "warning" not in dot.stderr
    monkeypatch.setenv("PATH", str(tmp_path))     # no dot: the warning still comes first
    got = runner.invoke(app, ["graph", *L, "-o", str(tmp_path / "L.svg")])
    assert got.exit_code == 1
    assert got.stdout == ""
    assert got.stderr.startswith("warning: the picture has 7 value nodes")
    assert "Graphviz must be installed" in got.stderr
    fine = runner.invoke(app, ["graph", *L, "--max-nodes", "1", "-o", str(tmp_path / "L.svg")])
    assert "warning" not in fine.stderr


def test_dot_for_a_deep_chain_has_no_recursion():
    n = 20_000
    g = graph_of("s = x\n" + "s = s * 0.5 + x\n" * n, x=1.0)
    dot = draw.to_dot(g)
    assert dot.count(" [label=\"{ ") == 1 + 2 * n
    assert len(EDGE.findall(dot)) == 6 * n
    assert dot.endswith("}\n")


@pytest.mark.slow
def test_dot_for_100000_nodes(tmp_path):
    program = tmp_path / "big.grad"
    program.write_text("s = 0.0\n" + "s = s * 0.5 + x\n" * 33_333)
    out = tmp_path / "big.dot"
    got = run("graph", "-f", str(program), "x=1", "-o", str(out))
    assert got.returncode == 0 and got.stderr == b""
    text = out.read_text()
    assert text.count("->") == 6 * 33_333
    assert len(re.findall(r"^  n\d+ \[", text, re.M)) >= 100_000


# -------------------------------------------- the table names nodes the same

def test_grad_all_table_uses_the_picture_ids():
    table = run("grad", "-f", "examples/micrograd_readme.grad", "--all", "--table").stdout.decode()
    dot = run("graph", "-f", "examples/micrograd_readme.grad").stdout.decode()
    rows = {}
    for line in table.splitlines():
        parts = line.split()
        if parts and re.fullmatch(r"n\d+", parts[0]):
            rows[parts[0]] = parts
    ids = list(rows)
    assert ids == sorted(ids, key=lambda s: int(s[1:]))                  # topological (tape) order
    for nid, name, _, data, grad in RECORD.findall(dot):
        row = rows[nid]
        assert row[-2:] == [data, grad]
        if name.isidentifier() and name not in ("relu", "neg"):
            assert row[1] == name
    # the inputs column lists each op's operands by the same ids as the edges
    for a, b in EDGE.findall(dot):
        if b.endswith("op"):
            assert a in rows[b[:-2]]


# ------------------------------------------------------------- properties

_atoms = st.sampled_from(["a", "b", "c", "2", "0.5", "3"])


def _combine(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})")
    call = st.tuples(st.sampled_from(["tanh", "relu", "sigmoid"]), children).map(
        lambda t: f"{t[0]}({t[1]})")
    return binary | call


_exprs = st.recursive(_atoms, _combine, max_leaves=12)


@settings(max_examples=60, deadline=None)
@given(st.lists(_exprs, min_size=1, max_size=3), st.floats(-2, 2), st.floats(-2, 2), st.floats(-2, 2))
def test_dot_property_random_programs(exprs, a, b, c):
    text = "\n".join(f"y{i} = {e}" for i, e in enumerate(exprs))
    inputs = {k: v for k, v in (("a", a), ("b", b), ("c", c)) if re.search(rf"\b{k}\b", text)}
    g = graph_of(text, **inputs)
    dot = draw.to_dot(g)
    assert draw.to_dot(graph_of(text, **inputs)) == dot
    # the picture is the output's ancestors (micrograd's trace) and every leaf, each declared once
    expected = {n.index for n in topological_order(g.output)} | {n.index for n in g.leaves.values()}
    declared = re.findall(r"^  n(\d+) \[", dot, re.M)
    assert sorted(map(int, declared)) == sorted(expected)
    edges = EDGE.findall(dot)
    ops = [n for n in g.nodes if n.index in expected and n.children]
    assert len(edges) == sum(len(n.children) + 1 for n in ops)
    for nid, name, _, data, grad in RECORD.findall(dot):
        node = g.nodes[int(nid[1:])]
        assert (data, grad) == (short(node.data), short(node.grad))
        assert "-0" != data and "-0" != grad


@needs_dot
def test_graphviz_failure_is_an_error_not_a_traceback():
    with pytest.raises(draw.GraphvizFailed) as e:
        draw.render("digraph { a -> }", "svg")
    assert e.value.exit_code == 1
    assert "failed to render SVG" in e.value.message


def _readme_section() -> str:
    """The page that tells how to draw the graph (it was a README section)."""
    return (ROOT / "docs" / "howto" / "draw.md").read_text()


@needs_dot
def test_readme_section_commands_print_what_it_shows(tmp_path):
    """Every `$ gradcli` line of this README section, run from a copy of the
    repository's examples, prints exactly the lines shown after it."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "docs").mkdir()
    blocks = re.findall(r"```console\n(.*?)```", _readme_section(), re.S)
    assert len(blocks) == 2
    for block in blocks:
        commands = re.split(r"^\$ ", block, flags=re.M)[1:]
        for item in commands:
            line, _, expected = item.partition("\n")
            argv = shlex.split(line)
            assert argv[0] == "gradcli"
            got = subprocess.run([GRADCLI, *argv[1:]], capture_output=True, cwd=tmp_path)
            assert got.returncode == 0, got.stderr
            assert got.stdout.decode() == expected
    assert (tmp_path / "docs" / "L.svg").exists()


# ------------------------------------------- big graphs write valid DOT (issue 25)

@pytest.mark.parametrize("x,text", [(1.0, "1"), (0.5, "0.5"), (0.123456, "0.12"), (5.3e-05, "0.000053"),
                                    (2e-06, "0.000002"), (1.04e-09, "0.000000001")])
def test_dot_numbers_have_no_exponent(x, text):
    assert draw.dot_number(x) == text
    assert float(text) == pytest.approx(float(f"{x:.2g}"))


def _accumulator(statements: int) -> str:
    return "x = 0.5\nacc = 0\n" + "".join(f"acc += x*{k % 7 + 1}\n" for k in range(statements))


@pytest.mark.skipif(shutil.which("nop") is None, reason="Graphviz's nop is not installed (.ci/run installs it)")
def test_a_big_graph_is_dot_graphviz_reads(tmp_path):
    """From about 10,000 nodes the header's nslimit is tiny; it used to be
    written 5.3e-05, which Graphviz's lexer rejects ("badly delimited
    number"). nop parses a file without laying it out."""
    program = tmp_path / "acc.grad"
    program.write_text(_accumulator(4000))
    dot = run("graph", "-f", str(program), "-o", str(tmp_path / "acc.dot"))
    assert (dot.returncode, dot.stderr) == (0, b"")
    header = (tmp_path / "acc.dot").read_text().splitlines()[1]
    assert re.search(r"nslimit=0\.0000\d+,", header), header
    parsed = subprocess.run(["nop", str(tmp_path / "acc.dot")], capture_output=True)
    assert (parsed.returncode, parsed.stderr) == (0, b"")


@needs_dot
def test_graphviz_failure_says_each_line_apart():
    with pytest.raises(draw.GraphvizFailed) as e:
        draw.render("digraph { a -> }", "svg")
    assert e.value.message == "Graphviz's `dot` failed to render SVG"
    assert e.value.notes and all(n.startswith("Graphviz says: ") and "\n" not in n for n in e.value.notes)
    assert "\\n" not in e.value.render()


def test_a_big_live_page_gets_a_word_before_it_is_written(tmp_path):
    program = tmp_path / "acc.grad"
    program.write_text(_accumulator(1700))           # 5,102 value nodes
    result = invoke("graph", "-f", str(program), "-o", str(tmp_path / "acc.html"))
    assert result.exit_code == 0
    assert result.stderr == ("warning: the live page of 5,102 value nodes will be 2 to 6 MB (0.45 to 1.1 KB a "
                             "node) and take seconds to write\n"
                             "  = note: --max-nodes N draws only the N value nodes nearest the output\n")
    assert 2e6 <= (tmp_path / "acc.html").stat().st_size <= 6e6   # as the warning says
    result = invoke("graph", "-f", str(program), "-o", str(tmp_path / "small.html"), "--max-nodes", "500")
    assert (result.exit_code, result.stderr) == (0, "")
