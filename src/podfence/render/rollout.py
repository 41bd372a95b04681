"""``rollout check`` for people (what would break first) and for machines (the JSON contract)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from podfence.diff import GroupReport
from podfence.render.conns import conns_json, conns_text
from podfence.render.diff import change_text, endpoints_text, summary_text
from podfence.render.escape import md_row, md_text, text_lines
from podfence.render.json_text import json_document
from podfence.render.manifests import manifest_chunks
from podfence.rollout import FlowChange, RolloutCheck, RolloutPlan, Stage
from podfence.rollout.apply import ApplyResult

FORMATS = ("text", "json")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _change(c: FlowChange) -> str:
    caused = ", ".join(c.policies) or "the staged policies"
    return f"  {c.src} -> {c.dst} {c.protocol} {c.port} ({_plural(c.count, 'flow')}): {caused}"


def check_text(check: RolloutCheck, sources: Sequence[str]) -> str:
    """What enforcing the staged policies would block first, then what it would allow, then the accounting."""
    lines: list[str] = []
    if check.would_block:
        seen = sum(c.count for c in check.would_block)
        lines.append(f"WOULD BLOCK {_plural(len(check.would_block), 'connection')} ({_plural(seen, 'flow')} "
                     "observed allowed) once the staged policies are enforced:")
        lines += [_change(c) for c in check.would_block]
    else:
        lines.append("Nothing observed would be blocked once the staged policies are enforced.")
    if check.would_allow:
        seen = sum(c.count for c in check.would_allow)
        lines.append(f"would allow {_plural(len(check.would_allow), 'connection')} ({_plural(seen, 'flow')}) "
                     "denied by the enforced policies now:")
        lines += [_change(c) for c in check.would_allow]
    staged = ", ".join(check.staged) if check.staged else "none in the manifests"
    lines.append(f"flows: {_plural(check.flows, 'record')} from {', '.join(sources)}: "
                 f"{_plural(check.connections, 'distinct connection')}, {check.unmatched} unmatched; "
                 f"staged policies: {staged}")
    for reason, count, first in check.unmatched_reasons:
        lines.append(f"  {count} x {reason}" + (f" (first: {first})" if first is not None else ""))
    return text_lines(lines)


def rollout_data(check: RolloutCheck) -> dict[str, Any]:
    """What ``rollout check`` found, as the JSON contract's data."""
    return check.to_json()


def check_json(check: RolloutCheck) -> str:
    return json_document(rollout_data(check))


# ---- rollout plan ------------------------------------------------------------------

PLAN_FORMATS = ("text", "md", "json")
PLAN_VERSION = 1
STAGED_RESOURCE = "stagedkubernetesnetworkpolicies.projectcalico.org"
_END = "PODFENCE_EOF"


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """What the plan was made from, for its commands: ``-f`` paths, ``--to`` paths, ``--flows`` files."""

    current: tuple[str, ...] = ()
    next: tuple[str, ...] = ()
    flows: tuple[str, ...] = ()


def _yaml(manifests: Sequence[Mapping[str, Any]]) -> str:
    return "".join(manifest_chunks(manifests))


def _heredoc(command: str, manifests: Sequence[Mapping[str, Any]]) -> str:
    return f"{command} -f - <<'{_END}'\n{_yaml(manifests)}{_END}"


def stage_commands(stage: Stage, inputs: PlanInputs) -> dict[str, str]:
    """The shell commands that run ``stage`` by hand with kubectl (the current context), in order."""
    apply = "kubectl apply --server-side --field-manager=podfence"
    by_namespace: dict[str, list[str]] = {}
    for s in stage.steps:
        by_namespace.setdefault(s.namespace, []).append(shlex.quote(s.name))
    unstage = [f"kubectl delete {STAGED_RESOURCE} -n {shlex.quote(ns)} {' '.join(names)}"
               for ns, names in sorted(by_namespace.items())]
    enforce = []
    if stage.enforced:
        enforce.append(_heredoc(apply, [s.manifest for s in stage.enforced if s.manifest is not None]))
    enforce += [f"kubectl delete networkpolicy -n {shlex.quote(s.namespace)} {shlex.quote(s.name)} "
                "--ignore-not-found" for s in stage.deleted]
    flows = " ".join(f"--flows {shlex.quote(f)}" for f in inputs.flows) or "--flows FLOWS.jsonl"
    return {
        "stage": _heredoc(apply, [s.staged_manifest() for s in stage.steps]),
        "check": f"podfence rollout check {flows}",
        "enforce": "\n".join([*enforce, *unstage]),
        "rollback": "\n".join(unstage),
    }


def _changes_json(stage: Stage) -> dict[str, Any]:
    groups = []
    for g in stage.changes.groups:
        entry: dict[str, Any] = {"srcs": list(g.group.srcs), "dsts": list(g.group.dsts)}
        if g.group.added:
            entry["added"] = conns_json(g.group.added)
        if g.group.removed:
            entry["removed"] = conns_json(g.group.removed)
        groups.append(entry)
    return {"added": stage.changes.diff.added, "removed": stage.changes.diff.removed, "groups": groups}


def plan_data(plan: RolloutPlan, inputs: PlanInputs) -> dict[str, Any]:
    """The plan as the JSON contract of docs/rollout.md (what ``rollout apply`` reads)."""
    stages = []
    for stage in plan.stages:
        stages.append({
            "stage": stage.number,
            "namespaces": list(stage.namespaces),
            "criticality": stage.criticality,
            "sensitive": stage.sensitive,
            "dependants": stage.dependants,
            "policies": [{"namespace": s.namespace, "name": s.name, "action": str(s.action)} for s in stage.steps],
            "staged": [s.staged_manifest() for s in stage.steps],
            "enforce": [dict(s.manifest) for s in stage.enforced if s.manifest is not None],
            "delete": [{"namespace": s.namespace, "name": s.name} for s in stage.deleted],
            "changes": _changes_json(stage),
            "would_block": [c.to_json() for c in stage.would_block],
            "commands": stage_commands(stage, inputs),
        })
    observed = None if plan.flows is None else {"flows": plan.flows, "unmatched": plan.unmatched}
    return {"plan_version": PLAN_VERSION, "current": list(inputs.current), "next": list(inputs.next),
            "flows": list(inputs.flows), "observed": observed, "stages": stages}


def plan_json(plan: RolloutPlan, inputs: PlanInputs) -> str:
    return json_document(plan_data(plan, inputs))


def _steps_text(stage: Stage) -> str:
    return ", ".join(f"{s.action} {s.key}" for s in stage.steps)


def _stage_head(stage: Stage) -> str:
    marks = [stage.criticality, _plural(stage.dependants, "dependant")]
    if stage.sensitive:
        marks.append("sensitive")
    return f"stage {stage.number}: {', '.join(stage.namespaces)} ({'; '.join(marks)})"


def _group_line(g: GroupReport) -> str:
    return f"{endpoints_text(g.group.srcs)} -> {endpoints_text(g.group.dsts)}: {change_text(g.group)}"


def plan_text(plan: RolloutPlan, inputs: PlanInputs) -> str:
    """Every stage in order: what it stages, what that changes, what it would block, and how to run it."""
    if not plan.stages:
        return text_lines(["No policy changes: nothing to roll out."])
    steps = sum(len(s.steps) for s in plan.stages)
    names = sum(len(s.namespaces) for s in plan.stages)
    blocked = sum(1 for s in plan.stages if s.would_block)
    lines = [f"rollout plan: {_plural(len(plan.stages), 'stage')}, {_plural(steps, 'policy change')} in "
             f"{_plural(names, 'namespace')}, least critical first"]
    if plan.flows is not None:
        lines.append(f"observed flows: {_plural(plan.flows, 'record')} ({plan.unmatched} unmatched); "
                     + (f"{_plural(blocked, 'stage')} would block observed traffic" if blocked
                        else "no stage would block observed traffic"))
    for stage in plan.stages:
        lines += ["", _stage_head(stage), f"  stages then enforces: {_steps_text(stage)}"]
        if stage.changes.groups:
            lines.append(f"  changes: {summary_text(stage.changes)}")
            lines += [f"    {_group_line(g)}" for g in stage.changes.by_danger()]
        else:
            lines.append("  changes: no change in connectivity")
        if stage.would_block:
            lines.append(f"  WOULD BLOCK {_plural(len(stage.would_block), 'observed connection')}:")
            lines += [f"  {_change(c)}" for c in stage.would_block]
        elif plan.flows is not None:
            lines.append("  would block: nothing observed")
    lines += ["", "Run it stage by stage: podfence rollout apply PLAN (--context NAME | --lab NAME), PLAN written "
                  "by --write plan.json; -o md shows each stage's manifests and kubectl commands."]
    return text_lines(lines)


def _fence(text: str, info: str = "") -> list[str]:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + info, text.rstrip("\n"), fence]


def plan_md(plan: RolloutPlan, inputs: PlanInputs) -> str:
    """A change request a team can review: one section per stage, with its manifests and commands."""
    lines = ["## podfence rollout plan", ""]
    if not plan.stages:
        lines.append("No policy changes: nothing to roll out.")
        return "\n".join(lines) + "\n"
    lines += ["| Stage | Namespaces | Criticality | Dependants | Policies | Changes | Would block |",
              "|---|---|---|---|---|---|---|"]
    for stage in plan.stages:
        block = str(sum(c.count for c in stage.would_block)) + " flows" if stage.would_block else (
            "nothing observed" if plan.flows is not None else "no flows given")
        lines.append(md_row([str(stage.number), md_text(", ".join(stage.namespaces)), stage.criticality
                             + (" (sensitive)" if stage.sensitive else ""), str(stage.dependants),
                             md_text(_steps_text(stage)), md_text(summary_text(stage.changes)
                                                                  if stage.changes.groups else "none"), block]))
    if plan.flows is not None:
        lines += ["", f"Observed flows: {plan.flows} records ({plan.unmatched} unmatched)."]
    for stage in plan.stages:
        lines += ["", f"### Stage {stage.number}: {md_text(', '.join(stage.namespaces))}", ""]
        lines.append(f"Stages, then enforces: {md_text(_steps_text(stage))}.")
        lines.append("")
        if stage.changes.groups:
            lines += ["| From | To | Added | Removed |", "|---|---|---|---|"]
            lines += [md_row([md_text(endpoints_text(g.group.srcs)), md_text(endpoints_text(g.group.dsts)),
                              conns_text(g.group.added) if g.group.added else "",
                              conns_text(g.group.removed) if g.group.removed else ""])
                      for g in stage.changes.by_danger()]
        else:
            lines.append("No change in connectivity.")
        lines.append("")
        if stage.would_block:
            lines += [f"**Would block {_plural(len(stage.would_block), 'observed connection')}:**", ""]
            lines += [f"- {md_text(_change(c).strip())}" for c in stage.would_block]
        elif plan.flows is not None:
            lines.append("Would block nothing observed.")
        commands = stage_commands(stage, inputs)
        for phase, title in (("stage", "Stage (log only)"), ("check", "Check what it would block"),
                             ("enforce", "Enforce"), ("rollback", "Roll back (before enforcing)")):
            lines += ["", f"{title}:", "", *_fence(commands[phase] + "\n", "sh")]
    return "\n".join(lines) + "\n"


def render_plan(plan: RolloutPlan, inputs: PlanInputs, output: str) -> str:
    match output:
        case "json":
            return plan_json(plan, inputs)
        case "md":
            return plan_md(plan, inputs)
        case _:
            return plan_text(plan, inputs)


def apply_text(result: ApplyResult, total: int, threshold: int, log: object) -> str:
    """How the rollout went: every stage run, and where and why it stopped."""
    lines = []
    for stage in result.stages:
        seen = sum(c.count for c in stage.would_block)
        lines.append(f"stage {stage.number}: {stage.status}" + ("" if stage.status == "already enforced" else
                                                                  f" ({_plural(seen, 'observed flow')} would be "
                                                                  f"blocked, threshold {threshold})"))
        lines += [f"  {_change(c)}" for c in stage.would_block]
    if result.stopped is not None:
        lines.append(f"STOPPED at stage {result.stopped.number} of {total}: more than {threshold} observed flows "
                     "would be blocked; fix them (or raise --threshold) and run again to resume (log: "
                     f"{log})")
    else:
        lines.append(f"rollout done: {total} of {total} stages enforced (log: {log})")
    return text_lines(lines)


def apply_data(result: ApplyResult, total: int, threshold: int, log: object) -> dict[str, Any]:
    """How the rollout went, as the JSON contract's data: each stage run (its status and the observed flows
    that would be blocked), where it stopped (``null``: every stage is enforced), the threshold and the log."""
    return {
        "stages": [{"stage": stage.number, "status": stage.status,
                    "would_block_flows": sum(c.count for c in stage.would_block),
                    "would_block": [c.to_json() for c in stage.would_block]} for stage in result.stages],
        "total": total,
        "stopped": result.stopped.number if result.stopped is not None else None,
        "threshold": threshold,
        "log": str(log),
    }


def render_apply(result: ApplyResult, total: int, threshold: int, log: object, output: str) -> str:
    if output == "json":
        return json_document(apply_data(result, total, threshold, log))
    return apply_text(result, total, threshold, log)
