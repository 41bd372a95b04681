"""podfence check: validate manifests as the API server would."""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.cli.common import (
    ConfigPath, EXIT_INVALID, Filenames, Namespace, SettingValues, StrictCidr, choose, fail, load_config,
    report, settings_from, write,
)
from podfence.loader import load
from podfence.render.diagnostics import FORMATS, check_json, check_text


def check(
    filename: Filenames = [],  # noqa: B006 - typer needs a literal default
    namespace: Namespace = "default",
    output: Annotated[str, typer.Option("-o", "--output", help="text or json")] = "text",
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
) -> None:
    """Validate manifests; exit 2 if the API server would reject any object podfence reads."""
    choose(output, FORMATS, "-o")
    if not filename:
        fail("no manifests given: use -f PATH (a file, a directory, or - for stdin)")
    settings = settings_from(setting, strict_cidr, load_config(config).settings)
    result = load(list(filename), default_namespace=namespace, settings=settings)
    report(result, show_warnings=False)
    c = result.cluster
    objects = len([n for n in c.namespaces if n.declared]) + len(c.pods) + len(c.services) + len(c.policies)
    write(check_json(result.diagnostics) if output == "json" else check_text(result.diagnostics, objects))
    if not result.ok:
        raise typer.Exit(EXIT_INVALID)
