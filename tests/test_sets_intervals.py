"""Set laws for IntervalSet, checked against Python sets on a small universe."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from podfence.sets import IntervalSet

LO, HI = 0, 40
UNIVERSE = IntervalSet.span(LO, HI)

intervals = st.lists(
    st.tuples(st.integers(LO - 2, HI + 2), st.integers(LO - 2, HI + 2)), max_size=6,
)
sets = intervals.map(lambda xs: IntervalSet.of(xs).__and__(UNIVERSE))


def naive(s: IntervalSet) -> set[int]:
    return {v for lo, hi in s.intervals for v in range(lo, hi + 1)}


def naive_of(xs: list[tuple[int, int]]) -> set[int]:
    return {v for lo, hi in xs for v in range(lo, hi + 1)}


def is_canonical(s: IntervalSet) -> bool:
    ivs = s.intervals
    return all(lo <= hi for lo, hi in ivs) and all(a[1] + 1 < b[0] for a, b in zip(ivs, ivs[1:]))


@given(intervals)
def test_of_is_canonical_and_holds_exactly_the_listed_integers(xs: list[tuple[int, int]]) -> None:
    s = IntervalSet.of(xs)
    assert is_canonical(s)
    assert naive(s) == naive_of(xs)
    assert s.size() == len(naive_of(xs))


@given(intervals, intervals)
def test_equal_sets_compare_equal(xs: list[tuple[int, int]], ys: list[tuple[int, int]]) -> None:
    assert (IntervalSet.of(xs) == IntervalSet.of(ys)) == (naive_of(xs) == naive_of(ys))
    if naive_of(xs) == naive_of(ys):
        assert hash(IntervalSet.of(xs)) == hash(IntervalSet.of(ys))


@given(sets, sets)
def test_operations_agree_with_python_sets(a: IntervalSet, b: IntervalSet) -> None:
    for result, expected in ((a | b, naive(a) | naive(b)), (a & b, naive(a) & naive(b)), (a - b, naive(a) - naive(b))):
        assert is_canonical(result)
        assert naive(result) == expected
    assert a.issubset(b) == (naive(a) <= naive(b))
    assert bool(a) == bool(naive(a))


@given(sets)
def test_membership_agrees_with_python_sets(a: IntervalSet) -> None:
    members = naive(a)
    for v in range(LO - 3, HI + 4):
        assert (v in a) == (v in members)
    assert "3" not in a and 3.0 not in a


@given(sets, sets)
def test_commutative(a: IntervalSet, b: IntervalSet) -> None:
    assert a | b == b | a
    assert a & b == b & a


@given(sets, sets, sets)
def test_associative_and_distributive(a: IntervalSet, b: IntervalSet, c: IntervalSet) -> None:
    assert (a | b) | c == a | (b | c)
    assert (a & b) & c == a & (b & c)
    assert a & (b | c) == (a & b) | (a & c)
    assert a | (b & c) == (a | b) & (a | c)


@given(sets)
def test_idempotent_and_identities(a: IntervalSet) -> None:
    assert a | a == a
    assert a & a == a
    assert a - a == IntervalSet()
    assert a | IntervalSet() == a
    assert a & IntervalSet() == IntervalSet()
    assert a & UNIVERSE == a


@given(sets, sets)
def test_de_morgan_and_difference(a: IntervalSet, b: IntervalSet) -> None:
    def comp(s: IntervalSet) -> IntervalSet:
        return s.complement(LO, HI)

    assert comp(a | b) == comp(a) & comp(b)
    assert comp(a & b) == comp(a) | comp(b)
    assert a - b == a & comp(b)
    assert comp(comp(a)) == a
    assert naive(comp(a)) == set(range(LO, HI + 1)) - naive(a)


@given(sets)
def test_boundaries_are_where_membership_changes(a: IntervalSet) -> None:
    changes = [v for v in range(LO - 1, HI + 3) if (v in a) != (v - 1 in a)]
    assert list(a.boundaries()) == changes


def test_span_and_reversed_bounds() -> None:
    assert IntervalSet.span(5, 4) == IntervalSet()
    assert IntervalSet.of([(5, 4), (1, 2)]) == IntervalSet.span(1, 2)
    assert IntervalSet.of([(1, 3), (4, 5)]).intervals == ((1, 5),)
    assert IntervalSet.of([(1, 3), (5, 6)]).intervals == ((1, 3), (5, 6))
