"""The knobs where Kubernetes leaves behaviour open, with podfence's defaults.

Every default matches the conformance suite or the most common implementation;
each can be changed for a cluster whose network plugin behaves otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


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

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def with_values(self, **values: Any) -> Settings:
        unknown = set(values) - set(self.names())
        if unknown:
            raise KeyError(", ".join(sorted(unknown)))
        return replace(self, **values)


DEFAULT_SETTINGS = Settings()
