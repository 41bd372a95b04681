"""Redundant rules and policies, judged by what they allow, not by how they read.

A rule is redundant when removing it changes no allowed connection: for every pod
its policy isolates, every remote pod and every outside address, whatever it
allows is already allowed by the other rules of the policies isolating that pod
in the same direction. A policy is redundant when removing it changes nothing:
its pods stay isolated by other policies that already allow all it allows (or,
with no other policy, it allows everything, so isolation changes nothing).

The remote side is evaluated by classes, as the engine does: pods that every peer
of the cluster matches alike (per address family, ipBlock peers included) and that
resolve named ports alike are one column; addresses outside the pod network are
cut into regions at every ipBlock boundary. Each rule becomes a bit matrix (remote
column x port atom), so "already allowed" is an AND-NOT over a few small arrays.

A namespace-wide policy (empty podSelector) also protects pods not created yet.
Such a future pod is one more subject: only the namespace-wide policies isolate
it and its named ports resolve to nothing, so a default deny is never called
redundant just because today every pod also has a policy of its own. And a
namespace-wide deny (no rules in a direction it guards) is the anchor of that
direction's isolation: it is called redundant only next to another such deny,
never because namespace-wide allow policies happen to isolate the same pods.

Duplicates are resolved in order: candidates are removed one at a time, later
policies (and rules) first, so of two identical rules the first one stays.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import assert_never

import numpy as np

from podfence.engine import AddressPeer, CompiledCluster, SelectorPeer, refine
from podfence.lint.context import namespace_wide
from podfence.model import Cluster, Direction, Settings
from podfence.sets import IPSet
from podfence.sets.ips import V4_MAX, V6_MAX

RuleKey = tuple[int, Direction, int]  # (policy index, direction, rule index)


@dataclass(frozen=True, slots=True)
class Subject:
    """A kind of subject pod: direction, isolating policies, named-port signature (None: resolves nothing)."""

    direction: Direction
    profile: tuple[int, ...]
    sig: int | None


@dataclass(frozen=True, slots=True)
class Redundant:
    """A redundant rule or policy and the rules that already allow what it allows."""

    policy: int
    direction: Direction | None  # None for a whole policy
    index: int | None
    covered_by: tuple[RuleKey, ...]


class _Space:
    """Remote endpoints as columns: pod classes of one address family, or outside address regions."""

    def __init__(self, cc: CompiledCluster, peers: dict[int, np.ndarray], sigs: np.ndarray | None) -> None:
        self.cc = cc
        self.peers = peers  # rule id -> bool per column
        self.sigs = sigs  # named-port signature per column (pod classes), None for address regions
        self.size = len(sigs) if sigs is not None else (len(next(iter(peers.values()))) if peers else 0)


def _pod_spaces(cc: CompiledCluster) -> list[_Space]:
    versions = sorted({a.version for p in cc.pods for a in p.ips}) or [None]
    spaces = []
    keys = cc.distinct_peer_keys()
    for version in versions:
        if version is None:
            members = np.arange(cc.n)
        else:
            members = np.flatnonzero(np.fromiter(
                (not p.ips or any(a.version == version for a in p.ips) for p in cc.pods), dtype=bool, count=cc.n))
        if not len(members):
            continue
        vecs = {k: cc.peer_vector(k, version)[members] for k in keys}
        seen: dict[bytes, np.ndarray] = {}
        for v in vecs.values():
            if v.any() and not v.all():
                seen.setdefault(np.packbits(v).tobytes(), v)
        cid = refine(cc.sig_id[members] * 2 + cc.endpoint[members], list(seen.values()))
        _, first = np.unique(cid, return_index=True)
        reps = first  # positions within members
        peers = {}
        for rid, r in enumerate(cc.rules):
            if not r.peers:
                peers[rid] = np.ones(len(reps), dtype=bool)
            else:
                acc = np.zeros(len(reps), dtype=bool)
                for k in r.peers:
                    acc |= vecs[k][reps]
                peers[rid] = acc
        spaces.append(_Space(cc, peers, cc.sig_id[members][reps]))
    return spaces


def _region_space(cc: CompiledCluster) -> _Space:
    blocks = sorted({k.addresses for r in cc.rules for k in r.peers if isinstance(k, AddressPeer)}, key=repr)
    starts: list[tuple[int, int]] = []  # (version, start of region)
    for version, top in ((4, V4_MAX), (6, V6_MAX)):
        if version not in cc.families_in_use():
            continue
        cuts = {0}
        for k in blocks:
            cuts.update(b for b in k.family(version).boundaries() if b <= top)
        starts.extend((version, c) for c in sorted(cuts))
    inside: dict[IPSet, np.ndarray] = {}
    for k in blocks:
        flags = []
        for version, lo in starts:
            ivs = k.family(version)
            i = bisect_right([a for a, _ in ivs], lo) - 1
            flags.append(i >= 0 and lo <= ivs.intervals[i][1])
        inside[k] = np.array(flags, dtype=bool)
    peers = {}
    for rid, r in enumerate(cc.rules):
        if not r.peers:
            peers[rid] = np.ones(len(starts), dtype=bool)
        else:
            acc = np.zeros(len(starts), dtype=bool)
            for k in r.peers:
                match k:
                    case AddressPeer():
                        acc |= inside[k.addresses]
                    case SelectorPeer():
                        pass  # selectors match pods only
                    case _:
                        assert_never(k)
            peers[rid] = acc
    space = _Space(cc, peers, None)
    space.size = len(starts)
    return space


class _Masks:
    """What each rule allows per remote column, for one kind of subject, cached."""

    def __init__(self, cc: CompiledCluster, spaces: list[_Space]) -> None:
        self.cc = cc
        self.spaces = spaces
        self._cache: dict[tuple[int, int, int | None], np.ndarray] = {}
        self._all = [np.broadcast_to(cc.all_mask, (s.size, cc.atoms.words)) for s in spaces]

    def everything(self, space: int) -> np.ndarray:
        return self._all[space]

    def rule(self, space: int, rid: int, subject: Subject) -> np.ndarray:
        cc = self.cc
        r = cc.rules[rid]
        sig = subject.sig if (r.named and subject.direction is Direction.INGRESS) else None
        key = (space, rid, sig)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        sp = self.spaces[space]
        peers = sp.peers[rid][:, None]
        if r.direction is Direction.EGRESS and r.named and sp.sigs is not None:
            by_sig = np.stack([cc.atoms.encode(cc.rule_ports(rid, s)) for s in range(len(cc.signatures))])
            conns = by_sig[sp.sigs]
        elif sig is not None:
            conns = np.broadcast_to(cc.atoms.encode(cc.rule_ports(rid, sig)), (sp.size, cc.atoms.words))
        else:
            conns = np.broadcast_to(cc.atoms.encode(r.numeric), (sp.size, cc.atoms.words))
        hit = np.where(peers, conns, np.uint64(0))
        self._cache[key] = hit
        return hit


def find_redundant(cluster: Cluster, settings: Settings) -> list[Redundant]:
    """Redundant policies (first) and rules of the remaining policies, in policy order.

    NetworkPolicies are compared with each other, inside their tier: cluster-wide
    policies are left out here.
    """
    if cluster.cluster_policies:
        cluster = Cluster(cluster.namespaces, cluster.pods, cluster.services, cluster.policies, cluster.name)
    cc = CompiledCluster(cluster, settings)
    if not cc.rules and not cluster.policies:
        return []
    spaces = _pod_spaces(cc) + [_region_space(cc)]
    masks = _Masks(cc, spaces)
    subjects = _subjects(cc, cluster)
    by_policy: dict[int, list[Subject]] = {}
    for s in subjects:
        for pi in s.profile:
            by_policy.setdefault(pi, []).append(s)

    def rules_of(pi: int, direction: Direction) -> list[int]:
        return cc.policy_rules.get((pi, direction), [])

    def union(space: int, rids: list[int], subject: Subject) -> np.ndarray | None:
        acc = None
        for rid in rids:
            m = masks.rule(space, rid, subject)
            acc = m if acc is None else acc | m
        return acc

    def key(rid: int) -> RuleKey:
        r = cc.rules[rid]
        return (r.policy, r.direction, r.index)

    def covering(space: int, mine: np.ndarray, rids: list[int], subject: Subject) -> list[int]:
        return [rid for rid in rids if (masks.rule(space, rid, subject) & mine).any()]

    def default_deny(pi: int, direction: Direction) -> bool:
        p = cc.ir.policies[pi]
        return namespace_wide(p) and p.guarded(direction) and not p.rules(direction)

    def anchors(pi: int) -> bool:
        """A namespace-wide deny in some direction, with no other one there to stand in for it."""
        p = cc.ir.policies[pi]
        for direction in Direction:
            if default_deny(pi, direction) and not any(
                    q != pi and q not in removed_p and default_deny(q, direction)
                    and cc.ir.policies[q].namespace == p.namespace for q in range(len(cc.ir.policies))):
                return True
        return False

    out: list[Redundant] = []
    removed_p: set[int] = set()
    for pi in sorted(by_policy, reverse=True):
        if anchors(pi):
            continue
        cover: set[int] = set()
        redundant = True
        for subject in by_policy[pi]:
            others = [q for q in subject.profile if q != pi and q not in removed_p]
            other_rules = [rid for q in others for rid in rules_of(q, subject.direction)]
            for sp in range(len(spaces)):
                mine = union(sp, rules_of(pi, subject.direction), subject)
                if not others:  # removing it would leave the pods unisolated
                    if mine is None or (masks.everything(sp) & ~mine).any():
                        redundant = False
                        break
                    continue
                theirs = union(sp, other_rules, subject)
                if mine is None:
                    continue
                if theirs is None or (mine & ~theirs).any():
                    redundant = False
                    break
                cover.update(covering(sp, mine, other_rules, subject))
            if not redundant:
                break
        if redundant:
            removed_p.add(pi)
            out.append(Redundant(pi, None, None, tuple(sorted(key(r) for r in cover))))

    removed_r: set[int] = set()
    candidates = [rid for rid, r in enumerate(cc.rules) if r.policy in by_policy and r.policy not in removed_p]
    for rid in sorted(candidates, key=key, reverse=True):
        r = cc.rules[rid]
        alive, redundant, cover = False, True, set()
        for subject in by_policy[r.policy]:
            if subject.direction is not r.direction:
                continue
            others = [o for q in subject.profile if q not in removed_p
                      for o in rules_of(q, r.direction) if o != rid and o not in removed_r]
            for sp in range(len(spaces)):
                mine = masks.rule(sp, rid, subject)
                if not mine.any():
                    continue
                alive = True
                theirs = union(sp, others, subject)
                if theirs is None or (mine & ~theirs).any():
                    redundant = False
                    break
                cover.update(covering(sp, mine, others, subject))
            if not redundant:
                break
        if alive and redundant:
            removed_r.add(rid)
            out.append(Redundant(r.policy, r.direction, r.index, tuple(sorted(key(o) for o in cover))))
    return out


def _subjects(cc: CompiledCluster, cluster: Cluster) -> list[Subject]:
    found: dict[Subject, None] = {}
    for i in range(cc.n):
        if not cc.endpoint[i]:
            continue
        for direction in Direction:
            profile = cc.profile[direction][i]
            if not profile:
                continue
            named = direction is Direction.INGRESS and any(
                cc.rules[rid].named for pi in profile for rid in cc.policy_rules[(pi, direction)])
            found.setdefault(Subject(direction, profile, int(cc.sig_id[i]) if named else None), None)
    # A pod not created yet: only the namespace-wide policies isolate it.
    for namespace in {p.namespace for p in cc.ir.policies}:
        for direction in Direction:
            profile = tuple(pi for pi, p in enumerate(cc.ir.policies)
                            if p.namespace == namespace and p.guarded(direction) and namespace_wide(p))
            if profile:
                found.setdefault(Subject(direction, profile, None), None)
    return list(found)
