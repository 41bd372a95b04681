"""The cluster compiled for whole-cluster evaluation.

The policy IR (:mod:`podfence.engine.ir`) of every tier becomes a flat table of
rules; pods become vectors (which policies select them, which peers
match them, how their named ports resolve). Everything here is independent of
address family; :mod:`podfence.engine.connectivity` adds the per-family part
(ipBlock peers matching pod IPs) and the classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Iterable, assert_never

import numpy as np

from podfence.engine.atoms import AtomSpace
from podfence.engine.classes import named_port_signature, referenced_named_ports
from podfence.engine.ir import (
    AddressPeer, ClusterPods, IRPeer, IRRule, NamedPort, PodsInNamespace, PolicySet, SelectorPeer, Subject, Tier,
    ir_of, translate,
)
from podfence.engine.match import everything, rule_conns
from podfence.engine.vectors import AddressTable, LabelTable, selector_keys
from podfence.model import Cluster, Direction, LabelSelector, Pod, Settings
from podfence.sets import ConnSet, IPSet

OPEN: tuple[int, ...] = ()  # profile of a side no policy judges


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """One rule of one policy: its IR, its ports split into numeric and named parts."""

    policy: int  # index into cluster.policies (and the cluster's IR)
    direction: Direction
    index: int
    rule: IRRule
    numeric: ConnSet  # what the rule allows towards a destination whose named ports resolve to nothing
    named: bool

    @property
    def peers(self) -> tuple[IRPeer, ...]:
        """The rule's peers (empty: every endpoint)."""
        return self.rule.peers


class CompiledCluster:
    """Rules, pod vectors, profiles and the port atom space of one cluster."""

    def __init__(self, cluster: Cluster, settings: Settings, previous: CompiledCluster | None = None) -> None:
        """Compile ``cluster``; with ``previous`` (the same settings, the same pods in the same
        order, some labels, namespaces' labels or policies changed), reuse whatever of it is
        built from objects this cluster still holds unchanged (see :mod:`podfence.engine.incremental`)."""
        if previous is not None and previous.settings != settings:
            previous = None
        self.cluster = cluster
        self.settings = settings
        self.ir = _reused_ir(cluster, previous) if previous is not None else ir_of(cluster)
        self.pods: tuple[Pod, ...] = tuple(p for p in cluster.pods if p.takes_part(settings))
        if previous is not None and not same_keys(previous.pods, self.pods):
            previous = None
        self.n = len(self.pods)
        self.endpoint = np.fromiter((p.is_pod_endpoint(settings) for p in self.pods), dtype=bool, count=self.n)
        self.namespaces = tuple(ns.name for ns in cluster.namespaces)
        ns_index = {name: i for i, name in enumerate(self.namespaces)}
        self.ns_index = ns_index
        self.pod_ns = np.fromiter((ns_index[p.namespace] for p in self.pods), dtype=np.int32, count=self.n)

        # What a rule's ports admit, per ports value (and named-port signature): kept across edits.
        self._numeric: dict[object, ConnSet] = previous._numeric if previous is not None else {}
        self._named_cache: dict[tuple[object, Hashable], ConnSet] = (
            previous._named_cache if previous is not None else {})
        self.rules: list[CompiledRule] = []
        self.policy_rules: dict[tuple[int, Direction], list[int]] = {}
        # Policies in evaluation order: Admin by priority, NetworkPolicies, Baseline by priority.
        position = {id(p): i for i, p in enumerate(self.ir.policies)}
        self.order: list[int] = [position[id(p)] for tier in Tier for p in self.ir.evaluation_order(tier, settings)]
        self.tier: list[Tier] = [p.tier for p in self.ir.policies]
        self.tiered = any(t is not Tier.NETWORK_POLICY for t in self.tier)
        for pi, policy in enumerate(self.ir.policies):
            for direction in Direction:
                if not policy.guarded(direction):
                    continue
                ids = self.policy_rules.setdefault((pi, direction), [])
                for rule in policy.rules(direction):
                    ids.append(len(self.rules))
                    numeric = self._numeric.get(rule.ports)
                    if numeric is None:
                        numeric = self._numeric[rule.ports] = rule_conns(rule, None, settings)
                    self.rules.append(CompiledRule(pi, direction, rule.index, rule, numeric, bool(rule.ports.named)))

        selectors: list[LabelSelector] = []
        ns_selectors: list[LabelSelector] = []
        for policy in self.ir.policies:
            pod_selector, namespace_selector = _subject_selectors(policy.subject)
            selectors += [pod_selector] if pod_selector is not None else []
            ns_selectors += [namespace_selector] if namespace_selector is not None else []
        for r in self.rules:
            for k in r.peers:
                if isinstance(k, SelectorPeer):
                    if k.pod_selector is not None:
                        selectors.append(k.pod_selector)
                    if k.namespace_selector is not None:
                        ns_selectors.append(k.namespace_selector)
        pod_keys, ns_keys = selector_keys(selectors), selector_keys(ns_selectors)
        same_pods = previous is not None and all(a is b for a, b in zip(previous.pods, self.pods))
        same_ns = previous is not None and previous.cluster.namespaces == cluster.namespaces
        if same_pods and set(pod_keys) <= previous.pod_labels.keys:  # type: ignore[union-attr]
            self.pod_labels = previous.pod_labels  # type: ignore[union-attr]
        else:
            self.pod_labels = LabelTable([p.labels for p in self.pods], pod_keys)
        if same_ns and set(ns_keys) <= previous.ns_labels.keys:  # type: ignore[union-attr]
            self.ns_labels = previous.ns_labels  # type: ignore[union-attr]
        else:
            self.ns_labels = LabelTable([ns.labels for ns in cluster.namespaces], ns_keys)
        tables_kept = (previous is not None and self.pod_labels is previous.pod_labels
                       and self.ns_labels is previous.ns_labels)
        self._selector_peer_cache: dict[SelectorPeer, np.ndarray] = (
            dict(previous._selector_peer_cache) if tables_kept else {})  # type: ignore[union-attr]

        # Subjects: which pods each policy selects.
        kept = {id(p): v for p, v in zip(previous.ir.policies, previous.subject)} if tables_kept else {}  # type: ignore[union-attr]
        self.subject: list[np.ndarray] = [
            kept[id(p)] if id(p) in kept else self.subject_vector(p.subject) for p in self.ir.policies]

        # Named ports: one signature id per pod.
        self.named_keys: list[NamedPort] = referenced_named_ports([r.rule for r in self.rules if r.named])
        if previous is not None and previous.named_keys == self.named_keys and all(
                a.ports == b.ports for a, b in zip(previous.pods, self.pods)):
            self.signatures, self.sig_rep, self.sig_id = previous.signatures, previous.sig_rep, previous.sig_id
        else:
            self._signatures()

        # Profiles: the policies that judge each pod per direction, in evaluation order (without
        # cluster-wide policies: the isolating NetworkPolicies).
        selected: dict[Direction, list[list[int]]] = {d: [[] for _ in range(self.n)] for d in Direction}
        for pi in self.order:
            vec = self.subject[pi]
            for direction in Direction:
                if (pi, direction) in self.policy_rules:
                    for j in np.flatnonzero(vec).tolist():
                        selected[direction][j].append(pi)
        self.profile: dict[Direction, list[tuple[int, ...]]] = {
            d: [tuple(lst) for lst in selected[d]] for d in Direction
        }

        # Port atoms: every ConnSet any rule can produce for any destination. An edit keeps the
        # previous atoms when they already cut every new set (finer atoms decode to the same sets).
        if previous is not None and previous.atoms.covers(self._conns(self._new_rules(previous))):
            self.atoms = previous.atoms
        else:
            self.atoms = AtomSpace(self._conns(range(len(self.rules))))
        self.all_mask = self.atoms.encode(ConnSet.all())
        self._address_tables: dict[int | None, AddressTable] = (
            dict(previous._address_tables) if same_pods else {})  # type: ignore[union-attr]

    def _conns(self, rule_ids: Iterable[int]) -> list[ConnSet]:
        """Every ConnSet the given rules can produce for any destination, and the two wholes."""
        conns = [ConnSet.all(), everything(self.settings)]
        for rid in rule_ids:
            r = self.rules[rid]
            conns += [self.rule_ports(rid, sid) for sid in range(len(self.signatures))] if r.named else [r.numeric]
        return conns

    def _new_rules(self, previous: CompiledCluster) -> Iterable[int]:
        """Rules ``previous`` did not have (all of them when named ports resolve differently)."""
        if self.signatures is not previous.signatures:
            return range(len(self.rules))
        known = {id(p) for p in previous.ir.policies}
        return [rid for rid, r in enumerate(self.rules) if id(self.ir.policies[r.policy]) not in known]

    def _signatures(self) -> None:
        sig_ids: dict[Hashable, int] = {}
        self.signatures = []
        self.sig_rep = []
        ids = []
        # A signature depends on the pod's ports alone (and whether it is a pod endpoint); thousands of
        # replicas of a few templates share them, so each port list is resolved once.
        by_ports: dict[Hashable, Hashable] = {}
        for pod in self.pods:
            sig = None
            if self.named_keys:
                key = (pod.ports, pod.is_pod_endpoint(self.settings))
                sig = by_ports.get(key, by_ports)
                if sig is by_ports:
                    sig = by_ports[key] = named_port_signature(pod, self.named_keys, self.settings)
            if sig not in sig_ids:
                sig_ids[sig] = len(sig_ids)
                self.signatures.append(sig)
                self.sig_rep.append(pod if sig is not None else None)
            ids.append(sig_ids[sig])
        self.sig_id = np.array(ids, dtype=np.int64) if ids else np.zeros(0, dtype=np.int64)

    def subject_vector(self, subject: Subject) -> np.ndarray:
        """Which pods a policy subject selects."""
        match subject:
            case PodsInNamespace():
                vec = self.pod_labels.select(subject.pod_selector) & self.endpoint
                return vec & (self.pod_ns == self.ns_index[subject.namespace])
            case ClusterPods():
                vec = self.ns_labels.select(subject.namespace_selector)[self.pod_ns] & self.endpoint
                return vec if subject.pod_selector is None else vec & self.pod_labels.select(subject.pod_selector)
            case _:
                assert_never(subject)

    def rule_ports(self, rule_id: int, sig_id: int) -> ConnSet:
        """What rule ``rule_id`` allows towards a destination with named-port signature ``sig_id``."""
        r = self.rules[rule_id]
        if not r.named:
            return r.numeric
        key = (r.rule.ports, self.signatures[sig_id])
        hit = self._named_cache.get(key)
        if hit is None:
            hit = rule_conns(r.rule, self.sig_rep[sig_id], self.settings)
            self._named_cache[key] = hit
        return hit

    def selector_peer(self, key: SelectorPeer) -> np.ndarray:
        """Which pods a selector peer matches (family independent)."""
        hit = self._selector_peer_cache.get(key)
        if hit is not None:
            return hit
        if key.namespace_selector is not None:
            ns_ok = self.ns_labels.select(key.namespace_selector)
        else:
            ns_ok = np.zeros(len(self.namespaces), dtype=bool)
            ns_ok[self.ns_index[key.namespace]] = True  # type: ignore[index]
        vec = ns_ok[self.pod_ns] & self.endpoint
        if key.pod_selector is not None:
            vec = vec & self.pod_labels.select(key.pod_selector)
        vec.flags.writeable = False
        self._selector_peer_cache[key] = vec
        return vec

    def address_table(self, version: int | None) -> AddressTable:
        table = self._address_tables.get(version)
        if table is None:
            table = AddressTable([p.ips for p in self.pods], version)
            self._address_tables[version] = table
        return table

    def ip_peer(self, addresses: IPSet, version: int | None, always_pods: bool = False) -> np.ndarray:
        """Which pods an address peer matches when the connection uses family ``version``
        (an ipBlock matches pod endpoints per ``ipblock_matches_pods``; ``always_pods``: always)."""
        if version is None:
            return np.zeros(self.n, dtype=bool)
        vec = self.address_table(version).member(addresses.family(version))
        if not self.settings.ipblock_matches_pods and not always_pods:
            vec = vec & ~self.endpoint
        return vec

    def peer_vector(self, key: IRPeer, version: int | None) -> np.ndarray:
        """Which pods a peer matches when the connection uses family ``version``."""
        match key:
            case AddressPeer():
                return self.ip_peer(key.resolved(self.settings), version, key.always_matches_pods)
            case SelectorPeer():
                return self.selector_peer(key)
            case _:
                assert_never(key)

    def distinct_peer_keys(self) -> list[IRPeer]:
        seen: dict[IRPeer, None] = {}
        for r in self.rules:
            for k in r.peers:
                seen.setdefault(k, None)
        return list(seen)

    def families_in_use(self) -> tuple[int, ...]:
        """Address families to report ranges for: IPv4 always, IPv6 when the input mentions it.

        IPv6 counts as mentioned when any pod (finished ones included) has an IPv6
        address or host address, or any ipBlock (in any rule, even one its policy
        ignores) still holds IPv6 addresses once its ``except`` entries are taken out.
        """
        fams = {4} | {a.version for p in self.cluster.pods for a in (*p.ips, *p.host_ips)}
        for policy in self.ir.policies:
            for rule in (*policy.ingress, *policy.egress):
                for peer in rule.peers:
                    if isinstance(peer, AddressPeer) and peer.resolved(self.settings).v6:
                        fams.add(6)
        return tuple(sorted(fams))


def _reused_ir(cluster: Cluster, previous: CompiledCluster) -> PolicySet:
    """The IR of ``cluster``, reusing the translation of every policy object ``previous`` holds
    (cluster-wide policies too, when the nodes and pods they may name are the same)."""
    before = (*previous.cluster.policies, *previous.cluster.cluster_policies)
    known = {id(obj): ir for obj, ir in zip(before, previous.ir.policies)}
    if cluster.cluster_policies and not (previous.cluster.nodes == cluster.nodes
                                         and previous.cluster.pods == cluster.pods):
        for obj in previous.cluster.cluster_policies:  # a nodes peer may name other addresses now
            known.pop(id(obj), None)
    return cluster.derived("policy-ir", lambda c: PolicySet(tuple(
        known[id(obj)] if id(obj) in known else translate(obj, c) for obj in (*c.policies, *c.cluster_policies))))


def _subject_selectors(subject: Subject) -> tuple[LabelSelector | None, LabelSelector | None]:
    """(pod selector, namespace selector) a subject uses, for the label tables."""
    match subject:
        case PodsInNamespace():
            return subject.pod_selector, None
        case ClusterPods():
            return subject.pod_selector, subject.namespace_selector
        case _:
            assert_never(subject)


def same_keys(a: tuple[Pod, ...], b: tuple[Pod, ...]) -> bool:
    """True when two pod tuples name the same pods in the same order."""
    return len(a) == len(b) and all(x is y or (x.namespace == y.namespace and x.name == y.name) for x, y in zip(a, b))
