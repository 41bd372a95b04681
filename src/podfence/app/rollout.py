"""The rollout use cases: carry staged policies into enforcement without an outage.

:func:`check` replays observed flows (Hubble, Calico flow logs or the lab's
denial stream) against the enforced policies and against the promoted view
(every staged policy enforced), and returns what would break. :func:`plan`
splits the change from the current policies to the next ones into stages, and
:func:`apply` runs such a plan stage by stage on a live cluster or in a lab.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence, TextIO

from podfence.app.applying import policy_manifest
from podfence.app.errors import Stop, stop_on_errors
from podfence.app.loading import load_cluster
from podfence.app.options import Listener, Options, choose, prepare
from podfence.app.writing import check_writable, write_file
from podfence.flows import FlowRecord, Skip
from podfence.loader import codes
from podfence.loader.limits import Budget
from podfence.model import Source
from podfence.render.rollout import PlanInputs, plan_json
from podfence.rollout import FlowChange, RolloutCheck, RolloutPlan, check_flows, plan_rollout
from podfence.rollout.apply import (
    ApplyError, ApplyResult, ManifestWriter, PlanError, PlanStage, RolloutLog, read_plan, run_plan,
)
from podfence.sources import count_flows
from podfence.sources.writes import ClusterWriter, WriteRefused

FLOW_FORMATS = ("auto", "hubble", "calico", "lab")
# The lab's denial stream is Hubble-shaped: both are read by the Hubble reader.
_READER = {"hubble": "hubble", "lab": "hubble", "calico": "calico"}
_NAMES = {"hubble": "a Hubble flow", "lab": "a lab denial record", "calico": "a Calico flow log record"}

Counted = tuple[tuple[Source, FlowRecord | Skip, int], ...]


def _only(records: Counted, flow_format: str) -> Counted:
    """Records of another format than ``--flows-format`` become unmatched records, with the reason."""
    if flow_format == "auto":
        return records
    wanted = _READER[flow_format]
    other = Skip(f"not {_NAMES[flow_format]} (--flows-format {flow_format})", problem=True)
    return tuple((where, record if isinstance(record, Skip) or record.format == wanted else other, times)
                 for where, record, times in records)


def _read_flows(flows: Sequence[str], flows_format: str, budget: Budget, stdin: TextIO | None = None) -> Counted:
    """The records of ``--flows``, counted; a file that cannot be read stops the run (exit 2)."""
    read = count_flows(list(flows), budget, stdin)
    if read.problem is not None:
        if read.problem.code == codes.LIMIT:
            stop_on_errors([read.problem])
        raise Stop(f"--flows {read.problem.one_line()}")
    return _only(read.records, flows_format)


def check(options: Options, flows: Sequence[str], flows_format: str = "auto", listener: Listener | None = None,
          stdin: TextIO | None = None) -> RolloutCheck:
    """What enforcing the staged policies would block (and allow) among the observed flows."""
    choose(flows_format, FLOW_FORMATS, "--flows-format")
    if not flows:
        raise Stop("no flows given: use --flows FILE (Hubble, Calico or lab records, one JSON object a line)")
    run = prepare(options, listener)
    if "-" in options.files and "-" in flows:
        raise Stop("-f - and --flows - both read standard input: give one of them a file")
    result = load_cluster(run)
    records = _read_flows(flows, flows_format, run.budget, stdin)
    with run.busy("replaying flows"):
        return check_flows(records, result.cluster, run.settings)


@dataclass(frozen=True, slots=True)
class Planned:
    """A rollout plan and what it was made from (for its commands and its JSON)."""

    plan: RolloutPlan
    inputs: PlanInputs


def plan(options: Options, to: Sequence[str], listener: Listener | None = None, *, flows: Sequence[str] = (),
         flows_format: str = "auto", per_stage: int = 1, write_plan: str | None = None, force: bool = False,
         stdin: TextIO | None = None) -> Planned:
    """Stages from the current policies (the source) to the next ones (``to``), least critical first.

    With ``write_plan`` the plan is also written there as JSON, for :func:`apply`.
    """
    choose(flows_format, FLOW_FORMATS, "--flows-format")
    if not to:
        raise Stop("no next policies given: use --to PATH (the next version of the policies)")
    if sum(list(paths).count("-") for paths in (options.files, to, flows)) > 1:
        raise Stop("standard input (-) can be read once: give the others as files")
    if write_plan is not None:
        check_writable(Path(write_plan), force, "--write")
    run = prepare(options, listener)
    current = load_cluster(run)
    with run.busy("reading the next policies"):
        nxt = load_cluster(run, list(to), live=False, keep_documents=True)
    manifests = {p.key: policy_manifest(nxt.documents.get(p.source) if p.source is not None else None,
                                        p.namespace, p.name) for p in nxt.cluster.policies}
    records = _read_flows(flows, flows_format, run.budget, stdin) if flows else None
    with run.busy("planning the rollout"):
        result = plan_rollout(current.cluster, nxt.cluster.policies, manifests, settings=run.settings,
                              sensitivity=run.config.sensitive, records=records, per_stage=per_stage,
                              criticality=dict(run.config.criticality))
    inputs = PlanInputs(tuple(options.files), tuple(to), tuple(flows))
    if write_plan is not None:
        write_file(Path(write_plan), plan_json(result, inputs), force, "--write")
    return Planned(result, inputs)


@dataclass(frozen=True, slots=True)
class Applied:
    """How a plan's run went: each stage's result, the plan's stage count, the threshold and the log."""

    result: ApplyResult
    stages: int
    threshold: int
    log: Path


def apply(options: Options, plan_file: str, listener: Listener | None = None, *, lab: str | None = None,
          flows: Sequence[str] = (), flows_format: str = "auto", window: float = 60.0, threshold: int = 0,
          auto_rollback: bool = False, log: str | None = None) -> Applied:
    """Run a plan stage by stage: stage, observe for ``window``, enforce when at most ``threshold`` observed
    flows would be blocked, else stop. Where: the lab ``lab``, or the live cluster of ``options.live``'s context.
    """
    choose(flows_format, FLOW_FORMATS, "--flows-format")
    live = options.live
    context = live.context if live is not None else None
    if (lab is None) == (context is None):
        raise Stop("name where to run the plan: --lab NAME or --context NAME (one of them)")
    run = prepare(options, listener)
    try:
        text = Path(plan_file).read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise Stop(f"{plan_file}: cannot read the plan: {getattr(e, 'strerror', None) or e}") from None
    try:
        the_plan = read_plan(text, plan_file)
        rollout_log = RolloutLog(Path(log or f"{plan_file}.log"), the_plan)
    except PlanError as e:
        raise Stop(str(e)) from None
    observed_flows = list(flows) or list(the_plan.flows)
    failures: tuple[type[Exception], ...] = (WriteRefused, ApplyError)
    if lab is not None:
        from podfence.app.rollout_lab import lab_target
        from podfence.lab.control import LabError

        failures = (*failures, LabError)

        try:
            writer, observe, finish = lab_target(run, lab, the_plan, rollout_log)
        except LabError as e:
            raise Stop(str(e)) from None
        run.say(f"lab {lab!r}: each stage's staged policies go into the lab as audit-only rules; its namespaces "
                "are probed and the lab's AUDIT records naming them are its would-block flows")
    else:
        assert live is not None
        if not observed_flows:
            raise Stop("no flows to observe: give --flows FILE (or write the plan with --flows)")
        try:
            cluster_api = ClusterWriter(live.kubeconfig, context, live.timeout)
        except WriteRefused as e:
            raise Stop(str(e)) from None
        writer = ManifestWriter(cluster_api.apply, cluster_api.delete)

        def observe(stage: PlanStage) -> list[FlowChange]:
            fresh = replace(run, budget=Budget(max_input_bytes=options.max_input_bytes,
                                               max_objects=options.max_objects))  # each observation reads anew
            result = load_cluster(fresh, allow_empty=False)
            records = _read_flows(observed_flows, flows_format, fresh.budget)
            keys = set(stage.staged_keys)
            return [c for c in check_flows(records, result.cluster, run.settings).would_block
                    if keys & set(c.policies)]

        finish = cluster_api.close
    try:
        result = run_plan(the_plan, writer, observe, rollout_log, threshold=threshold, window=window,
                          auto_rollback=auto_rollback, wait=time.sleep, say=run.say)
    except failures as e:
        raise Stop(str(e)) from None
    finally:
        finish()
    return Applied(result, len(the_plan.stages), threshold, rollout_log.path)


__all__ = ["FLOW_FORMATS", "Applied", "Planned", "apply", "check", "plan"]
