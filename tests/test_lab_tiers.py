"""The lab enforces cluster-wide tiers on real packets, and agrees with the engine.

Each case of podfence's ClusterNetworkPolicy edge-case list (docs/tiers.md; the
cases a lab can express: pods, namespaces, hostNetwork pods, TCP and UDP) comes
up as a lab; every pod pair is probed and the measured matrices must equal the
engine's. Every dropped probe must be reported once by the denial stream, at the
side the engine says refuses it first, naming what the engine says decided: the
Admin or Baseline policy (with its tier and rule index) or the isolating
NetworkPolicies. Probes go to pod addresses (the lab has no Service proxy), so a
pod reaching itself is probed on its own address, where ``allow_self_traffic``
lets it through whatever Deny matches; a workload's representative stands for
replica-to-replica traffic and is judged like any pair. A few random tiered clusters (random Admin and Baseline
policies over random pods and NetworkPolicies) are held to the same standard.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
import yaml

from podfence.engine import Engine, Outcome
from podfence.lab import control, linux
from podfence.lab import state as lab_state
from podfence.lab.denials import DenialReader
from podfence.lab.plan import LabPlan, with_lab_addresses
from podfence.loader import load_texts
from podfence.model import Cluster, Settings
from podfence.sets import Protocol
from test_cluster_tiers import WEB_PORTS, X, Y, Z, by_name, cnp, from_ns, node, np_policy, rule
from test_edge_cases import namespace, pod
from test_lab_support import lab_name

pytestmark = pytest.mark.lab
LAB = lab_name("pft")
S = Settings()
TCP, UDP = Protocol.TCP, Protocol.UDP
CELLS = [(TCP, 80), (UDP, 80)]


@pytest.fixture(scope="module", autouse=True)
def lab_state_dir(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    mp = pytest.MonkeyPatch()
    mp.setenv("PODFENCE_LAB_STATE_DIR", str(tmp_path_factory.mktemp("lab-state")))
    yield
    if linux.missing_requirement() is None:
        control.down(LAB)
    mp.undo()


S1 = pod("slytherin/s1", {"app": "s"}, "10.244.3.1")
S2 = pod("slytherin/s2", {"app": "s"}, "10.244.3.2")
HOUSE = namespace("slytherin", {"house": "slytherin"})
ALLOW_B = np_policy("allow-b", "a", "{podSelector: {}, ingress: [{from: [{namespaceSelector: "
                                    "{matchLabels: {kubernetes.io/metadata.name: b}}}]}]}")
WEB = pod("b/web", {"app": "web"}, "10.244.1.2", ports=WEB_PORTS)
SERVER = pod("a/srv", {"app": "srv"}, "10.244.0.2", ports=[{"name": "web", "containerPort": 8080}])
CLIENT = pod("b/cli", {"app": "cli"}, "10.244.1.3", ports=[{"name": "web", "containerPort": 9090}])
NAMED_CELLS = [(TCP, 80), (TCP, 8080), (UDP, 8080), (TCP, 9090), (UDP, 9090), (TCP, 53), (UDP, 53)]
# Two destinations whose port "web" differs in number and protocol: an egress rule naming it
# must open (or close) 8080/TCP towards one and 9090/UDP towards the other.
WEB_TCP = pod("b/tcp", {"app": "tcp"}, "10.244.1.4", ports=[{"name": "web", "containerPort": 8080}])
WEB_UDP = pod("c/udp", {"app": "udp"}, "10.244.2.4", ports=[{"name": "web", "containerPort": 9090, "protocol": "UDP"}])
EVERYONE = {"namespaces": {}}
DEPLOYMENT = yaml.safe_dump({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "a"},
                             "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "d"}},
                                      "template": {"metadata": {"labels": {"app": "d"}},
                                                   "spec": {"containers": [{"name": "c", "image": "app"}]}}}},
                            sort_keys=False)
HOST = pod("infra/agent", {"app": "agent"}, "192.168.1.2", node="n2", host_network=True)
OWN = pod("infra/own", {"app": "agent"}, "192.168.1.1", node="n1", host_network=True)
X_ON_N1 = pod("a/x", {"app": "x"}, "10.244.0.1", node="n1", host_ip="192.168.1.1")
Y_ON_N2 = pod("b/y", {"app": "y"}, "10.244.1.1", node="n2", host_ip="192.168.1.2")


def _nodes() -> tuple[str, ...]:
    return tuple(yaml.safe_dump({"apiVersion": "v1", "kind": "Node",
                                 "metadata": {"name": name, "labels": {"kubernetes.io/os": "linux"}},
                                 "status": {"addresses": [{"type": "InternalIP", "address": address}]}},
                                sort_keys=False)
                 for name, address in (("n1", "192.168.1.1"), ("n2", "192.168.1.2")))


def _zoned_nodes() -> tuple[str, ...]:
    return (node("n1", "192.168.1.1", {"zone": "one"}), node("n2", "192.168.1.2", {"zone": "two"}))


def _equal(tier: str, direction: str) -> tuple[str, str]:
    """Two policies of one tier and priority that disagree about a -> b: the one named first runs first."""
    if direction == "from":
        return (cnp("b-accept", tier, 5, ingress=[rule("Accept", from_ns("b"))]),
                cnp("a-deny", tier, 5, ingress=[rule("Deny", from_ns("b"))]))
    return (cnp("b-deny", tier, 5, egress=[rule("Deny", from_ns("b"), "to")]),
            cnp("a-accept", tier, 5, egress=[rule("Accept", from_ns("b"), "to")]))


def _two_rules(first: str, second: str) -> str:
    to_b = [{"namespaces": by_name("b")}]
    return cnp("p", "Admin", 10, egress=[rule(first, to_b, "to"), rule(second, to_b, "to")])


def _inline_cidr(pinned: bool) -> list[dict[str, Any]]:
    rules = [rule("Accept", [{"pods": {"namespaceSelector": {"matchLabels": {"house": "slytherin"}},
                                       "podSelector": {}}}], "to"),
             rule("Deny", [{"networks": ["0.0.0.0/0", "::/0"]}], "to")]
    return [rule("Accept", [{"networks": ["10.244.3.1/32"]}], "to"), *rules] if pinned else rules


# (name, documents, cells): the §7.7 cases the lab can express.
CASES: list[tuple[str, tuple[str, ...], list[tuple[Protocol, int]]]] = [
    ("c01-accept-then-deny", (X, Y, _two_rules("Accept", "Deny")), CELLS),
    ("c01-deny-then-accept", (X, Y, _two_rules("Deny", "Accept")), CELLS),
    ("c01-pass-then-deny", (X, Y, _two_rules("Pass", "Deny")), CELLS),
    ("c02-admin-deny-before-pass", (X, Y, cnp("deny", "Admin", 50, ingress=[rule("Deny", from_ns("b"))]),
                                    cnp("pass", "Admin", 60, ingress=[rule("Pass", from_ns("b"))]),
                                    cnp("base", "Baseline", 10, ingress=[rule("Accept", from_ns("b"))])), CELLS),
    ("c02-pass-before-deny", (X, Y, cnp("deny", "Admin", 50, ingress=[rule("Deny", from_ns("b"))]),
                              cnp("pass", "Admin", 40, ingress=[rule("Pass", from_ns("b"))]),
                              cnp("base", "Baseline", 10, ingress=[rule("Accept", from_ns("b"))])), CELLS),
    ("c03-pass-skips-the-admin-tier", (X, Y, cnp("p1", "Admin", 1, ingress=[rule("Pass", from_ns("b"))]),
                                       cnp("p2", "Admin", 2, ingress=[rule("Deny", from_ns("b"))])), CELLS),
    ("c04-pass-to-networkpolicy", (X, Y, Z, cnp("pass", "Admin", 1, ingress=[rule("Pass", from_ns("b"))]),
                                   cnp("deny", "Baseline", 1, ingress=[rule("Deny", from_ns("b"))]), ALLOW_B), CELLS),
    ("c04-pass-to-baseline", (X, Y, Z, cnp("pass", "Admin", 1, ingress=[rule("Pass", from_ns("b"))]),
                              cnp("deny", "Baseline", 1, ingress=[rule("Deny", from_ns("b"))])), CELLS),
    ("c05-baseline-pass", (X, Y, cnp("p10", "Baseline", 10, ingress=[rule("Pass", from_ns("b"))]),
                           cnp("p20", "Baseline", 20, ingress=[rule("Deny", from_ns("b"))])), CELLS),
    ("c06-baseline-deny-first", (X, Y, cnp("d", "Baseline", 5, ingress=[rule("Deny", from_ns("b"))]),
                                 cnp("a", "Baseline", 7, ingress=[rule("Accept", from_ns("b"))])), CELLS),
    ("c06-baseline-accept-first", (X, Y, cnp("d", "Baseline", 7, ingress=[rule("Deny", from_ns("b"))]),
                                   cnp("a", "Baseline", 5, ingress=[rule("Accept", from_ns("b"))])), CELLS),
    ("c07-networks-match-pods", (X, Y, S1, S2, HOUSE, cnp("p", "Admin", 1, egress=_inline_cidr(False))), CELLS),
    ("c07-relabelled", (X, Y, S1, S2, namespace("slytherin", {"house": "none"}),
                        cnp("p", "Admin", 1, egress=_inline_cidr(False))), CELLS),
    ("c07-pinned-pod", (X, S1, S2, namespace("slytherin", {"house": "none"}),
                        cnp("p", "Admin", 1, egress=_inline_cidr(True))), CELLS),
    ("c08-directions-are-independent", (
        X, Y, cnp("out", "Admin", 1, egress=[rule("Accept", from_ns("b"), "to")]),
        cnp("in", "Admin", 1, subject={"namespaces": by_name("b")}, ingress=[rule("Deny", from_ns("a"))])), CELLS),
    ("c09-named-ports-keep-their-protocol", (X, WEB, cnp("p", "Admin", 1, egress=[
        rule("Accept", [{"namespaces": {}}], "to", protocols=[{"destinationNamedPort": "web"},
                                                             {"destinationNamedPort": "dns"}]),
        rule("Deny", [{"namespaces": {}}], "to")])), NAMED_CELLS),
    ("c10-ingress-named-port-on-the-subject", (SERVER, CLIENT, cnp("p", "Admin", 1, ingress=[
        rule("Accept", [{"namespaces": {}}], protocols=[{"destinationNamedPort": "web"}]),
        rule("Deny", [{"namespaces": {}}])])), NAMED_CELLS),
    ("c10-egress-named-port-on-the-peer", (SERVER, CLIENT, cnp("p", "Admin", 1, subject={"namespaces": by_name("b")},
                                                             egress=[rule("Accept", [{"namespaces": {}}], "to",
                                                                          protocols=[{"destinationNamedPort": "web"}]),
                                                                     rule("Deny", [{"namespaces": {}}], "to")])),
     NAMED_CELLS),
    ("c11-nodes-peers-reach-host-network-pods", (
        X_ON_N1, Y_ON_N2, HOST, cnp("p", "Admin", 1, egress=[
            rule("Accept", [{"nodes": {"matchLabels": {"kubernetes.io/os": "linux"}}}], "to",
                 protocols=[{"tcp": {"destinationPort": {"number": 80}}}]),
            rule("Deny", [{"networks": ["0.0.0.0/0"]}], "to")]),
        *_nodes()), CELLS),
    ("c11-selectors-never-match-host-network-pods", (
        X_ON_N1, HOST, cnp("p", "Admin", 1, egress=[rule("Deny", [{"namespaces": by_name("infra")}], "to"),
                                                    rule("Deny", [{"pods": {"podSelector": {}}}], "to")]),
        *_nodes()), CELLS),
    ("c12-deny-every-node-covers-the-own-node", (
        X_ON_N1, OWN, HOST, cnp("p", "Admin", 1, egress=[rule("Deny", [{"nodes": {}}], "to")]), *_nodes()), CELLS),
    ("c12-own-node-exempt-in-the-networkpolicy-tier", (
        X_ON_N1, OWN, HOST, np_policy("deny-egress", "a", "{podSelector: {}, policyTypes: [Egress]}"),
        cnp("b", "Baseline", 1, egress=[rule("Accept", [{"networks": ["0.0.0.0/0"]}], "to")]), *_nodes()), CELLS),
    ("c13-baseline-ingress-leaves-nodes-alone", (
        X_ON_N1, Y_ON_N2, HOST, cnp("p", "Baseline", 1, ingress=[rule("Deny", [{"namespaces": {}}])]),
        *_nodes()), CELLS),
    ("c15-self-traffic-is-exempt", (X, Y, cnp("p", "Admin", 1, subject={"namespaces": {}},
                                             egress=[rule("Deny", [{"namespaces": {}}], "to")])), CELLS),
    ("c17-equal-priorities-by-name", (X, Y, cnp("b-accept", "Admin", 5, ingress=[rule("Accept", from_ns("b"))]),
                                      cnp("a-deny", "Admin", 5, ingress=[rule("Deny", from_ns("b"))])), CELLS),
    ("c20-one-direction-only", (X, Y, HOST, *_nodes(), cnp("p", "Admin", 1, subject={"namespaces": {}},
                                                         ingress=[rule("Deny", from_ns("a"))])), CELLS),
    ("c04-pass-then-networkpolicy-denies-ingress", (
        X, Y, cnp("pass", "Admin", 1, ingress=[rule("Pass", from_ns("b"))]),
        np_policy("deny-in", "a", "{podSelector: {}, policyTypes: [Ingress]}"),
        cnp("base", "Baseline", 1, ingress=[rule("Accept", from_ns("b"))])), CELLS),
    ("c04-pass-then-networkpolicy-denies-egress", (
        X, Y, cnp("pass", "Admin", 1, egress=[rule("Pass", from_ns("b"), "to")]),
        np_policy("deny-out", "a", "{podSelector: {}, policyTypes: [Egress]}"),
        cnp("base", "Baseline", 1, egress=[rule("Accept", from_ns("b"), "to")])), CELLS),
    ("c08-both-directions-at-once", (
        X, Y, Z, cnp("p", "Admin", 1, subject=EVERYONE,
                     ingress=[rule("Deny", from_ns("c"), protocols=[{"udp": {"destinationPort": {"number": 80}}}])],
                     egress=[rule("Deny", from_ns("b"), "to",
                                  protocols=[{"tcp": {"destinationPort": {"number": 80}}}])])), CELLS),
    ("c10-egress-deny-named-port-per-destination", (
        X, WEB_TCP, WEB_UDP, cnp("p", "Admin", 1, egress=[
            rule("Deny", [EVERYONE], "to", protocols=[{"destinationNamedPort": "web"}])])), NAMED_CELLS),
    ("c10-egress-accept-named-port-per-destination", (
        X, WEB_TCP, WEB_UDP, cnp("p", "Admin", 1, egress=[
            rule("Accept", [EVERYONE], "to", protocols=[{"destinationNamedPort": "web"}]),
            rule("Deny", [EVERYONE], "to")])), NAMED_CELLS),
    ("c11-nodes-peers-by-label", (
        X_ON_N1, HOST, OWN, cnp("p", "Admin", 1, egress=[
            rule("Deny", [{"nodes": {"matchLabels": {"zone": "two"}}}], "to")]), *_zoned_nodes()), CELLS),
    ("c11-admin-ingress-leaves-host-network-pods-alone", (
        X_ON_N1, Y_ON_N2, HOST, OWN, cnp("p", "Admin", 1, subject=EVERYONE,
                                         ingress=[rule("Deny", [EVERYONE])]), *_nodes()), CELLS),
    ("c15-self-traffic-under-an-ingress-deny", (
        X, Y, cnp("p", "Admin", 1, subject=EVERYONE, ingress=[rule("Deny", [EVERYONE])])), CELLS),
    ("c15-self-traffic-under-a-networks-deny", (
        X, Y, cnp("p", "Baseline", 1, subject=EVERYONE,
                  egress=[rule("Deny", [{"networks": ["0.0.0.0/0", "::/0"]}], "to")])), CELLS),
    ("c15-replicas-of-a-workload-are-judged", (
        DEPLOYMENT, Y, cnp("p", "Admin", 1, subject=EVERYONE, ingress=[rule("Deny", from_ns("a"))])), CELLS),
    ("c17-equal-priorities-egress", (X, Y, *_equal("Admin", "to")), CELLS),
    ("c17-equal-priorities-baseline-ingress", (X, Y, *_equal("Baseline", "from")), CELLS),
    ("c17-equal-priorities-baseline-egress", (X, Y, *_equal("Baseline", "to")), CELLS),
    ("udp-only-deny", (X, Y, cnp("p", "Admin", 1, ingress=[rule("Deny", from_ns("b"), protocols=[
        {"udp": {"destinationPort": {"number": 80}}}])])), CELLS),
]


def load_case(docs: tuple[str, ...]) -> Cluster:
    result = load_texts([("case.yaml", "\n---\n".join(docs))], settings=S)
    errors = [d.one_line() for d in result.diagnostics if d.is_error]
    assert not errors, errors
    return result.cluster


def run_lab(cluster: Cluster, cells: list[tuple[Protocol, int]]) -> tuple[control.ProbeRun, list, Engine]:  # type: ignore[type-arg]
    """Bring the cluster up as a lab, enforce it, probe every pair on ``cells`` with the denial stream on."""
    result = control.up(cluster, S, name=LAB, extra_ports=tuple(sorted({port for _, port in cells})))
    control.apply(cluster, S, name=LAB)
    reader = DenialReader(lab_state.load(LAB))  # type: ignore[arg-type]
    try:
        reader.open()
        run = control.probe(cells, name=LAB)
        records = reader.drain(quiet=0.3)
    finally:
        reader.close()
    return run, records, Engine(with_lab_addresses(cluster, LabPlan(result.state.pods)), S)


def check_against_engine(label: str, cluster: Cluster, cells: list[tuple[Protocol, int]]) -> int:
    """Packets == engine on every cell; every drop reported once, naming what the engine says decided.
    Returns how many probes were dropped."""
    run, records, engine = run_lab(cluster, cells)
    connectivity = engine.connectivity()
    for cell in cells:
        measured, expected = run.matrices[cell], connectivity.matrix(*cell)
        assert measured.differences(expected) == (), f"{label} {cell}: packets vs engine {measured.differences(expected)}"
    reported: dict[tuple[str, str, Protocol, int], list[tuple[str, tuple[str, ...]]]] = {}
    for rec in records:
        flow = rec["flow"]
        assert flow["verdict"] == "DROPPED"
        protocol = next(iter(flow["l4"]))
        key = (f"{flow['source']['namespace']}/{flow['source']['pod_name']}",
               f"{flow['destination']['namespace']}/{flow['destination']['pod_name']}",
               Protocol(protocol), flow["l4"][protocol]["destination_port"])
        direction = flow["traffic_direction"].lower()
        named = tuple(_named(p) for p in flow[f"{direction}_denied_by"])
        reported.setdefault(key, []).append((direction, named))
    dropped = {(r.probe.src.key, r.probe.dst.key, r.probe.protocol, r.probe.port)
               for r in run.results if not r.outcome.reached}
    # hostNetwork pods live in the node's namespace, which has no rules: only pods drop.
    assert set(reported) == dropped, f"{label}: denials and dropped probes differ"
    for (src, dst, protocol, port), entries in reported.items():
        verdict = engine.explain(engine.endpoint(src), engine.endpoint(dst), protocol, port)
        side = verdict.egress if not verdict.egress.allowed else verdict.ingress
        assert not side.allowed
        deciding = next((s for s in side.tiers if s.outcome is Outcome.DENY), None)
        if deciding is not None and deciding.tier != "NetworkPolicy":
            assert deciding.rule is not None
            expected = (f"{deciding.tier} {deciding.kind} {deciding.policy} rule {deciding.rule.index}",)
        else:
            expected = tuple(f"NetworkPolicy {k}" for k in side.policies)
        assert entries == [(side.direction.value, expected)], f"{label} {src} -> {dst} {protocol}/{port}"
    return len(dropped)


def _named(entry: dict[str, object]) -> str:
    if entry["kind"] == "NetworkPolicy":
        return f"NetworkPolicy {entry['namespace']}/{entry['name']}"
    return f"{entry['tier']} {entry['kind']} {entry['name']} rule {entry['rule']}"


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_lab_enforces_the_tier_cases_as_the_engine_decides(case: tuple[str, tuple[str, ...], list]) -> None:  # type: ignore[type-arg]
    name, docs, cells = case
    check_against_engine(name, load_case(docs), cells)


def test_the_tier_cases_make_every_tier_drop_packets() -> None:
    """The cases are not vacuous: between them, the engine has each tier deny some probe
    (so the test above saw the lab drop by Admin, NetworkPolicy and Baseline rules)."""
    deciders = set()
    for _, docs, cells in CASES:
        engine = Engine(load_case(docs), S)
        pods = [p for p in engine.cluster.pods if p.is_pod_endpoint(S)]
        for a in pods:
            for b in pods:
                for protocol, port in cells:
                    verdict = engine.explain(engine.endpoint(a.key), engine.endpoint(b.key), protocol, port)
                    for side in (verdict.egress, verdict.ingress):
                        deciders |= {s.tier for s in side.tiers if s.outcome is Outcome.DENY}
    assert deciders == {"Admin", "NetworkPolicy", "Baseline"}


# -- random tiered clusters ----------------------------------------------------------------------

NAMESPACES = ("a", "b", "c")
APPS = ("web", "db")


def random_tiered_cluster(rng: random.Random) -> tuple[str, ...]:
    docs: list[str] = [namespace(ns, {"team": rng.choice(("red", "blue"))}) for ns in NAMESPACES]
    n = 0
    for ns in NAMESPACES:
        for app in APPS:
            if rng.random() < 0.8:
                n += 1
                docs.append(pod(f"{ns}/{app}", {"app": app}, f"10.244.{NAMESPACES.index(ns)}.{n}",
                                ports=[{"name": "http", "containerPort": rng.choice((80, 81)),
                                        "protocol": rng.choice(("TCP", "UDP"))}]))

    def peers() -> list[dict[str, Any]]:
        choice = rng.randrange(4)
        if choice == 0:
            return [{"namespaces": {"matchLabels": {"team": rng.choice(("red", "blue"))}}}]
        if choice == 1:
            return [{"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": rng.choice(APPS)}}}}]
        if choice == 2:
            return [{"namespaces": by_name(rng.choice(NAMESPACES))}]
        return [{"networks": [rng.choice(("10.244.0.0/16", "10.244.1.0/24", "0.0.0.0/0"))]}]

    def protocols() -> dict[str, Any]:
        choice = rng.randrange(4)
        if choice == 0:
            return {}
        if choice == 1:
            return {"protocols": [{"destinationNamedPort": "http"}]}
        proto = rng.choice(("tcp", "udp"))
        return {"protocols": [{proto: {"destinationPort": {"number": rng.choice((80, 81))}}}]}

    def rules(direction: str, tier: str) -> list[dict[str, Any]]:
        actions = ("Accept", "Deny", "Pass")
        out = []
        for _ in range(rng.randint(1, 3)):
            peer_list = peers()
            if direction == "from":
                peer_list = [p for p in peer_list if "networks" not in p] or [{"namespaces": {}}]
            ports = protocols()
            if "networks" in peer_list[0] and "destinationNamedPort" in str(ports):
                ports = {}  # the API refuses named ports beside networks
            out.append(rule(rng.choice(actions), peer_list, direction, **ports))
        return out

    for i in range(rng.randint(1, 3)):
        tier = rng.choice(("Admin", "Baseline"))
        subject = rng.choice(({"namespaces": {}}, {"namespaces": {"matchLabels": {"team": "red"}}},
                              {"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "web"}}}}))
        kwargs: dict[str, Any] = {}
        if rng.random() < 0.7:
            kwargs["ingress"] = rules("from", tier)
        if rng.random() < 0.7 or not kwargs:
            kwargs["egress"] = rules("to", tier)
        docs.append(cnp(f"cnp-{i}", tier, rng.choice((1, 2, 3)), subject=subject, **kwargs))
    for ns in NAMESPACES:
        if rng.random() < 0.4:
            docs.append(np_policy(f"np-{ns}", ns, rng.choice((
                "{podSelector: {}, policyTypes: [Ingress]}",
                "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchLabels: {app: web}}}],"
                " ports: [{port: http, protocol: UDP}]}]}",
                "{podSelector: {}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {}}], ports: [{port: 80}]}]}",
            ))))
    return tuple(docs)


@pytest.mark.parametrize("seed", range(6))
def test_random_tiered_clusters_on_real_packets_match_the_engine(seed: int) -> None:
    rng = random.Random(7700 + seed)
    docs = random_tiered_cluster(rng)
    check_against_engine(f"seed {seed}", load_case(docs), [(TCP, 80), (TCP, 81), (UDP, 80), (UDP, 81)])
