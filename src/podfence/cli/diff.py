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

import os
import subprocess
import sys
from typing import Annotated

import typer

from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, DEFAULT_MAX_OUTPUT_BYTES, EXIT_FINDINGS, EXIT_OK, AllowEmpty,
    ConfigPath, Filenames, MaxInputBytes, MaxObjects, MaxOutputBytes, Namespace, SettingValues, StrictCidr, choose,
    exit_on_errors, fail, input_budget, load_cluster, load_config, refuse_output, require_objects, settings_from,
    write,
)
from podfence.diff import diff as diff_clusters
from podfence.loader import LoadResult, load_texts
from podfence.loader.limits import Budget
from podfence.loader.sources import MANIFEST_EXTENSIONS
from podfence.model import Settings
from podfence.model.text import one_line
from podfence.render.diff import FORMATS, render_diff

GIT_TIMEOUT = 120


class GitError(Exception):
    """git could not answer; the message is one line for the user."""


def _git(args: list[str], cwd: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, timeout=GIT_TIMEOUT,
                              check=False)
    except FileNotFoundError:
        raise GitError("git is not installed (needed for --base)") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took longer than {GIT_TIMEOUT} s") from None
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {why[-1] if why else f'exit {done.returncode}'}")
    return done.stdout


def _components(path: str) -> tuple[str, ...]:
    return tuple(path.split("/"))


def texts_at(ref: str, paths: list[str], cwd: str | None = None,
             budget: Budget | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    """The manifests under ``paths`` as they were at ``ref``: ``(display name, text)`` pairs, and notes.

    A path names a file (read whatever its extension) or a directory (its
    ``.yaml``, ``.yml`` and ``.json`` files, recursively, in the order ``-f``
    walks a directory); display names are those the working tree's files get, so
    both sides of a diff speak of the same files. A path missing at ``ref`` gives
    a note and no files. The blobs count against ``budget`` before they are read.
    """
    here = os.path.realpath(cwd or os.getcwd())
    root = os.fsdecode(_git(["rev-parse", "--show-toplevel"], here).rstrip(b"\n"))
    root = os.path.realpath(root)
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root)
    except GitError:
        raise GitError(f"--base {ref!r}: no such commit, branch or tag") from None
    wanted: list[tuple[str, str, str]] = []  # (display name, blob id, path in repository)
    notes = []
    for path in paths:
        full = os.path.realpath(os.path.join(here, path))
        rel = os.path.relpath(full, root).replace(os.sep, "/")
        if rel.startswith("../"):
            raise GitError(f"{path} is outside the git repository at {root}")
        spec = "." if rel == "." else rel
        listing = _git(["ls-tree", "-r", "-z", "--full-tree", ref, "--", spec], root)
        entries = []
        for item in listing.split(b"\0"):
            if not item:
                continue
            meta, _, raw_name = item.partition(b"\t")
            mode, kind, blob = meta.decode("ascii").split()
            name = os.fsdecode(raw_name)  # as os.walk names the working tree's files, whatever their bytes
            if kind == "blob" and mode in ("100644", "100755"):
                entries.append((name, blob))
        if not entries:
            notes.append(f"{path} did not exist at {ref}")
            continue
        if len(entries) == 1 and entries[0][0] == rel:
            wanted.append((path, entries[0][1], rel))
            continue
        prefix = "" if rel == "." else rel + "/"
        found = sorted(((n[len(prefix):], b) for n, b in entries if n.startswith(prefix)),
                       key=lambda e: _components(e[0]))
        manifests = [(inner, b) for inner, b in found if inner.endswith(MANIFEST_EXTENSIONS)]
        if not manifests:
            notes.append(f"no .yaml, .yml or .json files in {path} at {ref}")
        for inner, blob in manifests:
            wanted.append((os.path.join(path, *_components(inner)), blob, prefix + inner))
    return _read_blobs(wanted, root, ref, budget), notes


def _read_blobs(wanted: list[tuple[str, str, str]], root: str, ref: str,
                budget: Budget | None = None) -> list[tuple[str, str]]:
    if not wanted:
        return []
    if budget is not None:
        sizes = _git(["cat-file", "--batch-check=%(objectsize)"], root,
                     "".join(f"{blob}\n" for _, blob, _ in wanted).encode())
        budget.input_bytes += sum(int(size) for size in sizes.split())
        if budget.input_bytes > budget.max_input_bytes:
            raise GitError(f"the manifests at {ref} exceed --max-input-bytes={budget.max_input_bytes} "
                           "(raise it with --max-input-bytes)")
    data = _git(["cat-file", "--batch"], root, "".join(f"{blob}\n" for _, blob, _ in wanted).encode())
    out = []
    pos = 0
    for name, _, repo_path in wanted:
        end = data.index(b"\n", pos)
        size = int(data[pos:end].split()[2])
        body = data[end + 1:end + 1 + size]
        pos = end + 1 + size + 1
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise GitError(f"{repo_path} at {ref} is not UTF-8 text") from None
        out.append((name, text.removeprefix("\ufeff")))
    return out


def _load_base(ref: str, paths: list[str], namespace: str, settings: Settings, budget: Budget) -> LoadResult:
    try:
        texts, notes = texts_at(ref, paths, budget=budget)
    except GitError as e:
        fail(str(e))
    for note in notes:
        sys.stderr.write(f"note: {one_line(note)}\n")
    result = load_texts(texts, default_namespace=namespace, settings=settings, budget=budget)
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
    report = diff_clusters(before.cluster, after.cluster, settings, cfg, explain=output != "json")
    text = render_diff(report, output)
    size = len(text.encode("utf-8"))
    refuse_output(f"diff of {len(report.diff.changes)} changed pairs", size, max_output_bytes,
                  f"it takes {size} bytes as {output}")
    write(text)
    raise typer.Exit(EXIT_FINDINGS if report.diff else EXIT_OK)
