"""Conformance-style scenarios for cluster-wide tiers, written from podfence's spec.

They follow the shape of the upstream conformance suite (§7.9): one base of four
houses with two pods each (``tests/fixtures/tiers/houses.yaml``), a test applies
policies and then mutations (patches to the policies, namespace relabels, a
NetworkPolicy deleted) whose effects persist through its later steps, and each
step probes TCP, UDP and SCTP between pods. Every probe is answered by the
whole-cluster connectivity and checked against ``explain`` and the oracle.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from oracle import oracle_allows
from podfence.engine import Engine
from podfence.loader import load, load_texts
from podfence.model import Cluster, Namespace, Settings
from podfence.sets import Protocol

BASE = Path(__file__).parent / "fixtures" / "tiers" / "houses.yaml"
TCP, UDP, SCTP = Protocol.TCP, Protocol.UDP, Protocol.SCTP
HARRY, HERMIONE = "gryffindor/harry-potter-0", "gryffindor/hermione-granger-0"
DRACO, SNAPE = "slytherin/draco-malfoy-0", "slytherin/severus-snape-0"
CEDRIC, LUNA = "hufflepuff/cedric-diggory-0", "ravenclaw/luna-lovegood-0"
AGENT_1, AGENT_2 = "network-policy-conformance-forbidden-forest/host-agent-0", \
    "network-policy-conformance-forbidden-forest/host-agent-1"


def house(name: str) -> dict[str, Any]:
    return {"matchLabels": {"conformance-house": name}}


def cnp(name: str, tier: str, priority: int, subject: dict[str, Any], ingress: list[Any] | None = None,
        egress: list[Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"tier": tier, "priority": priority, "subject": subject}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
            "metadata": {"name": name}, "spec": spec}


def port(protocol: str, number: int) -> dict[str, Any]:
    return {protocol: {"destinationPort": {"number": number}}}


class World:
    """The base plus policies; mutations change the documents and reload."""

    def __init__(self, *policies: dict[str, Any]) -> None:
        self.base = load([str(BASE)])
        assert self.base.ok
        self.policies = [copy.deepcopy(p) for p in policies]
        self.relabels: dict[str, dict[str, str]] = {}
        self.reload()

    def reload(self) -> None:
        text = yaml.safe_dump_all(self.policies, sort_keys=False) if self.policies else ""
        extra = load_texts([("policies.yaml", text)]) if text else None
        assert extra is None or extra.ok, [d.one_line() for d in extra.diagnostics]
        base = self.base.cluster
        namespaces = [Namespace.of(n.name, self.relabels.get(n.name, dict(n.labels))) for n in base.namespaces]
        self.cluster = Cluster.of(namespaces, base.pods, base.services,
                                  (*base.policies, *(extra.cluster.policies if extra else ())),
                                  cluster_policies=extra.cluster.cluster_policies if extra else (),
                                  nodes=base.nodes)
        self.engine = Engine(self.cluster)
        self.connectivity = self.engine.connectivity()

    def policy(self, name: str) -> dict[str, Any]:
        return next(p for p in self.policies if p["metadata"]["name"] == name)

    def can(self, src: str, dst: str, protocol: Protocol, number: int) -> bool:
        answer = self.connectivity.between(src, dst).allows(protocol, number)
        s, d = self.cluster.pod(src), self.cluster.pod(dst)
        assert s is not None and d is not None
        assert oracle_allows(self.cluster, Settings(), s, d, protocol, number) == answer, (src, dst, protocol, number)
        verdict = self.engine.explain(self.engine.endpoint(src), self.engine.endpoint(dst), protocol, number)
        assert verdict.allowed == answer, (src, dst, protocol, number)
        return answer


def test_admin_tier_ingress_tcp_rules_in_order() -> None:
    """Accept, Deny and Pass in one Admin policy; the tests patch the actions in turn."""
    world = World(cnp("ingress-tcp", "Admin", 10, {"namespaces": house("gryffindor")}, ingress=[
        {"name": "allow-from-slytherin-at-port-80", "action": "Accept",
         "from": [{"namespaces": house("slytherin")}], "protocols": [port("tcp", 80)]},
        {"name": "deny-from-slytherin-at-port-80", "action": "Deny",
         "from": [{"namespaces": house("slytherin")}], "protocols": [port("tcp", 80)]},
        {"name": "pass-from-hufflepuff-at-port-80", "action": "Pass",
         "from": [{"namespaces": house("hufflepuff")}], "protocols": [port("tcp", 80)]},
        {"name": "deny-from-ravenclaw-everything", "action": "Deny", "from": [{"namespaces": house("ravenclaw")}]},
    ]))
    assert world.can(DRACO, HARRY, TCP, 80) and world.can(CEDRIC, HARRY, TCP, 80)
    assert not world.can(LUNA, HARRY, TCP, 80) and not world.can(LUNA, HERMIONE, UDP, 53)
    assert world.can(DRACO, HARRY, TCP, 8080)
    # Swap the first two rules: Deny now comes first.
    rules = world.policy("ingress-tcp")["spec"]["ingress"]
    rules[0], rules[1] = rules[1], rules[0]
    world.reload()
    assert not world.can(DRACO, HARRY, TCP, 80) and world.can(DRACO, HARRY, TCP, 8080)
    # Pass for slytherin: no NetworkPolicy, no Baseline: allowed.
    rules[0]["action"] = "Pass"
    world.reload()
    assert world.can(DRACO, HARRY, TCP, 80)


def test_admin_tier_egress_udp_and_sctp() -> None:
    world = World(cnp("egress-udp-sctp", "Admin", 3, {"namespaces": house("gryffindor")}, egress=[
        {"action": "Deny", "to": [{"namespaces": house("slytherin")}], "protocols": [port("udp", 53)]},
        {"action": "Accept", "to": [{"namespaces": house("hufflepuff")}], "protocols": [port("sctp", 9003)]},
        {"action": "Deny", "to": [{"namespaces": {}}], "protocols": [port("sctp", 9003)]},
    ]))
    assert not world.can(HARRY, DRACO, UDP, 53) and world.can(HARRY, DRACO, TCP, 53)
    assert world.can(HARRY, CEDRIC, SCTP, 9003) and not world.can(HARRY, LUNA, SCTP, 9003)
    assert world.can(DRACO, HARRY, UDP, 53)  # slytherin is not a subject
    world.relabels["hufflepuff"] = {"conformance-house": "hufflepuff-renamed"}
    world.reload()
    assert not world.can(HARRY, CEDRIC, SCTP, 9003)


def test_admin_tier_priority_field() -> None:
    world = World(
        cnp("deny-slytherin", "Admin", 50, {"namespaces": house("gryffindor")},
            ingress=[{"action": "Deny", "from": [{"namespaces": house("slytherin")}]}]),
        cnp("pass-slytherin", "Admin", 60, {"namespaces": house("gryffindor")},
            ingress=[{"action": "Pass", "from": [{"namespaces": house("slytherin")}]}]),
        cnp("baseline-accept", "Baseline", 5, {"namespaces": house("gryffindor")},
            ingress=[{"action": "Accept", "from": [{"namespaces": house("slytherin")}]}]),
    )
    assert not world.can(DRACO, HARRY, TCP, 80)
    world.policy("pass-slytherin")["spec"]["priority"] = 40
    world.reload()
    assert world.can(DRACO, HARRY, TCP, 80) and world.can(SNAPE, HERMIONE, UDP, 53)


def test_admin_tier_integration_with_networkpolicy_and_baseline() -> None:
    np_doc = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "allow-slytherin", "namespace": "gryffindor"},
              "spec": {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": house("slytherin")}]}]}}
    world = World(
        cnp("pass-all", "Admin", 1, {"namespaces": house("gryffindor")},
            ingress=[{"action": "Pass", "from": [{"namespaces": {}}]}]),
        np_doc,
        cnp("baseline-deny", "Baseline", 1, {"namespaces": house("gryffindor")},
            ingress=[{"action": "Deny", "from": [{"namespaces": house("slytherin")}]}]),
    )
    assert world.can(DRACO, HARRY, TCP, 80)
    assert not world.can(CEDRIC, HARRY, TCP, 80)  # the NetworkPolicy isolates and admits only slytherin
    world.policies.remove(np_doc)
    world.reload()
    assert not world.can(DRACO, HARRY, TCP, 80)
    assert world.can(CEDRIC, HARRY, TCP, 80)


def test_named_ports_in_both_tiers_and_directions() -> None:
    world = World(
        cnp("admin-web", "Admin", 1, {"namespaces": house("gryffindor")}, ingress=[
            {"action": "Accept", "from": [{"namespaces": house("slytherin")}],
             "protocols": [{"destinationNamedPort": "web"}]},
            {"action": "Deny", "from": [{"namespaces": house("slytherin")}]}]),
        cnp("baseline-dns", "Baseline", 1, {"namespaces": house("hufflepuff")}, egress=[
            {"action": "Accept", "to": [{"namespaces": {}}], "protocols": [{"destinationNamedPort": "dns"}]},
            {"action": "Deny", "to": [{"namespaces": {}}]}]),
    )
    assert world.can(DRACO, HARRY, TCP, 80) and not world.can(DRACO, HARRY, TCP, 8080)
    assert not world.can(DRACO, HARRY, UDP, 80)
    assert world.can(CEDRIC, LUNA, UDP, 53) and not world.can(CEDRIC, LUNA, TCP, 53)


def test_inline_cidr_peers() -> None:
    world = World(cnp("egress-cidr", "Admin", 1, {"namespaces": house("gryffindor")}, egress=[
        {"action": "Accept", "to": [{"namespaces": house("slytherin")}]},
        {"action": "Deny", "to": [{"networks": ["0.0.0.0/0", "::/0"]}]}]))
    assert world.can(HARRY, DRACO, TCP, 80) and not world.can(HARRY, CEDRIC, TCP, 80)
    world.relabels["slytherin"] = {"conformance-house": "slytherin-renamed"}
    world.reload()
    assert not world.can(HARRY, DRACO, TCP, 80)
    world.policy("egress-cidr")["spec"]["egress"].insert(0, {"action": "Accept", "to": [{"networks": ["10.244.3.1/32"]}]})
    world.reload()
    assert world.can(HARRY, DRACO, TCP, 80) and not world.can(HARRY, SNAPE, TCP, 80)


def test_egress_node_peers() -> None:
    world = World(
        cnp("admin-nodes", "Admin", 1, {"namespaces": house("gryffindor")}, egress=[
            {"action": "Accept", "to": [{"nodes": {"matchLabels": {"kubernetes.io/hostname": "worker-2"}}}],
             "protocols": [port("tcp", 34345)]},
            {"action": "Deny", "to": [{"nodes": {}}]}]),
        cnp("baseline-nodes", "Baseline", 1, {"namespaces": house("slytherin")}, egress=[
            {"action": "Deny", "to": [{"nodes": {"matchLabels": {"kubernetes.io/os": "linux"}}}],
             "protocols": [{"tcp": {"destinationPort": {"range": {"start": 34000, "end": 35000}}}}]}]),
    )
    assert world.can(HARRY, AGENT_2, TCP, 34345) and not world.can(HARRY, AGENT_1, TCP, 34345)
    assert not world.can(HERMIONE, AGENT_2, TCP, 80)
    assert not world.can(DRACO, AGENT_1, TCP, 34345) and world.can(DRACO, AGENT_1, TCP, 80)
    assert world.can(CEDRIC, AGENT_1, TCP, 34345)
