"""Assertion files for ``podfence test``: parsed, checked, and turned into values.

An assertion file is a list of expectations::

    tests:
      - name: gateway reaches the API          # optional
        from: gateway/envoy                    # an endpoint (below)
        to: api/server
        port: 8080                             # or ports: [80, "8000-8100", {protocol: UDP, port: 53}]
        protocol: TCP                          # for ports written without one; default TCP
        expect: allow                          # allow, deny or exactly

Endpoints:

* ``ns/name``: a pod or a workload.
* ``svc/ns/name`` (in ``to`` only): a Service, that is the pods behind it, reached
  through it: ports are the Service's ports, each checked at the target port it
  lands on in every backend pod.
* an IP address (the pod that owns it, else an outside address) or a CIDR.
* ``{ipBlock: {cidr: C, except: [C, ...]}}``: outside addresses, as in a policy.
* a selector: ``{namespace: NAME, namespaceSelector: S, podSelector: S, except: [...]}``
  with at least one of the first three. Unlike a policy peer there is no
  "policy namespace": a podSelector alone looks in every namespace. ``except``
  lists pods (``ns/name``) or selectors to leave out.
* a list of the above: their union.

Ports: ``port`` or ``ports``, in podfence's one port syntax
(:mod:`podfence.model.ports`: ``8080``, ``53/UDP``, ``8000-8080``, ``*``, or several
as ``"80,443"``; port names are not allowed, as no destination pod resolves them),
and ``ports`` may also hold ``{protocol, port, endPort}`` entries (an entry with
only a protocol means all its ports). ``protocol`` (TCP, UDP or SCTP, any case) is
the protocol of ports written without one. With neither port field, ``protocol``
alone means every port of that protocol, and no protocol either means everything
(every protocol, and non-L4 traffic such as ICMP).

:func:`parse_spec` checks the parsed YAML purely and returns diagnostics with
field paths (``tests[1].from.namespaceSelector.matchExpressions[0].operator``);
the CLI places them at their file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from enum import StrEnum
from typing import Any, Collection, Mapping

from podfence.model import Diagnostic, LabelSelector, Service, Severity, selector_from_dict
from podfence.model.diagnostic import FieldPath
from podfence.model.own_fields import NAMESPACE_RULE, OwnFields
from podfence.model.endpoints import AddressName, ServiceName, did_you_mean, parse_endpoint
from podfence.model.endpoints import PodName as EndpointPodName
from podfence.model.words import conns_text
from podfence.model.ports import PROTOCOL_WORDS, parse_ports, parse_protocol, port_number
from podfence.sets import ALL_PORTS, ConnSet, IPSet, Protocol, parse_cidr
from podfence.validate import is_dns1123_label, validate_selector

CODE = "T1"
OBJECT = "podfence test"
TEST_FIELDS = ("name", "from", "to", "port", "ports", "protocol", "expect")
SELECTOR_FIELDS = ("namespace", "namespaceSelector", "podSelector", "except")
PORT_FIELDS = ("protocol", "port", "endPort")


class Expect(StrEnum):
    """What must hold for every pair of endpoints an expectation covers."""

    ALLOW = "allow"  # every listed connection is allowed
    DENY = "deny"  # none of the listed connections is allowed
    EXACTLY = "exactly"  # the allowed connections are the listed ones, nothing more or less


@dataclass(frozen=True, slots=True)
class PodName:
    """``ns/name``: one pod or workload; ``field`` is where the spec names it."""

    key: str
    field: FieldPath = dataclass_field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Address:
    """An IP address (which may turn out to be a pod's), a CIDR or an ipBlock."""

    text: str
    addresses: IPSet
    single: bool = False  # one address written as an IP: it names the pod that owns it, if any


@dataclass(frozen=True, slots=True)
class Selector:
    """Pods by namespace name, namespace labels and pod labels, minus ``except_``."""

    namespace: str | None = None
    namespace_selector: LabelSelector | None = None
    pod_selector: LabelSelector | None = None
    except_: tuple[PodName | Selector, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceRef:
    """``svc/ns/name``: the pods behind a Service, on its ports; ``field`` is where the spec names it."""

    key: str
    field: FieldPath = dataclass_field(default=(), compare=False)


Endpoint = PodName | Address | Selector | ServiceRef


@dataclass(frozen=True, slots=True)
class Expectation:
    """One entry of ``tests``: every pair from ``src`` to ``dst`` must meet ``expect`` on ``conns``."""

    index: int
    name: str
    src: tuple[Endpoint, ...]
    dst: tuple[Endpoint, ...]
    conns: ConnSet
    expect: Expect


@dataclass(frozen=True, slots=True)
class Spec:
    tests: tuple[Expectation, ...]


def _err(path: FieldPath, message: str) -> Diagnostic:
    return Diagnostic(CODE, Severity.ERROR, message, path, OBJECT)


def _is_address_only(endpoints: tuple[Endpoint, ...]) -> bool:
    return bool(endpoints) and all(isinstance(e, Address) and not e.single for e in endpoints)


def parse_spec(raw: Any) -> tuple[Spec, list[Diagnostic]]:
    """Turn a parsed assertion file into a :class:`Spec`; problems are errors with field paths."""
    out: list[Diagnostic] = []
    r = OwnFields(CODE, OBJECT, out)
    if not isinstance(raw, Mapping):
        r.error((), "an assertion file is a mapping with a list under 'tests'")
        return Spec(()), out
    r.mapping(raw, (), ("tests",))
    if raw.get("tests") is None:
        r.error(("tests",), "required: a list of expectations")
        return Spec(()), out
    return Spec(r.list_of(raw["tests"], ("tests",), lambda item, path: _test(item, path, r))), out


def _test(raw: Any, path: FieldPath, r: OwnFields) -> Expectation | None:
    out = r.problems
    if not isinstance(raw, Mapping):
        r.error(path, "must be a mapping with from, to and expect")
        return None
    before = len(out)
    r.mapping(raw, path, TEST_FIELDS)
    for key in ("from", "to", "expect"):
        if key not in raw:
            r.error(path + (key,), "required")
    name = r.string(raw.get("name"), path + ("name",))
    src = _endpoints(raw.get("from"), path + ("from",), out, services=False) if "from" in raw else ()
    dst = _endpoints(raw.get("to"), path + ("to",), out, services=True) if "to" in raw else ()
    if _is_address_only(src) and _is_address_only(dst):
        r.error(path + ("to",), "from and to are both addresses: at least one end must be a pod")
    conns = _conns(raw, path, out)
    expect = r.enum(raw.get("expect"), path + ("expect",), tuple(e.value for e in Expect))
    if len(out) > before or expect is None:
        return None
    label = name or f"{describe(raw.get('from'))} -> {describe(raw.get('to'))}"
    index = path[-1] if isinstance(path[-1], int) else 0
    return Expectation(index, label, src, dst, conns, Expect(expect))


def describe(raw: Any) -> str:
    """An endpoint as written, in YAML flow style: the default name of an expectation."""
    if isinstance(raw, Mapping):
        return "{" + ", ".join(f"{k}: {describe(v)}" for k, v in raw.items()) + "}"
    if isinstance(raw, list):
        return "[" + ", ".join(describe(v) for v in raw) + "]"
    return str(raw)


def _endpoints(raw: Any, path: FieldPath, out: list[Diagnostic], *, services: bool) -> tuple[Endpoint, ...]:
    if isinstance(raw, list):
        if not raw:
            out.append(_err(path, "an empty list names no endpoint"))
        found = []
        for j, item in enumerate(raw):
            if isinstance(item, list):
                out.append(_err(path + (j,), "lists do not nest: write one list of endpoints"))
                continue
            e = _endpoint(item, path + (j,), out, services=services)
            if e is not None:
                found.append(e)
        return tuple(found)
    e = _endpoint(raw, path, out, services=services)
    return (e,) if e is not None else ()


def _endpoint(raw: Any, path: FieldPath, out: list[Diagnostic], *, services: bool) -> Endpoint | None:
    if isinstance(raw, str):
        return _named(raw, path, out, addresses=True, services=services)
    if not isinstance(raw, Mapping):
        out.append(_err(path, "must be ns/name, an IP or CIDR, an ipBlock, a selector, or a list of them"))
        return None
    if "ipBlock" in raw:
        return _ip_block(raw, path, out)
    return _selector(raw, path, out, allow_except=True)


def _named(text: str, path: FieldPath, out: list[Diagnostic], *, addresses: bool,
           services: bool = False) -> Endpoint | None:
    text = text.strip()
    parsed = parse_endpoint(text)
    match parsed:
        case AddressName(text=shown, addresses=block, single=single) if addresses:
            return Address(text if single else shown, block, single=single)
        case EndpointPodName(key=key):
            return PodName(key, path)
        case ServiceName(key=key) if services:
            return ServiceRef(key, path)
        case ServiceName():
            why = ("a Service cannot be a source: name its pods (ns/name or a selector); a Service goes under 'to'"
                   if addresses else "except lists pods (ns/name) or selectors, not a Service")
            out.append(_err(path, f"{text!r}: {why}"))
            return None
    what = "ns/name, an IP address or a CIDR" if addresses else "ns/name"
    out.append(_err(path, f"{text!r} is not {what}"))
    return None


def unknown_names(spec: Spec, known: Collection[str]) -> list[Diagnostic]:
    """An error for every ``ns/name`` of ``spec`` that names no pod or workload of ``known``,
    with close names suggested (the caller places them at their lines)."""
    out = []
    for e in spec.tests:
        named = [x for x in (*e.src, *e.dst) if isinstance(x, PodName)]
        named += [ex for x in (*e.src, *e.dst) if isinstance(x, Selector) for ex in x.except_
                  if isinstance(ex, PodName)]
        for name in named:
            if name.key not in known:
                out.append(_err(name.field, f"no pod or workload named {name.key}{did_you_mean(name.key, known)}"))
    return out


def offered(service: Service) -> ConnSet:
    """The ports a Service offers, as connections to its address."""
    out = ConnSet.none()
    for sp in service.ports:
        out = out | ConnSet.ports(sp.protocol, sp.port, sp.port)
    return out


def service_problems(spec: Spec, services: Mapping[str, Service]) -> list[Diagnostic]:
    """An error for every ``svc/ns/name`` of ``spec`` that names no Service of ``services`` (by key,
    with close names suggested), and for ports such a Service does not offer: a test through a
    Service is on the Service's ports (a whole protocol, or no port, means every port it offers)."""
    out = []
    for e in spec.tests:
        for ref in (x for x in e.dst if isinstance(x, ServiceRef)):
            svc = services.get(ref.key)
            if svc is None:
                out.append(_err(ref.field, f"no service named {ref.key}{did_you_mean(ref.key, services)}"))
                continue
            offers = offered(svc)
            shown = ", ".join(f"{p.protocol} {p.port}" + ("" if p.target_port == p.port else f" (to {p.target_port})")
                              for p in svc.ports) or "no ports"
            written = ConnSet.none()  # the ports written as such: a whole protocol means its offered ports
            for proto, ports in e.conns.by_protocol():
                if ports != ALL_PORTS:
                    written = written | ConnSet.of_protocol(proto, ports)
            if not e.conns & offers:
                out.append(_err(ref.field, f"service {ref.key} offers none of the ports asked for (it offers {shown})"))
            elif written - offers:
                out.append(_err(ref.field, f"service {ref.key} does not offer {conns_text(written - offers)} "
                                           f"(it offers {shown}); a test through a Service names its ports"))
    return out


def _ip_block(raw: Mapping[str, Any], path: FieldPath, out: list[Diagnostic]) -> Address | None:
    for key in raw:
        if key != "ipBlock":
            out.append(_err(path + (str(key),), "an ipBlock endpoint has no other fields"))
    block = raw["ipBlock"]
    path = path + ("ipBlock",)
    if not isinstance(block, Mapping):
        out.append(_err(path, "must be a mapping with cidr and optional except"))
        return None
    for key in block:
        if key not in ("cidr", "except"):
            out.append(_err(path + (str(key),), "unknown field (known: cidr, except)"))
    cidr = parse_cidr(block["cidr"]) if isinstance(block.get("cidr"), str) else None
    if cidr is None:
        out.append(_err(path + ("cidr",), "required: a CIDR such as 0.0.0.0/0"))
        return None
    addresses = IPSet.of_cidr(cidr)
    excepts = block.get("except")
    if excepts is None:
        excepts = []
    if not isinstance(excepts, list):
        out.append(_err(path + ("except",), "must be a list of CIDRs"))
        return None
    for k, text in enumerate(excepts):
        ex = parse_cidr(text) if isinstance(text, str) else None
        if ex is None:
            out.append(_err(path + ("except", k), "must be a CIDR"))
            continue
        addresses = addresses - IPSet.of_cidr(ex)
    shown = f"{cidr} except {', '.join(map(str, excepts))}" if excepts else str(cidr)
    return Address(shown, addresses)


def _selector(raw: Mapping[str, Any], path: FieldPath, out: list[Diagnostic], *, allow_except: bool) -> Selector | None:
    before = len(out)
    known = SELECTOR_FIELDS if allow_except else SELECTOR_FIELDS[:3]
    for key in raw:
        if key not in known:
            out.append(_err(path + (str(key),), f"unknown field (known: {', '.join(known)}"
                                                  f"{', ipBlock' if allow_except else ''})"))
    if not any(k in raw for k in SELECTOR_FIELDS[:3]):
        out.append(_err(path, "a selector needs namespace, namespaceSelector or podSelector"))
    namespace = raw.get("namespace")
    if "namespace" in raw and not (isinstance(namespace, str) and is_dns1123_label(namespace)):
        out.append(_err(path + ("namespace",), f"must be a namespace name ({NAMESPACE_RULE})"))
    for key in ("namespaceSelector", "podSelector"):
        if key in raw and raw[key] is None:
            out.append(_err(path + (key,), "must be a label selector ({} selects everything)"))
            continue
        out.extend(d for d in validate_selector(raw.get(key), path + (key,)) if d.is_error)
    excepts: list[PodName | Selector] = []
    raw_except = raw.get("except")
    if raw_except is not None:
        if not isinstance(raw_except, list):
            out.append(_err(path + ("except",), "must be a list of pods (ns/name) or selectors"))
        else:
            for k, item in enumerate(raw_except):
                sub = path + ("except", k)
                if isinstance(item, str):
                    named = _named(item, sub, out, addresses=False)
                    if isinstance(named, PodName):
                        excepts.append(named)
                elif isinstance(item, Mapping):
                    sel = _selector(item, sub, out, allow_except=False)
                    if sel is not None:
                        excepts.append(sel)
                else:
                    out.append(_err(sub, "must be a pod (ns/name) or a selector"))
    if len(out) > before:
        return None
    return Selector(
        namespace,
        selector_from_dict(raw["namespaceSelector"]) if "namespaceSelector" in raw else None,
        selector_from_dict(raw["podSelector"]) if "podSelector" in raw else None,
        tuple(excepts),
    )


def _protocol(raw: Any, path: FieldPath, out: list[Diagnostic]) -> Protocol | None:
    protocol = parse_protocol(raw)
    if protocol is None:
        out.append(_err(path, f"must be {PROTOCOL_WORDS}"))
    return protocol


def _port_number(raw: Any, path: FieldPath, out: list[Diagnostic]) -> int | None:
    number = port_number(raw)
    if isinstance(number, str):
        out.append(_err(path, number))
        return None
    return number


def _span(raw: Any, protocol: Protocol, path: FieldPath, out: list[Diagnostic]) -> ConnSet:
    """Ports in podfence's one port syntax (:mod:`podfence.model.ports`), names aside."""
    ports, problems = parse_ports(raw, path, protocol, names=False)
    out.extend(_err(where, message) for where, message in problems)
    total = ConnSet.none()
    for port in ports:
        total = total | port.conns()
    return total


def _entry(raw: Any, protocol: Protocol, path: FieldPath, out: list[Diagnostic]) -> ConnSet:
    if not isinstance(raw, Mapping):
        return _span(raw, protocol, path, out)
    for key in raw:
        if key not in PORT_FIELDS:
            out.append(_err(path + (str(key),), f"unknown field (known: {', '.join(PORT_FIELDS)})"))
    if "protocol" in raw:
        protocol = _protocol(raw["protocol"], path + ("protocol",), out) or protocol
    if "port" not in raw:
        if "endPort" in raw:
            out.append(_err(path + ("endPort",), "may not be specified when `port` is not specified"))
        return ConnSet.ports(protocol)
    lo = _port_number(raw["port"], path + ("port",), out)
    hi = lo
    if "endPort" in raw:
        hi = _port_number(raw["endPort"], path + ("endPort",), out)
        if lo is not None and hi is not None and hi < lo:
            out.append(_err(path + ("endPort",), "must be greater than or equal to `port`"))
            return ConnSet.none()
    if lo is None or hi is None:
        return ConnSet.none()
    return ConnSet.ports(protocol, lo, hi)


def _conns(raw: Mapping[str, Any], path: FieldPath, out: list[Diagnostic]) -> ConnSet:
    protocol = Protocol.TCP
    if "protocol" in raw:
        protocol = _protocol(raw["protocol"], path + ("protocol",), out) or protocol
    if "port" in raw and "ports" in raw:
        out.append(_err(path + ("ports",), "give port or ports, not both"))
        return ConnSet.none()
    if "port" in raw:
        return _span(raw["port"], protocol, path + ("port",), out)
    if "ports" in raw:
        entries = raw["ports"]
        if not isinstance(entries, list):
            return _entry(entries, protocol, path + ("ports",), out)
        if not entries:
            out.append(_err(path + ("ports",), "names no port: give at least one (or '*' for every port)"))
            return ConnSet.none()
        total = ConnSet.none()
        for j, entry in enumerate(entries):
            total = total | _entry(entry, protocol, path + ("ports", j), out)
        return total
    return ConnSet.ports(protocol) if "protocol" in raw else ConnSet.all()
