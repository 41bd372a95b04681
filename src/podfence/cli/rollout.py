"""podfence rollout: carry staged policies into enforcement without an outage.

``rollout check`` replays observed flows (Hubble, Calico flow logs or the lab's
denial stream) against the enforced policies and against the promoted view (every
staged policy enforced) and reports what would break. Exit 1 when an observed
connection would be blocked, 0 otherwise, 2 on bad input.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from podfence.cli.common import (
    TIMEOUT, ContextName, Kubeconfig, Live, RequestTimeout,
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, EXIT_FINDINGS, AllowEmpty, ConfigPath, Filenames, MaxInputBytes,
    MaxObjects, Namespace, SettingValues, StrictCidr, busy, choose, exit_on_errors, fail, input_budget, load_cluster,
    load_config, settings_from, write,
)
from podfence.flows import FlowRecord, Skip
from podfence.loader import codes
from podfence.model import Source
from podfence.render.rollout import FORMATS, check_json, check_text
from podfence.rollout import check_flows
from podfence.sources import count_flows

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
    read = count_flows(list(flows), budget, sys.stdin)
    if read.problem is not None:
        if read.problem.code == codes.LIMIT:
            exit_on_errors([read.problem])
        fail(f"--flows {read.problem.one_line()}")
    records = _only(read.records, flows_format)
    with busy("replaying flows"):
        report = check_flows(records, result.cluster, settings)
    write(check_json(report) if output == "json" else check_text(report, flows))
    if report.would_block:
        raise typer.Exit(EXIT_FINDINGS)
