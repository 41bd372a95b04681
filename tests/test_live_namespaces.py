"""-n and -A on a live cluster for check, explain, test and generate: what is shown, never what is read."""

from __future__ import annotations

import json

import pytest

from cli_support import podfence
from kubeapi import Fleet
from live_support import ROOT, manifests, reader

BAA = ROOT / "examples" / "baa"
BROKEN = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
          "metadata": {"name": "typo", "namespace": "billing"},
          "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 70000}]}]}}


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory):
    fleet = Fleet()
    fleet.cluster("prod", {"reader": reader()}).seed([*manifests(BAA), BROKEN])
    fleet.cluster("clean", {"reader": reader()}).seed(manifests(BAA))
    fleet.context("prod", "prod", "reader")
    fleet.context("clean", "clean", "reader")
    path = fleet.write_kubeconfig(tmp_path_factory.mktemp("ns") / "kubeconfig", current="prod")
    yield str(path)
    fleet.stop()


def test_check_shows_and_judges_the_namespace_asked(kubeconfig):
    every = podfence("check", "--kubeconfig", kubeconfig, "-o", "json")
    assert every.returncode == 2
    assert any("billing/typo" in d["object"] for d in json.loads(every.stdout)["errors"])
    billing = podfence("check", "--kubeconfig", kubeconfig, "-o", "json", "-n", "billing")
    assert billing.returncode == 2 and json.loads(billing.stdout) == json.loads(every.stdout)
    api = podfence("check", "--kubeconfig", kubeconfig, "-o", "json", "-n", "api")
    assert api.returncode == 0, api.stderr
    assert json.loads(api.stdout)["errors"] == []
    assert podfence("check", "--kubeconfig", kubeconfig, "-n", "api", "-A").returncode == 2


def test_check_with_files_alone_keeps_n_as_the_namespace_of_objects_naming_none(tmp_path):
    broken = tmp_path / "typo.yaml"
    broken.write_text(json.dumps({**BROKEN, "metadata": {"name": "typo"}}))
    done = podfence("check", "-f", str(broken), "-n", "api", "-o", "json")
    assert done.returncode == 2
    assert [d["object"] for d in json.loads(done.stdout)["errors"]] == ["NetworkPolicy api/typo"]


@pytest.mark.parametrize("command", [
    ["explain", "--from", "billing/invoicer", "--to", "data/postgres", "--port", "5432", "-o", "json"],
    ["test", "--snapshot"],
])
def test_all_namespaces_is_accepted_and_shows_what_the_default_shows(kubeconfig, command):
    plain = podfence(*command, "--kubeconfig", kubeconfig, "--context", "clean")
    every = podfence(*command, "--kubeconfig", kubeconfig, "--context", "clean", "-A")
    assert plain.returncode == every.returncode == 0, every.stderr
    assert every.stdout == plain.stdout and every.stdout


def _namespaces_of(printed: str) -> set[str]:
    import yaml

    return {doc["metadata"]["namespace"] for doc in yaml.safe_load_all(printed) if doc}


def test_generate_writes_and_proves_the_namespace_asked(kubeconfig):
    intents = str(ROOT / "examples" / "baa-intents.yaml")
    args = ("generate", "--intents", intents, "--kubeconfig", kubeconfig, "--context", "clean")
    every = podfence(*args)
    assert every.returncode == 0, every.stderr
    assert {"billing", "data", "api"} <= _namespaces_of(every.stdout)
    assert podfence(*args, "-A").stdout == every.stdout
    billing = podfence(*args, "-n", "billing")
    assert billing.returncode == 0, billing.stderr
    assert _namespaces_of(billing.stdout) == {"billing"}
    assert "note: -n billing: only the policies of namespace billing" in billing.stderr
    assert "proof: exactly the intended connectivity" in billing.stderr
    assert "governed in 1 namespace" in billing.stderr and "(billing)" in billing.stderr, billing.stderr
    missing = podfence(*args, "-n", "nowhere")
    assert missing.returncode == 1 and missing.stdout == ""
    assert "-n nowhere: the intent covers no workload of namespace 'nowhere'" in missing.stderr


def test_generate_with_files_alone_keeps_n_as_the_namespace_of_objects_naming_none():
    intents = str(ROOT / "examples" / "baa-intents.yaml")
    plain = podfence("generate", "-f", str(BAA), "--intents", intents)
    named = podfence("generate", "-f", str(BAA), "--intents", intents, "-n", "billing")
    assert plain.returncode == named.returncode == 0, named.stderr
    assert named.stdout == plain.stdout


def test_n_does_not_narrow_test_an_expectation_names_its_pods_in_full(kubeconfig, tmp_path):
    args = ("--kubeconfig", kubeconfig, "--context", "clean")
    snapshot = podfence("test", "--snapshot", *args)
    assert snapshot.returncode == 0, snapshot.stderr
    assert podfence("test", "--snapshot", *args, "-n", "billing").stdout == snapshot.stdout
    spec = tmp_path / "spec.yaml"
    spec.write_text(snapshot.stdout)
    plain = podfence("test", str(spec), *args, "-o", "json")
    billing = podfence("test", str(spec), *args, "-o", "json", "-n", "billing")
    assert plain.returncode == billing.returncode == 0, billing.stderr
    assert billing.stdout == plain.stdout and len(json.loads(plain.stdout)) > 1
