"""Which workloads hold sensitive data: one answer for lint, audit and diff.

A pod is sensitive when its namespace is listed in ``sensitive.namespaces`` of
``.podfence.yaml``, or when its namespace or the pod itself (for a workload, its
pod template) carries the label or the annotation ``sensitive.label`` (default
``podfence.io/sensitive``) with the value ``"true"``.
"""

from __future__ import annotations

from dataclasses import dataclass

from podfence.model.cluster import Cluster
from podfence.model.labels import Labels
from podfence.model.objects import Namespace, Pod

SENSITIVE_LABEL = "podfence.io/sensitive"
# How much an outage of a namespace costs, least first: the order of a progressive rollout.
CRITICALITY_LABEL = "podfence.io/criticality"
CRITICALITY = ("low", "medium", "high", "critical")


@dataclass(frozen=True, slots=True)
class Sensitivity:
    """What counts as sensitive, and who may reach it (``allowed_from``: namespaces)."""

    label: str = SENSITIVE_LABEL
    namespaces: tuple[str, ...] = ()
    allowed_from: tuple[str, ...] = ()

    def _marked(self, labels: Labels, annotations: Labels) -> bool:
        return "true" in (labels.get(self.label), annotations.get(self.label))

    def namespace_is_sensitive(self, name: str, namespace: Namespace | None) -> bool:
        """Listed in the configuration, or marked by label or annotation."""
        return name in self.namespaces or (
            namespace is not None and self._marked(namespace.labels, namespace.annotations))

    def is_sensitive(self, pod: Pod, cluster: Cluster) -> bool:
        """Sensitive by its namespace, or by its own label or annotation (value ``"true"``)."""
        return (self.namespace_is_sensitive(pod.namespace, cluster.namespace(pod.namespace))
                or self._marked(pod.labels, pod.annotations))


__all__ = ["CRITICALITY", "CRITICALITY_LABEL", "SENSITIVE_LABEL", "Sensitivity"]
