"""NP5xx: workloads that hold sensitive data.

A workload is sensitive when its namespace is listed in ``sensitive.namespaces``
of ``.podfence.yaml``, or its namespace or its pod template carries the label or
annotation ``sensitive.label`` (default ``podfence.io/sensitive``) with the value
``"true"``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterator

from podfence.engine import rule_conns
from podfence.lint.context import LintContext, rule_addresses
from podfence.lint.rule import Category, Hit, rule
from podfence.model import Direction, Pod, Severity
from podfence.model.internet import covers_internet, public_part
from podfence.model.words import conns_text, shortened
from podfence.sets import ConnSet, IPSet


def _sensitive(ctx: LintContext) -> list[Pod]:
    return [p for p in ctx.endpoints if ctx.is_sensitive(p)]


@rule(
    id="NP501", name="sensitive-reachable-from-internet", severity=Severity.ERROR,
    category=Category.COMPLIANCE,
    summary="A sensitive workload accepts connections from internet addresses.",
    rationale="""
        Workloads that hold payment or personal data should be reached through the services
        in front of them, never straight from the internet. Any ingress rule that admits a
        public address to a sensitive pod is reported, whatever its ports.
    """,
    options=("sensitive.label", "sensitive.namespaces"),
    fix="Remove the ipBlock (or the empty `from`) and admit the in-cluster clients by selector.",
)
def sensitive_reachable_from_internet(ctx: LintContext) -> Iterator[Hit]:
    for pod in _sensitive(ctx):
        found, conns = IPSet(), ConnSet.none()
        for policy in ctx.isolating(pod, Direction.INGRESS):
            for rule_ in policy.ingress:
                public = public_part(rule_addresses(rule_))
                allowed = rule_conns(rule_, pod, ctx.settings)
                if public and allowed:
                    found, conns = found | public, conns | allowed
        if found:
            cidrs = found.cidrs()
            where = "every one of them" if covers_internet(found) else shortened(cidrs, 3, "ranges")
            yield Hit(pod, f"sensitive, and accepts connections from internet addresses ({where}) on "
                           f"{conns_text(conns)}")


@rule(
    id="NP502", name="sensitive-reachable-from-unallowed-namespace", severity=Severity.WARNING,
    category=Category.COMPLIANCE,
    summary="A sensitive workload can be reached from a namespace outside `sensitive.allowed_from`.",
    rationale="""
        When `.podfence.yaml` names the namespaces that may reach sensitive data
        (`sensitive.allowed_from`), every pod outside them (and outside the workload's own
        namespace) that can really open a connection to a sensitive pod, as the engine
        computes it with both sides' policies, is a finding. Without `allowed_from` the
        rule checks nothing.
    """,
    options=("sensitive.label", "sensitive.namespaces", "sensitive.allowed_from"),
    fix="Narrow the ingress rules of the sensitive workload, or add the namespace to `sensitive.allowed_from`.",
)
def sensitive_reachable_from_unallowed_namespace(ctx: LintContext) -> Iterator[Hit]:
    allowed = set(ctx.config.sensitive.allowed_from)
    if not allowed:
        return
    targets = {p.key: p for p in _sensitive(ctx)}
    if not targets:
        return
    reached: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for src, dst, _ in ctx.connectivity.pod_connections():
        if dst.key in targets and src.namespace != dst.namespace and src.namespace not in allowed:
            reached[dst.key][src.namespace].append(src.key)
    for key in sorted(reached):
        by_ns = reached[key]
        parts = [f"{ns} ({shortened(sorted(pods), 3)})" for ns, pods in sorted(by_ns.items())]
        yield Hit(targets[key], f"sensitive, and reachable from {'a namespace' if len(by_ns) == 1 else 'namespaces'} "
                                f"outside sensitive.allowed_from "
                                f"[{', '.join(sorted(allowed))}]: {'; '.join(parts)}")


@rule(
    id="NP503", name="sensitive-egress-to-internet", severity=Severity.WARNING,
    category=Category.COMPLIANCE,
    summary="A sensitive workload may send to every internet address.",
    rationale="""
        Egress from a workload holding sensitive data to any internet address (on any
        port) is an exfiltration path. Egress to named ranges, such as a payment
        provider's network, is not reported.
    """,
    options=("sensitive.label", "sensitive.namespaces"),
    fix="Allow only the external ranges the workload needs (the provider's CIDRs), or go through an egress proxy.",
)
def sensitive_egress_to_internet(ctx: LintContext) -> Iterator[Hit]:
    for pod in _sensitive(ctx):
        addresses, conns = IPSet(), ConnSet.none()
        for policy in ctx.isolating(pod, Direction.EGRESS):
            for rule_ in policy.egress:
                allowed = rule_conns(rule_, None, ctx.settings)
                if allowed:
                    addresses, conns = addresses | rule_addresses(rule_), conns | allowed
        if covers_internet(addresses):
            yield Hit(pod, f"sensitive, and may send to every internet address (on {conns_text(conns)})")


@rule(
    id="NP504", name="sensitive-not-isolated", severity=Severity.WARNING, category=Category.COMPLIANCE,
    summary="A sensitive workload is not isolated for ingress or for egress.",
    rationale="""
        A pod that no policy isolates accepts every connection (ingress) or may send
        anywhere (egress). For a workload holding sensitive data both directions should be
        isolated, whatever the namespace's other pods do.
    """,
    options=("sensitive.label", "sensitive.namespaces"),
    fix="Add a default deny for both directions to the namespace, then allow what is needed.",
)
def sensitive_not_isolated(ctx: LintContext) -> Iterator[Hit]:
    for pod in _sensitive(ctx):
        missing = [d.value for d in Direction if not ctx.isolating(pod, d)]
        if missing:
            yield Hit(pod, f"sensitive, and not isolated for {' or '.join(missing)}")
