"""``rollout check`` for people (what would break first) and for machines (the JSON contract)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from podfence.render.escape import text_lines
from podfence.render.json_text import json_document
from podfence.rollout import FlowChange, RolloutCheck

FORMATS = ("text", "json")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _change(c: FlowChange) -> str:
    caused = ", ".join(c.policies) or "the staged policies"
    return f"  {c.src} -> {c.dst} {c.protocol} {c.port} ({_plural(c.count, 'flow')}): {caused}"


def check_text(check: RolloutCheck, sources: Sequence[str]) -> str:
    """What enforcing the staged policies would block first, then what it would allow, then the accounting."""
    lines: list[str] = []
    if check.would_block:
        seen = sum(c.count for c in check.would_block)
        lines.append(f"WOULD BLOCK {_plural(len(check.would_block), 'connection')} ({_plural(seen, 'flow')} "
                     "observed allowed) once the staged policies are enforced:")
        lines += [_change(c) for c in check.would_block]
    else:
        lines.append("Nothing observed would be blocked once the staged policies are enforced.")
    if check.would_allow:
        seen = sum(c.count for c in check.would_allow)
        lines.append(f"would allow {_plural(len(check.would_allow), 'connection')} ({_plural(seen, 'flow')}) "
                     "denied by the enforced policies now:")
        lines += [_change(c) for c in check.would_allow]
    staged = ", ".join(check.staged) if check.staged else "none in the manifests"
    lines.append(f"flows: {_plural(check.flows, 'record')} from {', '.join(sources)}: "
                 f"{_plural(check.connections, 'distinct connection')}, {check.unmatched} unmatched; "
                 f"staged policies: {staged}")
    for reason, count, first in check.unmatched_reasons:
        lines.append(f"  {count} x {reason}" + (f" (first: {first})" if first is not None else ""))
    return text_lines(lines)


def rollout_data(check: RolloutCheck) -> dict[str, Any]:
    """What ``rollout check`` found, as the JSON contract's data."""
    return check.to_json()


def check_json(check: RolloutCheck) -> str:
    return json_document(rollout_data(check))
