"""``rollout apply --lab``: a plan run in the real lab (netns + nftables), stopped, killed and resumed."""

from __future__ import annotations

import json
import re
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from cli_support import PODFENCE, ROOT, podfence
from podfence.lab import control, linux
from podfence.loader import load
from podfence.model import Settings
from test_lab_support import lab_name

pytestmark = pytest.mark.lab
LAB = lab_name("pfr")
BAA = "examples/baa"


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    state = str(tmp_path / "labs")
    monkeypatch.setenv("PODFENCE_LAB_STATE_DIR", state)
    loaded = load([str(ROOT / BAA)], settings=Settings())
    assert loaded.ok
    control.up(loaded.cluster, Settings(), name=LAB, manifests=(BAA,))
    control.apply(loaded.cluster, Settings(), name=LAB)
    plan = tmp_path / "plan.json"
    done = podfence("rollout", "plan", "-f", BAA, "--to", "examples/baa-next", "--write", str(plan))
    assert done.returncode == 0, done.stderr
    yield {"env": {"PODFENCE_LAB_STATE_DIR": state}, "plan": plan, "log": tmp_path / "rollout.log"}
    if linux.missing_requirement() is None:
        control.down(LAB)


def apply(lab, *args: str):
    return podfence("rollout", "apply", str(lab["plan"]), "--lab", LAB, "--log", str(lab["log"]), "--window", "0",
                    *args, env=lab["env"])


def reaches(lab, src: str, dst: str, port: int) -> bool:
    done = podfence("lab", "probe", "--name", LAB, "--from", src, "--to", dst, "--port", str(port), "-o", "json",
                    env=lab["env"])
    assert done.returncode == 0, done.stderr
    return dst in json.loads(done.stdout)["allowed"][src]


def events(lab) -> list[tuple[int, str]]:
    return [(e["stage"], e["step"]) for e in map(json.loads, lab["log"].read_text().splitlines())]


def test_the_lab_stops_where_probe_traffic_would_be_blocked_then_enforces_above_the_threshold(lab):
    assert reaches(lab, "billing/billing-report", "data/postgres", 5432)
    done = apply(lab)
    assert done.returncode == 1, done.stderr
    assert "STOPPED at stage 3 of 3" in done.stdout
    assert "billing/billing-report -> data/postgres TCP 5432 (1 flow): billing/billing-to-postgres" in done.stdout
    assert reaches(lab, "billing/billing-report", "data/postgres", 5432)  # staged only: still passes
    done = apply(lab, "--threshold", "1")
    assert done.returncode == 0, done.stderr
    assert "stage 1: already enforced" in done.stdout and "rollout done: 3 of 3" in done.stdout
    assert not reaches(lab, "billing/billing-report", "data/postgres", 5432)  # enforced: real packets dropped
    assert reaches(lab, "billing/invoicer", "data/postgres", 5432)


def test_a_staged_stage_is_in_the_dataplane_and_observed_by_its_audit_records(lab):
    """While ``lab denials`` holds the drop log, the rollout still reads the lab's audit records: the
    stream sees the AUDIT record of the connection the staged policy would deny, which only the
    dataplane's audit rules for the staged stage can produce."""
    records = lab["log"].parent / "denials.jsonl"
    with records.open("w") as sink:  # a file, not a pipe: thousands of drops would fill a pipe and stall it
        stream = subprocess.Popen([str(PODFENCE), "lab", "denials", "--name", LAB, "--window", "0"], stdout=sink,
                                  stderr=subprocess.PIPE, text=True, cwd=ROOT,
                                  env={**os.environ, **lab["env"], "PODFENCE_DEBUG": ""})
        try:
            assert "listening for denied connections" in stream.stderr.readline()  # subscribed
            done = apply(lab)
            deadline = time.monotonic() + 60  # a loaded machine hands the stream its records late
            while '"AUDIT"' not in records.read_text() and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            stream.send_signal(signal.SIGTERM)
            _, err = stream.communicate(timeout=60)
    out = records.read_text()
    assert done.returncode == 1, done.stderr
    assert "billing/billing-report -> data/postgres TCP 5432 (1 flow): billing/billing-to-postgres" in done.stdout
    audits = [json.loads(line)["flow"] for line in out.splitlines() if '"AUDIT"' in line]
    assert any(f["source"].get("pod_name") == "billing-report" and f["destination"].get("pod_name") == "postgres"
               and {"namespace": "billing", "name": "billing-to-postgres"}.items()
               <= next(iter(f[f"{f['traffic_direction'].lower()}_denied_by"])).items() for f in audits), err


def test_kill_9_in_the_middle_of_a_lab_rollout_then_resume(lab):
    args = [str(PODFENCE), "rollout", "apply", str(lab["plan"]), "--lab", LAB, "--log", str(lab["log"]),
            "--threshold", "1", "--window", "600"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                               env={**os.environ, **lab["env"], "PODFENCE_DEBUG": ""})
    try:
        deadline = time.monotonic() + 120  # a bound on the wait, not a measurement
        while time.monotonic() < deadline and (1, "staged") not in (events(lab) if lab["log"].exists() else []):
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert events(lab) == [(1, "staging"), (1, "staged")]
    done = apply(lab, "--threshold", "1")
    assert done.returncode == 0, done.stderr
    steps = events(lab)
    for stage in (1, 2, 3):
        assert steps.count((stage, "staged")) == 1 and steps.count((stage, "enforced")) == 1, steps
    assert not reaches(lab, "billing/billing-report", "data/postgres", 5432)


def readme_rollout_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    story = text.split("**Progressive rollout, end to end.**", 1)[1]
    block = re.findall(r"```sh\n(.*?)```", story, re.S)[0]
    return [line.split("   #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_rollout_story_runs_as_written(tmp_path: Path) -> None:
    lab = lab_name("pfs")
    env = {**os.environ, "PODFENCE_LAB_STATE_DIR": str(tmp_path / "labs"), "PODFENCE_DEBUG": ""}
    monitor = None
    codes = []
    try:
        for command in readme_rollout_commands():
            # one lab per test run (runs on one machine may overlap), the files in a scratch folder
            command = command.replace("--name demo", f"--name {lab}").replace("--lab demo", f"--lab {lab}")
            command = command.replace("plan.json", str(tmp_path / "plan.json")).replace(
                "plan.md", str(tmp_path / "plan.md")).replace("demo.log", str(tmp_path / "demo.log"))
            command = command.removeprefix("sudo ")  # the tests run as root
            if command.endswith("&"):
                monitor = subprocess.Popen(["bash", "-c", "exec " + command.rstrip("& ").replace(
                    "127.0.0.1:9807", "127.0.0.1:0")], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL)
                continue
            done = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True,
                                  timeout=600)
            assert "Traceback" not in done.stderr, command
            codes.append(done.returncode)
    finally:
        if monitor is not None:
            monitor.send_signal(signal.SIGTERM)
            monitor.wait()
        subprocess.run([str(PODFENCE), "lab", "down", "--name", lab], env=env, capture_output=True)
    # plan (1: billing would block), up, apply, rollout (1: stopped), rollout (0: done), down
    assert codes == [1, 0, 0, 1, 0, 0]
    assert (tmp_path / "plan.md").read_text().startswith("## podfence rollout plan")
