"""The command line's plumbing, without typer: reading the program and the
bindings, the one place where errors become messages and exit statuses,
and writing the output.

cli.py (the typer app) and cli_fast.py (the console script's fast path for
plain eval and grad) both use these, so both behave the same. Importing this
module imports nothing heavy.
"""

from __future__ import annotations

import os
import re
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator, List, Optional

from .errors import GradcliError, InputError
from .safeio import WriteFailed, printable

EXIT_INTERNAL = 70  # a bug in gradcli (EX_SOFTWARE); never a traceback

_LONG_OPTION = re.compile(r"--[A-Za-z][-A-Za-z0-9]*")


class MissingValue(InputError):
    """An option that takes a value is the last word of the command line."""

    def __init__(self, option: str):
        super().__init__(f"{option} needs a value after it")
        self.option = option


def split_args(args: List[str], flags: set, valued: set) -> tuple:
    """gradcli's argument rules, for both front doors: options may come
    before or after the arguments, ``--`` ends them, and an argument that
    starts with ``-`` but is not an option (``-a**2``) is a positional (the
    program, or a binding). ``flags`` and ``valued`` are the command's option
    names. Returns ``(options, positionals)``, each option as the list of its
    raw arguments (``["--wrt", "a"]``, ``["--wrt=a"]``, ``["-fFILE"]``); an
    unknown long option is kept as an option, for click to reject. An
    option that needs a value but is the last word raises ``MissingValue``
    (without it, the ``--`` that _ProgramFirst puts before the positionals
    became the value: a log file named ``--``)."""
    options: List[List[str]] = []
    positionals: List[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            positionals += args[i + 1:]
            break
        name = arg.split("=", 1)[0]
        if not arg.startswith("-") or arg == "-":
            positionals.append(arg)
        elif name in flags:
            options.append([arg])
        elif name in valued:
            if "=" not in arg and i + 1 == len(args):
                raise MissingValue(arg)
            if "=" in arg:
                options.append([arg])
            else:
                options.append([arg, args[i + 1]])
                i += 1
        elif arg[:2] in valued and not arg.startswith("--"):
            options.append([arg])              # -fFILE
        elif _LONG_OPTION.fullmatch(name):
            options.append([arg])              # unknown: click says so
        else:
            positionals.append(arg)            # a program such as -a**2
        i += 1
    return options, positionals


# Option names that read as something they are not, renamed (issue 25); the
# old spelling still works, with a note on standard error. ``--output NAME``
# picked a node while ``-o``/``--out FILE`` names a file: ``--of NAME`` reads
# as the sentence it is (``grad --of h1 --wrt a``). Commands add their own
# (``codegen --table`` -> ``--sql-table``, ``check --h`` -> ``--step``).
RENAMED = {"--output": "--of"}


def rename_options(options: List[List[str]], renames: dict, quiet: bool = False) -> List[List[str]]:
    """``options`` (as split_args gives them) with old spellings replaced by
    the new ones, and a note on standard error for each old one used
    (none when ``quiet``)."""
    out = []
    told = set()
    for option in options:
        name, eq, value = option[0].partition("=")
        new = renames.get(name)
        if new is not None:
            option = [new + eq + value, *option[1:]]
            if name not in told and not quiet:
                told.add(name)
                shown = value if eq else (option[1] if len(option) > 1 else "")
                note(f"{name} is now called {new}; {name} still works for a while: "
                     f"write `{new} {printable(shown)}`".rstrip())
        out.append(option)
    return out


def note(text: str) -> None:
    """A note on standard error (the command goes on)."""
    from .terminal import paint_error

    try:
        sys.stderr.write(paint_error(f"note: {text}") + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


_A_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def check_trap(command: Optional[str], args: List[str]) -> None:
    """``check -h 1e-4`` meant the step, not help: say so (exit 2) rather
    than print help and exit 0."""
    if command != "check":
        return
    for k, arg in enumerate(args[:-1]):
        if arg == "--":
            return
        if arg == "-h" and _A_NUMBER.fullmatch(args[k + 1]):
            raise_usage(f"`-h {printable(args[k + 1])}`: -h asks for help and takes no value",
                        [f"for the finite-difference step, write `--step {printable(args[k + 1])}`"])


def raise_usage(text: str, notes: List[str]) -> None:
    """A usage error in gradcli's style, exit 2."""
    _fail("\n".join([f"error: {text}", *(f"  = note: {n}" for n in notes)]), 2)


class Source:
    """The program's text and where it came from (for error messages)."""

    def __init__(self, text: str = "", filename: str | None = None):
        self.text = text
        self.filename = filename


@contextmanager
def errors_to_exit(source: Source) -> Iterator[None]:
    """The one place where errors become messages and exit statuses."""
    try:
        yield
    except GradcliError as e:
        if source.text and e.exit_code == 2:
            from .hints import amend

            amend(e, source.text, from_argument=source.filename is None)
        _fail(e.render(source.text, source.filename, _stderr_columns()), e.exit_code)
    except RecursionError:  # pragma: no cover - the code has no recursion to hit
        _fail("error: the program is too deeply nested", 2)
    except MemoryError:  # pragma: no cover
        _fail("error: out of memory", 1)
    except KeyboardInterrupt:  # pragma: no cover
        _fail("", 130)
    except BrokenPipeError:  # the reader left (`| head`): that is fine
        _reader_left()
    except Exception as e:  # a bug: say so plainly, never a traceback
        if _is_click_exit(e):   # typer.Exit / typer.Abort raised on purpose inside
            raise
        _internal(e)


def _stderr_columns() -> Optional[int]:
    """The terminal's width when standard error is one (an echoed source
    line is clipped to it), else None."""
    try:
        if not sys.stderr.isatty():
            return None
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return None


_SIGINT_SEEN = False  # set by the console script's Ctrl-C handler


def _on_sigint(signum, frame):
    """The console script's Ctrl-C: remembered, then Python's own
    KeyboardInterrupt. C code that swallows the KeyboardInterrupt and
    raises something else in its place (NumPy's import of ``datetime``
    through ``PyCapsule_Import``: "could not import module", no chain
    back to the interrupt) still ends in status 130, not an internal error."""
    global _SIGINT_SEEN
    _SIGINT_SEEN = True
    raise KeyboardInterrupt


def _unraisable(info) -> None:
    """The console script's hook for exceptions Python cannot raise (in a
    finalizer, a weakref callback): a Ctrl-C that lands in one is swallowed
    there, and is not worth a traceback ("Exception ignored in ..."); the
    command then ends as it would have (after a Ctrl-C, a failure is status
    130, quietly). Anything else is Python's to print."""
    if _SIGINT_SEEN and issubclass(info.exc_type, KeyboardInterrupt):
        return
    sys.__unraisablehook__(info)


def _interrupted(e: BaseException | None) -> bool:
    """Whether a Ctrl-C stands behind ``e``: one was received by the console
    script, or a KeyboardInterrupt is in its chain (a Ctrl-C during an
    import comes out of NumPy as an ImportError raised while handling it)."""
    if _SIGINT_SEEN:
        return True
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


def _internal(e: Exception) -> None:
    if _interrupted(e):          # Ctrl-C, surfacing as another exception: status 130, no message
        _fail("", 130)
    _fail(f"internal error: {type(e).__name__}: {printable(str(e))}\n"
          "this is a bug in gradcli; please report it with the command that caused it",
          EXIT_INTERNAL)


def _is_click_exit(e: Exception) -> bool:
    kind = type(e)
    return kind.__name__ in ("Exit", "Abort") and kind.__module__.split(".")[0] in ("click", "typer")


def _fail(message: str, code: int) -> None:
    """The message on standard error, then exit with ``code`` (SystemExit,
    which typer/click let through unchanged, as CliRunner records it). A
    standard error that cannot take the message does not change the status.
    After a Ctrl-C, every failure is the interrupt's: status 130, quietly
    (a library may have turned the KeyboardInterrupt into its own error)."""
    if _SIGINT_SEEN and code != 130:
        message, code = "", 130
    if message:
        from .terminal import paint_error

        try:
            sys.stderr.write(paint_error(message) + "\n")
            sys.stderr.flush()
        except (OSError, ValueError, AttributeError):
            pass
    raise SystemExit(code)


PROGRAM_LIMIT = 256 << 20   # bytes of program text (the contract's 256 MiB)


def read_program(program: Optional[str], file: Optional[str], bindings: List[str],
                 source: Source) -> List[str]:
    """Fill ``source`` from PROGRAM, ``-`` (standard input) or ``--file``;
    return the NAME=VALUE arguments."""
    if file is not None:
        if program is not None:
            bindings = [program, *bindings]
        source.filename = file
        data = _read_bytes(file)
    elif program is None:
        raise InputError("no program: give it as an argument, `-` for standard input, or -f FILE")
    elif program == "-":
        source.filename = "<stdin>"
        data = _read_bytes("-")
    else:
        try:
            program.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError("the program is not valid UTF-8") from None
        source.text = program
        return bindings
    where = "standard input" if file is None else f"`{printable(file)}`"
    try:
        source.text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{where} is not valid UTF-8 (byte {e.start} is {data[e.start]:#04x})") from None
    return bindings


def _read_bytes(path: str) -> bytes:
    """The program's bytes, at most PROGRAM_LIMIT of them: a longer text (or
    an endless one, ``-f /dev/zero``) stops the command without reading on."""
    where = "standard input" if path == "-" else f"`{printable(path)}`"
    try:
        if path == "-":
            from .terminal import waiting_for_stdin

            source = stdin()
            waiting_for_stdin()
            data = source.buffer.read(PROGRAM_LIMIT + 1)
        else:
            with open_input(path, "rb") as f:
                data = f.read(PROGRAM_LIMIT + 1)
    except OSError as e:
        raise InputError(f"cannot read {where}: {e.strerror or e}") from None
    if len(data) > PROGRAM_LIMIT:
        raise InputError(f"{where} is longer than {PROGRAM_LIMIT >> 20} MiB, the most a program can be; "
                         "stopped reading there")
    return data


def stdin():
    """Standard input; a closed one (``<&-``) is an unreadable file."""
    if sys.stdin is None:
        raise InputError("cannot read standard input: it is closed")
    return sys.stdin


def open_input(path: str, mode: str = "r", **kwargs):
    """A file the user named, opened; one that cannot be is an InputError."""
    try:
        return open(path, mode, **kwargs)
    except OSError as e:
        raise InputError(f"cannot read `{printable(path)}`: {e.strerror or e}") from None


def parse_bindings(bindings: List[str]) -> dict:
    from .build import parse_binding

    inputs = {}
    for text in bindings:
        try:
            name, value = parse_binding(text)
        except InputError:
            from .hints import check_bindings

            check_bindings(bindings)   # `a = 2` as three words: say to write a=2
            raise
        inputs[name] = value  # the last binding wins
    return inputs


def split_names(values: Optional[List[str]], option: str = "--wrt") -> Optional[List[str]]:
    """``--wrt a --wrt b`` and ``--wrt a,b``, in order, once each (also
    another option's names: ``option`` is the one errors name)."""
    if not values:
        return None
    names: list[str] = []
    for value in values:
        given = [name.strip() for name in value.split(",") if name.strip()]
        if not given:
            raise InputError(f"{option} `{printable(value)}` names nothing: give a name, such as {option} a, or a,b")
        for name in given:
            if name not in names:
                names.append(name)
    return names


def load(program, file, bindings, output, source):
    """Read, parse, build and run forward: the steps every command shares."""
    from .build import build
    from .parse import parse

    inputs = parse_bindings(read_program(program, file, bindings, source))
    with long_work(len(source.text)) as stage:
        tree = parse(source.text)
        stage("building and running")
        warn_likely_mistakes(source)
        return build(tree, inputs, output)


# A word on standard error (a terminal) when reading and building a program
# takes longer than this many seconds (GRADCLI_PROGRESS_AFTER sets it; the
# tests set 0): a 10^6-node program takes about 10 s, silent before.
PROGRESS_AFTER = 1.0


@contextmanager
def long_work(size: int) -> Iterator[Callable[[str], None]]:
    """Yields ``stage(words)``. When standard error is a terminal and the
    work is not done within PROGRESS_AFTER seconds, a status line says what
    is being done and for how long (``gradcli: parsing 12.3 MB... 2 s``),
    rewritten every half second, and erased once the work is done: what
    follows on the terminal is as it always was."""
    import threading
    import time

    try:
        on_terminal = sys.stderr.isatty()
    except (AttributeError, ValueError):
        on_terminal = False
    state = {"what": "parsing"}
    if not on_terminal:
        yield lambda what: state.update(what=what)
        return
    try:
        after = float(os.environ.get("GRADCLI_PROGRESS_AFTER", PROGRESS_AFTER))
    except ValueError:
        after = PROGRESS_AFTER
    done = threading.Event()
    shown = threading.Event()
    begun = time.monotonic()
    amount = f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size:,} characters"

    def tell() -> None:
        if done.wait(after):
            return
        while not done.is_set():
            try:
                sys.stderr.write(f"\r\x1b[Kgradcli: {state['what']} the program ({amount})... "
                                 f"{time.monotonic() - begun:.0f} s")
                sys.stderr.flush()
                shown.set()
            except (OSError, ValueError):
                return
            done.wait(0.5)

    teller = threading.Thread(target=tell, daemon=True)
    teller.start()
    try:
        yield lambda what: state.update(what=what)
    finally:
        done.set()
        teller.join()
        if shown.is_set():
            try:
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()
            except (OSError, ValueError):
                pass


def warn_likely_mistakes(source: Source) -> None:
    """A program that parses, but likely not as meant (``x^1/2``): a
    warning on standard error; the command goes on."""
    text = source.text
    if source.filename is None and "=" in text and len(text) < 80:
        from .hints import forgotten_program, forgotten_program_warning
        from .terminal import paint_error

        if forgotten_program(text.strip()):
            sys.stderr.write(paint_error(forgotten_program_warning(text.strip()).render()) + "\n")
    if "1" in text and ("^" in text or "**" in text):
        from .hints import warnings
        from .terminal import paint_error

        for w in warnings(text):
            sys.stderr.write(paint_error(w.render(text, source.filename)) + "\n")


def wants_table(table: Optional[bool]) -> bool:
    return sys.stdout.isatty() if table is None else table


# The prompt (repl.py): cli.py's `repl` command calls this hook, which the
# console script's front door (cli_fast.py) sets, so that the command line
# does not import the prompt, which imports the command line. Called as
# PROMPT(program_text_or_None, bindings) and returns the exit status.
PROMPT: Optional[Callable[..., int]] = None

# The console the commands print tables to: None means a new one on standard
# output; the notebook's `%%gradcli` sets a recording console (notebook.py).
CONSOLE: ContextVar = ContextVar("gradcli_console", default=None)
# Where a command keeps what it computed (cli._keep): None on the command
# line; a dict while the notebook's `%%gradcli` runs a command.
RESULTS: ContextVar = ContextVar("gradcli_results", default=None)


def console():
    """rich's Console for standard output (or the notebook's recording
    console, ``CONSOLE``). A reader that leaves early (``grad --table |
    head -1``) ends the command with status 0, as everywhere else (rich's
    own handler exits 1)."""
    override = CONSOLE.get()
    if override is not None:
        return override
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            _reader_left()

    return _Console(highlight=False)


def emit(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def gradients(graph, wrt: Optional[List[str]]) -> dict:
    """``grad``'s gradients: every leaf, or the ``--wrt`` names (checked)."""
    from .build import resolve

    names = split_names(wrt)
    return graph.gradients(None if names is None else resolve(graph, names))


def plain_eval(graph, as_json: bool) -> str:
    """``eval``'s output for scripts: JSON, or the value alone."""
    from . import render

    return render.as_json(graph.value) + "\n" if as_json else render.full(graph.value) + "\n"


def plain_grad(graph, grads: dict, wrt: Optional[List[str]], as_json: bool) -> str:
    """``grad``'s output for scripts: JSON, one gradient alone for exactly
    one ``--wrt`` name, or ``NAME<TAB>GRADIENT`` lines."""
    from . import render

    if as_json:
        return render.as_json(graph.value, grads) + "\n"
    names = split_names(wrt)
    if names is not None and len(names) == 1:
        return render.full(grads[names[0]]) + "\n"
    return render.plain_grads(grads)


_SCRIPT = False      # set by as_script: this process is the console script


def finished() -> None:
    """The command has done its work (its output file is in place): in the
    console script, a Ctrl-C from now on is ignored, so that it cannot turn
    a success into status 130 (or a death by SIGINT while Python shuts down
    its worker pools) with the new file already there. A library or
    notebook caller keeps its own Ctrl-C."""
    if _SCRIPT:
        import signal

        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        except ValueError:  # pragma: no cover - not the main thread
            pass


def as_script(run: Callable[[], object], prompt: bool = False) -> None:
    """Run the console script's work: a reader that leaves early
    (`gradcli ... | head`) is fine, Ctrl-C exits 130, and an output that
    fails outside a command (``--help`` or ``--version`` on a full standard
    output) exits 1 with one line; never a traceback."""
    global _SCRIPT
    _SCRIPT = True
    import signal

    try:
        if not prompt and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _on_sigint)
            sys.unraisablehook = _unraisable
    except ValueError:  # pragma: no cover - not the main thread
        pass
    try:
        run()
        finished()
    except BrokenPipeError:
        _reader_left()
    except SystemExit as e:
        if not e.code:
            finished()
        # rich's own consoles (typer's help) meet a reader that has left
        # with exit 1, the BrokenPipeError behind it: that reader is fine.
        if e.code == 1 and isinstance(e.__context__, BrokenPipeError):
            _reader_left()
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except GradcliError as e:
        _fail(e.render(), e.exit_code)
    except Exception as e:  # a bug outside any command (in argument parsing): never a traceback
        _internal(e)


# ------------------------------------------------- the console script's streams

class _Closed:
    """Stands for a standard stream that was closed when gradcli started
    (``>&-``): writing to it fails as writing to a closed descriptor does."""

    encoding = "utf-8"
    errors = "strict"
    closed = False

    def write(self, text):
        if text:
            raise OSError(9, "it is closed")
        return 0

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError(9, "it is closed")

    @property
    def buffer(self) -> "_Closed":
        """Bytes fail the same way (``--at`` writes its results as bytes)."""
        return self


class _Output:
    """Standard output for the console script: a write or flush that fails
    (a full disk, ``/dev/full``, a closed descriptor) raises ``WriteFailed``
    (exit 1, saying why) wherever it happens, in gradcli, rich or click; a
    reader that has left still raises ``BrokenPipeError`` (exit 0). After a
    failure, what Python still holds is sent to /dev/null, so that its
    final flush cannot fail again."""

    def __init__(self, stream):
        self._stream = stream

    def _failed(self, e: OSError) -> WriteFailed:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.close(devnull)
        except OSError:  # pragma: no cover
            pass
        return WriteFailed(f"could not write standard output: {e.strerror or e}")

    def write(self, text):
        if isinstance(text, str) and not text:
            return 0        # click probes with "": /dev/full fails even that
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as e:
            raise self._failed(e) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as e:
            raise self._failed(e) from None

    @property
    def buffer(self) -> "_Output":
        """The binary stream under it, guarded the same way."""
        return _Output(self._stream.buffer)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def guard_streams() -> None:
    """Make the console script safe from its standard streams: a closed
    descriptor 0, 1 or 2 is held open on /dev/null (so that no file gradcli
    opens lands on it, and no child inherits a surprise), a closed standard
    output fails on its first write, and writes to standard output fail as
    ``WriteFailed`` rather than a raw ``OSError``."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                held = os.open(os.devnull, os.O_RDWR)
                if held != fd:
                    os.dup2(held, fd)
                    os.close(held)
            except OSError:  # pragma: no cover
                pass
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")
    if not isinstance(sys.stdout, _Output):
        sys.stdout = _Output(sys.stdout if sys.stdout is not None else _Closed())


def _reader_left() -> None:
    """Standard output's reader has gone: exit 0, quietly (the output left
    unwritten goes to /dev/null, so that Python's final flush cannot fail)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(0)
