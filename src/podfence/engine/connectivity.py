"""Whole-cluster connectivity, computed per pair of pod classes.

For each address family in which pods have IPs (one "pass"; a single pass without
addresses when no pod IP is known), pods are split into classes that behave
identically (:mod:`podfence.engine.classes`). Per class the engine builds two bit
matrices over port atoms:

* ``E[p][d]``: what egress profile ``p`` (a set of isolating policies) lets a pod
  send to class ``d``;
* ``I[q][s]``: what ingress profile ``q`` lets class ``s`` send to a pod.

Each row is the side's tiers composed (:func:`podfence.engine.decision.final_rows`):
what the tiers allow plus what they all pass on to the default allow.

The allowed connections from class ``s`` to class ``d`` are ``E[egress(s)][d] &
I[ingress(d)][s]``, computed in numpy blocks. Pod pairs are expanded only on output;
a few pair-level facts (a bare pod reaching itself, a pod and its own node) are
applied on top.
"""

from __future__ import annotations

import collections
import heapq
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Iterator

import numpy as np

from podfence.engine.classes import refine
from podfence.engine.compiled import OPEN, CompiledCluster, same_keys
from podfence.engine.decision import UNDECIDED_ROWS, TierRows, final_rows
from podfence.engine.external import ExternalView
from podfence.engine.matrix import ClassRows, Matrix
from podfence.engine.ir import Action, Tier
from podfence.engine.pairwise import NodeIndex, pair_conns, paths
from podfence.engine.verdict import Endpoint
from podfence.model import Cluster, Direction, Pod, Settings
from podfence.sets import ConnSet, IPAddress, IPSet, Protocol, parse_cidr

_BLOCK_BYTES = 32 << 20
_ROW_CACHE = 4_000_000  # destinations kept for units whose other pods are still to be written


@dataclass(frozen=True, slots=True)
class Connection:
    """Allowed connections from ``src`` to ``dst`` (pod keys or CIDRs)."""

    src: str
    dst: str
    conns: ConnSet


class _Pass:
    """Classes and class-pair results for one address family (``None``: no addresses).

    With ``previous`` (the pass of the same family before an edit, built with
    ``keep_rows``) and ``touched`` (pods whose labels the edit changed), the pass
    reuses every profile row and class pair the edit cannot have changed: a row of a
    profile made of unchanged policies is the same at every class holding an
    untouched pod, and a class pair whose source row and destination row are both
    reused keeps its result. Only the rest is computed.
    """

    def __init__(self, cc: CompiledCluster, version: int | None, previous: _Pass | None = None,
                 touched: np.ndarray | None = None, keep_rows: bool = False) -> None:
        self.version = version
        n = cc.n
        if version is None:
            member = np.ones(n, dtype=bool)
        else:
            has_any = np.fromiter((bool(p.ips) for p in cc.pods), dtype=bool, count=n)
            has_fam = np.fromiter((any(a.version == version for a in p.ips) for p in cc.pods), dtype=bool, count=n)
            member = has_fam | ~has_any
        self.members = np.flatnonzero(member)
        peer_keys = cc.distinct_peer_keys()
        peer_vecs = [cc.peer_vector(k, version) for k in peer_keys]
        columns = _distinct([v[self.members] for v in cc.subject + peer_vecs])
        base = cc.sig_id[self.members] * 2 + cc.endpoint[self.members]
        cid = refine(base, columns) if len(self.members) else np.zeros(0, dtype=np.int64)
        self.pod_class = np.full(n, -1, dtype=np.int64)
        self.pod_class[self.members] = cid
        self.classes = int(cid.max()) + 1 if len(cid) else 0
        _, first = np.unique(cid, return_index=True)
        self.reps = self.members[first]  # one pod index per class
        C = self.classes
        peer_at = {k: v[self.reps] for k, v in zip(peer_keys, peer_vecs)}
        rule_peers = []
        for r in cc.rules:
            if not r.peers:
                rule_peers.append(np.ones(C, dtype=bool))
            else:
                acc = np.zeros(C, dtype=bool)
                for k in r.peers:
                    acc |= peer_at[k]
                rule_peers.append(acc)
        W = cc.atoms.words
        sig = cc.sig_id[self.reps]
        self._atoms, self._signatures, self._ir = cc.atoms, cc.signatures, cc.ir  # the ir keeps profile ids unique
        if previous is not None and not (previous.E is not None and previous.classes and previous._atoms is cc.atoms
                                         and previous._signatures is cc.signatures
                                         and np.array_equal(previous.members, self.members)):
            previous = None

        # A side's row per profile: every tier's decision towards each class, composed, then
        # what they all pass is allowed. A profile is the policies that judge the pod, in
        # evaluation order; an empty one leaves everything to the default allow. The
        # NetworkPolicy tier allows the union of its rules and denies the rest; an Admin or
        # Baseline tier lets each rule take, in order, what it matches that no earlier rule took.
        named_masks: dict[int, np.ndarray] = {}  # rule id -> mask per named-port signature

        def egress_mask(rid: int, cols: np.ndarray) -> np.ndarray:
            """What rule ``rid`` admits towards each destination class in ``cols``."""
            if not cc.rules[rid].named:
                return cc.atoms.encode(cc.rules[rid].numeric)
            masks = named_masks.get(rid)
            if masks is None:
                masks = named_masks[rid] = np.stack(
                    [cc.atoms.encode(cc.rule_ports(rid, s)) for s in range(len(cc.signatures))])
            return masks[sig[cols]]

        def union_rows(rids: list[int], cols: np.ndarray, mask_of) -> TierRows:  # type: ignore[no-untyped-def]
            acc = np.zeros((len(cols), W), dtype=np.uint64)
            for rid in rids:
                sel = rule_peers[rid][cols]
                acc[sel] |= mask_of(rid, cols[sel])
            return TierRows(allowed=acc)

        def first_match_rows(rids: list[int], cols: np.ndarray, mask_of) -> TierRows:  # type: ignore[no-untyped-def]
            rest = np.array(np.broadcast_to(cc.all_mask, (len(cols), W)))
            allowed = np.zeros((len(cols), W), dtype=np.uint64)
            passed = np.zeros((len(cols), W), dtype=np.uint64)
            for rid in rids:
                sel = rule_peers[rid][cols]
                if not sel.any():
                    continue
                mask = mask_of(rid, cols[sel])
                action = cc.rules[rid].rule.action
                if action is Action.ALLOW:
                    allowed[sel] |= rest[sel] & mask
                elif action is Action.PASS:
                    passed[sel] |= rest[sel] & mask
                rest[sel] &= ~mask
            return TierRows(allowed=allowed, passed=passed | rest)

        def side_rows(prof: tuple[int, ...], direction: Direction, cols: np.ndarray, mask_of) -> np.ndarray:  # type: ignore[no-untyped-def]
            everything = np.broadcast_to(cc.all_mask, (len(cols), W))
            if prof == OPEN:
                return final_rows([UNDECIDED_ROWS], everything)
            tiers = []
            for tier in Tier:
                rids = [rid for pi in prof if cc.tier[pi] is tier for rid in cc.policy_rules[(pi, direction)]]
                if not any(cc.tier[pi] is tier for pi in prof):
                    tiers.append(UNDECIDED_ROWS)
                elif tier is Tier.NETWORK_POLICY:
                    tiers.append(union_rows(rids, cols, mask_of))
                else:
                    tiers.append(first_match_rows(rids, cols, mask_of))
            return final_rows(tiers, everything)

        def egress_row(prof: tuple[int, ...], cols: np.ndarray) -> np.ndarray:
            return side_rows(prof, Direction.EGRESS, cols, egress_mask)

        def ingress_row(prof: tuple[int, ...], sig_id: int, cols: np.ndarray) -> np.ndarray:
            def ingress_mask(rid: int, _cols: np.ndarray) -> np.ndarray:
                return cc.atoms.encode(cc.rule_ports(rid, sig_id))
            return side_rows(prof, Direction.INGRESS, cols, ingress_mask)

        # Profiles are keyed by the identity of their IR policies, which an edit keeps for
        # every policy it leaves alone. Row 0 of each side: no policy judges.
        ids = [id(p) for p in cc.ir.policies]
        e_profiles: list[tuple[int, ...]] = [OPEN]
        self.e_index: dict[tuple[int, ...], int] = {OPEN: 0}
        self.egress_of = np.zeros(C, dtype=np.int64)
        for c, rep in enumerate(self.reps.tolist()):
            prof = cc.profile[Direction.EGRESS][rep]
            key = tuple(ids[pi] for pi in prof)
            if key not in self.e_index:
                self.e_index[key] = len(e_profiles)
                e_profiles.append(prof)
            self.egress_of[c] = self.e_index[key]
        # Ingress: named ports resolve on the destination class itself.
        i_profiles: list[tuple[tuple[int, ...], int]] = [(OPEN, -1)]
        self.i_index: dict[tuple[tuple[int, ...], int], int] = {(OPEN, -1): 0}
        self.ingress_of = np.zeros(C, dtype=np.int64)
        for c, rep in enumerate(self.reps.tolist()):
            prof = cc.profile[Direction.INGRESS][rep]
            named = any(cc.rules[rid].named for pi in prof for rid in cc.policy_rules[(pi, Direction.INGRESS)])
            key = (tuple(ids[pi] for pi in prof), int(sig[c]) if named else -1)
            if key not in self.i_index:
                self.i_index[key] = len(i_profiles)
                i_profiles.append((prof, int(sig[c])))
            self.ingress_of[c] = self.i_index[key]

        every = np.arange(C)
        if previous is None:
            E = np.stack([egress_row(prof, every) for prof in e_profiles])
            I = np.stack([ingress_row(prof, s, every) for prof, s in i_profiles])
            self.src_c, self.dst_c, self.masks = _combine(E, I, self.egress_of, self.ingress_of, every, every, W)
        else:
            # old_of: a class of the previous pass holding an untouched pod of each class (-1: none).
            old = previous.pod_class.copy()
            if touched is not None:
                old[touched] = -1
            old_of = np.full(C, -1, dtype=np.int64)
            np.maximum.at(old_of, self.pod_class[self.members], old[self.members])
            fresh = np.flatnonzero(old_of < 0)
            safe = np.maximum(old_of, 0)

            def reused(prev_rows: np.ndarray, k: int, compute) -> np.ndarray:  # type: ignore[no-untyped-def]
                row = prev_rows[k][safe]
                if len(fresh):
                    row[fresh] = compute(fresh)
                return row

            e_from = [previous.e_index.get(k, -1) for k in self.e_index]
            i_from = [previous.i_index.get(k, -1) for k in self.i_index]
            E = np.stack([
                reused(previous.E, k, lambda cols, prof=prof: egress_row(prof, cols)) if k >= 0
                else egress_row(prof, every) for prof, k in zip(e_profiles, e_from)])
            I = np.stack([
                reused(previous.I, k, lambda cols, prof=prof, s=s: ingress_row(prof, s, cols)) if k >= 0
                else ingress_row(prof, s, every) for (prof, s), k in zip(i_profiles, i_from)])
            # A source class is dirty when it has no previous class or its egress row is not the
            # one its previous class had (a profile change); a destination class likewise.
            dirty_src = (old_of < 0) | (np.array(e_from, dtype=np.int64)[self.egress_of] != previous.egress_of[safe])
            dirty_dst = (old_of < 0) | (np.array(i_from, dtype=np.int64)[self.ingress_of] != previous.ingress_of[safe])
            parts = [
                _combine(E, I, self.egress_of, self.ingress_of, np.flatnonzero(dirty_src), every, W),
                _combine(E, I, self.egress_of, self.ingress_of, np.flatnonzero(~dirty_src),
                         np.flatnonzero(dirty_dst), W),
                _carried_pairs(previous, old_of, ~dirty_src, ~dirty_dst),
            ]
            src_c = np.concatenate([p[0] for p in parts])
            dst_c = np.concatenate([p[1] for p in parts])
            order = np.argsort(src_c * max(C, 1) + dst_c, kind="stable")
            self.src_c, self.dst_c = src_c[order], dst_c[order]
            self.masks = np.concatenate([p[2] for p in parts])[order]
        self.E: np.ndarray | None = E if keep_rows else None
        self.I: np.ndarray | None = I if keep_rows else None
        self.codes = self.src_c.astype(np.int64) * max(C, 1) + self.dst_c

    def mask(self, s: int, d: int) -> np.ndarray | None:
        code = s * max(self.classes, 1) + d
        i = int(np.searchsorted(self.codes, code))
        if i < len(self.codes) and self.codes[i] == code:
            return self.masks[i]
        return None


def _carried_pairs(previous: _Pass, old_of: np.ndarray, src_ok: np.ndarray,
                   dst_ok: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The previous pass's class pairs, renamed to this pass's classes, for pairs of reusable classes.

    New class ``c`` stands for previous class ``old_of[c]``; several new classes may
    stand for the same previous one.
    """
    W = previous.masks.shape[1] if previous.masks.ndim == 2 else 0
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((0, W), dtype=np.uint64))
    if not len(previous.src_c):
        return empty
    P = previous.classes

    def by_old(ok: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cls = np.flatnonzero(ok & (old_of >= 0))
        cls = cls[np.argsort(old_of[cls], kind="stable")]
        count = np.bincount(old_of[cls], minlength=P)
        start = np.concatenate([[0], np.cumsum(count)[:-1]])
        return cls, start, count

    s_cls, s_start, s_count = by_old(src_ok)
    d_cls, d_start, d_count = by_old(dst_ok)
    k1, k2 = s_count[previous.src_c], d_count[previous.dst_c]
    total = k1 * k2
    keep = np.flatnonzero(total)
    if not len(keep):
        return empty
    reps = total[keep]
    pair = np.repeat(keep, reps)
    offset = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
    i1, i2 = offset // k2[pair], offset % k2[pair]
    src = s_cls[s_start[previous.src_c[pair]] + i1]
    dst = d_cls[d_start[previous.dst_c[pair]] + i2]
    return src, dst, previous.masks[pair]


def _unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(unique rows, id of each row, index of each unique row's first occurrence)."""
    view = np.ascontiguousarray(rows).view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1])))
    uniq, first, inverse = np.unique(view.ravel(), return_index=True, return_inverse=True)
    return uniq, inverse.ravel(), first


def _distinct(columns: list[np.ndarray]) -> list[np.ndarray]:
    seen: dict[bytes, np.ndarray] = {}
    for col in columns:
        if col.any() and not col.all():
            seen.setdefault(np.packbits(col).tobytes(), col)
    return list(seen.values())


def _combine(E: np.ndarray, I: np.ndarray, egress_of: np.ndarray, ingress_of: np.ndarray,  # type: ignore[no-untyped-def]
             srcs: np.ndarray, dsts: np.ndarray, W: int):
    """The non-empty class pairs (src, dst) among ``srcs`` x ``dsts``, with their bit masks."""
    out_s, out_d, masks = [], [], []
    D = len(dsts)
    block = max(1, _BLOCK_BYTES // max(1, D * W * 8))
    towards = E if D == E.shape[1] else E[:, dsts]  # every destination: no copy
    admits = ingress_of[dsts]
    for start in range(0, len(srcs) if D and W else 0, block):
        s = srcs[start:start + block]
        both = towards[egress_of[s]]  # (B, D, W): what each source's egress allows towards each destination
        # and what each destination admits from each source: whole rows of I gathered, then
        # its profiles, which is several times quicker than a gather of (profile, source) pairs
        both &= np.swapaxes(I[:, s], 0, 1)[:, admits]
        flat = both.reshape(-1, W)
        at = np.flatnonzero(flat[:, 0] != 0 if W == 1 else flat.any(axis=1))  # flat: no 2-D nonzero
        out_s.append(s[at // D])
        out_d.append(dsts[at % D])
        masks.append(flat[at])
    if not out_s:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((0, W), dtype=np.uint64)
    return np.concatenate(out_s), np.concatenate(out_d), np.concatenate(masks)


_PAIR_CHUNK = 1 << 18  # unit pairs expanded at once when folding


@dataclass
class Connectivity:
    """Who may reach whom, for every pod pair and between pods and address ranges."""

    cluster: Cluster
    settings: Settings
    families: tuple[int, ...] | None = None
    editable: bool = field(default=False, repr=False)  # keep per-profile rows for :meth:`following`
    _cc: CompiledCluster = field(init=False, repr=False)
    _passes: list[_Pass] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._build(CompiledCluster(self.cluster, self.settings), None, None)

    @classmethod
    def following(cls, previous: Connectivity, cluster: Cluster, touched: np.ndarray | None = None) -> Connectivity:
        """The connectivity of ``cluster``, an edit of ``previous.cluster``, reusing what the edit
        leaves alone.

        ``cluster`` must hold the same pods in the same order (labels aside) and the same
        Services; ``touched`` marks (per pod of ``previous``, in cluster order among the pods
        that take part) the pods whose own or namespace labels changed. The result equals
        ``Connectivity(cluster, previous.settings, previous.families)`` in everything it answers.
        """
        new = cls.__new__(cls)
        new.cluster, new.settings, new.families, new.editable = cluster, previous.settings, previous.families, True
        new._build(CompiledCluster(cluster, previous.settings, previous._cc), previous, touched)
        return new

    def _build(self, cc: CompiledCluster, previous: Connectivity | None, touched: np.ndarray | None) -> None:
        """Set up from a compiled cluster; passes reuse ``previous``'s where they can (and then
        keep their rows for the next edit)."""
        self._cc = cc
        if previous is not None and not same_keys(previous._cc.pods, cc.pods):
            previous = None  # not an edit of labels or policies: nothing to reuse
        pod_fams = sorted({a.version for p in cc.pods for a in p.ips})
        before = {ps.version: ps for ps in previous._passes} if previous is not None else {}
        self._passes = [_Pass(cc, v, before.get(v), touched, keep_rows=self.editable)
                        for v in (pod_fams or [None])]
        if previous is not None:  # the same pods in the same order
            self._index, self._order, self._rank = previous._index, previous._order, previous._rank
            self.pods: tuple[Pod, ...] = tuple(cc.pods[i] for i in self._order.tolist())
        else:
            self.pods = tuple(sorted(cc.pods, key=lambda p: p.key))
            self._index = {p.key: i for i, p in enumerate(cc.pods)}
            self._order = np.array(sorted(range(cc.n), key=lambda i: cc.pods[i].key), dtype=np.int64)
            self._rank = np.empty(cc.n, dtype=np.int64)
            self._rank[self._order] = np.arange(cc.n)
        if previous is not None and not cc.tiered:  # the settings alone decide them
            self._overrides, self._outside = previous._overrides, previous._outside
        else:  # under tiers a pod's egress to its own node goes through the edited policies
            self._overrides, self._outside = _pair_overrides(cc)
        self.external = ExternalView(cc, self.families or cc.families_in_use())

    @property
    def atoms(self):  # type: ignore[no-untyped-def]
        return self._cc.atoms

    @property
    def class_counts(self) -> tuple[int, ...]:
        """How many classes of identical pods each address-family pass found."""
        return tuple(ps.classes for ps in self._passes)

    @property
    def range_families(self) -> tuple[int, ...]:
        """The address families that address ranges are reported for."""
        return self.external.families

    def address_families(self, pod: str) -> tuple[int, ...]:
        """Families of the ranges reported for one pod: its own, or all reported ones without IPs."""
        return self.external.pod_families(self._pod(pod))

    def address_ranges(self, pod: str, direction: Direction) -> list[tuple[str, ConnSet]]:
        """(CIDR, allowed) for one pod: what it may send to (egress) or receive from (ingress)."""
        return self.external.ranges(self._pod(pod), direction)

    def address_blocks(self, pod: str, direction: Direction) -> list[tuple[IPSet, ConnSet]]:
        """The same as :meth:`address_ranges`, as one address set per distinct allowed set."""
        return self.external.blocks(self._pod(pod), direction)

    def own_node_addresses(self, pod: str, direction: Direction) -> tuple[IPAddress, ...]:
        """The addresses of ``pod``'s own node that it may always reach (egress) or be reached from
        (ingress), per ``allow_pod_to_local_node_egress`` and ``allow_node_to_local_pod_ingress``."""
        return tuple(IPAddress(v, value) for v, value in self.external.own_node_points(self._pod(pod), direction))

    def decided_outside(self, src: str, dst: str) -> bool:
        """True for pod pairs the settings decide, not the policies: a bare pod's self traffic
        (``allow_self_traffic``) and a pod and its own node (a hostNetwork pod there)."""
        return (self._pod(src), self._pod(dst)) in self._outside

    def _pod(self, key: str) -> int:
        try:
            return self._index[key]
        except KeyError:
            raise KeyError(f"unknown pod {key!r}") from None

    def between(self, src: str, dst: str) -> ConnSet:
        """Everything pod ``src`` may open towards pod ``dst`` (keys ``ns/name``)."""
        a, b = self._pod(src), self._pod(dst)
        forced = self._overrides.get((a, b))
        if forced is not None:
            return forced
        acc = None
        for ps in self._passes:
            s, d = ps.pod_class[a], ps.pod_class[b]
            if s < 0 or d < 0:
                continue
            m = ps.mask(int(s), int(d))
            if m is not None:
                acc = m if acc is None else acc | m
        return self._cc.atoms.decode(acc) if acc is not None else ConnSet.none()

    def class_members(self) -> list[dict[int, list[int]]]:
        """Per pass: class id -> pod indexes (sorted by pod key)."""
        out = []
        for ps in self._passes:
            members: dict[int, list[int]] = {}
            for idx in self._order.tolist():
                c = int(ps.pod_class[idx])
                if c >= 0:
                    members.setdefault(c, []).append(idx)
            out.append(members)
        return out

    def _rows_by_source(self) -> Iterator[tuple[int, list[tuple[int, ConnSet]]]]:
        """(source pod, [(destination pod, allowed), ...]) in pod-key order, overrides applied.

        Each unit's destination list is built and sorted once and shared by its
        members while some of them are still to come (within a budget), so the cost
        follows the output size and memory does not.
        """
        decode = self._cc.atoms.decode
        overrides: dict[int, dict[int, ConnSet]] = {}
        for (a, b), c in self._overrides.items():
            overrides.setdefault(a, {})[b] = c
        rank = self._rank
        units, unit_of, src, dst, masks = self._unit_pairs
        members = [np.array(m, dtype=np.int64) for m in units]
        bounds = np.searchsorted(src, np.arange(len(units) + 1))
        remaining = [len(m) for m in units]
        cache: dict[int, tuple[list[int], list[ConnSet]]] = {}
        cached = 0
        for a in self._order.tolist():
            u = int(unit_of[a])
            hit = cache.get(u)
            if u < 0:
                dsts, conns = [], []
            elif hit is not None:
                dsts, conns = hit
            else:
                lo, hi = int(bounds[u]), int(bounds[u + 1])
                parts, labels = [], []
                for d, m in zip(dst[lo:hi].tolist(), masks[lo:hi]):
                    parts.append(members[d])
                    labels.extend([decode(m)] * len(members[d]))
                if parts:
                    idx = np.concatenate(parts)
                    order = np.argsort(rank[idx], kind="stable")
                    dsts = idx[order].tolist()
                    conns = [labels[i] for i in order.tolist()]
                else:
                    dsts, conns = [], []
                if remaining[u] > 1 and cached + len(dsts) <= _ROW_CACHE:
                    cache[u] = (dsts, conns)
                    cached += len(dsts)
            if u >= 0:
                remaining[u] -= 1
                if not remaining[u] and u in cache:
                    cached -= len(cache.pop(u)[0])
            extra = overrides.get(a)
            if not extra:
                yield a, list(zip(dsts, conns))
                continue
            merged = dict(zip(dsts, conns))
            merged.update(extra)
            yield a, sorted(((b, c) for b, c in merged.items() if c), key=lambda bc: rank[bc[0]])

    def rows(self) -> Iterator[tuple[str, str, ConnSet]]:
        """Every entry with something allowed, in output order.

        Sources in order: pods by key, then address ranges in address order; for a
        pod source, pod destinations by key, then ranges. Entries with equal
        allowed sets share one ConnSet object, so renderers can cache by identity.
        """
        keys = [p.key for p in self._cc.pods]
        inbound: dict[int, tuple[list[tuple[tuple[int, int, int], str, ConnSet]], list[str]]] = {}
        for a, dsts in self._rows_by_source():
            src = keys[a]
            for b, c in dsts:
                yield src, keys[b], c
            for cidr, c in self.external.ranges(a, Direction.EGRESS):
                yield src, cidr, c
            ranges = self.external.keyed_ranges(a, Direction.INGRESS)
            if ranges:
                inbound.setdefault(id(ranges), (ranges, []))[1].append(src)
        # Pods that share a list of ranges are one sorted stream; merging the streams
        # orders the entries by range, then pod, without holding them all.
        for _, dst, cidr, c in heapq.merge(*(_inbound_stream(r, dsts) for r, dsts in inbound.values())):
            yield cidr, dst, c

    def pod_connections(self) -> Iterator[tuple[Pod, Pod, ConnSet]]:
        """Every pod pair with something allowed, sources and destinations in key order."""
        pods = self._cc.pods
        for a, dsts in self._rows_by_source():
            for b, c in dsts:
                yield pods[a], pods[b], c

    def matrix(self, protocol: Protocol, port: int) -> Matrix:
        """Pod-to-pod reachability on one protocol and port (rows built when read)."""
        w, bit = self._cc.atoms.bit(protocol, port)
        _, _, src, dst, masks = self._unit_pairs
        hit = (masks[:, w] & bit) != 0
        forced = {ab: conns.allows(protocol, port) for ab, conns in self._overrides.items()}
        return self._class_rows(protocol, port, src[hit], dst[hit], forced)

    def reachable(self) -> Matrix:
        """Pod pairs with anything allowed, as a matrix (protocol and port are placeholders)."""
        _, _, src, dst, _ = self._unit_pairs
        return self._class_rows(Protocol.TCP, 0, src, dst, {ab: bool(c) for ab, c in self._overrides.items()})

    def _class_rows(self, protocol: Protocol, port: int, src: np.ndarray, dst: np.ndarray,
                    forced: dict[tuple[int, int], bool]) -> Matrix:
        pods, rank, order = self._cc.pods, self._rank, self._order
        unit_of = self._unit_pairs[1][order]
        if len(unit_of) and unit_of.min() < 0:  # pods in no unit: one more unit that reaches nothing
            unit_of = np.where(unit_of < 0, len(self._unit_pairs[0]), unit_of)
        by_rank: dict[int, dict[int, bool]] = {}
        for (a, b), ok in forced.items():
            by_rank.setdefault(int(rank[a]), {})[int(rank[b])] = ok
        keys = tuple(pods[i].key for i in order.tolist())
        return Matrix(protocol, port, keys, ClassRows(keys, unit_of, src, dst, by_rank), {p.key: p.kind for p in pods})

    def connections(self) -> list[Connection]:
        """Pod-to-pod and pod/address-range entries with something allowed, in output order."""
        return [Connection(src, dst, c) for src, dst, c in self.rows()]

    @cached_property
    def _group_index(self) -> list[list[int]]:
        """Pod indexes grouped by identical behaviour (classes in every pass, same external view)."""
        by_key: dict[tuple, list[int]] = {}  # type: ignore[type-arg]
        keys = [p.key for p in self._cc.pods]
        for i in sorted(range(len(keys)), key=lambda i: keys[i]):
            key = tuple(int(ps.pod_class[i]) for ps in self._passes) + self.external.group_key(i)
            by_key.setdefault(key, []).append(i)
        return sorted(by_key.values(), key=lambda g: keys[g[0]])

    def groups(self) -> list[tuple[Pod, ...]]:
        """Pods that behave identically towards everything, as sorted groups."""
        pods = self._cc.pods
        return [tuple(pods[i] for i in g) for g in self._group_index]

    @cached_property
    def _unit_pairs(self) -> tuple[list[list[int]], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Pod-to-pod results at the coarsest exact level: (unit members, unit of each pod, src, dst, mask).

        A unit is a class when there is one pass, else a tuple of classes (one per
        pass). Members are sorted by pod key; pairs are sorted by (src, dst) and all
        allow something.
        """
        if len(self._passes) == 1:
            ps = self._passes[0]
            members = self.class_members()[0]
            units = [members.get(c, []) for c in range(ps.classes)]
            return units, ps.pod_class, ps.src_c, ps.dst_c, ps.masks
        by_key: dict[tuple[int, ...], int] = {}
        unit_of = np.zeros(self._cc.n, dtype=np.int64)
        units: list[list[int]] = []
        for i in self._order.tolist():
            key = tuple(int(ps.pod_class[i]) for ps in self._passes)
            if key not in by_key:
                by_key[key] = len(units)
                units.append([])
            units[by_key[key]].append(i)
            unit_of[i] = by_key[key]
        acc: dict[tuple[int, int], np.ndarray] = {}
        members = self.class_members()
        for ps, mem in zip(self._passes, members):
            reps = {c: sorted({int(unit_of[i]) for i in m}) for c, m in mem.items()}
            for s, d, m in zip(ps.src_c.tolist(), ps.dst_c.tolist(), ps.masks):
                for u1 in reps[s]:
                    for u2 in reps[d]:
                        prev = acc.get((u1, u2))
                        acc[(u1, u2)] = m if prev is None else prev | m
        items = sorted(acc.items())
        W = self._cc.atoms.words
        src = np.array([k[0] for k, _ in items], dtype=np.int64)
        dst = np.array([k[1] for k, _ in items], dtype=np.int64)
        masks = np.array([m for _, m in items], dtype=np.uint64).reshape(len(items), W)
        return units, unit_of, src, dst, masks

    def group_connections(self) -> list[GroupConnection]:
        """Allowed connections folded for reading, without expanding pod pairs.

        Sources whose whole row of destinations is identical share a line; within a
        row, destinations reached with the same connections share a line. Self
        traffic of bare pods and own-node traffic are left out (see
        :meth:`pair_exceptions`).
        """
        pods, decode = self._cc.pods, self._cc.atoms.decode
        units, _, src, dst, masks = self._unit_pairs
        if not len(src):
            return []
        _, mask_id, first = _unique_rows(masks)
        bounds = np.searchsorted(src, np.arange(len(units) + 1))
        rows: dict[bytes, list[int]] = {}
        for u in range(len(units)):
            lo, hi = int(bounds[u]), int(bounds[u + 1])
            if lo == hi:
                continue
            key = dst[lo:hi].tobytes() + mask_id[lo:hi].tobytes()
            rows.setdefault(key, []).append(u)
        out = []
        rank = self._rank
        for srcs in rows.values():
            lo, hi = int(bounds[srcs[0]]), int(bounds[srcs[0] + 1])
            by_mask: dict[int, list[int]] = {}
            for d, m in zip(dst[lo:hi].tolist(), mask_id[lo:hi].tolist()):
                by_mask.setdefault(m, []).append(d)
            src_pods = sorted((i for u in srcs for i in units[u]), key=lambda i: rank[i])
            for m, ds in by_mask.items():
                dst_pods = sorted((i for d in ds for i in units[d]), key=lambda i: rank[i])
                out.append(GroupConnection(tuple(pods[i] for i in src_pods), tuple(pods[i] for i in dst_pods),
                                           decode(masks[first[m]])))
        out.sort(key=lambda g: (g.src[0].key, g.dst[0].key))
        return out

    def pair_counts(self, group_of: Callable[[Pod], str]) -> dict[tuple[str, str], int]:
        """How many pod pairs (a pod to itself aside) allow something, per (source group, destination group).

        Counted per pair of units (``group_of`` tallied over their members), never per
        pod pair, so a map can fold a cluster of any size; own-node exceptions are
        applied pair by pair.
        """
        pods = self._cc.pods
        units, unit_of, src, dst, _ = self._unit_pairs
        names: dict[str, int] = {}
        group = np.array([names.setdefault(group_of(p), len(names)) for p in pods], dtype=np.int64)
        g = len(names)
        # each unit as (group, members in it) runs, laid out unit after unit
        run_group, run_size, run_start = [], [], np.zeros(len(units) + 1, dtype=np.int64)
        for u, m in enumerate(units):
            tally = collections.Counter(group[m].tolist()) if m else {}
            run_group.extend(tally.keys())
            run_size.extend(tally.values())
            run_start[u + 1] = len(run_group)
        rg, rs = np.array(run_group, dtype=np.int64), np.array(run_size, dtype=np.int64)
        runs = np.diff(run_start)
        counts = np.zeros(g * g, dtype=np.int64)
        for lo in range(0, len(src), _PAIR_CHUNK):  # every run of the source with every run of the destination
            s, d = src[lo:lo + _PAIR_CHUNK], dst[lo:lo + _PAIR_CHUNK]
            i = np.repeat(np.arange(len(s)), runs[s] * runs[d])
            k = np.arange(len(i)) - np.repeat(np.cumsum(runs[s] * runs[d]) - runs[s] * runs[d], runs[s] * runs[d])
            a = run_start[s[i]] + k // runs[d[i]]
            b = run_start[d[i]] + k % runs[d[i]]
            pairs = rs[a] * rs[b] - np.where((s[i] == d[i]) & (a == b), rs[a], 0)  # a pod to itself is no edge
            np.add.at(counts, rg[a] * g + rg[b], pairs)
        pair_keys = src * len(units) + dst  # sorted, as the pairs are
        for (a, b), c in self._overrides.items():
            if a == b:
                continue
            ua, ub = int(unit_of[a]), int(unit_of[b])
            key = ua * len(units) + ub
            at = int(np.searchsorted(pair_keys, key))
            before = ua >= 0 and ub >= 0 and at < len(pair_keys) and int(pair_keys[at]) == key
            counts[group[a] * g + group[b]] += bool(c) - before
        order = list(names)
        return {(order[i // g], order[i % g]): int(counts[i]) for i in np.flatnonzero(counts).tolist()}

    def pair_exceptions(self) -> list[Connection]:
        """Pod pairs a pod's own node takes part in (self traffic aside), with something allowed."""
        pods = self._cc.pods
        return sorted(
            (Connection(pods[a].key, pods[b].key, c) for (a, b), c in self._overrides.items() if a != b and c),
            key=lambda e: (e.src, e.dst),
        )

    def group_external(self) -> list[tuple[tuple[Pod, ...], Direction, list[tuple[str, ConnSet]]]]:
        """Per group: what it may send to (egress) and receive from (ingress) address ranges."""
        pods = self._cc.pods
        out = []
        for g in self._group_index:
            for direction in (Direction.EGRESS, Direction.INGRESS):
                ranges = self.external.ranges(g[0], direction)
                if ranges:
                    out.append((tuple(pods[i] for i in g), direction, ranges))
        return out

    def group_address_blocks(self) -> list[tuple[tuple[Pod, ...], Direction, list[tuple[IPSet, ConnSet]]]]:
        """:meth:`group_external` with one address set per distinct allowed set (first seen first)."""
        pods = self._cc.pods
        out = []
        for g in self._group_index:
            for direction in (Direction.EGRESS, Direction.INGRESS):
                blocks = self.external.blocks(g[0], direction)
                if blocks:
                    out.append((tuple(pods[i] for i in g), direction, blocks))
        return out


@dataclass(frozen=True, slots=True)
class GroupConnection:
    """Allowed connections from every pod of ``src`` to every pod of ``dst``."""

    src: tuple[Pod, ...]
    dst: tuple[Pod, ...]
    conns: ConnSet


def _inbound_stream(ranges: list[tuple[tuple[int, int, int], str, ConnSet]],
                   dsts: list[str]) -> Iterator[tuple[tuple[int, int, int], str, str, ConnSet]]:
    """(range key, pod, CIDR, allowed) for pods sharing one list of ranges, in (range, pod) order."""
    for key, cidr, c in ranges:
        for dst in dsts:
            yield key, dst, cidr, c


def endpoint_sort_key(name: str) -> tuple:  # type: ignore[type-arg]
    """Pods first (by key), then address ranges in address order."""
    cidr = parse_cidr(name) if "/" in name and (":" in name or name[:1].isdigit()) else None
    if cidr is None:
        return (0, name)
    return (1, cidr.version, cidr.network, cidr.prefix)


def _pair_overrides(cc: CompiledCluster) -> tuple[dict[tuple[int, int], ConnSet], set[tuple[int, int]]]:
    """Pair-level facts that classes do not capture: self traffic and a pod's own node.

    With cluster-wide tiers a pod's egress to its own node is exempt in the
    NetworkPolicy tier only, so such pairs are evaluated one by one, exactly; the
    second value holds the pairs the settings alone decide.
    """
    s = cc.settings
    out: dict[tuple[int, int], ConnSet] = {}
    index: list[NodeIndex] = []

    def nodes() -> NodeIndex:
        if not index:
            index.append(NodeIndex(cc.cluster))
        return index[0]

    if s.allow_self_traffic:
        for i, pod in enumerate(cc.pods):
            if pod.kind == "Pod":
                out[(i, i)] = ConnSet.all()
    if s.hostnetwork_as_node and (s.allow_node_to_local_pod_ingress or s.allow_pod_to_local_node_egress):
        by_node: dict[str, list[int]] = {}
        for i, pod in enumerate(cc.pods):
            if pod.node_name and pod.host_network:
                by_node.setdefault(pod.node_name, []).append(i)
        for j, pod in enumerate(cc.pods):
            if not pod.node_name or not pod.is_pod_endpoint(s):
                continue
            for h in by_node.get(pod.node_name, ()):
                if not paths(Endpoint.of_pod(cc.pods[h]), Endpoint.of_pod(pod)):
                    continue  # no shared address family: they cannot talk at all
                if s.allow_node_to_local_pod_ingress:
                    out[(h, j)] = ConnSet.all()
                if s.allow_pod_to_local_node_egress:
                    out[(j, h)] = ConnSet.all() if not cc.tiered else pair_conns(
                        cc.cluster, s, nodes(), Endpoint.of_pod(pod), Endpoint.of_pod(cc.pods[h]))
    outside = {ab for ab in out if not cc.tiered or ab[0] == ab[1] or cc.pods[ab[0]].host_network}
    return out, outside
