"""``audit`` grades what lint grades, caps a namespace without DNS, and counts pods as ``matrix`` does."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import ROOT, podfence

BAA = str(ROOT / "examples" / "baa")
DNS = str(Path(__file__).parent / "fixtures" / "cli" / "audit-dns" / "manifests.yaml")


def test_kube_system_is_left_out_of_the_grades_and_the_output_says_so() -> None:
    r = podfence("audit", "-f", BAA)
    assert r.returncode in (0, 1), r.stderr
    assert "== kube-system" not in r.stdout
    assert "not graded: kube-system (lint.exclude_namespaces; --include-excluded grades them)" in r.stdout
    doc = json.loads(podfence("audit", "-f", BAA, "-o", "json").stdout)
    assert "kube-system" not in [n["name"] for n in doc["namespaces"]] and doc["excluded"] == ["kube-system"]


def test_include_excluded_grades_kube_system() -> None:
    doc = json.loads(podfence("audit", "-f", BAA, "-o", "json", "--include-excluded").stdout)
    assert "kube-system" in [n["name"] for n in doc["namespaces"]] and "excluded" not in doc


def test_a_config_without_excluded_namespaces_grades_every_namespace(tmp_path: Path) -> None:
    config = tmp_path / "podfence.yaml"
    config.write_text("lint:\n  exclude_namespaces: []\n")
    doc = json.loads(podfence("audit", "-f", BAA, "-o", "json", "--config", str(config)).stdout)
    assert "kube-system" in [n["name"] for n in doc["namespaces"]]


def test_a_namespace_whose_pods_cannot_resolve_names_gets_no_b() -> None:
    doc = json.loads(podfence("audit", "-f", DNS, "-o", "json").stdout)
    [app] = doc["namespaces"]
    assert [f["rule"] for f in app["findings"]] == ["NP121"]
    assert app["isolated"] == {"ingress": 1, "egress": 1}
    assert app["score"] == 79 and app["grade"] == "C"


def test_audit_pod_counts_agree_with_matrix() -> None:
    matrix = json.loads(podfence("matrix", "-f", BAA, "--port", "80", "-o", "json").stdout)
    doc = json.loads(podfence("audit", "-f", BAA, "-o", "json", "--include-excluded").stdout)
    counted = sum(n["pods"] for n in doc["namespaces"]) + doc.get("host_network_pods", 0)
    assert counted == len(matrix["pods"])
    assert doc["host_network_pods"] == 1
    text = podfence("audit", "-f", BAA, "--include-excluded").stdout
    assert "1 hostNetwork pod not counted: it is its node's address" in text
