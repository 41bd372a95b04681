"""``rollout check``: observed flows replayed against the enforced and the promoted policies.

Every record read is counted in ``flows``. A record becomes a connection when
both ends map onto the manifests (a pod, or an address outside them; see
:mod:`podfence.flows.mapping`); identical connections are grouped and counted.
Every other record (an end that maps to nothing, a malformed line, a reply
packet, a protocol without ports) is counted in ``unmatched``, with its reason,
so ``flows`` is always the connections' records plus ``unmatched``.

Each connection is judged exactly in both views (:class:`StagedViews`): allowed
now and denied once the staged policies are enforced is *would block*; denied
now and allowed then is *would allow*.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from podfence.engine import Endpoint
from podfence.flows import FlowRecord, Skip, observe_counted
from podfence.model import Cluster, Pod, Settings, Source
from podfence.rollout.views import StagedViews


@dataclass(frozen=True, slots=True)
class FlowChange:
    """Identical observed connections whose verdict the staged policies change.

    ``src``/``dst`` are ``ns/pod`` (the workload of the manifests) or an address;
    ``policies`` the staged policies (``ns/name``) that cause the change.
    """

    src: str
    dst: str
    protocol: str
    port: int
    count: int
    policies: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"src": self.src, "dst": self.dst, "protocol": self.protocol, "port": self.port,
                "count": self.count, "policies": list(self.policies)}


@dataclass(frozen=True, slots=True)
class RolloutCheck:
    """What enforcing the staged policies would do to the observed traffic.

    ``unmatched_reasons`` says, per reason, how many records were not a
    connection and where the first one was (for the text report).
    """

    flows: int
    would_block: tuple[FlowChange, ...]
    would_allow: tuple[FlowChange, ...]
    unmatched: int
    unmatched_reasons: tuple[tuple[str, int, Source | None], ...] = ()
    connections: int = 0
    staged: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"flows": self.flows, "would_block": [c.to_json() for c in self.would_block],
                "would_allow": [c.to_json() for c in self.would_allow], "unmatched": self.unmatched}


def _endpoint(end: Pod | Any) -> Endpoint:
    return Endpoint.of_pod(end) if isinstance(end, Pod) else Endpoint.of_address(end)


def check_flows(records: Iterable[tuple[Source, FlowRecord | Skip, int]], cluster: Cluster,
                settings: Settings | None = None) -> RolloutCheck:
    """Replay ``records`` (each with how many times it was read) against the now and promoted views."""
    settings = settings or Settings()
    views = StagedViews(cluster, settings)
    observed = observe_counted(records, cluster, settings)
    block: list[FlowChange] = []
    allow: list[FlowChange] = []
    for (src, dst, protocol, port), seen in observed.connections.items():
        comparison = views.compare(_endpoint(seen.src), _endpoint(seen.dst), protocol, port)
        if not comparison.changed:
            continue
        change = FlowChange(src, dst, str(protocol), port, seen.count, comparison.policies)
        (block if comparison.now.allowed else allow).append(change)
    reasons = [(f"{why}", t.count, t.first) for group in (observed.unmappable, observed.problems, observed.ignored)
               for why, t in group.items()]
    order = lambda c: (-c.count, c.src, c.dst, c.protocol, c.port)  # noqa: E731
    return RolloutCheck(
        flows=observed.records,
        would_block=tuple(sorted(block, key=order)),
        would_allow=tuple(sorted(allow, key=order)),
        unmatched=observed.records - observed.used,
        unmatched_reasons=tuple(sorted(reasons, key=lambda r: (-r[1], r[0]))),
        connections=len(observed.connections),
        staged=tuple(sorted(views.staged)),
    )
