"""NetworkPolicies as nftables rules, one table per isolated pod.

The compiler never re-implements policy semantics: it reads the engine's policy
IR, and which remote addresses a rule admits and which ports it opens come from
the engine's matching functions (``isolating_policies``, ``rule_peers_match``,
``rule_conns``), asked about every address the lab knows. Addresses the lab does not know (the rest of the
internet) can only be matched by ipBlock, so a rule's ipBlocks, minus the lab's
own addresses, are added as they are.

For a pod isolated in a direction, its table holds one base chain for it
(``ingress`` on the input hook, ``egress`` on the output hook) that accepts:

1. replies and related packets (``ct state established,related``): policies
   judge connections, not packets;
2. loopback (127.0.0.0/8, ::1) and IPv6 neighbour discovery / MLD, which
   Kubernetes networking never blocks;
3. self traffic of a bare Pod (own address to own address), when
   ``allow_self_traffic``; a workload representative's own address goes
   through the rules like any peer, standing for replica-to-replica traffic;
4. the pod's own node (hostNetwork pods and host addresses on the same node),
   when ``allow_node_to_local_pod_ingress`` / ``allow_pod_to_local_node_egress``;
5. every rule of every isolating policy: ``saddr``/``daddr`` in the addresses
   the rule's peers admit, with the protocols and ports it opens. An egress rule
   with named ports opens different ports towards different pods (names resolve
   on the destination), so it becomes one nft rule per distinct port set;

and logs everything else to NFLOG (group :data:`LOG_GROUP`, prefix naming the
pod and direction) before dropping it. An egress chain also accepts the lab's
own health probe (TCP to the node's gateway address on :data:`HEALTH_PORT`, see
:mod:`podfence.lab.probe`): an address no pod can have and no matrix cell uses.
A pod that no policy isolates gets no table at all.

The rule text is built only from what the lab makes itself: the validated lab
name, pod numbers, addresses rendered from parsed values, port numbers and
protocol keywords. Names from manifests (pods, namespaces, policies) appear in
comments only, percent-encoded by :func:`comment_text` down to letters, digits
and ``/._-~``, so no manifest can add a line, a quote or a statement to nft's
input.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable, Iterable, assert_never
from urllib.parse import quote

from podfence.engine import (
    Action, AddressPeer, Endpoint, Engine, IRPolicy, IRRule, NodeIndex, Remote, RuleRef, SelectorPeer, Tier,
    isolating_policies, rule_conns, rule_peers_match, tier_policies,
)
from podfence.lab.naming import AUDIT_GROUP, GATEWAY_V4, GATEWAY_V6, HEALTH_PORT, LOG_GROUP, LabNames
from podfence.lab.plan import LabPod
from podfence.model import Cluster, Direction, Pod, Settings
from podfence.model.staged import promoted
from podfence.sets import ALL_PORTS, PROTOCOLS, ConnSet, IntervalSet, IPAddress, IPSet, parse_ip

_COMMENT_MAX = 120
_ND_TYPES = ("nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert, "
             "mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report")


@dataclass(frozen=True, slots=True)
class PodRules:
    """What the lab enforces for one pod.

    Attributes:
        key: the pod's ``namespace/name``.
        ingress / egress: keys of the policies isolating the pod in that
            direction (empty: not isolated, no chain).
        ruleset: the nftables text for the pod's namespace ("" when not isolated).
        deciders: what the ``k``-th tagged log line of the ruleset names (its prefix
            ends in ``t<k>``: a cluster-wide rule drops; ``a<k>``: staged policies
            would drop, audit only): the policies a denial record lists, as JSON.
    """

    key: str
    ingress: tuple[str, ...]
    egress: tuple[str, ...]
    ruleset: str
    deciders: tuple[tuple[dict[str, object], ...], ...] = field(default=())

    @property
    def digest(self) -> str:
        """A short hash of the ruleset ("" when there is none): what changed needs applying."""
        return hashlib.sha256(self.ruleset.encode()).hexdigest()[:16] if self.ruleset else ""

    def isolating(self, direction: Direction) -> tuple[str, ...]:
        return self.ingress if direction is Direction.INGRESS else self.egress


@dataclass(frozen=True, slots=True)
class _Endpoint:
    pod: Pod
    lab: LabPod
    addresses: tuple[IPAddress, ...]


@dataclass(frozen=True, slots=True)
class _View:
    """The policies that decide one side of one pod, tier by tier, in the order they run."""

    admin: tuple[IRPolicy, ...]
    isolating: tuple[IRPolicy, ...]
    baseline: tuple[IRPolicy, ...]

    @property
    def plain(self) -> bool:
        """Only NetworkPolicies (or nothing): the one-chain layout."""
        return not self.admin and not self.baseline

    @property
    def empty(self) -> bool:
        return self.plain and not self.isolating


_TIER_NAMES = {Tier.ADMIN: "Admin", Tier.NETWORK_POLICY: "NetworkPolicy", Tier.BASELINE: "Baseline"}


class Compiler:
    """Compiles rules for the pods of one lab.

    ``cluster`` must carry the lab's addresses (:func:`podfence.lab.plan.with_lab_addresses`).
    Peer matching is cached per policy rule, since which addresses a rule admits
    does not depend on the pod it protects. The cluster's staged policies are
    audited: the cluster with them enforced (:func:`podfence.model.staged.promoted`)
    is compiled too, and where it denies what ``cluster`` allows the packet is
    logged as an audit and passes.
    """

    def __init__(self, cluster: Cluster, settings: Settings, pods: tuple[LabPod, ...], lab: str) -> None:
        self.cluster = cluster
        self.settings = settings
        self.names = LabNames(lab)
        self.endpoints: list[_Endpoint] = []
        for lab_pod in pods:
            pod = cluster.pod(lab_pod.key)
            if pod is None:
                continue
            addresses = tuple(a for a in (parse_ip(t) for t in lab_pod.ips) if a is not None)
            self.endpoints.append(_Endpoint(pod, lab_pod, addresses))
        self.known = ip_set(a for ep in self.endpoints for a in ep.addresses)
        self.pod_endpoint_addresses = ip_set(
            a for ep in self.endpoints if ep.pod.is_pod_endpoint(settings) for a in ep.addresses
        )
        self.nodes = NodeIndex(cluster)
        self._admitted: dict[RuleRef, IPSet] = {}
        self.staged = Compiler(promoted(cluster), settings, pods, lab) if cluster.staged else None
        self._engine: Engine | None = None

    def compile(self, lab_pod: LabPod) -> PodRules:
        pod = self.cluster.pod(lab_pod.key)
        if pod is None or not pod.is_pod_endpoint(self.settings):
            return PodRules(lab_pod.key, (), (), "")
        views = {d: self._view(pod, d) for d in Direction}
        audits = {d: self._audited(pod, d) for d in Direction}
        keys = {d: tuple(p.key for p in views[d].isolating) for d in Direction}
        if all(views[d].empty and not audits[d] for d in Direction):
            return PodRules(lab_pod.key, (), (), "")
        addresses = ", ".join(str(a) for a in _addresses(lab_pod))
        lines = [f"# podfence lab: {comment_text(lab_pod.key)} ({comment_text(lab_pod.kind)}) at {addresses}"]
        for d in Direction:
            lines.append(f"# {d.value}: " + (f"isolated by {', '.join(comment_text(k) for k in keys[d])}"
                                             if keys[d] else "not isolated"))
            view = views[d]
            for tier, policies in (("Admin", view.admin), ("Baseline", view.baseline)):
                if policies:
                    lines.append(f"# {d.value}: {tier} tier {', '.join(comment_text(p.key) for p in policies)}")
            if audits[d]:
                lines.append(f"# {d.value}: staged (audit only) {', '.join(comment_text(k) for k in audits[d])}")
        lines.append(f"table inet {self.names.table} {{")
        deciders: list[tuple[dict[str, object], ...]] = []
        for d in Direction:
            if views[d].plain and not audits[d]:
                if views[d].isolating:
                    lines += self._chain(pod, lab_pod, d, views[d].isolating)
            elif not views[d].empty or audits[d]:
                lines += self._tiered_chains(pod, lab_pod, d, views[d], audits[d], deciders)
        lines.append("}")
        return PodRules(lab_pod.key, keys[Direction.INGRESS], keys[Direction.EGRESS], "\n".join(lines) + "\n",
                        tuple(deciders))

    # -- what applies to one pod ------------------------------------------------------------

    def _view(self, pod: Pod, direction: Direction) -> _View:
        def tier(t: Tier) -> tuple[IRPolicy, ...]:
            return tier_policies(self.cluster, pod, direction, self.settings, t)
        return _View(tier(Tier.ADMIN), isolating_policies(self.cluster, pod, direction, self.settings),
                     tier(Tier.BASELINE))

    def _audited(self, pod: Pod, direction: Direction) -> tuple[str, ...]:
        """The staged policies that change which NetworkPolicies isolate ``pod`` in ``direction``
        (or their rules): the ones a would-be denial names. Empty: nothing to audit."""
        if self.staged is None:
            return ()
        now = set(isolating_policies(self.cluster, pod, direction, self.settings))
        then = set(isolating_policies(self.staged.cluster, pod, direction, self.settings))
        changed = {p.key for p in now ^ then}
        return tuple(s.key for s in self.cluster.staged if s.key in changed)

    # -- NetworkPolicies only ------------------------------------------------------------------

    def _preamble(self, pod: Pod, lab_pod: LabPod, direction: Direction, base: str) -> list[str]:
        ingress = direction is Direction.INGRESS
        hook = "input" if ingress else "output"
        remote = "saddr" if ingress else "daddr"
        out = [
            f"\tchain {base} {{",
            f"\t\ttype filter hook {hook} priority filter; policy accept;",
            "\t\tct state established,related accept",
            f"\t\tip {remote} 127.0.0.0/8 accept",
            f"\t\tip6 {remote} ::1 accept",
            f"\t\ticmpv6 type {{ {_ND_TYPES} }} accept",
        ]
        if not ingress:
            out.append(f"\t\tip daddr {GATEWAY_V4} tcp dport {HEALTH_PORT} accept comment \"lab health probe\"")
            out.append(f"\t\tip6 daddr {GATEWAY_V6} tcp dport {HEALTH_PORT} accept comment \"lab health probe\"")
        if pod.kind == "Pod" and self.settings.allow_self_traffic:
            for ip in _addresses(lab_pod):
                family = "ip" if ip.version == 4 else "ip6"
                out.append(f"\t\t{family} saddr {ip} {family} daddr {ip} accept comment \"self traffic\"")
        return out

    def _chain(self, pod: Pod, lab_pod: LabPod, direction: Direction,
               policies: tuple[IRPolicy, ...]) -> list[str]:
        remote = "saddr" if direction is Direction.INGRESS else "daddr"
        out = self._preamble(pod, lab_pod, direction, direction.value)
        node = self._own_node(pod, direction)
        if node:
            out += _verdict_lines(remote, node, ConnSet.all(), "own node", "accept")
        for policy in policies:
            for rule in policy.rules(direction):
                label = f"{comment_text(policy.key)} {direction.value}[{rule.index}]"
                out += self._rule(pod, rule, remote, label, "accept")
        prefix = self.names.log_prefix(lab_pod.index, direction)
        out.append(f"\t\tlog prefix \"{prefix}\" group {LOG_GROUP} drop")
        out.append("\t}")
        return out

    # -- cluster-wide tiers (and staged policies) ----------------------------------------------

    def _tiered_chains(self, pod: Pod, lab_pod: LabPod, direction: Direction, view: _View,
                       audited: tuple[str, ...], deciders: list[tuple[dict[str, object], ...]]) -> list[str]:
        """The base chain runs the Admin tier, then hands over (``goto``) to a chain for the
        NetworkPolicy tier, which hands what it does not decide to a chain for the Baseline tier,
        whose end allows. Accept -> ``accept``, Deny -> log and ``drop``, Pass -> the next tier.

        With staged policies to audit, what these chains allow from the NetworkPolicy tier on
        goes on to the same two chains compiled from the promoted view (the Admin tier is the
        same in both), where a denial goes to an audit chain that logs and accepts."""
        d = direction.value
        remote = "saddr" if direction is Direction.INGRESS else "daddr"
        np_chain, baseline_chain = f"{d}_np", f"{d}_baseline"
        audit_np, audit_baseline, audit_log = f"{d}_audit_np", f"{d}_audit_baseline", f"{d}_audit"
        allow = f"goto {audit_np}" if audited else "accept"

        def drop(policy: IRPolicy, rule: IRRule) -> str:
            deciders.append(({"name": policy.name, "namespace": "", "kind": policy.kind,
                              "tier": _TIER_NAMES[policy.tier], "priority": policy.priority, "rule": rule.index,
                              "rule_name": rule.ref.name, "action": "Deny"},))
            prefix = self.names.log_prefix(lab_pod.index, direction, f"t{len(deciders) - 1}")
            return f"log prefix \"{prefix}\" group {LOG_GROUP} drop"

        out = self._preamble(pod, lab_pod, direction, d)
        if direction is Direction.INGRESS:
            node = self._own_node(pod, direction)
            if node:
                out += _verdict_lines(remote, node, ConnSet.all(), "own node", "accept")
        out += self._cluster_tier(pod, direction, view.admin, "accept", f"goto {np_chain}", drop)
        out += [f"\t\tgoto {np_chain}", "\t}"]
        np_drop = f"log prefix \"{self.names.log_prefix(lab_pod.index, direction)}\" group {LOG_GROUP} drop"
        out += self._after_admin(pod, direction, view, np_chain, baseline_chain, allow, np_drop, drop)
        if audited:
            assert self.staged is not None
            deciders.append(tuple({"name": k.split("/", 1)[1], "namespace": k.split("/", 1)[0],
                                   "kind": "StagedKubernetesNetworkPolicy", "tier": "NetworkPolicy"}
                                  for k in audited))
            audit = f"goto {audit_log}"
            out += self.staged._after_admin(pod, direction, self.staged._view(pod, direction), audit_np,
                                            audit_baseline, "accept", audit, lambda _p, _r: audit)
            out += [f"\tchain {audit_log} {{",
                    *self._audit_lines(pod, lab_pod, direction, f"a{len(deciders) - 1}"), "\t}"]
        return out

    def _after_admin(self, pod: Pod, direction: Direction, view: _View, np_chain: str, baseline_chain: str,
                     allow: str, np_deny: str, deny: Callable[[IRPolicy, IRRule], str]) -> list[str]:
        """This compiler's NetworkPolicy and Baseline tier chains for one side: ``allow`` what they
        allow (and what the Baseline tier passes), ``np_deny`` / ``deny(policy, rule)`` what they deny."""
        remote = "saddr" if direction is Direction.INGRESS else "daddr"
        out = [f"\tchain {np_chain} {{"]
        if view.isolating:
            if direction is Direction.EGRESS:
                node = self._own_node(pod, direction)
                if node:
                    out += _verdict_lines(remote, node, ConnSet.all(), "own node", allow)
            for policy in view.isolating:
                for rule in policy.rules(direction):
                    label = f"{comment_text(policy.key)} {direction.value}[{rule.index}]"
                    out += self._rule(pod, rule, remote, label, allow)
            out.append(f"\t\t{np_deny}")
        else:
            out.append(f"\t\tgoto {baseline_chain} comment \"not isolated\"")
        out += ["\t}", f"\tchain {baseline_chain} {{"]
        out += self._cluster_tier(pod, direction, view.baseline, allow, allow, deny)
        out += [f"\t\t{allow}", "\t}"]
        return out

    def _cluster_tier(self, pod: Pod, direction: Direction, policies: tuple[IRPolicy, ...], allow: str,
                      passed: str, deny: Callable[[IRPolicy, IRRule], str]) -> list[str]:
        """An Admin or Baseline tier's policies in the order they run, rules in order: the first
        line a packet matches decides (Accept: ``allow``, Pass: ``passed``, Deny: ``deny(policy, rule)``)."""
        remote = "saddr" if direction is Direction.INGRESS else "daddr"
        out: list[str] = []
        for policy in policies:
            for rule in policy.rules(direction):
                label = (f"{_TIER_NAMES[policy.tier]} {comment_text(policy.key)} priority {policy.priority} "
                         f"{direction.value}[{rule.index}] {rule.action.value}")
                match rule.action:
                    case Action.ALLOW:
                        verdict = allow
                    case Action.PASS:
                        verdict = passed
                    case Action.DENY:
                        verdict = deny(policy, rule)
                    case _:
                        assert_never(rule.action)
                out += self._rule(pod, rule, remote, label, verdict)
        return out

    def _audit_lines(self, pod: Pod, lab_pod: LabPod, direction: Direction, tag: str) -> list[str]:
        """Log a would-be denial (audit: to the drop log and to the audit group) and accept. At egress only where the destination's
        ingress, as enforced now, lets the connection in: an audit names connections that the
        staged policies would stop and that flow today."""
        prefix = self.names.log_prefix(lab_pod.index, direction, tag)
        log = f"log prefix \"{prefix}\" group {LOG_GROUP} log prefix \"{prefix}\" group {AUDIT_GROUP} accept"
        if direction is Direction.INGRESS:
            return [f"\t\t{log}"]
        out: list[str] = []
        engine = self._engine_now()
        me = Endpoint.of_pod(pod)
        for ep in self.endpoints:
            if not ep.pod.is_pod_endpoint(self.settings) or ep.pod is pod:
                continue
            for address in ep.addresses:
                allowed = ConnSet.none()
                for _, ingress in engine.decisions(me, Endpoint.of_pod(ep.pod, address)):
                    allowed = allowed | ingress.final()
                target = ip_set((address,))
                label = comment_text(ep.pod.key)
                out += _verdict_lines("daddr", target, allowed, f"{label} lets it in now", log)
                out += _verdict_lines("daddr", target, ConnSet.all(), f"{label} refuses the rest now", "accept")
        out.append(f"\t\t{log}")
        return [line for line in out if not line.lstrip().startswith("#")]

    def _engine_now(self) -> Engine:
        if self._engine is None:
            self._engine = Engine(self.cluster, self.settings)
        return self._engine
    def _own_node(self, pod: Pod, direction: Direction) -> IPSet:
        allowed = (self.settings.allow_node_to_local_pod_ingress if direction is Direction.INGRESS
                   else self.settings.allow_pod_to_local_node_egress)
        if not allowed or not pod.node_name:
            return IPSet()
        return ip_set(self.nodes.addresses.get(pod.node_name, ())) - self.pod_endpoint_addresses

    def _rule(self, pod: Pod, rule: IRRule, remote: str, label: str, verdict: str) -> list[str]:
        """nft rules giving ``verdict`` to what ``rule`` matches on ``pod``'s side."""
        admitted = None if not rule.peers else self._admitted_by(rule)
        if rule.direction is Direction.INGRESS:
            return _verdict_lines(remote, admitted, rule_conns(rule, pod, self.settings), label, verdict)
        # Egress: named ports resolve on each destination. What every destination
        # gets is rule_conns(rule, None); pods may get more.
        base = rule_conns(rule, None, self.settings)
        out = _verdict_lines(remote, admitted, base, label, verdict) if base else []
        extra: dict[ConnSet, IPSet] = {}
        for ep in self.endpoints:
            more = rule_conns(rule, ep.pod, self.settings) - base
            if not more:
                continue
            mine = ip_set(a for a in ep.addresses if admitted is None or a in admitted)
            if mine:
                extra[more] = extra.get(more, IPSet()) | mine
        for more, addresses in sorted(extra.items(), key=lambda kv: kv[1].cidrs()):
            out += _verdict_lines(remote, addresses, more, f"{label} named ports", verdict)
        return out or [f"\t\t# {label}: admits nothing here"]

    def _admitted_by(self, rule: IRRule) -> IPSet:
        """Every address the rule's peers admit: lab addresses one by one, the rest by ipBlock."""
        cached = self._admitted.get(rule.ref)
        if cached is not None:
            return cached
        out = ip_set(
            a for ep in self.endpoints for a in ep.addresses
            if rule_peers_match(rule, Remote(ep.pod, a), self.cluster, self.settings)
        )
        for peer in rule.peers:
            match peer:
                case AddressPeer():
                    out = out | (peer.resolved(self.settings) - self.known)
                case SelectorPeer():
                    pass  # selectors match pods, and every pod of the lab was asked above
                case _:
                    assert_never(peer)
        self._admitted[rule.ref] = out
        return out


def ip_set(addresses: Iterable[IPAddress]) -> IPSet:
    """The exact set of the given addresses."""
    points: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
    for a in addresses:
        points[a.version].append((a.value, a.value))
    return IPSet(IntervalSet.of(points[4]), IntervalSet.of(points[6]))


def _addresses(lab_pod: LabPod) -> list[IPAddress]:
    """The pod's addresses as parsed values (rendered canonically, never as the text given)."""
    return [a for a in (parse_ip(t) for t in lab_pod.ips) if a is not None]


def comment_text(text: str) -> str:
    """``text`` safe inside an nft comment or quoted string: letters, digits and ``/._-~`` as they
    are, every other character percent-encoded (UTF-8), so ``%`` cannot be mistaken either.

    >>> comment_text("shop/web-1")
    'shop/web-1'
    >>> comment_text('web\\n"; include "/dev/zero"')
    'web%0A%22%3B%20include%20%22/dev/zero%22'
    """
    return quote(text, safe="/")


def _verdict_lines(remote: str, addresses: IPSet | None, conns: ConnSet, label: str, verdict: str) -> list[str]:
    """nft rules giving ``verdict`` to ``conns`` from/to ``addresses`` (None: any address)."""
    if conns.is_empty() or (addresses is not None and not addresses):
        return [f"\t\t# {label}: admits nothing here"]
    comment = f" comment \"{_comment(label)}\""
    address_matches: list[str] = [""]
    if addresses is not None:
        address_matches = []
        for family, version in (("ip", 4), ("ip6", 6)):
            elements = address_elements(addresses.family(version), version)
            if elements:
                address_matches.append(f"{family} {remote} {elements} ")
    return [f"\t\t{a}{c}{verdict}{comment}" for a in address_matches for c in conn_matches(conns)]


def _comment(label: str) -> str:
    """A label (already made of :func:`comment_text` parts) cut to fit nft's comment size."""
    return label if len(label) <= _COMMENT_MAX else label[: _COMMENT_MAX - 1] + "…"


def conn_matches(conns: ConnSet) -> list[str]:
    """nft match fragments (each ending in a space, "" = everything) that together cover ``conns``."""
    if conns.is_all():
        return [""]
    by_protocol = dict(conns.by_protocol())
    if not conns.other and len(by_protocol) == len(PROTOCOLS) and all(s == ALL_PORTS for s in by_protocol.values()):
        return ["meta l4proto { tcp, udp, sctp } "]
    out = []
    for protocol, ports in by_protocol.items():
        name = str(protocol).lower()
        if ports == ALL_PORTS:
            out.append(f"meta l4proto {name} ")
        else:
            out.append(f"{name} dport {port_elements(ports)} ")
    if conns.other:
        out.append("meta l4proto != { tcp, udp, sctp } ")
    return out


def port_elements(ports: IntervalSet) -> str:
    """``80``, ``8000-8080`` or ``{ 80, 443, 8000-8080 }``."""
    items = [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ports]
    return items[0] if len(items) == 1 else "{ " + ", ".join(items) + " }"


def address_elements(intervals: IntervalSet, version: int) -> str:
    """An address, CIDR or range, or an interval set of them; "" for none."""
    items = []
    bits = 32 if version == 4 else 128
    for lo, hi in intervals:
        size = hi - lo + 1
        if size == 1:
            items.append(str(IPAddress(version, lo)))
        elif size & (size - 1) == 0 and lo % size == 0:
            items.append(f"{IPAddress(version, lo)}/{bits - size.bit_length() + 1}")
        else:
            items.append(f"{IPAddress(version, lo)}-{IPAddress(version, hi)}")
    if not items:
        return ""
    return items[0] if len(items) == 1 else "{ " + ", ".join(items) + " }"


def transaction(table: str, ruleset: str) -> str:
    """One atomic nft transaction that replaces the pod's table (or removes it when ``ruleset`` is "")."""
    return f"table inet {table}\ndelete table inet {table}\n{ruleset}"
