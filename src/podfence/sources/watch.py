"""A live cluster followed as it changes: list every kind podfence reads, then watch each one.

:func:`open_watch` reads the cluster as :func:`~podfence.sources.cluster.read_cluster`
does, keeping each list's ``resourceVersion``, then follows every kind in a thread
of its own (``?watch=1&resourceVersion=...&allowWatchBookmarks=true``), putting what
happens on one queue, in the order each kind's stream says it:

* :class:`Event`: an object added, modified or deleted (its kind and apiVersion set);
* :class:`Relisted`: every object of a kind, read again because the server forgot the
  version the watch stood at (410 Gone, an ``ERROR`` event or the answer's status);
* :class:`Notice`: the connection was lost (the thread reconnects, waiting a little
  longer each time, up to ten seconds) or is back;
* :class:`Stopped`: the watch cannot go on (403 on watch, 401): a ``K*`` diagnostic.

Bookmarks move a stream's version forward and are not passed on. A stream the server
ends (its ``timeoutSeconds``) is opened again from the last version seen.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable

from podfence.loader.limits import Budget
from podfence.model import Diagnostic
from podfence.sources.cluster import (
    PAGE_SIZE, READ, TIMEOUT, UNREACHABLE, ClusterObjects, Listed, _client, _Expired, _Problem, _read_all, _Reader,
)
from podfence.sources.kubeconfig import Context, read_kubeconfig

WATCH_SECONDS = 300  # each watch request's timeoutSeconds; the stream is then opened again
MAX_BACKOFF = 10.0


@dataclass(frozen=True, slots=True)
class Event:
    """One object added, modified or deleted (``type``: ADDED, MODIFIED, DELETED)."""

    listed: Listed
    type: str
    object: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Relisted:
    """Every object of ``listed`` now, read again after the server forgot the watch's version."""

    listed: Listed
    objects: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Notice:
    """Something to tell the person watching: the connection was lost, or is back."""

    message: str


@dataclass(frozen=True, slots=True)
class Stopped:
    """The watch of a kind cannot go on."""

    problem: Diagnostic


Happening = Event | Relisted | Notice | Stopped


class Watching:
    """An open watch: the first read (:attr:`objects`), then what happens on :attr:`events`."""

    def __init__(self, objects: ClusterObjects, reader: _Reader | None = None,
                 served: tuple[Listed, ...] = ()) -> None:
        self.objects = objects
        self.events: queue.Queue[Happening] = queue.Queue()
        self._reader = reader
        self._served = served
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lost: set[Listed] = set()  # the kinds whose stream is down; said once for all of them
        self._lock = threading.Lock()

    def start(self) -> Watching:
        for listed in self._served:
            thread = threading.Thread(target=self._follow, args=(listed,), name=f"watch {listed.plural}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop following; streams blocked in a read end with the process (the threads are daemons)."""
        self._stopping.set()
        if self._reader is not None:
            self._reader.api.close()

    def _follow(self, listed: Listed) -> None:
        reader = self._reader
        assert reader is not None
        version = reader.versions.get(listed, "")
        lost = False
        wait = 0.5
        while not self._stopping.is_set():
            try:
                query = {"watch": "1", "allowWatchBookmarks": "true", "timeoutSeconds": str(WATCH_SECONDS),
                         **({"resourceVersion": version} if version else {})}
                stream = reader.stream(listed, query, WATCH_SECONDS + reader.timeout)
                if lost:
                    with self._lock:
                        self._lost.discard(listed)
                        if not self._lost:
                            self.events.put(Notice(_context(reader.context) + ": connected again; watching"))
                    lost, wait = False, 0.5
                try:
                    version = self._read(listed, stream, version)
                finally:
                    stream.release_conn()
            except _Expired:
                try:
                    items = reader.list(listed)
                except _Expired:
                    continue
                except _Problem as p:
                    outcome = self._problem(listed, p, lost, wait)
                    if outcome[0] is None:
                        return
                    lost, wait = outcome  # type: ignore[assignment]
                    continue
                version = reader.versions.get(listed, "")
                self.events.put(Relisted(listed, tuple(items)))
            except _Problem as p:
                outcome = self._problem(listed, p, lost, wait)
                if outcome[0] is None:
                    return
                lost, wait = outcome  # type: ignore[assignment]
            except Exception as e:  # noqa: BLE001 - a stream cut mid-read (urllib3's ProtocolError, a reset)
                if self._stopping.is_set():
                    return
                outcome = self._problem(listed, _Problem(reader._unreachable(e)), lost, wait)
                lost, wait = outcome  # type: ignore[assignment]

    def _problem(self, listed: Listed, p: _Problem, lost: bool, wait: float) -> tuple[bool | None, float]:
        """Say a lost connection once (for every kind) and wait before the next try; anything else stops."""
        if self._stopping.is_set():
            return None, wait
        if p.diagnostic.code != UNREACHABLE:
            self.events.put(Stopped(p.diagnostic))
            return None, wait
        with self._lock:
            if not self._lost:
                message = p.diagnostic.message.replace("cannot reach the API server", "lost the connection to "
                                                       "the API server", 1)
                self.events.put(Notice(f"{message}; reconnecting"))
            self._lost.add(listed)
        self._stopping.wait(wait)
        return True, min(wait * 2, MAX_BACKOFF)

    def _read(self, listed: Listed, stream: Any, version: str) -> str:
        """Pass on the events of one open stream; the version reached when the server ends it."""
        for line in stream:
            if self._stopping.is_set():
                return version
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError:
                raise _Problem(self._reader._error(  # type: ignore[union-attr]
                    "K6", f"watch {listed.plural}: the server sent a line that is not JSON")) from None
            kind, obj = event.get("type"), event.get("object")
            if not isinstance(obj, dict):
                continue
            if kind == "ERROR":
                if obj.get("code") == 410:
                    raise _Expired()
                raise _Problem(self._reader._error(  # type: ignore[union-attr]
                    "K6", f"watch {listed.plural}: the API server answered {obj.get('code')}: "
                          f"{obj.get('message', '')}"))
            meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
            version = str(meta.get("resourceVersion") or version)
            if kind in ("ADDED", "MODIFIED", "DELETED"):
                self.events.put(Event(listed, kind, {**obj, "apiVersion": obj.get("apiVersion") or
                                                     listed.api_version, "kind": obj.get("kind") or listed.kind}))
        return version


def _context(context: Context) -> str:
    return f"context {context.name!r} ({context.server})"


def open_watch(kubeconfig: str | None = None, context: str | None = None, *,
               environ: Mapping[str, str] | None = None, page_size: int = PAGE_SIZE, timeout: float = TIMEOUT,
               budget: Budget | None = None, starting: Callable[[Context], None] | None = None) -> Watching:
    """List everything podfence reads from ``context``, then follow it (arguments as ``read_cluster``'s).

    When ``objects.problem`` is set nothing is watched; else call :meth:`Watching.start`.
    """
    config = read_kubeconfig(kubeconfig, environ, budget)
    if isinstance(config, Diagnostic):
        return Watching(ClusterObjects(context or "", problem=config))
    chosen = config.context(context)
    if isinstance(chosen, Diagnostic):
        return Watching(ClusterObjects(context or config.current, problem=chosen))
    if starting is not None:
        starting(chosen)
    try:
        api = _client(config, chosen, timeout, connections=len(READ) + 4)
    except _Problem as p:
        return Watching(ClusterObjects(chosen.name, chosen.server, problem=p.diagnostic))
    reader = _Reader(api, chosen, page_size, timeout)
    try:
        objects = _read_all(reader, chosen)
    except _Problem as p:
        api.close()
        return Watching(ClusterObjects(chosen.name, chosen.server, problem=p.diagnostic))
    return Watching(objects, reader, tuple(listed for listed in READ if listed in reader.versions))
