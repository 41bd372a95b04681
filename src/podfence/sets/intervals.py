"""Exact sets of integers as canonical interval lists.

An :class:`IntervalSet` is immutable and canonical: its intervals are sorted,
disjoint and never touching (``(1, 3), (4, 5)`` is stored as ``(1, 5)``), so two
sets are equal exactly when they hold the same integers. Ports and IP addresses
are both modelled on it.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Iterable, Iterator

Interval = tuple[int, int]


def _canonical(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    ordered = sorted((lo, hi) for lo, hi in intervals if lo <= hi)
    merged: list[list[int]] = []
    for lo, hi in ordered:
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1][1] = hi
        else:
            merged.append([lo, hi])
    return tuple((lo, hi) for lo, hi in merged)


@dataclass(frozen=True, slots=True)
class IntervalSet:
    """A finite set of integers, stored as inclusive ``(lo, hi)`` intervals.

    Build one with :meth:`of`; the constructor trusts its argument to be canonical.

    >>> IntervalSet.of([(80, 81), (82, 90), (100, 100)])
    IntervalSet(intervals=((80, 90), (100, 100)))
    """

    intervals: tuple[Interval, ...] = ()

    @classmethod
    def of(cls, intervals: Iterable[Interval]) -> IntervalSet:
        return cls(_canonical(intervals))

    @classmethod
    def span(cls, lo: int, hi: int) -> IntervalSet:
        return cls(((lo, hi),) if lo <= hi else ())

    def __bool__(self) -> bool:
        return bool(self.intervals)

    def __iter__(self) -> Iterator[Interval]:
        return iter(self.intervals)

    def __len__(self) -> int:
        return len(self.intervals)

    def size(self) -> int:
        """How many integers the set holds."""
        return sum(hi - lo + 1 for lo, hi in self.intervals)

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        i = bisect_right(self.intervals, (value, float("inf"))) - 1
        return i >= 0 and self.intervals[i][0] <= value <= self.intervals[i][1]

    def __or__(self, other: IntervalSet) -> IntervalSet:
        if not other.intervals:
            return self
        if not self.intervals:
            return other
        return IntervalSet(_canonical(self.intervals + other.intervals))

    def __and__(self, other: IntervalSet) -> IntervalSet:
        out: list[Interval] = []
        a, b = self.intervals, other.intervals
        i = j = 0
        while i < len(a) and j < len(b):
            lo = max(a[i][0], b[j][0])
            hi = min(a[i][1], b[j][1])
            if lo <= hi:
                out.append((lo, hi))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return IntervalSet(tuple(out))

    def __sub__(self, other: IntervalSet) -> IntervalSet:
        out: list[Interval] = []
        b = other.intervals
        j = 0
        for lo, hi in self.intervals:
            cur = lo
            while j < len(b) and b[j][1] < cur:
                j += 1
            k = j
            while k < len(b) and b[k][0] <= hi:
                if b[k][0] > cur:
                    out.append((cur, b[k][0] - 1))
                cur = max(cur, b[k][1] + 1)
                if cur > hi:
                    break
                k += 1
            if cur <= hi:
                out.append((cur, hi))
        return IntervalSet(tuple(out))

    def issubset(self, other: IntervalSet) -> bool:
        return not (self - other)

    def complement(self, lo: int, hi: int) -> IntervalSet:
        """Everything in ``[lo, hi]`` that is not in this set."""
        return IntervalSet.span(lo, hi) - self

    def boundaries(self) -> Iterator[int]:
        """Start points and one-past-end points: where membership can change."""
        for lo, hi in self.intervals:
            yield lo
            yield hi + 1
