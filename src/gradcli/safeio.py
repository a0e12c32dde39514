"""Files and text a user names, handled safely: the one place for both.

- ``atomic_open(path)`` / ``atomic_write(path, data)``: a file named by
  ``-o`` or ``--log`` is written whole or not at all. The data goes to a
  temporary file beside the target (same directory, so the rename cannot
  cross file systems), is flushed and fsync'd, and only then renamed over
  the target with ``os.replace``. A failure or Ctrl-C part way removes the
  temporary file and leaves what was there before.
- ``printable(text)``: user text echoed in a message (a source line, a name,
  a file name, a binding) with control characters escaped, so that no
  terminal escape reaches the terminal and no newline forges a line.

Errors follow the contract: a path that cannot be opened for writing (no such
folder, no permission, a directory) is an ``OutputPathError`` (exit 2); a
write that fails part way (a full disk, a file-size limit) is a
``WriteFailed`` (exit 1). Importing this module imports nothing heavy.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import IO, Iterator

from .errors import GradcliError, InputError, printable  # noqa: F401 - printable is used from here too


class OutputPathError(InputError):
    """A path named by ``-o``/``--log`` cannot be opened for writing: exit 2."""


class WriteFailed(GradcliError):
    """An output failed while it was written (a full disk, a closed stream): exit 1."""

    exit_code = 1


def _why(e: OSError) -> str:
    return e.strerror or str(e)


@contextmanager
def atomic_open(path: str, mode: str = "w", what: str = "", **kwargs) -> Iterator[IO]:
    """Open ``path`` for writing, all or nothing: yields a file object on a
    temporary file beside ``path``; on a clean exit it is flushed, fsync'd
    and renamed over ``path``; on any exception it is removed and ``path``
    is left as it was. A target that exists and is not a regular file (a
    device, a pipe) is written in place, as a stream. ``mode`` is ``"w"`` or ``"wb"``; ``what`` names the
    file in messages (``"the log"``)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes only, not {mode!r}")
    label = f"{what} `{printable(path)}`" if what else f"`{printable(path)}`"
    if os.path.isdir(path):
        raise OutputPathError(f"cannot write {label}: it is a directory")
    if os.path.exists(path) and not os.path.isfile(path):
        # A device, a pipe or /dev/stdout: a stream to write to, never a file
        # to replace (renaming over /dev/full as root would replace the device).
        with _stream_open(path, mode, label, **kwargs) as f:
            yield f
        return
    import tempfile  # not at the top: every run imports this module for printable (tempfile costs ~5 ms)

    directory = os.path.dirname(os.path.abspath(os.path.realpath(path)))
    target = os.path.realpath(path)   # a symlink's target is replaced, the link kept
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    except OSError as e:
        raise OutputPathError(f"cannot write {label}: {_why(e)}") from None
    try:
        try:
            # Keep the mode a newly created file would have had (mkstemp makes 0600).
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        except OSError:  # pragma: no cover - the file is ours
            pass
        if "b" in mode:
            f = os.fdopen(fd, mode)
        else:
            kwargs.setdefault("encoding", "utf-8")
            f = os.fdopen(fd, mode, **kwargs)
        try:
            yield f
            f.flush()
            os.fsync(f.fileno())
        finally:
            try:
                f.close()
            except OSError:
                pass
        os.replace(tmp, target)
    except OSError as e:
        _remove(tmp)
        raise WriteFailed(f"could not write {label}: {_why(e)}") from None
    except BaseException:
        _remove(tmp)
        raise


@contextmanager
def _stream_open(path: str, mode: str, label: str, **kwargs) -> Iterator[IO]:
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
    try:
        f = open(path, mode, **kwargs)
    except OSError as e:
        raise OutputPathError(f"cannot write {label}: {_why(e)}") from None
    try:
        with f:
            yield f
            f.flush()
    except OSError as e:
        raise WriteFailed(f"could not write {label}: {_why(e)}") from None


def atomic_write(path: str, data: bytes | str, what: str = "") -> None:
    """Write ``data`` (bytes, or text as UTF-8) to ``path``, all or nothing."""
    with atomic_open(path, "wb", what) as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


__all__ = ("OutputPathError", "WriteFailed", "printable", "atomic_open", "atomic_write")
