"""Tables for people never cut a number or a name (issue 12): golden
renderings at 40, 80 and 200 columns from a pinned rich Console (as rich's
own tests/render.py pins one), a property over random tables and widths,
the command line at the widths of the issue, and a real terminal (tmux).

Layouts, in order: every column; the least useful columns left out (the
table says which); a matrix wrapped into blocks of columns; names folded;
one record per row. See texttable.py.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import gradcli
from gradcli import render, texttable
from gradcli.cli import app
from gradcli.symbolic import hessian
from conftest import ROOT

GRADCLI = os.path.join(os.path.dirname(sys.executable), "gradcli")


def show(obj, width: int) -> list[str]:
    """``obj`` printed by a pinned Console: no colour, no terminal, no
    environment, ``width`` columns."""
    from rich.console import Console

    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None, force_terminal=False, legacy_windows=False,
            _environ={}).print(obj)
    return [line.rstrip() for line in buf.getvalue().splitlines()]


def small():
    g = gradcli.build(gradcli.parse("w*x"), {"w": -0.000000123456, "x": 3.5e-12})
    g.gradients()
    return render.table(g, ["w", "x"])


LONG = "a" * 60


def long_name():
    g = gradcli.build(gradcli.parse(f"y = {LONG}*x*1e-7"), {LONG: 1.2, "x": -1.23})
    return render.table(g, list(g.gradients()))


def every():
    g = gradcli.build(gradcli.parse("L = (a*b + c) * f"), {"a": 2, "b": -3, "c": 10, "f": -2})
    return render.table(g, list(g.gradients()), every=True)


def hess():
    prog = " + ".join(f"{(i + 1) * (-1) ** i * 1.2345}e-7*x{i}*x{(i + 1) % 10} + x{i}**2" for i in range(10))
    g = gradcli.build(gradcli.parse(prog), {f"x{i}": -1.5 - i / 100 for i in range(10)})
    h = hessian(g, list(g.leaves))
    return render.matrix_table(h.names, h.matrix)


CASES = {"small": small, "long_name": long_name, "every": every, "hessian": hess}

GOLDEN = {
    ('small', 40): [
        '',
        '  name           data           grad',
        ' ────────────────────────────────────',
        '  w      -1.23456e-07        3.5e-12',
        '  x           3.5e-12   -1.23456e-07',
        '         -4.32096e-19              1',
        '',
        '(kind, op and id were left out to fit 40',
        'columns; a wider terminal shows them)',
    ],
    ('small', 80): [
        '',
        '  id   name   op   kind             data           grad',
        ' ───────────────────────────────────────────────────────',
        '  n0   w           input    -1.23456e-07        3.5e-12',
        '  n1   x           input         3.5e-12   -1.23456e-07',
        '  n2          *    output   -4.32096e-19              1',
        '',
    ],
    ('small', 200): [
        '',
        '  id   name   op   kind             data           grad',
        ' ───────────────────────────────────────────────────────',
        '  n0   w           input    -1.23456e-07        3.5e-12',
        '  n1   x           input         3.5e-12   -1.23456e-07',
        '  n2          *    output   -4.32096e-19              1',
        '',
    ],
    ('long_name', 40): [
        '',
        '  id   name           data        grad',
        ' ──────────────────────────────────────',
        '  n0   aaaaaa          1.2   -1.23e-07',
        '       aaaaaa',
        '       aaaaaa',
        '       aaaaaa',
        '       aaaaaa',
        '       aaaaaa',
        '       aaaaaa',
        '       aaaaaa',
        '       aaaaaa',
        '       aaaaaa',
        '  n1   x             -1.23     1.2e-07',
        '  n4   y        -1.476e-07           1',
        '',
        '(kind and op were left out to fit 40',
        'columns; a wider terminal shows them)',
    ],
    ('long_name', 80): [
        '',
        '  id   name                                                   data        grad',
        ' ──────────────────────────────────────────────────────────────────────────────',
        '  n0   aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa          1.2   -1.23e-07',
        '       aaaaaaaaaaaaaa',
        '  n1   x                                                     -1.23     1.2e-07',
        '  n4   y                                                -1.476e-07           1',
        '',
        '(kind and op were left out to fit 80 columns; a wider terminal shows them)',
    ],
    ('long_name', 200): [
        '',
        '  id   name                                                           op   kind           data        grad',
        ' ──────────────────────────────────────────────────────────────────────────────────────────────────────────',
        '  n0   aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa        input           1.2   -1.23e-07',
        '  n1   x                                                                   input         -1.23     1.2e-07',
        '  n4   y                                                              *    output   -1.476e-07           1',
        '',
    ],
    ('every', 40): [
        '',
        '  id   name   inputs   data   grad',
        ' ──────────────────────────────────',
        '  n0   a                  2      6',
        '  n1   b                 -3     -4',
        '  n2          n0 n1      -6     -2',
        '  n3   c                 10     -2',
        '  n4          n2 n3       4     -2',
        '  n5   f                 -2      4',
        '  n6   L      n4 n5      -8      1',
        '',
        '(kind and op were left out to fit 40',
        'columns; a wider terminal shows them)',
    ],
    ('every', 80): [
        '',
        '  id   name   op   inputs   kind     data   grad',
        ' ────────────────────────────────────────────────',
        '  n0   a                    input       2      6',
        '  n1   b                    input      -3     -4',
        '  n2          *    n0 n1               -6     -2',
        '  n3   c                    input      10     -2',
        '  n4          +    n2 n3                4     -2',
        '  n5   f                    input      -2      4',
        '  n6   L      *    n4 n5    output     -8      1',
        '',
    ],
    ('every', 200): [
        '',
        '  id   name   op   inputs   kind     data   grad',
        ' ────────────────────────────────────────────────',
        '  n0   a                    input       2      6',
        '  n1   b                    input      -3     -4',
        '  n2          *    n0 n1               -6     -2',
        '  n3   c                    input      10     -2',
        '  n4          +    n2 n3                4     -2',
        '  n5   f                    input      -2      4',
        '  n6   L      *    n4 n5    output     -8      1',
        '',
    ],
    ('hessian', 40): [
        'columns 1 to 2 of 10',
        '',
        '                x0           x1',
        ' ───────────────────────────────',
        '  x0             2   1.2345e-07',
        '  x1    1.2345e-07            2',
        '  x2             0   -2.469e-07',
        '  x3             0            0',
        '  x4             0            0',
        '  x5             0            0',
        '  x6             0            0',
        '  x7             0            0',
        '  x8             0            0',
        '  x9   -1.2345e-06            0',
        '',
        'columns 3 to 4 of 10',
        '',
        '               x2           x3',
        ' ──────────────────────────────',
        '  x0            0            0',
        '  x1   -2.469e-07            0',
        '  x2            2   3.7035e-07',
        '  x3   3.7035e-07            2',
        '  x4            0   -4.938e-07',
        '  x5            0            0',
        '  x6            0            0',
        '  x7            0            0',
        '  x8            0            0',
        '  x9            0            0',
        '',
        'columns 5 to 6 of 10',
        '',
        '               x4           x5',
        ' ──────────────────────────────',
        '  x0            0            0',
        '  x1            0            0',
        '  x2            0            0',
        '  x3   -4.938e-07            0',
        '  x4            2   6.1725e-07',
        '  x5   6.1725e-07            2',
        '  x6            0   -7.407e-07',
        '  x7            0            0',
        '  x8            0            0',
        '  x9            0            0',
        '',
        'columns 7 to 8 of 10',
        '',
        '               x6           x7',
        ' ──────────────────────────────',
        '  x0            0            0',
        '  x1            0            0',
        '  x2            0            0',
        '  x3            0            0',
        '  x4            0            0',
        '  x5   -7.407e-07            0',
        '  x6            2   8.6415e-07',
        '  x7   8.6415e-07            2',
        '  x8            0   -9.876e-07',
        '  x9            0            0',
        '',
        'columns 9 to 10 of 10',
        '',
        '                x8            x9',
        ' ────────────────────────────────',
        '  x0             0   -1.2345e-06',
        '  x1             0             0',
        '  x2             0             0',
        '  x3             0             0',
        '  x4             0             0',
        '  x5             0             0',
        '  x6             0             0',
        '  x7    -9.876e-07             0',
        '  x8             2   1.11105e-06',
        '  x9   1.11105e-06             2',
        '',
    ],
    ('hessian', 80): [
        'columns 1 to 5 of 10',
        '',
        '                x0           x1           x2           x3           x4',
        ' ──────────────────────────────────────────────────────────────────────',
        '  x0             2   1.2345e-07            0            0            0',
        '  x1    1.2345e-07            2   -2.469e-07            0            0',
        '  x2             0   -2.469e-07            2   3.7035e-07            0',
        '  x3             0            0   3.7035e-07            2   -4.938e-07',
        '  x4             0            0            0   -4.938e-07            2',
        '  x5             0            0            0            0   6.1725e-07',
        '  x6             0            0            0            0            0',
        '  x7             0            0            0            0            0',
        '  x8             0            0            0            0            0',
        '  x9   -1.2345e-06            0            0            0            0',
        '',
        'columns 6 to 10 of 10',
        '',
        '               x5           x6           x7            x8            x9',
        ' ───────────────────────────────────────────────────────────────────────',
        '  x0            0            0            0             0   -1.2345e-06',
        '  x1            0            0            0             0             0',
        '  x2            0            0            0             0             0',
        '  x3            0            0            0             0             0',
        '  x4   6.1725e-07            0            0             0             0',
        '  x5            2   -7.407e-07            0             0             0',
        '  x6   -7.407e-07            2   8.6415e-07             0             0',
        '  x7            0   8.6415e-07            2    -9.876e-07             0',
        '  x8            0            0   -9.876e-07             2   1.11105e-06',
        '  x9            0            0            0   1.11105e-06             2',
        '',
    ],
    ('hessian', 200): [
        '',
        '                x0           x1           x2           x3           x4           x5           x6           x7            x8            x9',
        ' ─────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────',
        '  x0             2   1.2345e-07            0            0            0            0            0            0             0   -1.2345e-06',
        '  x1    1.2345e-07            2   -2.469e-07            0            0            0            0            0             0             0',
        '  x2             0   -2.469e-07            2   3.7035e-07            0            0            0            0             0             0',
        '  x3             0            0   3.7035e-07            2   -4.938e-07            0            0            0             0             0',
        '  x4             0            0            0   -4.938e-07            2   6.1725e-07            0            0             0             0',
        '  x5             0            0            0            0   6.1725e-07            2   -7.407e-07            0             0             0',
        '  x6             0            0            0            0            0   -7.407e-07            2   8.6415e-07             0             0',
        '  x7             0            0            0            0            0            0   8.6415e-07            2    -9.876e-07             0',
        '  x8             0            0            0            0            0            0            0   -9.876e-07             2   1.11105e-06',
        '  x9   -1.2345e-06            0            0            0            0            0            0            0   1.11105e-06             2',
        '',
    ],
}


@pytest.mark.parametrize("case,width", list(GOLDEN), ids=lambda v: str(v))
def test_golden(case, width):
    assert show(CASES[case](), width) == GOLDEN[case, width]


@pytest.mark.parametrize("case,width", list(GOLDEN), ids=lambda v: str(v))
def test_no_line_is_wider_than_the_terminal(case, width):
    assert max(len(line) for line in show(CASES[case](), width)) <= width


def test_hessian_of_ten_leaves_at_80_columns_shows_every_entry_with_its_labels():
    """The issue's case: the old table dropped the row labels and a column.
    Every block has the ten row names; the blocks together have every
    column once; every entry is the Hessian's, whole."""
    prog = " + ".join(f"{(i + 1) * (-1) ** i * 1.2345}e-7*x{i}*x{(i + 1) % 10} + x{i}**2" for i in range(10))
    g = gradcli.build(gradcli.parse(prog), {f"x{i}": -1.5 - i / 100 for i in range(10)})
    h = hessian(g, list(g.leaves))
    lines = show(render.matrix_table(h.names, h.matrix), 80)
    seen = {}
    header = None
    for line in lines:
        cells = line.split()
        if cells and all(re.fullmatch(r"x\d", c) for c in cells) and len(cells) < 11:
            header = cells
        elif cells and re.fullmatch(r"x\d", cells[0]) and header:
            for name, text in zip(header, cells[1:]):
                seen[cells[0], name] = text
    assert len(seen) == 100
    for i, row in enumerate(h.matrix):
        for j, v in enumerate(row):
            assert seen[f"x{i}", f"x{j}"] == render.short(v)


# ------------------------------------------------------------ properties

NUMBERS = st.floats(allow_nan=False, allow_infinity=False, width=64)
NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,70}", fullmatch=True)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(NAMES, NUMBERS, NUMBERS), min_size=1, max_size=6),
       width=st.integers(min_value=28, max_value=220),
       precision=st.integers(min_value=1, max_value=17))
def test_every_number_whole_and_every_name_in_order_at_any_width(rows, width, precision):
    cells = [[name, render.short(a, precision), render.short(b, precision)] for name, a, b in rows]
    grid = texttable.Grid(["name", "data", "grad"], cells, right=(1, 2), fold=[0])
    lines = show(grid, width)
    text = "\n".join(lines)
    assert max(len(line) for line in lines) <= width
    for _, a, b in cells:
        assert re.search(rf"(?<![\w.+-]){re.escape(a)}(?![\w.])", text), (a, text)
        assert re.search(rf"(?<![\w.+-]){re.escape(b)}(?![\w.])", text), (b, text)
    layout = grid.layout(width)
    if not layout.records:              # the name column, read down, is every name in order
        w = layout.folded.get(0, grid.widths[0])
        body = lines[3:-1]
        assert "".join(line[2:2 + w].strip() for line in body) == "".join(name for name, _, _ in cells)
    else:
        assert "".join(text.split()).count("".join(cells[0][0])) >= 1 or len(cells[0][0]) > width


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=1, max_value=14), width=st.integers(min_value=30, max_value=200))
def test_a_matrix_at_any_width_shows_every_entry_once(n, width):
    names = [f"v{i}" for i in range(n)]
    matrix = [[(i + 1) * (j - 0.5) * 1.23456789e-7 for j in range(n)] for i in range(n)]
    lines = show(render.matrix_table(names, matrix), width)
    assert max(len(line) for line in lines) <= width
    text = "\n".join(lines)
    for row in matrix:
        for v in row:
            assert render.short(v) in text


# ---------------------------------------------------- through the command

def run(*args, columns_=80):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns_), "NO_COLOR": "1"})


def test_issue_example_at_50_columns_keeps_the_exponents():
    out = run("grad", "w*x", "w=-0.000000123456", "x=3.5e-12", "--table", columns_=50).stdout
    assert "…" not in out
    assert "-1.23456e-07" in out and "3.5e-12" in out and "-4.32096e-19" in out
    assert "(kind was left out to fit 50 columns; a wider terminal shows them)" in " ".join(out.split())


def test_long_name_at_80_columns_keeps_the_gradient():
    out = run("grad", f"{LONG}*x", f"{LONG}=2", "x=-1.23e-07", "--table").stdout
    assert "-1.23e-07" in out and "…" not in out
    assert LONG[:40] in out.replace("\n", "")


@pytest.mark.parametrize("width", [40, 80, 200])
def test_grad_table_at_each_width_has_no_ellipsis(width):
    out = run("grad", "-f", "examples/micrograd_readme.grad", "--table", "--all", columns_=width).stdout
    assert "…" not in out
    assert max(len(line.rstrip()) for line in out.splitlines()) <= width
    assert "138.834" in out and "645.577" in out


# ---------------------------------------------------------- a real terminal

@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("width", [40, 80])
def test_in_tmux(tmp_path, width):
    """The table as a terminal of 40 and 80 columns shows it: nothing cut,
    nothing past the edge."""
    socket = str(tmp_path / "tmux.sock")
    command = (f"{GRADCLI} grad 'w*x + {LONG}' w=-0.000000123456 x=3.5e-12 {LONG}=1e-300; "
               "echo DONE; sleep 30")
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm", "PAGER": "cat"}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    subprocess.run(["tmux", "-S", socket, "new-session", "-d", "-x", str(width), "-y", "40", command],
                   check=True, env=env)
    try:
        screen = ""
        for _ in range(200):
            screen = subprocess.run(["tmux", "-S", socket, "capture-pane", "-p", "-J"],
                                    capture_output=True, text=True).stdout
            if "DONE" in screen:
                break
            time.sleep(0.1)
        assert "DONE" in screen, screen
    finally:
        subprocess.run(["tmux", "-S", socket, "kill-server"], capture_output=True)
    assert "…" not in screen
    assert "-1.23456e-07" in screen and "3.5e-12" in screen and "1e-300" in screen
    joined = "".join(screen.split())
    assert LONG in joined or LONG[:20] in joined


# ------------------------------------------ what the table shows by default

ACCUMULATOR = "x = 1.5\ns = 0\n" + "".join(f"s += x*{k % 7}\n" for k in range(5000))


def test_accumulator_table_shows_the_leaves_and_the_output_and_says_what_it_hid():
    out = run("grad", ACCUMULATOR, "--table").stdout
    rows = [line.split() for line in out.splitlines() if re.match(r"\s+n\d+\s", line)]
    assert [r[0] for r in rows] == ["n0", "n1", "n15001"]
    assert [r[1] for r in rows] == ["x", "s", "s"]
    assert rows[0][-1] == render.short(sum(k % 7 for k in range(5000)))
    assert "4,999 named nodes and 5,000 operations not shown (--all shows every node)" in out
    assert len(out.splitlines()) < 15


def test_all_shows_every_node():
    out = run("grad", ACCUMULATOR, "--table", "--all").stdout
    rows = [line for line in out.splitlines() if re.match(r"\s+n\d+\s", line)]
    g = gradcli.build(gradcli.parse(ACCUMULATOR))
    assert len(rows) == len(g.nodes) == 15002
    assert "not shown" not in out


def test_wrt_names_are_shown_with_the_leaves():
    out = run("grad", "d = a*b; e = d + c; L = e*f", "a=2", "b=-3", "c=10", "f=-2", "--wrt", "d,a",
              "--table").stdout
    names = [line.split()[1] for line in out.splitlines() if re.match(r"\s+n\d+\s", line)]
    assert names == ["a", "b", "d", "c", "f", "L"]
    assert "1 named node and" not in out and "1 named node not shown" in out


def test_small_programs_have_no_note():
    out = run("grad", "(a*b+c)*f", "a=2", "b=-3", "c=10", "f=-2", "--table").stdout
    assert "not shown" not in out


def test_a_long_table_drawn_as_plain_text_is_what_rich_draws():
    """The fast path for long tables without colour (Grid.text) writes the
    same characters as the renderable."""
    g = gradcli.build(gradcli.parse(ACCUMULATOR))
    grads = g.gradients()
    table = render.table(g, list(grads), every=True)
    assert table.text(80) is not None
    assert table.text(80).splitlines() == show(table, 80) or \
        [line.rstrip() for line in table.text(80).splitlines()] == show(table, 80)


# ------------------------------------------------------------------ paging

pexpect = pytest.importorskip("pexpect")


def spawn(args, rows=24, **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES", "PAGER",
                                                              "GRADCLI_PAGER", "LESS")}
    environ.update({"TERM": "xterm", **env})
    child = pexpect.spawn(GRADCLI, args, env=environ, encoding="utf-8", timeout=60, dimensions=(rows, 80))
    child.expect(pexpect.EOF)
    child.close()
    return child.before.replace("\r\n", "\n"), child.exitstatus


ANSI = re.compile(r"\x1b\[[0-9;]*m")
COLOUR = re.compile(r"\x1b\[(?:[0-9]+;)*(?:3[0-8]|9[0-7])(?:;[0-9]+)*m")


def plain(text: str) -> str:
    return ANSI.sub("", text)


@pytest.fixture()
def long_program(tmp_path):
    path = tmp_path / "acc.grad"
    path.write_text(ACCUMULATOR[:2000])
    return str(path)


def test_long_output_on_a_terminal_goes_through_the_pager(long_program, tmp_path):
    out, status = spawn(["grad", "-f", long_program, "--all"], PAGER="sed s/^/PAGED:/", NO_COLOR="1")
    assert status == 0
    out = plain(out)
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines and all(line.startswith("PAGED:") for line in lines)
    assert any(re.match(r"PAGED:\s+n10\s", line) for line in lines)


def test_gradcli_pager_wins_and_less_gets_frx(long_program):
    out, _ = spawn(["grad", "-f", long_program, "--all"], PAGER="sed s/^/WRONG:/",
                   GRADCLI_PAGER='sh -c "echo LESS=\\$LESS; cat"', NO_COLOR="1")
    assert "LESS=FRX" in out and "WRONG:" not in out


def test_short_output_is_not_paged(long_program):
    out, status = spawn(["grad", "a*b", "a=1", "b=2"], PAGER="sed s/^/PAGED:/", NO_COLOR="1")
    assert status == 0 and "PAGED:" not in out and "a" in out


def test_empty_pager_or_cat_means_no_pager(long_program):
    for pager in ("", "cat"):
        out, status = spawn(["grad", "-f", long_program, "--all"], PAGER=pager, NO_COLOR="1")
        out = plain(out)
        assert status == 0 and "PAGED:" not in out and re.search(r"^\s+n10\s", out, re.M)


def test_pipes_are_never_paged(long_program):
    r = subprocess.run([GRADCLI, "grad", "-f", long_program, "--all", "--table"], capture_output=True, text=True,
                       env={**os.environ, "PAGER": "sed s/^/PAGED:/", "COLUMNS": "80"})
    assert r.returncode == 0 and "PAGED:" not in r.stdout and re.search(r"^\s+n10\s", r.stdout, re.M)


def test_tables_are_coloured_on_a_terminal_unless_no_color():
    out, _ = spawn(["grad", "(a*b+c)*f", "a=2", "b=-3", "c=10", "f=-2"])
    assert COLOUR.search(out)
    out, _ = spawn(["grad", "(a*b+c)*f", "a=2", "b=-3", "c=10", "f=-2"], NO_COLOR="1")
    # NO_COLOR: no colour (bold and dim stay, as rich and no-color.org allow)
    assert not COLOUR.search(out) and re.search(r"n0\s+a\s+input\s+2\s+6", plain(out))


# ------------------------------------------- explain fitted to the width (issue 25)

def _explain_table(columns: int) -> str:
    r = CliRunner().invoke(app, ["explain", "-f", "examples/neuron.grad", "--table"],
                           env={"COLUMNS": str(columns), "NO_COLOR": "1", "GRADCLI_PAGER": ""})
    assert r.exit_code == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("columns", [40, 56, 80, 120])
def test_explain_fits_the_width_and_never_splits_a_number(columns, monkeypatch):
    monkeypatch.chdir(ROOT)
    table = _explain_table(columns)
    assert all(len(line) <= columns for line in table.splitlines()), columns
    plain = CliRunner().invoke(app, ["explain", "-f", "examples/neuron.grad", "--plain"]).stdout
    assert table.split() == plain.split()          # the same words, numbers whole, in the same order


def test_explain_at_80_columns_folds_between_its_parts(monkeypatch):
    monkeypatch.chdir(ROOT)
    lines = _explain_table(80).splitlines()
    assert lines[3:6] == [
        "    n     do/dn = 1 - o**2, as 4*sigmoid(2*n)*sigmoid(-2*n)  = 0.5",
        "        1 * 0.5 = 0.5    n.grad = 0.5",
        "2. n = n7 + b    n.grad = 0.5",
    ]


def test_fold_breaks_between_segments_then_at_spaces():
    segments = [("    ", ""), ("x", "b"), ("  ", ""), ("dy/dx = w", ""), ("  ", ""), ("= 2", ""),
                ("  ", ""), ("0.5 * 2 = 1", ""), ("  ", ""), ("x.grad = 1", "")]
    text = lambda lines: ["".join(t for t, _ in line) for line in lines]   # noqa: E731
    assert text(render.fold(segments, 80)) == ["    x  dy/dx = w  = 2  0.5 * 2 = 1  x.grad = 1"]
    assert text(render.fold(segments, 30)) == ["    x  dy/dx = w  = 2", "        0.5 * 2 = 1", "        x.grad = 1"]
    assert text(render.fold(segments, 14)) == ["    x  dy/dx =", "        w  = 2", "        0.5 *", "        2 = 1",
                                               "        x.grad", "        = 1"]


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("columns", [40, 80])
def test_explain_in_tmux_keeps_every_number_whole(columns):
    name = f"gradcli-explain-{os.getpid()}-{columns}"
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
           "GRADCLI_PAGER": "", "NO_COLOR": "1"}
    env.pop("COLUMNS", None)
    subprocess.run(["tmux", "-L", name, "new-session", "-d", "-x", str(columns), "-y", "80",
                    "gradcli explain -f examples/neuron.grad; sleep 30"], env=env, cwd=ROOT, check=True)
    try:
        time.sleep(3)
        shown = subprocess.run(["tmux", "-L", name, "capture-pane", "-p", "-J"], capture_output=True,
                               text=True).stdout
    finally:
        subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True)
    plain = CliRunner().invoke(app, ["explain", "-f", str(ROOT / "examples" / "neuron.grad"), "--plain"]).stdout
    assert shown.split() == plain.split()
    assert "1 * 0.5 = 0.5" in shown
