"""podfence check: validate manifests as the API server would."""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.cli.common import (
    TIMEOUT, ContextName, Kubeconfig, Live, RequestTimeout,
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, EXIT_INVALID, AllowEmpty, ConfigPath, Filenames, MaxInputBytes,
    MaxObjects, Namespace, SettingValues, StrictCidr, choose, exit_on_errors, input_budget, load_config, load_input,
    namespace_given, report, require_objects, settings_from, write,
)
from podfence.loader import codes
from podfence.render.diagnostics import FORMATS, check_json, check_text


def check(
    filename: Filenames = [],  # noqa: B006 - typer needs a literal default
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
    """Validate manifests; exit 2 if the API server would reject any object podfence reads."""
    choose(output, FORMATS, "-o")
    budget = input_budget(max_input_bytes, max_objects)
    settings = settings_from(setting, strict_cidr, load_config(config, budget).settings)
    result, names = load_input(filename, namespace, settings, budget, live=Live(kubeconfig, context, request_timeout),
                               namespace_given=namespace_given())
    report(result, show_warnings=False)
    exit_on_errors(d for d in result.diagnostics if d.code == codes.LIMIT)
    if result.ok:
        require_objects([result], names, allow_empty)
    c = result.cluster
    objects = len([n for n in c.namespaces if n.declared]) + len(c.pods) + len(c.services) + len(c.policies)
    write(check_json(result.diagnostics) if output == "json" else check_text(result.diagnostics, objects))
    if not result.ok:
        raise typer.Exit(EXIT_INVALID)
