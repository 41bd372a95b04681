"""The watch use case: follow a live cluster and say what each change does to connectivity.

:func:`open_watch` lists everything podfence reads from the context and loads it
(a problem stops the run, exit 2); :func:`follow` then turns what the watch sees
into :class:`~podfence.live.Update` values, handed to ``emit`` one at a time,
until ``stopping`` is set or the watch fails. Stopping on a signal is the face's
business: a use case installs no handler.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from podfence.app.errors import Said, Stop, stop_on_errors
from podfence.app.loading import announcing, tell_loaded
from podfence.app.options import Listener, Options, prepare
from podfence.live import LiveCluster, Update, follow as follow_live
from podfence.model.text import one_line
from podfence.sources.cluster import TIMEOUT
from podfence.sources.watch import Watching, open_watch as open_cluster_watch


@dataclass(frozen=True, slots=True)
class Watch:
    """A cluster being followed: the watch (not started) and the objects it holds."""

    watching: Watching
    live: LiveCluster

    @property
    def context(self) -> str:
        return self.watching.objects.context


def open_watch(options: Options, listener: Listener | None = None) -> Watch:
    """The context of ``options.live`` listed and loaded, ready to follow; any problem stops the run."""
    live = options.live
    if live is not None and live.context is not None and not live.context:
        raise Stop("--context: give a context name")
    run = prepare(options, listener)

    with run.busy("reading the cluster"):
        watching = open_cluster_watch(live.kubeconfig if live else None, live.context if live else None,
                                      timeout=live.timeout if live else TIMEOUT, budget=run.budget,
                                      starting=announcing(run.listener))
    read = watching.objects
    for text in read.notes:
        run.say(f"note: {one_line(text)}")
    if read.problem is not None:
        raise Said([f"podfence: error: {read.problem.one_line()}"])
    following = LiveCluster(read, run.settings)
    tell_loaded(run, following.loaded)
    stop_on_errors(following.loaded.diagnostics)
    return Watch(watching, following)


def follow(watch: Watch, emit: Callable[[Update], None], listener: Listener | None = None, *,
           debounce: float = 0.2, stopping: threading.Event | None = None) -> None:
    """Start the watch and hand each update to ``emit`` until ``stopping``; a failed watch stops the run (exit 2)."""
    say = (listener or Listener()).say
    watch.watching.start()
    try:
        problem = follow_live(watch.watching, watch.live, emit, lambda m: say(f"note: {one_line(m)}"),
                              debounce=debounce, stopping=stopping)
    finally:
        watch.watching.stop()
    if problem is not None:
        raise Said([f"podfence: error: {problem.one_line()}"])


__all__ = ["Update", "Watch", "follow", "open_watch"]
