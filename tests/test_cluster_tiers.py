"""Cluster-wide tiers, one test per edge case of podfence's spec.

The ClusterNetworkPolicy cases are numbered as in its list (§7.7, items 1-17 and
20; 18-19 are the validator's), the AdminNetworkPolicy and
BaselineAdminNetworkPolicy cases as in the NetworkPolicy list (items 48-61).
Every case is loaded through the loader; every verdict is asked of the engine
three ways (``explain``, ``allowed`` and the whole-cluster ``connectivity``), and
the test fails unless they agree with each other and with the oracle
(``tests/oracle.py``), before the expected answer is checked.

Conventions as in ``test_edge_cases.py``: pods in 10.244.0.0/16, nodes in
192.168.1.0/24, outside clients 203.0.113.5; TCP unless said otherwise.
"""

from __future__ import annotations

from typing import Any

import yaml

from oracle import oracle_allows
from podfence.engine import Endpoint, Outcome, Reason, Verdict
from podfence.model import Direction, Pod, Settings
from podfence.sets import IPAddress, Protocol, parse_ip
from test_edge_cases import Case, load, namespace, pod

TCP, UDP, SCTP = Protocol.TCP, Protocol.UDP, Protocol.SCTP
GROUP = "policy.networking.k8s.io"


def by_name(ns: str) -> dict[str, Any]:
    return {"matchLabels": {"kubernetes.io/metadata.name": ns}}


def cnp(name: str, tier: str, priority: int | None, subject: dict[str, Any] | None = None,
        ingress: list[dict[str, Any]] | None = None, egress: list[dict[str, Any]] | None = None) -> str:
    spec: dict[str, Any] = {"tier": tier, "subject": subject or {"namespaces": by_name("a")}}
    if priority is not None:
        spec["priority"] = priority
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return yaml.safe_dump({"apiVersion": f"{GROUP}/v1alpha2", "kind": "ClusterNetworkPolicy",
                           "metadata": {"name": name}, "spec": spec}, sort_keys=False)


def anp(name: str, priority: int, subject: dict[str, Any] | None = None, ingress: list[dict[str, Any]] | None = None,
        egress: list[dict[str, Any]] | None = None, kind: str = "AdminNetworkPolicy") -> str:
    spec: dict[str, Any] = {"subject": subject or {"namespaces": by_name("a")}}
    if kind == "AdminNetworkPolicy":
        spec["priority"] = priority
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return yaml.safe_dump({"apiVersion": f"{GROUP}/v1alpha1", "kind": kind, "metadata": {"name": name},
                           "spec": spec}, sort_keys=False)


def banp(ingress: list[dict[str, Any]] | None = None, egress: list[dict[str, Any]] | None = None,
         subject: dict[str, Any] | None = None) -> str:
    return anp("default", 0, subject or {"namespaces": {}}, ingress, egress, kind="BaselineAdminNetworkPolicy")


def rule(action: str, peers: list[dict[str, Any]], direction: str = "from", name: str | None = None,
         **ports: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"action": action, direction: peers}
    if name:
        out["name"] = name
    out.update(ports)
    return out


def from_ns(ns: str) -> list[dict[str, Any]]:
    return [{"namespaces": by_name(ns)}]


def node(name: str, address: str, labels: dict[str, str] | None = None) -> str:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels or {}},
                           "status": {"addresses": [{"type": "InternalIP", "address": address},
                                                    {"type": "Hostname", "address": name}]}}, sort_keys=False)


def np_policy(name: str, ns: str, spec: str) -> str:
    return f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\n" \
           f"spec: {spec}\n"


X = pod("a/x", {"app": "x"}, "10.244.0.1")
Y = pod("b/y", {"app": "y"}, "10.244.1.1")
Z = pod("c/z", {"app": "z"}, "10.244.2.1")
WEB_PORTS = [{"name": "web", "containerPort": 80}, {"name": "dns", "containerPort": 53, "protocol": "UDP"}]


class TierCase(Case):
    """A Case whose every verdict is checked against the engine's other answers and the oracle."""

    def __init__(self, *docs: str, settings: Settings = Settings()) -> None:
        super().__init__(*docs, settings=settings)
        self.settings = settings
        self.connectivity = self.engine.connectivity()

    def _end(self, name: str) -> Pod | IPAddress:
        ep = self.ep(name)
        if ep.pod is not None:
            return ep.pod
        assert ep.address is not None
        return ep.address

    def explain(self, src: str, dst: str, port: int = 80, protocol: Protocol = TCP) -> Verdict:
        verdict = super().explain(src, dst, port, protocol)
        s, d = self.ep(src), self.ep(dst)
        expected = oracle_allows(self.result.cluster, self.settings, self._end(src), self._end(dst), protocol, port)
        pair = self.engine.allowed(s, d).allows(protocol, port)
        assert verdict.allowed == expected == pair, (src, dst, port, verdict.allowed, expected, pair)
        if s.pod is not None and d.pod is not None:
            assert self.connectivity.between(s.pod.key, d.pod.key).allows(protocol, port) == expected
        return verdict


def steps(verdict: Verdict, direction: Direction) -> list[tuple[str, str, str]]:
    side = verdict.ingress if direction is Direction.INGRESS else verdict.egress
    return [(s.tier, s.outcome.value, s.policy) for s in side.tiers]


# -- ClusterNetworkPolicy (§7.7) ----------------------------------------------------------------


def test_c01_first_matching_rule_decides_and_pass_with_nothing_after_allows() -> None:
    def case(actions: tuple[str, str]) -> TierCase:
        rules = [rule(actions[0], [{"namespaces": by_name("b")}], "to"), rule(actions[1], [{"namespaces": by_name("b")}], "to")]
        return TierCase(X, Y, cnp("p", "Admin", 10, egress=rules))
    assert case(("Accept", "Deny")).allowed("a/x", "b/y")
    denied = case(("Deny", "Accept")).explain("a/x", "b/y")
    assert not denied.allowed and denied.egress.reason is Reason.TIER
    assert denied.egress.tiers[-1].rule is not None and denied.egress.tiers[-1].rule.index == 0
    passed = case(("Pass", "Deny")).explain("a/x", "b/y")
    assert passed.allowed and steps(passed, Direction.EGRESS)[0] == ("Admin", "pass", "p")


def test_c02_admin_priority_decides_and_pass_reaches_baseline() -> None:
    deny = cnp("deny", "Admin", 50, ingress=[rule("Deny", from_ns("b"))])
    baseline = cnp("base", "Baseline", 10, ingress=[rule("Accept", from_ns("b"))])
    assert not TierCase(X, Y, deny, cnp("pass", "Admin", 60, ingress=[rule("Pass", from_ns("b"))]),
                        baseline).allowed("b/y", "a/x")
    verdict = TierCase(X, Y, deny, cnp("pass", "Admin", 40, ingress=[rule("Pass", from_ns("b"))]),
                       baseline).explain("b/y", "a/x")
    assert verdict.allowed
    # Tiers without any policy in the cluster are not listed.
    assert steps(verdict, Direction.INGRESS) == [("Admin", "pass", "pass"), ("Baseline", "allow", "base")]


def test_c03_pass_skips_the_rest_of_the_admin_tier() -> None:
    case = TierCase(X, Y, cnp("p1", "Admin", 1, ingress=[rule("Pass", from_ns("b"))]),
                    cnp("p2", "Admin", 2, ingress=[rule("Deny", from_ns("b"))]))
    assert case.allowed("b/y", "a/x")


def test_c04_pass_hands_over_to_networkpolicy_then_baseline() -> None:
    admin = cnp("pass", "Admin", 1, ingress=[rule("Pass", from_ns("b"))])
    baseline = cnp("deny", "Baseline", 1, ingress=[rule("Deny", from_ns("b"))])
    allow_b = np_policy("allow-b", "a", "{podSelector: {}, ingress: [{from: [{namespaceSelector: "
                                        "{matchLabels: {kubernetes.io/metadata.name: b}}}]}]}")
    with_np = TierCase(X, Y, admin, baseline, allow_b).explain("b/y", "a/x")
    assert with_np.allowed and with_np.ingress.reason is Reason.RULE
    assert [s.tier for s in with_np.ingress.tiers] == ["Admin", "NetworkPolicy"]
    assert not TierCase(X, Y, admin, baseline).allowed("b/y", "a/x")


def test_c05_pass_in_the_baseline_tier_skips_the_rest_of_it() -> None:
    case = TierCase(X, Y, cnp("p10", "Baseline", 10, ingress=[rule("Pass", from_ns("b"))]),
                    cnp("p20", "Baseline", 20, ingress=[rule("Deny", from_ns("b"))]))
    assert case.allowed("b/y", "a/x")


def test_c06_baseline_priorities() -> None:
    def case(deny: int, accept: int) -> TierCase:
        return TierCase(X, Y, cnp("d", "Baseline", deny, ingress=[rule("Deny", from_ns("b"))]),
                        cnp("a", "Baseline", accept, ingress=[rule("Accept", from_ns("b"))]))
    assert not case(5, 7).allowed("b/y", "a/x")
    assert case(7, 5).allowed("b/y", "a/x")


def test_c07_networks_match_pod_ips_too() -> None:
    s1 = pod("slytherin/s1", {"app": "s"}, "10.244.3.1")
    s2 = pod("slytherin/s2", {"app": "s"}, "10.244.3.2")
    rules = [rule("Accept", [{"pods": {"namespaceSelector": {"matchLabels": {"house": "slytherin"}},
                                       "podSelector": {}}}], "to"),
             rule("Deny", [{"networks": ["0.0.0.0/0", "::/0"]}], "to")]
    house = namespace("slytherin", {"house": "slytherin"})
    case = TierCase(X, Y, s1, s2, house, cnp("p", "Admin", 1, egress=rules))
    assert case.allowed("a/x", "slytherin/s1") and not case.allowed("a/x", "b/y")
    relabelled = TierCase(X, Y, s1, s2, namespace("slytherin", {"house": "none"}), cnp("p", "Admin", 1, egress=rules))
    assert not relabelled.allowed("a/x", "slytherin/s1")
    pinned = [rule("Accept", [{"networks": ["10.244.3.1/32"]}], "to"), *rules]
    case = TierCase(X, s1, s2, namespace("slytherin", {"house": "none"}), cnp("p", "Admin", 1, egress=pinned))
    assert case.allowed("a/x", "slytherin/s1") and not case.allowed("a/x", "slytherin/s2")


def test_c08_an_egress_accept_does_not_bypass_the_destinations_ingress() -> None:
    case = TierCase(X, Y, cnp("out", "Admin", 1, egress=[rule("Accept", from_ns("b"), "to")]),
                    cnp("in", "Admin", 1, subject={"namespaces": by_name("b")}, ingress=[rule("Deny", from_ns("a"))]))
    verdict = case.explain("a/x", "b/y")
    assert not verdict.allowed and verdict.egress.allowed and not verdict.ingress.allowed


def test_c09_named_ports_use_the_container_ports_protocol() -> None:
    web = pod("b/web", {"app": "web"}, "10.244.1.2", ports=WEB_PORTS)
    case = TierCase(X, web, cnp("p", "Admin", 1, egress=[
        rule("Accept", [{"namespaces": {}}], "to", protocols=[{"destinationNamedPort": "web"},
                                                             {"destinationNamedPort": "dns"}]),
        rule("Deny", [{"namespaces": {}}], "to")]))
    assert case.allowed("a/x", "b/web", 80)
    assert not case.allowed("a/x", "b/web", 8080)
    assert case.allowed("a/x", "b/web", 53, UDP)
    assert not case.allowed("a/x", "b/web", 53, TCP)


def test_c10_ingress_named_ports_resolve_on_the_subject_egress_on_the_peer() -> None:
    server = pod("a/srv", {"app": "srv"}, "10.244.0.2", ports=[{"name": "web", "containerPort": 8080}])
    client = pod("b/cli", {"app": "cli"}, "10.244.1.2", ports=[{"name": "web", "containerPort": 9090}])
    only_web = [rule("Accept", [{"namespaces": {}}], protocols=[{"destinationNamedPort": "web"}]),
                rule("Deny", [{"namespaces": {}}])]
    ingress = TierCase(server, client, cnp("p", "Admin", 1, ingress=only_web))
    assert ingress.allowed("b/cli", "a/srv", 8080) and not ingress.allowed("b/cli", "a/srv", 9090)
    to_web = [rule("Accept", [{"namespaces": {}}], "to", protocols=[{"destinationNamedPort": "web"}]),
              rule("Deny", [{"namespaces": {}}], "to")]
    egress = TierCase(server, client, cnp("p", "Admin", 1, subject={"namespaces": by_name("b")}, egress=to_web))
    assert egress.allowed("b/cli", "a/srv", 8080) and not egress.allowed("b/cli", "a/srv", 9090)


HOST = pod("infra/agent", {"app": "agent"}, "192.168.1.2", node="n2", host_network=True)
X_ON_N1 = pod("a/x", {"app": "x"}, "10.244.0.1", node="n1", host_ip="192.168.1.1")


def test_c11_nodes_peers_reach_host_network_pods_and_selectors_never_do() -> None:
    nodes = [node("n1", "192.168.1.1", {"kubernetes.io/os": "linux"}),
             node("n2", "192.168.1.2", {"kubernetes.io/os": "linux"})]
    accept = cnp("p", "Admin", 1, egress=[
        rule("Accept", [{"nodes": {"matchLabels": {"kubernetes.io/os": "linux"}}}], "to",
             protocols=[{"tcp": {"destinationPort": {"number": 34345}}}]),
        rule("Deny", [{"networks": ["0.0.0.0/0"]}], "to")])
    case = TierCase(X_ON_N1, HOST, *nodes, accept)
    assert case.allowed("a/x", "infra/agent", 34345)
    assert not case.allowed("a/x", "infra/agent", 34346)
    selectors = cnp("p", "Admin", 1, egress=[rule("Deny", [{"namespaces": by_name("infra")}], "to"),
                                             rule("Deny", [{"pods": {"podSelector": {}}}], "to")])
    assert TierCase(X_ON_N1, HOST, *nodes, selectors).allowed("a/x", "infra/agent")


def test_c12_deny_to_every_node_covers_the_pods_own_node() -> None:
    own = pod("infra/own", {"app": "agent"}, "192.168.1.1", node="n1", host_network=True)
    deny = cnp("p", "Admin", 1, egress=[rule("Deny", [{"nodes": {}}], "to")])
    case = TierCase(X_ON_N1, own, node("n1", "192.168.1.1"), deny)
    assert not case.allowed("a/x", "infra/own")
    assert not case.allowed("a/x", "192.168.1.1")
    # Without the Admin rule a pod reaches its own node even when NetworkPolicies isolate it.
    isolated = np_policy("deny-egress", "a", "{podSelector: {}, policyTypes: [Egress]}")
    assert TierCase(X_ON_N1, own, node("n1", "192.168.1.1"), isolated,
                    cnp("other", "Admin", 1, egress=[rule("Deny", from_ns("zzz"), "to")])).allowed("a/x", "infra/own")


def test_c12b_own_node_pairs_under_tiers_are_policy_verdicts_not_exemptions() -> None:
    own = pod("infra/own", {"app": "agent"}, "192.168.1.1", node="n1", host_network=True)
    case = TierCase(X_ON_N1, own, node("n1", "192.168.1.1"),
                    cnp("p", "Admin", 1, egress=[rule("Deny", [{"nodes": {}}], "to")]))
    conn = case.connectivity
    assert not conn.between("a/x", "infra/own")
    assert not conn.decided_outside("a/x", "infra/own")  # the Admin tier decided, not a setting
    assert conn.decided_outside("infra/own", "a/x")  # ingress from the own node: before any tier
    assert [(e.src, e.dst) for e in conn.pair_exceptions()] == [("infra/own", "a/x")]


def test_c13_baseline_ingress_from_every_namespace_leaves_outside_and_nodes_alone() -> None:
    case = TierCase(X_ON_N1, Y, pod("infra/agent", {}, "192.168.1.2", node="n2", host_network=True),
                    node("n2", "192.168.1.2"),
                    cnp("p", "Baseline", 1, ingress=[rule("Deny", [{"namespaces": {}}])]))
    assert case.allowed("203.0.113.5", "a/x")
    assert case.allowed("infra/agent", "a/x")
    assert case.allowed("192.168.1.2", "a/x")
    assert not case.allowed("b/y", "a/x")


def test_c14_unknown_peers_are_refused_where_the_api_server_refuses_them() -> None:
    """A peer or port entry of a newer API is an unknown field in a manifest, refused at load."""
    peer = cnp("p", "Admin", 1, egress=[rule("Accept", [{"futurePeer": {"x": 1}}], "to")])
    port = cnp("p", "Admin", 1, egress=[rule("Deny", from_ns("b"), "to", protocols=[{"futureProtocol": {}}])])
    for doc, field in ((peer, "spec.egress[0].to[0].futurePeer"), (port, "spec.egress[0].protocols[0].futureProtocol")):
        result = load(X, Y, doc)
        assert [d.field_path for d in result.diagnostics if d.is_error] == [field]


def test_c15_self_traffic_is_exempt_but_service_hairpin_is_not() -> None:
    svc = """
apiVersion: v1
kind: Service
metadata: {name: x, namespace: a}
spec: {selector: {app: x}, ports: [{port: 80}], clusterIP: 10.96.0.10}
"""
    case = TierCase(X, svc, cnp("p", "Admin", 1, egress=[rule("Deny", [{"namespaces": {}}], "to")]))
    assert case.allowed("a/x", "a/x")
    (verdict,) = case.engine.explain_service(case.ep("a/x"), case.engine.endpoint("service/a/x"), TCP, 80)
    assert not verdict.allowed


def test_c16_domain_names_match_the_dns_map() -> None:
    accept = cnp("p", "Admin", 1, egress=[rule("Accept", [{"domainNames": ["*.example.com"]}], "to"),
                                          rule("Deny", [{"networks": ["0.0.0.0/0"]}], "to")])
    api = parse_ip("198.51.100.7")
    bare = parse_ip("198.51.100.8")
    assert api is not None and bare is not None
    settings = Settings(dns_map=(("api.example.com", (api,)), ("example.com", (bare,))))
    case = TierCase(X, accept, settings=settings)
    assert case.allowed("a/x", "198.51.100.7")
    assert any(n.startswith("depends on DNS: ClusterNetworkPolicy p spec.egress[0]")
               for n in case.explain("a/x", "198.51.100.7").notes)
    assert not case.allowed("a/x", "198.51.100.8")  # example.com itself is not under *.example.com
    assert not TierCase(X, accept).allowed("a/x", "198.51.100.7")


def test_c17_equal_priorities_are_ordered_by_name_and_warned_about() -> None:
    docs = (X, Y, cnp("b-deny", "Admin", 5, ingress=[rule("Deny", from_ns("b"))]),
            cnp("a-accept", "Admin", 5, ingress=[rule("Accept", from_ns("b"))]))
    case = TierCase(*docs)
    assert case.allowed("b/y", "a/x")
    warnings = [d for d in case.result.diagnostics if d.code == "T1"]
    assert len(warnings) == 1 and "a-accept" in warnings[0].message and warnings[0].object == "ClusterNetworkPolicy b-deny"
    assert not TierCase(*docs, settings=Settings(same_priority_by_name=False)).allowed("b/y", "a/x")


TO_ALL = [{"namespaces": {}}]
NAMED_TO_NETWORKS = rule("Accept", [{"networks": ["10.0.0.0/8"]}], "to", protocols=[{"destinationNamedPort": "web"}])
STANDARD = Settings(cluster_policy_standard_channel=True)
NAMED_PORT_CEL = ("networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts "
                  "for networks/nodes/domainNames")

# §7.7 item 18: (policy, settings, code, field, message), each refused with exactly that one error.
REJECTIONS = [
    (cnp("p", "admin", 1, ingress=[rule("Accept", from_ns("b"))]), Settings(), "V46", "spec.tier",
     'Unsupported value: "admin": supported values: "Admin", "Baseline"'),
    (cnp("p", "Baseline", None, ingress=[rule("Accept", from_ns("b"))]), Settings(), "V47", "spec.priority",
     "Required value"),
    (cnp("p", "Admin", 1, ingress=[rule("Allow", from_ns("b"))]), Settings(), "V52", "spec.ingress[0].action",
     'Unsupported value: "Allow": supported values: "Accept", "Deny", "Pass"'),
    (cnp("p", "Admin", 1, ingress=[rule("Accept", from_ns("b"), protocols=[])]), Settings(), "V55",
     "spec.ingress[0].protocols", "Invalid value: 0: spec.ingress[0].protocols in body should have at least 1 items"),
    (cnp("p", "Admin", 1, ingress=[rule("Accept", from_ns("b"), protocols=[{"tcp": {}}])]), Settings(), "V56",
     "spec.ingress[0].protocols[0].tcp",
     "Invalid value: 0: spec.ingress[0].protocols[0].tcp in body should have at least 1 properties"),
    (cnp("p", "Admin", 1, ingress=[rule("Accept", from_ns("b"), protocols=[
        {"tcp": {"destinationPort": {"range": {"start": 80, "end": 80}}}}])]), Settings(), "V58",
     "spec.ingress[0].protocols[0].tcp.destinationPort.range",
     'Invalid value: "object": Start port must be less than End port'),
    (cnp("p", "Admin", 1, egress=[rule("Accept", [{"networks": ["10.0.0.1"]}], "to")]), Settings(), "V61",
     "spec.egress[0].to[0].networks[0]", 'Invalid value: "string": Invalid CIDR format provided'),
    (cnp("p", "Admin", 1, egress=[rule("Accept", [{"networks": ["::ffff:10.0.0.0/104"]}], "to")]), Settings(),
     "V61", "spec.egress[0].to[0].networks[0]", 'Invalid value: "string": Invalid CIDR format provided'),
    (cnp("p", "Admin", 1, egress=[rule("Accept", [{"networks": ["10.0.0.0/8", "10.0.0.0/8"]}], "to")]), Settings(),
     "V61", "spec.egress[0].to[0].networks[1]", 'Duplicate value: "10.0.0.0/8"'),
    (cnp("p", "Admin", 1, egress=[rule("Accept", [{"networks": ["10.0.0.0/8"], "pods": {"podSelector": {}}}], "to")]),
     Settings(), "V54", "spec.egress[0].to[0]", "Too many: 2: must have at most 1 items"),
    (cnp("p", "Admin", 1, egress=[rule("Accept", [{"nodes": {}}], "to")]), STANDARD, "S2",
     "spec.egress[0].to[0].nodes", 'unknown field "nodes" (a field of the experimental channel only'),
    (cnp("p", "Admin", 1, egress=[NAMED_TO_NETWORKS]), Settings(), "V63", "spec.egress[0]",
     f'Invalid value: "object": {NAMED_PORT_CEL}'),
    (cnp("p", "Admin", 1, egress=[NAMED_TO_NETWORKS]), STANDARD, "V63", "spec.egress[0]",
     f'Invalid value: "object": {NAMED_PORT_CEL}'),
]


def test_c18_rejections_are_one_error_each_and_the_policy_is_not_read() -> None:
    for doc, settings, code, field, message in REJECTIONS:
        result = load(X, doc, settings=settings)
        assert [(d.code, d.field_path) for d in result.diagnostics if d.is_error] == [(code, field)], (code, field)
        (error,) = [d for d in result.diagnostics if d.is_error]
        assert error.message.startswith(message) and error.object == "ClusterNetworkPolicy p"
        assert result.cluster.cluster_policies == ()


def test_c19_accepted_by_the_api_but_flagged() -> None:
    host_bits = load(X, cnp("p", "Admin", 1, egress=[rule("Accept", [{"networks": ["10.0.0.5/8"]}], "to")]))
    assert [(d.code, d.severity.value) for d in host_bits.diagnostics] == [("V61", "warning")]
    assert len(host_bits.cluster.cluster_policies) == 1
    flagged = [
        (cnp("p", "Admin", 1, egress=[rule("Accept", TO_ALL, "to", protocols=[{"destinationNamedPort": "HTTP"}])]),
         "V59", "spec.egress[0].protocols[0].destinationNamedPort", 'Invalid value: "HTTP"'),
        (cnp("p", "Admin", 1, egress=[rule("Deny", [{"domainNames": ["a.example.com"]}], "to")]),
         "V64", "spec.egress[0].action", "domainNames peers are only defined for Accept rules"),
        (cnp("p", "Admin", 1, subject={"namespaces": {"matchExpressions": [{"key": "a", "operator": "Gt",
                                                                             "values": ["1"]}]}},
             egress=[rule("Accept", TO_ALL, "to")]),
         "V7", "spec.subject.namespaces.matchExpressions[0].operator", 'Invalid value: "Gt"'),
        (cnp("p", "Admin", 1, egress=[rule("Accept", TO_ALL, "to", ports=[{"portNumber": {"port": 80}}])]),
         "S2", "spec.egress[0].ports", 'unknown field "ports" (v1alpha2 rules list "protocols"'),
    ]
    for doc, code, field, phrase in flagged:
        errors = [d for d in load(X, doc).diagnostics if d.is_error]
        assert errors and {(d.code, d.field_path) for d in errors} == {(code, field)}, errors
        assert phrase in errors[0].message


def test_domain_names_outside_accept_rules_follow_their_setting() -> None:
    y_ip = parse_ip("10.244.1.1")
    assert y_ip is not None
    deny = cnp("p", "Admin", 1, egress=[rule("Deny", [{"domainNames": ["y.example.com"]}], "to")])
    refused = load(X, Y, deny, settings=Settings(dns_map=(("y.example.com", (y_ip,)),)))
    assert [(d.code, d.severity.value) for d in refused.diagnostics] == [("V64", "error")]
    assert refused.cluster.cluster_policies == ()
    settings = Settings(domainnames_non_accept="warn", dns_map=(("y.example.com", (y_ip,)),))
    case = TierCase(X, Y, deny, settings=settings)
    assert [(d.code, d.severity.value) for d in case.result.diagnostics] == [("V64", "warning")]
    assert not case.allowed("a/x", "b/y")  # the Deny matches the name's addresses
    assert case.allowed("b/y", "a/x")


def test_named_ports_beside_address_peers_follow_their_setting() -> None:
    web = pod("b/web", {"app": "web"}, "10.244.1.2", ports=WEB_PORTS)
    deny = cnp("p", "Admin", 1, egress=[rule("Deny", [{"networks": ["10.244.0.0/16"]}], "to",
                                             protocols=[{"destinationNamedPort": "web"}])])
    for settings in (Settings(), STANDARD):
        refused = load(X, web, deny, settings=settings)
        assert [(d.code, d.severity.value) for d in refused.diagnostics] == [("V63", "error")]
    warn = Settings(cnp_named_port_with_ip_peers="warn")
    case = TierCase(X, web, HOST, deny, settings=warn)
    assert [(d.code, d.severity.value) for d in case.result.diagnostics] == [("V63", "warning")]
    # The named port resolves on the destination pod the network peer matches ...
    assert not case.allowed("a/x", "b/web", 80) and case.allowed("a/x", "b/web", 8080)
    # ... and matches nothing towards an address that is no pod.
    accept = cnp("p", "Admin", 1, egress=[rule("Accept", [{"networks": ["192.168.1.0/24"]}], "to",
                                               protocols=[{"destinationNamedPort": "web"}]),
                                          rule("Deny", [{"networks": ["192.168.1.0/24"]}], "to")])
    assert not TierCase(X, HOST, accept, settings=warn).allowed("a/x", "infra/agent", 80)


def test_c20_one_direction_only_and_host_network_pods_are_never_subjects() -> None:
    only_ingress = cnp("p", "Admin", 1, subject={"namespaces": {}}, ingress=[rule("Deny", [{"namespaces": {}}])])
    host = pod("a/h", {"app": "h"}, "192.168.1.9", node="n9", host_network=True)
    case = TierCase(X, Y, host, only_ingress)
    assert case.allowed("a/x", "203.0.113.5")
    assert not case.allowed("a/x", "b/y")
    assert case.allowed("a/x", "a/h")


# -- AdminNetworkPolicy and BaselineAdminNetworkPolicy (items 48-61) -----------------------------

ALLOW_ALL_A = np_policy("allow-all", "a", "{podSelector: {}, ingress: [{}]}")
DENY_ALL_A = np_policy("deny-all", "a", "{podSelector: {}, policyTypes: [Ingress]}")


def test_48_anp_deny_beats_an_allowing_networkpolicy() -> None:
    case = TierCase(X, Y, Z, ALLOW_ALL_A, anp("p", 10, ingress=[rule("Deny", from_ns("b"))]))
    assert not case.allowed("b/y", "a/x") and case.allowed("c/z", "a/x")


def test_49_anp_allow_beats_a_deny_all_networkpolicy() -> None:
    monitoring = pod("monitoring/m", {}, "10.244.9.1")
    case = TierCase(X, Z, monitoring, DENY_ALL_A, anp("p", 10, ingress=[rule("Allow", from_ns("monitoring"))]))
    verdict = case.explain("monitoring/m", "a/x")
    assert verdict.allowed and verdict.ingress.reason is Reason.TIER
    assert verdict.ingress.tiers[0].action == "Allow" and verdict.ingress.tiers[0].priority == 10
    assert not case.allowed("c/z", "a/x")


def test_50_lower_priority_number_wins() -> None:
    def case(allow: int, deny: int) -> TierCase:
        return TierCase(X, Y, anp("anp1", allow, ingress=[rule("Allow", from_ns("b"))]),
                        anp("anp2", deny, ingress=[rule("Deny", from_ns("b"))]))
    assert case(5, 50).allowed("b/y", "a/x")
    assert not case(50, 5).allowed("b/y", "a/x")


def test_51_first_match_wins_inside_one_anp() -> None:
    case = TierCase(X, Y, anp("p", 1, ingress=[rule("Deny", [{"namespaces": {}}]), rule("Allow", from_ns("b"))]))
    assert not case.allowed("b/y", "a/x")


def test_52_pass_goes_to_networkpolicy_and_banp_is_not_consulted() -> None:
    fe = pod("b/fe", {"app": "fe"}, "10.244.1.5")
    allow_fe = np_policy("fe", "a", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {}, "
                                    "podSelector: {matchLabels: {app: fe}}}]}]}")
    case = TierCase(X, Y, fe, allow_fe, anp("p", 1, ingress=[rule("Pass", from_ns("b"))]),
                    banp(ingress=[rule("Allow", [{"namespaces": {}}])]))
    assert case.allowed("b/fe", "a/x") and not case.allowed("b/y", "a/x")


def test_53_pass_reaches_the_banp() -> None:
    admin = anp("p", 1, ingress=[rule("Pass", from_ns("b"))])
    assert not TierCase(X, Y, admin, banp(ingress=[rule("Deny", [{"namespaces": {}}])])).allowed("b/y", "a/x")
    assert TierCase(X, Y, admin).allowed("b/y", "a/x")


def test_54_banp_deny_everywhere_with_a_networkpolicy_in_a() -> None:
    fe = pod("b/fe", {"app": "fe"}, "10.244.1.5")
    allow_fe = np_policy("fe", "a", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {}, "
                                    "podSelector: {matchLabels: {app: fe}}}]}]}")
    case = TierCase(X, Y, Z, fe, allow_fe, banp(ingress=[rule("Deny", [{"namespaces": {}}])]))
    assert case.allowed("b/fe", "a/x") and not case.allowed("b/y", "a/x")
    denied = case.explain("b/y", "a/x")
    assert denied.ingress.reason is Reason.NO_RULE
    assert not case.allowed("b/y", "c/z")
    assert case.allowed("203.0.113.5", "c/z")


def test_55_anp_with_only_ingress_rules_leaves_egress_alone() -> None:
    case = TierCase(X, Y, anp("p", 1, subject={"namespaces": {}}, ingress=[rule("Deny", [{"namespaces": {}}])]))
    assert case.allowed("a/x", "203.0.113.5")
    verdict = case.explain("a/x", "b/y")
    assert verdict.egress.allowed and not verdict.ingress.allowed


def test_56_anp_ingress_allow_does_not_lift_the_sources_egress_isolation() -> None:
    deny_egress_b = np_policy("deny-egress", "b", "{podSelector: {}, policyTypes: [Egress]}")
    case = TierCase(X, Y, deny_egress_b, anp("p", 1, ingress=[rule("Allow", from_ns("b"))]))
    verdict = case.explain("b/y", "a/x")
    assert not verdict.allowed and verdict.ingress.allowed and not verdict.egress.allowed


def test_57_anp_deny_networks_covers_pods_and_outside_but_not_ipv6() -> None:
    dual = pod("a/d", {}, "10.244.0.9,fd00::9")
    case = TierCase(X, Y, dual, anp("p", 1, egress=[rule("Deny", [{"networks": ["0.0.0.0/0"]}], "to")]))
    assert not case.allowed("a/x", "b/y") and not case.allowed("a/x", "203.0.113.5")
    assert not case.allowed("a/d", "203.0.113.5") and case.allowed("a/d", "2001:db8::1")


def test_58_port_range_defaults_to_tcp() -> None:
    case = TierCase(X, Y, anp("p", 1, egress=[
        rule("Deny", from_ns("b"), "to", ports=[{"portRange": {"start": 8000, "end": 8080}}])]))
    assert not case.allowed("a/x", "b/y", 8080)
    assert case.allowed("a/x", "b/y", 8081)
    assert case.allowed("a/x", "b/y", 8000, UDP)


def test_60_equal_anp_priorities_are_deterministic_and_warned_about() -> None:
    docs = (X, Y, anp("zz-allow", 3, ingress=[rule("Allow", from_ns("b"))]),
            anp("aa-deny", 3, ingress=[rule("Deny", from_ns("b"))]))
    case = TierCase(*docs)
    assert not case.allowed("b/y", "a/x")
    assert [d.object for d in case.result.diagnostics if d.code == "T1"] == ["AdminNetworkPolicy zz-allow"]


def test_61_host_network_pods_are_never_anp_subjects() -> None:
    host = pod("a/h", {}, "192.168.1.9", node="n9", host_network=True)
    case = TierCase(X, host, anp("p", 1, subject={"namespaces": {}}, egress=[rule("Deny", [{"networks": ["0.0.0.0/0"]}], "to")]))
    assert case.allowed("a/h", "203.0.113.5")
    assert not case.allowed("a/x", "203.0.113.5")


# -- explanations -------------------------------------------------------------------------------


def test_explain_names_the_pass_chain() -> None:
    case = TierCase(X, Y, DENY_ALL_A, cnp("allow-monitoring", "Admin", 5, ingress=[
        rule("Pass", from_ns("b"), name="hand-over")]))
    verdict = case.explain("b/y", "a/x")
    assert not verdict.allowed
    (admin, np_step) = verdict.ingress.tiers
    assert (admin.tier, admin.outcome, admin.policy, admin.priority, admin.action) == (
        "Admin", Outcome.PASS, "allow-monitoring", 5, "Pass")
    assert admin.rule is not None and (admin.rule.index, admin.rule.name) == (0, "hand-over")
    assert (np_step.tier, np_step.outcome, np_step.policies) == ("NetworkPolicy", Outcome.DENY, ("a/deny-all",))


def test_explain_lists_near_misses_per_tier() -> None:
    case = TierCase(X, Y, cnp("p", "Admin", 1, ingress=[
        rule("Accept", from_ns("b"), protocols=[{"tcp": {"destinationPort": {"number": 443}}}]),
        rule("Deny", [{"namespaces": {}}])]))
    verdict = case.explain("b/y", "a/x", 80)
    assert not verdict.allowed
    (step,) = verdict.ingress.tiers[:1]
    assert [(m.rule.index, m.peer_ok, m.port_ok) for m in step.near_misses] == [(0, True, False)]
    assert "TCP 443" in step.near_misses[0].detail


def test_cluster_policies_leave_endpoints_unknown_to_them_alone() -> None:
    assert Endpoint.of_address(IPAddress(4, 1)).pod is None  # a bare address judges nothing
    case = TierCase(X, Y, cnp("p", "Admin", 1, subject={"namespaces": by_name("zzz")},
                              ingress=[rule("Deny", [{"namespaces": {}}])]))
    verdict = case.explain("b/y", "a/x")
    assert verdict.allowed
    assert steps(verdict, Direction.INGRESS) == [("Admin", "not-selected", "")]


def test_service_hairpin_is_judged_for_networkpolicies_too() -> None:
    """Only a pod's own address is exempt; through its Service the NetworkPolicies judge it (spec §2.3)."""
    svc = """
apiVersion: v1
kind: Service
metadata: {name: x, namespace: a}
spec: {selector: {app: x}, ports: [{port: 80}], clusterIP: 10.96.0.10}
"""
    case = TierCase(X, svc, DENY_ALL_A)
    assert case.allowed("a/x", "a/x")
    (verdict,) = case.engine.explain_service(case.ep("a/x"), case.engine.endpoint("service/a/x"), TCP, 80)
    assert not verdict.allowed and verdict.ingress.reason is Reason.NO_RULE
