"""IPSet laws, CIDR listing and the lenient CIDR parser."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podfence.sets import IntervalSet, IPAddress, IPSet, parse_cidr, parse_ip

V4_TOP = (1 << 32) - 1
V6_TOP = (1 << 128) - 1
# Addresses near both ends of each family keep the universe small but hit the edges.
V4_VALUES = [*range(0, 40), *range(V4_TOP - 39, V4_TOP + 1)]
V6_VALUES = [*range(0, 40), *range(V6_TOP - 39, V6_TOP + 1)]


def family_sets(values: list[int]) -> st.SearchStrategy[IntervalSet]:
    return st.lists(st.tuples(st.sampled_from(values), st.sampled_from(values)), max_size=4).map(IntervalSet.of)


ipsets = st.builds(IPSet, family_sets(V4_VALUES), family_sets(V6_VALUES))
ALL = IPSet.all()


def naive(s: IPSet) -> set[tuple[int, int]]:
    return {(4, v) for v in V4_VALUES if IPAddress(4, v) in s} | {(6, v) for v in V6_VALUES if IPAddress(6, v) in s}


@given(ipsets, ipsets)
def test_operations_agree_with_python_sets(a: IPSet, b: IPSet) -> None:
    assert naive(a | b) == naive(a) | naive(b)
    assert naive(a & b) == naive(a) & naive(b)
    assert naive(a - b) == naive(a) - naive(b)
    assert a.issubset(b) == (naive(a) <= naive(b))
    assert bool(a) == bool(naive(a))


@given(ipsets, ipsets, ipsets)
def test_algebra_laws(a: IPSet, b: IPSet, c: IPSet) -> None:
    assert a | b == b | a and a & b == b & a
    assert (a | b) | c == a | (b | c) and (a & b) & c == a & (b & c)
    assert a & (b | c) == (a & b) | (a & c)
    assert a | (b & c) == (a | b) & (a | c)
    assert a | a == a and a & a == a
    assert ALL - (a | b) == (ALL - a) & (ALL - b)
    assert ALL - (a & b) == (ALL - a) | (ALL - b)
    assert a - b == a & (ALL - b)


@given(ipsets)
def test_families_never_mix(a: IPSet) -> None:
    assert (a & IPSet.all_of(4)).v6 == IntervalSet()
    assert (a & IPSet.all_of(6)).v4 == IntervalSet()
    assert "10.0.0.1" not in a


def _cidr_set(texts: tuple[str, ...]) -> IPSet:
    out = IPSet()
    for text in texts:
        parsed = parse_cidr(text)
        assert parsed is not None and not parsed.host_bits, text
        out = out | IPSet.of_cidr(parsed)
    return out


def _siblings(x: str, y: str) -> bool:
    """Could two CIDRs be written as one (same size, adjacent, aligned pair)?"""
    a, b = ipaddress.ip_network(x), ipaddress.ip_network(y)
    if a.version != b.version or a.prefixlen != b.prefixlen or a.prefixlen == 0:
        return False
    return a.supernet() == b.supernet()


@settings(deadline=None)  # a wide IPv6 interval lists a few hundred CIDRs
@given(ipsets)
def test_cidrs_round_trip_and_are_minimal(a: IPSet) -> None:
    listed = a.cidrs()
    assert _cidr_set(listed) == a
    nets = [ipaddress.ip_network(t) for t in listed]
    assert [n.version for n in nets] == sorted(n.version for n in nets)  # IPv4 first
    for x, y in zip(nets, nets[1:]):
        if x.version == y.version:
            assert x.broadcast_address < y.network_address  # ordered and disjoint
    # Listed CIDRs are sorted and disjoint, so two that could merge would be neighbours.
    for x, y in zip(listed, listed[1:]):
        assert not _siblings(x, y), (x, y)


@given(st.integers(0, V4_TOP), st.integers(0, 32))
def test_any_ipv4_cidr_round_trips(value: int, prefix: int) -> None:
    net = ipaddress.ip_network((value, prefix), strict=False)
    s = IPSet.of_cidr(parse_cidr(f"{ipaddress.IPv4Address(value)}/{prefix}"))  # type: ignore[arg-type]
    assert s.cidrs() == (str(net),)


@given(st.integers(0, V6_TOP), st.integers(0, 128))
def test_any_ipv6_cidr_round_trips(value: int, prefix: int) -> None:
    net = ipaddress.ip_network((ipaddress.IPv6Address(value), prefix), strict=False)
    s = IPSet.of_cidr(parse_cidr(f"{ipaddress.IPv6Address(value)}/{prefix}"))  # type: ignore[arg-type]
    assert s.cidrs() == (str(net),)


def test_cidrs_of_whole_families() -> None:
    assert IPSet.all().cidrs() == ("0.0.0.0/0", "::/0")
    assert IPSet().cidrs() == ()
    assert IPSet(v4=IntervalSet.span(1, 6)).cidrs() == ("0.0.0.1/32", "0.0.0.2/31", "0.0.0.4/31", "0.0.0.6/32")


@given(st.integers(0, V4_TOP), st.integers(0, 32), st.lists(st.booleans(), min_size=4, max_size=4))
def test_leading_zeros_are_accepted_and_flagged(value: int, prefix: int, pad: list[bool]) -> None:
    octets = str(ipaddress.IPv4Address(value)).split(".")
    written = ".".join(f"0{o}" if p else o for o, p in zip(octets, pad))
    parsed = parse_cidr(f"{written}/{prefix}")
    assert parsed is not None
    net = ipaddress.ip_network((value, prefix), strict=False)
    assert (parsed.version, parsed.network, parsed.prefix) == (4, int(net.network_address), prefix)
    assert parsed.leading_zeros == any(pad)
    assert parsed.host_bits == (int(net.network_address) != value)


@given(st.integers(0, V4_TOP), st.integers(0, 32))
def test_ipv4_mapped_cidr_is_the_ipv4_network(value: int, prefix: int) -> None:
    mapped = parse_cidr(f"::ffff:{ipaddress.IPv4Address(value)}/{96 + prefix}")
    plain = parse_cidr(f"{ipaddress.IPv4Address(value)}/{prefix}")
    assert mapped is not None and plain is not None
    assert (mapped.version, mapped.network, mapped.prefix) == (plain.version, plain.network, plain.prefix)
    assert mapped.ipv4_mapped and mapped.written_prefix == 96 + prefix
    assert IPSet.of_cidr(mapped) == IPSet.of_cidr(plain)


@pytest.mark.parametrize(("text", "expected", "flags"), [
    ("10.0.0.5/8", "10.0.0.0/8", {"host_bits": True}),
    ("010.000.000.000/8", "10.0.0.0/8", {"leading_zeros": True}),
    ("::ffff:10.0.0.0/104", "10.0.0.0/8", {"ipv4_mapped": True}),
    ("::ffff:010.0.0.0/104", "10.0.0.0/8", {"ipv4_mapped": True, "leading_zeros": True}),
    ("fd00::1/64", "fd00::/64", {"host_bits": True}),
    ("0.0.0.0/0", "0.0.0.0/0", {}),
    ("::/0", "::/0", {}),
    ("10.1.2.3/32", "10.1.2.3/32", {}),
])
def test_lenient_cases(text: str, expected: str, flags: dict[str, bool]) -> None:
    parsed = parse_cidr(text)
    assert parsed is not None
    assert str(parsed) == expected
    for name in ("host_bits", "leading_zeros", "ipv4_mapped"):
        assert getattr(parsed, name) is flags.get(name, False), name


@pytest.mark.parametrize("text", [
    "", "10.0.0.1", "foo", "10.0.0.0/33", "10.0.0.0/", "/8", "10.0.0.0/8/8", "256.0.0.0/8",
    "10.0.0/8", "10.0.0.0.0/8", "fd00::/129", "fd00::g/64", "10.0.0.0/-1", "10.0.0.0/ 8",
    " 10.0.0.0/8", "10.0.0.0/8 ", "fe80::1%eth0/64", "1.2.3.4/0x8", "١٠.0.0.0/8", "10.0.0.0/8\n",
])
def test_bad_cidrs_are_none(text: str) -> None:
    assert parse_cidr(text) is None


def test_non_strings_are_none() -> None:
    assert parse_cidr(None) is None  # type: ignore[arg-type]
    assert parse_cidr(8) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "version", "value"), [
    ("10.0.0.1", 4, 0x0A000001),
    ("010.000.000.001", 4, 0x0A000001),
    ("::ffff:10.0.0.1", 4, 0x0A000001),
    ("fd00::1", 6, (0xFD00 << 112) | 1),
    (" 10.0.0.1 ", 4, 0x0A000001),
])
def test_parse_ip(text: str, version: int, value: int) -> None:
    assert parse_ip(text) == IPAddress(version, value)


@pytest.mark.parametrize("text", ["", "10.0.0.256", "10.0.0.0/8", "fd00::g", "1.2.3", "x"])
def test_bad_ips_are_none(text: str) -> None:
    assert parse_ip(text) is None


@given(st.lists(st.tuples(st.sampled_from([4, 6]), st.integers(0, V6_TOP), st.integers(0, 128)), max_size=12))
def test_of_cidrs_is_the_union_of_each(specs: list[tuple[int, int, int]]) -> None:
    cidrs = [parse_cidr(str(ipaddress.ip_network((value & V4_TOP if v == 4 else value, prefix % 33 if v == 4 else prefix),
                                                 strict=False)))
             for v, value, prefix in specs]
    one_by_one = IPSet()
    for c in cidrs:
        one_by_one = one_by_one | IPSet.of_cidr(c)
    assert IPSet.of_cidrs(cidrs) == one_by_one


@settings(deadline=None)
@given(ipsets)
def test_cidr_entries_are_the_cidrs_with_their_numbers(a: IPSet) -> None:
    entries = list(a.cidr_entries())
    assert tuple(text for *_, text in entries) == a.cidrs()
    for version, network, prefix, text in entries:
        parsed = ipaddress.ip_network(text)
        assert (parsed.version, int(parsed.network_address), parsed.prefixlen) == (version, network, prefix)
