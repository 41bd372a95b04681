"""podfence compare: the connectivity drift between two clusters (or a cluster and manifests).

A face over :func:`podfence.app.compare.compare`. Exit 1 when anything differs,
0 when nothing does, 2 on invalid input, as ``diff``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.app.compare import compare as comparing
from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, DEFAULT_MAX_OUTPUT_BYTES, EXIT_FINDINGS, EXIT_OK, LISTENER, TIMEOUT,
    AllowEmpty, ConfigPath, Kubeconfig, MaxInputBytes, MaxObjects, MaxOutputBytes, Namespace, RequestTimeout,
    SettingValues, Staged, StrictCidr, choose, options, output_option, write_sized,
)
from podfence.render.compare import FORMATS, render_compare

Output = output_option(FORMATS)


def compare(
    a: Annotated[str, typer.Argument(metavar="A", help="First cluster: a kubeconfig context, or a path to "
                                                       "manifests or a snapshot.")],
    b: Annotated[str, typer.Argument(metavar="B", help="Second cluster, the same way.")],
    output: Output = "text",
    kubeconfig: Kubeconfig = None,
    request_timeout: RequestTimeout = TIMEOUT,
    namespace: Namespace = "default",
    staged: Staged = False,
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    max_output_bytes: MaxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES,
) -> None:
    """Connectivity drift from cluster A to cluster B, per namespace (exit 1 if any).

    A namespace that exists in one cluster only is one line, not a change for each
    of its pods; every other change is reported as `podfence diff` reports it.
    """
    choose(output, FORMATS, "-o")
    found = comparing(options((), namespace, config, setting, strict_cidr, allow_empty, max_input_bytes, max_objects,
                              max_output_bytes, kubeconfig=kubeconfig, request_timeout=request_timeout,
                              staged=staged), a, b, LISTENER, explain=output != "json")
    write_sized(render_compare(found, output, a, b), max_output_bytes,
                f"compare of {len(found.report.diff.changes)} changed pairs", output)
    raise typer.Exit(EXIT_FINDINGS if found else EXIT_OK)
