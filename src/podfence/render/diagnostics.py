"""Validation results: one line per problem, or JSON."""

from __future__ import annotations

import json
from typing import Any, Iterable

from podfence.model import Diagnostic
from podfence.render.escape import text_lines

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


def check_json(diagnostics: Iterable[Diagnostic]) -> str:
    diags = list(diagnostics)
    data = {
        "errors": [diagnostic_data(d) for d in diags if d.is_error],
        "warnings": [diagnostic_data(d) for d in diags if not d.is_error],
    }
    return json.dumps(data, indent=2) + "\n"


def check_text(diagnostics: Iterable[Diagnostic], objects: int) -> str:
    diags = list(diagnostics)
    errors = [d for d in diags if d.is_error]
    warnings = [d for d in diags if not d.is_error]
    lines = [d.one_line() for d in errors] + [f"warning: {d.one_line()}" for d in warnings]
    if errors:
        lines.append(f"{len(errors)} error(s), {len(warnings)} warning(s)")
    else:
        lines.append(f"ok: {objects} object(s) valid" + (f", {len(warnings)} warning(s)" if warnings else ""))
    return text_lines(lines)
