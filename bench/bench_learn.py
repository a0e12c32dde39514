"""Speed of check, explain and descend (issue 4). Not a test: prints numbers.

    python bench/bench_learn.py

descend: steps per second on the line fit (examples/fit_line.grad, 30 nodes)
and on a sum of 1,000 squared residuals; check: seconds for --all on the
micrograd example and for the leaves of the 1,000-residual fit; explain:
seconds for the steps of the 1,000-residual fit.
"""

from __future__ import annotations

import time
from pathlib import Path

from gradcli import build, parse
from gradcli.check import check
from gradcli.descend import descend
from gradcli.explain import steps

ROOT = Path(__file__).resolve().parent.parent


def timed(label, fn, count=1, unit="s"):
    start = time.perf_counter()
    fn()
    took = time.perf_counter() - start
    if unit == "per second":
        print(f"{label:<48} {count / took:>12,.0f} {unit}")
    else:
        print(f"{label:<48} {took:>12.3f} s")


def main() -> None:
    line = build(parse((ROOT / "examples" / "fit_line.grad").read_text()), {})
    timed("descend, line fit (2 params), 20,000 steps",
          lambda: descend(line, ["w", "b"], 0.05, 20_000), 20_000, "per second")

    terms = " + ".join(f"(w*{i % 7} + b - {i % 5})**2" for i in range(1000))
    big = build(parse(f"w = 0.0\nb = 0.0\nloss = ({terms}) / 1000"), {})
    print(f"(the 1,000-residual fit has {len(big.nodes):,} nodes)")
    timed("descend, 1,000-residual fit, 200 steps",
          lambda: descend(big, ["w", "b"], 0.01, 200), 200, "per second")
    timed("check, 1,000-residual fit, leaves", lambda: check(big))
    timed("explain, 1,000-residual fit", lambda: steps(big))

    readme = build(parse((ROOT / "examples" / "micrograd_readme.grad").read_text()), {})
    timed("check --all, micrograd README example", lambda: check(readme, every=True))


if __name__ == "__main__":
    main()
