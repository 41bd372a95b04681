"""podfence monitor: records to events, workloads, manifests, metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from podfence.config import DEFAULT_CONFIG
from podfence.flows import EndKind, FlowEnd
from podfence.loader import load
from podfence.model import Direction, Labels, Settings
from podfence.monitor import AUDIT, DROPPED, EventReader, ManifestContext, Metrics, Monitor, workload_of

SHOP = "tests/fixtures/staged/shop.yaml"
LAB = Path("tests/fixtures/flows/lab-denials.jsonl")


def pod(name: str, labels: dict[str, str] | None = None, workload: str | None = None) -> FlowEnd:
    return FlowEnd(EndKind.POD, "shop", name, Labels(labels or {}), workload)


@pytest.mark.parametrize("end, expected", [
    (pod("web-7d9c5b8f6-x2k4q", workload="frontend"), "frontend"),  # the record names it
    (pod("web-7d9c5b8f6-x2k4q", {"pod-template-hash": "7d9c5b8f6"}), "web"),  # Deployment
    (pod("api-v2-5f6d7c8b9-abcde", {"pod-template-hash": "5f6d7c8b9"}), "api-v2"),
    (pod("db-2", {"statefulset.kubernetes.io/pod-name": "db-2"}), "db"),  # StatefulSet
    (pod("agent-x7k2p", {"controller-revision-hash": "6b9f"}), "agent"),  # DaemonSet
    (pod("report-28391-k2x9z", {"job-name": "report-28391"}), "report-28391"),  # Job
    (pod("web-7fd9c5b8b6-x2k4q"), "web"),  # a ReplicaSet's pod name alone
    (pod("cli"), ""),  # a bare pod: no workload, and never its own name
    (pod("db-0"), ""),  # an ordinal without the StatefulSet label could be any pod's name
    (FlowEnd(EndKind.WORLD), ""),
])
def test_the_owning_workload(end: FlowEnd, expected: str) -> None:
    assert workload_of(end) == expected


def hubble(verdict: str, direction: str | None, *, denied_by: list[dict[str, str]] | None = None) -> dict[str, object]:
    flow: dict[str, object] = {
        "verdict": verdict, "IP": {"source": "10.0.0.5", "destination": "10.0.0.9"},
        "l4": {"TCP": {"destination_port": 5432, "flags": {"SYN": True}}},
        "source": {"namespace": "shop", "pod_name": "web-7d9c5b8f6-x2k4q",
                   "labels": ["k8s:app=web", "k8s:pod-template-hash=7d9c5b8f6"]},
        "destination": {"namespace": "billing", "pod_name": "db-0",
                        "labels": ["k8s:statefulset.kubernetes.io/pod-name=db-0"]},
        "is_reply": False,
    }
    if direction:
        flow["traffic_direction"] = direction
        flow[f"{direction.lower()}_denied_by"] = denied_by or []
    return {"flow": flow, "time": "2026-11-27T10:00:00Z"}


def test_a_drop_is_counted_on_the_dropping_side() -> None:
    read = EventReader("hubble")
    ingress = read(hubble("DROPPED", "INGRESS", denied_by=[
        {"name": "default-deny", "namespace": "billing", "kind": "NetworkPolicy"},
        {"name": "allow-api", "namespace": "billing", "kind": "NetworkPolicy"}]))
    assert (ingress.verdict, ingress.direction, ingress.namespace, ingress.workload, ingress.policy) == (
        DROPPED, Direction.INGRESS, "billing", "db", "billing/allow-api,billing/default-deny")
    egress = read(hubble("DROPPED", "EGRESS", denied_by=[{"name": "deny-out", "namespace": "shop"}]))
    assert (egress.direction, egress.namespace, egress.workload, egress.policy) == (
        Direction.EGRESS, "shop", "web", "shop/deny-out")
    assert (egress.src, egress.dst, egress.port) == ("shop/web", "billing/db", 5432)


def test_audit_forwarded_and_lines_that_are_no_record() -> None:
    read = EventReader("hubble")
    assert read(hubble("AUDIT", "INGRESS", denied_by=[{"name": "staged", "namespace": "billing"}])).verdict == AUDIT
    assert read(hubble("FORWARDED", None)).verdict == "forwarded"
    assert read(["not", "a", "record"]).verdict == "invalid"
    assert read({"node_status": {}}).verdict == "invalid"


def test_the_labs_denial_stream() -> None:
    read = EventReader("lab")
    events = [read(json.loads(line)) for line in LAB.read_text().splitlines() if line.strip()]
    assert events and all(e.verdict == DROPPED for e in events)
    for event in events:
        assert event.policy and event.namespace


def test_calico_denies_and_staged_pending_policies() -> None:
    read = EventReader("calico")
    base = {"source_namespace": "shop", "source_name_aggr": "web-7d9c5b8f6-*", "source_type": "wep",
            "dest_namespace": "billing", "dest_name_aggr": "db-*", "dest_type": "wep", "dest_port": 5432,
            "proto": "tcp", "num_flows": 3}
    deny = read({**base, "action": "deny", "reporter": "dst",
                 "policies": {"all_policies": ["0|default|billing/knp.default.default-deny|deny|-1"]}})
    assert (deny.verdict, deny.direction, deny.namespace, deny.policy) == (
        DROPPED, Direction.INGRESS, "billing", "billing/default-deny")
    staged = read({**base, "action": "allow", "reporter": "src", "policies": {
        "pending_policies": ["0|default|shop/staged:default.lockdown|deny|-1"]}})
    assert (staged.verdict, staged.direction, staged.namespace, staged.workload, staged.policy) == (
        AUDIT, Direction.EGRESS, "shop", "web", "shop/lockdown")
    metrics = Metrics("calico")
    metrics.count(deny)
    text = generate_latest(metrics.registry).decode()
    assert 'podfence_flows_processed_total{source="calico",verdict="dropped"} 1.0' in text  # one record
    assert ('podfence_denied_connections_total{direction="ingress",namespace="billing",'
            'policy="billing/default-deny",workload="db"} 3.0') in text  # of three connections


def test_manifests_name_what_the_record_leaves_out() -> None:
    cluster = load([SHOP]).cluster
    context = ManifestContext(cluster, Settings(), DEFAULT_CONFIG)
    read = EventReader("hubble")
    raw = hubble("DROPPED", "INGRESS")
    raw["flow"]["destination"] = {"namespace": "shop", "pod_name": "api", "labels": ["k8s:app=api"]}  # type: ignore[index]
    event = context.complete(read(raw))
    assert (event.namespace, event.workload, event.policy) == ("shop", "", "shop/api-ingress")  # a bare pod
    raw["flow"]["verdict"] = "AUDIT"  # type: ignore[index]
    raw["flow"]["destination"] = {"namespace": "billing", "pod_name": "web"}  # type: ignore[index]
    assert context.complete(read(raw)).policy == "billing/default-deny"  # the staged policy, once enforced
    ratios = context.isolated_ratios()
    assert (ratios[("shop", "ingress")], ratios[("shop", "egress")], ratios[("billing", "ingress")]) == (1, 0, 0)
    assert ("NP101", "warning") in context.lint_counts()


def test_metrics_count_every_record_and_keep_addresses_and_pod_names_out() -> None:
    metrics = Metrics("hubble")
    running = Monitor("hubble", metrics)
    lines = [json.dumps(hubble(v, d, denied_by=[{"name": "p", "namespace": "billing"}]))
             for v, d in (("DROPPED", "INGRESS"), ("DROPPED", "INGRESS"), ("AUDIT", "EGRESS"), ("FORWARDED", None))]
    running.lines([*lines, "{oops", ""])
    text = generate_latest(metrics.registry).decode()
    assert ('podfence_denied_connections_total{direction="ingress",namespace="billing",policy="billing/p",'
            'workload="db"} 2.0') in text
    assert ('podfence_staged_would_deny_total{direction="egress",namespace="shop",policy="billing/p",'
            'workload="web"} 1.0') in text
    for verdict, n in (("dropped", 2), ("audit", 1), ("forwarded", 1), ("invalid", 1)):
        assert f'podfence_flows_processed_total{{source="hubble",verdict="{verdict}"}} {n}.0' in text
    assert "10.0.0" not in text and "x2k4q" not in text and "db-0" not in text


def test_the_terminal_view_shows_the_last_minute_most_denied_first() -> None:
    from rich.console import Console

    from podfence.monitor.window import RecentDenials
    from podfence.render.monitor import monitor_view

    read = EventReader("hubble")
    recent = RecentDenials(seconds=60)
    drop = read(hubble("DROPPED", "INGRESS", denied_by=[{"name": "default-deny", "namespace": "billing"}]))
    audit = read(hubble("AUDIT", "EGRESS", denied_by=[{"name": "staged\x1b[31m", "namespace": "shop"}]))
    recent.add(drop, now=1000.0)  # more than a minute before the rest: gone from the view
    for t in (1100.0, 1100.5, 1101.0):
        recent.add(drop, now=t)
    recent.add(audit, now=1101.0)
    top = recent.top(now=1101.5)
    assert [(pair[0], n) for pair, n in top] == [(DROPPED, 3), (AUDIT, 1)]
    console = Console(record=True, width=200, color_system=None)
    console.print(monitor_view(top, recent.totals, "http://127.0.0.1:9807/metrics"))
    text = console.export_text()
    assert "shop/web" in text and "billing/db" in text and "billing/default-deny" in text and "TCP 5432" in text
    assert "\x1b" not in text and "5 records, 4 denied, 1 would be denied" in text


def test_a_hand_written_replica_name_still_names_its_deployment() -> None:
    assert workload_of(pod("frontend-abc123-xyz12")) == "frontend"
