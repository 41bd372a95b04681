"""The intent that observed traffic implies.

Every observed connection becomes an intent entry: between workloads a
``talks_to`` entry on the source (or an ``ingress_from`` entry on the
destination when the source's namespace is excluded, by default the cluster DNS
namespace); to and from addresses ``egress`` and ``ingress_from`` entries. DNS
lookups to the cluster DNS are left to ``defaults.dns: allow``. Ports are the
destination ports seen on the wire (after Service translation); a port the
destination's manifest does not declare is written with ``undeclared: true``.

Addresses fold into CIDRs per workload, direction, protocol and port: with a
fixed ``prefix``, each address becomes its enclosing network of that length;
otherwise up to ``threshold`` addresses stay single-address CIDRs and more fold
into the smallest CIDR covering them. Every folding is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from podfence.flows import Observation, Observed
from podfence.generate.intents import (
    AddressRef, Entry, Intent, ServiceIntent, WorkloadRef, parse_workload,
)
from podfence.model import FieldPath, Pod, Settings
from podfence.model.dns import DnsTarget, is_dns_lookup
from podfence.model.ports import PortSpec
from podfence.sets import IPAddress, Protocol, parse_cidr

THRESHOLD = 4


@dataclass(frozen=True, slots=True)
class Folding:
    """How the addresses one workload used on one port became CIDRs."""

    workload: str
    direction: str  # "egress" or "ingress"
    protocol: Protocol
    port: int
    addresses: int
    cidrs: tuple[str, ...]
    rule: str


def covering_cidr(addresses: list[IPAddress]) -> str:
    """The smallest CIDR holding every address (all of one family)."""
    version = addresses[0].version
    bits = 32 if version == 4 else 128
    lo, hi = min(a.value for a in addresses), max(a.value for a in addresses)
    prefix = bits - (lo ^ hi).bit_length()
    network = lo & (((1 << bits) - 1) ^ ((1 << (bits - prefix)) - 1))
    return f"{IPAddress(version, network)}/{prefix}"


def prefix_cidr(address: IPAddress, prefix: int) -> str:
    bits = 32 if address.version == 4 else 128
    prefix = min(prefix, bits)
    network = address.value & (((1 << bits) - 1) ^ ((1 << (bits - prefix)) - 1))
    return f"{IPAddress(address.version, network)}/{prefix}"


def fold(addresses: list[IPAddress], prefix4: int | None, prefix6: int | None,
         threshold: int = THRESHOLD) -> tuple[list[str], str]:
    """CIDRs for a group of addresses, and the rule that chose them."""
    out: list[str] = []
    rules: list[str] = []
    for version, prefix in ((4, prefix4), (6, prefix6)):
        family = sorted({a for a in addresses if a.version == version}, key=lambda a: a.value)
        if not family:
            continue
        bits = 32 if version == 4 else 128
        if prefix is not None:
            cidrs = sorted({prefix_cidr(a, prefix) for a in family}, key=lambda c: _cidr_order(c))
            rules.append(f"--cidr-prefix{'' if version == 4 else '-v6'} {min(prefix, bits)}")
        elif len(family) <= threshold:
            cidrs = [f"{a}/{bits}" for a in family]
            rules.append(f"one /{bits} each: {threshold} or fewer addresses")
        else:
            cidrs = [covering_cidr(family)]
            rules.append(f"the smallest CIDR covering more than {threshold} addresses; choose with --cidr-prefix")
        out += cidrs
    return out, "; ".join(rules)


def _cidr_order(cidr: str) -> tuple[int, int]:
    parsed = parse_cidr(cidr)
    return (parsed.version, parsed.network) if parsed else (0, 0)


def _is_dns(obs: Observation, dns: DnsTarget, settings: Settings) -> bool:
    """A lookup to the cluster DNS that ``defaults.dns: allow`` lets through (:mod:`podfence.model.dns`)."""
    if not is_dns_lookup(obs.protocol, obs.port):
        return False
    dst = obs.dst
    if isinstance(dst, Pod):
        return dns.is_dns_pod(dst, settings)
    return dns.is_node_local(dst)


def _declares(pod: Pod, protocol: Protocol, port: int, settings: Settings) -> bool:
    return any(p.port == port and p.protocol == protocol and (settings.named_port_include_init_containers
                                                              or not p.init) for p in pod.ports)


def _as_end(end: Pod | IPAddress, settings: Settings) -> Pod | IPAddress | None:
    """A workload, or an address for a hostNetwork workload (None if it has none)."""
    if isinstance(end, Pod) and not end.is_pod_endpoint(settings):
        return end.ips[0] if end.ips else None
    return end


@dataclass
class _Service:
    ingress: dict[tuple[str, bool], list[PortSpec]]
    talks: dict[tuple[str, bool], list[PortSpec]]
    egress: dict[str, list[PortSpec]]
    seen: dict[tuple[str, str], list[int]]  # (kind, peer) -> [connections seen, of which denied]

    def count(self, kind: str, peer: str, obs: Observation) -> None:
        tally = self.seen.setdefault((kind, peer), [0, 0])
        tally[0] += obs.count
        tally[1] += obs.denied


@dataclass(frozen=True)
class FlowIntent:
    """The implied intent, how addresses were folded, notes, and a comment per intent entry."""

    intent: Intent
    foldings: tuple[Folding, ...]
    notes: tuple[str, ...]
    comments: dict[FieldPath, tuple[str, ...]]


def intent_from_flows(observed: Observed, settings: Settings, dns: DnsTarget, *,
                      prefix4: int | None = None, prefix6: int | None = None, threshold: int = THRESHOLD,
                      exclude: tuple[str, ...] | None = None) -> FlowIntent:
    """The intent implied by the observed connections."""
    excluded = set(exclude if exclude is not None else (dns.namespace,))
    services: dict[str, _Service] = {}
    notes: list[str] = []
    dns_lookups = 0
    both_excluded = 0
    no_address = 0
    addresses: dict[tuple[str, str, Protocol, int], list[IPAddress]] = {}
    address_obs: dict[tuple[str, str, Protocol, int], list[Observation]] = {}
    pods: dict[str, Pod] = {}

    def service(key: str) -> _Service:
        return services.setdefault(key, _Service({}, {}, {}, {}))

    def add(ports: list[PortSpec], spec: PortSpec) -> None:
        if spec not in ports:
            ports.append(spec)

    for obs in observed.connections.values():
        if _is_dns(obs, dns, settings):
            dns_lookups += obs.count
            continue
        src, dst = _as_end(obs.src, settings), _as_end(obs.dst, settings)
        if src is None or dst is None:
            no_address += obs.count
            continue
        spec = PortSpec(obs.protocol, obs.port)
        src_ours = isinstance(src, Pod) and src.namespace not in excluded
        dst_ours = isinstance(dst, Pod) and dst.namespace not in excluded
        if isinstance(src, Pod) and isinstance(dst, Pod):
            undeclared = not _declares(dst, obs.protocol, obs.port, settings)
            if src_ours:
                add(service(src.key).talks.setdefault((dst.key, undeclared), []), spec)
                service(src.key).count("talks_to", dst.key, obs)
            elif dst_ours:
                add(service(dst.key).ingress.setdefault((src.key, undeclared), []), spec)
                service(dst.key).count("ingress_from", src.key, obs)
            else:
                both_excluded += obs.count
        elif isinstance(src, Pod):
            if src_ours:
                assert isinstance(dst, IPAddress)
                addresses.setdefault((src.key, "egress", obs.protocol, obs.port), []).append(dst)
                address_obs.setdefault((src.key, "egress", obs.protocol, obs.port), []).append(obs)
            else:
                both_excluded += obs.count
        elif isinstance(dst, Pod):
            if dst_ours:
                pods[dst.key] = dst
                addresses.setdefault((dst.key, "ingress", obs.protocol, obs.port), []).append(src)
                address_obs.setdefault((dst.key, "ingress", obs.protocol, obs.port), []).append(obs)
            else:
                both_excluded += obs.count

    foldings: list[Folding] = []
    for (key, direction, protocol, port), addrs in sorted(addresses.items(), key=lambda kv: (kv[0][0], kv[0][1],
                                                                                               kv[0][2], kv[0][3])):
        cidrs, rule = fold(addrs, prefix4, prefix6, threshold)
        foldings.append(Folding(key, direction, protocol, port, len(set(addrs)), tuple(cidrs), rule))
        spec = PortSpec(protocol, port)
        for cidr in cidrs:
            parsed = parse_cidr(cidr)
            inside = [o for o in address_obs[(key, direction, protocol, port)]
                      if parsed is not None and _address_of(o, direction).version == parsed.version
                      and _in_cidr(_address_of(o, direction), cidr)]
            if direction == "egress":
                add(service(key).egress.setdefault(cidr, []), spec)
                for o in inside:
                    service(key).count("egress", cidr, o)
            else:
                undeclared = not _declares(pods[key], protocol, port, settings)
                add(service(key).ingress.setdefault((cidr, undeclared), []), spec)
                for o in inside:
                    service(key).count("ingress_from", cidr, o)

    if dns_lookups:
        notes.append(f"{_times(dns_lookups, 'DNS lookup')} to the cluster DNS: allowed by defaults.dns: allow")
    if both_excluded:
        notes.append(f"{_times(both_excluded, 'connection')} between excluded namespaces "
                     f"({', '.join(sorted(excluded))}) or addresses: the intent writes no policies for them")
    if no_address:
        notes.append(f"{_times(no_address, 'connection')} of hostNetwork workloads without a known address: left out")
    intent, comments = _intent(services)
    return FlowIntent(intent, tuple(foldings), tuple(notes), comments)


def _times(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _address_of(obs: Observation, direction: str) -> IPAddress:
    end = obs.dst if direction == "egress" else obs.src
    if isinstance(end, Pod):  # a hostNetwork workload stands for its address (see _as_end)
        end = end.ips[0]
    return end


def _in_cidr(address: IPAddress, cidr: str) -> bool:
    parsed = parse_cidr(cidr)
    return parsed is not None and parsed.contains(address)


def _seen(svc: _Service, kind: str, peer: str) -> tuple[str, ...]:
    count, denied = svc.seen.get((kind, peer), [0, 0])
    text = f"seen {count} time{'s' if count != 1 else ''}"
    return (text + (f", {denied} of them denied" if denied else ""),)


def _intent(services: dict[str, _Service]) -> tuple[Intent, dict[FieldPath, tuple[str, ...]]]:
    comments: dict[FieldPath, tuple[str, ...]] = {}
    out = []
    for key in sorted(services):
        svc = services[key]
        ns, name = key.split("/", 1)
        base = ("services", key)
        ingress = tuple(_entry(peer, ports, undeclared, base + ("ingress_from", i))
                        for i, ((peer, undeclared), ports) in enumerate(sorted(svc.ingress.items(), key=_order)))
        talks = tuple(_entry(peer, ports, undeclared, base + ("talks_to", i))
                      for i, ((peer, undeclared), ports) in enumerate(sorted(svc.talks.items(), key=_order)))
        egress = tuple(_entry(peer, ports, False, base + ("egress", i))
                       for i, (peer, ports) in enumerate(sorted(svc.egress.items(), key=lambda kv: _peer_order(kv[0]))))
        out.append(ServiceIntent(WorkloadRef(ns, name), ingress, talks, egress, base))
        for kind, entries in (("ingress_from", ingress), ("talks_to", talks), ("egress", egress)):
            for e in entries:
                peer = e.peer.cidr if isinstance(e.peer, AddressRef) else e.peer.key
                comments[e.path] = _seen(svc, kind, str(peer))
    return Intent(services=tuple(out)), comments


def _peer_order(peer: str) -> tuple[int, int, int, str]:
    if "/" in peer and (peer[:1].isdigit() or ":" in peer.split("/")[0]):
        version, network = _cidr_order(peer)
        return (1, version, network, peer)
    return (0, 0, 0, peer)


def _order(item: tuple[tuple[str, bool], list[PortSpec]]) -> tuple:  # type: ignore[type-arg]
    (peer, undeclared), _ = item
    return (*_peer_order(peer), undeclared)


def _entry(peer: str, ports: list[PortSpec], undeclared: bool, path: tuple) -> Entry:  # type: ignore[type-arg]
    ordered = tuple(sorted(ports, key=lambda p: (p.protocol.value != "TCP", p.protocol.value, p.port)))
    if parse_cidr(peer) is not None:
        return Entry(AddressRef(peer), ordered, undeclared, path)
    ref = parse_workload(peer, allow_service=False)
    assert not isinstance(ref, str), ref
    return Entry(ref, ordered, undeclared, path)


__all__ = ["FlowIntent", "Folding", "covering_cidr", "fold", "intent_from_flows", "prefix_cidr"]
