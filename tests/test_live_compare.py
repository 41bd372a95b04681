"""podfence compare: drift between two clusters, through the console script, against the test API server."""

from __future__ import annotations

import json

import pytest
import yaml

from cli_support import podfence
from kubeapi import Fleet, User
from live_support import ROOT, manifests, reader

BAA = ROOT / "examples" / "baa"
CUT = ("data", "postgres-ingress")  # deleted in prod: billing loses the database
SCRATCH = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "scratch"}},
           {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "toolbox", "namespace": "scratch",
                                                              "labels": {"app": "toolbox"}},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            "status": {"phase": "Running", "podIP": "10.9.0.1"}}]


def without_cut(docs):
    return [d for d in docs if (d["metadata"].get("namespace"), d["metadata"]["name"]) != CUT
            or d["kind"] != "NetworkPolicy"]


@pytest.fixture(scope="module")
def clusters(tmp_path_factory):
    """staging: examples/baa and a scratch namespace; prod: examples/baa without data/postgres-ingress."""
    fleet = Fleet()
    fleet.cluster("staging", {"reader": reader(), "nobody": User("nobody", ())}).seed([*manifests(BAA), *SCRATCH])
    fleet.cluster("prod", {"reader": reader()}).seed(without_cut(manifests(BAA)))
    fleet.context("staging", "staging", "reader")
    fleet.context("prod", "prod", "reader")
    fleet.context("locked", "staging", "nobody")
    folder = tmp_path_factory.mktemp("compare")
    config = fleet.write_kubeconfig(folder / "kubeconfig", current="staging")
    (folder / "prod.yaml").write_text(yaml.safe_dump_all(without_cut(manifests(BAA))))
    (folder / "staging.yaml").write_text(yaml.safe_dump_all([*manifests(BAA), *SCRATCH]))
    yield {"kubeconfig": str(config), "folder": folder}
    fleet.stop()


def compare(clusters, *args):
    return podfence("compare", *args, "--kubeconfig", clusters["kubeconfig"])


def test_changes_are_those_diff_reports_between_the_same_manifests(clusters):
    done = compare(clusters, "staging", "prod", "-o", "json")
    assert done.returncode == 1, done.stderr
    drift = json.loads(done.stdout)
    assert (drift["a"], drift["b"]) == ("staging", "prod")
    plain = [*manifests(BAA)]
    (clusters["folder"] / "baa.yaml").write_text(yaml.safe_dump_all(plain))
    diffed = podfence("diff", str(clusters["folder"] / "baa.yaml"), str(clusters["folder"] / "prod.yaml"),
                      "-o", "json")
    assert diffed.returncode == 1, diffed.stderr
    expected = json.loads(diffed.stdout)
    assert drift["changes"] == expected["changes"] and drift["changes"]
    assert {c["dst"] for c in drift["changes"] if "removed" in c} >= {"data/postgres"}
    assert drift["summary"] == {**expected["summary"], "namespaces": 1}


def test_a_namespace_of_one_side_is_one_entry_not_a_flood_of_changes(clusters):
    drift = json.loads(compare(clusters, "staging", "prod", "-o", "json").stdout)
    assert drift["namespaces"] == [{"namespace": "scratch", "only_in": "staging", "pods": 1}]
    assert not [c for c in drift["changes"] if "scratch/" in c["src"] + c["dst"]]
    reverse = json.loads(compare(clusters, "prod", "staging", "-o", "json").stdout)
    assert reverse["namespaces"] == [{"namespace": "scratch", "only_in": "staging", "pods": 1}]
    assert {(c["src"], c["dst"]) for c in reverse["changes"]} == {(c["src"], c["dst"]) for c in drift["changes"]}


def test_text_says_the_namespace_once_then_the_grouped_changes(clusters):
    done = compare(clusters, "staging", "prod")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "namespace scratch: only in staging (1 pod)"
    assert sum("scratch" in line for line in lines) == 1
    assert any("data/postgres" in line and "removed" in line for line in lines)
    assert "data/postgres-ingress deleted" in done.stdout
    md = compare(clusters, "staging", "prod", "-o", "md").stdout
    assert md.startswith("### podfence compare `staging` `prod`") and "- namespace `scratch`: only in `staging`" in md


def test_a_side_may_be_a_path_and_the_same_cluster_compares_clean(clusters):
    same = compare(clusters, "prod", str(clusters["folder"] / "prod.yaml"), "-o", "json")
    assert same.returncode == 0, same.stderr
    assert json.loads(same.stdout)["changes"] == [] and json.loads(same.stdout)["namespaces"] == []
    text = compare(clusters, str(clusters["folder"] / "staging.yaml"), "staging")
    assert text.returncode == 0 and text.stdout == "No change in connectivity.\n"


@pytest.mark.parametrize("args, words", [
    (["staging", "nowhere"], "no such context"),
    (["staging", "missing/dir"], "missing/dir': no such file or directory"),
    (["locked", "prod"], "cannot list namespaces at the cluster scope: forbidden"),
    (["staging", "prod", "-o", "csv"], "-o 'csv': choose one of text, json, md"),
])
def test_errors_are_one_line_and_exit_2(clusters, args, words):
    done = compare(clusters, *args)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert words in done.stderr.strip().splitlines()[-1]
