"""The machine's neighbour tables (ARP and NDP), sized for the labs it runs.

Every lab pod needs neighbour entries: the pod's for its gateway, the node's for
the pod's address, and for IPv6 a few multicast ones (router solicitations,
MLD) even when the pod has no IPv6 address. Linux keeps ONE neighbour table per
family for the whole machine, shared by every network namespace, and refuses new
entries once it holds ``gc_thresh3`` of them (1,024 by default): a 600-pod lab,
or two of 300, then lose packets to the table, not to policies. The limits are
machine-wide too: ``net.ipv4.neigh.default.gc_thresh1/2/3`` (and ``ipv6``)
exist only in the machine's first network namespace, so there is nothing to set
per pod namespace.

:func:`size` raises the three limits, never lowers them, to what every lab pod
namespace on the machine needs (:data:`PER_POD` entries each, of any lab) plus
:data:`HOST_RESERVE` for the machine's own traffic, keeping the proportions of
the kernel's defaults (1/8, 1/2 and all of it). The values stay when the lab goes
down (another lab may still need them, and lowering a limit under the entries in
use would make the kernel drop some). :func:`overflows` reads the kernel's count
of refused entries, so a probe run can tell that the table overflowed under it.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from podfence.lab import linux
from podfence.lab.naming import is_lab_pod_netns

PROC = Path("/proc")
# Labs size the tables one at a time, machine-wide: each reads the limits afresh
# under this lock, so two labs coming up together never write a lower value last.
SIZING_LOCK = Path("/run/lock/podfence-neighbours.lock")
FAMILIES = (4, 6)
PER_POD = {4: 4, 6: 8}  # measured: 2 (IPv4) and about 3.4 (IPv6) at most, doubled
HOST_RESERVE = 1024  # the kernel's default gc_thresh3: what the machine had for itself
_ROUND = 256


def sysctl(version: int, knob: str) -> str:
    """``net.ipv4.neigh.default.gc_thresh3`` and the like."""
    return f"net.ipv{version}.neigh.default.{knob}"


def _sysctl_path(version: int, knob: str) -> Path:
    return PROC / "sys" / "net" / f"ipv{version}" / "neigh" / "default" / knob


@dataclass(frozen=True, slots=True)
class Limits:
    """A neighbour table's garbage-collection thresholds (entries)."""

    gc_thresh1: int
    gc_thresh2: int
    gc_thresh3: int

    def raised_for(self, entries: int) -> Limits:
        """Limits that hold ``entries``: each at least its share of them, none lower than now."""
        entries = -(-entries // _ROUND) * _ROUND
        return Limits(max(self.gc_thresh1, entries // 8), max(self.gc_thresh2, entries // 2),
                      max(self.gc_thresh3, entries))


def entries_needed(version: int, lab_pods: int) -> int:
    """Entries a table must hold for ``lab_pods`` pod namespaces (of all labs) and the machine itself."""
    return HOST_RESERVE + PER_POD[version] * lab_pods


def read_limits(version: int) -> Limits | None:
    """The table's limits, or None where they cannot be read (not the machine's first namespace)."""
    try:
        values = [int(_sysctl_path(version, f"gc_thresh{i}").read_text().split()[0]) for i in (1, 2, 3)]
    except (OSError, ValueError, IndexError):
        return None
    return Limits(*values)


def write_limits(version: int, limits: Limits) -> None:
    """Set the limits, largest first (OSError when the machine does not let us)."""
    for knob, value in (("gc_thresh3", limits.gc_thresh3), ("gc_thresh2", limits.gc_thresh2),
                        ("gc_thresh1", limits.gc_thresh1)):
        _sysctl_path(version, knob).write_text(f"{value}\n")


def lab_pods_on_machine() -> int:
    """Pod namespaces of every lab on the machine (found by name, whatever their state directory)."""
    return sum(1 for netns in linux.list_netns() if is_lab_pod_netns(netns))


class TooSmall(Exception):
    """A table is too small for the labs and cannot be raised; the message is one line."""


def size(coming: int = 0) -> list[str]:
    """Raise every table's limits for the labs on the machine plus ``coming`` pods about to be made.

    Returns one note per change. Raises :class:`TooSmall` when a table is too small and
    its limits cannot be written; where they cannot even be read, there is nothing to do.
    """
    with _sizing():
        return _size(lab_pods_on_machine() + coming)


@contextmanager
def _sizing() -> Iterator[None]:
    """Hold the machine-wide sizing lock (best effort: without it, the post-probe checks still hold)."""
    try:
        SIZING_LOCK.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(SIZING_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _size(pods: int) -> list[str]:
    notes = []
    for version in FAMILIES:
        current = read_limits(version)
        if current is None:
            continue
        wanted = current.raised_for(entries_needed(version, pods))
        if wanted == current:
            continue
        try:
            write_limits(version, wanted)
        except OSError as exc:
            if current.gc_thresh3 >= entries_needed(version, pods):
                continue  # only the lower thresholds lag behind: entries are not refused
            raise TooSmall(
                f"the machine's IPv{version} neighbour table holds at most {current.gc_thresh3} entries "
                f"({sysctl(version, 'gc_thresh3')}) and {pods} lab pods need {entries_needed(version, pods)}; "
                f"podfence cannot raise it ({exc.strerror or exc}): raise it as root on the host") from None
        notes.append(f"raised {sysctl(version, 'gc_thresh1/2/3')} from {current.gc_thresh1}/"
                     f"{current.gc_thresh2}/{current.gc_thresh3} to {wanted.gc_thresh1}/{wanted.gc_thresh2}/"
                     f"{wanted.gc_thresh3} for {pods} lab pods on this machine (lab down leaves them)")
    return notes


def overflows() -> dict[int, int]:
    """Per family, how many times the kernel has refused a neighbour entry because its table was full.

    The counter (``table_fulls`` of ``/proc/net/stat/arp_cache`` and ``ndisc_cache``)
    is machine-wide and only grows; a family whose counter cannot be read is left out.
    """
    out = {}
    for version, name in ((4, "arp_cache"), (6, "ndisc_cache")):
        try:
            out[version] = table_fulls((PROC / "net" / "stat" / name).read_text())
        except (OSError, ValueError):
            continue
    return out


def table_fulls(stat_text: str) -> int:
    """The ``table_fulls`` column of a neighbour statistics file, summed over its rows (one per CPU).

    >>> table_fulls("entries  allocs table_fulls\\n00000002 00000247 00000003\\n00000002 00000527 0000000a\\n")
    13
    """
    lines = [line.split() for line in stat_text.splitlines() if line.strip()]
    column = lines[0].index("table_fulls")
    return sum(int(row[column], 16) for row in lines[1:])
