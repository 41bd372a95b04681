"""The intent file: what each service needs, in a few lines a team can review.

Example::

    defaults: {deny: [ingress, egress], dns: allow}
    services:
      gateway/envoy:  {ingress_from: [internet], talks_to: ["api/server:8080"]}
      api/server:     {talks_to: ["billing/ledger:9090", "data/postgres:5432"]}
      notify/mailer:  {egress: ["0.0.0.0/0:587", "0.0.0.0/0:465"]}

:func:`intent_from_dict` reads the parsed YAML into an :class:`Intent` and returns
every problem as a diagnostic with a field path (code ``I1``); whether the named
workloads and ports exist is checked later, against the cluster
(:mod:`podfence.generate.resolve`). :func:`intent_to_dict` writes an intent back in
the same short format.

Entries:

* ``talks_to``: ``ns/workload[:PORTS]`` (or ``svc/ns/name``, or ``ns/*`` for every
  workload of a namespace that listens on the port), or a mapping
  ``{to: ..., ports: [...], undeclared: true}``.
* ``egress``: ``CIDR:PORTS`` or ``internet:PORTS``, or a mapping
  ``{cidr: ..., except: [...], ports: [...]}``.
* ``ingress_from``: a workload, ``internet`` or a CIDR, optionally ``:PORTS`` (the
  ports of the service itself), or a mapping ``{from: ..., except: [...], ports: [...]}``.

``PORTS`` is a comma-separated list of ports in podfence's one port syntax
(:mod:`podfence.model.ports`): ``8080``, ``53/UDP``, ``10000-10099``, a port name
(``http``, ``dns/UDP``) or ``*`` (every port and protocol).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from podfence.model import Diagnostic, Direction, FieldPath, Severity
from podfence.model.own_fields import NAMESPACE_NAME, OwnFields
from podfence.model.ports import PortSpec
from podfence.model.ports import parse_ports as parse_model_ports
from podfence.model.text import quoted
from podfence.sets import parse_cidr, parse_ip
from podfence.validate import is_dns1123_label, is_dns1123_subdomain, is_strict_subset

SHAPE = "I1"
GUARDRAILS = ("baseline-default-deny", "protect-kube-system")
OBJECT = "intents"
INTERNET = "internet"
DNS_CHOICES = ("allow", "deny")


@dataclass(frozen=True, slots=True)
class WorkloadRef:
    """``ns/name`` (a workload, else a Service), ``svc/ns/name`` or ``ns/*``."""

    namespace: str
    name: str
    service: bool = False

    @property
    def wildcard(self) -> bool:
        return self.name == "*"

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def __str__(self) -> str:
        return f"svc/{self.key}" if self.service else self.key


@dataclass(frozen=True, slots=True)
class AddressRef:
    """``internet`` (``cidr`` None) or a CIDR, minus ``except_``."""

    cidr: str | None = None
    except_: tuple[str, ...] = ()

    def __str__(self) -> str:
        head = self.cidr or INTERNET
        return f"{head} except {', '.join(self.except_)}" if self.except_ else head


Peer = WorkloadRef | AddressRef


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of intent: a peer and the ports, where it was written, and how."""

    peer: Peer
    ports: tuple[PortSpec, ...] = ()
    undeclared: bool = False
    path: FieldPath = ()

    def text(self) -> str:
        ports = ",".join(str(p) for p in self.ports)
        return f"{self.peer}:{ports}" if ports else str(self.peer)


@dataclass(frozen=True, slots=True)
class ServiceIntent:
    """What one workload needs: who reaches it, whom it reaches, which addresses."""

    workload: WorkloadRef
    ingress_from: tuple[Entry, ...] = ()
    talks_to: tuple[Entry, ...] = ()
    egress: tuple[Entry, ...] = ()
    path: FieldPath = ()


@dataclass(frozen=True, slots=True)
class Intent:
    """A whole intent file.

    ``exclude`` lists namespaces whose policies the file does not write; None means
    the default, the cluster DNS namespace.
    """

    deny: frozenset[Direction] = frozenset({Direction.INGRESS, Direction.EGRESS})
    dns: bool = True
    exclude: tuple[str, ...] | None = None
    services: tuple[ServiceIntent, ...] = ()
    guardrails: tuple[str, ...] = ()  # cluster-wide guardrails asked for (GUARDRAILS), in the order written


def _err(path: FieldPath, message: str) -> Diagnostic:
    return Diagnostic(SHAPE, Severity.ERROR, message, path, OBJECT)


def parse_ports(raw: Any, path: FieldPath, out: list[Diagnostic]) -> tuple[PortSpec, ...]:
    """Ports in the one syntax of :mod:`podfence.model.ports`; problems are I1 errors."""
    ports, problems = parse_model_ports(raw, path)
    out.extend(_err(where, message) for where, message in problems)
    return ports


def parse_workload(text: str, *, allow_service: bool = True, allow_wildcard: bool = True) -> WorkloadRef | str:
    """``ns/name``, ``svc/ns/name`` or ``ns/*``; a message if it is none of them."""
    parts = text.strip().split("/")
    service = len(parts) == 3 and parts[0] in ("svc", "service")
    if service:
        parts = parts[1:]
    if len(parts) != 2 or not all(parts):
        return f"{quoted(text)}: name a workload as namespace/name"
    if not is_dns1123_label(parts[0]) or not (parts[1] == "*" or is_dns1123_subdomain(parts[1])):
        return f"{quoted(text)}: not a namespace/name (lowercase letters, digits, '-' and, in names, '.')"
    ref = WorkloadRef(parts[0], parts[1], service)
    if service and not allow_service:
        return f"{quoted(text)}: a Service cannot be named here; name the workload behind it"
    if ref.wildcard and (not allow_wildcard or service):
        return f"{quoted(text)}: a wildcard is not allowed here; name one workload"
    return ref


def address_ref(text: str, except_: tuple[str, ...], path: FieldPath, out: list[Diagnostic]) -> AddressRef | None:
    if text.strip().lower() == INTERNET:
        cidr = None
    else:
        parsed = parse_cidr(text.strip())
        if parsed is None:
            out.append(_err(path, f"{quoted(text)}: expected a CIDR such as 203.0.113.0/24, or internet"))
            return None
        cidr = text.strip()
    ok = True
    for i, ex in enumerate(except_):
        bases = [parse_cidr(b) for b in (("0.0.0.0/0", "::/0") if cidr is None else (cidr,))]
        parsed_ex = parse_cidr(ex)
        if parsed_ex is None or not any(b is not None and is_strict_subset(parsed_ex, b) for b in bases):
            out.append(_err(path[:-1] + ("except", i) if path and path[-1] in ("cidr", "from") else path,
                            f"except {ex!r}: must be a CIDR strictly inside {text.strip()}"))
            ok = False
    return AddressRef(cidr, except_) if ok else None


def _split_port_suffix(text: str) -> tuple[str, str | None]:
    """``peer:ports`` -> (peer, ports); an IPv6 CIDR keeps its colons.

    >>> _split_port_suffix("api/server:8080"), _split_port_suffix("2001:db8::/32:443/UDP")
    (('api/server', '8080'), ('2001:db8::/32', '443/UDP'))
    """
    slash = text.find("/")
    ipv6 = slash >= 0 and ":" in text[:slash] and parse_ip(text[:slash].strip()) is not None
    start = slash if ipv6 else 0
    colon = text.find(":", start)
    if colon < 0:
        return text, None
    return text[:colon], text[colon + 1:]


def _string_entry(text: str, kind: str, path: FieldPath, out: list[Diagnostic]) -> Entry | None:
    peer_text, ports_text = _split_port_suffix(text.strip())
    ports = parse_ports(ports_text, path, out) if ports_text is not None else ()
    if ports_text is not None and not ports:
        return None
    return _entry(peer_text, (), ports, False, kind, path, out)


def _entry(peer_text: str, except_: tuple[str, ...], ports: tuple[PortSpec, ...], undeclared: bool, kind: str,
           path: FieldPath, out: list[Diagnostic], ports_path: FieldPath | None = None) -> Entry | None:
    is_address = peer_text.strip().lower() == INTERNET or parse_cidr(peer_text.strip()) is not None or (
        peer_text[:1].isdigit() and "/" in peer_text)
    if kind == "talks_to" and is_address:
        out.append(_err(path, f"{peer_text!r}: addresses go under egress; talks_to names workloads"))
        return None
    if kind == "egress" and not is_address:
        out.append(_err(path, f"{peer_text!r}: egress names addresses (a CIDR or internet); "
                              "workloads go under talks_to"))
        return None
    if is_address:
        if kind == "egress" and not ports:
            out.append(_err(path, f"{peer_text!r}: give the ports, e.g. {peer_text}:443 (or :* for every port)"))
            return None
        if kind == "egress" and any(isinstance(p.port, str) for p in ports):
            out.append(_err(path if ports_path is None else ports_path,
                            "a named port matches pods only; use numbers for addresses"))
            return None
        peer: Peer | None = address_ref(peer_text, except_, path, out)
    else:
        if except_:
            out.append(_err(path, "except applies to addresses only"))
            return None
        parsed = parse_workload(peer_text, allow_service=kind == "talks_to")
        if isinstance(parsed, str):
            out.append(_err(path, parsed))
            return None
        peer = parsed
    return Entry(peer, ports, undeclared, path) if peer is not None else None


_MAPPING_KEYS = {
    "talks_to": ({"to", "ports", "undeclared"}, "to"),
    "egress": ({"cidr", "except", "ports"}, "cidr"),
    "ingress_from": ({"from", "except", "ports", "undeclared"}, "from"),
}


def _mapping_entry(raw: Mapping[str, Any], kind: str, path: FieldPath, out: list[Diagnostic]) -> Entry | None:
    allowed, peer_key = _MAPPING_KEYS[kind]
    r = OwnFields(SHAPE, OBJECT, out)
    before = len(out)
    r.mapping(raw, path, sorted(allowed))
    bad = len(out) > before
    peer_text = raw.get(peer_key)
    if not isinstance(peer_text, str):
        r.error(path + (peer_key,), "required: a string")
        return None
    before = len(out)
    except_ = r.list_of(raw.get("except"), path + ("except",), r.string)
    if len(out) > before:
        return None
    if "ports" in raw and raw["ports"] == []:
        r.error(path + ("ports",), "names no port: give at least one (or '*' for every port)")
        return None
    ports = parse_ports(raw["ports"], path + ("ports",), out) if "ports" in raw else ()
    before = len(out)
    undeclared = r.boolean(raw.get("undeclared"), path + ("undeclared",), False)
    if bad or len(out) > before or ("ports" in raw and not ports):
        return None
    where = path + (peer_key,)
    entry = _entry(peer_text, tuple(except_), ports, undeclared, kind, where, out, path + ("ports",))
    return Entry(entry.peer, entry.ports, entry.undeclared, path) if entry else None


def _entries(raw: Any, kind: str, path: FieldPath, out: list[Diagnostic]) -> tuple[Entry, ...]:
    def entry(item: Any, where: FieldPath) -> Entry | None:
        if isinstance(item, str):
            return _string_entry(item, kind, where, out)
        if isinstance(item, Mapping):
            return _mapping_entry(item, kind, where, out)
        out.append(_err(where, "must be a string or a mapping"))
        return None

    return OwnFields(SHAPE, OBJECT, out).list_of(raw, path, entry)


def _defaults(raw: Any, out: list[Diagnostic]) -> tuple[frozenset[Direction], bool, tuple[str, ...] | None]:
    r = OwnFields(SHAPE, OBJECT, out)
    body = r.mapping(raw, ("defaults",), ("deny", "dns", "exclude"))
    deny = frozenset({Direction.INGRESS, Direction.EGRESS})
    if body.get("deny") is not None:
        before = len(out)
        named = r.list_of(body["deny"], ("defaults", "deny"), lambda v, p: r.enum(v, p, ("ingress", "egress")))
        if not named and len(out) == before:
            r.error(("defaults", "deny"), "must list ingress, egress or both")
        elif len(out) == before:
            deny = frozenset(Direction(v) for v in named)
    dns = True
    value = body.get("dns")
    if isinstance(value, bool):
        dns = value
    elif value is not None:
        dns = r.enum(value, ("defaults", "dns"), DNS_CHOICES, "allow") == "allow"
    exclude = None
    if "exclude" in body:  # null here means: exclude nothing (absent: the DNS namespace)
        exclude = r.list_of(body["exclude"], ("defaults", "exclude"),
                            lambda v, p: r.checked(v, p, is_dns1123_label, NAMESPACE_NAME))
    return deny, dns, exclude


def intent_from_dict(raw: Any) -> tuple[Intent, list[Diagnostic]]:
    """Read a parsed intent file; every problem is a diagnostic with a field path."""
    out: list[Diagnostic] = []
    if raw is None:
        out.append(_err((), "the intent file is empty: expected defaults and services"))
        return Intent(), out
    r = OwnFields(SHAPE, OBJECT, out)
    top = r.mapping(raw, (), ("defaults", "services", "guardrails"), "a mapping with defaults and services")
    if not isinstance(raw, Mapping):
        return Intent(), out
    deny, dns, exclude = _defaults(top.get("defaults"), out)
    services_raw = top.get("services")
    services: list[ServiceIntent] = []
    if services_raw is None:
        r.error(("services",), "required: a mapping of ns/workload to what it needs")
    for key, body in r.mapping(services_raw, ("services",), None,
                               "a mapping of ns/workload to what it needs").items():
        path: FieldPath = ("services", str(key))
        ref = parse_workload(str(key), allow_service=False, allow_wildcard=False)
        if isinstance(ref, str):
            r.error(path, ref)
            continue
        if body is not None and not isinstance(body, Mapping):
            r.error(path, "must be a mapping with ingress_from, talks_to and egress")
            continue
        body = r.mapping(body, path, sorted(_MAPPING_KEYS))
        services.append(ServiceIntent(
            ref,
            _entries(body.get("ingress_from"), "ingress_from", path + ("ingress_from",), out),
            _entries(body.get("talks_to"), "talks_to", path + ("talks_to",), out),
            _entries(body.get("egress"), "egress", path + ("egress",), out),
            path,
        ))
    return Intent(deny, dns, exclude, tuple(services), _guardrails(top.get("guardrails"), r)), out


def _guardrails(raw: Any, r: OwnFields) -> tuple[str, ...]:
    """``guardrails: [baseline-default-deny, protect-kube-system]``: cluster-wide policies to write too."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        r.error(("guardrails",), f"must be a list of {' and '.join(GUARDRAILS)}")
        return ()
    out: list[str] = []
    for i, name in enumerate(raw):
        if name not in GUARDRAILS:
            r.error(("guardrails", i), f"{quoted(str(name))} is no guardrail: choose from {', '.join(GUARDRAILS)}")
        elif name not in out:
            out.append(name)
    return tuple(out)


def _entry_out(entry: Entry, kind: str) -> Any:
    """An entry in its shortest written form."""
    peer = entry.peer
    if isinstance(peer, AddressRef) and peer.except_:
        key = "cidr" if kind == "egress" else "from"
        return {key: peer.cidr or INTERNET, "except": list(peer.except_),
                "ports": [str(p) for p in entry.ports]} if entry.ports else {key: peer.cidr or INTERNET,
                                                                             "except": list(peer.except_)}
    if entry.undeclared:
        key = "to" if kind == "talks_to" else "from"
        return {key: str(peer), "ports": [_port_value(p) for p in entry.ports], "undeclared": True}
    return entry.text()


def _port_value(port: PortSpec) -> int | str:
    text = str(port)
    return int(text) if text.isdigit() else text


def intent_to_dict(intent: Intent) -> dict[str, Any]:
    """The intent in the file format :func:`intent_from_dict` reads."""
    defaults: dict[str, Any] = {
        "deny": [d.value for d in (Direction.INGRESS, Direction.EGRESS) if d in intent.deny],
        "dns": "allow" if intent.dns else "deny",
    }
    if intent.exclude is not None:
        defaults["exclude"] = list(intent.exclude)
    services: dict[str, Any] = {}
    for svc in intent.services:
        body: dict[str, Any] = {}
        for kind in ("ingress_from", "talks_to", "egress"):
            entries = getattr(svc, kind)
            if entries:
                body[kind] = [_entry_out(e, kind) for e in entries]
        services[svc.workload.key] = body
    if intent.guardrails:
        return {"defaults": defaults, "services": services, "guardrails": list(intent.guardrails)}  # type: ignore[dict-item]
    return {"defaults": defaults, "services": services}
