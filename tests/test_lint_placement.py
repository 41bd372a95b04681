"""Findings are placed at their field's line from what the loader kept, and name their object as values."""

from __future__ import annotations

import json
from pathlib import Path

from podfence.app.lint import narrow_lines
from podfence.lint import ObjectRef, lint
from podfence.lint.audit import audit
from podfence.loader import load, load_objects
from podfence.model import ClusterOrigin, FileOrigin

POLICY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: p
  namespace: a
spec:
  podSelector:
    matchLabels:
      app: nothing
  ingress:
  - from:
    - podSelector:
        matchLabels:
          x: y
"""
POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: w\n  namespace: a\n  labels: {app: w}\n"


def test_findings_move_to_their_fields_line_without_reading_the_file_again(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(POLICY + "---\n" + POD)
    result = load([str(path)], keep_documents=True)
    found = lint(result.cluster)
    path.unlink()  # nothing is read again: the lines come from the loader
    placed = narrow_lines(found, result.documents)
    fields = {f.rule: (f.field_path, f.line) for f in placed if f.object == "NetworkPolicy a/p"}
    assert fields["NP201"] == ("spec.podSelector", 7)
    assert all(f.file == str(path) for f in placed)
    # without the manifests, each finding keeps its object's own line
    assert {f.line for f in narrow_lines(found, {}) if f.object == "NetworkPolicy a/p"} == {1}


def test_a_json_stream_places_findings_as_it_always_did(tmp_path: Path) -> None:
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "p", "namespace": "a"}, "spec": {"podSelector": {"matchLabels": {"app": "nothing"}}}}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "w", "namespace": "a", "labels": {"app": "w"}}}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(policy, indent=1) + "\n" + json.dumps(pod, indent=1) + "\n")
    result = load([str(path)], keep_documents=True)
    placed = narrow_lines(lint(result.cluster), result.documents)
    # the first value is also YAML, which keeps the lines inside it; the others are JSON only
    assert [(f.rule, f.line) for f in placed if f.rule == "NP201"] == [("NP201", 9)]


def test_findings_name_their_object_as_values() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "w", "namespace": "a", "resourceVersion": "5"}}
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}
    result = load_objects(ClusterOrigin("prod"), [namespace, pod], name="prod")
    found = lint(result.cluster)
    assert found
    for f in found:
        assert f.ref.scope == "a" and str(f.ref) == f.object
        assert isinstance(f.ref.origin, ClusterOrigin) and f.file == str(f.ref.origin) and f.line is None
    by_ns = {ns.name: ns for ns in audit(result.cluster, findings=found).namespaces}
    assert set(by_ns) == {"a"} and sorted(by_ns["a"].findings, key=lambda f: f.rule) == sorted(
        found, key=lambda f: f.rule)


def test_an_object_reference_reads_like_diagnostics() -> None:
    assert str(ObjectRef("Namespace", None, "shop")) == "Namespace shop"
    ref = ObjectRef("Deployment", "shop", "web", FileOrigin("d.yaml", 4))
    assert (str(ref), ref.scope, ref.origin) == ("Deployment shop/web", "shop", FileOrigin("d.yaml", 4))
