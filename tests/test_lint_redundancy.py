"""Redundancy is judged by what is allowed: removing what lint calls redundant changes no connection.

On hundreds of small random clusters (tests/random_clusters.py: selectors of every
operator, named ports, ipBlocks through pods, nodes and outside addresses, IPv4
and IPv6, hostNetwork pods), every policy and rule that NP208/NP209 report is
removed at once, and the engine's whole-cluster connectivity (pod pairs and
address ranges) must be exactly the same.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from podfence.engine import Engine
from podfence.lint.redundancy import find_redundant
from podfence.model import Cluster, Direction, Settings
from random_clusters import random_cluster

SEEDS = range(400)


def _without(cluster: Cluster, settings: Settings) -> tuple[Cluster, int]:
    found = find_redundant(cluster, settings)
    gone_policies = {r.policy for r in found if r.direction is None}
    gone_rules = {(r.policy, r.direction, r.index) for r in found if r.direction is not None}
    policies = []
    for pi, policy in enumerate(cluster.policies):
        if pi in gone_policies:
            continue
        keep = {d: tuple(rule for i, rule in enumerate(policy.rules(d)) if (pi, d, i) not in gone_rules)
                for d in Direction}
        policies.append(replace(policy, ingress=keep[Direction.INGRESS], egress=keep[Direction.EGRESS]))
    return Cluster.of(cluster.namespaces, cluster.pods, cluster.services, policies), len(found)


def _rows(cluster: Cluster, settings: Settings) -> list[tuple[str, str, object]]:
    # Both address families always: which families are reported follows what the
    # input mentions, and removing an IPv6 ipBlock must not count as a change.
    return list(Engine(cluster, settings).connectivity(families=(4, 6)).rows())


@pytest.mark.parametrize("settings", [Settings(), Settings(ipblock_matches_pods=False)],
                         ids=["default", "ipblock-not-pods"])
def test_removing_what_is_redundant_changes_nothing(settings: Settings) -> None:
    removed = 0
    for seed in SEEDS:
        rc = random_cluster(seed)
        smaller, n = _without(rc.cluster, settings)
        removed += n
        if n:
            assert _rows(smaller, settings) == _rows(rc.cluster, settings), rc.describe()
    assert removed >= 40, f"only {removed} redundant parts in {len(SEEDS)} clusters: the test lost its teeth"



def test_lint_and_audit_run_on_random_clusters() -> None:
    from podfence.config import DEFAULT_CONFIG
    from podfence.lint import lint
    from podfence.lint.audit import audit

    fired: set[str] = set()
    for seed in range(150):
        cluster = random_cluster(seed).cluster
        findings = lint(cluster, DEFAULT_CONFIG)
        fired |= {f.rule for f in findings}
        report = audit(cluster, DEFAULT_CONFIG, findings=findings)
        assert sum(a.pods for a in report.namespaces) == sum(
            1 for p in cluster.pods if p.is_pod_endpoint(DEFAULT_CONFIG.settings))
    assert len(fired) >= 15, sorted(fired)
