"""podfence monitor --lab: the lab's denial stream counted, and scraped by a real Prometheus.

Needs root and nftables (marker ``lab``), and Prometheus for the scrape (skipped
without it unless ``PODFENCE_REQUIRE_LAB=1``). The expectations are those of
tests/test_lab_denials.py: five dropped probes, four at the egress of front/web
(front/web-egress), one at the ingress of back/db (back/db-ingress, back/db-monitoring).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from monitor_support import PATIENCE, monitor
from podfence.lab import control, linux
from podfence.loader import load
from podfence.model import Settings
from podfence.sets import Protocol
from test_lab_support import lab_name
from test_monitor_prometheus import free_port, need, query

pytestmark = pytest.mark.lab
LAB = lab_name("pfm")
FIXTURE = Path(__file__).parent / "fixtures" / "lab" / "denials.yaml"
EXPECTED = {
    ("egress", "front", "front/web-egress"): 4.0,
    ("ingress", "back", "back/db-ingress,back/db-monitoring"): 1.0,
}


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PODFENCE_LAB_STATE_DIR", str(tmp_path / "labs"))
    loaded = load([str(FIXTURE)], default_namespace="default", settings=Settings())
    assert loaded.ok
    control.up(loaded.cluster, Settings(), name=LAB, extra_ports=(80,))
    control.apply(loaded.cluster, Settings(), name=LAB)
    yield str(tmp_path / "labs")
    if linux.missing_requirement() is None:
        control.down(LAB)


def test_monitor_counts_the_labs_denials_and_prometheus_scrapes_them(lab: str, tmp_path: Path) -> None:
    prometheus = need("prometheus")
    with monitor("--lab", LAB, env={"PODFENCE_LAB_STATE_DIR": lab}) as running:
        assert running.process.stderr is not None
        assert "following denied connections in 4 pod network namespaces" in running.process.stderr.readline()
        target = running.url.split("//")[1].split("/")[0]
        config = tmp_path / "prometheus.yml"
        config.write_text(f"global: {{scrape_interval: 1s}}\nscrape_configs:\n  - job_name: podfence\n"
                          f"    static_configs: [{{targets: ['{target}']}}]\n")
        port = free_port()
        server = subprocess.Popen([prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
                                   f"--web.listen-address=127.0.0.1:{port}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            control.probe([(Protocol.TCP, 80), (Protocol.UDP, 80)], name=LAB)
            denied = running.wait_for("podfence_denied_connections_total", sum(EXPECTED.values()))
            assert {(s["direction"], s["namespace"], s["policy"]): v for s, v in denied} == EXPECTED
            assert all(s["workload"] == "" for s, _ in denied)  # bare pods: no owning workload
            base = f"http://127.0.0.1:{port}"
            end = time.monotonic() + PATIENCE
            seen: dict[str, float] = {}
            while time.monotonic() < end:
                try:
                    seen = query(base, "sum(podfence_denied_connections_total)")
                except OSError:
                    seen = {}
                if seen and next(iter(seen.values())) >= sum(EXPECTED.values()):
                    break
                time.sleep(0.5)
            assert list(seen.values()) == [sum(EXPECTED.values())]
            by_namespace = query(base, "sum by (namespace) (podfence_denied_connections_total)")
            assert sorted(by_namespace.values()) == [1.0, 4.0]
        finally:
            server.terminate()
            server.wait(timeout=20)
