"""Hardening (issue 9): no code execution through a parser cache, no
internal errors or tracebacks from faults, nothing half-written, bounded
reads, escaped user text. Every case runs gradcli as a user or a shell
script would: a real subprocess, with its real standard streams."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

GRADCLI = [sys.executable, "-m", "gradcli"]


def gradcli(*args: str, input: bytes | None = None, env: dict | None = None, **kwargs):
    """Run the console script's entry point in a real process."""
    code = "import sys; from gradcli.fastcli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], input=input, capture_output=True,
                          env={**os.environ, **(env or {})}, timeout=120, **kwargs)


def assert_clean_failure(result, code: int) -> str:
    """Exit ``code``, nothing on standard output, no traceback; the message."""
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == code, (result.returncode, result.stdout, err)
    assert result.stdout == b""
    assert "Traceback" not in err and "internal error" not in err, err
    return err


# ------------------------------------------------------- 1. no parser cache

_LARK_WITH_CACHE = """
import sys
from importlib import resources
from lark import Lark
from gradcli.parse import _ToSyntax
grammar = resources.files("gradcli.grammar").joinpath("gradcli.lark").read_text("utf-8")
# The options gradcli passed before issue 9, in the same order (they are part of the cache key).
Lark(grammar, parser="lalr", lexer="contextual", transformer=_ToSyntax(),
     maybe_placeholders=False, cache=True)
"""


class _Planted:
    """A pickle that, when loaded, creates the marker file (as `id` would run)."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_planted_lark_cache_is_never_read_and_nothing_is_written(tmp_path):
    # Where Lark's cache would be: let Lark itself name it, in a probe directory.
    probe = tmp_path / "probe"
    probe.mkdir()
    subprocess.run([sys.executable, "-c", _LARK_WITH_CACHE], env={**os.environ, "TMPDIR": str(probe)},
                   check=True, timeout=120)
    (name,) = [p.name for p in probe.iterdir()]
    assert name.startswith(".lark_cache_")

    def plant(directory: Path) -> Path:
        directory.mkdir()
        marker = directory / "PWNED"
        (directory / name).write_bytes(b"x" * 64 + b"\n" + pickle.dumps(_Planted(str(marker))))
        return marker

    # The control: Lark with a cache loads the planted pickle and runs it.
    control = tmp_path / "control"
    marker = plant(control)
    subprocess.run([sys.executable, "-c", _LARK_WITH_CACHE], env={**os.environ, "TMPDIR": str(control)},
                   capture_output=True, timeout=120)
    assert marker.exists()

    # gradcli on a syntax error (Lark's first use in the process) does not.
    shared = tmp_path / "shared"
    marker = plant(shared)
    before = sorted(p.name for p in shared.iterdir())
    for args in (["eval", "a+", "a=1"], ["grad", "(a*b", "a=1", "b=2"], ["graph", "a b"]):
        err = assert_clean_failure(gradcli(*args, env={"TMPDIR": str(shared)}), 2)
        assert err.startswith("syntax error:")
    assert not marker.exists()
    assert sorted(p.name for p in shared.iterdir()) == before      # nothing written either
