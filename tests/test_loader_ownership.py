"""Pods belong to their workloads: ownerReferences decide which objects are the pods."""

from __future__ import annotations

from pathlib import Path

from cli_support import podfence

from podfence.loader import load

FIXTURES = Path(__file__).parent / "fixtures" / "ownership"


def keys(path: str) -> list[tuple[str, str, tuple[str, str] | None]]:
    result = load([str(FIXTURES / path)])
    assert result.ok, [d.one_line() for d in result.diagnostics]
    return [(p.key, p.kind, p.workload) for p in result.cluster.pods]


def test_real_pods_are_the_pods_and_their_controllers_add_none() -> None:
    assert keys("deploy-rs-pods.yaml") == [
        ("shop/web-5d4f-aaaaa", "Pod", ("Deployment", "web")),
        ("shop/web-5d4f-bbbbb", "Pod", ("Deployment", "web")),
    ]


def test_a_controller_owned_by_another_in_the_input_stands_aside() -> None:
    # The CronJob stands for its Job; the StatefulSet's pod is present, so it adds no representative.
    assert keys("cronjob-job.yaml") == [
        ("ops/db-0", "Pod", ("StatefulSet", "db")),
        ("ops/report", "CronJob", None),
    ]


def test_a_missing_replicaset_is_found_by_the_pod_template_hash() -> None:
    assert keys("pods-without-rs.yaml") == [("shop/api-7c9d8-x1", "Pod", ("Deployment", "api"))]


def test_without_owner_references_every_object_still_counts() -> None:
    lines = (FIXTURES / "deploy-rs-pods.yaml").read_text().splitlines(keepends=True)
    result = podfence("lint", "-f", "-", stdin="".join(line for line in lines if "ownerReferences" not in line))
    assert "of its 4 pod" in result.stdout, result.stdout + result.stderr


def test_lint_counts_and_groups_replicas_under_their_workload() -> None:
    result = podfence("lint", "-f", "-", stdin=(FIXTURES / "deploy-rs-pods.yaml").read_text())
    assert result.returncode == 1, result.stderr
    assert "2 of its 2 pod" in result.stdout
    assert "shop/web (Deployment, 2 pods)" in result.stdout
    assert "shop/web-5d4f," not in result.stdout
