"""Intents checked against the cluster: names, ports, conflicts, selectors, coverage."""

from __future__ import annotations

from pathlib import Path

import yaml

from podfence.config import DnsTarget
from podfence.generate import intent_from_dict, resolve
from podfence.generate.resolve import Addresses
from podfence.loader import load
from podfence.model import Cluster, ContainerPort, Labels, Pod, PolicyPort, Service, ServicePort, Settings, format_path
from podfence.sets import Protocol

SHOP = load([str(Path(__file__).parent / "fixtures" / "generate" / "cluster.yaml")]).cluster
SETTINGS = Settings()


def run(text: str, cluster: Cluster = SHOP):  # type: ignore[no-untyped-def]
    intent, problems = intent_from_dict(yaml.safe_load(text))
    assert problems == []
    return resolve(intent, cluster, SETTINGS, DnsTarget())


def problems_of(text: str, cluster: Cluster = SHOP) -> list[tuple[str, str, str]]:
    _, problems = run(text, cluster)
    return [(p.code, format_path(p.field), p.message) for p in problems]


def test_grants_carry_translated_ports_and_the_covered_namespaces() -> None:
    plan, problems = run("""
services:
  shop/frontend: {talks_to: ["svc/shop/checkout:80", "svc/pay/payapi:80", "shop/cart:api"]}
  shop/checkout: {egress: ["203.0.113.0/24:443"]}
""")
    assert problems == []
    assert plan.covered == ("pay", "shop")  # kube-system (the DNS namespace) is excluded by default
    got = [(g.src.key, g.dst.key if isinstance(g.dst, Pod) else g.dst.label, g.ports, g.note) for g in plan.grants]
    http = (PolicyPort(Protocol.TCP, "http"),)
    assert got == [
        ("shop/frontend", "shop/checkout", http, "Service shop/checkout port 80 -> http (8080)"),
        ("shop/frontend", "pay/api-v1", http, "Service pay/payapi port 80 -> http (8080)"),
        ("shop/frontend", "pay/api-v2", http, "Service pay/payapi port 80 -> http (8081)"),
        ("shop/frontend", "shop/cart", (PolicyPort(Protocol.TCP, "api"),), ""),
        ("shop/checkout", "203.0.113.0/24", (PolicyPort(Protocol.TCP, 443),), ""),
    ]
    assert plan.selectors["pay/api-v2"] == Labels(version="v2")


def test_without_a_port_a_destination_is_reached_on_its_services_ports() -> None:
    plan, problems = run("services: {shop/frontend: {talks_to: [shop/checkout]}}")
    assert problems == [] and plan.grants[0].ports == (PolicyPort(Protocol.TCP, "http"),)


def test_a_declared_container_port_wins_over_a_service_port_of_the_same_number() -> None:
    pods = [Pod("a", "client", Labels(app="client")),
            Pod("a", "srv", Labels(app="srv"), (ContainerPort(80), ContainerPort(8080, name="http")))]
    svc = Service("a", "srv", Labels(app="srv"), (ServicePort(80, "http"),))
    cluster = Cluster.of(pods=pods, services=[svc])
    plan, _ = run("services: {a/client: {talks_to: ['a/srv:80']}}", cluster)
    assert plan.grants[0].ports == (PolicyPort(Protocol.TCP, 80),)
    # undeclared: true takes the number literally, never as a Service port.
    plan, problems = run("services: {a/client: {talks_to: [{to: a/srv, ports: [9999], undeclared: true}]}}", cluster)
    assert problems == [] and plan.grants[0].ports == (PolicyPort(Protocol.TCP, 9999),)


def test_unknown_workloads_say_what_is_there() -> None:
    assert problems_of("services: {shop/frontned: {}}") == [
        ("I2", "services.shop/frontned",
         "no workload named shop/frontned in the manifests (did you mean shop/frontend?)")]
    assert problems_of("services: {shop/frontend: {talks_to: ['nowhere/x:80']}}") == [
        ("I2", "services.shop/frontend.talks_to[0]",
         "no workload named nowhere/x in the manifests (the manifests hold no workload in namespace nowhere)")]
    code, path, message = problems_of("services: {pay/payapi: {}}")[0]
    assert (code, path) == ("I2", "services.pay/payapi")
    assert message == ("pay/payapi is a Service, and a service must be a workload "
                       "(its workloads: pay/api-v1, pay/api-v2)")
    assert problems_of("services: {shop/frontend: {talks_to: ['svc/shop/nope:80']}}")[0][2] == \
        "no Service named shop/nope in the manifests"


def test_host_network_and_finished_pods_cannot_be_selected() -> None:
    cluster = Cluster.of(pods=[Pod("m", "exporter", Labels(app="e"), host_network=True),
                               Pod("m", "job", Labels(app="j"), phase="Succeeded")])
    assert problems_of("services: {m/exporter: {}}", cluster)[0][2].startswith("m/exporter runs on the host network")
    assert problems_of("services: {m/job: {}}", cluster)[0][2].startswith("m/job is in phase Succeeded")


def test_ports_no_pod_listens_on() -> None:
    code, path, message = problems_of("services: {shop/frontend: {talks_to: ['shop/cart:8080']}}")[0]
    assert (code, path) == ("I3", "services.shop/frontend.talks_to[0]")
    assert message.startswith("shop/cart does not listen on TCP 8080: it declares TCP 7000 (api), "
                              "and no Service selecting it offers that port")
    assert "undeclared: true" in message
    # The right number on the wrong protocol is not the port either.
    assert problems_of("services: {shop/frontend: {talks_to: ['ops/syslog:514']}}")[0][2].startswith(
        "ops/syslog does not listen on TCP 514: it declares UDP 514 (syslog)")
    assert problems_of("services: {shop/frontend: {talks_to: ['shop/cart:grpc']}}")[0][0] == "I3"
    assert problems_of("services: {shop/frontend: {talks_to: ['svc/shop/checkout:8080']}}")[0][2] == \
        "Service shop/checkout has no port 8080 (it offers TCP 80 (http))"
    assert problems_of("services: {shop/frontend: {talks_to: ['shop/*:5432']}}")[0][2] == \
        "no workload in namespace shop listens on 5432"
    assert problems_of("services: {shop/frontend: {talks_to: [shop/cart]}}")[0][2].startswith(
        "give the port, e.g. shop/cart:8080: no Service selects shop/cart")
    # ingress_from ports are the service's own.
    assert problems_of("services: {shop/cart: {ingress_from: ['shop/frontend:8080']}}")[0][0] == "I3"


def test_a_service_whose_named_target_port_a_backend_lacks() -> None:
    pods = [Pod("a", "client", Labels(app="client")), Pod("a", "srv", Labels(app="srv"), (ContainerPort(8080),))]
    svc = Service("a", "srv-svc", Labels(app="srv"), (ServicePort(80, "http"),))
    problems = problems_of("services: {a/client: {talks_to: ['svc/a/srv-svc:80']}}",
                           Cluster.of(pods=pods, services=[svc]))
    assert problems[0][:2] == ("I3", "services.a/client.talks_to[0]")
    assert problems[0][2] == "Service a/srv-svc port 80 targets port 'http', which a/srv does not declare"


def test_conflicting_intents() -> None:
    problems = problems_of("""
defaults: {deny: [egress]}
services:
  shop/frontend: {ingress_from: ["internet:8080"]}
""")
    assert problems == [("I4", "services.shop/frontend.ingress_from",
                         "ingress is not denied (defaults.deny), so everything may already reach shop/frontend: "
                         "add ingress to defaults.deny or drop ingress_from")]
    problems = problems_of("""
defaults: {deny: [ingress]}
services:
  shop/frontend: {egress: ["10.0.0.0/8:80"]}
""")
    assert problems[0][:2] == ("I4", "services.shop/frontend.egress")
    assert problems_of("services: {kube-system/coredns: {}}")[0] == (
        "I4", "services.kube-system/coredns",
        "namespace kube-system is excluded (defaults.exclude): the intent writes no policies there")


def test_a_workload_no_label_set_picks_out() -> None:
    pods = [Pod("a", "one", Labels(app="same")), Pod("a", "two", Labels(app="same")),
            Pod("a", "client", Labels(app="c"))]
    problems = problems_of("services: {a/client: {talks_to: [{to: a/one, ports: [80], undeclared: true}]}}",
                           Cluster.of(pods=pods))
    assert problems == [("I5", "services.a/client.talks_to[0]",
                         "no label set selects a/one alone: a/two carries every label of a/one (app=same); "
                         "give it a distinguishing label")]


NOT_PUBLIC_V4 = ("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
                 "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
                 "203.0.113.0/24", "224.0.0.0/3")
NOT_PUBLIC_V6 = ("2001::/23", "2001:db8::/32", "3fff::/20")


def test_internet_is_both_families_only_when_the_cluster_uses_ipv6() -> None:
    plan, _ = run("services: {shop/frontend: {ingress_from: ['internet:8080']}}")
    src = plan.grants[0].src
    assert isinstance(src, Addresses) and [b for b, _ in src.blocks] == ["0.0.0.0/0"]
    from podfence.sets import parse_ip

    dual = Cluster.of(pods=[Pod("a", "web", Labels(app="web"), (ContainerPort(80),), ips=(parse_ip("fd00::1"),))])
    plan, _ = run("services: {a/web: {ingress_from: [{from: internet, except: ['fd00::/8'], ports: [80]}]}}", dual)
    src = plan.grants[0].src
    # The public internet of each family: fd00::/8 (unique-local) is not part of it anyway.
    assert isinstance(src, Addresses) and src.blocks == (("0.0.0.0/0", NOT_PUBLIC_V4), ("2000::/3", NOT_PUBLIC_V6))
