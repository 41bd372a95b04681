"""Exact evaluation of one pair of endpoints, with explanations.

This is the direct reading of docs/semantics.md (Evaluation) for a single connection: the egress side
(the source pod's isolating policies) and the ingress side (the destination pod's)
each allow or deny, and the connection needs both. Each side is decided tier by
tier (:mod:`podfence.engine.decision`): the Admin tier (cluster-wide policies by
priority, rules in order, the first matching rule decides; Pass hands over), the
NetworkPolicy tier (final for an isolated pod), the Baseline tier (like Admin),
then the default allow. Before any tier: a pod's own address (self traffic) and,
for ingress, its own node. A pod's egress to its own node is allowed by the
NetworkPolicy tier only (it never overrides a cluster-wide verdict). The
whole-cluster computation in :mod:`podfence.engine.connectivity` gives the same
answers by classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Iterator, assert_never

from podfence.engine.decision import SideDecision, compose
from podfence.engine.ir import (
    Action, AddressPeer, IRPolicy, IRRule, NamedPort, PortRange, RuleRef, SelectorPeer, Tier, ir_of,
)
from podfence.engine.match import (
    Remote, isolating_policies, port_entry_conns, rule_conns, rule_peers_match, tier_policies,
)
from podfence.engine.verdict import DirectionVerdict, Endpoint, NearMiss, Outcome, Reason, TierStep, Verdict
from podfence.model import Cluster, Direction, Pod, Settings
from podfence.sets import ConnSet, IPAddress, Protocol


@dataclass(frozen=True, slots=True)
class Path:
    """One way a connection can run: the addresses used at each end (None: unknown)."""

    src: IPAddress | None
    dst: IPAddress | None


def _addresses(ep: Endpoint) -> tuple[IPAddress, ...]:
    if ep.address is not None:
        return (ep.address,)
    return ep.pod.ips if ep.pod is not None else ()


def paths(src: Endpoint, dst: Endpoint) -> tuple[Path, ...]:
    """The address pairs a connection between two endpoints can use.

    Both ends with addresses: one path per shared family (none if they share none).
    One end without a known address: the other end's addresses, one path each.
    Neither: a single path with no addresses (matched by labels only).
    """
    sa, da = _addresses(src), _addresses(dst)
    if not sa and not da:
        return (Path(None, None),)
    if not sa:
        return tuple(Path(None, d) for d in da)
    if not da:
        return tuple(Path(s, None) for s in sa)
    return tuple(Path(s, d) for s, d in product(sa, da) if s.version == d.version)


class NodeIndex:
    """Which node each known node address belongs to.

    Node addresses come from declared Nodes' ``status.addresses``, from pods'
    ``status.hostIP(s)`` and from hostNetwork pods' own addresses, each with the
    pod's ``spec.nodeName``.
    """

    def __init__(self, cluster: Cluster) -> None:
        self.by_address: dict[IPAddress, str] = {}
        self.addresses: dict[str, set[IPAddress]] = {}
        for node in cluster.nodes:
            for a in node.addresses:
                self.by_address.setdefault(a, node.name)
                self.addresses.setdefault(node.name, set()).add(a)
        for pod in cluster.pods:
            if not pod.node_name:
                continue
            addrs = list(pod.host_ips) + (list(pod.ips) if pod.host_network else [])
            for a in addrs:
                self.by_address.setdefault(a, pod.node_name)
                self.addresses.setdefault(pod.node_name, set()).add(a)

    def node_of(self, ep: Endpoint, address: IPAddress | None, settings: Settings) -> str | None:
        """The node an endpoint is, when it is a node (a node address or hostNetwork pod)."""
        if ep.pod is not None:
            if ep.pod.host_network and settings.hostnetwork_as_node:
                return ep.pod.node_name
            return None
        return self.by_address.get(address) if address is not None else None


def _local_pod(ep: Endpoint, settings: Settings) -> Pod | None:
    """The pod whose policies judge this end, if any."""
    if ep.pod is not None and ep.pod.is_pod_endpoint(settings):
        return ep.pod
    return None


def _is_self(src: Endpoint, dst: Endpoint, settings: Settings) -> bool:
    return (
        settings.allow_self_traffic and src.pod is not None and src.pod == dst.pod
        and src.pod.kind == "Pod"
    )


def _own_node(local: Pod, other: Endpoint, other_address: IPAddress | None, direction: Direction,
              nodes: NodeIndex, settings: Settings) -> bool:
    allowed = (
        settings.allow_node_to_local_pod_ingress if direction is Direction.INGRESS
        else settings.allow_pod_to_local_node_egress
    )
    if not allowed or not local.node_name:
        return False
    return nodes.node_of(other, other_address, settings) == local.node_name


def _rules(policies: tuple[IRPolicy, ...], direction: Direction) -> Iterator[IRRule]:
    for policy in policies:
        yield from policy.rules(direction)


def network_policy_tier(cluster: Cluster, settings: Settings, local: Pod, remote: Remote, direction: Direction,
                        destination: Pod | None) -> SideDecision:
    """The NetworkPolicy tier for one side: a pod no policy isolates passes everything on;
    an isolated pod allows what its policies' matching rules admit and denies the rest."""
    policies = isolating_policies(cluster, local, direction, settings)
    if not policies:
        return SideDecision.undecided()
    out = ConnSet.none()
    for rule in _rules(policies, direction):
        if rule_peers_match(rule, remote, cluster, settings):
            out = out | rule_conns(rule, destination, settings)
    return SideDecision.decided(out)


def cluster_tier(cluster: Cluster, settings: Settings, tier: Tier, local: Pod, remote: Remote,
                 direction: Direction, destination: Pod | None) -> SideDecision:
    """An Admin or Baseline tier for one side: its policies that select the pod, by priority,
    rules in order; the first rule that matches a connection decides it (Allow, Deny or Pass);
    what no rule matches passes on."""
    policies = tier_policies(cluster, local, direction, settings, tier)
    if not policies:
        return SideDecision.undecided()
    return SideDecision.first_match(
        ((rule.action, rule_conns(rule, destination, settings))
         for policy in policies for rule in policy.rules(direction)
         if rule_peers_match(rule, remote, cluster, settings)),
        Action.PASS)


def _tiers(cluster: Cluster, settings: Settings, local: Pod, remote: Remote, direction: Direction,
           destination: Pod | None, own_node: bool) -> Iterator[SideDecision]:
    """Each tier's decision for one side, in evaluation order (computed as the caller asks).

    ``own_node``: the remote end is the pod's own node, which an isolated pod may always
    reach (egress; the NetworkPolicy tier's exemption).
    """
    for tier in ir_of(cluster).tiers():
        match tier:
            case Tier.NETWORK_POLICY:
                if own_node:
                    isolated = bool(isolating_policies(cluster, local, direction, settings))
                    yield SideDecision.decided(ConnSet.all()) if isolated else SideDecision.undecided()
                else:
                    yield network_policy_tier(cluster, settings, local, remote, direction, destination)
            case Tier.ADMIN | Tier.BASELINE:
                yield cluster_tier(cluster, settings, tier, local, remote, direction, destination)
            case _:
                assert_never(tier)


def side_decision(cluster: Cluster, settings: Settings, nodes: NodeIndex, local_ep: Endpoint,
                  local_address: IPAddress | None, remote_ep: Endpoint, remote_address: IPAddress | None,
                  direction: Direction, destination: Pod | None) -> SideDecision:
    """What one side decides for one path, every tier composed (nothing passes a side no policy applies to)."""
    local = _local_pod(local_ep, settings)
    if local is None:
        return SideDecision.undecided()
    own = _own_node(local, remote_ep, remote_address, direction, nodes, settings)
    if own and direction is Direction.INGRESS:
        return SideDecision.decided(ConnSet.all())
    remote = Remote(remote_ep.pod, remote_address)
    return compose(_tiers(cluster, settings, local, remote, direction, destination, own))


def side_conns(cluster: Cluster, settings: Settings, nodes: NodeIndex, local_ep: Endpoint,
               local_address: IPAddress | None, remote_ep: Endpoint, remote_address: IPAddress | None,
               direction: Direction, destination: Pod | None) -> ConnSet:
    """What one side allows for one path: what its tiers allow, and all they pass on."""
    return side_decision(cluster, settings, nodes, local_ep, local_address, remote_ep, remote_address,
                         direction, destination).final()


def pair_decisions(cluster: Cluster, settings: Settings, nodes: NodeIndex, src: Endpoint,
                   dst: Endpoint) -> tuple[tuple[SideDecision, SideDecision], ...]:
    """(egress, ingress) decisions for each usable path (self traffic is decided before any tier)."""
    return tuple(
        (side_decision(cluster, settings, nodes, src, path.src, dst, path.dst, Direction.EGRESS, dst.pod),
         side_decision(cluster, settings, nodes, dst, path.dst, src, path.src, Direction.INGRESS, dst.pod))
        for path in paths(src, dst)
    )


def pair_conns(cluster: Cluster, settings: Settings, nodes: NodeIndex, src: Endpoint, dst: Endpoint) -> ConnSet:
    """Everything ``src`` may open towards ``dst``: the union over usable paths."""
    if _is_self(src, dst, settings):
        return ConnSet.all()
    out = ConnSet.none()
    for path in paths(src, dst):
        egress = side_conns(cluster, settings, nodes, src, path.src, dst, path.dst, Direction.EGRESS, dst.pod)
        if not egress:
            continue
        ingress = side_conns(cluster, settings, nodes, dst, path.dst, src, path.src, Direction.INGRESS, dst.pod)
        out = out | (egress & ingress)
    return out


def _peer_detail(rule: IRRule, remote: Remote, cluster: Cluster, settings: Settings) -> str:
    """Why the remote end matches none of the rule's peers, in words."""
    who = remote.pod.key if remote.pod is not None else str(remote.address)
    parts = []
    for peer in rule.peers:
        match peer:
            case AddressPeer():
                where = str(remote.address) if remote.address is not None else "no known address"
                parts.append(f"{peer} does not contain {where}")
                continue
            case SelectorPeer():
                pass
            case _:
                assert_never(peer)
        pod = remote.pod
        if pod is None or not pod.is_pod_endpoint(settings):
            parts.append(f"{peer} only match pods, and {who} is not one policies can select")
            continue
        if peer.namespace_selector is None and pod.namespace != peer.namespace:
            parts.append(f"{peer} only match pods in namespace {peer.namespace}")
            continue
        missing = []
        if peer.namespace_selector is not None:
            ns = cluster.namespace(pod.namespace)
            ns_labels = ns.labels if ns is not None else {}
            missing += [f"namespace {pod.namespace} lacks {r}" for r in peer.namespace_selector.failing(ns_labels)]
        if peer.pod_selector is not None:
            have = ", ".join(f"{k}={v}" for k, v in pod.labels.items()) or "no labels"
            fails = peer.pod_selector.failing(pod.labels)
            if fails:
                missing.append(f"{who} ({have}) lacks {', '.join(str(r) for r in fails)}")
        parts.append(f"{peer}: " + "; ".join(missing))
    return " | ".join(parts)


def _port_detail(rule: IRRule, destination: Pod | None, protocol: Protocol, port: int, settings: Settings) -> str:
    offered = ["an entry podfence cannot read"] if rule.ports.unknown else []
    for entry in rule.ports.entries:
        match entry:
            case NamedPort():
                resolved = port_entry_conns(entry, destination, settings).for_protocol(entry.protocol)
                numbers = ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in resolved) or "nothing here"
                offered.append(f"{entry} (= {numbers})")
            case PortRange():
                offered.append(str(entry))
            case _:
                assert_never(entry)
    return f"allows {', '.join(offered)}, not {protocol} {port}"


def _network_policy_rules(cluster: Cluster, settings: Settings, policies: tuple[IRPolicy, ...], remote: Remote,
                          direction: Direction, destination: Pod | None, protocol: Protocol,
                          port: int) -> tuple[tuple[RuleRef, ...], tuple[NearMiss, ...]]:
    """The isolating policies' rules that admit the connection, and those that almost do."""
    allowed_by: list[RuleRef] = []
    near: list[NearMiss] = []
    for rule in _rules(policies, direction):
        ref = rule.ref
        peer_ok = rule_peers_match(rule, remote, cluster, settings)
        port_ok = rule_conns(rule, destination, settings).allows(protocol, port)
        if peer_ok and port_ok:
            allowed_by.append(ref)
        elif peer_ok:
            near.append(NearMiss(ref, True, False, _port_detail(rule, destination, protocol, port, settings)))
        elif port_ok:
            near.append(NearMiss(ref, False, True, _peer_detail(rule, remote, cluster, settings)))
    return tuple(allowed_by), tuple(near)


def side_verdict(cluster: Cluster, settings: Settings, nodes: NodeIndex, local_ep: Endpoint,
                 local_address: IPAddress | None, remote_ep: Endpoint, remote_address: IPAddress | None,
                 direction: Direction, destination: Pod | None, protocol: Protocol, port: int) -> DirectionVerdict:
    """One side of one connection, with the policies and rules that decide it."""
    local = _local_pod(local_ep, settings)
    if local is None:
        return DirectionVerdict(direction, True, Reason.NOT_A_POD)
    policies = isolating_policies(cluster, local, direction, settings)
    names = tuple(p.key for p in policies)
    own = _own_node(local, remote_ep, remote_address, direction, nodes, settings)
    if any(t is not Tier.NETWORK_POLICY for t in ir_of(cluster).tiers()):
        return _tiered_verdict(cluster, settings, local, Remote(remote_ep.pod, remote_address), direction,
                               destination, protocol, port, policies, own)
    if own:
        return DirectionVerdict(direction, True, Reason.OWN_NODE, bool(policies), names)
    if not policies:
        return DirectionVerdict(direction, True, Reason.NOT_ISOLATED)
    remote = Remote(remote_ep.pod, remote_address)
    allowed_by, near = _network_policy_rules(cluster, settings, policies, remote, direction, destination, protocol,
                                             port)
    reason = Reason.RULE if allowed_by else Reason.NO_RULE
    return DirectionVerdict(direction, bool(allowed_by), reason, True, names, allowed_by, near)


TIER_NAMES = {Tier.ADMIN: "Admin", Tier.NETWORK_POLICY: "NetworkPolicy", Tier.BASELINE: "Baseline"}
_OUTCOMES = {Action.ALLOW: Outcome.ALLOW, Action.DENY: Outcome.DENY, Action.PASS: Outcome.PASS}


def action_word(rule: IRRule) -> str:
    """The rule's action as its manifest spells it (ClusterNetworkPolicy says Accept, v1alpha1 Allow)."""
    if rule.action is Action.ALLOW and rule.ref.kind == "ClusterNetworkPolicy":
        return "Accept"
    return rule.action.value


def _cluster_step(cluster: Cluster, settings: Settings, tier: Tier, local: Pod, remote: Remote,
                  direction: Direction, destination: Pod | None, protocol: Protocol, port: int) -> TierStep:
    """What an Admin or Baseline tier does with one connection, and which rule decides."""
    name = TIER_NAMES[tier]
    policies = tier_policies(cluster, local, direction, settings, tier)
    if not policies:
        return TierStep(name, Outcome.NOT_SELECTED)
    keys = tuple(p.key for p in policies)
    near: list[NearMiss] = []
    for policy in policies:
        for rule in policy.rules(direction):
            peer_ok = rule_peers_match(rule, remote, cluster, settings)
            port_ok = rule_conns(rule, destination, settings).allows(protocol, port)
            if peer_ok and port_ok:
                return TierStep(name, _OUTCOMES[rule.action], keys, policy.key, policy.kind, policy.priority,
                                rule.ref, action_word(rule), near_misses=tuple(near))
            if peer_ok:
                near.append(NearMiss(rule.ref, True, False, _port_detail(rule, destination, protocol, port, settings)))
            elif port_ok:
                near.append(NearMiss(rule.ref, False, True, _peer_detail(rule, remote, cluster, settings)))
    return TierStep(name, Outcome.NO_MATCH, keys, near_misses=tuple(near))


def _tiered_verdict(cluster: Cluster, settings: Settings, local: Pod, remote: Remote, direction: Direction,
                    destination: Pod | None, protocol: Protocol, port: int, policies: tuple[IRPolicy, ...],
                    own_node: bool) -> DirectionVerdict:
    """One side with cluster-wide tiers: each tier's step in order, up to the one that decides."""
    names = tuple(p.key for p in policies)
    isolated = bool(policies)
    if own_node and direction is Direction.INGRESS:
        return DirectionVerdict(direction, True, Reason.OWN_NODE, isolated, names)
    steps: list[TierStep] = []
    for tier in ir_of(cluster).tiers():
        if tier is Tier.NETWORK_POLICY:
            if not policies:
                steps.append(TierStep("NetworkPolicy", Outcome.NOT_SELECTED))
                continue
            if own_node:
                steps.append(TierStep("NetworkPolicy", Outcome.ALLOW, names,
                                      note="an isolated pod may always reach its own node"))
                return DirectionVerdict(direction, True, Reason.OWN_NODE, True, names, tiers=tuple(steps))
            allowed_by, near = _network_policy_rules(cluster, settings, policies, remote, direction, destination,
                                                     protocol, port)
            steps.append(TierStep("NetworkPolicy", Outcome.ALLOW if allowed_by else Outcome.DENY, names,
                                  allowed_by=allowed_by, near_misses=near))
            return DirectionVerdict(direction, bool(allowed_by), Reason.RULE if allowed_by else Reason.NO_RULE,
                                    True, names, allowed_by, near, tuple(steps))
        step = _cluster_step(cluster, settings, tier, local, remote, direction, destination, protocol, port)
        steps.append(step)
        if step.outcome in (Outcome.ALLOW, Outcome.DENY):
            allowed = step.outcome is Outcome.ALLOW
            assert step.rule is not None
            misses = () if allowed else tuple(m for st in steps for m in st.near_misses)
            return DirectionVerdict(direction, allowed, Reason.TIER, isolated, names,
                                    (step.rule,) if allowed else (), misses, tuple(steps))
    return DirectionVerdict(direction, True, Reason.NOT_ISOLATED, isolated, names, tiers=tuple(steps))


def _policy(found: IRPolicy | None) -> IRPolicy:
    assert found is not None
    return found


def explain(cluster: Cluster, settings: Settings, nodes: NodeIndex, src: Endpoint, dst: Endpoint,
            protocol: Protocol, port: int, hairpin: bool = False) -> Verdict:
    """The verdict on one connection and why.

    When the endpoints can talk over several address families and the families
    disagree, the verdict is the one that lets the connection through (if any), and
    a note says so. ``hairpin``: the connection went through a Service, so a pod
    reaching itself is judged like any pair (only its own address is exempt).
    """
    if not hairpin and _is_self(src, dst, settings):
        ok_e = DirectionVerdict(Direction.EGRESS, True, Reason.SELF)
        ok_i = DirectionVerdict(Direction.INGRESS, True, Reason.SELF)
        return Verdict(src, dst, protocol, port, ok_e, ok_i, ("a pod may always reach itself on its own address",))
    options = paths(src, dst)
    notes: list[str] = []
    routable = bool(options)
    if not routable:
        notes.append(f"{src.name} and {dst.name} share no address family, so no connection is possible; "
                     "the policies are shown as if they could talk")
        options = (Path(None, None),)
    verdicts = []
    for path in options:
        eg = side_verdict(cluster, settings, nodes, src, path.src, dst, path.dst, Direction.EGRESS, dst.pod,
                          protocol, port)
        ing = side_verdict(cluster, settings, nodes, dst, path.dst, src, path.src, Direction.INGRESS, dst.pod,
                           protocol, port)
        verdicts.append((path, Verdict(src, dst, protocol, port, eg, ing)))
    chosen_path, chosen = next(((p, v) for p, v in verdicts if v.allowed), verdicts[0])
    if len({v.allowed for _, v in verdicts}) > 1:
        notes.append(f"allowed only over {chosen_path.src or chosen_path.dst} (other address families are denied)")
    if chosen_path.src is None and chosen_path.dst is None and src.pod and dst.pod:
        deciding = [(chosen.egress, Direction.EGRESS), (chosen.ingress, Direction.INGRESS)]
        ir = ir_of(cluster)
        if any(isinstance(peer, AddressPeer) for side, direction in deciding for name in side.policies
               for rule in _policy(ir.policy(name)).rules(direction) for peer in rule.peers):
            notes.append("no pod IPs are known, so ipBlock peers were not matched against these pods")
    notes += _dns_notes(cluster, chosen)
    return Verdict(src, dst, protocol, port, chosen.egress, chosen.ingress, tuple(notes), routable)


def _dns_notes(cluster: Cluster, verdict: Verdict) -> list[str]:
    """A note for each deciding rule with domainNames: its verdict depends on DNS (the dns_map setting)."""
    out = []
    for side in (verdict.egress, verdict.ingress):
        for step in side.tiers:
            if step.rule is None:
                continue
            policy = next((p for p in ir_of(cluster) if p.kind == step.kind and p.key == step.policy), None)
            if policy is None:
                continue
            rule = policy.rules(step.rule.direction)[step.rule.index]
            if any(isinstance(peer, AddressPeer) and peer.domains for peer in rule.peers):
                out.append(f"depends on DNS: {step.kind} {step.policy} {step.rule.field} names domainNames, "
                           "matched through the dns_map setting")
    return out


