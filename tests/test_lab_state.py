"""The lab's state file: round trip, atomic replacement, unreadable means absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podfence.lab import state as lab_state
from podfence.lab.plan import LabPod


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODFENCE_LAB_STATE_DIR", str(tmp_path))
    return tmp_path


def sample() -> lab_state.LabState:
    return lab_state.LabState(
        name="pf", pod_cidr="10.9.0.0/24",
        pods=(LabPod(1, "a/web", "Deployment", (("app", "web"),), ("10.9.0.1", "fd00::1"), tcp_ports=(80,)),
              LabPod(2, "kube/agent", "Pod", (), ("192.168.0.1",), host_network=True, node_name="n1")),
        server_pid=4242, rules={"a/web": "abc"}, isolation={"a/web": {"ingress": ["a/deny"], "egress": []}},
        policies=("a/deny",), manifests=("/tmp/x.yaml",),
        deciders={"a/web": [[{"name": "guard", "namespace": "", "kind": "ClusterNetworkPolicy", "tier": "Admin",
                              "priority": 1, "rule": 0, "rule_name": "", "action": "Deny"}]]},
    )


def test_round_trip(state_dir: Path) -> None:
    lab_state.save(sample())
    assert lab_state.load("pf") == sample()
    assert (state_dir / "pf" / "state.json").is_file()
    assert [p.name for p in (state_dir / "pf").iterdir()] == ["state.json"]  # no temporary file left


def test_pod_lookup() -> None:
    current = sample()
    assert current.pod("kube/agent") is current.pods[1]
    assert current.pod_by_index(2) is current.pods[1]
    assert current.pod("nope") is None and current.pod_by_index(3) is None


def test_missing_unreadable_or_foreign_state_is_no_state(state_dir: Path) -> None:
    assert lab_state.load("pf") is None
    (state_dir / "pf").mkdir()
    (state_dir / "pf" / "state.json").write_text("{not json")
    assert lab_state.load("pf") is None
    (state_dir / "pf" / "state.json").write_text(json.dumps({"format": 99, "name": "pf"}))
    assert lab_state.load("pf") is None


def test_forget_removes_the_lab_directory(state_dir: Path) -> None:
    lab_state.save(sample())
    lab_state.forget("pf")
    assert not (state_dir / "pf").exists()
    lab_state.forget("pf")  # twice is fine


@pytest.mark.parametrize("change", [
    {"name": "../../etc"},  # the state of another lab name, or no lab name at all
    {"name": "pf2"},
    {"pods": [{"index": "1; rm", "key": "a/web", "kind": "Pod", "ips": ["10.9.0.1"]}]},
    {"pods": [{"index": 0, "key": "a/web", "kind": "Pod", "ips": ["10.9.0.1"]}]},
    {"pods": [{"index": 1, "key": "a/web", "kind": "Pod", "ips": ["10.9.0.1\nflush ruleset"]}]},
    {"pods": [{"index": 1, "key": "a/web", "kind": "Pod", "ips": ["10.9.0.01"]}]},
    {"pods": [{"index": 1, "key": "a/web", "kind": "Pod", "ips": ["10.9.0.1"], "tcp_ports": ["80 accept"]}]},
    {"deciders": {"a/web": "t0"}},
    {"deciders": {"a/web": [["guard"]]}},
])
def test_a_state_file_that_the_lab_did_not_write_is_no_state(state_dir: Path, change: dict) -> None:  # type: ignore[type-arg]
    lab_state.save(sample())
    path = state_dir / "pf" / "state.json"
    raw = json.loads(path.read_text())
    raw.update(change)
    path.write_text(json.dumps(raw))
    assert lab_state.load("pf") is None


def test_state_paths_come_from_valid_lab_names_only() -> None:
    from podfence.lab.naming import LabNames

    for bad in ("../etc", "a/b", "", "x" * 10, "pf\n"):
        with pytest.raises(ValueError):
            lab_state.lab_dir(bad)
        with pytest.raises(ValueError):
            LabNames(bad)
        assert lab_state.load(bad) is None
