"""What ``podfence test --lab`` probes, and how packets are held against the engine.

The lab has pods but no outside world, so only pod-to-pod pairs are probed;
address endpoints are reported as not probed. A port set cannot be probed port
by port, so each expectation is sampled: both ends of every listed range (at most
:data:`PER_PROTOCOL` ports a protocol), and for ``exactly`` also the ports just
outside each range, where the expectation says traffic must stop. ``everything``
(and "all ports") is sampled at TCP and UDP 1, 53, 80, 443, 8080 and 65535. SCTP
is left to the engine. Pairs the settings decide (self traffic, own node) are
not probed, as they are not judged. A Service destination is sampled on its ports
and probed at the target ports they land on in each backend pod (the lab has no
Service addresses, and the policies see the target port).

A probe reached its pod when any address family got through, as the engine's
answer for a pair is the union over families. The comparison is between the
packets and the engine's verdict on the same cluster with the lab's addresses
filled in.
"""

from __future__ import annotations

from dataclasses import dataclass

from podfence.assertions.check import Checker
from podfence.assertions.spec import Expect, Expectation, Spec, offered
from podfence.engine import PodRows
from podfence.model import Service
from podfence.sets import ALL_PORTS, MAX_PORT, MIN_PORT, ConnSet, Protocol

PER_PROTOCOL = 6
EVERYTHING_PORTS = (1, 53, 80, 443, 8080, 65535)
Cell = tuple[Protocol, int]


@dataclass(frozen=True, slots=True)
class ProbePlan:
    """The probes for one expectation: every (source, target) pair on every cell."""

    expectation: Expectation
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    cells: tuple[Cell, ...]
    pairs: tuple[tuple[str, str], ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LabReport:
    """What the lab found: how many probes ran, where packets and engine disagree, what was not probed."""

    probes: int
    disagreements: tuple[Disagreement, ...]
    notes: tuple[tuple[str, str], ...] = ()  # (expectation name, note)

    @property
    def agree(self) -> bool:
        return not self.disagreements


@dataclass(frozen=True, slots=True)
class Disagreement:
    """One probe where packets and engine disagree."""

    expectation: str
    src: str
    dst: str
    protocol: Protocol
    port: int
    packets: bool
    engine: bool


def sample(conns: ConnSet, expect: Expect) -> tuple[Cell, ...]:
    """The (protocol, port) cells that stand for ``conns`` in the lab."""
    listed = [lo for _, ports in conns.by_protocol() for lo, _ in ports]
    cells: list[Cell] = []
    for protocol in (Protocol.TCP, Protocol.UDP):
        ports = conns.for_protocol(protocol)
        if ports == ALL_PORTS:
            cells += [(protocol, p) for p in EVERYTHING_PORTS]
            continue
        picked: list[int] = []
        for lo, hi in ports:
            picked += [lo, hi]
            if expect is Expect.EXACTLY:
                picked += [p for p in (lo - 1, hi + 1) if MIN_PORT <= p <= MAX_PORT and p not in ports]
        if not ports and expect is Expect.EXACTLY:
            picked = listed[:1] or [80]  # nothing of this protocol may pass
        cells += [(protocol, p) for p in sorted(set(picked))[:PER_PROTOCOL]]
    return tuple(dict.fromkeys(cells))


def plan(spec: Spec, checker: Checker) -> list[ProbePlan]:
    """One plan per expectation (empty pairs when nothing can be probed)."""
    out = []
    for e in spec.tests:
        src = checker.resolve(e.src, "from")
        dst = checker.resolve(e.dst, "to")
        pairs = tuple((s, d) for s in src.pods for d in dst.pods if not checker.rows.decided_outside(s, d))
        notes = []
        if src.addresses or dst.addresses:
            notes.append("outside addresses are not in the lab: " +
                         ("only its pod pairs were probed" if pairs else "not probed"))
        if e.conns.for_protocol(Protocol.SCTP) and e.conns.for_protocol(Protocol.SCTP) != ALL_PORTS:
            notes.append("SCTP ports are left to the engine")
        out.append(ProbePlan(e, src.pods, dst.pods, sample(e.conns, e.expect), pairs, tuple(notes)))
        out += _through_services(e, src.pods, dst.behind, checker)
    return out


def _through_services(e: Expectation, sources: tuple[str, ...], behind: tuple[tuple[Service, str], ...],
                      checker: Checker) -> list[ProbePlan]:
    """The backends of each Service destination, grouped by the target ports its sampled ports land on."""
    groups: dict[tuple[Cell, ...], list[str]] = {}
    for svc, key in behind:
        pod = checker.pods[key]
        cells: list[Cell] = []
        for protocol, port in sample(e.conns & offered(svc), e.expect):
            for sp in svc.ports:
                if sp.protocol is protocol and sp.port == port:
                    cells += [(protocol, t) for t in sorted(svc.target_numbers(sp, pod, checker.conn.settings))]
        groups.setdefault(tuple(dict.fromkeys(cells)), []).append(key)
    out = []
    for cells, targets in groups.items():
        pairs = tuple((s, d) for s in sources for d in targets if not checker.rows.decided_outside(s, d))
        out.append(ProbePlan(e, sources, tuple(targets), cells, pairs))
    return out


def compare(p: ProbePlan, reached: dict[tuple[str, str, Protocol, int], bool],
            rows: PodRows) -> list[Disagreement]:
    """Every probed cell of ``p`` where ``reached`` (packets) and ``rows`` (engine) differ."""
    out = []
    for s, d in p.pairs:
        engine = rows.cell(s, d)
        for protocol, port in p.cells:
            key = (s, d, protocol, port)
            if key not in reached:
                continue
            allowed = engine.allows(protocol, port)
            if reached[key] != allowed:
                out.append(Disagreement(p.expectation.name, s, d, protocol, port, reached[key], allowed))
    return out
