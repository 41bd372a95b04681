"""NP6xx: cluster-wide policies (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy).

Every rule reads what the evaluators do (docs/tiers.md): footprints of rules come
from :mod:`podfence.lint.tiers`, isolation from the NetworkPolicy tier's own facts.
"""

from __future__ import annotations

from typing import Iterator

from podfence.engine import Action, IRPolicy, IRRule, Tier
from podfence.lint.context import LintContext, peer_field, pod_list, rule_field
from podfence.lint.rule import Category, Hit, rule
from podfence.lint.tiers import Footprint, tier_facts
from podfence.model import ClusterPolicy, Direction, NetworksPeer, Severity
from podfence.model.words import shortened

V1ALPHA1_KINDS = {"AdminNetworkPolicy": "Admin", "BaselineAdminNetworkPolicy": "Baseline"}


def _model(ctx: LintContext, policy: IRPolicy) -> ClusterPolicy:
    """The cluster-wide policy as written, for an IR policy of the Admin or Baseline tier."""
    found: dict[tuple[str, str], ClusterPolicy] | None = ctx.memo.get("cluster-policies")  # type: ignore[assignment]
    if found is None:
        found = {(p.kind, p.name): p for p in ctx.cluster.cluster_policies}
        ctx.memo["cluster-policies"] = found
    return found[(policy.kind, policy.name)]


def _tier(policy: IRPolicy) -> str:
    return "Admin" if policy.tier is Tier.ADMIN else "Baseline"


def policy_text(policy: IRPolicy) -> str:
    """``ClusterNetworkPolicy deny-all (Admin priority 10)``."""
    return f"{policy.kind} {policy.name} ({_tier(policy)} priority {policy.priority})"


def rule_text(rule_: IRRule) -> str:
    """``spec.ingress[1] (allow-dns)``."""
    return f"{rule_.ref.field} ({rule_.ref.name})" if rule_.ref.name else rule_.ref.field


def _word(action: Action) -> str:
    return {Action.ALLOW: "Accept", Action.DENY: "Deny", Action.PASS: "Pass"}[action]


def this_rule(rule_: IRRule) -> str:
    """``the Accept rule scrape`` (the field path already says where it is)."""
    return f"the {_word(rule_.action)} rule {rule_.ref.name}" if rule_.ref.name else f"this {_word(rule_.action)} rule"


@rule(
    id="NP601", name="cluster-rule-shadowed", severity=Severity.WARNING, category=Category.TIERS,
    summary="A rule of a cluster-wide policy never decides anything: earlier rules take every connection it matches.",
    rationale="""
        Within a tier, policies run by priority and rules in order; the first rule that
        matches a connection decides it. A rule whose every connection (for every pod the
        policy selects, every remote pod and address, every protocol and port) is matched
        first by an earlier rule of the same policy or by a policy of the same tier that
        runs before it never decides anything. Its action is not what happens: the rule is
        dead, and often the sign of rules written in the wrong order or a priority number
        that is too high. Computed exactly with the engine's sets over the pods and
        addresses of the input.
    """,
    fix="Move the rule before the rules that take its connections (or give its policy a lower priority "
        "number), or delete it.",
)
def cluster_rule_shadowed(ctx: LintContext) -> Iterator[Hit]:
    facts = tier_facts(ctx)
    for tier in (Tier.ADMIN, Tier.BASELINE):
        for direction in Direction:
            ordered = facts.ordered(tier, direction)
            for k, policy in enumerate(ordered):
                subjects = facts.subjects(policy)
                if not subjects:
                    continue
                for i, rule_ in enumerate(policy.rules(direction)):
                    takers: dict[str, str] = {}
                    matched = False
                    shadowed = True
                    for cls, pod in subjects.items():
                        mine = facts.footprint(rule_, pod)
                        if not mine:
                            continue
                        matched = True
                        earlier: list[tuple[str, Footprint]] = [
                            (f"{rule_text(r)} of this policy", facts.footprint(r, pod))
                            for r in policy.rules(direction)[:i]]
                        for other in ordered[:k]:
                            if cls in facts.subjects(other):
                                earlier += [(f"{policy_text(other)} {rule_text(r)}", facts.footprint(r, pod))
                                            for r in other.rules(direction)]
                        if not mine.covered_by(f for _, f in earlier):
                            shadowed = False
                            break
                        for text, f in earlier:
                            if f.overlaps(mine):
                                takers.setdefault(text, text)
                    if matched and shadowed:
                        yield Hit(_model(ctx, policy),
                                  f"{this_rule(rule_)} never decides anything: every "
                                  f"connection it matches is matched first by {shortened(list(takers), 3)}",
                                  rule_field(direction, i))


@rule(
    id="NP602", name="cluster-priority-overlap", severity=Severity.WARNING, category=Category.TIERS,
    summary="Two cluster-wide policies of one tier share a priority, select the same pods, and their rules "
            "match the same connections with different actions.",
    rationale="""
        The API leaves the order of policies with equal priorities in one tier open: an
        implementation may run either first. When both select a pod and one policy's rule
        accepts (or passes) a connection that the other's denies, the verdict depends on
        that order. podfence runs them by name (and warns with T1 about every shared
        priority); a cluster may not. Only overlaps that change an answer are reported.
    """,
    fix="Give the policies different priorities, in the order you mean them to run.",
)
def cluster_priority_overlap(ctx: LintContext) -> Iterator[Hit]:
    facts = tier_facts(ctx)
    for tier in (Tier.ADMIN, Tier.BASELINE):
        for direction in Direction:
            ordered = facts.ordered(tier, direction)
            for k, later in enumerate(ordered):
                for first in ordered[:k]:
                    if first.priority != later.priority:
                        continue
                    hit = _conflict(facts, first, later, direction)
                    if hit is not None:
                        mine, theirs, pod = hit
                        yield Hit(_model(ctx, later),
                                  f"shares {_tier(later)} priority {later.priority} with {first.kind} {first.name}, "
                                  f"and at {pod} its {rule_text(mine)} ({_word(mine.action)}) and their "
                                  f"{rule_text(theirs)} ({_word(theirs.action)}) match the same connections: "
                                  f"the verdict depends on which runs first, which the API leaves open",
                                  ("spec", "priority") if later.kind != "BaselineAdminNetworkPolicy"
                                  else ("metadata", "name"))


def _conflict(facts, first: IRPolicy, later: IRPolicy,  # type: ignore[no-untyped-def]
              direction: Direction) -> tuple[IRRule, IRRule, str] | None:
    theirs_subjects = facts.subjects(first)
    for cls, pod in facts.subjects(later).items():
        if cls not in theirs_subjects:
            continue
        for mine in later.rules(direction):
            fm = facts.footprint(mine, pod)
            if not fm:
                continue
            for theirs in first.rules(direction):
                if theirs.action is not mine.action and facts.footprint(theirs, pod).overlaps(fm):
                    return mine, theirs, pod.key
    return None


@rule(
    id="NP603", name="pass-with-nothing-below", severity=Severity.WARNING, category=Category.TIERS,
    summary="A Pass rule hands connections to tiers below that decide nothing for them, so they are allowed.",
    rationale="""
        Pass leaves a connection to the tiers below: the NetworkPolicies of the pod, then
        the Baseline tier, then the default, which allows. When no NetworkPolicy isolates
        any pod the policy selects in that direction and no Baseline rule matches what the
        Pass rule matches, everything it passes is simply allowed: the rule reads like a
        guard but acts as Accept. A Pass in the Baseline tier always does this (only the
        default is below it).
    """,
    fix="Write Accept if the connections are meant to be allowed; otherwise add the NetworkPolicy or "
        "Baseline rule that should decide them, or Deny them here.",
)
def pass_with_nothing_below(ctx: LintContext) -> Iterator[Hit]:
    facts = tier_facts(ctx)
    for tier in (Tier.ADMIN, Tier.BASELINE):
        for policy, direction, rule_ in facts.rules(tier):
            if rule_.action is not Action.PASS:
                continue
            subjects = facts.subjects(policy)
            if not any(facts.footprint(rule_, pod) for pod in subjects.values()):
                continue
            if tier is Tier.BASELINE:
                yield Hit(_model(ctx, policy), f"{this_rule(rule_)} is in the Baseline tier: only the default "
                          "is below it, so every connection it matches is allowed", rule_field(direction, rule_.index))
                continue
            if any(ctx.isolating(pod, direction) for pod in ctx.selected[policy.key]):
                continue
            below = facts.ordered(Tier.BASELINE, direction)
            if any(facts.footprint(r, pod).overlaps(facts.footprint(rule_, pod))
                   for pod in subjects.values() for b in below if facts.subject_class(pod) in facts.subjects(b)
                   for r in b.rules(direction)):
                continue
            yield Hit(_model(ctx, policy),
                      f"{this_rule(rule_)} passes on, but no NetworkPolicy isolates {pod_list(ctx.selected[policy.key])} "
                      f"for {direction.value} and no Baseline rule matches what it passes: every connection it "
                      f"matches is allowed", rule_field(direction, rule_.index))


@rule(
    id="NP604", name="admin-accept-overrides-default-deny", severity=Severity.NOTE, category=Category.TIERS,
    summary="An Admin Accept rule lets connections past a namespace's default-deny NetworkPolicy.",
    rationale="""
        The Admin tier runs before NetworkPolicies, and Accept is final for its direction.
        A namespace whose owners wrote a default-deny still receives (or sends) whatever an
        Admin Accept rule matches, and nothing in the namespace shows it. That is often the
        point (monitoring, DNS), so this is a note: it names the namespaces and the
        default-deny policies an Admin rule overrides, so that both sides know.
    """,
    fix="Nothing, when the override is meant; tell the namespace owners. Otherwise use Pass to leave the "
        "decision to their NetworkPolicies, or narrow the rule's subject.",
)
def admin_accept_overrides_default_deny(ctx: LintContext) -> Iterator[Hit]:
    facts = tier_facts(ctx)
    for policy, direction, rule_ in facts.rules(Tier.ADMIN):
        if rule_.action is not Action.ALLOW:
            continue
        spaces: dict[str, list[str]] = {}
        for pod in facts.subjects(policy).values():
            if pod.namespace in spaces or not facts.footprint(rule_, pod):
                continue
            denies = ctx.default_deny(pod.namespace, direction)
            if denies:
                spaces[pod.namespace] = [p.key for p in denies]
        for ns, keys in sorted(spaces.items()):
            yield Hit(_model(ctx, policy),
                      f"{this_rule(rule_)} accepts {direction.value} for pods of {ns} that "
                      f"{shortened(keys, 3)} denies by default (the Admin tier runs first)",
                      rule_field(direction, rule_.index))


@rule(
    id="NP605", name="baseline-rule-unreachable", severity=Severity.WARNING, category=Category.TIERS,
    summary="A Baseline rule can never decide anything: NetworkPolicies isolate every pod its policy selects.",
    rationale="""
        The Baseline tier only decides what the NetworkPolicy tier leaves undecided, and a
        NetworkPolicy that isolates a pod decides every connection of that direction for
        it. When every pod a Baseline policy selects is isolated in the rule's direction,
        no connection reaches the rule: the guardrail it was meant to be is not there, and
        a change to it changes nothing.
    """,
    fix="Move the guardrail to the Admin tier (with Pass for what namespaces should decide), or delete it.",
)
def baseline_rule_unreachable(ctx: LintContext) -> Iterator[Hit]:
    facts = tier_facts(ctx)
    for policy, direction, rule_ in facts.rules(Tier.BASELINE):
        pods = ctx.selected[policy.key]
        if pods and all(ctx.isolating(p, direction) for p in pods):
            yield Hit(_model(ctx, policy),
                      f"{this_rule(rule_)} is never reached: NetworkPolicies isolate every pod the policy selects "
                      f"({pod_list(pods)}) for {direction.value}, and their verdict is final",
                      rule_field(direction, rule_.index))


@rule(
    id="NP606", name="networks-deny-hits-pods", severity=Severity.WARNING, category=Category.TIERS,
    summary="A Deny rule's `networks` CIDRs also hold pod IPs, so it denies pod-to-pod traffic too.",
    rationale="""
        Unlike a NetworkPolicy's ipBlock, a cluster-wide policy's `networks` peer matches
        any address, pod IPs included. A Deny of `0.0.0.0/0` meant for "the internet" also
        denies traffic to (or from) every pod whose IP is inside, unless an earlier rule
        accepts it.
    """,
    fix="Accept or Pass the cluster's pod traffic in an earlier rule, or write the CIDRs without the pod "
        "network.",
)
def networks_deny_hits_pods(ctx: LintContext) -> Iterator[Hit]:
    for policy in ctx.cluster.cluster_policies:
        for direction, rules in ((Direction.INGRESS, policy.ingress), (Direction.EGRESS, policy.egress)):
            for i, rule_ in enumerate(rules):
                if rule_.action != "Deny":
                    continue
                for j, peer in enumerate(rule_.peers):
                    if not isinstance(peer, NetworksPeer):
                        continue
                    inside = [p for p in ctx.endpoints if any(ip in peer.addresses for ip in p.ips)]
                    if inside:
                        yield Hit(policy, f"{', '.join(peer.cidrs)} holds the pod IPs of {pod_list(inside)}: "
                                  f"this Deny also denies their pod-to-pod traffic",
                                  peer_field(direction, i, j, "networks"))


@rule(
    id="NP607", name="v1alpha1-cluster-policy", severity=Severity.NOTE, category=Category.TIERS,
    summary="An AdminNetworkPolicy or BaselineAdminNetworkPolicy (v1alpha1), replaced by ClusterNetworkPolicy.",
    rationale="""
        `policy.networking.k8s.io/v1alpha1` AdminNetworkPolicy and
        BaselineAdminNetworkPolicy are replaced upstream by ClusterNetworkPolicy
        (`v1alpha2`, tiers Admin and Baseline). Clusters that serve v1alpha2 will drop the
        old kinds; `podfence convert` writes the equivalent ClusterNetworkPolicy and proves
        the connectivity unchanged.
    """,
    fix="Run `podfence convert -f FILE -o NEW.yaml`, review, and apply the ClusterNetworkPolicy instead.",
)
def v1alpha1_cluster_policy(ctx: LintContext) -> Iterator[Hit]:
    for policy in ctx.cluster.cluster_policies:
        tier = V1ALPHA1_KINDS.get(policy.kind)
        if tier is not None:
            yield Hit(policy, f"{policy.kind} is v1alpha1: write it as a ClusterNetworkPolicy (v1alpha2) in the "
                      f"{tier} tier; `podfence convert -f FILE` does it and proves the connectivity unchanged",
                      ("kind",))
