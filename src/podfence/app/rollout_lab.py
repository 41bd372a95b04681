"""``rollout apply --lab``: a plan run in the lab.

The lab enforces NetworkPolicies for real (nftables) and staged policies as
audit only (see docs/tiers.md, "In the lab"). Staging a stage puts its
StagedKubernetesNetworkPolicies into the lab's dataplane; observing it probes
every pod of the stage's namespaces to and from every lab pod on the lab's TCP
and UDP ports while reading the lab's audit records: each connection the
dataplane reports with ``verdict: AUDIT``, naming one of the stage's staged
policies, is one of its would-block flows. Enforcing a stage applies its
policies (and takes its staged ones out); the policies of stages the log says
are enforced are put back in place when a rollout resumes, and a stage the
log says is staged is staged again in the dataplane before it is observed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from podfence.app.errors import Stop
from podfence.app.loading import load_cluster
from podfence.app.options import Run
from podfence.lab import control
from podfence.lab.denials import DenialReader
from podfence.lab.naming import AUDIT_GROUP
from podfence.loader import load_objects
from podfence.model import Cluster, ClusterOrigin, NetworkPolicy, Settings, StagedNetworkPolicy
from podfence.rollout import FlowChange
from podfence.rollout.apply import PlanFile, PlanStage, RolloutLog
from podfence.sets import Protocol

PLAN_ORIGIN = ClusterOrigin("plan")
STAGED_KIND = "StagedKubernetesNetworkPolicy"


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


def audited_flows(records: Sequence[Mapping[str, Any]], staged_keys: Sequence[str]) -> list[FlowChange]:
    """The connections of the lab's ``AUDIT`` records that name one of ``staged_keys``, once each
    (source, destination, protocol, port), with every staged policy their records name."""
    keys = set(staged_keys)
    seen: dict[tuple[str, str, str, int], set[str]] = {}
    for rec in records:
        flow = rec.get("flow") or {}
        if flow.get("verdict") != "AUDIT" or not flow.get("l4"):
            continue
        direction = str(flow.get("traffic_direction", "")).lower()
        named = {f"{p.get('namespace')}/{p.get('name')}" for p in flow.get(f"{direction}_denied_by") or ()
                 if p.get("kind") == STAGED_KIND}
        if not named & keys:
            continue
        src, dst = flow.get("source") or {}, flow.get("destination") or {}
        if "pod_name" not in src or "pod_name" not in dst:
            continue
        protocol, l4 = next(iter(flow["l4"].items()))
        where = (f"{src['namespace']}/{src['pod_name']}", f"{dst['namespace']}/{dst['pod_name']}", protocol,
                 int(l4["destination_port"]))
        seen.setdefault(where, set()).update(named & keys)
    return [FlowChange(src, dst, protocol, port, 1, tuple(sorted(policies)))
            for (src, dst, protocol, port), policies in sorted(seen.items())]


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
        """The enforced policies plus the stage's staged ones (audit only) into the dataplane."""
        control.apply(self._cluster(_objects(stage.staged, self.settings).staged), self.settings, name=self.name)

    def unstage(self, stage: PlanStage) -> None:
        control.apply(self._cluster(), self.settings, name=self.name)

    def enforce(self, stage: PlanStage) -> None:
        _enforced(self.policies, stage, self.settings)
        control.apply(self._cluster(), self.settings, name=self.name)

    def observe(self, stage: PlanStage) -> list[FlowChange]:
        mine = tuple(p.key for p in self.state.pods if p.namespace in stage.namespaces and not p.host_network)
        cells = sorted({(protocol, port) for pod in self.state.pods for protocol in (Protocol.TCP, Protocol.UDP)
                        for port in pod.ports(protocol)})
        if not mine or not cells:
            return []
        self.stage(stage)  # a resumed rollout finds the stage staged in its log; nothing changes if it is
        # every record counts: the same connection may be audited at both ends, and by retries
        reader = DenialReader(control.require_state(self.name), window=0.0, group=AUDIT_GROUP)
        try:
            try:
                reader.open()
            except OSError as exc:
                raise control.LabError(f"cannot subscribe to the lab's audit log ({exc.strerror or exc}); "
                                       "is another 'rollout apply' running on this lab?") from None
            control.probe(cells, name=self.name, sources=mine)
            control.probe(cells, name=self.name, targets=mine)
            records = reader.drain(quiet=0.3)
        finally:
            reader.close()
        return audited_flows(records, stage.staged_keys)


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
