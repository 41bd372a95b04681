"""podfence explain: may this connection happen, and why."""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.app import analysis
from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, LISTENER, AllowEmpty, ConfigPath, Filenames, MaxInputBytes,
    MaxObjects, Namespace, SettingValues, StrictCidr, choose, options, output_option, protocol_of, write,
)
from podfence.cli.matrix import Port, Protocol
from podfence.render.explain import FORMATS, render_service_verdicts, render_verdict

Output = output_option(FORMATS)


def explain(
    filename: Filenames = [],  # noqa: B006
    src: Annotated[str, typer.Option("--from", metavar="SRC", help="ns/pod, a workload, or an IP.")] = ...,  # type: ignore[assignment]
    dst: Annotated[str, typer.Option("--to", metavar="DST", help="ns/pod, a workload, a service, or an IP.")] = ...,  # type: ignore[assignment]
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
) -> None:
    """Explain the verdict on one connection: the policies and rules behind it."""
    choose(output, FORMATS, "-o")
    proto = protocol_of(protocol)
    found = analysis.explain(options(filename, namespace, config, setting, strict_cidr, allow_empty, max_input_bytes,
                                     max_objects), src, dst, proto, port, LISTENER)
    if found.service is not None:
        write(render_service_verdicts(found.service, str(proto), port, found.verdicts, output))
    elif found.verdict is not None:
        write(render_verdict(found.verdict, output))
