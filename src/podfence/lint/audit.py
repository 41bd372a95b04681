"""podfence audit: one screen per namespace, with a grade.

Per namespace: how many pods are isolated for ingress and egress, which other
namespaces and whether the internet can reach its pods, what it can reach outside
the cluster, how exposed its sensitive workloads are, and its lint findings. All
reachability comes from the engine's whole-cluster connectivity.

The score starts at 100 and loses points for what the findings and the figures
show; it is meant to rank namespaces and to move in the right direction when
policies improve, not to be a standard:

* up to 30 for pods not isolated for ingress, up to 15 for egress (in proportion);
* 15 per error, 5 per warning, 1 per note (findings about the namespace and its
  objects), at most 40 in all;
* 10 when the internet reaches a pod on more than a LoadBalancer/NodePort port
  (as found by lint's NP402 and NP405), and 20 when a sensitive workload is reached
  from the internet or from a namespace outside ``sensitive.allowed_from``.

When the cluster has cluster-wide policies, each namespace also lists what the
Admin and Baseline tiers force on it (:class:`TierRule`): every rule of every
such policy that selects one of its pods, in the order the tiers run. They are
facts, not scored: the namespace's owners cannot change them.

Grades: A from 90, B from 80, C from 70, D from 60, else F. A namespace whose pods
cannot resolve names (an error of NP121, dns-egress-blocked) scores at most 79: it
cannot get B or better however tight it is. The overall score is the average over
namespaces, weighted by their pods.

The namespaces of ``lint.exclude_namespaces`` (kube-system by default) are left
out of the grades, as lint leaves them out of its coverage rules, and named in
:attr:`Audit.excluded`; ``include_excluded`` grades them too. Pods counts are of
pod-network pods: hostNetwork pods are their node's address (no policy selects
them), counted apart in :attr:`Audit.host_network`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from podfence.config import DEFAULT_CONFIG, Config
from podfence.engine import Action, IRPolicy, IRRule, NamedPort, Tier
from podfence.lint.context import LintContext
from podfence.lint.finding import SEVERITY_RANK, Finding
from podfence.lint.run import lint
from podfence.model import Cluster, Direction, Settings, Severity
from podfence.model.internet import covers_internet, public_part
from podfence.sets import ConnSet, IPSet, parse_cidr

GRADES = ((90, "A"), (80, "B"), (70, "C"), (60, "D"), (0, "F"))


def grade_of(score: int) -> str:
    return next(g for floor, g in GRADES if score >= floor)


@dataclass(frozen=True, slots=True)
class TierRule:
    """One rule of a cluster-wide policy that applies to pods of a namespace.

    ``action`` is ``Accept``, ``Deny`` or ``Pass``; ``peers`` and ``ports`` are the
    rule's in words (no peers: every endpoint; no ports: every protocol and port);
    ``pods`` how many of the namespace's pods the policy selects.
    """

    tier: str  # Admin or Baseline
    policy: str
    kind: str
    priority: int
    direction: Direction
    field: str
    name: str
    action: str
    peers: tuple[str, ...]
    ports: tuple[str, ...]
    pods: int


@dataclass(frozen=True, slots=True)
class NamespaceAudit:
    """The audit of one namespace (see the module docstring for the score)."""

    name: str
    pods: int
    ingress_isolated: int
    egress_isolated: int
    reached_from: tuple[str, ...]  # other namespaces with a pod that can reach a pod here
    internet_reaches: tuple[str, ...]  # pods here that some internet address can reach
    reaches_outside: tuple[str, ...]  # CIDRs outside the pod network that pods here can reach
    reaches_outside_on: ConnSet  # on what (the union over those CIDRs)
    reaches_internet: bool  # some pod here may send to every internet address
    sensitive: tuple[str, ...]  # sensitive pods here
    sensitive_exposure: tuple[str, ...]  # how they are exposed, in words
    findings: tuple[Finding, ...]  # about this namespace and its objects, worst first
    score: int
    tiers: tuple[TierRule, ...] = ()  # what the cluster-wide tiers force on its pods, in evaluation order

    @property
    def grade(self) -> str:
        return grade_of(self.score)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)


@dataclass(frozen=True, slots=True)
class Audit:
    namespaces: tuple[NamespaceAudit, ...]
    score: int
    cluster_tiers: bool = False  # the cluster has cluster-wide policies (each namespace lists their rules)
    excluded: tuple[str, ...] = ()  # namespaces with pods left out of the grades (lint.exclude_namespaces)
    host_network: int = 0  # hostNetwork pods of the graded namespaces, not counted as pods of them

    @property
    def grade(self) -> str:
        return grade_of(self.score)


DNS_BLOCKED = "NP121"  # an error of it caps the namespace's score below B
DNS_CAP = 79


def audit(cluster: Cluster, config: Config = DEFAULT_CONFIG, settings: Settings | None = None,
          findings: list[Finding] | None = None, include_excluded: bool = False) -> Audit:
    """Audit every namespace that has pods, but those lint excludes unless ``include_excluded``;
    ``findings`` are lint's (computed when None)."""
    ctx = LintContext(cluster, config, settings)
    found = lint(cluster, config, settings) if findings is None else findings
    by_ns: dict[str, list[Finding]] = defaultdict(list)
    for f in found:
        if f.ref.namespace is None and f.ref.kind != "Namespace":
            continue  # about a cluster-scoped policy: no namespace's own
        by_ns[f.ref.scope].append(f)

    # hostNetwork pods are their node's address, not members of their namespace's pod network.
    pod_ns = {p.key: p.namespace for p in ctx.endpoints}
    sensitive = {p.key for p in ctx.endpoints if ctx.is_sensitive(p)}
    reached_from: dict[str, set[str]] = defaultdict(set)
    sensitive_from: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    internet_in: dict[str, set[str]] = defaultdict(set)
    outside: dict[str, IPSet] = defaultdict(IPSet)
    outside_conns: dict[str, ConnSet] = defaultdict(ConnSet)
    cidr_cache: dict[str, IPSet] = {}

    def addresses(text: str) -> IPSet:
        hit = cidr_cache.get(text)
        if hit is None:
            parsed = parse_cidr(text)
            hit = cidr_cache[text] = IPSet.of_cidr(parsed) if parsed else IPSet()
        return hit

    # Folded connectivity: every source of a group reaches every destination of it, so
    # the cost follows the number of groups, not of pod pairs.
    conn = ctx.connectivity
    for group in conn.group_connections():
        src_spaces: dict[str, list[str]] = defaultdict(list)
        for pod in group.src:
            if pod.key in pod_ns:
                src_spaces[pod.namespace].append(pod.key)
        if not src_spaces:
            continue
        for pod in group.dst:
            d_ns = pod_ns.get(pod.key)
            if d_ns is None:
                continue
            others = [n for n in src_spaces if n != d_ns]
            reached_from[d_ns].update(others)
            if pod.key in sensitive:
                for n in others:
                    sensitive_from[pod.key][n].update(src_spaces[n])
    for pods, direction, ranges in conn.group_external():
        members = [p for p in pods if p.key in pod_ns]
        if not members:
            continue
        if direction is Direction.EGRESS:
            for cidr, conns in ranges:
                for ns in {p.namespace for p in members}:
                    outside[ns] = outside[ns] | addresses(cidr)
                    outside_conns[ns] = outside_conns[ns] | conns
        elif any(public_part(addresses(cidr)) for cidr, _ in ranges):
            for p in members:
                internet_in[p.namespace].add(p.key)

    allowed = set(config.sensitive.allowed_from)
    skipped = set() if include_excluded else set(config.lint.exclude_namespaces)
    out = []
    for ns in sorted(ctx.endpoints_by_ns):
        if ns in skipped:
            continue
        pods = ctx.endpoints_by_ns[ns]
        ing = sum(1 for p in pods if ctx.isolating(p, Direction.INGRESS))
        eg = sum(1 for p in pods if ctx.isolating(p, Direction.EGRESS))
        mine = sorted(by_ns.get(ns, []), key=lambda f: (-SEVERITY_RANK[f.severity], f.sort_key()))
        exposure = []
        sens = sorted(p.key for p in pods if p.key in sensitive)
        for key in sens:
            if key in internet_in[ns]:
                exposure.append(f"{key} is reached from the internet")
            spaces = sensitive_from.get(key, {})
            if spaces:
                names = ", ".join(sorted(spaces))
                bad = [n for n in spaces if allowed and n not in allowed]
                note = f" (outside sensitive.allowed_from: {', '.join(sorted(bad))})" if bad else ""
                exposure.append(f"{key} is reached from {names}{note}")
        score = 100.0
        score -= 30 * (len(pods) - ing) / len(pods) + 15 * (len(pods) - eg) / len(pods)
        weights = {Severity.ERROR: 15, Severity.WARNING: 5, Severity.NOTE: 1}
        score -= min(40, sum(weights[f.severity] for f in mine))
        if any(f.rule in ("NP402", "NP405") for f in mine):
            score -= 10
        if any(f.rule in ("NP501", "NP502") for f in mine):
            score -= 20
        if any(f.rule == DNS_BLOCKED and f.severity is Severity.ERROR for f in mine):
            score = min(score, DNS_CAP)
        reach = outside.get(ns, IPSet())
        out.append(NamespaceAudit(
            ns, len(pods), ing, eg, tuple(sorted(reached_from.get(ns, ()))), tuple(sorted(internet_in.get(ns, ()))),
            reach.cidrs(), outside_conns.get(ns, ConnSet()), covers_internet(reach), tuple(sens), tuple(exposure),
            tuple(mine), max(0, round(score)), tuple(tier_rules(ctx, ns)),
        ))
    total = sum(a.pods for a in out)
    overall = round(sum(a.score * a.pods for a in out) / total) if total else 100
    graded = {a.name for a in out}
    excluded = tuple(sorted(ns for ns in ctx.endpoints_by_ns if ns in skipped))
    host_network = sum(1 for p in ctx.pods if p.namespace in graded and p.takes_part(ctx.settings)
                       and not p.is_pod_endpoint(ctx.settings))
    return Audit(tuple(out), overall, bool(cluster.cluster_policies), excluded, host_network)


_ACTION_WORDS = {Action.ALLOW: "Accept", Action.DENY: "Deny", Action.PASS: "Pass"}


def tier_rules(ctx: LintContext, namespace: str) -> list[TierRule]:
    """Every rule of the Admin and Baseline policies that select a pod of ``namespace``, in the order they run."""
    out = []
    for tier in (Tier.ADMIN, Tier.BASELINE):
        for direction in Direction:
            for policy in ctx.ir.evaluation_order(tier, ctx.settings):
                if not policy.guarded(direction):
                    continue
                pods = sum(1 for p in ctx.selected[policy.key] if p.namespace == namespace)
                if pods:
                    out += [_tier_rule(policy, r, pods) for r in policy.rules(direction)]
    return out


def _tier_rule(policy: IRPolicy, rule: IRRule, pods: int) -> TierRule:
    return TierRule("Admin" if policy.tier is Tier.ADMIN else "Baseline", policy.name, policy.kind,
                    policy.priority or 0, rule.direction, rule.ref.field, rule.ref.name, _ACTION_WORDS[rule.action],
                    tuple(str(p) for p in rule.peers), _ports(rule), pods)


def _ports(rule: IRRule) -> tuple[str, ...]:
    """Port entries in words; a named port (one entry per protocol in the IR) once, as ``port NAME``."""
    out: dict[str, None] = {}
    for entry in rule.ports.entries:
        out[f"port {entry.name}" if isinstance(entry, NamedPort) else str(entry)] = None
    if rule.ports.unknown:
        out["(a port entry podfence does not know)"] = None
    return tuple(out)
