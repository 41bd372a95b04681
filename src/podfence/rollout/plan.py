"""``rollout plan``: the change from the current policies to the next ones, in stages.

A stage is one namespace (or a few, ``per_stage``) whose NetworkPolicies change.
Stages run least critical first. A namespace's criticality is its
``podfence.io/criticality`` label (:data:`CRITICALITY`: ``low``, ``medium``,
``high``, ``critical``); without the label, the level ``rollout.criticality`` of
``.podfence.yaml`` gives it, else ``medium``, or ``high`` when the namespace is sensitive (:class:`~podfence.model.sensitivity.Sensitivity`). Within
one criticality, namespaces with fewer dependants go first: the other namespaces
seen connecting to it in the observed flows, or, without flows, the other
namespaces whose pods may reach it once the next policies are enforced. Names
break the remaining ties, so a plan is deterministic.

Each stage is judged on the cluster as it will be when the stage runs (every
earlier stage enforced): the policies it stages (Calico's
StagedKubernetesNetworkPolicy, ``Set`` for a new or changed policy, ``Delete``
for a removed one), what enforcing them changes (``podfence diff``'s change
model) and which observed flows they would block (``rollout check``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from podfence.diff import DiffReport, diff
from podfence.engine import Engine
from podfence.flows import FlowRecord, Skip, observe_counted
from podfence.model import Cluster, NetworkPolicy, Settings, Source, StagedAction, StagedNetworkPolicy, promoted
from podfence.model.sensitivity import CRITICALITY, CRITICALITY_LABEL, Sensitivity
from podfence.rollout.check import FlowChange, check_flows

STAGED_API_VERSION = "projectcalico.org/v3"
STAGED_KIND = "StagedKubernetesNetworkPolicy"

Records = Sequence[tuple[Source, FlowRecord | Skip, int]]


@dataclass(frozen=True, slots=True)
class PolicyStep:
    """One policy a stage changes: ``Set`` puts ``manifest`` in place, ``Delete`` removes ``namespace/name``."""

    namespace: str
    name: str
    action: StagedAction
    manifest: Mapping[str, Any] | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def staged_manifest(self) -> dict[str, Any]:
        """The StagedKubernetesNetworkPolicy that stages this step."""
        spec: dict[str, Any] = {"stagedAction": str(self.action)}
        meta: dict[str, Any] = {"name": self.name, "namespace": self.namespace}
        if self.manifest is not None:
            spec.update(copy.deepcopy(dict(self.manifest.get("spec") or {})))
            labels = (self.manifest.get("metadata") or {}).get("labels")
            if labels:
                meta["labels"] = dict(labels)
        return {"apiVersion": STAGED_API_VERSION, "kind": STAGED_KIND, "metadata": meta, "spec": spec}


@dataclass(frozen=True, slots=True)
class Stage:
    """One step of a rollout: its namespaces, what it stages and enforces, what that changes and would block."""

    number: int
    namespaces: tuple[str, ...]
    criticality: str
    dependants: int
    sensitive: bool
    steps: tuple[PolicyStep, ...]
    changes: DiffReport
    would_block: tuple[FlowChange, ...] = ()

    @property
    def enforced(self) -> tuple[PolicyStep, ...]:
        return tuple(s for s in self.steps if s.action is StagedAction.SET)

    @property
    def deleted(self) -> tuple[PolicyStep, ...]:
        return tuple(s for s in self.steps if s.action is StagedAction.DELETE)


@dataclass(frozen=True, slots=True)
class RolloutPlan:
    """Every stage in the order to run them; ``flows``/``unmatched`` count the observed records (None: no flows)."""

    stages: tuple[Stage, ...]
    flows: int | None = None
    unmatched: int | None = None


@dataclass(frozen=True, slots=True)
class _Ranked:
    namespace: str
    criticality: str
    sensitive: bool
    dependants: int

    @property
    def key(self) -> tuple[int, int, str]:
        return (CRITICALITY.index(self.criticality), self.dependants, self.namespace)


def policy_steps(current: Cluster, target: Iterable[NetworkPolicy],
                 manifests: Mapping[str, Mapping[str, Any]]) -> list[PolicyStep]:
    """The policies that differ: new or changed ones (``Set``, with their manifest), removed ones (``Delete``).

    Policies compare by meaning (their normalised form), not by where they were read.
    """
    now = {p.key: replace(p, source=None) for p in current.policies}
    wanted = {p.key: replace(p, source=None) for p in target}
    steps = [PolicyStep(p.namespace, p.name, StagedAction.SET, manifests[key])
             for key, p in wanted.items() if now.get(key) != p]
    steps += [PolicyStep(p.namespace, p.name, StagedAction.DELETE) for key, p in now.items() if key not in wanted]
    return sorted(steps, key=lambda s: (s.namespace, s.name))


def criticality_of(cluster: Cluster, namespace: str, sensitivity: Sensitivity,
                   configured: Mapping[str, str] | None = None) -> tuple[str, bool]:
    """The namespace's criticality and whether it is sensitive.

    The label, else the configuration (``rollout.criticality``), else ``medium``
    (``high`` when sensitive).
    """
    ns = cluster.namespace(namespace)
    sensitive = sensitivity.namespace_is_sensitive(namespace, ns)
    label = ns.labels.get(CRITICALITY_LABEL) if ns is not None else None
    if label in CRITICALITY:
        return str(label), sensitive
    if configured and configured.get(namespace) in CRITICALITY:
        return configured[namespace], sensitive
    return ("high" if sensitive else "medium"), sensitive


def dependants(target: Cluster, settings: Settings, records: Records | None) -> dict[str, set[str]]:
    """Per namespace, the other namespaces that connect to it: observed in ``records``, else allowed in ``target``."""
    found: dict[str, set[str]] = {}
    if records is not None:
        for src, dst, _, _ in observe_counted(records, target, settings).connections:
            if "/" in src and "/" in dst:
                a, b = src.split("/", 1)[0], dst.split("/", 1)[0]
                if a != b:
                    found.setdefault(b, set()).add(a)
        return found
    for src, dst, conns in Engine(target, settings).connectivity().pod_connections():
        if src.namespace != dst.namespace and conns:
            found.setdefault(dst.namespace, set()).add(src.namespace)
    return found


def plan_rollout(current: Cluster, target: Iterable[NetworkPolicy], manifests: Mapping[str, Mapping[str, Any]], *,
                 settings: Settings | None = None, sensitivity: Sensitivity | None = None,
                 records: Records | None = None, per_stage: int = 1,
                 criticality: Mapping[str, str] | None = None) -> RolloutPlan:
    """Stages from ``current``'s policies to ``target`` (manifests: each target policy's, by ``ns/name``).

    ``records`` (observed flows, as :func:`podfence.sources.count_flows` gives
    them) order namespaces by observed dependants and tell what each stage would
    block. ``per_stage`` namespaces go into each stage. ``criticality`` gives
    namespaces without the label their level (the configuration's).
    """
    if per_stage < 1:
        raise ValueError("per_stage must be at least 1")
    settings = settings or Settings()
    sensitivity = sensitivity or Sensitivity()
    target = tuple(target)
    steps = policy_steps(current, target, manifests)
    final = Cluster.of(current.namespaces, current.pods, current.services, target, name=current.name,
                       cluster_policies=current.cluster_policies, nodes=current.nodes)
    deps = dependants(final, settings, records)
    ranked = []
    for namespace in sorted({s.namespace for s in steps}):
        level, sensitive = criticality_of(current, namespace, sensitivity, criticality)
        ranked.append(_Ranked(namespace, level, sensitive, len(deps.get(namespace, ()))))
    ranked.sort(key=lambda r: r.key)
    stages: list[Stage] = []
    before = replace_policies(current, current.policies)
    for start in range(0, len(ranked), per_stage):
        chunk = ranked[start:start + per_stage]
        names = tuple(r.namespace for r in chunk)
        mine = tuple(s for s in steps if s.namespace in names)
        staged = tuple(StagedNetworkPolicy(s.namespace, s.name, s.action,
                                           _policy(target, s) if s.action is StagedAction.SET else None)
                       for s in mine)
        with_staged = Cluster.of(before.namespaces, before.pods, before.services, before.policies,
                                 name=before.name, cluster_policies=before.cluster_policies, nodes=before.nodes,
                                 staged=staged)
        after = replace_policies(before, promoted(with_staged).policies)
        block = check_flows(records, with_staged, settings).would_block if records is not None else ()
        worst = max(chunk, key=lambda r: CRITICALITY.index(r.criticality))
        stages.append(Stage(len(stages) + 1, names, worst.criticality, sum(r.dependants for r in chunk),
                            any(r.sensitive for r in chunk), mine, diff(before, after, settings), block))
        before = after
    flows = unmatched = None
    if records is not None:
        whole = check_flows(records, current, settings)
        flows, unmatched = whole.flows, whole.unmatched
    return RolloutPlan(tuple(stages), flows, unmatched)


def _policy(target: Sequence[NetworkPolicy], step: PolicyStep) -> NetworkPolicy:
    return next(p for p in target if p.key == step.key)


def replace_policies(cluster: Cluster, policies: Iterable[NetworkPolicy]) -> Cluster:
    """``cluster`` with ``policies`` enforced and no staged policy."""
    return Cluster.of(cluster.namespaces, cluster.pods, cluster.services, policies, name=cluster.name,
                      cluster_policies=cluster.cluster_policies, nodes=cluster.nodes)
