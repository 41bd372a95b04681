"""Probe outcomes on real sockets: connected, refused, dropped (retried), blocked.

Needs root and nftables (marker ``lab``), except the SCTP check.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from podfence.lab import control, linux
from podfence.lab.probe import Outcome, check_protocols, probes_for
from podfence.lab.plan import LabPod
from podfence.model import Cluster, ContainerPort, Labels, NetworkPolicy, Pod, Settings
from podfence.sets import Protocol, parse_ip
from test_lab_support import lab_name

LAB = lab_name("pfp")
S = Settings()


def cluster(policies: list[dict]) -> Cluster:  # type: ignore[type-arg]
    return Cluster.of(
        pods=[
            Pod("a", "client", Labels(app="client")),
            Pod("a", "server", Labels(app="server"), ports=(ContainerPort(80), ContainerPort(80, Protocol.UDP))),
            Pod("a", "closed", Labels(app="closed")),  # listens on nothing
            Pod("a", "mute", Labels(app="mute")),
            Pod("a", "six", Labels(app="six"), ports=(ContainerPort(80),),
                ips=(parse_ip("10.9.0.99"), parse_ip("fd00::99"))),  # type: ignore[arg-type]
        ],
        policies=[NetworkPolicy.from_dict(p) for p in policies],
    )


DENY_MUTE_INGRESS = {"metadata": {"name": "mute", "namespace": "a"},
                     "spec": {"podSelector": {"matchLabels": {"app": "mute"}}}}
CLIENT_EGRESS_SERVER_ONLY = {
    "metadata": {"name": "client-out", "namespace": "a"},
    "spec": {"podSelector": {"matchLabels": {"app": "client"}}, "policyTypes": ["Egress"],
             "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "server"}}}]}]},
}


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PODFENCE_LAB_STATE_DIR", str(tmp_path))
    c = cluster([DENY_MUTE_INGRESS, CLIENT_EGRESS_SERVER_ONLY])
    control.up(c, S, name=LAB, pod_cidr="10.9.0.0/24")
    control.apply(c, S, name=LAB)
    yield c
    if linux.missing_requirement() is None:
        control.down(LAB)


def outcomes(run: control.ProbeRun) -> dict[tuple[str, str, str, int], Outcome]:
    return {(r.probe.src.key, r.probe.dst.key, str(r.probe.protocol), r.probe.version): r.outcome
            for r in run.results}


@pytest.mark.lab
def test_outcomes(lab) -> None:  # type: ignore[no-untyped-def]
    run = control.probe([(Protocol.TCP, 80), (Protocol.UDP, 80)], name=LAB,
                        sources=("a/server", "a/client"), targets=("a/server", "a/closed", "a/mute"))
    got = outcomes(run)
    # a listener answers; no listener still answers (RST / ICMP port unreachable): both reached
    assert got[("a/server", "a/server", "TCP", 4)] is Outcome.CONNECTED
    assert got[("a/client", "a/server", "UDP", 4)] is Outcome.CONNECTED
    assert got[("a/server", "a/closed", "TCP", 4)] is Outcome.REFUSED
    assert got[("a/server", "a/closed", "UDP", 4)] is Outcome.REFUSED
    # dropped by the destination's ingress: silence, retried once
    assert got[("a/server", "a/mute", "TCP", 4)] is Outcome.DROPPED
    assert got[("a/server", "a/mute", "UDP", 4)] is Outcome.DROPPED
    assert all(r.attempts == 2 for r in run.results if r.outcome is Outcome.DROPPED)
    # dropped by the source's own egress rules: a UDP send fails at once
    assert got[("a/client", "a/closed", "UDP", 4)] is Outcome.BLOCKED
    assert got[("a/client", "a/closed", "TCP", 4)] in (Outcome.DROPPED, Outcome.BLOCKED)
    assert {o.reached for o in (Outcome.CONNECTED, Outcome.REFUSED)} == {True}
    assert not any(o.reached for o in (Outcome.DROPPED, Outcome.BLOCKED, Outcome.ERROR))
    m = run.matrices[(Protocol.TCP, 80)]
    assert m.allowed["a/server"] == ("a/closed", "a/server")
    assert m.allowed["a/client"] == ("a/server",)


@pytest.mark.lab
def test_ipv6_is_probed_where_both_pods_have_it(lab) -> None:  # type: ignore[no-untyped-def]
    run = control.probe([(Protocol.TCP, 80)], name=LAB, sources=("a/six",), targets=("a/six", "a/server"))
    got = outcomes(run)
    assert got[("a/six", "a/six", "TCP", 6)] is Outcome.CONNECTED
    assert got[("a/six", "a/six", "TCP", 4)] is Outcome.CONNECTED
    assert ("a/six", "a/server", "TCP", 6) not in got  # a/server has no IPv6
    assert got[("a/six", "a/server", "TCP", 4)] is Outcome.CONNECTED


def test_probes_pair_families_both_ends_have() -> None:
    v4 = LabPod(1, "a/v4", "Pod", (), ("10.0.0.1",))
    dual = LabPod(2, "a/dual", "Pod", (), ("10.0.0.2", "fd00::2"))
    probes = probes_for([v4, dual], [v4, dual], [(Protocol.TCP, 80)])
    assert sorted((p.src.key, p.dst.key, p.version) for p in probes) == [
        ("a/dual", "a/dual", 4), ("a/dual", "a/dual", 6), ("a/dual", "a/v4", 4),
        ("a/v4", "a/dual", 4), ("a/v4", "a/v4", 4)]


def test_sctp_is_reported_as_unsupported_clearly() -> None:
    message = check_protocols([Protocol.TCP, Protocol.SCTP])
    assert message is not None and "SCTP" in message
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP).close()
        kernel_has_sctp = True
    except OSError:
        kernel_has_sctp = False
    assert ("not supported by this kernel" in message) == (not kernel_has_sctp)
    assert check_protocols([Protocol.TCP, Protocol.UDP]) is None
