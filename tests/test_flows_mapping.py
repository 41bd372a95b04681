"""Flow ends mapped onto workloads; every record accounted for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podfence.flows import EndKind, FlowEnd, WorkloadIndex, observe, parse_record
from podfence.loader import load
from podfence.model import Cluster, Labels, Pod, Settings, Source
from podfence.sets import Protocol, parse_ip

HERE = Path(__file__).parent / "fixtures"
SHOP = load([str(HERE / "generate" / "cluster.yaml")]).cluster
INDEX = WorkloadIndex(SHOP, Settings())


def pod_end(ns: str | None, name: str | None = None, labels: dict[str, str] | None = None,
            workload: str | None = None) -> FlowEnd:
    return FlowEnd(EndKind.POD, ns, name, Labels(labels) if labels is not None else None, workload)


@pytest.mark.parametrize("end, expected", [
    (pod_end("shop", "anything", workload="frontend"), "shop/frontend"),  # the record names the workload
    (pod_end("shop", "frontend-7d9c5b8f6-x2k4q"), "shop/frontend"),  # a Deployment replica
    (pod_end("shop", "frontend-7d9c5b8f6-*"), "shop/frontend"),  # Calico's aggregated name
    (pod_end("pay", "ledger-0"), "pay/ledger"),  # a StatefulSet ordinal
    (pod_end("pay", "api-v2-5c9d8-x1y2z"), "pay/api-v2"),  # the longest workload name that fits
    (pod_end("pay", None, {"app": "payapi", "version": "v1", "part-of": "pay", "pod-template-hash": "1"}),
     "pay/api-v1"),
])
def test_pod_ends_map_to_their_workload(end: FlowEnd, expected: str) -> None:
    got = INDEX.pod(end)
    assert isinstance(got, Pod) and got.key == expected


@pytest.mark.parametrize("end, words", [
    (pod_end(None, "x"), "no namespace"),
    (pod_end("legacy", "billing-old-1"), "no workload in namespace legacy"),
    (pod_end("shop", "debug-shell", {"run": "debug"}), "no workload in the manifests matches it"),
    # A replica-like name whose labels belong to another workload is not that workload.
    (pod_end("shop", "frontend-7d9c5b8f6-x2k4q", {"app": "checkout-canary"}), "matches it by name or labels"),
    (pod_end("pay", None, {"app": "payapi", "part-of": "pay"}), "no workload in the manifests matches it"),
])
def test_unmappable_pod_ends_say_why(end: FlowEnd, words: str) -> None:
    got = INDEX.pod(end)
    assert isinstance(got, str) and words in got


def test_equal_label_fits_are_ambiguous() -> None:
    cluster = Cluster.of(pods=[Pod("a", "x", Labels(app="web")), Pod("a", "y", Labels(tier="fe"))])
    got = WorkloadIndex(cluster, Settings()).pod(pod_end("a", None, {"app": "web", "tier": "fe"}))
    assert isinstance(got, str) and "several workloads equally (a/x, a/y)" in got


def test_addresses_map_to_the_pod_that_has_them() -> None:
    cluster = Cluster.of(pods=[Pod("a", "x", Labels(app="x"), ips=(parse_ip("10.0.0.9"),))])
    index = WorkloadIndex(cluster, Settings())
    assert index.end(FlowEnd(EndKind.WORLD, address=parse_ip("10.0.0.9"))) == cluster.pods[0]
    assert index.end(FlowEnd(EndKind.WORLD, address=parse_ip("10.0.0.8"))) == parse_ip("10.0.0.8")
    assert isinstance(index.end(FlowEnd(EndKind.WORLD)), str)


def read(name: str) -> list:  # type: ignore[type-arg]
    out = []
    for n, line in enumerate((HERE / "flows" / name).read_text().splitlines(), 1):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            from podfence.flows import Skip

            out.append((Source(name, n), Skip("not JSON", problem=True)))
            continue
        out.append((Source(name, n), parse_record(obj)))
    return out


def test_every_hubble_record_is_accounted_for() -> None:
    observed = observe(read("hubble.jsonl"), SHOP, Settings())
    assert observed.records == 35
    ignored = sum(t.count for t in observed.ignored.values())
    problems = sum(t.count for t in observed.problems.values())
    assert observed.used + observed.unmapped + ignored + problems == observed.records
    assert observed.unmapped == 2 and problems == 1
    assert {r: t.count for r, t in observed.ignored.items()} == {
        "reply packets (the connection is counted once, from its first packet)": 1,
        "ICMPv4: not TCP, UDP or SCTP, which NetworkPolicy ports name": 1,
        "not a flow (node_status)": 1,
        "TCP packets after the handshake with no is_reply field (direction unknown)": 1,
        "traffic between a pod and its own node (always allowed)": 1,
    }
    assert sorted(observed.unmappable) == [
        "source pod legacy/billing-old-1 (app=billing-old): the manifests hold no workload in namespace legacy",
        "source pod shop/debug-shell (run=debug): no workload in the manifests matches it by name or labels",
    ]
    assert str(observed.unmappable[sorted(observed.unmappable)[0]].first) == "hubble.jsonl:26"
    # Thirteen replicas of frontend folded into one connection.
    key = ("shop/frontend", "shop/checkout", Protocol.TCP, 8080)
    assert observed.connections[key].count == 13 and str(observed.connections[key].first) == "hubble.jsonl:1"
    assert observed.connections[("shop/cart", "pay/ledger", Protocol.TCP, 5432)].denied == 1
    assert len(observed.connections) == 1 + 1 + 1 + 2 + 6 + 1 + 1 + 1 + 1
    only_allowed = observe(read("hubble.jsonl"), SHOP, Settings(), only_allowed=True)
    assert ("shop/cart", "pay/ledger", Protocol.TCP, 5432) not in only_allowed.connections


def test_calico_records_and_their_flow_counts() -> None:
    observed = observe(read("calico.jsonl"), SHOP, Settings())
    assert observed.records == 8 and observed.formats == {"calico": 8}
    # Reported by both ends: one connection, 84 flows.
    assert observed.connections[("shop/frontend", "pay/api-v1", Protocol.TCP, 8080)].count == 84
    assert observed.connections[("shop/checkout", "pay/ledger", Protocol.TCP, 5432)].count == 1
    assert observed.connections[("ops/syslog", "shop/cart", Protocol.TCP, 7000)].denied == 1
    assert ("10.10.0.5", "shop/cart", Protocol.TCP, 7000) in observed.connections
    assert sorted(observed.unmappable) == [
        "destination pod metrics/statsd-0: the manifests hold no workload in namespace metrics",
        "destination public network no address: the record gives no address",
    ]


def test_flow_records_are_placed_with_the_model_source() -> None:
    from podfence.flows import Tally

    tally = Tally()
    tally.add(Source("flows.jsonl", 7))
    tally.add(Source("flows.jsonl", 9))
    assert tally.count == 2 and tally.first == Source("flows.jsonl", 7) and str(tally.first) == "flows.jsonl:7"
