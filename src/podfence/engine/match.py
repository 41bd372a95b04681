"""Exact matching of one policy, rule or peer against one endpoint.

These functions are the semantics of spec §2.1 for a single object at a time. The
whole-cluster computation (:mod:`podfence.engine.connectivity`) gets the same
answers by equivalence classes; explanations and the lab compiler use these
directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from podfence.model import Cluster, Direction, Labels, NetworkPolicy, Peer, Pod, PolicyPort, Rule, Settings
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


def selects(policy: NetworkPolicy, pod: Pod, settings: Settings) -> bool:
    """True when ``policy``'s podSelector picks ``pod`` as a subject."""
    return (
        policy.namespace == pod.namespace
        and pod.is_pod_endpoint(settings)
        and policy.pod_selector.matches(pod.labels)
    )


def isolating_policies(cluster: Cluster, pod: Pod, direction: Direction, settings: Settings) -> tuple[NetworkPolicy, ...]:
    """The policies that select ``pod`` and guard ``direction`` (empty: not isolated)."""
    return tuple(p for p in cluster.policies if p.guards(direction) and selects(p, pod, settings))


def peer_matches(peer: Peer, policy_namespace: str, remote: Remote, cluster: Cluster, settings: Settings) -> bool:
    """Does one ``from``/``to`` entry of a policy in ``policy_namespace`` match ``remote``?"""
    if peer.ip_block is not None:
        if remote.address is None:
            return False
        if remote.pod is not None and remote.pod.is_pod_endpoint(settings) and not settings.ipblock_matches_pods:
            return False
        return remote.address in peer.ip_block.addresses
    pod = remote.pod
    if pod is None or not pod.is_pod_endpoint(settings):
        return False
    if peer.namespace_selector is not None:
        if not peer.namespace_selector.matches(namespace_labels(cluster, pod.namespace)):
            return False
    elif pod.namespace != policy_namespace:
        return False
    return peer.pod_selector is None or peer.pod_selector.matches(pod.labels)


def rule_peers_match(rule: Rule, policy_namespace: str, remote: Remote, cluster: Cluster, settings: Settings) -> bool:
    """Empty ``from``/``to`` matches every endpoint; otherwise any peer must."""
    return not rule.peers or any(peer_matches(p, policy_namespace, remote, cluster, settings) for p in rule.peers)


def port_entry_conns(entry: PolicyPort, destination: Pod | None, settings: Settings) -> ConnSet:
    """What one ``ports`` entry allows towards ``destination``.

    A named port is resolved on the destination pod; it never matches a
    destination that is not a pod policies can select (an address, a node, a
    hostNetwork pod).
    """
    if not isinstance(entry.port, str):
        return entry.numeric()
    if destination is None or not destination.is_pod_endpoint(settings):
        return ConnSet.none()
    numbers = destination.named_port_numbers(entry.port, entry.protocol, settings)
    return ConnSet.of_protocol(entry.protocol, IntervalSet.of((n, n) for n in numbers))


def rule_conns(rule: Rule, destination: Pod | None, settings: Settings) -> ConnSet:
    """What a rule's ``ports`` allow towards ``destination`` (no ports: everything)."""
    if not rule.ports:
        return everything(settings)
    out = ConnSet.none()
    for entry in rule.ports:
        out = out | port_entry_conns(entry, destination, settings)
    return out


def everything(settings: Settings) -> ConnSet:
    """Every protocol and port; non-L4 protocols follow the setting."""
    if settings.non_l4_rules_without_ports:
        return ConnSet.all()
    return ConnSet(ALL_PORTS, ALL_PORTS, ALL_PORTS, False)

