"""Building blocks: default-deny, one allowed connection, one egress to addresses."""

from __future__ import annotations

from pathlib import Path

import yaml

from podfence.config import DnsTarget
from podfence.generate import prove
from podfence.generate.blocks import (
    allow_block, default_deny_block, default_deny_plan, egress_block, policy_name, stand_in_cluster,
)
from podfence.model.ports import PortSpec
from podfence.generate.proof import prove_change
from podfence.loader import load
from podfence.model import Cluster, Direction, NetworkPolicy, Settings, format_path
from podfence.sets import ConnSet, Protocol

SHOP = load([str(Path(__file__).parent / "fixtures" / "generate" / "cluster.yaml")]).cluster
SETTINGS = Settings()
DNS = DnsTarget()


def deny(namespace: str, *types: str) -> NetworkPolicy:
    return NetworkPolicy.from_dict(yaml.safe_load(
        f"metadata: {{name: default-deny, namespace: {namespace}}}\n"
        f"spec: {{podSelector: {{}}, policyTypes: {list(types)}}}"))


def with_extra(*policies: NetworkPolicy) -> Cluster:
    return Cluster.of(SHOP.namespaces, SHOP.pods, SHOP.services, policies)


def test_default_deny_both_directions_with_dns() -> None:
    policies = default_deny_block("shop", frozenset(Direction), DNS, SETTINGS)
    assert [p.name for p in policies] == ["default-deny", "allow-dns"]
    assert policies[0].manifest["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert policies[1].manifest["spec"]["egress"][0]["ports"] == [{"protocol": "UDP", "port": 53},
                                                                  {"protocol": "TCP", "port": 53}]
    plan = default_deny_plan("shop", frozenset(Direction), DNS)
    assert prove(plan, SHOP.with_policies(p.policy for p in policies), SETTINGS).exact
    stand_in = stand_in_cluster("shop", DNS)
    assert [p.key for p in stand_in.pods] == ["kube-system/cluster-dns", "podfence-outside/any-pod", "shop/any-pod"]
    proof = prove(plan, stand_in.with_policies(p.policy for p in policies), SETTINGS)
    assert proof.exact and proof.intended == 1  # shop/any-pod -> the DNS pod


def test_default_deny_one_direction_and_what_the_proof_catches() -> None:
    policies = default_deny_block("shop", frozenset({Direction.INGRESS}), None, SETTINGS)
    assert [p.manifest["spec"]["policyTypes"] for p in policies] == [["Ingress"]]
    plan = default_deny_plan("shop", frozenset({Direction.INGRESS}), None)
    assert prove(plan, SHOP.with_policies(p.policy for p in policies), SETTINGS).exact
    # Without the policy, everything into shop is extra: from each of the 9 pods and from
    # every address, into each of the 3 shop pods.
    proof = prove(plan, SHOP, SETTINGS)
    assert len(proof.extra) == 9 * 3 + 3 and proof.missing == ()
    assert {d.src for d in proof.extra if d.dst == "shop/cart"} == {p.key for p in SHOP.pods} | {"0.0.0.0/0"}


def test_allow_isolates_the_destination_and_reports_what_it_takes_away() -> None:
    block, problems = allow_block(SHOP, SETTINGS, "shop/frontend", "svc/pay/payapi", (PortSpec(Protocol.TCP, 80),))
    assert problems == [] and block is not None
    # One ingress policy per backend; no egress policy, since nothing isolates frontend's egress.
    assert [p.key for p in block.policies] == ["pay/api-v1-from-shop-frontend", "pay/api-v2-from-shop-frontend"]
    rule = block.policies[1].manifest["spec"]["ingress"][0]
    assert rule["ports"] == [{"protocol": "TCP", "port": "http"}]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}},
                             "podSelector": {"matchLabels": {"app": "frontend"}}}]
    after = SHOP.with_policies(p.policy for p in block.policies)
    proof = prove_change(SHOP, after, SETTINGS, block.grants, block.subjects)
    # Taking connections away from others was not asked for: the proof fails and lists them.
    assert not proof.exact and proof.subjects == ("pay/api-v1", "pay/api-v2") and proof.isolated == ()
    removed = {(d.src, d.dst): d.conns for d in proof.removed}
    assert removed[("shop/cart", "pay/api-v1")] == ConnSet.all()
    assert removed[("shop/frontend", "pay/api-v2")] == ConnSet.all() - ConnSet.ports(Protocol.TCP, 8081)
    assert ("0.0.0.0/0", "pay/api-v1") in removed
    # Asked to isolate, the same losses are reported apart and the proof holds.
    asked = prove_change(SHOP, after, SETTINGS, block.grants, block.subjects, isolate=frozenset(Direction))
    assert asked.exact and asked.removed == () and asked.isolated == proof.removed


def test_allow_adds_the_source_egress_policy_when_its_egress_is_isolated() -> None:
    cluster = with_extra(deny("shop", "Egress"), deny("pay", "Ingress"))
    block, problems = allow_block(cluster, SETTINGS, "shop/checkout", "pay/gateway", (PortSpec(Protocol.TCP, "https"),))
    assert problems == [] and block is not None
    assert [p.key for p in block.policies] == ["pay/gateway-from-shop-checkout", "shop/checkout-to-pay-gateway"]
    after = cluster.with_policies(p.policy for p in block.policies)
    proof = prove_change(cluster, after, SETTINGS, block.grants, block.subjects)
    assert proof.exact and proof.removed == ()


def test_the_change_proof_finds_missing_and_extra() -> None:
    cluster = with_extra(deny("shop", "Egress"), deny("pay", "Ingress"))
    block, _ = allow_block(cluster, SETTINGS, "shop/checkout", "pay/gateway", (PortSpec(Protocol.TCP, 8443),))
    assert block is not None
    only_ingress = [p for p in block.policies if p.namespace == "pay"]
    after = cluster.with_policies(p.policy for p in only_ingress)
    proof = prove_change(cluster, after, SETTINGS, block.grants, block.subjects)
    assert [(d.src, d.dst, d.conns) for d in proof.missing] == [
        ("shop/checkout", "pay/gateway", ConnSet.ports(Protocol.TCP, 8443))]
    wide = NetworkPolicy.from_dict(yaml.safe_load(
        "metadata: {name: wide, namespace: pay}\nspec: {podSelector: {matchLabels: {app: gateway}}, ingress: [{}]}"))
    widened = Cluster.of(cluster.namespaces, cluster.pods, cluster.services, [*cluster.policies, wide])
    after = widened.with_policies(p.policy for p in block.policies)
    proof = prove_change(cluster, after, SETTINGS, block.grants, block.subjects)
    assert ("pay/api-v1", "pay/gateway") in {(d.src, d.dst) for d in proof.extra}


def test_egress_to_addresses() -> None:
    cluster = with_extra(deny("pay", "Egress"))
    block, problems = egress_block(cluster, SETTINGS, "pay/gateway", "203.0.113.0/24", ("203.0.113.128/25",),
                                   (PortSpec(Protocol.TCP, 443),))
    assert problems == [] and block is not None
    [generated] = block.policies
    assert generated.key == "pay/gateway-to-203.0.113.0-24"
    assert generated.manifest["spec"]["egress"] == [{
        "to": [{"ipBlock": {"cidr": "203.0.113.0/24", "except": ["203.0.113.128/25"]}}],
        "ports": [{"protocol": "TCP", "port": 443}]}]
    after = cluster.with_policies(p.policy for p in block.policies)
    proof = prove_change(cluster, after, SETTINGS, block.grants, block.subjects)
    assert proof.exact and proof.removed == ()


def test_block_problems() -> None:
    _, problems = allow_block(SHOP, SETTINGS, "shop/nobody", "pay/gateway", (PortSpec(Protocol.TCP, 8443),))
    assert [(p.code, format_path(p.field)) for p in problems] == [("I2", "--from")]
    _, problems = allow_block(SHOP, SETTINGS, "shop/frontend", "pay/gateway", (PortSpec(Protocol.TCP, 1),))
    assert [(p.code, format_path(p.field)) for p in problems] == [("I3", "--to")]
    _, problems = egress_block(SHOP, SETTINGS, "pay/gateway", "10.0.0.0/8", ("11.0.0.0/8",),
                               (PortSpec(Protocol.TCP, 1),))
    assert problems and "--except" in problems[0].message
    _, problems = egress_block(SHOP, SETTINGS, "pay/gateway", "10.0.0.0/8", (), (PortSpec(Protocol.TCP, "http"),))
    assert problems and "named port" in problems[0].message
    _, problems = egress_block(SHOP, SETTINGS, "pay/gateway", "10.0.0.0/8", (), ())
    assert problems and "--port" in problems[0].message


def test_policy_names() -> None:
    assert policy_name("web", "to", "2001:db8::/32") == "web-to-2001-db8-32"
    assert policy_name("Api_Server", "", "from", "x") == "api-server-from-x"
    assert len(policy_name("a" * 300, "egress")) == 253
