"""Kubernetes objects as immutable values; defaulting happens in ``policy.py`` only."""

from podfence.model.cluster import Cluster
from podfence.model.cluster_policy import (
    ADMIN, BASELINE, CLUSTER_POLICY_KINDS, ClusterPeer, ClusterPolicy, ClusterPort, ClusterRule, ClusterSubject,
    DomainNamesPeer, NamedDestinationPort, NamespacesPeer, NetworksPeer, NodesPeer, PodsPeer, PortNumbers,
    UnknownPeer, UnknownPort,
)
from podfence.model.diagnostic import Diagnostic, FieldPath, Severity, format_path
from podfence.model.labels import EMPTY_LABELS, SELECT_ALL, Labels, LabelSelector, Operator, Requirement
from podfence.model.objects import (
    NAMESPACE_NAME_LABEL, ContainerPort, Namespace, Node, Pod, Service, ServicePort,
)
from podfence.model.origin import ClusterOrigin, FileOrigin, GitOrigin, Origin, Source, where
from podfence.model.policy import (
    Direction, IPBlock, NetworkPolicy, Peer, PolicyPort, PolicyType, Rule, selector_from_dict,
)
from podfence.model.settings import DEFAULT_SETTINGS, Settings
from podfence.model.staged import STAGED_KIND, StagedAction, StagedNetworkPolicy, promoted

__all__ = [
    "ADMIN", "BASELINE", "CLUSTER_POLICY_KINDS", "ClusterPeer", "ClusterPolicy", "ClusterPort", "ClusterRule",
    "ClusterSubject", "DomainNamesPeer", "NamedDestinationPort", "NamespacesPeer", "NetworksPeer", "Node",
    "NodesPeer", "PodsPeer", "PortNumbers", "UnknownPeer", "UnknownPort",
    "Cluster", "ClusterOrigin", "ContainerPort", "DEFAULT_SETTINGS", "Diagnostic", "Direction", "EMPTY_LABELS",
    "FieldPath", "FileOrigin", "GitOrigin", "IPBlock", "LabelSelector", "Labels", "NAMESPACE_NAME_LABEL", "Namespace",
    "NetworkPolicy", "Operator", "Origin", "Peer", "Pod", "PolicyPort", "PolicyType", "Requirement", "Rule",
    "SELECT_ALL", "STAGED_KIND", "Service", "ServicePort", "Settings", "Severity", "Source", "StagedAction",
    "StagedNetworkPolicy", "format_path", "promoted", "selector_from_dict", "where",
]
