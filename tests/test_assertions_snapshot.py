"""podfence test --snapshot: today's connectivity as an assertion file.

A snapshot must pass against the cluster it was taken from (after a trip through
YAML, exactly as a user stores it), and must fail once connectivity changes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from random_clusters import random_cluster

from podfence.assertions import Checker, parse_spec
from podfence.assertions.snapshot import addresses, ports, snapshot
from podfence.diff import diff_connectivity
from podfence.diff.compare import connectivities
from podfence.engine import Engine
from podfence.loader import load, load_texts
from podfence.model import Cluster, Settings
from podfence.render.assertions import snapshot_yaml
from podfence.sets import ConnSet, IPSet, Protocol, parse_cidr

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
DIFF_BASE = (FIXTURES / "diff" / "base.yaml").read_text()


def stored(cluster: Cluster, settings: Settings = Settings()):  # type: ignore[no-untyped-def]
    """The snapshot of ``cluster`` as a user would store and read it back."""
    text = snapshot_yaml(snapshot(Engine(cluster, settings).connectivity()))
    spec, problems = parse_spec(yaml.safe_load(text))
    assert problems == [], [d.one_line() for d in problems]
    return spec, text


def failing(spec, cluster: Cluster, settings: Settings = Settings()):  # type: ignore[no-untyped-def]
    return [r for r in Checker(Engine(cluster, settings).connectivity()).check(spec) if not r.passed]


@pytest.mark.parametrize("path", [FIXTURES / "diff" / "base.yaml", FIXTURES / "assertions" / "cluster.yaml",
                                  ROOT / "examples" / "baa"], ids=lambda p: p.name)
def test_snapshot_passes_on_its_own_cluster(path: Path) -> None:
    cluster = load([str(path)]).cluster
    spec, _ = stored(cluster)
    assert spec.tests and failing(spec, cluster) == []


@pytest.mark.parametrize("seed", range(80))
def test_snapshot_of_random_clusters_passes(seed: int) -> None:
    r = random_cluster(seed)
    spec, text = stored(r.cluster)
    assert failing(spec, r.cluster) == [], f"{r.describe()}\n{text}"


@pytest.mark.parametrize("knob", ["allow_self_traffic", "ipblock_matches_pods", "non_l4_rules_without_ports"])
def test_snapshot_passes_with_settings_changed(knob: str) -> None:
    settings = Settings().with_values(**{knob: False})
    for seed in range(20):
        r = random_cluster(seed)
        spec, text = stored(r.cluster, settings)
        assert failing(spec, r.cluster, settings) == [], f"{r.describe()}\n{text}"


DENY_EGRESS = "\n" + (FIXTURES / "diff" / "deny-egress.yaml").read_text()


@pytest.mark.parametrize("old, new", [
    ("ports: [{port: 5432}]", "ports: [{port: 5433}]"),
    ("labels: {app: worker}", "labels: {app: server}"),
    ("labels: {team: core}", "labels: {team: platform}"),
    ("", DENY_EGRESS),
], ids=["policy-edited", "pod-relabelled", "namespace-relabelled", "policy-added"])
def test_snapshot_fails_after_a_change(old: str, new: str) -> None:
    before = load_texts([("m.yaml", DIFF_BASE)]).cluster
    after = load_texts([("m.yaml", DIFF_BASE.replace(old, new, 1) if old else DIFF_BASE + new)]).cluster
    spec, _ = stored(before)
    broken = failing(spec, after)
    assert broken
    changed = {(c.src, c.dst) for c in diff_connectivity(*connectivities(before, after, Settings())).changes}
    named = {(f.src, f.dst) for r in broken for f in r.failures}
    pod_pairs = {(s, d) for s, d in changed if s != d and parse_cidr(s) is None and parse_cidr(d) is None}
    assert pod_pairs and pod_pairs <= named


def family(name: str) -> int | None:
    cidr = parse_cidr(name)
    return cidr.version if cidr is not None else None


@pytest.mark.parametrize("seed", range(60))
def test_snapshot_catches_every_change_of_existing_pods(seed: int) -> None:
    old = random_cluster(seed).cluster
    other = random_cluster(seed + 7919).cluster
    new = Cluster.of(old.namespaces, old.pods, (), other.policies)
    pinned = Engine(old).connectivity().external.families  # the families the snapshot speaks of
    a, b = connectivities(old, new, Settings())
    changes = [c for c in diff_connectivity(a, b).changes
               if c.src != c.dst and all(family(n) in (None, *pinned) for n in (c.src, c.dst))]
    spec, _ = stored(old)
    if changes:
        assert failing(spec, new), changes


@pytest.mark.parametrize("added", [
    """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: outside-in, namespace: billing}
spec:
  podSelector: {}
  ingress: [{from: [{ipBlock: {cidr: 203.0.113.0/24}}], ports: [{port: 5432}]}]
""", """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: worker-out, namespace: api}
spec:
  podSelector: {matchLabels: {app: worker}}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]}]
"""], ids=["new-ingress-from-outside", "egress-narrowed"])
def test_snapshot_fails_when_outside_connectivity_changes(added: str) -> None:
    before = load_texts([("m.yaml", DIFF_BASE)]).cluster
    after = load_texts([("m.yaml", DIFF_BASE + added)]).cluster
    spec, _ = stored(before)
    named = {(f.src, f.dst) for r in failing(spec, after) for f in r.failures}
    changed = {(c.src, c.dst) for c in diff_connectivity(*connectivities(before, after, Settings())).changes}
    outside = {(s, d) for s, d in changed if family(s) or family(d)}
    assert outside and outside <= named


def test_whole_namespaces_become_one_namespace_selector() -> None:
    cluster = load([str(FIXTURES / "diff" / "base.yaml")]).cluster
    data = snapshot(Engine(cluster).connectivity())
    froms = [t["from"] for t in data["tests"]]
    in_api = {"namespaceSelector": {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["api"]}]}}
    # api/server and api/worker do not behave alike (only the server reaches billing/db),
    # so api never appears as a whole source; the three pods that behave alike share lines.
    assert in_api not in froms and ["api/worker", "billing/db", "kube-system/dns"] in froms
    text = DIFF_BASE.replace("podSelector: {matchLabels: {app: server}}", "podSelector: {}")
    alike = snapshot(Engine(load_texts([("m.yaml", text)]).cluster).connectivity())
    assert any(in_api == t["from"] or (isinstance(t["from"], list) and in_api in t["from"]) for t in alike["tests"])


def test_port_and_address_forms() -> None:
    assert ports(ConnSet.all()) == {}
    assert ports(ConnSet.ports(Protocol.TCP, 80)) == {"port": 80}
    assert ports(ConnSet.ports(Protocol.TCP, 80, 90) | ConnSet.ports(Protocol.UDP, 53)
                 | ConnSet.ports(Protocol.SCTP)) == {"ports": ["80-90", {"protocol": "UDP", "port": 53},
                                                              {"protocol": "SCTP"}]}
    assert ports(ConnSet.ports(Protocol.UDP, 9000, 9099)) == {"ports": [{"protocol": "UDP", "port": 9000,
                                                                          "endPort": 9099}]}
    ten = parse_cidr("10.0.0.0/8")
    assert ten is not None
    assert addresses(IPSet.all_of(4) - IPSet.of_cidr(ten)) == [{"ipBlock": {"cidr": "0.0.0.0/0",
                                                                            "except": ["10.0.0.0/8"]}}]
    assert addresses(IPSet.of_cidr(ten) | IPSet.all_of(6)) == ["10.0.0.0/8", "::/0"]
