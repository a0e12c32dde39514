"""The README's section on check, explain and descend shows exactly what the
commands print: every `$ gradcli ...` line there is run by bash here (so
`$(gradcli descend ...)` works as in a shell), and its output compared."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SECTION = "## Checking, explaining, descending"


def _examples():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start:end if end >= 0 else None]
    found = []
    for block in re.findall(r"```console\n(.*?)```", section, flags=re.S):
        command, output = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command is not None:
                    found.append((command, "".join(output)))
                command, output = line[2:], []
            else:
                output.append(line + "\n")
        if command is not None:
            found.append((command, "".join(output)))
    return found


EXAMPLES = _examples()


def test_the_section_has_examples():
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("command, expected", EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_readme_example(command, expected):
    bindir = Path(sys.executable).parent
    env = {**os.environ, "NO_COLOR": "1", "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
    prelude = "" if (bindir / "gradcli").exists() else f'gradcli() {{ "{sys.executable}" -m gradcli "$@"; }}; '
    result = subprocess.run(["bash", "-c", prelude + command], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    # stdout and stderr as a terminal would show them: only one of them is used per command
    assert (result.stdout or result.stderr) == expected
    assert not (result.stdout and result.stderr)
