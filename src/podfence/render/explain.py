"""Verdicts for people (a sentence to act on) and for machines (JSON)."""

from __future__ import annotations

from typing import Any

from podfence.engine import DirectionVerdict, Endpoint, NearMiss, Outcome, Reason, TierStep, Verdict
from podfence.model import Direction
from podfence.render.escape import printable, text_lines
from podfence.render.json_text import json_document
from podfence.rollout import Comparison

FORMATS = ("text", "json")


def _side_subject(d: DirectionVerdict, v: Verdict) -> str:
    ep = v.src if d.direction is Direction.EGRESS else v.dst
    return f"{d.direction.value} of {ep.name}"


_VERBS = {Outcome.ALLOW: "allows", Outcome.DENY: "denies", Outcome.PASS: "passes"}


def _rule_words(step: TierStep) -> str:
    """``allow-monitoring spec.ingress[0] "pass-b" (priority 10)``."""
    assert step.rule is not None
    name = f' "{step.rule.name}"' if step.rule.name else ""
    return f"{step.kind} {step.policy} {step.rule.field}{name} (priority {step.priority})"


def _step_text(step: TierStep) -> str:
    """One link of the tier chain: what the tier did."""
    match step.outcome:
        case Outcome.NOT_SELECTED:
            return f"{step.tier}: no policy selects it"
        case Outcome.NO_MATCH:
            return f"{step.tier}: no rule of {', '.join(step.policies)} matches"
        case Outcome.PASS:
            return f"{step.tier}: {step.policy} passes ({step.rule.field if step.rule else ''})"
    if step.tier == "NetworkPolicy":
        who = f"{', '.join(step.policies)} {'isolates' if len(step.policies) == 1 else 'isolate'} it"
        if step.note:
            return f"NetworkPolicy: {who}, but {step.note}"
        if step.outcome is Outcome.ALLOW:
            return f"NetworkPolicy: {who}, {', '.join(str(r) for r in step.allowed_by)} admits"
        return f"NetworkPolicy: {who}, no rule admits"
    word = "accepts" if step.action == "Accept" else _VERBS[step.outcome]
    return f"{step.tier}: {step.policy} {word} ({step.rule.field if step.rule else ''})"


def _chain(d: DirectionVerdict) -> str:
    links = [_step_text(s) for s in d.tiers]
    decided = d.tiers and d.tiers[-1].outcome in (Outcome.ALLOW, Outcome.DENY)
    if not decided:
        links.append("default: allowed")
    return " -> ".join(links) + (" -> ALLOWED" if d.allowed else " -> DENIED")


def _miss_text(miss: NearMiss) -> str:
    what = "the peer matches but" if miss.peer_ok else "the port matches but"
    return f"{miss.rule}: {what} {miss.detail}"


def _side_text(d: DirectionVerdict, v: Verdict) -> list[str]:
    remote = v.dst if d.direction is Direction.EGRESS else v.src
    isolated_by = f"isolated by {', '.join(d.policies)}" if d.policies else ""
    match d.reason:
        case Reason.NOT_A_POD:
            head = "allowed: no policy applies here (not a pod that policies select)"
        case Reason.NOT_ISOLATED if d.tiers:
            head = "allowed: no tier decides, so the default allows"
        case Reason.NOT_ISOLATED:
            head = f"allowed: no policy isolates it for {d.direction.value}"
        case Reason.TIER:
            step = d.tiers[-1]
            word = "allowed" if d.allowed else "DENIED"
            head = f"{word} by the {step.tier} tier: {_rule_words(step)} says {step.action}"
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
    if d.tiers:
        lines.append(f"    tiers: {_chain(d)}")
        if not d.allowed:
            for step in d.tiers:
                lines += [f"    closest ({step.tier}): {_miss_text(m)}" for m in step.near_misses]
        return lines
    if not d.allowed:
        for miss in d.near_misses:
            lines.append(f"    closest: {_miss_text(miss)}")
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


def _miss_json(m: NearMiss) -> dict[str, Any]:
    return {"policy": m.rule.policy, "rule": m.rule.index, "field": m.rule.field,
            "peer_matches": m.peer_ok, "port_matches": m.port_ok, "detail": m.detail}


def _step_json(step: TierStep) -> dict[str, Any]:
    """What one tier decided: ``outcome`` is allow, deny, pass, no-match or not-selected."""
    out: dict[str, Any] = {"tier": step.tier, "outcome": step.outcome.value, "policies": list(step.policies)}
    if step.rule is not None:
        out.update({"policy": step.policy, "kind": step.kind, "priority": step.priority,
                    "rule": step.rule.index, "rule_name": step.rule.name, "field": step.rule.field,
                    "action": step.action})
    if step.allowed_by:
        out["allowed_by"] = [{"policy": r.policy, "rule": r.index, "field": r.field} for r in step.allowed_by]
    if step.note:
        out["note"] = step.note
    out["near_misses"] = [_miss_json(m) for m in step.near_misses]
    return out


def _side_json(d: DirectionVerdict) -> dict[str, Any]:
    out = {
        "allowed": d.allowed,
        "reason": d.reason.value,
        "isolated": d.isolated,
        "policies": list(d.policies),
        "allowed_by": [{"policy": r.policy, "rule": r.index, "field": r.field} for r in d.allowed_by],
        "near_misses": [_miss_json(m) for m in d.near_misses],
    }
    if d.tiers:
        out["tiers"] = [_step_json(s) for s in d.tiers]
    return out


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
            f"{'port' if len(verdicts) == 1 else 'ports'} after DNAT; {share} allowed.\n\n")
    return head + "\n".join(verdict_text(v) for v in verdicts)


def staged_lead(c: Comparison, deletions: frozenset[str] = frozenset()) -> str:
    """``allowed now; DENIED once billing/default-deny is enforced``: the two verdicts in one line."""
    named = [f"the deletion of {key}" if key in deletions else key for key in c.policies] or ["the staged policies"]
    what = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    verb = "is" if len(named) == 1 and c.policies else "are"
    now = "allowed" if c.now.allowed else "DENIED"
    then = "ALLOWED" if c.promoted.allowed else "DENIED"
    return printable(f"{now} now; {then} once {what} {verb} enforced")


def comparison_data(c: Comparison, deletions: frozenset[str] = frozenset()) -> dict[str, Any]:
    """One connection in both views: the verdict now, and under ``staged`` the verdict once enforced."""
    data = verdict_data(c.now)
    if c.changed:
        data["staged"] = {"allowed": c.promoted.allowed, "policies": list(c.policies),
                          "deleted": sorted(k for k in c.policies if k in deletions),
                          "verdict": verdict_data(c.promoted)}
    return data


def service_comparison_data(service: str, protocol: str, port: int, comparisons: tuple[Comparison, ...],
                            deletions: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A connection to a Service in both views (``staged`` only when a backend's verdict changes)."""
    data = service_data(service, protocol, port, tuple(c.now for c in comparisons))
    if any(c.changed for c in comparisons):
        once = service_data(service, protocol, port, tuple(c.promoted for c in comparisons))
        policies = tuple(sorted({k for c in comparisons for k in c.policies}))
        data["staged"] = {"allowed": once["allowed"], "policies": list(policies),
                          "deleted": sorted(k for k in policies if k in deletions), "backends": once["backends"]}
    return data


def render_comparison(c: Comparison, output: str, deletions: frozenset[str] = frozenset()) -> str:
    """One connection judged now and with the staged policies enforced; the plain verdict when they agree."""
    if output == "json":
        return json_document(comparison_data(c, deletions))
    if not c.changed:
        return verdict_text(c.now)
    return (f"{staged_lead(c, deletions)}\n\nNow:\n{verdict_text(c.now)}\n"
            f"Once the staged policies are enforced:\n{verdict_text(c.promoted)}")


def render_service_comparisons(service: str, protocol: str, port: int, comparisons: tuple[Comparison, ...],
                               output: str, deletions: frozenset[str] = frozenset()) -> str:
    """A connection to a Service in both views; exactly :func:`render_service_verdicts` when no backend changes."""
    now = tuple(c.now for c in comparisons)
    if output == "json":
        return json_document(service_comparison_data(service, protocol, port, comparisons, deletions))
    if not any(c.changed for c in comparisons):
        return render_service_verdicts(service, protocol, port, now, output)
    after = tuple(c.promoted for c in comparisons)
    changed = [c for c in comparisons if c.changed]
    leads = [f"{printable(c.now.dst.name)} {c.now.port}: {staged_lead(c, deletions)}" for c in changed]
    return ("\n".join(leads) + "\n\nNow:\n" + render_service_verdicts(service, protocol, port, now, output)
            + "\nOnce the staged policies are enforced:\n"
            + render_service_verdicts(service, protocol, port, after, output))
