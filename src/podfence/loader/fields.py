"""Typed reads of manifest fields that report problems instead of raising.

Kubernetes reads JSON strictly: a string where an integer belongs fails the whole
request. :class:`FieldReader` does the same for the fields the loader reads from
Pods, workloads, Services and Namespaces: each ``as_*`` method returns a usable
value and, when the input has the wrong type or an invalid value, records an
error diagnostic with its field path (the loader then leaves the object out).
``null`` counts as absent, as it does for Kubernetes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podfence.loader import codes
from podfence.model import Diagnostic, FieldPath, Labels
from podfence.sets import IPAddress, Protocol, parse_ip
from podfence.validate.messages import invalid, unsupported
from podfence.validate.messages import required as required_value
from podfence.validate.names import port_name_errors, port_number_errors
from podfence.validate.schema import Kind, string_map, wrong_type

_EMPTY: Mapping[str, Any] = {}
_PROTOCOLS = {p.value: p for p in (Protocol.TCP, Protocol.UDP, Protocol.SCTP)}


class FieldReader:
    """Reads one object's fields; ``problems`` collects what was wrong."""

    __slots__ = ("problems",)

    def __init__(self) -> None:
        self.problems: list[Diagnostic] = []

    @property
    def failed(self) -> bool:
        return any(d.is_error for d in self.problems)

    def add(self, problem: Diagnostic) -> None:
        self.problems.append(problem)

    def wrong_type(self, path: FieldPath, value: object, kind: Kind) -> None:
        self.problems.append(wrong_type(path, value, kind))

    def as_map(self, value: Any, path: FieldPath) -> Mapping[str, Any]:
        """A mapping, or an empty one when absent (or wrong, after an error)."""
        if value is None:
            return _EMPTY
        if isinstance(value, Mapping):
            return value
        self.wrong_type(path, value, Kind.MAPPING)
        return _EMPTY

    def as_list(self, value: Any, path: FieldPath) -> list[Any]:
        """A list, or an empty one when absent (or wrong, after an error)."""
        if value is None:
            return []
        if isinstance(value, list):
            return value
        self.wrong_type(path, value, Kind.LIST)
        return []

    def as_str(self, value: Any, path: FieldPath) -> str | None:
        if value is None or isinstance(value, str):
            return value
        self.wrong_type(path, value, Kind.STRING)
        return None

    def as_bool(self, value: Any, path: FieldPath) -> bool:
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        self.wrong_type(path, value, Kind.BOOLEAN)
        return False

    def as_labels(self, value: Any, path: FieldPath) -> Labels:
        """A string-to-string map such as ``metadata.labels`` or a Service selector."""
        pairs, problems = string_map(value, path)
        self.problems.extend(problems)
        return Labels() if problems else Labels(dict(pairs))

    def as_port(self, value: Any, path: FieldPath, *, required: bool = True) -> int | None:
        """A port number, 1-65535."""
        if value is None:
            if required:
                self.add(required_value(codes.MISSING_FIELD, path, "a port number is required"))
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.wrong_type(path, value, Kind.INTEGER)
            return None
        errors = port_number_errors(value)
        if errors:
            self.add(invalid(codes.INVALID_VALUE, path, value, errors[0]))
            return None
        return value

    def as_port_name(self, value: Any, path: FieldPath) -> str | None:
        """A named port (IANA service name: ``http``, not ``HTTP`` or ``"8080"``); None when absent."""
        name = self.as_str(value, path)
        if not name:
            return None
        for detail in port_name_errors(name):
            self.add(invalid(codes.INVALID_VALUE, path, name, detail))
        return name

    def as_protocol(self, value: Any, path: FieldPath) -> Protocol:
        """``TCP`` (the default), ``UDP`` or ``SCTP``, case-sensitive as in the API."""
        if value is None:
            return Protocol.TCP
        if not isinstance(value, str):
            self.wrong_type(path, value, Kind.STRING)
            return Protocol.TCP
        protocol = _PROTOCOLS.get(value)
        if protocol is None:
            self.add(unsupported(codes.INVALID_VALUE, path, value, _PROTOCOLS))
            return Protocol.TCP
        return protocol

    def as_ip(self, value: Any, path: FieldPath) -> IPAddress | None:
        """An IP address (``None`` when absent)."""
        text = self.as_str(value, path)
        if not text:
            return None
        address = parse_ip(text)
        if address is None:
            self.add(invalid(codes.INVALID_VALUE, path, text, "must be a valid IP address"))
        return address

    def as_ips(self, single: Any, single_path: FieldPath, many: Any, many_path: FieldPath) -> tuple[IPAddress, ...]:
        """``podIP`` + ``podIPs`` (or ``hostIP`` + ``hostIPs``), first seen first, without repeats."""
        found: list[IPAddress] = []
        first = self.as_ip(single, single_path)
        if first is not None:
            found.append(first)
        for i, entry in enumerate(self.as_list(many, many_path)):
            entry_path = many_path + (i,)
            address = self.as_ip(self.as_map(entry, entry_path).get("ip"), entry_path + ("ip",))
            if address is not None and address not in found:
                found.append(address)
        return tuple(found)
