"""Cluster-wide policy tiers as normalised, immutable values.

One model for the three kinds of group ``policy.networking.k8s.io``:

* ``ClusterNetworkPolicy`` (v1alpha2): ``spec.tier`` Admin or Baseline, a
  ``priority`` in both tiers, actions Accept/Deny/Pass, ``protocols`` entries;
* ``AdminNetworkPolicy`` (v1alpha1): the Admin tier, actions Allow/Deny/Pass,
  ``ports`` entries (``portNumber``, ``portRange``, ``namedPort``);
* ``BaselineAdminNetworkPolicy`` (v1alpha1): the Baseline tier, actions
  Allow/Deny, no priority.

:meth:`ClusterPolicy.from_dict` is the one place where their defaulting happens;
everything after it sees normalised values only:

* a BaselineAdminNetworkPolicy has priority :data:`BANP_PRIORITY` (1000: the old
  singleton was the last resort, so any v1alpha2 Baseline policy comes first);
* v1alpha1 ``Allow`` is kept as written; :attr:`ClusterRule.accepts` reads both;
* a v1alpha1 port entry without ``protocol`` is TCP; v1alpha2 has no defaults;
* absent ``namespaceSelector`` in a ``pods`` subject or peer is ``{}`` (every
  namespace); an absent rule ``name`` is ``""``;
* absent ``ingress``/``egress`` (or empty) leaves that direction alone;
* a peer or port entry with no field podfence knows is kept as
  :class:`UnknownPeer` / :class:`UnknownPort` (the evaluators fail closed on it).

``from_dict`` expects a manifest that passed validation (types right, one-of
fields respected); it never reads anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from podfence.model.labels import EMPTY_LABELS, SELECT_ALL, Labels, LabelSelector
from podfence.model.origin import Origin
from podfence.model.policy import selector_from_dict
from podfence.sets import IPSet, Protocol, parse_cidr

GROUP = "policy.networking.k8s.io"
CLUSTER_POLICY_KINDS = {
    "ClusterNetworkPolicy": f"{GROUP}/v1alpha2",
    "AdminNetworkPolicy": f"{GROUP}/v1alpha1",
    "BaselineAdminNetworkPolicy": f"{GROUP}/v1alpha1",
}
ADMIN = "Admin"
BASELINE = "Baseline"
BANP_PRIORITY = 1000
ACCEPT_WORDS = frozenset({"Accept", "Allow"})


# -- subjects and peers ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NamespacesPeer:
    """Every pod of the namespaces ``selector`` matches (``namespaces``)."""

    selector: LabelSelector


@dataclass(frozen=True, slots=True)
class PodsPeer:
    """Pods matching ``pod_selector`` in namespaces matching ``namespace_selector`` (``pods``)."""

    namespace_selector: LabelSelector
    pod_selector: LabelSelector


@dataclass(frozen=True, slots=True)
class NetworksPeer:
    """``networks``: CIDRs as written and as one address set (host bits ignored)."""

    cidrs: tuple[str, ...]
    addresses: IPSet


@dataclass(frozen=True, slots=True)
class NodesPeer:
    """``nodes``: the addresses of the Nodes ``selector`` matches."""

    selector: LabelSelector


@dataclass(frozen=True, slots=True)
class DomainNamesPeer:
    """``domainNames``: exact names or ``*.suffix`` wildcards, as written."""

    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UnknownPeer:
    """A peer with no field podfence knows (a newer field, say): ``fields`` are its keys."""

    fields: tuple[str, ...] = ()


ClusterSubject = NamespacesPeer | PodsPeer
ClusterPeer = NamespacesPeer | PodsPeer | NetworksPeer | NodesPeer | DomainNamesPeer | UnknownPeer


# -- ports -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortNumbers:
    """Destination ports ``first..last`` of ``protocol``."""

    protocol: Protocol
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class NamedDestinationPort:
    """A container port name on the destination pod, with whatever protocol it declares."""

    name: str


@dataclass(frozen=True, slots=True)
class UnknownPort:
    """A port entry with no field podfence knows: ``fields`` are its keys."""

    fields: tuple[str, ...] = ()


ClusterPort = PortNumbers | NamedDestinationPort | UnknownPort


# -- rules and policies ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClusterRule:
    """One rule in order: ``action`` as written (Accept/Allow, Deny, Pass)."""

    name: str
    action: str
    peers: tuple[ClusterPeer, ...]
    ports: tuple[ClusterPort, ...] = ()  # empty: every protocol and port

    @property
    def accepts(self) -> bool:
        return self.action in ACCEPT_WORDS


@dataclass(frozen=True, slots=True)
class ClusterPolicy:
    """A ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy, normalised."""

    kind: str
    api_version: str
    name: str
    tier: str  # ADMIN or BASELINE
    priority: int
    subject: ClusterSubject
    ingress: tuple[ClusterRule, ...] = ()
    egress: tuple[ClusterRule, ...] = ()
    source: Origin | None = None
    annotations: Labels = field(default=EMPTY_LABELS, compare=False)  # for lint suppressions only

    @property
    def key(self) -> str:
        """The object's name (cluster-scoped: no namespace)."""
        return self.name

    @property
    def namespace(self) -> None:
        return None

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, source: Origin | None = None) -> ClusterPolicy:
        """A validated manifest of one of the three kinds, with the defaults above applied."""
        kind = doc["kind"]
        spec = doc.get("spec") or {}
        meta = doc.get("metadata") or {}
        v1 = kind != "ClusterNetworkPolicy"
        if kind == "ClusterNetworkPolicy":
            tier, priority = spec["tier"], int(spec["priority"])
        elif kind == "AdminNetworkPolicy":
            tier, priority = ADMIN, int(spec["priority"])
        else:
            tier, priority = BASELINE, BANP_PRIORITY
        return cls(
            kind=kind,
            api_version=doc.get("apiVersion") or CLUSTER_POLICY_KINDS[kind],
            name=meta["name"],
            tier=tier,
            priority=priority,
            subject=_subject(spec.get("subject") or {}),
            ingress=tuple(_rule(r or {}, "from", v1) for r in spec.get("ingress") or ()),
            egress=tuple(_rule(r or {}, "to", v1) for r in spec.get("egress") or ()),
            source=source,
            annotations=Labels({k: v for k, v in (meta.get("annotations") or {}).items() if isinstance(v, str)}),
        )


def _pods(raw: Mapping[str, Any]) -> PodsPeer:
    ns = raw.get("namespaceSelector")
    return PodsPeer(selector_from_dict(ns) if ns is not None else SELECT_ALL,
                    selector_from_dict(raw.get("podSelector")))


def _subject(raw: Mapping[str, Any]) -> ClusterSubject:
    if raw.get("pods") is not None:
        return _pods(raw["pods"])
    return NamespacesPeer(selector_from_dict(raw.get("namespaces")))


def _peer(raw: Mapping[str, Any]) -> ClusterPeer:
    if raw.get("namespaces") is not None:
        return NamespacesPeer(selector_from_dict(raw["namespaces"]))
    if raw.get("pods") is not None:
        return _pods(raw["pods"])
    if raw.get("networks") is not None:
        cidrs = tuple(str(c) for c in raw["networks"])
        parsed = [c for c in map(parse_cidr, cidrs) if c is not None]
        return NetworksPeer(cidrs, IPSet.of_cidrs(parsed))
    if raw.get("nodes") is not None:
        return NodesPeer(selector_from_dict(raw["nodes"]))
    if raw.get("domainNames") is not None:
        return DomainNamesPeer(tuple(str(n) for n in raw["domainNames"]))
    return UnknownPeer(tuple(sorted(str(k) for k in raw)))


def _v1_port(raw: Mapping[str, Any]) -> ClusterPort:
    if raw.get("portNumber") is not None:
        entry = raw["portNumber"]
        port = int(entry["port"])
        return PortNumbers(Protocol(entry.get("protocol") or "TCP"), port, port)
    if raw.get("portRange") is not None:
        entry = raw["portRange"]
        return PortNumbers(Protocol(entry.get("protocol") or "TCP"), int(entry["start"]), int(entry["end"]))
    if raw.get("namedPort") is not None:
        return NamedDestinationPort(str(raw["namedPort"]))
    return UnknownPort(tuple(sorted(str(k) for k in raw)))


def _v2_port(raw: Mapping[str, Any]) -> ClusterPort:
    for key, protocol in (("tcp", Protocol.TCP), ("udp", Protocol.UDP), ("sctp", Protocol.SCTP)):
        entry = raw.get(key)
        if entry is None:
            continue
        port = (entry or {}).get("destinationPort") or {}
        if port.get("number") is not None:
            return PortNumbers(protocol, int(port["number"]), int(port["number"]))
        if port.get("range") is not None:
            return PortNumbers(protocol, int(port["range"]["start"]), int(port["range"]["end"]))
        return UnknownPort((key,))
    if raw.get("destinationNamedPort") is not None:
        return NamedDestinationPort(str(raw["destinationNamedPort"]))
    return UnknownPort(tuple(sorted(str(k) for k in raw)))


def _rule(raw: Mapping[str, Any], peers_key: str, v1: bool) -> ClusterRule:
    if v1:
        ports = tuple(_v1_port(p or {}) for p in raw.get("ports") or ())
    else:
        ports = tuple(_v2_port(p or {}) for p in raw.get("protocols") or ())
    return ClusterRule(
        name=str(raw.get("name") or ""),
        action=str(raw["action"]),
        peers=tuple(_peer(p or {}) for p in raw.get(peers_key) or ()),
        ports=ports,
    )
