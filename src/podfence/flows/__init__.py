"""Observed traffic: Hubble flows, Calico flow logs and the lab's denial stream.

:func:`parse_record` reads one parsed JSON object of either format (the lab's
denial stream is Hubble-shaped); :func:`observe` maps records onto the workloads
of a cluster and folds them into distinct connections, accounting for every
record it cannot use. Nothing here reads files.
"""

from __future__ import annotations

from typing import Any, Mapping

from podfence.flows import calico, hubble
from podfence.flows.mapping import Observation, Observed, Tally, WorkloadIndex, observe, observe_counted
from podfence.flows.records import EndKind, FlowEnd, FlowRecord, Outcome, Skip


def parse_record(obj: Any, ends: dict[Any, FlowEnd] | None = None) -> FlowRecord | Skip:
    """A Hubble or Calico record, told apart by its fields (``ends``: see :func:`podfence.flows.hubble.parse`)."""
    if isinstance(obj, Mapping) and calico.looks_like(obj) and not hubble.looks_like(obj):
        return calico.parse(obj)
    return hubble.parse(obj, ends)


class RecordParser:
    """:func:`parse_record` for a stream of records: each distinct Hubble record is parsed once.

    Flows repeat the same ends, ports and verdicts; only times and ids differ, and
    those are not read (:func:`podfence.flows.hubble.record_key`). At most
    ``limit`` distinct records are remembered, then the memory starts again.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self._seen: dict[tuple[Any, ...], FlowRecord | Skip] = {}
        self._ends: dict[Any, FlowEnd] = {}

    def __call__(self, obj: Any) -> FlowRecord | Skip:
        key = hubble.record_key(obj)
        if key is None:
            return parse_record(obj, self._ends)
        found = self._seen.get(key)
        if found is None:
            if len(self._seen) >= self.limit:
                self._seen.clear()
            found = self._seen[key] = parse_record(obj, self._ends)
        return found


__all__ = [
    "EndKind", "FlowEnd", "FlowRecord", "Observation", "Observed", "Outcome", "RecordParser", "Skip", "Tally",
    "WorkloadIndex", "observe", "observe_counted", "parse_record",
]
