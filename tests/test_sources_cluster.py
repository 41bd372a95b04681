"""Reading a live cluster (podfence.sources.cluster) against the test API server."""

from __future__ import annotations

import os

import pytest
import yaml

from kubeapi import CORE, OPTIONAL, User
from live_support import fleet, reader  # noqa: F401 - fixture
from podfence.sources.cluster import READ, read_cluster
from podfence.sources.kubeconfig import read_kubeconfig


def pod(name: str, namespace: str = "shop", ip: str = "10.0.0.1") -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace,
                                                            "labels": {"app": name}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}, "status": {"phase": "Running", "podIP": ip}}


@pytest.fixture
def prod(fleet, tmp_path):  # noqa: F811
    server = fleet.cluster("prod", {"t": reader(), "admin": User("admin"), "nobody": User("nobody", ())})
    fleet.context("prod", "prod", "t")
    fleet.context("nobody", "prod", "nobody")
    server.seed([pod(f"web{i}", ip=f"10.0.0.{i + 1}") for i in range(7)])
    return server, fleet.write_kubeconfig(tmp_path / "config", current="prod")


def test_pages_of_the_limit_asked_and_kind_on_every_item(prod):
    server, config = prod
    read = read_cluster(str(config), page_size=3)
    assert read.problem is None and read.context == "prod" and read.server == server.url
    pods = [d for d in read.documents if d["kind"] == "Pod"]
    assert [p["metadata"]["name"] for p in pods] == [f"web{i}" for i in range(7)]
    assert all(p["apiVersion"] == "v1" for p in pods)
    pages = [r for r in server.requests if r.startswith("GET /api/v1/pods?")]
    assert len(pages) == 3 and all("limit=3" in r for r in pages) and "continue=" in pages[1]


def test_only_the_kinds_podfence_needs_never_secrets_or_configmaps(prod):
    server, config = prod
    read_cluster(str(config))
    listed = {r.split("?")[0].split()[1] for r in server.requests if "limit=" in r}
    assert listed == {listed.path for listed in READ if not listed.optional}
    assert not any("secrets" in r or "configmaps" in r for r in server.requests)


def test_optional_kinds_skipped_with_a_note_or_read_when_served(fleet, tmp_path):  # noqa: F811
    fleet.cluster("plain", {"t": reader()})
    full = fleet.cluster("full", {"t": reader()}, resources=CORE + OPTIONAL)
    fleet.context("plain", "plain", "t")
    fleet.context("full", "full", "t")
    full.seed([{"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
                "metadata": {"name": "deny"}, "spec": {"tier": "Admin", "priority": 1, "subject": {"namespaces": {}},
                                                        "ingress": []}}])
    config = fleet.write_kubeconfig(tmp_path / "config")
    read = read_cluster(str(config), "plain")
    assert read.problem is None and len(read.notes) == 1
    assert "not served" in read.notes[0] and "ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2)" in read.notes[0]
    read = read_cluster(str(config), "full")
    assert read.notes == ()
    assert [(d["kind"], d["apiVersion"]) for d in read.documents] == [
        ("ClusterNetworkPolicy", "policy.networking.k8s.io/v1alpha2")]


def test_an_expired_continue_token_lists_again_once(prod):
    server, config = prod
    pages = []

    def expire_once(resource, query):
        pages.append(query)
        if resource.plural == "pods" and "continue" in query and len(pages) < 10:
            server.store.compact()
            server.before_list = None

    server.before_list = expire_once
    read = read_cluster(str(config), page_size=3)
    assert read.problem is None
    assert [d["metadata"]["name"] for d in read.documents if d["kind"] == "Pod"] == [f"web{i}" for i in range(7)]
    assert any("expired" in n and "pods" in n for n in read.notes)


def test_a_list_that_keeps_expiring_is_an_error(prod):
    server, config = prod
    server.before_list = lambda resource, query: server.store.compact() if "continue" in query else None
    read = read_cluster(str(config), page_size=3)
    assert read.problem is not None and read.problem.code == "K6" and "410 Gone" in read.problem.message


def test_loaded_objects_carry_the_cluster_origin(prod):
    _, config = prod
    result = read_cluster(str(config)).load()
    assert result.ok and result.cluster.name == "prod"
    source = result.cluster.pods[0].source
    assert str(source).startswith("prod/Pod/shop/web0@")


def test_kubeconfig_merging_first_file_wins(fleet, prod, tmp_path):  # noqa: F811
    server, _ = prod
    first = fleet.kubeconfig(current="nobody", contexts=["nobody"])
    second = fleet.kubeconfig(current="prod", contexts=["prod", "nobody"])
    second["contexts"][1]["context"]["cluster"] = "elsewhere"  # shadowed by the first file
    (tmp_path / "a").write_text(yaml.safe_dump(first))
    (tmp_path / "b").write_text(yaml.safe_dump(second))
    environ = {"KUBECONFIG": os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "missing"), str(tmp_path / "b")])}
    merged = read_kubeconfig(None, environ)
    assert not isinstance(merged, type(None))
    assert merged.current == "nobody" and set(merged.contexts) == {"prod", "nobody"}
    assert merged.contexts["nobody"].cluster == "prod"
    assert read_cluster(None, "prod", environ=environ).problem is None
    assert read_cluster(None, None, environ=environ).problem.code == "K5"


def test_kubeconfig_problems_name_file_line_and_field(tmp_path):
    path = tmp_path / "config"
    path.write_text("apiVersion: v1\nkind: Config\ncurrent-context: a\ncontexts:\n- name: a\n  context:\n"
                    "    cluster: c\nclusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: true\n")
    problem = read_cluster(str(path)).problem
    assert problem is not None and problem.code == "K1"
    assert problem.one_line() == f"{path}:10: kubeconfig: clusters[0].cluster.server: required: the cluster's " \
                                 "API server URL"


def test_default_kubeconfig_missing(tmp_path):
    read = read_cluster(None, None, environ={"HOME": str(tmp_path)})
    assert read.problem is not None and read.problem.code == "K7"


def test_a_server_certificate_the_kubeconfig_does_not_trust(fleet, prod, tmp_path):  # noqa: F811
    import base64

    import trustme

    config = fleet.kubeconfig(current="prod")
    config["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(
        trustme.CA().cert_pem.bytes()).decode()
    (tmp_path / "other-ca").write_text(yaml.safe_dump(config))
    problem = read_cluster(str(tmp_path / "other-ca")).problem
    assert problem is not None and problem.code == "K3"
    assert "TLS failed" in problem.message and "certificate verify failed" in problem.message
