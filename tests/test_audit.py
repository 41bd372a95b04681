"""podfence audit: figures per namespace from the engine, the score, and the three formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podfence.config import DEFAULT_CONFIG, config_from_dict
from podfence.lint.audit import audit, grade_of
from podfence.loader import load, load_texts
from cli_support import golden_checker, podfence

HERE = Path(__file__).parent
ROOT = HERE.parent
GOLDEN = HERE / "fixtures" / "golden" / "lint"
check_golden = golden_checker(GOLDEN)
EXAMPLE = ROOT / "examples" / "baa"


def baa(include_excluded: bool = False):  # type: ignore[no-untyped-def]
    return audit(load([str(EXAMPLE)]).cluster, DEFAULT_CONFIG, include_excluded=include_excluded)


def test_grades() -> None:
    assert [grade_of(s) for s in (100, 90, 89, 80, 70, 60, 59, 0)] == ["A", "A", "B", "B", "C", "D", "F", "F"]


def test_example_figures() -> None:
    assert [a.name for a in baa().namespaces if a.name == "kube-system"] == []  # lint.exclude_namespaces
    report = {a.name: a for a in baa(include_excluded=True).namespaces}
    assert sorted(report) == ["api", "auth", "billing", "data", "gateway", "kube-system", "monitoring", "notify"]
    # node-exporter is hostNetwork: a node address, not one of monitoring's pods.
    assert report["monitoring"].pods == 2
    kube = report["kube-system"]
    assert (kube.pods, kube.ingress_isolated, kube.egress_isolated) == (1, 0, 0)
    assert kube.score == 100 - 30 - 15  # nothing isolated, no findings (kube-system is excluded from coverage)
    assert kube.reaches_internet and kube.internet_reaches == ("kube-system/kube-dns",)
    # api-worker really reaches redis, api-server reaches billing-api: both from api.
    assert report["data"].reached_from == ("api", "billing", "monitoring")
    assert report["gateway"].internet_reaches == ("gateway/edge-proxy",)
    assert report["billing"].reaches_outside == ("203.0.113.0/24",) and not report["billing"].reaches_internet
    assert report["notify"].reaches_internet  # the mailer's SMTP egress, on two ports
    # Two NP208 and the one-sided egress of billing/invoicer to notify/mailer (NP309).
    assert report["billing"].score == 100 - 3 * 5 and report["billing"].grade == "B"
    assert report["data"].score == 100 - 5 - 1
    assert report["billing"].sensitive == ("billing/billing-api", "billing/billing-report", "billing/invoicer")
    assert "billing/billing-api is reached from api, monitoring" in report["billing"].sensitive_exposure


def test_overall_score_weights_namespaces_by_pods() -> None:
    report = baa()
    total = sum(a.pods for a in report.namespaces)
    assert report.score == round(sum(a.score * a.pods for a in report.namespaces) / total)


def test_allowed_from_marks_exposure() -> None:
    config, problems = config_from_dict({"sensitive": {"allowed_from": ["api", "billing"]}})
    assert not problems
    report = {a.name: a for a in audit(load([str(EXAMPLE)]).cluster, config).namespaces}
    assert "data/postgres is reached from billing, monitoring (outside sensitive.allowed_from: monitoring)" \
        in report["data"].sensitive_exposure
    assert any(f.rule == "NP502" for f in report["data"].findings)


def test_unisolated_namespace_scores_low() -> None:
    result = load_texts([("m.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\n")])
    (shop,) = audit(result.cluster).namespaces
    # 30 + 15 for isolation, 5 for NP101 (warning), 1 for NP102 (note).
    assert shop.score == 100 - 30 - 15 - 5 - 1 and shop.grade == "F"


@pytest.mark.parametrize("fmt, suffix", [("text", "txt"), ("json", "json"), ("md", "md")])
def test_formats(fmt: str, suffix: str, update_goldens: bool) -> None:
    r = podfence("audit", "-f", "examples/baa", "-o", fmt)
    assert r.returncode == 0, r.stderr
    check_golden(f"audit-baa.{suffix}", r.stdout, update_goldens)
    if fmt == "json":
        data = json.loads(r.stdout)
        assert data["grade"] == "A" and [n["name"] for n in data["namespaces"]][0] == "api"


def test_invalid_input_exits_2() -> None:
    r = podfence("audit", "-f", str(HERE / "fixtures" / "lint" / "cli" / "bad-policy.yaml"))
    assert r.returncode == 2 and r.stdout == ""
