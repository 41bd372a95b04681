"""Lint findings as SARIF 2.1.0, for GitHub code scanning and other SARIF readers.

Every rule of the registry is listed in ``tool.driver.rules`` (ID, name,
descriptions, help as text and Markdown, default level); every finding is a
result with ``ruleId``, ``level``, a repository-relative ``artifactLocation.uri``
(relative to ``%SRCROOT%``), ``region.startLine``, the object and field as a
logical location, and ``partialFingerprints`` that survive moving lines.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Iterable

from podfence.lint import Finding, LintRule
from podfence.lint.docs import rule_page
from podfence.model import Diagnostic, Severity
from podfence.model.text import one_line
from podfence.render.json_text import json_document

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT = "podfenceFinding/v1"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def _rule(r: LintRule) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": r.rationale},
        "help": {"text": f"{r.rationale}\n\nFix: {r.fix}", "markdown": rule_page(r)},
        "defaultConfiguration": {"level": _LEVEL[r.severity]},
        "properties": {"tags": ["kubernetes", "networkpolicy", r.category.value], "precision": "high"},
    }


def _fingerprint(f: Finding, seen: dict[str, int]) -> str:
    base = f"{f.rule}|{f.object}|{f.field_path}"
    n = seen.get(base, 0)
    seen[base] = n + 1
    return hashlib.sha256(f"{base}|{n}".encode()).hexdigest()


INVALID_RULE = "invalid-manifest"
_INVALID_DESCRIPTOR: dict[str, Any] = {
    "id": INVALID_RULE, "name": "InvalidManifest",
    "shortDescription": {"text": "The API server would reject this object"},
    "fullDescription": {"text": "A manifest podfence cannot analyse: the API server would refuse it as written. "
                                "Nothing else is linted until it is fixed."},
    "defaultConfiguration": {"level": "error"},
}


def lint_sarif(findings: Iterable[Finding], rules: tuple[LintRule, ...], *, version: str,
               uri: Callable[[str], str] = lambda path: path, invalid: Iterable[Diagnostic] = ()) -> str:
    """The SARIF log as text (:func:`sarif_data`)."""
    return json_document(sarif_data(findings, rules, version=version, uri=uri, invalid=invalid))


def sarif_data(findings: Iterable[Finding], rules: tuple[LintRule, ...], *, version: str,
               uri: Callable[[str], str] = lambda path: path, invalid: Iterable[Diagnostic] = ()) -> dict[str, Any]:
    """The SARIF log; ``uri`` turns a finding's file into a repository-relative URI.

    ``invalid`` are the errors that stopped lint (manifests the API server would
    reject): each is a result of rule ``invalid-manifest`` at its file and line,
    so code scanning shows an invalid manifest where it is.
    """
    index = {r.id: i for i, r in enumerate(rules)}
    seen: dict[str, int] = {}
    results = []
    errors = [d for d in invalid if d.is_error]
    for d in errors:
        where: dict[str, Any] = {}
        if d.object:
            where["logicalLocations"] = [{"name": d.object, "fullyQualifiedName": f"{d.object} {d.field_path}".strip(),
                                          "kind": "object"}]
        if d.file and d.file != "-":
            spot: dict[str, Any] = {"artifactLocation": {"uri": uri(d.file), "uriBaseId": "%SRCROOT%"}}
            if d.line:
                spot["region"] = {"startLine": d.line}
            where["physicalLocation"] = spot
        results.append({
            "ruleId": INVALID_RULE, "ruleIndex": len(rules), "level": "error",
            "message": {"text": one_line(f"{d.object + ': ' if d.object else ''}"
                                         f"{d.field_path + ': ' if d.field else ''}{d.message}")},
            "locations": [where] if where else [],
            "properties": {"code": d.code},
        })
    for f in findings:
        location: dict[str, Any] = {
            "logicalLocations": [{"name": f.object, "fullyQualifiedName": f"{f.object} {f.field_path}".strip(),
                                  "kind": "object"}],
        }
        if f.file and f.file != "-":
            physical: dict[str, Any] = {"artifactLocation": {"uri": uri(f.file), "uriBaseId": "%SRCROOT%"}}
            if f.line:
                physical["region"] = {"startLine": f.line}
            location["physicalLocation"] = physical
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "level": _LEVEL[f.severity],
            "message": {"text": f"{f.object}: {f.field_path + ': ' if f.field else ''}{f.message}"},
            "locations": [location],
            "partialFingerprints": {FINGERPRINT: _fingerprint(f, seen)},
        }
        if f.rule in index:
            result["ruleIndex"] = index[f.rule]
        results.append(result)
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "podfence", "version": version, "semanticVersion": version,
                                "rules": [_rule(r) for r in rules] + ([_INVALID_DESCRIPTOR] if errors else [])}},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The repository root."}}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return log
