"""Files and logs podfence writes for machines: SARIF of invalid manifests, rule pages, JUnit reports."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import ROOT, podfence

BAA = str(ROOT / "examples" / "baa")
INVALID = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: shop}
spec:
  podSelector: {}
  ingress:
    - ports: [{port: 70000}]
"""


def test_lint_sarif_carries_invalid_manifests_at_their_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(INVALID)
    r = podfence("lint", "-f", "bad.yaml", "-o", "sarif", cwd=tmp_path)
    assert r.returncode == 2
    assert "bad.yaml:7: NetworkPolicy shop/bad: spec.ingress[0].ports[0].port" in r.stderr
    run = json.loads(r.stdout)["runs"][0]
    [result] = run["results"]
    assert result["ruleId"] == "invalid-manifest" and result["level"] == "error"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "invalid-manifest"
    spot = result["locations"][0]["physicalLocation"]
    assert spot["artifactLocation"]["uri"].endswith("bad.yaml") and spot["region"] == {"startLine": 7}
    assert result["message"]["text"].startswith("NetworkPolicy shop/bad: spec.ingress[0].ports[0].port: ")


def test_lint_text_of_invalid_manifests_prints_nothing_on_stdout(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(INVALID)
    r = podfence("lint", "-f", "bad.yaml", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""


def test_rules_doc_says_which_pages_exist_and_that_force_replaces_them(tmp_path: Path) -> None:
    first = podfence("lint", "--rules-doc", "doc", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = podfence("lint", "--rules-doc", "doc", cwd=tmp_path)
    assert again.returncode == 0
    total = len(list((tmp_path / "doc").iterdir()))
    assert f"0 of {total} rule pages written to doc ({total} already up to date)" in again.stderr
    for name in ("NP101.md", "NP102.md"):
        (tmp_path / "doc" / name).write_text("mine\n")
    clash = podfence("lint", "--rules-doc", "doc", cwd=tmp_path)
    assert clash.returncode == 2
    assert clash.stderr.strip() == ("podfence lint: error: --rules-doc: 2 pages already exist in doc and differ from "
                                    "the rules (NP101.md, NP102.md); add --force to overwrite them")
    forced = podfence("lint", "--rules-doc", "doc", "--force", cwd=tmp_path)
    assert f"2 of {total} rule pages written to doc (2 replaced with --force, {total - 2} already up to date)" \
        in forced.stderr


def test_junit_replaces_a_report_podfence_wrote_but_not_another_file(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(podfence("test", "--snapshot", "-f", BAA).stdout)
    report = tmp_path / "report.xml"
    first = podfence("test", "-f", BAA, str(spec), "--junit", str(report))
    assert first.returncode in (0, 1), first.stderr
    assert '<testsuites name="podfence test"' in report.read_text()
    report.write_text(report.read_text().replace('time="', 'time="9'))  # an older run's report
    again = podfence("test", "-f", BAA, str(spec), "--junit", str(report))
    assert again.returncode == first.returncode, again.stderr
    assert 'time="9' not in report.read_text()

    other = tmp_path / "other.xml"
    other.write_text('<?xml version="1.0"?>\n<testsuites name="pytest" tests="1"/>\n')
    refused = podfence("test", "-f", BAA, str(spec), "--junit", str(other))
    assert refused.returncode == 2
    assert f"--junit {other}: exists (pass --force to overwrite)" in refused.stderr
    assert "pytest" in other.read_text()
    forced = podfence("test", "-f", BAA, str(spec), "--junit", str(other), "--force")
    assert forced.returncode in (0, 1) and '<testsuites name="podfence test"' in other.read_text()
