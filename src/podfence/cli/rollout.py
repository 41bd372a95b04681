"""podfence rollout: carry staged policies into enforcement without an outage.

``rollout check`` replays observed flows (Hubble, Calico flow logs or the lab's
denial stream) against the enforced policies and against the promoted view (every
staged policy enforced) and reports what would break. Exit 1 when an observed
connection would be blocked, 0 otherwise, 2 on bad input. ``rollout plan`` splits
a policy change into stages; ``rollout apply`` runs such a plan.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from podfence.app import rollout as rolling
from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, EXIT_FINDINGS, LISTENER, TIMEOUT, AllowEmpty, ConfigPath,
    ContextName, Filenames, Kubeconfig, MaxInputBytes, MaxObjects, Namespace, RequestTimeout, SettingValues,
    StrictCidr, choose, options, output_option, write,
)
from podfence.render.rollout import FORMATS, PLAN_FORMATS, check_json, check_text, render_apply, render_plan

app = typer.Typer(help="Progressive rollout of staged policies: check what enforcing them would block.",
                  no_args_is_help=True, rich_markup_mode=None)

Output = output_option(FORMATS)
FLOW_FORMATS = rolling.FLOW_FORMATS


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
    output: Output = "text",
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
    report = rolling.check(options(filename, namespace, config, setting, strict_cidr, allow_empty, max_input_bytes,
                                   max_objects, kubeconfig=kubeconfig, context=context,
                                   request_timeout=request_timeout), flows, flows_format, LISTENER, sys.stdin)
    write(check_json(report) if output == "json" else check_text(report, flows))
    if report.would_block:
        raise typer.Exit(EXIT_FINDINGS)


FlowsFormat = Annotated[str, typer.Option("--flows-format", help="hubble, calico or lab (default: told apart per "
                                                                 "record).")]
PlanOutput = output_option(PLAN_FORMATS, "Output format (md: a change request)")


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
    flows_format: FlowsFormat = "auto",
    per_stage: Annotated[int, typer.Option("--per-stage", min=1, metavar="N",
                                           help="Namespaces per stage (default 1).")] = 1,
    namespace: Namespace = "default",
    output: PlanOutput = "text",
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
    made = rolling.plan(options(filename, namespace, config, setting, strict_cidr, allow_empty, max_input_bytes,
                                max_objects, kubeconfig=kubeconfig, context=context,
                                request_timeout=request_timeout), to, LISTENER, flows=flows,
                        flows_format=flows_format, per_stage=per_stage, write_plan=write_plan, force=force,
                        stdin=sys.stdin)
    write(render_plan(made.plan, made.inputs, output))
    if any(stage.would_block for stage in made.plan.stages):
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
def apply(
    plan_file: Annotated[str, typer.Argument(metavar="PLAN", help="A plan written by rollout plan --write.")],
    lab: Annotated[str | None, typer.Option("--lab", metavar="NAME", help="Run the plan in this lab.")] = None,
    flows: Annotated[list[str], typer.Option(
        "--flows", metavar="FILE",
        help="With --context: observed flows to replay after each stage's window (default: the plan's "
             "--flows). The lab observes by probing. Repeatable.")] = [],  # noqa: B006
    flows_format: FlowsFormat = "auto",
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
    output: Output = "text",
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
    choose(output, FORMATS, "-o")
    done = rolling.apply(options(filename, namespace, config, setting, max_input_bytes=max_input_bytes,
                                 max_objects=max_objects, kubeconfig=kubeconfig, context=context,
                                 request_timeout=request_timeout), plan_file, LISTENER, lab=lab, flows=flows,
                         flows_format=flows_format, window=window, threshold=threshold, auto_rollback=auto_rollback,
                         log=log)
    write(render_apply(done.result, done.stages, done.threshold, done.log, output))
    if not done.result.ok:
        raise typer.Exit(EXIT_FINDINGS)
