"""The live page at 100, 1,000 and 5,000 program nodes: writing, loading, interacting.

For each size and two shapes (an unrolled tanh MLP, a random DAG with heavy
reuse, from workloads.py):

- **write**: a whole `gradcli graph -f P -o P.html` process, and the page's
  size; beside it `gradcli graph -f P -o P.svg` (Graphviz's layout: the
  picture a user would make instead, static);
- **load**: in headless Chromium (Debian's, through Playwright), from
  navigation to the first contentful paint and to `window.gradcli` being
  ready (the page's script done: forward, backward, numbers drawn);
- **interact**, timed inside the page with performance.now(): `set()` of a
  leaf (forward + backward + every number redrawn), `step(K)` to a middle
  step, stepping one step forward, and a nudge (a click, to the numbers
  redrawn). Medians of 15 runs.

    python bench/page_bench.py            # all sizes (a few minutes)
    python bench/page_bench.py --quick    # 100 and 1,000 nodes, no SVG at 5,000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from workloads import mlp, random_dag  # noqa: E402

GRADCLI = str(Path(sys.executable).with_name("gradcli"))


def nodes_of(text: str) -> int:
    from gradcli import build, parse

    return len(build(parse(text), {}).nodes)


def timed(args: list[str], timeout: float = 300) -> float | None:
    t = time.perf_counter()
    try:
        r = subprocess.run(args, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if r.returncode != 0:
        raise SystemExit(r.stderr.decode())
    return time.perf_counter() - t


MEASURE = """async () => {
  const g = window.gradcli, med = a => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const leaf = Object.keys(g.result().grad)[0];
  const v0 = g.result();
  const base = Number(document.querySelector('#leaf-list input').value);
  const sets = [], steps = [], ones = [], nudges = [];
  const n = g.steps();
  for (let r = 0; r < 15; r++) {
    let t = performance.now(); g.set(leaf, base + (r % 2 ? 0.01 : -0.01)); sets.push(performance.now() - t);
    t = performance.now(); g.step(Math.floor(n / 2)); steps.push(performance.now() - t);
    t = performance.now(); g.step(Math.floor(n / 2) + 1); ones.push(performance.now() - t);
    g.step(n);
    t = performance.now(); document.getElementById('nudge-up').click(); nudges.push(performance.now() - t);
    document.getElementById('reset').click();
  }
  await new Promise(r => requestAnimationFrame(() => r()));
  return {set: med(sets), step: med(steps), one: med(ones), nudge: med(nudges), steps: n};
}"""


def browser_figures(path: Path) -> dict:
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--headless", "--disable-gpu"])
        fcps, readies = [], []
        for _ in range(3):
            page = b.new_page(viewport={"width": 1280, "height": 800})
            page.goto(path.resolve().as_uri())
            page.wait_for_function("window.gradcli !== undefined")
            fcp = page.evaluate("""new Promise(r => { const f = () => { const e = performance.getEntriesByName('first-contentful-paint')[0];
                if (e) r(e.startTime); else setTimeout(f, 20); }; f(); })""")
            ready = page.evaluate("performance.now()")
            fcps.append(fcp)
            readies.append(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd") or ready)
            page.close()
        page = b.new_page(viewport={"width": 1280, "height": 800})
        page.goto(path.resolve().as_uri())
        page.wait_for_function("window.gradcli !== undefined")
        out.update(page.evaluate(MEASURE))
        out["fcp"] = statistics.median(fcps)
        out["ready"] = statistics.median(readies)
        b.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    sizes = [100, 1000] if args.quick else [100, 1000, 5000]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            for shape, make in (("mlp", lambda n: mlp(n, width=8)), ("random_dag", lambda n: random_dag(n, leaves=max(4, n // 50)))):
                text = make(size)
                src = Path(tmp) / f"{shape}{size}.grad"
                src.write_text(text)
                html = src.with_suffix(".html")
                write = min(timed([GRADCLI, "graph", "-f", str(src), "-o", str(html)]) for _ in range(3))
                svg = None
                if size <= 1000 or not args.quick:
                    svg = timed([GRADCLI, "graph", "-f", str(src), "-o", str(src.with_suffix(".svg"))], timeout=300)
                fig = browser_figures(html)
                rows.append((shape, nodes_of(text), write, os.path.getsize(html), svg, fig))
                print(f"{shape:>10} {rows[-1][1]:>6} nodes: write {write:.2f} s ({os.path.getsize(html) / 1e6:.2f} MB), "
                      f"svg {'timeout' if svg is None else f'{svg:.2f} s'}, first paint {fig['fcp']:.0f} ms, "
                      f"ready {fig['ready']:.0f} ms, set {fig['set']:.1f} ms, step(K) {fig['step']:.1f} ms, "
                      f"one step {fig['one']:.1f} ms, nudge {fig['nudge']:.1f} ms", flush=True)
    print()
    print("| shape | nodes | write page | page size | write SVG (Graphviz) | first paint | loaded | set() | step(K) | one step | nudge |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for shape, n, write, size, svg, fig in rows:
        print(f"| {shape} | {n:,} | {write:.2f} s | {size / 1e6:.2f} MB | {'>300 s' if svg is None else f'{svg:.2f} s'} | "
              f"{fig['fcp']:.0f} ms | {fig['ready']:.0f} ms | {fig['set']:.1f} ms | {fig['step']:.1f} ms | "
              f"{fig['one']:.1f} ms | {fig['nudge']:.1f} ms |")


if __name__ == "__main__":
    main()
