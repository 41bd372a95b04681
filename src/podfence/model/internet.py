"""The public internet: the addresses every podfence command calls "the internet".

One definition, from the IANA registries, for lint, audit, diff, generate (the
``internet`` peer of intent files) and what they print:

* IPv4: every address except the blocks the IANA IPv4 Special-Purpose Address
  Registry marks as not globally reachable (this network, private, shared,
  loopback, link-local, IETF protocol assignments, documentation, benchmarking,
  reserved, limited broadcast) and multicast (224.0.0.0/4).
* IPv6: the global unicast space 2000::/3 (IANA IPv6 Address Space registry:
  everything else is reserved, unique-local, link-local or multicast) except the
  blocks the IANA IPv6 Special-Purpose Address Registry marks as not globally
  reachable (IETF protocol assignments, documentation).

A block counts as a whole: the few anycast service addresses the registries mark
globally reachable inside a non-global block (such as 192.0.0.9/32) are not
counted, so the internet of each family is one ipBlock (a CIDR minus excepts).

>>> from podfence.sets import parse_ip
>>> parse_ip("8.8.8.8") in PUBLIC, parse_ip("198.18.0.1") in PUBLIC, parse_ip("2001:db8::1") in PUBLIC
(True, False, False)
"""

from __future__ import annotations

from podfence.sets import IPSet, parse_cidr

# IPv4 Special-Purpose Address Registry, "Globally Reachable: False", and multicast.
NOT_GLOBAL_V4 = (
    "0.0.0.0/8",  # "this network" (RFC 791)
    "10.0.0.0/8",  # private use (RFC 1918)
    "100.64.0.0/10",  # shared address space (RFC 6598)
    "127.0.0.0/8",  # loopback (RFC 1122)
    "169.254.0.0/16",  # link local (RFC 3927)
    "172.16.0.0/12",  # private use (RFC 1918)
    "192.0.0.0/24",  # IETF protocol assignments (RFC 6890)
    "192.0.2.0/24",  # documentation, TEST-NET-1 (RFC 5737)
    "192.168.0.0/16",  # private use (RFC 1918)
    "198.18.0.0/15",  # benchmarking (RFC 2544)
    "198.51.100.0/24",  # documentation, TEST-NET-2 (RFC 5737)
    "203.0.113.0/24",  # documentation, TEST-NET-3 (RFC 5737)
    "224.0.0.0/4",  # multicast (RFC 5771)
    "240.0.0.0/4",  # reserved (RFC 1112), with the limited broadcast address
)
GLOBAL_UNICAST_V6 = "2000::/3"
# IPv6 Special-Purpose Address Registry, "Globally Reachable: False", inside 2000::/3.
NOT_GLOBAL_V6 = (
    "2001::/23",  # IETF protocol assignments (RFC 2928)
    "2001:db8::/32",  # documentation (RFC 3849)
    "3fff::/20",  # documentation (RFC 9637)
)


def _union(cidrs: tuple[str, ...]) -> IPSet:
    out = IPSet()
    for text in cidrs:
        cidr = parse_cidr(text)
        assert cidr is not None, text
        out = out | IPSet.of_cidr(cidr)
    return out


PUBLIC_V4 = IPSet.all_of(4) - _union(NOT_GLOBAL_V4)
PUBLIC_V6 = _union((GLOBAL_UNICAST_V6,)) - _union(NOT_GLOBAL_V6)
PUBLIC = PUBLIC_V4 | PUBLIC_V6


def public_of(version: int) -> IPSet:
    """The public internet of one address family."""
    return PUBLIC_V4 if version == 4 else PUBLIC_V6


def covers_internet(addresses: IPSet) -> bool:
    """True when ``addresses`` hold every public IPv4 address or every public IPv6 one."""
    return PUBLIC_V4.issubset(addresses) or PUBLIC_V6.issubset(addresses)


def public_part(addresses: IPSet) -> IPSet:
    """The addresses of ``addresses`` that are on the public internet."""
    return addresses & PUBLIC


__all__ = [
    "GLOBAL_UNICAST_V6", "NOT_GLOBAL_V4", "NOT_GLOBAL_V6", "PUBLIC", "PUBLIC_V4", "PUBLIC_V6", "covers_internet",
    "public_of", "public_part",
]
