"""One lab session (podfence.lab.control.LabSession): preflight, the lock, and a one-shot lab's removal.

The tests bring real labs up (root and nftables; marked ``lab``, see tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from podfence.lab import control
from podfence.lab.lock import hold
from podfence.loader import load
from podfence.model import Cluster, Settings
from podfence.sets import Protocol
from test_lab_support import lab_name

FIXTURE = Path(__file__).parent / "fixtures" / "lab" / "denials.yaml"
LAB = lab_name("pfs")
TCP80 = (Protocol.TCP, 80)


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODFENCE_LAB_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    return load([str(FIXTURE)]).cluster


def test_a_session_checks_the_name_before_anything() -> None:
    with pytest.raises(control.LabError, match="lab name 'Not_A_Name'"):
        with control.LabSession("Not_A_Name"):
            pass


@pytest.mark.lab
def test_a_one_shot_session_measures_what_the_engine_computes_and_leaves_nothing(cluster: Cluster) -> None:
    settings = Settings()
    with control.LabSession(LAB, one_shot=True) as lab:
        up = lab.up(cluster, settings, extra_ports=(80,))
        assert control.status(LAB).up and up.state.one_shot
        lab.apply(cluster, settings)
        measured = lab.probe([TCP80]).matrices[TCP80]
    assert control.status(LAB).namespaces == 0  # down when the session ends
    expected = lab.connectivity(cluster, settings).matrix(*TCP80)
    assert measured.differences(expected) == ()
    cells = sum(len(row) for row in measured.allowed.values())
    assert 0 < cells < len(measured.pods) ** 2  # the policies were enforced: some pairs reach, some do not


@pytest.mark.lab
def test_a_one_shot_lab_is_removed_when_a_step_fails_and_the_lock_is_released(cluster: Cluster) -> None:
    with pytest.raises(control.LabError, match="no pod 'back/nope'"):
        with control.LabSession(LAB, one_shot=True) as lab:
            lab.up(cluster, Settings(), extra_ports=(80,))
            lab.probe([TCP80], sources=("back/nope",))
    assert control.status(LAB).namespaces == 0
    with hold(LAB, wait=0):  # nobody holds it any more
        pass


@pytest.mark.lab
def test_the_session_holds_the_lock_from_start_to_end() -> None:
    import subprocess
    import sys

    probe_lock = [sys.executable, "-c",
                  f"from podfence.lab.lock import hold, LabBusy\ntry:\n    hold({LAB!r}, wait=0).__enter__()\n"
                  "except LabBusy as e:\n    print(e)"]
    with control.LabSession(LAB):
        done = subprocess.run(probe_lock, capture_output=True, text=True, check=True)
    assert done.stdout.startswith(f"lab '{LAB}' is in use by pid ")


@pytest.mark.lab
def test_a_one_shot_session_leaves_a_lab_that_lab_up_made_standing(cluster: Cluster) -> None:
    settings = Settings()
    try:
        control.up(cluster, settings, name=LAB)
        with pytest.raises(control.LabError, match="made by 'podfence lab up'"):
            with control.LabSession(LAB, one_shot=True) as lab:
                lab.up(cluster, settings)
        assert control.status(LAB).up
    finally:
        control.down(LAB)
