"""Hubble flow records (and the lab's denial stream, which has their shape)."""

from __future__ import annotations

import json
from pathlib import Path

from podfence.flows import EndKind, FlowRecord, Outcome, Skip, parse_record
from podfence.flows.hubble import parse
from podfence.model import Labels
from podfence.sets import parse_ip

FLOWS = Path(__file__).parent / "fixtures" / "flows"


def lines(name: str) -> list[str]:
    return (FLOWS / name).read_text().splitlines()


def test_a_syn_between_two_pods() -> None:
    record = parse(json.loads(lines("hubble.jsonl")[0]))
    assert isinstance(record, FlowRecord)
    assert (record.protocol, record.port, record.outcome, record.reply, record.format) == (
        "TCP", 8080, Outcome.ALLOWED, False, "hubble")
    src, dst = record.source, record.destination
    assert src.kind is EndKind.POD and (src.namespace, src.pod_name, src.workload) == (
        "shop", "frontend-7d9c5b8f6-x2k4q", "frontend")
    # Cilium's namespace and cluster labels are not the pod's own.
    assert src.labels == Labels({"app": "frontend", "tier": "web", "part-of": "shop", "pod-template-hash": "7d9c5b8f6"})
    assert src.address == parse_ip("10.0.1.5") and dst.address == parse_ip("10.0.2.7")
    assert dst.workload is None


def test_replies_world_host_and_other_envelopes() -> None:
    records = {n: parse(json.loads(line)) for n, line in enumerate(lines("hubble.jsonl"), 1) if line.startswith("{")}
    reply = records[2]
    assert isinstance(reply, FlowRecord) and reply.reply is True
    world = records[17]
    assert isinstance(world, FlowRecord) and world.destination.kind is EndKind.WORLD
    assert world.destination.address == parse_ip("203.0.113.5")
    icmp = records[28]
    assert isinstance(icmp, FlowRecord) and (icmp.protocol, icmp.port) == ("ICMPv4", None)
    assert records[29] == Skip("not a flow (node_status)")
    no_reply_field = records[31]
    assert isinstance(no_reply_field, FlowRecord) and no_reply_field.reply is None
    host = records[32]
    assert isinstance(host, FlowRecord) and host.source.kind is EndKind.HOST
    dropped = records[33]
    assert isinstance(dropped, FlowRecord) and dropped.outcome is Outcome.DENIED


def test_reply_direction_from_tcp_flags_when_is_reply_is_absent() -> None:
    def flow(flags: dict[str, bool]) -> FlowRecord:
        got = parse({"IP": {"source": "10.0.0.1", "destination": "10.0.0.2"},
                     "l4": {"TCP": {"source_port": 1, "destination_port": 2, "flags": flags}},
                     "source": {"labels": ["reserved:world"]}, "destination": {"labels": ["reserved:world"]}})
        assert isinstance(got, FlowRecord)
        return got
    assert flow({"SYN": True}).reply is False  # older Hubble: the bare flow object, no envelope
    assert flow({"SYN": True, "ACK": True}).reply is True
    assert flow({"ACK": True}).reply is None


def test_what_is_not_a_flow() -> None:
    assert parse([1, 2]) == Skip("not a JSON object", problem=True)
    assert parse({"lost_events": {}}) == Skip("not a flow (lost_events)")
    l7 = parse({"flow": {"verdict": "FORWARDED", "l7": {}}})
    assert isinstance(l7, Skip) and l7.reason.startswith("no layer 4")
    assert parse({"hello": 1}).problem  # type: ignore[union-attr]
    other = parse({"flow": {"IP": {"source": "10.0.0.1", "destination": "10.96.0.1"}, "l4": {"TCP": {
        "destination_port": 443, "flags": {"SYN": True}}}, "source": {"labels": ["reserved:world"]},
        "destination": {"labels": ["reserved:kube-apiserver"]}}})
    assert isinstance(other, FlowRecord) and other.destination.kind is EndKind.OTHER
    assert other.destination.detail == "reserved:kube-apiserver"


def test_the_lab_denial_stream_reads_as_hubble() -> None:
    first, second = (parse_record(json.loads(line)) for line in lines("lab-denials.jsonl"))
    assert isinstance(first, FlowRecord) and isinstance(second, FlowRecord)
    assert first.outcome is Outcome.DENIED and first.reply is False and first.format == "hubble"
    assert (first.source.workload, first.destination.pod_name, first.port) == ("frontend", "checkout", 8080)
    assert (second.protocol, second.port, second.destination.namespace) == ("UDP", 514, "ops")


def test_records_built_by_the_lab_itself() -> None:
    from podfence.lab.denials import endpoint
    from podfence.lab.plan import LabPod

    pod = LabPod(4, "pay/ledger", "StatefulSet", (("app", "ledger"),), ("10.99.0.4",))
    record = parse_record({"flow": {
        "verdict": "DROPPED", "is_reply": False, "IP": {"source": "203.0.113.9", "destination": "10.99.0.4"},
        "l4": {"TCP": {"source_port": 5, "destination_port": 5432, "flags": {"SYN": True}}},
        "source": endpoint(None), "destination": endpoint(pod)}})
    assert isinstance(record, FlowRecord)
    assert record.source.kind is EndKind.WORLD and record.source.address == parse_ip("203.0.113.9")
    assert (record.destination.namespace, record.destination.workload) == ("pay", "ledger")
    assert record.destination.labels == Labels({"app": "ledger"})
