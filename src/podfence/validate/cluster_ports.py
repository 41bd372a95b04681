"""The port lists of cluster-wide policy rules: V55 to V60.

ClusterNetworkPolicy (v1alpha2) rules list ``protocols``: each entry exactly one
of ``tcp``, ``udp``, ``sctp`` (an object whose ``destinationPort`` holds exactly
one of ``number`` or ``range {start, end}``, with the CEL rule start < end) or
``destinationNamedPort``. AdminNetworkPolicy and BaselineAdminNetworkPolicy
(v1alpha1) rules list ``ports``: each entry exactly one of ``portNumber {protocol,
port}``, ``namedPort`` (experimental channel) or ``portRange {protocol, start,
end}``.

Beyond the CRDs, podfence refuses what could never match: a named port that is not
an IANA service name (the rules of a container port's name), a v1alpha1 protocol
other than TCP, UDP and SCTP, and a v1alpha1 range whose start is not below its end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from podfence.model.diagnostic import Diagnostic, FieldPath
from podfence.validate.crd import cel, count_limits, integer, mapping, objects, present
from podfence.validate.messages import invalid, unsupported
from podfence.validate.names import MAX_PORT, MIN_PORT, port_name_errors
from podfence.validate.schema import Kind, check_kind, unknown_fields

LIST_CODE = "V55"
SHAPE_CODE = "V56"
NUMBER_CODE = "V57"
RANGE_CODE = "V58"
NAME_CODE = "V59"
PROTOCOL_CODE = "V60"

PROTOCOL_FIELDS = ("tcp", "udp", "sctp", "destinationNamedPort")
V1ALPHA1_PORT_FIELDS = ("portNumber", "namedPort", "portRange")
PROTOCOLS = ("TCP", "UDP", "SCTP")
RANGE_MESSAGE = "Start port must be less than End port"
EXPERIMENTAL_HINT = ("a field of the experimental channel only; these policies are checked against the standard "
                     "channel (cluster_policy_standard_channel)")

# Fields of the other CRD version, with what to write instead.
PROTOCOL_HINTS = {
    "portNumber": 'v1alpha2 writes a port as {tcp: {destinationPort: {number: N}}} (or udp, sctp)',
    "portRange": 'v1alpha2 writes a range as {tcp: {destinationPort: {range: {start: A, end: B}}}}',
    "namedPort": 'v1alpha2 names a port with "destinationNamedPort"',
    "protocol": 'v1alpha2 picks the protocol with the key: tcp, udp or sctp',
    "port": 'v1alpha2 writes a port as {tcp: {destinationPort: {number: N}}} (or udp, sctp)',
}
PORT_HINTS = {
    "tcp": 'v1alpha1 writes a port as {portNumber: {protocol: TCP, port: N}}',
    "udp": 'v1alpha1 writes a port as {portNumber: {protocol: UDP, port: N}}',
    "sctp": 'v1alpha1 writes a port as {portNumber: {protocol: SCTP, port: N}}',
    "destinationNamedPort": 'v1alpha1 names a port with "namedPort"',
}


def exactly_one(code: str, obj: Mapping[object, object], fields: tuple[str, ...],
                path: FieldPath) -> Iterator[Diagnostic]:
    """``minProperties: 1`` and ``maxProperties: 1`` over the known fields that are set.

    An object that holds only unknown fields has already been reported for them
    (the API server's strict decoding stops there), so it is not also empty.
    """
    count = len(present(obj, fields))
    if count == 0 and any(k not in fields for k in obj):
        return
    yield from count_limits(code, path, count, 1, 1, "properties")


def validate_protocols(value: object, path: FieldPath, max_items: int) -> Iterator[Diagnostic]:
    """A v1alpha2 ``protocols`` list at ``path``."""
    yield from _entries(value, path, max_items, _protocol)


def validate_ports(value: object, path: FieldPath, max_items: int,
                   named_ports: bool) -> Iterator[Diagnostic]:
    """A v1alpha1 ``ports`` list at ``path``; ``named_ports`` when ``namedPort`` is known (experimental)."""
    fields = V1ALPHA1_PORT_FIELDS if named_ports else ("portNumber", "portRange")
    yield from _entries(value, path, max_items, lambda entry, here: _port(entry, here, fields))


_Check = Callable[[Mapping[object, object], FieldPath], Iterator[Diagnostic]]
_OutOfOrder = Callable[[int, int], Diagnostic]


def _entries(value: object, path: FieldPath, max_items: int, check: _Check) -> Iterator[Diagnostic]:
    for entry in objects(LIST_CODE, path, value, 1, max_items):
        if isinstance(entry, Diagnostic):
            yield entry
        else:
            yield from check(entry[1], path + (entry[0],))


def _protocol(entry: Mapping[object, object], path: FieldPath) -> Iterator[Diagnostic]:
    """One v1alpha2 ``protocols`` entry."""
    yield from unknown_fields(entry, PROTOCOL_FIELDS, path, PROTOCOL_HINTS)
    yield from exactly_one(SHAPE_CODE, entry, PROTOCOL_FIELDS, path)
    for field in ("tcp", "udp", "sctp"):
        raw = entry.get(field)
        if raw is None:
            continue
        here = path + (field,)
        body = mapping(here, raw)
        if isinstance(body, Diagnostic):
            yield body
            continue
        yield from unknown_fields(body, ("destinationPort",), here)
        yield from exactly_one(SHAPE_CODE, body, ("destinationPort",), here)
        if body.get("destinationPort") is not None:
            yield from _destination_port(body["destinationPort"], here + ("destinationPort",))
    yield from _named_port(entry.get("destinationNamedPort"), path + ("destinationNamedPort",))


def _destination_port(raw: object, path: FieldPath) -> Iterator[Diagnostic]:
    port = mapping(path, raw)
    if isinstance(port, Diagnostic):
        yield port
        return
    yield from unknown_fields(port, ("number", "range"), path)
    yield from exactly_one(SHAPE_CODE, port, ("number", "range"), path)
    yield from integer(NUMBER_CODE, path + ("number",), port.get("number"), MIN_PORT, MAX_PORT, needed=False)
    if port.get("range") is None:
        return
    here = path + ("range",)
    span = mapping(here, port["range"])
    if isinstance(span, Diagnostic):
        yield span
        return
    yield from unknown_fields(span, ("start", "end"), here)
    yield from _range(span, here, lambda start, end: cel(RANGE_CODE, here, "object", RANGE_MESSAGE))


def _range(span: Mapping[object, object], path: FieldPath, out_of_order: _OutOfOrder) -> Iterator[Diagnostic]:
    """``start`` and ``end`` (required, 1-65535), then ``out_of_order(start, end)`` unless start < end."""
    bad = []
    for field in ("start", "end"):
        found = list(integer(NUMBER_CODE, path + (field,), span.get(field), MIN_PORT, MAX_PORT))
        bad += found
        yield from found
    start, end = span.get("start"), span.get("end")
    if not bad and isinstance(start, int) and isinstance(end, int) and start >= end:
        yield out_of_order(start, end)


def _named_port(raw: object, path: FieldPath) -> Iterator[Diagnostic]:
    if raw is None:
        return
    if (err := check_kind(raw, Kind.STRING, path)) is not None:
        yield err
        return
    assert isinstance(raw, str)
    for msg in port_name_errors(raw):
        yield invalid(NAME_CODE, path, raw, msg)


def _port(entry: Mapping[object, object], path: FieldPath, fields: tuple[str, ...]) -> Iterator[Diagnostic]:
    """One v1alpha1 ``ports`` entry."""
    hints = PORT_HINTS if "namedPort" in fields else {**PORT_HINTS, "namedPort": EXPERIMENTAL_HINT}
    yield from unknown_fields(entry, fields, path, hints)
    yield from exactly_one(SHAPE_CODE, entry, fields, path)
    number = entry.get("portNumber")
    if number is not None:
        here = path + ("portNumber",)
        body = mapping(here, number)
        if isinstance(body, Diagnostic):
            yield body
        else:
            yield from unknown_fields(body, ("protocol", "port"), here)
            yield from _v1alpha1_protocol(body.get("protocol"), here + ("protocol",))
            yield from integer(NUMBER_CODE, here + ("port",), body.get("port"), MIN_PORT, MAX_PORT)
    if "namedPort" in fields:
        yield from _named_port(entry.get("namedPort"), path + ("namedPort",))
    span = entry.get("portRange")
    if span is not None:
        here = path + ("portRange",)
        body = mapping(here, span)
        if isinstance(body, Diagnostic):
            yield body
            return
        yield from unknown_fields(body, ("protocol", "start", "end"), here)
        yield from _v1alpha1_protocol(body.get("protocol"), here + ("protocol",))
        yield from _range(body, here, lambda start, end: invalid(
            RANGE_CODE, here, body, f"start ({start}) must be less than end ({end}); this range matches no port"))


def _v1alpha1_protocol(raw: object, path: FieldPath) -> Iterator[Diagnostic]:
    """The CRD defaults ``protocol`` to TCP and checks nothing else; podfence wants TCP, UDP or SCTP."""
    if raw is None:
        return
    if (err := check_kind(raw, Kind.STRING, path)) is not None:
        yield err
    elif raw not in PROTOCOLS:
        yield unsupported(PROTOCOL_CODE, path, raw, PROTOCOLS)


def has_named_port(rule: Mapping[object, object], field: str, named: str) -> bool:
    """True if a rule's port list (``field``) has an entry that names a port (``named``)."""
    entries = rule.get(field)
    return isinstance(entries, (list, tuple)) and any(
        isinstance(e, Mapping) and e.get(named) is not None for e in entries)

