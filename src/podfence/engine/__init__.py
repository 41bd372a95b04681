"""The NetworkPolicy engine: exact verdicts, explanations, whole-cluster connectivity."""

from podfence.engine.connectivity import Connection, Connectivity
from podfence.engine.core import Endpoint, EndpointError, Engine
from podfence.engine.decision import SideDecision, compose
from podfence.engine.ir import (
    Action, AddressPeer, ClusterPods, IRPeer, IRPolicy, IRRule, NamedPort, PodsInNamespace, PolicyRef, PolicySet,
    PortEntry, PortRange, Ports, RuleRef, SelectorPeer, Subject, Tier, from_network_policy, ir_of, translate,
)
from podfence.engine.matrix import Matrix
from podfence.engine.verdict import DirectionVerdict, NearMiss, Reason, Verdict

__all__ = [
    "Connection", "Connectivity", "DirectionVerdict", "Endpoint", "EndpointError", "Engine", "Matrix",
    "NearMiss", "Reason", "RuleRef", "Verdict",
    "Action", "AddressPeer", "ClusterPods", "IRPeer", "IRPolicy", "IRRule", "NamedPort", "PodsInNamespace",
    "PolicyRef", "PolicySet", "PortEntry", "PortRange", "Ports", "SelectorPeer", "Subject", "Tier",
    "from_network_policy", "ir_of", "translate", "SideDecision", "compose",
]
