"""podfence connectivity: every allowed connection, pods and address ranges."""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.cli.common import (
    DEFAULT_MAX_OUTPUT_BYTES, ConfigPath, Filenames, MaxOutputBytes, Namespace, SettingValues, StrictCidr, busy,
    choose, load_cluster, load_config, refuse_output, settings_from, write_bounded,
)
from podfence.engine import Engine
from podfence.render.connectivity import FORMATS, connectivity_chunks, connectivity_min_size


def connectivity(
    filename: Filenames = [],  # noqa: B006
    namespace: Namespace = "default",
    output: Annotated[str, typer.Option("-o", "--output", help="text, json, csv, md or dot")] = "text",
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    max_output_bytes: MaxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES,
) -> None:
    """All allowed connections: per pod pair, and between pods and address ranges."""
    choose(output, FORMATS, "-o")
    settings = settings_from(setting, strict_cidr, load_config(config).settings)
    result = load_cluster(filename, namespace, settings)
    with busy("computing connectivity"):
        conn = Engine(result.cluster, settings).connectivity()
        pairs, least = connectivity_min_size(conn, output)
    refuse_output(f"connectivity of {len(conn.pods)} pods", least, max_output_bytes,
                  f"at least {least} bytes as {output} for {pairs} pod pairs with something allowed")
    write_bounded(connectivity_chunks(conn, output), max_output_bytes, "connectivity output")
