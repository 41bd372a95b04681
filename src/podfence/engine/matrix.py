"""Reachability on one protocol and port, as a plain value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Mapping, Sequence

import numpy as np

from podfence.sets import Protocol


@dataclass(frozen=True, slots=True)
class Matrix:
    """Who may reach whom on ``protocol``/``port``.

    ``pods`` are sorted pod keys (``ns/name``); ``allowed`` maps every pod to the
    sorted destinations it may reach (possibly none). ``kinds`` gives the kind of
    object each pod stands for (``Pod``, ``Deployment``, ...). The engine and the lab
    both produce this value, so their answers compare cell by cell. The engine's
    ``allowed`` is a :class:`ClassRows`, which builds each row when asked, so a
    matrix of many pods costs memory for its classes, not for its cells.

    ``columns`` are the destinations when they are not the rows' pods (a matrix
    narrowed to some sources or destinations); ``allowed`` then holds columns only.
    """

    protocol: Protocol
    port: int
    pods: tuple[str, ...]
    allowed: Mapping[str, tuple[str, ...]]
    kinds: dict[str, str]
    columns: tuple[str, ...] | None = None

    @property
    def destinations(self) -> tuple[str, ...]:
        """The columns: the pods themselves unless narrowed."""
        return self.pods if self.columns is None else self.columns

    @property
    def square(self) -> bool:
        """True when the columns are the rows."""
        return self.columns is None or self.columns == self.pods

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

    def row_sizes(self, weights: Sequence[int]) -> tuple[list[int], list[int]]:
        """Per source in ``pods`` order: how many destinations it may reach, and the sum of
        their ``weights`` (indexed like :attr:`destinations`), without building the rows."""
        if isinstance(self.allowed, ClassRows):
            return self.allowed.row_sizes(weights)
        index = {p: i for i, p in enumerate(self.destinations)}
        counts, sums = [], []
        for src in self.pods:
            row = self.allowed.get(src, ())
            counts.append(len(row))
            sums.append(sum(weights[index[d]] for d in row))
        return counts, sums


class ClassRows(Mapping[str, tuple[str, ...]]):
    """The rows of a matrix, from pods grouped in units that behave alike.

    Pods are numbered by rank (their place in ``keys``, which is sorted). Every pod
    of unit ``u`` may reach every pod of unit ``v`` when ``(u, v)`` is among the
    pairs; ``forced`` then sets single cells (rank -> rank -> allowed) on top.
    """

    def __init__(self, keys: Sequence[str], unit_of: np.ndarray, pair_src: np.ndarray, pair_dst: np.ndarray,
                 forced: dict[int, dict[int, bool]]) -> None:
        self._keys = tuple(keys)
        self._rank = {k: i for i, k in enumerate(self._keys)}
        self._unit_of = unit_of
        units = int(unit_of.max()) + 1 if len(unit_of) else 0
        self._units = units
        order = np.argsort(unit_of, kind="stable")  # ranks grouped by unit, ascending within a unit
        bounds = np.searchsorted(unit_of[order], np.arange(units + 1))
        self._members = [order[bounds[u]:bounds[u + 1]] for u in range(units)]
        by_src = np.lexsort((pair_dst, pair_src))
        self._src, self._dst = pair_src[by_src], pair_dst[by_src]
        self._pair_bounds = np.searchsorted(self._src, np.arange(units + 1))
        self._codes = np.sort(self._src * max(units, 1) + self._dst)
        self._forced = forced
        self._last: tuple[int, list[int]] = (-1, [])

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._rank

    def __getitem__(self, key: str) -> tuple[str, ...]:
        r = self._rank[key]
        ranks = self._unit_row(int(self._unit_of[r]))
        forced = self._forced.get(r)
        if forced:
            mine = set(ranks)
            mine.update(b for b, ok in forced.items() if ok)
            mine.difference_update(b for b, ok in forced.items() if not ok)
            ranks = sorted(mine)
        keys = self._keys
        return tuple(keys[i] for i in ranks)

    def _unit_row(self, u: int) -> list[int]:
        """Sorted ranks every pod of unit ``u`` may reach (before forced cells); the last is kept."""
        if self._last[0] == u:
            return self._last[1]
        lo, hi = int(self._pair_bounds[u]), int(self._pair_bounds[u + 1])
        parts = [self._members[v] for v in self._dst[lo:hi].tolist()]
        ranks = np.sort(np.concatenate(parts)).tolist() if parts else []
        self._last = (u, ranks)
        return ranks

    def _base(self, a: int, b: int) -> bool:
        code = int(self._unit_of[a]) * max(self._units, 1) + int(self._unit_of[b])
        i = int(np.searchsorted(self._codes, code))
        return i < len(self._codes) and int(self._codes[i]) == code

    def row_sizes(self, weights: Sequence[int]) -> tuple[list[int], list[int]]:
        """See :meth:`Matrix.row_sizes`: per unit pair, not per cell."""
        w = np.asarray(weights, dtype=np.int64)
        unit_count = np.bincount(self._unit_of, minlength=self._units).astype(np.int64)
        unit_weight = np.zeros(self._units, dtype=np.int64)
        np.add.at(unit_weight, self._unit_of, w)
        row_count = np.zeros(self._units, dtype=np.int64)
        row_weight = np.zeros(self._units, dtype=np.int64)
        np.add.at(row_count, self._src, unit_count[self._dst])
        np.add.at(row_weight, self._src, unit_weight[self._dst])
        counts = row_count[self._unit_of].tolist()
        sums = row_weight[self._unit_of].tolist()
        for a, cells in self._forced.items():
            for b, ok in cells.items():
                if ok != self._base(a, b):
                    step = 1 if ok else -1
                    counts[a] += step
                    sums[a] += step * int(w[b])
        return counts, sums
