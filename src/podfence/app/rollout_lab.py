"""``rollout apply --lab``: a plan run in the lab.

The lab enforces NetworkPolicies for real (nftables); staged policies are
observed with the engine: after each stage's window, every pod of the stage's
namespaces is probed to and from every lab pod on the lab's TCP ports, and each
connection that gets through is judged in the promoted view (the enforced
policies plus the stage's staged ones). Those the stage's staged policies
would deny are its would-block flows. Enforcing a stage applies the policies
to the lab; the policies of stages the log says are enforced are put back in
place when a rollout resumes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from podfence.app.errors import Stop
from podfence.app.loading import load_cluster
from podfence.app.options import Run
from podfence.lab import control
from podfence.lab.plan import LabPlan, with_lab_addresses
from podfence.loader import load_objects
from podfence.model import Cluster, ClusterOrigin, NetworkPolicy, Settings, StagedNetworkPolicy
from podfence.rollout import FlowChange, StagedViews
from podfence.rollout.apply import PlanFile, PlanStage, RolloutLog
from podfence.sets import Protocol

PLAN_ORIGIN = ClusterOrigin("plan")


def _objects(manifests: Sequence[Mapping[str, Any]], settings: Settings) -> Cluster:
    result = load_objects(PLAN_ORIGIN, [dict(m) for m in manifests], settings=settings, name="plan")
    errors = [d for d in result.diagnostics if d.is_error]
    if errors:
        raise Stop(f"the plan holds a policy podfence cannot read: {errors[0].one_line()}")
    return result.cluster


def _enforced(policies: dict[str, NetworkPolicy], stage: PlanStage, settings: Settings) -> None:
    for policy in _objects(stage.enforce, settings).policies:
        policies[policy.key] = policy
    for namespace, name in stage.delete:
        policies.pop(f"{namespace}/{name}", None)


class LabRollout:
    """The lab as a :class:`~podfence.rollout.apply.Writer`, and its observation of a staged stage."""

    def __init__(self, name: str, cluster: Cluster, settings: Settings, plan: PlanFile, log: RolloutLog) -> None:
        self.name, self.cluster, self.settings = name, cluster, settings
        self.policies = {p.key: p for p in cluster.policies}
        for stage in plan.stages:
            if log.done(stage.number, "enforced"):
                _enforced(self.policies, stage, settings)
        self.state = control.require_state(name)

    def _cluster(self, staged: Sequence[StagedNetworkPolicy] = ()) -> Cluster:
        c = self.cluster
        return Cluster.of(c.namespaces, c.pods, c.services, self.policies.values(), name=c.name,
                          cluster_policies=c.cluster_policies, nodes=c.nodes, staged=staged)

    def stage(self, stage: PlanStage) -> None:
        """Nothing to put in the dataplane: the lab's staged view is the engine's (see the module)."""

    def unstage(self, stage: PlanStage) -> None:
        """Nothing was put in the dataplane when staging."""

    def enforce(self, stage: PlanStage) -> None:
        _enforced(self.policies, stage, self.settings)
        control.apply(self._cluster(), self.settings, name=self.name)

    def observe(self, stage: PlanStage) -> list[FlowChange]:
        staged = _objects(stage.staged, self.settings).staged
        placed = with_lab_addresses(self._cluster(), LabPlan(self.state.pods, self.state.pod_cidr))
        cluster = Cluster.of(placed.namespaces, placed.pods, placed.services, placed.policies, staged=staged)
        views = StagedViews(cluster, self.settings)
        ports = sorted({port for pod in self.state.pods for port in pod.tcp_ports})
        if not ports:
            return []
        cells = [(Protocol.TCP, port) for port in ports]
        mine = tuple(p.key for p in self.state.pods if p.namespace in stage.namespaces and not p.host_network)
        if not mine:
            return []
        results = [*control.probe(cells, name=self.name, sources=mine).results,
                   *control.probe(cells, name=self.name, targets=mine).results]
        keys = set(stage.staged_keys)
        seen: dict[tuple[str, str, int], tuple[str, ...]] = {}
        for r in results:
            if not r.outcome.reached:
                continue
            where = (r.probe.src.key, r.probe.dst.key, r.probe.port)
            if where in seen:
                continue
            comparison = views.compare(views.now.endpoint(where[0]), views.now.endpoint(where[1]), Protocol.TCP,
                                       where[2])
            if comparison.changed and not comparison.promoted.allowed and keys & set(comparison.policies):
                seen[where] = comparison.policies
        return [FlowChange(src, dst, "TCP", port, 1, policies) for (src, dst, port), policies in sorted(seen.items())]


def lab_target(run: Run, name: str, plan: PlanFile,
               log: RolloutLog) -> tuple[LabRollout, Callable[[PlanStage], list[FlowChange]], Callable[[], None]]:
    """The lab ``name`` (up already), with the cluster of the run's ``-f`` or the manifests ``lab up`` read."""
    control.preflight(name)
    current = control.require_state(name)
    files = list(run.options.files) or list(current.manifests)
    if not files or "-" in files:
        raise Stop("say which manifests the lab runs with -f PATH ('lab up' read standard input)")
    cluster = load_cluster(run, files, live=False).cluster
    rollout = LabRollout(name, cluster, run.settings, plan, log)
    return rollout, rollout.observe, lambda: None
