"""podfence lab on the command line: one-line errors, and packets printing what the engine prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podfence.cli.main import main
from podfence.lab import control, linux
from test_lab_support import lab_name

SCENARIOS = Path(__file__).parent / "fixtures" / "scenarios"
FIXTURES = Path(__file__).parent / "fixtures" / "lab"
LAB = lab_name("pfl")


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODFENCE_LAB_STATE_DIR", str(tmp_path / "state"))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_without_root_every_command_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(linux.os, "geteuid", lambda: 1000)
    for argv in (["lab", "status"], ["lab", "down"], ["lab", "probe", "--port", "80"],
                 ["lab", "up", "-f", str(FIXTURES / "denials.yaml")]):
        code, out, err = run(capsys, *argv)
        assert code == 2, argv
        assert out == ""
        assert err == f"podfence {' '.join(argv[:2])}: error: podfence lab needs root (run with sudo)\n"


def test_without_nft_the_error_names_the_package(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(linux.os, "geteuid", lambda: 0)
    monkeypatch.setattr(linux.shutil, "which", lambda name: None)
    code, _, err = run(capsys, "lab", "status")
    assert code == 2
    assert err == "podfence lab status: error: podfence lab needs nftables: apt-get install nftables\n"


def test_a_bad_lab_name_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "lab", "status", "--name", "My_Lab")
    assert code == 2 and err.count("\n") == 1 and "lab name 'My_Lab'" in err


def test_lab_matrix_needs_a_port(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "lab", "matrix", "-f", str(FIXTURES / "denials.yaml"))
    assert code == 2 and "--port" in err


@pytest.mark.lab
def test_commands_on_a_lab_that_is_not_up(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "lab", "probe", "--port", "80", "--name", LAB)
    assert code == 2 and err == f"podfence lab probe: error: no lab named '{LAB}' is up: run podfence lab up -f ...\n"
    code, out, _ = run(capsys, "lab", "status", "--name", LAB)
    assert code == 0 and out == f"lab '{LAB}' is down\n"


@pytest.mark.lab
def test_sctp_is_refused_before_anything_is_built(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "lab", "matrix", "-f", str(FIXTURES / "denials.yaml"), "--port", "80",
                         "--protocol", "SCTP", "--name", LAB)
    assert code == 2 and out == "" and "SCTP" in err and err.count("\n") == 1


CASES = {
    # a Deployment whose diagonal is judged by the policies
    "deployment": [SCENARIOS / "base-deployment.yaml", SCENARIOS / "54-workload-deny-all-ingress" / "policies.yaml"],
    # ipBlock with except, on the manifests' own pod addresses
    "ipblock": [SCENARIOS / "base-ips.yaml", SCENARIOS / "42-ipblock-except-one-pod" / "policies.yaml"],
    "denials": [FIXTURES / "denials.yaml"],
}


@pytest.mark.lab
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("protocol", ["TCP", "UDP"])
def test_lab_matrix_json_is_exactly_podfence_matrix_json(case: str, protocol: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    files = [arg for path in CASES[case] for arg in ("-f", str(path))]
    code, engine_out, _ = run(capsys, "matrix", *files, "--port", "80", "--protocol", protocol, "-o", "json")
    assert code == 0
    code, lab_out, _ = run(capsys, "lab", "matrix", *files, "--port", "80", "--protocol", protocol, "-o", "json",
                           "--name", LAB)
    assert code == 0
    assert lab_out == engine_out
    assert json.loads(lab_out)["protocol"] == protocol
    code, out, _ = run(capsys, "lab", "matrix", *files, "--port", "80", "--protocol", protocol, "--compare",
                       "--name", LAB)
    assert code == 0 and out.startswith("packets and engine agree on all ")


@pytest.mark.lab
def test_the_lifecycle_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fixture = FIXTURES / "denials.yaml"
    name = ("--name", LAB)
    try:
        code, _, err = run(capsys, "lab", "up", "-f", str(fixture), *name)
        assert code == 0 and f"lab '{LAB}' is up: 4 pods" in err and f"podfence lab apply --name {LAB}" in err
        code, out, _ = run(capsys, "lab", "status", *name, "-o", "json")
        assert json.loads(out)["isolated_pods"] == 0
        code, _, err = run(capsys, "lab", "apply", *name)  # the manifests 'lab up' read
        assert code == 0 and "2 of 4 pods isolated, 2 updated" in err
        code, _, err = run(capsys, "lab", "apply", *name)
        assert code == 0 and "0 updated" in err  # nothing changed, nothing touched

        # a changed policy set touches only the pod whose rules change (back/db)
        changed = tmp_path / "changed.yaml"
        changed.write_text(fixture.read_text().replace("ports: [{protocol: UDP}]", "ports: [{protocol: TCP}]"))
        code, _, err = run(capsys, "lab", "apply", "-f", str(changed), *name)
        assert code == 0 and "2 of 4 pods isolated, 1 updated" in err

        code, out, _ = run(capsys, "lab", "show", "back/db", *name)
        assert code == 0 and "isolated by back/db-ingress, back/db-monitoring" in out and "hook input" in out
        code, out, _ = run(capsys, "lab", "show", "tool", "-n", "ext", *name)
        assert code == 0 and "no policy isolates this pod" in out
        code, out, _ = run(capsys, "lab", "show", "back/db", "--live", *name)
        assert code == 0 and f"table inet {LAB}" in out
        code, _, err = run(capsys, "lab", "show", "back/nope", *name)
        assert code == 2 and "no pod 'back/nope'" in err

        code, out, _ = run(capsys, "lab", "probe", "--port", "80", "--protocol", "TCP", "--protocol", "UDP",
                           "-o", "json", *name)
        assert code == 0
        tcp, udp = json.loads(out)
        assert "back/db" in tcp["allowed"]["ext/tool"]  # ext may now use TCP
        assert "back/db" not in udp["allowed"]["ext/tool"]  # and no longer UDP
    finally:
        run(capsys, "lab", "down", *name)
    assert control.status(LAB).namespaces == 0


@pytest.mark.lab
def test_apply_with_policies_only_uses_the_pods_of_lab_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fixture = FIXTURES / "denials.yaml"
    docs = fixture.read_text().split("\n---\n")
    policies = tmp_path / "policies.yaml"
    policies.write_text("\n---\n".join(d for d in docs if "kind: NetworkPolicy" in d))
    pods = tmp_path / "pods.yaml"
    pods.write_text("\n---\n".join(d for d in docs if "kind: NetworkPolicy" not in d))
    name = ("--name", LAB)
    try:
        assert run(capsys, "lab", "up", "-f", str(pods), *name)[0] == 0
        code, _, err = run(capsys, "lab", "apply", *name)
        assert code == 0 and "applied 0 NetworkPolicies: 0 of 4 pods isolated" in err
        code, _, err = run(capsys, "lab", "apply", "-f", str(policies), *name)
        assert code == 0 and "applied 3 NetworkPolicies: 2 of 4 pods isolated, 2 updated" in err
        code, out, _ = run(capsys, "lab", "probe", "--port", "80", "--from", "ext/tool", "--to", "back/db",
                           "-o", "json", *name)
        assert code == 0 and json.loads(out)["allowed"]["ext/tool"] == []
        # manifests with other pods than the lab's are refused
        code, _, err = run(capsys, "lab", "apply", "-f", str(SCENARIOS / "base.yaml"), *name)
        assert code == 2 and "do not have the lab's pods" in err and err.count("\n") == 1
    finally:
        run(capsys, "lab", "down", *name)


@pytest.mark.lab
def test_lab_denials_streams_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    import os
    import subprocess
    import sys

    name = ("--name", LAB)
    try:
        assert run(capsys, "lab", "up", "-f", str(FIXTURES / "denials.yaml"), *name)[0] == 0
        assert run(capsys, "lab", "apply", *name)[0] == 0
        reader = subprocess.Popen(
            [sys.executable, "-m", "podfence.cli.main", "lab", "denials", "--count", "3", "--duration", "30", *name],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
        assert reader.stderr is not None
        assert "listening for denied connections in 4 pod network namespaces" in reader.stderr.readline()
        # TCP/80 drops three connections (see tests/fixtures/lab/denials.yaml)
        assert run(capsys, "lab", "probe", "--port", "80", *name)[0] == 0
        out, _ = reader.communicate(timeout=30)
        assert reader.returncode == 0
        lines = out.splitlines()
        assert len(lines) == 3
        flows = [json.loads(line)["flow"] for line in lines]
        assert {f["traffic_direction"] for f in flows} == {"INGRESS", "EGRESS"}
        assert all(f["verdict"] == "DROPPED" and f["l4"]["TCP"]["destination_port"] == 80 for f in flows)
    finally:
        run(capsys, "lab", "down", *name)
