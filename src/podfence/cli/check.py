"""podfence check: validate manifests as the API server would."""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, EXIT_INVALID, AllowEmpty, ConfigPath, Filenames, MaxInputBytes,
    MaxObjects, Namespace, SettingValues, StrictCidr, choose, exit_on_errors, fail, input_budget, load_config, report,
    require_objects, settings_from, write,
)
from podfence.loader import codes, load
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
) -> None:
    """Validate manifests; exit 2 if the API server would reject any object podfence reads."""
    choose(output, FORMATS, "-o")
    if not filename:
        fail("no manifests given: use -f PATH (a file, a directory, or - for stdin)")
    budget = input_budget(max_input_bytes, max_objects)
    settings = settings_from(setting, strict_cidr, load_config(config, budget).settings)
    result = load(list(filename), default_namespace=namespace, settings=settings, budget=budget)
    report(result, show_warnings=False)
    exit_on_errors(d for d in result.diagnostics if d.code == codes.LIMIT)
    if result.ok:
        require_objects([result], filename, allow_empty)
    c = result.cluster
    objects = len([n for n in c.namespaces if n.declared]) + len(c.pods) + len(c.services) + len(c.policies)
    write(check_json(result.diagnostics) if output == "json" else check_text(result.diagnostics, objects))
    if not result.ok:
        raise typer.Exit(EXIT_INVALID)
