"""The documentation site (docs/, mkdocs.yml) is built and run here.

- `mkdocs build --strict` (MkDocs with the Material theme, test
  dependencies) must pass: every page in the navigation, every link and
  picture found, no warning.
- Every ```console block of every page holds `$ command` lines followed by
  exactly what the command prints (standard output, and standard error
  where the command sends it there with `2>&1`); each is run with bash in a
  copy of examples/ and docs/ and compared line by line (trailing blanks
  aside), as tests/test_docs.py does for the README.
- Every ```python block runs, and each `print(...)  # value` comment is
  what that print prints.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_docs import blocks, console_examples, shell, trimmed

DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md"))


def _page_id(path: Path) -> str:
    return str(path.relative_to(DOCS))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    work = tmp_path_factory.mktemp("site")
    for folder in ("examples", "docs"):
        shutil.copytree(ROOT / folder, work / folder)
    return work


CONSOLE = [(f"{_page_id(page)}: {command}", command, expected)
           for page in PAGES for command, expected in console_examples(page.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("where,command,expected", CONSOLE, ids=[c[0] for c in CONSOLE])
def test_console_example(where, command, expected, workdir):
    result = shell(command, cwd=workdir)
    assert trimmed(result.stdout.split("\n")) == trimmed(expected), result.stdout


@pytest.mark.parametrize("page", [p for p in PAGES if "```python" in p.read_text(encoding="utf-8")], ids=_page_id)
def test_python_blocks_print_what_they_say(page, workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    for block in blocks("python", page.read_text(encoding="utf-8")):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, str(page), "exec"), {})
        printed = out.getvalue().splitlines()
        prints = [line for line in block.splitlines() if line.startswith("print(")]
        assert len(printed) == len(prints), (page, printed)
        for line, got in zip(prints, printed):
            claim = re.search(r"\)\s+# (.+)$", line)
            if claim:
                assert got == claim.group(1), (page, line)


def test_the_site_has_a_tutorial_how_tos_and_a_reference():
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in ("tutorial.md", "reference/language.md", "reference/errors.md", "reference/library.md"):
        assert page in nav and (DOCS / page).exists(), page
    listed = set(re.findall(r":\s+(\S+\.md)\s*$", nav, flags=re.M))
    assert listed == {_page_id(p) for p in PAGES}, "every page is in the navigation, and only pages that exist"


def test_mkdocs_builds_strict(tmp_path):
    """The site builds with warnings as errors (a broken link, a page
    missing from the navigation, a picture not found)."""
    import material  # noqa: F401 - the theme, a test dependency: missing, the test fails rather than skips
    import mkdocs  # noqa: F401
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "site" / "tutorial" / "index.html").read_text()
    assert "Tutorial: backpropagation" in html and "The heart of the lecture" in html
