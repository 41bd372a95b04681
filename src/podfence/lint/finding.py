"""Lint findings, as values."""

from __future__ import annotations

from dataclasses import dataclass, replace

from podfence.model import FieldPath, Namespace, NetworkPolicy, Pod, Severity, format_path

SEVERITY_RANK = {Severity.NOTE: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One lint finding: which rule, how bad, where, what, and how to fix it.

    ``file`` and ``line`` start as the object's own place; the CLI narrows ``line``
    to ``field`` when it can read the manifest again.
    """

    rule: str
    name: str
    severity: Severity
    message: str
    fix: str
    object: str
    field: FieldPath = ()
    file: str | None = None
    line: int | None = None

    @property
    def field_path(self) -> str:
        return format_path(self.field)

    def at_least(self, severity: Severity) -> bool:
        return SEVERITY_RANK[self.severity] >= SEVERITY_RANK[severity]

    def located(self, *, line: int | None) -> Finding:
        return replace(self, line=line)

    def sort_key(self) -> tuple:  # type: ignore[type-arg]
        return (self.file or "~", self.line or 0, self.rule, self.object, self.field_path, self.message)


def object_label(obj: NetworkPolicy | Pod | Namespace) -> str:
    """``NetworkPolicy ns/name``, ``Deployment ns/name``, ``Namespace name``."""
    if isinstance(obj, Namespace):
        return f"Namespace {obj.name}"
    if isinstance(obj, NetworkPolicy):
        return f"NetworkPolicy {obj.key}"
    return f"{obj.kind} {obj.key}"
