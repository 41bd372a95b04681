"""What a change of manifests does to connectivity, pair by pair.

Both versions are evaluated whole, each with its own namespaces, pods and
policies, so a relabelled pod or a new workload shows up as well as an edited
policy. Per pair of endpoints the result is ``added = new - old`` and ``removed =
old - new``. Pairs of pods are compared by key; a pod's connections to and from
addresses outside the pods are compared address by address (on the common
refinement of the two versions' ranges), so a range that the two versions merely
split into different CIDRs is no change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from podfence.engine import Connectivity, Engine, PodRows, endpoint_sort_key
from podfence.model import Cluster, Direction, Settings
from podfence.sets import ConnSet, IntervalSet, IPSet, parse_cidr
from podfence.sets.ips import V4_MAX, V6_MAX

Region = tuple[int, int, int, ConnSet]  # (family, lo, hi, allowed)
Ranges = list[tuple[str, ConnSet]]


@dataclass(frozen=True, slots=True)
class Change:
    """What changed from ``src`` to ``dst`` (pod keys or CIDRs); at least one set is non-empty."""

    src: str
    dst: str
    added: ConnSet = ConnSet()
    removed: ConnSet = ConnSet()


@dataclass(frozen=True, slots=True)
class ConnectivityDiff:
    """Every changed pair, sorted (pods by key first, then ranges by address)."""

    changes: tuple[Change, ...]

    @property
    def added(self) -> int:
        """How many pairs gained something."""
        return sum(1 for c in self.changes if c.added)

    @property
    def removed(self) -> int:
        """How many pairs lost something."""
        return sum(1 for c in self.changes if c.removed)

    def __bool__(self) -> bool:
        return bool(self.changes)


def connectivities(old: Cluster, new: Cluster, settings: Settings) -> tuple[Connectivity, Connectivity]:
    """Both versions' connectivity, reporting outside ranges over the same address families."""
    old_engine, new_engine = Engine(old, settings), Engine(new, settings)
    a, b = old_engine.connectivity(), new_engine.connectivity()
    if a.range_families != b.range_families:
        families = tuple(sorted(set(a.range_families) | set(b.range_families)))
        a, b = old_engine.connectivity(families), new_engine.connectivity(families)
    return a, b


def diff_clusters(old: Cluster, new: Cluster, settings: Settings) -> ConnectivityDiff:
    """What changes in connectivity from ``old`` to ``new``."""
    return diff_connectivity(*connectivities(old, new, settings))


def diff_connectivity(old: Connectivity, new: Connectivity) -> ConnectivityDiff:
    """Per pair: connections ``new`` allows that ``old`` did not, and the reverse."""
    changes = list(_pod_changes(old, new))
    changes += _external_changes(old, new)
    changes.sort(key=lambda c: (endpoint_sort_key(c.src), endpoint_sort_key(c.dst)))
    return ConnectivityDiff(tuple(changes))


def _row_diff(before: dict[str, ConnSet], after: dict[str, ConnSet]) -> list[tuple[str, ConnSet, ConnSet]]:
    none = ConnSet.none()
    out = []
    for dst in before.keys() | after.keys():
        o, n = before.get(dst, none), after.get(dst, none)
        if o != n:
            out.append((dst, o, n))
    return out


def _pod_changes(old: Connectivity, new: Connectivity) -> Iterable[Change]:
    a, b = PodRows(old), PodRows(new)
    cache: dict[tuple[str | None, str | None], list[tuple[str, ConnSet, ConnSet]]] = {}
    for src in sorted(a.pods | b.pods):
        key = (a.row_of.get(src), b.row_of.get(src))
        base = cache.get(key)
        if base is None:
            base = cache[key] = _row_diff(a.row(src), b.row(src))
        # Cells the shared rows may get wrong for this source: itself and pair-level facts.
        special = {src} | a.pairs.get(src, {}).keys() | b.pairs.get(src, {}).keys()
        cells = {d: (o, n) for d, o, n in base if d not in special}
        for d in special:
            o, n = a.cell(src, d), b.cell(src, d)
            if o != n:
                cells[d] = (o, n)
        for dst in sorted(cells):
            o, n = cells[dst]
            yield Change(src, dst, n - o, o - n)


def _external(conn: Connectivity) -> dict[tuple[str, Direction], Ranges]:
    out: dict[tuple[str, Direction], Ranges] = {}
    for group, direction, ranges in conn.group_external():
        for pod in group:
            out[(pod.key, direction)] = ranges
    return out


def _external_changes(old: Connectivity, new: Connectivity) -> list[Change]:
    before, after = _external(old), _external(new)
    empty: Ranges = []
    cache: dict[tuple[int, int], list[tuple[str, ConnSet, ConnSet]]] = {}
    out: list[Change] = []
    for key in sorted(before.keys() | after.keys()):
        o, n = before.get(key, empty), after.get(key, empty)
        if o is n or o == n:
            continue
        hit = cache.get((id(o), id(n)))
        if hit is None:
            hit = cache[(id(o), id(n))] = range_changes(o, n)
        pod, direction = key
        for cidr, added, removed in hit:
            if direction is Direction.EGRESS:
                out.append(Change(pod, cidr, added, removed))
            else:
                out.append(Change(cidr, pod, added, removed))
    return out


def regions(ranges: Ranges) -> list[Region]:
    """CIDR ranges as sorted ``(family, lo, hi, allowed)`` regions."""
    out = []
    for cidr, conns in ranges:
        parsed = parse_cidr(cidr)
        if parsed is None:  # pragma: no cover - the engine writes canonical CIDRs
            raise ValueError(f"not a CIDR: {cidr!r}")
        out.append((parsed.version, parsed.first, parsed.last, conns))
    out.sort(key=lambda r: (r[0], r[1]))
    return out


def range_changes(old: Ranges, new: Ranges) -> list[tuple[str, ConnSet, ConnSet]]:
    """(CIDR, added, removed) between two range lists, compared address by address.

    The two lists may cut the address space differently; on their common
    refinement each piece gets ``new - old`` and ``old - new``, neighbouring pieces
    with the same change are merged, and the result is written as CIDRs.
    """
    none = ConnSet.none()
    a, b = regions(old), regions(new)
    out: list[tuple[str, ConnSet, ConnSet]] = []
    for family in (4, 6):
        fa = [(lo, hi, c) for f, lo, hi, c in a if f == family]
        fb = [(lo, hi, c) for f, lo, hi, c in b if f == family]
        if not fa and not fb:
            continue
        cuts = sorted({0} | {x for lo, hi, _ in fa + fb for x in (lo, hi + 1)})
        top = V4_MAX if family == 4 else V6_MAX
        cuts = [c for c in cuts if c <= top]
        pieces: list[tuple[int, int, ConnSet, ConnSet]] = []
        i = j = 0
        for k, lo in enumerate(cuts):
            hi = cuts[k + 1] - 1 if k + 1 < len(cuts) else top
            while i < len(fa) and fa[i][1] < lo:
                i += 1
            while j < len(fb) and fb[j][1] < lo:
                j += 1
            o = fa[i][2] if i < len(fa) and fa[i][0] <= lo else none
            n = fb[j][2] if j < len(fb) and fb[j][0] <= lo else none
            added, removed = n - o, o - n
            if not added and not removed:
                continue
            if pieces and pieces[-1][1] + 1 == lo and pieces[-1][2] == added and pieces[-1][3] == removed:
                pieces[-1] = (pieces[-1][0], hi, added, removed)
            else:
                pieces.append((lo, hi, added, removed))
        for lo, hi, added, removed in pieces:
            span = IntervalSet.span(lo, hi)
            block = IPSet(v4=span) if family == 4 else IPSet(v6=span)
            out.extend((cidr, added, removed) for cidr in block.cidrs())
    return out
