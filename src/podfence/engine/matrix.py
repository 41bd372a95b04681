"""Reachability on one protocol and port, as a plain value."""

from __future__ import annotations

from dataclasses import dataclass

from podfence.sets import Protocol


@dataclass(frozen=True, slots=True)
class Matrix:
    """Who may reach whom on ``protocol``/``port``.

    ``pods`` are sorted pod keys (``ns/name``); ``allowed`` maps every pod to the
    sorted destinations it may reach (possibly none). ``kinds`` gives the kind of
    object each pod stands for (``Pod``, ``Deployment``, ...). The engine and the lab
    both produce this value, so their answers compare cell by cell.
    """

    protocol: Protocol
    port: int
    pods: tuple[str, ...]
    allowed: dict[str, tuple[str, ...]]
    kinds: dict[str, str]

    def can(self, src: str, dst: str) -> bool:
        return dst in self.allowed.get(src, ())

    def differences(self, other: Matrix) -> tuple[tuple[str, str, bool, bool], ...]:
        """Cells where the two matrices disagree: (src, dst, here, there)."""
        out = []
        for src in sorted(set(self.pods) | set(other.pods)):
            mine, theirs = set(self.allowed.get(src, ())), set(other.allowed.get(src, ()))
            for dst in sorted(mine ^ theirs):
                out.append((src, dst, dst in mine, dst in theirs))
        return tuple(out)
