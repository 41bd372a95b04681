"""The lab's denied connections for the page: one subscription to the lab, shared by every watching page.

The lab's drop log takes one subscriber, so the server subscribes once, when the first
page watches, and hands every record to each page that watches at that moment. The
subscription lasts until the lab goes down or the server stops; a page that goes away
only stops receiving.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Iterable

from podfence.app import Stop

Record = dict[str, Any]
Source = Callable[[], Iterable[Record]]  # the records as they happen: podfence.app.lab.denials on a lab
Event = tuple[str, Any]  # ("record", record) | ("end", why)


class DenialFeed:
    """Fans the records of one ``source`` out to every subscriber's queue."""

    def __init__(self, source: Source) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._watchers: set[queue.SimpleQueue[Event]] = set()
        self._reading = False

    def subscribe(self) -> queue.SimpleQueue[Event]:
        watcher: queue.SimpleQueue[Event] = queue.SimpleQueue()
        with self._lock:
            self._watchers.add(watcher)
            if not self._reading:
                self._reading = True
                threading.Thread(target=self._read, name="podfence-ui-denials", daemon=True).start()
        return watcher

    def unsubscribe(self, watcher: queue.SimpleQueue[Event]) -> None:
        with self._lock:
            self._watchers.discard(watcher)

    @property
    def watching(self) -> int:
        """How many pages watch now."""
        with self._lock:
            return len(self._watchers)

    def _send(self, event: Event) -> None:
        with self._lock:
            watchers = list(self._watchers)
        for watcher in watchers:
            watcher.put(event)

    def _read(self) -> None:
        why = "the lab's denial stream ended (is the lab down?)"
        try:
            for record in self._source():
                self._send(("record", record))
        except Stop as exc:
            why = str(exc)
        except OSError as exc:
            why = f"cannot read the lab's denials ({exc.strerror or exc})"
        with self._lock:  # the pages watching now hear the end; the next one to watch subscribes again
            self._reading = False
            watchers, self._watchers = self._watchers, set()
        for watcher in watchers:
            watcher.put(("end", why))
