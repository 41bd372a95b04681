"""Set laws for ConnSet: three protocols of ports plus the non-L4 bit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from podfence.sets import MAX_PORT, PROTOCOLS, ConnSet, IntervalSet, Protocol

# Ports near both ends of the range, so that 1 and 65535 are exercised.
PORT_VALUES = [*range(1, 13), *range(MAX_PORT - 11, MAX_PORT + 1)]
ports = st.lists(st.tuples(st.sampled_from(PORT_VALUES), st.sampled_from(PORT_VALUES)), max_size=4).map(IntervalSet.of)
conns = st.builds(ConnSet, ports, ports, ports, st.booleans())
ALL = ConnSet.all()


def naive(c: ConnSet) -> set[tuple[str, int]]:
    out = {("other", 0)} if c.other else set()
    for proto in PROTOCOLS:
        out.update((proto.value, v) for v in PORT_VALUES if c.allows(proto, v))
    return out


@given(conns, conns)
def test_operations_agree_with_python_sets(a: ConnSet, b: ConnSet) -> None:
    assert naive(a | b) == naive(a) | naive(b)
    assert naive(a & b) == naive(a) & naive(b)
    assert naive(a - b) == naive(a) - naive(b)
    assert a.issubset(b) == (naive(a) <= naive(b))
    assert a.is_empty() == (not naive(a))


@given(conns, conns, conns)
def test_algebra_laws(a: ConnSet, b: ConnSet, c: ConnSet) -> None:
    assert a | b == b | a and a & b == b & a
    assert (a | b) | c == a | (b | c) and (a & b) & c == a & (b & c)
    assert a & (b | c) == (a & b) | (a & c)
    assert a | (b & c) == (a | b) & (a | c)
    assert a | a == a and a & a == a


@given(conns, conns)
def test_de_morgan_against_everything(a: ConnSet, b: ConnSet) -> None:
    assert ALL - (a | b) == (ALL - a) & (ALL - b)
    assert ALL - (a & b) == (ALL - a) | (ALL - b)
    assert a - b == a & (ALL - b)
    assert ALL - (ALL - a) == a
    assert (a | (ALL - a)).is_all()


def test_constructors() -> None:
    assert ConnSet.ports(Protocol.TCP) == ConnSet(tcp=IntervalSet.span(1, MAX_PORT))
    assert ConnSet.ports(Protocol.UDP, 0, 70000) == ConnSet.ports(Protocol.UDP)
    assert ConnSet.ports(Protocol.SCTP, 80) == ConnSet(sctp=IntervalSet.span(80, 80))
    assert ConnSet.ports(Protocol.TCP, 90, 80).is_empty()
    assert ConnSet.all().is_all() and not ConnSet.all().is_empty()
    assert ConnSet.none().is_empty() and not ConnSet.none()
    assert not ConnSet(ConnSet.all().tcp, ConnSet.all().udp, ConnSet.all().sctp, False).is_all()
    mixed = ConnSet.ports(Protocol.SCTP, 5) | ConnSet.ports(Protocol.TCP, 7)
    assert [p for p, _ in mixed.by_protocol()] == [Protocol.TCP, Protocol.SCTP]
    assert mixed.allows(Protocol.TCP, 7) and not mixed.allows(Protocol.UDP, 7)
