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
from podfence.model import Severity
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


def lint_sarif(findings: Iterable[Finding], rules: tuple[LintRule, ...], *, version: str,
               uri: Callable[[str], str] = lambda path: path) -> str:
    """The SARIF log as text (:func:`sarif_data`)."""
    return json_document(sarif_data(findings, rules, version=version, uri=uri))


def sarif_data(findings: Iterable[Finding], rules: tuple[LintRule, ...], *, version: str,
               uri: Callable[[str], str] = lambda path: path) -> dict[str, Any]:
    """The SARIF log; ``uri`` turns a finding's file into a repository-relative URI."""
    index = {r.id: i for i, r in enumerate(rules)}
    seen: dict[str, int] = {}
    results = []
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
                                "rules": [_rule(r) for r in rules]}},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The repository root."}}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return log
