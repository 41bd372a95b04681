"""Conformance: every scenario of the suite, on real packets, agrees with the engine.

For each scenario of tests/fixtures/scenarios the lab comes up with the
scenario's pods, enforces its policies, probes every pod pair on TCP 80/81 and
UDP 80/81, and the measured matrices must equal both the engine's (on the same
manifests with the lab's addresses) and the scenario's hand-written ones.
SCTP cells are skipped: the lab probes TCP and UDP (this kernel has no SCTP).

The denial stream runs during the probes: every dropped probe must appear in it
exactly once, dropped where the engine says the connection is first refused
(the source's egress, else the destination's ingress) and naming the policies
the engine says isolate that side.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scenarios import REQUIRED_KEYS, Scenario, load_scenarios

from podfence.engine import Engine
from podfence.lab import control, linux
from podfence.lab import state as lab_state
from podfence.lab.denials import DenialReader
from podfence.lab.plan import LabPlan, with_lab_addresses
from podfence.loader import load
from podfence.model import Direction, Settings
from podfence.sets import Protocol
from test_lab_support import lab_name

pytestmark = pytest.mark.lab
LAB = lab_name("pfc")
SCENARIOS = load_scenarios()
S = Settings()


@pytest.fixture(scope="module", autouse=True)
def lab_state_dir(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    mp = pytest.MonkeyPatch()
    mp.setenv("PODFENCE_LAB_STATE_DIR", str(tmp_path_factory.mktemp("lab-state")))
    yield
    if linux.missing_requirement() is None:
        control.down(LAB)
    mp.undo()


def grid(rows: dict[str, frozenset[str] | tuple[str, ...]], pods: tuple[str, ...]) -> str:
    return "\n".join(f"{src:<4} " + " ".join("." if dst in rows[src] else "X" for dst in pods) for src in pods)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_lab_matches_engine_and_expectations(scenario: Scenario) -> None:
    loaded = load([str(p) for p in scenario.manifests], default_namespace="default", settings=S)
    assert loaded.ok, [d.one_line() for d in loaded.diagnostics]
    cells = [c for c in scenario.expected if c[0] is not Protocol.SCTP]
    assert set(REQUIRED_KEYS) <= set(cells)
    ports = tuple(sorted({port for _, port in cells}))
    result = control.up(loaded.cluster, S, name=LAB, extra_ports=ports)
    control.apply(loaded.cluster, S, name=LAB)
    reader = DenialReader(lab_state.load(LAB))  # type: ignore[arg-type]
    try:
        reader.open()
        run = control.probe(cells, name=LAB)
        records = reader.drain(quiet=0.3)
    finally:
        reader.close()
    full = Engine(with_lab_addresses(loaded.cluster, LabPlan(result.state.pods)), S)
    engine = full.connectivity()
    for cell in cells:
        measured = run.matrices[cell]
        assert measured.pods == scenario.pods
        expected = engine.matrix(*cell)
        label = f"{scenario.name} {cell[0]}/{cell[1]}"
        assert measured.differences(expected) == (), (
            f"{label}: packets vs engine\n{grid(measured.allowed, measured.pods)}\n"
            + explain_cells(run, cell, measured.differences(expected)))
        by_hand = {src: frozenset(measured.allowed[src]) for src in measured.pods}
        assert by_hand == scenario.expected[cell], (
            f"{label}: packets vs hand-written\n{grid(measured.allowed, measured.pods)}")
    check_denials(scenario, run, records, full)


def explain_cells(run: control.ProbeRun, cell: tuple[Protocol, int], cells: tuple) -> str:  # type: ignore[type-arg]
    """What the probes of the disagreeing cells saw (to tell a policy bug from a slow machine)."""
    lines = []
    for src, dst, *_ in cells:
        for r in run.results:
            if (r.probe.src.key, r.probe.dst.key, r.probe.protocol, r.probe.port) == (src, dst, *cell):
                lines.append(f"{src} -> {dst}: {r.outcome.value} after {r.attempts} attempt(s) from port "
                             f"{r.source_port}")
    return "\n".join(lines)


def test_the_suite_is_there() -> None:
    assert len(SCENARIOS) >= 50
    assert all(Path(m).is_file() for s in SCENARIOS for m in s.manifests)


def check_denials(scenario: Scenario, run: control.ProbeRun, records: list, full: Engine) -> None:  # type: ignore[type-arg]
    """Each dropped probe is reported once, at the side and with the policies the engine names."""
    reported: dict[tuple[str, str, Protocol, int], list[tuple[str, tuple[str, ...]]]] = {}
    for rec in records:
        flow = rec["flow"]
        protocol = next(iter(flow["l4"]))
        key = (f"{flow['source']['namespace']}/{flow['source']['pod_name']}",
               f"{flow['destination']['namespace']}/{flow['destination']['pod_name']}",
               Protocol(protocol), flow["l4"][protocol]["destination_port"])
        direction = flow["traffic_direction"].lower()
        policies = tuple(f"{p['namespace']}/{p['name']}" for p in flow[f"{direction}_denied_by"])
        reported.setdefault(key, []).append((direction, policies))
    dropped = {(r.probe.src.key, r.probe.dst.key, r.probe.protocol, r.probe.port)
               for r in run.results if not r.outcome.reached}
    assert set(reported) == dropped, f"{scenario.name}: denials and dropped probes differ"
    for (src, dst, protocol, port), entries in reported.items():
        verdict = full.explain(full.endpoint(src), full.endpoint(dst), protocol, port)
        side = verdict.egress if not verdict.egress.allowed else verdict.ingress
        assert not side.allowed
        expected = (Direction(side.direction).value, side.policies)
        assert entries == [expected], f"{scenario.name} {src} -> {dst} {protocol}/{port}"
