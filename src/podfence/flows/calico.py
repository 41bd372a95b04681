"""Calico flow logs: one JSON object per line (``flows.log``, or exported from Elasticsearch).

Fields read: ``source_*`` and ``dest_*`` (``namespace``, ``name``, ``name_aggr``,
``ip``, ``type``, ``labels``), ``dest_port``, ``proto``, ``action``, ``reporter``
and ``num_flows``. Calico writes ``-`` for a value it does not have (an address
in an aggregated log, a namespace of an external network). Endpoint types:
``wep`` a pod, ``hep`` a host, ``ns`` a network set, ``net`` another network
(``name_aggr`` ``pub`` or ``pvt``).
"""

from __future__ import annotations

from typing import Any, Mapping

from podfence.flows.records import EndKind, FlowEnd, FlowRecord, Outcome, Skip
from podfence.model import Labels
from podfence.sets import parse_ip

PROTOCOLS = {"6": "TCP", "17": "UDP", "132": "SCTP", "1": "ICMP", "58": "ICMPv6",
             "tcp": "TCP", "udp": "UDP", "sctp": "SCTP", "icmp": "ICMP", "icmp6": "ICMPv6", "icmpv6": "ICMPv6"}


def looks_like(obj: Mapping[str, Any]) -> bool:
    return "source_namespace" in obj or "dest_port" in obj or "dest_namespace" in obj


def _value(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None or value == "-" or value == "":
        return None
    return str(value)


def labels_of(raw: Any) -> Labels | None:
    """``["app=web", ...]``, ``{"labels": [...]}``, ``{"app": "web"}`` or ``"[app=web,tier=fe]"``."""
    if raw is None or raw == "-":
        return None
    if isinstance(raw, Mapping):
        if isinstance(raw.get("labels"), list):
            raw = raw["labels"]
        else:
            return Labels({str(k): str(v) for k, v in raw.items()})
    if isinstance(raw, str):
        raw = [p for p in raw.strip().strip("[]").split(",") if p.strip()]
    if not isinstance(raw, list):
        return None
    out = {}
    for item in raw:
        key, sep, value = str(item).strip().partition("=")
        if sep:
            out[key] = value
    return Labels(out)


def _end(raw: Mapping[str, Any], prefix: str) -> FlowEnd:
    kind = _value(raw, f"{prefix}_type")
    address = parse_ip(_value(raw, f"{prefix}_ip") or "")
    if kind == "wep":
        name = _value(raw, f"{prefix}_name") or _value(raw, f"{prefix}_name_aggr")
        return FlowEnd(EndKind.POD, _value(raw, f"{prefix}_namespace"), name,
                       labels_of(raw.get(f"{prefix}_labels")), None, address)
    if kind == "hep":
        return FlowEnd(EndKind.NODE, address=address, detail=f"host {_value(raw, f'{prefix}_name_aggr') or ''}".strip())
    aggr = _value(raw, f"{prefix}_name_aggr")
    if kind == "ns":
        return FlowEnd(EndKind.OTHER, address=address, detail=f"network set {aggr or ''}".strip())
    detail = {"pub": "public network", "pvt": "private network"}.get(aggr or "", "network")
    return FlowEnd(EndKind.WORLD, address=address, detail=detail)


def parse(obj: Any) -> FlowRecord | Skip:
    """One Calico flow log entry as a flow record (``num_flows`` connections)."""
    if not isinstance(obj, Mapping):
        return Skip("not a JSON object", problem=True)
    proto_raw = _value(obj, "proto")
    protocol = PROTOCOLS.get((proto_raw or "").lower(), proto_raw or "")
    if not protocol:
        return Skip("no protocol (proto)", problem=True)
    port_raw = obj.get("dest_port")
    port = None
    if isinstance(port_raw, int) and not isinstance(port_raw, bool):
        port = port_raw
    elif isinstance(port_raw, str) and port_raw.isdigit():
        port = int(port_raw)
    action = (_value(obj, "action") or "").lower()
    count = obj.get("num_flows")
    return FlowRecord(
        _end(obj, "source"), _end(obj, "dest"), protocol, port,
        Outcome.DENIED if action == "deny" else Outcome.ALLOWED, False, "calico",
        count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 1,
    )
