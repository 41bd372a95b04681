"""--staged on matrix, connectivity, diff and lint; explain with both verdicts."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import podfence

SHOP = "tests/fixtures/staged/shop.yaml"


def allowed_pairs(*extra: str) -> set[tuple[str, str]]:
    result = podfence("matrix", "-f", SHOP, "--port", "8080", "-o", "json", *extra)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    return {(src, dst) for src, dsts in data["allowed"].items() for dst in dsts}


def test_matrix_staged_shows_the_promoted_view() -> None:
    now, then = allowed_pairs(), allowed_pairs("--staged")
    # billing/default-deny (Set) isolates billing/web; deleting shop/legacy-deny opens shop/cli.
    assert now - then == {("shop/api", "billing/web"), ("shop/cli", "billing/web")}
    assert then - now == {("billing/web", "shop/cli"), ("shop/api", "shop/cli")}


def test_connectivity_staged_differs_only_where_staged_policies_act() -> None:
    def entries(*extra: str) -> list[dict[str, object]]:
        result = podfence("connectivity", "-f", SHOP, "-o", "json", *extra)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)["connections"]

    now, then = entries(), entries("--staged")
    assert now != then
    touched = {"billing/web", "shop/cli"}
    key = lambda e: json.dumps(e, sort_keys=True)  # noqa: E731
    changed = {key(e) for e in now} ^ {key(e) for e in then}
    assert all(json.loads(e).get("dst") in touched for e in changed)


def test_diff_staged_compares_the_promoted_views(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(Path(SHOP).read_text().split("---\napiVersion: projectcalico.org/v3")[0])
    plain = podfence("diff", str(old), SHOP)
    assert plain.returncode == 0 and "No change" in plain.stdout  # staged policies enforce nothing
    staged = podfence("diff", str(old), SHOP, "--staged", "-o", "json")
    assert staged.returncode == 1, staged.stderr
    assert "billing/web" in staged.stdout and "shop/cli" in staged.stdout


def test_lint_staged_lints_the_promoted_view() -> None:
    plain = podfence("lint", "-f", SHOP, "-o", "json")
    staged = podfence("lint", "-f", SHOP, "-o", "json", "--staged")
    rules = lambda r: {(f["rule"], f["object"]) for f in json.loads(r.stdout)["findings"]}  # noqa: E731
    assert ("NP101", "Namespace billing") in rules(plain)
    assert ("NP101", "Namespace billing") not in rules(staged)  # billing/default-deny isolates the namespace once enforced


def test_explain_shows_both_verdicts_when_they_differ() -> None:
    result = podfence("explain", "-f", SHOP, "--from", "shop/cli", "--to", "billing/web", "--port", "8080")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "allowed now; DENIED once billing/default-deny is enforced"
    assert "Now:" in lines and "Once the staged policies are enforced:" in lines
    data = json.loads(podfence("explain", "-f", SHOP, "--from", "shop/cli", "--to", "billing/web", "--port", "8080",
                               "-o", "json").stdout)
    assert data["allowed"] is True and data["staged"]["allowed"] is False
    assert data["staged"]["policies"] == ["billing/default-deny"]
    assert data["staged"]["verdict"]["ingress"]["policies"] == ["billing/default-deny"]


def test_explain_names_a_staged_deletion() -> None:
    result = podfence("explain", "-f", SHOP, "--from", "shop/api", "--to", "shop/cli", "--port", "8080")
    assert result.stdout.splitlines()[0] == "DENIED now; ALLOWED once the deletion of shop/legacy-deny is enforced"


def test_explain_is_unchanged_when_the_views_agree() -> None:
    result = podfence("explain", "-f", SHOP, "--from", "shop/cli", "--to", "shop/api", "--port", "8080")
    assert result.returncode == 0
    assert result.stdout.startswith("ALLOWED: shop/cli -> shop/api TCP 8080\n")
    assert "staged" not in json.loads(podfence("explain", "-f", SHOP, "--from", "shop/cli", "--to", "shop/api",
                                               "--port", "8080", "-o", "json").stdout)


def test_an_invalid_staged_policy_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: projectcalico.org/v3\nkind: StagedKubernetesNetworkPolicy\n"
                   "metadata: {name: x, namespace: shop}\nspec:\n  stagedAction: Delete\n  podSelector: {}\n")
    result = podfence("matrix", "-f", str(bad), "--port", "80", "--staged")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"{bad}:6: StagedKubernetesNetworkPolicy shop/x: spec.podSelector: Forbidden: must be empty when "
        "stagedAction is Delete: the staged policy only names the NetworkPolicy it removes"]


def test_explain_a_service_shows_both_views_per_backend() -> None:
    result = podfence("explain", "-f", SHOP, "--from", "shop/cli", "--to", "svc/billing/web", "--port", "80")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "billing/web 8080: allowed now; DENIED once billing/default-deny is enforced"
    assert "Once the staged policies are enforced:" in lines
    data = json.loads(podfence("explain", "-f", SHOP, "--from", "shop/cli", "--to", "svc/billing/web", "--port", "80",
                               "-o", "json").stdout)
    assert (data["allowed"], data["staged"]["allowed"], data["staged"]["policies"]) == (
        True, False, ["billing/default-deny"])
    # A pod reaching itself through its Service is judged like any other pod (hairpin traffic).
    hairpin = podfence("explain", "-f", SHOP, "--from", "billing/web", "--to", "svc/billing/web", "--port", "80")
    assert hairpin.stdout.splitlines()[0] == (
        "billing/web 8080: allowed now; DENIED once billing/default-deny is enforced")
    unchanged = podfence("explain", "-f", SHOP, "--from", "shop/cli", "--to", "svc/shop/api", "--port", "80")
    assert unchanged.stdout.startswith("Connections to service shop/api on TCP 80")
