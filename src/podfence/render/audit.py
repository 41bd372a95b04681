"""The audit as text (one screen per namespace), JSON and Markdown."""

from __future__ import annotations

from typing import Any

from podfence.lint.audit import Audit, NamespaceAudit, TierRule
from podfence.model import Severity
from podfence.model.words import plural
from podfence.render.conns import addresses_text, conns_json, conns_text, shortened
from podfence.render.escape import md_text, one_line, text_lines
from podfence.render.lint import finding_data
from podfence.render.json_text import json_document

FORMATS = ("text", "json", "md")
TOP = 5


def _pct(n: int, total: int) -> str:
    return f"{n}/{total} ({round(100 * n / total) if total else 100}%)"


def _reach_in(a: NamespaceAudit) -> str:
    spaces = ", ".join(a.reached_from) if a.reached_from else "no other namespace"
    net = f"the internet ({shortened(a.internet_reaches, 3)})" if a.internet_reaches else "not the internet"
    return f"{spaces}; {net}"


def _reach_out(a: NamespaceAudit) -> str:
    if not a.reaches_outside:
        return "nothing outside the cluster"
    text = addresses_text(list(a.reaches_outside))
    text = f"every internet address ({text})" if a.reaches_internet else text
    return f"{text} on {conns_text(a.reaches_outside_on)}"


def _counts(a: NamespaceAudit) -> str:
    return ", ".join(plural(a.count(s), s.value) for s in (Severity.ERROR, Severity.WARNING, Severity.NOTE))


_VERBS = {"Accept": "accepts", "Deny": "denies", "Pass": "passes"}


def tier_rule_text(t: TierRule) -> str:
    """``Admin: allow-monitoring accepts ingress from namespaces [team=monitoring] on TCP 8080 (priority 10,
    spec.ingress[0] scrape)``."""
    side = "from" if t.direction.value == "ingress" else "to"
    peers = " or ".join(t.peers) if t.peers else "everyone"
    ports = f" on {', '.join(t.ports)}" if t.ports else ""
    named = f" {t.name}" if t.name else ""
    return (f"{t.tier}: {t.policy} {_VERBS[t.action]} {t.direction.value} {side} {peers}{ports} "
            f"(priority {t.priority}, {t.field}{named})")


def _left_out(report: Audit) -> str:
    """What the counts leave out, in words (empty when nothing is)."""
    parts = []
    if report.excluded:
        parts.append(f"not graded: {', '.join(report.excluded)} (lint.exclude_namespaces; --include-excluded "
                     "grades them)")
    if report.host_network:
        is_ = "it is its" if report.host_network == 1 else "they are their"
        parts.append(f"{plural(report.host_network, 'hostNetwork pod')} not counted: {is_} node's address, "
                     "which no policy selects")
    return "; ".join(parts)


def audit_text(report: Audit) -> str:
    pods = sum(a.pods for a in report.namespaces)
    lines = [f"overall grade {report.grade} ({report.score}/100): {plural(len(report.namespaces), 'namespace')}, "
             f"{plural(pods, 'pod')}"]
    if _left_out(report):
        lines.append(one_line(_left_out(report)))
    for a in report.namespaces:
        lines += [
            "",
            f"== {a.name}: grade {a.grade} ({a.score}/100){'  [sensitive]' if a.sensitive else ''}",
            f"isolated:   ingress {_pct(a.ingress_isolated, a.pods)}, egress {_pct(a.egress_isolated, a.pods)}",
            f"reached by: {_reach_in(a)}",
            f"reaches:    {_reach_out(a)}",
        ]
        if a.sensitive:
            lines.append(f"sensitive:  {'; '.join(a.sensitive_exposure) or 'reached from no other namespace'}")
        if report.cluster_tiers:
            lines.append(f"tiers:      {'the cluster-wide policies select none of its pods' if not a.tiers else ''}"
                         .rstrip())
            lines += [one_line(f"  {tier_rule_text(t)}") for t in a.tiers]
        lines.append(f"findings:   {_counts(a)}")
        for f in a.findings[:TOP]:
            where = f" {f.field_path}" if f.field else ""
            lines.append(one_line(f"  {f.severity.value} {f.rule} {f.object}{where}: {f.message}"))
        if len(a.findings) > TOP:
            lines.append(f"  ... {len(a.findings) - TOP} more (podfence lint)")
    return text_lines(lines)


def tier_rule_data(t: TierRule) -> dict[str, Any]:
    return {"tier": t.tier, "policy": t.policy, "kind": t.kind, "priority": t.priority,
            "direction": t.direction.value, "rule": t.field, "rule_name": t.name, "action": t.action,
            "peers": list(t.peers), "ports": list(t.ports), "pods": t.pods, "text": tier_rule_text(t)}


def audit_data(report: Audit) -> dict[str, Any]:
    data = _audit_data(report)
    if report.excluded:  # keys of their own, only when something is left out
        data["excluded"] = list(report.excluded)
    if report.host_network:
        data["host_network_pods"] = report.host_network
    if report.cluster_tiers:  # a key of its own, only when there are cluster-wide policies
        for entry, a in zip(data["namespaces"], report.namespaces):
            entry["tiers"] = [tier_rule_data(t) for t in a.tiers]
    return data


def _audit_data(report: Audit) -> dict[str, Any]:
    return {
        "grade": report.grade,
        "score": report.score,
        "namespaces": [{
            "name": a.name, "grade": a.grade, "score": a.score, "pods": a.pods,
            "isolated": {"ingress": a.ingress_isolated, "egress": a.egress_isolated},
            "reached_from": list(a.reached_from), "internet_reaches": list(a.internet_reaches),
            "reaches_outside": list(a.reaches_outside), "reaches_outside_on": conns_json(a.reaches_outside_on),
            "reaches_internet": a.reaches_internet,
            "sensitive": list(a.sensitive), "sensitive_exposure": list(a.sensitive_exposure),
            "findings": [finding_data(f) for f in a.findings],
        } for a in report.namespaces],
    }


def audit_json(report: Audit) -> str:
    return json_document(audit_data(report))


def audit_md(report: Audit) -> str:
    pods = sum(a.pods for a in report.namespaces)
    lines = ["# podfence audit", "",
             f"Overall grade **{report.grade}** ({report.score}/100): {plural(len(report.namespaces), 'namespace')}, "
             f"{plural(pods, 'pod')}." + (f" {md_text(_left_out(report))}." if _left_out(report) else ""), "",
             "| namespace | grade | pods | ingress isolated | egress isolated | errors | warnings | notes |",
             "|---|---|---|---|---|---|---|---|"]
    for a in report.namespaces:
        lines.append(f"| {md_text(a.name)} | {a.grade} ({a.score}) | {a.pods} | {_pct(a.ingress_isolated, a.pods)} | "
                     f"{_pct(a.egress_isolated, a.pods)} | {a.count(Severity.ERROR)} | {a.count(Severity.WARNING)} | "
                     f"{a.count(Severity.NOTE)} |")
    for a in report.namespaces:
        sensitive = "; ".join(a.sensitive_exposure) or "reached from no other namespace"
        lines += ["", f"## {md_text(a.name)}: grade {a.grade}{' (sensitive)' if a.sensitive else ''}", "",
                  f"- Reached by: {md_text(_reach_in(a))}", f"- Reaches: {md_text(_reach_out(a))}"]
        if a.sensitive:
            lines.append(f"- Sensitive: {md_text(sensitive)}")
        if report.cluster_tiers:
            lines.append("- Cluster tiers:" + (" none of its pods selected" if not a.tiers else ""))
            lines += [f"  - {md_text(tier_rule_text(t))}" for t in a.tiers]
        if a.findings:
            lines += ["", "| severity | rule | object | field | finding |", "|---|---|---|---|---|"]
            for f in a.findings[:TOP]:
                lines.append(f"| {f.severity.value} | {f.rule} {f.name} | {md_text(f.object)} | "
                             f"{md_text(f.field_path)} | {md_text(one_line(f.message))} |")
            if len(a.findings) > TOP:
                lines.append(f"\n{len(a.findings) - TOP} more: run `podfence lint`.")
    return "\n".join(lines) + "\n"
