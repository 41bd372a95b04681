"""The cluster compiled for whole-cluster evaluation.

The policy IR (:mod:`podfence.engine.ir`) of the NetworkPolicy tier becomes a flat
table of rules; pods become vectors (which policies select them, which peers
match them, how their named ports resolve). Everything here is independent of
address family; :mod:`podfence.engine.connectivity` adds the per-family part
(ipBlock peers matching pod IPs) and the classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, assert_never

import numpy as np

from podfence.engine.atoms import AtomSpace
from podfence.engine.classes import named_port_signature, referenced_named_ports
from podfence.engine.ir import (
    AddressPeer, ClusterPods, IRPeer, IRRule, NamedPort, PodsInNamespace, SelectorPeer, Subject, Tier, ir_of,
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

    def __init__(self, cluster: Cluster, settings: Settings) -> None:
        self.cluster = cluster
        self.settings = settings
        self.ir = ir_of(cluster)
        self.pods: tuple[Pod, ...] = tuple(p for p in cluster.pods if p.takes_part(settings))
        self.n = len(self.pods)
        self.endpoint = np.fromiter((p.is_pod_endpoint(settings) for p in self.pods), dtype=bool, count=self.n)
        self.namespaces = tuple(ns.name for ns in cluster.namespaces)
        ns_index = {name: i for i, name in enumerate(self.namespaces)}
        self.ns_index = ns_index
        self.pod_ns = np.fromiter((ns_index[p.namespace] for p in self.pods), dtype=np.int32, count=self.n)

        self.rules: list[CompiledRule] = []
        self.policy_rules: dict[tuple[int, Direction], list[int]] = {}
        for pi, policy in enumerate(self.ir.policies):
            if policy.tier is not Tier.NETWORK_POLICY:
                continue
            for direction in Direction:
                if not policy.guarded(direction):
                    continue
                ids = self.policy_rules.setdefault((pi, direction), [])
                for rule in policy.rules(direction):
                    ids.append(len(self.rules))
                    self.rules.append(CompiledRule(
                        pi, direction, rule.index, rule, rule_conns(rule, None, settings), bool(rule.ports.named),
                    ))

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
        self.pod_labels = LabelTable([p.labels for p in self.pods], selector_keys(selectors))
        self.ns_labels = LabelTable([ns.labels for ns in cluster.namespaces], selector_keys(ns_selectors))

        # Subjects: which pods each policy selects.
        self.subject: list[np.ndarray] = [self.subject_vector(p.subject) for p in self.ir.policies]

        # Named ports: one signature id per pod.
        self.named_keys: list[NamedPort] = referenced_named_ports([r.rule for r in self.rules if r.named])
        sig_ids: dict[Hashable, int] = {}
        self.signatures: list[Hashable] = []
        self.sig_rep: list[Pod | None] = []
        ids = []
        for pod in self.pods:
            sig = named_port_signature(pod, self.named_keys, settings) if self.named_keys else None
            if sig not in sig_ids:
                sig_ids[sig] = len(sig_ids)
                self.signatures.append(sig)
                self.sig_rep.append(pod if sig is not None else None)
            ids.append(sig_ids[sig])
        self.sig_id = np.array(ids, dtype=np.int64) if ids else np.zeros(0, dtype=np.int64)

        # Profiles: the isolating policies of each pod per direction.
        selected: dict[Direction, list[list[int]]] = {d: [[] for _ in range(self.n)] for d in Direction}
        for pi, vec in enumerate(self.subject):
            for direction in Direction:
                if (pi, direction) in self.policy_rules:
                    for j in np.flatnonzero(vec).tolist():
                        selected[direction][j].append(pi)
        self.profile: dict[Direction, list[tuple[int, ...]]] = {
            d: [tuple(lst) for lst in selected[d]] for d in Direction
        }

        # Port atoms: every ConnSet any rule can produce for any destination.
        conns = [ConnSet.all(), everything(settings)] + [r.numeric for r in self.rules]
        self._named_cache: dict[tuple[int, int], ConnSet] = {}
        for rid, r in enumerate(self.rules):
            if r.named:
                for sid in range(len(self.signatures)):
                    conns.append(self.rule_ports(rid, sid))
        self.atoms = AtomSpace(conns)
        self.all_mask = self.atoms.encode(ConnSet.all())
        self._selector_peer_cache: dict[SelectorPeer, np.ndarray] = {}
        self._address_tables: dict[int | None, AddressTable] = {}

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
        key = (rule_id, sig_id)
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

    def ip_peer(self, addresses: IPSet, version: int | None) -> np.ndarray:
        """Which pods an ipBlock peer matches when the connection uses family ``version``."""
        if version is None:
            return np.zeros(self.n, dtype=bool)
        vec = self.address_table(version).member(addresses.family(version))
        if not self.settings.ipblock_matches_pods:
            vec = vec & ~self.endpoint
        return vec

    def peer_vector(self, key: IRPeer, version: int | None) -> np.ndarray:
        """Which pods a peer matches when the connection uses family ``version``."""
        match key:
            case AddressPeer():
                return self.ip_peer(key.addresses, version)
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
                    if isinstance(peer, AddressPeer) and peer.addresses.v6:
                        fams.add(6)
        return tuple(sorted(fams))


def _subject_selectors(subject: Subject) -> tuple[LabelSelector | None, LabelSelector | None]:
    """(pod selector, namespace selector) a subject uses, for the label tables."""
    match subject:
        case PodsInNamespace():
            return subject.pod_selector, None
        case ClusterPods():
            return subject.pod_selector, subject.namespace_selector
        case _:
            assert_never(subject)
