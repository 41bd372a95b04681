"""podfence connectivity: every allowed connection, pods and address ranges."""

from __future__ import annotations

from podfence.app import analysis
from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, DEFAULT_MAX_OUTPUT_BYTES, LISTENER, AllowEmpty, ConfigPath,
    Filenames, MaxInputBytes, MaxObjects, MaxOutputBytes, Namespace, SettingValues, StrictCidr, choose, options,
    output_option, refuse_output, write_bounded,
)
from podfence.render.connectivity import FORMATS, connectivity_chunks, connectivity_min_size

Output = output_option(FORMATS)


def connectivity(
    filename: Filenames = [],  # noqa: B006
    namespace: Namespace = "default",
    output: Output = "text",
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    max_output_bytes: MaxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES,
) -> None:
    """All allowed connections: per pod pair, and between pods and address ranges."""
    choose(output, FORMATS, "-o")
    conn = analysis.connectivity(options(filename, namespace, config, setting, strict_cidr, allow_empty,
                                         max_input_bytes, max_objects), LISTENER)
    pairs, least = connectivity_min_size(conn, output)
    refuse_output(f"connectivity of {len(conn.pods)} pods", least, max_output_bytes,
                  f"at least {least} bytes as {output} for {pairs} pod pairs with something allowed")
    write_bounded(connectivity_chunks(conn, output), max_output_bytes, "connectivity output")
