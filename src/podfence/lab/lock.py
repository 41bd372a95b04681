"""One command at a time per lab: an exclusive lock per lab name.

Every lab command that reads or changes a lab holds the lab's lock from start to
end: ``flock`` on ``<state root>/<name>.lock`` (``/run/podfence/podfence.lock``
for the default lab). The file lives beside the lab's own directory, not in it,
because ``lab down`` removes that directory while the lock is held. The kernel
drops the lock when its holder exits, however it exits, so a killed command never
leaves a lab locked; the file itself stays (it is empty while nobody holds it).

The holder writes its pid into the file, so a command that finds the lab busy can
say who has it. It waits up to ``wait`` seconds, then gives up with
:class:`LabBusy`. Within one process the lock is re-entrant: ``lab matrix`` holds
it across up, apply, probe and down, each of which takes it too.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from podfence.lab.naming import name_problem
from podfence.lab.state import state_root

DEFAULT_WAIT = 60.0
_POLL = 0.1
_held: dict[str, int] = {}


class LockError(Exception):
    """The lab's lock cannot be taken; the message is one line for the user."""


class LabBusy(LockError):
    """Another process holds the lab's lock (``pid``: who, when it said so)."""

    def __init__(self, name: str, pid: int | None) -> None:
        self.name = name
        self.pid = pid
        super().__init__(f"lab {name!r} is in use by {f'pid {pid}' if pid else 'another process'}")


def lock_path(name: str) -> Path:
    """The lock file of the lab ``name`` (a valid lab name, so the path stays in the state root)."""
    problem = name_problem(name)
    if problem:
        raise ValueError(problem)
    return state_root() / f"{name}.lock"


def _holder(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


@contextmanager
def hold(name: str, wait: float = DEFAULT_WAIT, on_wait: Callable[[int | None], None] | None = None) -> Iterator[None]:
    """Hold the lab's lock for the body; wait up to ``wait`` seconds for it, then raise :class:`LabBusy`.

    ``on_wait`` hears the holder's pid once, when the lock is not free at first.
    """
    if name in _held:
        _held[name] += 1
        try:
            yield
        finally:
            _held[name] -= 1
        return
    path = lock_path(name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_NOFOLLOW: root must never open a file that a link in the state directory points to.
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    except OSError as exc:
        reason = "it is a symbolic link" if exc.errno == errno.ELOOP else (exc.strerror or str(exc))
        raise LockError(f"cannot lock lab {name!r} with {path}: {reason}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LockError(f"cannot lock lab {name!r} with {path}: it is not a regular file")
        deadline = time.monotonic() + max(0.0, wait)
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(fd)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LabBusy(name, holder) from None
                if on_wait is not None and not told:
                    on_wait(holder)
                    told = True
                time.sleep(min(_POLL, left))
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _held[name] = 1
        try:
            yield
        finally:
            del _held[name]
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the last descriptor releases the lock
