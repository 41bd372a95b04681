"""podfence.loader.load_objects and the origins of objects: files, git revisions, live clusters."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from podfence.loader import iter_documents, load_objects, load_texts
from podfence.loader.documents import RawDocument
from podfence.model import Cluster, ClusterOrigin, FileOrigin, GitOrigin, Namespace

ERRORS = Path(__file__).parent / "fixtures" / "loader" / "errors"
LOADER = Path(__file__).parent / "fixtures" / "loader"
CASES = ["duplicate-keys.yaml", "invalid-except.yaml", "missing.yaml", "not-mapping.yaml", "types.yaml", "values.yaml",
         "api-versions.yaml"]


def _parsed(text: str) -> list[RawDocument]:
    return [d for d in iter_documents(text) if isinstance(d, RawDocument)]


@pytest.mark.parametrize("name", CASES)
def test_parsed_documents_get_the_diagnostics_of_their_file(name: str) -> None:
    text = (ERRORS / name).read_text(encoding="utf-8")
    from_text = load_texts([(name, text)])
    from_objects = load_objects(FileOrigin(name, 0), _parsed(text))
    assert from_text.diagnostics, "the fixture must hold problems"
    assert from_objects.diagnostics == from_text.diagnostics
    assert from_objects.cluster == from_text.cluster
    assert (from_objects.notes, from_objects.objects) == (from_text.notes, from_text.objects)


@pytest.mark.parametrize("name", ["multi.yaml", "list.yaml", "workloads.yaml", "services.yaml"])
def test_parsed_documents_build_the_cluster_of_their_file(name: str) -> None:
    text = (LOADER / name).read_text(encoding="utf-8")
    from_text = load_texts([(name, text)])
    from_objects = load_objects(FileOrigin(name, 0), _parsed(text))
    cluster = from_objects.cluster
    assert cluster.pods or cluster.services
    assert from_objects == from_text
    objects = (*cluster.namespaces, *cluster.pods, *cluster.services, *cluster.policies)
    text_objects = (*from_text.cluster.namespaces, *from_text.cluster.pods, *from_text.cluster.services,
                    *from_text.cluster.policies)
    assert [o.source for o in objects] == [o.source for o in text_objects]


def test_plain_dicts_from_a_cluster_are_named_by_context_kind_namespace_name_and_version() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "812"}}
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "resourceVersion": "3"}}
    result = load_objects(ClusterOrigin("prod"), [ns, pod], name="prod")
    assert result.ok and result.cluster.name == "prod" and result.diagnostics == ()
    assert result.cluster.pods[0].source == ClusterOrigin("prod", "Pod", "shop", "web", "812")
    assert str(result.cluster.namespaces[0].source) == "prod/Namespace/shop@3"


def test_a_cluster_objects_problem_names_the_object_and_no_line() -> None:
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "deny", "namespace": "shop", "resourceVersion": "9"},
              "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 0}]}]}}
    result = load_objects(ClusterOrigin("prod"), [policy, 7])
    lines = [d.one_line() for d in result.diagnostics]
    assert lines[0].startswith("prod/NetworkPolicy/shop/deny@9: NetworkPolicy shop/deny: "
                               "spec.ingress[0].ports[0].port: ")
    assert lines[1] == "prod: a manifest must be a mapping with kind, apiVersion and metadata, not an integer"
    assert all(d.line is None for d in result.diagnostics)


def test_documents_are_not_changed_and_a_json_round_trip_gives_the_same_cluster() -> None:
    text = (LOADER / "workloads.yaml").read_text(encoding="utf-8")
    docs = [json.loads(json.dumps(d.data)) for d in _parsed(text)]  # what an API client hands over
    before = copy.deepcopy(docs)
    result = load_objects(ClusterOrigin("ctx"), docs)
    assert docs == before
    assert {p.key for p in result.cluster.pods} == {p.key for p in load_texts([("w.yaml", text)]).cluster.pods}


def test_objects_of_a_git_revision_keep_their_lines_and_show_the_working_tree_path() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: Bad_NS\n"
    result = load_texts([(GitOrigin("main", "deploy/a.yaml"), text)])
    assert result.diagnostics[0].one_line().startswith("deploy/a.yaml:5: Pod Bad_NS/a: metadata.namespace: ")
    good = load_texts([(GitOrigin("main", "deploy/a.yaml"), text.replace("Bad_NS", "shop"))])
    assert str(good.cluster.pods[0].source) == "main:deploy/a.yaml:1"


def test_a_cluster_name_is_kept_and_qualifies_keys() -> None:
    cluster = Cluster.of([Namespace.of("shop")], name="prod")
    assert cluster.name == "prod" and cluster.with_policies([]).name == "prod"
    assert cluster.qualified("shop/web") == "prod:shop/web"
    assert Cluster.of([Namespace.of("shop")]).name == "" and cluster != Cluster.of([Namespace.of("shop")])


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ["kind", "apiVersion", "metadata", "name", "namespace", "spec", "items", "podSelector", "ports"]), inner,
        max_size=4),
    max_leaves=12,
)
_object = st.fixed_dictionaries({"kind": st.sampled_from(["Pod", "NetworkPolicy", "Service", "List", "Namespace"]),
                                 "apiVersion": st.sampled_from(["v1", "networking.k8s.io/v1"]),
                                 "metadata": _json, "spec": _json})


@settings(max_examples=150, deadline=None)
@given(st.lists(_json | _object, max_size=4))
def test_any_parsed_value_becomes_diagnostics_naming_the_cluster_never_an_exception(docs: list[object]) -> None:
    result = load_objects(ClusterOrigin("prod"), docs)
    for d in result.diagnostics:
        assert d.one_line().startswith("prod") and "\n" not in d.one_line() and d.line is None
