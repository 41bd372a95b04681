"""The bundled example examples/baa: well-formed, complete, and true to its README.

The example is the first thing users run, so these tests pin what its README
promises: the namespaces and kube-dns objects exist, the API server would accept
every object, the intended flows work, the explained denial is denied, and the
four deliberate mistakes are still there. Reachability is judged with the
single-object matchers of :mod:`podfence.engine.match` and a pod built from each
workload's template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from podfence.engine import Remote, ir_of, isolating_policies, rule_conns, rule_peers_match
from podfence.model import (
    Cluster, ContainerPort, Direction, Labels, LabelSelector, Namespace, NetworkPolicy, Pod, Settings,
    selector_from_dict,
)
from podfence.sets import Protocol, parse_ip
from podfence.validate import is_port_name, validate_network_policy

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "baa"
SETTINGS = Settings()
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob")
APP_NAMESPACES = ("gateway", "auth", "api", "billing", "data", "notify", "monitoring")


def _documents() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(EXAMPLE.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                yield path.relative_to(EXAMPLE).as_posix(), doc


DOCS = list(_documents())


def _of_kind(kind: str) -> list[dict[str, Any]]:
    return [d for _, d in DOCS if d["kind"] == kind]


def _pod_template(doc: dict[str, Any]) -> dict[str, Any]:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]
    return doc["spec"]["template"]


def _pod(doc: dict[str, Any]) -> Pod:
    """The representative pod of a workload: template labels and container ports."""
    spec = _pod_template(doc)["spec"]
    ports = tuple(
        ContainerPort(p["containerPort"], Protocol(p.get("protocol", "TCP")), p.get("name"), init)
        for key, init in (("containers", False), ("initContainers", True))
        for c in spec.get(key, ())
        for p in c.get("ports", ())
    )
    return Pod(
        namespace=doc["metadata"]["namespace"], name=doc["metadata"]["name"],
        labels=Labels(_pod_template(doc)["metadata"]["labels"]), ports=ports,
        host_network=bool(spec.get("hostNetwork")), kind=doc["kind"],
    )


def _cluster() -> Cluster:
    namespaces = [Namespace.of(d["metadata"]["name"], d["metadata"].get("labels")) for d in _of_kind("Namespace")]
    pods = [_pod(d) for _, d in DOCS if d["kind"] in WORKLOAD_KINDS]
    policies = [NetworkPolicy.from_dict(d) for d in _of_kind("NetworkPolicy")]
    return Cluster.of(namespaces, pods, (), policies)


CLUSTER = _cluster()


def _side(local: Pod, remote: Remote, direction: Direction, dst: Pod | None, proto: Protocol, port: int) -> bool:
    """One direction's verdict (spec: isolated pods need a rule matching peer and port)."""
    policies = isolating_policies(CLUSTER, local, direction, SETTINGS)
    if not policies:
        return True
    return any(
        rule_peers_match(rule, remote, CLUSTER, SETTINGS)
        and rule_conns(rule, dst, SETTINGS).allows(proto, port)
        for pol in policies for rule in pol.rules(direction)
    )


def _egress_ok(src: str, dst: str, proto: Protocol, port: int) -> bool:
    s, d = CLUSTER.pod(src), CLUSTER.pod(dst)
    assert s is not None and d is not None
    return _side(s, Remote(pod=d), Direction.EGRESS, d, proto, port)


def _ingress_ok(src: str, dst: str, proto: Protocol, port: int) -> bool:
    s, d = CLUSTER.pod(src), CLUSTER.pod(dst)
    assert s is not None and d is not None
    return _side(d, Remote(pod=s), Direction.INGRESS, d, proto, port)


def _reaches(src: str, dst: str, port: int, proto: Protocol = Protocol.TCP) -> bool:
    return _egress_ok(src, dst, proto, port) and _ingress_ok(src, dst, proto, port)


# --- shape -------------------------------------------------------------------------


def test_every_document_has_kind_name_and_namespace_where_needed() -> None:
    assert DOCS
    for path, doc in DOCS:
        assert doc.get("apiVersion") and doc.get("kind"), path
        assert doc["metadata"].get("name"), path
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace"), (path, doc["metadata"]["name"])


def test_namespaces_and_their_labels() -> None:
    labels = {d["metadata"]["name"]: d["metadata"].get("labels", {}) for d in _of_kind("Namespace")}
    assert set(labels) == {*APP_NAMESPACES, "kube-system"}
    for name in APP_NAMESPACES:
        assert {"team", "tier"} <= set(labels[name]), name
    sensitive = {n for n, lab in labels.items() if lab.get("podfence.io/sensitive") == "true"}
    assert sensitive == {"billing", "data"}
    used = {d["metadata"]["namespace"] for _, d in DOCS if d["kind"] != "Namespace"}
    assert used <= set(labels)


def test_kube_dns_deployment_and_service() -> None:
    dns = [d for d in _of_kind("Deployment") if d["metadata"]["namespace"] == "kube-system"
           and d["spec"]["template"]["metadata"]["labels"].get("k8s-app") == "kube-dns"]
    assert len(dns) == 1
    ports = {(p["name"], p["containerPort"], p.get("protocol", "TCP"))
             for c in dns[0]["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
    assert {("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")} <= ports
    svc = [s for s in _of_kind("Service") if (s["metadata"]["namespace"], s["metadata"]["name"])
           == ("kube-system", "kube-dns")]
    assert len(svc) == 1
    assert svc[0]["spec"]["selector"] == {"k8s-app": "kube-dns"}
    assert {(p["port"], p["protocol"]) for p in svc[0]["spec"]["ports"]} >= {(53, "UDP"), (53, "TCP")}


def test_workload_mix() -> None:
    kinds = [d["kind"] for _, d in DOCS if d["kind"] in WORKLOAD_KINDS]
    assert 15 <= len(kinds) <= 20
    assert {"StatefulSet", "CronJob", "DaemonSet"} <= set(kinds)
    assert len(_of_kind("NetworkPolicy")) == 41  # the README says so
    (exporter,) = [d for d in _of_kind("DaemonSet") if d["metadata"]["name"] == "node-exporter"]
    assert exporter["metadata"]["namespace"] == "monitoring"
    assert exporter["spec"]["template"]["spec"]["hostNetwork"] is True


# --- what the API server would check -------------------------------------------------


def test_workload_selectors_match_their_templates() -> None:
    """apps/v1 rejects a workload whose selector does not select its own template."""
    for _, d in DOCS:
        if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet"):
            selector = selector_from_dict(d["spec"]["selector"])
            assert selector.matches(d["spec"]["template"]["metadata"]["labels"]), d["metadata"]["name"]


def test_container_port_names_are_valid_and_unique_per_pod() -> None:
    for _, d in DOCS:
        if d["kind"] not in WORKLOAD_KINDS:
            continue
        names = [p["name"] for c in _pod_template(d)["spec"]["containers"] for p in c.get("ports", ())]
        assert all(is_port_name(n) for n in names), names
        assert len(names) == len(set(names)), d["metadata"]["name"]


def test_service_target_port_names_exist_on_the_backends() -> None:
    for svc in _of_kind("Service"):
        backends = [p for p in CLUSTER.pods if p.namespace == svc["metadata"]["namespace"]
                    and LabelSelector.of(svc["spec"]["selector"]).matches(p.labels)]
        assert backends, svc["metadata"]["name"]
        for port in svc["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            if isinstance(target, str):
                proto = Protocol(port.get("protocol", "TCP"))
                assert all(b.named_port_numbers(target, proto, SETTINGS) for b in backends), (svc, target)


def test_no_validation_errors() -> None:
    for doc in _of_kind("NetworkPolicy"):
        errors = [d for d in validate_network_policy(doc, namespace=doc["metadata"]["namespace"], settings=SETTINGS)
                  if d.is_error]
        assert errors == [], (doc["metadata"]["name"], [e.one_line() for e in errors])


# --- the story the README tells ------------------------------------------------------


def test_every_application_namespace_has_default_deny_and_dns() -> None:
    for ns in APP_NAMESPACES:
        deny = CLUSTER.policy(f"{ns}/default-deny")
        assert deny is not None and deny.pod_selector.is_empty()
        assert deny.guards(Direction.INGRESS) and deny.guards(Direction.EGRESS)
        assert deny.ingress == () and deny.egress == ()
    for pod in CLUSTER.pods:
        if pod.namespace in APP_NAMESPACES and not pod.host_network:
            assert _reaches(pod.key, "kube-system/kube-dns", 53, Protocol.UDP), pod.key
            assert _reaches(pod.key, "kube-system/kube-dns", 53, Protocol.TCP), pod.key
            assert not _reaches(pod.key, "kube-system/kube-dns", 9153), pod.key


@pytest.mark.parametrize(("src", "dst", "port"), [
    ("gateway/edge-proxy", "api/api-server", 8080),
    ("gateway/edge-proxy", "gateway/web-console", 8080),
    ("api/api-server", "auth/auth-server", 9090),
    ("api/api-server", "billing/billing-api", 8080),
    ("api/api-server", "notify/mailer", 8080),
    ("api/api-worker", "data/redis", 6379),
    ("auth/auth-server", "auth/session-cache", 6379),
    ("billing/billing-api", "data/postgres", 5432),
    ("billing/billing-report", "data/postgres", 5432),
    ("monitoring/prometheus", "data/postgres", 9187),
    ("monitoring/prometheus", "billing/billing-api", 9100),
])
def test_intended_flows_are_allowed(src: str, dst: str, port: int) -> None:
    assert _reaches(src, dst, port)


def test_the_explained_denial_api_server_to_postgres() -> None:
    # Denied on both sides: api's egress leads nowhere near data, and postgres admits
    # only billing workloads.
    assert not _egress_ok("api/api-server", "data/postgres", Protocol.TCP, 5432)
    assert not _ingress_ok("api/api-server", "data/postgres", Protocol.TCP, 5432)
    postgres = CLUSTER.pod("data/postgres")
    assert postgres is not None
    names = {p.name for p in isolating_policies(CLUSTER, postgres, Direction.INGRESS, SETTINGS)}
    assert {"default-deny", "postgres-ingress"} <= names


def test_internet_reaches_only_the_edge_on_8443() -> None:
    edge = CLUSTER.pod("gateway/edge-proxy")
    assert edge is not None
    for address, port, expected in [("198.51.100.7", 8443, True), ("198.51.100.7", 8080, False),
                                    ("10.1.2.3", 8443, False), ("192.168.4.4", 8443, False)]:
        remote = Remote(address=parse_ip(address))
        assert _side(edge, remote, Direction.INGRESS, edge, Protocol.TCP, port) is expected, (address, port)


# --- the deliberate mistakes ---------------------------------------------------------


def test_mistake_label_typo_policy_selects_nothing() -> None:
    policy = CLUSTER.policy("monitoring/grafana-egress")
    assert policy is not None
    assert not [p for p in CLUSTER.pods if policy.pod_selector.matches(p.labels)]
    assert not _reaches("monitoring/grafana", "monitoring/prometheus", 9090)
    # The ingress side was written correctly: only the egress policy is broken.
    assert _ingress_ok("monitoring/grafana", "monitoring/prometheus", Protocol.TCP, 9090)


def test_mistake_service_port_instead_of_target_port() -> None:
    (svc,) = [s for s in _of_kind("Service") if s["metadata"]["name"] == "mailer"]
    (port,) = svc["spec"]["ports"]
    assert (port["port"], port["targetPort"]) == (80, "http")
    mailer = CLUSTER.pod("notify/mailer")
    assert mailer is not None
    assert mailer.named_port_numbers("http", Protocol.TCP, SETTINGS) == {8080}
    assert not any(p.port == 80 for p in mailer.ports)
    # The invoicer may send to port 80, which nothing listens on, but not to 8080.
    assert _egress_ok("billing/invoicer", "notify/mailer", Protocol.TCP, 80)
    assert not _egress_ok("billing/invoicer", "notify/mailer", Protocol.TCP, 8080)
    assert _ingress_ok("billing/invoicer", "notify/mailer", Protocol.TCP, 8080)


def test_mistake_two_peers_where_one_was_meant() -> None:
    policy = CLUSTER.policy("data/redis-ingress")
    assert policy is not None
    (rule,) = policy.ingress
    assert len(rule.peers) == 2
    # Meant for api-worker only; api-server (same namespace, different app) is admitted too.
    assert _ingress_ok("api/api-server", "data/redis", Protocol.TCP, 6379)
    assert not _egress_ok("api/api-server", "data/redis", Protocol.TCP, 6379)
    # The podSelector-only peer looks in data, where no api-worker runs.
    pod_only = next(p for p in rule.peers if p.namespace_selector is None)
    assert pod_only.pod_selector is not None
    assert not [p for p in CLUSTER.pods if p.namespace == "data" and pod_only.pod_selector.matches(p.labels)]


def test_mistake_redundant_rule() -> None:
    policy = ir_of(CLUSTER).policy("billing/billing-api-ingress")
    billing_api = CLUSTER.pod("billing/billing-api")
    assert policy is not None and billing_api is not None
    first, second = policy.ingress
    assert rule_conns(first, billing_api, SETTINGS) == rule_conns(second, billing_api, SETTINGS)
    for pod in CLUSTER.pods:
        remote = Remote(pod=pod)
        assert (rule_peers_match(first, remote, CLUSTER, SETTINGS)
                == rule_peers_match(second, remote, CLUSTER, SETTINGS)), pod.key
