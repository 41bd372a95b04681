"""Exact, immutable set algebra for ports, connections and IP addresses."""

from podfence.sets.conn import ALL_PORTS, MAX_PORT, MIN_PORT, PROTOCOLS, ConnSet, Protocol
from podfence.sets.intervals import IntervalSet
from podfence.sets.ips import Cidr, IPAddress, IPSet, parse_cidr, parse_ip

__all__ = [
    "ALL_PORTS", "MAX_PORT", "MIN_PORT", "PROTOCOLS", "Cidr", "ConnSet", "IPAddress",
    "IPSet", "IntervalSet", "Protocol", "parse_cidr", "parse_ip",
]
