"""Which changes a reviewer should read first.

Three kinds of change are flagged, most dangerous first:

* ``internet``: connections added to or from a wide swath of the public internet
  (:mod:`podfence.model.internet`): the changed addresses hold at least as many
  public addresses as a /8 (IPv4) or a /32 (IPv6). A single partner address is
  listed with the other changes.
* ``sensitive``: connections added into a sensitive pod
  (:mod:`podfence.model.sensitivity`) from anywhere outside its namespace and
  outside the namespaces the configuration allows to reach sensitive ones.
* ``dns``: UDP or TCP port 53 removed towards the cluster DNS
  (:mod:`podfence.model.dns`: the DNS pods, or the NodeLocal DNS address).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from podfence.config import Config
from podfence.diff.groups import ChangeGroup
from podfence.model import Cluster, Settings
from podfence.model.dns import DNS_PORT, DnsTarget, dns_part
from podfence.model.internet import public_part
from podfence.sets import IPSet, parse_cidr

WIDE_V4 = 1 << 24
WIDE_V6 = 1 << 96


def _block(cidrs: tuple[str, ...] | list[str]) -> IPSet:
    out = IPSet()
    for text in cidrs:
        parsed = parse_cidr(text)
        if parsed is not None:
            out = out | IPSet.of_cidr(parsed)
    return out


class Risk(IntEnum):
    """Kinds of dangerous change; a lower value is read first."""

    INTERNET = 0
    SENSITIVE = 1
    DNS = 2


@dataclass(frozen=True, slots=True)
class Flag:
    risk: Risk
    detail: str


def is_wide_public(addresses: IPSet) -> bool:
    """True when ``addresses`` hold a /8's worth of public IPv4 or a /32's worth of public IPv6."""
    public = public_part(addresses)
    return public.v4.size() >= WIDE_V4 or public.v6.size() >= WIDE_V6


def _addresses(names: tuple[str, ...], cluster: Cluster) -> IPSet:
    return _block([n for n in names if cluster.pod(n) is None])


def is_dns(name: str, cluster: Cluster, dns: DnsTarget, settings: Settings) -> bool:
    """A cluster DNS pod, or an address range holding NodeLocal DNS (:mod:`podfence.model.dns`)."""
    pod = cluster.pod(name)
    if pod is not None:
        return dns.is_dns_pod(pod, settings)
    return dns.node_local_address is not None and dns.node_local_address in _block([name])


def flags(group: ChangeGroup, old: Cluster, new: Cluster, config: Config, settings: Settings) -> tuple[Flag, ...]:
    """The dangerous kinds of change in one group, most dangerous first."""
    out: list[Flag] = []
    marks = config.sensitive
    if group.added:
        inbound = _addresses(group.srcs, new)
        outbound = _addresses(group.dsts, new)
        if is_wide_public(inbound):
            out.append(Flag(Risk.INTERNET, "reachable from the internet"))
        if is_wide_public(outbound):
            from_sensitive = any((sp := new.pod(s)) is not None and marks.is_sensitive(sp, new) for s in group.srcs)
            where = " from a sensitive namespace" if from_sensitive else ""
            out.append(Flag(Risk.INTERNET, f"reaches the internet{where}"))
        sensitive = sorted({
            p.namespace for d in group.dsts if (p := new.pod(d)) is not None and marks.is_sensitive(p, new)
        })
        if sensitive:
            allowed = set(config.sensitive.allowed_from)
            outsiders = [s for s in group.srcs if (sp := new.pod(s)) is None
                         or (sp.namespace not in sensitive and sp.namespace not in allowed)]
            if outsiders:
                out.append(Flag(Risk.SENSITIVE, f"into sensitive namespace {', '.join(sensitive)}"))
    lost = dns_part(group.removed)
    if lost and any(is_dns(d, old, config.dns, settings) for d in group.dsts):
        ports = ", ".join(f"{p} {DNS_PORT}" for p, _ in lost.by_protocol())
        out.append(Flag(Risk.DNS, f"loses DNS ({ports})"))
    out.sort(key=lambda f: f.risk)
    return tuple(out)


def rank(group_flags: tuple[Flag, ...]) -> int:
    """Sort key: the most dangerous flag's rank, unflagged groups last."""
    return min((f.risk.value for f in group_flags), default=len(Risk))


__all__ = ["Flag", "Risk", "flags", "is_dns", "is_wide_public", "rank"]
