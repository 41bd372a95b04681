"""How podfence puts connections and lists into words, everywhere it prints them.

Lint messages, audit, diff, test, generate and connectivity output all read these,
so the same set of connections or the same long list reads the same way in every
command. (They live in the model, below both the features that build messages
and ``render/``, which re-exports them.)

>>> from podfence.sets import Protocol
>>> conns_text(ConnSet.all()), conns_text(ConnSet.ports(Protocol.TCP, 80, 81) | ConnSet.ports(Protocol.UDP, 53))
('All', 'TCP 80-81, UDP 53')
>>> shortened(["a/x", "a/y", "a/z", "b/w"], 2)
'a/x, a/y and 2 more'
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Iterable, Sequence

from podfence.sets import ConnSet, IntervalSet, IPSet, parse_cidr

if TYPE_CHECKING:
    from podfence.model.objects import Pod

ALL_WORD = "All"


def ports_text(ports: IntervalSet) -> str:
    """``80-81,443`` (every port reads as ``all ports``)."""
    if ports.intervals == ((1, 65535),):
        return "all ports"
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ports)


def conns_text(conns: ConnSet) -> str:
    """``All`` (every protocol and port, non-L4 included), ``TCP 80-81,443, UDP 53``,
    ``TCP all ports``, ``..., other protocols`` or ``nothing``."""
    if conns.is_all():
        return ALL_WORD
    if conns.is_empty():
        return "nothing"
    parts = [f"{proto} {ports_text(ports)}" for proto, ports in conns.by_protocol()]
    if conns.other:
        parts.append("other protocols")
    return ", ".join(parts)


def shortened(items: Sequence[str], limit: int, what: str = "") -> str:
    """``a, b, c`` or, past ``limit`` items, ``a, b and 3 more`` (``and 3 more ranges`` with ``what``)."""
    if len(items) <= limit:
        return ", ".join(items)
    rest = f"{len(items) - limit} more" + (f" {what}" if what else "")
    return f"{', '.join(items[:limit])} and {rest}"


def addresses_words(block: IPSet) -> str:
    """An address set, per family, as its CIDRs or ``0.0.0.0/0 except ...``, whichever lists fewer.

    >>> addresses_words(IPSet.all_of(4) - IPSet.of_cidrs([parse_cidr("10.0.0.0/8"), parse_cidr("192.168.0.0/16")]))
    '0.0.0.0/0 except 10.0.0.0/8, 192.168.0.0/16'
    """
    parts = []
    for version in (4, 6):
        fam = block.family(version)
        if not fam:
            continue
        universe = IPSet.all_of(version)
        mine = IPSet(v4=fam) if version == 4 else IPSet(v6=fam)
        holes = (universe - mine).cidrs()
        listed = mine.cidrs()
        if len(listed) > 2 and len(holes) < len(listed):
            parts.append(f"{universe.cidrs()[0]} except {', '.join(holes)}")
        else:
            parts.append(", ".join(listed))
    return ", ".join(parts)


def address_order(text: str) -> tuple[int, int, int, str]:
    """A sort key that puts pod names first, then addresses in numeric order (IPv4 before IPv6).

    >>> sorted(["9.0.0.0/8", "10.0.0.0/8", "shop/web"], key=address_order)
    ['shop/web', '9.0.0.0/8', '10.0.0.0/8']
    """
    parsed = parse_cidr(text.split(" ", 1)[0].rstrip(","))
    if parsed is None:
        return (0, 0, 0, text)
    return (1, parsed.version, parsed.network, text)


def plural(count: int, word: str, many: str = "") -> str:
    """``1 pod``, ``2 pods`` (``many`` for irregular plurals)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def pod_names(pods: Iterable[Pod]) -> list[str]:
    """Pod keys, sorted, with the replicas of one workload grouped under it.

    Two or more pods of the same workload read as ``shop/web (Deployment, 2 pods)``;
    a lone pod, or one without a workload, reads as its key.

    >>> from podfence.model.objects import Pod
    >>> pods = [Pod("shop", "web-1", workload=("Deployment", "web")), Pod("shop", "web-2", workload=("Deployment", "web")),
    ...         Pod("shop", "db")]
    >>> pod_names(pods)
    ['shop/db', 'shop/web (Deployment, 2 pods)']
    """
    groups: defaultdict[tuple[str, str, str], list[str]] = defaultdict(list)
    names: list[str] = []
    for pod in pods:
        if pod.workload is None:
            names.append(pod.key)
        else:
            groups[(pod.namespace, *pod.workload)].append(pod.key)
    for (namespace, kind, name), keys in groups.items():
        names.extend(keys if len(keys) == 1 else [f"{namespace}/{name} ({kind}, {plural(len(keys), 'pod')})"])
    return sorted(names)


__all__ = ["ALL_WORD", "address_order", "addresses_words", "conns_text", "plural", "pod_names", "ports_text", "shortened"]
