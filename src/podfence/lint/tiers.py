"""What each rule of a cluster-wide policy matches, exactly, for the NP6xx rules.

A rule's *footprint* at one subject pod is every connection the rule matches
there, read with the engine's own matching (:func:`podfence.engine.rule_peers_match`,
:func:`podfence.engine.rule_conns`):

* per remote pod and address it can use: the protocols and ports matched (named
  ports resolved on the destination, as the evaluators do);
* for addresses that are no pod's (nodes, hostNetwork pods, the outside): address
  sets with the protocols and ports matched towards them.

Footprints compare exactly: one is *covered* by others when every connection it
matches is matched by one of them, and two *overlap* when some connection is
matched by both. Pods alike in namespace, labels and container ports (and, as
remotes, in which ``networks``/``nodes`` peers hold their address) behave alike,
so footprints are computed once per such class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Iterable, Iterator

from podfence.engine import (
    AddressPeer, IRPolicy, IRRule, Remote, Tier, rule_conns, rule_peers_match,
)
from podfence.model import Direction, Pod
from podfence.sets import ConnSet, IPSet


@dataclass(frozen=True, slots=True)
class Footprint:
    """What one rule matches at one subject pod: per remote (class) the connections, and
    address sets (no pod's) with the connections matched towards them."""

    remotes: tuple[tuple[Hashable, ConnSet], ...] = ()
    addresses: tuple[tuple[IPSet, ConnSet], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.remotes) or bool(self.addresses)

    def covered_by(self, others: Iterable[Footprint]) -> bool:
        """True when every connection this footprint holds is held by one of ``others``."""
        others = list(others)
        union: dict[Hashable, ConnSet] = {}
        for o in others:
            for key, conns in o.remotes:
                union[key] = union[key] | conns if key in union else conns
        for key, conns in self.remotes:
            if not conns.issubset(union.get(key, ConnSet.none())):
                return False
        pieces = [piece for o in others for piece in o.addresses]
        for addresses, conns in self.addresses:
            for block in _blocks(addresses, [a for a, _ in pieces]):
                held = ConnSet.none()
                for a, c in pieces:
                    if block.issubset(a):
                        held = held | c
                if not conns.issubset(held):
                    return False
        return True

    def overlaps(self, other: Footprint) -> bool:
        """True when some connection is matched by both."""
        theirs = dict(other.remotes)
        if any(key in theirs and conns & theirs[key] for key, conns in self.remotes):
            return True
        return any(a & b and c & d for a, c in self.addresses for b, d in other.addresses)


def _blocks(addresses: IPSet, cuts: list[IPSet]) -> list[IPSet]:
    """``addresses`` split along every set of ``cuts``: each block lies inside or outside each cut."""
    blocks = [addresses]
    for cut in cuts:
        nxt = []
        for b in blocks:
            inside, outside = b & cut, b - cut
            nxt += [x for x in (inside, outside) if x]
        blocks = nxt
    return blocks


class TierFacts:
    """Footprints of every cluster-wide rule, per subject class, computed as asked and kept."""

    def __init__(self, ctx) -> None:  # type: ignore[no-untyped-def]  # a LintContext (it imports this module)
        self.ctx = ctx
        self.cluster_ir = tuple(p for p in ctx.ir if p.tier is not Tier.NETWORK_POLICY)
        address_sets = [peer.resolved(ctx.settings) for p in self.cluster_ir for d in Direction
                        for r in p.rules(d) for peer in r.peers if isinstance(peer, AddressPeer)]
        pod_ips = IPSet.of_addresses(ip for pod in ctx.endpoints for ip in pod.ips)
        self.outside = IPSet.all() - pod_ips  # addresses that are no pod's (selectors never match them)
        remotes: dict[Hashable, Remote] = {}
        for pod in ctx.endpoints:
            for ip in pod.ips or (None,):
                key = (pod.namespace, pod.labels, pod.ports,
                       tuple(ip is not None and ip in a for a in address_sets))
                remotes.setdefault(key, Remote(pod, ip))
        self.remotes = tuple(remotes.items())
        self._footprints: dict[tuple[object, Hashable], Footprint] = {}

    @staticmethod
    def subject_class(pod: Pod) -> Hashable:
        return (pod.namespace, pod.labels, pod.ports)

    def subjects(self, policy: IRPolicy) -> dict[Hashable, Pod]:
        """One pod per class among the pods ``policy`` selects."""
        out: dict[Hashable, Pod] = {}
        for pod in self.ctx.selected[policy.key]:
            out.setdefault(self.subject_class(pod), pod)
        return out

    def footprint(self, rule: IRRule, local: Pod) -> Footprint:
        key = (rule.ref, self.subject_class(local))
        hit = self._footprints.get(key)
        if hit is None:
            hit = self._footprints[key] = self._footprint(rule, local)
        return hit

    def _footprint(self, rule: IRRule, local: Pod) -> Footprint:
        s, cluster = self.ctx.settings, self.ctx.cluster
        ingress = rule.direction is Direction.INGRESS
        remotes = []
        for key, remote in self.remotes:
            if rule_peers_match(rule, remote, cluster, s):
                conns = rule_conns(rule, local if ingress else remote.pod, s)
                if conns:
                    remotes.append((key, conns))
        if rule.peers:
            reach = IPSet()
            for peer in rule.peers:
                if isinstance(peer, AddressPeer):
                    reach = reach | peer.resolved(s)
        else:
            reach = IPSet.all()
        reach = reach & self.outside
        conns = rule_conns(rule, local if ingress else None, s)
        addresses = ((reach, conns),) if reach and conns else ()
        return Footprint(tuple(remotes), addresses)

    def ordered(self, tier: Tier, direction: Direction) -> tuple[IRPolicy, ...]:
        """The policies of ``tier`` with rules in ``direction``, in the order they run."""
        return tuple(p for p in self.ctx.ir.evaluation_order(tier, self.ctx.settings) if p.guarded(direction))

    def rules(self, tier: Tier) -> Iterator[tuple[IRPolicy, Direction, IRRule]]:
        for direction in Direction:
            for policy in self.ordered(tier, direction):
                for rule in policy.rules(direction):
                    yield policy, direction, rule


def tier_facts(ctx) -> TierFacts:  # type: ignore[no-untyped-def]
    """The context's :class:`TierFacts`, built once and shared by the rules."""
    hit = ctx.memo.get("tiers")
    if hit is None:
        hit = ctx.memo["tiers"] = TierFacts(ctx)
    return hit  # type: ignore[no-any-return]
