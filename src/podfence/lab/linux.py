"""The few Linux calls the lab needs that Python's standard library lacks.

Python 3.11 has no ``os.setns``/``os.unshare``, so they come from libc through
ctypes. Network namespaces are per *thread*: :func:`in_netns` moves only the
calling thread, which lets one process work in many namespaces at once (one
worker thread per namespace, or one thread hopping from namespace to namespace).
A socket stays in the namespace where it was created, whichever thread uses it
later, and a child process started from a thread inherits that thread's
namespace.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import resource
import shutil
from contextlib import contextmanager
from typing import Iterator

CLONE_NEWNET = 0x40000000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_SHARED = 1 << 20
MNT_DETACH = 2
NETNS_DIR = "/run/netns"

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def setns(fd: int, nstype: int = CLONE_NEWNET) -> None:
    """Move the calling thread into the namespace open at ``fd``."""
    _check(_libc.setns(fd, nstype), "setns")


def unshare(flags: int = CLONE_NEWNET) -> None:
    """Give the calling thread a new namespace of the given kind."""
    _check(_libc.unshare(flags), "unshare")


def mount(source: str, target: str, fstype: str, flags: int) -> None:
    _check(
        _libc.mount(source.encode(), target.encode(), fstype.encode(), ctypes.c_ulong(flags), None),
        f"mount {target}",
    )


def umount(target: str) -> None:
    """Detach a mount; a target that is not mounted is not an error."""
    if _libc.umount2(target.encode(), MNT_DETACH) != 0:
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOENT):
            raise OSError(err, f"umount {target}: {os.strerror(err)}")


def netns_path(name: str) -> str:
    return os.path.join(NETNS_DIR, name)


def current_netns_fd() -> int:
    """An fd for the calling thread's own network namespace (close it when done)."""
    return os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)


@contextmanager
def in_netns(path: str) -> Iterator[None]:
    """Run the body with the calling thread inside the namespace at ``path``.

    The thread returns to the namespace it was in, even when the body raises.
    """
    home = current_netns_fd()
    try:
        target = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            setns(home)
    finally:
        os.close(home)


def prepare_netns_dir() -> None:
    """Make ``/run/netns`` a shared mount point, as ``ip netns add`` does.

    Namespaces pinned there are then visible to ``ip netns`` and to processes in
    other mount namespaces.
    """
    os.makedirs(NETNS_DIR, mode=0o755, exist_ok=True)
    try:
        mount("none", NETNS_DIR, "none", MS_SHARED | MS_REC)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        mount(NETNS_DIR, NETNS_DIR, "none", MS_BIND | MS_REC)
        mount("none", NETNS_DIR, "none", MS_SHARED | MS_REC)


def create_netns(name: str) -> None:
    """Create a named network namespace (``/run/netns/<name>``) without forking.

    The calling thread unshares into a new namespace, pins it with a bind mount
    and returns to where it was.
    """
    path = netns_path(name)
    fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
    os.close(fd)
    home = current_netns_fd()
    try:
        unshare(CLONE_NEWNET)
        try:
            mount("/proc/thread-self/ns/net", path, "none", MS_BIND)
        finally:
            setns(home)
    except OSError:
        os.unlink(path)
        raise
    finally:
        os.close(home)


def delete_netns(name: str) -> None:
    """Unpin a named namespace; the kernel frees it once nothing uses it."""
    path = netns_path(name)
    umount(path)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def list_netns() -> list[str]:
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def write_sysctl(key: str, value: str) -> None:
    """Set a sysctl for the calling thread's network namespace (``net.ipv4.ip_forward``)."""
    with open("/proc/sys/" + key.replace(".", "/"), "w") as fh:
        fh.write(value)


def raise_nofile(wanted: int) -> int:
    """Raise the open-file limit towards ``wanted``; return the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def missing_requirement() -> str | None:
    """Why the lab cannot run here, as one line; None when it can."""
    if os.geteuid() != 0:
        return "podfence lab needs root (run with sudo)"
    if shutil.which("nft") is None:
        return "podfence lab needs nftables: apt-get install nftables"
    if not os.path.exists("/proc/thread-self/ns/net"):
        return "podfence lab needs a Linux kernel with network namespaces"
    return None
