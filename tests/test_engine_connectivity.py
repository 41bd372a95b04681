"""Whole-cluster connectivity as streams: matrix rows built when read, their sizes, and output order.

On random clusters (one or two address families), against the engine's own
per-pair answer ``between``, which the oracle tests pin down.
"""

from __future__ import annotations

import pytest

from podfence.engine import Engine
from podfence.engine.connectivity import endpoint_sort_key
from podfence.engine.matrix import ClassRows, Matrix
from podfence.model import Direction, Settings
from podfence.sets import Protocol
from random_clusters import mentioned_ports, random_cluster

SEEDS = range(60)
SETTINGS = (Settings(), Settings().with_values(allow_self_traffic=False, hostnetwork_as_node=False))


@pytest.mark.parametrize("seed", SEEDS)
def test_matrix_rows_and_sizes_follow_the_pairs(seed: int) -> None:
    rc = random_cluster(seed)
    for settings in SETTINGS:
        conn = Engine(rc.cluster, settings).connectivity()
        keys = tuple(p.key for p in conn.pods)
        weights = [len(k) * 7 + 1 for k in keys]
        for protocol in (Protocol.TCP, Protocol.UDP):
            for port in [1, *sorted(mentioned_ports(rc.cluster))[:3]]:
                m = conn.matrix(protocol, port)
                assert isinstance(m.allowed, ClassRows) and m.pods == keys and list(m.allowed) == list(keys)
                want = {a: tuple(b for b in keys if conn.between(a, b).allows(protocol, port)) for a in keys}
                assert {a: m.allowed[a] for a in keys} == want
                assert m.row_sizes(weights) == (
                    [len(want[a]) for a in keys],
                    [sum(w for b, w in zip(keys, weights) if b in want[a]) for a in keys],
                )
        reach = conn.reachable()
        assert {a: reach.allowed[a] for a in keys} == {a: tuple(b for b in keys if conn.between(a, b)) for a in keys}


def test_row_sizes_of_a_plain_matrix() -> None:
    m = Matrix(Protocol.TCP, 80, ("a", "b", "c"), {"a": ("b", "c"), "b": (), "c": ("c",)}, {})
    assert m.row_sizes([1, 10, 100]) == ([2, 0, 1], [110, 0, 100])


@pytest.mark.parametrize("seed", SEEDS)
def test_rows_come_pods_first_then_ranges_in_address_order(seed: int) -> None:
    rc = random_cluster(seed)
    conn = Engine(rc.cluster).connectivity()
    rows = list(conn.rows())
    pods = {p.key for p in conn.pods}
    from_pods = [r for r in rows if r[0] in pods]
    from_ranges = [r for r in rows if r[0] not in pods]
    assert rows == from_pods + from_ranges
    assert [r[0] for r in from_pods] == sorted(r[0] for r in from_pods)
    assert from_ranges == sorted(from_ranges, key=lambda r: (endpoint_sort_key(r[0]), r[1]))
    assert len({(r[0], r[1]) for r in rows}) == len(rows)
    for src, dst, conns in from_pods:
        assert conns == (conn.between(src, dst) if dst in pods else dict(conn.address_ranges(src, Direction.EGRESS))[dst])


@pytest.mark.parametrize("seed", SEEDS)
def test_pair_counts_fold_the_pod_pairs(seed: int) -> None:
    """Folded per pod (units spread over many groups) and per namespace, own-node exceptions included."""
    for tiers in (False, True):
        rc = random_cluster(seed, tiers=tiers)
        for settings in SETTINGS:
            conn = Engine(rc.cluster, settings).connectivity()
            pods = {p.key: p for p in conn.pods}
            pairs = [(pods[a], pods[b]) for a, b, _ in conn.rows() if a in pods and b in pods and a != b]
            for group_of in (lambda p: p.key, lambda p: p.namespace, lambda p: p.name[:1]):
                want: dict[tuple[str, str], int] = {}
                for a, b in pairs:
                    want[(group_of(a), group_of(b))] = want.get((group_of(a), group_of(b)), 0) + 1
                assert conn.pair_counts(group_of) == want
