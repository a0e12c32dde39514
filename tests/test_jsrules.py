"""The op table as JavaScript (jsrules.py), run by node and compared with ops.py.

Every op's generated forward and partials are run by node at a grid of
points, corners included (0, the domain's edges, ties for max/min), and
compared with the Python rules on floats: equal within 1e-12 relative (the
transcendental functions of V8 and of the C library may differ by an ulp),
not finite where Python's are not, and the same error message where the op
is undefined.
"""

from __future__ import annotations

import itertools
import json
import math
import shutil
import subprocess

import pytest

from gradcli.jsrules import PRELUDE, J, chain, expression, forward, op_table, partial
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
    script = (PRELUDE + "\nconst OPS = " + op_table() + ";\n"
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
    """A rule's `if` becomes `?:`, each comparison once per path, and a
    raise becomes U(message) with ops.py's words."""
    assert forward("relu") == "((x0 > 0.0) ? x0 : 0.0)"
    assert forward("log").startswith('((x0 <= 0.0) ? U("log needs a positive number") : ')
    assert forward("**").startswith('(((x0 === 0.0) && (x1 < 0.0)) ? U("division by zero: zero to a negative power")')
    assert forward("/") == '((x1 === 0.0) ? U("division by zero") : (x0 / x1))'
    assert partial("*", 0) == "x1"
    assert partial("log", 0) == "(1.0 / x0)" and chain("log", 0) == "(g / x0)"   # log' divides
    assert "Math.exp((-Math.abs((2.0 * x0))))" in partial("tanh", 0)            # 4*sigmoid(2x)*sigmoid(-2x)
    assert forward("erf") == "erf(x0)" and forward("hypot") == "Math.hypot(x0, x1)"
    # max's derivative asks `sign(a - b)` twice: each comparison once per path
    assert partial("max", 0) == "(((x0 - x1) > 0.0) ? 1.0 : (((x0 - x1) < 0.0) ? 0.0 : 0.5))"


def test_a_rule_that_needs_a_float_says_so():
    with pytest.raises(TypeError, match="needs a float"):
        expression(lambda a: float(a), [J("x0")])
