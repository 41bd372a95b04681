"""podfence convert: the v1alpha1 -> v1alpha2 mapping, its refusals, the proof, and the command."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from podfence.generate.convert import NAME_TAKEN, NO_EQUIVALENT, convert, converted_cluster
from podfence.generate.proof import prove_change
from podfence.loader import load
from podfence.model import DEFAULT_SETTINGS
from cli_support import podfence

HERE = Path(__file__).parent
ANP = HERE / "fixtures" / "convert" / "anp.yaml"
HOUSES = HERE / "fixtures" / "tiers" / "houses.yaml"


def anp(ingress: list, priority: int = 10, name: str = "guard") -> dict:
    return {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
            "metadata": {"name": name}, "spec": {"priority": priority, "subject": {"namespaces": {}},
                                                   "ingress": ingress}}


def test_ports_actions_and_tiers_map_one_to_one() -> None:
    rule = {"name": "r", "action": "Allow", "from": [{"namespaces": {}}],
            "ports": [{"portNumber": {"port": 80}}, {"portNumber": {"protocol": "UDP", "port": 53}},
                      {"portRange": {"protocol": "SCTP", "start": 1, "end": 9}},
                      {"portRange": {"start": 7, "end": 7}}, {"namedPort": "web"}]}
    banp = {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
            "metadata": {"name": "default"},
            "spec": {"subject": {"namespaces": {}}, "egress": [{"action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]}]}}
    result = convert([(anp([rule, {"action": "Pass", "from": [{"namespaces": {}}]}], 42), None), (banp, None)])
    assert result.ok
    admin, baseline = (c.manifest for c in result.converted)
    assert admin["apiVersion"] == "policy.networking.k8s.io/v1alpha2" and admin["kind"] == "ClusterNetworkPolicy"
    assert (admin["spec"]["tier"], admin["spec"]["priority"]) == ("Admin", 42)
    first, second = admin["spec"]["ingress"]
    assert first["action"] == "Accept" and second == {"action": "Pass", "from": [{"namespaces": {}}]}
    assert first["protocols"] == [
        {"tcp": {"destinationPort": {"number": 80}}}, {"udp": {"destinationPort": {"number": 53}}},
        {"sctp": {"destinationPort": {"range": {"start": 1, "end": 9}}}},
        {"tcp": {"destinationPort": {"number": 7}}}, {"destinationNamedPort": "web"}]
    assert (baseline["spec"]["tier"], baseline["spec"]["priority"]) == ("Baseline", 1000)
    assert baseline["spec"]["egress"] == [{"action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]}]


def test_what_has_no_exact_equivalent_is_refused_with_its_field() -> None:
    many = [{"action": "Deny", "from": [{"namespaces": {}}]}] * 26
    bad_ports = {"action": "Allow", "from": [{"namespaces": {}}],
                 "ports": [{"portNumber": {"protocol": "ICMP", "port": 1}}, {"portRange": {"start": 9, "end": 3}},
                           {"somethingNew": {}}]}
    result = convert([(anp(many, name="a"), None), (anp([bad_ports], name="b"), None)])
    assert not result.ok and not result.converted
    found = {(d.code, d.object, d.field_path) for d in result.problems}
    assert found == {
        (NO_EQUIVALENT, "AdminNetworkPolicy a", "spec.ingress"),
        (NO_EQUIVALENT, "AdminNetworkPolicy b", "spec.ingress[0].ports[0].portNumber.protocol"),
        (NO_EQUIVALENT, "AdminNetworkPolicy b", "spec.ingress[0].ports[1].portRange"),
        (NO_EQUIVALENT, "AdminNetworkPolicy b", "spec.ingress[0].ports[2]"),
    }


def test_a_name_another_cluster_network_policy_has_is_refused() -> None:
    cnp = {"kind": "ClusterNetworkPolicy", "metadata": {"name": "guard"}, "spec": {}}
    result = convert([(cnp, None), (anp([{"action": "Deny", "from": [{"namespaces": {}}]}]), None)])
    assert [(d.code, d.field_path) for d in result.problems] == [(NAME_TAKEN, "metadata.name")]


def test_the_proof_sees_a_conversion_that_changes_connectivity() -> None:
    before = load([str(ANP), str(HOUSES)], keep_documents=True)
    assert before.ok
    docs = [(before.documents[p.source], p.source) for p in before.cluster.cluster_policies]
    result = convert(docs)
    exact = prove_change(before.cluster, converted_cluster(before.cluster, result), DEFAULT_SETTINGS, [],
                         [p.key for p in before.cluster.pods])
    assert exact.exact
    # The Pass written as Accept: slytherin now reaches gryffindor, which the Baseline tier denied it.
    wrong = replace(result, converted=tuple(
        replace(c, manifest={**c.manifest, "spec": {**c.manifest["spec"], "ingress": [
            {**c.manifest["spec"]["ingress"][0], "action": "Accept"}, *c.manifest["spec"]["ingress"][1:]]}})
        if c.name == "guard-gryffindor" else c for c in result.converted))
    changed = prove_change(before.cluster, converted_cluster(before.cluster, wrong), DEFAULT_SETTINGS, [],
                           [p.key for p in before.cluster.pods])
    assert not changed.exact and changed.extra and not changed.removed
    assert {(d.src.split("/")[0], d.dst.split("/")[0]) for d in changed.extra} == {("slytherin", "gryffindor")}


def test_command_writes_valid_policies_and_the_proof(tmp_path: Path) -> None:
    r = podfence("convert", "-f", str(ANP), "-f", str(HOUSES))
    assert r.returncode == 0, r.stderr
    docs = list(yaml.safe_load_all(r.stdout))
    assert [(d["kind"], d["metadata"]["name"], d["spec"]["tier"]) for d in docs] == [
        ("ClusterNetworkPolicy", "guard-gryffindor", "Admin"), ("ClusterNetworkPolicy", "default", "Baseline")]
    assert r.stderr.startswith("proof: connectivity unchanged: 2 policies converted "
                               "(AdminNetworkPolicy guard-gryffindor, BaselineAdminNetworkPolicy default)")
    out = tmp_path / "new.yaml"
    out.write_text(r.stdout)
    check = podfence("check", "-f", str(out))
    assert check.returncode == 0, check.stdout + check.stderr
    # The new policies in place of the old ones (the v1alpha2 one of the input kept): the same lint notes go away.
    kept = tmp_path / "kept.yaml"
    kept.write_text(ANP.read_text().split("---\n")[-1])
    lint = podfence("lint", "-f", str(out), "-f", str(kept), "-f", str(HOUSES), "--select", "NP607")
    assert lint.returncode == 0, lint.stdout


def test_output_file_needs_force_and_proof_goes_to_stdout(tmp_path: Path) -> None:
    out = tmp_path / "new.yaml"
    out.write_text("mine\n")
    r = podfence("convert", "-f", str(ANP), "-f", str(HOUSES), "-o", str(out))
    assert (r.returncode, r.stdout) == (2, "")
    assert "exists (pass --force to overwrite)" in r.stderr and out.read_text() == "mine\n"
    r = podfence("convert", "-f", str(ANP), "-f", str(HOUSES), "-o", str(out), "--force", "--proof")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("proof: connectivity unchanged") and r.stderr == ""
    assert "kind: ClusterNetworkPolicy" in out.read_text()


def test_no_equivalent_is_one_line_naming_file_line_object_and_field(tmp_path: Path) -> None:
    rules = "".join(f"  - {{name: r{i}, action: Deny, from: [{{namespaces: {{}}}}]}}\n" for i in range(26))
    path = tmp_path / "big.yaml"
    path.write_text("apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
                    "metadata: {name: big}\nspec:\n  priority: 1\n  subject: {namespaces: {}}\n  ingress:\n" + rules)
    r = podfence("convert", "-f", str(path))
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr.startswith(f"{path}:7: AdminNetworkPolicy big: spec.ingress: 26 rules, and a "
                               "ClusterNetworkPolicy holds at most 25 per direction"), r.stderr
    assert len(r.stderr.splitlines()) == 1


def test_nothing_to_convert_says_so(tmp_path: Path) -> None:
    r = podfence("convert", "-f", str(HOUSES))
    assert (r.returncode, r.stdout) == (0, "")
    assert r.stderr == ("podfence: nothing to convert: no AdminNetworkPolicy or BaselineAdminNetworkPolicy in "
                        "the input\n")
