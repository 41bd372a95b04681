"""Verdicts for people (a sentence to act on) and for machines (JSON)."""

from __future__ import annotations

from typing import Any

from podfence.engine import DirectionVerdict, Endpoint, Reason, Verdict
from podfence.model import Direction
from podfence.render.escape import printable, text_lines
from podfence.render.json_text import json_document

FORMATS = ("text", "json")


def _side_subject(d: DirectionVerdict, v: Verdict) -> str:
    ep = v.src if d.direction is Direction.EGRESS else v.dst
    return f"{d.direction.value} of {ep.name}"


def _side_text(d: DirectionVerdict, v: Verdict) -> list[str]:
    remote = v.dst if d.direction is Direction.EGRESS else v.src
    isolated_by = f"isolated by {', '.join(d.policies)}" if d.policies else ""
    match d.reason:
        case Reason.NOT_A_POD:
            head = "allowed: no policy applies here (not a pod that policies select)"
        case Reason.NOT_ISOLATED:
            head = f"allowed: no policy isolates it for {d.direction.value}"
        case Reason.SELF:
            head = "allowed: a pod may always reach itself"
        case Reason.OWN_NODE:
            head = "allowed: traffic between a pod and its own node is always allowed"
        case Reason.RULE:
            head = f"allowed by {', '.join(str(r) for r in d.allowed_by)} ({isolated_by})"
        case Reason.NO_RULE:
            head = (f"DENIED: {isolated_by}, and no rule admits {remote.name} "
                    f"on {v.protocol} {v.port}")
    lines = [f"  {_side_subject(d, v)}: {head}"]
    if not d.allowed:
        for miss in d.near_misses:
            what = "the peer matches but" if miss.peer_ok else "the port matches but"
            lines.append(f"    closest: {miss.rule}: {what} {miss.detail}")
    return lines


def verdict_text(v: Verdict) -> str:
    word = "ALLOWED" if v.allowed else "DENIED"
    lines = [f"{word}: {v.src.name} -> {v.dst.name} {v.protocol} {v.port}"]
    if v.allowed:
        lines.append(f"{v.src.name} can reach {v.dst.name} on {v.protocol} {v.port}.")
    elif not v.routable:
        lines.append(f"{v.src.name} cannot reach {v.dst.name}: they share no address family.")
    else:
        where = " and ".join(_side_subject(d, v) for d in (v.egress, v.ingress) if not d.allowed)
        lines.append(f"{v.src.name} cannot reach {v.dst.name} on {v.protocol} {v.port}: denied at the {where}.")
    for d in (v.egress, v.ingress):
        lines += _side_text(d, v)
    lines += [f"  note: {n}" for n in v.notes]
    return text_lines(lines)


def _endpoint_json(ep: Endpoint) -> Any:
    if ep.pod is not None:
        out: dict[str, Any] = {"pod": ep.pod.key, "kind": ep.pod.kind}
        if ep.address is not None:
            out["ip"] = str(ep.address)
        return out
    return {"ip": str(ep.address)}


def _side_json(d: DirectionVerdict) -> dict[str, Any]:
    return {
        "allowed": d.allowed,
        "reason": d.reason.value,
        "isolated": d.isolated,
        "policies": list(d.policies),
        "allowed_by": [{"policy": r.policy, "rule": r.index, "field": r.field} for r in d.allowed_by],
        "near_misses": [
            {"policy": m.rule.policy, "rule": m.rule.index, "field": m.rule.field,
             "peer_matches": m.peer_ok, "port_matches": m.port_ok, "detail": m.detail}
            for m in d.near_misses
        ],
    }


def verdict_data(v: Verdict) -> dict[str, Any]:
    return {
        "allowed": v.allowed,
        "routable": v.routable,
        "src": _endpoint_json(v.src),
        "dst": _endpoint_json(v.dst),
        "protocol": str(v.protocol),
        "port": v.port,
        "egress": _side_json(v.egress),
        "ingress": _side_json(v.ingress),
        "notes": list(v.notes),
    }


def service_data(service: str, protocol: str, port: int, verdicts: tuple[Verdict, ...]) -> dict[str, Any]:
    """A connection to a Service: allowed when every backend verdict is, and each backend's verdict."""
    allowed = bool(verdicts) and all(v.allowed for v in verdicts)
    return {"allowed": allowed, "service": service, "protocol": protocol, "port": port,
            "backends": [verdict_data(v) for v in verdicts]}


def render_verdict(v: Verdict, output: str) -> str:
    if output == "json":
        return json_document(verdict_data(v))
    return verdict_text(v)


def render_service_verdicts(service: str, protocol: str, port: int, verdicts: tuple[Verdict, ...], output: str) -> str:
    """A connection to a Service: one verdict per backend pod and target port."""
    allowed = bool(verdicts) and all(v.allowed for v in verdicts)
    if output == "json":
        return json_document(service_data(service, protocol, port, verdicts))
    service = printable(service)
    if not verdicts:
        return f"DENIED: service {service} has no running backend pod, so nothing answers on {protocol} {port}\n"
    ok = sum(v.allowed for v in verdicts)
    share = "all are" if allowed else ("none is" if ok == 0 else f"{ok} of {len(verdicts)} are")
    head = (f"Connections to service {service} on {protocol} {port} land on {len(verdicts)} backend "
            f"port(s) after DNAT; {share} allowed.\n\n")
    return head + "\n".join(verdict_text(v) for v in verdicts)
