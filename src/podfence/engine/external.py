"""Connectivity between pods and address ranges outside the pod network.

Only ipBlock peers (and rules without peers) can match an address, so what a pod
may send to an address, or receive from it, depends on its isolating policies
alone. Every ipBlock boundary in the cluster cuts each address family into
elementary regions; per isolating profile the engine computes the allowed
connections of each region once, merges neighbours with equal answers, and writes
the result as CIDRs.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Iterator

from podfence.engine.compiled import OPEN, CompiledCluster
from podfence.engine.pairwise import NodeIndex
from podfence.model import Direction
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
        self._ip_keys = sorted({k for r in cc.rules for k in r.peers if isinstance(k, IPSet)}, key=repr)
        self._cuts: dict[int, list[int]] = {}
        for v in (4, 6):
            cuts = {0}
            for k in self._ip_keys:
                cuts.update(b for b in k.family(v).boundaries() if b <= _universe(v))
            self._cuts[v] = sorted(cuts)
        self._inside: dict[tuple[IPSet, int], list[bool]] = {}
        self._regions: dict[tuple[Direction, tuple[int, ...], int, int], list[Region]] = {}
        self._ranges: dict[tuple, list[tuple[IPSet, ConnSet]]] = {}  # type: ignore[type-arg]
        self._as_cidrs: dict[int, list[tuple[str, ConnSet]]] = {}
        self._as_blocks: dict[int, list[tuple[IPSet, ConnSet]]] = {}

    def _member(self, key: IPSet, version: int) -> list[bool]:
        hit = self._inside.get((key, version))
        if hit is None:
            ivs = key.family(version)
            starts = [lo for lo, _ in ivs]
            hit = []
            for lo in self._cuts[version]:
                i = bisect_right(starts, lo) - 1
                hit.append(i >= 0 and lo <= ivs.intervals[i][1])
            self._inside[(key, version)] = hit
        return hit

    def _profile_regions(self, direction: Direction, profile: tuple[int, ...], sig: int, version: int) -> list[Region]:
        """Allowed connections per elementary region for one isolating profile."""
        key = (direction, profile, sig, version)
        hit = self._regions.get(key)
        if hit is not None:
            return hit
        cuts = self._cuts[version]
        ends = [c - 1 for c in cuts[1:]] + [_universe(version)]
        if profile == OPEN:
            acc = [ConnSet.all()] * len(cuts)
        else:
            acc = [ConnSet.none()] * len(cuts)
            for pi in profile:
                for rid in self.cc.policy_rules[(pi, direction)]:
                    rule = self.cc.rules[rid]
                    # Egress: the address is the destination, so named ports never match.
                    conns = rule.numeric if direction is Direction.EGRESS else self.cc.rule_ports(rid, sig)
                    if not conns:
                        continue
                    if not rule.peers:
                        acc = [a | conns for a in acc]
                        continue
                    for k in rule.peers:
                        if isinstance(k, IPSet):
                            inside = self._member(k, version)
                            acc = [a | conns if inside[i] else a for i, a in enumerate(acc)]
        hit = [(lo, hi, c) for lo, hi, c in zip(cuts, ends, acc)]
        self._regions[key] = hit
        return hit

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
                own = [v for fam, v in points if fam == version]
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
            hit = self._as_cidrs[id(spans)] = [(cidr, conns) for span, conns in spans for cidr in span.cidrs()]
        return hit

    def blocks(self, i: int, direction: Direction) -> list[tuple[IPSet, ConnSet]]:
        """The same as :meth:`ranges`, as one address set per distinct allowed set (first seen first)."""
        spans = self._spans(i, direction)
        hit = self._as_blocks.get(id(spans))
        if hit is None:
            by_conns: dict[ConnSet, IPSet] = {}
            for span, conns in spans:
                by_conns[conns] = by_conns.get(conns, IPSet()) | span
            hit = self._as_blocks[id(spans)] = [(block, conns) for conns, block in by_conns.items()]
        return hit

    def connections(self) -> Iterator[tuple[str, str, ConnSet]]:
        for i, pod in enumerate(self.cc.pods):
            for cidr, conns in self.ranges(i, Direction.EGRESS):
                yield pod.key, cidr, conns
            for cidr, conns in self.ranges(i, Direction.INGRESS):
                yield cidr, pod.key, conns


def _with_points(regions: list[Region], points: list[int]) -> list[Region]:
    """Split regions so each point stands alone, allowed everything."""
    out: list[Region] = []
    pts = sorted(set(points))
    for lo, hi, conns in regions:
        cur = lo
        for p in pts:
            if p < cur or p > hi:
                continue
            if p > cur:
                out.append((cur, p - 1, conns))
            out.append((p, p, ConnSet.all()))
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
