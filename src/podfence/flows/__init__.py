"""Observed traffic: Hubble flows, Calico flow logs and the lab's denial stream.

:func:`parse_record` reads one parsed JSON object of either format (the lab's
denial stream is Hubble-shaped); :func:`observe` maps records onto the workloads
of a cluster and folds them into distinct connections, accounting for every
record it cannot use. Nothing here reads files.
"""

from __future__ import annotations

from typing import Any, Mapping

from podfence.flows import calico, hubble
from podfence.flows.mapping import Observation, Observed, Tally, WorkloadIndex, observe
from podfence.flows.records import EndKind, FlowEnd, FlowRecord, Outcome, Skip


def parse_record(obj: Any) -> FlowRecord | Skip:
    """A Hubble or Calico record, told apart by its fields."""
    if isinstance(obj, Mapping) and calico.looks_like(obj) and not hubble.looks_like(obj):
        return calico.parse(obj)
    return hubble.parse(obj)


__all__ = [
    "EndKind", "FlowEnd", "FlowRecord", "Observation", "Observed", "Outcome", "Skip", "Tally",
    "WorkloadIndex", "observe", "parse_record",
]
