"""The proof finds every extra and every missing connection, between pods and to addresses."""

from __future__ import annotations

from pathlib import Path

import yaml

from podfence.config import DnsTarget
from podfence.generate import build, intent_from_dict, prove, resolve
from podfence.generate.proof import region_differences
from podfence.loader import load
from podfence.model import Cluster, NetworkPolicy, Settings
from podfence.sets import ConnSet, IPSet, Protocol, parse_cidr

SHOP = load([str(Path(__file__).parent / "fixtures" / "generate" / "cluster.yaml")]).cluster
SETTINGS = Settings()
TCP = Protocol.TCP


def plan_and_policies(text: str):  # type: ignore[no-untyped-def]
    intent, problems = intent_from_dict(yaml.safe_load(text))
    assert problems == []
    plan, problems = resolve(intent, SHOP, SETTINGS, DnsTarget())
    assert problems == []
    return plan, build(plan, SETTINGS)


def policy(doc: str) -> NetworkPolicy:
    return NetworkPolicy.from_dict(yaml.safe_load(doc))


def cidrs(*texts: str) -> IPSet:
    out = IPSet()
    for t in texts:
        out = out | IPSet.of_cidr(parse_cidr(t))  # type: ignore[arg-type]
    return out


def test_an_extra_policy_shows_as_extra_connections_with_the_rule_that_allows_them() -> None:
    plan, policies = plan_and_policies("""
defaults: {deny: [ingress], dns: allow}
services:
  shop/checkout: {ingress_from: ["shop/frontend:8080"]}
""")
    cluster = SHOP.with_policies(p.policy for p in policies)
    assert prove(plan, cluster, SETTINGS).exact
    opened = policy("""
metadata: {name: cart-open, namespace: shop}
spec:
  podSelector: {matchLabels: {app: cart}}
  ingress: [{from: [{namespaceSelector: {}}]}]
""")
    proof = prove(plan, Cluster.of(cluster.namespaces, cluster.pods, cluster.services, [*cluster.policies, opened]),
                  SETTINGS)
    assert proof.missing == ()
    # Every pod of every namespace may now reach shop/cart, on everything (replicas of cart included).
    assert sorted(d.src for d in proof.extra) == sorted(p.key for p in SHOP.pods)
    assert all(d.dst == "shop/cart" and d.conns == ConnSet.all() for d in proof.extra)
    assert all("shop/cart-open spec.ingress[0]" in d.because for d in proof.extra)


def test_a_missing_policy_shows_as_missing_connections_with_the_intent_behind_them() -> None:
    plan, policies = plan_and_policies("""
services:
  shop/frontend: {talks_to: ["svc/shop/checkout:80"]}
""")
    without = [p for p in policies if p.key != "shop/checkout-ingress"]
    proof = prove(plan, SHOP.with_policies(p.policy for p in without), SETTINGS)
    assert proof.extra == ()
    assert [(d.src, d.dst, d.conns, d.because) for d in proof.missing] == [
        ("shop/frontend", "shop/checkout", ConnSet.ports(TCP, 8080), ("shop/frontend talks_to svc/shop/checkout:80",))]


def test_address_ranges_too_wide_and_too_narrow() -> None:
    plan, policies = plan_and_policies("""
defaults: {deny: [egress], dns: deny}
services:
  pay/gateway: {egress: ["203.0.113.0/24:443", "0.0.0.0/0:587"]}
""")
    generated = {p.key: p for p in policies}
    egress = generated["pay/gateway-egress"].manifest
    egress["spec"]["egress"][0]["to"][0]["ipBlock"]["cidr"] = "203.0.112.0/23"
    egress["spec"]["egress"][1]["to"][0]["ipBlock"]["except"] = ["10.0.0.0/8"]
    proof = prove(plan, SHOP.with_policies(p.policy for p in generated.values()), SETTINGS)
    assert [(d.src, d.dst, d.conns) for d in proof.extra] == [
        ("pay/gateway", "203.0.112.0/24", ConnSet.ports(TCP, 443))]
    assert [(d.src, d.dst, d.conns, d.because) for d in proof.missing] == [
        ("pay/gateway", "10.0.0.0/8", ConnSet.ports(TCP, 587), ("pay/gateway egress 0.0.0.0/0:587",))]


def test_pairs_nobody_governs_are_not_compared() -> None:
    plan, policies = plan_and_policies("services: {shop/cart: {}}")
    proof = prove(plan, SHOP.with_policies(p.policy for p in policies), SETTINGS)
    # ops and pay are open to each other, and that is not the intent's business.
    assert proof.exact and proof.namespaces == ("shop",)
    assert proof.workloads == 3 and proof.intended == 3  # three shop pods, DNS each


def test_region_differences() -> None:
    a, b = ConnSet.ports(TCP, 80), ConnSet.ports(TCP, 443)
    extra, missing = region_differences(
        actual=[(cidrs("10.0.0.0/8"), a | b)], expected=[(cidrs("10.0.0.0/9"), a), (cidrs("10.0.0.0/8"), b)],
        families=(4,))
    assert extra == [("10.128.0.0/9", a)] and missing == []
    extra, missing = region_differences(actual=[], expected=[(cidrs("192.0.2.0/24"), b)], families=(4, 6))
    assert extra == [] and missing == [("192.0.2.0/24", b)]


def test_generated_policies_replace_loaded_ones_of_the_same_name() -> None:
    _, policies = plan_and_policies("services: {shop/cart: {}}")
    old = policy("metadata: {name: default-deny, namespace: shop}\nspec: {podSelector: {}, ingress: [{}]}")
    cluster = Cluster.of(SHOP.namespaces, SHOP.pods, SHOP.services, [old]).with_policies(p.policy for p in policies)
    deny = cluster.policy("shop/default-deny")
    assert deny is not None and deny.ingress == () and len(cluster.policies) == len(policies)
