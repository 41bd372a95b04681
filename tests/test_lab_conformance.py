"""Conformance: every scenario of the suite, on real packets, agrees with the engine.

For each scenario of tests/fixtures/scenarios the lab comes up with the
scenario's pods, enforces its policies, probes every pod pair on TCP 80/81 and
UDP 80/81, and the measured matrices must equal both the engine's (on the same
manifests with the lab's addresses) and the scenario's hand-written ones.
SCTP cells are skipped: the lab probes TCP and UDP (this kernel has no SCTP).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scenarios import REQUIRED_KEYS, Scenario, load_scenarios

from podfence.engine import Engine
from podfence.lab import control, linux
from podfence.lab.plan import LabPlan, with_lab_addresses
from podfence.loader import load
from podfence.model import Settings
from podfence.sets import Protocol

pytestmark = pytest.mark.lab
LAB = "pfconf"
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
    run = control.probe(cells, name=LAB)
    engine = Engine(with_lab_addresses(loaded.cluster, LabPlan(result.state.pods)), S).connectivity()
    for cell in cells:
        measured = run.matrices[cell]
        assert measured.pods == scenario.pods
        expected = engine.matrix(*cell)
        label = f"{scenario.name} {cell[0]}/{cell[1]}"
        assert measured.differences(expected) == (), (
            f"{label}: packets vs engine\n{grid(measured.allowed, measured.pods)}")
        by_hand = {src: frozenset(measured.allowed[src]) for src in measured.pods}
        assert by_hand == scenario.expected[cell], (
            f"{label}: packets vs hand-written\n{grid(measured.allowed, measured.pods)}")


def test_the_suite_is_there() -> None:
    assert len(SCENARIOS) >= 50
    assert all(Path(m).is_file() for s in SCENARIOS for m in s.manifests)
