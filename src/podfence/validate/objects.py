"""Every kind podfence reads besides NetworkPolicy, validated like the API server does.

Only the fields podfence reads are checked, with the API server's rules, field
paths and wording; the codes are V28 to V42 (see :mod:`podfence.validate.object_meta`,
:mod:`~podfence.validate.pods`, :mod:`~podfence.validate.services` and
:mod:`~podfence.validate.workloads`).
"""

from __future__ import annotations

from collections.abc import Mapping

from podfence.model.diagnostic import Diagnostic
from podfence.validate.object_meta import validate_object_meta
from podfence.validate.pods import validate_pod
from podfence.validate.schema import Kind, wrong_type
from podfence.validate.services import validate_service
from podfence.validate.workloads import TEMPLATE_PATHS, validate_workload

VALIDATED_KINDS = frozenset({"Namespace", "Pod", "Service", *TEMPLATE_PATHS})


def validate_namespace(doc: object) -> list[Diagnostic]:
    """Every problem of one Namespace manifest: its name (a DNS-1123 label), labels and annotations.

    >>> [d.field for d in validate_namespace({"metadata": {"name": "team.a"}})]
    [('metadata', 'name')]
    """
    if not isinstance(doc, Mapping):
        return [wrong_type((), doc, Kind.MAPPING)]
    return list(validate_object_meta(doc.get("metadata"), "Namespace", None))


def validate_object(doc: object, *, kind: str, namespace: str, api_version: str = "") -> list[Diagnostic]:
    """Every problem of one Pod, Service, Namespace or workload controller manifest.

    Args:
        doc: the manifest as loaded (a mapping).
        kind: its kind, one of :data:`VALIDATED_KINDS`.
        namespace: the effective namespace (ignored for Namespaces, which have none).
        api_version: the object's apiVersion (workload selectors depend on it).

    Returns:
        Diagnostics with ``code``, ``severity``, ``message`` and ``field`` set, in
        field order; the loader adds file, line and object.

    >>> [d.message[:40] for d in validate_object({"metadata": {"name": "Web"}}, kind="Service", namespace="shop")]
    ['Invalid value: "Web": a DNS-1035 label mu']
    """
    if kind == "Namespace":
        return validate_namespace(doc)
    if kind == "Pod":
        return validate_pod(doc, namespace=namespace)
    if kind == "Service":
        return validate_service(doc, namespace=namespace)
    if kind in TEMPLATE_PATHS:
        return validate_workload(doc, kind=kind, namespace=namespace, api_version=api_version)
    raise ValueError(f"podfence does not validate {kind} objects")
