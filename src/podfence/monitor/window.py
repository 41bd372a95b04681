"""The denied pairs of the last minute, for the terminal view."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass

from podfence.monitor.events import AUDIT, DROPPED, Event

Pair = tuple[str, str, str, str, str, str]  # verdict, src, dst, connection, direction, policy


@dataclass
class Totals:
    records: int = 0
    denied: int = 0
    would_deny: int = 0
    invalid: int = 0


class RecentDenials:
    """Denied and would-deny pairs counted per second, the last ``seconds`` of them kept."""

    def __init__(self, seconds: int = 60) -> None:
        self.seconds = seconds
        self.buckets: deque[tuple[int, Counter[Pair]]] = deque()
        self.totals = Totals()

    def add(self, event: Event, now: float) -> None:
        self.totals.records += 1
        if event.verdict == "invalid":
            self.totals.invalid += 1
        if event.verdict not in (DROPPED, AUDIT):
            return
        if event.verdict == DROPPED:
            self.totals.denied += event.connections
        else:
            self.totals.would_deny += event.connections
        second = int(now)
        if not self.buckets or self.buckets[-1][0] != second:
            self.buckets.append((second, Counter()))
            self._expire(second)
        connection = f"{event.protocol} {event.port}" if event.port is not None else event.protocol
        self.buckets[-1][1][(event.verdict, event.src, event.dst, connection, event.direction.value,
                             event.policy)] += event.connections

    def _expire(self, now: int) -> None:
        while self.buckets and self.buckets[0][0] <= now - self.seconds:
            self.buckets.popleft()

    def top(self, now: float, n: int = 15) -> list[tuple[Pair, int]]:
        self._expire(int(now))
        total: Counter[Pair] = Counter()
        for _, bucket in self.buckets:
            total.update(bucket)
        return sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
