"""NP3xx: policies that say something other than what their authors most likely meant."""

from __future__ import annotations

from typing import Iterator

from podfence.engine import AddressPeer, Endpoint, PortRange, SelectorPeer, rule_conns
from podfence.lint.context import LintContext, peer_field, pod_list, rule_field
from podfence.lint.rule import Category, Hit, rule
from podfence.model import Direction, Pod, Severity
from podfence.model.words import shortened
from podfence.sets import ConnSet, Protocol, parse_cidr

# Services that speak UDP only (or mostly): an entry for one of these ports that
# leaves the protocol out allows TCP and denies what was meant.
UDP_PORTS = {53: "DNS", 67: "DHCP", 68: "DHCP", 69: "TFTP", 123: "NTP", 161: "SNMP", 162: "SNMP traps",
             514: "syslog", 1812: "RADIUS", 1813: "RADIUS accounting", 4789: "VXLAN", 5353: "mDNS",
             8125: "StatsD", 51820: "WireGuard"}


@rule(
    id="NP301", name="peer-or-instead-of-and", severity=Severity.NOTE, category=Category.CONFUSION,
    summary="A from/to list mixes a podSelector-only peer and a namespaceSelector-only peer.",
    rationale="""
        `- namespaceSelector: ...` followed by `- podSelector: ...` are two peers: any pod of
        the selected namespaces, OR the selected pods of the policy's own namespace. Without
        the second dash they are one peer: the selected pods inside the selected
        namespaces. One stray dash widens the rule to whole namespaces. Sometimes the OR
        is meant, so this is a note.
    """,
    fix="""
        If the pods are meant to be in those namespaces, make it one peer: remove the `-`
        before `podSelector`. If the OR is meant, suppress this note with a reason.
    """,
)
def peer_or_instead_of_and(ctx: LintContext) -> Iterator[Hit]:
    for policy, direction, i, rule_ in ctx.guarded_rules():
        ns_only = [j for j, p in enumerate(rule_.peers)
                   if isinstance(p, SelectorPeer) and p.namespace_selector is not None and p.pod_selector is None]
        pod_only = [j for j, p in enumerate(rule_.peers)
                    if isinstance(p, SelectorPeer) and p.pod_selector is not None and p.namespace_selector is None]
        if ns_only and pod_only:
            a, b = rule_.peers[ns_only[0]], rule_.peers[pod_only[0]]
            yield Hit(policy, f"{direction.peers_field}[{ns_only[0]}] and {direction.peers_field}[{pod_only[0]}] "
                              f"are two peers: any pod in {a} OR {b} in namespace {policy.namespace}; "
                              f"one peer would mean {b} inside those namespaces",
                      rule_field(direction, i, direction.peers_field))


@rule(
    id="NP302", name="service-port-instead-of-target-port", severity=Severity.WARNING,
    category=Category.CONFUSION,
    summary="A rule names a Service's port, but policies see the pods' target port.",
    rationale="""
        Policies judge traffic after the Service has forwarded it to a pod, at the pod's
        port (`targetPort`). A rule for port 80 of a Service that forwards to 8080 allows
        nothing: the connection arrives on 8080. This is one of the most common reasons
        for "the policy allows it but it is denied".
    """,
    fix="Allow the target port (the container port, by number or by name) instead of the Service port.",
)
def service_port_instead_of_target_port(ctx: LintContext) -> Iterator[Hit]:
    s = ctx.settings
    for policy, direction, i, rule_ in ctx.guarded_rules():
        numeric = [(k, e) for k, e in enumerate(rule_.ports.entries)
                   if isinstance(e, PortRange) and e.first is not None and e.last == e.first]
        if not numeric:
            continue
        pods = ctx.destinations(rule_)
        for k, entry in numeric:
            for pod in pods:
                if any(c.port == entry.first and c.protocol == entry.protocol for c in pod.ports):
                    continue  # the pod really listens there
                allowed = rule_conns(rule_, pod, s)
                found = None
                for svc in ctx.services_of(pod):
                    for sp in svc.ports:
                        if sp.port != entry.first or sp.protocol != entry.protocol:
                            continue
                        targets = sorted(svc.target_numbers(sp, pod, s))
                        if targets and not any(allowed.allows(sp.protocol, t) for t in targets):
                            found = (svc, sp, targets)
                if found is not None:
                    svc, sp, targets = found
                    target = f"{sp.target_port} ({', '.join(map(str, targets))})" \
                        if isinstance(sp.target_port, str) else str(sp.target_port)
                    yield Hit(policy, f"{entry} is the port of Service {svc.key}; policies "
                                      f"see the connection at {pod.key}'s target port {target}, which this rule "
                                      f"does not allow", rule_field(direction, i, "ports", k))
                    break


def _ip_blocks(ctx: LintContext):  # type: ignore[no-untyped-def]
    """ipBlock peers other than ``/0`` ones: (policy, direction, rule, peer index, peer)."""
    for policy, direction, i, rule_ in ctx.guarded_rules():
        for j, peer in enumerate(rule_.peers):
            if not isinstance(peer, AddressPeer):
                continue
            block = policy.rules(direction)[i].peers[j].ip_block  # as written: its CIDR's prefix
            cidr = parse_cidr(block.cidr) if block is not None else None
            if cidr is not None and cidr.prefix > 0:
                yield policy, direction, i, j, peer


@rule(
    id="NP303", name="ipblock-matches-pod-ips", severity=Severity.WARNING, category=Category.CONFUSION,
    summary="An ipBlock contains the IPs of pods.",
    rationale="""
        ipBlock is meant for addresses outside the cluster. Whether it also matches pod
        IPs depends on the network plugin (the conformance tests say yes, several plugins
        say no), and pod IPs change whenever pods restart. A rule that reaches pods through
        an ipBlock works on one cluster and not on the next. Judged where the input carries
        pod IPs (`status.podIP`); blocks covering everything (`/0`) are left to NP402 and
        NP403.
    """,
    fix="Select pods with podSelector/namespaceSelector; keep ipBlock for addresses outside the cluster.",
)
def ipblock_matches_pod_ips(ctx: LintContext) -> Iterator[Hit]:
    for policy, direction, i, j, block in _ip_blocks(ctx):
        pods = [p for p in ctx.endpoints if any(a in block.addresses for a in p.ips)]
        if pods:
            yield Hit(policy, f"{block} contains the IPs of {'pod' if len(pods) == 1 else 'pods'} "
                              f"{pod_list(pods)}; whether ipBlock "
                              f"matches pods depends on the network plugin",
                      peer_field(direction, i, j, "ipBlock", "cidr"))


@rule(
    id="NP304", name="missing-namespace", severity=Severity.NOTE, category=Category.CONFUSION,
    summary="A NetworkPolicy or workload manifest names no namespace.",
    rationale="""
        Without `metadata.namespace`, an object lands in whatever namespace the kubectl
        context (or `-n`) points to when it is applied. A policy applied to the wrong
        namespace protects nothing where it was meant to, silently. Tools that set the
        namespace at deploy time (Helm, Kustomize) make this fine, hence a note.
    """,
    fix="Write `metadata.namespace` in the manifest.",
)
def missing_namespace(ctx: LintContext) -> Iterator[Hit]:
    for obj in (*ctx.cluster.pods, *ctx.cluster.policies):
        if not obj.namespace_given:
            yield Hit(obj, f"no metadata.namespace: analysed in {obj.namespace}, applied wherever the context "
                           f"points", ("metadata",))


@rule(
    id="NP305", name="protocol-defaulted-to-tcp", severity=Severity.WARNING, category=Category.CONFUSION,
    summary="A port entry leaves the protocol out (so TCP) where UDP or SCTP was meant.",
    rationale="""
        A port entry without `protocol` means TCP. For a port that the destination pods
        declare only for UDP or SCTP, or a well-known UDP service (DNS 53, NTP 123, StatsD
        8125, ...), that allows the wrong protocol and denies the traffic meant. Entries that
        say `protocol: TCP` are taken at their word.
    """,
    fix="Write the protocol: `protocol: UDP` (and a second entry for TCP where both are used).",
)
def protocol_defaulted_to_tcp(ctx: LintContext) -> Iterator[Hit]:
    for policy, direction, i, rule_ in ctx.guarded_rules():
        pods = None
        written = policy.rules(direction)[i].ports
        for k, entry in enumerate(rule_.ports.entries):
            if written[k].protocol_given or not isinstance(entry, PortRange) or entry.first is None:
                continue
            if pods is None:
                pods = ctx.destinations(rule_)
            lo, hi = entry.first, entry.last if entry.last is not None else entry.first
            declared = [c for p in pods for c in p.ports if lo <= c.port <= hi]
            other = sorted({f"{c.protocol} {c.port}" for c in declared if c.protocol is not Protocol.TCP})
            if declared and other and not any(c.protocol is Protocol.TCP for c in declared):
                why = f"the destination pods declare {', '.join(other)} only"
            elif lo == hi and lo in UDP_PORTS and not any(c.protocol is Protocol.TCP for c in declared):
                why = f"port {lo} is {UDP_PORTS[lo]}, which speaks UDP"
            else:
                continue
            yield Hit(policy, f"port {lo if lo == hi else f'{lo}-{hi}'} has no protocol, so it allows TCP only; "
                              f"{why}", rule_field(direction, i, "ports", k))


@rule(
    id="NP306", name="ipblock-targets-service-ip", severity=Severity.WARNING, category=Category.CONFUSION,
    summary="An ipBlock contains a Service's cluster IP, which policies never see.",
    rationale="""
        Traffic to a Service's cluster IP is rewritten to a backend pod's IP before policies
        judge it, so an ipBlock naming the cluster IP (often `10.96.0.10/32` for DNS)
        matches nothing. Blocks covering everything (`/0`) are not reported.
    """,
    fix="Select the Service's backend pods with namespaceSelector and podSelector.",
)
def ipblock_targets_service_ip(ctx: LintContext) -> Iterator[Hit]:
    for policy, direction, i, j, block in _ip_blocks(ctx):
        hits = [f"{svc.key} ({ip})" for svc in ctx.cluster.services for ip in svc.cluster_ips
                if ip in block.addresses]
        if hits:
            yield Hit(policy, f"{block} contains the cluster IP of Service {shortened(hits, 3)}; "
                              f"policies see backend pod IPs, never cluster IPs",
                      peer_field(direction, i, j, "ipBlock", "cidr"))


@rule(
    id="NP307", name="pod-selector-misses-namespace", severity=Severity.WARNING,
    category=Category.CONFUSION,
    summary="A podSelector-only peer matches no pod in its own namespace, but would in others.",
    rationale="""
        A peer with only a podSelector looks in the policy's own namespace. When the pods
        it names live in another namespace, the namespaceSelector was forgotten and the
        rule allows nothing.
    """,
    fix="Add a namespaceSelector to the same peer (no dash before it) naming the pods' namespace.",
)
def pod_selector_misses_namespace(ctx: LintContext) -> Iterator[Hit]:
    for policy, direction, i, rule_ in ctx.guarded_rules():
        for j, peer in enumerate(rule_.peers):
            if not isinstance(peer, SelectorPeer) or peer.namespace_selector is not None or peer.pod_selector is None:
                continue
            if not ctx.endpoints_by_ns.get(policy.namespace) or ctx.peer_pods(peer):
                continue
            sel = peer.pod_selector
            elsewhere = [p for p in ctx.endpoints if p.namespace != policy.namespace and sel.matches(p.labels)]
            if elsewhere:
                spaces = sorted({p.namespace for p in elsewhere})
                yield Hit(policy, f"podSelector [{sel}] looks only in namespace {policy.namespace}, where no pod "
                                  f"matches; matching pods live in {', '.join(spaces)} ({pod_list(elsewhere)})",
                          peer_field(direction, i, j, "podSelector"))


@rule(
    id="NP308", name="implicit-ingress-isolation", severity=Severity.WARNING, category=Category.CONFUSION,
    summary="A policy without policyTypes and with only egress rules also denies all ingress.",
    rationale="""
        When `policyTypes` is left out, Kubernetes sets it to Ingress, plus Egress if there
        are egress rules. A policy written to restrict egress therefore also isolates its
        pods for ingress with no ingress rule: everything in is denied. Reported only when
        this is the policy that isolates some pod for ingress.
    """,
    fix="Write `policyTypes: [Egress]` (or `[Ingress, Egress]` with the ingress rules you mean).",
)
def implicit_ingress_isolation(ctx: LintContext) -> Iterator[Hit]:
    for policy in ctx.cluster.policies:
        if policy.policy_types_given or not policy.egress or policy.ingress:
            continue
        alone = [p for p in ctx.selected[policy.key]
                 if [q.key for q in ctx.isolating(p, Direction.INGRESS)] == [policy.key]]
        if alone:
            one = len(alone) == 1
            yield Hit(policy, f"policyTypes is left out, so it is [Ingress, Egress]: {pod_list(alone)} "
                              f"{'accepts' if one else 'accept'} no connection at all, and only this policy "
                              f"isolates {'it' if one else 'them'} for ingress",
                      ("spec",))




MAX_ONE_SIDED_PAIRS = 400  # pod pairs judged per peer; larger peers are left to `podfence explain`


def _other_side(ctx: LintContext, direction: Direction, subject: Pod, remote: Pod) -> ConnSet:
    """What the far end of a rule's connection lets through: the remote pod's ingress for an
    egress rule, its egress for an ingress rule (every tier, every address path)."""
    src, dst = (subject, remote) if direction is Direction.EGRESS else (remote, subject)
    out = ConnSet.none()
    for egress, ingress in ctx.engine.decisions(Endpoint.of_pod(src), Endpoint.of_pod(dst)):
        out = out | (ingress if direction is Direction.EGRESS else egress).final()
    return out


@rule(
    id="NP309", name="one-sided-connection", severity=Severity.WARNING, category=Category.CONFUSION,
    summary="A rule admits pods whose own side refuses the connection: allowed on one side, denied on the other.",
    rationale="""
        A connection between two pods needs both ends: the egress of the client and the
        ingress of the server. An egress rule that admits a server whose ingress policies
        admit none of its clients on those ports (or an ingress rule that admits clients
        whose egress policies never let them send there) reads as an allowed connection,
        yet every packet is dropped at the other end. Judged per peer, when every pod pair
        it matches is refused (up to 400 pairs per peer).
    """,
    fix="""Add the matching rule on the other side (an ingress rule on the server for the client, or an egress
        rule on the client for the server), or remove the one-sided rule.""",
)
def one_sided_connection(ctx: LintContext) -> Iterator[Hit]:
    for policy, direction, i, rule_ in ctx.guarded_rules():
        subjects = ctx.selected[policy.key]
        other = Direction.INGRESS if direction is Direction.EGRESS else Direction.EGRESS
        for j, peer in enumerate(rule_.peers):
            if not isinstance(peer, SelectorPeer):
                continue
            remotes = [p for p in ctx.peer_pods(peer) if p.is_pod_endpoint(ctx.settings)]
            pairs = [(s, m) for s in subjects for m in remotes if s.key != m.key]
            if not pairs or len(pairs) > MAX_ONE_SIDED_PAIRS:
                continue
            if any(not ctx.isolating(m, other) for _, m in pairs):
                continue
            refused = True
            for s, m in pairs:
                asked = rule_conns(rule_, m if direction is Direction.EGRESS else s, ctx.settings)
                if asked & _other_side(ctx, direction, s, m):
                    refused = False
                    break
            if not refused:
                continue
            far = sorted({p.key for _, m in pairs for p in ctx.isolating(m, other)})
            ends = pod_list(remotes)
            if direction is Direction.EGRESS:
                text = (f"egress of {pod_list(subjects)} admits {ends}, but the ingress of {ends} refuses it: "
                        f"isolated by {shortened(far, 3)}, and no rule there admits {pod_list(subjects)}")
            else:
                text = (f"ingress of {pod_list(subjects)} admits {ends}, but the egress of {ends} refuses it: "
                        f"isolated by {shortened(far, 3)}, and no rule there lets them send to "
                        f"{pod_list(subjects)}")
            yield Hit(policy, text, peer_field(direction, i, j))
