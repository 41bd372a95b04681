"""NP1xx: which pods are isolated, and whether isolated pods can still resolve names.

Coverage rules skip the namespaces in ``lint.exclude_namespaces`` (kube-system by
default): system namespaces are usually managed elsewhere.
"""

from __future__ import annotations

from typing import Iterator

from podfence.engine import Endpoint, Remote, Tier, rule_conns, rule_peers_match
from podfence.lint.context import LintContext, pod_list
from podfence.lint.rule import Category, Hit, rule
from podfence.model import Direction, Pod, Severity
from podfence.model.dns import DNS_PORT
from podfence.model.words import plural
from podfence.sets import ConnSet, Protocol


def _are(pods: list[Pod]) -> str:
    return "is" if len(pods) == 1 else "are"


def _default_deny_missing(ctx: LintContext, direction: Direction) -> Iterator[Hit]:
    word = direction.policy_type.value
    for ns in ctx.cluster.namespaces:
        pods = ctx.endpoints_by_ns.get(ns.name, [])
        if ctx.excluded(ns.name) or not pods or ctx.default_deny(ns.name, direction):
            continue
        open_pods = [p for p in pods if not ctx.isolating(p, direction)]
        tail = (f"; {len(open_pods)} of its {plural(len(pods), 'pod')} {_are(open_pods)} not isolated for "
                f"{direction.value}: "
                f"{pod_list(open_pods)}" if open_pods else
                "; today each of its pods has a policy of its own, but the next one will not")
        yield Hit(ns, f"no policy with an empty podSelector and policyTypes {word} isolates the whole "
                      f"namespace{tail}")


@rule(
    id="NP101", name="namespace-without-default-deny-ingress", severity=Severity.WARNING,
    category=Category.COVERAGE,
    summary="A namespace with pods has no default-deny policy for ingress.",
    rationale="""
        Without a policy that selects every pod (`podSelector: {}`) for ingress, any pod
        that no other policy selects accepts connections from every pod in the cluster and
        from outside. New workloads start open, and nobody notices until something is
        reached that should not be.
    """,
    options=("lint.exclude_namespaces",),
    fix="""
        Add a NetworkPolicy with `podSelector: {}` and `policyTypes: [Ingress]` (and no
        ingress rules) to the namespace, then allow what each workload needs.
    """,
)
def namespace_without_default_deny_ingress(ctx: LintContext) -> Iterator[Hit]:
    yield from _default_deny_missing(ctx, Direction.INGRESS)


@rule(
    id="NP102", name="namespace-without-default-deny-egress", severity=Severity.NOTE,
    category=Category.COVERAGE,
    summary="A namespace with pods has no default-deny policy for egress.",
    rationale="""
        Egress isolation limits what a compromised pod can reach: other namespaces, the
        cloud metadata service, the internet. Without a namespace-wide egress policy, pods
        may send anywhere. Many teams start with ingress only, so this is a note.
    """,
    options=("lint.exclude_namespaces",),
    fix="""
        Add a NetworkPolicy with `podSelector: {}` and `policyTypes: [Egress]`, plus an
        egress rule for cluster DNS, then allow the destinations each workload needs.
    """,
)
def namespace_without_default_deny_egress(ctx: LintContext) -> Iterator[Hit]:
    yield from _default_deny_missing(ctx, Direction.EGRESS)


def _not_isolated(ctx: LintContext, direction: Direction) -> Iterator[Hit]:
    for ns, pods in ctx.endpoints_by_ns.items():
        if ctx.excluded(ns):
            continue
        guarding = [p for p in ctx.ir.in_tier(Tier.NETWORK_POLICY) if p.namespace == ns and p.guarded(direction)]
        if not guarding:
            continue  # the namespace-wide rule (NP101/NP102) says it once for the namespace
        for pod in pods:
            if not ctx.isolating(pod, direction):
                many = len(guarding) > 1
                other_end = "source" if direction is Direction.INGRESS else "destination"
                yield Hit(pod, f"no policy isolates it for {direction.value}, although {len(guarding)} "
                               f"{'policies' if many else 'policy'} in namespace {ns} "
                               f"{'isolate' if many else 'isolates'} other pods; every {other_end} is allowed")


@rule(
    id="NP103", name="workload-not-isolated-for-ingress", severity=Severity.WARNING,
    category=Category.COVERAGE,
    summary="A workload in a namespace that uses ingress policies is itself not isolated for ingress.",
    rationale="""
        When some pods of a namespace are protected and one is not, the unprotected one was
        usually forgotten: its labels changed, or it was added after the policies were
        written. It accepts connections from everywhere.
    """,
    options=("lint.exclude_namespaces",),
    fix="""
        Give the workload an ingress policy of its own, or add a namespace-wide default
        deny so that every pod is isolated.
    """,
)
def workload_not_isolated_for_ingress(ctx: LintContext) -> Iterator[Hit]:
    yield from _not_isolated(ctx, Direction.INGRESS)


@rule(
    id="NP104", name="workload-not-isolated-for-egress", severity=Severity.NOTE,
    category=Category.COVERAGE,
    summary="A workload in a namespace that uses egress policies is itself not isolated for egress.",
    rationale="""
        Other pods of the namespace have their egress restricted, this one may send
        anywhere. Usually an oversight rather than a decision.
    """,
    options=("lint.exclude_namespaces",),
    fix="Add an egress policy for the workload, or a namespace-wide egress default deny.",
)
def workload_not_isolated_for_egress(ctx: LintContext) -> Iterator[Hit]:
    yield from _not_isolated(ctx, Direction.EGRESS)


@rule(
    id="NP105", name="hostnetwork-pod-selected", severity=Severity.WARNING,
    category=Category.COVERAGE,
    summary="A policy's podSelector picks a hostNetwork pod, which no NetworkPolicy can isolate.",
    rationale="""
        A pod with `hostNetwork: true` uses its node's network namespace and addresses.
        NetworkPolicies do not apply to it, and pod selectors in other policies never match
        it. A policy written for it gives a false sense of protection. (A namespace-wide
        policy with an empty podSelector is not reported: it does not single the pod out.)
    """,
    options=("settings.hostnetwork_as_node",),
    fix="""
        Protect the node instead (host firewall), or run the workload without
        `hostNetwork` so that policies apply; remove the policy that cannot work.
    """,
)
def hostnetwork_pod_selected(ctx: LintContext) -> Iterator[Hit]:
    if not ctx.settings.hostnetwork_as_node:
        return
    for policy in ctx.cluster.policies:
        if policy.pod_selector.is_empty():
            continue
        host = [p for p in ctx.label_matched[policy.key] if p.host_network]
        if host:
            one = len(host) == 1
            yield Hit(policy, f"selects hostNetwork {'pod' if one else 'pods'} {pod_list(host)}, which "
                              f"{'uses' if one else 'use'} the node's network: no NetworkPolicy applies to "
                              f"{'it' if one else 'them'}", ("spec", "podSelector"))


# -- DNS -----------------------------------------------------------------------------------


def _dns_conns(ctx: LintContext, pod: Pod, cache: dict[tuple[str, ...], ConnSet]) -> ConnSet:
    """What ``pod`` may send to cluster DNS (and to NodeLocal DNS, when configured)."""
    if ctx.dns_pods:
        acc = ConnSet.none()
        for dns in ctx.dns_pods:
            acc = acc | ctx.connectivity.between(pod.key, dns.key)
    else:
        # No DNS pods in the input: judge the egress side against a stand-in.
        policies = ctx.isolating(pod, Direction.EGRESS)
        key = tuple(p.key for p in policies)
        acc = cache.get(key)
        if acc is None:
            stand_in = ctx.config.dns.stand_in()
            acc = ConnSet.none()
            for policy in policies:
                for rule_ in policy.egress:
                    if rule_peers_match(rule_, Remote(stand_in), ctx.cluster, ctx.settings):
                        acc = acc | rule_conns(rule_, stand_in, ctx.settings)
            cache[key] = acc
    address = ctx.config.dns.node_local_address
    if address is not None:
        acc = acc | ctx.engine.allowed(Endpoint.of_pod(pod), Endpoint.of_address(address))
    return acc


def _dns_target(ctx: LintContext) -> str:
    return ctx.config.dns.describe()


def _dns_status(ctx: LintContext) -> list[tuple[Pod, bool, bool]]:
    """(pod, reaches DNS on UDP 53, on TCP 53) for every pod isolated for egress."""
    hit = ctx.memo.get("dns")
    if hit is not None:
        return hit  # type: ignore[return-value]
    cache: dict[tuple[str, ...], ConnSet] = {}
    dns_keys = {p.key for p in ctx.dns_pods}
    out = []
    for pod in ctx.endpoints:
        if ctx.excluded(pod.namespace) or pod.key in dns_keys or not ctx.isolating(pod, Direction.EGRESS):
            continue
        conns = _dns_conns(ctx, pod, cache)
        out.append((pod, conns.allows(Protocol.UDP, DNS_PORT), conns.allows(Protocol.TCP, DNS_PORT)))
    ctx.memo["dns"] = out
    return out


def _dns_hits(ctx: LintContext, want_partial: bool) -> Iterator[Hit]:
    for pod, udp, tcp in _dns_status(ctx):
        by = ", ".join(p.key for p in ctx.isolating(pod, Direction.EGRESS))
        if not udp and not tcp and not want_partial:
            yield Hit(pod, f"isolated for egress by {by} and cannot reach {_dns_target(ctx)} on UDP 53 or "
                           f"TCP 53: every name lookup fails")
        elif udp != tcp and want_partial:
            ok, missing = ("UDP", "TCP") if udp else ("TCP", "UDP")
            yield Hit(pod, f"isolated for egress by {by}; reaches {_dns_target(ctx)} on {ok} 53 but not "
                           f"{missing} 53")


@rule(
    id="NP121", name="dns-egress-blocked", severity=Severity.ERROR,
    category=Category.COVERAGE,
    summary="A pod isolated for egress cannot reach cluster DNS at all.",
    rationale="""
        Once a pod is isolated for egress, everything not allowed is denied, DNS included.
        Without an egress rule to the cluster DNS pods on UDP and TCP 53 every name lookup
        fails, and the workload fails in ways that look like anything but a policy
        problem. podfence checks what is really allowed, through the engine: the rule may
        use any selector form, and the DNS pods' own ingress policies count too. The DNS
        pods are `k8s-app: kube-dns` in kube-system unless `.podfence.yaml` says otherwise
        (`dns.namespace`, `dns.pod_labels`, `dns.node_local_address` for NodeLocal DNS).
    """,
    options=("lint.exclude_namespaces", "dns.namespace", "dns.pod_labels", "dns.node_local_address"),
    fix="""
        Add an egress rule to the DNS pods (namespaceSelector and podSelector in one peer)
        on UDP 53 and TCP 53, usually in a namespace-wide `allow-dns` policy.
    """,
)
def dns_egress_blocked(ctx: LintContext) -> Iterator[Hit]:
    yield from _dns_hits(ctx, want_partial=False)


@rule(
    id="NP122", name="dns-egress-partial", severity=Severity.WARNING,
    category=Category.COVERAGE,
    summary="A pod isolated for egress reaches cluster DNS on only one of UDP 53 and TCP 53.",
    rationale="""
        DNS uses UDP first and falls back to TCP for answers that do not fit in a UDP
        packet (many records, DNSSEC); some resolvers use TCP only. Allowing one protocol
        works in testing and fails for the few names with large answers. The usual cause is
        a port entry that leaves `protocol` out and so allows TCP only.
    """,
    options=("lint.exclude_namespaces", "dns.namespace", "dns.pod_labels", "dns.node_local_address"),
    fix="Allow both `{port: 53, protocol: UDP}` and `{port: 53, protocol: TCP}` to the DNS pods.",
)
def dns_egress_partial(ctx: LintContext) -> Iterator[Hit]:
    yield from _dns_hits(ctx, want_partial=True)
