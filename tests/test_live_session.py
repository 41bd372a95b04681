"""podfence.live.LiveCluster: which changes count, and incremental edits agree with a fresh evaluation."""

from __future__ import annotations

import copy

from live_support import ROOT, manifests
from podfence.diff import diff_clusters
from podfence.live import LiveCluster
from podfence.loader import load_objects
from podfence.model import ClusterOrigin, Settings
from podfence.sources.cluster import READ, ClusterObjects
from podfence.sources.watch import Event, Relisted

KINDS = {listed.kind: listed for listed in READ}
DOCS = [d for d in manifests(ROOT / "examples" / "baa")
        if d["kind"] != "NetworkPolicy" or d["metadata"].get("namespace") != "data"]
POLICY = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
          "metadata": {"name": "cut", "namespace": "data", "resourceVersion": "9"},
          "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "lone", "namespace": "api", "labels": {"app": "x"}},
       "spec": {"containers": [{"name": "c", "image": "i"}]},
       "status": {"phase": "Running", "podIP": "10.3.0.1", "conditions": [{"type": "Ready", "status": "True"}]}}


def live(*extra) -> LiveCluster:
    return LiveCluster(ClusterObjects("prod", documents=tuple(copy.deepcopy([*DOCS, *extra]))), Settings())


def event(kind: str, doc: dict, type_: str = "MODIFIED") -> Event:
    return Event(KINDS[kind], type_, copy.deepcopy(doc))


def fresh(docs) -> object:
    return load_objects(ClusterOrigin("prod"), copy.deepcopy(docs), name="prod").cluster


def test_a_policy_edit_is_incremental_and_equals_a_fresh_diff():
    cluster = live()
    update = cluster.apply([event("NetworkPolicy", POLICY, "ADDED")])
    assert update is not None and update.incremental
    assert update.diff == diff_clusters(fresh(DOCS), fresh([*DOCS, POLICY]), Settings())
    gone = cluster.apply([event("NetworkPolicy", POLICY, "DELETED")])
    assert gone is not None and gone.incremental and {c.src for c in gone.diff.changes} == \
        {c.src for c in update.diff.changes}


def test_a_relabelled_lone_pod_is_incremental_a_new_pod_is_not():
    cluster = live(POD, POLICY)
    relabelled = copy.deepcopy(POD)
    relabelled["metadata"]["labels"] = {"app": "y"}
    moved = cluster.apply([event("Pod", relabelled)])
    assert moved is not None and moved.incremental
    assert moved.diff == diff_clusters(fresh([*DOCS, POD, POLICY]), fresh([*DOCS, relabelled, POLICY]), Settings())
    late = {**copy.deepcopy(POD), "metadata": {"name": "late", "namespace": "data", "labels": {}}}
    update = cluster.apply([event("Pod", late, "ADDED")])
    assert update is not None and not update.incremental
    assert update.diff == diff_clusters(fresh([*DOCS, relabelled, POLICY]), fresh([*DOCS, relabelled, POLICY, late]),
                                        Settings())


def test_pod_conditions_and_server_bookkeeping_are_no_change():
    cluster = live(POD)
    beat = copy.deepcopy(POD)
    beat["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    beat["metadata"]["resourceVersion"] = "77"
    beat["metadata"]["managedFields"] = [{"manager": "kubelet"}]
    assert cluster.apply([event("Pod", beat)]) is None


def test_a_relist_gives_the_changes_it_implies():
    cluster = live(POLICY)
    policies = tuple(d for d in DOCS if d["kind"] == "NetworkPolicy")
    update = cluster.apply([Relisted(KINDS["NetworkPolicy"], copy.deepcopy(policies))])
    assert update is not None
    assert [(c.kind, c.namespace, c.name, c.event) for c in update.causes] == [("NetworkPolicy", "data", "cut",
                                                                                "deleted")]
    assert update.diff == diff_clusters(fresh([*DOCS, POLICY]), fresh(DOCS), Settings())


def test_bare_pods_coming_going_and_moving_are_loaded_alone_and_equal_a_fresh_load(monkeypatch):
    """A new, changed or deleted Pod of no controller does not read every object again, and the cluster
    and the changes are what reading everything again gives."""
    cluster = live(POD, POLICY)
    monkeypatch.setattr(LiveCluster, "_load", lambda self: (_ for _ in ()).throw(AssertionError("reloaded all")))
    docs = [*DOCS, POD, POLICY]
    late = {**copy.deepcopy(POD), "metadata": {"name": "late", "namespace": "data", "labels": {"app": "late"}}}
    away = {**copy.deepcopy(POD), "metadata": {"name": "away", "namespace": "elsewhere", "labels": {}}}
    moved = copy.deepcopy(POD)
    moved["status"]["podIP"] = "10.3.0.9"
    done = copy.deepcopy(late)
    done["status"]["phase"] = "Succeeded"
    api = copy.deepcopy(next(d for d in DOCS if d["kind"] == "Namespace" and d["metadata"]["name"] == "api"))
    api["metadata"]["labels"] = {**api["metadata"].get("labels", {}), "team": "elsewhere"}
    relabelled = cluster.apply([event("Namespace", api)])
    assert relabelled is not None and relabelled.incremental
    docs = [api if d["kind"] == "Namespace" and d["metadata"]["name"] == "api" else d for d in docs]
    rest = [d for d in docs if d is not POD and d is not POLICY]
    steps = [([event("Pod", late, "ADDED"), event("Pod", away, "ADDED")], [*docs, late, away]),
             ([event("Pod", moved)], [*rest, moved, POLICY, late, away]),
             ([event("Pod", away, "DELETED")], [*rest, moved, POLICY, late]),
             ([event("Pod", done)], [*rest, moved, POLICY, done])]
    for batch, now in steps:
        update = cluster.apply(batch)
        assert update is not None and not update.incremental
        assert cluster.loaded.cluster == cluster.session.cluster == fresh(now)
        assert update.diff == diff_clusters(fresh(docs), fresh(now), Settings())
        docs = now


def test_a_pod_of_a_controller_is_loaded_with_everything():
    cluster = live()
    owned = copy.deepcopy(POD)
    owned["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "name": "api-server-5d9f", "controller": True}]
    update = cluster.apply([event("Pod", owned, "ADDED")])
    assert update is not None
    assert cluster.loaded.cluster == fresh([*DOCS, owned])
