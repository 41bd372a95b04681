"""Reading the manifests of a run: one place for what every use case loads and how it fails.

Any error in the manifests, or input with no Kubernetes object at all (unless
``allow_empty``), stops the run (exit 2), so that a wrong path cannot pass.
Loader notes and warnings are said through the run's listener.
"""

from __future__ import annotations

from typing import Sequence

from podfence.app.errors import Stop, stop_on_errors
from podfence.app.options import Run
from podfence.loader import LoadResult, load, load_texts
from podfence.model.text import one_line
from podfence.sources import texts_at

NO_MANIFESTS = "no manifests given: use -f PATH (a file, a directory, or - for stdin)"


def tell_loaded(run: Run, result: LoadResult, *, show_warnings: bool = True) -> None:
    """The loader's notes, then (unless ``show_warnings`` is off) its warnings, one line each."""
    for text in result.notes:
        run.say(f"note: {one_line(text)}")
    if show_warnings:
        for d in result.diagnostics:
            if not d.is_error:
                run.say(f"warning: {d.one_line()}")


def load_cluster(run: Run, files: Sequence[str] | None = None, *, allow_empty: bool | None = None,
                 namespace: str | None = None, keep_documents: bool = False) -> LoadResult:
    """The manifests of ``files`` (default: the run's ``-f``); any error, or no object, stops the run."""
    files = list(run.options.files if files is None else files)
    if not files:
        raise Stop(NO_MANIFESTS)
    with run.busy("reading manifests"):
        result = load(files, default_namespace=namespace or run.options.namespace, settings=run.settings,
                      budget=run.budget, keep_documents=keep_documents)
    tell_loaded(run, result)
    stop_on_errors(result.diagnostics)
    require_objects([result], files, run.options.allow_empty if allow_empty is None else allow_empty)
    return result


def require_objects(results: Sequence[LoadResult], paths: Sequence[str], allow_empty: bool) -> None:
    """Stop (exit 2) when none of ``results`` holds a Kubernetes object, unless ``allow_empty``."""
    if not allow_empty and not any(r.objects for r in results):
        raise Stop(f"no Kubernetes objects in {', '.join(paths)} (pass --allow-empty to accept empty input)")


def load_at_revision(run: Run, ref: str, paths: Sequence[str]) -> LoadResult:
    """The manifests of ``paths`` as git revision ``ref`` holds them; errors stop the run, named "at REF"."""
    read = texts_at(ref, list(paths), budget=run.budget)
    if read.problem is not None:
        raise Stop(read.problem.message)
    for note in read.notes:
        run.say(f"note: {one_line(note)}")
    result = load_texts(read.texts, default_namespace=run.options.namespace, settings=run.settings,
                        budget=run.budget)
    for note in result.notes:
        run.say(f"note: {one_line(f'at {ref}: {note}')}")
    stop_on_errors(result.diagnostics, prefix=f"at {ref}: ")
    return result


__all__ = ["NO_MANIFESTS", "load_at_revision", "load_cluster", "require_objects", "tell_loaded"]
