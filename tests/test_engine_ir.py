"""The policy IR: NetworkPolicy shapes in translation, the side-decision algebra, invariants.

Translation is checked on manifests loaded through the loader, so the IR sees
exactly the normalised policies the engine sees (defaults applied by the model).
The (allowed, denied, passed) algebra is property-tested; the invariants run over
the random clusters the oracle tests use.
"""

from __future__ import annotations

from textwrap import dedent

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from podfence.engine import (
    Action, AddressPeer, ClusterPods, Engine, IRPolicy, NamedPort, PodsInNamespace, PolicyRef, PolicySet, Ports,
    PortRange, RuleRef, SelectorPeer, SideDecision, Tier, compose, from_network_policy, ir_of, translate,
)
from podfence.loader import load_texts
from podfence.model import SELECT_ALL, Cluster, Direction, LabelSelector, NetworkPolicy, Pod, Settings
from podfence.sets import ConnSet, IntervalSet, IPSet, Protocol, parse_cidr
from podfence.engine.atoms import AtomSpace
from podfence.engine.decision import UNDECIDED_ROWS, TierRows, final_rows
from random_clusters import random_cluster

INGRESS, EGRESS = Direction.INGRESS, Direction.EGRESS
TCP, UDP, SCTP = Protocol.TCP, Protocol.UDP, Protocol.SCTP


def policy(spec: str, *, namespace: str | None = "shop", name: str = "p") -> NetworkPolicy:
    """One NetworkPolicy manifest (``spec`` as YAML) through the loader, normalised."""
    ns_line = f"\n  namespace: {namespace}" if namespace else ""
    text = f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}{ns_line}\nspec:\n"
    text += "\n".join("  " + line for line in dedent(spec).strip().splitlines()) + "\n"
    result = load_texts([("policy.yaml", text)], default_namespace="default")
    assert result.ok, [d.one_line() for d in result.diagnostics]
    (only,) = result.cluster.policies
    return only


def ips(*cidrs: str) -> IPSet:
    out = IPSet()
    for text in cidrs:
        cidr = parse_cidr(text)
        assert cidr is not None
        out = out | IPSet.of_cidr(cidr)
    return out


# -- translation ----------------------------------------------------------------------------


def test_an_empty_policy_is_a_namespace_wide_ingress_deny() -> None:
    ir = from_network_policy(policy("podSelector: {}"))
    assert ir == IRPolicy(PolicyRef("NetworkPolicy", "shop", "p"), Tier.NETWORK_POLICY, None,
                          PodsInNamespace("shop", SELECT_ALL), frozenset({INGRESS}))
    assert (ir.kind, ir.namespace, ir.name, ir.key) == ("NetworkPolicy", "shop", "p", "shop/p")
    assert ir.guarded(INGRESS) and not ir.guarded(EGRESS)
    assert ir.rules(INGRESS) == ir.rules(EGRESS) == ()


def test_the_subject_is_the_pod_selector_in_the_policys_namespace() -> None:
    ir = from_network_policy(policy("podSelector: {matchLabels: {app: web}}"))
    assert ir.subject == PodsInNamespace("shop", LabelSelector.of({"app": "web"}))


def test_a_policy_without_namespace_lands_in_the_default_one() -> None:
    ir = from_network_policy(policy("podSelector: {}", namespace=None))
    assert ir.ref == PolicyRef("NetworkPolicy", "default", "p")
    assert ir.subject == PodsInNamespace("default", SELECT_ALL)


@pytest.mark.parametrize("spec, guards", [
    ("podSelector: {}\ningress: [{}]", {INGRESS}),
    ("podSelector: {}\negress: [{}]", {INGRESS, EGRESS}),  # policyTypes inferred: Ingress plus Egress
    ("podSelector: {}\npolicyTypes: [Egress]", {EGRESS}),
    ("podSelector: {}\npolicyTypes: [Egress, Ingress]", {INGRESS, EGRESS}),
    ("podSelector: {}\npolicyTypes: [Ingress]\negress: [{}]", {INGRESS}),
])
def test_guards_are_the_policy_types_after_defaulting(spec: str, guards: set[Direction]) -> None:
    assert from_network_policy(policy(spec)).guards == frozenset(guards)


def test_rules_of_an_unguarded_direction_are_kept_but_not_guarded() -> None:
    ir = from_network_policy(policy("podSelector: {}\npolicyTypes: [Ingress]\negress: [{}, {}]"))
    assert not ir.guarded(EGRESS)
    assert [r.ref for r in ir.egress] == [RuleRef("shop/p", EGRESS, 0), RuleRef("shop/p", EGRESS, 1)]


def test_every_rule_allows_and_names_its_place() -> None:
    ir = from_network_policy(policy("""
        podSelector: {}
        ingress: [{}, {}]
        egress: [{}]
    """))
    assert [(r.direction, r.index, r.action) for r in (*ir.ingress, *ir.egress)] == [
        (INGRESS, 0, Action.ALLOW), (INGRESS, 1, Action.ALLOW), (EGRESS, 0, Action.ALLOW)]
    assert [str(r.ref) for r in (*ir.ingress, *ir.egress)] == [
        "shop/p spec.ingress[0]", "shop/p spec.ingress[1]", "shop/p spec.egress[0]"]
    assert ir.egress[0].ref.kind == "NetworkPolicy"


def test_a_rule_without_from_or_ports_matches_everyone_on_everything() -> None:
    (rule,) = from_network_policy(policy("podSelector: {}\ningress: [{}]")).ingress
    assert rule.peers == ()
    assert rule.ports == Ports() and rule.ports.everything
    assert rule.ports.numeric == ConnSet.none() and rule.ports.named == ()


def test_peers_in_every_shape_keep_their_order() -> None:
    (rule,) = from_network_policy(policy("""
        podSelector: {}
        ingress:
        - from:
          - podSelector: {matchLabels: {app: fe}}
          - namespaceSelector: {matchLabels: {team: x}}
          - namespaceSelector: {}
            podSelector: {matchLabels: {app: fe}}
          - podSelector: {}
          - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.2.0.0/16]}
          - ipBlock: {cidr: "2001:db8::/32"}
    """)).ingress
    fe = LabelSelector.of({"app": "fe"})
    assert rule.peers == (
        SelectorPeer("shop", None, fe),  # podSelector only: the policy's own namespace
        SelectorPeer(None, LabelSelector.of({"team": "x"}), None),
        SelectorPeer(None, SELECT_ALL, fe),
        SelectorPeer("shop", None, SELECT_ALL),
        AddressPeer(ips("10.0.0.0/8") - ips("10.1.0.0/16", "10.2.0.0/16")),
        AddressPeer(ips("2001:db8::/32")),
    )
    # Explanations print peers as the model does.
    assert [str(p) for p in rule.peers] == [
        "pods [app=fe]", "namespaces [team=x]", "namespaces [(all)] and pods [app=fe]", "pods [(all)]",
        "ipBlock 10.0.0.0/8 except 10.1.0.0/16, 10.2.0.0/16", "ipBlock 2001:db8::/32",
    ]


def test_address_peers_compare_by_addresses_not_by_how_they_are_written() -> None:
    (rule,) = from_network_policy(policy("""
        podSelector: {}
        egress:
        - to:
          - ipBlock: {cidr: 10.0.0.0/24}
          - ipBlock: {cidr: 10.0.0.0/25}
          - ipBlock: {cidr: 10.0.0.128/25}
    """)).egress
    whole, low, high = rule.peers
    assert isinstance(low, AddressPeer) and isinstance(high, AddressPeer)
    assert AddressPeer(low.addresses | high.addresses, "written elsewhere") == whole
    assert len({whole, AddressPeer(ips("10.0.0.0/24"))}) == 1


def test_ports_in_every_shape() -> None:
    (rule,) = from_network_policy(policy("""
        podSelector: {}
        ingress:
        - ports:
          - port: 80
          - {protocol: UDP, port: 53}
          - {port: 8000, endPort: 8080}
          - {protocol: SCTP}
          - {port: http}
          - {protocol: UDP, port: dns}
          - {port: 443, endPort: 443}
    """)).ingress
    assert rule.ports.entries == (
        PortRange(TCP, 80, 80), PortRange(UDP, 53, 53), PortRange(TCP, 8000, 8080), PortRange(SCTP),
        NamedPort("http", TCP), NamedPort("dns", UDP), PortRange(TCP, 443, 443),
    )
    assert not rule.ports.everything
    assert rule.ports.named == (NamedPort("http", TCP), NamedPort("dns", UDP))
    assert rule.ports.numeric == (ConnSet.of_protocol(TCP, IntervalSet.of([(80, 80), (443, 443), (8000, 8080)]))
                                  | ConnSet.ports(UDP, 53) | ConnSet.ports(SCTP))
    assert [str(e) for e in rule.ports.entries] == [
        "TCP 80", "UDP 53", "TCP 8000-8080", "SCTP (all ports)", "TCP http", "UDP dns", "TCP 443"]


def test_a_port_entry_written_like_its_model_reads_the_same() -> None:
    model = policy("""
        podSelector: {}
        ingress:
        - ports: [{port: 80}, {port: 80, endPort: 90}, {protocol: UDP}, {port: 81, endPort: 81}]
    """)
    (rule,) = from_network_policy(model).ingress
    assert [str(e) for e in rule.ports.entries] == [str(e) for e in model.ingress[0].ports]


def test_translate_dispatches_on_the_kind() -> None:
    model = policy("podSelector: {}\ningress: [{}]")
    assert translate(model) == from_network_policy(model)
    with pytest.raises(TypeError, match="no policy translator for Pod"):
        translate(Pod("a", "x"))


def test_the_cluster_ir_is_derived_once_and_in_cluster_order() -> None:
    a, b = policy("podSelector: {}", name="b"), policy("podSelector: {}", namespace="a", name="z")
    cluster = Cluster.of(policies=[a, b])
    ir = ir_of(cluster)
    assert ir is ir_of(cluster)
    assert [p.key for p in ir] == [p.key for p in cluster.policies] == ["a/z", "shop/b"]
    assert ir.policy("shop/b") == from_network_policy(a) and ir.policy("shop/nope") is None
    assert ir.tiers() == (Tier.NETWORK_POLICY,)
    assert ir.in_tier(Tier.ADMIN) == ()
    assert ir_of(Cluster.of()).tiers() == ()


def test_tiers_are_ordered_and_cluster_subjects_fit_the_ir() -> None:
    assert sorted([Tier.BASELINE, Tier.NETWORK_POLICY, Tier.ADMIN]) == [Tier.ADMIN, Tier.NETWORK_POLICY,
                                                                        Tier.BASELINE]
    admin = IRPolicy(PolicyRef("ClusterNetworkPolicy", None, "deny-all"), Tier.ADMIN, 10,
                     ClusterPods(SELECT_ALL), frozenset({EGRESS}))
    assert admin.key == "deny-all" and admin.namespace is None
    assert PolicySet((admin,)).tiers() == (Tier.ADMIN,)


def test_with_policies_adds_and_replaces_by_key() -> None:
    old = policy("podSelector: {}", name="p")
    new = policy("podSelector: {}\npolicyTypes: [Egress]", name="p")
    other = policy("podSelector: {}", name="q")
    cluster = Cluster.of(policies=[old])
    after = cluster.with_policies([new, other])
    assert [p.key for p in after.policies] == ["shop/p", "shop/q"]
    assert after.policy("shop/p") == new and cluster.policy("shop/p") == old
    assert ir_of(after).policy("shop/p").guards == frozenset({EGRESS})  # type: ignore[union-attr]


# -- the (allowed, denied, passed) algebra ------------------------------------------------------

PORT_VALUES = [1, 2, 3, 52, 53, 54, 65534, 65535]
port_sets = st.lists(st.tuples(st.sampled_from(PORT_VALUES), st.sampled_from(PORT_VALUES)),
                     max_size=3).map(IntervalSet.of)
conns = st.builds(ConnSet, port_sets, port_sets, port_sets, st.booleans())
actions = st.sampled_from(list(Action))
rules = st.lists(st.tuples(actions, conns), max_size=5)


@st.composite
def decisions(draw: st.DrawFn) -> SideDecision:
    """Any decision a tier can make: first match over some rules, the rest to one action."""
    return SideDecision.first_match(draw(rules), draw(actions))


def partitions(d: SideDecision) -> bool:
    every = ConnSet.all()
    return (not (d.allowed & d.denied) and not (d.allowed & d.passed) and not (d.denied & d.passed)
            and (d.allowed | d.denied | d.passed) == every)


@given(decisions())
def test_the_three_sets_partition_everything(d: SideDecision) -> None:
    assert partitions(d)
    assert d.final() == d.allowed | d.passed == ConnSet.all() - d.denied
    assert [d.of(a) for a in Action] == [d.allowed, d.denied, d.passed]


@given(conns)
def test_an_isolated_side_allows_its_rules_and_denies_the_rest(allowed: ConnSet) -> None:
    d = SideDecision.decided(allowed)
    assert partitions(d)
    assert (d.allowed, d.passed, d.final()) == (allowed, ConnSet.none(), allowed)


def test_a_side_nobody_decides_passes_everything_to_default_allow() -> None:
    d = SideDecision.undecided()
    assert partitions(d)
    assert (d.allowed, d.denied, d.passed) == (ConnSet.none(), ConnSet.none(), ConnSet.all())
    assert d.final() == ConnSet.all()
    assert compose([]) == d


@given(st.lists(conns, max_size=5))
def test_allow_rules_under_isolation_are_their_union(matched: list[ConnSet]) -> None:
    # The NetworkPolicy tier: rules only allow, so first match and union agree.
    union = ConnSet.none()
    for c in matched:
        union = union | c
    assert SideDecision.first_match([(Action.ALLOW, c) for c in matched], Action.DENY) == SideDecision.decided(union)


@given(rules, actions)
def test_first_match_gives_each_connection_to_the_first_rule_that_matches_it(
        matches: list[tuple[Action, ConnSet]], otherwise: Action) -> None:
    d = SideDecision.first_match(matches, otherwise)
    for proto in (TCP, UDP):
        for port in PORT_VALUES:
            first = next((a for a, c in matches if c.allows(proto, port)), otherwise)
            assert d.of(first).allows(proto, port), (proto, port)


@given(decisions(), decisions(), decisions())
def test_tiers_compose_associatively(a: SideDecision, b: SideDecision, c: SideDecision) -> None:
    assert a.then(b).then(c) == a.then(b.then(c))
    assert compose([a, b, c]) == a.then(b).then(c)
    assert partitions(a.then(b))


@given(decisions(), decisions())
def test_a_later_tier_decides_only_what_the_earlier_passed(a: SideDecision, b: SideDecision) -> None:
    both = a.then(b)
    assert a.allowed.issubset(both.allowed) and a.denied.issubset(both.denied)
    assert both.passed == a.passed & b.passed
    assert both.allowed - a.allowed == a.passed & b.allowed


@given(decisions(), conns)
def test_undecided_is_neutral_and_decided_is_final(d: SideDecision, allowed: ConnSet) -> None:
    undecided = SideDecision.undecided()
    assert undecided.then(d) == d == d.then(undecided)
    final = SideDecision.decided(allowed)
    assert final.then(d) == final
    assert compose([final, d]) == final


@given(st.lists(decisions(), max_size=4), st.lists(conns, min_size=1, max_size=3))
def test_bit_rows_compose_like_the_exact_decisions(tiers: list[SideDecision], remotes: list[ConnSet]) -> None:
    # Each remote class gets its own decision per tier: the tier's sets narrowed to one ConnSet.
    narrowed = [[SideDecision(d.allowed & r, d.denied | (ConnSet.all() - r), d.passed & r) for r in remotes]
                for d in tiers]
    atoms = AtomSpace([c for row in narrowed for d in row for c in (d.allowed, d.denied, d.passed)])
    everything = np.broadcast_to(atoms.encode(ConnSet.all()), (len(remotes), atoms.words))

    def rows(row: list[SideDecision]) -> TierRows:
        if all(d.passed.is_all() for d in row):
            return UNDECIDED_ROWS
        allowed = np.stack([atoms.encode(d.allowed) for d in row])
        passed = np.stack([atoms.encode(d.passed) for d in row])
        return TierRows(allowed if allowed.any() else None, passed if passed.any() else None)

    got = final_rows([rows(row) for row in narrowed], everything)
    for i in range(len(remotes)):
        assert atoms.decode(got[i]) == compose(row[i] for row in narrowed).final()


# -- invariants over random clusters ---------------------------------------------------------


@pytest.mark.parametrize("seed", range(40))
def test_the_ir_mirrors_the_model_rule_for_rule(seed: int) -> None:
    cluster = random_cluster(seed).cluster
    ir = ir_of(cluster)
    assert len(ir) == len(cluster.policies)
    for model, p in zip(cluster.policies, ir):
        assert p.key == model.key and p.subject == PodsInNamespace(model.namespace, model.pod_selector)
        for direction in Direction:
            assert p.guarded(direction) == model.guards(direction)
            assert len(p.rules(direction)) == len(model.rules(direction))
            for i, (rule, written) in enumerate(zip(p.rules(direction), model.rules(direction))):
                assert rule.ref == RuleRef(model.key, direction, i)
                assert len(rule.peers) == len(written.peers) and len(rule.ports.entries) == len(written.ports)
                for peer, w in zip(rule.peers, written.peers):
                    assert isinstance(peer, AddressPeer) == (w.ip_block is not None)
                numeric = ConnSet.none()
                for e in written.ports:
                    numeric = numeric | e.numeric()
                assert rule.ports.numeric == numeric


@pytest.mark.parametrize("seed", range(25))
def test_pair_decisions_partition_and_agree_with_allowed(seed: int) -> None:
    cluster = random_cluster(seed).cluster
    engine = Engine(cluster, Settings())
    pods = [p for p in cluster.pods if p.takes_part(engine.settings)][:8]
    for src in pods:
        for dst in pods:
            a, b = engine.endpoint(src.key), engine.endpoint(dst.key)
            sides = engine.decisions(a, b)
            assert all(partitions(d) for path in sides for d in path)
            if src == dst and src.kind == "Pod":
                continue  # self traffic is decided before the tiers
            expected = ConnSet.none()
            for egress, ingress in sides:
                expected = expected | (egress.final() & ingress.final())
            assert engine.allowed(a, b) == expected, (src.key, dst.key)
