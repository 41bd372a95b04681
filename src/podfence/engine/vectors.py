"""Vectorised label-selector and ipBlock evaluation over many objects at once.

A :class:`LabelTable` stores, for every label key that some selector mentions, one
integer column (a value id per object, -1 where the label is absent). A selector is
then a handful of numpy comparisons, whatever the number of pods.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Iterable, Mapping, Sequence

import numpy as np

from podfence.model import LabelSelector, Operator, Requirement
from podfence.sets import IntervalSet, IPAddress


class LabelTable:
    """Label values of ``n`` objects as integer columns, one per interesting key."""

    def __init__(self, label_maps: Sequence[Mapping[str, str]], keys: Iterable[str]) -> None:
        self.n = len(label_maps)
        self._ids: dict[str, dict[str, int]] = {}
        self._cols: dict[str, np.ndarray] = {}
        for key in sorted(set(keys)):
            ids: dict[str, int] = {}
            col = np.fromiter(
                (ids.setdefault(m[key], len(ids)) if key in m else -1 for m in label_maps),
                dtype=np.int32, count=self.n,
            )
            self._ids[key] = ids
            self._cols[key] = col
        self.keys = frozenset(self._cols)  # the label keys this table can answer selectors on
        self._cache: dict[LabelSelector, np.ndarray] = {}
        self._all = np.ones(self.n, dtype=bool)

    def _in(self, key: str, values: tuple[str, ...]) -> np.ndarray:
        col = self._cols.get(key)
        if col is None:
            return np.zeros(self.n, dtype=bool)
        ids = [self._ids[key][v] for v in values if v in self._ids[key]]
        if not ids:
            return np.zeros(self.n, dtype=bool)
        if len(ids) == 1:
            return col == ids[0]
        return np.isin(col, np.array(ids, dtype=np.int32))

    def requirement(self, req: Requirement) -> np.ndarray:
        match req.operator:
            case Operator.IN:
                return self._in(req.key, req.values)
            case Operator.NOT_IN:
                return ~self._in(req.key, req.values)
            case Operator.EXISTS:
                col = self._cols.get(req.key)
                return np.zeros(self.n, dtype=bool) if col is None else col >= 0
            case Operator.DOES_NOT_EXIST:
                col = self._cols.get(req.key)
                return np.ones(self.n, dtype=bool) if col is None else col < 0

    def select(self, selector: LabelSelector) -> np.ndarray:
        """Boolean vector: which objects the selector matches (read-only, cached)."""
        hit = self._cache.get(selector)
        if hit is not None:
            return hit
        out = self._all.copy()
        for req in selector.requirements:
            out &= self.requirement(req)
        out.flags.writeable = False
        self._cache[selector] = out
        return out


def selector_keys(selectors: Iterable[LabelSelector]) -> set[str]:
    return {r.key for s in selectors for r in s.requirements}


class AddressTable:
    """The addresses of ``n`` objects in one family, for ipBlock membership tests."""

    def __init__(self, addresses: Sequence[Sequence[IPAddress]], version: int | None) -> None:
        self.n = len(addresses)
        self.version = version
        owners: list[int] = []
        values: list[int] = []
        if version is not None:
            for i, addrs in enumerate(addresses):
                for a in addrs:
                    if a.version == version:
                        owners.append(i)
                        values.append(a.value)
        self._owners = np.array(owners, dtype=np.int64)
        self._values = values
        self._v4 = np.array(values, dtype=np.uint64) if version == 4 else None
        self._cache: dict[IntervalSet, np.ndarray] = {}

    def member(self, intervals: IntervalSet) -> np.ndarray:
        """Boolean vector: which objects have an address in ``intervals``."""
        hit = self._cache.get(intervals)
        if hit is not None:
            return hit
        out = np.zeros(self.n, dtype=bool)
        if self._values and intervals:
            if self._v4 is not None:
                los = np.array([lo for lo, _ in intervals], dtype=np.uint64)
                his = np.array([hi for _, hi in intervals], dtype=np.uint64)
                idx = np.searchsorted(los, self._v4, side="right") - 1
                safe = np.maximum(idx, 0)
                hits = (idx >= 0) & (self._v4 <= his[safe])
            else:
                starts = [lo for lo, _ in intervals]
                flags = []
                for v in self._values:
                    i = bisect_right(starts, v) - 1
                    flags.append(i >= 0 and v <= intervals.intervals[i][1])
                hits = np.array(flags, dtype=bool)
            out[self._owners[hits]] = True
        out.flags.writeable = False
        self._cache[intervals] = out
        return out
