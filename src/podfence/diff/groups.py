"""Identical changes folded together for reading.

Sources that gain or lose the same connections towards the same destination
share a group; then destinations reached by the same set of sources with the
same change share it too, so "12 pods in api -> billing/db: TCP 5432 removed" is
one line instead of twelve.
"""

from __future__ import annotations

from dataclasses import dataclass

from podfence.diff.compare import Change
from podfence.engine import endpoint_sort_key
from podfence.sets import ConnSet


@dataclass(frozen=True, slots=True)
class ChangeGroup:
    """The same change from every endpoint of ``srcs`` to every endpoint of ``dsts``."""

    srcs: tuple[str, ...]
    dsts: tuple[str, ...]
    added: ConnSet
    removed: ConnSet

    @property
    def pairs(self) -> int:
        return len(self.srcs) * len(self.dsts)


def group_changes(changes: tuple[Change, ...] | list[Change]) -> list[ChangeGroup]:
    """Fold changes into groups; every change lands in exactly one group."""
    by_dst: dict[tuple[str, ConnSet, ConnSet], list[str]] = {}
    for c in changes:
        by_dst.setdefault((c.dst, c.added, c.removed), []).append(c.src)
    by_srcs: dict[tuple[tuple[str, ...], ConnSet, ConnSet], list[str]] = {}
    for (dst, added, removed), srcs in by_dst.items():
        key = (tuple(sorted(srcs, key=endpoint_sort_key)), added, removed)
        by_srcs.setdefault(key, []).append(dst)
    groups = [
        ChangeGroup(srcs, tuple(sorted(dsts, key=endpoint_sort_key)), added, removed)
        for (srcs, added, removed), dsts in by_srcs.items()
    ]
    groups.sort(key=lambda g: (endpoint_sort_key(g.srcs[0]), endpoint_sort_key(g.dsts[0])))
    return groups
