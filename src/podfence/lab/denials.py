"""The denied-connection stream: NFLOG events as Hubble-shaped flow records.

Each record is one JSON object shaped like a line of ``hubble observe -o jsonpb``
(``{"flow": {...}, "node_name": ..., "time": ...}``), so tools that read Hubble
flows read it: ``verdict: DROPPED``, ``drop_reason_desc: POLICY_DENIED``,
``traffic_direction`` INGRESS or EGRESS, ``IP``, ``l4``, ``source`` and
``destination`` endpoints with ``namespace``, ``pod_name`` and ``labels``
(``k8s:key=value``), and ``ingress_denied_by`` / ``egress_denied_by``: the
policies that isolate the pod that dropped the packet, which are the ones a user
must change to allow the connection. An address that is no lab pod is
``reserved:world``.

Under cluster-wide tiers a drop by an Admin or Baseline rule names that policy
alone (``kind``, ``tier``, ``priority``, ``rule``, ``rule_name``, ``action``).
Staged policies are enforced as audit only: what they would deny passes, and its
record has ``verdict: AUDIT`` and names the staged policies
(``kind: StagedKubernetesNetworkPolicy``), as Hubble reports policy audit mode.

A connection is reported once per 5-tuple within ``window`` seconds: the
retransmissions and the probe's retry of a dropped connection repeat its
5-tuple, and are not new denials.
"""

from __future__ import annotations

import os
import select
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator

from podfence.lab import linux
from podfence.lab import state as lab_state
from podfence.lab.naming import LOG_GROUP, LabNames
from podfence.lab.nflog import PROTOCOL_NAMES, LogEvent, decode, open_socket
from podfence.lab.plan import LabPod
from podfence.model import Direction

POLICY_DENIED = 133  # Cilium's drop reason code for "Policy denied"
WORLD_IDENTITY = 2
HOST_IDENTITY = 1


def timestamp(when: float) -> str:
    """RFC 3339 with nanoseconds, as Hubble prints it."""
    whole = int(when)
    nanos = int(round((when - whole) * 1e9))
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    base = datetime.fromtimestamp(whole, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{nanos:09d}Z"


def endpoint(pod: LabPod | None) -> dict[str, object]:
    """A Hubble endpoint for a lab pod, or the world for an address the lab does not know."""
    if pod is None:
        return {"identity": WORLD_IDENTITY, "labels": ["reserved:world"]}
    labels = [f"k8s:{k}={v}" for k, v in pod.labels]
    labels.append(f"k8s:io.kubernetes.pod.namespace={pod.namespace}")
    out: dict[str, object] = {"ID": pod.index, "namespace": pod.namespace, "pod_name": pod.name}
    if pod.host_network:
        out["identity"] = HOST_IDENTITY
        labels.append("reserved:host")
    out["labels"] = sorted(labels)
    if pod.kind != "Pod":
        out["workloads"] = [{"name": pod.name, "kind": pod.kind}]
    return out


def _l4(event: LogEvent) -> dict[str, object]:
    name = PROTOCOL_NAMES.get(event.protocol)
    if name in ("TCP", "UDP", "SCTP"):
        body: dict[str, object] = {"source_port": event.source_port, "destination_port": event.destination_port}
        if name == "TCP":
            body["flags"] = {f: True for f in event.tcp_flags}
        return {name: body}
    if name in ("ICMPv4", "ICMPv6"):
        return {name: {"type": event.icmp_type, "code": event.icmp_code}}
    return {}


def _summary(event: LogEvent) -> str:
    name = PROTOCOL_NAMES.get(event.protocol, f"IP protocol {event.protocol}")
    if name == "TCP":
        return f"TCP Flags: {', '.join(event.tcp_flags) or 'none'}"
    if name in ("ICMPv4", "ICMPv6"):
        return f"{name} type {event.icmp_type} code {event.icmp_code}"
    return name


def record(event: LogEvent, current: lab_state.LabState, when: float) -> dict[str, object] | None:
    """The Hubble-shaped record of one dropped (or, for a staged policy, audited) packet;
    None for another lab's log line."""
    names = LabNames(current.name)
    parsed = names.parse_log(event.prefix)
    if parsed is None:
        return None
    index, direction, tag = parsed
    dropper = current.pod_by_index(index)
    if dropper is None:
        return None
    if tag:
        known = current.deciders.get(dropper.key, [])
        number = int(tag[1:])
        if number >= len(known):
            return None
        denied_by: list[dict[str, object]] = [dict(e) for e in known[number]]
    else:
        denied_by = [
            {"name": key.split("/", 1)[1], "namespace": key.split("/", 1)[0], "kind": "NetworkPolicy"}
            for key in current.isolation.get(dropper.key, {}).get(direction.value, [])
        ]
    audit = tag.startswith("a")
    addresses = {ip: pod for pod in current.pods for ip in pod.ips}
    if direction is Direction.INGRESS:
        source, destination = addresses.get(event.source), dropper
    else:
        source, destination = dropper, addresses.get(event.destination)
    flow: dict[str, object] = {
        "time": timestamp(when),
        "verdict": "AUDIT" if audit else "DROPPED",
        "drop_reason": POLICY_DENIED,
        "IP": {"source": event.source, "destination": event.destination,
               "ipVersion": "IPv4" if event.version == 4 else "IPv6"},
        "l4": _l4(event),
        "source": endpoint(source),
        "destination": endpoint(destination),
        "Type": "L3_L4",
        "node_name": names.node_netns,
        "event_type": {"type": 1, "sub_type": POLICY_DENIED},
        "traffic_direction": direction.value.upper(),
        "drop_reason_desc": "POLICY_DENIED",
        "is_reply": False,
        "Summary": _summary(event),
        f"{direction.value}_denied_by": denied_by,
    }
    return {"flow": flow, "node_name": names.node_netns, "time": flow["time"]}


@dataclass
class Deduplicator:
    """Lets a 5-tuple through once, then not again until it has been quiet for ``window`` seconds."""

    window: float
    last_seen: dict[tuple[object, ...], float] = field(default_factory=dict)
    _last_sweep: float = 0.0

    def first(self, key: tuple[object, ...], now: float) -> bool:
        previous = self.last_seen.get(key)
        self.last_seen[key] = now
        if now - self._last_sweep > max(self.window, 1.0) * 4:
            self._sweep(now)
        return previous is None or now - previous > self.window

    def _sweep(self, now: float) -> None:
        self._last_sweep = now
        for key in [k for k, t in self.last_seen.items() if now - t > self.window]:
            del self.last_seen[key]


class DenialReader:
    """NFLOG sockets in every pod namespace of a lab, read from one thread.

    Only one reader per lab and group can run at a time: the kernel lets one socket
    bind a log group per namespace. ``group`` :data:`~podfence.lab.naming.AUDIT_GROUP`
    reads only the audit records (what staged policies would deny).
    """

    def __init__(self, current: lab_state.LabState, window: float = 10.0, group: int = LOG_GROUP) -> None:
        self.state = current
        self.group = group
        self.names = LabNames(current.name)
        self.dedup = Deduplicator(window)
        self.sockets: dict[int, object] = {}
        self.poller = select.epoll()
        self._state_mtime = self._mtime()

    def open(self) -> int:
        """Subscribe in every pod namespace; return how many."""
        for pod in self.state.pods:
            if pod.host_network:
                continue
            with linux.in_netns(linux.netns_path(self.names.pod_netns(pod.index))):
                sock = open_socket(self.group)
            self.sockets[sock.fileno()] = sock
            self.poller.register(sock.fileno(), select.EPOLLIN)
        return len(self.sockets)

    def close(self) -> None:
        self.poller.close()
        for sock in self.sockets.values():
            sock.close()  # type: ignore[attr-defined]
        self.sockets.clear()

    def _mtime(self) -> float:
        try:
            return os.stat(lab_state.lab_dir(self.state.name) / "state.json").st_mtime
        except OSError:
            return 0.0

    def _refresh(self) -> None:
        """Pick up a later ``lab apply`` (new isolating policies)."""
        mtime = self._mtime()
        if mtime != self._state_mtime:
            fresh = lab_state.load(self.state.name)
            if fresh is not None:
                self.state = fresh
            self._state_mtime = mtime

    def read(self, timeout: float) -> list[dict[str, object]]:
        """Records of the denials that arrive within ``timeout`` seconds (deduplicated)."""
        out: list[dict[str, object]] = []
        self._refresh()
        for fd, _ in self.poller.poll(timeout):
            sock = self.sockets[fd]
            while True:
                try:
                    data = sock.recv(1 << 16)  # type: ignore[attr-defined]
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:  # ENOBUFS: the kernel dropped log messages; keep reading
                    continue
                now = time.time()
                for event in decode(data):
                    if not self.dedup.first(event.five_tuple, time.monotonic()):
                        continue
                    rec = record(event, self.state, event.time or now)
                    if rec is not None:
                        out.append(rec)
        return out

    def drain(self, quiet: float = 1.0, limit: float = 30.0) -> list[dict[str, object]]:
        """Read until nothing has come for ``quiet`` seconds (at most ``limit`` seconds)."""
        out: list[dict[str, object]] = []
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            got = self.read(quiet)
            if not got:
                break
            out += got
        return out


def open_reader(current: lab_state.LabState, window: float = 10.0) -> DenialReader:
    """A reader subscribed in every pod namespace of the lab (LabError when it cannot be)."""
    reader = DenialReader(current, window)
    try:
        reader.open()
    except OSError as exc:
        reader.close()
        from podfence.lab.control import LabError

        raise LabError(f"cannot subscribe to the lab's drop log ({exc.strerror or exc}); "
                       "is another 'podfence lab denials' running for this lab?") from None
    return reader


def stream(reader: DenialReader, duration: float | None = None, count: int | None = None,
           ready: object = None) -> Iterator[dict[str, object]]:
    """Yield denial records until ``duration`` or ``count`` is reached, or the lab goes down.

    The reader comes from :func:`open_reader`; it is closed when the stream ends.
    """
    from podfence.lab.server import same_namespace_check

    try:
        if callable(ready):
            ready(len(reader.sockets))
        alive = same_namespace_check(linux.netns_path(reader.names.node_netns))
        end = None if duration is None else time.monotonic() + duration
        seen = 0
        while alive():
            wait = 1.0 if end is None else max(0.0, min(1.0, end - time.monotonic()))
            for rec in reader.read(wait):
                yield rec
                seen += 1
                if count is not None and seen >= count:
                    return
            if end is not None and time.monotonic() >= end:
                return
    finally:
        reader.close()
