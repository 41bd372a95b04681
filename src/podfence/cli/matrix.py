"""podfence matrix: pod-to-pod reachability on one port."""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.cli.common import (
    TIMEOUT, AllNamespaces, ContextName, Kubeconfig, Live, RequestTimeout,
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, DEFAULT_MAX_OUTPUT_BYTES, AllowEmpty, ConfigPath, Filenames,
    MaxInputBytes, MaxObjects, MaxOutputBytes, Namespace, SettingValues, StrictCidr, busy, choose, input_budget,
    load_cluster, load_config, protocol_from, refuse_output, settings_from, write_bounded,
)
from podfence.engine import Engine, Matrix
from podfence.render.matrix import FORMATS, matrix_chunks, matrix_size


def matrix(
    filename: Filenames = [],  # noqa: B006
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Destination port.")] = ...,  # type: ignore[assignment]
    protocol: Annotated[str, typer.Option("--protocol", help="TCP, UDP or SCTP.")] = "TCP",
    namespace: Namespace = "default",
    output: Annotated[str, typer.Option("-o", "--output", help="text, json, csv or md")] = "text",
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
    """Which pod may open a connection to which, on one protocol and port."""
    choose(output, FORMATS, "-o")
    proto = protocol_from(protocol)
    budget = input_budget(max_input_bytes, max_objects)
    settings = settings_from(setting, strict_cidr, load_config(config, budget).settings)
    live = Live(kubeconfig, context, request_timeout, all_namespaces)
    result = load_cluster(filename, namespace, settings, budget, allow_empty, live)
    with busy("computing connectivity"):
        m = Engine(result.cluster, settings).connectivity().matrix(proto, port)
        shown = live.shown(filename, namespace)
        if shown is not None:
            m = in_namespace(m, shown)
        size = matrix_size(m, output)
    n = len(m.pods)
    refuse_output(f"matrix of {n} x {n} pods", size, max_output_bytes, f"it takes {size} bytes as {output}")
    write_bounded(matrix_chunks(m, output), max_output_bytes, "matrix output")


def in_namespace(m: Matrix, namespace: str) -> Matrix:
    """The matrix between the pods of one namespace (``-n`` on a live cluster)."""
    pods = tuple(p for p in m.pods if p.startswith(namespace + "/"))
    keep = set(pods)
    return Matrix(m.protocol, m.port, pods, {p: tuple(d for d in m.allowed.get(p, ()) if d in keep) for p in pods},
                  {p: k for p, k in m.kinds.items() if p in keep})
