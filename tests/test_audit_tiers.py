"""podfence audit with cluster-wide policies: what the Admin and Baseline tiers force on each namespace."""

from __future__ import annotations

import json
from pathlib import Path

from podfence.config import DEFAULT_CONFIG
from podfence.lint.audit import audit
from podfence.loader import load
from cli_support import podfence

HERE = Path(__file__).parent
TIERS = HERE / "fixtures" / "tiers"
CONVERT = HERE / "fixtures" / "convert" / "anp.yaml"
FILES = ["-f", str(TIERS / "policies.yaml"), "-f", str(TIERS / "houses.yaml")]


def test_rules_are_listed_in_evaluation_order_per_namespace() -> None:
    result = load([str(CONVERT), str(TIERS / "houses.yaml")])
    assert result.ok
    report = audit(result.cluster, DEFAULT_CONFIG)
    assert report.cluster_tiers
    by_ns = {a.name: a for a in report.namespaces}
    assert [(t.tier, t.policy, t.field, t.action) for t in by_ns["gryffindor"].tiers] == [
        ("Admin", "guard-gryffindor", "spec.ingress[0]", "Pass"),
        ("Admin", "guard-gryffindor", "spec.ingress[1]", "Accept"),
        ("Admin", "guard-gryffindor", "spec.ingress[2]", "Deny"),
        ("Admin", "guard-gryffindor", "spec.egress[0]", "Deny"),
        ("Baseline", "default", "spec.ingress[0]", "Deny"),
        ("Baseline", "default", "spec.ingress[1]", "Accept"),
    ]
    # ravenclaw: its own Admin policy (priority 5) and the Baseline default, which selects every namespace.
    assert [(t.policy, t.priority, t.direction.value) for t in by_ns["ravenclaw"].tiers] == [
        ("already-new", 5, "egress"), ("default", 1000, "ingress"), ("default", 1000, "ingress")]
    accept = by_ns["gryffindor"].tiers[1]
    assert accept.ports == ("port web", "TCP 8080", "UDP 53", "SCTP 9000-9010") and accept.pods == 2


def test_text_names_tier_policy_action_and_peers() -> None:
    r = podfence("audit", *FILES)
    assert r.returncode in (0, 1), r.stderr
    assert ("  Admin: allow-monitoring passes ingress from namespaces [conformance-house=slytherin] (priority 10, "
            "spec.ingress[0] hand-over-slytherin)\n") in r.stdout
    assert ("  Baseline: default denies ingress from namespaces [conformance-house=ravenclaw] (priority 1000, "
            "spec.ingress[0] no-ravenclaw)\n") in r.stdout
    assert "tiers:      the cluster-wide policies select none of its pods\n" in r.stdout
    md = podfence("audit", *FILES, "-o", "md")
    assert "  - Admin: allow-monitoring accepts ingress from namespaces [conformance-house=hufflepuff] on port web" \
        in md.stdout


def test_json_adds_a_tiers_key_and_keeps_the_others() -> None:
    with_tiers = json.loads(podfence("audit", *FILES, "-o", "json").stdout)
    without = json.loads(podfence("audit", "-f", str(TIERS / "houses.yaml"), "-o", "json").stdout)
    for a, b in zip(with_tiers["namespaces"], without["namespaces"]):
        assert list(a) == [*b, "tiers"]
    gryffindor = with_tiers["namespaces"][0]
    assert gryffindor["name"] == "gryffindor"
    assert [(t["tier"], t["policy"], t["rule"], t["rule_name"], t["action"]) for t in gryffindor["tiers"]] == [
        ("Admin", "allow-monitoring", "spec.ingress[0]", "hand-over-slytherin", "Pass"),
        ("Admin", "allow-monitoring", "spec.ingress[1]", "hufflepuff-web", "Accept")]
