"""v1alpha1 AdminNetworkPolicy / BaselineAdminNetworkPolicy to v1alpha2 ClusterNetworkPolicy.

The mapping (docs/tiers.md, "Converting v1alpha1 policies"):

* AdminNetworkPolicy with priority ``p`` -> ``tier: Admin, priority: p``;
  BaselineAdminNetworkPolicy -> ``tier: Baseline, priority: 1000`` (the old
  singleton was the last resort; any Baseline policy written later with a lower
  number runs first, as before);
* the name, labels and annotations are kept; ``subject`` and every peer
  (``namespaces``, ``pods``, ``networks``, ``nodes``, ``domainNames``) as written;
* ``Allow`` -> ``Accept``; ``Deny`` and ``Pass`` as written; rule names kept;
* ``ports`` -> ``protocols``: ``portNumber {protocol P (TCP when absent), port n}``
  -> ``{p: {destinationPort: {number: n}}}`` with ``p`` the protocol lower-cased;
  ``portRange`` -> ``range`` (``number`` when start = end); ``namedPort`` ->
  ``destinationNamedPort``.

Whatever has no exact equivalent is an error naming the object and the field,
and nothing of that object is written: a protocol other than TCP, UDP or SCTP, a
range whose start is above its end, a port entry or peer with no field podfence
knows, more than 25 rules in a direction or more than 25 peers or port entries in
a rule (v1alpha2's limits), a name another ClusterNetworkPolicy already has.

Pure: manifests (mappings) in, manifests and diagnostics out. :func:`converted_cluster`
gives the cluster with the converted policies in place of the old ones, for the
proof that connectivity is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from podfence.model import CLUSTER_POLICY_KINDS, Cluster, ClusterPolicy, Diagnostic, Origin, Severity

NO_EQUIVALENT = "CV1"  # a field with no exact v1alpha2 equivalent
NAME_TAKEN = "CV2"  # the converted policy's name is another ClusterNetworkPolicy's
V1ALPHA1 = ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy")
BANP_PRIORITY = 1000
MAX_ITEMS = 25  # v1alpha2: rules per direction, peers per rule, protocols per rule
PEER_KEYS = ("namespaces", "pods", "networks", "nodes", "domainNames")
PROTOCOLS = ("TCP", "UDP", "SCTP")


@dataclass(frozen=True, slots=True)
class Converted:
    """One v1alpha1 policy and its v1alpha2 manifest."""

    kind: str
    name: str
    source: Origin | None
    manifest: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Conversion:
    """Every v1alpha1 policy of the input converted (in input order), or the problems that stop it."""

    converted: tuple[Converted, ...]
    problems: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


class _Problems:
    def __init__(self, kind: str, name: str, source: Origin | None) -> None:
        self.label, self.source = f"{kind} {name}", source
        self.found: list[Diagnostic] = []

    def add(self, field: tuple[str | int, ...], message: str, code: str = NO_EQUIVALENT) -> None:
        self.found.append(Diagnostic(code, Severity.ERROR, message, field=field, object=self.label,
                                     file=self.source.file if self.source else None,
                                     line=self.source.line if self.source else None))


def convert(policies: Iterable[tuple[Mapping[str, Any], Origin | None]],
            existing: Iterable[str] = ()) -> Conversion:
    """Convert every AdminNetworkPolicy and BaselineAdminNetworkPolicy among ``policies``.

    Args:
        policies: validated cluster-wide policy manifests with where they were read;
            ClusterNetworkPolicies among them are left alone (their names are taken).
        existing: names of ClusterNetworkPolicies that exist besides ``policies``.
    """
    policies = list(policies)
    taken = set(existing) | {doc["metadata"]["name"] for doc, _ in policies if doc.get("kind") not in V1ALPHA1}
    out: list[Converted] = []
    problems: list[Diagnostic] = []
    for doc, source in policies:
        kind = doc.get("kind")
        if kind not in V1ALPHA1:
            continue
        name = doc["metadata"]["name"]
        p = _Problems(kind, name, source)
        manifest = _policy(doc, kind, p)
        if name in taken:
            p.add(("metadata", "name"), f"a ClusterNetworkPolicy named {name} exists already; rename one of them",
                  NAME_TAKEN)
        taken.add(name)
        problems += p.found
        if not p.found:
            out.append(Converted(kind, name, source, manifest))
    return Conversion(tuple(out), tuple(problems))


def _policy(doc: Mapping[str, Any], kind: str, p: _Problems) -> dict[str, Any]:
    meta = doc.get("metadata") or {}
    spec = doc.get("spec") or {}
    metadata: dict[str, Any] = {"name": meta["name"]}
    for key in ("labels", "annotations"):
        if meta.get(key):
            metadata[key] = _plain(meta[key])
    new_spec: dict[str, Any] = {
        "tier": "Admin" if kind == "AdminNetworkPolicy" else "Baseline",
        "priority": int(spec["priority"]) if kind == "AdminNetworkPolicy" else BANP_PRIORITY,
        "subject": _plain(spec.get("subject") or {}),
    }
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction)
        if not rules:
            continue
        if len(rules) > MAX_ITEMS:
            p.add(("spec", direction), f"{len(rules)} rules, and a ClusterNetworkPolicy holds at most {MAX_ITEMS} "
                  "per direction: split the policy by hand (the order of rules across policies is yours to choose)")
            continue
        new_spec[direction] = [_rule(r or {}, direction, i, peers_key, p) for i, r in enumerate(rules)]
    return {"apiVersion": CLUSTER_POLICY_KINDS["ClusterNetworkPolicy"], "kind": "ClusterNetworkPolicy",
            "metadata": metadata, "spec": new_spec}


def _rule(raw: Mapping[str, Any], direction: str, i: int, peers_key: str, p: _Problems) -> dict[str, Any]:
    at: tuple[str | int, ...] = ("spec", direction, i)
    out: dict[str, Any] = {}
    if raw.get("name"):
        out["name"] = raw["name"]
    action = raw["action"]
    out["action"] = "Accept" if action == "Allow" else action
    peers = raw.get(peers_key) or []
    if len(peers) > MAX_ITEMS:
        p.add((*at, peers_key), f"{len(peers)} peers, and a ClusterNetworkPolicy rule holds at most {MAX_ITEMS}")
    for j, peer in enumerate(peers):
        keys = [k for k in (peer or {}) if (peer or {}).get(k) is not None]
        if len(keys) != 1 or keys[0] not in PEER_KEYS:
            p.add((*at, peers_key, j), f"a peer with {', '.join(keys) or 'no field'}: ClusterNetworkPolicy "
                  f"peers are one of {', '.join(PEER_KEYS)}")
    out[peers_key] = [_plain(peer) for peer in peers]
    ports = raw.get("ports")
    if ports is not None:
        if len(ports) > MAX_ITEMS:
            p.add((*at, "ports"), f"{len(ports)} port entries, and a ClusterNetworkPolicy rule holds at most "
                  f"{MAX_ITEMS} protocols")
        out["protocols"] = [_port(e or {}, (*at, "ports", k), p) for k, e in enumerate(ports)]
    return out


def _port(raw: Mapping[str, Any], at: tuple[str | int, ...], p: _Problems) -> dict[str, Any]:
    if raw.get("portNumber") is not None:
        entry = raw["portNumber"]
        protocol = _protocol(entry, (*at, "portNumber", "protocol"), p)
        return {protocol: {"destinationPort": {"number": int(entry["port"])}}}
    if raw.get("portRange") is not None:
        entry = raw["portRange"]
        protocol = _protocol(entry, (*at, "portRange", "protocol"), p)
        start, end = int(entry["start"]), int(entry["end"])
        if start > end:
            p.add((*at, "portRange"), f"start {start} is above end {end}: the range matches no port, and "
                  "a ClusterNetworkPolicy cannot write an empty range")
        if start == end:
            return {protocol: {"destinationPort": {"number": start}}}
        return {protocol: {"destinationPort": {"range": {"start": start, "end": end}}}}
    if raw.get("namedPort") is not None:
        return {"destinationNamedPort": raw["namedPort"]}
    p.add(at, f"a port entry with {', '.join(map(str, raw)) or 'no field'}: only portNumber, portRange and "
          "namedPort have a ClusterNetworkPolicy equivalent")
    return {}


def _protocol(entry: Mapping[str, Any], field: tuple[str | int, ...], p: _Problems) -> str:
    protocol = entry.get("protocol") or "TCP"
    if protocol not in PROTOCOLS:
        p.add(field, f"protocol {protocol}: a ClusterNetworkPolicy names tcp, udp or sctp only")
        return "tcp"
    return str(protocol).lower()


def _plain(value: Any) -> Any:
    """Plain dicts, lists and scalars (manifests as read carry line numbers)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def converted_cluster(cluster: Cluster, conversion: Conversion) -> Cluster:
    """``cluster`` with each converted policy in place of its v1alpha1 original."""
    old = {(c.kind, c.name) for c in conversion.converted}
    kept = [p for p in cluster.cluster_policies if (p.kind, p.name) not in old]
    new = [ClusterPolicy.from_dict(c.manifest, source=c.source) for c in conversion.converted]
    return Cluster.of(cluster.namespaces, cluster.pods, cluster.services, cluster.policies, name=cluster.name,
                      cluster_policies=[*kept, *new], nodes=cluster.nodes, staged=cluster.staged)
