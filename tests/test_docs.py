"""Every command the README shows and every file in examples/ is run here.

README ```console blocks hold `$ command` lines followed by exactly what the
command prints (standard output and standard error together); each is run
with bash in the repository and compared line by line (trailing blanks
aside). ```sh blocks are the fresh-machine commands; ```python blocks are run
and each `print(...)  # value` comment is checked.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import EXAMPLES, ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = os.path.dirname(sys.executable)


def blocks(lang: str, text: str = README) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def console_examples(text: str = README) -> list[tuple[str, list[str]]]:
    examples: list[tuple[str, list[str]]] = []
    for block in blocks("console", text):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, *output = chunk.rstrip("\n").split("\n")
            examples.append((command, output))
    return examples


def shell(command: str, cwd=ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", ""), "NO_COLOR": "1",
           "COLUMNS": "80", "TERM": "dumb"}
    return subprocess.run(["bash", "-c", command + " 2>&1"], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)


def test_readme_has_console_examples():
    assert len(console_examples()) >= 5


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A copy of the files the README's commands read and write, so that
    running them (`graph ... -o docs/L.svg`) leaves the repository alone."""
    import shutil

    work = tmp_path_factory.mktemp("readme")
    for folder in ("examples", "docs"):
        shutil.copytree(ROOT / folder, work / folder)
    return work


@pytest.mark.parametrize("command,expected", console_examples(), ids=lambda v: v if isinstance(v, str) else "")
def test_readme_console_example(command, expected, workdir):
    result = shell(command, cwd=workdir)
    assert trimmed(result.stdout.split("\n")) == trimmed(expected), result.stdout


def trimmed(lines: list[str]) -> list[str]:
    """Lines without trailing blanks, and without blank lines at the end."""
    lines = [line.rstrip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def test_readme_starts_with_what_it_is_then_two_commands():
    intro = README.split("## ", 1)[0]
    assert intro.startswith("# gradcli\n\ngradcli is a command-line expression differentiator")
    first, second = blocks("sh", intro)
    assert first.strip() == ("python3 -m venv .venv && . .venv/bin/activate && pip install . && "
                             "gradcli grad -f examples/micrograd_readme.grad")
    assert second.strip() == 'pip install -e ".[test]" && python -m pytest'


def test_readme_test_command_is_what_ci_runs():
    test_command = blocks("sh")[1].strip()
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()


def test_readme_install_command_runs_the_example():
    command = blocks("sh")[0].strip()
    example = command.split(" && ")[-1]     # the install itself: tests/test_help.py, in a new venv
    result = shell(example)
    assert result.returncode == 0
    assert result.stdout == "a\t138.83381924198252\nb\t645.5772594752186\n"


def test_package_ships_the_grammar(tmp_path):
    """`pip install .` builds a wheel; the grammar from the top-level grammar/
    folder must be inside it as gradcli/grammar/gradcli.lark."""
    pytest.importorskip("setuptools")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "--no-index", "-q", "-w", str(tmp_path), str(ROOT)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    (wheel,) = tmp_path.glob("gradcli-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "gradcli/grammar/gradcli.lark" in names
    assert "gradcli/grammar/__init__.py" in names
    assert "gradcli/py.typed" in names          # the library's type hints are for its users too
    # the live page's script and style (graph -o FILE.html)
    assert "gradcli/web/page.js" in names and "gradcli/web/page.css" in names


def test_readme_python_blocks_run_and_print_what_they_say():
    for block in blocks("python"):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, "README.md", "exec"), {})
        printed = out.getvalue().splitlines()
        prints = [line for line in block.splitlines() if line.startswith("print(")]
        assert len(printed) == len(prints)
        for line, got in zip(prints, printed):
            claim = re.search(r"\)\s+# (.+)$", line)
            if claim:
                assert got == claim.group(1)


# ------------------------------------------------------------------ examples

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.grad"))


def test_examples_exist():
    names = {f.name for f in EXAMPLE_FILES}
    assert {"micrograd_readme.grad", "lecture_L.grad", "neuron.grad", "reuse.grad"} <= names


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_prints_what_its_comment_says(path):
    """Each example says `gradcli eval -f ... prints V`; check V, and that
    `grad` on it runs and gives every gradient as a finite number."""
    text = path.read_text()
    assert text.startswith("#"), "each example starts with a comment saying what it shows"
    claim = re.search(r"gradcli eval -f \S+\s+prints (\S+)", text)
    assert claim, "each example says what `gradcli eval` prints"
    result = shell(f"gradcli eval -f {path.relative_to(ROOT)}")
    assert result.returncode == 0, result.stdout
    assert float(result.stdout) == pytest.approx(float(claim.group(1)), rel=1e-12)
    result = shell(f"gradcli grad -f {path.relative_to(ROOT)}")
    assert result.returncode == 0, result.stdout
    for line in result.stdout.splitlines():
        name, g = line.split("\t")
        assert re.fullmatch(r"[A-Za-z_]\w*", name)
        float(g)
    grad_claim = re.search(r"gradcli grad -f \S+\s+prints (.+)", text)
    assert grad_claim
    for name, number in re.findall(r"([A-Za-z_]\w*) (-?[0-9.]+)", grad_claim.group(1)):
        got = dict(line.split("\t") for line in result.stdout.splitlines())
        assert float(got[name]) == pytest.approx(float(number.rstrip(".")), rel=1e-4, abs=1e-12)


def test_every_file_in_examples_is_run_by_the_tests():
    """Programs (.grad) run above; notebooks (.ipynb) in a real kernel
    (tests/test_notebook.py); points files by the commands of the README
    and the docs that read them."""
    run_elsewhere = {"lecture.ipynb": ROOT / "tests" / "test_notebook.py"}
    for path in sorted(EXAMPLES.iterdir()):
        if path.suffix == ".grad":
            assert path in EXAMPLE_FILES
        elif path.name in run_elsewhere:
            assert f'"{path.name}"' in run_elsewhere[path.name].read_text()
        else:   # a points file: read by a command of the README or of a page of docs/
            pages = [README] + [p.read_text(encoding="utf-8") for p in (ROOT / "docs").rglob("*.md")]
            assert any(f"examples/{path.name}" in command for page in pages for command, _ in console_examples(page)), \
                path.name


# ----------------------------------------------------- docs/notebook.md (issue 24)

NOTEBOOK_PAGE = (ROOT / "docs" / "notebook.md").read_text(encoding="utf-8")


def test_notebook_page_python_blocks_print_what_they_say():
    python = blocks("python", NOTEBOOK_PAGE)
    assert len(python) == 4
    for block in python:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, "docs/notebook.md", "exec"), {})
        claims = [re.search(r"\)\s+# (.+)$", line).group(1) for line in block.splitlines()
                  if line.strip().startswith("print(")]
        assert out.getvalue().splitlines() == claims


def test_notebook_page_magic_cells_and_error_text():
    from gradcli.notebook import CellError, run

    cells = blocks("ipython", NOTEBOOK_PAGE)
    assert cells[0] == "%load_ext gradcli\n"
    line, _, program = cells[1].partition("\n")
    assert run(line[len("%%gradcli"):].strip(), program).value == -8.0
    (shown,) = blocks("text", NOTEBOOK_PAGE)
    with pytest.raises(CellError) as e:
        run("gard a=2", "a")
    assert e.value.message == shown.rstrip("\n")


# ------------------------------------------------- docs/page.md (issue 23)

PAGE_DOC = (ROOT / "docs" / "page.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command,expected", console_examples(PAGE_DOC), ids=lambda v: v if isinstance(v, str) else "")
def test_page_doc_console_example(command, expected, workdir):
    result = shell(command, cwd=workdir)
    assert trimmed(result.stdout.split("\n")) == trimmed(expected), result.stdout
    assert (workdir / "L.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_page_doc_s_chain_rule_is_the_page_s():
    """The step the page's doc quotes is what tests/test_page.py checks the page says."""
    assert "dL/de = dL/dd · dd/de = (-2) · 1 = -2" in PAGE_DOC and "Step 3 of 4: d = e + c" in PAGE_DOC
