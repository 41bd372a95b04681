"""podfence.loader.kinds: Pods, workload controllers, Services and Namespaces as model objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from podfence.loader import LoadResult, load
from podfence.loader.kinds import api_group, looks_built_in
from podfence.model import ContainerPort, Labels, Pod, ServicePort, Settings
from podfence.sets import Protocol, parse_ip

FIXTURES = Path(__file__).parent / "fixtures" / "loader"
TCP, UDP, SCTP = Protocol.TCP, Protocol.UDP, Protocol.SCTP


def _load(name: str, **kw: str) -> LoadResult:
    result = load([str(FIXTURES / name)], **kw)  # type: ignore[arg-type]
    assert result.ok, [d.one_line() for d in result.diagnostics]
    return result


def _pod(result: LoadResult, key: str) -> Pod:
    pod = result.cluster.pod(key)
    assert pod is not None, key
    return pod


WORKLOADS = _load("workloads.yaml")


@pytest.mark.parametrize(
    ("key", "kind", "line", "labels", "ports", "host_network"),
    [
        ("work/frontend", "Deployment", 2, {"app": "frontend"}, {
            ContainerPort(8080, TCP, "http"), ContainerPort(9090, TCP, "metrics"), ContainerPort(4789, UDP),
            ContainerPort(9999, TCP, "migrate-api", init=True)}, False),
        ("work/db", "StatefulSet", 24, {"app": "db", "role": "primary"}, {ContainerPort(5432, TCP, "pg")}, False),
        ("work/node-agent", "DaemonSet", 35, {"app": "node-agent"}, {ContainerPort(9100, TCP, "metrics")}, True),
        ("work/cache", "ReplicaSet", 46, {"app": "cache"}, {ContainerPort(6379, SCTP)}, False),
        ("work/legacy", "ReplicationController", 56, {"app": "legacy"}, set(), False),
        ("work/migrate", "Job", 65, {"app": "migrate"}, set(), False),
        ("work/report", "CronJob", 75, {"app": "report"}, {
            ContainerPort(9091, TCP, "push"), ContainerPort(8081, TCP, "fetch", init=True)}, False),
    ],
)
def test_every_workload_kind_becomes_one_pod_from_its_template(
    key: str, kind: str, line: int, labels: dict[str, str], ports: set[ContainerPort], host_network: bool,
) -> None:
    pod = _pod(WORKLOADS, key)
    assert pod.kind == kind
    assert pod.labels == Labels(labels)
    assert set(pod.ports) == ports and len(pod.ports) == len(ports)
    assert pod.host_network is host_network
    assert pod.ips == () and pod.phase is None
    assert pod.source is not None and (pod.source.file, pod.source.line) == (str(FIXTURES / "workloads.yaml"), line)


def test_workloads_are_the_only_pods_and_their_namespace_is_created() -> None:
    assert len(WORKLOADS.cluster.pods) == 7
    (ns,) = WORKLOADS.cluster.namespaces
    assert (ns.name, ns.declared, dict(ns.labels)) == ("work", False, {"kubernetes.io/metadata.name": "work"})


def test_named_ports_of_init_containers_resolve_only_when_the_setting_allows() -> None:
    pod = _pod(WORKLOADS, "work/report")
    assert pod.named_port_numbers("fetch", TCP, Settings()) == frozenset({8081})
    assert pod.named_port_numbers("fetch", TCP, Settings(named_port_include_init_containers=False)) == frozenset()


STATUS = _load("status-ips.yaml")


@pytest.mark.parametrize(
    ("key", "ips", "host_ips", "phase", "node"),
    [
        ("net/v4", ["10.0.0.4"], ["192.168.0.10"], "Running", "node-a"),
        ("net/v6", ["fd00::6"], ["fd00:ffff::10"], None, None),
        ("net/dual", ["10.0.0.5", "fd00::5"], ["192.168.0.11", "fd00:ffff::11"], "Running", "node-b"),
        ("net/done", ["10.0.0.9"], [], "Succeeded", None),
    ],
)
def test_pods_read_ips_phase_and_node_from_status(
    key: str, ips: list[str], host_ips: list[str], phase: str | None, node: str | None,
) -> None:
    pod = _pod(STATUS, key)
    assert pod.ips == tuple(parse_ip(ip) for ip in ips)
    assert pod.host_ips == tuple(parse_ip(ip) for ip in host_ips)
    assert (pod.phase, pod.node_name, pod.kind) == (phase, node, "Pod")


def test_dual_stack_pod_has_both_families_and_a_finished_pod_takes_no_part() -> None:
    assert _pod(STATUS, "net/dual").families() == frozenset({4, 6})
    assert not _pod(STATUS, "net/done").takes_part(Settings())


def test_host_network_pod_is_read_with_its_ports() -> None:
    pod = _pod(STATUS, "net/host")
    assert pod.host_network
    assert pod.ports == (ContainerPort(10250, TCP),)
    assert pod.source is not None and pod.source.line == 37


def test_service_fields() -> None:
    result = _load("multi.yaml")
    service = result.cluster.service("shop/web")
    assert service is not None
    assert service.selector == Labels(app="web")
    assert set(service.ports) == {ServicePort(80, "http", TCP, "http"), ServicePort(9000, 9000, UDP, "admin")}
    assert service.cluster_ips == (parse_ip("10.96.0.10"), parse_ip("fd00:96::10"))
    assert service.type == "ClusterIP"
    assert service.source is not None and service.source.line == 41


def test_headless_external_and_selectorless_services() -> None:
    result = _load("services.yaml")
    headless, external, manual = (result.cluster.service(f"svc/{n}") for n in ("headless", "external", "manual"))
    assert headless is not None and external is not None and manual is not None
    assert headless.cluster_ips == ()
    assert headless.ports == (ServicePort(5432, 15432, SCTP),)
    assert headless.selector == Labels(app="db")
    assert (external.type, external.selector, external.ports) == ("ExternalName", None, ())
    assert (manual.type, manual.selector, manual.cluster_ips) == ("NodePort", None, ())
    assert manual.ports == (ServicePort(80, 80, TCP, "web"),)


def test_declared_namespace_keeps_its_labels_and_gets_its_name_label() -> None:
    result = _load("multi.yaml")
    shop = result.cluster.namespace("shop")
    assert shop is not None and shop.declared
    assert dict(shop.labels) == {"team": "commerce", "kubernetes.io/metadata.name": "shop"}
    assert shop.source is not None and shop.source.line == 3


@pytest.mark.parametrize(
    ("api_version", "group", "built_in"),
    [("v1", "", True), ("apps/v1", "apps", True), ("networking.k8s.io/v1", "networking.k8s.io", True),
     ("projectcalico.org/v3", "projectcalico.org", False), ("app/v1", "app", True)],
)
def test_api_groups(api_version: str, group: str, built_in: bool) -> None:
    assert api_group(api_version) == group
    assert looks_built_in(group) is built_in
