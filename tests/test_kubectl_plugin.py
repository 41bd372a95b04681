"""``kubectl podfence``: the kubectl-podfence console script, run by the real kubectl against the test server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cli_support import podfence
from kubeapi import Fleet
from live_support import KUBECTL, ROOT, manifests, needs_kubectl, reader
from podfence.cli.plugin import podfence_args, seconds

BAA = ROOT / "examples" / "baa"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    fleet = Fleet()
    fleet.cluster("prod", {"reader": reader()}).seed(manifests(BAA))
    fleet.context("prod", "prod", "reader")
    fleet.context("prod-data", "prod", "reader", namespace="data")
    path = fleet.write_kubeconfig(tmp_path_factory.mktemp("plugin") / "kubeconfig", current="prod-data")
    yield str(path)
    fleet.stop()


def kubectl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real kubectl with this venv's bin first on PATH, so that it finds kubectl-podfence."""
    assert KUBECTL is not None
    return subprocess.run([KUBECTL, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                               **(env or {})})


@needs_kubectl
def test_kubectl_lists_the_plugin():
    done = kubectl("plugin", "list")
    assert str(BIN / "kubectl-podfence") in done.stdout, done.stdout + done.stderr


@needs_kubectl
@pytest.mark.parametrize("before, after", [
    (["--context", "prod", "-n", "data"], []),
    ([], ["--context=prod", "--namespace=data"]),
    (["--context", "prod"], ["-n", "data", "--request-timeout", "20s"]),
])
def test_kubectl_flags_anywhere_give_podfence_s_answer(cluster, before, after):
    done = kubectl("podfence", "--kubeconfig", cluster, *before, "connectivity", "-o", "json", *after)
    assert done.returncode == 0, done.stderr
    plain = podfence("connectivity", "--kubeconfig", cluster, "--context", "prod", "-n", "data", "-o", "json")
    assert json.loads(done.stdout) == json.loads(plain.stdout)
    assert {c["src"].split("/")[0] for c in json.loads(done.stdout)["connections"]} >= {"billing"}
    assert all("data/" in c["src"] + c["dst"] for c in json.loads(done.stdout)["connections"])


@needs_kubectl
def test_kubeconfig_from_the_environment_and_all_namespaces(cluster):
    done = kubectl("podfence", "-A", "matrix", "--port", "5432", "-o", "json", env={"KUBECONFIG": cluster})
    assert done.returncode == 0, done.stderr
    assert "context 'prod-data'" in done.stderr
    every = podfence("matrix", "--port", "5432", "-o", "json", "--kubeconfig", cluster)
    assert json.loads(done.stdout) == json.loads(every.stdout)


@needs_kubectl
def test_plugin_errors_are_podfence_s_one_line(cluster):
    done = kubectl("podfence", "--kubeconfig", cluster, "--context", "nowhere", "check")
    assert done.returncode == 2 and "no such context" in done.stderr and "Traceback" not in done.stderr


@needs_kubectl
def test_kubectl_refuses_its_flags_before_the_plugin_name_as_the_readme_says(cluster):
    done = kubectl("--kubeconfig", cluster, "podfence", "check")
    assert done.returncode != 0 and "flags cannot be placed before plugin name" in done.stderr
    assert "kubectl podfence --context" in (ROOT / "README.md").read_text()


def test_arguments_are_moved_after_the_command():
    assert podfence_args(["--context", "a", "-A", "audit", "-o", "json"]) == ["audit", "--context", "a", "-A",
                                                                               "-o", "json"]
    assert podfence_args(["-n", "x", "generate", "default-deny", "--allow-dns"]) == \
        ["generate", "default-deny", "-n", "x", "--allow-dns"]
    assert podfence_args(["check", "--request-timeout=1m"]) == ["check", "--request-timeout=60"]
    assert podfence_args(["--version"]) == ["--version"]
    assert podfence_args(["-n", "x"]) == ["-n", "x"]


@pytest.mark.parametrize("value, expected", [("30s", "30"), ("1m", "60"), ("500ms", "0.5"), ("2", "2"),
                                             ("soon", "soon")])
def test_kubectl_durations_in_seconds(value, expected):
    assert seconds(value) == expected


def test_the_krew_manifest_names_the_plugin_binary():
    manifest = yaml.safe_load((ROOT / "packaging" / "krew" / "podfence.yaml").read_text())
    assert manifest["kind"] == "Plugin" and manifest["metadata"]["name"] == "podfence"
    assert {p["bin"] for p in manifest["spec"]["platforms"]} == {"kubectl-podfence"}
