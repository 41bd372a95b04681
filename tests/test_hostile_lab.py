"""podfence lab under hostile input and under load, through the console script.

Each test reproduces one way the lab used to go wrong: names from manifests
reaching nftables as text, two commands racing on one lab, a host neighbour
table too small for the lab, pod addresses the lab cannot host, and two default
lab names. Tests marked ``lab`` need root and nftables (see tests/conftest.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_support import podfence
from test_lab_support import lab_name

LAB = lab_name("pfh")


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODFENCE_LAB_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def _manifests(web_name: str) -> str:
    """A client and a web pod; one policy denies all ingress to web (so client -> web is denied)."""
    return f"""\
apiVersion: v1
kind: Pod
metadata:
  name: {json.dumps(web_name)}
  namespace: default
  labels: {{app: web}}
spec: {{containers: [{{name: c, image: web, ports: [{{containerPort: 80}}]}}]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: client, namespace: default, labels: {{app: client}}}}
spec: {{containers: [{{name: c, image: c}}]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: deny, namespace: default}}
spec:
  podSelector: {{matchLabels: {{app: web}}}}
  policyTypes: [Ingress]
"""


# ---- names reach nftables only as percent-encoded comments ----------------------------

@pytest.mark.lab
def test_a_pod_name_holding_nft_commands_cannot_turn_a_denied_connection_into_an_allowed_one(
        tmp_path: Path) -> None:
    # The name ends the comment line the rules start with and declares the lab's own
    # ingress chain with an 'accept' first: every packet would pass.
    web = f"web\ntable inet {LAB} {{\nchain ingress {{\ntype filter hook input priority filter; policy accept;\naccept\n}}\n}}\n#"
    path = tmp_path / "evil.yaml"
    path.write_text(_manifests(web))
    engine = podfence("matrix", "-f", str(path), "--port", "80", "-o", "json")
    lab = podfence("lab", "matrix", "-f", str(path), "--port", "80", "-o", "json", "--name", LAB)
    if engine.returncode == 2:  # the name is refused when manifests load: the lab refuses it the same way
        assert lab.returncode == 2 and lab.stdout == "" and lab.stderr == engine.stderr
        return
    assert engine.returncode == 0
    assert "default/" + web not in json.loads(engine.stdout)["allowed"]["default/client"]
    assert lab.returncode == 0, lab.stderr
    assert lab.stdout == engine.stdout  # client -> web stays denied


@pytest.mark.lab
def test_a_pod_name_holding_an_nft_include_is_harmless(tmp_path: Path) -> None:
    web = 'web\ninclude "/dev/zero"\n#'
    path = tmp_path / "include.yaml"
    path.write_text(_manifests(web))
    loaded = podfence("check", "-f", str(path))
    up = podfence("lab", "up", "-f", str(path), "--name", LAB)
    try:
        if loaded.returncode == 2:  # refused when manifests load, before anything is made
            assert up.returncode == 2 and up.stderr == loaded.stderr
            return
        assert up.returncode == 0, up.stderr
        applied = podfence("lab", "apply", "--name", LAB)  # used to read /dev/zero for ever
        assert applied.returncode == 0, applied.stderr
        assert "1 of 2 pods isolated" in applied.stderr
        probed = podfence("lab", "probe", "--port", "80", "-o", "json", "--name", LAB)
        assert probed.returncode == 0, probed.stderr
        assert json.loads(probed.stdout)["allowed"]["default/client"] == ["default/client"]
        shown = podfence("lab", "show", "default/" + web, "--name", LAB)
        assert shown.returncode == 0
        assert shown.stdout.splitlines()[0] == ("# podfence lab: default/web%0Ainclude%20%22/dev/zero%22%0A%23 "
                                                "(Pod) at " + shown.stdout.split(" at ", 1)[1].splitlines()[0])
        assert 'include "' not in shown.stdout
    finally:
        podfence("lab", "down", "--name", LAB)
