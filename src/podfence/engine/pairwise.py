"""Exact evaluation of one pair of endpoints, with explanations.

This is the direct reading of docs/semantics.md (Evaluation) for a single connection: the egress side
(the source pod's isolating policies) and the ingress side (the destination pod's)
each allow or deny, and the connection needs both. Each side is decided tier by
tier (:mod:`podfence.engine.decision`); NetworkPolicies are the only tier today. The
whole-cluster computation in :mod:`podfence.engine.connectivity` gives the same
answers by classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Iterator, assert_never

from podfence.engine.decision import SideDecision, compose
from podfence.engine.ir import AddressPeer, IRPolicy, IRRule, NamedPort, PortRange, RuleRef, SelectorPeer, Tier, ir_of
from podfence.engine.match import Remote, isolating_policies, port_entry_conns, rule_conns, rule_peers_match
from podfence.engine.verdict import DirectionVerdict, Endpoint, NearMiss, Reason, Verdict
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

    Node addresses come from pods' ``status.hostIP(s)`` and from hostNetwork pods'
    own addresses, each with the pod's ``spec.nodeName``.
    """

    def __init__(self, cluster: Cluster) -> None:
        self.by_address: dict[IPAddress, str] = {}
        self.addresses: dict[str, set[IPAddress]] = {}
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


def _tiers(cluster: Cluster, settings: Settings, local: Pod, remote: Remote, direction: Direction,
           destination: Pod | None) -> Iterator[SideDecision]:
    """Each tier's decision for one side, in evaluation order (computed as the caller asks)."""
    for tier in ir_of(cluster).tiers():
        match tier:
            case Tier.NETWORK_POLICY:
                yield network_policy_tier(cluster, settings, local, remote, direction, destination)
            case Tier.ADMIN | Tier.BASELINE:
                raise NotImplementedError(f"no evaluator for the {tier.name} tier yet")
            case _:
                assert_never(tier)


def side_decision(cluster: Cluster, settings: Settings, nodes: NodeIndex, local_ep: Endpoint,
                  local_address: IPAddress | None, remote_ep: Endpoint, remote_address: IPAddress | None,
                  direction: Direction, destination: Pod | None) -> SideDecision:
    """What one side decides for one path, every tier composed (nothing passes a side no policy applies to)."""
    local = _local_pod(local_ep, settings)
    if local is None:
        return SideDecision.undecided()
    if _own_node(local, remote_ep, remote_address, direction, nodes, settings):
        return SideDecision.decided(ConnSet.all())
    remote = Remote(remote_ep.pod, remote_address)
    return compose(_tiers(cluster, settings, local, remote, direction, destination))


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
    offered = []
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


def side_verdict(cluster: Cluster, settings: Settings, nodes: NodeIndex, local_ep: Endpoint,
                 local_address: IPAddress | None, remote_ep: Endpoint, remote_address: IPAddress | None,
                 direction: Direction, destination: Pod | None, protocol: Protocol, port: int) -> DirectionVerdict:
    """One side of one connection, with the policies and rules that decide it."""
    local = _local_pod(local_ep, settings)
    if local is None:
        return DirectionVerdict(direction, True, Reason.NOT_A_POD)
    policies = isolating_policies(cluster, local, direction, settings)
    names = tuple(p.key for p in policies)
    if _own_node(local, remote_ep, remote_address, direction, nodes, settings):
        return DirectionVerdict(direction, True, Reason.OWN_NODE, bool(policies), names)
    if not policies:
        return DirectionVerdict(direction, True, Reason.NOT_ISOLATED)
    remote = Remote(remote_ep.pod, remote_address)
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
    reason = Reason.RULE if allowed_by else Reason.NO_RULE
    return DirectionVerdict(direction, bool(allowed_by), reason, True, names, tuple(allowed_by), tuple(near))


def _policy(found: IRPolicy | None) -> IRPolicy:
    assert found is not None
    return found


def explain(cluster: Cluster, settings: Settings, nodes: NodeIndex, src: Endpoint, dst: Endpoint,
            protocol: Protocol, port: int) -> Verdict:
    """The verdict on one connection and why.

    When the endpoints can talk over several address families and the families
    disagree, the verdict is the one that lets the connection through (if any), and
    a note says so.
    """
    if _is_self(src, dst, settings):
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
    return Verdict(src, dst, protocol, port, chosen.egress, chosen.ingress, tuple(notes), routable)


