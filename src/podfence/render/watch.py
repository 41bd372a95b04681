"""``podfence watch`` output: one JSON line per update, or a few text lines a person reads.

JSON: ``{"time", "cluster", "cause": [{"kind", "namespace", "name", "event"}],
"changes": [<diff's change objects>]}``, one object a line. Text: a heading line
(time, cluster, what changed), then the changes folded as ``diff`` folds them.
"""

from __future__ import annotations

from typing import Any

from podfence.diff import group_changes
from podfence.live import Cause, Update
from podfence.render.diff import change_json, change_text, endpoints_text
from podfence.render.escape import text_lines
from podfence.render.json_text import json_line

FORMATS = ("text", "json")


def cause_text(c: Cause) -> str:
    name = f"{c.namespace}/{c.name}" if c.namespace else c.name
    return f"{c.kind} {name} {c.event}"


def update_data(update: Update, time: str) -> dict[str, Any]:
    """One update as data: when, which cluster, what changed in it, and diff's change objects."""
    return {
        "time": time, "cluster": update.cluster,
        "cause": [{"kind": c.kind, "namespace": c.namespace, "name": c.name, "event": c.event}
                  for c in update.causes],
        "changes": [change_json(c) for c in update.diff.changes],
    }


def update_json(update: Update, time: str) -> str:
    return json_line(update_data(update, time))


def update_text(update: Update, time: str) -> str:
    causes = update.causes
    said = ", ".join(cause_text(c) for c in causes[:3]) + (f" and {len(causes) - 3} more" if len(causes) > 3 else "")
    lines = [f"{time} {update.cluster}: {said}"]
    groups = group_changes(update.diff.changes)
    for g in groups:
        lines.append(f"  {endpoints_text(g.srcs)} -> {endpoints_text(g.dsts)}: {change_text(g)}")
    if not groups:
        lines.append("  no change in connectivity")
    return text_lines(lines)


def render_update(update: Update, output: str, time: str) -> str:
    match output:
        case "text":
            return update_text(update, time)
        case "json":
            return update_json(update, time)
    raise ValueError(f"unknown output format {output!r}; choose from {', '.join(FORMATS)}")
