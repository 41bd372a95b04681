"""podfence connectivity: every allowed connection, pods and address ranges."""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.app import analysis
from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, DEFAULT_MAX_OUTPUT_BYTES, LISTENER, TIMEOUT, AllNamespaces,
    AllowEmpty, ConfigPath, ContextName, Filenames, FromEndpoints, ToEndpoints, Kubeconfig, MaxInputBytes, MaxObjects, MaxOutputBytes, Namespace,
    RequestTimeout, SettingValues, Staged, StrictCidr, busy, choose, options, output_option, refuse_output,
    write_bounded,
)
from podfence.render.connectivity import FORMATS, connectivity_chunks, connectivity_min_size

Output = output_option(FORMATS)


def connectivity(
    filename: Filenames = [],  # noqa: B006
    src: FromEndpoints = [],  # noqa: B006
    dst: ToEndpoints = [],  # noqa: B006
    namespace: Namespace = "default",
    output: Output = "text",
    wide: Annotated[bool, typer.Option("--wide", help="Text: name every pod of a line, never 'and N more'.")] = False,
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
    reach = analysis.connectivity(options(filename, namespace, config, setting, strict_cidr, allow_empty,
                                          max_input_bytes, max_objects, kubeconfig=kubeconfig, context=context,
                                          request_timeout=request_timeout, all_namespaces=all_namespaces,
                                          staged=staged), LISTENER, tuple(src), tuple(dst))
    conn, shown = reach.connectivity, reach.namespace
    with busy("computing connectivity"):
        pairs, least = connectivity_min_size(conn, output) if shown is None and reach.focus is None else (0, 0)
    refuse_output(f"connectivity of {len(conn.pods)} pods", least, max_output_bytes,
                  f"at least {least} bytes as {output} for {pairs} pod pairs with something allowed")
    write_bounded(connectivity_chunks(conn, output, shown, reach.focus, wide), max_output_bytes, "connectivity output")
