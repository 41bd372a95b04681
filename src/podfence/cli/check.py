"""podfence check: validate manifests as the API server would."""

from __future__ import annotations

import typer

from podfence.app import analysis
from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, EXIT_INVALID, LISTENER, TIMEOUT, AllNamespaces, AllowEmpty, ConfigPath,
    ContextName, Filenames, Kubeconfig, MaxInputBytes, MaxObjects, Namespace, RequestTimeout, SettingValues,
    StrictCidr, choose, options, output_option, write,
)
from podfence.render.diagnostics import FORMATS, check_json, check_text

Output = output_option(FORMATS)


def check(
    filename: Filenames = [],  # noqa: B006 - typer needs a literal default
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
    all_namespaces: AllNamespaces = False,
) -> None:
    """Validate manifests; exit 2 if the API server would reject any object podfence reads.

    On a live cluster, -n NS shows (and judges) the objects of one namespace only.
    """
    choose(output, FORMATS, "-o")
    checked = analysis.check(options(filename, namespace, config, setting, strict_cidr, allow_empty,
                                     max_input_bytes, max_objects, kubeconfig=kubeconfig, context=context,
                                     request_timeout=request_timeout, all_namespaces=all_namespaces), LISTENER)
    write(check_json(checked.diagnostics) if output == "json" else check_text(checked.diagnostics, checked.objects))
    if not checked.ok:
        raise typer.Exit(EXIT_INVALID)

