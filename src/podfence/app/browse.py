"""Loading what ``podfence ui`` shows: one cluster per context (or the manifests), with their documents.

The web face keeps each loaded cluster and answers questions about it; this use
case reads them the way every command reads its source (the configuration
checked against the lint rules it names), so the page and the commands agree.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Iterator, Sequence

from podfence.app.loading import load_cluster
from podfence.app.options import Listener, Live, Options, Run, prepare
from podfence.lint.selection import config_references
from podfence.loader import LoadResult


@dataclass(frozen=True, slots=True)
class Browsed:
    """One cluster to show: what was loaded (documents kept for the policy view), under which run, and its label."""

    result: LoadResult
    run: Run
    label: str


def load_clusters(options: Options, contexts: Sequence[str] = (), listener: Listener | None = None) -> list[Browsed]:
    """The source of ``options`` once per context of ``contexts`` (none: the source as it is)."""
    run = prepare(options, listener, check=config_references)
    given = options.live or Live()
    out = []
    with _uncollected():
        for name in contexts or [None]:
            reads_live = name is not None or given.kubeconfig is not None or not options.files
            live = replace(given, context=name) if reads_live else None
            one = replace(run, options=replace(options, live=live))
            result = load_cluster(one, keep_documents=True, live=reads_live)
            out.append(Browsed(result, one, result.cluster.name or ", ".join(options.files)))
    return out


@contextmanager
def _uncollected() -> Iterator[None]:
    """Python's cycle collector paused while the clusters load, and what they hold kept out of its later passes.

    Loading makes millions of objects that live as long as the server and no garbage cycles, yet each full
    collection walks them all: 1.3 s of a 6.5 s load of 20,000 pods, and 0.5 s of the connectivity computed
    next. Frozen, they are left out of every later pass (objects still go when nothing refers to them).
    A load after the first (the web page's reload after a save) first hands what earlier loads froze back to
    the collector, so a cluster that was replaced is collected rather than kept for good.
    """
    enabled = gc.isenabled()
    gc.unfreeze()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


__all__ = ["Browsed", "load_clusters"]
