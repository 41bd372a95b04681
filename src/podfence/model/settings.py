"""The knobs where Kubernetes leaves behaviour open, with podfence's defaults.

Every default matches the conformance suite or the most common implementation;
each can be changed for a cluster whose network plugin behaves otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from podfence.sets import IPAddress


@dataclass(frozen=True, slots=True)
class Settings:
    """Evaluation and validation settings.

    Attributes:
        ipblock_matches_pods: ipBlock peers also match pod IPs (the conformance
            suite requires it; some plugins ignore CIDRs for in-cluster endpoints).
        allow_self_traffic: a pod may always reach itself on its own pod IP.
        allow_node_to_local_pod_ingress: traffic from a pod's own node (kubelet
            probes, hostNetwork pods on that node) is always allowed in.
        allow_pod_to_local_node_egress: a pod may always reach its own node.
        hostnetwork_as_node: a hostNetwork pod is its node's address: policies do
            not apply to it and selectors never match it.
        non_l4_rules_without_ports: a rule without ``ports`` also allows protocols
            other than TCP, UDP and SCTP (a rule with ports never does).
        named_port_include_init_containers: named ports are looked up in init
            containers as well as containers.
        strict_cidr_validation: reject CIDRs that the legacy parser accepts (leading
            zeros, IPv4-mapped IPv6, host bits); otherwise warn and normalise.
        terminal_pods_ignored: Succeeded and Failed pods take no part in traffic.
        cluster_policy_standard_channel: validate ClusterNetworkPolicy,
            AdminNetworkPolicy and BaselineAdminNetworkPolicy against the standard
            channel's CRDs, where the experimental fields (``nodes`` and
            ``domainNames`` peers, v1alpha1 ``namedPort``) are unknown; otherwise
            against the experimental channel, which has them.
        same_priority_by_name: two cluster-wide policies of one tier with the same
            priority run in ascending ``metadata.name`` order (then kind); false
            runs them in descending order, to see whether the order matters. The
            API leaves the order open; podfence warns about such pairs.
        protocol_entry_fail_closed: a cluster-wide policy's port entry with no
            field podfence knows fails closed like a peer does (it matches nothing
            in an Accept rule, every protocol and port in a Deny or Pass rule);
            false: such an entry matches nothing.
        domainnames_non_accept: a ``domainNames`` peer in a Deny or Pass rule (the
            API documents it for Accept rules only, and accepts it): ``error``
            refuses the policy (V64); ``warn`` reports it and evaluates the peer
            like in an Accept rule (the ``dns_map`` addresses).
        cnp_named_port_with_ip_peers: an egress rule with a ``networks``,
            ``nodes`` or ``domainNames`` peer and a named port (the experimental
            CRD refuses it, the standard one accepts it): ``error`` refuses the
            policy (V63) in both channels; ``warn`` reports it, and the named port
            then resolves on destination pods only (an address or node has none).
        dns_map: the addresses each domain name resolves to, for ``domainNames``
            peers (a static evaluator cannot resolve names); ``(name, addresses)``
            pairs, names lower-case without a trailing dot. Empty: domainNames
            peers match nothing.
    """

    ipblock_matches_pods: bool = True
    allow_self_traffic: bool = True
    allow_node_to_local_pod_ingress: bool = True
    allow_pod_to_local_node_egress: bool = True
    hostnetwork_as_node: bool = True
    non_l4_rules_without_ports: bool = True
    named_port_include_init_containers: bool = True
    strict_cidr_validation: bool = False
    terminal_pods_ignored: bool = True
    cluster_policy_standard_channel: bool = False
    same_priority_by_name: bool = True
    protocol_entry_fail_closed: bool = True
    domainnames_non_accept: str = "error"
    cnp_named_port_with_ip_peers: str = "error"
    dns_map: tuple[tuple[str, tuple[IPAddress, ...]], ...] = ()

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def switches(cls) -> tuple[str, ...]:
        """The knobs that are true or false (``--set KNOB=true|false``)."""
        return tuple(f.name for f in fields(cls) if f.type == "bool")

    @classmethod
    def choices(cls) -> dict[str, tuple[str, ...]]:
        """The knobs that take one of a few words (``--set KNOB=WORD``), with their words."""
        return dict(_CHOICES)

    def with_values(self, **values: Any) -> Settings:
        unknown = set(values) - set(self.names())
        if unknown:
            raise KeyError(", ".join(sorted(unknown)))
        for knob, value in values.items():
            if knob in _CHOICES and value not in _CHOICES[knob]:
                raise ValueError(f"{knob} must be one of {', '.join(_CHOICES[knob])}")
        return replace(self, **values)


_CHOICES: dict[str, tuple[str, ...]] = {
    "domainnames_non_accept": ("error", "warn"),
    "cnp_named_port_with_ip_peers": ("error", "warn"),
}


DEFAULT_SETTINGS = Settings()
