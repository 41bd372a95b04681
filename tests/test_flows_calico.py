"""Calico flow logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podfence.flows import EndKind, FlowRecord, Outcome, parse_record
from podfence.flows.calico import labels_of, parse
from podfence.model import Labels
from podfence.sets import parse_ip

SAMPLE = Path(__file__).parent / "fixtures" / "flows" / "calico.jsonl"
ROWS = [json.loads(line) for line in SAMPLE.read_text().splitlines()]


def record(n: int) -> FlowRecord:
    got = parse_record(ROWS[n])
    assert isinstance(got, FlowRecord) and got.format == "calico"
    return got


def test_aggregated_pod_names_and_flow_counts() -> None:
    r = record(0)
    assert (r.protocol, r.port, r.outcome, r.reply, r.count) == ("TCP", 8080, Outcome.ALLOWED, False, 42)
    assert (r.source.kind, r.source.namespace, r.source.pod_name, r.source.address) == (
        EndKind.POD, "shop", "frontend-7d9c5b8f6-*", None)
    assert r.destination.labels == Labels({"app": "payapi", "version": "v1", "part-of": "pay"})


def test_protocol_numbers_label_strings_and_dashes() -> None:
    r = record(2)
    assert (r.protocol, r.source.pod_name, r.destination.pod_name) == ("TCP", "checkout-5f7b9c-abcde", "ledger-0")
    assert r.source.labels == Labels({"app": "checkout", "tier": "web", "part-of": "shop"})
    assert r.destination.labels is None
    assert record(7).protocol == "UDP"


def test_networks_hosts_and_denials() -> None:
    public = record(3)
    assert public.destination.kind is EndKind.WORLD and public.destination.address is None
    assert public.destination.detail == "public network"
    assert record(4).destination.address == parse_ip("203.0.113.7")
    assert record(5).outcome is Outcome.DENIED
    node = record(6)
    assert node.source.kind is EndKind.NODE and node.source.address == parse_ip("10.10.0.5")


@pytest.mark.parametrize("raw, expected", [
    (["app=web", "tier=fe"], Labels(app="web", tier="fe")),
    ({"labels": ["app=web"]}, Labels(app="web")),
    ({"app": "web"}, Labels(app="web")),
    ("[app=web,tier=fe]", Labels(app="web", tier="fe")),
    ("-", None),
    (None, None),
])
def test_label_forms(raw: object, expected: Labels | None) -> None:
    assert labels_of(raw) == expected


def test_without_a_protocol() -> None:
    assert parse({"source_namespace": "a", "dest_port": 80}).problem  # type: ignore[union-attr]
