"""generate's cluster guardrails: the intent file's guardrails key, the ClusterNetworkPolicies, their proof."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from podfence.config import DEFAULT_CONFIG
from podfence.generate.guardrails import guardrails, prove_guardrails, with_guardrails
from podfence.generate.intents import intent_from_dict
from podfence.loader import load_texts
from podfence.model import DEFAULT_SETTINGS
from cli_support import podfence

ROOT = Path(__file__).resolve().parent.parent
INTENTS = (ROOT / "examples" / "baa-intents.yaml").read_text()
BOTH = "guardrails: [baseline-default-deny, protect-kube-system]\n"

SMALL = """apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: v1
kind: Pod
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec: {containers: [{name: dns, ports: [{containerPort: 53, protocol: UDP}]}]}
status: {podIP: 10.0.0.53}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: app, labels: {app: web}}
spec: {containers: [{name: web}]}
status: {podIP: 10.0.1.1}
"""
LOCKED = """---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: kube-system}
spec: {podSelector: {}, policyTypes: [Ingress]}
"""


def test_the_intent_file_names_guardrails() -> None:
    intent, problems = intent_from_dict({"services": {}, "guardrails": ["protect-kube-system"]})
    assert not problems and intent.guardrails == ("protect-kube-system",)
    _, problems = intent_from_dict({"services": {}, "guardrails": ["deny-everything"]})
    assert [(d.code, d.field_path) for d in problems] == [("I1", "guardrails[0]")]


def test_baseline_default_deny_keeps_dns_and_denies_the_rest() -> None:
    cluster = load_texts([("c.yaml", SMALL)]).cluster
    rails = guardrails(["baseline-default-deny"], DEFAULT_CONFIG.dns)
    proof = prove_guardrails(cluster, with_guardrails(cluster, rails), DEFAULT_SETTINGS, DEFAULT_CONFIG.dns,
                             ["baseline-default-deny"])
    assert proof.exact
    assert ("app/web", "kube-system/coredns") in {(c.src, c.dst) for c in proof.denied}  # all but DNS
    assert ("kube-system/coredns", "app/web") in {(c.src, c.dst) for c in proof.denied}


def test_the_proof_fails_when_a_guardrail_allows_more() -> None:
    # kube-system's own default deny keeps DNS closed; the Admin guardrail's Accept opens it: not only denials.
    cluster = load_texts([("c.yaml", SMALL + LOCKED)]).cluster
    rails = guardrails(["protect-kube-system"], DEFAULT_CONFIG.dns)
    proof = prove_guardrails(cluster, with_guardrails(cluster, rails), DEFAULT_SETTINGS, DEFAULT_CONFIG.dns,
                             ["protect-kube-system"])
    assert not proof.exact
    assert [(c.src, c.dst) for c in proof.extra] == [("app/web", "kube-system/coredns")]


def test_generate_emits_valid_cluster_network_policies_and_proves_them(tmp_path: Path) -> None:
    intents = tmp_path / "intents.yaml"
    intents.write_text(BOTH + INTENTS)
    r = podfence("generate", "-f", "examples/baa", "--intents", str(intents))
    assert r.returncode == 0, r.stderr
    docs = [d for d in yaml.safe_load_all(r.stdout) if d]
    cnps = [(d["metadata"]["name"], d["spec"]["tier"]) for d in docs if d["kind"] == "ClusterNetworkPolicy"]
    assert cnps == [("baseline-dns", "Baseline"), ("baseline-default-deny", "Baseline"), ("protect-kube-system", "Admin")]
    assert "\nguardrails (baseline-default-deny, protect-kube-system): only denials, as asked: " in r.stderr
    out = tmp_path / "all.yaml"
    out.write_text(r.stdout)
    check = podfence("check", "-f", str(out))
    assert check.returncode == 0, check.stdout + check.stderr


def test_out_dir_gets_a_guardrails_file_and_json_a_guardrails_key(tmp_path: Path) -> None:
    intents = tmp_path / "intents.yaml"
    intents.write_text(BOTH + INTENTS)
    r = podfence("generate", "-f", "examples/baa", "--intents", str(intents), "--out", str(tmp_path / "out"),
                 "-o", "json")
    assert r.returncode == 0, r.stderr
    assert "kind: ClusterNetworkPolicy" in (tmp_path / "out" / "cluster-guardrails.yaml").read_text()
    data = json.loads(r.stdout)
    assert data["exact"] and data["guardrails"]["exact"]
    assert data["guardrails"]["guardrails"] == ["baseline-default-deny", "protect-kube-system"]


def test_a_guardrail_that_allows_more_fails_generate(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(SMALL + LOCKED)
    intents = tmp_path / "intents.yaml"
    intents.write_text("guardrails: [protect-kube-system]\nservices:\n  app/web: {}\n")
    r = podfence("generate", "-f", str(tmp_path / "c.yaml"), "--intents", str(intents))
    assert r.returncode == 1, r.stderr
    assert "guardrails (protect-kube-system): NOT as asked: 1 pod pair newly allowed" in r.stderr
    assert "  app/web -> kube-system/coredns: TCP 53, UDP 53" in r.stderr


def test_an_unknown_guardrail_is_an_error_naming_the_field(tmp_path: Path) -> None:
    intents = tmp_path / "intents.yaml"
    intents.write_text("guardrails: [deny-everything]\nservices: {}\n")
    r = podfence("generate", "-f", "examples/baa", "--intents", str(intents))
    assert (r.returncode, r.stdout) == (2, "")
    assert f"{intents}:1: intents: guardrails[0]: " in r.stderr
