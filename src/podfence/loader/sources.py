"""Paths given on the command line to named texts, the way ``kubectl -f`` reads them.

* A file is read whatever its extension.
* A directory is walked recursively in lexical order; only ``.yaml``, ``.yml``
  and ``.json`` files in it are read. Symbolic links to directories are not
  followed (they could loop).
* ``-`` is standard input, read once and named ``-``.

Problems become ``L1`` (cannot read) and ``L2`` (not UTF-8) diagnostics.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from podfence.loader import codes
from podfence.model import Diagnostic, Severity

MANIFEST_EXTENSIONS = (".yaml", ".yml", ".json")
STDIN_NAME = "-"


@dataclass(frozen=True, slots=True)
class SourceText:
    """The text of one file (or of standard input) and the name to show for it."""

    name: str
    text: str


def read_sources(paths: Sequence[str], stdin: TextIO | None) -> Iterator[SourceText | Diagnostic | str]:
    """Texts in the order given; a ``str`` is a note (a directory with no manifests)."""
    stdin_read = False
    for path in paths:
        if path == STDIN_NAME:
            if not stdin_read:
                stdin_read = True
                yield _read_stdin(stdin)
        elif os.path.isdir(path):
            found = False
            for item in _walk(path):
                found = found or isinstance(item, SourceText)
                yield item
            if not found:
                yield f"no .yaml, .yml or .json files in {path}"
        else:
            yield _read_file(path)


def _walk(directory: str) -> Iterator[SourceText | Diagnostic]:
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
            yield from _walk(path)
        elif is_manifest:
            yield _read_file(path)


def _read_file(path: str) -> SourceText | Diagnostic:
    try:
        if not os.path.exists(path):
            return _problem(codes.UNREADABLE, path, None, "cannot read: no such file or directory")
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return _unreadable(path, exc)
    return _decode(path, data)


def _read_stdin(stdin: TextIO | None) -> SourceText | Diagnostic:
    if stdin is None:
        return _problem(codes.UNREADABLE, STDIN_NAME, None, "cannot read standard input: there is none")
    try:
        buffer = getattr(stdin, "buffer", None)
        data: bytes | str = buffer.read() if buffer is not None else stdin.read()
    except UnicodeDecodeError as exc:
        return _problem(codes.NOT_UTF8, STDIN_NAME, None, f"not UTF-8 text ({exc.reason})")
    except (OSError, ValueError) as exc:
        return _unreadable(STDIN_NAME, exc)
    if isinstance(data, str):
        return SourceText(STDIN_NAME, data.removeprefix("\ufeff"))
    return _decode(STDIN_NAME, data)


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
