"""Regenerate the pictures and golden files that are checked into the repository.

    python docs/make_pictures.py

- docs/L.svg, the README's picture, with exactly the command the README shows
  beside it (COMMAND below); tests/test_graph.py checks the file is current.
- tests/golden/*.dot, the DOT of every example, which the tests compare byte
  for byte.
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


if __name__ == "__main__":
    main()
