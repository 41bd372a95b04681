"""Denial records without root: NFLOG decoding, Hubble shape, deduplication."""

from __future__ import annotations

import ipaddress
import socket
import struct

from podfence.lab import nflog
from podfence.lab.denials import Deduplicator, record, timestamp
from podfence.lab.netlink import attr
from podfence.lab.plan import LabPod
from podfence.lab.state import LabState


def ipv4_tcp(src: str, dst: str, sport: int, dport: int, flags: int = 0x02) -> bytes:
    header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0,
                         ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    tcp = struct.pack(">HHIIBBHHH", sport, dport, 0, 0, 5 << 4, flags, 65535, 0, 0)
    return header + tcp


def ipv6_udp(src: str, dst: str, sport: int, dport: int) -> bytes:
    header = struct.pack(">IHBB16s16s", 6 << 28, 8, 17, 64,
                         ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed)
    return header + struct.pack(">HHHH", sport, dport, 8, 0)


def nflog_datagram(payload: bytes, prefix: str, family: int = socket.AF_INET, stamp: tuple[int, int] | None = None) -> bytes:
    """One NFULNL_MSG_PACKET netlink message, laid out as the kernel sends it."""
    body = struct.pack("=BBH", family, 0, socket.htons(7311))
    body += attr(nflog.NFULA_PACKET_HDR, struct.pack(">HBx", 0x0800, 1))
    if stamp:
        body += attr(nflog.NFULA_TIMESTAMP, struct.pack(">QQ", *stamp))
    body += attr(nflog.NFULA_PREFIX, prefix.encode() + b"\0")
    body += attr(nflog.NFULA_PAYLOAD, payload)
    return struct.pack("=IHHII", 16 + len(body), nflog.MSG_PACKET, 0, 0, 0) + body


def test_decode_ipv4_tcp_syn() -> None:
    data = nflog_datagram(ipv4_tcp("10.0.0.1", "10.0.0.2", 40000, 80), "pf 2 i", stamp=(1700000000, 250000))
    (event,) = nflog.decode(data)
    assert (event.prefix, event.version, event.protocol) == ("pf 2 i", 4, 6)
    assert (event.source, event.source_port, event.destination, event.destination_port) == \
        ("10.0.0.1", 40000, "10.0.0.2", 80)
    assert event.tcp_flags == ("SYN",)
    assert event.time == 1700000000.25
    assert event.five_tuple == (6, "10.0.0.1", 40000, "10.0.0.2", 80)


def test_decode_ipv6_udp_and_two_messages_in_one_datagram() -> None:
    one = nflog_datagram(ipv6_udp("fd00::1", "fd00::2", 5000, 53), "pf 1 e", socket.AF_INET6)
    two = nflog_datagram(ipv4_tcp("10.0.0.3", "10.0.0.4", 1, 2, 0x12), "pf 3 i")
    events = nflog.decode(one + two)
    assert [(e.version, e.protocol, e.source, e.destination_port) for e in events] == [
        (6, 17, "fd00::1", 53), (4, 6, "10.0.0.3", 2)]
    assert events[1].tcp_flags == ("SYN", "ACK")
    assert events[0].time is None


def test_non_ip_payloads_and_other_messages_are_skipped() -> None:
    assert nflog.decode(nflog_datagram(b"\x00" * 30, "pf 1 i")) == []
    assert nflog.decode(struct.pack("=IHHII", 20, 2, 0, 0, 0) + b"\0" * 4) == []


def test_bind_requests_bind_the_group_in_network_order() -> None:
    bind, mode = nflog.bind_requests(7311)
    assert bind.kind == mode.kind == nflog.MSG_CONFIG
    family, version, group = struct.unpack("=BBH", bind.body[:4])
    assert (family, version, socket.ntohs(group)) == (socket.AF_UNSPEC, 0, 7311)
    # NFULA_CFG_CMD carrying BIND
    assert bind.body[4:9] == struct.pack("=HH", 5, nflog.NFULA_CFG_CMD) + bytes([nflog.NFULNL_CFG_CMD_BIND])


STATE = LabState(
    name="pf", pod_cidr="10.0.0.0/24",
    pods=(
        LabPod(1, "shop/web", "Pod", (("app", "web"),), ("10.0.0.1",)),
        LabPod(2, "shop/cache", "Deployment", (("app", "cache"),), ("10.0.0.2",)),
        LabPod(3, "kube/agent", "Pod", (), ("192.168.0.1",), host_network=True),
    ),
    isolation={"shop/cache": {"ingress": ["shop/deny-all", "shop/allow-web"], "egress": []},
               "shop/web": {"ingress": [], "egress": ["shop/web-out"]}},
)


def event(prefix: str, src: str, dst: str) -> nflog.LogEvent:
    return nflog.decode(nflog_datagram(ipv4_tcp(src, dst, 33000, 6379), prefix))[0]


def test_an_ingress_drop_names_the_destination_s_isolating_policies() -> None:
    rec = record(event("pf 2 i", "10.0.0.1", "10.0.0.2"), STATE, 1700000000.5)
    assert rec is not None
    flow = rec["flow"]
    assert flow["verdict"] == "DROPPED" and flow["drop_reason_desc"] == "POLICY_DENIED"  # type: ignore[index]
    assert flow["traffic_direction"] == "INGRESS"  # type: ignore[index]
    assert flow["source"] == {"ID": 1, "namespace": "shop", "pod_name": "web",  # type: ignore[index]
                              "labels": ["k8s:app=web", "k8s:io.kubernetes.pod.namespace=shop"]}
    destination = flow["destination"]  # type: ignore[index]
    assert destination["pod_name"] == "cache" and destination["workloads"] == [{"name": "cache", "kind": "Deployment"}]
    assert flow["ingress_denied_by"] == [  # type: ignore[index]
        {"name": "deny-all", "namespace": "shop", "kind": "NetworkPolicy"},
        {"name": "allow-web", "namespace": "shop", "kind": "NetworkPolicy"},
    ]
    assert "egress_denied_by" not in flow  # type: ignore[operator]
    assert flow["l4"] == {"TCP": {"source_port": 33000, "destination_port": 6379, "flags": {"SYN": True}}}  # type: ignore[index]
    assert flow["IP"] == {"source": "10.0.0.1", "destination": "10.0.0.2", "ipVersion": "IPv4"}  # type: ignore[index]
    assert rec["time"] == flow["time"] == "2023-11-14T22:13:20.500000000Z"  # type: ignore[index]


def test_an_egress_drop_to_an_unknown_address_is_the_world() -> None:
    rec = record(event("pf 1 e", "10.0.0.1", "203.0.113.9"), STATE, 0.0)
    assert rec is not None
    flow = rec["flow"]
    assert flow["traffic_direction"] == "EGRESS"  # type: ignore[index]
    assert flow["destination"] == {"identity": 2, "labels": ["reserved:world"]}  # type: ignore[index]
    assert flow["egress_denied_by"] == [{"name": "web-out", "namespace": "shop", "kind": "NetworkPolicy"}]  # type: ignore[index]


def test_a_host_network_source_is_the_host() -> None:
    rec = record(event("pf 2 i", "192.168.0.1", "10.0.0.2"), STATE, 0.0)
    assert rec is not None
    source = rec["flow"]["source"]  # type: ignore[index]
    assert source["pod_name"] == "agent" and "reserved:host" in source["labels"] and source["identity"] == 1


def test_log_lines_of_other_labs_or_unknown_pods_are_ignored() -> None:
    assert record(event("other 2 i", "10.0.0.1", "10.0.0.2"), STATE, 0.0) is None
    assert record(event("pf 9 i", "10.0.0.1", "10.0.0.2"), STATE, 0.0) is None


def test_timestamp_has_nanoseconds_and_zulu() -> None:
    assert timestamp(0.0) == "1970-01-01T00:00:00.000000000Z"
    assert timestamp(1.9999999999) == "1970-01-01T00:00:02.000000000Z"


def test_dedup_reports_a_5_tuple_once_per_quiet_window() -> None:
    dedup = Deduplicator(window=10.0)
    key = (6, "10.0.0.1", 40000, "10.0.0.2", 80)
    assert dedup.first(key, 100.0)
    assert not dedup.first(key, 100.5)  # the retry
    assert not dedup.first(key, 109.0)  # still within 10 s of the last sighting
    assert dedup.first((6, "10.0.0.1", 40001, "10.0.0.2", 80), 109.0)  # another source port: another connection
    assert dedup.first(key, 125.0)  # quiet for more than the window: a new denial


TIERED = STATE.evolve(deciders={"shop/cache": [
    [{"name": "guard", "namespace": "", "kind": "ClusterNetworkPolicy", "tier": "Admin", "priority": 10,
      "rule": 1, "rule_name": "no-web", "action": "Deny"}],
    [{"name": "default-deny", "namespace": "shop", "kind": "StagedKubernetesNetworkPolicy",
      "tier": "NetworkPolicy"}],
]})


def test_a_drop_by_a_cluster_wide_rule_names_that_policy_its_tier_and_rule() -> None:
    rec = record(event("pf 2 i t0", "10.0.0.1", "10.0.0.2"), TIERED, 0.0)
    assert rec is not None
    flow = rec["flow"]
    assert flow["verdict"] == "DROPPED"  # type: ignore[index]
    assert flow["ingress_denied_by"] == [  # type: ignore[index]
        {"name": "guard", "namespace": "", "kind": "ClusterNetworkPolicy", "tier": "Admin", "priority": 10,
         "rule": 1, "rule_name": "no-web", "action": "Deny"}]
    # The NetworkPolicy drop of the same pod still names its isolating policies.
    plain = record(event("pf 2 i", "10.0.0.1", "10.0.0.2"), TIERED, 0.0)
    assert plain is not None and plain["flow"]["ingress_denied_by"][0]["name"] == "deny-all"  # type: ignore[index]


def test_a_staged_denial_is_an_audit_naming_the_staged_policy() -> None:
    rec = record(event("pf 2 i a1", "10.0.0.1", "10.0.0.2"), TIERED, 0.0)
    assert rec is not None
    flow = rec["flow"]
    assert flow["verdict"] == "AUDIT" and flow["traffic_direction"] == "INGRESS"  # type: ignore[index]
    assert flow["ingress_denied_by"] == [  # type: ignore[index]
        {"name": "default-deny", "namespace": "shop", "kind": "StagedKubernetesNetworkPolicy", "tier": "NetworkPolicy"}]


def test_a_tag_the_state_does_not_know_is_no_record() -> None:
    assert record(event("pf 2 i t7", "10.0.0.1", "10.0.0.2"), TIERED, 0.0) is None
    assert record(event("pf 1 e t0", "10.0.0.1", "10.0.0.2"), TIERED, 0.0) is None
