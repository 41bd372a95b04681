"""NP2xx: parts of policies that do nothing, or nothing that others do not already do."""

from __future__ import annotations

from typing import Iterator

from podfence.engine import AddressPeer, NamedPort, PortRange, SelectorPeer
from podfence.lint.context import LintContext, peer_field, pod_list, rule_field
from podfence.lint.redundancy import Redundant, find_redundant
from podfence.lint.rule import Category, Hit, rule
from podfence.model import NAMESPACE_NAME_LABEL, Direction, LabelSelector, Namespace, Severity
from podfence.model.words import plural, shortened

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@rule(
    id="NP201", name="policy-selects-no-pod", severity=Severity.WARNING, category=Category.DEAD,
    summary="A policy's podSelector matches no pod of its namespace.",
    rationale="""
        A policy that selects nothing protects nothing and allows nothing. It is almost
        always a label typo or a policy left behind by a renamed workload, and the
        workload it was meant for runs with other rules than its authors think. Judged
        only for namespaces that have pods in the input.
    """,
    fix="Correct the podSelector to the workload's pod template labels, or delete the policy.",
)
def policy_selects_no_pod(ctx: LintContext) -> Iterator[Hit]:
    for policy in ctx.cluster.policies:
        if ctx.pods_by_ns.get(policy.namespace) and not ctx.label_matched[policy.key]:
            labels = sorted({f"{k}={v}" for p in ctx.pods_by_ns[policy.namespace] for k, v in p.labels.items()})
            near = f" (labels in use there: {shortened(labels, 8)})" if labels else ""
            yield Hit(policy, f"podSelector [{policy.pod_selector}] matches no pod in namespace "
                              f"{policy.namespace}{near}", ("spec", "podSelector"))


def _judgeable(ctx: LintContext, selector: LabelSelector) -> bool:
    """Namespace labels other than the name label can only be judged when namespaces are declared."""
    if ctx.declared_namespaces:
        return True
    return all(r.key == NAMESPACE_NAME_LABEL for r in selector.requirements)


def _selector_peers(ctx: LintContext):  # type: ignore[no-untyped-def]
    for policy, direction, i, rule_ in ctx.guarded_rules():
        for j, peer in enumerate(rule_.peers):
            if isinstance(peer, SelectorPeer):
                yield policy, direction, i, j, peer


@rule(
    id="NP202", name="peer-selects-no-pod", severity=Severity.WARNING, category=Category.DEAD,
    summary="A from/to peer's selectors match no pod.",
    rationale="""
        A peer that matches nothing allows nothing: the traffic its author meant to allow
        is denied. Judged only where the namespaces the peer looks in have pods in the
        input. (A podSelector-only peer that would match in another namespace is reported
        as NP307 instead.)
    """,
    fix="Correct the selector to labels the intended pods carry, or remove the peer.",
)
def peer_selects_no_pod(ctx: LintContext) -> Iterator[Hit]:
    for policy, direction, i, j, peer in _selector_peers(ctx):
        if peer.namespace_selector is not None:
            if not _judgeable(ctx, peer.namespace_selector):
                continue
            names = [ns.name for ns in ctx.namespaces_matching(peer.namespace_selector)]
        else:
            names = [peer.namespace]
        if not names or not any(ctx.endpoints_by_ns.get(n) for n in names) or ctx.peer_pods(peer):
            continue
        if peer.namespace_selector is None and _elsewhere(ctx, peer.namespace, peer.pod_selector):
            continue  # NP307
        where = f"namespace {names[0]}" if len(names) == 1 else f"namespaces {', '.join(names)}"
        yield Hit(policy, f"{peer} matches no pod in {where}",
                  peer_field(direction, i, j, "podSelector"))


def _elsewhere(ctx: LintContext, namespace: str, selector: LabelSelector | None):  # type: ignore[no-untyped-def]
    if selector is None:
        return []
    return [p for p in ctx.endpoints if p.namespace != namespace and selector.matches(p.labels)]


@rule(
    id="NP203", name="namespace-selector-matches-no-namespace", severity=Severity.WARNING,
    category=Category.DEAD,
    summary="A peer's namespaceSelector matches no namespace in the input.",
    rationale="""
        A namespaceSelector on a label no namespace carries (often a label that exists only
        in the author's head, such as `name: payments`, instead of the automatic
        `kubernetes.io/metadata.name`) matches nothing, so the rule allows nothing.
        Selectors on labels other than the automatic name label are judged only when the
        input declares Namespace objects; the namespaces every cluster has (default,
        kube-system, kube-public, kube-node-lease, and the configured DNS namespace)
        count as present even when the input leaves them out.
    """,
    options=("dns.namespace",),
    fix="Select namespaces by `kubernetes.io/metadata.name` or by a label they really carry.",
)
def namespace_selector_matches_no_namespace(ctx: LintContext) -> Iterator[Hit]:
    # Namespaces every cluster has, even when the input leaves them out.
    always = [Namespace.of(n) for n in (*SYSTEM_NAMESPACES, ctx.config.dns.namespace)]
    for policy, direction, i, j, peer in _selector_peers(ctx):
        sel = peer.namespace_selector
        if sel is None or not _judgeable(ctx, sel) or ctx.namespaces_matching(sel):
            continue
        if any(sel.matches(ns.labels) for ns in always):
            continue
        yield Hit(policy, f"namespaceSelector [{sel}] matches no namespace "
                          f"(known: {', '.join(ns.name for ns in ctx.cluster.namespaces)})",
                  peer_field(direction, i, j, "namespaceSelector"))


@rule(
    id="NP204", name="rules-ignored-by-policy-types", severity=Severity.WARNING, category=Category.DEAD,
    summary="A policy has ingress or egress rules that its policyTypes leave out.",
    rationale="""
        Rules of a direction that `policyTypes` does not name are ignored entirely. Usually
        `policyTypes: [Ingress]` was copied from another policy and egress rules were added
        later: they do nothing, and the pods' egress is not isolated either.
    """,
    fix="Add the direction to `policyTypes` (mind that this isolates the pods in it), or delete the rules.",
)
def rules_ignored_by_policy_types(ctx: LintContext) -> Iterator[Hit]:
    for policy in ctx.cluster.policies:
        for direction in Direction:
            if policy.rules(direction) and not policy.guards(direction):
                types = ", ".join(t.value for t in policy.policy_types)
                count = len(policy.rules(direction))
                yield Hit(policy, f"{plural(count, direction.value + ' rule')} {'is' if count == 1 else 'are'} "
                                  f"ignored: "
                                  f"policyTypes is [{types}]", ("spec", direction.value))


def _named_entries(ctx: LintContext):  # type: ignore[no-untyped-def]
    for policy, direction, i, rule_ in ctx.guarded_rules():
        for k, entry in enumerate(rule_.ports.entries):
            if isinstance(entry, NamedPort):
                yield policy, direction, i, rule_, k, entry


def _addresses_only(rule_) -> bool:  # type: ignore[no-untyped-def]
    return bool(rule_.peers) and all(isinstance(p, AddressPeer) for p in rule_.peers)


def _named_port_problem(ctx: LintContext, wrong_protocol: bool) -> Iterator[Hit]:
    s = ctx.settings
    for policy, direction, i, rule_, k, entry in _named_entries(ctx):
        if direction is Direction.EGRESS and _addresses_only(rule_):
            continue  # NP207
        pods = ctx.destinations(rule_)
        if not pods or any(p.named_port_numbers(entry.name, entry.protocol, s) for p in pods):
            continue
        others = sorted({f"{c.protocol} {c.port}" for p in pods for c in p.ports
                         if c.name == entry.name and (s.named_port_include_init_containers or not c.init)})
        who = "the pods it selects" if direction is Direction.INGRESS else "the pods the rule's peers match"
        if others and wrong_protocol:
            given = policy.rules(direction)[i].ports[k].protocol_given
            how = "" if given else " (protocol left out, so TCP)"
            yield Hit(policy, f"port {entry.name!r} is {entry.protocol}{how}, but {who} ({pod_list(pods)}) "
                              f"define it as {', '.join(others)}", rule_field(direction, i, "ports", k))
        elif not others and not wrong_protocol:
            yield Hit(policy, f"no destination pod defines a port named {entry.name!r}: {who} "
                              f"({pod_list(pods)}) do not", rule_field(direction, i, "ports", k))


@rule(
    id="NP205", name="named-port-undefined", severity=Severity.WARNING, category=Category.DEAD,
    summary="A named port in a rule is defined by none of the destination pods.",
    rationale="""
        A named port is looked up in the destination pod's container ports (the selected
        pods for ingress, the peers' pods for egress). Where the name is missing the entry
        matches nothing, so the traffic is denied while the policy reads as if it were
        allowed.
    """,
    options=("settings.named_port_include_init_containers",),
    fix="Use the name the containers declare (`ports[].name`), or the port number.",
)
def named_port_undefined(ctx: LintContext) -> Iterator[Hit]:
    yield from _named_port_problem(ctx, wrong_protocol=False)


@rule(
    id="NP206", name="named-port-wrong-protocol", severity=Severity.WARNING, category=Category.DEAD,
    summary="A named port is defined by the destination pods only for another protocol.",
    rationale="""
        A named port matches only when the container port has the same name and the same
        protocol as the policy entry. `{port: dns}` (TCP by default) does not match a
        container port `dns` on UDP, so DNS is denied.
    """,
    options=("settings.named_port_include_init_containers",),
    fix="Give the entry the protocol of the container port (`protocol: UDP`).",
)
def named_port_wrong_protocol(ctx: LintContext) -> Iterator[Hit]:
    yield from _named_port_problem(ctx, wrong_protocol=True)


@rule(
    id="NP207", name="named-port-to-ipblock", severity=Severity.WARNING, category=Category.DEAD,
    summary="An egress rule combines named ports with ipBlock peers only.",
    rationale="""
        A named port is resolved on the destination pod. An address outside the pod network
        has no container ports, so a named port towards an ipBlock never matches it: the
        rule allows at most traffic to pods whose IPs happen to lie in the block.
    """,
    options=("settings.named_port_include_init_containers",),
    fix="Use port numbers for destinations outside the cluster.",
)
def named_port_to_ipblock(ctx: LintContext) -> Iterator[Hit]:
    s = ctx.settings
    for policy, direction, i, rule_, k, entry in _named_entries(ctx):
        if direction is not Direction.EGRESS or not _addresses_only(rule_):
            continue
        pods = ctx.destinations(rule_)
        if any(p.named_port_numbers(entry.name, entry.protocol, s) for p in pods):
            continue  # it does match pods inside the block
        yield Hit(policy, f"named port {entry.name!r} never matches an address outside the pod network, and "
                          f"every peer of this rule is an ipBlock", rule_field(direction, i, "ports", k))


def _redundant(ctx: LintContext) -> list[Redundant]:
    hit = ctx.memo.get("redundant")
    if hit is None:
        hit = ctx.memo["redundant"] = find_redundant(ctx.cluster, ctx.settings)
    return hit  # type: ignore[return-value]


def _refs(ctx: LintContext, keys) -> str:  # type: ignore[no-untyped-def]
    policies = ctx.cluster.policies
    refs = [f"{policies[p].key} spec.{d.value}[{i}]" for p, d, i in keys]
    return shortened(refs, 4)


@rule(
    id="NP208", name="redundant-rule", severity=Severity.WARNING, category=Category.DEAD,
    summary="A rule allows nothing that other rules do not already allow to the same pods.",
    rationale="""
        Found by the engine, not by comparing text: for every pod the policy selects, every
        remote pod and every outside address, what the rule allows is already allowed by
        the other rules that apply to that pod in the same direction, so removing it changes
        no connection. A named port and the number it resolves to count as the same. Such
        rules are left over from incidents and migrations; they make the next change harder
        (two places to edit, one forgotten). Of two identical rules the later one is
        reported.
    """,
    fix="Delete the rule, or change it if it was meant to allow something else.",
)
def redundant_rule(ctx: LintContext) -> Iterator[Hit]:
    for r in _redundant(ctx):
        if r.direction is None or r.index is None:
            continue
        policy = ctx.cluster.policies[r.policy]
        yield Hit(policy, f"allows nothing new: everything it allows is already allowed by "
                          f"{_refs(ctx, r.covered_by)}", rule_field(r.direction, r.index))


@rule(
    id="NP209", name="redundant-policy", severity=Severity.WARNING, category=Category.DEAD,
    summary="Removing a whole policy would change no connection.",
    rationale="""
        Every pod the policy selects is isolated by other policies in the same directions,
        and they already allow everything this policy allows (or the policy allows
        everything, so its isolation changes nothing). A second copy of a default deny, or
        a deny-all for one app in a namespace that already denies all, is such a policy. A
        namespace-wide policy is compared only with other namespace-wide policies, since it
        also covers pods that do not exist yet.
    """,
    fix="Delete the policy, or change it if it was meant to do something else.",
)
def redundant_policy(ctx: LintContext) -> Iterator[Hit]:
    for r in _redundant(ctx):
        if r.direction is not None:
            continue
        policy = ctx.cluster.policies[r.policy]
        by = sorted({ctx.cluster.policies[p].key for p, _, _ in r.covered_by})
        verb = "allows" if len(by) == 1 else "allow"
        why = f"; its pods stay isolated and {', '.join(by)} already {verb} all it allows" if by else \
            "; its pods stay isolated by other policies and it allows nothing of its own"
        yield Hit(policy, "removing it would change no connection" + why, ("spec",))


@rule(
    id="NP210", name="policy-namespace-unknown", severity=Severity.WARNING, category=Category.DEAD,
    summary="A policy lives in a namespace that the input neither declares nor uses.",
    rationale="""
        When the input declares its namespaces, a policy in a namespace that is not among
        them and holds no workload usually has a typo in `metadata.namespace`; it applies
        to nothing, and the namespace it was meant for goes without it.
    """,
    fix="Correct `metadata.namespace`, or declare the namespace if it is new.",
)
def policy_namespace_unknown(ctx: LintContext) -> Iterator[Hit]:
    if not ctx.declared_namespaces:
        return
    declared = {ns.name for ns in ctx.declared_namespaces}
    used = {p.namespace for p in ctx.cluster.pods} | {s.namespace for s in ctx.cluster.services}
    for policy in ctx.cluster.policies:
        if policy.namespace not in declared and policy.namespace not in used:
            yield Hit(policy, f"namespace {policy.namespace} is not declared and holds no workload "
                              f"(declared: {', '.join(sorted(declared))})", ("metadata", "namespace"))


@rule(
    id="NP211", name="ingress-port-not-declared", severity=Severity.WARNING, category=Category.DEAD,
    summary="An ingress rule names a port number that none of the selected pods declares.",
    rationale="""
        Ingress ports are the destination pods' own ports. When the pods a policy selects
        declare their container ports and none of them declares the number a rule names
        (on that protocol), the rule most likely names a Service port instead of the
        target port, or a port the workload stopped using: the traffic it meant to allow
        arrives on another port and is denied. Judged only when at least one selected pod
        declares container ports.
    """,
    options=("settings.named_port_include_init_containers",),
    fix="Name the port the containers listen on (their `containerPort`, or its name), or declare the port.",
)
def ingress_port_not_declared(ctx: LintContext) -> Iterator[Hit]:
    s = ctx.settings
    for policy, direction, i, rule_ in ctx.guarded_rules():
        if direction is not Direction.INGRESS:
            continue
        subjects = ctx.selected[policy.key]
        declared = {(c.protocol, c.port) for p in subjects for c in p.ports
                    if s.named_port_include_init_containers or not c.init}
        if not declared:
            continue
        for k, entry in enumerate(rule_.ports.entries):
            if not isinstance(entry, PortRange) or entry.first is None or entry.first != entry.last:
                continue
            if (entry.protocol, entry.first) in declared or any(
                    sp.port == entry.first for p in subjects for svc in ctx.services_of(p) for sp in svc.ports):
                continue  # a Service port: NP302 says so
            listed = ", ".join(f"{proto} {n}" for proto, n in sorted(declared, key=lambda d: (str(d[0]), d[1])))
            yield Hit(policy, f"port {entry.protocol} {entry.first} is declared by none of the pods it selects "
                              f"({pod_list(subjects)}, which declare {listed})", rule_field(direction, i, "ports", k))
