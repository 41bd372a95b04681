"""IP addresses, CIDRs and exact sets of addresses.

Parsing follows the API server's legacy ("sloppy") rules, which are what clusters
accept by default: IPv4 octets may carry leading zeros (``010`` is ten), a CIDR may
have host bits set (they are masked off), and an IPv4-mapped IPv6 CIDR with a
prefix of at least 96 bits stands for the IPv4 network it embeds. Each parse
records which of these leniencies it used, so the validator can warn about them or,
in strict mode, reject them.

Address families never mix: an :class:`IPSet` keeps IPv4 and IPv6 addresses as two
separate integer interval sets.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterable, Iterator

from podfence.sets.intervals import IntervalSet

V4_MAX = (1 << 32) - 1
V6_MAX = (1 << 128) - 1
_MAPPED_PREFIX = 0xFFFF << 32


def _family_bits(version: int) -> int:
    return 32 if version == 4 else 128


@dataclass(frozen=True, slots=True)
class IPAddress:
    """One address: ``version`` 4 or 6 and its integer value."""

    version: int
    value: int

    def __str__(self) -> str:
        if self.version == 4:
            return str(ipaddress.IPv4Address(self.value))
        return str(ipaddress.IPv6Address(self.value))


@dataclass(frozen=True, slots=True)
class Cidr:
    """A parsed CIDR, normalised to its network address.

    ``leading_zeros`` (in the address or the prefix length), ``ipv4_mapped`` (the
    address is written as IPv4-mapped IPv6, whatever the prefix) and ``host_bits``
    say which leniencies of the legacy parser were needed; strict validation
    rejects any of them.
    ``written_prefix`` is the prefix length as written (for IPv4-mapped values it
    counts 128 bits, as the API server's strict-subset check does).
    """

    version: int
    network: int
    prefix: int
    written_prefix: int
    leading_zeros: bool = False
    ipv4_mapped: bool = False
    host_bits: bool = False

    @property
    def first(self) -> int:
        return self.network

    @property
    def last(self) -> int:
        return self.network | ((1 << (_family_bits(self.version) - self.prefix)) - 1)

    def contains(self, address: IPAddress) -> bool:
        return address.version == self.version and self.first <= address.value <= self.last

    def __str__(self) -> str:
        return f"{IPAddress(self.version, self.network)}/{self.prefix}"


def _parse_decimal(text: str, limit: int) -> int | None:
    if not text or not text.isascii() or not text.isdigit():
        return None
    significant = text.lstrip("0")
    if len(significant) > len(str(limit)):
        return None
    value = int(significant or "0")
    return value if value <= limit else None


def _parse_ipv4(text: str) -> tuple[int, bool] | None:
    """Dotted quad with optional leading zeros; returns (value, had_leading_zeros)."""
    parts = text.split(".")
    if len(parts) != 4:
        return None
    value = 0
    zeros = False
    for part in parts:
        octet = _parse_decimal(part, 255)
        if octet is None:
            return None
        zeros = zeros or (len(part) > 1 and part[0] == "0")
        value = (value << 8) | octet
    return value, zeros


def _parse_ipv6(text: str) -> tuple[int, bool] | None:
    if "%" in text or not text.isascii():
        return None
    zeros = False
    head, sep, tail = text.rpartition(":")
    if sep and "." in tail:
        v4 = _parse_ipv4(tail)
        if v4 is None:
            return None
        zeros = v4[1]
        text = f"{head}:{ipaddress.IPv4Address(v4[0])}"
    try:
        return int(ipaddress.IPv6Address(text)), zeros
    except ValueError:
        return None


def parse_ip(text: str) -> IPAddress | None:
    """Parse one address with the legacy rules; None if it is not an address.

    An IPv4-mapped IPv6 address is the IPv4 address it embeds.
    """
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        return None
    if ":" not in text:
        v4 = _parse_ipv4(text)
        return IPAddress(4, v4[0]) if v4 else None
    v6 = _parse_ipv6(text)
    if v6 is None:
        return None
    if v6[0] >> 32 == 0xFFFF:
        return IPAddress(4, v6[0] & V4_MAX)
    return IPAddress(6, v6[0])


def parse_cidr(text: str) -> Cidr | None:
    """Parse a CIDR the way clusters do by default; None if it is not a CIDR.

    >>> str(parse_cidr("10.0.0.5/8"))
    '10.0.0.0/8'
    >>> str(parse_cidr("::ffff:10.0.0.0/104"))
    '10.0.0.0/8'
    """
    if not isinstance(text, str) or text.count("/") != 1:
        return None
    addr_text, prefix_text = text.split("/")
    if ":" in addr_text:
        parsed = _parse_ipv6(addr_text)
        bits = 128
    else:
        parsed = _parse_ipv4(addr_text)
        bits = 32
    if parsed is None:
        return None
    prefix = _parse_decimal(prefix_text, bits)
    if prefix is None:
        return None
    value, zeros = parsed
    zeros = zeros or (len(prefix_text) > 1 and prefix_text[0] == "0")
    mapped = bits == 128 and value >> 32 == 0xFFFF
    mask = ((1 << bits) - 1) ^ ((1 << (bits - prefix)) - 1)
    network = value & mask
    host_bits = network != value
    if bits == 128 and prefix >= 96 and network >> 32 == 0xFFFF:
        return Cidr(4, network & V4_MAX, prefix - 96, prefix, zeros, True, host_bits)
    return Cidr(4 if bits == 32 else 6, network, prefix, prefix, zeros, mapped, host_bits)


def _address_text(version: int, value: int) -> str:
    """``str(IPAddress(version, value))``; IPv4 by hand, as it is written for every CIDR of large sets."""
    if version == 4:
        return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"
    return str(ipaddress.IPv6Address(value))


def _to_cidrs(lo: int, hi: int, bits: int) -> Iterator[tuple[int, int]]:
    while lo <= hi:
        size = (lo & -lo).bit_length() - 1 if lo else bits
        while size > 0 and lo + (1 << size) - 1 > hi:
            size -= 1
        yield lo, bits - size
        lo += 1 << size


@dataclass(frozen=True, slots=True)
class IPSet:
    """An exact set of IPv4 and IPv6 addresses."""

    v4: IntervalSet = IntervalSet()
    v6: IntervalSet = IntervalSet()

    @classmethod
    def all(cls) -> IPSet:
        return _ALL

    @classmethod
    def all_of(cls, version: int) -> IPSet:
        return cls(v4=IntervalSet.span(0, V4_MAX)) if version == 4 else cls(v6=IntervalSet.span(0, V6_MAX))

    @classmethod
    def of_cidr(cls, cidr: Cidr) -> IPSet:
        span = IntervalSet.span(cidr.first, cidr.last)
        return cls(v4=span) if cidr.version == 4 else cls(v6=span)

    @classmethod
    def of_cidrs(cls, cidrs: Iterable[Cidr]) -> IPSet:
        """The union of many CIDRs, sorted and merged once."""
        v4: list[tuple[int, int]] = []
        v6: list[tuple[int, int]] = []
        for c in cidrs:
            (v4 if c.version == 4 else v6).append((c.first, c.last))
        return cls(IntervalSet.of(v4), IntervalSet.of(v6))

    @classmethod
    def of_address(cls, address: IPAddress) -> IPSet:
        span = IntervalSet.span(address.value, address.value)
        return cls(v4=span) if address.version == 4 else cls(v6=span)

    @classmethod
    def of_addresses(cls, addresses: Iterable[IPAddress]) -> IPSet:
        """Single addresses, as one set."""
        v4: list[tuple[int, int]] = []
        v6: list[tuple[int, int]] = []
        for a in addresses:
            (v4 if a.version == 4 else v6).append((a.value, a.value))
        return cls(IntervalSet.of(v4), IntervalSet.of(v6))

    def family(self, version: int) -> IntervalSet:
        return self.v4 if version == 4 else self.v6

    def __bool__(self) -> bool:
        return bool(self.v4) or bool(self.v6)

    def __or__(self, o: IPSet) -> IPSet:
        return IPSet(self.v4 | o.v4, self.v6 | o.v6)

    def __and__(self, o: IPSet) -> IPSet:
        return IPSet(self.v4 & o.v4, self.v6 & o.v6)

    def __sub__(self, o: IPSet) -> IPSet:
        return IPSet(self.v4 - o.v4, self.v6 - o.v6)

    def issubset(self, o: IPSet) -> bool:
        return not (self - o)

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, IPAddress):
            return False
        return address.value in self.family(address.version)

    def cidrs(self) -> tuple[str, ...]:
        """The fewest CIDRs that cover exactly this set, IPv4 first, in address order."""
        return tuple(text for _, _, _, text in self.cidr_entries())

    def cidr_entries(self) -> Iterator[tuple[int, int, int, str]]:
        """:meth:`cidrs` as ``(version, network, prefix, text)``: text with its address-order key."""
        for version, intervals in ((4, self.v4), (6, self.v6)):
            bits = _family_bits(version)
            for lo, hi in intervals:
                for net, prefix in _to_cidrs(lo, hi, bits):
                    yield version, net, prefix, f"{_address_text(version, net)}/{prefix}"


_ALL = IPSet(IntervalSet.span(0, V4_MAX), IntervalSet.span(0, V6_MAX))
