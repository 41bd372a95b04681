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

from podfence.app import rollout as rolling
from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, EXIT_FINDINGS, LISTENER, AllowEmpty, ConfigPath, Filenames,
    MaxInputBytes, MaxObjects, Namespace, SettingValues, StrictCidr, choose, options, output_option, write,
)
from podfence.render.rollout import FORMATS, check_json, check_text

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
) -> None:
    """Replay observed flows against the enforced and the staged policies: what would enforcing block?"""
    choose(output, FORMATS, "-o")
    report = rolling.check(options(filename, namespace, config, setting, strict_cidr, allow_empty, max_input_bytes,
                                   max_objects, live=False), flows, flows_format, LISTENER, sys.stdin)
    write(check_json(report) if output == "json" else check_text(report, flows))
    if report.would_block:
        raise typer.Exit(EXIT_FINDINGS)
