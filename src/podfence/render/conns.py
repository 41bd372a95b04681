"""How connections and address sets read, in text and in JSON."""

from __future__ import annotations

from typing import Any

from podfence.sets import ConnSet, IntervalSet, IPSet, parse_cidr


def ports_text(ports: IntervalSet) -> str:
    """``80-81,443`` (every port reads as ``all ports``)."""
    if ports.intervals == ((1, 65535),):
        return "all ports"
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ports)


def conns_text(conns: ConnSet) -> str:
    """``All``, ``TCP 80-81,443, UDP 53``, ``TCP all ports`` or ``nothing``.

    >>> from podfence.sets import Protocol
    >>> conns_text(ConnSet.ports(Protocol.TCP, 80, 81) | ConnSet.ports(Protocol.UDP, 53))
    'TCP 80-81, UDP 53'
    """
    if conns.is_all():
        return "All"
    if conns.is_empty():
        return "nothing"
    parts = []
    for proto, ports in conns.by_protocol():
        parts.append(f"{proto} {ports_text(ports)}")
    if conns.other:
        parts.append("other protocols")
    return ", ".join(parts)


def conns_json(conns: ConnSet) -> Any:
    """``"All"`` or ``{"TCP": [[lo, hi], ...], ...}`` listing non-empty protocols only."""
    if conns.is_all():
        return "All"
    out: dict[str, Any] = {str(p): [[lo, hi] for lo, hi in ports] for p, ports in conns.by_protocol()}
    if conns.other:
        out["other"] = True
    return out


def addresses_text(cidrs: list[str]) -> str:
    """A list of CIDRs, shortened to ``0.0.0.0/0 except ...`` when that is shorter."""
    if len(cidrs) <= 2:
        return ", ".join(cidrs)
    return _shortest(IPSet.of_cidrs(c for c in map(parse_cidr, cidrs) if c is not None))


def block_text(block: IPSet) -> str:
    """An address set as :func:`addresses_text` writes the list of its CIDRs."""
    listed = block.cidrs()
    return ", ".join(listed) if len(listed) <= 2 else _shortest(block)


def _shortest(whole: IPSet) -> str:
    """Per family, its CIDRs or ``universe except`` the others, whichever lists fewer."""
    parts = []
    for version in (4, 6):
        fam = whole.family(version)
        if not fam:
            continue
        universe = IPSet.all_of(version)
        mine = IPSet(v4=fam) if version == 4 else IPSet(v6=fam)
        holes = (universe - mine).cidrs()
        listed = mine.cidrs()
        if len(holes) < len(listed):
            parts.append(f"{universe.cidrs()[0]} except {', '.join(holes)}")
        else:
            parts.append(", ".join(listed))
    return ", ".join(parts)
