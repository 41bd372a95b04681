"""podfence ui --lab on a real lab: a probe the lab drops shows up in GET /api/denials.

Needs root and nftables (marker ``lab``); the fixture's drops are worked out in its header.
"""

from __future__ import annotations

import json
import queue
import threading
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from cli_support import podfence
from test_lab_support import lab_name
from ui_support import ui_server

pytestmark = pytest.mark.lab
LAB = lab_name("pfu")
FIXTURE = str(Path(__file__).parent / "fixtures" / "lab" / "denials.yaml")


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("PODFENCE_LAB_STATE_DIR", str(tmp_path))
    up = podfence("lab", "up", "-f", FIXTURE, "--name", LAB, "--port", "80")
    assert up.returncode == 0, up.stderr
    try:
        applied = podfence("lab", "apply", "-f", FIXTURE, "--name", LAB)
        assert applied.returncode == 0, applied.stderr
        yield LAB
    finally:
        podfence("lab", "down", "--name", LAB)


def read_stream(url: str, lines: queue.Queue[str | None], stop: threading.Event) -> None:
    try:
        with httpx.stream("GET", url + "api/denials", timeout=httpx.Timeout(5.0, read=None)) as got:
            lines.put(f"status {got.status_code}")
            for line in got.iter_lines():
                lines.put(line)
                if stop.is_set():
                    return
    finally:
        lines.put(None)


def test_a_dropped_probe_appears_in_the_page_s_denial_stream(lab: str) -> None:
    with ui_server("-f", FIXTURE, "--lab", lab) as url:
        lines: queue.Queue[str | None] = queue.Queue()
        stop = threading.Event()
        reader = threading.Thread(target=read_stream, args=(url, lines, stop), daemon=True)
        reader.start()
        assert lines.get(timeout=30) == "status 200"
        assert lines.get(timeout=30).startswith(":")  # subscribed: the stream is open
        probe = podfence("lab", "probe", "--name", lab, "--from", "ext/tool", "--to", "back/db", "--port", "80",
                         "--protocol", "TCP")
        assert probe.returncode in (0, 1), probe.stderr
        record = None
        while record is None:
            line = lines.get(timeout=60)
            assert line is not None, "the stream ended before the denial came"
            if line.startswith("data: "):
                record = json.loads(line[len("data: "):])
        stop.set()
    flow = record["flow"]
    assert flow["verdict"] == "DROPPED" and flow["traffic_direction"] == "INGRESS"
    assert (flow["source"]["namespace"], flow["source"]["pod_name"]) == ("ext", "tool")
    assert (flow["destination"]["namespace"], flow["destination"]["pod_name"]) == ("back", "db")
    assert flow["l4"]["TCP"]["destination_port"] == 80
    assert {(p["namespace"], p["name"]) for p in flow["ingress_denied_by"]} == {
        ("back", "db-ingress"), ("back", "db-monitoring")}
