"""The diff use case: what a change of manifests does to connectivity.

Two forms: two files or directories (``old``, ``new``), or the run's ``-f`` paths
now against the same paths at a git revision (``base``), read through git
without touching the checkout. One side may hold no Kubernetes object (a
directory that is new at ``base``, or manifests all deleted): everything then
shows as added or removed. Both sides empty stop the run unless ``allow_empty``.
``staged`` compares the promoted views of both sides.
"""

from __future__ import annotations

from podfence.app.errors import Stop
from podfence.app.loading import evaluated, load_at_revision, load_cluster, require_objects
from podfence.app.options import Listener, Options, prepare
from podfence.diff import DiffReport, diff as diff_clusters


def diff(options: Options, old: str | None = None, new: str | None = None, base: str | None = None,
         listener: Listener | None = None, explain: bool = True) -> DiffReport:
    """Connections added and removed between two versions; ``explain`` adds causes and review flags."""
    run = prepare(options, listener)
    files = list(options.files)
    if base is not None:
        if old is not None or new is not None:
            raise Stop("give either OLD NEW or --base REF -f PATH, not both")
        if not files:
            raise Stop("--base needs the paths to compare: -f PATH (repeatable)")
        if "-" in files:
            raise Stop("--base cannot compare standard input (-f -): name files or directories")
        before = load_at_revision(run, base, files)
        after = load_cluster(run, allow_empty=True)
        require_objects([before, after], [f"{', '.join(files)}, at {base} or now"], options.allow_empty)
    else:
        if old is None or new is None:
            raise Stop("give two versions: podfence diff OLD NEW, or podfence diff --base REF -f PATH")
        if files:
            raise Stop("-f goes with --base; to compare two versions give OLD NEW")
        before = load_cluster(run, [old], allow_empty=True)
        after = load_cluster(run, [new], allow_empty=True)
        require_objects([before, after], [old, new], options.allow_empty)
    return diff_clusters(evaluated(run, before), evaluated(run, after), run.settings, run.config, explain=explain)


__all__ = ["diff"]
