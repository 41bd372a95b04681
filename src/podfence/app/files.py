"""The files podfence writes (``--out``, ``--junit``, ``--write-intents``, ``--rules-doc``): all or none.

What podfence guarantees when it writes a set of files:

* Every target is checked before anything is written. Its folder must be a
  folder (missing folders are made); a target that exists is replaced only with
  ``--force``; and only regular files are ever replaced: a directory, FIFO,
  socket, device node or symbolic link (whatever it points to) is refused, even
  with ``--force``. A symbolic link is refused rather than followed so that a
  write never lands outside the folder the user named.
* Each file's new text first goes to a temporary file beside its target,
  ``.NAME.podfence-PID-RANDOM.tmp``, written and flushed to disk. Only when every
  file is staged are they renamed over their targets, in one short pass during
  which SIGINT, SIGTERM and SIGHUP wait. If a rename fails, the targets
  already renamed get their old content back (kept as a hard link,
  ``.NAME.podfence-PID-RANDOM.old``, during the pass). Ctrl-C, SIGTERM and SIGHUP
  before the pass leave every target as it was and remove the temporary files.
* A new file gets mode 0666 less the umask, as any program's would; a replaced
  file keeps its permission bits (and, where podfence may set them, its owner
  and group).
* kill -9 and power loss cannot be caught: during the rename pass they can leave
  some targets new and some old, but never a file cut short; the temporary files
  they leave behind are removed by the next podfence write into that folder
  (once the process named in them has ended).

A check and the write that follows cannot be one atomic step: each target is
looked at again just before the renames, so only a change within that last
moment (by another process) goes unnoticed.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import stat
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Mapping

TEMP_MARK = "podfence"
TEMP_NAME = re.compile(rf"(?s)^\..+\.{TEMP_MARK}-(?P<pid>[1-9][0-9]{{0,9}})-[0-9a-f]{{8}}\.(?:tmp|old)$")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)  # SIGINT already raises KeyboardInterrupt
HELD_SIGNALS = (signal.SIGINT, *STOP_SIGNALS)
NAME_KEPT = 100  # characters of the target's name kept in a temporary file's name
KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
         (stat.S_ISBLK, "a block device"))

Replace = Callable[[str | Path, str | Path], None]


class Refused(Exception):
    """A write podfence will not do, or could not finish; the message is one line for the user."""


class Stopped(BaseException):
    """SIGTERM or SIGHUP arrived while files were being written."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass(frozen=True, slots=True)
class Target:
    """One file to write, and what was at its place when it was checked (None: nothing)."""

    path: Path
    text: str
    before: os.stat_result | None


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return next((words for test, words in KINDS if test(mode)), "not a regular file")


def check_folder(folder: Path, flag: str, shown: Path | None = None) -> None:
    """``folder`` is a directory podfence may write in, or is missing below one (and will be made).

    Messages name ``shown`` (the path the user gave), else ``folder``.
    """
    named = folder if shown is None else shown
    probe = folder
    while True:
        try:
            found = os.stat(probe)
            break
        except FileNotFoundError:
            if probe.parent == probe:
                raise Refused(f"{flag} {named}: no such directory") from None
            probe = probe.parent
        except NotADirectoryError:
            raise Refused(f"{flag} {named}: not a directory (a part of the path is a file)") from None
        except OSError as exc:
            raise Refused(f"{flag} {named}: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(found.st_mode):
        raise Refused(f"{flag} {probe}: not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise Refused(f"{flag} {named}: cannot write in {probe} (permission denied or read-only file system)")


def check_target(path: Path, flag: str) -> os.stat_result | None:
    """What is at ``path`` (None: nothing) if podfence may replace it; else :class:`Refused`.

    Whether an existing file may be replaced (``--force``) is the caller's decision.
    """
    if path.name in ("", ".", ".."):
        raise Refused(f"{flag} {str(path)!r}: name a file")
    check_folder(path.parent, flag, shown=path)
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Refused(f"{flag} {path}: {exc.strerror or exc}") from None
    kind = _kind(found.st_mode)
    if kind is not None:
        raise Refused(f"{flag} {path}: is {kind}; podfence only replaces regular files, even with --force")
    return found


def read_existing(path: Path, flag: str) -> bytes | None:
    """The bytes of the regular file at ``path`` (None if there is none); anything else is refused."""
    found = check_target(path, flag)
    if found is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise Refused(f"{flag} {path}: {exc.strerror or exc}") from None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process (or not a pid we can ask about): leave its files alone
    return True


def remove_stale(folder: Path) -> list[str]:
    """Remove podfence's temporary files that a killed run left in ``folder``; their names."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = TEMP_NAME.match(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False) or _alive(int(match["pid"])):
            continue
        try:
            os.unlink(entry.path)
            removed.append(entry.name)
        except OSError:
            pass
    return removed


def _temp_name(target: Path, ending: str) -> Path:
    name = f".{target.name[:NAME_KEPT]}.{TEMP_MARK}-{os.getpid()}-{secrets.token_hex(4)}.{ending}"
    return target.parent / name


def _stage(target: Target, temps: list[Path]) -> Path:
    """The new text in a temporary file beside the target, on disk, with the mode it will keep."""
    data = target.text.encode("utf-8")
    while True:
        temp = _temp_name(target.path, "tmp")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
            break
        except FileExistsError:
            continue
    temps.append(temp)
    try:
        if target.before is not None:
            os.fchmod(fd, stat.S_IMODE(target.before.st_mode) & 0o777)
            if (target.before.st_uid, target.before.st_gid) != (os.geteuid(), os.getegid()):
                try:
                    os.fchown(fd, target.before.st_uid, target.before.st_gid)
                except PermissionError:
                    pass
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    return temp


def _keep_old(target: Target, temps: list[Path]) -> Path:
    """A second name for the file about to be replaced, so a failed pass can put it back."""
    old = _temp_name(target.path, "old")
    temps.append(old)
    try:
        os.link(target.path, old, follow_symlinks=False)
    except OSError:  # no hard links here: a copy does as well
        shutil.copy2(target.path, old, follow_symlinks=False)
    return old


def _unchanged(target: Target) -> bool:
    """Is the target's place as it was when checked (still nothing, or the same regular file)?"""
    try:
        now = os.lstat(target.path)
    except FileNotFoundError:
        return target.before is None
    return (target.before is not None and stat.S_ISREG(now.st_mode)
            and (now.st_dev, now.st_ino) == (target.before.st_dev, target.before.st_ino))


def _sync(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _make_folders(folders: list[Path], flag: str) -> list[Path]:
    """Make missing folders; the ones made, deepest last (to remove if nothing gets written)."""
    made: list[Path] = []
    for folder in folders:
        missing = [p for p in (folder, *folder.parents) if not p.exists()]
        for p in reversed(missing):
            try:
                p.mkdir()
                made.append(p)
            except FileExistsError:
                pass
            except OSError as exc:
                raise Refused(f"{flag} {folder}: cannot make {p}: {exc.strerror or exc}") from None
    return made


@contextmanager
def _signals_stop() -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`Stopped` (as Ctrl-C raises KeyboardInterrupt), so that
    ``finally`` blocks clean up; afterwards the process ends by the signal, as it would have."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        raise Stopped(signum)

    previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    for s, handler in previous.items():
        if handler == signal.SIG_DFL:
            signal.signal(s, stop)
    try:
        yield
    except Stopped as stopped:
        for s, handler in previous.items():
            signal.signal(s, handler)
        sys.stderr.write(f"podfence: stopped by {stopped}\n")
        sys.stderr.flush()
        os.kill(os.getpid(), stopped.signum)
        raise  # only reached if the signal is ignored after all
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP wait while the renames run, and take effect right after.

    Python-level handlers, not a signal mask: a mask holds only this thread's
    signals, and a library's threads (numpy's) would take them instead.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def hold(signum: int, _frame: object) -> None:
        pending.append(signum)

    previous = {s: signal.getsignal(s) for s in HELD_SIGNALS}
    for s in HELD_SIGNALS:
        signal.signal(s, hold)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for s in dict.fromkeys(pending):
            signal.raise_signal(s)

def _rename_all(targets: list[Target], staged: dict[Path, Path], old: dict[Path, Path], flag: str,
                replace: Replace) -> None:
    """Rename every staged file over its target; on a failure, put back what was renamed."""
    done: list[Target] = []
    for target in targets:
        try:
            replace(staged[target.path], target.path)
        except OSError as exc:
            why = exc.strerror or str(exc)
            unrestored = []
            for t in reversed(done):
                try:
                    if t.path in old:
                        os.replace(old[t.path], t.path)
                    else:
                        os.unlink(t.path)
                except OSError:
                    unrestored.append(t.path.name)
            if unrestored:
                raise Refused(f"{flag} {target.path}: {why}; could not put back the earlier "
                              f"{', '.join(sorted(unrestored))}") from None
            raise Refused(f"{flag} {target.path}: {why}; nothing was changed") from None
        done.append(target)


def write_all(files: Mapping[Path, str], *, force: bool, flag: str, shown: Path | None = None,
              replace: Replace = os.replace) -> None:
    """Write every file or none (see the module's docstring); :class:`Refused` says why not.

    ``flag`` is the option that chose the place and ``shown`` the path as the user gave
    it, both for messages. ``replace`` is the rename step (a seam for tests).
    """
    targets = [Target(path, text, check_target(path, flag)) for path, text in files.items()]
    existing = [t.path for t in targets if t.before is not None]
    if existing and not force:
        if shown is None or existing == [shown]:
            raise Refused(f"{flag} {existing[0]}: exists (pass --force to overwrite)")
        names = ", ".join(sorted(str(p.relative_to(shown)) if p.is_relative_to(shown) else str(p) for p in existing))
        raise Refused(f"{flag} {shown}: {names} exist{'s' if len(existing) == 1 else ''} (pass --force to overwrite)")
    folders = sorted({t.path.parent for t in targets})
    temps: list[Path] = []
    made: list[Path] = []
    written = False
    with _signals_stop():
        try:
            made = _make_folders(folders, flag)
            for folder in folders:
                remove_stale(folder)
            staged: dict[Path, Path] = {}
            for t in targets:
                try:
                    staged[t.path] = _stage(t, temps)
                except OSError as exc:
                    raise Refused(f"{flag} {t.path}: {exc.strerror or exc}; nothing was changed") from None
            old: dict[Path, Path] = {}
            for t in targets:
                if t.before is not None:
                    try:
                        old[t.path] = _keep_old(t, temps)
                    except OSError as exc:
                        raise Refused(f"{flag} {t.path}: {exc.strerror or exc}; nothing was changed") from None
            moved = [t.path for t in targets if not _unchanged(t)]
            if moved:
                raise Refused(f"{flag} {moved[0]}: changed while podfence was writing; nothing was changed")
            with _signals_held():
                _rename_all(targets, staged, old, flag, replace)
                written = True
            for folder in folders:
                _sync(folder)
        finally:
            for temp in temps:
                try:
                    os.unlink(temp)
                except OSError:
                    pass
            if not written:
                for folder in reversed(made):
                    try:
                        folder.rmdir()
                    except OSError:
                        pass


__all__ = ["Refused", "check_folder", "check_target", "read_existing", "remove_stale", "write_all"]
