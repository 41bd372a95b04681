"""Staged policies: reading, validation, the promoted view, and both views against the oracle."""

from __future__ import annotations

import random
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracle import oracle_allows, takes_part
from podfence.engine import Engine
from podfence.loader import load_objects, load_texts
from podfence.model import (
    Cluster, ClusterOrigin, LabelSelector, Labels, NetworkPolicy, Pod, PolicyType, StagedAction, StagedNetworkPolicy,
    promoted,
)
from podfence.rollout import StagedViews
from podfence.sets import Protocol
from podfence.validate import validate_staged_policy
from random_clusters import mentioned_ports, random_cluster

PODS = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: cli, namespace: shop, labels: {app: cli}}
---
"""


def staged(name: str, spec: str, namespace: str = "shop", api: str = "projectcalico.org/v3") -> str:
    body = textwrap.indent(textwrap.dedent(spec).strip(), "  ") if spec.strip() else "  {}"
    return (f"apiVersion: {api}\nkind: StagedKubernetesNetworkPolicy\n"
            f"metadata: {{name: {name}, namespace: {namespace}}}\nspec:\n{body}\n---\n")


def enforced(name: str, spec: str, namespace: str = "shop") -> str:
    body = textwrap.indent(textwrap.dedent(spec).strip(), "  ")
    return (f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            f"metadata: {{name: {name}, namespace: {namespace}}}\nspec:\n{body}\n---\n")


def errors(text: str) -> list[str]:
    return [d.one_line() for d in load_texts([("in.yaml", text)]).diagnostics if d.is_error]


# -- reading and validation -------------------------------------------------------------------

def test_set_is_the_default_and_keeps_the_networkpolicy_spec() -> None:
    result = load_texts([("in.yaml", PODS + staged("deny", "podSelector: {}\npolicyTypes: [Ingress]"))])
    assert result.ok
    (s,) = result.cluster.staged
    assert (s.key, s.action) == ("shop/deny", StagedAction.SET)
    assert s.policy == NetworkPolicy("shop", "deny", source=s.source)
    assert result.cluster.policies == ()  # staged, not enforced


def test_explicit_set_and_delete_are_read() -> None:
    text = PODS + staged("a", "stagedAction: Set\npodSelector: {matchLabels: {app: web}}") \
        + staged("b", "stagedAction: Delete")
    by_key = {s.key: s for s in load_texts([("in.yaml", text)]).cluster.staged}
    assert by_key["shop/a"].action is StagedAction.SET and by_key["shop/a"].policy is not None
    assert by_key["shop/b"].action is StagedAction.DELETE and by_key["shop/b"].policy is None


def test_an_unknown_staged_action_is_one_line_naming_the_field() -> None:
    assert errors(PODS + staged("a", "stagedAction: Remove")) == [
        'in.yaml:13: StagedKubernetesNetworkPolicy shop/a: spec.stagedAction: '
        'Unsupported value: "Remove": supported values: "Set", "Delete"']


def test_delete_may_hold_nothing_else_in_its_spec() -> None:
    found = errors(PODS + staged("a", "stagedAction: Delete\npodSelector: {}\ningress: [{}]"))
    assert [line.split(": ", 3)[2] for line in found] == ["spec.podSelector", "spec.ingress"]
    assert all("must be empty when stagedAction is Delete" in line for line in found)


def test_a_set_policy_is_validated_like_a_networkpolicy_with_paths_under_spec() -> None:
    found = errors(PODS + staged("a", """
        ingress:
        - from:
          - ipBlock: {cidr: 10.0.0.0/33}
        policyTypes: [ingress]
    """))
    assert [line.split(": ", 3)[2] for line in found] == ["spec.ingress[0].from[0].ipBlock.cidr", "spec.policyTypes[0]"]


def test_a_wrong_type_of_staged_action_is_reported() -> None:
    diags = validate_staged_policy({"metadata": {"name": "a"}, "spec": {"stagedAction": 1}}, namespace="x")
    assert [(d.code, d.field) for d in diags] == [("S1", ("spec", "stagedAction"))]


def test_other_versions_of_the_group_are_left_out_with_a_note() -> None:
    result = load_texts([("in.yaml", PODS + staged("a", "podSelector: {}", api="projectcalico.org/v1"))])
    assert result.ok and result.cluster.staged == ()
    assert any("StagedKubernetesNetworkPolicy (projectcalico.org/v1)" in n for n in result.notes)


# -- the promoted view --------------------------------------------------------------------------

def base() -> Cluster:
    return load_texts([("in.yaml", PODS + enforced("allow-cli", """
        podSelector: {matchLabels: {app: web}}
        ingress: [{from: [{podSelector: {matchLabels: {app: cli}}}]}]
    """))]).cluster


def with_staged(cluster: Cluster, *staged_policies: StagedNetworkPolicy) -> Cluster:
    return Cluster.of(cluster.namespaces, cluster.pods, cluster.services, cluster.policies, staged=staged_policies)


def test_without_staged_policies_promoted_is_the_cluster_itself() -> None:
    cluster = base()
    assert promoted(cluster) is cluster


def test_the_promoted_view_keeps_cluster_wide_policies_and_nodes() -> None:
    tiers = load_texts([("in.yaml", PODS + staged("deny-all", "podSelector: {}") + """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: allow-cli}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {}}
  ingress: [{action: Accept, from: [{namespaces: {}}]}]
---
apiVersion: v1
kind: Node
metadata: {name: n1}
""")])
    assert tiers.ok, [d.one_line() for d in tiers.diagnostics]
    after = promoted(tiers.cluster)
    assert [p.name for p in after.cluster_policies] == ["allow-cli"] and [n.name for n in after.nodes] == ["n1"]
    engine = Engine(after)
    # The Admin Accept decides before the staged default-deny can.
    assert engine.allowed(engine.endpoint("shop/cli"), engine.endpoint("shop/web")).allows(Protocol.TCP, 80)


def test_set_adds_a_policy_and_replaces_one_of_the_same_name() -> None:
    cluster = base()
    deny = NetworkPolicy("shop", "deny-all")
    replacement = NetworkPolicy("shop", "allow-cli")  # same name, no rule: denies cli too
    after = promoted(with_staged(cluster, StagedNetworkPolicy("shop", "deny-all", policy=deny),
                                 StagedNetworkPolicy("shop", "allow-cli", policy=replacement)))
    assert [p.key for p in after.policies] == ["shop/allow-cli", "shop/deny-all"]
    assert after.policy("shop/allow-cli") == replacement and after.staged == ()
    assert [p.key for p in cluster.policies] == ["shop/allow-cli"]  # the original is untouched


def test_delete_removes_the_enforced_policy_and_ignores_a_missing_one() -> None:
    after = promoted(with_staged(base(), StagedNetworkPolicy("shop", "allow-cli", StagedAction.DELETE),
                                 StagedNetworkPolicy("shop", "nothing", StagedAction.DELETE)))
    assert after.policies == ()


def test_compare_names_the_staged_policies_that_change_a_verdict() -> None:
    deny_egress = NetworkPolicy("shop", "deny-egress", pod_selector=LabelSelector.of({"app": "cli"}),
                                policy_types=(PolicyType.EGRESS,))
    views = StagedViews(with_staged(base(), StagedNetworkPolicy("shop", "deny-egress", policy=deny_egress)))
    cli, web = views.now.endpoint("shop/cli"), views.now.endpoint("shop/web")
    c = views.compare(cli, web, Protocol.TCP, 80)
    assert (c.now.allowed, c.promoted.allowed, c.policies, c.changed) == (True, False, ("shop/deny-egress",), True)
    back = views.compare(web, cli, Protocol.TCP, 80)
    assert back.changed is False and back.policies == ()  # web's egress is not isolated by the staged policy


def test_a_staged_delete_may_allow_what_is_denied_now() -> None:
    cluster = base()
    job = Pod("shop", "job", labels=Labels({"app": "job"}))
    views = StagedViews(Cluster.of(cluster.namespaces, (*cluster.pods, job), (), cluster.policies,
                                   staged=[StagedNetworkPolicy("shop", "allow-cli", StagedAction.DELETE)]))
    web = views.now.endpoint("shop/web")
    c = views.compare(views.now.endpoint("shop/job"), web, Protocol.TCP, 80)
    assert (c.now.allowed, c.promoted.allowed, c.policies) == (False, True, ("shop/allow-cli",))
    c = views.compare(views.now.endpoint("shop/cli"), web, Protocol.TCP, 80)
    assert not c.changed and c.policies == ()  # allowed by the policy now, by no policy then


# -- both views against the oracle on random clusters ------------------------------------------

@pytest.mark.parametrize("seed", range(60))
def test_both_views_agree_with_the_oracle(seed: int) -> None:
    rc = random_cluster(seed)
    rng = random.Random(seed)
    enforced_now: list[NetworkPolicy] = []
    staged_policies: list[StagedNetworkPolicy] = []
    enforced_then: dict[str, NetworkPolicy] = {}
    for policy in rc.cluster.policies:
        roll = rng.random()
        if roll < 0.35:  # staged as a new policy
            staged_policies.append(StagedNetworkPolicy(policy.namespace, policy.name, policy=policy))
            enforced_then[policy.key] = policy
        elif roll < 0.55:  # enforced, and staged for deletion
            enforced_now.append(policy)
            staged_policies.append(StagedNetworkPolicy(policy.namespace, policy.name, StagedAction.DELETE))
        else:
            enforced_now.append(policy)
            enforced_then[policy.key] = policy
    cluster = Cluster.of(rc.cluster.namespaces, rc.cluster.pods, (), enforced_now, staged=staged_policies)
    by_hand = Cluster.of(rc.cluster.namespaces, rc.cluster.pods, (), enforced_then.values())
    views = StagedViews(cluster)
    settings = views.now.settings
    pods = [p for p in rc.cluster.pods if takes_part(p, settings)]
    ports = mentioned_ports(rc.cluster)
    for src in pods:
        for dst in pods:
            for port in ports:
                c = views.compare(views.now.endpoint(src.key), views.now.endpoint(dst.key), Protocol.TCP, port)
                now = oracle_allows(Cluster.of(cluster.namespaces, cluster.pods, (), enforced_now), settings,
                                    src, dst, Protocol.TCP, port)
                then = oracle_allows(by_hand, settings, src, dst, Protocol.TCP, port)
                assert (c.now.allowed, c.promoted.allowed) == (now, then), (src.key, dst.key, port, rc.describe())
                assert bool(c.policies) == (now != then)
    assert Engine(promoted(cluster)).connectivity().connections() == Engine(by_hand).connectivity().connections()


# -- any input: diagnostics, never an exception ------------------------------------------------

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 70000), st.sampled_from(
    ["Set", "Delete", "set", "", "TCP", "Ingress", "Egress", "10.0.0.0/8", "a", "app", "In", "x" * 70]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["podSelector", "ingress", "egress", "policyTypes", "from", "to", "ports",
                                     "port", "protocol", "ipBlock", "cidr", "matchLabels", "stagedAction"]),
                    inner, max_size=4)), max_leaves=12)
_SPECS = st.dictionaries(st.sampled_from(["stagedAction", "podSelector", "ingress", "egress", "policyTypes",
                                          "unknown"]), _VALUES, max_size=4)


@settings(max_examples=300, deadline=None)
@given(spec=_SPECS)
def test_any_staged_spec_gives_diagnostics_or_a_staged_policy(spec: dict[str, object]) -> None:
    doc = {"apiVersion": "projectcalico.org/v3", "kind": "StagedKubernetesNetworkPolicy",
           "metadata": {"name": "p", "namespace": "shop"}, "spec": spec}
    result = load_objects(ClusterOrigin("test"), [doc])
    if result.ok:
        (staged_policy,) = result.cluster.staged
        assert (staged_policy.policy is None) == (spec.get("stagedAction") == "Delete")
        promoted(result.cluster)  # and it can be enforced
    else:
        assert result.cluster.staged == ()
        assert all(d.object == "StagedKubernetesNetworkPolicy shop/p" for d in result.diagnostics if d.is_error)
