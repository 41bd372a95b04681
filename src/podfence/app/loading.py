"""Reading the source of a run: one place for what every use case loads and how it fails.

The source is the manifests of ``-f``, a live cluster, or the manifests applied
over a live cluster (:func:`load_input`). Any error in it, or input with no
Kubernetes object at all (unless ``allow_empty``), stops the run (exit 2), so
that a wrong path cannot pass. Loader notes and warnings are said through the
run's listener.
"""

from __future__ import annotations

from typing import Callable, Sequence

from podfence.app.errors import Said, Stop, stop_on_errors
from podfence.app.options import Listener, Live, Run
from podfence.loader import LoadResult, load, load_objects, load_texts
from podfence.loader.limits import Budget
from podfence.model import Cluster, ClusterOrigin, Diagnostic, promoted
from podfence.model.text import one_line
from podfence.sources import texts_at
from podfence.sources.cluster import ClusterObjects, read_cluster
from podfence.sources.kubeconfig import NO_KUBECONFIG, Context

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
                 namespace: str | None = None, keep_documents: bool = False, live: bool = True) -> LoadResult:
    """The run's source (:func:`load_input`); any error, or no object, stops the run.

    ``files`` (default: the run's ``-f``) replaces the run's files; ``live=False``
    reads the files only, and then ``-f`` is required.
    """
    files = list(run.options.files if files is None else files)
    source = run.options.live if live else None
    if not files and source is None:
        raise Stop(NO_MANIFESTS)
    with run.busy("reading manifests"):
        result, names = load_input(run, files, namespace or run.options.namespace, source,
                                   keep_documents=keep_documents)
    tell_loaded(run, result)
    stop_on_errors(result.diagnostics)
    require_objects([result], names, run.options.allow_empty if allow_empty is None else allow_empty)
    return result


def load_input(run: Run, files: Sequence[str], namespace: str, live: Live | None, *,
               keep_documents: bool = False) -> tuple[LoadResult, list[str]]:
    """The cluster a use case analyses, and what to name its input by in messages (the paths, or the context).

    ``-f`` alone: the manifests. Otherwise the live cluster (the current context
    when no option names one), with the manifests of ``-f`` applied over it as
    ``kubectl apply -f`` would: same kind, namespace and name replace the live
    object. Objects of the files that name no namespace go to ``-n`` when given,
    else to the context's namespace, else to ``default``. Only the live read's
    notes and its problems are said; the caller tells the result.
    """
    if live is None or not (live.asked or not files):
        result = load(list(files), default_namespace=namespace, settings=run.settings, budget=run.budget,
                      keep_documents=keep_documents)
        return result, list(files)
    if not files and not live.asked:
        missing = missing_kubeconfig(run.budget)
        if missing is not None:
            raise Stop(f"{NO_MANIFESTS}, or name a live cluster with --kubeconfig FILE / --context NAME ({missing})")
    read = read_live(live, run.listener, run.budget)
    default = namespace if run.options.namespace_given else (read.namespace or "default")
    result = load_objects(ClusterOrigin(read.context), read.documents, default_namespace=default,
                          settings=run.settings, budget=run.budget, name=read.context,
                          keep_documents=keep_documents, then=list(files))
    return result, [f"context {read.context}", *files]


def missing_kubeconfig(budget: Budget | None) -> str | None:
    """Why no kubeconfig can be found (None when one exists, whatever its state)."""
    from podfence.sources.kubeconfig import read_kubeconfig

    found = read_kubeconfig(None, budget=budget)
    return found.message if isinstance(found, Diagnostic) and found.code == NO_KUBECONFIG else None


def announcing(listener: Listener) -> Callable[[Context], None]:
    """What says which cluster and context a read goes to, before it starts."""

    def starting(chosen: Context) -> None:
        listener.say(f"reading cluster {chosen.cluster!r} (context {chosen.name!r}, {chosen.server})")

    return starting


def read_live(live: Live, listener: Listener, budget: Budget | None = None) -> ClusterObjects:
    """Every object podfence reads from the context; says which one, and any problem stops the run (exit 2)."""

    context = live.context
    with listener.busy(f"reading context {context}" if context else "reading the current context"):
        read = read_cluster(live.kubeconfig, context, timeout=live.timeout, budget=budget,
                            starting=announcing(listener))
    for note in read.notes:
        listener.say(f"note: {one_line(note)}")
    if read.problem is not None:
        raise Said([f"podfence: error: {read.problem.one_line()}"])
    return read


def evaluated(run: Run, result: LoadResult) -> Cluster:
    """The cluster a use case evaluates: the promoted view under ``--staged``, else as loaded."""
    return promoted(result.cluster) if run.options.staged else result.cluster


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


__all__ = ["NO_MANIFESTS", "evaluated", "load_at_revision", "load_cluster", "load_input", "missing_kubeconfig",
           "read_live", "require_objects", "tell_loaded"]
