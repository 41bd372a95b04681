"""The monitor's loop: records in, events counted, metrics served, the recent denials shown."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from typing import Any

from podfence.monitor.events import INVALID, Event, EventReader
from podfence.monitor.manifests import ManifestContext
from podfence.monitor.metrics import Metrics
from podfence.monitor.window import RecentDenials


class Monitor:
    """Counts every record it is given; safe to read from another thread (the view) while it runs."""

    def __init__(self, source: str, metrics: Metrics, context: ManifestContext | None = None,
                 keep_recent: bool = True) -> None:
        self.reader = EventReader(source)
        self.metrics = metrics
        self.context = context
        self.recent = RecentDenials()
        self.keep_recent = keep_recent  # only the terminal view reads the recent denials
        self.lock = threading.Lock()

    def event(self, obj: Any) -> Event:
        event = self.reader(obj)
        if self.context is not None:
            event = self.context.complete(event)
        return event

    def record(self, obj: Any, now: float | None = None) -> Event:
        """Count one parsed record (the lab's stream gives them parsed)."""
        event = self.event(obj)
        self._count(event, time.time() if now is None else now)
        return event

    def line(self, raw: bytes | str, now: float | None = None) -> Event | None:
        """Count one line of JSON; a blank line is nothing, a line that is no JSON counts as ``invalid``."""
        if not raw.strip():
            return None
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError):
            event = INVALID
        else:
            event = self.event(obj)
        self._count(event, time.time() if now is None else now)
        return event

    def lines(self, lines: Iterable[bytes | str]) -> None:
        for raw in lines:
            self.line(raw)

    def _count(self, event: Event, now: float) -> None:
        self.metrics.count(event)
        if self.keep_recent:
            with self.lock:
                self.recent.add(event, now)
