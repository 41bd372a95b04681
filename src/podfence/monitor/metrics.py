"""The monitor's Prometheus metrics, in a registry of their own.

* ``podfence_denied_connections_total{direction, namespace, workload, policy}``:
  denied connections, counted on the side that drops them (the destination for
  ingress, the source for egress);
* ``podfence_staged_would_deny_total{direction, namespace, workload, policy}``:
  connections a staged policy would deny (Hubble's ``AUDIT`` verdict);
* ``podfence_flows_processed_total{source, verdict}``: every record read;

A Calico flow log record stands for ``num_flows`` connections, and counts as many
in the first two.
* from the manifests: ``podfence_pods_isolated_ratio{namespace, direction}`` and
  ``podfence_lint_findings{rule, severity}``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from podfence.monitor.events import AUDIT, DROPPED, Event

SIDE_LABELS = ("direction", "namespace", "workload", "policy")


class Metrics:
    """Counts events; the children of each label set are kept, so counting one is a dictionary lookup."""

    def __init__(self, source: str, registry: CollectorRegistry | None = None) -> None:
        self.source = source
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.denied = Counter("podfence_denied_connections", "Denied connections, counted on the dropping side.",
                              SIDE_LABELS, registry=self.registry)
        self.would_deny = Counter("podfence_staged_would_deny",
                                  "Connections a staged policy would deny (AUDIT verdicts).", SIDE_LABELS,
                                  registry=self.registry)
        self.processed = Counter("podfence_flows_processed", "Flow records read, by verdict.", ("source", "verdict"),
                                 registry=self.registry)
        self.isolated = Gauge("podfence_pods_isolated_ratio", "Share of a namespace's pods isolated by a policy "
                              "(from the manifests).", ("namespace", "direction"), registry=self.registry)
        self.findings = Gauge("podfence_lint_findings", "Lint findings of the manifests.", ("rule", "severity"),
                              registry=self.registry)
        self._children: dict[tuple[object, ...], object] = {}

    def count(self, event: Event) -> None:
        key = ("p", event.verdict)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.processed.labels(self.source, event.verdict)
        child.inc()  # type: ignore[attr-defined]
        if event.verdict not in (DROPPED, AUDIT):
            return
        key = (event.verdict, event.direction, event.namespace, event.workload, event.policy)
        child = self._children.get(key)
        if child is None:
            counter = self.denied if event.verdict == DROPPED else self.would_deny
            child = self._children[key] = counter.labels(event.direction.value, event.namespace, event.workload,
                                                         event.policy)
        child.inc(event.connections)  # type: ignore[attr-defined]

    def set_manifest_gauges(self, ratios: dict[tuple[str, str], float], findings: dict[tuple[str, str], int]) -> None:
        for (namespace, direction), ratio in ratios.items():
            self.isolated.labels(namespace, direction).set(ratio)
        for (rule, severity), n in findings.items():
            self.findings.labels(rule, severity).set(n)
