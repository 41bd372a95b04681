"""podfence connectivity: every allowed connection, pods and address ranges."""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.cli.common import (
    TIMEOUT, AllNamespaces, ContextName, Kubeconfig, Live, RequestTimeout,
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, DEFAULT_MAX_OUTPUT_BYTES, AllowEmpty, ConfigPath, Filenames,
    MaxInputBytes, MaxObjects, MaxOutputBytes, Namespace, SettingValues, Staged, StrictCidr, busy, choose, input_budget,
    load_cluster, load_config, refuse_output, settings_from, write_bounded,
)
from podfence.engine import Engine
from podfence.model import promoted
from podfence.render.connectivity import FORMATS, connectivity_chunks, connectivity_min_size


def connectivity(
    filename: Filenames = [],  # noqa: B006
    namespace: Namespace = "default",
    output: Annotated[str, typer.Option("-o", "--output", help="text, json, csv, md or dot")] = "text",
    staged: Staged = False,
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    kubeconfig: Kubeconfig = None,
    context: ContextName = None,
    request_timeout: RequestTimeout = TIMEOUT,
    all_namespaces: AllNamespaces = False,
    max_output_bytes: MaxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES,
) -> None:
    """All allowed connections: per pod pair, and between pods and address ranges."""
    choose(output, FORMATS, "-o")
    budget = input_budget(max_input_bytes, max_objects)
    settings = settings_from(setting, strict_cidr, load_config(config, budget).settings)
    live = Live(kubeconfig, context, request_timeout, all_namespaces)
    result = load_cluster(filename, namespace, settings, budget, allow_empty, live)
    shown = live.shown(filename, namespace)
    with busy("computing connectivity"):
        conn = Engine(promoted(result.cluster) if staged else result.cluster, settings).connectivity()
        pairs, least = connectivity_min_size(conn, output) if shown is None else (0, 0)
    refuse_output(f"connectivity of {len(conn.pods)} pods", least, max_output_bytes,
                  f"at least {least} bytes as {output} for {pairs} pod pairs with something allowed")
    write_bounded(connectivity_chunks(conn, output, shown), max_output_bytes, "connectivity output")
