"""podfence matrix: pod-to-pod reachability on one port."""

from __future__ import annotations

from podfence.app import analysis
from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, DEFAULT_MAX_OUTPUT_BYTES, LISTENER, TIMEOUT, AllNamespaces,
    AllowEmpty, ConfigPath, ContextName, Filenames, FromEndpoints, ToEndpoints, Kubeconfig, MaxInputBytes, MaxObjects, MaxOutputBytes, Namespace,
    PortOption, ProtocolOption, RequestTimeout, SettingValues, Staged, StrictCidr, busy, choose, one_port, options,
    output_option, refuse_output, write_bounded,
)
from podfence.render.matrix import FORMATS, matrix_chunks, matrix_size

Output = output_option(FORMATS)


def matrix(
    filename: Filenames = [],  # noqa: B006
    port: PortOption = ...,  # type: ignore[assignment]
    protocol: ProtocolOption = [],  # noqa: B006
    src: FromEndpoints = [],  # noqa: B006
    dst: ToEndpoints = [],  # noqa: B006
    namespace: Namespace = "default",
    output: Output = "text",
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
    """Which pod may open a connection to which, on one protocol and port."""
    choose(output, FORMATS, "-o")
    spec = one_port(port, protocol)
    m = analysis.matrix(options(filename, namespace, config, setting, strict_cidr, allow_empty, max_input_bytes,
                                max_objects, kubeconfig=kubeconfig, context=context,
                                request_timeout=request_timeout, all_namespaces=all_namespaces, staged=staged),
                        spec, LISTENER, tuple(src), tuple(dst))
    with busy("computing connectivity"):
        size = matrix_size(m, output)
    refuse_output(f"matrix of {len(m.pods)} x {len(m.destinations)} pods", size, max_output_bytes, f"it takes {size} bytes as {output}")
    write_bounded(matrix_chunks(m, output), max_output_bytes, "matrix output")
