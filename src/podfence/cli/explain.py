"""podfence explain: may this connection happen, and why."""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.app import analysis
from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, LISTENER, TIMEOUT, AllNamespaces, AllowEmpty, ConfigPath, ContextName, Filenames,
    Kubeconfig, MaxInputBytes, MaxObjects, Namespace, PortOption, ProtocolOption, RequestTimeout, SettingValues,
    StrictCidr, choose, one_port, options, output_option, write,
)
from podfence.render.explain import FORMATS

Output = output_option(FORMATS)


def explain(
    filename: Filenames = [],  # noqa: B006
    src: Annotated[str, typer.Option("--from", metavar="SRC", help="ns/pod, a workload, or an IP.")] = ...,  # type: ignore[assignment]
    dst: Annotated[str, typer.Option("--to", metavar="DST", help="ns/pod, a workload, a service, or an IP.")] = ...,  # type: ignore[assignment]
    port: PortOption = ...,  # type: ignore[assignment]
    protocol: ProtocolOption = [],  # noqa: B006
    namespace: Namespace = "default",
    output: Output = "text",
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
    found = analysis.explain(options(filename, namespace, config, setting, strict_cidr, allow_empty, max_input_bytes,
                                     max_objects, kubeconfig=kubeconfig, context=context,
                                     request_timeout=request_timeout, all_namespaces=all_namespaces), src, dst, spec,
                             LISTENER)
    write(analysis.rendered(found, output))
