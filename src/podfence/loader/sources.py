"""Paths given on the command line to named texts, the way ``kubectl -f`` reads them.

* A file is read whatever its extension.
* A directory is walked recursively in lexical order; only ``.yaml``, ``.yml``
  and ``.json`` files in it are read. Symbolic links to directories are not
  followed (they could loop); a symbolic link to a file outside the directory
  named on the command line is an ``L1`` error, not read: a pull request must not
  make podfence (in CI, as whatever user runs it) read and echo ``/etc/shadow``.
  Name such a file itself to read it.
* ``-`` is standard input, read once and named ``-``.
* A path that is not a regular file or directory is read only if it is a FIFO;
  character and block devices and sockets may never end, so they are refused.

Everything read counts against the run's
:class:`~podfence.loader.limits.Budget`: reading is done in chunks and stops as
soon as ``max_input_bytes`` is passed, which is an ``L13`` error. Other problems
become ``L1`` (cannot read) and ``L2`` (not UTF-8) diagnostics.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO, TextIO

from podfence.loader import codes
from podfence.loader.limits import MiB, Budget, too_many_bytes
from podfence.model import Diagnostic, Severity

MANIFEST_EXTENSIONS = (".yaml", ".yml", ".json")
STDIN_NAME = "-"
CHUNK = MiB
_ENDLESS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


@dataclass(frozen=True, slots=True)
class SourceText:
    """The text of one file (or of standard input) and the name to show for it."""

    name: str
    text: str


def read_sources(paths: Sequence[str], stdin: TextIO | None,
                 budget: Budget | None = None) -> Iterator[SourceText | Diagnostic | str]:
    """Texts in the order given; a ``str`` is a note (a directory with no manifests).

    ``budget`` is what the run may still read (a fresh one when not given).
    """
    budget = Budget() if budget is None else budget
    stdin_read = False
    for path in paths:
        if path == STDIN_NAME:
            if not stdin_read:
                stdin_read = True
                yield read_stdin(stdin, budget)
        elif os.path.isdir(path):
            found = False
            for item in _walk(path, budget, os.path.realpath(path)):
                found = found or isinstance(item, SourceText)
                yield item
            if not found:
                yield f"no .yaml, .yml or .json files in {path}"
        else:
            yield read_file(path, budget)


def _walk(directory: str, budget: Budget, root: str) -> Iterator[SourceText | Diagnostic]:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        yield _unreadable(directory, exc)
        return
    for entry in entries:
        path = os.path.join(directory, entry.name)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_manifest = not is_dir and entry.name.endswith(MANIFEST_EXTENSIONS) and entry.is_file()
        except OSError as exc:
            yield _unreadable(path, exc)
            continue
        if is_dir:
            yield from _walk(path, budget, root)
        elif is_manifest:
            if entry.is_symlink() and not _inside(os.path.realpath(path), root):
                yield _problem(codes.UNREADABLE, path, None,
                               "not read: a symbolic link to a file outside the directory given; podfence reads "
                               "only files inside the directories it walks (name the file itself to read it)")
            else:
                yield read_file(path, budget)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def read_file(path: str, budget: Budget | None = None) -> SourceText | Diagnostic:
    """One file (or FIFO) as text, within ``budget``; devices and sockets are refused unread."""
    budget = Budget() if budget is None else budget
    data = read_bytes(path, budget)
    return data if isinstance(data, Diagnostic) else _decode(path, data)


def read_bytes(path: str, budget: Budget) -> bytes | Diagnostic:
    """The bytes of one file (or FIFO), read in chunks and never past what ``budget`` has left."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return _problem(codes.UNREADABLE, path, None, "cannot read: no such file or directory")
    except (OSError, ValueError) as exc:
        return _unreadable(path, exc)
    for test, what in _ENDLESS:
        if test(info.st_mode):
            return _problem(codes.UNREADABLE, path, None,
                            f"cannot read: {what}, not a file (podfence reads files, directories, FIFOs and "
                            "- for standard input)")
    if stat.S_ISREG(info.st_mode) and info.st_size > budget.bytes_left:
        budget.input_bytes += info.st_size
        return too_many_bytes(path, budget)
    try:
        with open(path, "rb") as handle:
            return read_bounded(handle, path, budget, info.st_size if stat.S_ISREG(info.st_mode) else CHUNK)
    except OSError as exc:
        return _unreadable(path, exc)


def read_bounded(handle: BinaryIO, name: str, budget: Budget, first: int = CHUNK) -> bytes | Diagnostic:
    """Everything ``handle`` gives until its end, or ``L13`` as soon as ``budget`` runs out.

    ``first`` is the size of the first read (a regular file's size: one read and
    the check for its end); later reads take a chunk at a time.
    """
    left = budget.bytes_left
    chunks: list[bytes] = []
    size = 0
    want = first + 1
    while True:
        chunk = handle.read(min(want, left - size + 1))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > left:
            budget.input_bytes += size
            return too_many_bytes(name, budget)
        want = CHUNK
    budget.input_bytes += size
    return b"".join(chunks)


def read_stdin(stdin: TextIO | None, budget: Budget | None = None) -> SourceText | Diagnostic:
    """Standard input as text, within ``budget`` (a terminal or pipe, read until it ends)."""
    budget = Budget() if budget is None else budget
    if stdin is None:
        return _problem(codes.UNREADABLE, STDIN_NAME, None, "cannot read standard input: there is none")
    try:
        buffer = getattr(stdin, "buffer", None)
        if buffer is not None:
            data = read_bounded(buffer, STDIN_NAME, budget)
            return data if isinstance(data, Diagnostic) else _decode(STDIN_NAME, data)
        text = _read_text_bounded(stdin, budget)
    except UnicodeDecodeError as exc:
        return _problem(codes.NOT_UTF8, STDIN_NAME, None, f"not UTF-8 text ({exc.reason})")
    except (OSError, ValueError) as exc:
        return _unreadable(STDIN_NAME, exc)
    return text if isinstance(text, Diagnostic) else SourceText(STDIN_NAME, text.removeprefix("\ufeff"))


def _read_text_bounded(stream: TextIO, budget: Budget) -> str | Diagnostic:
    """A text stream without a byte buffer (a test's ``StringIO``), counted in UTF-8 bytes."""
    parts: list[str] = []
    size = 0
    left = budget.bytes_left
    while chunk := stream.read(CHUNK):
        parts.append(chunk)
        size += len(chunk.encode("utf-8", "surrogatepass"))
        if size > left:
            budget.input_bytes += size
            return too_many_bytes(STDIN_NAME, budget)
    budget.input_bytes += size
    return "".join(parts)


def _decode(name: str, data: bytes) -> SourceText | Diagnostic:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return _problem(codes.NOT_UTF8, name, line,
                        f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded; save the file as UTF-8")
    return SourceText(name, text.removeprefix("\ufeff"))


def _unreadable(path: str, exc: OSError | ValueError) -> Diagnostic:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return _problem(codes.UNREADABLE, path, None, f"cannot read: {reason[:1].lower()}{reason[1:]}")


def _problem(code: str, file: str, line: int | None, message: str) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, file=file, line=line)
