"""Sets of connections: which protocols and destination ports are allowed.

A :class:`ConnSet` maps each L4 protocol NetworkPolicy knows (TCP, UDP, SCTP) to the
destination ports allowed for it, and carries one more bit, ``other``, for every
protocol that has no ports (ICMP and the rest). A rule without ``ports`` allows
everything, ``other`` included; a rule with ports never allows ``other``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from podfence.sets.intervals import IntervalSet

MIN_PORT = 1
MAX_PORT = 65535


class Protocol(StrEnum):
    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"


PROTOCOLS: tuple[Protocol, ...] = (Protocol.TCP, Protocol.UDP, Protocol.SCTP)
ALL_PORTS = IntervalSet.span(MIN_PORT, MAX_PORT)
NO_PORTS = IntervalSet()


@dataclass(frozen=True, slots=True)
class ConnSet:
    """Allowed (protocol, destination port) pairs, plus ``other`` for non-L4 protocols.

    >>> ConnSet.ports(Protocol.TCP, 80, 81) | ConnSet.ports(Protocol.UDP, 53)
    ConnSet(tcp=IntervalSet(intervals=((80, 81),)), udp=IntervalSet(intervals=((53, 53),)), sctp=IntervalSet(intervals=()), other=False)
    """

    tcp: IntervalSet = NO_PORTS
    udp: IntervalSet = NO_PORTS
    sctp: IntervalSet = NO_PORTS
    other: bool = False

    @classmethod
    def all(cls) -> ConnSet:
        return _ALL

    @classmethod
    def none(cls) -> ConnSet:
        return _NONE

    @classmethod
    def ports(cls, protocol: Protocol, lo: int | None = None, hi: int | None = None) -> ConnSet:
        """Ports ``lo..hi`` of one protocol; every port when ``lo`` is None."""
        if lo is None:
            span = ALL_PORTS
        else:
            span = IntervalSet.span(max(lo, MIN_PORT), min(hi if hi is not None else lo, MAX_PORT))
        return cls.of_protocol(protocol, span)

    @classmethod
    def of_protocol(cls, protocol: Protocol, ports: IntervalSet) -> ConnSet:
        match protocol:
            case Protocol.TCP:
                return cls(tcp=ports)
            case Protocol.UDP:
                return cls(udp=ports)
            case Protocol.SCTP:
                return cls(sctp=ports)
        raise ValueError(f"unknown protocol {protocol!r}")

    def for_protocol(self, protocol: Protocol) -> IntervalSet:
        match protocol:
            case Protocol.TCP:
                return self.tcp
            case Protocol.UDP:
                return self.udp
            case Protocol.SCTP:
                return self.sctp
        raise ValueError(f"unknown protocol {protocol!r}")

    def by_protocol(self) -> tuple[tuple[Protocol, IntervalSet], ...]:
        """Non-empty protocols in TCP, UDP, SCTP order."""
        return tuple((p, s) for p, s in zip(PROTOCOLS, (self.tcp, self.udp, self.sctp)) if s)

    def allows(self, protocol: Protocol, port: int) -> bool:
        return port in self.for_protocol(protocol)

    def is_all(self) -> bool:
        return self == _ALL

    def is_empty(self) -> bool:
        return not (self.other or self.tcp or self.udp or self.sctp)

    def __bool__(self) -> bool:
        return not self.is_empty()

    def __or__(self, o: ConnSet) -> ConnSet:
        return ConnSet(self.tcp | o.tcp, self.udp | o.udp, self.sctp | o.sctp, self.other or o.other)

    def __and__(self, o: ConnSet) -> ConnSet:
        return ConnSet(self.tcp & o.tcp, self.udp & o.udp, self.sctp & o.sctp, self.other and o.other)

    def __sub__(self, o: ConnSet) -> ConnSet:
        return ConnSet(self.tcp - o.tcp, self.udp - o.udp, self.sctp - o.sctp, self.other and not o.other)

    def issubset(self, o: ConnSet) -> bool:
        return (self - o).is_empty()


_ALL = ConnSet(ALL_PORTS, ALL_PORTS, ALL_PORTS, True)
_NONE = ConnSet()
