"""``podfence diff`` output: grouped text, JSON pairs, a Markdown review for pull requests."""

from __future__ import annotations

from typing import Any

from podfence.diff import Causes, Change, ChangeGroup, DiffReport, GroupReport, ObjectCause, PolicyCause, Status, TierCause
from podfence.model import Direction
from podfence.render.conns import addresses_text, conns_json, conns_text
from podfence.render.escape import md_code, md_row, md_text, text_lines
from podfence.sets import parse_cidr
from podfence.render.json_text import json_document

FORMATS = ("text", "json", "md")
MD_LIMIT = 100  # table rows in a pull-request comment; the rest is counted


def _is_range(name: str) -> bool:
    return parse_cidr(name) is not None


def endpoints_text(names: tuple[str, ...], limit: int = 3) -> str:
    """``api/server``; ``api/a, api/b``; ``12 pods in api``; ``30 pods in api, billing``; ranges shortened."""
    pods = [n for n in names if not _is_range(n)]
    ranges = [n for n in names if _is_range(n)]
    parts = []
    if pods:
        if len(pods) <= limit:
            parts.append(", ".join(pods))
        else:
            spaces = list(dict.fromkeys(p.split("/", 1)[0] for p in pods))
            where = ", ".join(spaces) if len(spaces) <= limit else f"{len(spaces)} namespaces"
            parts.append(f"{len(pods)} pods in {where}")
    if ranges:
        parts.append(addresses_text(ranges))
    return "; ".join(parts)


def change_text(group: ChangeGroup) -> str:
    """``TCP 8080 added; TCP 9100 removed``."""
    parts = []
    if group.added:
        parts.append(f"{conns_text(group.added)} added")
    if group.removed:
        parts.append(f"{conns_text(group.removed)} removed")
    return "; ".join(parts)


def _end(direction: Direction) -> str:
    return "the source's egress" if direction is Direction.EGRESS else "the destination's ingress"


def _isolation(directions: tuple[Direction, ...]) -> str:
    return " and ".join(_end(d) for d in dict.fromkeys(directions))


def policy_text(p: PolicyCause) -> str:
    """One policy behind a change, e.g. ``api/allow-gw added: spec.ingress[0] admits it``."""
    old_rules, new_rules = ", ".join(p.admits_old), ", ".join(p.admits_new)
    match p.status:
        case Status.ADDED:
            if new_rules:
                return f"{p.policy} added: {new_rules} admits it"
            return f"{p.policy} added: isolates {_isolation(p.isolates_new)}" if p.isolates_new else f"{p.policy} added"
        case Status.DELETED:
            if old_rules:
                return f"{p.policy} deleted (its {old_rules} admitted it)"
            return f"{p.policy} deleted (it isolated {_isolation(p.isolates_old)})" if p.isolates_old \
                else f"{p.policy} deleted"
    details = []
    if new_rules and not old_rules:
        details.append(f"{new_rules} now admits it")
    elif old_rules and not new_rules:
        details.append(f"no rule admits it any more (was {old_rules})")
    gained = tuple(d for d in p.isolates_new if d not in p.isolates_old)
    lost = tuple(d for d in p.isolates_old if d not in p.isolates_new)
    if gained:
        details.append(f"now isolates {_isolation(gained)}")
    if lost:
        details.append(f"no longer isolates {_isolation(lost)}")
    return f"{p.policy} edited" + (f": {', '.join(details)}" if details else "")


_TIER_VERBS = {"Accept": ("accepts", "accepted"), "Allow": ("accepts", "accepted"), "Deny": ("denies", "denied"),
               "Pass": ("passes", "passed")}


def _decided(rule: tuple[str, str, str] | None, past: bool = False, field: bool = True) -> str:
    """``spec.ingress[0] (name) denies it``; ``past``: ``denied``; without ``field``: the verb alone."""
    if rule is None:
        return ""
    where, name, action = rule
    verb = _TIER_VERBS.get(action, (action, action))[1 if past else 0]
    return f"{where}{f' ({name})' if name else ''} {verb} it" if field else f"{verb} it"


def _rank(tier: str | None, priority: int | None) -> str:
    return f"{tier} priority {priority}"


def tier_cause_text(t: TierCause) -> str:
    """A cluster-wide policy behind a change, e.g.
    ``ClusterNetworkPolicy deny-x (Admin priority 10) added: spec.ingress[0] (all) denies it``."""
    match t.status:
        case Status.ADDED:
            new = _decided(t.decided_new)
            return f"{t.kind} {t.policy} ({_rank(t.tier_new, t.priority_new)}) added" + (f": {new}" if new else "")
        case Status.DELETED:
            old = _decided(t.decided_old, past=True)
            return f"{t.kind} {t.policy} ({_rank(t.tier_old, t.priority_old)}) deleted" + (
                f" (its {old})" if old else "")
    if (t.tier_old, t.priority_old) != (t.tier_new, t.priority_new):
        rank = f"{_rank(t.tier_old, t.priority_old)} -> {_rank(t.tier_new, t.priority_new)}"
    else:
        rank = _rank(t.tier_new, t.priority_new)
    detail = ""
    if t.decided_new is not None and t.decided_old is not None:
        same_rule = t.decided_new[:2] == t.decided_old[:2]
        detail = f"{_decided(t.decided_new)} (was: {_decided(t.decided_old, True, not same_rule)})"
    elif t.decided_new is not None:
        detail = _decided(t.decided_new)
    elif t.decided_old is not None:
        detail = f"no longer decides it (its {_decided(t.decided_old, past=True)})"
    return f"{t.kind} {t.policy} ({rank}) edited" + (f": {detail}" if detail else "")


def object_text(o: ObjectCause) -> str:
    match o.what:
        case "added":
            return f"{o.kind} {o.name} is new"
        case "removed":
            return f"{o.kind} {o.name} is gone"
        case "labels":
            return f"{o.kind} {o.name} relabelled ({', '.join(o.labels)})"
        case "ports":
            return f"container ports of {o.name} changed"
        case _:
            return f"addresses or node of {o.name} changed"


def causes_text(causes: Causes) -> str:
    parts = ([tier_cause_text(t) for t in causes.tiers] + [policy_text(p) for p in causes.policies]
             + [object_text(o) for o in causes.objects])
    return "; ".join(parts) if parts else "no policy or object at either end changed"


def summary_text(report: DiffReport) -> str:
    d = report.diff
    if not d:
        return "No change in connectivity."
    pairs = len(d.changes)
    return (f"{pairs} {'pair' if pairs == 1 else 'pairs'} changed in {len(report.groups)} "
            f"{'group' if len(report.groups) == 1 else 'groups'}: {d.added} gained connections, "
            f"{d.removed} lost connections.")


def diff_text(report: DiffReport) -> str:
    lines = []
    for g in report.groups:
        lines.append(f"{endpoints_text(g.group.srcs)} -> {endpoints_text(g.group.dsts)}: {change_text(g.group)}")
        lines.append(f"  why: {causes_text(g.causes)}")
        for f in g.flags:
            lines.append(f"  review: {f.detail}")
    if lines:
        lines.append("")
    lines.append(summary_text(report))
    return text_lines(lines)


def change_json(c: Change) -> dict[str, Any]:
    """One changed pair as ``diff``'s JSON writes it: ``{"src", "dst", "added"?, "removed"?}``."""
    entry: dict[str, Any] = {"src": c.src, "dst": c.dst}
    if c.added:
        entry["added"] = conns_json(c.added)
    if c.removed:
        entry["removed"] = conns_json(c.removed)
    return entry


def diff_data(report: DiffReport) -> dict[str, Any]:
    """``{"changes": [{"src", "dst", "added"?, "removed"?}], "summary": {"added", "removed"}}``."""
    return {"changes": [change_json(c) for c in report.diff.changes],
            "summary": {"added": report.diff.added, "removed": report.diff.removed}}


def diff_json(report: DiffReport) -> str:
    """:func:`diff_data`, one change a line."""
    return json_document(diff_data(report), flat_items=("changes",), flat=("summary",))


def _md_endpoints(names: tuple[str, ...]) -> str:
    text = endpoints_text(names)
    return md_code(text, table=True) if len(names) == 1 else md_text(text)


def _md_row(g: GroupReport) -> str:
    """One table row; every piece of text from the manifests is escaped for Markdown."""
    risk = "; ".join(f"**{md_text(f.detail)}**" for f in g.flags)
    added = conns_text(g.group.added) if g.group.added else ""
    removed = conns_text(g.group.removed) if g.group.removed else ""
    return md_row([risk, _md_endpoints(g.group.srcs), _md_endpoints(g.group.dsts), added, removed,
                   md_text(causes_text(g.causes))])


def diff_md(report: DiffReport, limit: int = MD_LIMIT) -> str:
    """A pull-request comment: one table, the most dangerous changes first."""
    lines = ["### podfence diff", ""]
    if not report.diff:
        lines.append("No change in connectivity.")
        return "\n".join(lines) + "\n"
    flagged = sum(1 for g in report.groups if g.flags)
    head = summary_text(report)
    if flagged:
        head += f" **{flagged} {'needs' if flagged == 1 else 'need'} review.**"
    lines += [head, "", "| Review | From | To | Added | Removed | Why |", "|---|---|---|---|---|---|"]
    ordered = report.by_danger()
    lines += [_md_row(g) for g in ordered[:limit]]
    if len(ordered) > limit:
        lines += ["", f"... and {len(ordered) - limit} more groups: run `podfence diff` locally to see them all."]
    return "\n".join(lines) + "\n"


def render_diff(report: DiffReport, output: str) -> str:
    match output:
        case "text":
            return diff_text(report)
        case "json":
            return diff_json(report)
        case "md":
            return diff_md(report)
    raise ValueError(f"unknown output format {output!r}; choose from {', '.join(FORMATS)}")
