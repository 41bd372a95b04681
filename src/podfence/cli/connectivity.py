"""podfence connectivity: every allowed connection, pods and address ranges."""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.cli.common import (
    ConfigPath, Filenames, Namespace, SettingValues, StrictCidr, busy, choose, load_cluster, load_config,
    settings_from, write,
)
from podfence.engine import Engine
from podfence.render.connectivity import FORMATS, render_connectivity


def connectivity(
    filename: Filenames = [],  # noqa: B006
    namespace: Namespace = "default",
    output: Annotated[str, typer.Option("-o", "--output", help="text, json, csv, md or dot")] = "text",
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
) -> None:
    """All allowed connections: per pod pair, and between pods and address ranges."""
    choose(output, FORMATS, "-o")
    settings = settings_from(setting, strict_cidr, load_config(config).settings)
    result = load_cluster(filename, namespace, settings)
    with busy("computing connectivity"):
        text = render_connectivity(Engine(result.cluster, settings).connectivity(), output)
    write(text)
