"""Staged policies read from a live cluster: discovery, the promoted view, explain and rollout check on --context."""

from __future__ import annotations

import json

import pytest

from cli_support import podfence
from kubeapi import CORE, OPTIONAL, Fleet
from live_support import ROOT, manifests, reader

BAA = ROOT / "examples" / "baa"
STAGED = ROOT / "examples" / "baa-staged"
FLOWS = str(STAGED / "flows.jsonl")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """"calico" serves StagedKubernetesNetworkPolicies and holds the staged example; "plain" does not serve them."""
    fleet = Fleet()
    calico = fleet.cluster("calico", {"reader": reader()}, resources=(*CORE, *OPTIONAL))
    calico.seed([*manifests(BAA), *manifests(STAGED / "billing-to-postgres.yaml")])
    plain = fleet.cluster("plain", {"reader": reader()})
    plain.seed(manifests(BAA))
    fleet.context("calico", "calico", "reader")
    fleet.context("plain", "plain", "reader")
    path = fleet.write_kubeconfig(tmp_path_factory.mktemp("live") / "kubeconfig", current="calico")
    yield {"fleet": fleet, "kubeconfig": str(path)}
    fleet.stop()


def on(live, context: str) -> tuple[str, ...]:
    return ("--kubeconfig", live["kubeconfig"], "--context", context)


def test_staged_policies_are_read_when_the_cluster_serves_them(live):
    done = podfence("snapshot", *on(live, "calico"))
    assert done.returncode == 0, done.stderr
    assert "kind: StagedKubernetesNetworkPolicy" in done.stdout and "name: billing-to-postgres" in done.stdout
    assert "StagedKubernetesNetworkPolicy" not in done.stderr


def test_a_cluster_without_them_is_read_with_a_note(live):
    done = podfence("matrix", *on(live, "plain"), "--port", "5432", "--staged", "-o", "json")
    assert done.returncode == 0, done.stderr
    assert "not served by the cluster, so not read:" in done.stderr
    assert "StagedKubernetesNetworkPolicy (projectcalico.org/v3)" in done.stderr


def test_staged_flag_shows_the_promoted_view_of_the_live_cluster(live):
    now = podfence("matrix", *on(live, "calico"), "--port", "5432", "-o", "json")
    promoted = podfence("matrix", *on(live, "calico"), "--port", "5432", "-o", "json", "--staged")
    files = podfence("matrix", "-f", str(BAA), "-f", str(STAGED / "billing-to-postgres.yaml"), "--port", "5432",
                     "-o", "json", "--staged")
    assert now.returncode == promoted.returncode == files.returncode == 0, now.stderr + promoted.stderr
    assert now.stdout != promoted.stdout
    assert json.loads(promoted.stdout)["allowed"] == json.loads(files.stdout)["allowed"]


def test_explain_on_the_live_cluster_gives_both_verdicts(live):
    done = podfence("explain", *on(live, "calico"), "--from", "billing/billing-report", "--to", "data/postgres",
                    "--port", "5432")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("allowed now; DENIED once billing/billing-to-postgres is enforced")


def test_rollout_check_on_the_live_cluster(live):
    done = podfence("rollout", "check", *on(live, "calico"), "--flows", FLOWS, "-o", "json")
    files = podfence("rollout", "check", "-f", str(BAA), "-f", str(STAGED), "--flows", FLOWS, "-o", "json")
    assert done.returncode == files.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report == json.loads(files.stdout)
    assert [(c["src"], c["dst"], c["policies"]) for c in report["would_block"]] == [
        ("billing/billing-report", "data/postgres", ["billing/billing-to-postgres"])]


def test_rollout_check_on_a_cluster_without_staged_policies_blocks_nothing(live):
    done = podfence("rollout", "check", *on(live, "plain"), "--flows", FLOWS, "-o", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["would_block"] == []


def test_rollout_plan_from_the_live_cluster_equals_the_plan_from_its_files(live):
    done = podfence("rollout", "plan", *on(live, "plain"), "--to", str(ROOT / "examples" / "baa-next"), "-o", "json")
    files = podfence("rollout", "plan", "-f", str(BAA), "--to", str(ROOT / "examples" / "baa-next"), "-o", "json")
    assert done.returncode == files.returncode == 0, done.stderr
    live_plan, file_plan = json.loads(done.stdout), json.loads(files.stdout)
    assert live_plan["current"] == [] and file_plan["current"] == [str(BAA)]
    assert live_plan["stages"] == file_plan["stages"]
