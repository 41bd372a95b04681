"""podfence explain: may this connection happen, and why."""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.cli.common import (
    TIMEOUT, AllNamespaces, ContextName, Kubeconfig, Live, RequestTimeout,
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, AllowEmpty, ConfigPath, Filenames, MaxInputBytes, MaxObjects,
    Namespace, PortOption, ProtocolOption, SettingValues, StrictCidr, choose, fail, input_budget, load_cluster,
    load_config, one_port, settings_from, write,
)
from podfence.engine import Endpoint, EndpointError
from podfence.model import Settings
from podfence.model.ports import PortSpec
from podfence.render.explain import FORMATS, render_comparison, render_service_comparisons
from podfence.rollout import StagedViews


def explain(
    filename: Filenames = [],  # noqa: B006
    src: Annotated[str, typer.Option("--from", metavar="SRC", help="ns/pod, a workload, or an IP.")] = ...,  # type: ignore[assignment]
    dst: Annotated[str, typer.Option("--to", metavar="DST", help="ns/pod, a workload, a service, or an IP.")] = ...,  # type: ignore[assignment]
    port: PortOption = ...,  # type: ignore[assignment]
    protocol: ProtocolOption = [],  # noqa: B006
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
    all_namespaces: AllNamespaces = False,  # every namespace is what one verdict or one spec's results show
) -> None:
    """Explain the verdict on one connection: the policies and rules behind it.

    With staged policies in the manifests, a verdict that enforcing them would
    change is shown both ways: now, and once they are enforced.
    """
    choose(output, FORMATS, "-o")
    spec = one_port(port, protocol)
    proto = spec.protocol
    budget = input_budget(max_input_bytes, max_objects)
    settings = settings_from(setting, strict_cidr, load_config(config, budget).settings)
    result = load_cluster(filename, namespace, settings, budget, allow_empty,
                          Live(kubeconfig, context, request_timeout))
    views = StagedViews(result.cluster, settings)
    engine = views.now
    ends: dict[str, Endpoint] = {}
    problems = []
    for flag, text in (("--from", src), ("--to", dst)):
        try:
            ends[flag] = engine.endpoint(text, namespace)
        except EndpointError as e:
            problems.append(f"{flag}: {e}")
    if problems:  # both unknown ends at once
        fail("; ".join(problems))
    source, target = ends["--from"], ends["--to"]
    number = _number(spec, target, settings)
    try:
        if target.service is not None:
            comparisons = views.compare_service(source, target, proto, number)
            write(render_service_comparisons(target.service.key, str(proto), number, comparisons, output,
                                             views.deletions))
            return
        comparison = views.compare(source, target, proto, number)
    except EndpointError as e:  # a service as the source, or a port the service does not offer
        fail(f"{'--from' if source.service is not None else '--to'}: {e}")
    write(render_comparison(comparison, output, views.deletions))


def _number(spec: PortSpec, target: Endpoint, settings: Settings) -> int:
    """The port number of ``--port``: a name is resolved on the destination pod, or the Service's port names."""
    if isinstance(spec.port, int):
        return spec.port
    name = str(spec.port)
    if target.service is not None:
        found = sorted({p.port for p in target.service.ports if p.name == name and p.protocol is spec.protocol})
        what = f"service {target.service.key}"
    elif target.pod is not None:
        found = sorted(target.pod.named_port_numbers(name, spec.protocol, settings))
        what = f"{target.pod.key}"
    else:
        fail(f"--port {name}: a port name is resolved on the destination pod; {target.name} is an address, "
             "give the number")
    if len(found) != 1:
        how = "declares no" if not found else f"declares {len(found)} ({', '.join(map(str, found))}) for the"
        fail(f"--port {name}: {what} {how} {spec.protocol} port named {name}; give the number")
    return found[0]
