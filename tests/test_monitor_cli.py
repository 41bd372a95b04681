"""podfence monitor end to end: a denial stream in, Prometheus metrics out."""

from __future__ import annotations

import subprocess
import threading
from collections import Counter
from pathlib import Path

import pytest

from cli_support import podfence
from monitor_support import hubble_feed, monitor, write_lines


def test_hubble_from_stdin_every_denial_counted_on_its_namespace() -> None:
    feed = hubble_feed(20_000)
    with monitor("--hubble", "-", stdin=subprocess.PIPE) as running:
        assert running.process.stdin is not None

        def send() -> None:
            running.process.stdin.write("".join(f"{line}\n" for line in feed.lines))  # type: ignore[union-attr]
            running.process.stdin.close()  # type: ignore[union-attr]

        writer = threading.Thread(target=send)
        writer.start()
        processed = running.wait_for("podfence_flows_processed_total", len(feed.lines))
        writer.join()
        assert {labels["verdict"]: int(v) for labels, v in processed} == dict(feed.verdicts)
        assert all(labels["source"] == "hubble" for labels, _ in processed)
        denied: Counter[tuple[str, str]] = Counter()
        for labels, value in running.samples("podfence_denied_connections_total"):
            denied[(labels["namespace"], labels["direction"])] += int(value)
            assert labels["workload"] in ("web", "api", "worker")
            assert labels["policy"] == f"{labels['namespace']}/default-deny"
        assert denied == feed.denied
        would: Counter[str] = Counter()
        for labels, value in running.samples("podfence_staged_would_deny_total"):
            would[labels["namespace"]] += int(value)
        assert would == feed.would_deny
        text = running.metrics()
        values = set()
        for name in ("podfence_denied_connections_total", "podfence_staged_would_deny_total"):
            values |= {v for labels, _ in running.samples(name) for v in labels.values()}
        assert not values & feed.pod_names and not values & feed.addresses
        assert not any(address in text for address in feed.addresses)
        assert running.process.poll() is None  # the end of standard input does not stop the metrics


def test_a_file_is_followed_as_it_grows(tmp_path: Path) -> None:
    feed = hubble_feed(300, seed=2)
    flows = tmp_path / "flows.jsonl"
    write_lines(flows, feed.lines[:100])
    with monitor("--hubble", str(flows)) as running:
        assert len(running.wait_for("podfence_flows_processed_total", 100)) > 0
        half = feed.lines[100:]
        with flows.open("a") as f:
            f.write(half[0][:50])  # an unfinished line waits for the rest
        assert len(running.wait_for("podfence_flows_processed_total", 100)) > 0
        with flows.open("a") as f:
            f.write(half[0][50:] + "\n" + "".join(f"{line}\n" for line in half[1:]))
        processed = running.wait_for("podfence_flows_processed_total", 300)
        assert {labels["verdict"]: int(v) for labels, v in processed} == dict(feed.verdicts)


def test_manifests_add_gauges_and_the_policies_records_leave_out(tmp_path: Path) -> None:
    flows = tmp_path / "flows.jsonl"
    write_lines(flows, [
        '{"flow":{"verdict":"DROPPED","IP":{"source":"10.1.0.3","destination":"10.1.0.4"},'
        '"l4":{"TCP":{"destination_port":8080}},"source":{"namespace":"shop","pod_name":"cli"},'
        '"destination":{"namespace":"shop","pod_name":"api"},"traffic_direction":"INGRESS"}}',
        "not json",
    ])
    with monitor("--hubble", str(flows), "-f", "tests/fixtures/staged/shop.yaml") as running:
        denied = running.wait_for("podfence_denied_connections_total", 1)
        assert denied == [({"direction": "ingress", "namespace": "shop", "policy": "shop/api-ingress",
                            "workload": ""}, 1.0)]
        ratios = {(labels["namespace"], labels["direction"]): v
                  for labels, v in running.samples("podfence_pods_isolated_ratio")}
        assert ratios[("shop", "ingress")] == 1.0 and ratios[("billing", "ingress")] == 0.0
        findings = {(labels["rule"], labels["severity"]) for labels, _ in running.samples("podfence_lint_findings")}
        assert ("NP101", "warning") in findings
        assert ({"source": "hubble", "verdict": "invalid"}, 1.0) in running.wait_for(
            "podfence_flows_processed_total", 2)


@pytest.mark.parametrize("args, message", [
    ((), "exactly one of --hubble FILE|-, --calico FILE|- or --lab NAME"),
    (("--hubble", "-", "--calico", "-"), "exactly one of"),
    (("--hubble", "missing.jsonl"), "--hubble missing.jsonl: no such file"),
    (("--hubble", "-", "--listen", "nowhere"), "--listen 'nowhere': expected HOST:PORT"),
    (("--hubble", "-", "--listen", "127.0.0.1:99999"), "expected HOST:PORT"),
    (("--hubble", "-", "-f", "missing.yaml"), "missing.yaml"),
])
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    result = podfence("monitor", *args, "-q")
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr


def test_an_address_in_use_is_one_line_and_exit_2() -> None:
    with monitor("--hubble", "-") as running:
        taken = running.url.split("//")[1].split("/")[0]
        result = podfence("monitor", "--hubble", "-", "--listen", taken, "-q")
        assert result.returncode == 2
        assert result.stderr.startswith(f"podfence monitor: error: --listen '{taken}': cannot serve there")
