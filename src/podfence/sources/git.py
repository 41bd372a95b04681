"""Manifests as they were at a git revision, read through git without touching the checkout.

``git ls-tree`` lists the files under the paths asked for and ``git cat-file``
reads their blobs; each text gets a :class:`~podfence.model.GitOrigin` whose path
is the name the same file has in the working tree, so both sides of
``podfence diff --base`` speak of the same files.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

from podfence.loader import codes
from podfence.loader.limits import Budget
from podfence.loader.sources import MANIFEST_EXTENSIONS
from podfence.model import Diagnostic, GitOrigin, Severity

GIT_TIMEOUT = 120


@dataclass(frozen=True, slots=True)
class GitTexts:
    """What :func:`texts_at` read: texts with their origins, notes, and the problem that stopped it.

    ``problem`` is one line for the user (git missing or failing, no such
    revision, a path outside the repository, a limit passed); there are no texts then.
    """

    texts: tuple[tuple[GitOrigin, str], ...] = ()
    notes: tuple[str, ...] = ()
    problem: Diagnostic | None = None


class _GitError(Exception):
    """git could not answer (or a limit was passed); the message is one line for the user."""

    def __init__(self, message: str, code: str = codes.UNREADABLE) -> None:
        super().__init__(message)
        self.code = code


def _git(args: list[str], cwd: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, timeout=GIT_TIMEOUT,
                              check=False)
    except FileNotFoundError:
        raise _GitError("git is not installed (needed for --base)") from None
    except subprocess.TimeoutExpired:
        raise _GitError(f"git {args[0]} took longer than {GIT_TIMEOUT} s") from None
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        raise _GitError(f"git {args[0]} failed: {why[-1] if why else f'exit {done.returncode}'}")
    return done.stdout


def _components(path: str) -> tuple[str, ...]:
    return tuple(path.split("/"))


def texts_at(ref: str, paths: list[str], cwd: str | None = None, budget: Budget | None = None) -> GitTexts:
    """The manifests under ``paths`` as they were at ``ref``.

    A path names a file (read whatever its extension) or a directory (its
    ``.yaml``, ``.yml`` and ``.json`` files, recursively, in the order ``-f``
    walks a directory). A path missing at ``ref`` gives a note and no files. The
    blobs count against ``budget`` before they are read.
    """
    try:
        texts, notes = _texts_at(ref, paths, cwd, budget)
    except _GitError as e:
        return GitTexts(problem=Diagnostic(e.code, Severity.ERROR, str(e)))
    return GitTexts(tuple(texts), tuple(notes))


def _texts_at(ref: str, paths: list[str], cwd: str | None,
              budget: Budget | None) -> tuple[list[tuple[GitOrigin, str]], list[str]]:
    here = os.path.realpath(cwd or os.getcwd())
    root = os.fsdecode(_git(["rev-parse", "--show-toplevel"], here).rstrip(b"\n"))
    root = os.path.realpath(root)
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root)
    except _GitError:
        raise _GitError(f"--base {ref!r}: no such commit, branch or tag") from None
    wanted: list[tuple[str, str, str]] = []  # (display name, blob id, path in repository)
    notes = []
    for path in paths:
        full = os.path.realpath(os.path.join(here, path))
        rel = os.path.relpath(full, root).replace(os.sep, "/")
        if rel.startswith("../"):
            raise _GitError(f"{path} is outside the git repository at {root}")
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
                budget: Budget | None = None) -> list[tuple[GitOrigin, str]]:
    if not wanted:
        return []
    if budget is not None:
        sizes = _git(["cat-file", "--batch-check=%(objectsize)"], root,
                     "".join(f"{blob}\n" for _, blob, _ in wanted).encode())
        budget.input_bytes += sum(int(size) for size in sizes.split())
        if budget.input_bytes > budget.max_input_bytes:
            raise _GitError(f"the manifests at {ref} exceed --max-input-bytes={budget.max_input_bytes} "
                            "(raise it with --max-input-bytes)", codes.LIMIT)
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
            raise _GitError(f"{repo_path} at {ref} is not UTF-8 text") from None
        out.append((GitOrigin(ref, name), text.removeprefix("\ufeff")))
    return out
