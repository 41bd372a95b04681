"""podfence diff against a brute-force reference on random pairs of clusters.

The diff works on the engine's grouped rows and on merged address regions; the
reference expands every pod pair from ``Connectivity.rows()`` and looks every
probe address up in each version's ranges, then subtracts. Both must agree on
every pod pair and at every probe address.
"""

from __future__ import annotations

import pytest
from random_clusters import probe_addresses, random_cluster

from podfence.diff import diff_connectivity
from podfence.diff.compare import connectivities
from podfence.engine import Connectivity
from podfence.model import Cluster, Settings
from podfence.sets import ConnSet, IPAddress, parse_cidr, parse_ip

SEEDS = range(120)
EXTRA = ("0.0.0.0", "255.255.255.255", "::", "ffff::1", "10.0.0.16", "10.0.0.31")


def pairs(old: Cluster, new: Cluster) -> list[tuple[Cluster, Cluster]]:
    return [(old, new), (old, Cluster.of(new.namespaces, old.pods, (), new.policies))]


def split(conn: Connectivity) -> tuple[dict[tuple[str, str], ConnSet], list[tuple[str, str, ConnSet]]]:
    pods = {p.key for p in conn.pods}
    inside, outside = {}, []
    for src, dst, c in conn.rows():
        if src in pods and dst in pods:
            inside[(src, dst)] = c
        else:
            outside.append((src, dst, c))
    return inside, outside


def by_pod(entries: list[tuple[str, str, ConnSet, ConnSet]], pods: set[str]):  # type: ignore[no-untyped-def]
    """(pod, egress?) -> [(cidr, first, last, value...)] for entries between a pod and a range."""
    out: dict[tuple[str, bool], list[tuple[int, int, int, tuple[ConnSet, ...]]]] = {}
    for src, dst, *values in entries:
        egress = src in pods
        local, remote = (src, dst) if egress else (dst, src)
        cidr = parse_cidr(remote)
        assert cidr is not None, remote
        out.setdefault((local, egress), []).append((cidr.version, cidr.first, cidr.last, tuple(values)))
    return out


def lookup(index, pod: str, egress: bool, address: IPAddress,  # type: ignore[no-untyped-def]
           empty: tuple[ConnSet, ...]):
    for version, first, last, values in index.get((pod, egress), ()):
        if version == address.version and first <= address.value <= last:
            return values
    return empty


@pytest.mark.parametrize("seed", SEEDS)
def test_diff_matches_the_brute_force_reference(seed: int) -> None:
    r1, r2 = random_cluster(seed), random_cluster(seed + 7919)
    for old, new in pairs(r1.cluster, r2.cluster):
        a, b = connectivities(old, new, Settings())
        result = diff_connectivity(a, b)
        (in_a, out_a), (in_b, out_b) = split(a), split(b)
        pods = {p.key for p in a.pods} | {p.key for p in b.pods}
        none = ConnSet.none()
        expected = {}
        for s in pods:
            for d in pods:
                o, n = in_a.get((s, d), none), in_b.get((s, d), none)
                if o != n:
                    expected[(s, d)] = (n - o, o - n)
        got_pods = {(c.src, c.dst): (c.added, c.removed) for c in result.changes if c.src in pods and c.dst in pods}
        context = f"\nold:\n{r1.describe()}\nnew:\n{r2.describe()}"
        assert got_pods == expected, context
        outside = by_pod([(c.src, c.dst, c.added, c.removed) for c in result.changes
                          if not (c.src in pods and c.dst in pods)], pods)
        before = by_pod([(s, d, c) for s, d, c in out_a], pods)
        after = by_pod([(s, d, c) for s, d, c in out_b], pods)
        addresses = set(probe_addresses(old)) | set(probe_addresses(new))
        addresses |= {ip for text in EXTRA if (ip := parse_ip(text)) is not None}
        for pod in sorted(pods):
            for egress in (True, False):
                for address in addresses:
                    (o,) = lookup(before, pod, egress, address, (none,))
                    (n,) = lookup(after, pod, egress, address, (none,))
                    assert lookup(outside, pod, egress, address, (none, none)) == (n - o, o - n), \
                        f"{pod} {'to' if egress else 'from'} {address}{context}"
        keys = [(c.src, c.dst) for c in result.changes]
        assert len(keys) == len(set(keys))
        assert all(c.added or c.removed for c in result.changes)
