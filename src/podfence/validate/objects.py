"""Every kind podfence reads besides NetworkPolicy, validated like the API server does.

Only the fields podfence reads are checked, with the API server's rules, field
paths and wording; the codes are V28 to V42 (see :mod:`podfence.validate.object_meta`,
:mod:`~podfence.validate.pods`, :mod:`~podfence.validate.services` and
:mod:`~podfence.validate.workloads`). The cluster-wide policy kinds are checked
in full, as their CRDs check them: V43 to V65 (:mod:`podfence.validate.cluster_policies`).
"""

from __future__ import annotations

from collections.abc import Mapping

from podfence.model.diagnostic import Diagnostic
from podfence.model.settings import DEFAULT_SETTINGS, Settings
from podfence.validate.cluster_policies import CLUSTER_POLICY_KINDS, validate_cluster_policy
from podfence.validate.object_meta import validate_object_meta
from podfence.validate.pods import validate_pod
from podfence.validate.schema import Kind, wrong_type
from podfence.validate.services import validate_service
from podfence.validate.workloads import TEMPLATE_PATHS, validate_workload

VALIDATED_KINDS = frozenset({"Namespace", "Pod", "Service", *TEMPLATE_PATHS, *CLUSTER_POLICY_KINDS})


def validate_namespace(doc: object) -> list[Diagnostic]:
    """Every problem of one Namespace manifest: its name (a DNS-1123 label), labels and annotations.

    >>> [d.field for d in validate_namespace({"metadata": {"name": "team.a"}})]
    [('metadata', 'name')]
    """
    if not isinstance(doc, Mapping):
        return [wrong_type((), doc, Kind.MAPPING)]
    return list(validate_object_meta(doc.get("metadata"), "Namespace", None))


def validate_object(doc: object, *, kind: str, namespace: str, api_version: str = "",
                    settings: Settings = DEFAULT_SETTINGS) -> list[Diagnostic]:
    """Every problem of one Pod, Service, Namespace, workload controller or cluster-wide policy manifest.

    Args:
        doc: the manifest as loaded (a mapping).
        kind: its kind, one of :data:`VALIDATED_KINDS`.
        namespace: the effective namespace (ignored for Namespaces and cluster-wide
            policies, which have none).
        api_version: the object's apiVersion (workload selectors depend on it; a
            cluster-wide policy kind exists in one version only).
        settings: ``cluster_policy_standard_channel`` picks the CRD channel of
            the cluster-wide policy kinds.

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
    if kind in CLUSTER_POLICY_KINDS:
        return validate_cluster_policy(doc, kind=kind, api_version=api_version, settings=settings)
    if kind in TEMPLATE_PATHS:
        return validate_workload(doc, kind=kind, namespace=namespace, api_version=api_version)
    raise ValueError(f"podfence does not validate {kind} objects")
