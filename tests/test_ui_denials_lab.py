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


def test_ui_refuses_a_lab_that_is_not_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODFENCE_LAB_STATE_DIR", str(tmp_path))
    done = podfence("ui", "-f", FIXTURE, "--lab", "pfnone9", "--no-browser", "--port", "0")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "no lab 'pfnone9' is up" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


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


def test_the_page_shows_a_dropped_probe_in_its_table_and_on_the_map(lab: str) -> None:
    from ui_support import chromium

    with ui_server("-f", FIXTURE, "--lab", lab) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "#/denials")
        page.wait_for_selector("body[data-ready=true]", timeout=30000)
        assert page.locator("#denials tbody tr").count() == 0
        probe = podfence("lab", "probe", "--name", lab, "--from", "ext/tool", "--to", "back/db", "--port", "80",
                         "--protocol", "TCP")
        assert probe.returncode in (0, 1), probe.stderr
        row = page.locator("#denials tbody tr").first
        row.wait_for(timeout=60000)
        cells = row.locator("td").all_inner_texts()
        assert cells[1:] == ["DROPPED", "ext/tool", "back/db", "TCP/80", "INGRESS",
                             "back/db-ingress, back/db-monitoring"]
        page.goto(url + "#/map")  # same page: the records seen so far are kept
        page.wait_for_function("() => window.podfenceMap && window.podfenceMap.edges('.denied').length > 0",
                               timeout=30000)
        denied = page.evaluate("() => window.podfenceMap.edges('.denied').map((e) => [e.source().id(), "
                               "e.target().id(), e.data('label')])")
        assert denied == [["ext/tool", "back/db", "denied: TCP/80"]]
        assert errors == []
