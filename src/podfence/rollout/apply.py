"""``rollout apply``: a plan run stage by stage, with a log that makes it resumable.

For each stage: stage its policies (log only), observe for a window, then
enforce them when the observed would-block count stays at or under the
threshold; otherwise stop (and, asked to, remove the staged policies again).
Where the policies go and how traffic is observed are seams
(:class:`Writer`, :data:`Observe`): a live cluster's API, or the lab.

Every step is a line of the rollout log (JSON lines, each flushed and fsync'd
before the next step starts). A run reads the log first and skips what it
says is done, so a rollout killed at any point resumes without staging or
enforcing a stage twice. The log names the plan by digest: one log, one plan.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from podfence.rollout.check import FlowChange

LOG_VERSION = 1


class PlanError(Exception):
    """A plan file or a rollout log podfence cannot use; the message is one line naming the file and field."""


@dataclass(frozen=True, slots=True)
class PlanStage:
    """What ``rollout apply`` needs of one stage of a plan."""

    number: int
    namespaces: tuple[str, ...]
    staged: tuple[Mapping[str, Any], ...]
    enforce: tuple[Mapping[str, Any], ...]
    delete: tuple[tuple[str, str], ...]

    @property
    def staged_keys(self) -> tuple[str, ...]:
        return tuple(f"{m['metadata']['namespace']}/{m['metadata']['name']}" for m in self.staged)


@dataclass(frozen=True, slots=True)
class PlanFile:
    """A plan written by ``rollout plan --write``: its digest (which names it in logs) and stages."""

    digest: str
    stages: tuple[PlanStage, ...]
    flows: tuple[str, ...] = ()


def _want(value: Any, kind: type, where: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise PlanError(f"{where}: must be {'a list' if kind is list else 'an object' if kind is dict else kind.__name__}")
    return value


def _manifest(doc: Any, where: str, kind: str) -> Mapping[str, Any]:
    _want(doc, dict, where)
    if doc.get("kind") != kind:
        raise PlanError(f"{where}.kind: must be {kind}")
    meta = _want(doc.get("metadata"), dict, f"{where}.metadata")
    for key in ("name", "namespace"):
        if not isinstance(meta.get(key), str) or not meta[key]:
            raise PlanError(f"{where}.metadata.{key}: must be a non-empty string")
    return doc


def read_plan(text: str, name: str) -> PlanFile:
    """The plan in ``text`` (the JSON of ``rollout plan --write``); :class:`PlanError` names file and field."""
    try:
        data = json.loads(text)
    except ValueError as e:
        raise PlanError(f"{name}: not a rollout plan: not JSON ({e})") from None
    _want(data, dict, name)
    if data.get("plan_version") != 1:
        raise PlanError(f"{name}: plan_version: must be 1 (a plan written by podfence rollout plan --write)")
    stages = []
    for i, raw in enumerate(_want(data.get("stages"), list, f"{name}: stages")):
        where = f"{name}: stages[{i}]"
        _want(raw, dict, where)
        number = _want(raw.get("stage"), int, f"{where}.stage")
        namespaces = tuple(_want(raw.get("namespaces"), list, f"{where}.namespaces"))
        staged = tuple(_manifest(m, f"{where}.staged[{j}]", "StagedKubernetesNetworkPolicy")
                       for j, m in enumerate(_want(raw.get("staged"), list, f"{where}.staged")))
        enforce = tuple(_manifest(m, f"{where}.enforce[{j}]", "NetworkPolicy")
                        for j, m in enumerate(_want(raw.get("enforce"), list, f"{where}.enforce")))
        delete = []
        for j, ref in enumerate(_want(raw.get("delete"), list, f"{where}.delete")):
            _want(ref, dict, f"{where}.delete[{j}]")
            if not all(isinstance(ref.get(k), str) and ref[k] for k in ("namespace", "name")):
                raise PlanError(f"{where}.delete[{j}]: must name a namespace and a name")
            delete.append((ref["namespace"], ref["name"]))
        if number != i + 1:
            raise PlanError(f"{where}.stage: must be {i + 1} (stages in order)")
        stages.append(PlanStage(number, tuple(str(n) for n in namespaces), staged, enforce, tuple(delete)))
    flows = tuple(str(f) for f in data.get("flows") or () if isinstance(f, str))
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
    return PlanFile(digest, tuple(stages), flows)


# ---- the log ------------------------------------------------------------------------


class RolloutLog:
    """The rollout log: one JSON object a line, each fsync'd before the step it records is taken as done."""

    def __init__(self, path: Path, plan: PlanFile) -> None:
        self.path, self.plan = path, plan
        self.events: list[dict[str, Any]] = []
        if path.exists():
            raw = path.read_bytes()
            if raw and not raw.endswith(b"\n"):
                # a last line cut short by a crash: the step it began is not done; drop it so appends stay whole
                raw = raw[: raw.rfind(b"\n") + 1]
                os.truncate(path, len(raw))
            for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    raise PlanError(f"{path}:{number}: not a rollout log line (JSON)") from None
                if not isinstance(event, dict) or event.get("plan") != plan.digest:
                    other = event.get("plan") if isinstance(event, dict) else "?"
                    raise PlanError(f"{path}:{number}: the log of another plan (plan {other}, this plan is "
                                    f"{plan.digest}): give another --log FILE")
                self.events.append(event)

    def done(self, stage: int, step: str) -> bool:
        """True when ``step`` of ``stage`` is logged and no later rollback undid it."""
        state = False
        for e in self.events:
            if e.get("stage") == stage:
                if e.get("step") == step:
                    state = True
                elif e.get("step") == "rolled-back":
                    state = False
        return state

    def write(self, stage: int, step: str, **details: Any) -> None:
        event = {"log": LOG_VERSION, "plan": self.plan.digest, "stage": stage, "step": step, **details}
        line = json.dumps(event, sort_keys=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        self.events.append(event)


# ---- running a plan -----------------------------------------------------------------


class Writer(Protocol):
    """Where a rollout puts policies: each call does all of its stage's objects, or raises :class:`ApplyError`."""

    def stage(self, stage: PlanStage) -> None: ...
    def enforce(self, stage: PlanStage) -> None: ...
    def unstage(self, stage: PlanStage) -> None: ...


class ApplyError(Exception):
    """A write the target refused (the message names the object and the answer)."""


Observe = Callable[[PlanStage], Sequence[FlowChange]]


@dataclass(frozen=True, slots=True)
class StageResult:
    number: int
    status: str  # "enforced", "already enforced", "stopped", "rolled back"
    would_block: tuple[FlowChange, ...] = ()


@dataclass(frozen=True, slots=True)
class ApplyResult:
    stages: tuple[StageResult, ...] = ()
    stopped: StageResult | None = None
    events: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.stopped is None


def run_plan(plan: PlanFile, writer: Writer, observe: Observe, log: RolloutLog, *, threshold: int = 0,
             window: float = 0.0, auto_rollback: bool = False, wait: Callable[[float], None] | None = None,
             say: Callable[[str], None] = lambda _: None) -> ApplyResult:
    """Run every stage of ``plan`` not yet enforced according to ``log``; stop at the first that would block
    more than ``threshold`` observed flows."""
    results: list[StageResult] = []
    for stage in plan.stages:
        n = stage.number
        if log.done(n, "enforced"):
            say(f"stage {n} ({', '.join(stage.namespaces)}): already enforced (log), skipped")
            results.append(StageResult(n, "already enforced"))
            continue
        if log.done(n, "staged"):
            say(f"stage {n}: already staged (log)")
        else:
            log.write(n, "staging", policies=list(stage.staged_keys))
            writer.stage(stage)
            log.write(n, "staged")
            say(f"stage {n} ({', '.join(stage.namespaces)}): staged {', '.join(stage.staged_keys)}")
        if window > 0 and wait is not None:
            say(f"stage {n}: observing for {window:g} s")
            wait(window)
        blocked = tuple(observe(stage))
        count = sum(c.count for c in blocked)
        log.write(n, "observed", would_block=count, threshold=threshold)
        if count > threshold:
            say(f"stage {n}: {count} observed flows would be blocked (threshold {threshold}): stopped")
            log.write(n, "stopped", would_block=count)
            status = "stopped"
            if auto_rollback:
                writer.unstage(stage)
                log.write(n, "rolled-back")
                say(f"stage {n}: staged policies removed (--auto-rollback)")
                status = "rolled back"
            result = StageResult(n, status, blocked)
            results.append(result)
            return ApplyResult(tuple(results), result)
        log.write(n, "enforcing")
        writer.enforce(stage)
        log.write(n, "enforced")
        say(f"stage {n}: enforced ({count} observed flows would be blocked, threshold {threshold})")
        results.append(StageResult(n, "enforced", blocked))
    return ApplyResult(tuple(results))


class ManifestWriter:
    """A :class:`Writer` from two primitives: apply one manifest, delete one object (kind, namespace, name)."""

    def __init__(self, apply: Callable[[Mapping[str, Any]], None],
                 delete: Callable[[str, str, str], None]) -> None:
        self.apply, self.delete = apply, delete

    def stage(self, stage: PlanStage) -> None:
        for manifest in stage.staged:
            self.apply(manifest)

    def enforce(self, stage: PlanStage) -> None:
        for manifest in stage.enforce:
            self.apply(manifest)
        for namespace, name in stage.delete:
            self.delete("NetworkPolicy", namespace, name)
        self.unstage(stage)

    def unstage(self, stage: PlanStage) -> None:
        for manifest in stage.staged:
            self.delete("StagedKubernetesNetworkPolicy", manifest["metadata"]["namespace"],
                        manifest["metadata"]["name"])
