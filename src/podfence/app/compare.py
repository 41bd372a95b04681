"""The compare use case: the connectivity drift between two clusters (or a cluster and manifests).

Each side is a kubeconfig context or a path (manifests, a snapshot): a name that
is an existing file or directory (or ``-``) is a path, any other a context of the
run's kubeconfig. Namespaces of one side only are reported apart; every other
change as ``diff`` reports it.
"""

from __future__ import annotations

import os
from dataclasses import replace

from podfence.app.errors import Stop
from podfence.app.loading import evaluated, load_cluster, require_objects
from podfence.app.options import Listener, Live, Options, Run, prepare
from podfence.diff import Drift, drift
from podfence.loader import LoadResult
from podfence.model.text import quoted

_PATH_LOOK = (".yaml", ".yml", ".json")


def _side(run: Run, name: str, which: str) -> LoadResult:
    """One side: the manifests at ``name`` when it exists, else the context ``name``."""
    if name == "-" or os.path.exists(name):
        return load_cluster(run, [name], allow_empty=True, live=False)
    if os.sep in name or name.endswith(_PATH_LOOK):
        raise Stop(f"{which} {quoted(name)}: no such file or directory (a context name holds no {os.sep!r})")
    live = replace(run.options.live or Live(), context=name)
    return load_cluster(replace(run, options=replace(run.options, live=live)), [], allow_empty=True)


def compare(options: Options, a: str, b: str, listener: Listener | None = None, *, explain: bool = True) -> Drift:
    """Connectivity drift from A to B (each a context or a path); ``explain`` adds causes and review flags."""
    if "-" == a == b:
        raise Stop("A and B cannot both be standard input (-)")
    run = prepare(options, listener)
    first = _side(run, a, "A")
    second = _side(run, b, "B")
    require_objects([first, second], [a, b], options.allow_empty)
    return drift(evaluated(run, first), evaluated(run, second), run.settings, run.config, explain=explain)


__all__ = ["compare"]
