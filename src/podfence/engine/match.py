"""Exact matching of one policy, rule or peer against one endpoint.

These functions are the evaluation of docs/semantics.md for a single object at a time, read
from the policy IR (:mod:`podfence.engine.ir`). The whole-cluster computation
(:mod:`podfence.engine.connectivity`) gets the same answers by equivalence classes;
explanations, lint and the lab compiler use these directly. Each ``match``
statement over a subject, peer or port variant is where a new variant learns
what it means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from podfence.engine.ir import (
    AddressPeer, ClusterPods, IRPeer, IRPolicy, IRRule, NamedPort, PodsInNamespace, PortEntry, PortRange, Ports,
    SelectorPeer, Subject, Tier, ir_of, ports_of,
)
from podfence.model import Cluster, Direction, Labels, Pod, PolicyPort, Settings
from podfence.model.objects import NAMESPACE_NAME_LABEL
from podfence.sets import ALL_PORTS, ConnSet, IntervalSet, IPAddress


@dataclass(frozen=True, slots=True)
class Remote:
    """The far end of a connection as a rule sees it.

    ``pod`` is set when the endpoint is a known pod; ``address`` is the IP the
    connection uses there, when known. A pod without a known IP is matched by its
    labels only; an address without a pod is matched by ipBlock only.
    """

    pod: Pod | None = None
    address: IPAddress | None = None


def namespace_labels(cluster: Cluster, name: str) -> Labels:
    ns = cluster.namespace(name)
    return ns.labels if ns is not None else Labels({NAMESPACE_NAME_LABEL: name})


def subject_matches(subject: Subject, pod: Pod, cluster: Cluster) -> bool:
    """Does ``subject`` describe ``pod`` (by namespace and labels alone)?"""
    match subject:
        case PodsInNamespace():
            return subject.namespace == pod.namespace and subject.pod_selector.matches(pod.labels)
        case ClusterPods():
            return (subject.namespace_selector.matches(namespace_labels(cluster, pod.namespace))
                    and (subject.pod_selector is None or subject.pod_selector.matches(pod.labels)))
        case _:
            assert_never(subject)


def selects(policy: IRPolicy, pod: Pod, cluster: Cluster, settings: Settings) -> bool:
    """True when ``policy`` picks ``pod`` as a subject (only pods policies can select)."""
    return pod.is_pod_endpoint(settings) and subject_matches(policy.subject, pod, cluster)


def isolating_policies(cluster: Cluster, pod: Pod, direction: Direction, settings: Settings) -> tuple[IRPolicy, ...]:
    """The NetworkPolicies that select ``pod`` and guard ``direction`` (empty: not isolated).

    Kept with the cluster for its own pods, so that many verdicts on the same pods
    (flows replayed, explanations) scan the policies once per pod and direction.
    """
    if cluster.pod(pod.key) is not pod:
        return _isolating(cluster, pod, direction, settings)
    known: dict[tuple[str, Direction, Settings], tuple[IRPolicy, ...]] = cluster.derived("isolating", lambda _: {})
    key = (pod.key, direction, settings)
    found = known.get(key)
    if found is None:
        found = known[key] = _isolating(cluster, pod, direction, settings)
    return found


def _isolating(cluster: Cluster, pod: Pod, direction: Direction, settings: Settings) -> tuple[IRPolicy, ...]:
    return tuple(p for p in ir_of(cluster).in_tier(Tier.NETWORK_POLICY)
                 if p.guarded(direction) and selects(p, pod, cluster, settings))


def tier_policies(cluster: Cluster, pod: Pod, direction: Direction, settings: Settings,
                  tier: Tier) -> tuple[IRPolicy, ...]:
    """The policies of a cluster-wide ``tier`` that select ``pod`` and have rules in ``direction``,
    in the order they run."""
    return tuple(p for p in ir_of(cluster).evaluation_order(tier, settings)
                 if p.guarded(direction) and selects(p, pod, cluster, settings))


def peer_matches(peer: IRPeer, remote: Remote, cluster: Cluster, settings: Settings) -> bool:
    """Does one ``from``/``to`` entry match ``remote``?"""
    match peer:
        case AddressPeer():
            if remote.address is None:
                return False
            if (remote.pod is not None and remote.pod.is_pod_endpoint(settings) and not settings.ipblock_matches_pods
                    and not peer.always_matches_pods):
                return False
            return remote.address in peer.resolved(settings)
        case SelectorPeer():
            pod = remote.pod
            if pod is None or not pod.is_pod_endpoint(settings):
                return False
            if peer.namespace_selector is not None:
                if not peer.namespace_selector.matches(namespace_labels(cluster, pod.namespace)):
                    return False
            elif pod.namespace != peer.namespace:
                return False
            return peer.pod_selector is None or peer.pod_selector.matches(pod.labels)
        case _:
            assert_never(peer)


def rule_peers_match(rule: IRRule, remote: Remote, cluster: Cluster, settings: Settings) -> bool:
    """No peers match every endpoint; otherwise any peer must."""
    return not rule.peers or any(peer_matches(p, remote, cluster, settings) for p in rule.peers)


def port_entry_conns(entry: PortEntry, destination: Pod | None, settings: Settings) -> ConnSet:
    """What one port entry admits towards ``destination``.

    A named port is resolved on the destination pod; it never matches a
    destination that is not a pod policies can select (an address, a node, a
    hostNetwork pod).
    """
    match entry:
        case PortRange():
            return entry.conns()
        case NamedPort():
            if destination is None or not destination.is_pod_endpoint(settings):
                return ConnSet.none()
            numbers = destination.named_port_numbers(entry.name, entry.protocol, settings)
            return ConnSet.of_protocol(entry.protocol, IntervalSet.of((n, n) for n in numbers))
        case _:
            assert_never(entry)


def ports_conns(ports: Ports, destination: Pod | None, settings: Settings) -> ConnSet:
    """What ``ports`` admit towards ``destination`` (no entries: everything)."""
    if ports.everything:
        return ConnSet.all() if ports.every_protocol else everything(settings)
    if ports.unknown == "all" and settings.protocol_entry_fail_closed:
        return ConnSet.all()  # an entry podfence cannot read, in a Deny or Pass rule: fail closed
    out = ports.numeric
    for entry in ports.named:
        out = out | port_entry_conns(entry, destination, settings)
    return out


def rule_conns(rule: IRRule, destination: Pod | None, settings: Settings) -> ConnSet:
    """What a rule's ports admit towards ``destination`` (no ports: everything)."""
    return ports_conns(rule.ports, destination, settings)


def conns_of(ports: tuple[PolicyPort, ...], destination: Pod | None, settings: Settings) -> ConnSet:
    """What a NetworkPolicy ``ports`` list admits towards ``destination`` (empty: everything)."""
    return ports_conns(ports_of(ports), destination, settings)


def everything(settings: Settings) -> ConnSet:
    """Every protocol and port; non-L4 protocols follow the setting."""
    if settings.non_l4_rules_without_ports:
        return ConnSet.all()
    return ConnSet(ALL_PORTS, ALL_PORTS, ALL_PORTS, False)
