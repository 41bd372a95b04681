"""podfence monitor scraped by a real Prometheus, and the shipped alert rules checked by promtool.

Needs Debian's ``prometheus`` package (``prometheus`` and ``promtool``). Without it
these tests are skipped with the reason; with ``PODFENCE_REQUIRE_LAB=1`` (CI) they
fail instead, so a machine that lost Prometheus cannot pass by skipping.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from cli_support import ROOT
from monitor_support import PATIENCE, hubble_feed, monitor, write_lines

ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yaml"


def need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        why = f"{tool} is not installed (apt-get install prometheus)"
        if os.environ.get("PODFENCE_REQUIRE_LAB") == "1":
            pytest.fail(f"PODFENCE_REQUIRE_LAB=1 but {why}", pytrace=False)
        pytest.skip(why)
    return found


def test_promtool_accepts_the_shipped_alert_rules() -> None:
    result = subprocess.run([need("promtool"), "check", "rules", str(ALERTS)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 2 rules found" in result.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def query(base: str, expr: str) -> dict[str, float]:
    """An instant query's result: the value per series, keyed by its labels as JSON."""
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=10) as response:
        data = json.load(response)
    assert data["status"] == "success", data
    return {json.dumps(r["metric"], sort_keys=True): float(r["value"][1]) for r in data["data"]["result"]}


def test_prometheus_scrapes_counters_equal_to_the_records(tmp_path: Path) -> None:
    prometheus = need("prometheus")
    feed = hubble_feed(5_000, seed=3)
    flows = tmp_path / "flows.jsonl"
    write_lines(flows, feed.lines)
    with monitor("--hubble", str(flows)) as running:
        target = running.url.split("//")[1].split("/")[0]
        config = tmp_path / "prometheus.yml"
        config.write_text(f"global: {{scrape_interval: 1s}}\nscrape_configs:\n  - job_name: podfence\n"
                          f"    static_configs: [{{targets: ['{target}']}}]\n")
        port = free_port()
        server = subprocess.Popen([prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
                                   f"--web.listen-address=127.0.0.1:{port}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        base = f"http://127.0.0.1:{port}"
        try:
            end = time.monotonic() + PATIENCE
            total: dict[str, float] = {}
            while time.monotonic() < end:
                try:
                    total = query(base, "sum(podfence_flows_processed_total)")
                except OSError:
                    total = {}
                if total and next(iter(total.values())) >= len(feed.lines):
                    break
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.5)
            assert list(total.values()) == [len(feed.lines)]
            denied = query(base, "sum by (namespace, direction) (podfence_denied_connections_total)")
            assert {(json.loads(k)["namespace"], json.loads(k)["direction"]): v for k, v in denied.items()} == {
                key: float(n) for key, n in feed.denied.items()}
            would = query(base, "sum by (namespace) (podfence_staged_would_deny_total)")
            assert {json.loads(k)["namespace"]: v for k, v in would.items()} == {
                ns: float(n) for ns, n in feed.would_deny.items()}
            labels = query(base, 'count by (workload) (podfence_denied_connections_total{job="podfence"})')
            assert {json.loads(k)["workload"] for k in labels} <= {"web", "api", "worker"}
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
