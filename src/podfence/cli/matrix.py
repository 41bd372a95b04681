"""podfence matrix: pod-to-pod reachability on one port."""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.app import analysis
from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, DEFAULT_MAX_OUTPUT_BYTES, LISTENER, AllowEmpty, ConfigPath,
    Filenames, MaxInputBytes, MaxObjects, MaxOutputBytes, Namespace, SettingValues, StrictCidr, choose, options,
    output_option, protocol_of, refuse_output, write_bounded,
)
from podfence.render.matrix import FORMATS, matrix_chunks, matrix_size

Output = output_option(FORMATS)
Port = Annotated[int, typer.Option("--port", min=1, max=65535, help="Destination port.")]
Protocol = Annotated[str, typer.Option("--protocol", help="TCP, UDP or SCTP.")]


def matrix(
    filename: Filenames = [],  # noqa: B006
    port: Port = ...,  # type: ignore[assignment]
    protocol: Protocol = "TCP",
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
    """Which pod may open a connection to which, on one protocol and port."""
    choose(output, FORMATS, "-o")
    proto = protocol_of(protocol)
    m = analysis.matrix(options(filename, namespace, config, setting, strict_cidr, allow_empty, max_input_bytes,
                                max_objects), proto, port, LISTENER)
    size, n = matrix_size(m, output), len(m.pods)
    refuse_output(f"matrix of {n} x {n} pods", size, max_output_bytes, f"it takes {size} bytes as {output}")
    write_bounded(matrix_chunks(m, output), max_output_bytes, "matrix output")
