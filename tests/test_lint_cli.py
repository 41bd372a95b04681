"""podfence lint through its console script: formats, exit codes, config, suppressions."""

from __future__ import annotations

import json
from pathlib import Path
from cli_support import podfence as run

HERE = Path(__file__).parent
ROOT = HERE.parent
CLI = HERE / "fixtures" / "lint" / "cli"
EXAMPLE = "examples/baa"




def test_text_names_file_line_rule_and_fix() -> None:
    r = run("lint", "-f", EXAMPLE)
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert "examples/baa/policies/monitoring.yaml:56: warning NP201 policy-selects-no-pod: " \
           "NetworkPolicy monitoring/grafana-egress: spec.podSelector: " in r.stdout
    assert lines[-1] == "0 errors, 6 warnings, 1 note"
    assert any(line.startswith("    fix: ") for line in lines)


def test_json_shape_and_order() -> None:
    r = run("lint", "-f", EXAMPLE, "-o", "json")
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert list(data) == ["findings"]
    keys = ["rule", "name", "severity", "object", "file", "line", "field", "message", "fix"]
    assert all(list(f) == keys for f in data["findings"])
    order = [(f["file"], f["line"]) for f in data["findings"]]
    assert order == sorted(order)
    redundant = next(f for f in data["findings"] if f["rule"] == "NP208")
    # The line of spec.ingress[1] in the file, not of the policy.
    text = (ROOT / redundant["file"]).read_text().splitlines()
    assert text[redundant["line"] - 1].strip() == "- from:"
    assert text[redundant["line"] - 2].strip().startswith("# Added during the checkout incident")


def test_fail_on_sets_the_exit_code() -> None:
    assert run("lint", "-f", EXAMPLE, "--fail-on", "error").returncode == 0
    assert run("lint", "-f", EXAMPLE, "--fail-on", "warning").returncode == 1
    assert run("lint", "-f", EXAMPLE, "--fail-on", "note").returncode == 1
    bad = run("lint", "-f", EXAMPLE, "--fail-on", "fatal")
    assert bad.returncode == 2 and "--fail-on" in bad.stderr


def test_validation_errors_come_first() -> None:
    r = run("lint", "-f", str(CLI / "bad-policy.yaml"))
    assert r.returncode == 2
    assert r.stdout == ""
    assert "bad-policy.yaml:7: NetworkPolicy shop/broken: spec.ingress[0].ports[0].protocol" in r.stderr


def test_no_manifests_is_a_usage_error() -> None:
    r = run("lint")
    assert r.returncode == 2 and "no manifests given" in r.stderr


def test_suppression_by_annotation_and_missing_reason() -> None:
    r = run("lint", "-f", str(CLI / "suppressed.yaml"), "-o", "json")
    rules = [f["rule"] for f in json.loads(r.stdout)["findings"]]
    # NP101 and NP102 are suppressed; the entry for NP102 has no reason, which is a finding itself.
    assert rules == ["NP901"]
    assert r.returncode == 1


def test_config_changes_severity_and_disables(tmp_path: Path) -> None:
    config = tmp_path / "podfence.yaml"
    config.write_text("lint:\n  rules:\n    NP201: {severity: error}\n    NP208: {enabled: false}\n")
    r = run("lint", "-f", EXAMPLE, "-o", "json", "--config", str(config))
    found = {f["rule"]: f["severity"] for f in json.loads(r.stdout)["findings"]}
    assert found["NP201"] == "error" and "NP208" not in found
    assert run("lint", "-f", EXAMPLE, "--config", str(config), "--fail-on", "error").returncode == 1


def test_config_found_upward(tmp_path: Path) -> None:
    (tmp_path / ".podfence.yaml").write_text("lint:\n  exclude_namespaces: []\n")
    sub = tmp_path / "deploy"
    sub.mkdir()
    (sub / "pods.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: dns, namespace: kube-system}\n")
    found = json.loads(run("lint", "-f", "pods.yaml", "-o", "json", cwd=sub).stdout)["findings"]
    assert [f["rule"] for f in found] == ["NP101", "NP102"]  # kube-system is no longer excluded
    (tmp_path / ".podfence.yaml").write_text("lint: {rules: {NP101: {severity: fatal}}}\n")
    bad = run("lint", "-f", "pods.yaml", cwd=sub)
    assert bad.returncode == 2 and "lint.rules.NP101.severity" in bad.stderr


def test_stdin_findings_get_field_lines() -> None:
    text = (ROOT / EXAMPLE / "policies" / "monitoring.yaml").read_text()
    r = run("lint", "-f", "-", "-o", "json", stdin=text)
    found = [f for f in json.loads(r.stdout)["findings"] if f["rule"] == "NP201"]
    assert found == []  # no pods on stdin: whether a selector matches cannot be judged
    full = run("lint", "-f", EXAMPLE, "-f", "-", "-o", "json", stdin=text)
    assert full.returncode == 1


def test_rules_doc_needs_force_to_overwrite(tmp_path: Path) -> None:
    r = run("lint", "--rules-doc", str(tmp_path))
    assert r.returncode == 0
    pages = sorted(p.name for p in tmp_path.iterdir())
    assert "NP101.md" in pages and "README.md" in pages and not [p for p in pages if p.endswith(".tmp")]
    assert (tmp_path / "NP101.md").read_text() == (ROOT / "docs" / "rules" / "NP101.md").read_text()
    (tmp_path / "NP101.md").write_text("edited by hand\n")
    refused = run("lint", "--rules-doc", str(tmp_path))
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert (tmp_path / "NP101.md").read_text() == "edited by hand\n"
    assert run("lint", "--rules-doc", str(tmp_path), "--force").returncode == 0
    assert (tmp_path / "NP101.md").read_text() == (ROOT / "docs" / "rules" / "NP101.md").read_text()


def test_lint_finds_one_sided_connections_and_undeclared_ingress_ports() -> None:
    r = run("lint", "-f", "src/podfence/lint/examples/NP309/bad.yaml", "-f",
                 "src/podfence/lint/examples/NP211/bad.yaml")
    assert r.returncode == 1, r.stderr
    assert "NP309 one-sided-connection: NetworkPolicy shop/checkout-egress: spec.egress[0].to[0]: egress of " \
           "shop/checkout admits shop/gateway, but the ingress of shop/gateway refuses it" in r.stdout
    assert "NP211 ingress-port-not-declared: NetworkPolicy shop/api-ingress: spec.ingress[0].ports[0]: port TCP 80" \
           in r.stdout
