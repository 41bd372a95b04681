"""Real connections from every pod to every pod, many at a time, from one thread.

A probe is one (source pod, destination pod, protocol, port, address family).
Its socket is created inside the source's namespace (the thread hops there, and
stays while it creates that source's sockets) and then driven by one epoll loop
with everything else in flight:

* TCP: a non-blocking connect. An answer (connection or reset) proves the SYN
  was delivered: reached. A reset means only that nothing listened.
* UDP: a connected socket sends a token; the echo, or an ICMP "port unreachable"
  (ECONNREFUSED), proves delivery: reached.
* No answer within ``timeout`` (at least 0.5 s): the probe is tried once more
  *from the same source port*, so that the retry is the same 5-tuple as the
  first try (the denial stream then reports the connection once); a second
  silence means dropped. A send refused locally (EPERM, the source's egress
  rules dropped it) is dropped at once.

Where both pods have IPv4 and IPv6 addresses, each family is probed and the pair
is reachable if either is: the engine judges dual-stack pairs the same way.

Health probes (:func:`health_probes`) check the path itself: each pod connects
to its node's gateway address on :data:`HEALTH_PORT` over every family it has.
Nothing listens there, so the node answers with a reset, which needs the pod's
neighbour entry for the gateway and the node's for the pod: the same entries
every probe from or to that pod needs. Every pod's egress chain accepts this one
connection (see :mod:`podfence.lab.compiler`), so no policy can block it; no
answer means the dataplane is failing, and a matrix measured on it would show
denials that no policy made.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import struct
import time
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Callable, Iterable, Mapping

from podfence.engine import Matrix
from podfence.lab import linux
from podfence.lab.naming import GATEWAY_V4, GATEWAY_V6, HEALTH_PORT, POD_LINK_INDEX, LabNames
from podfence.lab.plan import LabPod
from podfence.lab.topology import netns_of
from podfence.sets import Protocol

MIN_TIMEOUT = 0.5
TOKEN = b"podfence-probe"
_LINGER_RESET = struct.pack("ii", 1, 0)
_BLOCKED = (errno.EPERM, errno.EACCES)
_LAUNCH_BATCH = 256
# Source ports handed out in turn per (namespace, source address); a wrap-around
# would need more than 20,000 probes from one source in flight at once.
_PORT_FIRST, _PORT_LAST = 40000, 60999


class Outcome(StrEnum):
    CONNECTED = "connected"  # handshake completed / echo came back
    REFUSED = "refused"  # delivered, but nothing listens (RST / ICMP port unreachable)
    DROPPED = "dropped"  # no answer, twice
    BLOCKED = "blocked"  # the source's own egress rules refused to send
    ERROR = "error"  # something else (unreachable network, ...)

    @property
    def reached(self) -> bool:
        return self in (Outcome.CONNECTED, Outcome.REFUSED)


@dataclass(frozen=True, slots=True)
class Probe:
    src: LabPod
    dst: LabPod
    protocol: Protocol
    port: int
    version: int

    @property
    def src_ip(self) -> str:
        return self.src.ip(self.version)  # type: ignore[return-value]

    @property
    def dst_ip(self) -> str:
        return self.dst.ip(self.version)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class ProbeResult:
    probe: Probe
    outcome: Outcome
    attempts: int
    source_port: int


def probes_for(pods: Iterable[LabPod], targets: Iterable[LabPod], cells: Iterable[tuple[Protocol, int]]) -> list[Probe]:
    """Every probe from each pod to each target on each (protocol, port), per shared family."""
    cells = list(cells)
    targets = list(targets)
    out = []
    for src in pods:
        for dst in targets:
            for protocol, port in cells:
                for version in (4, 6):
                    if src.ip(version) and dst.ip(version):
                        out.append(Probe(src, dst, protocol, port, version))
    return out


# The node, as the destination of health probes: its gateway addresses. (It lives
# in the node namespace, like a hostNetwork pod; no probe ever starts there.)
NODE = LabPod(index=0, key="(node)", kind="Node", labels=(), ips=(GATEWAY_V4, GATEWAY_V6), host_network=True)


def health_probes(pods: Iterable[LabPod]) -> list[Probe]:
    """One probe per routed pod and family it has, to its node's gateway on :data:`HEALTH_PORT`."""
    return probes_for([p for p in pods if not p.host_network], [NODE], [(Protocol.TCP, HEALTH_PORT)])


def check_protocols(protocols: Iterable[Protocol]) -> str | None:
    """Why one of ``protocols`` cannot be probed here (SCTP on a kernel without it), or None."""
    for protocol in protocols:
        if protocol is Protocol.SCTP:
            try:
                socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP).close()
            except OSError:
                return ("SCTP is not supported by this kernel (no sctp module), so the lab cannot "
                        "probe it; probe TCP or UDP")
            return "the lab probes TCP and UDP only; SCTP probes are not implemented"
    return None


@dataclass
class _Flight:
    probe: Probe
    sock: socket.socket
    attempt: int
    deadline: float
    sport: int


class Prober:
    """Runs probes with up to ``max_in_flight`` sockets open at once."""

    def __init__(self, names: LabNames, timeout: float = MIN_TIMEOUT, max_in_flight: int = 16384,
                 progress: Callable[[int], None] | None = None) -> None:
        self.names = names
        self.timeout = max(timeout, MIN_TIMEOUT)
        limit = linux.raise_nofile(max_in_flight + 1024)
        self.max_in_flight = max(16, min(max_in_flight, limit - 512))
        self.progress = progress
        self._netns_fds: dict[str, int] = {}
        self._current: str | None = None
        self._next_port: dict[tuple[str, str], int] = {}

    def run(self, probes: list[Probe]) -> list[ProbeResult]:
        results: list[ProbeResult] = []
        pending = deque(sorted(probes, key=lambda p: (p.src.index, p.dst.index)))
        flights: dict[int, _Flight] = {}
        expiry: deque[_Flight] = deque()
        poller = select.epoll()
        home = linux.current_netns_fd()
        try:
            while pending or flights:
                launched = 0
                while pending and len(flights) < self.max_in_flight and launched < _LAUNCH_BATCH:
                    self._launch(pending.popleft(), 1, 0, flights, expiry, poller, results)
                    launched += 1
                wait = max(0.0, expiry[0].deadline - time.monotonic()) if expiry else 0.05
                if launched:
                    wait = 0.0
                for fd, events in poller.poll(min(wait, 0.05), max(1, len(flights))):
                    flight = flights.get(fd)
                    if flight is not None:
                        self._answer(flight, events, flights, poller, results)
                now = time.monotonic()
                while expiry and (expiry[0].sock.fileno() < 0 or expiry[0].deadline <= now):
                    flight = expiry.popleft()
                    if flight.sock.fileno() < 0:
                        continue  # answered already
                    if self._answered_late(flight, flights, poller, results):
                        continue
                    flight.sport = _local_port(flight.sock)
                    self._finish(flight, None, flights, poller, results)
                    if flight.attempt == 1:
                        self._launch(flight.probe, 2, flight.sport, flights, expiry, poller, results)
                    else:
                        results.append(ProbeResult(flight.probe, Outcome.DROPPED, 2, flight.sport))
                        self._tick()
        finally:
            linux.setns(home)
            os.close(home)
            poller.close()
            for flight in flights.values():
                flight.sock.close()
            for fd in self._netns_fds.values():
                os.close(fd)
            self._netns_fds.clear()
            self._current = None  # back home: the next run must step into its first namespace again
        return results

    def _tick(self) -> None:
        if self.progress:
            self.progress(1)

    def _enter(self, netns: str) -> None:
        if self._current == netns:
            return
        fd = self._netns_fds.get(netns)
        if fd is None:
            fd = os.open(linux.netns_path(netns), os.O_RDONLY | os.O_CLOEXEC)
            self._netns_fds[netns] = fd
        linux.setns(fd)
        self._current = netns

    def _launch(self, probe: Probe, attempt: int, sport: int, flights: dict[int, _Flight],
                expiry: deque[_Flight], poller: select.epoll, results: list[ProbeResult]) -> None:
        self._enter(netns_of(self.names, probe.src))
        family = socket.AF_INET if probe.version == 4 else socket.AF_INET6
        udp = probe.protocol is Protocol.UDP
        sock = socket.socket(family, (socket.SOCK_DGRAM if udp else socket.SOCK_STREAM) | socket.SOCK_NONBLOCK)
        if not udp:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        # Every probe binds a source port podfence chose: a retry must be the same
        # 5-tuple as its first try (so the denial stream reports it once), and a port
        # the kernel picked for some other connect could block that bind.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sport = self._bind(sock, probe, sport)
        # A link-local destination (the node's fe80::1) is reached through the pod's eth0.
        scoped = probe.version == 6 and probe.dst_ip.lower().startswith("fe80:")
        code = sock.connect_ex((probe.dst_ip, probe.port, 0, POD_LINK_INDEX) if scoped else (probe.dst_ip, probe.port))
        if udp and code == 0:
            try:
                sock.send(TOKEN)
            except OSError as exc:
                code = exc.errno or errno.EIO
        if code not in (0, errno.EINPROGRESS) or (code == 0 and not udp):
            sport = _local_port(sock)
            sock.close()
            outcome = Outcome.CONNECTED if code == 0 else _outcome_of(code)
            results.append(ProbeResult(probe, outcome, attempt, sport))
            self._tick()
            return
        flight = _Flight(probe, sock, attempt, time.monotonic() + self.timeout, sport)
        flights[sock.fileno()] = flight
        expiry.append(flight)
        poller.register(sock.fileno(), select.EPOLLIN if udp else select.EPOLLOUT)

    def _bind(self, sock: socket.socket, probe: Probe, sport: int) -> int:
        """Bind ``sport`` (a retry) or the next free port of the source's own range."""
        if sport:
            try:
                sock.bind((probe.src_ip, sport))
                return sport
            except OSError:
                pass  # cannot happen while ports are handed out in turn; fall back to a fresh one
        key = (self._current or "", probe.src_ip)
        for _ in range(64):
            port = self._next_port.get(key, _PORT_FIRST)
            self._next_port[key] = port + 1 if port < _PORT_LAST else _PORT_FIRST
            try:
                sock.bind((probe.src_ip, port))
                return port
            except OSError:
                continue  # a server listens there; take the next one
        sock.bind((probe.src_ip, 0))
        return _local_port(sock)

    def _answered_late(self, flight: _Flight, flights: dict[int, _Flight], poller: select.epoll,
                       results: list[ProbeResult]) -> bool:
        """Settle a flight whose answer arrived but was not read before its deadline."""
        sock = flight.sock
        if flight.probe.protocol is Protocol.UDP:
            self._answer(flight, 0, flights, poller, results)
            return sock.fileno() < 0
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code == 0:
            try:
                sock.getpeername()
            except OSError:
                return False
        self._finish(flight, Outcome.CONNECTED if code == 0 else _outcome_of(code), flights, poller, results)
        return True

    def _answer(self, flight: _Flight, events: int, flights: dict[int, _Flight], poller: select.epoll,
                results: list[ProbeResult]) -> None:
        sock = flight.sock
        if flight.probe.protocol is Protocol.UDP:
            try:
                data = sock.recv(64)
                outcome = Outcome.CONNECTED if data == TOKEN else None
            except BlockingIOError:
                return
            except OSError as exc:
                outcome = _outcome_of(exc.errno or errno.EIO)
            if outcome is None:
                return
        else:
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            outcome = Outcome.CONNECTED if code == 0 else _outcome_of(code)
        self._finish(flight, outcome, flights, poller, results)

    def _finish(self, flight: _Flight, outcome: Outcome | None, flights: dict[int, _Flight],
                poller: select.epoll, results: list[ProbeResult]) -> None:
        fd = flight.sock.fileno()
        poller.unregister(fd)
        del flights[fd]
        flight.sock.close()
        if outcome is not None:
            results.append(ProbeResult(flight.probe, outcome, flight.attempt, flight.sport))
            self._tick()


def _local_port(sock: socket.socket) -> int:
    try:
        return int(sock.getsockname()[1])
    except OSError:
        return 0


def _outcome_of(code: int) -> Outcome:
    if code == errno.ECONNREFUSED:
        return Outcome.REFUSED
    if code in _BLOCKED:
        return Outcome.BLOCKED
    return Outcome.ERROR


def declared_cells(pods: Iterable[LabPod], protocols: Iterable[Protocol] = ()
                   ) -> dict[tuple[Protocol, int], tuple[LabPod, ...]]:
    """Every (protocol, port) the pods declare (only ``protocols`` when given), with the pods that
    declare it, in protocol and port order: what ``lab probe`` without ``--port`` probes."""
    wanted = set(protocols)
    found: dict[tuple[Protocol, int], list[LabPod]] = {}
    for pod in pods:
        for protocol, ports in ((Protocol.TCP, pod.tcp_ports), (Protocol.UDP, pod.udp_ports),
                                (Protocol.SCTP, pod.sctp_ports)):
            if wanted and protocol not in wanted:
                continue
            for port in ports:
                found.setdefault((protocol, port), []).append(pod)
    order = {p: i for i, p in enumerate(Protocol)}
    return {cell: tuple(found[cell]) for cell in sorted(found, key=lambda c: (order[c[0]], c[1]))}


def matrices(results: Iterable[ProbeResult], pods: Iterable[LabPod], cells: Iterable[tuple[Protocol, int]],
             sources: Iterable[LabPod] | None = None,
             targets: Mapping[tuple[Protocol, int], Iterable[LabPod]] | None = None
             ) -> dict[tuple[Protocol, int], Matrix]:
    """One :class:`Matrix` per (protocol, port): a pair is allowed if a probe of it reached.

    The rows are the probed ``sources`` and the columns each cell's probed ``targets``
    (default: every pod), so a matrix holds the probed pairs only.
    """
    pods = list(pods)
    kinds = {p.key: p.kind for p in pods}
    rows = tuple(sorted(p.key for p in (pods if sources is None else sources)))
    out: dict[tuple[Protocol, int], Matrix] = {}
    reached: dict[tuple[Protocol, int], dict[str, set[str]]] = {}
    for cell in cells:
        columns = rows if targets is None and sources is None else tuple(sorted(
            p.key for p in (pods if targets is None else targets[cell])))
        reached[cell] = {k: set() for k in rows}
        out[cell] = Matrix(cell[0], cell[1], rows, {}, kinds, columns=None if columns == rows else columns)
    for result in results:
        cell = (result.probe.protocol, result.probe.port)
        if result.outcome.reached and cell in reached:
            reached[cell].setdefault(result.probe.src.key, set()).add(result.probe.dst.key)
    return {cell: Matrix(m.protocol, m.port, m.pods, {k: tuple(sorted(v)) for k, v in reached[cell].items()},
                         m.kinds, m.columns) for cell, m in out.items()}
