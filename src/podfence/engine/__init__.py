"""The policy engine: exact verdicts, explanations, whole-cluster connectivity.

Everything outside the engine imports from here, and only the names below
(``tests/test_import_contract.py`` pins it):

* the front door: :class:`Engine`, :class:`Endpoint`, verdicts and their reasons;
* the policy IR (:mod:`podfence.engine.ir`): policies of every kind as one closed
  shape, the translators and the cluster's :func:`ir_of`;
* what a side decides, tier by tier (:mod:`podfence.engine.decision`);
* matching one policy, rule, peer or port entry against one endpoint
  (:mod:`podfence.engine.match`), and :class:`NodeIndex` / :func:`paths` for the
  addresses a connection can use;
* connectivity views: :class:`Connectivity`, :class:`PodRows`, :class:`Matrix`;
* incremental evaluation (:mod:`podfence.engine.incremental`): a :class:`Session` whose
  edits (add, replace, remove a policy; relabel a pod or a namespace) each return a
  :class:`Change` with the new connectivity;
* the compiled rule table and class refinement, for whole-cluster analyses
  (:class:`CompiledCluster`, :func:`refine`).
"""

from podfence.engine.classes import refine
from podfence.engine.compiled import CompiledCluster
from podfence.engine.connectivity import Connection, Connectivity, GroupConnection, endpoint_sort_key
from podfence.engine.core import Endpoint, EndpointError, Engine
from podfence.engine.decision import SideDecision, compose
from podfence.engine.incremental import Change, EditError, Session
from podfence.engine.ir import (
    Action, AddressPeer, ClusterPods, IRPeer, IRPolicy, IRRule, NamedPort, PodsInNamespace, PolicyRef, PolicySet,
    PortEntry, PortRange, Ports, RuleRef, SelectorPeer, Subject, Tier, from_cluster_policy, from_network_policy, ir_of,
    translate,
)
from podfence.engine.match import (
    Remote, conns_of, everything, isolating_policies, namespace_labels, peer_matches, port_entry_conns,
    ports_conns, rule_conns, rule_peers_match, selects, subject_matches, tier_policies,
)
from podfence.engine.matrix import Matrix
from podfence.engine.pairwise import NodeIndex, Path, paths
from podfence.engine.rows import PodRows
from podfence.engine.verdict import DirectionVerdict, NearMiss, Outcome, Reason, TierStep, Verdict

__all__ = [
    # front door and verdicts
    "DirectionVerdict", "Endpoint", "EndpointError", "Engine", "NearMiss", "Outcome", "Reason", "RuleRef",
    "TierStep", "Verdict",
    # the policy IR
    "Action", "AddressPeer", "ClusterPods", "IRPeer", "IRPolicy", "IRRule", "NamedPort", "PodsInNamespace",
    "PolicyRef", "PolicySet", "PortEntry", "PortRange", "Ports", "SelectorPeer", "Subject", "Tier",
    "from_cluster_policy", "from_network_policy", "ir_of", "translate",
    # side decisions
    "SideDecision", "compose",
    # matching one object at a time, and the addresses a connection uses
    "NodeIndex", "Path", "Remote", "conns_of", "everything", "isolating_policies", "namespace_labels",
    "paths", "peer_matches", "port_entry_conns", "ports_conns", "rule_conns", "rule_peers_match", "selects",
    "subject_matches", "tier_policies",
    # connectivity views
    "Connection", "Connectivity", "GroupConnection", "Matrix", "PodRows", "endpoint_sort_key",
    # incremental evaluation
    "Change", "EditError", "Session",
    # the compiled form, for whole-cluster analyses
    "CompiledCluster", "refine",
]
