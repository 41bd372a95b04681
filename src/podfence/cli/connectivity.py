"""podfence connectivity: every allowed connection, pods and address ranges."""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, AllowEmpty, ConfigPath, Filenames, MaxInputBytes, MaxObjects,
    Namespace, SettingValues, StrictCidr, busy, choose, input_budget, load_cluster, load_config, settings_from,
    write,
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
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
) -> None:
    """All allowed connections: per pod pair, and between pods and address ranges."""
    choose(output, FORMATS, "-o")
    budget = input_budget(max_input_bytes, max_objects)
    settings = settings_from(setting, strict_cidr, load_config(config, budget).settings)
    result = load_cluster(filename, namespace, settings, budget, allow_empty)
    with busy("computing connectivity"):
        text = render_connectivity(Engine(result.cluster, settings).connectivity(), output)
    write(text)
