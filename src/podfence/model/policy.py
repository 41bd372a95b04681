"""NetworkPolicy (networking.k8s.io/v1) as normalised, immutable values.

:meth:`NetworkPolicy.from_dict` is the one place where Kubernetes defaulting is
applied; everything after it sees normalised policies only:

* D1: a port entry without ``protocol`` gets TCP (also an entry with no ``port``).
* D2: absent or empty ``policyTypes`` become ``[Ingress]``, plus ``Egress`` when
  ``spec.egress`` has at least one rule. Given ``policyTypes`` are kept verbatim.
* D4: nothing else is defaulted: an absent ``podSelector`` is ``{}`` and absent
  lists are empty.

``from_dict`` expects input that passed :mod:`podfence.validate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Mapping

from podfence.model.labels import EMPTY_LABELS, SELECT_ALL, Labels, LabelSelector, Operator, Requirement
from podfence.model.origin import Origin
from podfence.sets import ConnSet, IPSet, Protocol, parse_cidr


class PolicyType(StrEnum):
    INGRESS = "Ingress"
    EGRESS = "Egress"


class Direction(StrEnum):
    """Which side of a connection a policy rule guards."""

    INGRESS = "ingress"
    EGRESS = "egress"

    @property
    def policy_type(self) -> PolicyType:
        return PolicyType.INGRESS if self is Direction.INGRESS else PolicyType.EGRESS

    @property
    def peers_field(self) -> str:
        return "from" if self is Direction.INGRESS else "to"


@dataclass(frozen=True, slots=True)
class IPBlock:
    """``cidr`` minus ``except``, as written and as an exact address set."""

    cidr: str
    except_: tuple[str, ...] = ()
    addresses: IPSet = IPSet()

    @classmethod
    def of(cls, cidr: str, except_: tuple[str, ...] = ()) -> IPBlock:
        parsed = parse_cidr(cidr)
        addresses = IPSet.of_cidr(parsed) if parsed else IPSet()
        # One subtraction of all entries at once: one by one costs entries x intervals.
        holes = [c for c in map(parse_cidr, except_) if c]
        if holes:
            addresses = addresses - IPSet.of_cidrs(holes)
        return cls(cidr, tuple(except_), addresses)

    def __str__(self) -> str:
        if self.except_:
            return f"{self.cidr} except {', '.join(self.except_)}"
        return self.cidr


@dataclass(frozen=True, slots=True)
class Peer:
    """One ``from``/``to`` entry. Selectors and ipBlock are exclusive (validation)."""

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None

    def __str__(self) -> str:
        if self.ip_block is not None:
            return f"ipBlock {self.ip_block}"
        return selectors_text(self.namespace_selector, self.pod_selector)


def selectors_text(namespace_selector: LabelSelector | None, pod_selector: LabelSelector | None) -> str:
    """A selector peer in words: ``namespaces [...] and pods [...]``, either part left out when absent."""
    parts = []
    if namespace_selector is not None:
        parts.append(f"namespaces [{namespace_selector}]")
    if pod_selector is not None:
        parts.append(f"pods [{pod_selector}]")
    return " and ".join(parts)


@dataclass(frozen=True, slots=True)
class PolicyPort:
    """One ``ports`` entry after defaulting: protocol, then a number, a name or nothing.

    ``protocol_given`` is False when the manifest left ``protocol`` out (D1 chose
    TCP); it records how the entry was written, so it is left out of comparisons.
    """

    protocol: Protocol = Protocol.TCP
    port: int | str | None = None
    end_port: int | None = None
    protocol_given: bool = field(default=True, compare=False)

    @property
    def is_named(self) -> bool:
        return isinstance(self.port, str)

    def numeric(self) -> ConnSet:
        """The connections this entry allows; empty for a named port (see the engine)."""
        if isinstance(self.port, str):
            return ConnSet.none()
        if self.port is None:
            return ConnSet.ports(self.protocol)
        return ConnSet.ports(self.protocol, self.port, self.end_port if self.end_port is not None else self.port)

    def __str__(self) -> str:
        if self.port is None:
            return f"{self.protocol} (all ports)"
        if self.end_port is not None and self.end_port != self.port:
            return f"{self.protocol} {self.port}-{self.end_port}"
        return f"{self.protocol} {self.port}"


@dataclass(frozen=True, slots=True)
class Rule:
    """An ingress or egress rule: empty ``ports`` = all traffic, empty ``peers`` = anyone."""

    ports: tuple[PolicyPort, ...] = ()
    peers: tuple[Peer, ...] = ()


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """A normalised NetworkPolicy.

    The last three fields describe how the manifest was written, for tools such as
    lint, and are left out of comparisons: ``annotations``; ``namespace_given``
    (False when ``metadata.namespace`` was absent and the default was used);
    ``policy_types_given`` (False when D2 inferred ``policyTypes``).
    """

    namespace: str
    name: str
    pod_selector: LabelSelector = SELECT_ALL
    policy_types: tuple[PolicyType, ...] = (PolicyType.INGRESS,)
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    source: Origin | None = None
    annotations: Labels = field(default=EMPTY_LABELS, compare=False)
    namespace_given: bool = field(default=True, compare=False)
    policy_types_given: bool = field(default=True, compare=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def guards(self, direction: Direction) -> bool:
        """True when this policy isolates its pods in ``direction``."""
        return direction.policy_type in self.policy_types

    def rules(self, direction: Direction) -> tuple[Rule, ...]:
        return self.ingress if direction is Direction.INGRESS else self.egress

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, namespace: str = "default",
                  source: Origin | None = None) -> NetworkPolicy:
        """Build a normalised policy from a validated manifest (D1, D2, D4 applied)."""
        meta = doc.get("metadata") or {}
        spec = doc.get("spec") or {}
        ingress = tuple(_rule(r, "from") for r in spec.get("ingress") or ())
        egress = tuple(_rule(r, "to") for r in spec.get("egress") or ())
        raw_types = spec.get("policyTypes") or ()
        if raw_types:
            types = tuple(PolicyType(t) for t in raw_types)
        elif egress:
            types = (PolicyType.INGRESS, PolicyType.EGRESS)
        else:
            types = (PolicyType.INGRESS,)
        annotations = meta.get("annotations") or {}
        return cls(
            namespace=meta.get("namespace") or namespace,
            name=meta.get("name") or meta.get("generateName") or "",
            pod_selector=selector_from_dict(spec.get("podSelector")),
            policy_types=types,
            ingress=ingress,
            egress=egress,
            source=source,
            annotations=Labels({k: v for k, v in annotations.items() if isinstance(v, str)}),
            namespace_given=bool(meta.get("namespace")),
            policy_types_given=bool(raw_types),
        )


def selector_from_dict(raw: Mapping[str, Any] | None) -> LabelSelector:
    """A validated ``metav1.LabelSelector`` dict as a :class:`LabelSelector`."""
    if not raw:
        return SELECT_ALL
    exprs = tuple(
        Requirement(e["key"], Operator(e["operator"]), tuple(e.get("values") or ()))
        for e in raw.get("matchExpressions") or ()
    )
    return LabelSelector.of(raw.get("matchLabels") or {}, exprs)


def _peer(raw: Mapping[str, Any]) -> Peer:
    block = raw.get("ipBlock")
    return Peer(
        pod_selector=selector_from_dict(raw["podSelector"]) if raw.get("podSelector") is not None else None,
        namespace_selector=(
            selector_from_dict(raw["namespaceSelector"]) if raw.get("namespaceSelector") is not None else None
        ),
        ip_block=IPBlock.of(block["cidr"], tuple(block.get("except") or ())) if block is not None else None,
    )


def _port(raw: Mapping[str, Any]) -> PolicyPort:
    return PolicyPort(Protocol(raw.get("protocol") or "TCP"), raw.get("port"), raw.get("endPort"),
                      protocol_given=bool(raw.get("protocol")))


def _rule(raw: Mapping[str, Any] | None, peers_key: str) -> Rule:
    raw = raw or {}
    return Rule(
        ports=tuple(_port(p or {}) for p in raw.get("ports") or ()),
        peers=tuple(_peer(p or {}) for p in raw.get(peers_key) or ()),
    )
