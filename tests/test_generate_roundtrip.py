"""Round trips: intent -> policies -> the engine's connectivity == the intent, exactly.

Each case writes an intent file for the fixture shop (tests/fixtures/generate),
generates the policies, reads them back through the loader (as ``podfence check``
would), computes the connectivity with the engine, and compares every connection
touching a governed pod with a table worked out by hand from the intent. The
generated set must also lint clean at warning level.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from podfence.config import DnsTarget
from podfence.engine import Engine
from podfence.generate import build, intent_from_dict, prove, resolve
from podfence.lint import lint
from podfence.loader import load, load_texts
from podfence.model import Cluster, Direction, Settings, Severity
from podfence.render.generate import policies_yaml
from podfence.sets import ConnSet, IPSet, Protocol, parse_cidr, parse_ip

FIXTURES = Path(__file__).parent / "fixtures" / "generate"
SHOP = load([str(FIXTURES / "cluster.yaml")]).cluster
DUAL = load([str(FIXTURES / "dual-stack.yaml")]).cluster
SETTINGS = Settings()
BOTH = frozenset(Direction)


def tcp(*ports: int) -> ConnSet:
    out = ConnSet.none()
    for p in ports:
        out = out | ConnSet.ports(Protocol.TCP, p)
    return out


def udp(*ports: int) -> ConnSet:
    out = ConnSet.none()
    for p in ports:
        out = out | ConnSet.ports(Protocol.UDP, p)
    return out


DNS = udp(53) | tcp(53)


def generate(intent_text: str, cluster: Cluster,
             dns: DnsTarget = DnsTarget()) -> tuple[Cluster, list, str]:  # type: ignore[type-arg]
    """Generate, emit as YAML, read it back with the loader; the cluster with the policies applied."""
    intent, problems = intent_from_dict(yaml.safe_load(intent_text))
    assert problems == []
    plan, problems = resolve(intent, cluster, SETTINGS, dns)
    assert problems == []
    policies = build(plan, SETTINGS)
    text = policies_yaml(policies)
    assert policies_yaml(build(resolve(intent, cluster, SETTINGS, dns)[0], SETTINGS)) == text  # deterministic
    loaded = load_texts([("generated.yaml", text)])
    assert loaded.ok and loaded.diagnostics == (), [d.one_line() for d in loaded.diagnostics]
    assert len(loaded.cluster.policies) == len(policies)
    combined = Cluster.of(cluster.namespaces, cluster.pods, cluster.services, loaded.cluster.policies)
    assert prove(plan, combined, SETTINGS).exact
    # Lint at warning level: nothing about the generated policies, nor about the covered
    # namespaces in the directions the intent denies (a direction it leaves open is its choice).
    left_open = {Direction.INGRESS: "NP101", Direction.EGRESS: "NP102"}
    findings = [f for f in lint(combined, settings=SETTINGS)
                if f.severity in (Severity.ERROR, Severity.WARNING)
                and (f.object.startswith("NetworkPolicy ") or any(f.object == f"Namespace {ns}" for ns in plan.covered))
                and not any(f.rule == rule for d, rule in left_open.items() if d not in plan.deny)]
    assert findings == [], [f"{f.rule} {f.object}: {f.message}" for f in findings]
    return combined, policies, text


def governed_rows(cluster: Cluster, namespaces: set[str], deny: frozenset[Direction]) -> dict[tuple[str, str], ConnSet]:
    """Every allowed pod pair whose source egress or destination ingress the intent governs.

    A bare pod reaching itself is left out: self traffic is allowed whatever the policies say.
    """
    out = {}
    for a, b, conns in Engine(cluster, SETTINGS).connectivity().pod_connections():
        if a.key == b.key and a.kind == "Pod":
            continue
        if (Direction.EGRESS in deny and a.namespace in namespaces) or (
                Direction.INGRESS in deny and b.namespace in namespaces):
            out[(a.key, b.key)] = conns
    return out


def ranges(cluster: Cluster, pod: str, direction: Direction) -> dict[ConnSet, IPSet]:
    """What a pod may send to / receive from address ranges, as one address set per allowed set."""
    conn = Engine(cluster, SETTINGS).connectivity()
    index = [p.key for p in conn.external.cc.pods].index(pod)
    out: dict[ConnSet, IPSet] = {}
    for cidr, conns in conn.external.ranges(index, direction):
        parsed = parse_cidr(cidr)
        assert parsed is not None
        out[conns] = out.get(conns, IPSet()) | IPSet.of_cidr(parsed)
    return out


def cidrs(*texts: str) -> IPSet:
    out = IPSet()
    for t in texts:
        parsed = parse_cidr(t)
        assert parsed is not None
        out = out | IPSet.of_cidr(parsed)
    return out


# The public internet, written out here as the registries give it (not taken from the code under test).
NOT_PUBLIC_V4 = ("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
                 "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
                 "203.0.113.0/24", "224.0.0.0/3")
NOT_PUBLIC_V6 = ("2001::/23", "2001:db8::/32", "3fff::/20")
PUBLIC_V4 = cidrs("0.0.0.0/0") - cidrs(*NOT_PUBLIC_V4)
PUBLIC_V6 = cidrs("2000::/3") - cidrs(*NOT_PUBLIC_V6)


def policy(policies: list, key: str) -> dict:  # type: ignore[type-arg]
    return next(p.manifest for p in policies if p.key == key)


def test_cross_namespace_with_service_ports_and_named_target_ports() -> None:
    cluster, policies, text = generate("""
defaults: {deny: [ingress, egress], dns: allow}
services:
  shop/frontend:
    talks_to: ["svc/shop/checkout:80", "svc/pay/payapi:80"]
  shop/checkout:
    talks_to: ["pay/gateway:https"]
""", SHOP)
    governed = ["pay/api-v1", "pay/api-v2", "pay/gateway", "pay/ledger", "shop/cart", "shop/checkout", "shop/frontend"]
    expected = {
        # Service shop/checkout port 80 lands on the pods' http port, 8080.
        ("shop/frontend", "shop/checkout"): tcp(8080),
        # Service pay/payapi port 80 targets the port named http: 8080 on v1, 8081 on v2.
        ("shop/frontend", "pay/api-v1"): tcp(8080),
        ("shop/frontend", "pay/api-v2"): tcp(8081),
        ("shop/checkout", "pay/gateway"): tcp(8443),
        **{(pod, "kube-system/coredns"): DNS for pod in governed},
    }
    assert governed_rows(cluster, {"shop", "pay"}, BOTH) == expected
    for pod in governed:
        assert ranges(cluster, pod, Direction.EGRESS) == {} and ranges(cluster, pod, Direction.INGRESS) == {}
    # The named target port stays a name, so each backend resolves its own number.
    egress = policy(policies, "shop/frontend-egress")["spec"]["egress"]
    assert {"protocol": "TCP", "port": "http"} in egress[1]["ports"]
    assert egress[1]["to"][0]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "pay"}}
    # Every workload is selected by its one distinguishing label.
    assert policy(policies, "pay/api-v1-ingress")["spec"]["podSelector"] == {"matchLabels": {"version": "v1"}}
    assert policy(policies, "shop/checkout-ingress")["spec"]["podSelector"] == {"matchLabels": {"app": "checkout"}}
    assert "# shop/frontend talks_to svc/pay/payapi:80 (services.shop/frontend.talks_to[1])" in text
    assert "#   Service pay/payapi port 80 -> http (8080)" in text
    assert all(p.manifest["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "podfence"} for p in policies)


def test_egress_to_cidrs_with_except_udp_and_internet_ingress() -> None:
    cluster, policies, _ = generate("""
defaults: {deny: [ingress, egress], dns: deny}
services:
  pay/gateway:
    ingress_from: ["internet:8443"]
    talks_to: ["ops/syslog:514/UDP"]
    egress: ["0.0.0.0/0:443", {cidr: 10.0.0.0/8, except: [10.1.0.0/16], ports: [514/UDP]}]
""", SHOP)
    assert governed_rows(cluster, {"pay", "ops"}, BOTH) == {("pay/gateway", "ops/syslog"): udp(514)}
    inside = cidrs("10.0.0.0/8") - cidrs("10.1.0.0/16")
    assert ranges(cluster, "pay/gateway", Direction.EGRESS) == {
        tcp(443): cidrs("0.0.0.0/0") - inside,
        tcp(443) | udp(514): inside,
    }
    assert ranges(cluster, "pay/gateway", Direction.INGRESS) == {tcp(8443): PUBLIC_V4}
    for pod in ("pay/api-v1", "pay/ledger", "ops/syslog"):
        assert ranges(cluster, pod, Direction.EGRESS) == {} and ranges(cluster, pod, Direction.INGRESS) == {}
    assert [p.name for p in policies if p.namespace == "pay"] == ["default-deny", "gateway-ingress", "gateway-egress"]
    egress = policy(policies, "pay/gateway-egress")["spec"]["egress"]
    assert egress[2] == {"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                         "ports": [{"protocol": "UDP", "port": 514}]}


def test_ingress_only_with_a_namespace_wildcard_and_named_ports() -> None:
    cluster, policies, _ = generate("""
defaults: {deny: [ingress], dns: allow}
services:
  pay/ledger:
    ingress_from: ["pay/gateway:5432", "shop/*:pg"]
""", SHOP)
    expected = {(src, "pay/ledger"): tcp(5432)
                for src in ("pay/gateway", "shop/cart", "shop/checkout", "shop/frontend")}
    assert governed_rows(cluster, {"pay", "shop"}, frozenset({Direction.INGRESS})) == expected
    # Egress is not denied: no DNS policy is needed, and none is written.
    assert {p.name for p in policies} == {"default-deny", "ledger-ingress"}
    rules = policy(policies, "pay/ledger-ingress")["spec"]["ingress"]
    assert rules[1]["ports"] == [{"protocol": "TCP", "port": "pg"}] and len(rules[1]["from"]) == 3


def test_node_local_dns_is_an_ip_block() -> None:
    dns = DnsTarget(node_local_address=parse_ip("169.254.20.10"))
    cluster, policies, _ = generate("""
defaults: {deny: [egress], dns: allow}
services:
  ops/syslog: {}
""", SHOP, dns)
    egress = frozenset({Direction.EGRESS})
    assert governed_rows(cluster, {"ops"}, egress) == {("ops/syslog", "kube-system/coredns"): DNS}
    assert ranges(cluster, "ops/syslog", Direction.EGRESS) == {DNS: cidrs("169.254.20.10/32")}
    peers = policy(policies, "ops/allow-dns")["spec"]["egress"][0]["to"]
    assert peers[1] == {"ipBlock": {"cidr": "169.254.20.10/32"}}


def test_internet_covers_ipv6_in_a_dual_stack_cluster_and_leaves_private_pod_addresses_out() -> None:
    cluster, policies, _ = generate("""
defaults: {deny: [ingress], dns: allow}
services:
  web/site:
    ingress_from: ["internet:443"]
""", DUAL)
    # The internet is the public internet: web/other's address 10.0.0.6 is private, so it is not let in.
    assert governed_rows(cluster, {"web"}, frozenset({Direction.INGRESS})) == {}
    assert ranges(cluster, "web/site", Direction.INGRESS) == {tcp(443): PUBLIC_V4 | PUBLIC_V6}
    assert ranges(cluster, "web/other", Direction.INGRESS) == {}
    site = policy(policies, "web/site-ingress")
    assert site["spec"]["ingress"][0]["from"] == [
        {"ipBlock": {"cidr": "0.0.0.0/0", "except": list(NOT_PUBLIC_V4)}},
        {"ipBlock": {"cidr": "2000::/3", "except": list(NOT_PUBLIC_V6)}},
    ]
    # Internet ingress is a review flag for lint; the policy records that the intent asked for it.
    assert site["metadata"]["annotations"] == {
        "podfence.io/ignore": "NP402: the intent asks for it (services.web/site.ingress_from[0])"}


@pytest.mark.parametrize("intent", [
    "services: {shop/frontend: {talks_to: ['shop/checkout:http', 'shop/cart:7000']}}",
    "services: {shop/cart: {ingress_from: ['shop/frontend:api', 'ops/syslog:7000']}}",
    "defaults: {deny: [egress]}\nservices: {pay/gateway: {egress: ['203.0.113.0/24:443,10000-10099']}}",
])
def test_more_intents_round_trip(intent: str) -> None:
    generate(intent, SHOP)


def test_covering_the_dns_namespace_lets_every_pod_look_names_up() -> None:
    cluster, policies, _ = generate("""
defaults: {deny: [ingress, egress], dns: allow, exclude: []}
services:
  kube-system/coredns: {}
""", SHOP)
    # Every pod (coredns's own replicas too) may reach the DNS pods on UDP and TCP 53, and nothing else
    # reaches them; coredns itself may send only DNS.
    assert governed_rows(cluster, {"kube-system"}, BOTH) == {(p.key, "kube-system/coredns"): DNS for p in SHOP.pods}
    assert [p.name for p in policies] == ["default-deny", "allow-dns", "allow-dns-ingress"]
    assert policy(policies, "kube-system/allow-dns-ingress")["spec"]["ingress"] == [
        {"from": [{"namespaceSelector": {}}],
         "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]
