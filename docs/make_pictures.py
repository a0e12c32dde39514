"""Regenerate the pictures and golden files that are checked into the repository.

    python docs/make_pictures.py

- docs/L.svg, the README's picture, with exactly the command the README shows
  beside it (COMMAND below); tests/test_graph.py checks the file is current.
- tests/golden/*.dot, the DOT of every example, which the tests compare byte
  for byte.
- docs/page.png, the README's screenshot of the live page (the page of
  examples/lecture_L.grad two steps into the backward pass, the pointer on
  `d`), taken with headless Chromium through Playwright when both are there.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRADCLI = [sys.executable, "-m", "gradcli"]

# The README shows this command beside the picture (run from the repository root).
COMMAND = ["graph", "-f", "examples/lecture_L.grad", "-o", "docs/L.svg"]


def golden_command(example: Path) -> list[str]:
    return ["graph", "-f", f"examples/{example.name}"]


def main() -> None:
    subprocess.run([*GRADCLI, *COMMAND], cwd=ROOT, check=True)
    print("wrote docs/L.svg")
    for example in sorted((ROOT / "examples").glob("*.grad")):
        dot = subprocess.run([*GRADCLI, *golden_command(example)], cwd=ROOT, check=True,
                             capture_output=True).stdout
        target = ROOT / "tests" / "golden" / (example.stem + ".dot")
        target.write_bytes(dot)
        print(f"wrote {target.relative_to(ROOT)}")
    page_picture()


def page_picture() -> None:
    import tempfile

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("skipped docs/page.png: Playwright for Python is not installed")
        return
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "L.html"
        subprocess.run([*GRADCLI, "graph", "-f", "examples/lecture_L.grad", "-o", str(page)], cwd=ROOT, check=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--headless", "--disable-gpu"])
            tab = browser.new_page(viewport={"width": 1280, "height": 640})
            tab.goto(page.as_uri())
            tab.evaluate("window.gradcli.step(3)")     # d = e + c: dL/de = dL/dd · dd/de = (-2) · 1 = -2
            tab.wait_for_timeout(300)
            tab.screenshot(path=str(ROOT / "docs" / "page.png"))
            browser.close()
    print("wrote docs/page.png")


if __name__ == "__main__":
    main()
