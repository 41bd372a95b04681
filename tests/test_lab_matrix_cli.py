"""podfence lab matrix through the console script: its --compare output, and the settings it evaluates with.

The compare report is pinned by golden files (tests/fixtures/lab/golden/compare-*);
rewrite them with ``pytest --update-goldens`` and review the diff. Tests marked
``lab`` need root and nftables (see tests/conftest.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_support import golden_checker, podfence
from test_lab_support import lab_name

FIXTURES = Path(__file__).parent / "fixtures" / "lab"
LAB = lab_name("pfm")
check_golden = golden_checker(FIXTURES / "golden")


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODFENCE_LAB_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.mark.lab
@pytest.mark.parametrize("output", ["text", "json"])
def test_compare_report_when_packets_and_engine_agree(output: str, update_goldens: bool) -> None:
    done = podfence("lab", "matrix", "-f", str(FIXTURES / "denials.yaml"), "--port", "80", "--compare",
                    "-o", output, "--name", LAB)
    assert done.returncode == 0, done.stderr
    check_golden(f"compare-agree.{output}", done.stdout, update_goldens)


SELF_DENIED = "settings:\n  allow_self_traffic: false\n"  # web, isolated for ingress, no longer reaches itself


def _two_pods(folder: Path) -> Path:
    """A client and a web pod; one policy denies all ingress to web."""
    path = folder / "pods.yaml"
    path.write_text("""\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec: {containers: [{name: c, image: web, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {app: client}}
spec: {containers: [{name: c, image: c}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: default}
spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress]}
""")
    return path


@pytest.mark.lab
@pytest.mark.parametrize("how", ["found", "--config"])
def test_lab_matrix_reads_the_settings_of_the_config_like_matrix(how: str, tmp_path: Path) -> None:
    manifests = str(_two_pods(tmp_path))
    work = tmp_path / "work"
    work.mkdir()
    config: tuple[str, ...] = ()
    if how == "found":  # the nearest .podfence.yaml upward from the working directory
        (tmp_path / ".podfence.yaml").write_text(SELF_DENIED)
    else:
        (tmp_path / "settings.yaml").write_text(SELF_DENIED)
        config = ("--config", str(tmp_path / "settings.yaml"))
    args = ("-f", manifests, "--port", "80", "-o", "json", *config)
    default = podfence("matrix", "-f", manifests, "--port", "80", "-o", "json")
    engine = podfence("matrix", *args, cwd=work)
    assert default.returncode == engine.returncode == 0, engine.stderr
    assert "default/web" in json.loads(default.stdout)["allowed"]["default/web"]
    assert "default/web" not in json.loads(engine.stdout)["allowed"]["default/web"]  # the config counts
    lab = podfence("lab", "matrix", *args, "--name", LAB, cwd=work)
    assert lab.returncode == 0, lab.stderr
    assert lab.stdout == engine.stdout
    compared = podfence("lab", "matrix", *args, "--compare", "--name", LAB, cwd=work)
    assert compared.returncode == 0 and json.loads(compared.stdout)["agree"] is True


@pytest.mark.lab
def test_lab_up_and_apply_read_the_settings_of_the_config_like_matrix(tmp_path: Path) -> None:
    manifests = str(_two_pods(tmp_path))
    (tmp_path / ".podfence.yaml").write_text(SELF_DENIED)
    name = ("--name", LAB)
    try:
        up = podfence("lab", "up", "-f", manifests, *name, cwd=tmp_path)
        assert up.returncode == 0, up.stderr
        applied = podfence("lab", "apply", *name, cwd=tmp_path)
        assert applied.returncode == 0, applied.stderr
        probed = podfence("lab", "probe", "--port", "80", "-o", "json", *name, cwd=tmp_path)
        engine = podfence("matrix", "-f", manifests, "--port", "80", "-o", "json", cwd=tmp_path)
        assert probed.returncode == engine.returncode == 0, probed.stderr
        assert "default/web" not in json.loads(engine.stdout)["allowed"]["default/web"]
        assert probed.stdout == engine.stdout
    finally:
        podfence("lab", "down", *name)


@pytest.mark.lab
@pytest.mark.parametrize("command", [("up",), ("apply",), ("matrix", "--port", "80")])
def test_a_bad_config_stops_lab_commands_like_matrix(command: tuple[str, ...], tmp_path: Path) -> None:
    (tmp_path / ".podfence.yaml").write_text("settings:\n  allow_self_traffic: maybe\n")
    manifests = str(_two_pods(tmp_path))
    engine = podfence("matrix", "-f", manifests, "--port", "80", cwd=tmp_path)
    lab = podfence("lab", *command, "-f", manifests, "--name", LAB, cwd=tmp_path)
    assert engine.returncode == lab.returncode == 2
    assert lab.stdout == "" and lab.stderr == engine.stderr and lab.stderr.count("\n") == 1
