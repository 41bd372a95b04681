"""Hubble flows: one object per line of ``hubble observe -o json`` (or ``-o jsonpb``).

Each line is ``{"flow": {...}, "node_name": ..., "time": ...}``; older Hubble
versions print the flow object itself. The lab's denial stream has the same
shape. The fields read: ``verdict``, ``IP.source``/``IP.destination``, ``l4``
(``TCP``/``UDP``/``SCTP`` with ``destination_port``, TCP ``flags``; ``ICMPv4``,
``ICMPv6``), ``is_reply``, and per end ``namespace``, ``pod_name``, ``labels``
(``k8s:key=value`` and ``reserved:...``) and ``workloads``.
"""

from __future__ import annotations

from typing import Any, Mapping

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


def parse(obj: Any) -> FlowRecord | Skip:
    """One line of Hubble output as a flow record."""
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
        _end(flow.get("source"), ip.get("source")),
        _end(flow.get("destination"), ip.get("destination")),
        protocol.upper() if protocol.upper() in ("TCP", "UDP", "SCTP") else protocol,
        port,
        Outcome.DENIED if verdict in DENIED_VERDICTS else Outcome.ALLOWED,
        reply,
        "hubble",
    )
