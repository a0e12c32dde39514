"""The example programs and data that ship with gradcli.

``examples/`` in the source tree is installed inside the package as
``gradcli/examples`` (pyproject.toml maps it), so that someone who installed
gradcli with pip or pipx, and has no clone, can run every example the help
and the man page show: ``gradcli examples`` lists them, ``gradcli examples
NAME`` prints one (``gradcli examples neuron | gradcli grad -``) and
``gradcli examples --path`` names the folder, to copy it.

Each program starts with comment lines: what it is, then what it shows; the
first line is its description in the list.
"""

from __future__ import annotations

from pathlib import Path

from .errors import InputError, did_you_mean


def folder() -> Path:
    """Where the examples are: inside the installed package, or, in a source
    tree (an editable install), the repository's ``examples/``."""
    here = Path(__file__).resolve().parent
    installed = here / "examples"
    return installed if installed.is_dir() else here.parent.parent / "examples"


def names() -> list[str]:
    """The examples' file names, programs first, in order of name."""
    files = [p.name for p in folder().iterdir() if p.is_file() and not p.name.startswith(("_", "."))]
    return sorted(files, key=lambda n: (not n.endswith(".grad"), n))


def describe(name: str) -> str:
    """A program's first comment line; for data and notebooks, what they are."""
    path = folder() / name
    if name.endswith(".grad"):
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        return first.lstrip("# ").strip()
    kinds = {".csv": "points (CSV) for --at", ".jsonl": "points (JSON lines) for --at",
             ".ipynb": "the lecture's notebook, on gradcli's Value"}
    return kinds.get(path.suffix, "")


def find(name: str) -> Path:
    """An example by its file name, or by a program's name without `.grad`."""
    available = names()
    for candidate in (name, f"{name}.grad"):
        if candidate in available:
            return folder() / candidate
    stems = [n[:-5] if n.endswith(".grad") else n for n in available]
    raise InputError(f"there is no example `{name}`",
                     notes=did_you_mean(name, stems) + ["`gradcli examples` lists them"])
