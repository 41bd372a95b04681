"""Endpoints as podfence's flags and own files write them: one syntax, one parser, one wording.

``--from``/``--to`` of every command, the ``from``/``to`` of test specs and the
peers of intent files name an endpoint as one of:

* ``ns/name``: a pod, or a workload (its pods); ``name`` alone with a default
  namespace (``-n``) where a command allows it;
* ``svc/ns/name`` (or ``service/ns/name``): a Service, that is its backend pods
  at its target ports;
* an IP address: the pod (or Service) that owns it, else the node that owns it,
  else an outside address;
* a CIDR such as ``203.0.113.0/24``: the addresses in it;
* ``ns/*``: every pod of a namespace, in intents and in the ``--from``/``--to``
  filters of ``matrix`` and ``connectivity``;
* in YAML files also a selector mapping or an ``ipBlock`` (see the test spec and
  intent formats).

Ports have their own grammar in :mod:`podfence.model.ports`. :func:`parse_endpoint`
returns a value or a message; :func:`close_names` suggests known names for an
unknown one ("did you mean").

>>> parse_endpoint("svc/shop/web"), parse_endpoint("shop/web")
(ServiceName(namespace='shop', name='web'), PodName(namespace='shop', name='web'))
>>> parse_endpoint("10.0.0.0/8").text, parse_endpoint("10.0.0.7").single
('10.0.0.0/8', True)
>>> parse_endpoint("Shop/web")
"'Shop/web': not a namespace/name (lowercase letters, digits, '-' and, in names, '.')"
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Iterable

from podfence.model.text import quoted
from podfence.sets import IPSet, parse_cidr, parse_ip

ENDPOINT_WORDS = "ns/name, svc/ns/name, an IP address or a CIDR"
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def is_namespace_name(text: str) -> bool:
    """A DNS-1123 label: what a namespace may be called."""
    return _LABEL.fullmatch(text) is not None


def is_object_name(text: str) -> bool:
    """A DNS-1123 subdomain: what a pod or workload may be called."""
    return len(text) <= 253 and all(_LABEL.fullmatch(part) for part in text.split("."))


@dataclass(frozen=True, slots=True)
class PodName:
    """``ns/name``: a pod or a workload."""

    namespace: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class ServiceName:
    """``svc/ns/name``: a Service."""

    namespace: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class AddressName:
    """An IP address (``single``) or a CIDR, with the addresses it holds."""

    text: str
    addresses: IPSet
    single: bool = False


@dataclass(frozen=True, slots=True)
class NamespaceName:
    """``ns/*``: every pod of a namespace (where a command allows it)."""

    namespace: str


EndpointName = PodName | ServiceName | AddressName


def parse_endpoint(text: str, default_namespace: str | None = None, *,
                   wildcard: bool = False) -> EndpointName | NamespaceName | str:
    """One endpoint as written (see the module docstring); a message if it is none.

    ``default_namespace``: the namespace of a bare ``name`` (None: a bare name is refused);
    ``wildcard``: ``ns/*`` is a :class:`NamespaceName` (else it is refused).

    >>> parse_endpoint("shop/*", wildcard=True)
    NamespaceName(namespace='shop')
    """
    text = text.strip()
    ns, _, star = text.partition("/")
    if wildcard and star == "*":
        if not is_namespace_name(ns):
            return f"{quoted(text)}: not a namespace name (lowercase letters, digits and '-')"
        return NamespaceName(ns)
    address = parse_ip(text)
    if address is not None:
        return AddressName(text, IPSet.of_address(address), single=True)
    cidr = parse_cidr(text)
    if cidr is not None:
        return AddressName(str(cidr), IPSet.of_cidr(cidr))
    parts = text.split("/")
    service = len(parts) == 3 and parts[0] in ("svc", "service")
    if service:
        parts = parts[1:]
    if len(parts) == 1 and default_namespace is not None and parts[0]:
        parts = [default_namespace, parts[0]]
    if len(parts) != 2 or not all(parts):
        return f"{quoted(text)}: expected {ENDPOINT_WORDS}"
    if not is_namespace_name(parts[0]) or not is_object_name(parts[1]):
        return f"{quoted(text)}: not a namespace/name (lowercase letters, digits, '-' and, in names, '.')"
    return ServiceName(parts[0], parts[1]) if service else PodName(parts[0], parts[1])


@dataclass(frozen=True, slots=True)
class Chosen:
    """What one side of a ``--from``/``--to`` filter chose: pod keys and outside addresses."""

    pods: frozenset[str] = frozenset()
    addresses: IPSet = IPSet()

    def has(self, end: str) -> bool:
        """True for a chosen pod key, or an address range (a CIDR) that holds a chosen address.

        >>> Chosen(frozenset({"a/x"}), IPSet.of_cidr(parse_cidr("10.0.0.0/8"))).has("10.1.0.0/16")
        True
        """
        if end in self.pods:
            return True
        if not self.addresses:
            return False
        cidr = parse_cidr(end)
        return cidr is not None and bool(IPSet.of_cidr(cidr) & self.addresses)


@dataclass(frozen=True, slots=True)
class Focus:
    """The sources and destinations an answer is narrowed to (None: every one)."""

    src: Chosen | None = None
    dst: Chosen | None = None

    def keeps(self, src: str, dst: str) -> bool:
        """True when the entry from ``src`` to ``dst`` (pod keys or CIDRs) is shown."""
        return (self.src is None or self.src.has(src)) and (self.dst is None or self.dst.has(dst))


def close_names(text: str, known: Iterable[str], limit: int = 3) -> list[str]:
    """Known ``ns/name`` keys close to ``text``: the same name or namespace, or a near spelling.

    >>> close_names("api", ["api/api-server", "api/api-worker", "shop/web"])
    ['api/api-server', 'api/api-worker']
    >>> close_names("shop/wbe", ["api/api-server", "shop/web"])
    ['shop/web']
    """
    keys = sorted(set(known))
    wanted = text.strip().split("/")[-2:]
    name = wanted[-1]
    exact = [k for k in keys if k.split("/")[-1] == name or k.split("/")[0] == name
             or k.split("/")[-1].startswith(name + "-")]
    if exact:
        return exact[:limit]
    near = difflib.get_close_matches("/".join(wanted), keys, n=limit, cutoff=0.8)
    if near:
        return near
    names = {k.split("/")[-1]: k for k in keys}
    return [names[n] for n in difflib.get_close_matches(name, list(names), n=limit, cutoff=0.8)]


def did_you_mean(text: str, known: Iterable[str]) -> str:
    """``; did you mean api/api-server?`` (or ``...: a, b or c?``), or "" when nothing is close."""
    close = close_names(text, known)
    if not close:
        return ""
    if len(close) == 1:
        return f"; did you mean {close[0]}?"
    return f"; did you mean {', '.join(close[:-1])} or {close[-1]}?"


__all__ = [
    "ENDPOINT_WORDS", "AddressName", "Chosen", "EndpointName", "Focus", "NamespaceName", "PodName", "ServiceName",
    "close_names", "did_you_mean", "is_namespace_name", "is_object_name", "parse_endpoint",
]
