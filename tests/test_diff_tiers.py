"""diff names the cluster-wide policy behind a change (tier, priority, rule), and test works with tiers."""

from __future__ import annotations

import shutil
from pathlib import Path

from podfence.diff import Status, diff
from podfence.loader import load
from podfence.model import DEFAULT_SETTINGS
from cli_support import podfence

HERE = Path(__file__).parent
TIERS = HERE / "fixtures" / "tiers"
POLICIES = (TIERS / "policies.yaml").read_text()
EXTRA = """---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: no-ravenclaw-egress}
spec:
  tier: Admin
  priority: 3
  subject: {namespaces: {matchLabels: {conformance-house: ravenclaw}}}
  egress:
  - {name: slytherin, action: Deny, to: [{namespaces: {matchLabels: {conformance-house: slytherin}}}]}
"""


def versions(tmp_path: Path, old: str, new: str) -> tuple[Path, Path]:
    out = []
    for name, text in (("old", old), ("new", new)):
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy(TIERS / "houses.yaml", folder / "houses.yaml")
        (folder / "policies.yaml").write_text(text)
        out.append(folder)
    return out[0], out[1]


def why(tmp_path: Path, old: str, new: str) -> list[str]:
    a, b = versions(tmp_path, old, new)
    r = podfence("diff", str(a), str(b))
    assert r.returncode == 1, r.stdout + r.stderr
    return [line.strip() for line in r.stdout.splitlines() if line.startswith("  why: ")]


def test_an_added_policy_is_named_with_tier_priority_and_rule(tmp_path: Path) -> None:
    assert why(tmp_path, POLICIES, POLICIES + EXTRA) == [
        "why: ClusterNetworkPolicy no-ravenclaw-egress (Admin priority 3) added: spec.egress[0] (slytherin) denies it"]


def test_a_deleted_policy_says_what_it_decided(tmp_path: Path) -> None:
    without_banp = POLICIES.split("---\napiVersion: policy.networking.k8s.io/v1alpha1")[0]
    assert why(tmp_path, POLICIES, without_banp) == [
        "why: BaselineAdminNetworkPolicy default (Baseline priority 1000) deleted (its spec.ingress[0] "
        "(no-ravenclaw) denied it)"]


def test_an_edited_action_names_the_rule(tmp_path: Path) -> None:
    assert why(tmp_path, POLICIES, POLICIES.replace("action: Pass", "action: Accept")) == [
        "why: ClusterNetworkPolicy allow-monitoring (Admin priority 10) edited: spec.ingress[0] "
        "(hand-over-slytherin) accepts it (was: passed it)"]


def test_a_tier_change_is_named(tmp_path: Path) -> None:
    moved = POLICIES.replace("tier: Admin", "tier: Baseline").replace("priority: 10", "priority: 30")
    assert why(tmp_path, POLICIES, moved) == [
        "why: ClusterNetworkPolicy allow-monitoring (Admin priority 10 -> Baseline priority 30) edited: no longer "
        "decides it (its spec.ingress[1] (hufflepuff-web) accepted it)"]


def test_causes_are_values(tmp_path: Path) -> None:
    a, b = versions(tmp_path, POLICIES, POLICIES + EXTRA)
    old, new = load([str(a)]), load([str(b)])
    report = diff(old.cluster, new.cluster, DEFAULT_SETTINGS)
    [group] = report.groups
    [cause] = group.causes.tiers
    assert (cause.kind, cause.policy, cause.status, cause.tier_new, cause.priority_new, cause.decided_new) == (
        "ClusterNetworkPolicy", "no-ravenclaw-egress", Status.ADDED, "Admin", 3, ("spec.egress[0]", "slytherin", "Deny"))
    assert group.causes.policies == ()  # a cluster-wide policy is not named again as a NetworkPolicy


def test_expectations_hold_with_tiers(tmp_path: Path) -> None:
    spec = tmp_path / "expect.yaml"
    spec.write_text("""tests:
  - name: slytherin is handed over to gryffindor's default deny
    from: {namespace: slytherin}
    to: {namespace: gryffindor}
    expect: deny
  - name: hufflepuff reaches gryffindor on its web port only
    from: hufflepuff/cedric-diggory-0
    to: gryffindor/harry-potter-0
    port: 80
    expect: allow
  - name: the Baseline keeps ravenclaw from hufflepuff
    from: {namespace: ravenclaw}
    to: {namespace: hufflepuff}
    expect: deny
  - name: slytherin reaches hufflepuff, which the tiers leave alone
    from: slytherin/draco-malfoy-0
    to: 10.244.1.1
    port: 80
    expect: allow
""")
    files = ["-f", str(TIERS / "houses.yaml"), "-f", str(TIERS / "policies.yaml")]
    r = podfence("test", *files, str(spec))
    assert r.returncode == 0, r.stdout + r.stderr
    # The same expectations fail once the Baseline guardrail is gone: they see the tiers.
    (tmp_path / "p.yaml").write_text(POLICIES.split("---\napiVersion: policy.networking.k8s.io/v1alpha1")[0])
    r = podfence("test", "-f", str(TIERS / "houses.yaml"), "-f", str(tmp_path / "p.yaml"), str(spec))
    assert r.returncode == 1 and "the Baseline keeps ravenclaw from hufflepuff" in r.stdout
