"""The test API server speaks the Kubernetes wire format: raw HTTP checks, and the real kubectl against it."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from kubeapi import OPTIONAL, User
from kubeapi.resources import CORE
from live_support import KUBECTL, fleet, needs_kubectl, reader, request, watch_lines  # noqa: F401 - fixture

POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
       "spec": {"containers": [{"name": "c", "image": "nginx"}]},
       "status": {"phase": "Running", "podIP": "10.0.0.7"}}
POLICY_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all
  namespace: shop
spec:
  podSelector: {}
"""


@pytest.fixture
def prod(fleet):  # noqa: F811
    server = fleet.cluster("prod", {"admin-token": User("admin"), "reader-token": reader("reader")})
    fleet.context("prod", "prod", "admin-token")
    fleet.context("reader", "prod", "reader-token")
    server.seed([POD, {**POD, "metadata": {**POD["metadata"], "name": "api"}}])
    return server


def test_discovery_names_every_served_resource(fleet, prod):  # noqa: F811
    code, body = request(fleet, prod, "/api/v1", "admin-token")
    assert code == 200 and body["kind"] == "APIResourceList"
    assert {r["name"] for r in body["resources"]} >= {"pods", "namespaces", "services", "nodes"}
    code, groups = request(fleet, prod, "/apis", "admin-token")
    names = {g["name"] for g in groups["groups"]}
    assert {"apps", "batch", "networking.k8s.io"} <= names and "policy.networking.k8s.io" not in names
    assert request(fleet, prod, "/apis/policy.networking.k8s.io/v1alpha2", "admin-token")[0] == 404


def test_optional_kinds_are_discovered_when_served(fleet):  # noqa: F811
    server = fleet.cluster("full", {"t": User("admin")}, resources=CORE + OPTIONAL)
    code, body = request(fleet, server, "/apis/policy.networking.k8s.io/v1alpha2", "t")
    assert code == 200 and [r["kind"] for r in body["resources"]] == ["ClusterNetworkPolicy"]


def test_list_items_carry_no_kind_and_pages_continue(fleet, prod):  # noqa: F811
    code, page = request(fleet, prod, "/api/v1/pods?limit=1", "admin-token")
    assert code == 200 and page["kind"] == "PodList" and page["apiVersion"] == "v1"
    assert "kind" not in page["items"][0] and "apiVersion" not in page["items"][0]
    assert page["items"][0]["metadata"]["name"] == "api" and page["metadata"]["remainingItemCount"] == 1
    token = page["metadata"]["continue"]
    code, rest = request(fleet, prod, f"/api/v1/pods?limit=1&continue={token}", "admin-token")
    assert [i["metadata"]["name"] for i in rest["items"]] == ["web"] and "continue" not in rest["metadata"]
    assert rest["metadata"]["resourceVersion"] == page["metadata"]["resourceVersion"]


def test_expired_continue_token_is_410(fleet, prod):  # noqa: F811
    token = request(fleet, prod, "/api/v1/pods?limit=1", "admin-token")[1]["metadata"]["continue"]
    prod.store.compact()
    code, body = request(fleet, prod, f"/api/v1/pods?limit=1&continue={token}", "admin-token")
    assert (code, body["kind"], body["reason"], body["code"]) == (410, "Status", "Expired", 410)


def test_statuses_for_401_403_404_409(fleet, prod):  # noqa: F811
    code, body = request(fleet, prod, "/api/v1/pods", "wrong")
    assert (code, body["reason"]) == (401, "Unauthorized")
    code, body = request(fleet, prod, "/api/v1/secrets", "reader-token")
    assert code == 403 and body["message"] == (
        'secrets is forbidden: User "reader" cannot list resource "secrets" in API group "" at the cluster scope')
    code, body = request(fleet, prod, "/api/v1/namespaces/shop/pods/nope", "admin-token")
    assert (code, body["reason"], body["message"]) == (404, "NotFound", 'pods "nope" not found')
    code, body = request(fleet, prod, "/api/v1/namespaces/shop/pods", "admin-token", "POST", POD)
    assert (code, body["reason"]) == (409, "AlreadyExists")


def test_watch_streams_events_bookmarks_and_410(fleet):  # noqa: F811
    server = fleet.cluster("w", {"t": User("admin")}, bookmark_interval=0.1)
    server.seed([POD])
    version = request(fleet, server, "/api/v1/pods", "t")[1]["metadata"]["resourceVersion"]
    relabelled = {**POD, "metadata": {**POD["metadata"], "labels": {"app": "v2"}}}
    threading.Timer(0.3, lambda: server.seed([relabelled])).start()
    events = watch_lines(fleet, server, f"/api/v1/pods?watch=1&resourceVersion={version}&allowWatchBookmarks=true",
                         "t", 3)
    kinds = [e["type"] for e in events]
    assert "MODIFIED" in kinds and "BOOKMARK" in kinds
    modified = next(e for e in events if e["type"] == "MODIFIED")["object"]
    assert modified["kind"] == "Pod" and modified["metadata"]["labels"] == {"app": "v2"}
    server.store.compact()
    error = watch_lines(fleet, server, f"/api/v1/pods?watch=1&resourceVersion={version}", "t", 1)[0]
    assert error["type"] == "ERROR" and error["object"]["code"] == 410


def test_dry_run_creates_nothing(fleet, prod):  # noqa: F811
    new = {**POD, "metadata": {**POD["metadata"], "name": "dry"}}
    code, _ = request(fleet, prod, "/api/v1/namespaces/shop/pods?dryRun=All", "admin-token", "POST", new)
    assert code == 201
    assert request(fleet, prod, "/api/v1/namespaces/shop/pods/dry", "admin-token")[0] == 404


def test_an_object_annotated_to_be_denied_is_refused_by_admission_dry_run_or_not(fleet, prod):  # noqa: F811
    denied = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "deny-all", "namespace": "shop",
                           "annotations": {"kubeapi.test/deny": "policies here need an owner label"}},
              "spec": {"podSelector": {}}}
    path = "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/deny-all"
    for query in ("?fieldManager=t&dryRun=All", "?fieldManager=t"):
        code, body = request(fleet, prod, path + query, "admin-token", "PATCH", denied, "application/apply-patch+yaml")
        assert (code, body["reason"]) == (403, "Forbidden")
        assert body["message"] == ('admission webhook "deny.kubeapi.test" denied the request: '
                                   "policies here need an owner label")
    assert request(fleet, prod, path, "admin-token")[0] == 404
    allowed = {**denied, "metadata": {"name": "deny-all", "namespace": "shop"}}
    assert request(fleet, prod, path + "?fieldManager=t&dryRun=All", "admin-token", "PATCH", allowed,
                   "application/apply-patch+yaml")[0] == 201
    assert request(fleet, prod, path, "admin-token")[0] == 404, "a dry run stores nothing"
    assert request(fleet, prod, path + "?fieldManager=t", "admin-token", "PATCH", allowed,
                   "application/apply-patch+yaml")[0] == 201
    assert request(fleet, prod, path, "admin-token")[0] == 200


# -- the real kubectl ----------------------------------------------------------------------


def kubectl(kubeconfig: Path, *args: str, **kw) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    return subprocess.run([KUBECTL, "--kubeconfig", str(kubeconfig), *args], capture_output=True, text=True,
                          timeout=60, **kw)


@needs_kubectl
def test_kubectl_get_pods_in_every_namespace(fleet, prod, tmp_path):  # noqa: F811
    config = fleet.write_kubeconfig(tmp_path / "config", current="prod")
    done = kubectl(config, "get", "pods", "-A")
    assert done.returncode == 0, done.stderr
    rows = [line.split()[:2] for line in done.stdout.splitlines()[1:]]
    assert rows == [["shop", "api"], ["shop", "web"]]


@needs_kubectl
def test_kubectl_sees_the_api_servers_forbidden_message(fleet, prod, tmp_path):  # noqa: F811
    config = fleet.write_kubeconfig(tmp_path / "config", current="reader")
    done = kubectl(config, "get", "secrets", "-A")
    assert done.returncode != 0
    assert 'secrets is forbidden: User "reader" cannot list resource "secrets"' in done.stderr


@needs_kubectl
def test_kubectl_apply_dry_run_apply_again_and_delete(fleet, prod, tmp_path):  # noqa: F811
    config = fleet.write_kubeconfig(tmp_path / "config", current="prod")
    (tmp_path / "np.yaml").write_text(POLICY_YAML)
    dry = kubectl(config, "apply", "--dry-run=server", "-f", str(tmp_path / "np.yaml"))
    assert dry.returncode == 0, dry.stderr
    assert prod.store.get(prod.resource("networking.k8s.io", "v1", "networkpolicies"), "shop", "deny-all") is None
    done = kubectl(config, "apply", "-f", str(tmp_path / "np.yaml"))
    assert done.returncode == 0 and "created" in done.stdout, done.stderr
    stored = prod.store.get(prod.resource("networking.k8s.io", "v1", "networkpolicies"), "shop", "deny-all")
    assert stored is not None and stored["spec"] == {"podSelector": {}}
    ingress_only = POLICY_YAML.replace("podSelector: {}", "podSelector: {}\n  policyTypes: [Ingress]")
    (tmp_path / "np.yaml").write_text(ingress_only)
    assert "configured" in kubectl(config, "apply", "-f", str(tmp_path / "np.yaml")).stdout
    assert kubectl(config, "apply", "--server-side", "-f", str(tmp_path / "np.yaml")).returncode == 0
    gone = kubectl(config, "delete", "-f", str(tmp_path / "np.yaml"))
    assert gone.returncode == 0 and "deleted" in gone.stdout, gone.stderr
    assert kubectl(config, "get", "networkpolicies", "-A").stdout == ""


@needs_kubectl
def test_kubectl_get_watch_sees_a_change(fleet, prod, tmp_path):  # noqa: F811
    config = fleet.write_kubeconfig(tmp_path / "config", current="prod")
    watcher = subprocess.Popen([KUBECTL, "--kubeconfig", str(config), "get", "pods", "-n", "shop", "-w",
                                "--request-timeout=30s"], stdout=subprocess.PIPE, text=True)
    try:
        assert watcher.stdout is not None
        assert watcher.stdout.readline().split()[0] == "NAME"
        seen = {watcher.stdout.readline().split()[0] for _ in range(2)}
        assert seen == {"api", "web"}
        prod.seed([{**POD, "metadata": {**POD["metadata"], "name": "late"}}])
        assert watcher.stdout.readline().split()[0] == "late"
    finally:
        watcher.kill()
        watcher.wait()
