"""Flow ends mapped onto the workloads of the loaded manifests.

A pod end maps to a workload, in this order:

1. the controller the record names (Hubble's ``workloads``);
2. a workload or pod with exactly the pod's name;
3. a controller whose name prefixes the pod's name as a replica's does
   (``web-7d9c-abcde`` and ``web-*`` fold into ``web``; ``db-0`` into the
   StatefulSet ``db``), unless a label the record has contradicts it;
4. the one workload whose labels are all among the pod's labels (if several,
   the one with most labels; a tie is ambiguous).

An address maps to the pod that has it in the manifests, else stays an address.
Ends that map to nothing are reported with the reason, never dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from podfence.flows.records import EndKind, FlowEnd, FlowRecord, Outcome, Skip
from podfence.model import Cluster, Pod, Settings, Source
from podfence.sets import IPAddress, Protocol

# What a controller appends to its name for a replica: a ReplicaSet hash and a pod
# suffix, an ordinal, a CronJob's schedule time and a suffix.
_REPLICA_SUFFIX = re.compile(r"^[a-z0-9]{1,12}(-[a-z0-9]{1,12})?$")
L4 = {"TCP": Protocol.TCP, "UDP": Protocol.UDP, "SCTP": Protocol.SCTP}

End = Pod | IPAddress


@dataclass
class Observation:
    """Connections seen from ``src`` to ``dst`` on one protocol and port."""

    src: End
    dst: End
    protocol: Protocol
    port: int
    count: int = 0
    denied: int = 0
    first: Source | None = None


@dataclass
class Tally:
    """How many records something happened to, and where first."""

    count: int = 0
    first: Source | None = None

    def add(self, where: Source, times: int = 1) -> None:
        self.count += times
        if self.first is None:
            self.first = where


@dataclass
class Observed:
    """Every record, accounted for: mapped connections, unmappable ends, ignored records."""

    records: int = 0
    used: int = 0  # records that became (part of) a connection
    unmapped: int = 0  # records with an end that maps to nothing
    formats: dict[str, int] = field(default_factory=dict)
    connections: dict[tuple[str, str, Protocol, int], Observation] = field(default_factory=dict)
    unmappable: dict[str, Tally] = field(default_factory=dict)
    ignored: dict[str, Tally] = field(default_factory=dict)
    problems: dict[str, Tally] = field(default_factory=dict)


class WorkloadIndex:
    """Looks up workloads by namespace, name, labels and address."""

    def __init__(self, cluster: Cluster, settings: Settings) -> None:
        self.cluster = cluster
        self.by_namespace: dict[str, list[Pod]] = {}
        self.by_address: dict[IPAddress, Pod] = {}
        self._ends: dict[FlowEnd, End | str] = {}  # flows repeat their ends: map each distinct end once
        for pod in cluster.pods:
            if not pod.takes_part(settings):
                continue
            self.by_namespace.setdefault(pod.namespace, []).append(pod)
            for ip in pod.ips:
                self.by_address.setdefault(ip, pod)

    def pod(self, end: FlowEnd) -> Pod | str:
        """The workload of a pod end, or why there is none."""
        ns = end.namespace
        if ns is None:
            return f"{end.describe()}: no namespace"
        pods = self.by_namespace.get(ns, [])
        if not pods:
            return f"{end.describe()}: the manifests hold no workload in namespace {ns}"
        for name in (end.workload, end.pod_name):
            if name and not name.endswith("*"):
                hit = self.cluster.pod(f"{ns}/{name}")
                if hit is not None and hit in pods:
                    return hit
        if end.pod_name:
            hit = self._replica_of(end, pods)
            if hit is not None:
                return hit
        if end.labels:
            fits = [p for p in pods if p.labels and all(end.labels.get(k) == v for k, v in p.labels.items())]
            if fits:
                most = max(len(p.labels) for p in fits)
                best = [p for p in fits if len(p.labels) == most]
                if len(best) == 1:
                    return best[0]
                return (f"{end.describe()}: its labels fit several workloads equally "
                        f"({', '.join(p.key for p in best)})")
        return f"{end.describe()}: no workload in the manifests matches it by name or labels"

    def _replica_of(self, end: FlowEnd, pods: list[Pod]) -> Pod | None:
        name = end.pod_name or ""
        aggregated = name.endswith("*")
        stem = name.rstrip("*")
        best: Pod | None = None
        for pod in pods:
            if pod.kind == "Pod" or not stem.startswith(pod.name + "-"):
                continue
            rest = stem[len(pod.name) + 1:]
            if not aggregated and not _REPLICA_SUFFIX.match(rest):
                continue
            if aggregated and rest and not _REPLICA_SUFFIX.match(rest.rstrip("-")):
                continue
            if end.labels and any(k in end.labels and end.labels[k] != v for k, v in pod.labels.items()):
                continue  # a label the record has contradicts the workload (records may leave labels out)
            if best is None or len(pod.name) > len(best.name):
                best = pod
        return best

    def end(self, end: FlowEnd) -> End | str:
        found = self._ends.get(end)
        if found is None:
            if len(self._ends) >= 200_000:
                self._ends.clear()
            found = self._ends[end] = self._map(end)
        return found

    def _map(self, end: FlowEnd) -> End | str:
        if end.kind is EndKind.POD:
            return self.pod(end)
        if end.address is None:
            return f"{end.describe()}: the record gives no address"
        return self.by_address.get(end.address, end.address)


def _key(end: End) -> str:
    return end.key if isinstance(end, Pod) else str(end)


def observe(records: list[tuple[Source, FlowRecord | Skip]], cluster: Cluster, settings: Settings,
            *, only_allowed: bool = False) -> Observed:
    """Map records onto workloads and fold them into distinct connections."""
    return observe_counted(((where, record, 1) for where, record in records), cluster, settings,
                           only_allowed=only_allowed)


def observe_counted(records: Iterable[tuple[Source, FlowRecord | Skip, int]], cluster: Cluster, settings: Settings,
                    *, only_allowed: bool = False) -> Observed:
    """:func:`observe` for records read ``times`` times each (where: the first), as
    :func:`podfence.sources.count_flows` gives them."""
    index = WorkloadIndex(cluster, settings)
    out = Observed()
    for where, record, times in records:
        out.records += times
        if isinstance(record, Skip):
            (out.problems if record.problem else out.ignored).setdefault(record.reason, Tally()).add(where, times)
            continue
        out.formats[record.format] = out.formats.get(record.format, 0) + times
        reason = _ignore(record, only_allowed)
        if reason:
            out.ignored.setdefault(reason, Tally()).add(where, times)
            continue
        src, dst = index.end(record.source), index.end(record.destination)
        if isinstance(src, str) or isinstance(dst, str):
            out.unmapped += times
            for side, result in (("source", src), ("destination", dst)):
                if isinstance(result, str):
                    out.unmappable.setdefault(f"{side} {result}", Tally()).add(where, times)
            continue
        if not isinstance(src, Pod) and not isinstance(dst, Pod):
            out.ignored.setdefault("no workload of the manifests at either end", Tally()).add(where, times)
            continue
        out.used += times
        assert record.port is not None
        protocol = L4[record.protocol]
        key = (_key(src), _key(dst), protocol, record.port)
        seen = out.connections.get(key)
        if seen is None:
            seen = out.connections[key] = Observation(src, dst, protocol, record.port, first=where)
        seen.count += record.count * times
        if record.outcome is Outcome.DENIED:
            seen.denied += record.count * times
    return out


def _ignore(record: FlowRecord, only_allowed: bool) -> str:
    """Why a well-formed record adds no connection ("" when it does)."""
    if record.reply:
        return "reply packets (the connection is counted once, from its first packet)"
    if record.protocol not in L4:
        return f"{record.protocol}: not TCP, UDP or SCTP, which NetworkPolicy ports name"
    if record.port is None:
        return "no destination port"
    if record.reply is None and record.protocol == "TCP":
        return "TCP packets after the handshake with no is_reply field (direction unknown)"
    if EndKind.HOST in (record.source.kind, record.destination.kind):
        return "traffic between a pod and its own node (always allowed)"
    if only_allowed and record.outcome is Outcome.DENIED:
        return "denied when observed (--only-allowed)"
    return ""
