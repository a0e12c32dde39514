"""Shell completion that completes (issue 25, item 1), in real bash, zsh
and fish running in a pty (pexpect), with typer's completion scripts as
`gradcli --show-completion SHELL` prints them: file names after file
options, the choices of choice options, the program's names after --wrt
and --of, and never a usage error while completing.

Each case types a line, presses Tab, then puts `echo LINE: ` before what
the shell made of it and runs that: the line the shell completed is
pinned exactly. A listing of several candidates is pinned as tmux shows
it at 40 and 80 columns."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import EXAMPLES

pexpect = pytest.importorskip("pexpect")
BIN = os.path.dirname(sys.executable)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "examples").mkdir()
    shutil.copy(EXAMPLES / "lecture_L.grad", tmp_path / "examples" / "lecture_L.grad")
    (tmp_path / "points.csv").write_text("a,b\n1,2\n")
    return tmp_path


def _env(folder) -> dict:
    return {**os.environ, "PATH": BIN + os.pathsep + os.environ["PATH"], "HOME": str(folder),
            "XDG_CONFIG_HOME": str(folder / ".config"), "TERM": "xterm", "PS1": "$ "}


def _shell(shell: str, folder, columns: int = 80):
    env = _env(folder)
    if shell == "bash":
        p = pexpect.spawn("bash", ["--norc", "--noprofile"], env=env, cwd=str(folder), dimensions=(24, columns),
                          encoding="utf-8", timeout=30)
        p.sendline("source <(gradcli --show-completion bash)")
    elif shell == "zsh":
        p = pexpect.spawn("zsh", ["-f"], env=env, cwd=str(folder), dimensions=(24, columns), encoding="utf-8",
                          timeout=30)
        p.sendline("autoload -U compinit && compinit -u && source <(gradcli --show-completion zsh)")
    else:
        p = pexpect.spawn("fish", [], env=env, cwd=str(folder), dimensions=(24, columns), encoding="utf-8",
                          timeout=30)
        p.sendline("gradcli --show-completion fish | source")
    p.sendline("echo RE''ADY")
    p.expect("READY\r\n")
    return p


def completed(shell: str, folder, typed: str, columns: int = 80) -> str:
    """The command line after typing ``typed`` and pressing Tab."""
    p = _shell(shell, folder, columns)
    try:
        p.send(typed + "\t")
        time.sleep(1.0)                     # the completion runs gradcli: let it answer
        p.send("\x01echo LI''NE: \r")       # Ctrl-A: to the start of the line
        p.expect(r"LINE: ([^\r\n]*)\r\n")
        return p.match.group(1)
    finally:
        p.sendline("exit")
        p.close(force=True)


CASES = [
    # typed                                              the line after Tab
    ("gradcli grad -f examples/lec",                     "gradcli grad -f examples/lecture_L.grad"),
    ("gradcli eval 'a*b' --at poi",                      "gradcli eval a*b --at points.csv"),
    ("gradcli codegen 'x' --lang nu",                    "gradcli codegen x --lang numpy"),
    ("gradcli graph 'x' --rankdir T",                    "gradcli graph x --rankdir TB"),
    ("gradcli check 'x' --mode fu",                      "gradcli check x --mode full"),
    ("gradcli grad 'lr * weight + bias' --wrt we",       "gradcli grad lr * weight + bias --wrt weight"),
    ("gradcli grad 'lr * weight + bias' --wrt weight,b", "gradcli grad lr * weight + bias --wrt weight,bias"),
    ("gradcli grad -f examples/lecture_L.grad --of L",   "gradcli grad -f examples/lecture_L.grad --of L"),
    ("gradcli grad -f examples/lecture_L.grad --wrt f",  "gradcli grad -f examples/lecture_L.grad --wrt f"),
    ("gradcli grad 'total = w * x' --output to",         "gradcli grad total = w * x --output total"),
    ("gradcli explain 'y = u*v; z = y + 1' --of y",      "gradcli explain y = u*v; z = y + 1 --of y"),
    ("gradcli grad 'x' --js",                            "gradcli grad x --json"),
]


def _shells():
    return [s for s in ("bash", "zsh", "fish") if shutil.which(s)]


@pytest.mark.parametrize("shell", _shells())
@pytest.mark.parametrize("typed,line", CASES, ids=[c[0] for c in CASES])
def test_tab_completes(shell, folder, typed, line):
    assert completed(shell, folder, typed).rstrip() == line


@pytest.mark.parametrize("shell", _shells())
def test_tab_after_an_option_waiting_for_its_file_completes_the_file_not_an_error(shell, folder):
    """Issue 25: `-f ex<Tab>` printed "error: -f needs a value after it"
    into the command line, then `examples/`."""
    line = completed(shell, folder, "gradcli grad -f ex")
    assert line.rstrip("/ ") == "gradcli grad -f examples"
    assert "error" not in line


@pytest.mark.parametrize("args", [
    "gradcli grad -f ex", "gradcli grad --wrt", "gradcli grad 'a*b' --output", "gradcli check 'x' -h 1",
    "gradcli grad -p", "gradcli codegen --lang",
])
def test_completion_never_runs_the_usage_check(args):
    words = args.replace("'", "").split(" ")
    env = {**os.environ, "_GRADCLI_COMPLETE": "complete_bash", "COMP_WORDS": " ".join(words),
           "COMP_CWORD": str(len(words))}
    r = subprocess.run([os.path.join(BIN, "gradcli")], capture_output=True, text=True, env=env)
    assert (r.returncode, r.stderr) == (0, "")


def test_completion_offers_the_names_and_choices():
    def offered(*words: str) -> list:
        env = {**os.environ, "_GRADCLI_COMPLETE": "complete_bash", "COMP_WORDS": " ".join(["gradcli", *words]),
               "COMP_CWORD": str(len(words))}
        r = subprocess.run([os.path.join(BIN, "gradcli")], capture_output=True, text=True, env=env)
        return r.stdout.split()

    assert offered("codegen", "x", "--lang", "") == ["python", "numpy", "c", "js", "sql"]
    assert offered("eval", "x", "--on-error", "") == ["fail", "skip"]
    assert offered("grad", "-f", str(EXAMPLES / "lecture_L.grad"), "--wrt", "") == \
        ["a", "b", "c", "f", "e", "d", "L"]
    assert offered("grad", "-f", str(EXAMPLES / "lecture_L.grad"), "--of", "") == ["e", "d", "L", "a", "b", "c", "f"]
    assert offered("grad", "'y = a*b; z = y + c'", "--wrt", "a,") == ["a,b", "a,c", "a,y", "a,z"]
    # an older spelling completes as its new one, and Tab never offers the old one
    assert offered("grad", "-f", str(EXAMPLES / "lecture_L.grad"), "--output", "") == \
        ["e", "d", "L", "a", "b", "c", "f"]
    assert offered("codegen", "x", "--table", "") == []       # a file-like value: the shell's own
    assert offered("grad", "x", "--ou") == ["--out"] and "--output" not in offered("grad", "x", "--")
    assert {"--step", "--of"} <= set(offered("check", "x", "--")) and \
        not {"--h", "--output"} & set(offered("check", "x", "--"))
    assert offered("grad", "(a*", "--wrt", "") == []            # a program that does not parse: nothing
    assert offered("grad", "-f", "/nonexistent", "--wrt", "") == []


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("columns,screen", [
    (80, ["$ gradcli codegen x --lang",
          "c       js      numpy   python  sql",
          "$ gradcli codegen x --lang"]),
    (40, ["$ gradcli codegen x --lang",
          "c       numpy   sql",
          "js      python",
          "$ gradcli codegen x --lang"]),
])
def test_double_tab_lists_the_choices_in_tmux(folder, columns, screen):
    name = f"gradcli-complete-{os.getpid()}-{columns}"
    env = _env(folder)
    subprocess.run(["tmux", "-L", name, "new-session", "-d", "-x", str(columns), "-y", "10",
                    "bash --norc --noprofile"], env=env, cwd=str(folder), check=True)
    try:
        def keys(*k):
            subprocess.run(["tmux", "-L", name, "send-keys", *k], check=True)

        keys("PS1='$ '; source <(gradcli --show-completion bash); clear", "Enter")
        time.sleep(1.0)
        keys("gradcli codegen x --lang ", "Tab")
        time.sleep(1.5)
        keys("Tab")
        time.sleep(1.5)
        shown = subprocess.run(["tmux", "-L", name, "capture-pane", "-p"], capture_output=True, text=True).stdout
        assert [line.rstrip() for line in shown.splitlines() if line.strip()] == screen
    finally:
        subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True)
