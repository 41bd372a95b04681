"""Observed flows as values: two ends, a protocol and a destination port.

The readers (:mod:`podfence.flows.hubble`, :mod:`podfence.flows.calico`) turn one
parsed JSON object into a :class:`FlowRecord`, or a :class:`Skip` saying why the
object is not a usable flow. Reading files is the caller's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from podfence.model import Labels
from podfence.sets import IPAddress


class EndKind(StrEnum):
    POD = "pod"
    WORLD = "world"  # an address outside the cluster
    HOST = "host"  # the node the record was seen on
    NODE = "node"  # another node of the cluster
    OTHER = "other"  # an address with another role (the API server, a network set, ...)


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


@dataclass(frozen=True, slots=True)
class FlowEnd:
    """One end of a flow as the record describes it.

    ``pod_name`` may end in ``*``: an aggregated name (``web-7d9c-*``) standing for
    the pods that share the prefix. ``workload`` is the controller name when the
    record gives it.
    """

    kind: EndKind
    namespace: str | None = None
    pod_name: str | None = None
    labels: Labels | None = None
    workload: str | None = None
    address: IPAddress | None = None
    detail: str = ""

    def describe(self) -> str:
        if self.kind is EndKind.POD:
            name = self.pod_name or self.workload or "?"
            text = f"pod {self.namespace}/{name}"
            if self.labels:
                text += f" ({self.labels})"
            return text
        where = str(self.address) if self.address is not None else "no address"
        return f"{self.detail or self.kind.value} {where}"


@dataclass(frozen=True, slots=True)
class FlowRecord:
    """One observed connection attempt (or one packet of it, for Hubble).

    ``protocol`` is TCP, UDP or SCTP, or another name (``ICMPv4``) with no port;
    ``reply`` is None when the record does not say which way the packet went.
    """

    source: FlowEnd
    destination: FlowEnd
    protocol: str
    port: int | None
    outcome: Outcome
    reply: bool | None
    format: str
    count: int = 1


@dataclass(frozen=True, slots=True)
class Skip:
    """A record that is not a usable flow; ``problem`` marks malformed input."""

    reason: str
    problem: bool = False
