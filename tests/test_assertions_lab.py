"""podfence test --lab: which probes stand for an expectation, and packets held against the engine.

The sampling and the comparison are pure and tested here with made-up probe
outcomes; the last test brings a real lab up (root and nftables; marked ``lab``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from podfence.assertions import Checker, Expect, parse_spec
from podfence.assertions.probes import compare, plan, sample
from podfence.engine import Engine
from podfence.loader import load
from podfence.sets import ConnSet, Protocol

HERE = Path(__file__).parent
CLUSTER = HERE / "fixtures" / "assertions" / "cluster.yaml"
PODFENCE = Path(sys.executable).parent / "podfence"
TCP, UDP = Protocol.TCP, Protocol.UDP


def test_sample_takes_range_ends_and_for_exactly_the_ports_beside_them() -> None:
    assert sample(ConnSet.ports(TCP, 5432), Expect.DENY) == ((TCP, 5432),)
    assert sample(ConnSet.ports(TCP, 8000, 8100), Expect.ALLOW) == ((TCP, 8000), (TCP, 8100))
    # exactly: traffic must stop just outside the range, and UDP must be closed.
    assert sample(ConnSet.ports(TCP, 443), Expect.EXACTLY) == ((TCP, 442), (TCP, 443), (TCP, 444), (UDP, 443))
    assert sample(ConnSet.ports(UDP, 53), Expect.DENY) == ((UDP, 53),)
    everything = sample(ConnSet.all(), Expect.DENY)
    assert {p for p, _ in everything} == {TCP, UDP} and (TCP, 65535) in everything and (UDP, 53) in everything
    many = ConnSet.ports(TCP, 1, 1) | ConnSet.ports(TCP, 3, 3) | ConnSet.ports(TCP, 5, 5) | ConnSet.ports(TCP, 7, 9)
    assert len(sample(many, Expect.DENY)) == 5  # 1, 3, 5, 7, 9
    assert [port for proto, port in sample(many, Expect.EXACTLY) if proto is TCP] == [1, 2, 3, 4, 5, 6]  # capped


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(Engine(load([str(CLUSTER)]).cluster).connectivity())


def test_plan_probes_pod_pairs_only(checker: Checker) -> None:
    spec, problems = parse_spec({"tests": [
        {"name": "a", "from": {"namespace": "api"}, "to": ["billing/ledger-db", "10.9.0.0/16"], "port": 5432,
         "expect": "allow"},
        {"name": "b", "from": "notify/mailer", "to": "0.0.0.0/0", "port": 443, "expect": "deny"},
        {"name": "c", "from": {"namespace": "billing"}, "to": {"namespace": "billing"}, "expect": "deny"},
    ]})
    assert problems == []
    a, b, c = plan(spec, checker)
    assert a.pairs == (("api/server", "billing/ledger-db"), ("api/worker", "billing/ledger-db"))
    assert a.notes == ("outside addresses are not in the lab: only its pod pairs were probed",)
    assert b.pairs == () and b.notes == ("outside addresses are not in the lab: not probed",)
    assert c.pairs == ()  # billing/ledger-db reaching itself is self traffic: not judged, not probed


def test_plan_probes_a_service_at_the_target_ports_of_its_backends(checker: Checker) -> None:
    spec, problems = parse_spec({"tests": [{"name": "svc", "from": "gateway/envoy", "to": "svc/api/server",
                                            "expect": "allow"}]})
    assert problems == []
    pods, through = plan(spec, checker)
    assert pods.pairs == ()  # the Service is not a pod: its backends are probed in a plan of their own
    # Service port 80 lands on the pod's port named http (8080); 9090 on 9090
    assert through.targets == ("api/server",) and through.pairs == (("gateway/envoy", "api/server"),)
    assert through.cells == ((TCP, 8080), (TCP, 9090))


def test_compare_reports_each_cell_where_packets_and_engine_differ(checker: Checker) -> None:
    spec, _ = parse_spec({"tests": [{"name": "db", "from": {"namespace": "api"}, "to": "billing/ledger-db",
                                     "ports": [5432, 5433], "expect": "allow"}]})
    (p,) = plan(spec, checker)
    reached = {("api/server", "billing/ledger-db", TCP, 5432): True,  # agrees: allowed
               ("api/server", "billing/ledger-db", TCP, 5433): True,  # engine denies 5433
               ("api/worker", "billing/ledger-db", TCP, 5432): False}  # engine allows 5432
    found = compare(p, reached, checker.rows)
    assert [(d.src, d.port, d.packets, d.engine) for d in found] == [
        ("api/server", 5433, True, False), ("api/worker", 5432, False, True)]
    assert all(d.expectation == "db" and d.dst == "billing/ledger-db" for d in found)


@pytest.mark.lab
def test_lab_agrees_with_the_engine_on_every_probe() -> None:
    specs = [str(HERE / "fixtures" / "assertions" / n) for n in ("platform.yaml", "passing.yaml")]
    done = subprocess.run([str(PODFENCE), "test", "-f", str(CLUSTER), *specs, "--lab", "--lab-name", "pftestlab",
                           "-o", "json"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr  # two expectations of platform.yaml fail, as without --lab
    lab = json.loads(done.stdout)["lab"]
    assert lab["agree"] and lab["disagreements"] == [] and lab["probes"] > 50, lab
    leftover = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert "pftestlab" not in leftover
