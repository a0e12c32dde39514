"""Start-up of the prompt (`gradcli` alone on a terminal) against the
command line's usual start-up, each in a real pty, as a person meets it.

    python bench/repl_startup.py [--runs 20] [--gradcli PATH]

Times, from the process's start: until the prompt waits for a line
(prompt_toolkit turns bracketed paste on, ESC [ ? 2004 h, when it is
ready); until a `grad` table on a terminal is printed and the process has
ended (typer's path); until `eval` on a terminal ends; and `python -c pass`
for the floor. Then, inside one session, the first `:grad` (it imports
the command line's typer app) and a second one. Medians of --runs runs,
interleaved round after round. Figures in bench/README.md; no test times
anything.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import pexpect

READY = b"\x1b[?2004h"


def _env(state: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    env.update({"TERM": "xterm-256color", "XDG_STATE_HOME": state, "PAGER": "cat"})
    return env


def _until(child, marker: bytes) -> None:
    """Read until ``marker``, answering cursor position requests."""
    seen = b""
    while marker not in seen:
        chunk = child.read_nonblocking(65536, timeout=30)
        if b"\x1b[6n" in chunk:
            child.send("\x1b[1;3R")
        seen += chunk


def prompt_ready(gradcli: str, state: str) -> float:
    start = time.perf_counter()
    child = pexpect.spawn(gradcli, [], env=_env(state), dimensions=(30, 80))
    _until(child, READY)
    took = time.perf_counter() - start
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    return took


def whole(command: str, args: list, state: str) -> float:
    start = time.perf_counter()
    child = pexpect.spawn(command, args, env=_env(state), dimensions=(30, 80))
    child.expect(pexpect.EOF, timeout=30)
    child.close()
    return time.perf_counter() - start


def first_commands(gradcli: str, state: str) -> tuple:
    child = pexpect.spawn(gradcli, [], env=_env(state), dimensions=(30, 80))
    _until(child, READY)
    child.send("y = (a*b + c)*f; a = 2; b = -3; c = 10; f = -2\r")
    _until(child, READY)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        child.send(":grad\r")
        _until(child, READY)
        times.append(time.perf_counter() - start)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    return tuple(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--gradcli", default=os.path.join(os.path.dirname(sys.executable), "gradcli"))
    a = parser.parse_args()
    state = tempfile.mkdtemp()
    grad = ["grad", "(a*b+c)*f", "a=2", "b=-3", "c=10", "f=-2"]
    rows = {"python -c pass": [], "gradcli eval (terminal)": [], "gradcli grad, a table (terminal)": [],
            "gradcli: the prompt waits": []}
    firsts, seconds = [], []
    for _ in range(a.runs):
        rows["python -c pass"].append(whole(sys.executable, ["-c", "pass"], state))
        rows["gradcli eval (terminal)"].append(whole(a.gradcli, ["eval", "a*b", "a=2", "b=3"], state))
        rows["gradcli grad, a table (terminal)"].append(whole(a.gradcli, grad, state))
        rows["gradcli: the prompt waits"].append(prompt_ready(a.gradcli, state))
        first, second = first_commands(a.gradcli, state)
        firsts.append(first)
        seconds.append(second)
    rows["first :grad in a session"] = firsts
    rows["second :grad"] = seconds
    width = max(map(len, rows))
    print(f"{'':{width}}  median ms  (of {a.runs})")
    for name, values in rows.items():
        print(f"{name:{width}}  {statistics.median(values) * 1000:9.1f}")


if __name__ == "__main__":
    main()
