"""``podfence compare`` output: the drift between two clusters, in ``diff``'s formats.

Namespaces of one cluster only come first, one line (or JSON entry) each; then
``diff``'s report of every other change, from the first cluster to the second.
JSON: ``{"a", "b", "namespaces": [{"namespace", "only_in", "pods"}], "changes":
[<diff's change objects>], "summary": {"added", "removed", "namespaces"}}``.
"""

from __future__ import annotations

from typing import Any

from podfence.diff import Drift, OneSided
from podfence.render.diff import change_json, diff_md, diff_text
from podfence.render.escape import md_code, text_lines
from podfence.render.json_text import json_document

FORMATS = ("text", "json", "md")


def _side(one: OneSided, a: str, b: str) -> str:
    return a if one.only_in == "a" else b


def _pods(n: int) -> str:
    return f"{n} {'pod' if n == 1 else 'pods'}"


def compare_text(d: Drift, a: str, b: str) -> str:
    lines = [f"namespace {o.namespace}: only in {_side(o, a, b)} ({_pods(o.pods)})" for o in d.namespaces]
    body = diff_text(d.report)
    if lines:
        lines.append("")
    return text_lines(lines) + body


def compare_data(d: Drift, a: str, b: str) -> dict[str, Any]:
    """The drift as data: the two sides, the one-sided namespaces, diff's change objects and a summary."""
    return {
        "a": a, "b": b,
        "namespaces": [{"namespace": o.namespace, "only_in": _side(o, a, b), "pods": o.pods} for o in d.namespaces],
        "changes": [change_json(c) for c in d.report.diff.changes],
        "summary": {"added": d.report.diff.added, "removed": d.report.diff.removed, "namespaces": len(d.namespaces)},
    }


def compare_json(d: Drift, a: str, b: str) -> str:
    """:func:`compare_data`, one namespace or change a line."""
    return json_document(compare_data(d, a, b), flat_items=("namespaces", "changes"), flat=("summary",))


def compare_md(d: Drift, a: str, b: str) -> str:
    body = diff_md(d.report).replace("### podfence diff", f"### podfence compare {md_code(a)} {md_code(b)}", 1)
    if not d.namespaces:
        return body
    head, _, rest = body.partition("\n\n")
    listed = "\n".join(f"- namespace {md_code(o.namespace)}: only in {md_code(_side(o, a, b))} ({_pods(o.pods)})"
                       for o in d.namespaces)
    return f"{head}\n\n{listed}\n\n{rest}"


def render_compare(d: Drift, output: str, a: str, b: str) -> str:
    match output:
        case "text":
            return compare_text(d, a, b)
        case "json":
            return compare_json(d, a, b)
        case "md":
            return compare_md(d, a, b)
    raise ValueError(f"unknown output format {output!r}; choose from {', '.join(FORMATS)}")
