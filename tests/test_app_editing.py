"""Replacing one document of a manifest file: every byte outside that document stays as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from podfence.app import Stop
from podfence.app.editing import Target, document_text, replaced_document, save

FILE = """# leading comment
apiVersion: v1
kind: Namespace
metadata: {name: web}
---
# about the policy
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny
  namespace: web
spec:
  podSelector: {}   # every pod
  policyTypes: [Ingress]
# trailing comment, after the policy
---
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata: {name: deny}
spec: {podSelector: {}}
...
"""
NEW = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: web}\nspec: {}\n"


def test_only_the_documents_text_changes() -> None:
    out = replaced_document(FILE, Target("NetworkPolicy", "deny", "web"), NEW)
    old = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\n  namespace: web\n" \
          "spec:\n  podSelector: {}   # every pod\n  policyTypes: [Ingress]"
    assert out == FILE.replace(old, NEW.rstrip("\n"))
    assert "# trailing comment, after the policy\n---\nkind: NetworkPolicy" in out


def test_the_default_namespace_tells_documents_apart() -> None:
    out = replaced_document(FILE, Target("NetworkPolicy", "deny", None), "kind: NetworkPolicy\nmetadata: {name: deny}\n")
    assert out.endswith("---\nkind: NetworkPolicy\nmetadata: {name: deny}\n...\n")
    assert document_text(FILE, Target("NetworkPolicy", "deny", "default")) == \
        "kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: deny}\nspec: {podSelector: {}}\n"


def test_a_missing_or_repeated_document_is_refused() -> None:
    with pytest.raises(ValueError, match="not in the file"):
        replaced_document(FILE, Target("NetworkPolicy", "other", "web"), NEW)
    twice = FILE + "---\n" + FILE.split("---\n")[1]
    with pytest.raises(ValueError, match="more than once"):
        replaced_document(twice, Target("NetworkPolicy", "deny", "web"), NEW)


def test_save_refuses_paths_outside_the_roots(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.yaml").write_text(FILE)
    with pytest.raises(Stop, match="outside the loaded paths"):
        save([str(root)], str(tmp_path / "b.yaml"), NEW, None)
    with pytest.raises(Stop, match="under a loaded directory"):
        save([str(root / "a.yaml")], str(root / "a.yaml"), NEW, None)
    with pytest.raises(Stop, match="exists"):
        save([str(root)], str(root / "a.yaml"), NEW, None)
    with pytest.raises(Stop, match=".yaml or .yml"):
        save([str(root)], str(root / "c.txt"), NEW, None)
    saved = save([str(root / "a.yaml")], str(root / "a.yaml"), NEW, Target("NetworkPolicy", "deny", "web"))
    assert not saved.created and "spec: {}" in (root / "a.yaml").read_text()
    assert sorted(p.name for p in root.iterdir()) == ["a.yaml"]


def test_impact_is_the_diff_of_the_whole_clusters_for_every_removal_and_a_new_policy() -> None:
    from dataclasses import replace as replaced

    from cli_support import ROOT
    from podfence.app.editing import impact
    from podfence.diff import diff_clusters
    from podfence.engine import Session
    from podfence.loader import load
    from podfence.model import NetworkPolicy

    cluster = load([str(ROOT / "examples/baa")]).cluster
    base = Session(cluster)
    opened = NetworkPolicy.from_dict({"metadata": {"name": "open", "namespace": "data"},
                                      "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                                               "ingress": [{}], "egress": [{"to": [{"ipBlock": {
                                                   "cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]}]}})
    for policy in cluster.policies:
        without = replaced(cluster, policies=tuple(p for p in cluster.policies if p is not policy))
        assert impact(base, [], policy.key).diff == diff_clusters(cluster, without, base.settings), policy.key
        moved = replaced(opened, namespace=policy.namespace, name=policy.name)
        instead = replaced(cluster, policies=tuple(moved if p is policy else p for p in cluster.policies))
        assert impact(base, [moved], policy.key).diff == diff_clusters(cluster, instead, base.settings), policy.key
    added = cluster.with_policies([opened])
    assert impact(base, [opened]).diff == diff_clusters(cluster, added, base.settings)
    assert impact(base, [opened]).diff.changes
