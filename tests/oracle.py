"""A slow, literal reference evaluator for NetworkPolicy: the tests' oracle.

This is a second implementation of the semantics, written straight from the
rules below and deliberately sharing no code with ``podfence.engine`` (nor with
the model's helper methods such as ``LabelSelector.matches``): it reads the
normalised model objects and nothing else. It tries one connection at a time.

The rules, in the order they are applied:

* A pod *takes part* unless it is Succeeded/Failed (``terminal_pods_ignored``).
  A *pod endpoint* takes part and is not hostNetwork (``hostnetwork_as_node``):
  only pod endpoints are policy subjects or matched by selectors. A hostNetwork
  pod is its node's address: ipBlock can match it, nothing else.
* Each end uses its own addresses: a pod its IPs, an address itself. When both
  ends have addresses, the connection is judged once per pair of addresses of
  the same family (none shared: it cannot happen); when one end has none (a pod
  without IPs, such as a workload representative), once per address of the
  other end with no address on this one; when neither has any, once with no
  addresses. The result is the OR. ipBlock never matches an end without an
  address; selectors judge pods by labels whatever their addresses.
* A bare Pod reaching itself is allowed when ``allow_self_traffic``; a workload
  representative reaching itself stands for replica-to-replica traffic and is
  judged like any pair.
* Egress is judged when the source is a pod endpoint, ingress when the
  destination is; allowed = both. Egress to the source's own node is allowed
  (``allow_pod_to_local_node_egress``), and so is ingress from the destination's
  own node (``allow_node_to_local_pod_ingress``). An end *is* a node when it is a
  hostNetwork pod that is not a pod endpoint (its ``node_name``) or an address
  of that node. Node addresses are the ``host_ips`` of pods with a
  ``node_name``, the ``ips`` of hostNetwork pods with a ``node_name`` and the
  addresses of declared Nodes. A pod
  endpoint is never a node, whatever its IP.
* Otherwise a direction is allowed when no policy isolates the pod in it, or
  some rule of an isolating policy matches both the remote end (a rule without
  peers matches anyone) and the connection (a rule without ports matches every
  protocol; non-L4 only with ``non_l4_rules_without_ports``).
* Ports are destination ports. A named port resolves on the destination pod
  (containers, and init containers when ``named_port_include_init_containers``),
  with the container port's protocol equal to the rule's; it never matches a
  destination that is not a pod endpoint.

``protocol=None`` stands for a protocol without ports (ICMP and the like).

Cluster-wide tiers (ClusterNetworkPolicy, AdminNetworkPolicy,
BaselineAdminNetworkPolicy), when the cluster has any:

* A direction is decided by the Admin tier, then the NetworkPolicy tier, then the
  Baseline tier, then allowed. In the Admin and Baseline tiers the policies whose
  subject selects the pod (a pod endpoint in a namespace matching the subject's
  namespace selector, with labels matching its pod selector if any) and that have
  rules in the direction run by priority (equal priorities by name, then kind;
  reversed names when ``same_priority_by_name`` is off), rules in order: the
  first rule matching the connection decides: Accept/Allow allows, Deny denies,
  Pass leaves the rest of the tier and goes to the next one. No match: next tier.
* The NetworkPolicy tier decides only for an isolated pod (as above); egress to
  the pod's own node is allowed there (not in other tiers). Ingress from the
  pod's own node is allowed before any tier.
* A rule matches when a peer matches the remote end and its ports match (none:
  every protocol, non-L4 included). ``namespaces``/``pods`` match pod endpoints;
  ``networks`` the remote address whatever it is; ``nodes`` the addresses of the
  selected nodes (declared Nodes with their labels, and nodes pods name without
  a Node, with no labels; addresses: the Node's, the host IPs of pods on it, the
  IPs of hostNetwork pods on it); ``domainNames`` the addresses ``dns_map`` lists
  for a matching name. A peer podfence does not know matches everything in a
  Deny/Pass rule and nothing in an Accept rule; a port entry it does not know the
  same when ``protocol_entry_fail_closed``, else nothing. Named ports resolve on
  the destination pod with the container port's own protocol.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterable

from podfence.model import (
    ClusterPolicy, ClusterRule, Cluster, DomainNamesPeer, NamedDestinationPort, NamespacesPeer, NetworkPolicy,
    NetworksPeer, NodesPeer, Peer, Pod, PodsPeer, PolicyPort, PortNumbers, Rule, Settings, UnknownPeer, UnknownPort,
)
from podfence.sets import PROTOCOLS, ConnSet, IntervalSet, IPAddress, Protocol, parse_cidr

NAME_LABEL = "kubernetes.io/metadata.name"
End = Pod | IPAddress


@dataclass(frozen=True)
class _Side:
    """One end of one judgement: a pod (or None) and the address it uses (or None)."""

    pod: Pod | None
    address: IPAddress | None


def takes_part(pod: Pod, settings: Settings) -> bool:
    return not (settings.terminal_pods_ignored and pod.phase in ("Succeeded", "Failed"))


def is_pod_endpoint(pod: Pod | None, settings: Settings) -> bool:
    if pod is None or not takes_part(pod, settings):
        return False
    return not (settings.hostnetwork_as_node and pod.host_network)


def oracle_allows(cluster: Cluster, settings: Settings, src: End, dst: End,
                  protocol: Protocol | None, port: int) -> bool:
    """May ``src`` open a connection to ``dst`` (destination ``port``)?"""
    for end in (src, dst):
        if isinstance(end, Pod) and not takes_part(end, settings):
            return False
    if isinstance(src, Pod) and isinstance(dst, Pod):
        if src.key == dst.key and src.kind == "Pod" and settings.allow_self_traffic:
            return True
    return any(
        _judge(cluster, settings, s, d, protocol, port) for s, d in _judgements(src, dst)
    )


def oracle_conns(cluster: Cluster, settings: Settings, src: End, dst: End,
                 ports_to_try: Iterable[int]) -> ConnSet:
    """The allowed connections among ``ports_to_try`` (every protocol), plus non-L4."""
    ports = sorted(set(ports_to_try))
    out = ConnSet(other=oracle_allows(cluster, settings, src, dst, None, 0))
    for protocol in PROTOCOLS:
        allowed = [p for p in ports if oracle_allows(cluster, settings, src, dst, protocol, p)]
        out = out | ConnSet.of_protocol(protocol, IntervalSet.of((p, p) for p in allowed))
    return out


def _addresses(end: End) -> tuple[IPAddress, ...]:
    return end.ips if isinstance(end, Pod) else (end,)


def _judgements(src: End, dst: End) -> list[tuple[_Side, _Side]]:
    src_pod = src if isinstance(src, Pod) else None
    dst_pod = dst if isinstance(dst, Pod) else None
    src_ips, dst_ips = _addresses(src), _addresses(dst)
    if src_ips and dst_ips:
        return [
            (_Side(src_pod, a), _Side(dst_pod, b))
            for a in src_ips for b in dst_ips if a.version == b.version
        ]
    if src_ips:
        return [(_Side(src_pod, a), _Side(dst_pod, None)) for a in src_ips]
    if dst_ips:
        return [(_Side(src_pod, None), _Side(dst_pod, b)) for b in dst_ips]
    return [(_Side(src_pod, None), _Side(dst_pod, None))]


def _judge(cluster: Cluster, settings: Settings, src: _Side, dst: _Side,
           protocol: Protocol | None, port: int) -> bool:
    if cluster.cluster_policies:
        return _judge_tiers(cluster, settings, src, dst, protocol, port)
    egress_ok = True
    if is_pod_endpoint(src.pod, settings):
        assert src.pod is not None
        if settings.allow_pod_to_local_node_egress and _is_on_node(cluster, settings, dst, src.pod.node_name):
            egress_ok = True
        else:
            egress_ok = _direction_allows(cluster, settings, src.pod, "Egress", dst, protocol, port, dst.pod)
    ingress_ok = True
    if is_pod_endpoint(dst.pod, settings):
        assert dst.pod is not None
        if settings.allow_node_to_local_pod_ingress and _is_on_node(cluster, settings, src, dst.pod.node_name):
            ingress_ok = True
        else:
            ingress_ok = _direction_allows(cluster, settings, dst.pod, "Ingress", src, protocol, port, dst.pod)
    return egress_ok and ingress_ok


def node_addresses(cluster: Cluster, node: str) -> set[IPAddress]:
    """Every address known to belong to ``node``."""
    out: set[IPAddress] = {a for n in cluster.nodes if n.name == node for a in n.addresses}
    for pod in cluster.pods:
        if pod.node_name == node:
            out.update(pod.host_ips)
            if pod.host_network:
                out.update(pod.ips)
    return out


def _is_on_node(cluster: Cluster, settings: Settings, end: _Side, node: str | None) -> bool:
    """Is this end the node ``node`` itself (a hostNetwork pod there, or one of its addresses)?"""
    if node is None:
        return False
    if end.pod is not None:
        return end.pod.host_network and settings.hostnetwork_as_node and end.pod.node_name == node
    return end.address is not None and end.address in node_addresses(cluster, node)


def _direction_allows(cluster: Cluster, settings: Settings, local: Pod, policy_type: str, remote: _Side,
                      protocol: Protocol | None, port: int, destination: Pod | None) -> bool:
    isolating = [
        p for p in cluster.policies
        if p.namespace == local.namespace
        and policy_type in [str(t) for t in p.policy_types]
        and selector_matches(p.pod_selector, local.labels)
    ]
    if not isolating:
        return True
    for policy in isolating:
        rules = policy.ingress if policy_type == "Ingress" else policy.egress
        for rule in rules:
            if _ports_match(rule, protocol, port, destination, settings) and \
                    _peers_match(rule, policy, remote, cluster, settings):
                return True
    return False


def _ports_match(rule: Rule, protocol: Protocol | None, port: int, destination: Pod | None,
                 settings: Settings) -> bool:
    if not rule.ports:
        return protocol is not None or settings.non_l4_rules_without_ports
    if protocol is None:
        return False
    return any(_port_entry_matches(e, protocol, port, destination, settings) for e in rule.ports)


def _port_entry_matches(entry: PolicyPort, protocol: Protocol, port: int, destination: Pod | None,
                        settings: Settings) -> bool:
    if entry.protocol != protocol:
        return False
    if entry.port is None:
        return True
    if isinstance(entry.port, int):
        end = entry.end_port if entry.end_port is not None else entry.port
        return entry.port <= port <= end
    if not is_pod_endpoint(destination, settings):
        return False
    assert destination is not None
    for cp in destination.ports:
        if cp.init and not settings.named_port_include_init_containers:
            continue
        if cp.name == entry.port and cp.port == port and cp.protocol == protocol:
            return True
    return False


def _peers_match(rule: Rule, policy: NetworkPolicy, remote: _Side, cluster: Cluster, settings: Settings) -> bool:
    if not rule.peers:
        return True
    return any(_peer_matches(peer, policy, remote, cluster, settings) for peer in rule.peers)


def _peer_matches(peer: Peer, policy: NetworkPolicy, remote: _Side, cluster: Cluster, settings: Settings) -> bool:
    if peer.ip_block is not None:
        if remote.address is None:
            return False
        if is_pod_endpoint(remote.pod, settings) and not settings.ipblock_matches_pods:
            return False
        block = peer.ip_block
        return address_in_cidr(remote.address, block.cidr) and not any(
            address_in_cidr(remote.address, ex) for ex in block.except_
        )
    if not is_pod_endpoint(remote.pod, settings):
        return False
    assert remote.pod is not None
    if peer.namespace_selector is not None:
        if not selector_matches(peer.namespace_selector, namespace_labels(cluster, remote.pod.namespace)):
            return False
    elif remote.pod.namespace != policy.namespace:
        return False
    return peer.pod_selector is None or selector_matches(peer.pod_selector, remote.pod.labels)


def namespace_labels(cluster: Cluster, name: str) -> dict[str, str]:
    ns = next((n for n in cluster.namespaces if n.name == name), None)
    labels = dict(ns.labels) if ns is not None else {}
    labels[NAME_LABEL] = name
    return labels


def selector_matches(selector: object, labels: dict[str, str] | object) -> bool:
    """metav1.LabelSelector: matchLabels and matchExpressions, all ANDed."""
    data = dict(labels)  # type: ignore[call-overload]
    for key, value in selector.match_labels:  # type: ignore[attr-defined]
        if key not in data or data[key] != value:
            return False
    for req in selector.match_expressions:  # type: ignore[attr-defined]
        op = str(req.operator)
        present = req.key in data
        if op == "In" and not (present and data[req.key] in req.values):
            return False
        if op == "NotIn" and present and data[req.key] in req.values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def address_in_cidr(address: IPAddress, cidr_text: str) -> bool:
    """Is ``address`` in the CIDR as written (host bits ignored, families never cross)?"""
    network = _network(cidr_text)
    if network is None or network.version != address.version:
        return False
    return ipaddress.ip_address(str(address)) in network


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        # Only the lenient spellings (leading zeros, IPv4-mapped) end up here.
        parsed = parse_cidr(text)
        return ipaddress.ip_network(str(parsed)) if parsed is not None else None
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96 \
            and network.network_address.ipv4_mapped is not None:
        mapped = network.network_address.ipv4_mapped
        return ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}")
    return network


# -- cluster-wide tiers ---------------------------------------------------------------------


def _judge_tiers(cluster: Cluster, settings: Settings, src: _Side, dst: _Side,
                 protocol: Protocol | None, port: int) -> bool:
    egress_ok = True
    if is_pod_endpoint(src.pod, settings):
        assert src.pod is not None
        own = settings.allow_pod_to_local_node_egress and _is_on_node(cluster, settings, dst, src.pod.node_name)
        egress_ok = _tiered(cluster, settings, src.pod, "Egress", dst, protocol, port, dst.pod, own)
    if not egress_ok:
        return False
    if is_pod_endpoint(dst.pod, settings):
        assert dst.pod is not None
        if settings.allow_node_to_local_pod_ingress and _is_on_node(cluster, settings, src, dst.pod.node_name):
            return True
        return _tiered(cluster, settings, dst.pod, "Ingress", src, protocol, port, dst.pod, False)
    return True


def _tiered(cluster: Cluster, settings: Settings, local: Pod, direction: str, remote: _Side,
            protocol: Protocol | None, port: int, destination: Pod | None, own_node: bool) -> bool:
    verdict = _cluster_tier(cluster, settings, "Admin", local, direction, remote, protocol, port, destination)
    if verdict is not None:
        return verdict
    isolating = [
        p for p in cluster.policies
        if p.namespace == local.namespace and direction in [str(t) for t in p.policy_types]
        and selector_matches(p.pod_selector, local.labels)
    ]
    if isolating:
        if own_node:
            return True
        return _direction_allows(cluster, settings, local, direction, remote, protocol, port, destination)
    verdict = _cluster_tier(cluster, settings, "Baseline", local, direction, remote, protocol, port, destination)
    return True if verdict is None else verdict


def _ordered(policies: list[ClusterPolicy], settings: Settings) -> list[ClusterPolicy]:
    by_name = sorted(policies, key=lambda p: (p.name, p.kind), reverse=not settings.same_priority_by_name)
    return sorted(by_name, key=lambda p: p.priority)


def _cluster_tier(cluster: Cluster, settings: Settings, tier: str, local: Pod, direction: str, remote: _Side,
                  protocol: Protocol | None, port: int, destination: Pod | None) -> bool | None:
    """True/False when a rule of the tier decides, None when the tier leaves it to the next."""
    if not is_pod_endpoint(local, settings):
        return None
    candidates = []
    for p in cluster.cluster_policies:
        rules = p.ingress if direction == "Ingress" else p.egress
        if p.tier != tier or not rules:
            continue
        subject = p.subject
        ns_labels = namespace_labels(cluster, local.namespace)
        if isinstance(subject, NamespacesPeer):
            if not selector_matches(subject.selector, ns_labels):
                continue
        elif not (selector_matches(subject.namespace_selector, ns_labels)
                  and selector_matches(subject.pod_selector, local.labels)):
            continue
        candidates.append(p)
    for p in _ordered(candidates, settings):
        for rule in p.ingress if direction == "Ingress" else p.egress:
            if _cluster_rule_matches(cluster, settings, rule, remote, protocol, port, destination):
                if rule.action == "Pass":
                    return None
                return rule.action in ("Accept", "Allow")
    return None


def _cluster_rule_matches(cluster: Cluster, settings: Settings, rule: ClusterRule, remote: _Side,
                          protocol: Protocol | None, port: int, destination: Pod | None) -> bool:
    accept = rule.action in ("Accept", "Allow")
    peer_ok = any(_cluster_peer_matches(cluster, settings, peer, remote, accept) for peer in rule.peers)
    if not peer_ok:
        return False
    if not rule.ports:
        return True
    return any(_cluster_port_matches(settings, e, accept, protocol, port, destination) for e in rule.ports)


def _cluster_peer_matches(cluster: Cluster, settings: Settings, peer: object, remote: _Side, accept: bool) -> bool:
    if isinstance(peer, UnknownPeer):
        return not accept
    if isinstance(peer, (NamespacesPeer, PodsPeer)):
        if not is_pod_endpoint(remote.pod, settings):
            return False
        assert remote.pod is not None
        ns_labels = namespace_labels(cluster, remote.pod.namespace)
        if isinstance(peer, NamespacesPeer):
            return selector_matches(peer.selector, ns_labels)
        return selector_matches(peer.namespace_selector, ns_labels) and \
            selector_matches(peer.pod_selector, remote.pod.labels)
    if remote.address is None:
        return False
    if isinstance(peer, NetworksPeer):
        return any(address_in_cidr(remote.address, c) for c in peer.cidrs)
    if isinstance(peer, NodesPeer):
        return any(remote.address in addrs for name, (labels, addrs) in _nodes(cluster).items()
                   if selector_matches(peer.selector, labels))
    if isinstance(peer, DomainNamesPeer):
        return any(remote.address in addrs for name, addrs in settings.dns_map
                   if any(_domain_matches(d, name) for d in peer.names))
    raise AssertionError(peer)


def _nodes(cluster: Cluster) -> dict[str, tuple[dict[str, str], set[IPAddress]]]:
    out: dict[str, tuple[dict[str, str], set[IPAddress]]] = {
        n.name: (dict(n.labels), set(n.addresses)) for n in cluster.nodes}
    for pod in cluster.pods:
        if pod.node_name:
            out.setdefault(pod.node_name, ({}, set()))[1].update(node_addresses(cluster, pod.node_name))
    return out


def _domain_matches(pattern: str, name: str) -> bool:
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern.startswith("*."):
        labels = name.split(".")
        suffix = pattern[2:].split(".")
        return len(labels) > len(suffix) and labels[-len(suffix):] == suffix
    return pattern == name


def _cluster_port_matches(settings: Settings, entry: object, accept: bool, protocol: Protocol | None, port: int,
                          destination: Pod | None) -> bool:
    if isinstance(entry, UnknownPort):
        return settings.protocol_entry_fail_closed and not accept
    if protocol is None:
        return False
    if isinstance(entry, PortNumbers):
        return entry.protocol == protocol and entry.first <= port <= entry.last
    assert isinstance(entry, NamedDestinationPort)
    if not is_pod_endpoint(destination, settings):
        return False
    assert destination is not None
    return any(cp.name == entry.name and cp.port == port and cp.protocol == protocol
               and (not cp.init or settings.named_port_include_init_containers) for cp in destination.ports)
