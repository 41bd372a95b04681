"""Incremental evaluation (engine.Session) against a fresh evaluation after every edit.

Random clusters come from ``random_clusters`` (the generators the oracle tests use);
each example applies a random sequence of edits (add, replace and remove policies,
relabel pods and namespaces) and, after each one, compares the session's view with
``Engine(edited cluster, settings).connectivity()``: every row (pod pairs and address
ranges), the matrix at every port that matters on every protocol, the groups, and
the change summary against the pairs that really changed.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from podfence.engine import Change, Connectivity, EditError, Engine, Session
from podfence.model import Cluster, ClusterPolicy, ContainerPort, Direction, Labels, NetworkPolicy, Pod, Settings
from podfence.sets import PROTOCOLS, Protocol, parse_ip
from random_clusters import NS_LABELS, POD_LABELS, _labels, _policy, mentioned_ports, random_cluster

KNOBS = tuple(k for k in Settings.switches() if k not in ("strict_cidr_validation", "cluster_policy_standard_channel"))
EDITS = ("add", "replace", "remove", "relabel-pod", "relabel-namespace")


def _edit(session: Session, rng: random.Random, kind: str, serial: int) -> Change | None:
    cluster = session.cluster
    ns_names = [ns.name for ns in cluster.namespaces]
    match kind:
        case "add":
            manifest = _policy(rng, 100 + serial, ns_names)
            return session.add_policy(NetworkPolicy.from_dict(manifest))
        case "replace" | "remove" if cluster.policies:
            old = rng.choice(cluster.policies)
            if kind == "remove":
                return session.remove_policy(old.key)
            manifest = _policy(rng, 0, ns_names)
            manifest["metadata"] = {"name": old.name, "namespace": old.namespace}
            return session.replace_policy(NetworkPolicy.from_dict(manifest))
        case "relabel-pod" if cluster.pods:
            return session.relabel("Pod", rng.choice(cluster.pods).key, _labels(rng, POD_LABELS))
        case "relabel-namespace":
            return session.relabel("Namespace", rng.choice(ns_names), _labels(rng, NS_LABELS))
    return None


def _pair_table(conn: Connectivity) -> dict[tuple[str, str], object]:
    keys = [p.key for p in conn.pods]
    return {(a, b): conn.between(a, b) for a in keys for b in keys}


def _assert_same(got: Connectivity, fresh: Connectivity, cluster: Cluster) -> None:
    assert got.pods == fresh.pods
    assert list(got.rows()) == list(fresh.rows())  # pod pairs and address ranges
    assert got.groups() == fresh.groups()
    assert got.group_connections() == fresh.group_connections()
    for pod in fresh.pods:
        for direction in Direction:
            assert got.address_blocks(pod.key, direction) == fresh.address_blocks(pod.key, direction)
    for protocol in PROTOCOLS:
        for port in mentioned_ports(cluster):
            mine, theirs = got.matrix(protocol, port), fresh.matrix(protocol, port)
            assert mine.pods == theirs.pods
            assert mine.differences(theirs) == ()


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    knob=st.sampled_from((None, *KNOBS)),
    edits=st.lists(st.tuples(st.sampled_from(EDITS), st.integers(0, 2**32 - 1)), min_size=1, max_size=6),
)
def test_every_edit_equals_a_fresh_evaluation(seed: int, knob: str | None, edits: list[tuple[str, int]]) -> None:
    settings = Settings() if knob is None else Settings().with_values(**{knob: not getattr(Settings(), knob)})
    rc = random_cluster(seed)
    session = Session(rc.cluster, settings)
    before = _pair_table(session.connectivity)
    for serial, (kind, edit_seed) in enumerate(edits):
        change = _edit(session, random.Random(edit_seed), kind, serial)
        if change is None:
            continue
        assert change.connectivity is session.connectivity
        fresh = Engine(session.cluster, settings).connectivity()
        _assert_same(change.connectivity, fresh, session.cluster)
        after = _pair_table(fresh)
        really = tuple(sorted(k for k in after if after[k] != before[k]))
        assert change.changed_pairs() == really
        assert all(a in change.sources or b in change.destinations for a, b in really)
        before = after


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    edits=st.lists(st.tuples(st.sampled_from(EDITS), st.integers(0, 2**32 - 1)), min_size=1, max_size=5),
)
def test_every_edit_under_cluster_wide_tiers_equals_a_fresh_evaluation(seed: int,
                                                                       edits: list[tuple[str, int]]) -> None:
    """NetworkPolicy edits and relabels with Admin and Baseline policies in the cluster."""
    rc = random_cluster(seed, tiers=True)
    session = Session(rc.cluster)
    before = _pair_table(session.connectivity)
    for serial, (kind, edit_seed) in enumerate(edits):
        change = _edit(session, random.Random(edit_seed), kind, serial)
        if change is None:
            continue
        assert session.cluster.cluster_policies == rc.cluster.cluster_policies
        fresh = Engine(session.cluster).connectivity()
        _assert_same(change.connectivity, fresh, session.cluster)
        after = _pair_table(fresh)
        really = tuple(sorted(k for k in after if after[k] != before[k]))
        assert change.changed_pairs() == really
        assert all(a in change.sources or b in change.destinations for a, b in really)
        before = after


def test_an_earlier_view_stays_valid_after_an_edit() -> None:
    rc = random_cluster(7)
    session = Session(rc.cluster)
    first = session.connectivity
    rows = list(first.rows())
    for policy in rc.cluster.policies:
        session.remove_policy(policy.key)
    assert list(first.rows()) == rows
    assert list(session.connectivity.rows()) == list(Engine(session.cluster).connectivity().rows())


def test_a_deny_all_policy_changes_the_pairs_into_its_pods() -> None:
    cluster = Cluster.of(pods=[Pod("a", "x"), Pod("a", "y"), Pod("b", "z")])
    session = Session(cluster)
    deny = NetworkPolicy.from_dict({"metadata": {"name": "deny", "namespace": "a"},
                                    "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    change = session.add_policy(deny)
    assert change.sources == ()
    assert change.destinations == ("a/x", "a/y")
    assert change.changed_pairs() == (("a/x", "a/y"), ("a/y", "a/x"), ("b/z", "a/x"), ("b/z", "a/y"))
    back = session.remove_policy("a/deny")
    assert back.changed_pairs() == change.changed_pairs()
    assert list(back.connectivity.rows()) == list(Engine(cluster).connectivity().rows())


def test_relabelling_a_pod_moves_it_into_a_policy() -> None:
    allow = NetworkPolicy.from_dict({"metadata": {"name": "only-web", "namespace": "a"}, "spec": {
        "podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]}})
    cluster = Cluster.of(pods=[Pod("a", "x"), Pod("a", "y")], policies=[allow])
    session = Session(cluster)
    assert session.connectivity.between("a/x", "a/y").is_empty()
    change = session.relabel("Pod", "a/x", {"app": "web"})
    assert not change.connectivity.between("a/x", "a/y").is_empty()
    assert change.changed_pairs() == (("a/x", "a/y"),)
    assert session.cluster.pod("a/x").labels == {"app": "web"}  # type: ignore[union-attr]


def test_relabelling_a_namespace_keeps_its_name_label() -> None:
    session = Session(Cluster.of(pods=[Pod("a", "x")]))
    session.relabel("Namespace", "a", {"team": "t"})
    labels = session.cluster.namespace("a").labels  # type: ignore[union-attr]
    assert labels == {"team": "t", "kubernetes.io/metadata.name": "a"}


@pytest.mark.parametrize("call, message", [
    (lambda s: s.remove_policy("a/none"), "no policy named a/none"),
    (lambda s: s.replace_policy(NetworkPolicy.from_dict({"metadata": {"name": "none", "namespace": "a"}})),
     "no policy named a/none"),
    (lambda s: s.relabel("Pod", "a/none", {}), "no pod or workload named a/none"),
    (lambda s: s.relabel("Namespace", "none", {}), "no namespace named none"),
    (lambda s: s.relabel("Service", "a/x", {}), "cannot relabel a Service"),
])
def test_edits_that_do_not_fit_are_refused(call, message: str) -> None:  # type: ignore[no-untyped-def]
    session = Session(Cluster.of(pods=[Pod("a", "x")]))
    with pytest.raises(EditError, match=message):
        call(session)


def test_adding_an_existing_policy_is_refused() -> None:
    policy = NetworkPolicy.from_dict({"metadata": {"name": "p", "namespace": "a"}, "spec": {"podSelector": {}}})
    session = Session(Cluster.of(pods=[Pod("a", "x")], policies=[policy]))
    with pytest.raises(EditError, match="already exists"):
        session.add_policy(policy)


def test_an_edit_reevaluates_a_pods_egress_to_its_own_node_under_tiers() -> None:
    """Under a Baseline policy a pod's egress to a hostNetwork pod on its own node goes through
    the NetworkPolicy tier, so a policy edit changes it (it is not a fact of the settings alone)."""
    host = Pod("a", "agent", Labels({"app": "agent"}), (ContainerPort(9100, Protocol.TCP),), (parse_ip("10.1.0.1"),),
               host_network=True, node_name="n1", host_ips=(parse_ip("10.1.0.1"),))
    web = Pod("a", "web", Labels({"app": "web"}), (), (parse_ip("10.2.0.5"),), node_name="n1",
              host_ips=(parse_ip("10.1.0.1"),))
    banp = ClusterPolicy.from_dict({
        "apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
        "metadata": {"name": "default"},
        "spec": {"subject": {"namespaces": {}}, "egress": [{"action": "Deny", "to": [{"nodes": {}}]}]}})
    open_egress = NetworkPolicy.from_dict({"metadata": {"name": "out", "namespace": "a"}, "spec": {
        "podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"], "egress": [{}]}})
    cluster = Cluster.of(pods=[host, web], policies=[open_egress], cluster_policies=[banp])
    session = Session(cluster)
    assert not session.connectivity.between("a/web", "a/agent").is_empty()
    change = session.remove_policy("a/out")
    fresh = Engine(session.cluster).connectivity()
    assert fresh.between("a/web", "a/agent").is_empty()
    assert change.connectivity.between("a/web", "a/agent") == fresh.between("a/web", "a/agent")
    assert ("a/web", "a/agent") in change.changed_pairs()
