"""Facts about one cluster that many lint rules share, computed once.

Everything here is the engine's semantics, object by object, read from its policy
IR: which pods a policy selects (:func:`podfence.engine.selects`), which policies
isolate a pod, which pods a peer matches. Rules read rules and peers from the IR
and go back to the model object (by its key or a rule's index) only for how a
manifest was written and where. Whole-cluster questions ("may this pod reach
DNS?") go to :class:`~podfence.engine.Engine` and its connectivity.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property
from typing import Iterator, assert_never

from podfence.config import Config
from podfence.engine import (
    AddressPeer, Connectivity, Engine, IRPeer, IRPolicy, IRRule, PodsInNamespace, SelectorPeer, Tier, ir_of,
    namespace_labels, selects, subject_matches,
)
from podfence.model import Cluster, ClusterPolicy, Direction, LabelSelector, Namespace, NetworkPolicy, Pod, Service, Settings
from podfence.model.words import pod_names, shortened
from podfence.sets import IPSet


def rule_addresses(rule: IRRule) -> IPSet:
    """The addresses outside the pod network that a rule's peers admit (all, without peers)."""
    if not rule.peers:
        return IPSet.all()
    out = IPSet()
    for peer in rule.peers:
        match peer:
            case AddressPeer():
                out = out | peer.addresses
            case SelectorPeer():
                pass  # selectors match pods only
            case _:
                assert_never(peer)
    return out


def allows_all(rule: IRRule) -> bool:
    """A rule without peers and without ports: everything, from (or to) everyone."""
    return not rule.peers and rule.ports.everything


def namespace_wide(policy: IRPolicy) -> bool:
    """A policy about every pod of its namespace, present and future (an empty podSelector)."""
    return isinstance(policy.subject, PodsInNamespace) and policy.subject.pod_selector.is_empty()


def rule_field(direction: Direction, index: int, *rest: str | int) -> tuple[str | int, ...]:
    """``spec.ingress[i]...`` as a field path."""
    return ("spec", direction.value, index, *rest)


def peer_field(direction: Direction, index: int, peer: int, *rest: str | int) -> tuple[str | int, ...]:
    return rule_field(direction, index, direction.peers_field, peer, *rest)


class LintContext:
    """One cluster, its configuration, and the facts lint rules ask about."""

    def __init__(self, cluster: Cluster, config: Config, settings: Settings | None = None) -> None:
        self.cluster = cluster
        self.config = config
        self.settings = settings if settings is not None else config.settings
        s = self.settings
        self.pods: tuple[Pod, ...] = tuple(p for p in cluster.pods if p.takes_part(s))
        self.endpoints: tuple[Pod, ...] = tuple(p for p in self.pods if p.is_pod_endpoint(s))
        self.pods_by_ns: dict[str, list[Pod]] = defaultdict(list)
        for pod in self.pods:
            self.pods_by_ns[pod.namespace].append(pod)
        self.endpoints_by_ns: dict[str, list[Pod]] = defaultdict(list)
        for pod in self.endpoints:
            self.endpoints_by_ns[pod.namespace].append(pod)
        self.ir = ir_of(cluster)
        self.selected: dict[str, tuple[Pod, ...]] = {}
        self.label_matched: dict[str, tuple[Pod, ...]] = {}
        isolating: dict[Direction, dict[str, list[IRPolicy]]] = {d: defaultdict(list) for d in Direction}
        for policy in self.ir:
            subject = policy.subject
            candidates: tuple[Pod, ...] | list[Pod] = self.pods
            if isinstance(subject, PodsInNamespace):
                candidates = self.pods_by_ns.get(subject.namespace, [])
            self.label_matched[policy.key] = tuple(p for p in candidates if subject_matches(subject, p, cluster))
            chosen = tuple(p for p in self.label_matched[policy.key] if selects(policy, p, cluster, s))
            self.selected[policy.key] = chosen
            if policy.tier is not Tier.NETWORK_POLICY:
                continue
            for direction in Direction:
                if policy.guarded(direction):
                    for pod in chosen:
                        isolating[direction][pod.key].append(policy)
        self._isolating = {d: {k: tuple(v) for k, v in m.items()} for d, m in isolating.items()}
        self._peer_cache: dict[IRPeer, tuple[Pod, ...]] = {}
        self.declared_namespaces = tuple(ns for ns in cluster.namespaces if ns.declared)
        self._services_by_ns: dict[str, list[Service]] = defaultdict(list)
        for svc in cluster.services:
            self._services_by_ns[svc.namespace].append(svc)
        self.known_rules: dict[str, str] = {}  # rule ID -> name, set by the runner
        self.memo: dict[str, object] = {}  # results several rules share

    def objects(self) -> Iterator[Namespace | Pod | NetworkPolicy | ClusterPolicy]:
        """Every object a finding can be about: namespaces, pods (workloads), policies of every tier."""
        yield from self.cluster.namespaces
        yield from self.cluster.pods
        yield from self.cluster.policies
        yield from self.cluster.cluster_policies

    # -- isolation ---------------------------------------------------------------------

    def isolating(self, pod: Pod, direction: Direction) -> tuple[IRPolicy, ...]:
        """The NetworkPolicies that isolate ``pod`` in ``direction`` (empty: not isolated)."""
        return self._isolating[direction].get(pod.key, ())

    def guarded_rules(self) -> Iterator[tuple[NetworkPolicy, Direction, int, IRRule]]:
        """Every rule that counts (of a direction its policy guards): the policy as written, and the rule's IR."""
        for policy, ir in zip(self.cluster.policies, self.ir):
            for direction in Direction:
                if ir.guarded(direction):
                    for rule in ir.rules(direction):
                        yield policy, direction, rule.index, rule

    def default_deny(self, namespace: str, direction: Direction) -> tuple[IRPolicy, ...]:
        """Policies of ``namespace`` that isolate every pod, present and future, in ``direction``,
        without a rule that lets everything back in."""
        return tuple(p for p in self.ir.in_tier(Tier.NETWORK_POLICY)
                     if p.namespace == namespace and p.guarded(direction) and namespace_wide(p)
                     and not any(allows_all(r) for r in p.rules(direction)))

    def excluded(self, namespace: str) -> bool:
        """True for namespaces the configuration leaves out of coverage rules."""
        return namespace in self.config.lint.exclude_namespaces

    # -- peers -------------------------------------------------------------------------

    def namespaces_matching(self, selector: LabelSelector) -> tuple[Namespace, ...]:
        return tuple(ns for ns in self.cluster.namespaces if selector.matches(ns.labels))

    def peer_pods(self, peer: IRPeer) -> tuple[Pod, ...]:
        """The pods one peer matches (ipBlock: pods with a known IP inside)."""
        hit = self._peer_cache.get(peer)
        if hit is not None:
            return hit
        match peer:
            case AddressPeer():
                addresses = peer.addresses
                hit = tuple(p for p in self.pods if any(a in addresses for a in p.ips)
                            and (self.settings.ipblock_matches_pods or not p.is_pod_endpoint(self.settings)))
            case SelectorPeer():
                if peer.namespace_selector is not None:
                    names = [ns.name for ns in self.namespaces_matching(peer.namespace_selector)]
                else:
                    names = [peer.namespace] if peer.namespace is not None else []
                candidates = [p for n in names for p in self.endpoints_by_ns.get(n, ())]
                sel = peer.pod_selector
                hit = tuple(p for p in candidates if sel is None or sel.matches(p.labels))
            case _:
                assert_never(peer)
        self._peer_cache[peer] = hit
        return hit

    def remote_pods(self, rule: IRRule) -> tuple[Pod, ...]:
        """Pods a rule's peers match (every pod endpoint when it has none)."""
        if not rule.peers:
            return self.endpoints
        seen: dict[str, Pod] = {}
        for peer in rule.peers:
            for pod in self.peer_pods(peer):
                seen.setdefault(pod.key, pod)
        return tuple(seen.values())

    def destinations(self, rule: IRRule) -> tuple[Pod, ...]:
        """Where a rule's ports are looked up: its policy's subjects (ingress) or the remote pods (egress)."""
        if rule.direction is Direction.INGRESS:
            return self.selected[rule.ref.policy]
        return tuple(p for p in self.remote_pods(rule) if p.is_pod_endpoint(self.settings))

    def namespace_labels(self, name: str):  # type: ignore[no-untyped-def]
        return namespace_labels(self.cluster, name)

    # -- services, DNS, sensitivity ----------------------------------------------------

    def services_of(self, pod: Pod) -> tuple[Service, ...]:
        return tuple(s for s in self._services_by_ns.get(pod.namespace, ()) if s.selects(pod))

    @cached_property
    def dns_pods(self) -> tuple[Pod, ...]:
        dns = self.config.dns
        return tuple(p for p in self.endpoints_by_ns.get(dns.namespace, ()) if dns.is_dns_pod(p, self.settings))

    def is_sensitive(self, pod: Pod) -> bool:
        """See :mod:`podfence.model.sensitivity`."""
        return self.config.sensitive.is_sensitive(pod, self.cluster)

    # -- the engine --------------------------------------------------------------------

    @cached_property
    def engine(self) -> Engine:
        return Engine(self.cluster, self.settings)

    @cached_property
    def connectivity(self) -> Connectivity:
        return self.engine.connectivity()


def pod_list(pods: tuple[Pod, ...] | list[Pod], limit: int = 5) -> str:
    """``a/x, a/y and 3 more``; replicas of one workload as ``a/web (Deployment, 2 pods)``."""
    return shortened(pod_names(pods), limit)


__all__ = [
    "LintContext", "allows_all", "namespace_wide", "peer_field", "pod_list", "rule_addresses", "rule_field",
]
