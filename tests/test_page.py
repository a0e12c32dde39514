"""The live page (`graph -o FILE.html`) in a real browser: headless Chromium
through Playwright, every request recorded (a page that asks the network
for anything fails), every console message and page error collected.

Pages: the lecture's L, the neuron, micrograd's README program, a generated
1,000-node program, and small programs for domain errors. Each number the
page gives is compared with the command line's (`grad --json`, `eval`,
`explain --json`) or the library's at the same point.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from gradcli import build, parse
from gradcli import page as page_mod
from gradcli.render import short

GRADCLI = str(Path(sys.executable).with_name("gradcli"))
CHROMIUM = "/usr/bin/chromium"

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None

needs_browser = pytest.mark.skipif(
    sync_playwright is None or not os.path.exists(CHROMIUM),
    reason="no browser: Playwright for Python and Debian's chromium (/usr/bin/chromium) are needed "
           "(.ci/run installs both)")


def run(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([GRADCLI, *args], capture_output=True, text=True, cwd=cwd)


def grad_json(program_args: list[str], bindings: dict[str, float] | None = None) -> dict:
    extra = [f"{k}={v!r}" for k, v in (bindings or {}).items()]
    got = run("grad", *program_args, *extra, "--json")
    assert got.returncode == 0, got.stderr
    return json.loads(got.stdout)


def assert_close(a: float, b: float, where: str = ""):
    assert a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b)), f"{where}: {a!r} != {b!r}"


def assert_result(page_result: dict, cli: dict, where: str = ""):
    assert "error" not in page_result, page_result
    assert list(page_result["grad"]) == list(cli["grad"]), where
    assert_close(page_result["value"], cli["value"], where + " value")
    for name, g in cli["grad"].items():
        assert_close(page_result["grad"][name], g, f"{where} grad {name}")


# ---------------------------------------------------------------- the browser

@pytest.fixture(scope="module")
def browser():
    if sync_playwright is None or not os.path.exists(CHROMIUM):
        pytest.skip("no browser: Playwright for Python and /usr/bin/chromium are needed (.ci/run installs both)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"])
        yield b
        b.close()


class Opened:
    """A page in the browser, with what it logged and asked for."""

    def __init__(self, browser, path: Path, viewport=(1280, 800), **options):
        self.context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, **options)
        self.requests: list[str] = []
        self.messages: list[tuple[str, str]] = []
        self.url = path.resolve().as_uri()

        def route(r):
            self.requests.append(r.request.url)
            if r.request.url == self.url:
                r.continue_()
            else:
                r.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.messages.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.messages.append(("pageerror", str(e))))
        self.page.goto(self.url)
        self.page.wait_for_function("window.gradcli !== undefined")

    def js(self, expr: str, arg=None):
        return self.page.evaluate(expr, arg)

    def clean(self):
        """No console error or warning, and no request but the page itself."""
        assert [m for m in self.messages if m[0] in ("error", "warning", "pageerror")] == []
        assert {u for u in self.requests if not u.startswith("data:")} <= {self.url}

    def close(self):
        self.context.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The pages, written by the command line (with no Graphviz on PATH)."""
    out = tmp_path_factory.mktemp("pages")
    env = {**os.environ, "PATH": os.path.dirname(GRADCLI)}
    made = {}
    for name in ("lecture_L", "neuron", "micrograd_readme"):
        target = out / f"{name}.html"
        got = subprocess.run([GRADCLI, "graph", "-f", f"examples/{name}.grad", "-o", str(target)],
                             capture_output=True, text=True, cwd=ROOT, env=env)
        assert got.returncode == 0 and got.stdout == "" and got.stderr == "", got.stderr
        made[name] = (target, ["-f", f"examples/{name}.grad"])
    # the functions added as op rows only, and tanh's and sigmoid's tails (tanh(90) at x = 3)
    src = out / "new_functions.grad"
    src.write_text("x = 0.5\ny = -2\natan(x) + asinh(x*y) + erf(x) * hypot(x, y) + tanh(30*x) + sigmoid(-12*y)\n")
    target = out / "new_functions.html"
    got = run("graph", "-f", str(src), "-o", str(target))
    assert got.returncode == 0, got.stderr
    made["new_functions"] = (target, ["-f", str(src)])
    src = out / "big.grad"
    src.write_text(big_program(1000))
    target = out / "big.html"
    got = run("graph", "-f", str(src), "-o", str(target))
    assert got.returncode == 0, got.stderr
    made["big"] = (target, ["-f", str(src)])
    return made


def big_program(nodes: int, seed: int = 15) -> str:
    """A deterministic program of about ``nodes`` nodes: eight leaves with
    defaults, then statements mixing every kind of op, names reused."""
    rnd = random.Random(seed)
    lines = [f"x{i} = {rnd.uniform(-2, 2):.3f}" for i in range(8)]
    names = [f"x{i}" for i in range(8)]
    count = 8
    k = 0
    forms = ["{a} * {b}", "{a} + {b}", "{a} - {b}", "tanh({a}) * {b}", "sigmoid({a} - {b})",
             "relu({a}) + {b}", "sin({a}) * cos({b})", "{a} / (1 + {b}**2)", "exp(-{a}**2) + {b}",
             "log(1 + {a}**2) * {b}", "sqrt(1 + {a}*{a}) - {b}"]
    while count < nodes:
        a, b = rnd.choice(names[-12:]), rnd.choice(names)
        form = forms[k % len(forms)]
        k += 1
        target = f"t{k}" if rnd.random() < 0.8 else rnd.choice(names[8:] or ["t0"])
        if target == "t0":
            target = f"t{k}"
        lines.append(f"{target} = " + form.format(a=a, b=b))
        names.append(target)
        count += 3
    lines.append("out = " + " + ".join(names[-5:]))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the tests

@needs_browser
@pytest.mark.parametrize("name", ["lecture_L", "neuron", "micrograd_readme", "big", "new_functions"])
def test_result_and_set_equal_grad(browser, pages, name):
    path, prog = pages[name]
    p = Opened(browser, path)
    try:
        cli = grad_json(prog)
        assert_result(p.js("window.gradcli.result()"), cli, name)
        rnd = random.Random(name)
        leaves = list(cli["grad"])
        for _ in range(3):
            point = {leaf: round(rnd.uniform(-3, 3), 6) for leaf in leaves}
            for leaf, v in point.items():
                got = p.js("([n, v]) => window.gradcli.set(n, v)", [leaf, v])
            assert_result(got, grad_json(prog, point), f"{name} at {point}")
            assert_result(p.js("window.gradcli.result()"), grad_json(prog, point), f"{name} at {point}")
        p.clean()
    finally:
        p.close()


def _explain(prog: list[str], bindings: dict | None = None) -> dict:
    extra = [f"{k}={v!r}" for k, v in (bindings or {}).items()]
    got = run("explain", *prog, *extra, "--json")
    assert got.returncode == 0, got.stderr
    return json.loads(got.stdout)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _p(t: str) -> str:
    return f"({t})" if t.startswith("-") else t


def chain_lines(ex: dict, k: int, n_steps: int) -> list[str]:
    """What the page must say at step ``k`` (k >= 2), as the lecture writes
    the chain rule, built from explain --json's numbers: the head with the
    counter's number, the upstream gradient, and for each operand
    ``dL/de = dL/dd · dd/de = (-2) · 1 = -2`` (``+=`` and the running sum
    for a later use of a node used twice)."""
    step = ex["steps"][k - 2]
    out = ex["output"]
    name = step["name"]
    lines = [f"Step {k} of {n_steps}: {name} = {step['expression']}",
             f"upstream d{out}/d{name} = {short(step['grad'])}"]
    for c in step["contributions"]:
        child = c["operand"]
        chain = (f"d{out}/d{name} · d{name}/d{child} = {_p(short(step['grad']))} · {_p(short(c['local']))}"
                 f" = {short(c['product'])}")
        if c["uses"] > 1 and c["use"] > 1:
            lines.append(f"d{out}/d{child} += {chain}")
            lines.append(f"running sum: d{out}/d{child} = {short(c['before'])} + {_p(short(c['product']))} = {short(c['after'])}")
        else:
            lines.append(f"d{out}/d{child} = {chain}")
    return lines


@needs_browser
@pytest.mark.parametrize("name", ["lecture_L", "neuron", "micrograd_readme", "big"])
def test_stepping_is_explain(browser, pages, name):
    """step(K) walks explain's steps: the seed, then each operation; the ids
    it returns are the operands explain's step adds to; the text beside the
    graph says explain's numbers as the chain rule, with the counter's step
    number; after the last step every drawn grad is the engine's."""
    path, prog = pages[name]
    p = Opened(browser, path)
    try:
        ex = _explain(prog)
        n = p.js("window.gradcli.steps()")
        assert n == len(ex["steps"]) + 1
        out_id = ex["steps"][0]["node"] if ex["steps"] else None
        assert p.js("window.gradcli.step(0)") == []
        assert p.js("document.querySelectorAll('#graph tspan.g')[0].textContent") == ""
        assert p.js("window.gradcli.step(1)") == [out_id]
        seed = _squash(p.js("document.getElementById('steptext').innerText"))
        assert seed.startswith(f"Step 1 of {n}: the seed d{ex['output']}/d{ex['output']} = 1"), seed
        check = range(len(ex["steps"])) if len(ex["steps"]) < 60 else list(range(30)) + list(range(len(ex["steps"]) - 30, len(ex["steps"])))
        for k in check:
            ids = p.js("k => window.gradcli.step(k)", k + 2)
            want = list(dict.fromkeys(c["node"] for c in ex["steps"][k]["contributions"]))
            assert ids == want, k
            shown = p.js("document.getElementById('steptext').innerText")
            counter = p.js("document.getElementById('counter').textContent")
            assert counter == f"step {k + 2} of {n}"
            assert re.match(r"Step (\d+) of (\d+)", shown).groups() == (str(k + 2), str(n))
            flat = _squash(shown)
            for line in chain_lines(ex, k + 2, n):
                assert _squash(line) in flat, (k, line, flat)
            if k == len(ex["steps"]) - 1:
                leaves = ", ".join(f"{a} = {short(g)}" for a, g in ex["grad"].items())
                assert f"gradients of the leaves: {leaves}" in flat
        p.js("k => window.gradcli.step(k)", n)
        graph = build(parse((ROOT / prog[1]).read_text() if name != "big" else Path(prog[1]).read_text()), {})
        graph.backward()
        drawn = p.js("""Array.from(document.querySelectorAll('#graph g.v')).map(
            g => [g.id, g.querySelector('tspan.d').textContent, g.querySelector('tspan.g').textContent])""")
        assert len(drawn) >= 4
        for nid, d, g in drawn:
            node = graph.nodes[int(nid[1:])]
            assert d == short(node.data), nid
            assert g == short(node.grad), nid
        p.clean()
    finally:
        p.close()


@needs_browser
def test_the_lecture_s_chain_rule_words(browser, pages):
    """The words of the lecture: textbook local derivatives (tanh's 1 - o²,
    the engine's accurate form as a footnote), parentheses on negatives,
    no derivative with respect to a number, the running sum of a node used
    twice, and the local derivative and contribution on the hot edges."""
    path, _ = pages["lecture_L"]
    p = Opened(browser, path)
    try:
        p.js("window.gradcli.step(3)")
        text = _squash(p.js("document.getElementById('steptext').innerText"))
        assert "dL/de = dL/dd · dd/de = (-2) · 1 = -2" in text
        labels = p.js("Array.from(document.querySelectorAll('#graph text.elabel')).map(t => t.textContent)")
        assert labels == ["× 1 → -2", "× 1 → -2"]
    finally:
        p.close()
    path, _ = pages["neuron"]
    p = Opened(browser, path)
    try:
        p.js("window.gradcli.step(2)")
        text = _squash(p.js("document.getElementById('steptext').innerText"))
        assert "do/dn = 1 - o²* = 0.5" in text and "* gradcli computes 1 - o² as 4*sigmoid(2*n)*sigmoid(-2*n)" in text
        assert "**" not in text
    finally:
        p.close()
    path, _ = pages["micrograd_readme"]
    p = Opened(browser, path)
    try:
        texts = [_squash(p.js(f"(window.gradcli.step({k}), document.getElementById('steptext').innerText)"))
                 for k in range(2, p.js("window.gradcli.steps()") + 1)]
        everything = " ".join(texts)
        assert "running sum:" in everything and "+=" in everything
        assert "nan" not in everything
        assert "(2 - 1)" not in everything and "^(2" not in everything     # 2·x, not 2*x**(2 - 1)
        assert re.search(r"/d\(?-?\d", everything) is None                   # no d/d(a number)
    finally:
        p.close()


@needs_browser
def test_step_numbers_follow_a_poke(browser, pages):
    """After set(), the steps' numbers are explain's at the new point."""
    path, prog = pages["lecture_L"]
    p = Opened(browser, path)
    try:
        p.js("window.gradcli.set('a', 3.5)")
        p.js("window.gradcli.set('f', -0.25)")
        ex = _explain(prog, {"a": 3.5, "f": -0.25})
        n = p.js("window.gradcli.steps()")
        p.js("window.gradcli.step(2)")
        flat = _squash(p.js("document.getElementById('steptext').innerText"))
        for line in chain_lines(ex, 2, n):
            assert _squash(line) in flat, (line, flat)
        p.clean()
    finally:
        p.close()


DOMAIN = "w = 2.0\nx = 3.0\nL = log(x - 1) * w + sqrt(x) / w\n"


@needs_browser
@pytest.mark.parametrize("bindings", [{"x": 0.5}, {"x": 1.0}, {"w": 0.0}, {"x": 0.0}, {"x": -1e-3}])
def test_domain_error_shows_the_cli_message_and_recovers(browser, tmp_path, bindings):
    src = tmp_path / "domain.grad"
    src.write_text(DOMAIN)
    target = tmp_path / "domain.html"
    assert run("graph", "-f", str(src), "-o", str(target)).returncode == 0
    p = Opened(browser, target)
    try:
        cli = run("grad", "-f", str(src), *(f"{k}={v!r}" for k, v in bindings.items()))
        assert cli.returncode == 1 and cli.stdout == ""
        for k, v in bindings.items():
            got = p.js("([n, v]) => window.gradcli.set(n, v)", [k, v])
        assert got == {"error": cli.stderr.rstrip("\n")}
        assert p.js("window.gradcli.result()") == got
        assert p.js("document.getElementById('error').hidden") is False
        assert p.js("document.getElementById('error-text').textContent") == cli.stderr.rstrip("\n")
        back = p.js("([n, v]) => window.gradcli.set(n, v)", [next(iter(bindings)), 3.0 if "x" in bindings else 2.0])
        assert_result(back, grad_json(["-f", str(src)]))
        assert p.js("document.getElementById('error').hidden") is True
        p.clean()
    finally:
        p.close()


def test_derivative_error_message_is_the_cli_s(tmp_path):
    """The derivative's error (sqrt at 0) names the op, its place and the leaf, as grad does."""
    pytest.importorskip("playwright")
    if not os.path.exists(CHROMIUM):
        pytest.skip("no browser (/usr/bin/chromium)")
    cli = run("grad", "sqrt(x) * 3", "x=0")
    assert cli.returncode == 1
    assert "the derivative of `sqrt(0)` is not finite" in cli.stderr


@needs_browser
def test_set_rejects_what_the_cli_rejects(browser, pages):
    path, _ = pages["lecture_L"]
    p = Opened(browser, path)
    try:
        got = p.js("window.gradcli.set('zz', 1)")
        assert got["error"].startswith("error: `zz` is not a leaf of the program")
        assert "`a`, `b`, `c` and `f`" in got["error"]
        assert "is not a number" in p.js("window.gradcli.set('a', Infinity)")["error"]
        assert p.js("window.gradcli.result()")["value"] == -8.0
        p.clean()
    finally:
        p.close()


@needs_browser
@pytest.mark.parametrize("name,h,sign", [("lecture_L", "0.01", "up"), ("neuron", "0.5", "down"),
                                         ("micrograd_readme", "0.001", "up")])
def test_nudge_equals_eval_at_the_moved_point(browser, pages, name, h, sign):
    path, prog = pages[name]
    p = Opened(browser, path)
    try:
        cli = grad_json(prog)
        p.page.fill("#h", h)
        p.page.click(f"#nudge-{sign}")
        out = p.js("Object.assign({}, document.getElementById('nudge-out').dataset)")
        s = 1.0 if sign == "up" else -1.0
        hv = float(h)
        moved = {leaf: float(p.page.input_value(f"#leaf-list input[aria-label^='{leaf} (']"))
                 for leaf in cli["grad"]}
        leaves = build(parse((ROOT / prog[1]).read_text()), {}).leaves
        for leaf, g in cli["grad"].items():
            assert moved[leaf] == leaves[leaf].data + s * hv * g, leaf
        ev = run("eval", *prog, *(f"{k}={v!r}" for k, v in moved.items()))
        assert ev.returncode == 0, ev.stderr
        assert_close(float(out["after"]), float(ev.stdout), "after")
        assert float(out["before"]) == cli["value"]
        assert_close(float(out["predicted"]), cli["value"] + s * hv * sum(g * g for g in cli["grad"].values()),
                     "predicted")
        assert_result(p.js("window.gradcli.result()"), grad_json(prog, moved))
        p.clean()
    finally:
        p.close()


@needs_browser
def test_ui_poke_quiz_keyboard_and_inspect(browser, pages):
    """Through the page's own controls: typing a leaf's value, the arrow
    keys, hovering a node, and the quiz checking an answer."""
    path, prog = pages["lecture_L"]
    p = Opened(browser, path)
    try:
        pg = p.page
        pg.fill("#leaf-0", "3")
        assert_result(p.js("window.gradcli.result()"), grad_json(prog, {"a": 3.0}))
        assert pg.text_content("#heading") == "L = -2"
        pg.fill("#leaf-0", "3x")
        assert pg.get_attribute("#leaf-0", "aria-invalid") == "true"
        assert p.js("window.gradcli.result()")["value"] == -2.0
        pg.fill("#leaf-0", "2")
        pg.click("#first")
        pg.keyboard.press("ArrowRight")
        pg.keyboard.press("ArrowRight")
        assert pg.text_content("#counter") == "step 2 of 4"
        pg.keyboard.press("End")
        assert pg.text_content("#counter") == "step 4 of 4"
        pg.hover("#n4")
        body = pg.text_content("#inspect-body")
        assert "d = e + c" in body and "dd/de = 1 = 1" in body and "lecture_L.grad:9:7" in body
        pg.check("#quiz-on")
        assert pg.text_content("#n0 tspan.g") == "?"
        pg.click("#n0")
        pg.fill("#quiz-answer", "5")
        pg.keyboard.press("Enter")
        assert "Not yet" in pg.text_content(".verdict")
        pg.fill("#quiz-answer", "6")
        pg.keyboard.press("Enter")
        assert "Right" in pg.text_content(".verdict")
        assert pg.text_content("#n0 tspan.g") == "6"
        assert pg.text_content("#n1 tspan.g") == "?"
        p.clean()
    finally:
        p.close()


@needs_browser
def test_max_nodes_draws_the_nearest_and_computes_all(browser, pages, tmp_path):
    _, prog = pages["big"]
    target = tmp_path / "cut.html"
    got = run("graph", *prog, "--max-nodes", "40", "-o", str(target))
    assert got.returncode == 0, got.stderr
    p = Opened(browser, target)
    try:
        assert p.js("document.querySelectorAll('#graph g.v').length") <= 40
        assert "more nodes not drawn (--max-nodes)" in p.js("document.getElementById('more').textContent")
        stubs = p.js("""(() => { const b = JSON.parse(document.getElementById('gradcli-data').textContent).geo.b;
            let n = 0; for (let k = 0; k < b.length; k += 7) if (b[k] === 3) n++; return n; })()""")
        assert stubs > 0
        assert_result(p.js("window.gradcli.result()"), grad_json(prog))
        p.clean()
    finally:
        p.close()


@needs_browser
@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)])
def test_readable_at_desktop_and_phone_size(browser, pages, viewport):
    """Nothing overflows the window sideways but the graph's own scroller,
    the controls can be reached, and the numbers are drawn at a legible size."""
    path, _ = pages["micrograd_readme"]
    p = Opened(browser, path, viewport)
    try:
        width = p.js("document.documentElement.scrollWidth")
        assert width <= viewport[0]
        for sel in ("#next", "#leaf-0", "#h", "#nudge-up", "#quiz-on"):
            box = p.page.locator(sel).bounding_box()
            assert box and box["width"] > 10 and 0 <= box["x"] and box["x"] + box["width"] <= viewport[0], sel
        font = p.js("""(() => { const t = document.querySelector('#graph tspan.d');
            return t.getBoundingClientRect().height; })()""")
        assert font >= 9
        p.clean()
    finally:
        p.close()


def test_html_of_a_hand_built_graph_leaves_its_values_alone():
    """page.html (what Jupyter shows for a Value) does not change the graph."""
    from gradcli.engine import Graph, Value, topological_order

    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    out = (a * b).tanh()
    nodes = topological_order(out)
    for i, n in enumerate(nodes):
        n.index = i
    g = Graph(nodes, {}, {"a": a, "b": b}, out)
    text = page_mod.html(g)
    assert a.grad == 0.0 and b.grad == 0.0
    assert text.startswith("<!DOCTYPE html>") and "default-src 'none'" in text
    geo = json.loads(re.search(r'<script id="gradcli-data" type="application/json">(.*?)</script>', text).group(1))["geo"]
    assert len(geo["b"]) == 7 * 6 and geo["t"] == ["a", "b", "*", "n2", "tanh", "n3"]


def test_no_url_in_the_page(pages):
    """Nothing in the page could ask the network for anything."""
    text = pages["micrograd_readme"][0].read_text()
    assert not re.search(r"(?i)\b(?:https?:)?//[a-z0-9]", text.replace("http://www.w3.org/2000/svg", ""))
    assert "@import" not in text and "@font-face" not in text


def test_page_errors_on_the_command_line(tmp_path):
    bad = run("graph", "a*b", "a=1", "b=2", "-o", str(tmp_path / "x.html"), "--rankdir", "TB")
    assert bad.returncode == 2 and bad.stdout == ""
    assert "the live page is drawn left to right" in bad.stderr
    assert not (tmp_path / "x.html").exists()
    missing = run("graph", "a*b", "a=1", "b=2", "-o", str(tmp_path / "no" / "x.html"))
    assert missing.returncode == 2 and "cannot write" in missing.stderr


@needs_browser
def test_doc_js_lines_run_on_the_page(browser, pages):
    """Each line of docs/page.md's ```js block, run on the page of L, gives its comment."""
    doc = (ROOT / "docs" / "page.md").read_text()
    (block,) = re.findall(r"```js\n(.*?)```", doc, flags=re.S)
    path, _ = pages["lecture_L"]
    p = Opened(browser, path)
    try:
        lines = [line for line in block.splitlines() if line.strip()]
        assert len(lines) >= 3
        for line in lines:
            code, want = line.split("//")
            assert p.js("window." + code.strip()) == json.loads(want), line
        p.clean()
    finally:
        p.close()


# ---------------------------------------------------------------- the camera, the quiz, the words (issue 23)

def _in_view(p, sel: str) -> bool:
    """Does the element's box intersect the canvas's visible box?"""
    return p.js("""sel => { const e = document.querySelector(sel); if (!e) return false;
        const r = e.getBoundingClientRect(), c = document.getElementById('canvas').getBoundingClientRect();
        return r.width > 0 && r.right > c.left && r.left < c.right && r.bottom > c.top && r.top < c.bottom; }""", sel)


@pytest.fixture(scope="module")
def mlp_page(tmp_path_factory):
    """A 200-node MLP (bench/workloads.py's shape: tanh layers)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from workloads import mlp

    out = tmp_path_factory.mktemp("mlp")
    src = out / "mlp.grad"
    src.write_text(mlp(200, width=6, inputs=4))
    assert 150 <= len(build(parse(src.read_text()), {}).nodes) <= 260
    target = out / "mlp.html"
    got = run("graph", "-f", str(src), "-o", str(target))
    assert got.returncode == 0, got.stderr
    return target, ["-f", str(src)]


@needs_browser
@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)])
@pytest.mark.parametrize("name", ["lecture_L", "neuron", "micrograd_readme", "mlp"])
def test_the_camera_follows_every_step(browser, pages, mlp_page, name, viewport):
    """On load the output is in view; after Home then each press of the right
    arrow (the camera moving smoothly, then settled), the highlighted
    operation's box intersects the visible canvas; step(K) brings its nodes
    into view at once; every value node on screen is an element with
    data-node whose box is where it is seen (a node far out of view is not
    in the DOM, a node in view is)."""
    path = mlp_page[0] if name == "mlp" else pages[name][0]
    p = Opened(browser, path, viewport)
    try:
        assert _in_view(p, "#graph g.v.out[data-node]"), "the output is not in view on load"
        n = p.js("window.gradcli.steps()")
        p.page.keyboard.press("Home")
        for k in range(1, min(n, 12)):
            p.page.keyboard.press("ArrowRight")
            p.page.wait_for_timeout(420)
            assert p.page.text_content("#counter") == f"step {k} of {n}"
            hot = "g.op.hot" if k >= 2 else "g.v.seed"
            assert _in_view(p, "#graph " + hot), (name, k)
        for k in (n, n // 2, 2):
            ids = p.js("k => window.gradcli.step(k)", k)
            assert any(_in_view(p, f'[data-node="{i}"]') for i in ids) or not ids, (name, k)
            assert k < 2 or _in_view(p, "#graph g.op.hot"), (name, k)
        # every data-node element drawn is at least partly near the view
        far = p.js("""(() => { const c = document.getElementById('canvas').getBoundingClientRect();
            return Array.from(document.querySelectorAll('[data-node]')).filter(e => { const r = e.getBoundingClientRect();
              return r.right < c.left - 400 || r.left > c.right + 400 || r.bottom < c.top - 400 || r.top > c.bottom + 400; }).length; })()""")
        assert far == 0
        p.clean()
    finally:
        p.close()


@needs_browser
@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)])
@pytest.mark.parametrize("name", ["lecture_L", "neuron", "micrograd_readme"])
def test_text_is_12px_on_screen_at_the_default_view(browser, pages, name, viewport):
    """Every text on the picture is at least 12 px high on screen as the page
    opens (laptop and phone), the whole lecture graph is in view at 1280x800,
    and a poked number grows its cell instead of being squeezed."""
    path, _ = pages[name]
    p = Opened(browser, path, viewport)
    try:
        sizes = p.js("""(() => { const svg = document.getElementById('graph'), k = svg.getScreenCTM().a;
            return Array.from(svg.querySelectorAll('text, tspan')).filter(t => t.textContent.trim())
              .map(t => parseFloat(getComputedStyle(t).fontSize) * k); })()""")
        assert sizes and min(sizes) >= 12 - 1e-9, min(sizes)
        if name == "lecture_L" and viewport[0] == 1280:
            for i in range(7):
                assert _in_view(p, f'[data-node="n{i}"]'), i
            p.js("window.gradcli.set('a', 1.234567891)")
            fits = p.js("""(() => { const g = document.getElementById('n0'), t = g.querySelector('tspan.d'), b = g.querySelector('rect.box');
                return t.getBoundingClientRect().right <= b.getBoundingClientRect().right; })()""")
            assert fits
            assert p.page.text_content("#n0 tspan.d") == "1.23457"
            assert p.js("getComputedStyle(document.querySelector('#n0 tspan.d')).getPropertyValue('textLength')") in ("", None)
            assert p.js("document.querySelector('#n0 tspan.d').getAttribute('textLength')") is None
            assert p.page.text_content("#n0 text.name") == "a"        # draw_dot's label: the name, the id on hover
            assert "n0" in p.page.text_content("#n0 title")
        p.clean()
    finally:
        p.close()


@needs_browser
def test_quiz_hides_every_answer(browser, tmp_path):
    """While the quiz is on, no grad value appears in any text of the page
    (graph, step text, node panel, nudge, leaves, edge labels, titles), at any
    step, until the learner has typed it."""
    src = tmp_path / "q.grad"
    src.write_text("a = 1.25\nb = -3.5\nc = 10.75\nf = -2.25\ne = a * b\nd = e + c\nL = d * f\n")
    target = tmp_path / "q.html"
    assert run("graph", "-f", str(src), "-o", str(target)).returncode == 0
    graph = build(parse(src.read_text()), {})
    graph.backward()
    datas = {short(n.data) for n in graph.nodes}
    secret = {short(n.grad) for n in graph.nodes if n.kind != "const"} - datas - {"1", "0"}
    assert {"7.875", "-2.8125"} <= secret
    p = Opened(browser, target)
    try:
        pg = p.page
        pg.click("#zoom-fit")          # the whole graph, every box on screen
        pg.wait_for_timeout(500)
        pg.check("#quiz-on")
        everything = """(() => Array.from(document.querySelectorAll('body, body *')).map(e =>
            (e.children.length ? '' : e.textContent) + ' ' + (e.getAttribute('title') || '') + ' ' + (e.getAttribute('aria-label') || '') +
            ' ' + (e.value || '')).join(' ') + ' ' + document.body.innerText)()"""
        for k in range(p.js("window.gradcli.steps()") + 1):
            p.js("k => window.gradcli.step(k)", k)
            pg.hover("#graph g.v.out")
            text = p.js(everything)
            for s in secret:
                assert not re.search(r"(?<![\d.])" + re.escape(s) + r"(?![\d])", text), (k, s)
        pg.click("#nudge-up", force=True)
        assert not any(s in p.js(everything) for s in secret)
        # typing the answer reveals that one
        pg.click("#zoom-fit")
        pg.wait_for_timeout(500)
        pg.click("#n0")
        pg.fill("#quiz-answer", "7.875")
        pg.keyboard.press("Enter")
        assert pg.text_content("#n0 tspan.g") == "7.875"
        assert "-2.8125" not in p.js(everything)
        p.clean()
    finally:
        p.close()


@needs_browser
def test_a_plus_a_draws_two_edges(browser, pages, tmp_path):
    """b = a + a: two edges from a into +, with different paths, both highlighted."""
    src = tmp_path / "aa.grad"
    src.write_text("a = 3.0\nb = a + a\n")
    target = tmp_path / "aa.html"
    assert run("graph", "-f", str(src), "-o", str(target)).returncode == 0
    p = Opened(browser, target)
    try:
        p.js("window.gradcli.step(2)")
        paths = p.js("Array.from(document.querySelectorAll('#graph path.e')).filter(e => e.id.startsWith('e1_')).map(e => e.getAttribute('d'))")
        assert len(paths) == 2 and paths[0] != paths[1]
        boxes = p.js("""Array.from(document.querySelectorAll('#e1_0, #e1_1')).map(e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; })""")
        assert abs(boxes[0][0] - boxes[1][0]) >= 6 or abs(boxes[0][1] - boxes[1][1]) >= 6
        assert p.js("document.querySelectorAll('#graph path.e.hot').length") == 3
        text = _squash(p.js("document.getElementById('steptext').innerText"))
        assert "running sum: db/da = 1 + 1 = 2" in text
        p.clean()
    finally:
        p.close()


@needs_browser
def test_names_that_are_javascript_s_own(browser, tmp_path):
    """Leaves named __proto__, constructor, toString, hasOwnProperty are in
    result() with grad's values (prototype-free objects), and set() works."""
    src = tmp_path / "proto.grad"
    src.write_text("__proto__ = 2.0\nconstructor = 3.0\ntoString = -1.5\nhasOwnProperty = 0.5\n"
                   "q = __proto__ * constructor + toString * hasOwnProperty + __proto__ ** 2\n")
    target = tmp_path / "proto.html"
    got = run("graph", "-f", str(src), "-o", str(target))
    assert got.returncode == 0, got.stderr
    prog = ["-f", str(src)]
    p = Opened(browser, target)
    try:
        r = p.js("(() => { const r = window.gradcli.result(); return {value: r.value, grad: Object.keys(r.grad).map(k => [k, r.grad[k]])}; })()")
        cli = grad_json(prog)
        assert [k for k, _ in r["grad"]] == list(cli["grad"])
        for k, g in r["grad"]:
            assert_close(g, cli["grad"][k], k)
        r = p.js("(() => { const r = window.gradcli.set('__proto__', 5); return Object.keys(r.grad).map(k => [k, r.grad[k]]); })()")
        cli = grad_json(prog, {"__proto__": 5.0})
        for k, g in r:
            assert_close(g, cli["grad"][k], k)
        p.clean()
    finally:
        p.close()


@needs_browser
def test_keyboard_reaches_the_controls_first_and_arrows_step(browser, pages):
    """Tab reaches the step buttons within a few presses (the skip link, then
    the panel), arrows step while the quiz checkbox has focus, not while a
    text field is edited, and Escape leaves the field."""
    path, _ = pages["micrograd_readme"]
    p = Opened(browser, path)
    try:
        pg = p.page
        seen = []
        for _ in range(4):
            pg.keyboard.press("Tab")
            seen.append(p.js("document.activeElement.id || document.activeElement.className"))
        assert "first" in seen or "prev" in seen or "next" in seen, seen
        pg.focus("#quiz-on")
        pg.keyboard.press("Home")
        pg.keyboard.press("ArrowRight")
        assert pg.text_content("#counter").startswith("step 1 of")
        pg.focus("#leaf-0")
        pg.keyboard.press("ArrowRight")
        assert pg.text_content("#counter").startswith("step 1 of")
        pg.keyboard.press("Escape")
        assert p.js("document.activeElement.id") != "leaf-0"
        pg.keyboard.press("ArrowRight")
        assert pg.text_content("#counter").startswith("step 2 of")
        p.clean()
    finally:
        p.close()


@needs_browser
def test_poke_in_place_and_feedback_where_the_eye_is(browser, pages):
    """Drag a leaf's number on the graph (scrubbing) or click it and type:
    the page recomputes as grad does; a nudge's result shows over the graph,
    inside the window."""
    path, prog = pages["lecture_L"]
    p = Opened(browser, path)
    try:
        pg = p.page
        box = pg.locator("#n0 tspan.d").bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        pg.mouse.move(x, y)
        pg.mouse.down()
        pg.mouse.move(x + 20, y, steps=4)
        pg.mouse.move(x + 50, y, steps=4)
        pg.mouse.up()
        a = float(pg.input_value("#leaf-0"))
        assert a == 2.5                       # 50 px of 0.01 from 2.0
        assert_result(p.js("window.gradcli.result()"), grad_json(prog, {"a": a}))
        assert pg.text_content("#n0 tspan.d") == "2.5"
        # a click opens a field on the number itself
        box = pg.locator("#n1 tspan.d").bounding_box()
        pg.mouse.click(box["x"] + 3, box["y"] + 3)
        assert p.js("document.activeElement.id") == "poke"
        pg.keyboard.type("-1.25")
        pg.keyboard.press("Enter")
        assert_result(p.js("window.gradcli.result()"), grad_json(prog, {"a": a, "b": -1.25}))
        pg.click("#nudge-up")
        toast = pg.locator("#toast").bounding_box()
        assert toast and 0 <= toast["y"] and toast["y"] + toast["height"] <= 800
        assert "L:" in pg.text_content("#toast") and "predicted" in pg.text_content("#toast")
        p.clean()
    finally:
        p.close()


@needs_browser
def test_a_tap_on_a_phone_shows_its_result(browser, pages):
    """At 390x844 a tapped node's panel is scrolled into the window."""
    path, _ = pages["neuron"]
    p = Opened(browser, path, (390, 844))
    try:
        pg = p.page
        pg.click("#graph g.v.out text.name")
        body = pg.locator("#inspect-body").bounding_box()
        assert body and body["y"] >= 0 and body["y"] + 20 <= 844
        assert "o = tanh(n)" in pg.text_content("#inspect-body")
        p.clean()
    finally:
        p.close()


@needs_browser
def test_two_fingers_pinch_to_zoom(browser, pages):
    """On a phone two pointers moving apart zoom in about their middle."""
    path, _ = pages["lecture_L"]
    p = Opened(browser, path, (390, 844))
    try:
        before = p.js("document.getElementById('graph').getScreenCTM().a")
        p.js("""(() => { const svg = document.getElementById('graph'), r = svg.getBoundingClientRect();
            const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
            const ev = (type, id, x) => svg.dispatchEvent(new PointerEvent(type, {pointerId: id, pointerType: 'touch',
                clientX: x, clientY: cy, bubbles: true, isPrimary: id === 1}));
            ev('pointerdown', 1, cx - 20); ev('pointerdown', 2, cx + 20);
            for (let k = 1; k <= 5; k++) { ev('pointermove', 1, cx - 20 - 10 * k); ev('pointermove', 2, cx + 20 + 10 * k); }
            ev('pointerup', 1, cx - 70); ev('pointerup', 2, cx + 70); })()""")
        after = p.js("document.getElementById('graph').getScreenCTM().a")
        assert after > 2 * before
        p.clean()
    finally:
        p.close()


@needs_browser
@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_the_camera_moves_smoothly_unless_motion_is_reduced(browser, mlp_page, motion):
    """A step by key glides the view over several frames; with
    prefers-reduced-motion it jumps at once."""
    p = Opened(browser, mlp_page[0], reduced_motion=motion)
    try:
        n = p.js("window.gradcli.steps()")
        p.js("window.gradcli.step(2)")
        # from a step near the output to one near the leaves: the camera must travel
        frames = p.js("""async n => { const vb = () => document.getElementById('graph').getAttribute('viewBox');
            const seen = [vb()];
            document.dispatchEvent(new KeyboardEvent('keydown', {key: 'End', bubbles: true}));
            for (let k = 0; k < 40; k++) { await new Promise(r => requestAnimationFrame(r)); seen.push(vb()); }
            return seen; }""", n)
        distinct = list(dict.fromkeys(frames))
        if motion == "reduce":
            assert len(distinct) == 2 and frames[1] == frames[-1]
        else:
            assert len(distinct) >= 5
        assert _in_view(p, "#graph g.op.hot")
        p.clean()
    finally:
        p.close()


CROSSINGS = """(() => {
  // samples every 6 px along each edge; counts the edges that pass inside a box not their own
  const G = JSON.parse(document.getElementById('gradcli-data').textContent).geo;
  const NB = G.b.length / 7, NE = G.e.length / 10;
  const p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  document.getElementById('graph').append(p);
  let bad = 0;
  for (let e = 0; e < NE; e++) {
    const u = G.e[e * 10], v = G.e[e * 10 + 1];
    p.setAttribute('d', G.d[e]);
    const L = p.getTotalLength();
    outer: for (let t = 4; t < L - 4; t += 6) {
      const q = p.getPointAtLength(t);
      for (let b = 0; b < NB; b++) {
        const o = b * 7;
        if (b !== u && b !== v && q.x > G.b[o + 2] + 2 && q.x < G.b[o + 2] + G.b[o + 4] - 2 &&
            q.y > G.b[o + 3] + 2 && q.y < G.b[o + 3] + G.b[o + 5] - 2) { bad++; break outer; }
      }
    }
  }
  p.remove();
  return [NE, bad];
})()"""


@needs_browser
@pytest.mark.parametrize("name", ["lecture_L", "neuron", "micrograd_readme", "mlp"])
def test_edges_go_around_the_boxes(browser, pages, mlp_page, name):
    """No edge passes through a box other than the two it joins."""
    path = mlp_page[0] if name == "mlp" else pages[name][0]
    p = Opened(browser, path)
    try:
        edges, bad = p.js(CROSSINGS)
        assert edges >= 9 and bad == 0
    finally:
        p.close()


@needs_browser
def test_far_out_the_values_are_still_elements(browser, pages):
    """Showing all of a 1,000-node graph: the edges are painted on a canvas,
    every value node in view is still an element with data-node inside the
    canvas's box, and a step still computes grad's numbers."""
    path, prog = pages["big"]
    p = Opened(browser, path, reduced_motion="reduce")
    try:
        near = p.js("document.getElementById('graph').getElementsByTagName('*').length")
        p.page.click("#zoom-fit")
        assert p.js("document.getElementById('graph').classList.contains('far')")
        boxes = p.js("""Array.from(document.querySelectorAll('[data-node]')).map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })""")
        canvas = p.js("(() => { const r = document.getElementById('canvas').getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })()")
        values = p.js("""(() => { const b = JSON.parse(document.getElementById('gradcli-data').textContent).geo.b;
            let n = 0; for (let k = 0; k < b.length; k += 7) if (b[k] === 0 || b[k] === 2) n++; return n; })()""")
        assert len(boxes) == values > near / 10
        for l, t, r, b in boxes:
            assert r > canvas[0] - 1 and l < canvas[2] + 1 and b > canvas[1] - 1 and t < canvas[3] + 1
        painted = p.js("""(() => { const c = document.getElementById('far'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let k = 3; k < d.length; k += 4) if (d[k]) n++; return n; })()""")
        assert painted > 1000
        p.js("window.gradcli.step(5)")
        assert_result(p.js("window.gradcli.result()"), grad_json(prog))
        p.clean()
    finally:
        p.close()
