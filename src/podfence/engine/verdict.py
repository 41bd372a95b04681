"""Verdicts and their explanations, as data.

A :class:`Verdict` answers "may this connection happen?" and says why: for each
direction, whether the local pod is isolated, by which policies, and which rules
(if any) admit the connection. Rendering lives in :mod:`podfence.render`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from podfence.engine.ir import RuleRef
from podfence.model import Direction, Pod, Service
from podfence.sets import IPAddress, Protocol


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One end of a connection: a pod (with the address used, if known), a bare
    address, or a Service (only as a destination, resolved to its backends)."""

    pod: Pod | None = None
    address: IPAddress | None = None
    service: Service | None = None

    @property
    def name(self) -> str:
        if self.pod is not None:
            return self.pod.key
        if self.service is not None:
            return f"service {self.service.key}"
        return str(self.address)

    @classmethod
    def of_pod(cls, pod: Pod, address: IPAddress | None = None) -> Endpoint:
        return cls(pod, address)

    @classmethod
    def of_address(cls, address: IPAddress) -> Endpoint:
        return cls(None, address)


class Reason(StrEnum):
    """Why one direction decided as it did."""

    NOT_A_POD = "not-a-pod"  # this side is an address, node or hostNetwork pod: no policy applies
    NOT_ISOLATED = "not-isolated"  # no policy selects the pod for this direction
    RULE = "rule"  # an isolating policy has a rule that admits the connection
    NO_RULE = "no-rule"  # isolated, and no rule admits the connection
    SELF = "self"  # a pod reaching itself on its own IP
    OWN_NODE = "own-node"  # traffic between a pod and its own node
    TIER = "tier"  # a rule of a cluster-wide policy (Admin or Baseline tier) decided


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A rule of an isolating policy that almost admits the connection.

    ``peer_ok``: the remote endpoint matches the rule's peers; ``port_ok``: the
    protocol and port match the rule's ports. Exactly one of them is true.
    ``detail`` says what would have to change, in words.
    """

    rule: RuleRef
    peer_ok: bool
    port_ok: bool
    detail: str


class Outcome(StrEnum):
    """What one tier did with a connection."""

    ALLOW = "allow"
    DENY = "deny"
    PASS = "pass"  # a Pass rule matched: the next tier decides
    NO_MATCH = "no-match"  # policies apply but no rule matches: the next tier decides
    NOT_SELECTED = "not-selected"  # no policy of the tier applies to the pod in this direction


@dataclass(frozen=True, slots=True)
class TierStep:
    """What one tier decided for one direction, in evaluation order.

    ``policies``: the tier's policies that apply to the local pod, in the order they
    ran (NetworkPolicies: the isolating ones). ``rule`` is the rule that decided
    (Admin and Baseline), with its ``policy``'s ``priority`` and the ``action`` as
    the IR reads it; a NetworkPolicy tier that allows lists its rules in
    ``allowed_by``. ``near_misses``: the tier's rules that almost matched.
    """

    tier: str  # "Admin", "NetworkPolicy" or "Baseline"
    outcome: Outcome
    policies: tuple[str, ...] = ()
    policy: str = ""
    kind: str = ""
    priority: int | None = None
    rule: RuleRef | None = None
    action: str = ""
    allowed_by: tuple[RuleRef, ...] = ()
    near_misses: tuple[NearMiss, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class DirectionVerdict:
    direction: Direction
    allowed: bool
    reason: Reason
    isolated: bool = False
    policies: tuple[str, ...] = ()  # the policies that isolate the local pod in this direction
    allowed_by: tuple[RuleRef, ...] = ()
    near_misses: tuple[NearMiss, ...] = ()
    tiers: tuple[TierStep, ...] = ()  # set when the cluster has cluster-wide policies


@dataclass(frozen=True, slots=True)
class Verdict:
    """May ``src`` open a ``protocol`` connection to ``dst`` on ``port``? And why."""

    src: Endpoint
    dst: Endpoint
    protocol: Protocol
    port: int
    egress: DirectionVerdict
    ingress: DirectionVerdict
    notes: tuple[str, ...] = ()
    routable: bool = True  # False when the two ends share no address family

    @property
    def allowed(self) -> bool:
        return self.routable and self.egress.allowed and self.ingress.allowed

    @property
    def denied_at(self) -> tuple[Direction, ...]:
        return tuple(d.direction for d in (self.egress, self.ingress) if not d.allowed)
