"""Drift between two clusters (staging and production, two regions): ``diff``'s answer, per namespace.

Two clusters rarely hold the same namespaces. A namespace that exists on one side
only is one fact ("only in staging"), not a change for every pair of its pods: its
pods' changes are left out of the pairs and the namespace is listed instead. Every
other change is what ``podfence diff`` would report from the first cluster to the
second, in the same change model.

>>> from podfence.model import Cluster, Pod, Settings
>>> staging = Cluster.of(pods=[Pod("a", "x"), Pod("tmp", "y")])
>>> prod = Cluster.of(pods=[Pod("a", "x"), Pod("a", "z")])
>>> d = drift(staging, prod, Settings(), explain=False)
>>> [(n.namespace, n.only_in) for n in d.namespaces]
[('tmp', 'a')]
>>> sorted({c.dst for c in d.report.diff.changes if c.src == "a/x"})
['a/z']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from podfence.config import DEFAULT_CONFIG, Config
from podfence.diff.compare import Change
from podfence.diff.report import DiffReport, diff
from podfence.model import Cluster, Settings


@dataclass(frozen=True, slots=True)
class OneSided:
    """A namespace of one cluster only: ``only_in`` is ``"a"`` (the first) or ``"b"``; ``pods`` it holds there."""

    namespace: str
    only_in: Literal["a", "b"]
    pods: int


@dataclass(frozen=True, slots=True)
class Drift:
    """The namespaces of one side only, and ``diff``'s report of everything else, from ``a`` to ``b``."""

    namespaces: tuple[OneSided, ...]
    report: DiffReport

    def __bool__(self) -> bool:
        return bool(self.namespaces) or bool(self.report.diff)


def _names(cluster: Cluster) -> set[str]:
    return {n.name for n in cluster.namespaces}


def drift(a: Cluster, b: Cluster, settings: Settings, config: Config = DEFAULT_CONFIG, *,
          explain: bool = True) -> Drift:
    """What differs in connectivity from cluster ``a`` to cluster ``b``, namespaces of one side apart."""
    only_a, only_b = _names(a) - _names(b), _names(b) - _names(a)
    one_sided = sorted(
        [OneSided(n, "a", sum(1 for p in a.pods if p.namespace == n)) for n in only_a]
        + [OneSided(n, "b", sum(1 for p in b.pods if p.namespace == n)) for n in only_b],
        key=lambda o: o.namespace)
    apart = only_a | only_b

    def namespace_of(name: str) -> str | None:
        pod = a.pod(name) or b.pod(name)
        return pod.namespace if pod is not None else None

    def keep(change: Change) -> bool:
        return namespace_of(change.src) not in apart and namespace_of(change.dst) not in apart

    report = diff(a, b, settings, config, explain=explain, keep=keep if apart else None)
    return Drift(tuple(one_sided), report)
