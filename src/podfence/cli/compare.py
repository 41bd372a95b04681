"""podfence compare: the connectivity drift between two clusters (or a cluster and manifests).

Each side is a kubeconfig context or a path (manifests, a snapshot). A name that
is an existing file or directory is a path; any other a context. Exit 1 when
anything differs, 0 when nothing does, 2 on invalid input, as ``diff``.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, DEFAULT_MAX_OUTPUT_BYTES, EXIT_FINDINGS, EXIT_OK, TIMEOUT,
    AllowEmpty, ConfigPath, Kubeconfig, Live, MaxInputBytes, MaxObjects, MaxOutputBytes, Namespace, RequestTimeout,
    SettingValues, Staged, StrictCidr, choose, fail, input_budget, load_cluster, load_config, refuse_output,
    require_objects, settings_from, write,
)
from podfence.diff import drift
from podfence.loader import LoadResult
from podfence.loader.limits import Budget
from podfence.model import Settings, promoted
from podfence.model.text import quoted
from podfence.render.compare import FORMATS, render_compare

_PATH_LOOK = (".yaml", ".yml", ".json")


def _side(name: str, which: str, kubeconfig: str | None, timeout: float, namespace: str, settings: Settings,
          budget: Budget) -> LoadResult:
    """One side: the manifests at ``name`` when it exists, else the context ``name``."""
    if name == "-" or os.path.exists(name):
        return load_cluster([name], namespace, settings, budget, allow_empty=True)
    if os.sep in name or name.endswith(_PATH_LOOK):
        fail(f"{which} {quoted(name)}: no such file or directory (a context name holds no {os.sep!r})")
    return load_cluster([], namespace, settings, budget, allow_empty=True, live=Live(kubeconfig, name, timeout))


def compare(
    a: Annotated[str, typer.Argument(metavar="A", help="First cluster: a kubeconfig context, or a path to "
                                                       "manifests or a snapshot.")],
    b: Annotated[str, typer.Argument(metavar="B", help="Second cluster, the same way.")],
    output: Annotated[str, typer.Option("-o", "--output", help="text, json or md")] = "text",
    kubeconfig: Kubeconfig = None,
    request_timeout: RequestTimeout = TIMEOUT,
    namespace: Namespace = "default",
    staged: Staged = False,
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    max_output_bytes: MaxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES,
) -> None:
    """Connectivity drift from cluster A to cluster B, per namespace (exit 1 if any).

    A namespace that exists in one cluster only is one line, not a change for each
    of its pods; every other change is reported as `podfence diff` reports it.
    """
    choose(output, FORMATS, "-o")
    if "-" == a == b:
        fail("A and B cannot both be standard input (-)")
    budget = input_budget(max_input_bytes, max_objects)
    cfg = load_config(config, budget)
    settings = settings_from(setting, strict_cidr, cfg.settings)
    first = _side(a, "A", kubeconfig, request_timeout, namespace, settings, budget)
    second = _side(b, "B", kubeconfig, request_timeout, namespace, settings, budget)
    require_objects([first, second], [a, b], allow_empty)
    view = promoted if staged else (lambda cluster: cluster)
    found = drift(view(first.cluster), view(second.cluster), settings, cfg, explain=output != "json")
    text = render_compare(found, output, a, b)
    size = len(text.encode("utf-8"))
    refuse_output(f"compare of {len(found.report.diff.changes)} changed pairs", size, max_output_bytes,
                  f"it takes {size} bytes as {output}")
    write(text)
    raise typer.Exit(EXIT_FINDINGS if found else EXIT_OK)
