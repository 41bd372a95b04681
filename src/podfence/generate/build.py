"""A plan, written as NetworkPolicy manifests.

Per covered namespace: ``default-deny`` (the directions of ``defaults.deny``),
``allow-dns`` (egress to the cluster DNS on UDP and TCP 53, when DNS is allowed),
then ``<workload>-ingress`` and ``<workload>-egress`` for each workload that
needs them. Every rule serves one intent (or several identical ones), and says
which in a comment; every policy carries ``app.kubernetes.io/managed-by: podfence``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from podfence.generate.resolve import Addresses, Grant, Party, Plan, policy_ends
from podfence.model import NAMESPACE_NAME_LABEL, Direction, FieldPath, Labels, NetworkPolicy, Pod, PolicyPort, Settings
from podfence.model import format_path
from podfence.model.dns import DNS_POLICY_PORTS, DnsTarget

MANAGED_BY = ("app.kubernetes.io/managed-by", "podfence")
IGNORE_ANNOTATION = "podfence.io/ignore"  # lint suppressions, each with its reason
MAX_NAME = 253


@dataclass(frozen=True)
class GeneratedPolicy:
    """One NetworkPolicy manifest and the comments that go with it.

    ``comments`` are (field path, lines) pairs: the lines are written just above
    the node at that path (``()`` is the document itself).
    """

    namespace: str
    name: str
    manifest: dict[str, Any]
    comments: tuple[tuple[FieldPath, tuple[str, ...]], ...] = ()

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def policy(self) -> NetworkPolicy:
        """The manifest as the model reads it (defaults applied), e.g. for ``Cluster.with_policies``."""
        return NetworkPolicy.from_dict(self.manifest, namespace=self.namespace)


def manifest(namespace: str, name: str, selector: Labels | None, types: list[str],
             ingress: list[dict[str, Any]] | None = None, egress: list[dict[str, Any]] | None = None,
             ignore: list[str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": {"matchLabels": dict(selector)} if selector else {},
                            "policyTypes": types}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": dict([MANAGED_BY])}
    if ignore:
        metadata["annotations"] = {IGNORE_ANNOTATION: "; ".join(ignore)}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata, "spec": spec}


def ports_json(ports: tuple[PolicyPort, ...]) -> list[dict[str, Any]]:
    out = []
    for p in ports:
        entry: dict[str, Any] = {"protocol": p.protocol.value}
        if p.port is not None:
            entry["port"] = p.port
        if p.end_port is not None and p.end_port != p.port:
            entry["endPort"] = p.end_port
        out.append(entry)
    return out


def pod_peer(pod: Pod, selector: Labels, policy_namespace: str) -> dict[str, Any]:
    peer: dict[str, Any] = {}
    if pod.namespace != policy_namespace:
        peer["namespaceSelector"] = {"matchLabels": {NAMESPACE_NAME_LABEL: pod.namespace}}
    peer["podSelector"] = {"matchLabels": dict(selector)}
    return peer


def address_peers(addresses: Addresses) -> list[dict[str, Any]]:
    out = []
    for cidr, excepts in addresses.blocks:
        block: dict[str, Any] = {"cidr": cidr}
        if excepts:
            block["except"] = list(excepts)
        out.append({"ipBlock": block})
    return out


def default_deny(namespace: str, directions: frozenset[Direction]) -> GeneratedPolicy:
    types = [d.policy_type.value for d in (Direction.INGRESS, Direction.EGRESS) if d in directions]
    words = {2: "nothing in or out of any pod", 1: "nothing into any pod" if Direction.INGRESS in directions
             else "nothing out of any pod"}[len(directions)]
    return GeneratedPolicy(namespace, "default-deny", manifest(namespace, "default-deny", None, types), (
        ((), (f"{namespace}: {words} unless another policy allows it (defaults.deny)",)),))


def allow_dns(namespace: str, dns: DnsTarget) -> GeneratedPolicy:
    peers: list[dict[str, Any]] = [{
        "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: dns.namespace}},
        "podSelector": {"matchLabels": dict(dns.pod_labels)},
    }]
    where = f"{dns.namespace} pods {dns.pod_labels}"
    if dns.node_local_address is not None:
        bits = 32 if dns.node_local_address.version == 4 else 128
        peers.append({"ipBlock": {"cidr": f"{dns.node_local_address}/{bits}"}})
        where += f" and NodeLocal DNS {dns.node_local_address}"
    body = manifest(namespace, "allow-dns", None, ["Egress"], egress=[{"to": peers, "ports": ports_json(DNS_POLICY_PORTS)}])
    return GeneratedPolicy(namespace, "allow-dns", body, (
        ((), (f"{namespace}: every pod may look names up: UDP and TCP 53 to {where} (defaults.dns)",)),))


def dns_ingress(dns: DnsTarget) -> GeneratedPolicy:
    name = "allow-dns-ingress"
    body = manifest(dns.namespace, name, dns.pod_labels, ["Ingress"],
                    ingress=[{"from": [{"namespaceSelector": {}}], "ports": ports_json(DNS_POLICY_PORTS)}])
    return GeneratedPolicy(dns.namespace, name, body, (
        ((), (f"{dns.namespace}: the cluster DNS pods answer every pod on UDP and TCP 53 (defaults.dns)",)),))


def _name(base: str, suffix: str, taken: set[str]) -> str:
    name = f"{base[:MAX_NAME - len(suffix) - 4].rstrip('-.')}{suffix}"
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _peers(party: Party, plan: Plan, policy_namespace: str) -> list[dict[str, Any]]:
    if isinstance(party, Addresses):
        return address_peers(party)
    return [pod_peer(party, plan.selectors[party.key], policy_namespace)]


def _comment(grants: list[Grant]) -> tuple[str, ...]:
    lines: list[str] = []
    for g in grants:
        line = f"{g.intent} ({format_path(g.path)})" if g.path else g.intent
        if line not in lines:
            lines.append(line)
        for note in g.note.split("; ") if g.note else ():
            if f"  {note}" not in lines:
                lines.append(f"  {note}")
    return tuple(lines)


def intended_exposure(grants: list[Grant], direction: Direction) -> list[str]:
    """Lint suppressions for exposure the intent asks for in so many words.

    Internet ingress (lint NP402) and egress to the internet on every port (NP403)
    are review flags; when an intent entry names them, the policy says so and
    points to the entry.
    """
    out: list[str] = []
    for g in grants:
        peer = g.src if direction is Direction.INGRESS else g.dst
        if not isinstance(peer, Addresses) or not peer.covers_internet:
            continue
        if direction is Direction.INGRESS:
            rule_id = "NP402"
        elif not g.ports or any(p.port is None for p in g.ports):
            rule_id = "NP403"
        else:
            continue
        entry = f"{rule_id}: the intent asks for it ({format_path(g.path)})"
        if entry not in out:
            out.append(entry)
    return out


def rules(grants: list[Grant], direction: Direction, plan: Plan, namespace: str
          ) -> tuple[list[dict[str, Any]], list[tuple[str, ...]]]:
    """One rule per intent entry and port set; identical rules merged, their intents listed together."""
    groups: dict[tuple[FieldPath, tuple[PolicyPort, ...]], list[Grant]] = {}
    for g in grants:
        groups.setdefault((g.path, g.ports), []).append(g)
    merged: dict[str, tuple[dict[str, Any], list[Grant]]] = {}
    peers_key = direction.peers_field
    for (_, ports), members in groups.items():
        peers: list[dict[str, Any]] = []
        for g in members:
            for peer in _peers(g.src if direction is Direction.INGRESS else g.dst, plan, namespace):
                if peer not in peers:
                    peers.append(peer)
        rule: dict[str, Any] = {peers_key: peers}
        if ports:
            rule["ports"] = ports_json(ports)
        fingerprint = repr(rule)
        if fingerprint in merged:
            merged[fingerprint][1].extend(members)
        else:
            merged[fingerprint] = (rule, list(members))
    out_rules = [rule for rule, _ in merged.values()]
    comments = [_comment(members) for _, members in merged.values()]
    return out_rules, comments


def _workload_policy(pod: Pod, direction: Direction, grants: list[Grant], plan: Plan, taken: set[str]
                     ) -> GeneratedPolicy:
    rule_list, comments = rules(grants, direction, plan, pod.namespace)
    name = _name(pod.name, f"-{direction.value}", taken)
    body = manifest(pod.namespace, name, plan.selectors[pod.key], [direction.policy_type.value],
                    ignore=intended_exposure(grants, direction), **{direction.value: rule_list})
    what = "who may reach it" if direction is Direction.INGRESS else "what it may reach"
    notes: list[tuple[FieldPath, tuple[str, ...]]] = [((), (f"{pod.key}: {what} (from {plan.source})",))]
    notes += [(("spec", direction.value, i), c) for i, c in enumerate(comments)]
    return GeneratedPolicy(pod.namespace, name, body, tuple(notes))


def build(plan: Plan, settings: Settings) -> list[GeneratedPolicy]:
    """Every policy of the plan, namespace by namespace."""
    ingress: dict[str, list[Grant]] = {}
    egress: dict[str, list[Grant]] = {}
    pods: dict[str, Pod] = {}
    for g in plan.grants:
        src_side, dst_side = policy_ends(plan, g, settings)
        if src_side and isinstance(g.src, Pod):
            egress.setdefault(g.src.key, []).append(g)
            pods[g.src.key] = g.src
        if dst_side and isinstance(g.dst, Pod):
            ingress.setdefault(g.dst.key, []).append(g)
            pods[g.dst.key] = g.dst
    out: list[GeneratedPolicy] = []
    for namespace in plan.covered:
        taken = {"default-deny", "allow-dns", "allow-dns-ingress"}
        out.append(default_deny(namespace, plan.deny))
        if plan.dns is not None and Direction.EGRESS in plan.deny:
            out.append(allow_dns(namespace, plan.dns))
        if plan.dns is not None and Direction.INGRESS in plan.deny and namespace == plan.dns.namespace:
            out.append(dns_ingress(plan.dns))
        for key in sorted(k for k in pods if pods[k].namespace == namespace):
            pod = pods[key]
            if key in ingress:
                out.append(_workload_policy(pod, Direction.INGRESS, ingress[key], plan, taken))
            if key in egress:
                out.append(_workload_policy(pod, Direction.EGRESS, egress[key], plan, taken))
    return out
