"""Ports as podfence's own files and flags write them: one syntax, one parser, one wording.

Intent files, test specs and ``generate --port`` read ports with :func:`parse_ports`:

* a number ``8080``, a range ``10000-10099`` (low and high included), a port name
  ``http`` (resolved on the destination pod, where a name can be resolved), or
  ``*`` (every port and protocol);
* optionally followed by ``/TCP``, ``/UDP`` or ``/SCTP`` (any case; without it,
  the default protocol: TCP, or a test spec's ``protocol``);
* several at once as a list, or as one comma-separated string ``"80,443,53/UDP"``.

Problems come back as (field path, message) pairs; the caller turns them into its
own diagnostics.

>>> parse_port("53/udp"), parse_port("8000-8080"), parse_port("http")
(PortSpec(protocol=<Protocol.UDP: 'UDP'>, port=53, end_port=None, every=False), \
PortSpec(protocol=<Protocol.TCP: 'TCP'>, port=8000, end_port=8080, every=False), \
PortSpec(protocol=<Protocol.TCP: 'TCP'>, port='http', end_port=None, every=False))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from podfence.model.diagnostic import FieldPath
from podfence.model.text import quoted
from podfence.sets import MAX_PORT, MIN_PORT, ConnSet, Protocol

PROTOCOL_WORDS = "TCP, UDP or SCTP"
WRONG_TYPE = "a port is a number or a string such as 53/UDP, http or 10000-10099"
Problem = tuple[FieldPath, str]


@dataclass(frozen=True, slots=True)
class PortSpec:
    """One port as written: a number, a range, a name, or ``*`` (``every``)."""

    protocol: Protocol = Protocol.TCP
    port: int | str | None = None
    end_port: int | None = None
    every: bool = False

    def __str__(self) -> str:
        if self.every:
            return "*"
        text = str(self.port) if self.end_port is None else f"{self.port}-{self.end_port}"
        return text if self.protocol is Protocol.TCP else f"{text}/{self.protocol}"

    @property
    def named(self) -> bool:
        return isinstance(self.port, str)

    def conns(self) -> ConnSet:
        """The connections of a numeric port, range or ``*`` (a name needs its destination pod)."""
        if self.every:
            return ConnSet.all()
        assert isinstance(self.port, int), self
        return ConnSet.ports(self.protocol, self.port, self.end_port if self.end_port is not None else self.port)


def parse_protocol(text: Any) -> Protocol | None:
    """``TCP``, ``UDP`` or ``SCTP`` in any case; None for anything else."""
    if not isinstance(text, str):
        return None
    try:
        return Protocol(text.strip().upper())
    except ValueError:
        return None


def _is_number(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also takes digits such as '²' that ``int`` refuses."""
    return text.isascii() and text.isdigit()


def _number(text: str) -> int:
    """The value of ASCII digits; anything longer than a port is past the last port."""
    digits = text.lstrip("0") or "0"
    return int(digits) if len(digits) <= 5 else MAX_PORT + 1


def parse_port(text: str, protocol: Protocol = Protocol.TCP) -> PortSpec | str:
    """One port (see the module docstring); a message if invalid. ``protocol``: the default."""
    text = text.strip()
    if text == "*":
        return PortSpec(every=True)
    body, sep, proto_text = text.partition("/")
    if sep:
        parsed = parse_protocol(proto_text)
        if parsed is None:
            return f"port {quoted(text)}: protocol must be {PROTOCOL_WORDS}"
        protocol = parsed
    body = body.strip()
    lo_text, dash, hi_text = body.partition("-")
    if _is_number(body) or (dash and _is_number(lo_text) and _is_number(hi_text)):
        lo = _number(lo_text)
        hi = _number(hi_text) if dash else None
        if not MIN_PORT <= lo <= MAX_PORT or (hi is not None and not lo <= hi <= MAX_PORT):
            return f"port {quoted(text)}: must be {MIN_PORT}-{MAX_PORT} (a range as LOW-HIGH, LOW <= HIGH)"
        return PortSpec(protocol, lo, hi if hi != lo else None)
    if not body or not all(c.isalnum() or c == "-" for c in body) or not any(c.isalpha() for c in body):
        return f"port {quoted(text)}: expected a number, LOW-HIGH, a port name or *"
    if len(body) > 15 or body != body.lower() or body.startswith("-") or body.endswith("-") or "--" in body:
        return f"port {quoted(text)}: a port name has at most 15 lowercase letters, digits and single dashes"
    return PortSpec(protocol, body)


def port_number(raw: Any) -> int | str:
    """A port number as YAML gives it (an int); a message otherwise."""
    if isinstance(raw, bool) or not isinstance(raw, int):
        return "must be a port number"
    if not MIN_PORT <= raw <= MAX_PORT:
        return f"port {raw}: must be {MIN_PORT}-{MAX_PORT}"
    return raw


def parse_ports(raw: Any, path: FieldPath, protocol: Protocol = Protocol.TCP, *, names: bool = True
                ) -> tuple[tuple[PortSpec, ...], tuple[Problem, ...]]:
    """A list of ports (numbers or strings), or one number or comma-separated string.

    ``protocol`` is the default for ports written without one; ``names=False``
    refuses port names (where no destination pod resolves them).
    """
    items = [(v, path + (i,)) for i, v in enumerate(raw)] if isinstance(raw, list) else [(raw, path)]
    ports: list[PortSpec] = []
    problems: list[Problem] = []
    for value, where in items:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            problems.append((where, WRONG_TYPE))
            continue
        if isinstance(value, int):
            number = port_number(value)
            if isinstance(number, str):
                problems.append((where, number))
                continue
        for part in str(value).split(","):
            parsed = parse_port(part, protocol)
            if isinstance(parsed, str):
                problems.append((where, parsed))
            elif parsed.named and not names:
                problems.append((where, f"port {quoted(part.strip())}: a port name is not allowed here; give the number"))
            elif parsed not in ports:
                ports.append(parsed)
    return tuple(ports), tuple(problems)


__all__ = ["PROTOCOL_WORDS", "PortSpec", "parse_port", "parse_ports", "parse_protocol", "port_number"]
