"""The prompt (issue 28, contract section 8): the session object without a
terminal (what each input does to the program and the leaves, what it
prints, against the command line's own output and the library's numbers),
`gradcli repl` on a pipe, bare `gradcli`, and the prompt itself in a real
pty (pexpect), its screen read back through a terminal emulator (pyte) at
80 and 40 columns."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

import gradcli
from gradcli import repl
from gradcli.repl import Quit, Session
from tests.conftest import EXAMPLES

GRADCLI = os.path.join(os.path.dirname(sys.executable), "gradcli")
MICROGRAD = (EXAMPLES / "micrograd_readme.grad").read_text(encoding="utf-8")


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR",)}
    return subprocess.run([GRADCLI, *args], capture_output=True, text=True, input=stdin, env=env, timeout=60)


def run(session: Session, capsys, text: str) -> tuple[int, str, str]:
    status = session.run(text)
    out, err = capsys.readouterr()
    return status, out, err


# ---------------------------------------------------------------- the session

def test_plain_number_sets_a_leaf_and_statements_build_the_program(capsys):
    s = Session()
    assert run(s, capsys, "a = 2") == (0, "", "")
    assert run(s, capsys, "b = -3") == (0, "", "")
    assert run(s, capsys, "y = a*b + c") == (0, "", "")
    assert run(s, capsys, "c = 10") == (0, "", "")            # c was an input: now it has a value
    assert s.statements == ["y = a*b + c"]
    assert s.bindings == {"a": 2.0, "b": -3.0, "c": 10.0}
    assert run(s, capsys, "y") == (0, "4.0\n", "")             # a bare expression: its value
    assert run(s, capsys, "y**2 / 8") == (0, "2.0\n", "")
    assert s.statements == ["y = a*b + c"]                      # not added
    assert run(s, capsys, "a = 5") == (0, "", "")               # a leaf moves; the program stays
    assert run(s, capsys, "y") == (0, "-5.0\n", "")


def test_micrograd_readme_typed_a_line_at_a_time_gives_its_gradients(capsys):
    s = Session()
    for line in MICROGRAD.splitlines():
        assert s.run(line) == 0, line
    capsys.readouterr()
    assert s.bindings == {"a": -4.0, "b": 2.0}
    status, out, err = run(s, capsys, ":grad --json")
    import json

    got = json.loads(out)
    want = gradcli.build(gradcli.parse(MICROGRAD))
    assert status == 0 and err == ""
    assert got["value"] == want.value
    assert got["grad"] == want.gradients()
    assert round(got["value"], 4) == 24.7041
    assert round(got["grad"]["a"], 4) == 138.8338 and round(got["grad"]["b"], 4) == 645.5773


def test_assigning_a_number_to_a_computed_name_is_a_statement(capsys):
    s = Session()
    for line in ("x = 3", "y = x*x", "y = 7", "z = y + x"):
        assert s.run(line) == 0
    assert s.statements == ["y = x*x", "y = 7", "z = y + x"]
    assert run(s, capsys, "z") == (0, "10.0\n", "")


def test_several_statements_at_once_with_comments(capsys):
    s = Session()
    status, out, err = run(s, capsys, "a = 2; b = 3  # leaves\nc = a*b\nc + 1")
    assert (status, out, err) == (0, "7.0\n", "")
    assert s.statements == ["c = a*b"] and s.bindings == {"a": 2.0, "b": 3.0}
    assert run(s, capsys, "# only a comment") == (0, "", "")
    assert run(s, capsys, "   ") == (0, "", "")


def test_grad_and_the_other_commands_print_what_the_command_line_prints(capsys):
    s = Session(["d = a*b + b**3", "e = log(d) * a"], {"a": 1.5, "b": 2.0})
    program, bindings = "d = a*b + b**3\ne = log(d) * a", ["a=1.5", "b=2.0"]
    for command, args in (("grad", []), ("grad", ["--wrt", "b"]), ("eval", []), ("explain", []),
                          ("check", []), ("diff", ["--wrt", "a"]), ("hessian", []), ("grad", ["--all"])):
        status, out, err = run(s, capsys, ":" + " ".join([command, *args]))
        want = cli(command, program, *bindings, *args)
        assert (status, out, err) == (want.returncode, want.stdout, want.stderr), command


def test_a_binding_on_the_command_line_wins_for_that_command_only(capsys):
    s = Session(["y = a*b"], {"a": 2.0, "b": 3.0})
    assert run(s, capsys, ":grad --wrt a b=10") == (0, "10.0\n", "")
    assert s.bindings == {"a": 2.0, "b": 3.0}
    assert run(s, capsys, ":grad --wrt a") == (0, "3.0\n", "")
    s = Session(["y = a*b"], {"a": 2.0})
    assert run(s, capsys, ":grad --wrt a b=4") == (0, "4.0\n", "")        # b given for this command
    status, out, err = run(s, capsys, ":grad --wrt a")
    assert status == 2 and "missing input: `b`" in err


def test_graph_writes_the_file_the_command_line_writes(capsys, tmp_path):
    s = Session(["L = (a*b + c) * f"], {"a": 2.0, "b": -3.0, "c": 10.0, "f": -2.0})
    assert s.run(f":graph -o {tmp_path / 'mine.dot'}") == 0
    assert s.run(f":graph -o {tmp_path / 'page.html'}") == 0
    want = cli("graph", "L = (a*b + c) * f", "a=2.0", "b=-3.0", "c=10.0", "f=-2.0", "-o", str(tmp_path / "cli.dot"))
    assert want.returncode == 0
    assert (tmp_path / "mine.dot").read_text() == (tmp_path / "cli.dot").read_text()
    assert "window.gradcli" in (tmp_path / "page.html").read_text()


def test_errors_are_the_command_lines_and_the_session_goes_on(capsys):
    s = Session()
    status, out, err = run(s, capsys, "y = (a*b +")
    want = cli("eval", "y = (a*b +")
    assert (status, out, err) == (2, "", want.stderr)
    assert "^" in err and "never closed" in err
    status, out, err = run(s, capsys, "y = foo(a)")
    assert (status, out, err) == (2, "", cli("eval", "y = foo(a)").stderr)
    assert s.statements == []                             # neither was added
    assert s.run("y = log(a)") == 0
    status, out, err = run(s, capsys, "a = -1")
    assert status == 0 and s.bindings == {"a": -1.0}
    status, out, err = run(s, capsys, "y")
    assert status == 1 and out == ""
    assert err == cli("eval", "y = log(a)\ny", "a=-1").stderr
    status, out, err = run(s, capsys, "log(-2) + 1")            # an error in what was typed: as typed
    assert status == 1 and err == cli("eval", "log(-2) + 1").stderr
    assert run(s, capsys, "a = 3")[0] == 0
    assert run(s, capsys, "y") == (0, repr(__import__("math").log(3)) + "\n", "")


def test_missing_inputs_say_how_to_set_them_at_the_prompt(capsys):
    s = Session(["y = a*b"], {"a": 2.0})
    status, out, err = run(s, capsys, ":grad")
    assert status == 2 and out == ""
    assert "error: missing input: `b`" in err
    assert "= note: set b = VALUE first" in err
    assert "after the program" not in err


def test_a_bare_expression_needs_only_the_inputs_it_reads(capsys):
    s = Session(["y = a*b + c", "z = y*2", "w = q + 1"], {"a": 1.0, "b": 2.0})
    status, out, err = run(s, capsys, "z + 1")
    assert status == 2 and "missing input: `c`" in err and "`q`" not in err
    assert s.run("c = 1") == 0
    capsys.readouterr()
    assert run(s, capsys, "z + 1") == (0, "7.0\n", "")
    assert run(s, capsys, "log(2)") == (0, repr(__import__("math").log(2)) + "\n", "")
    status, out, err = run(s, capsys, "w")
    assert status == 2 and "`q`" in err and " --> 3:5" in err and "3 | w = q + 1" in err


def test_nudge_moves_every_leaf_along_its_gradient(capsys):
    s = Session(["y = a*b + c"], {"a": 2.0, "b": -3.0, "c": 10.0})
    status, out, err = run(s, capsys, ":nudge 0.01")
    assert status == 0 and err == ""
    assert s.bindings == {"a": 2.0 + 0.01 * -3.0, "b": -3.0 + 0.01 * 2.0, "c": 10.0 + 0.01}
    after = gradcli.evaluate("y = a*b + c", **s.bindings)
    predicted = 4.0 + 0.01 * (9 + 4 + 1)
    assert f"before\t4.0\nafter\t{after!r}\npredicted\t{predicted!r}\n" in out
    assert run(s, capsys, ":nudge -0.01 --wrt c")[0] == 0
    assert s.bindings["c"] == 10.0 + 0.01 - 0.01
    status, out, err = run(s, capsys, ":nudge big")
    assert status == 2 and "`:nudge` takes a number h, not `big`" in err


def test_nudge_to_an_undefined_point_keeps_the_leaves(capsys):
    s = Session(["y = log(a)"], {"a": 0.005})
    status, out, err = run(s, capsys, ":nudge -1")           # a - 1*(1/a) < 0
    assert status == 1 and "math error: log needs a positive number" in err
    assert "the leaves keep their values" in err
    assert s.bindings == {"a": 0.005}


def test_show_prints_the_program_and_a_command_line_that_runs_it(capsys):
    s = Session()
    for line in MICROGRAD.splitlines():
        s.run(line)
    s.run("q = 4")                       # set, but the program does not read it
    capsys.readouterr()
    status, out, err = run(s, capsys, ":show")
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == " 1 | c = a + b" and lines[9] == "10 | g += 10.0 / f"
    assert "leaves: a = -4.0, b = 2.0" in lines
    assert "set, not used yet: q = 4.0" in lines
    command = lines[-1].removeprefix("as a command: ")
    r = subprocess.run(["bash", "-c", command + " --json"], capture_output=True, text=True,
                       env={**os.environ, "PATH": os.path.dirname(GRADCLI) + os.pathsep + os.environ["PATH"]})
    import json

    assert json.loads(r.stdout)["grad"] == gradcli.build(gradcli.parse(MICROGRAD)).gradients()


def test_reset_help_quit_and_unknown_commands(capsys):
    s = Session(["y = a"], {"a": 1.0})
    assert run(s, capsys, ":reset") == (0, "", "")
    assert s.statements == [] and s.bindings == {}
    status, out, err = run(s, capsys, ":grad")
    assert status == 2 and "there is no program yet for `:grad`" in err
    status, out, err = run(s, capsys, ":help")
    assert status == 0 and all(f":{name}" in out for name in repl.COMMANDS)
    status, out, err = run(s, capsys, ":help tanh")
    assert out.startswith("tanh(x)") and "1 - out**2" in out
    status, out, err = run(s, capsys, ":help log")
    assert "undefined: log needs a positive number" in out
    status, out, err = run(s, capsys, ":help relu")
    assert "corner: relu'(0) = 0" in out
    status, out, err = run(s, capsys, ":help grad")
    assert status == 0 and "--wrt" in out
    status, out, err = run(s, capsys, ":help language")
    assert (status, out, err) == (0, cli("help", "language").stdout, "")
    status, out, err = run(s, capsys, ":help tanhh")
    assert status == 2 and "tanh" in err
    status, out, err = run(s, capsys, ":gard")
    assert status == 2 and "`:gard` is not a command of the prompt" in err and "`grad`" in err
    assert run(s, capsys, ":grad -f x.grad")[0] == 2
    assert run(s, capsys, ':grad --wrt "a') == (2, "", "error: cannot read the command's line: no closing quotation\n")
    with pytest.raises(Quit):
        s.run(":quit")
    with pytest.raises(Quit):
        s.run(":q")


def test_uncertainty_runs_the_command_or_says_it_is_not_there(capsys):
    s = Session(["y = a*b"], {"a": 2.0, "b": 3.0})
    status, out, err = run(s, capsys, ":uncertainty a=2+-0.1 b=3+-0.2")
    if "uncertainty" in s._commands().commands:
        want = cli("uncertainty", "y = a*b", "a=2.0", "b=3.0", "a=2+-0.1", "b=3+-0.2")
        assert (status, out, err) == (want.returncode, want.stdout, want.stderr)
    else:
        assert status == 2 and out == ""
        assert "`:uncertainty` is not available yet" in err


def test_names_completion_and_highlighting():
    from prompt_toolkit.document import Document

    s = Session(["y = alpha*beta", "z = y + 1"], {"alpha": 1.0, "gamma": 2.0})
    assert s.names() == ["alpha", "beta", "y", "z", "gamma"]
    completer = repl._completer(s)

    def complete(text):
        return [c.text for c in completer.get_completions(Document(text), None)]

    assert complete("al") == ["alpha"]
    assert complete("y + ta") == ["tan", "tanh"]
    assert complete(":gr") == [":grad", ":graph"]
    assert complete(":grad --w") == ["--wrt"]
    assert complete(":grad --wrt be") == ["beta"]
    assert complete(":help sigm") == ["sigmoid"]
    lexer = repl._lexer()
    tokens = lexer.lex_document(Document("y = tanh(x) * 2.5e-3  # note"))(0)
    assert ("class:function", "tanh") in tokens and ("class:number", "2.5e-3") in tokens
    assert ("class:name", "y") in tokens and ("class:comment", "# note") in tokens
    tokens = lexer.lex_document(Document(":grad --wrt a"))(0)
    assert ("class:command", ":grad") in tokens and ("class:option", "--wrt") in tokens


def test_state_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert repl.state_dir() == str(tmp_path / "gradcli")
    monkeypatch.setenv("XDG_STATE_HOME", "relative/path")        # not absolute: ignored, as the spec says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert repl.state_dir() == str(tmp_path / "home" / ".local" / "state" / "gradcli")


# ------------------------------------------------------------- without a pty

def test_repl_on_a_pipe_reads_lines_and_exits_with_the_last_failure():
    r = cli("repl", stdin="a = 2\nb = 3\ny = a*b\n:grad --wrt a\ny + 1\nlog(-1)\n:grad --wrt b\n")
    assert r.stdout == "3.0\n7.0\n2.0\n"
    assert r.stderr == cli("eval", "log(-1)").stderr
    assert r.returncode == 1
    r = cli("repl", stdin="y = a\n:quit\n:grad\n")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_repl_starts_from_a_program_or_a_file():
    r = cli("repl", "-f", str(EXAMPLES / "lecture_L.grad"), stdin=":grad --json\n")
    assert r.returncode == 0 and r.stdout == cli("grad", "-f", str(EXAMPLES / "lecture_L.grad"), "--json").stdout
    r = cli("repl", "y = a*b", "a=2", "b=3", stdin=":grad --wrt a\n")
    assert (r.returncode, r.stdout) == (0, "3.0\n")
    r = cli("repl", "y = a*b", "q=2", stdin="")
    assert r.returncode == 2 and "`q` is not a name in the program" in r.stderr
    r = cli("repl", "y = (a", stdin="")
    assert r.returncode == 2 and r.stderr == cli("eval", "y = (a").stderr


def test_gradcli_alone_without_a_terminal_prints_usage_on_stderr():
    r = subprocess.run([GRADCLI], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and r.stdout == ""
    assert "Usage: gradcli" in r.stderr and "repl" in r.stderr
    r = subprocess.run([GRADCLI], capture_output=True, text=True, input="y = 1\n")   # a pipe: no prompt
    assert r.returncode == 2 and r.stdout == ""


def test_the_usual_commands_do_not_import_the_prompt():
    code = ("import sys; from gradcli.cli_fast import main\n"
            "try:\n    main(['grad', 'a*b', 'a=2', 'b=3', '--table'])\nexcept SystemExit: pass\n"
            "print('prompt_toolkit' in sys.modules, 'gradcli.repl' in sys.modules, file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stderr.strip().splitlines()[-1] == "False False"


# -------------------------------------------------------------- in a real pty

pexpect = pytest.importorskip("pexpect")
pyte = pytest.importorskip("pyte")


class Terminal:
    """gradcli in a pty, its output fed to a terminal emulator (pyte), so
    that tests read the screen a person sees; the emulator also answers
    prompt_toolkit's cursor position requests, as a terminal does."""

    PROMPT_READY = b"\x1b[?2004h"          # bracketed paste on: prompt_toolkit waits for a line

    def __init__(self, tmp_path, *args: str, columns: int = 80, rows: int = 30, cwd=None, **env):
        environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES", "PAGER")}
        environ.update({"TERM": "xterm-256color", "XDG_STATE_HOME": str(tmp_path / "state"), "PAGER": "cat",
                        **env})
        environ = {k: v for k, v in environ.items() if v is not None}     # env NAME=None: unset
        self.screen = pyte.HistoryScreen(columns, rows, history=5000)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = b""
        self.seen = 0                       # how much of raw the last wait used up
        self.child = pexpect.spawn(GRADCLI, list(args), env=environ, timeout=30, dimensions=(rows, columns),
                                   cwd=None if cwd is None else str(cwd))

    def _read(self) -> bool:
        try:
            chunk = self.child.read_nonblocking(65536, timeout=0.2)
        except pexpect.TIMEOUT:
            return True
        except pexpect.EOF:
            return False
        self.raw += chunk
        self.stream.feed(chunk)
        for _ in range(chunk.count(b"\x1b[6n")):
            self.child.send(f"\x1b[{self.screen.cursor.y + 1};{self.screen.cursor.x + 1}R")
        return True

    def _wait(self, done, what: str) -> None:
        import time

        end = time.monotonic() + 30
        while not done():
            if not self._read() or time.monotonic() > end:
                raise AssertionError(f"no {what} on the screen:\n" + "\n".join(self.lines()))

    def prompt(self) -> None:
        """Wait for the next prompt."""
        def ready():
            i = self.raw.find(self.PROMPT_READY, self.seen)
            if i < 0:
                return False
            self.seen = i + len(self.PROMPT_READY)
            return True

        self._wait(ready, "prompt")

    def expect(self, text: str) -> None:
        """Wait until ``text`` is on the screen (or scrolled off it)."""
        self._wait(lambda: text in "\n".join(self.lines()), repr(text))

    def line(self, text: str) -> None:
        self.child.send(text + "\r")

    def lines(self) -> list[str]:
        columns = self.screen.columns
        top = ["".join(row[x].data for x in range(columns)).rstrip() for row in self.screen.history.top]
        return top + [line.rstrip() for line in self.screen.display]

    def close(self) -> int:
        self.child.sendeof()
        while self._read():
            pass
        self.child.close()
        return self.child.exitstatus


def test_a_session_at_the_prompt(tmp_path):
    t = Terminal(tmp_path)                      # `gradcli` alone, on a terminal
    t.expect(":help for help, Ctrl-D to leave")
    t.prompt()
    for line in ("a = 2", "b = -3", "c = 10"):
        t.line(line)
        t.prompt()
    t.line("L = (a*b + c) * f")
    t.expect("set it with `f = VALUE`")
    t.prompt()
    t.line("f = -2")
    t.prompt()
    t.line("L")
    t.expect("-8.0")
    t.prompt()
    t.line(":grad")
    t.expect("L = -8.0")
    t.prompt()
    t.line("log(a - 5)")                        # an error: shown, and the session goes on
    t.expect("math error")
    t.prompt()
    t.line("a*b")
    t.expect("-6.0")
    t.prompt()
    assert t.close() == 0
    screen = t.lines()
    rows = {line.split()[1]: line.split() for line in screen if re.match(r"\s+n\d+\s+[abcf]\s", line)}
    assert rows["a"][-1] == "6" and rows["b"][-1] == "-4" and rows["c"][-1] == "-2" and rows["f"][-1] == "4"
    assert any(line == "1 | log(a - 5)" for line in screen)
    assert any(re.fullmatch(r"\s*\|\s*\^+", line) for line in screen)
    history = (tmp_path / "state" / "gradcli" / "history").read_text()
    assert "+L = (a*b + c) * f" in history and "+:grad" in history


def test_ctrl_c_cancels_the_line_and_history_comes_back(tmp_path):
    t = Terminal(tmp_path, "repl")
    t.prompt()
    t.line("x = 3")
    t.prompt()
    t.child.send("y = this is not finished")
    t.child.sendintr()                          # Ctrl-C: the line is dropped
    t.prompt()
    t.line("x * 2")
    t.expect("6.0")
    t.prompt()
    t.line("y = (x - 1)**2")
    t.prompt()
    t.line(":descend --steps 100000000 --lr 0.000001")      # long: Ctrl-C stops it, not the session
    t.expect("/100000000")                      # its progress bar: the command runs
    t.child.sendintr()
    t.prompt()
    t.line("y")
    t.expect("4.0")
    t.prompt()
    assert t.close() == 0
    assert "Traceback" not in "\n".join(t.lines())
    t = Terminal(tmp_path)                      # a new session: the history is there
    t.prompt()
    t.child.send("\x1b[A")                      # Up: the last line
    t.expect("> y")
    t.child.send("\x1b[A\x1b[A\x1b[A")            # and further back
    t.expect("> x * 2")
    t.child.send("\r")
    t.expect("missing input")                   # the new session has no x
    t.prompt()
    assert t.close() == 0


def test_several_lines_in_one_input_and_completion(tmp_path):
    t = Terminal(tmp_path)
    t.prompt()
    t.child.send("a = 2\x1b\ry = a*a\x1b\rsigm")          # Esc Enter: a new line
    t.child.send("\t")                                   # completes sigmoid
    t.expect(". sigmoid")
    t.child.send("(0)\r")
    t.expect("0.5")
    t.prompt()
    t.child.send(":nud\t")
    t.expect("> :nudge")                               # the completion is on the line
    t.child.send("\r")
    t.expect("every leaf moved by h*grad with h = 0.01")
    t.prompt()
    assert t.close() == 0


@pytest.mark.parametrize("columns", [40, 80])
def test_narrow_terminals_and_no_color(tmp_path, columns):
    t = Terminal(tmp_path, columns=columns, NO_COLOR="1")
    t.prompt()
    t.line("w1 = 0.5; w2 = -1.5; x1 = 2; x2 = 1")
    t.prompt()
    t.line("neuron_output_value = tanh(w1*x1 + w2*x2)")
    t.prompt()
    for command in (":grad", ":check", ":nudge 0.1"):
        t.line(command)
        t.prompt()
    t.line("log(-w1)")
    t.prompt()
    assert t.close() == 0
    text = t.raw.decode("utf-8", "replace")
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]m|\x1b\[38;", text)       # no colour at all
    screen = t.lines()
    assert any("ok: all 4 gradients agree" in line or "ok: all 4" in line for line in screen)
    assert any(line.startswith("  w1 ") or line.startswith("  n0 ") for line in screen)


def test_colour_on_a_terminal(tmp_path):
    t = Terminal(tmp_path)
    t.prompt()
    t.line("log(-1)")
    t.expect("math error")
    t.prompt()
    assert t.close() == 0
    assert b"\x1b[1;31mmath error\x1b[0m" in t.raw


def test_the_session_in_the_docs_is_what_the_screen_shows(tmp_path):
    """docs/repl.md's session, typed at a real terminal (80 columns,
    NO_COLOR), leaves exactly that on the screen."""
    from tests.conftest import ROOT

    page = (ROOT / "docs" / "repl.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- session:.*?-->\n```text\n(.*?)```", page, flags=re.S).group(1)
    shown = block.rstrip("\n").split("\n")
    typed = [line[2:] for line in shown if line.startswith("> ")]
    t = Terminal(tmp_path, columns=80, rows=200, NO_COLOR="1")
    t.prompt()
    for line in typed:
        t.line(line)
        t.prompt()
    assert t.close() == 0
    screen = t.lines()
    while screen and not screen[-1]:
        screen.pop()
    assert screen == shown and shown[-1] == ">"


def test_a_bug_is_said_plainly_and_the_session_goes_on(monkeypatch, capsys):
    s = Session(["y = a"], {"a": 1.0})

    def broken(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(Session, "_show", broken)
    assert repl._run(s, ":show") == 70
    err = capsys.readouterr().err
    assert err.startswith("internal error: RuntimeError: boom") and "Traceback" not in err
    assert repl._run(s, "y") == 0 and capsys.readouterr().out == "1.0\n"


def test_history_goes_to_the_state_directory_and_nowhere_else(tmp_path):
    """Without XDG_STATE_HOME the history is ~/.local/state/gradcli/history,
    its directories made; nothing else appears in HOME or the working folder."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    t = Terminal(tmp_path, "repl", cwd=work, HOME=str(home), XDG_STATE_HOME=None)
    t.prompt()
    t.line("y = a*2; a = 3")
    t.expect("y = 6.0")
    t.prompt()
    assert t.close() == 0
    made = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert made == ["home", "home/.local", "home/.local/state", "home/.local/state/gradcli",
                    "home/.local/state/gradcli/history", "work"]
    assert "+y = a*2; a = 3" in (home / ".local/state/gradcli/history").read_text()


def test_a_state_directory_that_cannot_be_made_means_no_history(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    t = Terminal(tmp_path, XDG_STATE_HOME=str(blocker))      # a file where the directory would go
    t.expect("warning: no history this session")
    t.prompt()
    t.line("2**10")
    t.expect("1024.0")
    t.prompt()
    assert t.close() == 0
    assert blocker.read_text() == ""
