"""Notebooks: gradcli.draw, graphs that display themselves, the %%gradcli
magic, and examples/lecture.ipynb executed in a real Jupyter kernel.

The notebook runs with nbclient and ipykernel's python3 kernel, started with
this test's interpreter, PYTHONPATH set to this checkout's src/ and its
working directory in a copy of examples/, so the kernel imports the gradcli
under test and writes nothing into the repository. Its numbers are checked
against known values and, for the training loops, against PyTorch.
"""

from __future__ import annotations

import html
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager

import pytest

import gradcli
from gradcli import GradcliError, Graph, InputError, Value
from gradcli import notebook
from gradcli.draw import GraphvizMissing
from gradcli.notebook import CellError, run

from tests.conftest import EXAMPLES, ROOT

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")

@contextmanager
def chromium():
    """Headless Chromium (Debian's, through Playwright), or a skip saying what is missing."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("no browser: /usr/bin/chromium is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--headless", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()


LECTURE_L = "a = 2.0\nb = -3.0\ne = a*b\nc = 10.0\nd = e + c\nf = -2.0\nL = d * f\n"


def lecture_L():
    """The lecture's L, built by hand, in the same order as LECTURE_L."""
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    e = a * b; e.label = "e"
    c = Value(10.0, label="c")
    d = e + c; d.label = "d"
    f = Value(-2.0, label="f")
    L = d * f; L.label = "L"
    return L, dict(a=a, b=b, c=c, d=d, e=e, f=f)


@pytest.fixture
def no_graphviz(monkeypatch, tmp_path):
    """PATH without Graphviz's dot (an empty folder)."""
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("dot") is None


# --------------------------------------------------------------- gradcli.draw

def test_hand_built_graph_draws_as_gradcli_graph_draws_the_program():
    L, _ = lecture_L()
    L.backward()
    cli = subprocess.run([sys.executable, "-m", "gradcli", "graph", LECTURE_L],
                         capture_output=True, text=True, check=True)
    assert gradcli.draw(L, "dot") == cli.stdout
    assert cli.stdout.count("->") == 9


def test_draw_dot_shows_data_and_grad_as_they_are():
    L, v = lecture_L()
    before = gradcli.draw(L, format="dot")
    assert '"{ a · n0 | data 2 | grad 0 }"' in before       # nothing backpropagated yet
    L.backward()
    after = gradcli.draw(L, format="dot")
    assert '"{ a · n0 | data 2 | grad 6 }"' in after
    assert '"{ L · n6 | data -8 | grad 1 }"' in after
    assert gradcli.draw(L, "dot", grads=False).count("grad ") == 0
    assert "rankdir=TB" in gradcli.draw(L, "dot", rankdir="TB")
    assert "data -3 " in gradcli.draw(L, "dot") and "data 6.88 " in gradcli.draw(Value(6.8813735870195432) * 1, "dot", precision=3)
    assert "more nodes not drawn" in gradcli.draw(L, "dot", max_nodes=2)


def test_numbers_and_unlabelled_nodes_are_drawn_as_the_program_draws_them():
    x = Value(3.0, label="x")
    y = (x * 2 + 1).tanh()
    dot = gradcli.draw(y, "dot")
    assert 'n1 [label="2"];' in dot          # a number: a small grey oval
    assert '{ * · n2 | data 6 | grad 0 }' in dot
    assert 'label="value = 0.999998"' in dot  # tanh(7); an output with no label


@needs_dot
def test_draw_svg_png_pdf():
    L, _ = lecture_L()
    L.backward()
    svg = gradcli.draw(L)
    assert isinstance(svg, str) and svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "grad 6" in svg and "data &#45;8" in svg
    png = gradcli.draw(L, "png")
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG\r\n\x1a\n")
    assert gradcli.draw(L, "pdf").startswith(b"%PDF")


def test_draw_html_is_the_live_page():
    L, _ = lecture_L()
    L.backward()
    page = gradcli.draw(L, "html")
    assert page.startswith("<!DOCTYPE html>") and "window.gradcli" in page
    with pytest.raises(InputError) as e:
        gradcli.draw(L, "html", rankdir="TB")
    assert "the live page is drawn left to right" in e.value.message


def test_live_page_of_a_hand_built_graph_in_a_browser(tmp_path):
    """The page of a hand-built neuron recomputes as the engine does."""
    x1, w1 = Value(2.0, label="x1"), Value(-3.0, label="w1")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + b
    o = n.tanh()
    o.label = "o"
    o.backward()
    target = tmp_path / "o.html"
    target.write_text(gradcli.draw(o, "html"), encoding="utf-8")
    with chromium() as browser:
        page = browser.new_page()
        page.goto(target.as_uri())
        shown = page.evaluate("window.gradcli.result()")
        moved = page.evaluate("window.gradcli.set('x1', 1.0)")
    assert shown["value"] == pytest.approx(o.data, rel=1e-12)
    assert shown["grad"] == pytest.approx({"x1": x1.grad, "w1": w1.grad, "b": b.grad}, rel=1e-12)
    x1.data = 1.0
    again = x1 * w1 + b
    again = again.tanh()
    again.backward()
    assert moved["value"] == pytest.approx(again.data, rel=1e-12)


def test_draw_of_a_built_program_computes_its_gradients():
    graph = gradcli.build(gradcli.parse("L = (a*b + c) * f"), {"a": 2, "b": -3, "c": 10, "f": -2})
    assert graph.leaves["a"].grad == 0.0
    dot = gradcli.draw(graph, "dot")
    assert "{ a · n0 | data 2 | grad 6 }" in dot
    assert graph.gradients() == {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}


def test_gradcli_draw_is_still_the_drawing_module():
    from gradcli import draw

    assert draw is gradcli.draw and callable(draw)
    assert draw.to_dot is gradcli.draw.picture.__globals__["to_dot"]


@pytest.mark.parametrize("call,message", [
    (lambda L: gradcli.draw(L, "jpg"), "format `'jpg'` is not one gradcli draws"),
    (lambda L: gradcli.draw(L, "dot", precision=0), "precision must be a whole number from 1 to 17, not `0`"),
    (lambda L: gradcli.draw(L, "dot", max_nodes=0), "max_nodes must be a positive whole number or None, not `0`"),
    (lambda L: gradcli.draw(L, "dot", rankdir="up"), "rankdir must be one of LR, TB, RL, BT, not `'up'`"),
    (lambda L: gradcli.draw("L = a*b", "dot"), "gradcli.draw draws a Value or a Graph (gradcli.build's result), not str"),
])
def test_draw_bad_input(call, message):
    L, _ = lecture_L()
    with pytest.raises(InputError) as e:
        call(L)
    assert e.value.message == message


def test_draw_svg_without_graphviz_says_so(no_graphviz):
    L, _ = lecture_L()
    with pytest.raises(GraphvizMissing) as e:
        gradcli.draw(L, "svg")
    assert isinstance(e.value, GradcliError)
    assert "Graphviz must be installed to write SVG" in e.value.message
    assert gradcli.draw(L, "dot").startswith("digraph gradcli {")


# ------------------------------------------------------------------ Graph.of

def test_graph_of_is_a_snapshot_that_leaves_the_values_alone():
    L, v = lecture_L()
    g = Graph.of(L)
    assert [n.label for n in g.nodes] == ["a", "b", "e", "c", "d", "f", "L"]
    assert list(g.leaves) == ["a", "b", "c", "f"] and g.output_name == "L"
    assert g.gradients() == {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}
    assert all(n.grad == 0.0 and n.index is None for n in (L, *v.values()))
    assert g.names["e"].data == -6.0 and g.names["e"] is not v["e"]
    assert repr(g) == "<Graph L = -8.0: 7 nodes, leaves a, b, c, f>"


def test_graph_of_names_leaves_without_a_label_by_id():
    x = Value(1.0, label="x")
    y = Value(2.0, label="x")        # the same label twice
    z = Value(3.0)                   # none
    g = Graph.of(x * y + z)
    assert list(g.leaves) == ["n0", "x", "n3"]
    assert g.leaves["x"].data == 2.0 and g.output_name is None


def test_displaying_a_node_of_a_program_leaves_the_program_alone():
    graph = gradcli.build(gradcli.parse("e = a*b; L = (e + c) * f"), {"a": 2, "b": -3, "c": 10, "f": -2})
    e = graph.names["e"]
    index = e.index
    bundle = notebook.mimebundle(e, exclude={"text/html"})
    assert bundle == {"text/plain": "Value(data=-6.0, grad=0.0, label='e')"}
    assert e.index == index
    assert graph.gradients() == {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}


# --------------------------------------------------------- display in Jupyter

@needs_dot
def test_value_and_graph_display_their_number_then_their_picture():
    L, _ = lecture_L()
    L.backward()
    bundle = L._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}         # one picture, stored once
    assert bundle["text/plain"] == "Value(data=-8.0, grad=1.0, label='L')"
    shown = bundle["text/html"]
    assert shown.startswith('<div class="gradcli-value"><pre style="margin:0 0 4px 0">'
                            'Value(data=-8.0, grad=1.0, label=&#x27;L&#x27;)</pre>'
                            '<div class="gradcli-graph" style="overflow-x:auto"><svg style="width:100%;max-width:')
    assert "<?xml" not in shown and "<!DOCTYPE" not in shown and "grad 6" in shown
    graph = gradcli.build(gradcli.parse("L = (a*b + c) * f"), {"a": 2, "b": -3, "c": 10, "f": -2})
    shown = graph._repr_mimebundle_()["text/html"]
    assert shown.index("&lt;Graph L = -8.0: 7 nodes, leaves a, b, c, f&gt;") < shown.index("<svg")
    assert "grad 6" in shown and "grad &#45;4" in shown
    assert graph._repr_mimebundle_(include={"text/plain"}) == {"text/plain": repr(graph)}
    assert notebook.svg(L).startswith("<?xml")


def test_the_display_is_registered_from_above():
    """The engine imports no display code: gradcli's __init__ sets its
    DISPLAY hook, which imports notebook.py the first time a Value is shown."""
    code = ("import sys\nfrom gradcli import Value\n"
            "assert 'gradcli.notebook' not in sys.modules and 'gradcli.cli' not in sys.modules\n"
            "b = Value(2.0, label='a')._repr_mimebundle_()\n"
            "assert 'gradcli.notebook' in sys.modules\n"
            "print(sorted(b), b['text/plain'])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout == "['text/html', 'text/plain'] Value(data=2.0, grad=0.0, label='a')\n", done.stderr
    import ast

    src = os.path.join(os.path.dirname(gradcli.__file__), "engine.py")
    imported = {node.module for node in ast.walk(ast.parse(open(src, encoding="utf-8").read()))
                if isinstance(node, ast.ImportFrom) and node.level == 1}
    assert not imported & {"notebook", "draw", "page", "cli", "cli_common", "repl"}, imported


def test_live_page_frame_runs_in_a_browser(tmp_path):
    """The frame a notebook shows without Graphviz: the page runs inside it."""
    L, _ = lecture_L()
    L.backward()
    host = tmp_path / "cell.html"
    host.write_text("<!DOCTYPE html><html><body>" + notebook.embedded_page(Graph.of(L)) + "</body></html>",
                    encoding="utf-8")
    with chromium() as browser:
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(host.as_uri())
        frame = page.frames[1]
        frame.wait_for_function("window.gradcli !== undefined")
        shown = frame.evaluate("window.gradcli.result()")
    assert shown == {"value": -8.0, "grad": {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}}
    assert errors == []


_HOST = """<!DOCTYPE html><html><head><title>a notebook</title><style>
body { margin: 8px; font: 16px serif; display: block; }
h1 { font-size: 32px; }
button { padding: 1px 6px; }
</style></head><body>
<h1 id="heading">a notebook</h1><button id="first">run</button>
<div class="output" id="out"></div>
<p class="v e op">text with the page's class names</p>
</body></html>"""

# What the host's own elements look like: the page dropped in must change none of it.
_LOOK = """() => {
  const s = e => { const c = getComputedStyle(e);
    return [c.fontSize, c.fontFamily, c.margin, c.padding, c.display, c.boxSizing, c.color, c.lineHeight]; };
  return { body: s(document.body), html: s(document.documentElement), h1: s(document.querySelector("h1")),
           button: s(document.querySelector("body > button")), p: s(document.querySelector("p.v")),
           heights: ["h1", "body > button", "p.v"].map(q => document.querySelector(q).offsetHeight),
           title: document.title };
}"""


@pytest.mark.parametrize("scripts", ["run, as a trusted notebook runs them", "not run (an untrusted notebook)"])
def test_the_page_dropped_raw_into_a_notebook_restyles_nothing(tmp_path, scripts):
    """``IPython.display.HTML(gradcli.draw(v, "html"))`` puts the page's text,
    not its frame, into the notebook's document. Its styles hold only in its
    own document, so the notebook looks the same; when scripts run, the page
    moves itself into a sandboxed frame and runs there; when they don't, a
    note says how to show it."""
    L, _ = lecture_L()
    L.backward()
    page_text = gradcli.draw(L, "html")
    host = tmp_path / "notebook.html"
    host.write_text(_HOST, encoding="utf-8")
    run_scripts = scripts.startswith("run")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(host.as_uri())
        before = page.evaluate(_LOOK)
        # As Jupyter shows text/html: innerHTML, then each script re-created so that it runs.
        page.evaluate("""([text, run]) => {
          const out = document.getElementById("out");
          out.innerHTML = text;
          if (run) for (const old of Array.from(out.querySelectorAll("script"))) {
            const s = document.createElement("script");
            for (const a of old.attributes) s.setAttribute(a.name, a.value);
            s.textContent = old.textContent;
            old.replaceWith(s);
          }
        }""", [page_text, run_scripts])
        after = page.evaluate(_LOOK)
        left = page.evaluate("""() => ({
          ids: ["heading", "first"].map(i => document.querySelectorAll("#" + i).length),
          frames: Array.from(document.querySelectorAll("#out iframe")).map(f => [f.getAttribute("sandbox"), f.style.height]),
          note: (n => n && n.offsetHeight > 0 ? n.textContent : null)(document.querySelector(".gradcli-embedded")),
          style: document.querySelectorAll("#out style").length })""")
        shown = None
        if run_scripts:
            frame = page.frames[1]
            frame.wait_for_function("window.gradcli !== undefined")
            shown = frame.evaluate("window.gradcli.result()")
            (tmp_path / "shot.png").write_bytes(page.screenshot())
    assert after == before
    if run_scripts:
        assert left == {"ids": [1, 1], "frames": [["allow-scripts", f"{gradcli.draw.FRAME_HEIGHT}px"]],
                        "note": None, "style": 0}
        assert shown == {"value": -8.0, "grad": {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}}
        assert errors == []
    else:
        assert left["frames"] == [] and left["note"].startswith("This is gradcli's live page.")


def test_display_without_graphviz_is_the_live_page(no_graphviz):
    L, _ = lecture_L()
    bundle = L._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    shown = bundle["text/html"]
    head, frame = shown.split("</pre>", 1)
    assert head.endswith("Value(data=-8.0, grad=0.0, label=&#x27;L&#x27;)")
    assert frame.startswith('<iframe class="gradcli-page"') and 'sandbox="allow-scripts"' in frame
    assert "window.gradcli" in frame and "&lt;!DOCTYPE html&gt;" in frame      # the page, escaped into srcdoc
    assert notebook.svg(L) is None


@pytest.mark.parametrize("graphviz", [True, False])
def test_a_large_graph_shows_its_number_and_how_to_draw_it(graphviz, monkeypatch, tmp_path):
    if not graphviz:
        monkeypatch.setenv("PATH", str(tmp_path))
    x = Value(0.5, label="x")
    y = x
    for i in range(200):
        y = (y * x + 0.5).tanh()
    bundle = y._repr_mimebundle_()
    assert bundle["text/plain"] == repr(y) and repr(y).startswith("Value(data=0.6")
    assert bundle["text/html"] == (
        f'<div class="gradcli-value"><pre style="margin:0 0 4px 0">{repr(y)}</pre>'
        '<div class="gradcli-summary" style="color:#555;font-size:90%">a graph of 801 values, too many to draw '
        'here: <code>gradcli.draw(value)</code> is its SVG, <code>gradcli.draw(value, "html")</code> the live page, '
        '<code>gradcli.draw(value, max_nodes=40)</code> the values nearest the output</div></div>')
    small = x
    for i in range(notebook.DISPLAY_NODES // 2 - 1):
        small = small * 2.0
    assert len(gradcli.engine.topological_order(small)) == notebook.DISPLAY_NODES - 1
    assert "gradcli-summary" not in small._repr_mimebundle_()["text/html"]


def test_draw_returns_strings_that_jupyter_shows_as_pictures():
    L, _ = lecture_L()
    page = gradcli.draw(L, "html")
    assert isinstance(page, str) and page.startswith("<!DOCTYPE html>")
    frame = page._repr_html_()
    assert frame.startswith('<iframe class="gradcli-page" title="gradcli graph" sandbox="allow-scripts"')
    assert html.unescape(frame.split('srcdoc="', 1)[1].rsplit('"></iframe>', 1)[0]) == page
    dot = gradcli.draw(L, "dot")
    assert type(dot) is str
    if HAS_DOT:
        svg = gradcli.draw(L, "svg")
        assert isinstance(svg, str) and svg._repr_svg_() == svg and svg.startswith("<?xml")
        png = gradcli.draw(L, "png")
        assert isinstance(png, bytes) and png._repr_png_() == png and png.startswith(b"\x89PNG")
        assert type(gradcli.draw(L, "pdf")) is bytes


# ------------------------------------------------------------- %%gradcli

def test_magic_grad_returns_the_numbers_and_shows_the_table():
    r = run("grad a=2 b=-3 c=10 f=-2", "e = a*b\nd = e + c\nL = d * f")
    assert r.value == -8.0
    assert r.grad == {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}
    assert r.graph.names["d"].grad == -2.0
    assert r.exit_code == 0 and r.command == "grad"
    assert r.text.startswith("L = -8.0\n")
    rows = [line.split() for line in r.text.splitlines()]
    assert ["n0", "a", "input", "2", "6"] in rows and ["n6", "L", "*", "output", "-8", "1"] in rows
    assert r.html.startswith("<pre style=") and "<span" in r.html and "output" in r.html
    bundle = r._repr_mimebundle_()
    assert bundle == {"text/plain": r.text, "text/html": r.html}
    assert repr(r) == "<gradcli grad: value=-8.0, grad={'a': 6.0, 'b': -4.0, 'c': -2.0, 'f': 4.0}>"


def test_magic_keeps_the_commands_own_options():
    r = run("grad --json --wrt a,c a=2 b=-3 c=10 f=-2", "L = (a*b + c) * f")
    assert json.loads(r.text) == {"value": -8.0, "grad": {"a": 6.0, "c": -2.0}}
    assert r.html == "" and r.grad == {"a": 6.0, "c": -2.0}
    assert run("grad --plain x=3", "x**2").text == "x\t6.0\n"
    assert run("eval x=3", "-x**2").value == -9.0                    # a program that starts with a minus
    assert run("diff --wrt x", "x**3").program == "3*x**2"
    assert run("hessian x=1 y=2", "x*x*y").hessian == [[4.0, 2.0], [2.0, 0.0]]
    d = run("descend --lr 0.1 --steps 200", "x = 3.0\n(x - 1)**2")
    assert d.params["x"] == pytest.approx(1.0, abs=1e-9) and "x=1.0000000" in d.text
    assert run("explain a=2 b=3", "a*b").steps is not None


def test_magic_graph_shows_the_picture():
    r = run("graph a=2 b=-3 c=10 f=-2", "L = (a*b + c) * f")
    cli = subprocess.run([sys.executable, "-m", "gradcli", "graph", "L = (a*b + c) * f", "a=2", "b=-3",
                          "c=10", "f=-2"], capture_output=True, text=True, check=True)
    assert r.dot == cli.stdout
    bundle = r._repr_mimebundle_()
    assert bundle["text/plain"] == cli.stdout
    if HAS_DOT:
        assert set(bundle) == {"text/plain", "text/html"} and "grad 6" in bundle["text/html"]
        assert bundle["text/html"].startswith('<div class="gradcli-graph" style="overflow-x:auto">'
                                              '<svg style="width:100%;max-width:')
    else:  # pragma: no cover - Graphviz is a test dependency (.ci/run installs it)
        assert set(bundle) == {"text/plain", "text/html"} and "<iframe" in bundle["text/html"]


def test_magic_graph_to_a_file(tmp_path):
    target = tmp_path / "L.dot"
    r = run(f"graph -o {target} --rankdir TB a=1", "y = a*a")
    assert "rankdir=TB" in target.read_text() and r.file == str(target)
    assert r.text == "" and "dot" not in r.parts


def test_magic_check_verdict_is_a_result_not_an_error():
    ok = run("check x=0.3", "x**3")
    assert ok.ok is True and ok.exit_code == 0
    bad = run("check --rtol 0 --atol 0 x=0.3", "x**3")
    assert bad.ok is False and bad.exit_code == 1
    assert "FAIL: 1 of 1 gradient disagrees with finite differences" in bad.text


def test_magic_errors_are_the_command_lines_messages():
    with pytest.raises(CellError) as e:
        run("grad a=2 b=1", "(a*b+")
    assert e.value.exit_code == 2
    assert e.value.message == ("syntax error: expected a number, a name, `(` or a sign, found the end of the input\n"
                               " --> 1:6\n  |\n1 | (a*b+\n  |      ^\n  = note: the `(` at 1:1 is never closed")
    assert e.value._render_traceback_() == e.value.message.split("\n")
    assert e.value.render() == e.value.message
    with pytest.raises(CellError) as e:
        run("grad x=0", "sqrt(x)")
    assert e.value.exit_code == 1 and e.value.message.startswith("math error: the derivative of `sqrt(0)`")
    with pytest.raises(CellError) as e:
        run("grad --wat a=1", "a")
    assert e.value.exit_code == 2 and e.value.message.startswith("error: no such option `--wat` for `gradcli grad`")
    with pytest.raises(CellError) as e:
        run("grad", "a*b")
    assert e.value.message.startswith("error: missing inputs: `a` and `b`")
    from gradcli.cli_common import CONSOLE, RESULTS

    assert CONSOLE.get() is None and RESULTS.get() is None      # put back after a failure


@pytest.mark.parametrize("line,cell,message,note", [
    ("", "a", "which command? usage: %%gradcli COMMAND [NAME=VALUE ...] [OPTIONS], then the program in the cell",
     "the commands are `check`, "),
    ("gard a=1", "a", "`gard` is not a gradcli command", "did you mean `grad`?"),
    ("grad 'a=1", "a", "cannot read the magic's line: No closing quotation", None),
    ("grad -f prog.grad", "a", "the cell is the program: %%gradcli takes no -f/--file",
     "to run a file, use the line magic: %gradcli grad -f FILE"),
    ("grad - a=1", None, "a notebook has no standard input to read the program from",
     "put the program in the cell: %%gradcli grad ..."),
])
def test_magic_bad_lines(line, cell, message, note):
    """A wrong line reads as the command line's errors (CellError: no
    traceback in the notebook), its notes kept."""
    with pytest.raises(CellError) as e:
        run(line, cell)
    assert e.value.exit_code == 2
    lines = e.value.message.split("\n")
    assert lines[0] == "error: " + message
    if note is not None:
        assert lines[1].startswith("  = note: " + note)
    else:
        assert len(lines) == 1


def test_line_magic_takes_a_whole_command_line():
    r = run('grad "x**2 + y" x=3 y=1')
    assert r.grad == {"x": 6.0, "y": 1.0}
    assert "Usage: gradcli [OPTIONS] COMMAND" in run("--help").text
    assert run("grad --help").text.strip().startswith("Usage: gradcli grad [OPTIONS]")


def test_result_names_what_it_has():
    r = run("eval x=2", "x*3")
    assert r.value == 6.0
    with pytest.raises(AttributeError) as e:
        r.grad
    assert str(e.value) == "the result of `gradcli eval` has no `grad`; it has graph and value"
    assert {"graph", "value"} <= set(dir(r))


def test_load_ipython_extension_registers_the_magic():
    registered = {}

    class Shell:
        def register_magic_function(self, func, magic_kind, magic_name):
            registered[magic_name] = (func, magic_kind)

    gradcli.load_ipython_extension(Shell())
    func, kind = registered["gradcli"]
    assert kind == "line_cell"
    assert func("grad x=3", "x*x").grad == {"x": 6.0}


# ------------------------------------------------ examples/lecture.ipynb, run

def lecture_oracle(zero_grad: bool, steps: int = 20, lr: float = 0.05):
    """The notebook's training loop in PyTorch (float64), from the same random
    weights: the losses of every step."""
    torch = pytest.importorskip("torch")
    random.seed(1337)
    sizes = [3, 4, 4, 1]
    params = []
    for nin, nout in zip(sizes, sizes[1:]):
        rows, bias = [], []
        for _ in range(nout):
            rows.append([random.uniform(-1, 1) for _ in range(nin)])
            bias.append(random.uniform(-1, 1))
        params += [torch.tensor(rows, dtype=torch.float64, requires_grad=True),
                   torch.tensor(bias, dtype=torch.float64, requires_grad=True)]
    xs = torch.tensor([[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]], dtype=torch.float64)
    ys = torch.tensor([1.0, -1.0, -1.0, 1.0], dtype=torch.float64)
    losses = []
    for _ in range(steps):
        h = xs
        for w, b in zip(params[::2], params[1::2]):
            h = torch.tanh(h @ w.T + b)
        loss = ((h[:, 0] - ys) ** 2).sum()
        if zero_grad:
            for p in params:
                p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        losses.append(loss.item())
    return losses


@pytest.fixture(scope="module")
def lecture(tmp_path_factory):
    """examples/lecture.ipynb executed in a real python3 kernel; its code
    cells by tag."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    work = tmp_path_factory.mktemp("notebook")
    shutil.copytree(EXAMPLES, work / "examples")
    nb = nbformat.read(work / "examples" / "lecture.ipynb", as_version=4)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=300,
                                     resources={"metadata": {"path": str(work / "examples")}})
    client.execute(env=env)
    cells = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            for tag in cell.metadata.get("tags", []):
                cells.setdefault(tag, []).append(cell)
    return nb, cells


def stdout(cell) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def results(cell) -> list[dict]:
    return [o.data for o in cell.outputs if o.output_type in ("execute_result", "display_data")]


def test_lecture_notebook_is_stored_without_outputs():
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(EXAMPLES / "lecture.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_lecture_notebook_runs_without_errors(lecture):
    nb, cells = lecture
    for cell in nb.cells:
        if cell.cell_type == "code" and "raises-exception" not in cell.metadata.get("tags", []):
            assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
            assert "Traceback" not in "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_lecture_notebook_magic_mistake_reads_as_the_command_lines_error(lecture):
    """In a real kernel: the error is the CLI's text and its note, no traceback."""
    _, cells = lecture
    errors = [o for o in cells["magic-typo"][0].outputs if o.output_type == "error"]
    assert len(errors) == 1 and errors[0].ename == "CellError"
    assert errors[0].traceback == ["error: `gard` is not a gradcli command", "  = note: did you mean `grad`?"]


def test_lecture_notebook_graph_cells_show_pictures(lecture):
    _, cells = lecture
    assert len(cells["graph"]) >= 6
    for cell in cells["graph"]:
        shown = results(cell)
        assert shown, cell.source
        kinds = set(shown[-1])
        assert kinds & {"image/svg+xml", "text/html"}, cell.source
        if HAS_DOT:
            picture = shown[-1].get("text/html") or shown[-1]["image/svg+xml"]
            assert "<svg" in picture, cell.source


def test_lecture_notebook_numbers(lecture):
    _, cells = lecture
    one = lambda tag: cells[tag][0]   # noqa: E731
    assert float(stdout(one("slope"))) == pytest.approx(14.0003, abs=1e-9)
    assert stdout(one("L")).splitlines()[0] == "Value(data=-8.0, grad=0.0, label='L')"
    assert stdout(one("manual")) == "6.0 -4.0 -2.0 4.0\n"
    assert "grad 6" in results(one("manual"))[-1]["text/html"]
    assert float(stdout(one("lol"))) == pytest.approx(6.0, abs=1e-9)
    assert stdout(one("backward-L")) == "{'a': 6.0, 'b': -4.0, 'c': -2.0, 'd': -2.0, 'e': -2.0, 'f': 4.0}\n"
    assert stdout(one("magic-result")) == "-8.0 {'a': 6.0, 'b': -4.0, 'c': -2.0, 'f': 4.0}\n"
    table = results(one("magic-grad"))[-1]
    assert "text/html" in table and "output" in table["text/plain"] and "<pre" in table["text/html"]
    assert float(stdout(one("nudge"))) == pytest.approx(-7.286496, abs=1e-12)
    neuron = [float(x) for x in stdout(one("neuron-manual")).split()]
    assert neuron == pytest.approx([0.5, -1.5, 1.0, 0.5, 0.0], abs=1e-12)
    for tag in ("neuron-steps", "neuron-backward"):
        assert [float(x) for x in stdout(one(tag)).split()] == pytest.approx([-1.5, 1.0, 0.5, 0.0, 0.5], abs=1e-12)
    assert stdout(one("topo")) == str(['x1', 'w1', 'x1*w1', 'x2', 'w2', 'x2*w2', 'x1*w1 + x2*w2', 'b', 'n', 'o']) + "\n"
    assert stdout(one("a-plus-a")) == "2.0\n"
    assert stdout(one("used-twice")) == "-3.0 -8.0\n"
    apart = [float(x) for x in stdout(one("tanh-apart")).split()]
    assert apart == pytest.approx([math.sqrt(0.5), -1.5, 1.0, 0.5, 0.0], abs=1e-12)
    assert stdout(one("mlp")).startswith("41 parameters")
    assert stdout(one("draw")) == "digraph gradcli {\nTrue <?xml\n"
    assert stdout(one("abc")).split()[2] == "-3.000000000010772"
    for tag in ("own-tanh", "tanh-apart", "tanh-builtin"):
        got = [float(x) for x in stdout(one(tag)).split()]
        assert got == pytest.approx([math.sqrt(0.5), -1.5, 1.0, 0.5, 0.0], abs=1e-12), tag
    assert stdout(one("own-op-limit")).startswith("the live page (it recomputes every node in the browser) needs")
    assert stdout(one("zero-division")) == "caught: division by zero: `1 / 0`\n"
    for tag in ("loss", "one-step", "mlp"):       # a net's graph: the number, and how to draw it
        shown = results(one(tag))[-1]
        assert shown["text/plain"].startswith("Value(data=") and "gradcli-summary" in shown["text/html"]
        assert "<svg" not in shown["text/html"]
    assert results(one("loss"))[-1]["text/plain"] == "Value(data=6.005402783252284, grad=0.0)"
    assert float(results(one("one-step"))[-1]["text/plain"][11:-11]) == pytest.approx(4.448280639552251, rel=1e-12)
    page = results(one("draw-page"))[-1]
    assert page["text/html"].startswith('<iframe class="gradcli-page"')
    assert page["text/plain"].startswith("<the live page, an HTML document of ")


def losses(text: str) -> list[float]:
    pairs = [line.split() for line in text.splitlines() if re.fullmatch(r"\d+ \S+", line)]
    assert [int(k) for k, _ in pairs] == list(range(len(pairs)))
    return [float(v) for _, v in pairs]


def test_lecture_notebook_training_with_zero_grad(lecture):
    _, cells = lecture
    got = losses(stdout(cells["train"][0]))
    assert len(got) == 20
    assert got[0] == pytest.approx(6.005402783252284, rel=1e-12)
    assert all(b < a for a, b in zip(got, got[1:]))       # down at every step
    assert got[-1] < 0.1
    assert got == pytest.approx(lecture_oracle(zero_grad=True), rel=1e-9)


def test_lecture_notebook_training_without_zero_grad(lecture):
    _, cells = lecture
    got = losses(stdout(cells["train-no-zero-grad"][0]))
    good = losses(stdout(cells["train"][0]))
    assert got[:2] == good[:2]                 # the first step is the same
    assert got[2] != good[2]                   # then the grads pile up
    assert min(got) < 1e-3 and got[-1] > 3.0   # down fast, then back up to about 4
    assert got == pytest.approx(lecture_oracle(zero_grad=False), rel=1e-6)


def test_docstring_examples_run():
    import doctest

    import gradcli.engine

    for module in (gradcli.engine, gradcli.draw, notebook):
        result = doctest.testmod(module)
        assert result.attempted >= 1 and result.failed == 0, module.__name__


# ----------------------------------- the executed notebook, as a page, in Chromium

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

NOTEBOOK_CSS = """
body { font-family: Helvetica, Arial, sans-serif; margin: 0; background: #fff; color: #222 }
main { width: 960px; margin: 0 auto; padding: 16px }
.cell { margin: 10px 0 }
.input { background: #f5f5f5; border: 1px solid #e0e0e0; padding: 6px 8px; white-space: pre;
         font: 13px/1.35 monospace; overflow-x: auto }
.output { padding: 6px 8px; overflow-x: auto }
.output pre { font: 13px/1.35 monospace; margin: 0; white-space: pre-wrap }
.error { background: #fdd }
"""


def notebook_html(nb) -> str:
    """An executed notebook as one HTML page, as Jupyter lays it out: each
    cell's source, then its outputs, the richest kind of each (HTML, SVG,
    PNG, text), as nbconvert's priority has them. Markdown by markdown-it
    (rich's own dependency)."""
    import base64

    from markdown_it import MarkdownIt

    md = MarkdownIt()
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{NOTEBOOK_CSS}</style></head><body><main>"]
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            parts.append(f'<div class="cell md" id="cell{i}">{md.render(cell.source)}</div>')
            continue
        tags = " ".join(cell.metadata.get("tags", []))
        parts.append(f'<div class="cell code" id="cell{i}" data-tags="{html.escape(tags)}">'
                     f'<div class="input">{html.escape(cell.source)}</div>')
        for out in cell.outputs:
            if out.output_type == "stream":
                parts.append(f'<div class="output stream"><pre>{html.escape(out.text)}</pre></div>')
            elif out.output_type == "error":
                text = _ANSI.sub("", "\n".join(out.traceback))
                parts.append(f'<div class="output error"><pre>{html.escape(text)}</pre></div>')
            else:
                data = out.data
                if "text/html" in data:
                    body = data["text/html"]
                elif "image/svg+xml" in data:      # as Jupyter shows it: an image, scaled to fit
                    svg = base64.b64encode(data["image/svg+xml"].encode("utf-8")).decode("ascii")
                    body = f'<img style="max-width:100%" src="data:image/svg+xml;base64,{svg}">'
                elif "image/png" in data:
                    body = f'<img src="data:image/png;base64,{data["image/png"]}">'
                else:
                    body = f'<pre>{html.escape(data.get("text/plain", ""))}</pre>'
                parts.append(f'<div class="output result">{body}</div>')
        parts.append("</div>")
    parts.append("</main></body></html>")
    return "".join(parts)


def test_lecture_notebook_as_a_page_in_chromium(lecture, tmp_path):
    """The executed notebook, exported to HTML and opened in headless
    Chromium: every picture fits the output's width, its numbers readable
    (no picture scaled below 60%), the live page runs in its frame without
    touching the notebook's styles, and the stored notebook stays small
    (micrograd's lecture notebook is 1.4 MB)."""
    nb, cells = lecture
    nbformat = pytest.importorskip("nbformat")
    stored = tmp_path / "lecture.ipynb"
    nbformat.write(nb, stored)
    assert stored.stat().st_size < 500_000
    page_file = tmp_path / "lecture.html"
    page_file.write_text(notebook_html(nb), encoding="utf-8")
    shots = os.environ.get("GRADCLI_SCREENSHOTS")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        values = page.evaluate("""() => [...document.querySelectorAll('.gradcli-value')].map(v => {
            const pre = v.querySelector('pre'), svg = v.querySelector('svg');
            const box = v.parentElement.getBoundingClientRect();
            const r = svg ? svg.getBoundingClientRect() : null;
            return {text: pre.textContent, top: pre.getBoundingClientRect().top,
                    svgTop: r && r.top, svgWidth: r && r.width, natural: svg && svg.width.baseVal.value,
                    width: box.width, summary: !!v.querySelector('.gradcli-summary')};
        })""")
        frame_host = page.frame_locator("iframe.gradcli-page")
        frame_host.locator("svg#graph").wait_for()
        inner = [f for f in page.frames if f != page.main_frame][0]
        inner.wait_for_function("window.gradcli !== undefined")
        result = inner.evaluate("window.gradcli.result()")
        style = page.evaluate("""() => { const s = getComputedStyle(document.body), m = getComputedStyle(document.querySelector('.md p'));
            return [s.fontFamily, s.backgroundColor, s.margin, m.fontSize, m.color]; }""")
        if shots:
            page.screenshot(path=os.path.join(shots, "lecture-full.png"), full_page=True)
            for tag in ("L", "neuron", "tanh-apart", "loss", "magic-typo", "draw-page", "own-tanh", "one-neuron",
                        "magic-grad", "magic-graph", "a-plus-a"):
                index = next(i for i, c in enumerate(nb.cells) if tag in c.metadata.get("tags", []))
                cell = page.locator(f"#cell{index}")
                cell.scroll_into_view_if_needed()
                page.wait_for_timeout(500)       # the frame paints once in view; a picture, not an assertion
                cell.screenshot(path=os.path.join(shots, f"cell-{tag}.png"))
    assert errors == []
    pictures = [v for v in values if not v["summary"]]
    summaries = [v for v in values if v["summary"]]
    assert len(pictures) >= 7 and len(summaries) >= 3
    scrolled = 0
    for v in pictures:
        assert v["text"].startswith("Value(data=")
        assert v["top"] < v["svgTop"]                              # the number first, the picture below
        assert notebook.MIN_SCALE * v["natural"] - 1 <= v["svgWidth"] <= v["natural"] + 1   # readable
        if v["svgWidth"] > v["width"] + 1:                         # too wide even at MIN_SCALE: it scrolls
            assert v["svgWidth"] == pytest.approx(notebook.MIN_SCALE * v["natural"], abs=1)
            scrolled += 1
    assert scrolled < len(pictures) / 2
    assert result["value"] == pytest.approx(math.tanh(6.8813735870195432 - 6.0))
    assert style == ["Helvetica, Arial, sans-serif", "rgb(255, 255, 255)", "0px", "16px", "rgb(34, 34, 34)"]


def test_a_cut_picture_names_pythons_max_nodes():
    x = Value(1.0, label="x")
    y = x
    for _ in range(10):
        y = y * x
    dot = gradcli.draw(y, "dot", max_nodes=3)
    assert '  more [label="8 more nodes not drawn (max_nodes=3)", shape=plaintext];' in dot.splitlines()
    assert "--max-nodes" not in dot


def test_an_op_of_ones_own_displays_with_or_without_graphviz(monkeypatch, tmp_path):
    x = Value(2.0, label="x")
    out = Value(x.data ** 3, (x,), "cube")

    def _backward():
        x.grad += 3 * x.data ** 2 * out.grad
    out._backward = _backward
    out.backward()
    if HAS_DOT:
        shown = out._repr_mimebundle_()["text/html"]
        assert "<svg" in shown and ">cube<" in shown and "grad 12" in shown
    monkeypatch.setenv("PATH", str(tmp_path))      # no Graphviz: the live page cannot compute `cube`
    shown = out._repr_mimebundle_()["text/html"]
    assert shown.startswith('<div class="gradcli-value"><pre style="margin:0 0 4px 0">Value(data=8.0, grad=1.0)</pre>')
    assert "no picture: the live page (it recomputes every node in the browser) needs gradcli" in shown


def test_library_errors_keep_their_notes_in_tracebacks():
    import traceback

    L, _ = lecture_L()
    with pytest.raises(InputError) as e:
        gradcli.draw(L, "jpg")
    text = "".join(traceback.format_exception(e.value))
    assert text.rstrip("\n").endswith("InputError: format `'jpg'` is not one gradcli draws\n"
                                      "note: use one of 'svg', 'dot', 'html', 'png', 'pdf'")


def test_a_large_program_shows_its_repr_and_how_to_draw_it():
    program = "y = x\n" + "y = tanh(y * x + 0.5)\n" * 20
    graph = gradcli.build(gradcli.parse(program), {"x": 0.5})
    shown = graph._repr_mimebundle_()["text/html"]
    assert shown.startswith(f'<div class="gradcli-value"><pre style="margin:0 0 4px 0">{html.escape(repr(graph))}</pre>')
    assert "a graph of 81 values, too many to draw here: <code>gradcli.draw(graph)</code> is its SVG" in shown
    assert "<svg" not in shown and "<iframe" not in shown
