"""The console script on a cluster with cluster-wide tiers: connectivity -o json and explain."""

from __future__ import annotations

import json

from cli_support import podfence

TIERS = "tests/fixtures/tiers"
HARRY, HERMIONE = "gryffindor/harry-potter-0", "gryffindor/hermione-granger-0"
DRACO, CEDRIC, LUNA = "slytherin/draco-malfoy-0", "hufflepuff/cedric-diggory-0", "ravenclaw/luna-lovegood-0"


def _pairs() -> dict[tuple[str, str], str]:
    r = podfence("connectivity", "-f", TIERS, "-o", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) == {"connections"}  # the JSON contract keeps its shape
    return {(c["src"], c["dst"]): c["allowed"] for c in data["connections"]}


def test_connectivity_json_follows_the_tiers() -> None:
    pairs = _pairs()
    assert (DRACO, HARRY) not in pairs  # Admin passes slytherin on, the default deny in gryffindor denies
    assert pairs[(CEDRIC, HARRY)] == {"TCP": [[80, 80]]}  # Admin accepts hufflepuff on the named port web only
    assert (LUNA, CEDRIC) not in pairs  # the Baseline denies ravenclaw -> hufflepuff
    assert pairs[(CEDRIC, LUNA)] == "All" and pairs[(HARRY, DRACO)] == "All"
    assert (HARRY, HERMIONE) not in pairs


def test_explain_names_tier_policy_rule_and_the_pass_chain() -> None:
    r = podfence("explain", "-f", TIERS, "--from", DRACO, "--to", HARRY, "--port", "80")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"DENIED: {DRACO} -> {HARRY} TCP 80")
    assert ("tiers: Admin: allow-monitoring passes (spec.ingress[0]) -> NetworkPolicy: gryffindor/default-deny "
            "isolates it, no rule admits -> DENIED") in r.stdout
    r = podfence("explain", "-f", TIERS, "--from", CEDRIC, "--to", HARRY, "--port", "80")
    assert ('allowed by the Admin tier: ClusterNetworkPolicy allow-monitoring spec.ingress[1] "hufflepuff-web" '
            "(priority 10) says Accept") in r.stdout


def test_explain_json_adds_the_tiers_and_keeps_every_other_key() -> None:
    r = podfence("explain", "-f", TIERS, "--from", LUNA, "--to", CEDRIC, "--port", "53", "--protocol", "UDP",
                 "-o", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["allowed"] is False
    ingress = data["ingress"]
    assert set(ingress) == {"allowed", "reason", "isolated", "policies", "allowed_by", "near_misses", "tiers"}
    assert ingress["reason"] == "tier"
    baseline = ingress["tiers"][-1]
    assert {k: baseline[k] for k in ("tier", "outcome", "policy", "kind", "priority", "rule", "rule_name",
                                     "field", "action")} == {
        "tier": "Baseline", "outcome": "deny", "policy": "default", "kind": "BaselineAdminNetworkPolicy",
        "priority": 1000, "rule": 0, "rule_name": "no-ravenclaw", "field": "spec.ingress[0]", "action": "Deny"}
    assert [t["tier"] for t in ingress["tiers"]] == ["Admin", "NetworkPolicy", "Baseline"]


def test_explain_json_without_cluster_policies_has_no_tiers_key() -> None:
    r = podfence("explain", "-f", f"{TIERS}/houses.yaml", "--from", DRACO, "--to", HARRY, "--port", "80", "-o", "json")
    assert r.returncode == 0, r.stderr
    assert "tiers" not in json.loads(r.stdout)["ingress"]


def test_an_invalid_cluster_policy_is_one_line_and_exit_2(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n"
                   "metadata: {name: bad}\nspec: {tier: Admin, priority: high, subject: {namespaces: {}}}\n")
    r = podfence("connectivity", "-f", str(bad))
    assert r.returncode == 2
    assert f"{bad}:4: ClusterNetworkPolicy bad: spec.priority:" in r.stderr
    assert "Traceback" not in r.stderr
