"""Denial-stream records (Hubble, the lab's stream, Calico flow logs) as monitor events.

An :class:`Event` says what a record means for the metrics: its verdict
(``dropped``, ``audit`` for what a staged policy would deny, or another Hubble
verdict), the direction of the side that decides (ingress at the destination,
egress at the source), that side's namespace and owning workload, and the
policies the record names. Reading the ends is :mod:`podfence.flows`'; this adds
the fields the flows readers leave out. Nothing here reads files.

The owning workload of a pod end, in this order (see :func:`workload_of`):

1. the workload the record names (Hubble's ``workloads``);
2. the label ``pod-template-hash`` and a pod name ``X-<hash>-<suffix>``: ``X``
   (a Deployment's ReplicaSet); ``statefulset.kubernetes.io/pod-name`` or
   ``controller-revision-hash`` and a name ``X-<ordinal>`` / ``X-<suffix>``: ``X``
   (a StatefulSet, a DaemonSet); ``job-name`` or ``batch.kubernetes.io/job-name``:
   the Job;
3. a pod name shaped like a ReplicaSet's pod (``X-<hash>-<suffix>``, a hash of 6
   to 10 and a suffix of 5 lower-case letters or digits): ``X``; an aggregated name (Calico's
   ``X-<hash>-*`` or ``X-*``): ``X``;
4. with manifests, the workload they define for the pod (:mod:`podfence.flows.mapping`);
5. otherwise ``""``: a pod no controller owns, or one the record does not tell.

A pod name is never used as a workload, and no address is ever part of an event's labels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from podfence.flows import EndKind, FlowEnd, Skip
from podfence.flows import calico as calico_flows
from podfence.flows import hubble as hubble_flows
from podfence.model import Direction

# Kubernetes draws generated name suffixes (pod-template-hash, pod suffixes) from this alphabet.
_SAFE = "bcdfghjklmnpqrstvwxz2456789"
# A pod name alone is read loosely (any lower-case letters and digits): written by hand or
# by another tool, it still names its ReplicaSet's template and a suffix.
_REPLICA = re.compile(r"^(?P<name>.+)-[a-z0-9]{6,10}-[a-z0-9]{5}$")
_SUFFIX = re.compile(rf"^(?P<name>.+)-[{_SAFE}]{{5}}$")
_HASH = re.compile(rf"^(?P<name>.+)-[{_SAFE}]{{6,10}}$")
_ORDINAL = re.compile(r"^(?P<name>.+)-[0-9]+$")

DROPPED, AUDIT = "dropped", "audit"


@dataclass(frozen=True, slots=True)
class Event:
    """One record as the metrics count it.

    ``verdict`` is lower case (``forwarded``, ``dropped``, ``audit``, ``error``,
    ...; ``invalid`` for a line that is no record). ``namespace``, ``workload``
    and ``policy`` belong to the deciding side (``direction``); ``policy`` is the
    sorted ``ns/name`` list, comma-separated (``""`` when the record names none).
    ``src``/``dst`` name the two ends for people (the terminal view), not for labels.
    """

    verdict: str
    direction: Direction = Direction.INGRESS
    namespace: str = ""
    workload: str = ""
    policy: str = ""
    src: str = ""
    dst: str = ""
    protocol: str = ""
    port: int | None = None
    end: FlowEnd | None = None  # the deciding side's end, for finding its workload and policies in manifests
    connections: int = 1  # a Calico record stands for num_flows connections


INVALID = Event("invalid")


def workload_of(end: FlowEnd, labels: Mapping[str, str] | None = None) -> str:
    """The owning workload of a pod end, by what the record tells (steps 1-3 above); ``""`` when it does not."""
    if end.kind is not EndKind.POD:
        return ""
    if end.workload:
        return end.workload
    labels = labels if labels is not None else (end.labels or {})
    name = end.pod_name or ""
    if name.endswith("*"):  # an aggregated name: the prefix its controller gives its pods
        stem = name.rstrip("*").rstrip("-")
        found = _HASH.match(stem)
        return found["name"] if found else stem
    for key in ("job-name", "batch.kubernetes.io/job-name"):
        if labels.get(key):
            return labels[key]
    template = labels.get("pod-template-hash")
    if template and name:
        head, sep, _ = name.rpartition(f"-{template}-")
        if sep and head:
            return head
    if name and ("statefulset.kubernetes.io/pod-name" in labels or "controller-revision-hash" in labels):
        for pattern in (_ORDINAL, _SUFFIX):
            found = pattern.match(name)
            if found:
                return found["name"]
    found = _REPLICA.match(name)
    return found["name"] if found else ""


def _describe(end: FlowEnd, workload: str) -> str:
    if end.kind is EndKind.POD:
        return f"{end.namespace}/{workload or end.pod_name or '?'}"
    if end.kind is EndKind.WORLD:
        return f"world {end.address}" if end.address is not None else "world"
    return f"{end.detail or end.kind.value} {end.address or ''}".strip()


def _policy_keys(raw: Any) -> list[str]:
    out = []
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, Mapping) and isinstance(item.get("name"), str) and item["name"]:
                ns = item.get("namespace")
                out.append(f"{ns}/{item['name']}" if isinstance(ns, str) and ns else item["name"])
    return out


def _event(source: FlowEnd, destination: FlowEnd, protocol: str, port: int | None, verdict: str,
           direction: Direction | None, policies: list[str], workloads: dict[FlowEnd, tuple[str, str]]) -> Event:
    if direction is None:
        direction = Direction.INGRESS if destination.kind is EndKind.POD else Direction.EGRESS
    deciding = destination if direction is Direction.INGRESS else source
    (src_workload, src_name), (dst_workload, dst_name) = _named(source, workloads), _named(destination, workloads)
    return Event(
        verdict=verdict, direction=direction,
        namespace=(deciding.namespace or "") if deciding.kind is EndKind.POD else "",
        workload=dst_workload if direction is Direction.INGRESS else src_workload,
        policy=",".join(sorted(set(policies))), src=src_name, dst=dst_name, protocol=protocol, port=port,
        end=deciding if deciding.kind is EndKind.POD else None,
    )


def _named(end: FlowEnd, known: dict[FlowEnd, tuple[str, str]]) -> tuple[str, str]:
    """(workload, name for people) of an end, remembered: flows repeat their ends."""
    found = known.get(end)
    if found is None:
        if len(known) >= 100_000:
            known.clear()
        workload = workload_of(end)
        found = known[end] = (workload, _describe(end, workload))
    return found


class EventReader:
    """Parsed JSON records to events; remembers the ends it has read (flows repeat them)."""

    def __init__(self, source: str) -> None:
        self.source = source  # hubble, calico or lab
        self._ends: dict[Any, FlowEnd] = {}
        self._workloads: dict[FlowEnd, tuple[str, str]] = {}

    def __call__(self, obj: Any) -> Event:
        if self.source == "calico":
            return self._calico(obj)
        return self._hubble(obj)

    def _end(self, raw: Any, address: Any) -> FlowEnd:
        """A Hubble end; a pod's address is left out (no label carries one), so each pod is read once."""
        key = hubble_flows.end_key(raw)
        if key is None:
            return hubble_flows.read_end(raw, address)
        found = self._ends.get(key)
        if found is None:
            end = hubble_flows.read_end(raw, None)
            if end.kind is not EndKind.POD:
                return hubble_flows.read_end(raw, address)  # the world's address names it in the view
            if len(self._ends) >= 100_000:
                self._ends.clear()
            found = self._ends[key] = end
        return found

    def _hubble(self, obj: Any) -> Event:
        flow = obj.get("flow") if isinstance(obj, Mapping) else None
        if not isinstance(flow, Mapping):
            flow = obj if isinstance(obj, Mapping) and ("IP" in obj or "l4" in obj) else None
        if flow is None:
            return INVALID
        verdict = _verdict(flow)
        l4 = flow.get("l4")
        protocol, body = next(iter(l4.items())) if isinstance(l4, Mapping) and l4 else ("", None)
        port = body.get("destination_port") if isinstance(body, Mapping) else None
        ip = flow.get("IP") if isinstance(flow.get("IP"), Mapping) else {}
        source = self._end(flow.get("source"), ip.get("source"))
        destination = self._end(flow.get("destination"), ip.get("destination"))
        raw_direction = str(flow.get("traffic_direction") or "").lower()
        ingress, egress = _policy_keys(flow.get("ingress_denied_by")), _policy_keys(flow.get("egress_denied_by"))
        direction: Direction | None = None
        if raw_direction in ("ingress", "egress"):
            direction = Direction(raw_direction)
        elif ingress or egress:
            direction = Direction.INGRESS if ingress else Direction.EGRESS
        policies = ingress if direction is Direction.INGRESS else egress if direction is Direction.EGRESS else []
        return _event(source, destination, str(protocol).upper(),
                      port if isinstance(port, int) and not isinstance(port, bool) else None,
                      verdict, direction, policies, self._workloads)

    def _calico(self, obj: Any) -> Event:
        record = calico_flows.parse(obj)
        if isinstance(record, Skip) or not isinstance(obj, Mapping):
            return INVALID
        action = str(obj.get("action") or "").lower()
        reporter = str(obj.get("reporter") or "").lower()
        direction = Direction.EGRESS if reporter == "src" else Direction.INGRESS
        staged = _calico_policies(obj, "pending_policies", staged=True)
        if action == "deny":
            verdict, policies = DROPPED, _calico_policies(obj, "enforced_policies") or _calico_policies(
                obj, "all_policies")
        elif staged:
            verdict, policies = AUDIT, staged
        else:
            verdict, policies = ("forwarded" if action == "allow" else action or "unknown"), []
        event = _event(record.source, record.destination, record.protocol, record.port, verdict, direction,
                       policies, self._workloads)
        return replace(event, connections=record.count) if record.count != 1 else event


def _verdict(flow: Mapping[str, Any]) -> str:
    verdict = flow.get("verdict")
    return verdict.lower() if isinstance(verdict, str) and verdict else "unknown"


def _calico_policies(obj: Mapping[str, Any], key: str, staged: bool = False) -> list[str]:
    """Calico's ``policies.<key>`` entries ``index|tier|ns/tier.name|action|rule`` that deny, as ``ns/name``."""
    policies = obj.get("policies")
    entries = policies.get(key) if isinstance(policies, Mapping) else None
    out = []
    for entry in entries if isinstance(entries, list) else ():
        parts = str(entry).split("|")
        if len(parts) < 4 or parts[3].lower() != "deny":
            continue
        ns, _, name = parts[2].rpartition("/")
        is_staged = name.startswith("staged:")
        name = name.removeprefix("staged:")
        for prefix in ("knp.default.", f"{parts[1]}."):
            name = name.removeprefix(prefix)
        if is_staged == staged and name:
            out.append(f"{ns}/{name}" if ns else name)
    return out

