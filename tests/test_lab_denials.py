"""The denial stream reports every dropped probe exactly once, with the right policies.

Expectations for tests/fixtures/lab/denials.yaml are worked out by hand in that
file's header. Needs root and nftables (marker ``lab``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from podfence.lab import control, linux
from podfence.lab import state as lab_state
from podfence.lab.denials import DenialReader
from podfence.loader import load
from podfence.model import Settings
from podfence.sets import Protocol
from test_lab_support import lab_name

pytestmark = pytest.mark.lab
LAB = lab_name("pfd")
FIXTURE = Path(__file__).parent / "fixtures" / "lab" / "denials.yaml"
S = Settings()
WEB_EGRESS = ("EGRESS", (("front", "web-egress"),))
DB_INGRESS = ("INGRESS", (("back", "db-ingress"), ("back", "db-monitoring")))
EXPECTED = {
    ("front/web", "back/db", "TCP"): WEB_EGRESS,
    ("front/web", "ext/tool", "TCP"): WEB_EGRESS,
    ("ext/tool", "back/db", "TCP"): DB_INGRESS,
    ("front/web", "back/db", "UDP"): WEB_EGRESS,
    ("front/web", "ext/tool", "UDP"): WEB_EGRESS,
}


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PODFENCE_LAB_STATE_DIR", str(tmp_path))
    loaded = load([str(FIXTURE)], default_namespace="default", settings=S)
    assert loaded.ok
    control.up(loaded.cluster, S, name=LAB, extra_ports=(80,))
    control.apply(loaded.cluster, S, name=LAB)
    yield lab_state.load(LAB)
    if linux.missing_requirement() is None:
        control.down(LAB)


def key_of(endpoint: dict) -> str:  # type: ignore[type-arg]
    return f"{endpoint['namespace']}/{endpoint['pod_name']}"


def test_every_dropped_probe_is_reported_once_with_its_isolating_policies(lab) -> None:  # type: ignore[no-untyped-def]
    reader = DenialReader(lab, window=10.0)
    try:
        assert reader.open() == 4
        run = control.probe([(Protocol.TCP, 80), (Protocol.UDP, 80)], name=LAB)
        records = reader.drain(quiet=1.5)
    finally:
        reader.close()

    dropped = {(r.probe.src.key, r.probe.dst.key, str(r.probe.protocol))
               for r in run.results if not r.outcome.reached}
    assert dropped == set(EXPECTED)
    # TCP probes dropped in silence were retried once: still one record each
    assert any(r.attempts == 2 for r in run.results if not r.outcome.reached)

    seen: dict[tuple[str, str, str], tuple[str, tuple[tuple[str, str], ...]]] = {}
    for rec in records:
        flow = rec["flow"]
        assert flow["verdict"] == "DROPPED" and flow["drop_reason_desc"] == "POLICY_DENIED"
        protocol = next(iter(flow["l4"]))
        assert flow["l4"][protocol]["destination_port"] == 80
        key = (key_of(flow["source"]), key_of(flow["destination"]), protocol)
        assert key not in seen, f"{key} reported twice"
        direction = flow["traffic_direction"]
        policies = tuple((p["namespace"], p["name"]) for p in flow[f"{direction.lower()}_denied_by"])
        seen[key] = (direction, policies)
    assert seen == EXPECTED


def test_without_deduplication_a_retry_shows_the_same_5_tuple(lab) -> None:  # type: ignore[no-untyped-def]
    reader = DenialReader(lab, window=-1.0)  # report every packet
    try:
        reader.open()
        run = control.probe([(Protocol.TCP, 80)], name=LAB, sources=("ext/tool",), targets=("back/db",))
        records = reader.drain(quiet=1.5)
    finally:
        reader.close()
    (result,) = run.results
    assert result.attempts == 2 and not result.outcome.reached
    ports = [rec["flow"]["l4"]["TCP"]["source_port"] for rec in records]
    assert len(ports) >= 2 and set(ports) == {result.source_port}
