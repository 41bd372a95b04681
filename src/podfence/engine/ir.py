"""The policy IR: every kind of policy in one closed shape that all evaluators read.

A policy becomes an :class:`IRPolicy`: which tier it belongs to (and its priority
there), which pods it is about (its :data:`Subject`), which directions it guards,
and its rules in order. A rule (:class:`IRRule`) has an :class:`Action`, a tuple of
peers (each a :data:`IRPeer` variant; none means every endpoint) and its
:class:`Ports`. Every part keeps a reference to the object it came from
(:class:`PolicyRef`, :class:`RuleRef`), so explanations and findings can name it.

One translator per policy kind turns a normalised model object into an
:class:`IRPolicy` (:func:`from_network_policy`, :func:`from_cluster_policy` for
ClusterNetworkPolicy, AdminNetworkPolicy and BaselineAdminNetworkPolicy);
:func:`translate` dispatches on the object's type. A new kind of policy is one more translator registered on
:func:`translate`, plus a new subject or peer variant when it needs one; the
``match`` statements over those variants (see :mod:`podfence.engine.match`) are
where the evaluators learn what the variant means.

The IR is data only: what a rule matches for a given pod, address or destination
port is decided in :mod:`podfence.engine.match`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from functools import singledispatch
from typing import Iterator, assert_never

from podfence.model import (
    ADMIN, Cluster, ClusterPeer, ClusterPolicy, ClusterPort, ClusterRule, ClusterSubject, Direction,
    DomainNamesPeer, LabelSelector, Labels, NamedDestinationPort, NamespacesPeer, NetworkPolicy, NetworksPeer,
    NodesPeer, Peer, PodsPeer, PolicyPort, PortNumbers, Rule, Settings, UnknownPeer, UnknownPort,
)
from podfence.model.policy import selectors_text
from podfence.model.tiers import tier_order
from podfence.sets import PROTOCOLS, ConnSet, IPAddress, IPSet, Protocol


class Action(StrEnum):
    """What a rule does with the connections it matches."""

    ALLOW = "Allow"
    DENY = "Deny"
    PASS = "Pass"  # leave the decision to the next tier

    @classmethod
    def of(cls, written: str) -> Action:
        """A manifest's action word: Accept (v1alpha2) and Allow (v1alpha1) both allow."""
        return cls.ALLOW if written in ("Accept", "Allow") else cls(written)


class Tier(IntEnum):
    """Where a policy is evaluated; tiers run in this order, then everything left is allowed."""

    ADMIN = 1
    NETWORK_POLICY = 2
    BASELINE = 3


@dataclass(frozen=True, slots=True)
class PolicyRef:
    """The object a policy came from: ``kind``, ``namespace`` (None: cluster-scoped), ``name``."""

    kind: str
    namespace: str | None
    name: str

    @property
    def key(self) -> str:
        """``namespace/name``, or the name of a cluster-scoped object."""
        return self.name if self.namespace is None else f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class RuleRef:
    """Rule ``index`` of ``spec.ingress`` or ``spec.egress`` in policy ``policy`` (its key)."""

    policy: str
    direction: Direction
    index: int
    kind: str = "NetworkPolicy"
    name: str = ""  # the rule's own name (cluster-wide policies' rules may have one)

    @property
    def field(self) -> str:
        return f"spec.{self.direction.value}[{self.index}]"

    def __str__(self) -> str:
        named = f" ({self.name})" if self.name else ""
        return f"{self.policy} {self.field}{named}"


# -- subjects ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PodsInNamespace:
    """The pods of one namespace that ``pod_selector`` matches (a NetworkPolicy's podSelector)."""

    namespace: str
    pod_selector: LabelSelector


@dataclass(frozen=True, slots=True)
class ClusterPods:
    """Pods of every namespace ``namespace_selector`` matches, narrowed by ``pod_selector`` when set.

    The subject of cluster-scoped policies (``namespaces`` or ``pods``).
    """

    namespace_selector: LabelSelector
    pod_selector: LabelSelector | None = None


Subject = PodsInNamespace | ClusterPods


# -- peers ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SelectorPeer:
    """Pods picked by selectors: in ``namespace`` when there is no ``namespace_selector``.

    Matches pods that policies can select only (not hostNetwork pods, not addresses).
    """

    namespace: str | None
    namespace_selector: LabelSelector | None
    pod_selector: LabelSelector | None

    def __str__(self) -> str:
        return selectors_text(self.namespace_selector, self.pod_selector)


@dataclass(frozen=True, slots=True)
class AddressPeer:
    """Endpoints by address: an ipBlock (``cidr`` minus its ``except`` entries), or a
    cluster-wide policy's ``networks``, ``nodes`` (their addresses) or ``domainNames``.

    ``written`` is the peer as the manifest has it (``10.0.0.0/8 except 10.1.0.0/16``),
    for explanations; it takes no part in comparisons, so two blocks with the same
    addresses are one peer. ``kind`` says which field it came from: an ``ipBlock``
    matches pod IPs only as the ``ipblock_matches_pods`` setting says, the others
    always do. ``domains`` (``domainNames``) add the addresses the ``dns_map``
    setting lists for them (see :meth:`resolved`).
    """

    addresses: IPSet
    written: str = field(default="", compare=False)
    kind: str = "ipBlock"
    domains: tuple[str, ...] = ()

    @property
    def always_matches_pods(self) -> bool:
        return self.kind != "ipBlock"

    def resolved(self, settings: Settings) -> IPSet:
        """The addresses, with those of ``domains`` per the settings' ``dns_map``."""
        if not self.domains:
            return self.addresses
        found = [a for name, addrs in settings.dns_map if any(domain_matches(d, name) for d in self.domains)
                 for a in addrs]
        return self.addresses | IPSet.of_addresses(found) if found else self.addresses

    def __str__(self) -> str:
        return f"{self.kind} {self.written}"


def domain_matches(pattern: str, name: str) -> bool:
    """A ``domainNames`` entry against a name: exact (case-insensitive, one trailing dot
    ignored), or ``*.suffix`` for one or more whole labels before ``.suffix``."""
    pattern, name = pattern.lower().removesuffix("."), name.lower().removesuffix(".")
    if pattern.startswith("*."):
        suffix = pattern[1:]
        return name.endswith(suffix) and len(name) > len(suffix)
    return pattern == name


IRPeer = SelectorPeer | AddressPeer


# -- ports ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortRange:
    """Ports ``first..last`` of ``protocol``; every port of it when ``first`` is None."""

    protocol: Protocol
    first: int | None = None
    last: int | None = None

    def conns(self) -> ConnSet:
        return ConnSet.ports(self.protocol, self.first, self.last)

    def __str__(self) -> str:
        if self.first is None:
            return f"{self.protocol} (all ports)"
        if self.last is not None and self.last != self.first:
            return f"{self.protocol} {self.first}-{self.last}"
        return f"{self.protocol} {self.first}"


@dataclass(frozen=True, slots=True)
class NamedPort:
    """A container port name with its protocol, resolved on each destination pod."""

    name: str
    protocol: Protocol

    def __str__(self) -> str:
        return f"{self.protocol} {self.name}"


PortEntry = PortRange | NamedPort


@dataclass(frozen=True, slots=True)
class Ports:
    """What a rule's ports admit.

    ``entries`` are the port entries in the order written; none at all means every
    protocol and port (non-L4 protocols as the settings say). ``numeric`` is what the
    numbered entries admit towards any destination; ``named`` are the entries that
    resolve per destination pod. Build with :meth:`of`.
    """

    entries: tuple[PortEntry, ...] = ()
    numeric: ConnSet = field(default=ConnSet.none(), compare=False)
    named: tuple[NamedPort, ...] = field(default=(), compare=False)
    unknown: str = ""  # entries no field of which podfence knows: "all" (Deny/Pass) or "none" (Accept)
    every_protocol: bool = False  # no entries means every protocol whatever the settings (cluster-wide rules)

    @classmethod
    def of(cls, entries: tuple[PortEntry, ...], unknown: str = "", every_protocol: bool = False) -> Ports:
        numeric = ConnSet.none()
        named: list[NamedPort] = []
        for entry in entries:
            match entry:
                case PortRange():
                    numeric = numeric | entry.conns()
                case NamedPort():
                    named.append(entry)
                case _:
                    assert_never(entry)
        return cls(tuple(entries), numeric, tuple(named), unknown, every_protocol)

    @property
    def everything(self) -> bool:
        """True when the rule names no ports: it admits every protocol and port."""
        return not self.entries and not self.unknown



# -- rules and policies ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IRRule:
    """One rule: connections to or from any of ``peers`` (none: every endpoint) on ``ports``."""

    direction: Direction
    index: int
    action: Action
    peers: tuple[IRPeer, ...]
    ports: Ports
    ref: RuleRef


@dataclass(frozen=True, slots=True)
class IRPolicy:
    """One policy of any kind, as the evaluators see it.

    ``guards``: the directions in which the policy takes part in deciding (for a
    NetworkPolicy, its policyTypes: a pod it selects is isolated there). Rules of
    other directions are kept, in ``ingress``/``egress``, but never evaluated.
    ``priority`` orders policies inside a tier (lower first); NetworkPolicies have
    none.
    """

    ref: PolicyRef
    tier: Tier
    priority: int | None
    subject: Subject
    guards: frozenset[Direction]
    ingress: tuple[IRRule, ...] = ()
    egress: tuple[IRRule, ...] = ()

    @property
    def kind(self) -> str:
        return self.ref.kind

    @property
    def namespace(self) -> str | None:
        return self.ref.namespace

    @property
    def name(self) -> str:
        return self.ref.name

    @property
    def key(self) -> str:
        return self.ref.key

    def guarded(self, direction: Direction) -> bool:
        return direction in self.guards

    def rules(self, direction: Direction) -> tuple[IRRule, ...]:
        """Every rule of ``direction``, evaluated or not (see :meth:`guarded`)."""
        return self.ingress if direction is Direction.INGRESS else self.egress


# -- translation ------------------------------------------------------------------------


@singledispatch
def translate(obj: object, cluster: Cluster | None = None) -> IRPolicy:
    """The IR of one policy object, whatever its kind (one translator per kind).

    ``cluster`` is the cluster the object belongs to, for the kinds whose peers name
    other objects (a ``nodes`` peer becomes the addresses of the Nodes it selects).
    """
    raise TypeError(f"no policy translator for {type(obj).__name__}")


def peer_of(peer: Peer, namespace: str) -> IRPeer:
    """One ``from``/``to`` entry of a NetworkPolicy in ``namespace``."""
    if peer.ip_block is not None:
        return AddressPeer(peer.ip_block.addresses, str(peer.ip_block))
    return SelectorPeer(
        None if peer.namespace_selector is not None else namespace,
        peer.namespace_selector,
        peer.pod_selector,
    )


def port_of(entry: PolicyPort) -> PortEntry:
    """One ``ports`` entry of a NetworkPolicy (protocol already defaulted)."""
    if isinstance(entry.port, str):
        return NamedPort(entry.port, entry.protocol)
    if entry.port is None:
        return PortRange(entry.protocol)
    return PortRange(entry.protocol, entry.port, entry.end_port if entry.end_port is not None else entry.port)


def ports_of(entries: tuple[PolicyPort, ...]) -> Ports:
    """A NetworkPolicy ``ports`` list (empty: everything)."""
    return Ports.of(tuple(port_of(e) for e in entries))


def _rule(policy: NetworkPolicy, direction: Direction, index: int, rule: Rule) -> IRRule:
    return IRRule(
        direction, index, Action.ALLOW,
        tuple(peer_of(p, policy.namespace) for p in rule.peers),
        ports_of(rule.ports),
        RuleRef(policy.key, direction, index),
    )


@translate.register
def from_network_policy(policy: NetworkPolicy, cluster: Cluster | None = None) -> IRPolicy:
    """A normalised NetworkPolicy (defaults applied by the model) in the IR.

    Every rule allows; the subject is the podSelector in the policy's namespace; the
    policy guards the directions its policyTypes name. Peers and port entries keep
    their order, so index ``j`` of a rule's peers is ``from[j]``/``to[j]``.
    """
    return IRPolicy(
        ref=PolicyRef("NetworkPolicy", policy.namespace, policy.name),
        tier=Tier.NETWORK_POLICY,
        priority=None,
        subject=PodsInNamespace(policy.namespace, policy.pod_selector),
        guards=frozenset(d for d in Direction if policy.guards(d)),
        ingress=tuple(_rule(policy, Direction.INGRESS, i, r) for i, r in enumerate(policy.ingress)),
        egress=tuple(_rule(policy, Direction.EGRESS, i, r) for i, r in enumerate(policy.egress)),
    )


def node_addresses(cluster: Cluster | None, selector: LabelSelector) -> IPSet:
    """The addresses of the nodes ``selector`` matches.

    A node is a declared Node (its labels, its ``status.addresses``) or a node that
    pods name in ``spec.nodeName`` without a Node manifest (no labels). Its
    addresses are the Node's, the ``hostIPs`` of pods on it and the IPs of
    hostNetwork pods on it.
    """
    if cluster is None:
        return IPSet()
    labels: dict[str, Labels] = {n.name: n.labels for n in cluster.nodes}
    addresses: dict[str, set[IPAddress]] = {n.name: set(n.addresses) for n in cluster.nodes}
    for pod in cluster.pods:
        if pod.node_name:
            labels.setdefault(pod.node_name, Labels())
            found = addresses.setdefault(pod.node_name, set())
            found.update(pod.host_ips)
            if pod.host_network:
                found.update(pod.ips)
    picked = [a for name, found in addresses.items() if selector.matches(labels[name]) for a in found]
    return IPSet.of_addresses(picked)


_NOTHING = AddressPeer(IPSet(), "(a peer podfence does not know: matches nothing)", "unknown")


def _cluster_peer(peer: ClusterPeer, cluster: Cluster | None) -> IRPeer | None:
    """One peer of a cluster-wide rule; None for a peer with no field podfence knows."""
    match peer:
        case NamespacesPeer():
            return SelectorPeer(None, peer.selector, None)
        case PodsPeer():
            return SelectorPeer(None, peer.namespace_selector, peer.pod_selector)
        case NetworksPeer():
            return AddressPeer(peer.addresses, ", ".join(peer.cidrs), "networks")
        case NodesPeer():
            return AddressPeer(node_addresses(cluster, peer.selector), str(peer.selector), "nodes")
        case DomainNamesPeer():
            return AddressPeer(IPSet(), ", ".join(peer.names), "domainNames", peer.names)
        case UnknownPeer():
            return None
        case _:
            assert_never(peer)


def _cluster_ports(entries: tuple[ClusterPort, ...], action: Action) -> Ports:
    """A cluster-wide rule's ports: numbers keep their protocol; a named port matches the
    container port of that name whatever its protocol; unknown entries fail closed."""
    out: list[PortEntry] = []
    unknown = ""
    for entry in entries:
        match entry:
            case PortNumbers():
                out.append(PortRange(entry.protocol, entry.first, entry.last))
            case NamedDestinationPort():
                out.extend(NamedPort(entry.name, p) for p in PROTOCOLS)
            case UnknownPort():
                unknown = "none" if action is Action.ALLOW else "all"
            case _:
                assert_never(entry)
    return Ports.of(tuple(out), unknown, every_protocol=True)


def _cluster_rule(policy: ClusterPolicy, direction: Direction, index: int, rule: ClusterRule,
                  cluster: Cluster | None) -> IRRule:
    """Fail closed: a peer podfence does not know makes an allowing rule match nothing
    through it, and a denying or passing rule match every endpoint."""
    action = Action.of(rule.action)
    peers = [_cluster_peer(p, cluster) for p in rule.peers]
    known = tuple(p for p in peers if p is not None)
    if len(known) < len(peers):
        known = (known or (_NOTHING,)) if action is Action.ALLOW else ()
    return IRRule(direction, index, action, known, _cluster_ports(rule.ports, action),
                  RuleRef(policy.key, direction, index, policy.kind, rule.name))


def _cluster_subject(subject: ClusterSubject) -> Subject:
    match subject:
        case NamespacesPeer():
            return ClusterPods(subject.selector)
        case PodsPeer():
            return ClusterPods(subject.namespace_selector, subject.pod_selector)
        case _:
            assert_never(subject)


@translate.register
def from_cluster_policy(policy: ClusterPolicy, cluster: Cluster | None = None) -> IRPolicy:
    """A ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy in the IR.

    Its tier and priority come from the model; it guards each direction it has a rule
    in (no implicit isolation); rules keep their order and actions (Accept and Allow
    allow). ``namespaces``/``pods`` peers become selector peers over every namespace,
    ``networks``, ``nodes`` and ``domainNames`` address peers that match pod IPs too.
    """
    tier = Tier.ADMIN if policy.tier == ADMIN else Tier.BASELINE
    ingress = tuple(_cluster_rule(policy, Direction.INGRESS, i, r, cluster) for i, r in enumerate(policy.ingress))
    egress = tuple(_cluster_rule(policy, Direction.EGRESS, i, r, cluster) for i, r in enumerate(policy.egress))
    return IRPolicy(
        ref=PolicyRef(policy.kind, None, policy.name),
        tier=tier,
        priority=policy.priority,
        subject=_cluster_subject(policy.subject),
        guards=frozenset(d for d, rules in ((Direction.INGRESS, ingress), (Direction.EGRESS, egress)) if rules),
        ingress=ingress,
        egress=egress,
    )


# -- the policies of a cluster -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Every policy of a cluster in the IR, in the cluster's order (index ``i`` is ``cluster.policies[i]``)."""

    policies: tuple[IRPolicy, ...] = ()
    _by_key: dict[str, IRPolicy] = field(default_factory=dict, init=False, repr=False, compare=False)
    _by_tier: dict[Tier, tuple[IRPolicy, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _ordered: dict[tuple[Tier, bool], tuple[IRPolicy, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_key.update((p.key, p) for p in self.policies)
        for tier in Tier:
            self._by_tier[tier] = tuple(p for p in self.policies if p.tier is tier)

    @classmethod
    def of(cls, objects: tuple[object, ...], cluster: Cluster | None = None) -> PolicySet:
        return cls(tuple(translate(o, cluster) for o in objects))

    def policy(self, key: str) -> IRPolicy | None:
        return self._by_key.get(key)

    def tiers(self) -> tuple[Tier, ...]:
        """The tiers that hold at least one policy, in evaluation order."""
        return tuple(t for t in Tier if self._by_tier[t])

    def in_tier(self, tier: Tier) -> tuple[IRPolicy, ...]:
        """The policies of one tier, in the cluster's order."""
        return self._by_tier[tier]

    def evaluation_order(self, tier: Tier, settings: Settings) -> tuple[IRPolicy, ...]:
        """The policies of one tier in the order they run: by priority, equal ones by name
        (see :func:`podfence.model.tiers.tier_order`); NetworkPolicies in the cluster's order."""
        if tier is Tier.NETWORK_POLICY:
            return self._by_tier[tier]
        key = (tier, settings.same_priority_by_name)
        hit = self._ordered.get(key)
        if hit is None:
            hit = self._ordered[key] = tuple(tier_order(self._by_tier[tier], settings))
        return hit

    def __iter__(self) -> Iterator[IRPolicy]:
        return iter(self.policies)

    def __len__(self) -> int:
        return len(self.policies)


def ir_of(cluster: Cluster) -> PolicySet:
    """The IR of every policy of ``cluster``, translated once per cluster value: its
    NetworkPolicies (index ``i`` is ``cluster.policies[i]``), then its cluster-wide
    policies in ``cluster.cluster_policies`` order."""
    return cluster.derived("policy-ir", lambda c: PolicySet.of((*c.policies, *c.cluster_policies), c))
