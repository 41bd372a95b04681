"""podfence lint: NetworkPolicy mistakes found by their semantics, not their spelling.

>>> from podfence.model import Cluster, Namespace, Pod
>>> findings = lint(Cluster.of([Namespace.of("shop")], [Pod("shop", "web")]))
>>> [f.rule for f in findings]
['NP101', 'NP102']
"""

from podfence.lint.finding import Finding, ObjectRef, object_label
from podfence.lint.registry import BY_ID, REDIRECTS, REGISTRY, RULES, Registry
from podfence.lint.rule import Category, Group, LintRule
from podfence.lint.run import lint

__all__ = ["BY_ID", "Category", "Finding", "Group", "LintRule", "ObjectRef", "REDIRECTS", "REGISTRY", "RULES",
           "Registry", "lint", "object_label"]
