"""podfence diff: what a change of manifests does to connectivity.

Two forms: ``podfence diff OLD NEW`` compares two files or directories;
``podfence diff --base REF -f PATH...`` compares the working tree with the same
paths at git revision REF, read through git (``git ls-tree``, ``git cat-file``)
without touching the checkout. Exit 1 when anything changed, 0 when nothing did.
"""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.app import diff as diffing
from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, DEFAULT_MAX_OUTPUT_BYTES, EXIT_FINDINGS, EXIT_OK, LISTENER,
    AllowEmpty, ConfigPath, Filenames, MaxInputBytes, MaxObjects, MaxOutputBytes, Namespace, SettingValues,
    Staged, StrictCidr, choose, options, output_option, write_sized,
)
from podfence.render.diff import FORMATS, render_diff

Output = output_option(FORMATS)


def diff(
    old: Annotated[str | None, typer.Argument(metavar="OLD", help="Manifests before: a file or directory.")] = None,
    new: Annotated[str | None, typer.Argument(metavar="NEW", help="Manifests after: a file or directory.")] = None,
    base: Annotated[str | None, typer.Option("--base", metavar="REF",
                                             help="Compare -f paths with the same paths at this git revision.")] = None,
    filename: Filenames = [],  # noqa: B006
    namespace: Namespace = "default",
    output: Output = "text",
    staged: Staged = False,
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    max_output_bytes: MaxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES,
) -> None:
    """Connections added and removed between two versions of the manifests (exit 1 if any)."""
    choose(output, FORMATS, "-o")
    report = diffing.diff(options(filename, namespace, config, setting, strict_cidr, allow_empty, max_input_bytes,
                                  max_objects, live=False, staged=staged), old, new, base, LISTENER, explain=output != "json")
    write_sized(render_diff(report, output), max_output_bytes, f"diff of {len(report.diff.changes)} changed pairs",
                output)
    raise typer.Exit(EXIT_FINDINGS if report.diff else EXIT_OK)
