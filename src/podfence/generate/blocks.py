"""Building blocks: one default-deny, one allowed connection, one egress to addresses.

Unlike an intent file, a building block adds policies to a cluster and leaves
everything else as it is, so its proof compares before and after
(:func:`podfence.generate.proof.prove_change`): the new connections must be
exactly the asked-for ones; connections the new policies take away (because
they isolate a pod that was open) are reported too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from podfence.config import DnsTarget
from podfence.engine import isolating_policies
from podfence.generate.build import GeneratedPolicy, build, intended_exposure, manifest, rules
from podfence.generate.intents import Entry, ServiceIntent, WorkloadRef, address_ref, parse_workload
from podfence.generate.resolve import (
    Addresses, Grant, Plan, Resolver, cluster_uses_ipv6, egress_grants, talks_to_grants,
)
from podfence.generate.selectors import selectable_neighbours, smallest_selector, twins
from podfence.model import Cluster, Diagnostic, Direction, Labels, Namespace, Pod, Settings, Severity
from podfence.model.dns import DNS_POLICY_PORTS
from podfence.model.ports import PortSpec
from podfence.sets import IPSet
from podfence.model.words import shortened

MAX_NAME = 253
Namer = Callable[[Pod], str]


@dataclass(frozen=True)
class Block:
    """Generated policies, the grants they serve, and the pods whose policies they change."""

    policies: tuple[GeneratedPolicy, ...]
    grants: tuple[Grant, ...]
    subjects: tuple[str, ...]


def default_deny_plan(namespace: str, directions: frozenset[Direction], dns: DnsTarget | None) -> Plan:
    """A plan that covers one namespace and grants nothing (DNS aside)."""
    return Plan("default-deny", (namespace,), directions, dns, False, ())


def default_deny_block(namespace: str, directions: frozenset[Direction], dns: DnsTarget | None,
                       settings: Settings) -> list[GeneratedPolicy]:
    return build(default_deny_plan(namespace, directions, dns), settings)


def default_deny_change(cluster: Cluster, namespace: str, directions: frozenset[Direction], dns: DnsTarget | None,
                        settings: Settings) -> Block:
    """What a default-deny asks for, for :func:`~podfence.generate.proof.prove_change`.

    Its subjects are the namespace's pods that policies can select; with DNS, each
    of them is granted DNS to the cluster DNS pods (and NodeLocal DNS). Proven
    with ``isolate=directions``, what the subjects lose in those directions is
    asked for, and anything added beyond DNS, or lost elsewhere, fails the proof.
    """
    subjects = [p for p in cluster.pods if p.namespace == namespace and p.is_pod_endpoint(settings)]
    grants: list[Grant] = []
    if dns is not None and Direction.EGRESS in directions:
        targets = [p for p in cluster.pods if dns.is_dns_pod(p, settings)]
        intent = f"DNS to the {dns.describe()}"
        for pod in subjects:
            grants += [Grant(pod, target, DNS_POLICY_PORTS, intent, ()) for target in targets]
            if dns.node_local_address is not None:
                address = str(dns.node_local_address)
                ips = IPSet.of_address(dns.node_local_address)
                grants.append(Grant(pod, Addresses(address, ((address, ()),), ips), DNS_POLICY_PORTS, intent, ()))
    return Block(tuple(build(default_deny_plan(namespace, directions, dns), settings)), tuple(grants),
                 tuple(sorted(p.key for p in subjects)))


def stand_in_cluster(namespace: str, dns: DnsTarget) -> Cluster:
    """A cluster to prove a default-deny on when no manifests are given:
    one pod in the namespace, one pod outside it, and the cluster DNS pods."""
    outside = "podfence-outside" if namespace != "podfence-outside" else "podfence-elsewhere"
    pods = [Pod(namespace, "any-pod", Labels({"podfence.io/stand-in": "inside"})),
            Pod(outside, "any-pod", Labels({"podfence.io/stand-in": "outside"}))]
    if dns.namespace != namespace:
        pods.append(dns.stand_in())
    return Cluster.of([Namespace.of(n) for n in sorted({p.namespace for p in pods})], pods)


def policy_name(*parts: str) -> str:
    """Parts joined by dashes, lowercased to what a policy name may hold."""
    name = "-".join(s for s in (re.sub(r"[^a-z0-9.]+", "-", p.lower()).strip("-.") for p in parts) if s)
    return name[:MAX_NAME].rstrip("-.")


def _selector(r: Resolver, pod: Pod, flag: str, settings: Settings) -> Labels | None:
    neighbours = selectable_neighbours(pod, r.by_namespace.get(pod.namespace, ()), settings)
    chosen = smallest_selector(pod, neighbours)
    if chosen is None:
        same = twins(pod, neighbours)
        why = f"{pod.key} has no labels" if not pod.labels else (
            f"{shortened([p.key for p in same], 3)} carry every label of {pod.key}")
        r.problems.append(Diagnostic("I5", Severity.ERROR, f"no label set selects {pod.key} alone: {why}; "
                                     "give it a distinguishing label", (flag,), "generate"))
    return chosen


def _policies(r: Resolver, grants: list[Grant], cluster: Cluster, settings: Settings,
              names: dict[Direction, Namer], egress_always: bool) -> Block | None:
    """An ingress policy per destination workload (when ``names`` has INGRESS) and an egress
    policy on the source when something already isolates its egress, or ``egress_always``."""
    plan = Plan("generate", (), frozenset(Direction), None, cluster_uses_ipv6(cluster), tuple(grants))
    for g in grants:
        for end, flag in ((g.src, "--from"), (g.dst, "--to")):
            if isinstance(end, Pod) and end.key not in plan.selectors:
                chosen = _selector(r, end, flag, settings)
                if chosen is not None:
                    plan.selectors[end.key] = chosen
    if r.problems:
        return None
    groups: dict[tuple[Direction, str], list[Grant]] = {}
    for g in grants:
        if isinstance(g.dst, Pod) and Direction.INGRESS in names:
            groups.setdefault((Direction.INGRESS, g.dst.key), []).append(g)
        if isinstance(g.src, Pod) and Direction.EGRESS in names and (
                egress_always or isolating_policies(cluster, g.src, Direction.EGRESS, settings)):
            groups.setdefault((Direction.EGRESS, g.src.key), []).append(g)
    out: list[GeneratedPolicy] = []
    for (direction, key), members in groups.items():
        pod = members[0].dst if direction is Direction.INGRESS else members[0].src
        assert isinstance(pod, Pod)
        rule_list, comments = rules(members, direction, plan, pod.namespace)
        name = names[direction](pod)
        body = manifest(pod.namespace, name, plan.selectors[key], [direction.policy_type.value],
                        ignore=intended_exposure(members, direction), **{direction.value: rule_list})
        what = "who may reach it" if direction is Direction.INGRESS else "what it may reach"
        notes = [((), (f"{pod.key}: {what} (podfence generate)",))]
        notes += [(("spec", direction.value, i), c) for i, c in enumerate(comments)]
        out.append(GeneratedPolicy(pod.namespace, name, body, tuple(notes)))
    return Block(tuple(out), tuple(grants), tuple(sorted({k for _, k in groups})))


def _ref(text: str, flag: str, r: Resolver, service: bool) -> WorkloadRef | None:
    parsed = parse_workload(text, allow_service=service, allow_wildcard=service)
    if isinstance(parsed, str):
        r.error("I1", (flag,), parsed)
        return None
    return parsed


def allow_block(cluster: Cluster, settings: Settings, src: str, dst: str, ports: tuple[PortSpec, ...]
                ) -> tuple[Block | None, list[Diagnostic]]:
    """``src`` may reach ``dst`` on ``ports``: the ingress policy on each destination workload,
    and the egress policy on the source when something already isolates its egress."""
    r = Resolver(cluster, settings)
    src_ref, dst_ref = _ref(src, "--from", r, service=False), _ref(dst, "--to", r, service=True)
    source = r.workload(src_ref, ("--from",), "source") if src_ref is not None else None
    if source is None or dst_ref is None or src_ref is None:
        return None, r.problems
    entry = Entry(dst_ref, ports, False, ("--to",))
    found = talks_to_grants(r, ServiceIntent(src_ref, talks_to=(entry,)), source, entry)
    if r.problems:
        return None, r.problems
    grants = [Grant(g.src, g.dst, g.ports, f"{source.key} may reach {entry.text()}", (), g.note) for g in found]

    def ingress_name(pod: Pod) -> str:
        return policy_name(pod.name, "from", "" if source.namespace == pod.namespace else source.namespace,
                           source.name)

    def egress_name(pod: Pod) -> str:
        namespaces = sorted({g.dst.namespace for g in grants if isinstance(g.dst, Pod)} - {pod.namespace})
        return policy_name(pod.name, "to", *namespaces, "all" if dst_ref.wildcard else dst_ref.name)

    block = _policies(r, grants, cluster, settings, {Direction.INGRESS: ingress_name, Direction.EGRESS: egress_name},
                      egress_always=False)
    return block, r.problems


def egress_block(cluster: Cluster, settings: Settings, src: str, cidr: str, excepts: tuple[str, ...],
                 ports: tuple[PortSpec, ...]) -> tuple[Block | None, list[Diagnostic]]:
    """An egress policy on ``src`` allowing ``ports`` to ``cidr`` minus ``excepts``."""
    r = Resolver(cluster, settings)
    src_ref = _ref(src, "--from", r, service=False)
    problems: list[Diagnostic] = []
    address = address_ref(cidr, excepts, ("--to-cidr",), problems)
    r.problems += [Diagnostic(d.code, d.severity, d.message.replace("except ", "--except "), d.field, "generate")
                   for d in problems]
    if not ports:
        r.error("I1", ("--port",), "give at least one --port (or --port '*' for every port)")
    if any(isinstance(p.port, str) for p in ports):
        r.error("I1", ("--port",), "a named port matches pods only; use numbers for addresses")
    source = r.workload(src_ref, ("--from",), "source") if src_ref is not None and not r.problems else None
    if source is None or address is None or src_ref is None:
        return None, r.problems
    entry = Entry(address, ports, False, ("--to-cidr",))
    found = egress_grants(ServiceIntent(src_ref, egress=(entry,)), source, entry, cluster_uses_ipv6(cluster))
    grants = [Grant(g.src, g.dst, g.ports, f"{source.key} may send to {entry.text()}", (), g.note) for g in found]
    block = _policies(r, grants, cluster, settings, {Direction.EGRESS: lambda pod: policy_name(pod.name, "to", cidr)},
                      egress_always=True)
    return block, r.problems


__all__ = ["Addresses", "Block", "allow_block", "default_deny_block", "default_deny_change", "default_deny_plan", "egress_block",
           "policy_name", "stand_in_cluster"]
