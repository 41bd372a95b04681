"""What the monitor learns from the manifests (``-f``): workloads and policies for events, and gauges.

With manifests, an event whose record names no owning workload or no policy gets
them from the manifests: the workload they define for the pod (a bare Pod has
none), and the policies that isolate it in the event's direction (the enforced
ones for a drop, the staged ones, once enforced, for an audit).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from podfence.config import Config
from podfence.engine import isolating_policies
from podfence.flows import FlowEnd, WorkloadIndex
from podfence.lint import lint
from podfence.model import Cluster, Direction, Pod, Settings, promoted
from podfence.monitor.events import AUDIT, Event


class ManifestContext:
    """The manifests' view of the pods events name (cached per end), and their gauges."""

    def __init__(self, cluster: Cluster, settings: Settings, config: Config) -> None:
        self.cluster = cluster
        self.settings = settings
        self.config = config
        self.promoted = promoted(cluster)
        self.index = WorkloadIndex(cluster, settings)
        self.staged = frozenset(s.key for s in cluster.staged)
        self._known: dict[tuple[FlowEnd, Direction, bool], tuple[str, str]] = {}

    def complete(self, event: Event) -> Event:
        """``event`` with the workload and policies the record left out, from the manifests."""
        if event.end is None or (event.workload and event.policy):
            return event
        audit = event.verdict == AUDIT
        key = (event.end, event.direction, audit)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = self._lookup(event.end, event.direction, audit)
        workload, policy = found
        return replace(event, workload=event.workload or workload, policy=event.policy or policy)

    def _lookup(self, end: FlowEnd, direction: Direction, audit: bool) -> tuple[str, str]:
        pod = self.index.pod(end)
        if not isinstance(pod, Pod):
            return "", ""
        workload = pod.name if pod.kind != "Pod" else ""
        cluster = self.promoted if audit else self.cluster
        keys = [p.ref.key for p in isolating_policies(cluster, cluster.pod(pod.key) or pod, direction, self.settings)]
        if audit:
            keys = [k for k in keys if k in self.staged]
        return workload, ",".join(sorted(keys))

    def isolated_ratios(self) -> dict[tuple[str, str], float]:
        """Per namespace and direction, the share of its pods that some policy isolates."""
        totals: Counter[str] = Counter()
        isolated: Counter[tuple[str, str]] = Counter()
        for pod in self.cluster.pods:
            if not pod.is_pod_endpoint(self.settings):
                continue
            totals[pod.namespace] += 1
            for direction in Direction:
                if isolating_policies(self.cluster, pod, direction, self.settings):
                    isolated[(pod.namespace, direction.value)] += 1
        return {(ns, d.value): isolated[(ns, d.value)] / n for ns, n in sorted(totals.items()) for d in Direction}

    def lint_counts(self) -> dict[tuple[str, str], int]:
        """Lint findings per rule and severity."""
        found = Counter((f.rule, f.severity.value) for f in lint(self.cluster, self.config, self.settings))
        return dict(sorted(found.items()))
