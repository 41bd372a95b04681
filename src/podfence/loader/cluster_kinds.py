"""Cluster-scoped kinds: the policy tiers and Nodes, read type-safely.

:func:`check_cluster_policy` walks a ClusterNetworkPolicy, AdminNetworkPolicy or
BaselineAdminNetworkPolicy with the loader's :class:`FieldReader` and reports
every value whose type or shape the model cannot read (a string where a list
belongs, an unknown action, a subject with two fields, a port out of range).
Only a manifest without such problems is handed to
:meth:`podfence.model.ClusterPolicy.from_dict`, so no input can crash it. The
full API-server validation of these kinds (limits, CEL rules, messages) is the
validator's; this is the guard that keeps the loader safe on any input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podfence.loader import codes
from podfence.loader.fields import FieldReader
from podfence.model import Labels, Node, Operator, Source
from podfence.model.diagnostic import FieldPath
from podfence.sets import parse_cidr
from podfence.validate.messages import diag, invalid, required, unsupported
from podfence.validate.schema import Kind

_TIERS = ("Admin", "Baseline")
_ACTIONS = {
    "ClusterNetworkPolicy": ("Accept", "Deny", "Pass"),
    "AdminNetworkPolicy": ("Allow", "Deny", "Pass"),
    "BaselineAdminNetworkPolicy": ("Allow", "Deny"),
}
_INGRESS_PEERS = ("namespaces", "pods")
_EGRESS_PEERS = ("namespaces", "pods", "networks", "nodes", "domainNames")
_V2_PROTOCOLS = ("tcp", "udp", "sctp", "destinationNamedPort")
_V1_PORTS = ("portNumber", "portRange", "namedPort")
_OPERATORS = tuple(o.value for o in Operator)


def check_cluster_policy(doc: Mapping[str, Any], kind: str, r: FieldReader) -> None:
    """Report what :meth:`ClusterPolicy.from_dict` could not read in ``doc``."""
    spec = r.as_map(doc.get("spec"), ("spec",))
    if doc.get("spec") is None:
        r.add(required(codes.MISSING_FIELD, ("spec",)))
    if kind == "ClusterNetworkPolicy":
        tier = r.as_str(spec.get("tier"), ("spec", "tier"))
        if spec.get("tier") is None:
            r.add(required(codes.MISSING_FIELD, ("spec", "tier")))
        elif tier is not None and tier not in _TIERS:
            r.add(unsupported(codes.INVALID_VALUE, ("spec", "tier"), tier, _TIERS))
    if kind != "BaselineAdminNetworkPolicy":
        _priority(spec.get("priority"), ("spec", "priority"), r)
    _subject(spec.get("subject"), ("spec", "subject"), r)
    v1 = kind != "ClusterNetworkPolicy"
    for direction, peers_key, known in (("ingress", "from", _INGRESS_PEERS), ("egress", "to", _EGRESS_PEERS)):
        for i, rule in enumerate(r.as_list(spec.get(direction), ("spec", direction))):
            _rule(rule, ("spec", direction, i), peers_key, known, _ACTIONS[kind], v1, r)


def _priority(value: Any, path: FieldPath, r: FieldReader) -> None:
    if value is None:
        r.add(required(codes.MISSING_FIELD, path))
    elif not isinstance(value, int) or isinstance(value, bool):
        r.wrong_type(path, value, Kind.INTEGER)
    elif not 0 <= value <= 1000:
        r.add(invalid(codes.INVALID_VALUE, path, value, "must be between 0 and 1000"))


def _one_of(raw: Mapping[str, Any], path: FieldPath, known: tuple[str, ...], r: FieldReader,
            unknown_ok: bool) -> str | None:
    """The one known field set in ``raw``; an error when there are several (or none, unless ``unknown_ok``)."""
    present = [k for k in known if raw.get(k) is not None]
    if len(present) > 1:
        r.add(diag(codes.INVALID_VALUE, path, f"must have exactly one of {', '.join(known)}, not "
                                              f"{' and '.join(present)}"))
        return None
    if not present:
        if not unknown_ok or not raw:
            r.add(diag(codes.INVALID_VALUE, path, f"must have one of {', '.join(known)}"))
        return None
    return present[0]


def _subject(value: Any, path: FieldPath, r: FieldReader) -> None:
    if value is None:
        r.add(required(codes.MISSING_FIELD, path))
        return
    raw = r.as_map(value, path)
    field = _one_of(raw, path, ("namespaces", "pods"), r, unknown_ok=False) if isinstance(value, Mapping) else None
    if field == "namespaces":
        _selector(raw[field], path + (field,), r)
    elif field == "pods":
        _pods(raw[field], path + (field,), r)


def _pods(value: Any, path: FieldPath, r: FieldReader) -> None:
    raw = r.as_map(value, path)
    if isinstance(value, Mapping) and raw.get("podSelector") is None:
        r.add(required(codes.MISSING_FIELD, path + ("podSelector",)))
    for key in ("namespaceSelector", "podSelector"):
        if raw.get(key) is not None:
            _selector(raw[key], path + (key,), r)


def _selector(value: Any, path: FieldPath, r: FieldReader) -> None:
    raw = r.as_map(value, path)
    r.as_labels(raw.get("matchLabels"), path + ("matchLabels",))
    for i, expr in enumerate(r.as_list(raw.get("matchExpressions"), path + ("matchExpressions",))):
        where = path + ("matchExpressions", i)
        expr = r.as_map(expr, where)
        for key in ("key", "operator"):
            if isinstance(expr, Mapping) and expr.get(key) is None:
                r.add(required(codes.MISSING_FIELD, where + (key,)))
        r.as_str(expr.get("key"), where + ("key",))
        operator = r.as_str(expr.get("operator"), where + ("operator",))
        if operator is not None and operator not in _OPERATORS:
            r.add(unsupported(codes.INVALID_VALUE, where + ("operator",), operator, _OPERATORS))
        for j, v in enumerate(r.as_list(expr.get("values"), where + ("values",))):
            r.as_str(v, where + ("values", j))


def _rule(value: Any, path: FieldPath, peers_key: str, known: tuple[str, ...], actions: tuple[str, ...], v1: bool,
          r: FieldReader) -> None:
    raw = r.as_map(value, path)
    r.as_str(raw.get("name"), path + ("name",))
    action = r.as_str(raw.get("action"), path + ("action",))
    if raw.get("action") is None:
        r.add(required(codes.MISSING_FIELD, path + ("action",)))
    elif action is not None and action not in actions:
        r.add(unsupported(codes.INVALID_VALUE, path + ("action",), action, actions))
    peers = r.as_list(raw.get(peers_key), path + (peers_key,))
    if isinstance(value, Mapping) and raw.get(peers_key) is None:
        r.add(required(codes.MISSING_FIELD, path + (peers_key,)))
    elif raw.get(peers_key) == []:
        r.add(invalid(codes.INVALID_VALUE, path + (peers_key,), 0, "must have at least 1 item"))
    for j, peer in enumerate(peers):
        _peer(peer, path + (peers_key, j), known, r)
    ports_key = "ports" if v1 else "protocols"
    for k, entry in enumerate(r.as_list(raw.get(ports_key), path + (ports_key,))):
        _port(entry, path + (ports_key, k), v1, r)


def _peer(value: Any, path: FieldPath, known: tuple[str, ...], r: FieldReader) -> None:
    raw = r.as_map(value, path)
    field = _one_of(raw, path, known, r, unknown_ok=True)
    if field in ("namespaces", "nodes"):
        _selector(raw[field], path + (field,), r)
    elif field == "pods":
        _pods(raw[field], path + (field,), r)
    elif field == "networks":
        for m, cidr in enumerate(r.as_list(raw[field], path + (field,))):
            text = r.as_str(cidr, path + (field, m))
            if text is not None and parse_cidr(text) is None:
                r.add(invalid(codes.INVALID_VALUE, path + (field, m), text, "Invalid CIDR format provided"))
    elif field == "domainNames":
        for m, name in enumerate(r.as_list(raw[field], path + (field,))):
            r.as_str(name, path + (field, m))


def _port(value: Any, path: FieldPath, v1: bool, r: FieldReader) -> None:
    raw = r.as_map(value, path)
    field = _one_of(raw, path, _V1_PORTS if v1 else _V2_PROTOCOLS, r, unknown_ok=True)
    if field is None:
        return
    where = path + (field,)
    if field in ("namedPort", "destinationNamedPort"):
        r.as_str(raw[field], where)
    elif field == "portNumber":
        entry = r.as_map(raw[field], where)
        r.as_protocol(entry.get("protocol"), where + ("protocol",))
        r.as_port(entry.get("port"), where + ("port",))
    elif field == "portRange":
        entry = r.as_map(raw[field], where)
        r.as_protocol(entry.get("protocol"), where + ("protocol",))
        _range(entry, where, r)
    else:
        entry = r.as_map(raw[field], where)
        port = r.as_map(entry.get("destinationPort"), where + ("destinationPort",))
        if port.get("number") is not None:
            r.as_port(port["number"], where + ("destinationPort", "number"))
        elif port.get("range") is not None:
            _range(r.as_map(port["range"], where + ("destinationPort", "range")), where + ("destinationPort", "range"), r)


def _range(entry: Mapping[str, Any], path: FieldPath, r: FieldReader) -> None:
    start = r.as_port(entry.get("start"), path + ("start",))
    end = r.as_port(entry.get("end"), path + ("end",))
    if start is not None and end is not None and start > end:
        r.add(invalid(codes.INVALID_VALUE, path, f"{start}-{end}", "Start port must be less than End port"))


def read_node(doc: Mapping[str, Any], name: str, source: Source, r: FieldReader) -> Node:
    """A Node: labels and the IP-valued ``status.addresses`` (Hostname and DNS entries are names)."""
    meta = r.as_map(doc.get("metadata"), ("metadata",))
    labels = r.as_labels(meta.get("labels"), ("metadata", "labels"))
    status = r.as_map(doc.get("status"), ("status",))
    found = []
    for i, entry in enumerate(r.as_list(status.get("addresses"), ("status", "addresses"))):
        path = ("status", "addresses", i)
        entry = r.as_map(entry, path)
        kind = r.as_str(entry.get("type"), path + ("type",))
        if kind in ("InternalIP", "ExternalIP"):
            address = r.as_ip(entry.get("address"), path + ("address",))
            if address is not None and address not in found:
                found.append(address)
    return Node(name, Labels(labels), tuple(found), source)
