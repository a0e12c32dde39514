"""Help, the man page, shell completion and packaging (issue 12): every
command's help has its purpose, examples and option panels; the exit
statuses are at the top level; gradcli(1) is written from the same help and
installed with the package; completion works in real bash, zsh and fish;
a fresh `pip install .` and `pipx install .` give a working `gradcli`,
`man gradcli` and completion; the sdist and wheel hold what they should."""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest
import typer.main
from typer.testing import CliRunner

from gradcli.cli import app
from tests.conftest import ROOT

GRADCLI = os.path.join(os.path.dirname(sys.executable), "gradcli")
COMMANDS = [name for name, c in typer.main.get_command(app).commands.items() if not c.hidden]


def help_text(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_help_has_purpose_examples_and_panels(command):
    text = help_text(command)
    group = typer.main.get_command(app)
    purpose = group.commands[command].help.strip().split("\n")[0]
    assert purpose.endswith(".") and len(purpose) < 90
    assert purpose in " ".join(text.split())
    examples = re.findall(rf"^\s+gradcli .*\bgradcli {command}\b.*$|^\s+gradcli {command}\b.*$", text, flags=re.M)
    assert 2 <= len(examples) <= 3, text
    assert "Examples:" in text
    if command != "examples":                     # the one command without a program
        assert "Program and inputs" in text       # a panel, not one flat list
    assert "Exit status" not in text              # said once, at the top level


@pytest.mark.parametrize("command", COMMANDS)
def test_each_help_example_runs(command, tmp_path):
    """The examples in the help are real commands: each runs and succeeds
    in an empty folder, as for someone who installed gradcli with pip and
    has no examples/ of their own (`gradcli examples` has them)."""
    group = typer.main.get_command(app)
    lines = [line.strip() for line in group.commands[command].help.splitlines()]
    examples = [line for line in lines if line.startswith("gradcli ") and
                (line.startswith(f"gradcli {command}") or f"gradcli {command} " in line)]
    assert examples
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    for example in examples:
        command_line = example.split("  #")[0]
        if "-o L.svg" in command_line and shutil.which("dot") is None:
            continue
        r = subprocess.run(["bash", "-c", command_line], cwd=tmp_path, capture_output=True, text=True,
                           env=env, timeout=120)
        assert r.returncode == 0, (command_line, r.stderr)
        claim = re.search(r"#\s*(\S+)$", example)
        if claim and re.fullmatch(r"-?[0-9.]+", claim.group(1)):
            assert r.stdout.strip() == claim.group(1)


def test_top_level_help_has_examples_and_exit_statuses():
    text = help_text()
    assert "Examples:" in text and 'gradcli grad "(a*b+c)*f" a=2 b=-3 c=10 f=-2' in text
    for code in ("0", "1", "2", "130"):
        assert re.search(rf"^\s*{code}\s+\S", text, flags=re.M), code
    assert "--install-completion" in text and "--show-completion" in text


def test_graph_precision_is_about_the_picture():
    assert "in tables" not in help_text("graph")
    assert "label" in help_text("graph")


# -------------------------------------------------------------- the man page

def test_committed_man_page_is_the_help():
    """man/gradcli.1 is what `python -m gradcli.manpage` writes today:
    regenerate it after changing a help text."""
    from gradcli import manpage

    assert (ROOT / "man" / "gradcli.1").read_text(encoding="utf-8") == manpage.render()


def test_man_page_has_every_command_option_and_exit_status():
    from gradcli import manpage

    page = manpage.render()
    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        if command.hidden:                       # `gradcli help`: in the SEE ALSO line
            continue
        assert f'.SS "gradcli {name} ' in page
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("-"):
                    assert manpage._escape(opt) in page, (name, opt)
    for code in ("0", "1", "2", "130"):
        assert f"\\fB{code}\\fR" in page


@pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed")
def test_man_renders_the_page():
    r = subprocess.run(["man", "-l", str(ROOT / "man" / "gradcli.1")], capture_output=True, text=True,
                       env={**os.environ, "MANPAGER": "cat", "MANWIDTH": "80", "MAN_KEEP_FORMATTING": ""})
    assert r.returncode == 0, r.stderr
    text = " ".join(re.sub(".\b", "", r.stdout).split())
    assert "gradcli - differentiate expressions" in text
    assert "EXIT STATUS" in text and "COMMANDS" in text
    assert 'gradcli grad "(a*b+c)*f" a=2 b=-3 c=10 f=-2 --wrt a' in text
    assert "warning:" not in r.stderr


# --------------------------------------------------------------- completion

def run_in(shell: str, script: str, **env: str) -> str:
    environ = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"], **env}
    r = subprocess.run([shell, "-c", script], capture_output=True, text=True, env=environ, timeout=60)
    assert r.returncode == 0, (script, r.stdout, r.stderr)
    return r.stdout


def test_bash_completion_completes_commands_and_options():
    out = run_in("bash", 'source <(gradcli --show-completion); '
                         'COMP_WORDS=(gradcli gr); COMP_CWORD=1; _gradcli_completion gradcli; '
                         'printf "%s\\n" "${COMPREPLY[@]}"')
    assert out.split() == ["grad", "graph"]
    out = run_in("bash", 'source <(gradcli --show-completion); '
                         'COMP_WORDS=(gradcli grad "a*b" --wr); COMP_CWORD=3; _gradcli_completion gradcli; '
                         'printf "%s\\n" "${COMPREPLY[@]}"')
    assert out.split() == ["--wrt"]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completion():
    script = run_in("zsh", "gradcli --show-completion; true")
    assert script.startswith("#compdef gradcli") and "_GRADCLI_COMPLETE=complete_zsh" in script
    # what the zsh function evaluates, run by zsh as the function runs it
    out = run_in("zsh", 'words=(gradcli gr); CURRENT=2; '
                        'env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _GRADCLI_COMPLETE=complete_zsh gradcli')
    assert '"grad":' in out and '"graph":' in out and '"eval"' not in out


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completion():
    out = run_in("fish", 'gradcli --show-completion | source; complete -C "gradcli gr"')
    assert [line.split("\t")[0] for line in out.splitlines()] == ["grad", "graph"]
    out = run_in("fish", 'gradcli --show-completion | source; complete -C "gradcli hessian --wr"')
    assert out.split("\t")[0] == "--wrt"


def test_install_completion_for_each_shell(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shells = [s for s in ("bash", "zsh", "fish") if shutil.which(s)]
    for shell in shells:
        out = run_in(shell, "gradcli --install-completion; true", HOME=str(home))
        assert f"{shell} completion installed in" in out
    out = run_in("bash", 'source ~/.bashrc; COMP_WORDS=(gradcli de); COMP_CWORD=1; '
                         '_gradcli_completion gradcli; printf "%s\\n" "${COMPREPLY[@]}"', HOME=str(home))
    assert out.split() == ["descend"]
    if "fish" in shells:   # fish finds the installed file by itself
        out = run_in("fish", 'complete -C "gradcli hes"', HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
        assert out.split("\t")[0] == "hessian"
    if "zsh" in shells:
        assert (home / ".zfunc" / "_gradcli").read_text().startswith("#compdef gradcli")
        assert "fpath+=~/.zfunc" in (home / ".zshrc").read_text()


def test_fast_front_door_leaves_completion_to_typer():
    """The console script's fast path (cli_fast) must not answer a
    completion request as if it were a plain eval/grad."""
    from gradcli import cli_fast

    env = {**os.environ, "_GRADCLI_COMPLETE": "complete_bash", "COMP_WORDS": "gradcli eval x --js",
           "COMP_CWORD": "3"}
    r = subprocess.run([GRADCLI, "eval", "x", "x=1"], capture_output=True, text=True, env=env)
    assert r.stdout.split() == ["--json"]
    os.environ["_GRADCLI_COMPLETE"] = "complete_bash"
    try:
        assert cli_fast.plan(["eval", "x", "x=1"]) is None
    finally:
        del os.environ["_GRADCLI_COMPLETE"]


# ---------------------------------------------------------------- packaging

# What a build or a run leaves in a working tree, never part of a source archive.
_NOT_SOURCE = {".git", ".venv", "venv", "build", "dist", "__pycache__", ".pytest_cache", ".hypothesis",
               ".mypy_cache", ".ruff_cache", "node_modules", "site"}


def _copy_repo(dest):
    """The project's files copied (so that building never touches the
    repository): the tree as a clone or a source archive has it, without
    what a build or a run leaves. No git: the tests run from an sdist too."""
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if d not in _NOT_SOURCE and not d.endswith(".egg-info")]
        for name in files:
            if name.endswith((".so", ".pyc", ".pyd")):
                continue
            source = os.path.join(folder, name)
            target = dest / os.path.relpath(source, ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def _this_environment_paths() -> list[str]:
    """The folders this test run imports its packages from (the test
    environment's site-packages, and any it names in .pth files): a new
    environment that lists them finds gradcli's dependencies and a
    setuptools new enough to build a wheel, offline, on a machine whose own
    Python has neither."""
    return [p for p in sys.path if p and os.path.isdir(p) and os.path.basename(p) in ("site-packages", "dist-packages")]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    pytest.importorskip("setuptools")
    out = tmp_path_factory.mktemp("wheel")
    src = _copy_repo(tmp_path_factory.mktemp("src"))
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                        "-q", "-w", str(out), str(src)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    (path,) = out.glob("gradcli-*.whl")
    return path


def test_wheel_holds_the_licence_and_the_man_page(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "gradcli-0.1.0.data/data/share/man/man1/gradcli.1" in names
    assert any(re.fullmatch(r"gradcli-0\.1\.0\.dist-info/(licenses/)?LICENSE", n) for n in names)
    meta = zipfile.ZipFile(wheel).read("gradcli-0.1.0.dist-info/METADATA").decode()
    assert "Classifier: License :: OSI Approved :: MIT License" in meta
    assert "Author: The gradcli authors" in meta
    # No invented addresses: the project has no public home or e-mail yet.
    assert "Author-email:" not in meta and "Project-URL:" not in meta and "@" not in meta.split("\n\n")[0]
    assert meta.count("Classifier:") >= 10


def test_sdist_holds_examples_docs_and_papers(tmp_path):
    pytest.importorskip("setuptools")
    src = _copy_repo(tmp_path / "src")
    r = subprocess.run([sys.executable, "-c", "from setuptools import build_meta as b; "
                        f"print(b.build_sdist({str(tmp_path / 'dist')!r}))"],
                       cwd=src, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    (sdist,) = (tmp_path / "dist").glob("gradcli-*.tar.gz")
    names = {n.split("/", 1)[1] for n in tarfile.open(sdist).getnames() if "/" in n}
    for example in os.listdir(ROOT / "examples"):
        assert f"examples/{example}" in names
    for name in ("LICENSE", "CHANGELOG.md", "CONTRIBUTING.md", "README.md", "man/gradcli.1",
                 "grammar/gradcli.lark"):
        assert name in names


def test_changelog_is_keep_a_changelog_from_0_1_0():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "keepachangelog.com" in text
    assert "## [Unreleased]" in text and re.search(r"^## \[0\.1\.0\] - \d{4}-\d\d-\d\d$", text, re.M)
    assert "### Added" in text
    for version in re.split(r"^## ", text, flags=re.M)[1:]:      # each kind of change once a version
        kinds = re.findall(r"^### (\w+)", version, re.M)
        assert len(kinds) == len(set(kinds)), (version.split("\n", 1)[0], kinds)


def test_contributing_says_where_changes_go():
    text = (ROOT / "CONTRIBUTING.md").read_text()
    assert "## Where changes go" in text
    for what, where in [("an operation", "ops.py"), ("a command", "cli.py"),
                        ("an output format of a command", "reports.py"),
                        ("a target language of code generation", "codegen.py")]:
        assert re.search(rf"^\| {re.escape(what)}.*{re.escape(where)}", text, re.M), what
    for name in re.findall(r"`src/gradcli/(\w+\.py)`", text):
        assert (ROOT / "src" / "gradcli" / name).exists() or name == "codegen.py", name
    for row in re.findall(r"^\|.*$", text, re.M):      # every module the map names is there
        for name in re.findall(r"`(\w+\.py)`", row):
            assert any((ROOT / d / name).exists() for d in ("src/gradcli", "tests", "bench")), name


def _venv_env(bin_dir) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "MANPATH", "PYTHONPATH")}
    env["PATH"] = f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin"
    return env


@pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed")
def test_fresh_venv_pip_install_gives_gradcli_man_and_completion(tmp_path, wheel):
    """`pip install .` in a new virtual environment, offline: the
    environment is made without pip or setuptools of its own and sees this
    test run's packages through a .pth file (the base Python of a fresh
    machine has neither `wheel` nor a setuptools that builds wheels)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site,) = (venv / "lib").glob("python3*/site-packages")
    (site / "test_environment.pth").write_text("\n".join(_this_environment_paths()) + "\n")
    src = _copy_repo(tmp_path / "src")
    r = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-build-isolation",
                        "--no-index", str(src)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    env = _venv_env(venv / "bin")
    r = subprocess.run(["gradcli", "grad", "-f", str(ROOT / "examples" / "micrograd_readme.grad")],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.stdout == "a\t138.83381924198252\nb\t645.5772594752186\n"
    # The examples ship in the package: the help's examples need no clone.
    r = subprocess.run(["bash", "-c", "gradcli examples micrograd_readme | gradcli grad -; gradcli examples --path"],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.stdout.split("\n")[:2] == ["a\t138.83381924198252", "b\t645.5772594752186"], r.stderr
    assert r.stdout.split("\n")[2].startswith(str(venv))
    r = subprocess.run(["man", "gradcli"], capture_output=True, text=True, cwd=tmp_path,
                       env={**env, "MANPAGER": "cat", "MANWIDTH": "80"})
    assert r.returncode == 0, r.stderr
    assert "gradcli - differentiate expressions" in " ".join(re.sub(".\b", "", r.stdout).split())
    r = subprocess.run(["bash", "-c", 'source <(gradcli --show-completion); COMP_WORDS=(gradcli hes); '
                        'COMP_CWORD=1; _gradcli_completion gradcli; printf "%s\\n" "${COMPREPLY[@]}"'],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.stdout.split() == ["hessian"]


def test_pipx_install(tmp_path):
    """`pipx install .`, offline: pipx from PyPI (a test dependency), its
    shared pip not upgraded, dependencies (and a setuptools that builds
    wheels) from this test run's environment."""
    pytest.importorskip("pipx")
    src = _copy_repo(tmp_path / "src")
    # pipx makes its environments with `PYTHON -m venv`: PYTHON is the base
    # interpreter behind a wrapper that gives each new environment a .pth
    # file naming this test run's package folders (pipx clears PYTHONPATH).
    paths = " ".join(f"'{p}'" for p in _this_environment_paths())
    python = tmp_path / "python3"
    python.write_text(f"""#!/bin/sh
"{getattr(sys, '_base_executable', sys.executable)}" "$@" || exit $?
if [ "$1" = -m ] && [ "$2" = venv ]; then
  for folder in "$@"; do :; done
  for site in "$folder"/lib/python3*/site-packages; do printf '%s\\n' {paths} > "$site/test_environment.pth"; done
fi
""")
    python.chmod(0o755)
    env = {**_venv_env(tmp_path / "bin"), "PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin"),
           "PIPX_MAN_DIR": str(tmp_path / "man"), "PIPX_DISABLE_SHARED_LIBS_AUTO_UPGRADE": "1",
           "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "pipx", "install", "--python", str(python),
                        "--pip-args=--no-build-isolation --no-index", str(src)],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, (r.stdout, r.stderr)
    r = subprocess.run([str(tmp_path / "bin" / "gradcli"), "eval", "-f",
                        str(ROOT / "examples" / "micrograd_readme.grad")], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and float(r.stdout) == pytest.approx(24.7041, abs=1e-4)
    assert (tmp_path / "man" / "man1" / "gradcli.1").exists()


def test_examples_lists_prints_and_suggests(tmp_path):
    """`gradcli examples`: every file of examples/ with its description, a
    program's text by name, the folder, and a suggestion for a typo."""
    run = lambda *a: subprocess.run([GRADCLI, "examples", *a], capture_output=True, text=True, cwd=tmp_path)
    listed = run().stdout.splitlines()
    assert sorted(line.split()[0] for line in listed) == sorted(os.listdir(ROOT / "examples"))
    assert "lecture_L.grad         The lecture's first graph: L = (a*b + c) * f." in listed
    assert run("neuron").stdout == (ROOT / "examples" / "neuron.grad").read_text()
    assert run("neuron_points.csv").stdout == (ROOT / "examples" / "neuron_points.csv").read_text()
    assert run("--path").stdout == f"{ROOT / 'examples'}\n"
    r = run("nuron")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == ("error: there is no example `nuron`\n  = note: did you mean `neuron`?\n"
                        "  = note: `gradcli examples` lists them\n")


# ------------------------------------------------- help that fits (issue 25)

def help_at(columns: int, *args: str, **env: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": str(columns), "NO_COLOR": "1", **env})
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _joined(lines: list) -> list:
    """Example lines with their ` \\` continuations joined back."""
    out, current = [], ""
    for line in lines:
        if line.endswith(" \\"):
            current += line[:-2].strip() + " "
        else:
            out.append(current + line.strip())
            current = ""
    return out


@pytest.mark.parametrize("columns", [40, 56, 80])
@pytest.mark.parametrize("command", COMMANDS)
def test_help_fits_and_never_breaks_an_example_mid_word(command, columns):
    text = help_at(columns, command)
    lines = text.splitlines()
    group = typer.main.get_command(app)
    start = lines.index("Examples:") + 1
    block = lines[start:lines.index("", start)]
    shown = [line for line in _joined(block) if not line.startswith("# ")]
    written = [line.strip().split("  #")[0].rstrip() if len(line.strip()) + 2 > columns else line.strip()
               for line in inspect.cleandoc(group.commands[command].help).split("Examples:")[1].splitlines()
               if line.strip()]
    assert shown == written                      # every example whole, word for word
    for line in lines:
        words = line.split()
        assert len(line) <= columns or len(words) <= 2, (columns, line)   # only a word too long to break


@pytest.mark.parametrize("columns", [40, 50, 80])
def test_option_names_are_never_cut(columns):
    text = help_at(columns, "grad")
    for name in ("--precision DIGITS", "--on-error fail|skip", "--scheduler ADDRESS", "-f, --file FILE",
                 "--table, --plain", "-j, --jobs N"):
        assert re.search(rf"^  {re.escape(name)}(  |$)", text, flags=re.M), (columns, name)
    assert "…" not in text


def test_help_at_40_columns_stacks_the_words_under_the_names():
    text = help_at(40, "explain")
    assert "  --paths N\n      Show at most N paths (with --wrt).\n      [default: 20]\n" in text


def test_a_long_example_breaks_between_words_with_a_backslash():
    text = help_at(44, "descend")
    assert ("  gradcli eval \"(a*b+c)*f\" $(gradcli \\\n"
            "      descend \"(a*b+c)*f\" a=2 b=-3 c=10 \\\n"
            "      f=-2 --maximize --steps 1)\n") in text


def test_a_broken_example_still_runs_as_bash_reads_it(tmp_path):
    """What the help shows at 44 columns, continuation lines and all, run by
    bash, gives what the one-line example gives."""
    text = help_at(44, "descend")
    start = text.index("  gradcli eval ")
    shown = text[start:text.index("\n\n", start)]
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    broken = subprocess.run(["bash", "-c", shown], capture_output=True, text=True, env=env, cwd=tmp_path)
    whole = subprocess.run(["bash", "-c", " ".join(_joined(shown.splitlines()))], capture_output=True,
                           text=True, env=env, cwd=tmp_path)
    assert broken.returncode == 0 and broken.stdout == whole.stdout and broken.stdout.strip() != ""


def test_help_topic_language_lists_every_function_and_operator():
    from gradcli.ops import FUNCTIONS

    r = CliRunner().invoke(app, ["help", "language"], env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert r.exit_code == 0
    for name, op in FUNCTIONS.items():
        assert re.search(rf"^  {name}\((x|x, y)\)  ", r.stdout, flags=re.M), name
    words = " ".join(r.stdout.split())
    for piece in ("a ** b a ^ b", "`x^1/2` is `(x^1)/2`", "NAME += expr", "`#` starts a", "Statements:",
                  "Operators, loosest first:", "`-a**2` is `-(a**2)`"):
        assert piece in words, piece
    assert all(len(line) <= 80 for line in r.stdout.splitlines())


def test_help_topics_and_commands():
    runner = CliRunner()
    env = {"COLUMNS": "80", "NO_COLOR": "1"}
    assert runner.invoke(app, ["help", "grad"], env=env).stdout == runner.invoke(app, ["grad", "--help"], env=env).stdout
    assert runner.invoke(app, ["help"], env=env).stdout == runner.invoke(app, ["--help"], env=env).stdout
    assert "  help [TOPIC]  Help on a command, or on the language" in runner.invoke(app, ["--help"], env=env).stdout
    r = runner.invoke(app, ["help", "langauge"], env=env)
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr.startswith("error: no help on `langauge`\n  = note: did you mean `language`?\n"
                               "  = note: the topics are `eval`, `grad`")


def test_man_page_lists_the_language():
    from gradcli import manpage
    from gradcli.ops import FUNCTIONS

    page = manpage.render()
    section = page[page.index(".SH LANGUAGE"):page.index(".SH EXIT STATUS")]
    for name in FUNCTIONS:
        assert f"\\fB{name}(x" in section, name
    assert "a ** b   a ^ b" in section and "x^1/2" in section


def test_force_color_colours_help_in_a_pipe_and_no_color_wins():
    assert "\x1b[1;36m--json\x1b[0m" in help_at(80, "grad", NO_COLOR="", FORCE_COLOR="1")
    assert "\x1b[" not in help_at(80, "grad", NO_COLOR="1", FORCE_COLOR="1")


pexpect = pytest.importorskip("pexpect")


def _pty_help(rows: int, columns: int, tmp_path, *args: str) -> tuple:
    """`gradcli ARGS --help` in a real pty of rows x columns, with a pager
    that writes what it is given to a file: (what the pty showed, what the
    pager got, or None)."""
    paged = tmp_path / "paged.txt"
    env = {**os.environ, "GRADCLI_PAGER": f"cat > {paged}", "NO_COLOR": "1", "TERM": "xterm"}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    child = pexpect.spawn(GRADCLI, [*args, "--help"], env=env, dimensions=(rows, columns), encoding="utf-8",
                          timeout=30)
    shown = child.read()
    child.close()
    assert child.exitstatus == 0
    return shown.replace("\r\n", "\n"), paged.read_text() if paged.exists() else None


def test_help_taller_than_the_terminal_goes_through_the_pager(tmp_path):
    shown, paged = _pty_help(24, 80, tmp_path, "grad")
    assert shown == "" and paged is not None
    assert paged.startswith("Usage: gradcli grad [OPTIONS] [PROGRAM] [NAME=VALUE]...\n")
    assert paged == help_at(80, "grad")


def test_help_that_fits_is_printed_as_it_is(tmp_path):
    shown, paged = _pty_help(200, 80, tmp_path, "grad")
    assert paged is None and shown == help_at(80, "grad")


def test_help_at_40_columns_in_a_pty(tmp_path):
    shown, paged = _pty_help(200, 40, tmp_path, "grad")
    assert shown.startswith("Usage: gradcli grad [OPTIONS] [PROGRAM]\n"
                            "       [NAME=VALUE]...\n\n"
                            "Evaluate a program, backpropagate, and\n"
                            "print every gradient.\n")
    assert ("Examples:\n"
            "  gradcli grad \"(a*b+c)*f\" a=2 b=-3 \\\n"
            "      c=10 f=-2\n"
            "  # 6.0\n"
            "  gradcli grad \"(a*b+c)*f\" a=2 b=-3 \\\n"
            "      c=10 f=-2 --wrt a\n") in shown
    assert max(len(line) for line in shown.splitlines()) <= 40


def test_committed_cli_reference_is_the_help():
    """docs/reference/cli.md is what `python -m gradcli.manpage --markdown` writes
    today: regenerate it after changing a help text."""
    from gradcli import manpage

    assert (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8") == manpage.markdown(), \
        "regenerate it: python -m gradcli.manpage --markdown > docs/reference/cli.md"


def test_cli_reference_has_every_command_and_option():
    page = (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        if command.hidden:
            continue
        assert f"\n## gradcli {name}\n" in page
        section = page[page.index(f"\n## gradcli {name}\n"):]
        section = section[:section.index("\n## ", 1)]
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("-"):
                    assert re.search(rf"\| `[^`]*{re.escape(opt)}\b", section), (name, opt)
    assert "## The language" in page and "## Exit status" in page
