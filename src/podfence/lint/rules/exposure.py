"""NP4xx: more allowed than a workload should accept or send."""

from __future__ import annotations

from typing import Iterator

from podfence.engine import SelectorPeer, rule_conns
from podfence.lint.context import (
    LintContext, allows_all, peer_field, pod_list, rule_addresses, rule_field,
)
from podfence.lint.rule import Category, Hit, rule
from podfence.model import Direction, Pod, Severity
from podfence.model.internet import covers_internet
from podfence.model.words import conns_text
from podfence.sets import ALL_PORTS, ConnSet, Protocol

_EXPOSED_TYPES = ("LoadBalancer", "NodePort")


def exposed_ports(ctx: LintContext, pod: Pod) -> ConnSet:
    """Target ports of LoadBalancer and NodePort Services in front of ``pod`` (meant to face outside)."""
    out = ConnSet.none()
    for svc in ctx.services_of(pod):
        if svc.type not in _EXPOSED_TYPES:
            continue
        for sp in svc.ports:
            for n in svc.target_numbers(sp, pod, ctx.settings):
                out = out | ConnSet.ports(sp.protocol, n)
    return out


@rule(
    id="NP401", name="ingress-from-all-namespaces", severity=Severity.WARNING, category=Category.EXPOSURE,
    summary="An ingress rule admits every pod of every namespace.",
    rationale="""
        A peer `namespaceSelector: {}` without a podSelector (or one that matches every
        namespace there is) admits every pod in the cluster, including namespaces created
        later and every compromised workload. It is rarely what a service needs; name the
        client namespaces and pods. Cluster DNS pods are exempt: every pod must reach them.
    """,
    options=("dns.namespace", "dns.pod_labels"),
    fix="Name the client namespaces, and the client pods in the same peer.",
)
def ingress_from_all_namespaces(ctx: LintContext) -> Iterator[Hit]:
    everyone = ctx.cluster.namespaces
    dns = {p.key for p in ctx.dns_pods}
    for policy, direction, i, rule_ in ctx.guarded_rules():
        if direction is not Direction.INGRESS:
            continue
        subjects = [p for p in ctx.selected[policy.key] if p.key not in dns]
        if not subjects:
            continue
        for j, peer in enumerate(rule_.peers):
            if not isinstance(peer, SelectorPeer):
                continue
            sel = peer.namespace_selector
            if sel is None or (peer.pod_selector is not None and not peer.pod_selector.is_empty()):
                continue
            if sel.is_empty() or (len(everyone) > 1 and len(ctx.namespaces_matching(sel)) == len(everyone)):
                scope = "every namespace, present and future," if sel.is_empty() else \
                    f"all {len(everyone)} namespaces"
                conns = rule_conns(rule_, subjects[0], ctx.settings)
                yield Hit(policy, f"admits every pod of {scope} to {pod_list(subjects)} on {conns_text(conns)}",
                          peer_field(direction, i, j, "namespaceSelector"))


@rule(
    id="NP402", name="ingress-from-internet", severity=Severity.WARNING, category=Category.EXPOSURE,
    summary="An ingress rule admits every internet address, beyond what a public Service exposes.",
    rationale="""
        A rule without `from`, or with an ipBlock covering every public address, lets the
        whole internet in (as far as the network lets it reach the pod). That is right for
        the port a LoadBalancer or NodePort Service exposes, and those target ports are not
        reported; anything else (admin ports, metrics, every port) usually is not.
    """,
    fix="Restrict the sources (office or VPN ranges, the load balancer's range) and the ports.",
)
def ingress_from_internet(ctx: LintContext) -> Iterator[Hit]:
    for policy, direction, i, rule_ in ctx.guarded_rules():
        if direction is not Direction.INGRESS or not covers_internet(rule_addresses(rule_)):
            continue
        open_pods, conns = [], ConnSet.none()
        for pod in ctx.selected[policy.key]:
            extra = rule_conns(rule_, pod, ctx.settings) - exposed_ports(ctx, pod)
            if extra:
                open_pods.append(pod)
                conns = conns | extra
        if open_pods:
            yield Hit(policy, f"admits every internet address to {pod_list(open_pods)} on {conns_text(conns)}",
                      rule_field(direction, i))


@rule(
    id="NP403", name="egress-to-internet-unrestricted", severity=Severity.WARNING,
    category=Category.EXPOSURE,
    summary="An egress rule allows every internet address on every port.",
    rationale="""
        Egress to `0.0.0.0/0` (or `::/0`, or no `to` at all) on every port is the path data
        leaves by. Egress to the internet on a few ports (443 to an API, 587 to a mail
        relay) is a decision; on every port it is the absence of one.
    """,
    fix="Allow the ports the workload needs, and narrower destinations where they are known.",
)
def egress_to_internet_unrestricted(ctx: LintContext) -> Iterator[Hit]:
    for policy, direction, i, rule_ in ctx.guarded_rules():
        if direction is not Direction.EGRESS or not ctx.selected[policy.key]:
            continue
        if not covers_internet(rule_addresses(rule_)):
            continue
        conns = rule_conns(rule_, None, ctx.settings)
        wide = [p for p in (Protocol.TCP, Protocol.UDP) if conns.for_protocol(p) == ALL_PORTS]
        if wide:
            yield Hit(policy, f"lets {pod_list(ctx.selected[policy.key])} send to every internet address on "
                              f"every {' and '.join(wide)} port", rule_field(direction, i))


@rule(
    id="NP404", name="allow-all-overrides-default-deny", severity=Severity.WARNING,
    category=Category.EXPOSURE,
    summary="A namespace-wide allow-all rule makes the namespace's default deny meaningless.",
    rationale="""
        Policies add up: a policy that selects every pod and allows everything (`ingress:
        [{}]`) undoes the default deny of the same namespace, for every pod, silently. It is
        typically added to debug a connection and never removed.
    """,
    fix="Delete the allow-all policy and allow the specific traffic that was needed.",
)
def allow_all_overrides_default_deny(ctx: LintContext) -> Iterator[Hit]:
    for policy, direction, i, rule_ in ctx.guarded_rules():
        if not policy.pod_selector.is_empty() or not allows_all(rule_):
            continue
        denies = [d.key for d in ctx.default_deny(policy.namespace, direction) if d.key != policy.key]
        if denies:
            yield Hit(policy, f"allows all {direction.value} for every pod of {policy.namespace}, which makes "
                              f"{', '.join(denies)} meaningless", rule_field(direction, i))


@rule(
    id="NP405", name="exposed-service-not-isolated", severity=Severity.WARNING, category=Category.EXPOSURE,
    summary="Pods behind a LoadBalancer or NodePort Service are not isolated for ingress.",
    rationale="""
        A LoadBalancer or NodePort Service makes its pods reachable from outside the
        cluster. If no policy isolates them for ingress, every port of those pods is open
        to whoever reaches the node or the load balancer, not just the Service's port.
    """,
    fix="Isolate the pods for ingress and allow only the Service's target ports from outside.",
)
def exposed_service_not_isolated(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.endpoints:
        if ctx.isolating(pod, Direction.INGRESS):
            continue
        services = [s.key for s in ctx.services_of(pod) if s.type in _EXPOSED_TYPES]
        if services:
            yield Hit(pod, f"exposed outside the cluster by Service {', '.join(services)} and not isolated for "
                           f"ingress: every port is open")


