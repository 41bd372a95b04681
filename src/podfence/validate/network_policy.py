"""NetworkPolicy (networking.k8s.io/v1) validation with API-server parity.

:func:`validate_network_policy` returns every problem the API server would refuse,
plus the warnings it would print, in its order: metadata, ``spec.podSelector``,
each ingress rule (ports, then peers), each egress rule (ports, then peers),
``policyTypes``. Errors accumulate; only an unusable ``cidr`` skips its ``except``
entries, and more than two ``policyTypes`` skip the per-entry check, as upstream.

Shape problems (wrong types, unknown fields; see :mod:`podfence.validate.schema`)
are reported where they occur, inside that order. Input without errors is safe
to hand to :meth:`podfence.model.NetworkPolicy.from_dict`.

Things the API server accepts are accepted here too and produce nothing:
duplicate ``policyTypes``, rules of a direction not in ``policyTypes``, duplicate
or overlapping rules, peers, ports and ``except`` entries, a port entry with only
a protocol, ``/0`` CIDRs, named ports no pod defines, selectors matching nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from podfence.model.diagnostic import Diagnostic, FieldPath
from podfence.model.settings import DEFAULT_SETTINGS, Settings
from podfence.validate.cidrs import validate_ip_block
from podfence.validate.messages import forbidden, invalid, required, unsupported
from podfence.validate.metadata import validate_metadata
from podfence.validate.names import port_name_errors, port_number_errors
from podfence.validate.schema import (
    EGRESS_RULE_FIELDS, INGRESS_RULE_FIELDS, PEER_FIELDS, PORT_FIELDS, SPEC_FIELDS, TOP_LEVEL_FIELDS, Kind,
    check_int_range, check_kind, object_list, unknown_fields, wrong_type,
)
from podfence.validate.selectors import validate_selector

PROTOCOLS = ("TCP", "UDP", "SCTP")
POLICY_TYPES = ("Ingress", "Egress")


def validate_network_policy(doc: object, *, namespace: str,
                            settings: Settings = DEFAULT_SETTINGS) -> list[Diagnostic]:
    """Every problem of one NetworkPolicy manifest, in the API server's order.

    Args:
        doc: the manifest as loaded from YAML or JSON (a mapping).
        namespace: the effective namespace: ``metadata.namespace``, or the
            default the loader applies when it is absent or empty.
        settings: ``strict_cidr_validation`` turns the CIDR warnings (V23) into
            errors, like the ``StrictIPCIDRValidation`` gate.

    Returns:
        Diagnostics with ``code``, ``severity``, ``message`` and ``field`` set;
        the loader adds file, line and object.

    >>> [d.message for d in validate_network_policy(
    ...     {"metadata": {"name": "web"}, "spec": {"policyTypes": ["ingress"]}}, namespace="default")]
    ['Unsupported value: "ingress": supported values: "Ingress", "Egress"']
    """
    return list(_document(doc, namespace, settings))


def _document(doc: object, namespace: str, settings: Settings) -> Iterator[Diagnostic]:
    if not isinstance(doc, Mapping):
        yield wrong_type((), doc, Kind.MAPPING)
        return
    yield from unknown_fields(doc, TOP_LEVEL_FIELDS, ())
    for field in ("apiVersion", "kind"):
        if (err := check_kind(doc.get(field), Kind.STRING, (field,))) is not None:
            yield err
    if (err := check_kind(doc.get("status"), Kind.MAPPING, ("status",))) is not None:
        yield err
    yield from validate_metadata(doc.get("metadata"), namespace)
    spec = doc.get("spec")
    if spec is None:
        return
    if not isinstance(spec, Mapping):
        yield wrong_type(("spec",), spec, Kind.MAPPING)
        return
    yield from _spec(spec, settings)


def _spec(spec: Mapping[object, object], settings: Settings) -> Iterator[Diagnostic]:
    path: FieldPath = ("spec",)
    yield from unknown_fields(spec, SPEC_FIELDS, path)
    yield from validate_selector(spec.get("podSelector"), path + ("podSelector",))
    for direction, fields in (("ingress", INGRESS_RULE_FIELDS), ("egress", EGRESS_RULE_FIELDS)):
        for entry in object_list(spec.get(direction), path + (direction,)):
            if isinstance(entry, Diagnostic):
                yield entry
            else:
                yield from _rule(entry[1], path + (direction, entry[0]), fields, settings)
    yield from _policy_types(spec.get("policyTypes"), path + ("policyTypes",))


def _rule(rule: Mapping[object, object], path: FieldPath, fields: tuple[str, str],
          settings: Settings) -> Iterator[Diagnostic]:
    ports_field, peers_field = fields
    yield from unknown_fields(rule, fields, path)
    for entry in object_list(rule.get(ports_field), path + (ports_field,)):
        if isinstance(entry, Diagnostic):
            yield entry
        else:
            yield from _port(entry[1], path + (ports_field, entry[0]))
    for entry in object_list(rule.get(peers_field), path + (peers_field,)):
        if isinstance(entry, Diagnostic):
            yield entry
        else:
            yield from _peer(entry[1], path + (peers_field, entry[0]), settings)


def _port(port: Mapping[object, object], path: FieldPath) -> Iterator[Diagnostic]:
    """One ``ports`` entry: V12 to V18."""
    yield from unknown_fields(port, PORT_FIELDS, path)
    protocol = port.get("protocol")
    if (err := check_kind(protocol, Kind.STRING, path + ("protocol",))) is not None:
        yield err
    elif protocol is not None and protocol not in PROTOCOLS:
        yield unsupported("V12", path + ("protocol",), protocol, PROTOCOLS)
    number, end = port.get("port"), port.get("endPort")
    number_error = check_kind(number, Kind.INT_OR_STRING, path + ("port",))
    if number_error is None and isinstance(number, int):
        number_error = check_int_range(number, 32, path + ("port",))
    end_error = check_kind(end, Kind.INTEGER, path + ("endPort",))
    if end_error is None and isinstance(end, int):
        end_error = check_int_range(end, 32, path + ("endPort",))
    yield from (e for e in (number_error, end_error) if e is not None)
    if number_error is not None:
        return
    end_port = end if isinstance(end, int) and end_error is None else None
    if isinstance(number, int):
        for msg in port_number_errors(number):
            yield invalid("V13", path + ("port",), number, msg)
        if end_port is not None:
            if end_port < number:
                yield invalid("V17", path + ("endPort",), end_port, "must be greater than or equal to `port`")
            for msg in port_number_errors(end_port):
                yield invalid("V18", path + ("endPort",), end_port, msg)
    elif isinstance(number, str):
        if end_port is not None:
            yield invalid("V16", path + ("endPort",), end_port, "may not be specified when `port` is non-numeric")
        for msg in port_name_errors(number):
            yield invalid("V14", path + ("port",), number, msg)
    elif end_port is not None:
        yield invalid("V15", path + ("endPort",), end_port, "may not be specified when `port` is not specified")


def _peer(peer: Mapping[object, object], path: FieldPath, settings: Settings) -> Iterator[Diagnostic]:
    """One ``from``/``to`` entry: its selectors and ipBlock, then V19 and V20."""
    yield from unknown_fields(peer, PEER_FIELDS, path)
    present = 0
    for field in ("podSelector", "namespaceSelector"):
        selector = peer.get(field)
        if selector is not None:
            present += 1
            yield from validate_selector(selector, path + (field,))
    block = peer.get("ipBlock")
    if block is not None:
        present += 1
        yield from validate_ip_block(block, path + ("ipBlock",), settings)
    if present == 0:
        yield required("V19", path, "must specify a peer")
    elif present > 1 and block is not None:
        yield forbidden("V20", path, "may not specify both ipBlock and another peer")


def _policy_types(raw: object, path: FieldPath) -> Iterator[Diagnostic]:
    """V26, then V27 for each entry (skipped when there are too many)."""
    if raw is None:
        return
    if not isinstance(raw, (list, tuple)):
        yield wrong_type(path, raw, Kind.LIST)
        return
    if len(raw) > len(POLICY_TYPES):
        yield invalid("V26", path, list(raw), "may not specify more than two policyTypes")
        return
    for k, value in enumerate(raw):
        if not isinstance(value, str):
            yield wrong_type(path + (k,), value, Kind.STRING)
        elif value not in POLICY_TYPES:
            yield unsupported("V27", path + (k,), value, POLICY_TYPES)
