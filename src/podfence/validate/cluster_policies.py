"""Cluster-wide policies, validated as their CRDs (OpenAPI schema and CEL) validate them.

Three kinds of the group ``policy.networking.k8s.io``, all cluster-scoped:

* ``ClusterNetworkPolicy`` (``v1alpha2``): ``spec.tier`` ``Admin`` or
  ``Baseline``, ``spec.priority`` 0-1000 in both tiers, actions ``Accept``,
  ``Deny``, ``Pass``; at most 25 rules per direction, peers and ``protocols``
  per rule.
* ``AdminNetworkPolicy`` (``v1alpha1``): ``spec.priority`` 0-1000, actions
  ``Allow``, ``Deny``, ``Pass``; at most 100 rules, peers and ``ports``.
* ``BaselineAdminNetworkPolicy`` (``v1alpha1``): named ``default``, no priority,
  actions ``Allow`` and ``Deny``, no ``domainNames`` peers.

Codes (messages in the API server's words for custom resources, see
:mod:`podfence.validate.crd`; wrong types are ``S1``, unknown fields ``S2``, with
the field of the other version to use when one is written by mistake):

* V43 the kind exists only in its own version (v1alpha2 ClusterNetworkPolicy,
  v1alpha1 AdminNetworkPolicy and BaselineAdminNetworkPolicy); nothing else is
  checked when it does not.
* V44 a BaselineAdminNetworkPolicy is named ``default``.
* V45 (warning) ``metadata.namespace`` on a cluster-scoped object, which the API
  server clears. ``metadata`` itself is V28, V30 and V31, as for other kinds.
* V46 ``spec`` is required; ``spec.tier`` is required, ``Admin`` or ``Baseline``.
* V47 ``spec.priority`` is required, 0-1000.
* V48 ``spec.subject`` is required and sets exactly one of ``namespaces``, ``pods``.
* V49 ``pods`` (subject and peers) needs ``podSelector``, and in v1alpha1 also
  ``namespaceSelector``.
* V50 at most 25 (v1alpha1: 100) ingress rules, and as many egress rules.
* V51 a rule ``name`` is at most 100 characters.
* V52 ``action`` is required and one of the kind's actions.
* V53 ``from``/``to`` is required, 1 to 25 (v1alpha1: 100) peers.
* V54 a peer sets exactly one field; ingress peers know only ``namespaces`` and
  ``pods``; ``nodes`` and ``domainNames`` (and v1alpha1's ``namedPort``) exist
  only in the experimental channel (``Settings.cluster_policy_standard_channel``
  checks against the standard one, where they are unknown fields).
* V55 to V60 port lists (:mod:`podfence.validate.cluster_ports`).
* V61, V62 ``networks`` and ``domainNames`` (:mod:`podfence.validate.cluster_peers`).
* V63 an egress rule with a ``networks``, ``nodes`` or ``domainNames`` peer names
  no port (the experimental CRD's CEL rule; podfence checks it in both channels,
  since such a port can never match an address). A warning instead with the
  setting ``cnp_named_port_with_ip_peers: warn``.
* V64 ``domainNames`` peers only in ``Accept`` (v1alpha1: ``Allow``) rules, as the
  API documents them. A warning instead with ``domainnames_non_accept: warn``.
* V65 a ``matchExpressions`` entry needs ``key`` and ``operator``; the rest of a
  selector is V5 to V11, which the CRDs do not check but implementations need.

``status`` is written by implementations and not checked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

from podfence.model.diagnostic import Diagnostic, FieldPath, Severity
from podfence.model.settings import DEFAULT_SETTINGS, Settings
from podfence.validate.cluster_peers import validate_domain_names, validate_networks
from podfence.validate.cluster_ports import EXPERIMENTAL_HINT, exactly_one, has_named_port, validate_ports, validate_protocols
from podfence.validate.crd import cel, enum, integer, mapping, objects, present
from podfence.validate.messages import go_quote, invalid, required, too_long, warn
from podfence.validate.object_meta import validate_object_meta
from podfence.validate.schema import TOP_LEVEL_FIELDS, Kind, check_kind, unknown_fields, wrong_type
from podfence.validate.selectors import validate_selector

GROUP = "policy.networking.k8s.io"
RULE_NAME_MAX = 100
PRIORITY_MAX = 1000
BASELINE_NAME = "default"
BASELINE_NAME_MESSAGE = (
    'Only one baseline admin network policy with metadata.name="default" can be created in the cluster'
)
SELECTOR_PEERS = ("namespaces", "pods")
ADDRESS_PEERS = ("networks", "nodes", "domainNames")

_INGRESS_ONLY_PODS = "ingress peers can only be namespaces or pods"


@dataclass(frozen=True, slots=True)
class Flavour:
    """What one kind's CRD allows."""

    kind: str
    api_version: str
    spec_fields: tuple[str, ...]
    max_items: int
    actions: tuple[str, ...]
    accept: str
    egress_peers: tuple[str, ...]
    experimental: frozenset[str]
    ports_field: str
    named_port_field: str
    pods_need_namespace_selector: bool
    named_port_message: str
    spec_hints: Mapping[str, str] = field(default_factory=dict)
    rule_hints: Mapping[str, str] = field(default_factory=dict)


_V1ALPHA2_RULE_HINTS = {"ports": 'v1alpha2 rules list "protocols": {tcp: {destinationPort: {number: N}}} ...'}
_V1ALPHA1_RULE_HINTS = {"protocols": 'v1alpha1 rules list "ports": {portNumber: {protocol: TCP, port: N}} ...'}
_NO_TIER = "tiers belong to ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2)"

FLAVOURS: dict[str, Flavour] = {
    "ClusterNetworkPolicy": Flavour(
        "ClusterNetworkPolicy", f"{GROUP}/v1alpha2", ("tier", "priority", "subject", "ingress", "egress"), 25,
        ("Accept", "Deny", "Pass"), "Accept", ("namespaces", "pods", "networks", "nodes", "domainNames"),
        frozenset({"nodes", "domainNames"}), "protocols", "destinationNamedPort", False,
        "networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for "
        "networks/nodes/domainNames", rule_hints=_V1ALPHA2_RULE_HINTS),
    "AdminNetworkPolicy": Flavour(
        "AdminNetworkPolicy", f"{GROUP}/v1alpha1", ("priority", "subject", "ingress", "egress"), 100,
        ("Allow", "Deny", "Pass"), "Allow", ("namespaces", "pods", "networks", "nodes", "domainNames"),
        frozenset({"nodes", "domainNames", "namedPort"}), "ports", "namedPort", True,
        "networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for "
        "networks/nodes/domainNames", spec_hints={"tier": _NO_TIER}, rule_hints=_V1ALPHA1_RULE_HINTS),
    "BaselineAdminNetworkPolicy": Flavour(
        "BaselineAdminNetworkPolicy", f"{GROUP}/v1alpha1", ("subject", "ingress", "egress"), 100,
        ("Allow", "Deny"), "Allow", ("namespaces", "pods", "networks", "nodes"),
        frozenset({"nodes", "namedPort"}), "ports", "namedPort", True,
        "networks/nodes peer cannot be set with namedPorts since there are no namedPorts for networks/nodes",
        spec_hints={"tier": _NO_TIER, "priority": "a BaselineAdminNetworkPolicy has no priority"},
        rule_hints=_V1ALPHA1_RULE_HINTS),
}
CLUSTER_POLICY_KINDS = frozenset(FLAVOURS)


def validate_cluster_policy(doc: object, *, kind: str, api_version: str = "",
                            settings: Settings = DEFAULT_SETTINGS) -> list[Diagnostic]:
    """Every problem of one ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy manifest.

    Args:
        doc: the manifest as loaded (a mapping).
        kind: one of :data:`CLUSTER_POLICY_KINDS`.
        api_version: the object's apiVersion (``doc["apiVersion"]`` when empty).
        settings: ``cluster_policy_standard_channel`` checks against the standard
            channel's CRDs, which lack the experimental fields.

    Returns:
        Diagnostics with ``code``, ``severity``, ``message`` and ``field`` set, in
        field order; the loader adds file, line and object.

    >>> [d.message for d in validate_cluster_policy({"metadata": {"name": "a"}, "spec": {
    ...     "tier": "admin", "priority": 10, "subject": {"namespaces": {}}}}, kind="ClusterNetworkPolicy")]
    ['Unsupported value: "admin": supported values: "Admin", "Baseline"']
    """
    flavour = FLAVOURS[kind]
    if not isinstance(doc, Mapping):
        return [wrong_type((), doc, Kind.MAPPING)]
    version = api_version or doc.get("apiVersion")
    if isinstance(version, str) and version != flavour.api_version:
        return [invalid("V43", ("apiVersion",), version, f"{kind} is served only as {flavour.api_version}")]
    return list(_Walk(flavour, settings.cluster_policy_standard_channel,
                      _severity(settings.cnp_named_port_with_ip_peers),
                      _severity(settings.domainnames_non_accept)).document(doc))


def _severity(choice: str) -> Severity:
    """A knob's ``error`` or ``warn`` as a severity."""
    return Severity.WARNING if choice == "warn" else Severity.ERROR


@dataclass(frozen=True, slots=True)
class _Walk:
    flavour: Flavour
    standard: bool
    named_port_with_ip_peers: Severity = Severity.ERROR
    domain_names_non_accept: Severity = Severity.ERROR

    def document(self, doc: Mapping[object, object]) -> Iterator[Diagnostic]:
        yield from unknown_fields(doc, TOP_LEVEL_FIELDS, ())
        meta = doc.get("metadata")
        yield from validate_object_meta(meta, self.flavour.kind, None)
        if isinstance(meta, Mapping):
            yield from self._metadata(meta)
        spec = doc.get("spec")
        if spec is None:
            yield required("V46", ("spec",))
            return
        body = mapping(("spec",), spec)
        if isinstance(body, Diagnostic):
            yield body
            return
        yield from self._spec(body)

    def _metadata(self, meta: Mapping[object, object]) -> Iterator[Diagnostic]:
        namespace = meta.get("namespace")
        if isinstance(namespace, str) and namespace:
            yield warn("V45", ("metadata", "namespace"), f"{self.flavour.kind} is cluster-scoped: the API server "
                                                         f"ignores metadata.namespace {go_quote(namespace)}")
        if self.flavour.kind == "BaselineAdminNetworkPolicy":
            name, generate = meta.get("name"), meta.get("generateName")
            if (isinstance(name, str) and name and name != BASELINE_NAME) or (not name and generate):
                yield cel("V44", ("metadata", "name"), "object", BASELINE_NAME_MESSAGE)

    def _spec(self, spec: Mapping[object, object]) -> Iterator[Diagnostic]:
        path: FieldPath = ("spec",)
        flavour = self.flavour
        yield from unknown_fields(spec, flavour.spec_fields, path, flavour.spec_hints)
        if "tier" in flavour.spec_fields:
            yield from enum("V46", path + ("tier",), spec.get("tier"), ("Admin", "Baseline"))
        if "priority" in flavour.spec_fields:
            yield from integer("V47", path + ("priority",), spec.get("priority"), 0, PRIORITY_MAX)
        yield from self._subject(spec.get("subject"), path + ("subject",))
        for direction in ("ingress", "egress"):
            here = path + (direction,)
            for entry in objects("V50", here, spec.get(direction), None, flavour.max_items):
                if isinstance(entry, Diagnostic):
                    yield entry
                else:
                    yield from self._rule(entry[1], here + (entry[0],), direction)

    def _subject(self, raw: object, path: FieldPath) -> Iterator[Diagnostic]:
        if raw is None:
            yield required("V48", path)
            return
        subject = mapping(path, raw)
        if isinstance(subject, Diagnostic):
            yield subject
            return
        yield from unknown_fields(subject, SELECTOR_PEERS, path)
        yield from exactly_one("V48", subject, SELECTOR_PEERS, path)
        yield from self._selector_peers(subject, path)

    def _selector_peers(self, obj: Mapping[object, object], path: FieldPath) -> Iterator[Diagnostic]:
        """``namespaces`` and ``pods``, in a subject or a peer."""
        if obj.get("namespaces") is not None:
            yield from selector(obj["namespaces"], path + ("namespaces",))
        if obj.get("pods") is not None:
            yield from self._pods(obj["pods"], path + ("pods",))

    def _pods(self, raw: object, path: FieldPath) -> Iterator[Diagnostic]:
        pods = mapping(path, raw)
        if isinstance(pods, Diagnostic):
            yield pods
            return
        fields = ("namespaceSelector", "podSelector")
        yield from unknown_fields(pods, fields, path)
        for name in fields:
            value = pods.get(name)
            if value is not None:
                yield from selector(value, path + (name,))
            elif name == "podSelector" or self.flavour.pods_need_namespace_selector:
                yield required("V49", path + (name,))

    def _rule(self, rule: Mapping[object, object], path: FieldPath, direction: str) -> Iterator[Diagnostic]:
        flavour = self.flavour
        peers_field = "from" if direction == "ingress" else "to"
        yield from unknown_fields(rule, ("name", "action", peers_field, flavour.ports_field), path,
                                  {**flavour.rule_hints, ("to" if direction == "ingress" else "from"):
                                   f'{direction} rules list their peers under "{peers_field}"'})
        name = rule.get("name")
        if (err := check_kind(name, Kind.STRING, path + ("name",))) is not None:
            yield err
        elif isinstance(name, str) and len(name) > RULE_NAME_MAX:
            yield too_long("V51", path + ("name",), RULE_NAME_MAX)
        action = rule.get("action")
        yield from enum("V52", path + ("action",), action, flavour.actions)
        peers = rule.get(peers_field)
        if peers is None:
            yield required("V53", path + (peers_field,))
        for entry in objects("V53", path + (peers_field,), peers, 1, flavour.max_items):
            if isinstance(entry, Diagnostic):
                yield entry
            else:
                yield from self._peer(entry[1], path + (peers_field, entry[0]), direction)
        ports = rule.get(flavour.ports_field)
        if ports is not None:
            here = path + (flavour.ports_field,)
            if flavour.ports_field == "protocols":
                yield from validate_protocols(ports, here, flavour.max_items)
            else:
                yield from validate_ports(ports, here, flavour.max_items,
                                          named_ports=not (self.standard and "namedPort" in flavour.experimental))
        yield from self._address_peer_rules(rule, path, peers_field, action)

    def _address_peer_rules(self, rule: Mapping[object, object], path: FieldPath, peers_field: str,
                            action: object) -> Iterator[Diagnostic]:
        """V63 and V64: what an address peer (``networks``, ``nodes``, ``domainNames``) rules out."""
        peers = rule.get(peers_field)
        if peers_field != "to" or not isinstance(peers, (list, tuple)):
            return
        kinds = {f for p in peers if isinstance(p, Mapping) for f in present(p, ADDRESS_PEERS)}
        # Where the channel does not know v1alpha1's namedPort, it is already an unknown field.
        named_known = not (self.standard and self.flavour.named_port_field in self.flavour.experimental)
        if kinds and named_known and has_named_port(rule, self.flavour.ports_field, self.flavour.named_port_field):
            yield replace(cel("V63", path, "object", self.flavour.named_port_message),
                          severity=self.named_port_with_ip_peers)
        if "domainNames" in kinds and isinstance(action, str) and action in self.flavour.actions \
                and action != self.flavour.accept:
            yield invalid("V64", path + ("action",), action,
                          f"domainNames peers are only defined for {self.flavour.accept} rules",
                          self.domain_names_non_accept)

    def _peer(self, peer: Mapping[object, object], path: FieldPath, direction: str) -> Iterator[Diagnostic]:
        flavour = self.flavour
        if direction == "ingress":
            known: tuple[str, ...] = SELECTOR_PEERS
            hints = {f: _INGRESS_ONLY_PODS for f in ADDRESS_PEERS}
        else:
            standard = self.standard
            known = tuple(f for f in flavour.egress_peers if not (standard and f in flavour.experimental))
            hints = {f: EXPERIMENTAL_HINT for f in flavour.experimental if f not in known}
            if "domainNames" not in flavour.egress_peers:
                hints["domainNames"] = f"{flavour.kind} egress peers have no domainNames"
        yield from unknown_fields(peer, known, path, hints)
        yield from exactly_one("V54", peer, known, path)
        yield from self._selector_peers(peer, path)
        if "networks" in known and peer.get("networks") is not None:
            yield from validate_networks(peer["networks"], path + ("networks",))
        if "nodes" in known and peer.get("nodes") is not None:
            yield from selector(peer["nodes"], path + ("nodes",))
        if "domainNames" in known and peer.get("domainNames") is not None:
            yield from validate_domain_names(peer["domainNames"], path + ("domainNames",))


def selector(raw: object, path: FieldPath) -> Iterator[Diagnostic]:
    """A label selector in a CRD: ``key`` and ``operator`` required (V65), then V5 to V11."""
    missing: set[FieldPath] = set()
    expressions = raw.get("matchExpressions") if isinstance(raw, Mapping) else None
    if isinstance(expressions, (list, tuple)):
        for k, expression in enumerate(expressions):
            if not isinstance(expression, Mapping):
                continue
            for name in ("key", "operator"):
                if expression.get(name) is None:
                    missing.add(path + ("matchExpressions", k, name))
    for problem in validate_selector(raw, path):
        if problem.field in missing and problem.code in ("V7", "V10"):
            continue  # an absent key or operator is reported once, as the CRD does
        yield problem
    for here in sorted(missing, key=lambda p: (p[-2], p[-1] != "key")):
        yield required("V65", here)
