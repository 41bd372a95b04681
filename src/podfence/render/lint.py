"""Lint findings as text (one line each, with the fix) and JSON."""

from __future__ import annotations

from typing import Any, Iterable

from podfence.lint import Finding
from podfence.model import Severity
from podfence.model.words import plural
from podfence.render.escape import one_line, text_lines
from podfence.render.json_text import json_document

FORMATS = ("text", "json", "sarif")


def finding_data(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule, "name": f.name, "severity": f.severity.value, "object": f.object, "file": f.file,
        "line": f.line, "field": f.field_path, "message": f.message, "fix": f.fix,
    }


def lint_json(findings: Iterable[Finding]) -> str:
    """``{"findings": [...]}`` in file and line order."""
    return json_document(lint_data(findings))


def lint_data(findings: Iterable[Finding]) -> dict[str, Any]:
    """``{"findings": [...]}``, in the order given."""
    return {"findings": [finding_data(f) for f in findings]}


def finding_line(f: Finding) -> str:
    """``file:line: warning NP201 policy-selects-no-pod: Kind ns/name: field: message``, as one safe line."""
    parts = []
    if f.file:
        parts.append(f"{f.file}:{f.line}" if f.line else f.file)
    parts.append(f"{f.severity.value} {f.rule} {f.name}")
    parts.append(f.object)
    if f.field:
        parts.append(f.field_path)
    parts.append(f.message)
    return one_line(": ".join(parts))


def lint_text(findings: Iterable[Finding], *, with_fix: bool = True) -> str:
    """One line per finding (its fix indented below), then a count."""
    found = list(findings)
    lines = []
    for f in found:
        lines.append(finding_line(f))
        if with_fix:
            lines.append(f"    fix: {f.fix}")
    counts = {s: sum(1 for f in found if f.severity is s) for s in Severity}
    if found:
        lines.append(", ".join(plural(counts[s], s.value) for s in (Severity.ERROR, Severity.WARNING, Severity.NOTE)))
    else:
        lines.append("ok: no findings")
    return text_lines(lines)
