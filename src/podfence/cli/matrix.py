"""podfence matrix: pod-to-pod reachability on one port."""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.cli.common import (
    TIMEOUT, AllNamespaces, ContextName, Kubeconfig, Live, RequestTimeout,
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, DEFAULT_MAX_OUTPUT_BYTES, AllowEmpty, ConfigPath, Filenames,
    MaxInputBytes, MaxObjects, MaxOutputBytes, Namespace, PortOption, ProtocolOption, SettingValues, Staged,
    StrictCidr, busy, choose, fail, input_budget, load_cluster, load_config, note, one_port, refuse_output,
    settings_from, write_bounded,
)
from podfence.engine import Engine, Matrix
from podfence.model import Cluster, Settings, promoted
from podfence.model.ports import PortSpec
from podfence.model.words import shortened
from podfence.render.matrix import FORMATS, matrix_chunks, matrix_size


def named_number(cluster: Cluster, spec: PortSpec, settings: Settings) -> int:
    """The one number a port name stands for across the pods that declare it (a matrix is on one port)."""
    name = str(spec.port)
    numbers: dict[int, list[str]] = {}
    for pod in cluster.pods:
        for n in pod.named_port_numbers(name, spec.protocol, settings):
            numbers.setdefault(n, []).append(pod.key)
    if len(numbers) != 1:
        found = "; ".join(f"{n} on {shortened(keys, 3)}" for n, keys in sorted(numbers.items()))
        fail(f"--port {name}: " + (f"no pod declares a {spec.protocol} port named {name}" if not numbers else
                                   f"the name stands for several numbers ({found}); give one number"))
    (number, keys), = numbers.items()
    note(f"note: --port {name} is {spec.protocol} {number} (declared by {shortened(sorted(keys), 3)})")
    return number


def matrix(
    filename: Filenames = [],  # noqa: B006
    port: PortOption = ...,  # type: ignore[assignment]
    protocol: ProtocolOption = [],  # noqa: B006
    namespace: Namespace = "default",
    output: Annotated[str, typer.Option("-o", "--output", help="text, json, csv or md")] = "text",
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
    proto = spec.protocol
    budget = input_budget(max_input_bytes, max_objects)
    settings = settings_from(setting, strict_cidr, load_config(config, budget).settings)
    live = Live(kubeconfig, context, request_timeout, all_namespaces)
    result = load_cluster(filename, namespace, settings, budget, allow_empty, live)
    number = spec.port if isinstance(spec.port, int) else named_number(result.cluster, spec, settings)
    with busy("computing connectivity"):
        m = Engine(promoted(result.cluster) if staged else result.cluster, settings).connectivity().matrix(proto, number)
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
