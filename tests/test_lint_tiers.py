"""The NP6xx rules (cluster-wide policies): exact footprints, and lint's outputs through the console script."""

from __future__ import annotations

import json
from pathlib import Path

from podfence.config import DEFAULT_CONFIG
from podfence.lint import lint
from podfence.lint.context import LintContext
from podfence.lint.tiers import Footprint, tier_facts
from podfence.loader import load_texts
from podfence.sets import ConnSet, IPSet, Protocol, parse_cidr
from cli_support import podfence

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures" / "lint"
BASE = (FIXTURES / "NP601" / "pass-ordered.yaml").read_text().split("---\napiVersion: policy.networking")[0]


def _cidr(text: str) -> IPSet:
    parsed = parse_cidr(text)
    assert parsed is not None
    return IPSet.of_cidr(parsed)


def _lint(text: str) -> list[str]:
    result = load_texts([("t.yaml", text)])
    assert result.ok, [d.one_line() for d in result.diagnostics if d.is_error]
    return [f"{f.rule} {f.object} {f.field_path}" for f in lint(result.cluster)]


def cnp(name: str, priority: int, rules: str, direction: str = "egress", tier: str = "Admin") -> str:
    return (f"---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n"
            f"metadata: {{name: {name}}}\nspec:\n  tier: {tier}\n  priority: {priority}\n"
            f"  subject: {{namespaces: {{matchLabels: {{team: shop}}}}}}\n  {direction}:\n{rules}")


def test_address_footprints_compare_exactly() -> None:
    tcp = ConnSet.ports(Protocol.TCP, 80, 80)
    udp = ConnSet.ports(Protocol.UDP, 53, 53)
    wide = Footprint(addresses=((_cidr("10.0.0.0/8"), tcp),))
    halves = [Footprint(addresses=((_cidr("10.0.0.0/9"), tcp | udp),)),
              Footprint(addresses=((_cidr("10.128.0.0/9"), tcp),))]
    assert wide.covered_by(halves)
    assert not wide.covered_by(halves[:1])
    assert not Footprint(addresses=((_cidr("10.0.0.0/8"), udp),)).covered_by(halves)
    assert wide.overlaps(halves[1]) and not halves[1].overlaps(Footprint(addresses=((_cidr("10.0.0.0/9"), tcp),)))
    assert Footprint().covered_by([]) and not wide.covered_by([])


def test_networks_rule_shadowed_only_when_every_address_is_taken() -> None:
    deny = "  - {name: wide, action: Deny, to: [{networks: [192.168.0.0/16]}]}\n"
    narrow = "  - {name: narrow, action: Accept, to: [{networks: [192.168.1.0/24]}]}\n"
    straddle = "  - {name: straddle, action: Accept, to: [{networks: [192.168.0.0/15]}]}\n"
    assert _lint(BASE + cnp("guard", 10, deny + narrow)).count(
        "NP601 ClusterNetworkPolicy guard spec.egress[1]") == 1
    assert not [f for f in _lint(BASE + cnp("guard", 10, deny + straddle)) if f.startswith("NP601")]


def test_a_named_port_resolved_per_pod_decides_shadowing() -> None:
    # The earlier rule takes TCP 8080 by the name http: the later rule on 8080 is shadowed for shop/web only
    # because web declares http as 8080.
    first = ("  - name: http\n    action: Deny\n    from: [{namespaces: {}}]\n"
             "    protocols: [{destinationNamedPort: http}]\n")
    later = ("  - name: port\n    action: Accept\n    from: [{namespaces: {}}]\n"
             "    protocols: [{tcp: {destinationPort: {number: 8080}}}]\n")
    assert "NP601 ClusterNetworkPolicy guard spec.ingress[1]" in _lint(BASE + cnp("guard", 10, first + later, "ingress"))
    other = later.replace("8080", "8081")
    assert not [f for f in _lint(BASE + cnp("guard", 10, first + other, "ingress")) if f.startswith("NP601")]


def test_facts_group_pods_by_class() -> None:
    text = BASE + cnp("guard", 10, "  - {name: all, action: Deny, to: [{namespaces: {}}]}\n")
    result = load_texts([("t.yaml", text)])
    facts = tier_facts(LintContext(result.cluster, DEFAULT_CONFIG))
    policy = next(p for p in facts.cluster_ir if p.name == "guard")
    assert [pod.key for pod in facts.subjects(policy).values()] == ["shop/web"]
    fp = facts.footprint(policy.egress[0], next(iter(facts.subjects(policy).values())))
    assert len(fp.remotes) == 2 and not fp.addresses  # both pods, no outside address


def test_lint_json_and_sarif_name_the_cluster_policy() -> None:
    path = str(FIXTURES / "NP601" / "fail-earlier-rule.yaml")
    r = podfence("lint", "-f", path, "--select", "NP6", "-o", "json")
    assert r.returncode == 1, r.stderr
    [finding] = json.loads(r.stdout)["findings"]
    assert (finding["rule"], finding["object"], finding["field"], finding["line"]) == \
        ("NP601", "ClusterNetworkPolicy guard", "spec.ingress[1]", 36)
    r = podfence("lint", "-f", path, "--select", "NP6", "-o", "sarif")
    assert r.returncode == 1, r.stderr
    [result] = json.loads(r.stdout)["runs"][0]["results"]
    assert result["ruleId"] == "NP601"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 36


def test_an_annotation_on_a_cluster_policy_suppresses(tmp_path: Path) -> None:
    text = (FIXTURES / "NP607" / "fail-anp.yaml").read_text().replace(
        "metadata: {name: allow-monitoring}",
        "metadata:\n  name: allow-monitoring\n  annotations: {podfence.io/ignore: 'NP607: converted next sprint'}")
    path = tmp_path / "anp.yaml"
    path.write_text(text)
    r = podfence("lint", "-f", str(path), "--select", "NP6")
    assert (r.returncode, r.stdout.splitlines()[-1]) == (0, "ok: no findings"), r.stdout + r.stderr


def test_audit_keeps_cluster_policy_findings_out_of_namespaces(tmp_path: Path) -> None:
    # A cluster-scoped policy named like a namespace is still no object of that namespace.
    path = tmp_path / "same-name.yaml"
    path.write_text((FIXTURES / "NP604" / "fail-overrides.yaml").read_text().replace(
        "metadata: {name: allow-monitoring}", "metadata: {name: shop}"))
    assert "NP604" in podfence("lint", "-f", str(path)).stdout
    r = podfence("audit", "-f", str(path), "-o", "json")
    assert r.returncode in (0, 1), r.stderr
    for ns in json.loads(r.stdout)["namespaces"]:
        assert not [f for f in ns["findings"] if f["rule"].startswith("NP6")]
