"""The NetworkPolicy edge cases, one test per case, numbered as in podfence's spec (items 1-47).

Every case is its own small set of manifests, loaded through the loader and
judged by the engine. The expected verdicts and diagnostics are worked out by
hand from Kubernetes' rules; where the case names a reason (which policy
isolates, which rule admits) the Verdict's fields are checked too.

Conventions: pods live in 10.244.0.0/16, nodes in 192.168.1.0/24, outside
clients are 203.0.113.5 and friends. Connections are TCP unless said otherwise.
"""

from __future__ import annotations

from textwrap import dedent
from typing import Any

import pytest
import yaml

from podfence.engine import Endpoint, Engine, Reason, RuleRef, Verdict
from podfence.loader import LoadResult, load_texts
from podfence.model import Diagnostic, Direction, PolicyType, Settings
from podfence.sets import Protocol

TCP, UDP, SCTP = Protocol.TCP, Protocol.UDP, Protocol.SCTP
INGRESS, EGRESS = Direction.INGRESS, Direction.EGRESS


def pod(key: str, labels: dict[str, str] | None = None, ip: str | None = None, *,
        ports: list[dict[str, Any]] | None = None, containers: list[list[dict[str, Any]]] | None = None,
        node: str | None = None, host_ip: str | None = None, host_network: bool = False,
        phase: str = "Running") -> str:
    """A Pod manifest as YAML text. ``ip`` may list several addresses, comma-separated."""
    ns, name = key.split("/")
    groups = containers if containers is not None else [ports or []]
    spec: dict[str, Any] = {
        "containers": [{"name": f"c{i}", "image": "app", "ports": group} for i, group in enumerate(groups)],
    }
    if node:
        spec["nodeName"] = node
    if host_network:
        spec["hostNetwork"] = True
    status: dict[str, Any] = {"phase": phase}
    if ip:
        addresses = ip.split(",")
        status["podIP"] = addresses[0]
        status["podIPs"] = [{"ip": a} for a in addresses]
    if host_ip:
        status["hostIP"] = host_ip
    doc = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
           "spec": spec, "status": status}
    return yaml.safe_dump(doc, sort_keys=False)


def namespace(name: str, labels: dict[str, str] | None = None) -> str:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Namespace",
                           "metadata": {"name": name, "labels": labels or {}}}, sort_keys=False)


def load(*docs: str, settings: Settings = Settings()) -> LoadResult:
    text = "\n---\n".join(dedent(d).strip("\n") for d in docs)
    return load_texts([("case.yaml", text)], settings=settings)


class Case:
    """A loaded, error-free set of manifests and an engine over it."""

    def __init__(self, *docs: str, settings: Settings = Settings()) -> None:
        self.result = load(*docs, settings=settings)
        errors = [d.one_line() for d in self.result.diagnostics if d.is_error]
        assert not errors, errors
        self.engine = Engine(self.result.cluster, settings)

    def ep(self, name: str) -> Endpoint:
        return self.engine.endpoint(name)

    def explain(self, src: str, dst: str, port: int = 80, protocol: Protocol = TCP) -> Verdict:
        return self.engine.explain(self.ep(src), self.ep(dst), protocol, port)

    def allowed(self, src: str, dst: str, port: int = 80, protocol: Protocol = TCP) -> bool:
        return self.explain(src, dst, port, protocol).allowed


def diagnostics(*docs: str, code: str, settings: Settings = Settings()) -> list[Diagnostic]:
    """The diagnostics with ``code`` that loading ``docs`` produces."""
    return [d for d in load(*docs, settings=settings).diagnostics if d.code == code]


def assert_rejected(policy: str, code: str, field: str, phrase: str, settings: Settings = Settings()) -> None:
    found = diagnostics(policy, code=code, settings=settings)
    assert found, f"expected {code} at {field}"
    hit = [d for d in found if d.field_path == field and d.is_error]
    assert hit, [(d.field_path, d.message, d.severity) for d in found]
    assert phrase in hit[0].message, hit[0].message


def assert_valid(policy: str) -> None:
    result = load(policy)
    assert result.ok, [d.one_line() for d in result.diagnostics]
    assert len(result.cluster.policies) == 1


def ingress_policy(spec_ingress: str, selector: str = "{}") -> str:
    """A policy ``a/p`` whose ingress rules are ``spec_ingress`` (flow-style YAML)."""
    return f"""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: p, namespace: a}}
spec:
  podSelector: {selector}
  ingress: {spec_ingress}
"""


X = pod("a/x", {"app": "x"}, "10.244.0.1")
Y = pod("b/y", {"app": "y"}, "10.244.1.1")
Z = pod("c/z", {"app": "z"}, "10.244.2.1")
DENY_ALL_INGRESS_A = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: a}
spec: {podSelector: {}, policyTypes: [Ingress]}
"""


def test_01_egress_rules_without_policy_types_isolate_both_directions() -> None:
    case = Case(X, Y, """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: a}
spec:
  podSelector: {}
  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}}]}]
""")
    assert case.result.cluster.policy("a/p").policy_types == (PolicyType.INGRESS, PolicyType.EGRESS)
    denied = case.explain("b/y", "a/x")
    assert not denied.allowed and denied.denied_at == (INGRESS,)
    assert denied.ingress.policies == ("a/p",) and denied.ingress.reason is Reason.NO_RULE
    out = case.explain("a/x", "10.1.1.1")
    assert out.allowed and out.egress.allowed_by == (RuleRef("a/p", EGRESS, 0),)
    blocked = case.explain("a/x", "8.8.8.8")
    assert not blocked.allowed and blocked.denied_at == (EGRESS,)


def test_02_empty_egress_list_means_ingress_only() -> None:
    case = Case(X, Y, """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: a}
spec: {podSelector: {}, egress: []}
""")
    assert case.result.cluster.policy("a/p").policy_types == (PolicyType.INGRESS,)
    assert case.allowed("a/x", "b/y")
    assert case.allowed("a/x", "203.0.113.5", 443)
    assert case.explain("a/x", "203.0.113.5").egress.reason is Reason.NOT_ISOLATED
    assert not case.allowed("b/y", "a/x")
    assert not case.allowed("203.0.113.5", "a/x")


def test_03_ingress_rules_under_egress_only_policy_types_are_ignored() -> None:
    case = Case(X, Y, """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: a}
spec:
  podSelector: {}
  policyTypes: [Egress]
  ingress: [{from: [{podSelector: {matchLabels: {app: nobody}}}]}]
""")
    inbound = case.explain("b/y", "a/x")
    assert inbound.allowed and inbound.ingress.reason is Reason.NOT_ISOLATED
    for dst in ("b/y", "203.0.113.5"):
        out = case.explain("a/x", dst)
        assert not out.allowed and out.egress.policies == ("a/p",) and out.egress.reason is Reason.NO_RULE


def test_04_egress_rules_under_ingress_only_policy_types_are_ignored() -> None:
    case = Case(X, Y, """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: a}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  egress: [{to: [{ipBlock: {cidr: 192.0.2.0/24}}]}]
""")
    for dst in ("b/y", "203.0.113.5"):
        out = case.explain("a/x", dst)
        assert out.allowed and out.egress.reason is Reason.NOT_ISOLATED
    assert not case.allowed("b/y", "a/x")


def test_05_deny_all_ingress_leaves_outgoing_connections_alone() -> None:
    case = Case(X, Y, DENY_ALL_INGRESS_A)
    denied = case.explain("b/y", "a/x")
    assert not denied.allowed and denied.ingress.policies == ("a/deny-all",)
    out = case.explain("a/x", "b/y")  # replies ride on the allowed connection
    assert out.allowed and out.egress.reason is Reason.NOT_ISOLATED


@pytest.mark.parametrize("shape", ["one-peer", "two-peers"])
def test_06_namespace_and_pod_selector_in_one_peer_is_and(shape: str) -> None:
    peers = (
        "[{namespaceSelector: {matchLabels: {team: x}}, podSelector: {matchLabels: {role: c}}}]"
        if shape == "one-peer" else
        "[{namespaceSelector: {matchLabels: {team: x}}}, {podSelector: {matchLabels: {role: c}}}]"
    )
    case = Case(
        namespace("nsx", {"team": "x"}), namespace("a"),
        pod("a/target", {"role": "target"}, "10.244.0.1"),
        pod("nsx/db", {"role": "db"}, "10.244.3.1"),
        pod("nsx/c", {"role": "c"}, "10.244.3.2"),
        pod("a/c", {"role": "c"}, "10.244.0.2"),
        ingress_policy(f"[{{from: {peers}}}]", "{matchLabels: {role: target}}"),
    )
    two = shape == "two-peers"
    assert case.allowed("nsx/db", "a/target") is two
    assert case.allowed("a/c", "a/target") is two
    assert case.allowed("nsx/c", "a/target")  # matches both halves either way


def test_07_pod_selector_alone_means_the_policy_namespace() -> None:
    case = Case(X, pod("a/fe", {"app": "fe"}, "10.244.0.2"), pod("b/fe", {"app": "fe"}, "10.244.1.2"),
                ingress_policy("[{from: [{podSelector: {matchLabels: {app: fe}}}]}]"))
    assert not case.allowed("b/fe", "a/x")
    assert case.allowed("a/fe", "a/x")


def test_08_empty_namespace_selector_means_every_pod_and_nothing_else() -> None:
    case = Case(pod("a/x", {"app": "x"}, "10.244.0.1", node="n1", host_ip="192.168.1.1"), Y, Z,
                ingress_policy("[{from: [{namespaceSelector: {}}]}]"))
    assert case.allowed("b/y", "a/x") and case.allowed("c/z", "a/x")
    assert not case.allowed("203.0.113.5", "a/x")
    own_node = case.explain("192.168.1.1", "a/x", 10250)
    assert own_node.allowed and own_node.ingress.reason is Reason.OWN_NODE


def test_09_empty_ingress_rule_allows_everything() -> None:
    case = Case(X, ingress_policy("[{}]"))
    verdict = case.explain("203.0.113.5", "a/x", 9999, UDP)
    assert verdict.allowed and verdict.ingress.allowed_by == (RuleRef("a/p", INGRESS, 0),)


@pytest.mark.parametrize(("item", "ports", "allowed", "denied"), [
    (10, "[{}]", [(TCP, 5432)], [(UDP, 53)]),
    (11, "[{protocol: UDP}]", [(UDP, 1), (UDP, 53), (UDP, 65535)], [(TCP, 80)]),
    (12, "[{port: 80}]", [(TCP, 80)], [(TCP, 81), (UDP, 80)]),
    (13, "[{protocol: SCTP, port: 81}]", [(SCTP, 81)], [(TCP, 81)]),
    (14, "[{protocol: UDP, port: 32000, endPort: 32768}]", [(UDP, 32000), (UDP, 32768)],
     [(UDP, 32769), (TCP, 32100)]),
    (15, "[{port: 80, endPort: 80}]", [(TCP, 80)], [(TCP, 79), (TCP, 81)]),
])
def test_10_to_15_port_entries(item: int, ports: str, allowed: list[tuple[Protocol, int]],
                               denied: list[tuple[Protocol, int]]) -> None:
    case = Case(X, Y, ingress_policy(f"[{{ports: {ports}}}]"))
    assert case.result.ok and not case.result.diagnostics, f"item {item}: the policy is valid"
    for protocol, port in allowed:
        assert case.allowed("b/y", "a/x", port, protocol), (item, protocol, port)
    for protocol, port in denied:
        verdict = case.explain("b/y", "a/x", port, protocol)
        assert not verdict.allowed, (item, protocol, port)
        assert verdict.ingress.reason is Reason.NO_RULE and verdict.ingress.policies == ("a/p",)


def test_16_named_port_with_end_port_is_rejected() -> None:
    assert_rejected(ingress_policy("[{ports: [{port: http, endPort: 90}]}]"),
                    "V16", "spec.ingress[0].ports[0].endPort", "non-numeric")


def test_17_end_port_needs_a_port_not_below_it() -> None:
    assert_rejected(ingress_policy("[{ports: [{endPort: 90}]}]"),
                    "V15", "spec.ingress[0].ports[0].endPort", "`port` is not specified")
    assert_rejected(ingress_policy("[{ports: [{port: 90, endPort: 80}]}]"),
                    "V17", "spec.ingress[0].ports[0].endPort", "greater than or equal")


def test_18_quoted_number_is_a_bad_port_name() -> None:
    assert_rejected(ingress_policy("""[{ports: [{port: "80"}]}]"""),
                    "V14", "spec.ingress[0].ports[0].port", "at least one letter")


NAMED_HTTP = ingress_policy("[{ports: [{port: http}]}]", "{matchLabels: {app: web}}")


def test_19_named_port_resolves_per_pod() -> None:
    case = Case(
        pod("a/w1", {"app": "web"}, "10.244.0.11", ports=[{"name": "http", "containerPort": 8080}]),
        pod("a/w2", {"app": "web"}, "10.244.0.12", ports=[{"name": "http", "containerPort": 9090}]),
        Y, NAMED_HTTP,
    )
    assert case.allowed("b/y", "a/w1", 8080)
    assert case.allowed("b/y", "a/w2", 9090)
    assert not case.allowed("b/y", "a/w1", 9090)
    assert not case.allowed("b/y", "a/w2", 8080)


def test_20_pod_without_the_named_port_accepts_nothing() -> None:
    case = Case(pod("a/w3", {"app": "web"}, "10.244.0.13", ports=[{"name": "metrics", "containerPort": 9100}]),
                Y, NAMED_HTTP)
    for protocol, port in ((TCP, 80), (TCP, 8080), (TCP, 9090), (TCP, 9100), (UDP, 53)):
        verdict = case.explain("b/y", "a/w3", port, protocol)
        assert not verdict.allowed and verdict.ingress.policies == ("a/p",), (protocol, port)


def test_21_named_port_on_another_protocol_matches_nothing() -> None:
    case = Case(pod("a/dns", {"app": "dns"}, "10.244.0.53", ports=[{"name": "dns", "containerPort": 53}]), Y,
                ingress_policy("[{ports: [{port: dns, protocol: UDP}]}]"))
    assert not case.allowed("b/y", "a/dns", 53, TCP)
    assert not case.allowed("b/y", "a/dns", 53, UDP)


def test_22_egress_named_port_resolves_on_the_destination() -> None:
    case = Case(
        pod("a/client", {"app": "client"}, "10.244.0.1"),
        pod("b/srv", {"app": "srv"}, "10.244.1.1", ports=[{"name": "http", "containerPort": 8080}]),
        pod("b/other", {"app": "other"}, "10.244.1.2", ports=[{"name": "web", "containerPort": 8080}]),
        """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: a}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress: [{ports: [{port: http}]}]
""")
    allowed = case.explain("a/client", "b/srv", 8080)
    assert allowed.allowed and allowed.egress.allowed_by == (RuleRef("a/p", EGRESS, 0),)
    assert not case.allowed("a/client", "b/srv", 80)
    assert not case.allowed("a/client", "b/other", 8080)
    assert not case.allowed("a/client", "203.0.113.5", 8080)


def test_23_a_name_in_two_containers_means_both_ports() -> None:
    case = Case(pod("a/web", {"app": "web"}, "10.244.0.1", containers=[
        [{"name": "http", "containerPort": 8080}], [{"name": "http", "containerPort": 8081}],
    ]), Y, NAMED_HTTP)
    assert case.allowed("b/y", "a/web", 8080)
    assert case.allowed("b/y", "a/web", 8081)
    assert not case.allowed("b/y", "a/web", 8082)


@pytest.mark.parametrize(("item", "cidr", "except_"), [
    (24, "10.0.0.0/24", "10.0.0.0/24"),
    (25, "10.0.0.0/16", "10.0.0.0/8"),
    (25, "10.0.0.0/16", "192.168.0.0/24"),
    (25, "10.0.0.0/16", "fd00::/64"),
])
def test_24_25_except_must_be_a_strict_subset(item: int, cidr: str, except_: str) -> None:
    policy = ingress_policy(f"[{{from: [{{ipBlock: {{cidr: {cidr}, except: [{except_}]}}}}]}}]")
    assert_rejected(policy, "V25", "spec.ingress[0].from[0].ipBlock.except[0]", "strict subset")


def egress_policy(peers: str, name: str = "p") -> str:
    return f"""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {name}, namespace: a}}
spec:
  podSelector: {{}}
  policyTypes: [Egress]
  egress: [{{to: {peers}}}]
"""


def test_26_except_cuts_a_hole() -> None:
    case = Case(X, egress_policy("[{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]"))
    assert not case.allowed("a/x", "10.1.2.3")
    assert case.allowed("a/x", "10.2.0.1")
    assert not case.allowed("a/x", "11.0.0.1")


def test_27_another_peer_can_fill_the_hole() -> None:
    case = Case(X, egress_policy("[{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}, "
                                 "{ipBlock: {cidr: 10.1.2.3/32}}]"))
    assert case.allowed("a/x", "10.1.2.3")
    assert not case.allowed("a/x", "10.1.2.4")


def test_28_ipv4_block_does_not_cover_ipv6() -> None:
    case = Case(pod("a/x", {"app": "x"}, "10.244.0.1,fd00:244::1"), egress_policy("[{ipBlock: {cidr: 0.0.0.0/0}}]"))
    assert case.allowed("a/x", "198.51.100.1")
    assert not case.allowed("a/x", "2001:db8::1")


def test_29_host_bits_warn_by_default_and_fail_when_strict() -> None:
    policy = egress_policy("[{ipBlock: {cidr: 10.0.0.5/8}}]")
    warned = diagnostics(policy, code="V23")
    assert [(d.field_path, d.is_error) for d in warned] == [("spec.egress[0].to[0].ipBlock.cidr", False)]
    case = Case(X, policy)
    assert case.allowed("a/x", "10.200.0.1")  # the whole of 10.0.0.0/8, not 10.0.0.5 alone
    assert not case.allowed("a/x", "11.0.0.1")
    assert_rejected(policy, "V23", "spec.egress[0].to[0].ipBlock.cidr", "beyond the prefix length",
                    settings=Settings(strict_cidr_validation=True))


def test_30_ip_block_matches_a_pod_ip() -> None:
    case = Case(pod("a/client", {"app": "client"}, "10.244.0.1"), pod("b/srv", {"app": "srv"}, "10.244.1.1"),
                pod("b/other", {"app": "other"}, "10.244.1.2"), egress_policy("[{ipBlock: {cidr: 10.244.1.1/32}}]"))
    assert case.allowed("a/client", "b/srv")
    assert not case.allowed("a/client", "b/other")


def test_31_ip_block_with_a_selector_is_forbidden() -> None:
    assert_rejected(ingress_policy("[{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]"),
                    "V20", "spec.ingress[0].from[0]", "may not specify both")


def test_32_empty_peer_is_rejected_empty_selector_is_not() -> None:
    assert_rejected(ingress_policy("[{from: [{}]}]"), "V19", "spec.ingress[0].from[0]", "must specify a peer")
    assert_valid(ingress_policy("[{from: [{podSelector: {}}]}]"))


def test_33_policy_types() -> None:
    def with_types(types: str) -> str:
        return f"""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: p, namespace: a}}
spec: {{podSelector: {{}}, policyTypes: {types}}}
"""
    assert_valid(with_types("[Ingress, Ingress]"))
    assert_rejected(with_types("[Ingress, Egress, Ingress]"), "V26", "spec.policyTypes", "more than two")
    assert_rejected(with_types("[ingress]"), "V27", "spec.policyTypes[0]", "Unsupported")


def test_34_protocol_is_case_sensitive() -> None:
    assert_rejected(ingress_policy("[{ports: [{protocol: tcp, port: 80}]}]"),
                    "V12", "spec.ingress[0].ports[0].protocol", "Unsupported")


def test_35_source_egress_beats_destination_ingress() -> None:
    case = Case(X, Y, Z, """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-to-y, namespace: a}
spec:
  podSelector: {matchLabels: {app: x}}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: b}}, podSelector: {matchLabels: {app: y}}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-x, namespace: c}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: a}}, podSelector: {matchLabels: {app: x}}}]}]
""")
    verdict = case.explain("a/x", "c/z")
    assert not verdict.allowed and verdict.denied_at == (EGRESS,)
    assert verdict.egress.policies == ("a/only-to-y",)
    assert verdict.ingress.allowed_by == (RuleRef("c/from-x", INGRESS, 0),)
    assert case.allowed("a/x", "b/y")


def test_36_unions_keep_peers_and_ports_together() -> None:
    policy = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {name}, namespace: c}}
spec:
  podSelector: {{}}
  ingress: [{{from: [{{namespaceSelector: {{}}, podSelector: {{matchLabels: {{app: {app}}}}}}}], ports: [{{port: {port}}}]}}]
"""
    case = Case(Z, pod("a/pa", {"app": "a"}, "10.244.0.1"), pod("b/pb", {"app": "b"}, "10.244.1.1"),
                policy.format(name="p1", app="a", port=80), policy.format(name="p2", app="b", port=81))
    assert not case.allowed("b/pb", "c/z", 80)
    assert not case.allowed("a/pa", "c/z", 81)
    assert case.explain("a/pa", "c/z", 80).ingress.allowed_by == (RuleRef("c/p1", INGRESS, 0),)
    assert case.explain("b/pb", "c/z", 81).ingress.allowed_by == (RuleRef("c/p2", INGRESS, 0),)
    assert case.explain("b/pb", "c/z", 80).ingress.policies == ("c/p1", "c/p2")


def test_37_peers_and_ports_of_one_rule_must_both_match() -> None:
    case = Case(Z, pod("c/pa", {"app": "a"}, "10.244.2.2"), pod("c/pc", {"app": "c"}, "10.244.2.3"), """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: c}
spec:
  podSelector: {matchLabels: {app: z}}
  ingress: [{from: [{podSelector: {matchLabels: {app: a}}}], ports: [{port: 80}]}]
""")
    assert case.allowed("c/pa", "c/z", 80)
    assert not case.allowed("c/pa", "c/z", 81)
    assert not case.allowed("c/pc", "c/z", 80)


def test_38_a_pod_may_reach_itself() -> None:
    case = Case(X, """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: a}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
""")
    for dst in ("a/x", "10.244.0.1"):
        verdict = case.explain("a/x", dst)
        assert verdict.allowed and verdict.ingress.reason is Reason.SELF, dst
    strict = Engine(case.result.cluster, Settings(allow_self_traffic=False))
    x = strict.endpoint("a/x")
    assert not strict.explain(x, x, TCP, 80).allowed


def test_39_probes_from_the_own_node_are_allowed() -> None:
    case = Case(pod("a/x", {"app": "x"}, "10.244.0.1", node="n1", host_ip="192.168.1.1"),
                pod("b/y", {"app": "y"}, "10.244.1.1", node="n2", host_ip="192.168.1.2"),
                DENY_ALL_INGRESS_A)
    probe = case.explain("192.168.1.1", "a/x", 8080)
    assert probe.allowed and probe.ingress.reason is Reason.OWN_NODE
    other = case.explain("192.168.1.2", "a/x", 8080)
    assert not other.allowed and other.ingress.policies == ("a/deny-all",)


@pytest.mark.parametrize(("target_node", "expected"), [("n1", False), ("n2", True)])
def test_40_host_network_pod_is_its_node(target_node: str, expected: bool) -> None:
    host_ip = {"n1": "192.168.1.1", "n2": "192.168.1.2"}[target_node]
    case = Case(
        pod("a/x", {"app": "x"}, "10.244.0.1", node=target_node, host_ip=host_ip),
        pod("b/h", {"app": "h"}, "192.168.1.2", node="n2", host_ip="192.168.1.2", host_network=True),
        ingress_policy("[{from: [{namespaceSelector: {}}]}]"),
    )
    verdict = case.explain("b/h", "a/x")
    assert verdict.allowed is expected
    if expected:
        assert verdict.ingress.reason is Reason.OWN_NODE


@pytest.mark.parametrize(("allowed_port", "expected"), [(80, False), (8080, True)])
def test_41_services_are_judged_at_the_target_port(allowed_port: int, expected: bool) -> None:
    case = Case(
        pod("a/web-0", {"app": "web"}, "10.244.0.5", ports=[{"name": "http", "containerPort": 8080}]),
        pod("b/client", {"app": "client"}, "10.244.1.1"),
        """
apiVersion: v1
kind: Service
metadata: {name: web, namespace: a}
spec:
  selector: {app: web}
  clusterIP: 10.96.0.10
  ports: [{port: 80, targetPort: 8080}]
""",
        ingress_policy(f"[{{ports: [{{port: {allowed_port}}}]}}]", "{matchLabels: {app: web}}"),
    )
    by_name, by_ip = case.ep("a/web"), case.ep("10.96.0.10")
    assert by_name.service is not None and by_name.service.key == "a/web"
    assert by_ip.service is not None and by_ip.service.key == "a/web"
    for service in (by_name, by_ip):
        verdicts = case.engine.explain_service(case.ep("b/client"), service, TCP, 80)
        assert [(v.dst.name, v.port) for v in verdicts] == [("a/web-0", 8080)]
        assert verdicts[0].allowed is expected


@pytest.mark.parametrize(("labels", "expected"), [({}, True), ({"env": "dev"}, True), ({"env": "prod"}, False)])
def test_42_not_in_matches_pods_without_the_key(labels: dict[str, str], expected: bool) -> None:
    case = Case(X, pod("a/client", labels, "10.244.0.9"),
                ingress_policy("[{from: [{podSelector: {matchExpressions: [{key: env, operator: NotIn, values: [prod]}]}}]}]",
                               "{matchLabels: {app: x}}"))
    assert case.allowed("a/client", "a/x") is expected


@pytest.mark.parametrize(("labels", "expected"), [({"tier": ""}, True), ({}, False), ({"tier": "fe"}, False)])
def test_43_empty_label_value_needs_the_key(labels: dict[str, str], expected: bool) -> None:
    case = Case(X, pod("a/client", labels, "10.244.0.9"),
                ingress_policy("""[{from: [{podSelector: {matchLabels: {tier: ""}}}]}]""", "{matchLabels: {app: x}}"))
    assert case.allowed("a/client", "a/x") is expected


def test_44_finished_pod_does_not_lend_its_ip() -> None:
    case = Case(
        X,
        pod("b/job", {"job": "yes"}, "10.244.1.7", phase="Succeeded"),
        pod("b/new", {"app": "new"}, "10.244.1.7"),
        ingress_policy("[{from: [{namespaceSelector: {}, podSelector: {matchLabels: {job: \"yes\"}}}]}]"),
    )
    assert case.ep("10.244.1.7").pod.key == "b/new"  # type: ignore[union-attr]
    assert not case.allowed("b/new", "a/x")
    assert not case.allowed("10.244.1.7", "a/x")
    assert "b/job" not in [p.key for p in case.engine.connectivity().pods]


def test_45_deny_all_stays_in_its_namespace() -> None:
    case = Case(X, Y, Z, DENY_ALL_INGRESS_A)
    verdict = case.explain("c/z", "b/y")
    assert verdict.allowed and verdict.ingress.reason is Reason.NOT_ISOLATED
    assert not case.allowed("b/y", "a/x")


@pytest.mark.parametrize("labels", [{}, {"team": "x"}])
def test_46_namespace_name_label_is_always_there(labels: dict[str, str]) -> None:
    case = Case(namespace("b", labels), X, Y, Z,
                ingress_policy("[{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: b}}}]}]"))
    assert case.allowed("b/y", "a/x")
    assert not case.allowed("c/z", "a/x")


def test_47_gt_is_not_a_selector_operator() -> None:
    policy = ingress_policy("[]", "{matchExpressions: [{key: n, operator: Gt, values: ['1']}]}")
    assert_rejected(policy, "V7", "spec.podSelector.matchExpressions[0].operator", "not a valid selector operator")
