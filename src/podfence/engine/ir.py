"""The policy IR: every kind of policy in one closed shape that all evaluators read.

A policy becomes an :class:`IRPolicy`: which tier it belongs to (and its priority
there), which pods it is about (its :data:`Subject`), which directions it guards,
and its rules in order. A rule (:class:`IRRule`) has an :class:`Action`, a tuple of
peers (each a :data:`IRPeer` variant; none means every endpoint) and its
:class:`Ports`. Every part keeps a reference to the object it came from
(:class:`PolicyRef`, :class:`RuleRef`), so explanations and findings can name it.

One translator per policy kind turns a normalised model object into an
:class:`IRPolicy` (:func:`from_network_policy`); :func:`translate` dispatches on the
object's type. A new kind of policy is one more translator registered on
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

from podfence.model import Cluster, Direction, LabelSelector, NetworkPolicy, Peer, PolicyPort, Rule
from podfence.model.policy import selectors_text
from podfence.sets import ConnSet, IPSet, Protocol


class Action(StrEnum):
    """What a rule does with the connections it matches."""

    ALLOW = "Allow"
    DENY = "Deny"
    PASS = "Pass"  # leave the decision to the next tier


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

    @property
    def field(self) -> str:
        return f"spec.{self.direction.value}[{self.index}]"

    def __str__(self) -> str:
        return f"{self.policy} {self.field}"


# -- subjects ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PodsInNamespace:
    """The pods of one namespace that ``pod_selector`` matches (a NetworkPolicy's podSelector)."""

    namespace: str
    pod_selector: LabelSelector


@dataclass(frozen=True, slots=True)
class ClusterPods:
    """Pods of every namespace ``namespace_selector`` matches, narrowed by ``pod_selector`` when set.

    For cluster-scoped policies; no translator produces it yet.
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
    """An ipBlock: the addresses of ``cidr`` minus its ``except`` entries.

    ``written`` is the block as the manifest has it (``10.0.0.0/8 except 10.1.0.0/16``),
    for explanations; it takes no part in comparisons, so two blocks with the same
    addresses are one peer.
    """

    addresses: IPSet
    written: str = field(default="", compare=False)

    def __str__(self) -> str:
        return f"ipBlock {self.written}"


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

    @classmethod
    def of(cls, entries: tuple[PortEntry, ...]) -> Ports:
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
        return cls(tuple(entries), numeric, tuple(named))

    @property
    def everything(self) -> bool:
        """True when the rule names no ports: it admits every protocol and port."""
        return not self.entries



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
def translate(obj: object) -> IRPolicy:
    """The IR of one policy object, whatever its kind (one translator per kind)."""
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
def from_network_policy(policy: NetworkPolicy) -> IRPolicy:
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


# -- the policies of a cluster -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Every policy of a cluster in the IR, in the cluster's order (index ``i`` is ``cluster.policies[i]``)."""

    policies: tuple[IRPolicy, ...] = ()
    _by_key: dict[str, IRPolicy] = field(default_factory=dict, init=False, repr=False, compare=False)
    _by_tier: dict[Tier, tuple[IRPolicy, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_key.update((p.key, p) for p in self.policies)
        for tier in Tier:
            self._by_tier[tier] = tuple(p for p in self.policies if p.tier is tier)

    @classmethod
    def of(cls, objects: tuple[object, ...]) -> PolicySet:
        return cls(tuple(translate(o) for o in objects))

    def policy(self, key: str) -> IRPolicy | None:
        return self._by_key.get(key)

    def tiers(self) -> tuple[Tier, ...]:
        """The tiers that hold at least one policy, in evaluation order."""
        return tuple(t for t in Tier if self._by_tier[t])

    def in_tier(self, tier: Tier) -> tuple[IRPolicy, ...]:
        """The policies of one tier, in the cluster's order."""
        return self._by_tier[tier]

    def __iter__(self) -> Iterator[IRPolicy]:
        return iter(self.policies)

    def __len__(self) -> int:
        return len(self.policies)


def ir_of(cluster: Cluster) -> PolicySet:
    """The IR of every policy of ``cluster``, translated once per cluster value."""
    return cluster.derived("policy-ir", lambda c: PolicySet.of(c.policies))
