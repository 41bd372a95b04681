"""Lines of a denial stream: a file followed as it grows (like ``tail -F``), or a stream to its end."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import BinaryIO

CHUNK = 1 << 16


def follow_file(path: str, stop: threading.Event, poll: float = 0.1) -> Iterator[bytes]:
    """Every complete line of ``path`` from its start, then each line appended, until ``stop`` is set.

    A file that is truncated is read again from its start; one that is replaced
    (rotated: a new file under the name) is read from the start of the new file.
    An unfinished last line waits for its newline.
    """
    handle = open(path, "rb")  # noqa: SIM115 - reopened on rotation
    try:
        identity = os.fstat(handle.fileno()).st_ino
        pending = b""
        while not stop.is_set():
            chunk = handle.read(CHUNK)
            if chunk:
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                yield from lines
                continue
            try:
                now = os.stat(path)
            except OSError:
                now = None
            if now is not None and now.st_ino != identity:  # rotated
                handle.close()
                handle = open(path, "rb")  # noqa: SIM115
                identity, pending = os.fstat(handle.fileno()).st_ino, b""
                continue
            if now is not None and now.st_size < handle.tell():  # truncated
                handle.seek(0)
                pending = b""
                continue
            stop.wait(poll)
    finally:
        handle.close()


def read_stream(stream: BinaryIO) -> Iterator[bytes]:
    """Every line of ``stream`` (standard input) until it ends, each as soon as it is complete."""
    yield from stream
