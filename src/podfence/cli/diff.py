"""podfence diff: what a change of manifests does to connectivity.

Two forms: ``podfence diff OLD NEW`` compares two files or directories;
``podfence diff --base REF -f PATH...`` compares the working tree with the same
paths at git revision REF, read through git (``git ls-tree``, ``git cat-file``)
without touching the checkout. Exit 1 when anything changed, 0 when nothing did.

One side may hold no Kubernetes object (a directory that is new at ``--base``, or
manifests all deleted): the diff then shows everything added or removed. Both
sides empty is an error unless ``--allow-empty``, as for every other command.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, DEFAULT_MAX_OUTPUT_BYTES, EXIT_FINDINGS, EXIT_OK, AllowEmpty,
    ConfigPath, Filenames, MaxInputBytes, MaxObjects, MaxOutputBytes, Namespace, SettingValues, Staged, StrictCidr,
    choose,
    exit_on_errors, fail, input_budget, load_cluster, load_config, refuse_output, require_objects, settings_from,
    write,
)
from podfence.diff import diff as diff_clusters
from podfence.loader import LoadResult, load_texts
from podfence.loader.limits import Budget
from podfence.model import Settings, promoted
from podfence.model.text import one_line
from podfence.render.diff import FORMATS, render_diff
from podfence.sources import texts_at


def _load_base(ref: str, paths: list[str], namespace: str, settings: Settings, budget: Budget) -> LoadResult:
    read = texts_at(ref, paths, budget=budget)
    if read.problem is not None:
        fail(read.problem.message)
    for note in read.notes:
        sys.stderr.write(f"note: {one_line(note)}\n")
    result = load_texts(read.texts, default_namespace=namespace, settings=settings, budget=budget)
    for note in result.notes:
        sys.stderr.write(f"note: {one_line(f'at {ref}: {note}')}\n")
    exit_on_errors(result.diagnostics, prefix=f"at {ref}: ")
    return result


def diff(
    old: Annotated[str | None, typer.Argument(metavar="OLD", help="Manifests before: a file or directory.")] = None,
    new: Annotated[str | None, typer.Argument(metavar="NEW", help="Manifests after: a file or directory.")] = None,
    base: Annotated[str | None, typer.Option("--base", metavar="REF",
                                             help="Compare -f paths with the same paths at this git revision.")] = None,
    filename: Filenames = [],  # noqa: B006
    namespace: Namespace = "default",
    output: Annotated[str, typer.Option("-o", "--output", help="text, json or md")] = "text",
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
    budget = input_budget(max_input_bytes, max_objects)
    cfg = load_config(config, budget)
    settings = settings_from(setting, strict_cidr, cfg.settings)
    if base is not None:
        if old is not None or new is not None:
            fail("give either OLD NEW or --base REF -f PATH, not both")
        if not filename:
            fail("--base needs the paths to compare: -f PATH (repeatable)")
        if "-" in filename:
            fail("--base cannot compare standard input (-f -): name files or directories")
        before = _load_base(base, list(filename), namespace, settings, budget)
        after = load_cluster(filename, namespace, settings, budget, allow_empty=True)
        require_objects([before, after], [f"{', '.join(filename)}, at {base} or now"], allow_empty)
    else:
        if old is None or new is None:
            fail("give two versions: podfence diff OLD NEW, or podfence diff --base REF -f PATH")
        if filename:
            fail("-f goes with --base; to compare two versions give OLD NEW")
        before = load_cluster([old], namespace, settings, budget, allow_empty=True)
        after = load_cluster([new], namespace, settings, budget, allow_empty=True)
        require_objects([before, after], [old, new], allow_empty)
    view = promoted if staged else (lambda cluster: cluster)
    report = diff_clusters(view(before.cluster), view(after.cluster), settings, cfg, explain=output != "json")
    text = render_diff(report, output)
    size = len(text.encode("utf-8"))
    refuse_output(f"diff of {len(report.diff.changes)} changed pairs", size, max_output_bytes,
                  f"it takes {size} bytes as {output}")
    write(text)
    raise typer.Exit(EXIT_FINDINGS if report.diff else EXIT_OK)
