"""Why a group of pairs changed: the policies and objects behind it.

One representative connection of the group (its first source and destination,
the first protocol and port of the change) is explained by the engine on both
versions. Only the directions whose answer flipped matter (a connection lost at
the destination's ingress is not explained by the source's egress policies).
Every policy the explanations mention there (isolating that end, or holding a
rule that admits the connection) and that differs between the versions was
added, deleted or edited by the change, so it is named. The two ends' own
objects (the pods and their namespaces) are compared too: a relabelled pod or
namespace, a pod that came or went, or changed container ports explain changes
that no policy edit does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from podfence.diff.groups import ChangeGroup
from podfence.engine import Endpoint, Engine, Verdict
from podfence.model import Cluster, ClusterPolicy, Direction, NetworkPolicy, Pod
from podfence.sets import ConnSet, IPAddress, Protocol, parse_cidr


class Status(StrEnum):
    ADDED = "added"
    DELETED = "deleted"
    EDITED = "edited"


@dataclass(frozen=True, slots=True)
class PolicyCause:
    """A policy that differs between the versions and takes part in the representative connection.

    ``admits_*`` are the rules (``spec.ingress[0]``) that admit the connection in
    the old and new version; ``isolates_*`` the directions in which it isolates an
    end of the connection (egress: the source, ingress: the destination).
    """

    policy: str
    status: Status
    admits_old: tuple[str, ...] = ()
    admits_new: tuple[str, ...] = ()
    isolates_old: tuple[Direction, ...] = ()
    isolates_new: tuple[Direction, ...] = ()


@dataclass(frozen=True, slots=True)
class TierCause:
    """A cluster-wide policy that differs between the versions and decided the representative connection
    in one of them (its tier and priority in each version it exists in).

    ``decided_*``: the rule that decided in the old and new version, as
    ``(field, rule name, action)`` with the action as the engine reads it
    (``Allow``, ``Deny``, ``Pass``); None when the policy did not decide there.
    """

    kind: str
    policy: str
    status: Status
    tier_old: str | None = None
    priority_old: int | None = None
    tier_new: str | None = None
    priority_new: int | None = None
    decided_old: tuple[str, str, str] | None = None
    decided_new: tuple[str, str, str] | None = None


@dataclass(frozen=True, slots=True)
class ObjectCause:
    """A pod or namespace at one end of the connection that changed.

    ``what`` is ``added``, ``removed``, ``labels``, ``ports`` or ``addresses``;
    ``labels`` lists label changes as ``+key=value`` / ``-key=value``.
    """

    kind: str  # "pod" or "namespace"
    name: str
    what: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Causes:
    """What explains one group: the representative connection and what changed behind it."""

    src: str
    dst: str
    protocol: Protocol
    port: int
    policies: tuple[PolicyCause, ...] = ()
    objects: tuple[ObjectCause, ...] = ()
    tiers: tuple[TierCause, ...] = ()  # cluster-wide policies (Admin and Baseline tiers)


def representative(conns: ConnSet) -> tuple[Protocol, int]:
    """The first protocol and lowest port of a change (TCP 1 when only non-L4 protocols changed)."""
    for protocol, ports in conns.by_protocol():
        return protocol, ports.intervals[0][0]
    return Protocol.TCP, 1


def _endpoint(cluster: Cluster, engine: Engine, name: str) -> Endpoint | None:
    cidr = parse_cidr(name) if "/" in name and not cluster.pod(name) else None
    if cidr is not None:
        return Endpoint.of_address(IPAddress(cidr.version, cidr.first))
    pod = cluster.pod(name)
    if pod is None or not pod.takes_part(engine.settings):
        return None
    return Endpoint.of_pod(pod)


def _relevant(verdict: Verdict | None, directions: tuple[Direction, ...]) -> set[str]:
    """The policies that decide ``verdict`` in ``directions``.

    A side that allows the connection is decided by its admitting rules; a side
    that denies it by the policies isolating it.
    """
    out: set[str] = set()
    if verdict is None:
        return out
    for side in (verdict.egress, verdict.ingress):
        if side.direction in directions:
            out.update(side.policies if not side.allowed else
                       (r.policy for r in side.allowed_by if r.kind == "NetworkPolicy"))
    return out


def _role(verdict: Verdict | None, policy: str, directions: tuple[Direction, ...],
          ) -> tuple[tuple[str, ...], tuple[Direction, ...]]:
    """(rules of ``policy`` admitting the connection, directions in which it isolates an end)."""
    if verdict is None:
        return (), ()
    sides = [s for s in (verdict.egress, verdict.ingress) if s.direction in directions]
    rules = tuple(r.field for s in sides for r in s.allowed_by if r.policy == policy and r.kind == "NetworkPolicy")
    isolates = tuple(s.direction for s in sides if policy in s.policies)
    return rules, isolates


def _flipped(before: Verdict | None, after: Verdict | None) -> tuple[Direction, ...]:
    """The directions whose answer differs between the versions (all, when one side is missing)."""
    if before is None or after is None:
        return (Direction.EGRESS, Direction.INGRESS)
    out = tuple(
        a.direction for a, b in ((before.egress, after.egress), (before.ingress, after.ingress))
        if a.allowed != b.allowed
    )
    return out or (Direction.EGRESS, Direction.INGRESS)


def _deciders(verdict: Verdict | None, directions: tuple[Direction, ...]) -> dict[tuple[str, str], tuple[str, str, str]]:
    """The cluster-wide policies whose rule decided ``verdict`` (allow, deny or pass) in ``directions``."""
    out: dict[tuple[str, str], tuple[str, str, str]] = {}
    if verdict is None:
        return out
    for side in (verdict.egress, verdict.ingress):
        if side.direction not in directions:
            continue
        for step in side.tiers:
            if step.tier in ("Admin", "Baseline") and step.policy and step.rule is not None:
                out.setdefault((step.kind, step.policy), (step.rule.field, step.rule.name, step.action))
    return out


def _cluster_policy(cluster: Cluster, kind: str, name: str) -> ClusterPolicy | None:
    return next((p for p in cluster.cluster_policies if p.kind == kind and p.name == name), None)


def _tier_causes(v_old: Verdict | None, v_new: Verdict | None, directions: tuple[Direction, ...],
                 old: Cluster, new: Cluster) -> list[TierCause]:
    d_old, d_new = _deciders(v_old, directions), _deciders(v_new, directions)
    out = []
    for kind, name in sorted(d_old.keys() | d_new.keys()):
        a, b = _cluster_policy(old, kind, name), _cluster_policy(new, kind, name)
        if a is not None and b is not None and replace(a, source=None) == replace(b, source=None):
            continue
        if a is None and b is None:
            continue
        status = Status.ADDED if a is None else Status.DELETED if b is None else Status.EDITED
        out.append(TierCause(kind, name, status, a.tier if a else None, a.priority if a else None,
                             b.tier if b else None, b.priority if b else None,
                             d_old.get((kind, name)), d_new.get((kind, name))))
    return out


def _same(a: NetworkPolicy, b: NetworkPolicy) -> bool:
    return replace(a, source=None) == replace(b, source=None)


def _verdict(engine: Engine, src: str, dst: str, protocol: Protocol, port: int) -> Verdict | None:
    s = _endpoint(engine.cluster, engine, src)
    d = _endpoint(engine.cluster, engine, dst)
    if s is None or d is None:
        return None
    return engine.explain(s, d, protocol, port)


def _label_changes(old: dict[str, str], new: dict[str, str]) -> tuple[str, ...]:
    out = [f"-{k}={v}" for k, v in old.items() if new.get(k) != v]
    out += [f"+{k}={v}" for k, v in new.items() if old.get(k) != v]
    return tuple(out)


def _pod_causes(name: str, old: Cluster, new: Cluster) -> list[ObjectCause]:
    a, b = old.pod(name), new.pod(name)
    if a is None and b is None:
        return []
    if a is None:
        return [ObjectCause("pod", name, "added")]
    if b is None:
        return [ObjectCause("pod", name, "removed")]
    out = []
    if a.labels != b.labels:
        out.append(ObjectCause("pod", name, "labels", _label_changes(dict(a.labels), dict(b.labels))))
    if set(a.ports) != set(b.ports):
        out.append(ObjectCause("pod", name, "ports"))
    if set(a.ips) != set(b.ips) or _node(a) != _node(b):
        out.append(ObjectCause("pod", name, "addresses"))
    ns_a, ns_b = old.namespace(a.namespace), new.namespace(b.namespace)
    if ns_a is not None and ns_b is not None and ns_a.labels != ns_b.labels:
        out.append(ObjectCause("namespace", a.namespace, "labels",
                               _label_changes(dict(ns_a.labels), dict(ns_b.labels))))
    return out


def _node(pod: Pod) -> tuple[object, ...]:
    return (pod.node_name, pod.host_network, tuple(pod.host_ips), pod.phase)


def explain_group(group: ChangeGroup, old: Engine, new: Engine) -> Causes:
    """The policies and objects that explain ``group``'s change."""
    src, dst = group.srcs[0], group.dsts[0]
    protocol, port = representative(group.added if group.added else group.removed)
    v_old, v_new = _verdict(old, src, dst, protocol, port), _verdict(new, src, dst, protocol, port)
    directions = _flipped(v_old, v_new)
    policies = []
    for name in sorted(_relevant(v_old, directions) | _relevant(v_new, directions)):
        p_old, p_new = old.cluster.policy(name), new.cluster.policy(name)
        if p_old is not None and p_new is not None and _same(p_old, p_new):
            continue
        status = Status.ADDED if p_old is None else Status.DELETED if p_new is None else Status.EDITED
        rules_old, iso_old = _role(v_old, name, directions)
        rules_new, iso_new = _role(v_new, name, directions)
        policies.append(PolicyCause(name, status, rules_old, rules_new, iso_old, iso_new))
    objects: list[ObjectCause] = []
    for name in dict.fromkeys((src, dst)):
        for cause in _pod_causes(name, old.cluster, new.cluster):
            if cause not in objects:
                objects.append(cause)
    tiers = _tier_causes(v_old, v_new, directions, old.cluster, new.cluster)
    return Causes(src, dst, protocol, port, tuple(policies), tuple(objects), tuple(tiers))
