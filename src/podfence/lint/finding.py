"""Lint findings, as values."""

from __future__ import annotations

from dataclasses import dataclass, replace

from podfence.model import ClusterPolicy, FieldPath, Namespace, NetworkPolicy, Origin, Pod, Severity, format_path

SEVERITY_RANK = {Severity.NOTE: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """The object a finding is about: kind, namespace (None for a Namespace), name, and where it was read.

    ``origin`` is the object's own, or for a namespace no manifest declares, that
    of its first object (where a finding about it is placed).
    """

    kind: str
    namespace: str | None
    name: str
    origin: Origin | None = None

    @classmethod
    def of(cls, obj: NetworkPolicy | Pod | Namespace | ClusterPolicy, origin: Origin | None = None) -> ObjectRef:
        """The reference to ``obj``, at ``origin`` (the object's own when None)."""
        origin = obj.source if origin is None else origin
        if isinstance(obj, Namespace):
            return cls("Namespace", None, obj.name, origin)
        if isinstance(obj, ClusterPolicy):  # cluster-scoped: no namespace
            return cls(obj.kind, None, obj.name, origin)
        return cls("NetworkPolicy" if isinstance(obj, NetworkPolicy) else obj.kind, obj.namespace, obj.name, origin)

    @property
    def scope(self) -> str:
        """The namespace the object is in, or is (for a Namespace)."""
        return self.name if self.namespace is None else self.namespace

    def __str__(self) -> str:
        """``NetworkPolicy ns/name``, ``Deployment ns/name``, ``Namespace name``."""
        return f"{self.kind} {self.name}" if self.namespace is None else f"{self.kind} {self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Finding:
    """One lint finding: which rule, how bad, about what, where, and how to fix it.

    ``ref`` names the object and where it was read; ``line`` starts as the
    object's own line and the CLI narrows it to ``field``'s line.
    """

    rule: str
    name: str
    severity: Severity
    message: str
    fix: str
    ref: ObjectRef
    field: FieldPath = ()
    line: int | None = None

    @property
    def object(self) -> str:
        """The object as text: ``Kind ns/name`` or ``Namespace name``."""
        return str(self.ref)

    @property
    def file(self) -> str | None:
        """Where the object was read, as diagnostics show it (a file; a cluster object's name)."""
        return self.ref.origin.file if self.ref.origin is not None else None

    @property
    def field_path(self) -> str:
        return format_path(self.field)

    def at_least(self, severity: Severity) -> bool:
        return SEVERITY_RANK[self.severity] >= SEVERITY_RANK[severity]

    def located(self, *, line: int | None) -> Finding:
        return replace(self, line=line)

    def sort_key(self) -> tuple:  # type: ignore[type-arg]
        return (self.file or "~", self.line or 0, self.rule, self.object, self.field_path, self.message)


def object_label(obj: NetworkPolicy | Pod | Namespace | ClusterPolicy) -> str:
    """``NetworkPolicy ns/name``, ``Deployment ns/name``, ``Namespace name``."""
    return str(ObjectRef.of(obj))
