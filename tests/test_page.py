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

    def __init__(self, browser, path: Path, viewport=(1280, 800)):
        self.context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
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


def _explain_text(prog: list[str]) -> list[str]:
    got = run("explain", *prog)
    assert got.returncode == 0, got.stderr
    return got.stdout.splitlines()


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@needs_browser
@pytest.mark.parametrize("name", ["lecture_L", "neuron", "micrograd_readme", "big"])
def test_stepping_is_explain(browser, pages, name):
    """step(K) walks explain's steps: the seed, then each operation; the ids
    it returns are the operands explain's step adds to; the text beside the
    graph is explain's; after the last step every drawn grad is the
    engine's."""
    path, prog = pages[name]
    p = Opened(browser, path)
    try:
        ex = _explain(prog)
        text = _explain_text(prog)
        n = p.js("window.gradcli.steps()")
        assert n == len(ex["steps"]) + 1
        out_id = ex["steps"][0]["node"] if ex["steps"] else None
        assert p.js("window.gradcli.step(0)") == []
        assert p.js("document.querySelectorAll('#graph tspan.g')[0].textContent") == ""
        assert p.js("window.gradcli.step(1)") == [out_id]
        assert _squash(p.js("document.getElementById('steptext').innerText")) == _squash(text[0])
        heads = [i for i, line in enumerate(text) if re.match(r"^\d+\. ", line)]
        heads.append(next(i for i, line in enumerate(text) if line.startswith("gradients of the leaves")))
        check = range(len(ex["steps"])) if len(ex["steps"]) < 60 else list(range(30)) + list(range(len(ex["steps"]) - 30, len(ex["steps"])))
        for k in check:
            ids = p.js("k => window.gradcli.step(k)", k + 2)
            want = list(dict.fromkeys(c["node"] for c in ex["steps"][k]["contributions"]))
            assert ids == want, k
            shown = _squash(p.js("document.getElementById('steptext').innerText"))
            lines = text[heads[k]:heads[k + 1]]
            if k == len(ex["steps"]) - 1:
                lines = lines + text[heads[k + 1]:heads[k + 1] + 1]
            assert shown == _squash(" ".join(lines)), k
        p.js("k => window.gradcli.step(k)", n)
        graph = build(parse((ROOT / prog[1]).read_text() if name != "big" else Path(prog[1]).read_text()), {})
        graph.backward()
        drawn = p.js("""Array.from(document.querySelectorAll('#graph g.v')).map(
            g => [g.id, g.querySelector('tspan.d').textContent, g.querySelector('tspan.g').textContent])""")
        assert len(drawn) >= 5
        for nid, d, g in drawn:
            node = graph.nodes[int(nid[1:])]
            assert d == short(node.data), nid
            assert g == short(node.grad), nid
        p.clean()
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
        text = run("explain", *prog, "a=3.5", "f=-0.25").stdout.splitlines()
        p.js("window.gradcli.step(2)")
        assert _squash(p.js("document.getElementById('steptext').innerText")) == _squash(" ".join(text[1:4]))
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
        assert "more nodes not drawn (--max-nodes)" in p.js("document.querySelector('#graph .more').textContent")
        assert p.js("document.querySelectorAll('#graph g.stub').length") > 0
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
    assert 'id="n0"' in text and 'id="n2op"' in text


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
def test_readme_js_lines_run_on_the_page(browser, pages):
    """Each line of the README's ```js block, run on the page of L, gives its comment."""
    readme = (ROOT / "README.md").read_text()
    (block,) = re.findall(r"```js\n(.*?)```", readme, flags=re.S)
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
