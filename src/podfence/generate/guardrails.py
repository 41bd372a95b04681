"""Cluster guardrails an intent file may ask for, as v1alpha2 ClusterNetworkPolicies, and their proof.

``guardrails: [baseline-default-deny, protect-kube-system]`` in the intent file:

* ``baseline-default-deny``: the Baseline tier denies every pod's ingress from
  pods and egress to everything (pods and every address), except DNS (UDP and TCP
  53 to the cluster DNS pods, which the Baseline tier lets in on those ports).
  Namespaces' own NetworkPolicies still decide for the pods they isolate: a
  Baseline only decides what no NetworkPolicy does.
* ``protect-kube-system``: the Admin tier admits into the DNS namespace only DNS
  (UDP and TCP 53, from every pod) and denies every other pod outside it, whatever
  the NetworkPolicies of that namespace say.

:func:`prove_guardrails` compares the cluster before and after adding them: a
guardrail only takes connections away (they are reported, as asked), so anything
newly allowed, or DNS lost by a pod that had it, makes the proof fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from podfence.engine import Engine
from podfence.model import Cluster, ClusterPolicy, Settings
from podfence.model.dns import DnsTarget
from podfence.model.objects import NAMESPACE_NAME_LABEL
from podfence.sets import ConnSet, Protocol

API_VERSION = "policy.networking.k8s.io/v1alpha2"
DNS_PROTOCOLS = [{"udp": {"destinationPort": {"number": 53}}}, {"tcp": {"destinationPort": {"number": 53}}}]
DNS_CONNS = ConnSet.ports(Protocol.UDP, 53, 53) | ConnSet.ports(Protocol.TCP, 53, 53)
BASELINE_PRIORITY = 900  # below (before) the 1000 a converted BaselineAdminNetworkPolicy gets
ADMIN_PRIORITY = 10


@dataclass(frozen=True, slots=True)
class Guardrail:
    """One generated ClusterNetworkPolicy: its name, manifest and a comment saying why."""

    name: str
    manifest: dict[str, Any]
    comment: str


def _policy(name: str, tier: str, priority: int, subject: dict[str, Any], **rules: Any) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": "ClusterNetworkPolicy", "metadata": {"name": name},
            "spec": {"tier": tier, "priority": priority, "subject": subject, **rules}}


def _dns_pods(dns: DnsTarget) -> dict[str, Any]:
    return {"pods": {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: dns.namespace}},
                     "podSelector": {"matchLabels": dict(dns.pod_labels)}}}


def guardrails(names: Iterable[str], dns: DnsTarget) -> list[Guardrail]:
    """The ClusterNetworkPolicies for the guardrails ``names`` (see the module docstring)."""
    out: list[Guardrail] = []
    for name in names:
        if name == "baseline-default-deny":
            out.append(Guardrail("baseline-dns", _policy(
                "baseline-dns", "Baseline", BASELINE_PRIORITY - 1, _dns_pods(dns),
                ingress=[{"name": "dns", "action": "Accept", "from": [{"namespaces": {}}],
                          "protocols": DNS_PROTOCOLS}]),
                "Baseline: the cluster DNS pods take DNS from every pod (before the default deny below)."))
            out.append(Guardrail("baseline-default-deny", _policy(
                "baseline-default-deny", "Baseline", BASELINE_PRIORITY, {"namespaces": {}},
                ingress=[{"name": "deny-all", "action": "Deny", "from": [{"namespaces": {}}]}],
                egress=[{"name": "dns", "action": "Accept", "to": [_dns_pods(dns)], "protocols": DNS_PROTOCOLS},
                        {"name": "deny-all", "action": "Deny",
                         "to": [{"namespaces": {}}, {"networks": ["0.0.0.0/0", "::/0"]}]}]),
                "Baseline: every pod no NetworkPolicy isolates is denied everything but DNS."))
        elif name == "protect-kube-system":
            outside = {"namespaces": {"matchExpressions": [
                {"key": NAMESPACE_NAME_LABEL, "operator": "NotIn", "values": [dns.namespace]}]}}
            out.append(Guardrail("protect-kube-system", _policy(
                "protect-kube-system", "Admin", ADMIN_PRIORITY,
                {"namespaces": {"matchLabels": {NAMESPACE_NAME_LABEL: dns.namespace}}},
                ingress=[{"name": "dns", "action": "Accept", "from": [{"namespaces": {}}],
                          "protocols": DNS_PROTOCOLS},
                         {"name": "deny-other-namespaces", "action": "Deny", "from": [outside]}]),
                f"Admin: {dns.namespace} admits only DNS from other namespaces, whatever its own policies say."))
        else:
            raise ValueError(f"no guardrail {name!r}")
    return out


def with_guardrails(cluster: Cluster, policies: Iterable[Guardrail]) -> Cluster:
    """``cluster`` with the guardrails added (a policy of the same kind and name is replaced)."""
    new = [ClusterPolicy.from_dict(g.manifest) for g in policies]
    names = {p.name for p in new}
    kept = [p for p in cluster.cluster_policies if not (p.kind == "ClusterNetworkPolicy" and p.name in names)]
    return Cluster.of(cluster.namespaces, cluster.pods, cluster.services, cluster.policies, name=cluster.name,
                      cluster_policies=[*kept, *new], nodes=cluster.nodes, staged=cluster.staged)


@dataclass(frozen=True, slots=True)
class Change:
    """``conns`` from pod ``src`` to pod ``dst`` (keys) that changed."""

    src: str
    dst: str
    conns: ConnSet


@dataclass(frozen=True, slots=True)
class GuardrailProof:
    """What adding the guardrails did, pod pair by pod pair.

    ``denied``: allowed before, denied now (what guardrails are for); ``extra``:
    allowed now and not before (nobody asked); ``dns_lost``: DNS a pod had and
    lost. The proof holds when the last two are empty.
    """

    guardrails: tuple[str, ...]
    denied: tuple[Change, ...]
    extra: tuple[Change, ...]
    dns_lost: tuple[Change, ...]

    @property
    def exact(self) -> bool:
        return not self.extra and not self.dns_lost


def prove_guardrails(before: Cluster, after: Cluster, settings: Settings, dns: DnsTarget,
                     names: Iterable[str]) -> GuardrailProof:
    """Compare every pod pair's connectivity before and after the guardrails."""
    rows_b = {(a.key, b.key): c for a, b, c in Engine(before, settings).connectivity().pod_connections()}
    rows_a = {(a.key, b.key): c for a, b, c in Engine(after, settings).connectivity().pod_connections()}
    dns_pods = {p.key for p in after.pods if dns.is_dns_pod(p, settings)}
    denied, extra, lost = [], [], []
    for key in sorted(rows_a.keys() | rows_b.keys()):
        had, got = rows_b.get(key, ConnSet.none()), rows_a.get(key, ConnSet.none())
        if got - had:
            extra.append(Change(*key, got - had))
        if had - got:
            denied.append(Change(*key, had - got))
            if key[1] in dns_pods and (had - got) & DNS_CONNS:
                lost.append(Change(*key, (had - got) & DNS_CONNS))
    return GuardrailProof(tuple(names), tuple(denied), tuple(extra), tuple(lost))
