"""Validation results: one line per problem, or JSON."""

from __future__ import annotations

from typing import Any, Iterable

from podfence.model import Diagnostic
from podfence.model.words import plural
from podfence.render.escape import text_lines
from podfence.render.json_text import json_document

FORMATS = ("text", "json")


def diagnostic_data(d: Diagnostic) -> dict[str, Any]:
    return {
        "file": d.file,
        "line": d.line,
        "object": d.object,
        "field": d.field_path,
        "message": d.message,
        "code": d.code,
    }


def check_data(diagnostics: Iterable[Diagnostic]) -> dict[str, Any]:
    """``{"errors": [...], "warnings": [...]}``, each a diagnostic's data."""
    diags = list(diagnostics)
    return {
        "errors": [diagnostic_data(d) for d in diags if d.is_error],
        "warnings": [diagnostic_data(d) for d in diags if not d.is_error],
    }


def check_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json_document(check_data(diagnostics))


def check_text(diagnostics: Iterable[Diagnostic], objects: int) -> str:
    diags = list(diagnostics)
    errors = [d for d in diags if d.is_error]
    warnings = [d for d in diags if not d.is_error]
    lines = [d.one_line() for d in errors] + [f"warning: {d.one_line()}" for d in warnings]
    if errors:
        lines.append(f"{plural(len(errors), 'error')}, {plural(len(warnings), 'warning')}")
    else:
        lines.append(f"ok: {plural(objects, 'object')} valid" + (f", {plural(len(warnings), 'warning')}" if warnings else ""))
    return text_lines(lines)
