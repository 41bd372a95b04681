"""``rollout plan``: stages least critical first, each with its staged policies, changes and would-block flows."""

from __future__ import annotations

import json

import pytest

from cli_support import ROOT, golden_checker, podfence
from podfence.loader import load
from podfence.model import Cluster, Namespace, NetworkPolicy, Pod, PolicyType, StagedAction
from podfence.model.labels import Labels
from podfence.rollout import CRITICALITY_LABEL, plan_rollout, policy_steps

GOLDEN = ROOT / "tests" / "fixtures" / "golden" / "rollout"
check_golden = golden_checker(GOLDEN)
BAA = "examples/baa"
NEXT = "examples/baa-next"
FLOWS = "examples/baa-staged/flows.jsonl"


@pytest.mark.parametrize("output", ["text", "md", "json"])
def test_plan_of_the_example_is_golden(output, update_goldens):
    done = podfence("rollout", "plan", "-f", BAA, "--to", NEXT, "--flows", FLOWS, "-o", output)
    assert done.returncode == 1, done.stderr  # the billing stage would block the nightly report
    check_golden(f"plan.{'txt' if output == 'text' else output}", done.stdout, update_goldens)
    again = podfence("rollout", "plan", "-f", BAA, "--to", NEXT, "--flows", FLOWS, "-o", output)
    assert again.stdout == done.stdout


def test_plan_orders_least_critical_first_and_stages_set_and_delete():
    done = podfence("rollout", "plan", "-f", BAA, "--to", NEXT, "--flows", FLOWS, "-o", "json")
    plan = json.loads(done.stdout)
    assert [s["namespaces"] for s in plan["stages"]] == [["auth"], ["notify"], ["billing"]]
    assert [s["criticality"] for s in plan["stages"]] == ["medium", "medium", "high"]
    auth = plan["stages"][0]
    assert auth["policies"] == [{"namespace": "auth", "name": "session-cache-from-auth-server", "action": "Set"},
                                {"namespace": "auth", "name": "session-cache-ingress", "action": "Delete"}]
    assert auth["staged"][1] == {"apiVersion": "projectcalico.org/v3", "kind": "StagedKubernetesNetworkPolicy",
                                 "metadata": {"name": "session-cache-ingress", "namespace": "auth"},
                                 "spec": {"stagedAction": "Delete"}}
    assert auth["delete"] == [{"namespace": "auth", "name": "session-cache-ingress"}]
    assert auth["changes"] == {"added": 0, "removed": 0, "groups": []}
    billing = plan["stages"][2]
    assert billing["would_block"] == [{"src": "billing/billing-report", "dst": "data/postgres", "protocol": "TCP",
                                       "port": 5432, "count": 2, "policies": ["billing/billing-to-postgres"]}]
    assert billing["changes"]["groups"] == [{"srcs": ["billing/billing-report"], "dsts": ["data/postgres"],
                                             "removed": {"TCP": [[5432, 5432]]}}]
    assert plan["observed"] == {"flows": 10, "unmatched": 0}


def test_the_staged_manifests_of_a_plan_are_valid_staged_policies(tmp_path):
    done = podfence("rollout", "plan", "-f", BAA, "--to", NEXT, "-o", "json")
    assert done.returncode == 0, done.stderr  # no flows: nothing observed would be blocked
    staged = [m for s in json.loads(done.stdout)["stages"] for m in s["staged"]]
    path = tmp_path / "staged.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": staged}))
    # the staged view of the first stages, read back as manifests, equals the next policies' connectivity
    promoted = podfence("matrix", "-f", BAA, "-f", str(path), "--port", "5432", "-o", "json", "--staged")
    target = podfence("matrix", "-f", BAA, "--port", "5432", "-o", "json")
    assert promoted.returncode == 0, promoted.stderr
    assert json.loads(promoted.stdout) != json.loads(target.stdout)  # billing-report loses postgres


def _ns(name: str, level: str | None = None) -> Namespace:
    labels = {"kubernetes.io/metadata.name": name, **({CRITICALITY_LABEL: level} if level else {})}
    return Namespace(name, Labels(labels))


def test_the_criticality_label_orders_the_stages():
    spaces = [_ns("a", "critical"), _ns("b", "low"), _ns("c"), _ns("d", "high")]
    current = Cluster.of(spaces, [Pod(n.name, "p") for n in spaces])
    target = [NetworkPolicy(n.name, "deny") for n in spaces]
    plan = plan_rollout(current, target, {p.key: {"spec": {"podSelector": {}}} for p in target})
    assert [(s.namespaces, s.criticality) for s in plan.stages] == [
        (("b",), "low"), (("c",), "medium"), (("d",), "high"), (("a",), "critical")]
    two = plan_rollout(current, target, {p.key: {"spec": {"podSelector": {}}} for p in target}, per_stage=3)
    assert [s.namespaces for s in two.stages] == [("b", "c", "d"), ("a",)]
    assert two.stages[0].criticality == "high"


def test_fewer_dependants_go_first_within_a_criticality():
    spaces = [_ns("busy"), _ns("quiet"), _ns("caller")]
    current = Cluster.of(spaces, [Pod(n.name, "p") for n in spaces])
    # busy stays open to everyone (only its egress is closed); quiet admits nobody from outside once the next policies hold
    target = [NetworkPolicy("quiet", "deny"), NetworkPolicy("busy", "no-egress", policy_types=(PolicyType.EGRESS,))]
    plan = plan_rollout(current, target, {p.key: {"spec": {}} for p in target})
    assert [(s.namespaces, s.dependants) for s in plan.stages] == [(("quiet",), 0), (("busy",), 2)]


def test_policies_compare_by_meaning_not_by_file():
    a = load([f"{BAA}/policies"]).cluster
    b = load([NEXT]).cluster
    steps = policy_steps(a, b.policies, {p.key: {} for p in b.policies})
    assert [(s.key, s.action) for s in steps] == [
        ("auth/session-cache-from-auth-server", StagedAction.SET), ("auth/session-cache-ingress", StagedAction.DELETE),
        ("billing/billing-to-postgres", StagedAction.SET), ("notify/mailer-smtp-egress", StagedAction.SET)]


def test_write_keeps_what_exists_unless_forced(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text("mine")
    done = podfence("rollout", "plan", "-f", BAA, "--to", NEXT, "--write", str(path))
    assert done.returncode == 2 and path.read_text() == "mine"
    assert done.stderr.strip().splitlines()[-1] == f"podfence rollout plan: error: --write {path}: exists (pass --force to overwrite)"
    done = podfence("rollout", "plan", "-f", BAA, "--to", NEXT, "--write", str(path), "--force")
    assert done.returncode == 0, done.stderr
    assert json.loads(path.read_text())["plan_version"] == 1


def test_no_change_is_an_empty_plan():
    done = podfence("rollout", "plan", "-f", BAA, "--to", f"{BAA}/policies")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "No policy changes: nothing to roll out.\n"


@pytest.mark.parametrize("args, message", [
    ([], "no next policies given: use --to PATH"),
    (["--to", "examples/nowhere"], "examples/nowhere"),
    (["--to", NEXT, "-o", "yaml"], "-o"),
    (["--to", NEXT, "--per-stage", "0"], "--per-stage"),
])
def test_bad_input_is_one_line_exit_2(args, message):
    done = podfence("rollout", "plan", "-f", BAA, *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert message in done.stderr




def test_the_configuration_gives_unlabelled_namespaces_their_criticality(tmp_path):
    config = tmp_path / "podfence.yaml"
    config.write_text("rollout:\n  criticality: {auth: critical, billing: low}\n")
    done = podfence("rollout", "plan", "-f", BAA, "--to", NEXT, "--config", str(config), "-o", "json")
    assert done.returncode == 0, done.stderr
    stages = json.loads(done.stdout)["stages"]
    assert [(s["namespaces"], s["criticality"]) for s in stages] == [
        (["billing"], "low"), (["notify"], "medium"), (["auth"], "critical")]


def test_a_bad_criticality_in_the_configuration_is_one_line(tmp_path):
    config = tmp_path / "podfence.yaml"
    config.write_text("rollout:\n  criticality:\n    auth: urgent\n")
    done = podfence("rollout", "plan", "-f", BAA, "--to", NEXT, "--config", str(config))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert f"{config}:3" in line and "rollout.criticality.auth" in line and "'urgent' is not a criticality" in line
