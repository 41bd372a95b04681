"""``rollout apply`` on a live cluster (the test API server): stage, observe, enforce, stop, roll back, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from cli_support import PODFENCE, podfence
from kubeapi import CORE, OPTIONAL, Fleet, User
from live_support import ROOT, manifests, needs_kubectl

BAA = ROOT / "examples" / "baa"
NEXT = ROOT / "examples" / "baa-next"
FLOWS = ROOT / "examples" / "baa-staged" / "flows.jsonl"
NP = "/apis/networking.k8s.io/v1/namespaces"
STAGED = "/apis/projectcalico.org/v3/namespaces"


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("plan") / "plan.json"
    done = podfence("rollout", "plan", "-f", str(BAA), "--to", str(NEXT), "--flows", str(FLOWS),
                    "--write", str(path), "-o", "json")
    assert done.returncode == 1, done.stderr  # the billing stage would block observed flows
    assert json.loads(path.read_text()) == json.loads(done.stdout)
    return path


@pytest.fixture
def cluster(tmp_path):
    """A fresh cluster holding examples/baa, serving staged policies, and a kubeconfig for a user who may write."""
    fleet = Fleet()
    server = fleet.cluster("prod", {"admin": User("admin")}, resources=(*CORE, *OPTIONAL))
    server.seed(manifests(BAA))
    fleet.context("prod", "prod", "admin")
    config = fleet.write_kubeconfig(tmp_path / "kubeconfig", current="prod")
    yield {"server": server, "kubeconfig": str(config), "log": tmp_path / "rollout.log"}
    fleet.stop()


def apply(cluster, plan_file, *args: str):
    return podfence("rollout", "apply", str(plan_file), "--kubeconfig", cluster["kubeconfig"], "--context", "prod",
                    "--log", str(cluster["log"]), "--window", "0", *args)


def writes(server) -> list[str]:
    """The real (not dry-run) writes the server received: "VERB path"."""
    return [r.split("?")[0] for r in server.requests
            if r.split(" ")[0] in ("PATCH", "POST", "PUT", "DELETE") and "dryRun=All" not in r]


def policy(server, kind_path: str, namespace: str, name: str):
    group = ("networking.k8s.io", "v1", "networkpolicies") if kind_path == NP else (
        "projectcalico.org", "v3", "stagedkubernetesnetworkpolicies")
    return server.store.get(server.resource(*group), namespace, name)


def test_a_full_apply_enforces_every_stage_after_a_dry_run(cluster, plan_file):
    done = apply(cluster, plan_file, "--threshold", "2")
    assert done.returncode == 0, done.stderr
    assert "rollout done: 3 of 3 stages enforced" in done.stdout
    server = cluster["server"]
    narrowed = policy(server, NP, "billing", "billing-to-postgres")
    assert narrowed["spec"]["podSelector"]["matchExpressions"][0]["values"] == ["billing-api", "invoicer"]
    assert policy(server, NP, "auth", "session-cache-ingress") is None
    assert policy(server, NP, "auth", "session-cache-from-auth-server") is not None
    assert [p for p in server.store.list(server.resource("projectcalico.org", "v3",
                                                         "stagedkubernetesnetworkpolicies"), None)[0]] == []
    # every write was preceded by the same write as a server-side dry run
    dry = [r.split("?")[0] for r in server.requests if "dryRun=All" in r]
    assert dry == writes(server)
    assert f"PATCH {NP}/billing/networkpolicies/billing-to-postgres" in writes(server)
    events = [json.loads(line) for line in cluster["log"].read_text().splitlines()]
    assert [(e["stage"], e["step"]) for e in events if e["step"] in ("staged", "enforced")] == [
        (1, "staged"), (1, "enforced"), (2, "staged"), (2, "enforced"), (3, "staged"), (3, "enforced")]


def test_a_stage_over_the_threshold_stops_with_its_policies_staged(cluster, plan_file):
    done = apply(cluster, plan_file)
    assert done.returncode == 1, done.stderr
    assert "STOPPED at stage 3 of 3" in done.stdout
    assert "billing/billing-report -> data/postgres TCP 5432 (2 flows): billing/billing-to-postgres" in done.stdout
    server = cluster["server"]
    staged = policy(server, STAGED, "billing", "billing-to-postgres")
    assert staged is not None and staged["spec"]["stagedAction"] == "Set"
    widened = policy(server, NP, "billing", "billing-to-postgres")  # still the enforced, current one
    assert "billing-report" in widened["spec"]["podSelector"]["matchExpressions"][0]["values"]
    assert policy(server, NP, "notify", "mailer-smtp-egress")["spec"]["egress"][0]["ports"] == [
        {"protocol": "TCP", "port": 587}]


def test_auto_rollback_removes_the_stopped_stage(cluster, plan_file):
    done = apply(cluster, plan_file, "--auto-rollback")
    assert done.returncode == 1, done.stderr
    assert "stage 3: rolled back" in done.stdout
    server = cluster["server"]
    assert policy(server, STAGED, "billing", "billing-to-postgres") is None
    assert f"DELETE {STAGED}/billing/stagedkubernetesnetworkpolicies/billing-to-postgres" in writes(server)


def test_a_rerun_after_a_stop_does_not_apply_enforced_stages_again(cluster, plan_file):
    assert apply(cluster, plan_file).returncode == 1
    before = len(writes(cluster["server"]))
    done = apply(cluster, plan_file, "--threshold", "2")
    assert done.returncode == 0, done.stderr
    assert "stage 1: already enforced" in done.stdout and "stage 2: already enforced" in done.stdout
    again = writes(cluster["server"])[before:]
    assert all("/billing/" in w for w in again), again  # only the stopped stage is finished


def test_kill_9_in_the_middle_then_resume_applies_no_stage_twice(cluster, plan_file):
    args = [str(PODFENCE), "rollout", "apply", str(plan_file), "--kubeconfig", cluster["kubeconfig"],
            "--context", "prod", "--log", str(cluster["log"]), "--threshold", "2", "--window", "600"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                               env={**os.environ, "PODFENCE_DEBUG": ""})
    try:
        deadline = time.monotonic() + 120  # a bound on the wait, not a measurement
        while time.monotonic() < deadline:
            text = cluster["log"].read_text() if cluster["log"].exists() else ""
            if any(json.loads(line)["step"] == "staged" for line in text.splitlines()):
                break
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
        else:
            pytest.fail("the rollout never staged its first stage")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    server = cluster["server"]
    assert writes(server) == [f"PATCH {STAGED}/auth/stagedkubernetesnetworkpolicies/session-cache-from-auth-server",
                              f"PATCH {STAGED}/auth/stagedkubernetesnetworkpolicies/session-cache-ingress"]
    done = apply(cluster, plan_file, "--threshold", "2")
    assert done.returncode == 0, done.stderr
    assert "stage 1: already staged" in done.stderr
    counted: dict[str, int] = {}
    for w in writes(server):
        counted[w] = counted.get(w, 0) + 1
    assert counted and set(counted.values()) == {1}, counted
    assert sum(1 for w in counted if w.startswith("PATCH")) == 4 + 3  # 4 staged, 3 enforced


def test_bad_plan_files_are_one_line_errors(tmp_path, cluster):
    bad = tmp_path / "plan.json"
    bad.write_text(json.dumps({"plan_version": 1, "stages": [{"stage": 1, "namespaces": ["a"], "staged": [
        {"kind": "NetworkPolicy"}], "enforce": [], "delete": []}]}))
    done = podfence("rollout", "apply", str(bad), "--context", "prod", "--kubeconfig", cluster["kubeconfig"])
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"podfence rollout apply: error: {bad}: stages[0].staged[0].kind: must be StagedKubernetesNetworkPolicy")
    done = podfence("rollout", "apply", str(tmp_path / "missing.json"), "--context", "prod")
    assert done.returncode == 2 and "cannot read the plan" in done.stderr
    done = podfence("rollout", "apply", str(bad))
    assert done.returncode == 2 and "--lab NAME or --context NAME" in done.stderr


def test_a_write_the_server_refuses_is_one_line_and_nothing_is_written(tmp_path, plan_file):
    fleet = Fleet()
    try:
        rules = ({"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]},
                 {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ["patch", "delete"]})
        server = fleet.cluster("prod", {"writer": User("writer", rules)}, resources=(*CORE, *OPTIONAL))
        server.seed(manifests(BAA))
        fleet.context("prod", "prod", "writer")
        config = fleet.write_kubeconfig(tmp_path / "kubeconfig", current="prod")
        done = podfence("rollout", "apply", str(plan_file), "--kubeconfig", str(config), "--context", "prod",
                        "--log", str(tmp_path / "log"), "--window", "0")
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        line = done.stderr.strip().splitlines()[-1]
        assert line.startswith("podfence rollout apply: error: context 'prod': the server-side dry run of apply "
                               "StagedKubernetesNetworkPolicy auth/session-cache-from-auth-server: the API server "
                               "answered 403:"), line
        assert writes(server) == []
    finally:
        fleet.stop()


@needs_kubectl
def test_the_plans_commands_run_the_rollout_by_hand_with_kubectl(cluster, plan_file):
    env = {**os.environ, "KUBECONFIG": cluster["kubeconfig"], "PATH": f"{PODFENCE.parent}:{os.environ['PATH']}",
           "PODFENCE_DEBUG": ""}
    server = cluster["server"]
    checks = []
    for stage in json.loads(plan_file.read_text())["stages"]:
        for phase in ("stage", "check", "enforce"):
            done = subprocess.run(["bash", "-c", stage["commands"][phase]], cwd=ROOT, env=env, capture_output=True,
                                  text=True, timeout=120)
            assert "Traceback" not in done.stderr
            if phase == "check":
                checks.append(done.returncode)
                if stage["would_block"]:
                    assert "WOULD BLOCK 1 connection" in done.stdout
            else:
                assert done.returncode == 0, (stage["commands"][phase], done.stderr)
            if phase == "stage":
                for m in stage["staged"]:
                    assert policy(server, STAGED, m["metadata"]["namespace"], m["metadata"]["name"]) is not None
    assert checks == [0, 0, 1]  # the billing stage would block the nightly report, as the plan says
    assert server.store.list(server.resource("projectcalico.org", "v3", "stagedkubernetesnetworkpolicies"),
                             None)[0] == []
    assert policy(server, NP, "auth", "session-cache-ingress") is None
    narrowed = policy(server, NP, "billing", "billing-to-postgres")
    assert narrowed["spec"]["podSelector"]["matchExpressions"][0]["values"] == ["billing-api", "invoicer"]


def test_the_log_of_another_plan_is_refused_and_a_cut_line_is_dropped(cluster, plan_file, tmp_path):
    log = cluster["log"]
    log.write_text('{"log": 1, "plan": "0000000000000000", "stage": 1, "step": "enforced"}\n')
    done = apply(cluster, plan_file)
    assert done.returncode == 2 and writes(cluster["server"]) == []
    assert done.stderr.strip().splitlines()[-1].startswith(f"podfence rollout apply: error: {log}:1: the log of another plan")
    log.write_text('{"log": 1, "plan": "')  # a crash in the middle of the first line
    done = apply(cluster, plan_file, "--threshold", "2")
    assert done.returncode == 0, done.stderr
    assert all(json.loads(line)["step"] for line in log.read_text().splitlines())


def _audit(src: str, dst: str, port: int, direction: str, denied_by: list[dict[str, str]],
           verdict: str = "AUDIT", protocol: str = "TCP") -> dict[str, object]:
    def ep(key: str) -> dict[str, str]:
        ns, name = key.split("/")
        return {"namespace": ns, "pod_name": name}
    return {"flow": {"verdict": verdict, "traffic_direction": direction, "source": ep(src), "destination": ep(dst),
                     "l4": {protocol: {"source_port": 40000, "destination_port": port}},
                     f"{direction.lower()}_denied_by": denied_by}}


def test_lab_audit_records_naming_the_stage_are_its_would_block_flows() -> None:
    from podfence.app.rollout_lab import audited_flows

    staged = {"kind": "StagedKubernetesNetworkPolicy", "namespace": "data", "name": "pg", "tier": "NetworkPolicy"}
    other = {**staged, "name": "other"}
    records = [
        _audit("billing/report", "data/postgres", 5432, "INGRESS", [staged]),
        _audit("billing/report", "data/postgres", 5432, "INGRESS", [staged]),  # a retry: one flow
        _audit("billing/report", "data/postgres", 5432, "EGRESS", [staged]),  # the other end: one flow
        _audit("billing/report", "data/postgres", 53, "INGRESS", [staged], protocol="UDP"),
        _audit("billing/report", "data/postgres", 80, "INGRESS", [other]),  # another stage's policy
        _audit("billing/report", "data/postgres", 81, "INGRESS", [staged], verdict="DROPPED"),  # enforced drop
    ]
    flows = audited_flows(records, ["data/pg"])
    assert [(f.src, f.dst, f.protocol, f.port, f.count, f.policies) for f in flows] == [
        ("billing/report", "data/postgres", "TCP", 5432, 1, ("data/pg",)),
        ("billing/report", "data/postgres", "UDP", 53, 1, ("data/pg",)),
    ]
