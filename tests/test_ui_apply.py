"""podfence ui's Apply: NetworkPolicies from the editor applied to the live cluster, every server-side dry run
before any real write, behind the same guards as Save; checked against the API test server's store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import yaml

from cli_support import ROOT
from test_ui_editing import csrf_headers
from ui_support import ui_server

EXAMPLE = ROOT / "examples/baa"
NETWORK_POLICIES = ("networking.k8s.io", "v1", "networkpolicies")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def policy(name: str, namespace: str = "data", annotations: str = "") -> str:
    return f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}
  namespace: {namespace}
{annotations}spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: postgres
  policyTypes:
    - Ingress
  ingress:
    - from:
        - ipBlock:
            cidr: 192.0.2.0/24
      ports:
        - port: 5432
"""


DENIED = '  annotations:\n    kubeapi.test/deny: "data policies need an owner label"\n'


@pytest.fixture(scope="module")
def fleet() -> Iterator[Any]:
    """Two clusters of the API test server, both holding the example."""
    from kubeapi import Fleet, User
    from live_support import manifests

    objects = manifests(EXAMPLE)
    for obj in objects:  # as kubectl apply leaves it, with an annotation of its own
        if obj["kind"] == "NetworkPolicy" and obj["metadata"]["name"] == "redis-ingress":
            obj["metadata"]["annotations"] = {LAST_APPLIED: json.dumps(obj), "owner": "data-team"}
    f = Fleet()
    try:
        for name in ("prod", "staging"):
            f.cluster(name, {"admin": User("admin")}).seed(objects)
            f.context(name, name, "admin")
        yield f
    finally:
        f.stop()


@pytest.fixture(scope="module")
def kubeconfig(fleet: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fleet.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config", current="prod")


@pytest.fixture(scope="module")
def url(kubeconfig: Path) -> Iterator[str]:
    with ui_server("--kubeconfig", str(kubeconfig), "--context", "prod", "--context", "staging") as url:
        yield url


def stored(fleet: Any, cluster: str, namespace: str, name: str) -> dict[str, Any] | None:
    server = fleet.servers[cluster]
    return server.store.get(server.resource(*NETWORK_POLICIES), namespace, name)


def writes(fleet: Any, cluster: str, name: str) -> list[str]:
    """The requests that wrote the NetworkPolicy ``name`` (dry runs included), in order."""
    return [r for r in fleet.servers[cluster].requests
            if r.startswith("PATCH ") and f"/networkpolicies/{name}?" in r]


def apply(url: str, body: str, context: str | None = None, **headers: str) -> httpx.Response:
    return httpx.post(f"{url}api/apply", params={"context": context} if context else None, content=body.encode(),
                      headers={**csrf_headers(url), **headers}, timeout=60)


def policy_keys(url: str, context: str) -> set[str]:
    got = httpx.get(f"{url}api/view", params={"context": context}, timeout=60)
    assert got.status_code == 200, got.text
    return {p["key"] for p in got.json()["policies"]}


def test_the_page_is_told_which_workspaces_are_live_clusters(url: str) -> None:
    assert httpx.get(f"{url}api/contexts").json()["live"] == ["prod", "staging"]


def test_an_apply_dry_runs_then_writes_and_the_workspace_shows_the_cluster_after_it(url: str, fleet: Any) -> None:
    assert "data/from-docs" not in policy_keys(url, "prod")
    got = apply(url, policy("from-docs"), "prod")
    assert got.status_code == 200, got.text
    answer = got.json()
    assert answer["dry_run"] == "ok" and answer["refused"] is None
    assert answer["applied"] == [{"kind": "NetworkPolicy", "key": "data/from-docs", "action": "created"}]
    assert answer["message"] == "dry-run passed, applied to context prod: NetworkPolicy data/from-docs created"
    kept = stored(fleet, "prod", "data", "from-docs")
    assert kept is not None
    assert kept["spec"]["ingress"] == [{"from": [{"ipBlock": {"cidr": "192.0.2.0/24"}}], "ports": [{"port": 5432}]}]
    sent = writes(fleet, "prod", "from-docs")
    assert len(sent) == 2 and "dryRun=All" in sent[0] and "dryRun" not in sent[1], sent
    assert all("fieldManager=podfence" in r for r in sent)
    assert "data/from-docs" in policy_keys(url, "prod"), "the workspace was loaded again from the cluster"
    assert stored(fleet, "staging", "data", "from-docs") is None, "only the chosen context is written"
    assert "data/from-docs" not in policy_keys(url, "staging")

    again = apply(url, policy("from-docs").replace("5432", "5433"), "prod").json()
    assert again["applied"] == [{"kind": "NetworkPolicy", "key": "data/from-docs", "action": "configured"}]
    kept = stored(fleet, "prod", "data", "from-docs")
    assert kept is not None and kept["spec"]["ingress"][0]["ports"] == [{"port": 5433}]


def test_a_refused_dry_run_writes_nothing_and_names_the_object_and_the_servers_message(url: str,
                                                                                        fleet: Any) -> None:
    first, second = policy("first-of-two"), policy("refused-second", annotations=DENIED)
    got = apply(url, first + "---\n" + second, "staging")
    assert got.status_code == 200, got.text
    answer = got.json()
    assert answer["dry_run"] == "refused" and answer["applied"] == []
    assert answer["refused"]["kind"] == "NetworkPolicy" and answer["refused"]["key"] == "data/refused-second"
    assert answer["refused"]["line"] == first.count("\n") + 2, "the line of the refused document in the text"
    assert "admission webhook \"deny.kubeapi.test\" denied the request: data policies need an owner label" in \
        answer["message"]
    assert "NetworkPolicy data/refused-second" in answer["message"] and "context 'staging'" in answer["message"]
    assert answer["message"].startswith("dry-run refused, nothing applied: ")
    assert stored(fleet, "staging", "data", "first-of-two") is None, "its dry run passed, but nothing is written"
    assert stored(fleet, "staging", "data", "refused-second") is None
    assert [r for r in writes(fleet, "staging", "first-of-two") if "dryRun" not in r] == []
    assert writes(fleet, "staging", "refused-second") and all("dryRun=All" in r
                                                            for r in writes(fleet, "staging", "refused-second"))


def test_a_write_refused_after_every_dry_run_passed_reports_what_was_applied_before_it(url: str,
                                                                                      fleet: Any) -> None:
    server = fleet.servers["staging"]
    server.admission = lambda resource, obj, dry: (
        None if dry or obj["metadata"]["name"] != "late-second" else "the quota of policies is used up")
    try:
        got = apply(url, policy("early-first") + "---\n" + policy("late-second"), "staging")
    finally:
        server.admission = None
    assert got.status_code == 200, got.text
    answer = got.json()
    assert answer["dry_run"] == "ok"
    assert answer["applied"] == [{"kind": "NetworkPolicy", "key": "data/early-first", "action": "created"}]
    assert answer["refused"]["key"] == "data/late-second"
    assert answer["message"].startswith("dry-run passed, but the apply failed: context 'staging': apply "
                                        "NetworkPolicy data/late-second: the API server answered 403: ")
    assert answer["message"].endswith("the quota of policies is used up; applied before it: "
                                      "NetworkPolicy data/early-first created")
    assert stored(fleet, "staging", "data", "early-first") is not None
    assert stored(fleet, "staging", "data", "late-second") is None
    assert "data/early-first" in policy_keys(url, "staging"), "what was written shows after the reload"


def test_a_policy_read_from_the_cluster_opens_as_its_manifest_and_an_edit_applies_back(url: str,
                                                                                     fleet: Any) -> None:
    got = httpx.get(f"{url}api/document", params={"context": "prod", "kind": "NetworkPolicy",
                                                  "key": "data/redis-ingress"}, timeout=60)
    assert got.status_code == 200, got.text
    doc = got.json()
    assert doc["file"] is None and doc["key"] == "data/redis-ingress"
    before = stored(fleet, "prod", "data", "redis-ingress")
    assert before is not None
    assert yaml.safe_load(doc["text"]) == {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "redis-ingress", "namespace": "data", "annotations": {"owner": "data-team"}},
        "spec": before["spec"]}, "the manifest without what the server or kubectl keep for themselves"
    edited = doc["text"].replace("port: redis", "port: 6380")
    answer = apply(url, edited, "prod").json()
    assert answer["applied"] == [{"kind": "NetworkPolicy", "key": "data/redis-ingress", "action": "configured"}]
    after = stored(fleet, "prod", "data", "redis-ingress")
    assert after is not None and after["spec"]["ingress"][0]["ports"] == [{"port": 6380}]
    assert LAST_APPLIED in after["metadata"]["annotations"], "an apply leaves what it does not send"
    view = httpx.get(f"{url}api/view", params={"context": "prod"}, timeout=60).json()
    rules = next(p["rules"] for p in view["policies"] if p["key"] == "data/redis-ingress")
    assert "6380" in rules[0]["text"]


@pytest.mark.parametrize(("body", "said"), [
    ("kind: NetworkPolicy\nmetadata: [\n", "-:3: invalid YAML"),
    (policy("bad-port").replace("5432", "99999"), "-:17: NetworkPolicy data/bad-port: spec.ingress[0].ports[0].port"),
    (policy("ok") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
     "-:19: ConfigMap: only NetworkPolicy documents are applied"),
    ("", "no NetworkPolicy to apply"),
])
def test_invalid_text_is_refused_with_its_line_and_nothing_is_sent(url: str, fleet: Any, body: str,
                                                                  said: str) -> None:
    before = len(fleet.servers["prod"].requests)
    got = apply(url, body, "prod")
    assert got.status_code == 400, got.text
    assert said in got.json()["error"] and "\n" not in got.json()["error"]
    assert not [r for r in fleet.servers["prod"].requests[before:] if not r.startswith("GET ")]


def test_apply_needs_the_csrf_token_and_the_pages_origin(url: str, fleet: Any) -> None:
    body = policy("forged").encode()
    params = {"context": "prod"}
    assert apply(url, policy("forged"), "prod", Origin="http://evil.example").status_code == 403
    assert apply(url, policy("forged"), "prod", **{"X-Podfence-CSRF": "guess"}).status_code == 403
    got = httpx.post(f"{url}api/apply", params=params, content=body, headers={"Content-Type": "application/yaml"})
    assert got.status_code == 403 and "forbidden" in got.text
    assert writes(fleet, "prod", "forged") == [] and stored(fleet, "prod", "data", "forged") is None


def test_apply_with_read_only_is_refused(kubeconfig: Path, fleet: Any) -> None:
    with ui_server("--kubeconfig", str(kubeconfig), "--context", "prod", "--read-only") as url:
        got = apply(url, policy("read-only"), "prod")
        assert got.status_code == 403 and "read-only" in got.text
    assert writes(fleet, "prod", "read-only") == []


def test_apply_on_manifests_alone_is_refused() -> None:
    with ui_server("-f", "examples/baa") as url:
        assert httpx.get(f"{url}api/contexts").json()["live"] == []
        got = apply(url, policy("no-cluster"))
        assert got.status_code == 400 and "not a live cluster" in got.json()["error"]
