"""podfence check: validate manifests as the API server would."""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.cli.common import (
    TIMEOUT, AllNamespaces, ContextName, Kubeconfig, Live, RequestTimeout,
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, EXIT_INVALID, AllowEmpty, ConfigPath, Filenames, MaxInputBytes,
    MaxObjects, Namespace, SettingValues, StrictCidr, choose, exit_on_errors, input_budget, load_config, load_input,
    namespace_given, report, require_objects, settings_from, write,
)
from podfence.loader import codes
from podfence.model import Diagnostic
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
    all_namespaces: AllNamespaces = False,
) -> None:
    """Validate manifests; exit 2 if the API server would reject any object podfence reads.

    On a live cluster, -n NS shows (and judges) the objects of one namespace only.
    """
    choose(output, FORMATS, "-o")
    budget = input_budget(max_input_bytes, max_objects)
    settings = settings_from(setting, strict_cidr, load_config(config, budget).settings)
    live = Live(kubeconfig, context, request_timeout, all_namespaces)
    result, names = load_input(filename, namespace, settings, budget, live=live, namespace_given=namespace_given())
    report(result, show_warnings=False)
    exit_on_errors(d for d in result.diagnostics if d.code == codes.LIMIT)
    if result.ok:
        require_objects([result], names, allow_empty)
    c = result.cluster
    objects = len([n for n in c.namespaces if n.declared]) + len(c.pods) + len(c.services) + len(c.policies)
    shown = live.shown(filename, namespace)
    diagnostics = result.diagnostics if shown is None else tuple(d for d in result.diagnostics if _in(d, shown))
    write(check_json(diagnostics) if output == "json" else check_text(diagnostics, objects))
    if any(d.is_error for d in diagnostics):
        raise typer.Exit(EXIT_INVALID)


def _in(d: Diagnostic, namespace: str) -> bool:
    """True when ``d`` is about an object of ``namespace`` or the namespace itself (``object`` reads
    ``Kind ns/name``, ``Namespace name``); a problem of no object is always shown."""
    if not d.object:
        return True
    kind, _, name = d.object.partition(" ")
    return name.split("/", 1)[0] == namespace if "/" in name else kind == "Namespace" and name == namespace
