"""Hubble flows: one object per line of ``hubble observe -o json`` (or ``-o jsonpb``).

Each line is ``{"flow": {...}, "node_name": ..., "time": ...}``; older Hubble
versions print the flow object itself. The lab's denial stream has the same
shape. The fields read: ``verdict``, ``IP.source``/``IP.destination``, ``l4``
(``TCP``/``UDP``/``SCTP`` with ``destination_port``, TCP ``flags``; ``ICMPv4``,
``ICMPv6``), ``is_reply``, and per end ``namespace``, ``pod_name``, ``labels``
(``k8s:key=value`` and ``reserved:...``) and ``workloads``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podfence.flows.records import EndKind, FlowEnd, FlowRecord, Outcome, Skip
from podfence.model import Labels
from podfence.sets import parse_ip

DENIED_VERDICTS = frozenset({"DROPPED", "ERROR"})
OTHER_ENVELOPES = ("node_status", "lost_events", "debug_event", "agent_event")
# Labels Cilium adds from the namespace and service account, not the pod's own.
NOT_POD_LABELS = ("io.kubernetes.pod.namespace", "io.cilium.")
RESERVED = {
    "reserved:world": EndKind.WORLD,
    "reserved:host": EndKind.HOST,
    "reserved:remote-node": EndKind.NODE,
}


def looks_like(obj: Mapping[str, Any]) -> bool:
    return "flow" in obj or any(k in obj for k in OTHER_ENVELOPES) or ("IP" in obj and "l4" in obj)


def _end(raw: Any, address_text: Any) -> FlowEnd:
    raw = raw if isinstance(raw, Mapping) else {}
    address = parse_ip(address_text) if isinstance(address_text, str) else None
    labels: dict[str, str] = {}
    reserved: list[str] = []
    for item in raw.get("labels") or ():
        if not isinstance(item, str):
            continue
        source, _, body = item.partition(":")
        if source == "reserved":
            reserved.append(item)
        elif source in ("k8s", "container", "any") and body:
            key, _, value = body.partition("=")
            if not any(key == p or key.startswith(p) for p in NOT_POD_LABELS):
                labels[key] = value
    namespace = raw.get("namespace") if isinstance(raw.get("namespace"), str) and raw.get("namespace") else None
    workloads = raw.get("workloads")
    workload = None
    if isinstance(workloads, list) and workloads and isinstance(workloads[0], Mapping):
        name = workloads[0].get("name")
        workload = name if isinstance(name, str) and name else None
    pod_name = raw.get("pod_name") if isinstance(raw.get("pod_name"), str) and raw.get("pod_name") else None
    if namespace is not None and "reserved:host" not in reserved:
        return FlowEnd(EndKind.POD, namespace, pod_name, Labels(labels), workload, address)
    for label in reserved:
        if label in RESERVED:
            return FlowEnd(RESERVED[label], address=address, detail=label)
    if reserved:
        return FlowEnd(EndKind.OTHER, address=address, detail=reserved[0])
    return FlowEnd(EndKind.WORLD, address=address, detail="address")


def _l4(raw: Any) -> tuple[str, int | None, dict[str, bool]]:
    if not isinstance(raw, Mapping) or not raw:
        return "", None, {}
    name, body = next(iter(raw.items()))
    body = body if isinstance(body, Mapping) else {}
    port = body.get("destination_port")
    flags = body.get("flags") if isinstance(body.get("flags"), Mapping) else {}
    return str(name), port if isinstance(port, int) and not isinstance(port, bool) else None, dict(flags)


def _end_key(raw: Any) -> tuple[Any, ...] | None:
    if type(raw) is not dict:
        return () if raw is None else None
    labels = raw.get("labels")
    workloads = raw.get("workloads")
    workload = None
    if type(workloads) is list and workloads and type(workloads[0]) is dict:
        workload = workloads[0].get("name")
    elif workloads:
        return None
    return (raw.get("namespace"), raw.get("pod_name"), tuple(labels) if type(labels) is list else labels, workload)


def read_end(raw: Any, address_text: Any = None) -> FlowEnd:
    """One end (``source`` or ``destination``) of a flow as :func:`parse` reads it."""
    return _end(raw, address_text)


def end_key(raw: Any) -> tuple[Any, ...] | None:
    """Everything :func:`read_end` reads of an end but its address, as a hashable value (None: cannot tell)."""
    key = _end_key(raw)
    if key is None:
        return None
    try:
        hash(key)
    except TypeError:
        return None
    return key


def record_key(obj: Any) -> tuple[Any, ...] | None:
    """Everything :func:`parse` reads of ``obj``, as a hashable value; None when that cannot be told cheaply.

    Records with equal keys parse to equal records, so a reader of many lines
    parses each distinct key once (the time, node and identity fields differ
    between lines but are not read). Only plain JSON values (dicts and lists)
    are keyed.
    """
    if type(obj) is not dict:
        return None
    flow = obj.get("flow")
    if type(flow) is not dict:
        return None
    ip = flow.get("IP")
    l4 = flow.get("l4")
    if type(ip) is not dict or type(l4) is not dict or len(l4) != 1:
        return None
    ((protocol, body),) = l4.items()
    if type(body) is not dict:
        return None
    flags = body.get("flags")
    if flags is not None and type(flags) is not dict:
        return None
    source, destination = _end_key(flow.get("source")), _end_key(flow.get("destination"))
    if source is None or destination is None:
        return None
    # Types are part of the key where parse tells them apart (1, 1.0 and True are equal in Python).
    port, reply, verdict = body.get("destination_port"), flow.get("is_reply"), flow.get("verdict")
    src_ip, dst_ip = ip.get("source"), ip.get("destination")
    key = (type(verdict), verdict, type(src_ip), src_ip, type(dst_ip), dst_ip, protocol, type(port), port,
           tuple(flags.items()) if flags else None, type(reply), reply, source, destination)
    try:
        hash(key)
    except TypeError:  # a list or mapping where a value belongs: parse it on its own
        return None
    return key


def _end_memo(raw: Any, address_text: Any, ends: dict[Any, FlowEnd] | None) -> FlowEnd:
    """:func:`_end`, remembered in ``ends`` by everything it reads (flows repeat their ends)."""
    if ends is None:
        return _end(raw, address_text)
    shape = _end_key(raw)
    if shape is None:
        return _end(raw, address_text)
    key = (shape, type(address_text), address_text)
    try:
        found = ends.get(key)
    except TypeError:  # an unhashable value inside
        return _end(raw, address_text)
    if found is None:
        if len(ends) >= 100_000:
            ends.clear()
        found = ends[key] = _end(raw, address_text)
    return found


def parse(obj: Any, ends: dict[Any, FlowEnd] | None = None) -> FlowRecord | Skip:
    """One line of Hubble output as a flow record; ``ends`` remembers the ends already read, when given."""
    if not isinstance(obj, Mapping):
        return Skip("not a JSON object", problem=True)
    flow = obj.get("flow") if isinstance(obj.get("flow"), Mapping) else None
    if flow is None:
        for key in OTHER_ENVELOPES:
            if key in obj:
                return Skip(f"not a flow ({key})")
        flow = obj if "IP" in obj or "l4" in obj else None
    if flow is None:
        return Skip("neither a Hubble flow nor a Calico flow log", problem=True)
    ip = flow.get("IP") if isinstance(flow.get("IP"), Mapping) else {}
    protocol, port, flags = _l4(flow.get("l4"))
    if not protocol:
        return Skip("no layer 4 information (an L7 or non-IP record)")
    reply = flow.get("is_reply")
    if not isinstance(reply, bool):
        reply = None
        if protocol == "TCP" and flags.get("SYN"):
            reply = bool(flags.get("ACK"))
    verdict = str(flow.get("verdict") or "")
    return FlowRecord(
        _end_memo(flow.get("source"), ip.get("source"), ends),
        _end_memo(flow.get("destination"), ip.get("destination"), ends),
        protocol.upper() if protocol.upper() in ("TCP", "UDP", "SCTP") else protocol,
        port,
        Outcome.DENIED if verdict in DENIED_VERDICTS else Outcome.ALLOWED,
        reply,
        "hubble",
    )
