"""The live page at 100, 1,000 and 10,000 program nodes: writing it, its
first frame, and each interaction to its next painted frame.

For each size, an unrolled tanh MLP (workloads.mlp, width 8):

- **write**: a whole `gradcli graph -f P -o P.html` process, its seconds
  per 1,000 nodes (the pass is linear: layout.py's sweeps are each
  O(E log V)), and the page's size;
- **first frame**: in headless Chromium (Debian's, through Playwright),
  from navigation to the first frame painted after the page's script is
  done (`window.gradcli` ready, then two requestAnimationFrame callbacks:
  the frame with the numbers drawn has been painted);
- **step**, **set**, **fit**: inside the page, from the click (the step
  button, `set()` of a leaf, the "fit" button showing the whole graph) to
  the next painted frame (two requestAnimationFrame callbacks after the
  change: style, layout and paint of the whole frame included, not just
  the JavaScript); medians of 15 (5 for fit). Motion is reduced
  (`prefers-reduced-motion`), so the camera jumps and the frame measured
  holds the whole change.

    python bench/page_bench.py            # 100, 1,000 and 10,000 nodes (about two minutes)
    python bench/page_bench.py --quick    # 100 and 1,000
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

from workloads import mlp  # noqa: E402

GRADCLI = str(Path(sys.executable).with_name("gradcli"))


def nodes_of(text: str) -> int:
    from gradcli import build, parse

    return len(build(parse(text), {}).nodes)


def timed(args: list[str], timeout: float = 600) -> float:
    t = time.perf_counter()
    r = subprocess.run(args, capture_output=True, timeout=timeout)
    if r.returncode != 0:
        raise SystemExit(r.stderr.decode())
    return time.perf_counter() - t


PAINTED = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))"

MEASURE = """async () => {
  const g = window.gradcli, med = a => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const painted = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const leaf = Object.keys(g.result().grad)[0];
  const base = g.result();
  const n = g.steps();
  const steps = [], sets = [], fits = [];
  document.getElementById('first').click();
  await painted();
  for (let r = 0; r < 15; r++) {
    let t = performance.now(); document.getElementById('next').click(); await painted(); steps.push(performance.now() - t);
    t = performance.now(); g.set(leaf, 0.5 + (r % 2 ? 0.01 : -0.01)); await painted(); sets.push(performance.now() - t);
  }
  const elements = document.getElementById('graph').getElementsByTagName('*').length;
  for (let r = 0; r < 5; r++) {
    document.getElementById('zoom-step').click(); await painted();
    let t = performance.now(); document.getElementById('zoom-fit').click(); await painted(); fits.push(performance.now() - t);
  }
  document.getElementById('zoom-step').click(); await painted();
  const farElements = document.getElementById('graph').getElementsByTagName('*').length;
  return {step: med(steps), set: med(sets), fit: med(fits), steps: n, elements, farElements};
}"""


def browser_figures(path: Path) -> dict:
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--headless", "--disable-gpu"])
        ctx = b.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
        firsts = []
        for _ in range(3):
            page = ctx.new_page()
            page.goto(path.resolve().as_uri())
            page.wait_for_function("window.gradcli !== undefined", polling="raf")
            firsts.append(page.evaluate(PAINTED))
            page.close()
        page = ctx.new_page()
        page.goto(path.resolve().as_uri())
        page.wait_for_function("window.gradcli !== undefined")
        out.update(page.evaluate(MEASURE))
        out["first"] = statistics.median(firsts)
        b.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    sizes = [100, 1000] if args.quick else [100, 1000, 10000]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            text = mlp(size, width=8, inputs=4)
            src = Path(tmp) / f"mlp{size}.grad"
            src.write_text(text)
            html = src.with_suffix(".html")
            write = min(timed([GRADCLI, "graph", "-f", str(src), "-o", str(html)]) for _ in range(1 if size > 2000 else 3))
            n = nodes_of(text)
            fig = browser_figures(html)
            rows.append((n, write, os.path.getsize(html), fig))
            print(f"{n:>6} nodes: write {write:.2f} s ({write / n * 1000:.2f} s per 1,000 nodes, {os.path.getsize(html) / 1e6:.2f} MB), "
                  f"first frame {fig['first']:.0f} ms, step {fig['step']:.1f} ms, set {fig['set']:.1f} ms, "
                  f"fit {fig['fit']:.0f} ms, SVG elements {fig['elements']} at the step, {fig['farElements']} at fit", flush=True)
    print()
    print("| nodes | write page | per 1,000 nodes | page size | first frame | step | set() | fit (whole graph) | SVG elements: step / fit |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n, write, size, fig in rows:
        print(f"| {n:,} | {write:.2f} s | {write / n * 1000:.2f} s | {size / 1e6:.2f} MB | {fig['first']:.0f} ms | "
              f"{fig['step']:.1f} ms | {fig['set']:.1f} ms | {fig['fit']:.0f} ms | {fig['elements']:,} / {fig['farElements']:,} |")


if __name__ == "__main__":
    main()
