"""The one definition of the public internet (podfence.model.internet)."""

from __future__ import annotations

import pytest

from podfence.model.internet import PUBLIC, PUBLIC_V4, PUBLIC_V6, covers_internet, public_of, public_part
from podfence.sets import IPSet, parse_cidr, parse_ip


def cidrs(*texts: str) -> IPSet:
    out = IPSet()
    for t in texts:
        parsed = parse_cidr(t)
        assert parsed is not None
        out = out | IPSet.of_cidr(parsed)
    return out


@pytest.mark.parametrize("address", [
    "0.0.0.1", "10.1.2.3", "100.64.0.1", "127.0.0.1", "169.254.169.254", "172.31.255.255", "192.0.0.9",
    "192.0.2.1", "192.168.1.1", "198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9", "224.0.0.1",
    "239.255.255.255", "240.0.0.1", "255.255.255.255",
    "::", "::1", "64:ff9b::1", "fc00::1", "fd12::1", "fe80::1", "ff02::1", "2001::1",
    "2001:db8::1", "3fff::1", "4000::1", "100::1",
])
def test_non_global_addresses_are_not_the_internet(address: str) -> None:
    ip = parse_ip(address)
    assert ip is not None and ip not in PUBLIC


@pytest.mark.parametrize("address", [
    "1.1.1.1", "8.8.8.8", "100.63.255.255", "100.128.0.0", "172.32.0.1", "192.0.1.1", "192.88.99.1",
    "198.17.255.255", "198.20.0.0", "223.255.255.255",
    "2000::1", "2001:200::1", "2001:4860:4860::8888", "2002::1", "2a00:1450::1", "3ffe:ffff::1",
])
def test_global_addresses_are_the_internet(address: str) -> None:
    ip = parse_ip(address)
    assert ip is not None and ip in PUBLIC


def test_families_and_their_union() -> None:
    assert public_of(4) == PUBLIC_V4 and public_of(6) == PUBLIC_V6 and PUBLIC == PUBLIC_V4 | PUBLIC_V6
    assert not PUBLIC_V4.v6 and not PUBLIC_V6.v4


def test_covers_the_internet_when_a_whole_family_is_held() -> None:
    assert covers_internet(IPSet.all())
    assert covers_internet(cidrs("0.0.0.0/0") - cidrs("10.0.0.0/8", "192.168.0.0/16"))
    assert covers_internet(cidrs("2000::/3"))
    assert covers_internet(cidrs("0.0.0.0/1", "128.0.0.0/1"))
    assert not covers_internet(cidrs("0.0.0.0/0") - cidrs("8.8.8.0/24"))
    assert not covers_internet(cidrs("8.0.0.0/8", "2a00::/12"))
    assert not covers_internet(IPSet())


def test_public_part() -> None:
    assert public_part(cidrs("10.0.0.0/8", "198.18.0.0/15")) == IPSet()
    assert public_part(cidrs("198.0.0.0/8")) == cidrs("198.0.0.0/8") - cidrs("198.18.0.0/15", "198.51.100.0/24")
