"""The live page's op table (page.op_table: ops.py spelled by the code
generator's js printer, codegen.js_rules), run by node and compared with ops.py.

Every op's generated forward, partials and chain rules are run by node at a
grid of points, corners included (0, the domain's edges, ties for max/min),
and compared with the Python rules on floats: equal within 1e-12 relative
(the transcendental functions of V8 and of the C library may differ by an
ulp), not finite where Python's are not, and the same error message where
the op is undefined.
"""

from __future__ import annotations

import itertools
import json
import math
import shutil
import subprocess

import pytest

from gradcli.codegen import js_rules
from gradcli.page import op_table
from gradcli.ops import OPS, FloatMath, Undefined, compute

NODE = shutil.which("node") or shutil.which("nodejs")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed (.ci/run installs nodejs)")

POINTS = [-1000.0, -30.0, -3.5, -2.0, -1.0, -0.5, -1e-300, 0.0, 1e-300, 0.25, 0.5, 1.0, 2.0, 3.0, 7.25, 40.0, 710.0]


def _python(op, args):
    try:
        out = compute(op, args)
        forward = out if math.isfinite(out) else ("nonfinite",)
    except Undefined as e:
        return {"error": str(e)}
    except (OverflowError, ValueError, ZeroDivisionError):
        return {"error": "overflow"}
    parts, chained = [], []
    for d in op.chain:
        for g, into in ((1.0, parts), (-0.75, chained)):
            try:
                v = float(d(FloatMath, g, *args, out))
            except (ZeroDivisionError, OverflowError, ValueError):
                v = math.nan
            into.append(v)
    return {"f": forward, "d": parts, "c": chained}


def _close(a: float, b: float) -> bool:
    if not math.isfinite(a) or not math.isfinite(b):
        return not math.isfinite(a) and not math.isfinite(b)
    return a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b))


@needs_node
def test_generated_ops_agree_with_the_table():
    cases = []
    for name, op in OPS.items():
        for args in itertools.product(POINTS, repeat=op.arity):
            cases.append((name, list(args)))
    script = ("const OPS = " + op_table() + ";\n"
              "const cases = " + json.dumps(cases) + ";\n"
              "const out = cases.map(([name, args]) => {\n"
              "  let f;\n"
              "  try { f = OPS[name].f(...args); } catch (e) { return {error: e.message}; }\n"
              "  if (!Number.isFinite(f)) return {f: 'nonfinite'};\n"
              "  const fin = v => Number.isFinite(v) ? v : null;\n"
              "  return {f, d: OPS[name].d.map(d => fin(d(...args, f))), c: OPS[name].c.map(c => fin(c(-0.75, ...args, f)))};\n"
              "});\nprocess.stdout.write(JSON.stringify(out));\n")
    got = json.loads(subprocess.run([NODE, "-e", script], capture_output=True, text=True, check=True).stdout)
    checked = 0
    for (name, args), js in zip(cases, got):
        py = _python(OPS[name], args)
        where = f"{name}{tuple(args)}"
        if "error" in py:
            if py["error"] in ("overflow", "the result overflows"):
                # JavaScript overflows to Infinity; the page then says "the result overflows"
                assert js.get("f") == "nonfinite", where
            else:
                assert js == {"error": py["error"]}, where
            continue
        if py["f"] == ("nonfinite",):
            assert js.get("f") == "nonfinite" or "error" in js, where
            continue
        assert "f" in js and _close(js["f"], py["f"]), (where, js, py)
        for key in ("d", "c"):
            for k, (a, b) in enumerate(zip(js[key], py[key])):
                assert _close(math.nan if a is None else a, b), (where, key, k, a, b)
        checked += 1
    assert checked > 1000


def test_branches_become_conditionals():
    """A rule's branches are conditionals; a row's domain is a guard with
    ops.py's words (the page throws them as a RangeError); log's chain rule
    divides; a corner convention of ``**`` is a conditional on the operand."""
    rules = js_rules()
    assert rules["relu"]["forward"] == "(x > 0 ? x : 0)" and rules["relu"]["guards"] == []
    assert rules["log"]["guards"] == [["x <= 0", "log needs a positive number"]]
    assert rules["**"]["guards"] == [["x == 0 && y < 0", "division by zero: zero to a negative power"],
                                     ["x < 0 && y != Math.floor(y)",
                                      "a negative number to a fractional power is not a real number"]]
    assert rules["/"]["guards"] == [["y == 0", "division by zero"]] and rules["/"]["forward"] == "x / y"
    assert rules["*"]["partials"] == ["y", "x"]
    assert rules["log"]["partials"] == ["(1 / x)"] and rules["log"]["chains"] == ["(g / x)"]   # log' divides
    assert "Math.exp(-(2 * x))" in rules["tanh"]["partials"][0]                               # 4*sigmoid(2x)*sigmoid(-2x)
    assert rules["hypot"]["forward"] == "Math.hypot(x, y)"
    assert "sqrtpi = 1.772453850905516" in rules["erf"]["forward"]     # CPython's erf: JavaScript has none
    assert rules["**"]["chains"][1] == "(x != 0 ? g * (out * Math.log(x)) : 0)"
    # max's derivative: sign(a - b) as nested conditionals, 1/2 at a tie
    # (a share of 0 passes 0 even where g is not finite: log(max(x, y)) at (1e-310, 1e-320))
    share = "((x - y > 0 ? 1 : x - y < 0 ? -1 : 0) + 1) / 2"
    assert rules["max"]["partials"][0] == f"({share} != 0 ? {share} : 0)"
    # the chain rules keep g * 0 (NaN where g is not finite, as grad)
    assert rules["sign"]["chains"] == ["(0 * g)"]


@needs_node
def test_the_js_erf_is_within_two_ulp_of_mpmath():
    """The page's and codegen --lang js's erf (CPython's algorithm) against 40-digit mpmath."""
    mpmath = pytest.importorskip("mpmath")
    xs = [k / 64 for k in range(-400, 401)] + [1e-300, -1e-20, 1.4999, 1.5, 5.9, 6.0, 6.1, 26.0, 30.0, 40.0]
    f = js_rules()["erf"]["forward"]
    script = f"const xs = {json.dumps(xs)};\nprocess.stdout.write(JSON.stringify(xs.map(x => {f})));"
    got = json.loads(subprocess.run([NODE, "-e", script], capture_output=True, text=True, check=True).stdout)
    with mpmath.workdps(40):
        for x, v in zip(xs, got):
            truth = mpmath.erf(mpmath.mpf(x))
            assert abs(mpmath.mpf(v) - truth) <= 2 * 2.0 ** -52 * abs(truth), x
