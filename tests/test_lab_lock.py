"""The per-lab lock: exclusive across processes, re-entrant within one, named by valid lab names only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from podfence.lab import lock


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODFENCE_LAB_STATE_DIR", str(tmp_path))
    return tmp_path


HOLD = "import sys; from podfence.lab import lock\nwith lock.hold('pf', 0):\n    print('held', flush=True)\n    sys.stdin.read()\n"


def test_another_process_holding_the_lab_is_named_by_its_pid(state_dir: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=os.environ.copy())
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        heard: list[int | None] = []
        with pytest.raises(lock.LabBusy) as caught:
            with lock.hold("pf", 0.2, heard.append):
                pass
        assert str(caught.value) == f"lab 'pf' is in use by pid {holder.pid}"
        assert heard == [holder.pid]  # told once while waiting
    finally:
        holder.communicate("")
    with lock.hold("pf", 0):  # free again once the holder has gone
        assert (state_dir / "pf.lock").read_text() == f"{os.getpid()}\n"
    assert (state_dir / "pf.lock").read_text() == ""  # nobody holds it


def test_the_lock_is_reentrant_within_one_process() -> None:
    with lock.hold("pf", 0):
        with lock.hold("pf", 0):
            pass
        with lock.hold("pf2", 0):  # other labs are independent
            pass


def test_lock_files_are_named_by_valid_lab_names_only(state_dir: Path) -> None:
    assert lock.lock_path("pf") == state_dir / "pf.lock"
    for bad in ("../pf", "a/b", "", "PF"):
        with pytest.raises(ValueError):
            lock.lock_path(bad)


def test_a_link_in_place_of_the_lock_file_is_not_followed(state_dir: Path) -> None:
    target = state_dir / "elsewhere"
    target.write_text("keep")
    (state_dir / "pf.lock").symlink_to(target)
    with pytest.raises(lock.LockError) as caught:
        with lock.hold("pf", 0):
            pass
    assert str(caught.value) == f"cannot lock lab 'pf' with {state_dir / 'pf.lock'}: it is a symbolic link"
    assert target.read_text() == "keep"
    (state_dir / "pf.lock").unlink()
    os.mkfifo(state_dir / "pf.lock")  # opened without blocking, then refused
    with pytest.raises(lock.LockError, match="it is not a regular file"):
        with lock.hold("pf", 0):
            pass
