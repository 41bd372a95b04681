"""Calico's StagedKubernetesNetworkPolicy (``projectcalico.org/v3``) as an immutable value, and the promoted view.

A staged policy is a NetworkPolicy that is not enforced yet: the dataplane only
reports what it would deny. Its spec is a NetworkPolicy spec plus ``stagedAction``:

* ``Set`` (the default): enforcing the staged policy creates the NetworkPolicy of
  the same namespace and name, or replaces it;
* ``Delete``: enforcing it removes the NetworkPolicy of the same namespace and
  name. Its spec holds nothing else (validation refuses any other field), as
  Calico's API server requires.

A :class:`~podfence.model.Cluster` carries its staged policies beside the enforced
ones; :func:`promoted` is the cluster as if every staged policy were enforced.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Mapping

from podfence.model.cluster import Cluster
from podfence.model.origin import Origin
from podfence.model.policy import NetworkPolicy

STAGED_KIND = "StagedKubernetesNetworkPolicy"
STAGED_API_VERSION = "projectcalico.org/v3"


class StagedAction(StrEnum):
    SET = "Set"
    DELETE = "Delete"


@dataclass(frozen=True, slots=True)
class StagedNetworkPolicy:
    """One staged policy: what enforcing it does to the NetworkPolicy ``namespace/name``.

    ``policy`` is the NetworkPolicy that enforcement puts in place (``Set``), with
    the staged object's origin; ``None`` for ``Delete``.
    """

    namespace: str
    name: str
    action: StagedAction = StagedAction.SET
    policy: NetworkPolicy | None = None
    source: Origin | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, namespace: str = "default",
                  source: Origin | None = None) -> StagedNetworkPolicy:
        """A staged policy from a validated manifest; a ``Set`` policy's spec is normalised as a NetworkPolicy's."""
        spec = dict(doc.get("spec") or {})
        action = StagedAction(spec.pop("stagedAction", None) or StagedAction.SET)
        meta = doc.get("metadata") or {}
        ns = meta.get("namespace") or namespace
        name = meta.get("name") or meta.get("generateName") or ""
        if action is StagedAction.DELETE:
            return cls(ns, name, action, None, source)
        policy = NetworkPolicy.from_dict({**doc, "spec": spec}, namespace=namespace, source=source)
        return cls(ns, name, action, policy, source)


def promoted(cluster: Cluster) -> Cluster:
    """``cluster`` as if every staged policy were enforced, with no staged policy left
    (its cluster-wide policies and Nodes as they are).

    A ``Set`` policy replaces the enforced NetworkPolicy of the same namespace and
    name (or is added); a ``Delete`` removes it (nothing, when there is none).
    Without staged policies the cluster itself is returned.

    >>> from podfence.model import Pod
    >>> now = Cluster.of(pods=[Pod("a", "x")], policies=[NetworkPolicy("a", "deny")])
    >>> staged = Cluster.of(now.namespaces, now.pods, (), now.policies, staged=[StagedNetworkPolicy(
    ...     "a", "deny", StagedAction.DELETE)])
    >>> [p.key for p in promoted(staged).policies], [s.key for s in staged.staged]
    ([], ['a/deny'])
    """
    if not cluster.staged:
        return cluster
    policies = {p.key: p for p in cluster.policies}
    for staged in cluster.staged:
        if staged.policy is not None:
            policies[staged.key] = staged.policy
        else:
            policies.pop(staged.key, None)
    return Cluster.of(cluster.namespaces, cluster.pods, cluster.services, policies.values(), name=cluster.name,
                      cluster_policies=cluster.cluster_policies, nodes=cluster.nodes)
