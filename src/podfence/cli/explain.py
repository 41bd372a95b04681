"""podfence explain: may this connection happen, and why."""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.cli.common import (
    TIMEOUT, ContextName, Kubeconfig, Live, RequestTimeout,
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, AllowEmpty, ConfigPath, Filenames, MaxInputBytes, MaxObjects,
    Namespace, SettingValues, StrictCidr, choose, fail, input_budget, load_cluster, load_config, protocol_from,
    settings_from, write,
)
from podfence.engine import Endpoint, EndpointError, Engine
from podfence.render.explain import FORMATS, render_service_verdicts, render_verdict


def explain(
    filename: Filenames = [],  # noqa: B006
    src: Annotated[str, typer.Option("--from", metavar="SRC", help="ns/pod, a workload, or an IP.")] = ...,  # type: ignore[assignment]
    dst: Annotated[str, typer.Option("--to", metavar="DST", help="ns/pod, a workload, a service, or an IP.")] = ...,  # type: ignore[assignment]
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Destination port.")] = ...,  # type: ignore[assignment]
    protocol: Annotated[str, typer.Option("--protocol", help="TCP, UDP or SCTP.")] = "TCP",
    namespace: Namespace = "default",
    output: Annotated[str, typer.Option("-o", "--output", help="text or json")] = "text",
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    kubeconfig: Kubeconfig = None,
    context: ContextName = None,
    request_timeout: RequestTimeout = TIMEOUT,
) -> None:
    """Explain the verdict on one connection: the policies and rules behind it."""
    choose(output, FORMATS, "-o")
    proto = protocol_from(protocol)
    budget = input_budget(max_input_bytes, max_objects)
    settings = settings_from(setting, strict_cidr, load_config(config, budget).settings)
    result = load_cluster(filename, namespace, settings, budget, allow_empty,
                          Live(kubeconfig, context, request_timeout))
    engine = Engine(result.cluster, settings)
    source = _endpoint(engine, src, namespace, "--from")
    target = _endpoint(engine, dst, namespace, "--to")
    try:
        if target.service is not None:
            verdicts = engine.explain_service(source, target, proto, port)
            write(render_service_verdicts(target.service.key, str(proto), port, verdicts, output))
            return
        verdict = engine.explain(source, target, proto, port)
    except EndpointError as e:  # a service as the source, or a port the service does not offer
        fail(f"{'--from' if source.service is not None else '--to'}: {e}")
    write(render_verdict(verdict, output))


def _endpoint(engine: Engine, text: str, namespace: str, flag: str) -> Endpoint:
    try:
        return engine.endpoint(text, namespace)
    except EndpointError as e:
        fail(f"{flag}: {e}")
