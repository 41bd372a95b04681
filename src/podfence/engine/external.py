"""Connectivity between pods and address ranges outside the pod network.

Only address peers (ipBlock, and the ``networks``, ``nodes`` and ``domainNames``
of cluster-wide policies) and rules without peers can match an address, so what a
pod may send to an address, or receive from it, depends on the policies that
judge it alone, tier by tier. Every ipBlock boundary in the cluster cuts each address family into
elementary regions; per isolating profile the engine computes the allowed
connections of each region once, merges neighbours with equal answers, and writes
the result as CIDRs.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Iterator, assert_never

import numpy as np

from podfence.engine.compiled import OPEN, CompiledCluster
from podfence.engine.decision import UNDECIDED_ROWS, TierRows, final_rows
from podfence.engine.ir import Action, AddressPeer, SelectorPeer, Tier
from podfence.engine.pairwise import NodeIndex, side_conns
from podfence.engine.verdict import Endpoint
from podfence.model import Direction
from podfence.sets import IPAddress
from podfence.sets import ConnSet, IntervalSet, IPSet
from podfence.sets.ips import V4_MAX, V6_MAX

Region = tuple[int, int, ConnSet]


def _universe(version: int) -> int:
    return V4_MAX if version == 4 else V6_MAX


class ExternalView:
    """Pod <-> address-range connectivity for the given address families."""

    def __init__(self, cc: CompiledCluster, families: tuple[int, ...]) -> None:
        self.cc = cc
        self.families = families
        self.nodes = NodeIndex(cc.cluster)
        self._ip_keys = list({k.resolved(cc.settings): None for r in cc.rules for k in r.peers
                              if isinstance(k, AddressPeer)})
        self._cuts: dict[int, list[int]] = {}
        self._cut_index: dict[int, dict[int, int]] = {}
        for v in (4, 6):
            cuts = {0}
            for k in self._ip_keys:
                cuts.update(b for b in k.family(v).boundaries() if b <= _universe(v))
            self._cuts[v] = sorted(cuts)
            self._cut_index[v] = {c: i for i, c in enumerate(self._cuts[v])}
        self._inside: dict[tuple[IPSet, int], np.ndarray] = {}
        self._regions: dict[tuple[Direction, tuple[int, ...], int, int], list[Region]] = {}
        self._ranges: dict[tuple, list[tuple[IPSet, ConnSet]]] = {}  # type: ignore[type-arg]
        self._as_cidrs: dict[int, list[tuple[str, ConnSet]]] = {}
        self._keyed: dict[int, list[tuple[tuple[int, int, int], str, ConnSet]]] = {}
        self._as_blocks: dict[int, list[tuple[IPSet, ConnSet]]] = {}

    def _member(self, key: IPSet, version: int) -> np.ndarray:
        """Which elementary regions of ``version`` lie inside ``key`` (its boundaries are cuts)."""
        hit = self._inside.get((key, version))
        if hit is None:
            index, cuts = self._cut_index[version], self._cuts[version]
            hit = np.zeros(len(cuts), dtype=bool)
            for lo, hi in key.family(version):
                hit[index[lo]:index.get(hi + 1, len(cuts))] = True
            self._inside[(key, version)] = hit
        return hit

    def _profile_regions(self, direction: Direction, profile: tuple[int, ...], sig: int, version: int) -> list[Region]:
        """Maximal runs of elementary regions with one allowed set, for one isolating profile.

        Each region's allowed set is a bit vector over the port atoms, so adding a
        rule is one vectorised OR over the regions its peers cover.
        """
        key = (direction, profile, sig, version)
        hit = self._regions.get(key)
        if hit is not None:
            return hit
        cuts, atoms = self._cuts[version], self.cc.atoms
        everything = np.broadcast_to(self.cc.all_mask, (len(cuts), atoms.words))
        if profile == OPEN:
            acc = everything
        else:
            tiers = []
            for tier in Tier:
                members = [pi for pi in profile if self.cc.tier[pi] is tier]
                if not members:
                    tiers.append(UNDECIDED_ROWS)
                    continue
                rids = [rid for pi in members for rid in self.cc.policy_rules[(pi, direction)]]
                tiers.append(self._tier_rows(tier, rids, direction, sig, version))
            acc = final_rows(tiers, everything)
        changes = np.flatnonzero((acc[1:] != acc[:-1]).any(axis=1)) + 1
        starts = [0, *changes.tolist()]
        ends = [cuts[i] - 1 for i in starts[1:]] + [_universe(version)]
        hit = [(cuts[i], hi, atoms.decode(acc[i])) for i, hi in zip(starts, ends)]
        self._regions[key] = hit
        return hit

    def _tier_rows(self, tier: Tier, rids: list[int], direction: Direction, sig: int, version: int) -> TierRows:
        """One tier's decision over the elementary regions: a union of allowing rules for
        NetworkPolicies, rules in order (first match decides) for Admin and Baseline."""
        cuts, atoms = self._cuts[version], self.cc.atoms
        n = len(cuts)
        first_match = tier is not Tier.NETWORK_POLICY
        rest = np.array(np.broadcast_to(self.cc.all_mask, (n, atoms.words))) if first_match else None
        allowed = np.zeros((n, atoms.words), dtype=np.uint64)
        passed = np.zeros((n, atoms.words), dtype=np.uint64) if first_match else None
        for rid in rids:
            rule = self.cc.rules[rid]
            # Egress: the address is the destination, so named ports never match.
            conns = rule.numeric if direction is Direction.EGRESS else self.cc.rule_ports(rid, sig)
            if not conns:
                continue
            mask = atoms.encode(conns)
            where = np.zeros(n, dtype=bool)
            if not rule.peers:
                where[:] = True
            for k in rule.peers:
                match k:
                    case AddressPeer():
                        where |= self._member(k.resolved(self.cc.settings), version)
                    case SelectorPeer():
                        pass  # selectors match pods only, never an address outside them
                    case _:
                        assert_never(k)
            if rest is None:
                allowed[where] |= mask
                continue
            take = rest[where] & mask
            if rule.rule.action is Action.ALLOW:
                allowed[where] |= take
            elif rule.rule.action is Action.PASS:
                passed[where] |= take  # type: ignore[index]
            rest[where] &= ~mask
        if rest is None:
            return TierRows(allowed=allowed)
        return TierRows(allowed=allowed, passed=passed | rest)  # type: ignore[operator]

    def point_conns(self, i: int, direction: Direction, version: int, value: int) -> ConnSet:
        """What pod ``i`` may exchange with one address of its own node (see :meth:`own_node_points`).

        Ingress from the own node is allowed before any tier; egress to it is exempt in the
        NetworkPolicy tier only, so with cluster-wide tiers it is evaluated exactly.
        """
        if direction is Direction.INGRESS or not self.cc.tiered:
            return ConnSet.all()
        address = IPAddress(version, value)
        return side_conns(self.cc.cluster, self.cc.settings, self.nodes, Endpoint.of_pod(self.cc.pods[i]), None,
                          Endpoint.of_address(address), address, direction, None)

    def pod_families(self, i: int) -> tuple[int, ...]:
        pod = self.cc.pods[i]
        if pod.ips:
            return tuple(sorted({a.version for a in pod.ips}))
        return self.families

    def _side(self, i: int, direction: Direction) -> tuple[tuple[int, ...], int]:
        cc = self.cc
        if not cc.endpoint[i]:
            return OPEN, -1
        profile = cc.profile[direction][i]
        named = any(cc.rules[rid].named for pi in profile for rid in cc.policy_rules[(pi, direction)])
        return profile, int(cc.sig_id[i]) if named else -1

    def own_node_points(self, i: int, direction: Direction) -> list[tuple[int, int]]:
        """(version, value) of own-node addresses that are always allowed for pod ``i``."""
        pod, s = self.cc.pods[i], self.cc.settings
        if not pod.node_name or not self.cc.endpoint[i]:
            return []
        if direction is Direction.INGRESS and not s.allow_node_to_local_pod_ingress:
            return []
        if direction is Direction.EGRESS and not s.allow_pod_to_local_node_egress:
            return []
        return sorted((a.version, a.value) for a in self.nodes.addresses.get(pod.node_name, ()))

    def group_key(self, i: int) -> tuple:  # type: ignore[type-arg]
        return (self._side(i, Direction.EGRESS), self._side(i, Direction.INGRESS), self.pod_families(i),
                tuple(self.own_node_points(i, Direction.INGRESS)), tuple(self.own_node_points(i, Direction.EGRESS)))

    def _spans(self, i: int, direction: Direction) -> list[tuple[IPSet, ConnSet]]:
        """Maximal address spans with one allowed set each, in address order (cached per behaviour)."""
        profile, sig = self._side(i, direction)
        points = self.own_node_points(i, direction)
        key = (direction, profile, sig, self.pod_families(i), tuple(points))
        hit = self._ranges.get(key)
        if hit is None:
            hit = []
            for version in self.pod_families(i):
                regions = self._profile_regions(direction, profile, sig, version)
                own = {v: self.point_conns(i, direction, version, v) for fam, v in points if fam == version}
                if own:
                    regions = _with_points(regions, own)
                for lo, hi, conns in _merge(regions):
                    if conns:
                        span = IntervalSet.span(lo, hi)
                        hit.append((IPSet(v4=span) if version == 4 else IPSet(v6=span), conns))
            self._ranges[key] = hit
        return hit

    def ranges(self, i: int, direction: Direction) -> list[tuple[str, ConnSet]]:
        """(CIDR, allowed) for pod ``i``: what it may send to (egress) or receive from (ingress)."""
        spans = self._spans(i, direction)
        hit = self._as_cidrs.get(id(spans))  # spans lists live in self._ranges, so ids stay theirs
        if hit is None:
            hit = self._as_cidrs[id(spans)] = [(cidr, conns) for _, cidr, conns in self.keyed_ranges(i, direction)]
        return hit

    def keyed_ranges(self, i: int, direction: Direction) -> list[tuple[tuple[int, int, int], str, ConnSet]]:
        """:meth:`ranges` with each CIDR's address-order key ``(version, network, prefix)``.

        Pods that behave alike share one list (the same object), in address order.
        """
        spans = self._spans(i, direction)
        hit = self._keyed.get(id(spans))
        if hit is None:
            hit = self._keyed[id(spans)] = [(_order_key(v, net, prefix), text, conns) for span, conns in spans
                                            for v, net, prefix, text in span.cidr_entries()]
            if any(key[0] == 4 and ":" in text for key, text, _ in hit):
                hit.sort(key=lambda e: e[0])  # IPv4-mapped ranges order among IPv4 (stable)
        return hit

    def blocks(self, i: int, direction: Direction) -> list[tuple[IPSet, ConnSet]]:
        """The same as :meth:`ranges`, as one address set per distinct allowed set (first seen first)."""
        spans = self._spans(i, direction)
        hit = self._as_blocks.get(id(spans))
        if hit is None:
            by_conns: dict[ConnSet, list[IPSet]] = {}
            for span, conns in spans:
                by_conns.setdefault(conns, []).append(span)
            # Merged once per allowed set: spans are disjoint, so one sort of all their intervals.
            hit = self._as_blocks[id(spans)] = [
                (IPSet(IntervalSet.of(iv for p in parts for iv in p.v4), IntervalSet.of(iv for p in parts for iv in p.v6)),
                 conns)
                for conns, parts in by_conns.items()]
        return hit

    def connections(self) -> Iterator[tuple[str, str, ConnSet]]:
        for i, pod in enumerate(self.cc.pods):
            for cidr, conns in self.ranges(i, Direction.EGRESS):
                yield pod.key, cidr, conns
            for cidr, conns in self.ranges(i, Direction.INGRESS):
                yield cidr, pod.key, conns


def _order_key(version: int, network: int, prefix: int) -> tuple[int, int, int]:
    """Where a CIDR sorts among address ranges: as parsing its text would place it.

    An IPv4-mapped IPv6 CIDR (``::ffff:0:0/96`` and inside) parses as the IPv4
    network it embeds, so it sorts with IPv4.
    """
    if version == 6 and prefix >= 96 and network >> 32 == 0xFFFF:
        return 4, network & V4_MAX, prefix - 96
    return version, network, prefix


def _with_points(regions: list[Region], points: dict[int, ConnSet]) -> list[Region]:
    """Split regions so each point stands alone, with its own allowed set."""
    out: list[Region] = []
    pts = sorted(points)
    for lo, hi, conns in regions:
        cur = lo
        for p in pts[bisect_left(pts, lo):bisect_right(pts, hi)]:
            if p > cur:
                out.append((cur, p - 1, conns))
            out.append((p, p, points[p]))
            cur = p + 1
        if cur <= hi:
            out.append((cur, hi, conns))
    return out


def _merge(regions: list[Region]) -> list[Region]:
    out: list[Region] = []
    for lo, hi, conns in regions:
        if out and out[-1][2] == conns and out[-1][1] + 1 == lo:
            out[-1] = (out[-1][0], hi, conns)
        else:
            out.append((lo, hi, conns))
    return out
