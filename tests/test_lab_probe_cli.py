"""podfence lab probe through the console script: the probed pairs only, declared ports, the outcome legend.

Tests marked ``lab`` need root and nftables (see tests/conftest.py). The cluster is
tests/fixtures/lab/denials.yaml: front/web, back/api, back/db, ext/tool; web and
api declare TCP 80, api and db also UDP 80, tool declares nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from cli_support import podfence
from test_lab_support import lab_name

FIXTURES = Path(__file__).parent / "fixtures" / "lab"
LAB = lab_name("pfp")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    env = {"PODFENCE_LAB_STATE_DIR": str(tmp_path_factory.mktemp("state"))}
    up = podfence("lab", "up", "-f", str(FIXTURES / "denials.yaml"), "--name", LAB, env=env)
    try:
        assert up.returncode == 0, up.stderr
        applied = podfence("lab", "apply", "--name", LAB, env=env)
        assert applied.returncode == 0, applied.stderr
        yield env
    finally:
        down = podfence("lab", "down", "--name", LAB, env=env)
        assert "network namespaces removed" in down.stderr


@pytest.mark.lab
def test_probe_from_and_to_shows_and_counts_only_the_probed_pairs(lab: dict[str, str]) -> None:
    r = podfence("lab", "probe", "--port", "80", "--from", "front/web", "--from", "ext/tool", "--to", "back/db",
                 "--name", LAB, env=lab)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "  1 back/db" in lines
    rows = [line for line in lines if line.startswith(("front/web", "ext/tool"))]
    assert [row.split()[-1] for row in rows] == ["·", "·"]  # TCP/80 to db is dropped for both
    assert "back/api" not in r.stdout
    assert lines[-1] == "2 sources x 1 destination: 0 of 2 pairs allowed"
    assert "2 probes in" in r.stderr and "2 dropped" in r.stderr
    assert "dropped: no answer, twice: a policy dropped it" in r.stderr


@pytest.mark.lab
def test_probe_json_lists_the_chosen_sources_only(lab: dict[str, str]) -> None:
    r = podfence("lab", "probe", "--port", "80", "--from", "back/api", "--to", "back/db", "--to", "ext/tool",
                 "-o", "json", "--name", LAB, env=lab)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["pods"] == ["back/api"]
    assert doc["allowed"] == {"back/api": ["back/db", "ext/tool"]}


@pytest.mark.lab
def test_probe_without_a_port_probes_each_destination_on_its_declared_ports(lab: dict[str, str]) -> None:
    r = podfence("lab", "probe", "-o", "json", "--name", LAB, env=lab)
    assert r.returncode == 0, r.stderr
    tcp, udp = json.loads(r.stdout)
    assert (tcp["protocol"], tcp["port"], udp["protocol"], udp["port"]) == ("TCP", 80, "UDP", 80)
    every = ["back/api", "back/db", "ext/tool", "front/web"]
    assert tcp["pods"] == every and udp["pods"] == every
    assert {d for row in tcp["allowed"].values() for d in row} <= {"back/api", "back/db", "front/web"}
    assert {d for row in udp["allowed"].values() for d in row} == {"back/api", "back/db"}
    assert "back/db" in udp["allowed"]["ext/tool"] and "back/db" not in tcp["allowed"]["ext/tool"]
    assert "12 probes" not in r.stderr and "probes in" in r.stderr


@pytest.mark.lab
def test_probe_without_a_port_on_a_protocol_nobody_declares_is_exit_2(lab: dict[str, str]) -> None:
    r = podfence("lab", "probe", "--protocol", "SCTP", "--name", LAB, env=lab)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
