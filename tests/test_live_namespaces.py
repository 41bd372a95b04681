"""-n and -A on a live cluster for check, explain and test: what is shown, never what is read."""

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
