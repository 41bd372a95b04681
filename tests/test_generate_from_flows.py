"""The intent observed traffic implies, and the policies generated from it."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from podfence.config import DnsTarget
from podfence.flows import EndKind, FlowEnd, FlowRecord, Outcome, Skip, observe, parse_record
from podfence.generate import build, intent_from_dict, intent_to_dict, prove, resolve
from podfence.generate.from_flows import covering_cidr, fold, intent_from_flows, prefix_cidr
from podfence.loader import load
from podfence.model import Labels, Settings, Source
from podfence.sets import parse_ip

HERE = Path(__file__).parent / "fixtures"
SHOP = load([str(HERE / "generate" / "cluster.yaml")]).cluster
SETTINGS = Settings()


def read(name: str) -> list[tuple[Source, FlowRecord | Skip]]:
    out: list[tuple[Source, FlowRecord | Skip]] = []
    for n, line in enumerate((HERE / "flows" / name).read_text().splitlines(), 1):
        try:
            out.append((Source(name, n), parse_record(json.loads(line))))
        except json.JSONDecodeError:
            out.append((Source(name, n), Skip("not JSON", problem=True)))
    return out


def test_the_intent_of_the_hubble_sample() -> None:
    implied = intent_from_flows(observe(read("hubble.jsonl"), SHOP, SETTINGS), SETTINGS, DnsTarget())
    assert intent_to_dict(implied.intent) == {
        "defaults": {"deny": ["ingress", "egress"], "dns": "allow"},
        "services": {
            "pay/gateway": {
                "ingress_from": ["192.0.2.10/32:8443"],
                "talks_to": ["ops/syslog:514/UDP"],
                # Two addresses stay /32; six fold into the smallest CIDR that holds them.
                "egress": ["198.51.100.0/25:587", "203.0.113.5/32:443", "203.0.113.9/32:443"],
            },
            "shop/cart": {"talks_to": ["pay/ledger:5432"]},
            "shop/checkout": {"talks_to": ["pay/gateway:8443",
                                           {"to": "shop/cart", "ports": [7070], "undeclared": True}]},
            "shop/frontend": {"talks_to": ["shop/checkout:8080"]},
        },
    }
    assert [(f.workload, f.direction, f.port, f.addresses, f.cidrs) for f in implied.foldings] == [
        ("pay/gateway", "egress", 443, 2, ("203.0.113.5/32", "203.0.113.9/32")),
        ("pay/gateway", "egress", 587, 6, ("198.51.100.0/25",)),
        ("pay/gateway", "ingress", 8443, 1, ("192.0.2.10/32",)),
    ]
    assert implied.notes == ("1 DNS lookup to the cluster DNS: allowed by defaults.dns: allow",)
    assert implied.comments[("services", "shop/frontend", "talks_to", 0)] == ("seen 13 times",)
    assert implied.comments[("services", "shop/cart", "talks_to", 0)] == ("seen 1 time, 1 of them denied",)
    assert implied.comments[("services", "pay/gateway", "egress", 0)] == ("seen 6 times",)


def test_policies_from_flows_are_proven_and_the_written_intent_reads_back() -> None:
    implied = intent_from_flows(observe(read("hubble.jsonl"), SHOP, SETTINGS), SETTINGS, DnsTarget())
    again, problems = intent_from_dict(yaml.safe_load(yaml.safe_dump(intent_to_dict(implied.intent))))
    assert problems == [] and again == implied.intent
    plan, problems = resolve(implied.intent, SHOP, SETTINGS, DnsTarget())
    assert problems == [] and plan.covered == ("ops", "pay", "shop")
    policies = build(plan, SETTINGS)
    assert prove(plan, SHOP.with_policies(p.policy for p in policies), SETTINGS).exact
    cart_ingress = next(p for p in policies if p.key == "shop/cart-ingress").manifest
    assert cart_ingress["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 7070}]


def test_a_fixed_prefix() -> None:
    implied = intent_from_flows(observe(read("hubble.jsonl"), SHOP, SETTINGS), SETTINGS, DnsTarget(), prefix4=24)
    egress = intent_to_dict(implied.intent)["services"]["pay/gateway"]["egress"]
    assert egress == ["198.51.100.0/24:587", "203.0.113.0/24:443"]
    assert implied.foldings[0].rule == "--cidr-prefix 24"


def test_calico_and_the_lab_denial_stream() -> None:
    implied = intent_from_flows(observe(read("calico.jsonl"), SHOP, SETTINGS), SETTINGS, DnsTarget())
    services = intent_to_dict(implied.intent)["services"]
    assert services["shop/frontend"] == {"talks_to": ["pay/api-v1:8080"]}
    assert services["shop/checkout"] == {"talks_to": ["pay/ledger:5432"]}
    assert services["ops/syslog"] == {"talks_to": ["shop/cart:7000"]}
    assert services["shop/cart"] == {"ingress_from": ["10.10.0.5/32:7000"]}
    assert services["pay/gateway"] == {"egress": ["203.0.113.7/32:443"]}
    denials = intent_from_flows(observe(read("lab-denials.jsonl"), SHOP, SETTINGS), SETTINGS, DnsTarget())
    assert intent_to_dict(denials.intent)["services"] == {
        "pay/gateway": {"talks_to": ["ops/syslog:514/UDP"]}, "shop/frontend": {"talks_to": ["shop/checkout:8080"]}}


def test_traffic_from_an_excluded_namespace_becomes_ingress_of_the_destination() -> None:
    def end(ns: str, name: str) -> FlowEnd:
        return FlowEnd(EndKind.POD, ns, name, Labels())
    records: list[tuple[Source, FlowRecord | Skip]] = [
        (Source("x", 1), FlowRecord(end("kube-system", "coredns-1-abcde"), end("shop", "cart-1-abcde"), "TCP", 7000,
                                      Outcome.ALLOWED, False, "hubble")),
        (Source("x", 2), FlowRecord(end("kube-system", "coredns-1-abcde"), end("kube-system", "coredns-1-fghij"),
                                      "TCP", 9153, Outcome.ALLOWED, False, "hubble")),
    ]
    implied = intent_from_flows(observe(records, SHOP, SETTINGS), SETTINGS, DnsTarget())
    assert intent_to_dict(implied.intent)["services"] == {"shop/cart": {"ingress_from": ["kube-system/coredns:7000"]}}
    assert implied.notes == ("1 connection between excluded namespaces (kube-system) or addresses: "
                             "the intent writes no policies for them",)


def test_folding() -> None:
    ips = [parse_ip(f"10.0.{n}.1") for n in range(8)]
    assert covering_cidr(ips) == "10.0.0.0/21"  # type: ignore[arg-type]
    assert covering_cidr([parse_ip("0.0.0.1"), parse_ip("255.0.0.1")]) == "0.0.0.0/0"  # type: ignore[list-item]
    assert prefix_cidr(parse_ip("2001:db8::1"), 48) == "2001:db8::/48"  # type: ignore[arg-type]
    four = ["10.0.0.1/32", "10.0.1.1/32", "10.0.2.1/32", "10.0.3.1/32"]
    assert fold(ips[:4], None, None)[0] == four  # type: ignore[arg-type]
    assert fold(ips[:5], None, None)[0] == ["10.0.0.0/21"]  # type: ignore[arg-type]
    mixed = [parse_ip("10.0.0.1"), parse_ip("fd00::1")]
    assert fold(mixed, None, 64)[0] == ["10.0.0.1/32", "fd00::/64"]  # type: ignore[arg-type]
