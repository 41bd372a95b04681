"""podfence rollout: carry staged policies into enforcement without an outage.

``rollout check`` replays observed flows (Hubble, Calico flow logs or the lab's
denial stream) against the enforced policies and against the promoted view (every
staged policy enforced) and reports what would break. Exit 1 when an observed
connection would be blocked, 0 otherwise, 2 on bad input.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from podfence.cli.common import (
    TIMEOUT, ContextName, Kubeconfig, Live, RequestTimeout,
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, EXIT_FINDINGS, AllowEmpty, ConfigPath, Filenames, MaxInputBytes,
    MaxObjects, Namespace, SettingValues, StrictCidr, busy, choose, exit_on_errors, fail, input_budget, load_cluster,
    check_writable, load_config, report, require_objects, settings_from, write, write_file,
)
from podfence.loader.limits import Budget
from podfence.cli.lab import lab_errors
from podfence.cli.rollout_lab import lab_target
from podfence.flows import FlowRecord, Skip
from podfence.lab.control import LabError
from podfence.loader import codes, load
from podfence.model import Source
from podfence.render.rollout import FORMATS, PLAN_FORMATS, PlanInputs, check_json, apply_text, check_text, plan_json, render_plan
from podfence.rollout import FlowChange, check_flows, plan_rollout
from podfence.rollout.apply import (
    ApplyError, ManifestWriter, PlanError, PlanStage, RolloutLog, read_plan, run_plan,
)
from podfence.sources import count_flows
from podfence.sources.writes import ClusterWriter, WriteRefused

app = typer.Typer(help="Progressive rollout of staged policies: check what enforcing them would block.",
                  no_args_is_help=True, rich_markup_mode=None)

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


@app.command()
def check(
    filename: Filenames = [],  # noqa: B006
    flows: Annotated[list[str], typer.Option(
        "--flows", metavar="FILE",
        help="Observed flows: Hubble (hubble observe -o json), Calico flow logs or the lab's denial stream, "
             "one JSON object a line; - for stdin. Repeatable.")] = [],  # noqa: B006
    flows_format: Annotated[str, typer.Option(
        "--flows-format", help="hubble, calico or lab (default: told apart per record).")] = "auto",
    namespace: Namespace = "default",
    output: Annotated[str, typer.Option("-o", "--output", help="text or json")] = "text",
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    kubeconfig: Kubeconfig = None,
    context: ContextName = None,
    request_timeout: RequestTimeout = TIMEOUT,
) -> None:
    """Replay observed flows against the enforced and the staged policies: what would enforcing block?"""
    choose(output, FORMATS, "-o")
    choose(flows_format, FLOW_FORMATS, "--flows-format")
    if not flows:
        fail("no flows given: use --flows FILE (Hubble, Calico or lab records, one JSON object a line)")
    budget = input_budget(max_input_bytes, max_objects)
    settings = settings_from(setting, strict_cidr, load_config(config, budget).settings)
    if "-" in filename and "-" in flows:
        fail("-f - and --flows - both read standard input: give one of them a file")
    result = load_cluster(filename, namespace, settings, budget, allow_empty,
                          Live(kubeconfig, context, request_timeout))
    records = _read_flows(flows, flows_format, budget)
    with busy("replaying flows"):
        report = check_flows(records, result.cluster, settings)
    write(check_json(report) if output == "json" else check_text(report, flows))
    if report.would_block:
        raise typer.Exit(EXIT_FINDINGS)


def _read_flows(flows: list[str], flows_format: str, budget: Budget) -> Counted:
    """The records of ``--flows``, counted; a file that cannot be read ends the command (exit 2)."""
    read = count_flows(list(flows), budget, sys.stdin)
    if read.problem is not None:
        if read.problem.code == codes.LIMIT:
            exit_on_errors([read.problem])
        fail(f"--flows {read.problem.one_line()}")
    return _only(read.records, flows_format)


@app.command()
def plan(
    filename: Filenames = [],  # noqa: B006
    to: Annotated[list[str], typer.Option(
        "--to", metavar="PATH",
        help="The next version of the policies: every NetworkPolicy in these files (a file, a directory, or - "
             "for stdin; repeatable). A current policy they lack is deleted.")] = [],  # noqa: B006
    flows: Annotated[list[str], typer.Option(
        "--flows", metavar="FILE",
        help="Observed flows (Hubble, Calico or the lab's denial stream): what each stage would block, and "
             "which namespaces depend on which. Repeatable.")] = [],  # noqa: B006
    flows_format: Annotated[str, typer.Option(
        "--flows-format", help="hubble, calico or lab (default: told apart per record).")] = "auto",
    per_stage: Annotated[int, typer.Option("--per-stage", min=1, metavar="N",
                                           help="Namespaces per stage (default 1).")] = 1,
    namespace: Namespace = "default",
    output: Annotated[str, typer.Option("-o", "--output", help="text, md (a change request) or json")] = "text",
    write_plan: Annotated[str | None, typer.Option(
        "--write", metavar="FILE", help="Also write the plan as JSON to FILE, for rollout apply.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the --write file if it exists.")] = False,
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    kubeconfig: Kubeconfig = None,
    context: ContextName = None,
    request_timeout: RequestTimeout = TIMEOUT,
) -> None:
    """Split the change from the current policies (-f, or a live cluster) to the next ones (--to) into stages.

    Stages run least critical first: the namespace label podfence.io/criticality
    (low, medium, high, critical; without it medium, or high when the namespace is
    sensitive), then the fewest dependants. Each stage stages its policies
    (StagedKubernetesNetworkPolicy), says what enforcing them changes and which
    observed flows they would block, and how to run it. Exit 1 when a stage would
    block observed flows.
    """
    choose(output, PLAN_FORMATS, "-o")
    choose(flows_format, FLOW_FORMATS, "--flows-format")
    if not to:
        fail("no next policies given: use --to PATH (the next version of the policies)")
    if sum(paths.count("-") for paths in (filename, to, flows)) > 1:
        fail("standard input (-) can be read once: give the others as files")
    if write_plan is not None:
        check_writable(Path(write_plan), force, "--write")
    budget = input_budget(max_input_bytes, max_objects)
    loaded = load_config(config, budget)
    settings = settings_from(setting, strict_cidr, loaded.settings)
    current = load_cluster(filename, namespace, settings, budget, allow_empty,
                           Live(kubeconfig, context, request_timeout))
    with busy("reading the next policies"):
        nxt = load(list(to), default_namespace=namespace, settings=settings, budget=budget, keep_documents=True,
                   stdin=sys.stdin)
    report(nxt)
    exit_on_errors(nxt.diagnostics)
    require_objects([nxt], list(to), allow_empty)
    manifests = {p.key: _manifest(nxt.documents.get(p.source) if p.source is not None else None, p.namespace,
                                  p.name) for p in nxt.cluster.policies}
    records = _read_flows(flows, flows_format, budget) if flows else None
    with busy("planning the rollout"):
        result = plan_rollout(current.cluster, nxt.cluster.policies, manifests, settings=settings,
                              sensitivity=loaded.sensitive, records=records, per_stage=per_stage,
                              criticality=dict(loaded.criticality))
    inputs = PlanInputs(tuple(filename), tuple(to), tuple(flows))
    if write_plan is not None:
        write_file(Path(write_plan), plan_json(result, inputs), force, "--write")
    write(render_plan(result, inputs, output))
    if any(stage.would_block for stage in result.stages):
        raise typer.Exit(EXIT_FINDINGS)


def _manifest(doc: Any, namespace: str, name: str) -> dict[str, Any]:
    """The NetworkPolicy as written, with its namespace filled in and nothing the server keeps for itself."""
    plain = json.loads(json.dumps(doc)) if isinstance(doc, dict) else {}
    meta = {"name": name, "namespace": namespace}
    given = plain.get("metadata") or {}
    for key in ("labels", "annotations"):
        if given.get(key):
            meta[key] = given[key]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
            "spec": plain.get("spec") or {}}


@app.command()
def apply(
    plan_file: Annotated[str, typer.Argument(metavar="PLAN", help="A plan written by rollout plan --write.")],
    lab: Annotated[str | None, typer.Option("--lab", metavar="NAME", help="Run the plan in this lab.")] = None,
    flows: Annotated[list[str], typer.Option(
        "--flows", metavar="FILE",
        help="With --context: observed flows to replay after each stage's window (default: the plan's "
             "--flows). The lab observes by probing. Repeatable.")] = [],  # noqa: B006
    flows_format: Annotated[str, typer.Option(
        "--flows-format", help="hubble, calico or lab (default: told apart per record).")] = "auto",
    window: Annotated[float, typer.Option("--window", metavar="SECONDS", min=0,
                                          help="Seconds to observe each staged stage before judging it.")] = 60.0,
    threshold: Annotated[int, typer.Option("--threshold", metavar="N", min=0,
                                           help="Enforce a stage when at most N observed flows would be "
                                                "blocked (default 0).")] = 0,
    auto_rollback: Annotated[bool, typer.Option(
        "--auto-rollback", help="When a stage is stopped, remove its staged policies.")] = False,
    log: Annotated[str | None, typer.Option(
        "--log", metavar="FILE", help="The rollout log (JSON lines; default PLAN.log). A rollout run again "
                                      "with the same log resumes where it stopped.")] = None,
    filename: Filenames = [],  # noqa: B006
    namespace: Namespace = "default",
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    kubeconfig: Kubeconfig = None,
    context: ContextName = None,
    request_timeout: RequestTimeout = TIMEOUT,
) -> None:
    """Run a plan stage by stage: stage, observe for --window, enforce when at most --threshold flows would be
    blocked, else stop (exit 1)."""
    choose(flows_format, FLOW_FORMATS, "--flows-format")
    if (lab is None) == (context is None):
        fail("name where to run the plan: --lab NAME or --context NAME (one of them)")
    budget = input_budget(max_input_bytes, max_objects)
    settings = settings_from(setting, False, load_config(config, budget).settings)
    try:
        text = Path(plan_file).read_text()
    except (OSError, UnicodeDecodeError) as e:
        fail(f"{plan_file}: cannot read the plan: {getattr(e, 'strerror', None) or e}")
    try:
        the_plan = read_plan(text, plan_file)
        rollout_log = RolloutLog(Path(log or f"{plan_file}.log"), the_plan)
    except PlanError as e:
        fail(str(e))
    say = lambda line: sys.stderr.write(f"{line}\n")  # noqa: E731
    observed_flows = list(flows) or list(the_plan.flows)
    if lab is not None:
        with lab_errors():
            writer, observe, finish = lab_target(lab, filename, namespace, settings, budget, the_plan, rollout_log)
        say(f"lab {lab!r}: each staged stage is observed by probing its namespaces and judging what gets through "
            "with the staged policies enforced (the engine's promoted view)")
    else:
        if not observed_flows:
            fail("no flows to observe: give --flows FILE (or write the plan with --flows)")
        try:
            cluster_api = ClusterWriter(kubeconfig, context, request_timeout)
        except WriteRefused as e:
            fail(str(e))
        writer = ManifestWriter(cluster_api.apply, cluster_api.delete)
        live = Live(kubeconfig, context, request_timeout)

        def observe(stage: PlanStage) -> list[FlowChange]:
            fresh = input_budget(max_input_bytes, max_objects)  # each observation reads everything again
            result = load_cluster(filename, namespace, settings, fresh, False, live)
            records = _read_flows(observed_flows, flows_format, fresh)
            keys = set(stage.staged_keys)
            return [c for c in check_flows(records, result.cluster, settings).would_block if keys & set(c.policies)]

        finish = cluster_api.close
    try:
        result = run_plan(the_plan, writer, observe, rollout_log, threshold=threshold, window=window,
                          auto_rollback=auto_rollback, wait=time.sleep, say=say)
    except (WriteRefused, ApplyError, LabError) as e:
        fail(str(e))
    finally:
        finish()
    write(apply_text(result, len(the_plan.stages), threshold, rollout_log.path))
    if not result.ok:
        raise typer.Exit(EXIT_FINDINGS)
