"""The smallest set of labels that picks one workload out of its namespace.

A generated policy selects a workload, and names its peers, by ``matchLabels``.
The label set is the smallest subset of the workload's own labels that no other
pod of the namespace carries in full, so the selector matches exactly that
workload among the loaded pods. Among sets of the same size, well-known naming
labels come first (``app.kubernetes.io/name``, ``app``, ...), then keys in order.
Labels that differ per replica or per rollout (``pod-template-hash``, ...) are
never used: they would select one replica, or stop matching after a rollout.
"""

from __future__ import annotations

from itertools import combinations
from typing import Iterable

from podfence.model import Labels, Pod, Settings

PREFERRED = ("app.kubernetes.io/name", "app", "k8s-app", "name", "app.kubernetes.io/instance",
             "app.kubernetes.io/component")
UNSTABLE = frozenset({
    "pod-template-hash", "controller-revision-hash", "pod-template-generation",
    "statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index",
    "batch.kubernetes.io/controller-uid", "controller-uid", "batch.kubernetes.io/job-name", "job-name",
})
MAX_LABELS = 16  # beyond this, only the preferred and first keys are tried (2^16 subsets is plenty)


def _order(labels: Labels) -> list[tuple[str, str]]:
    rank = {k: i for i, k in enumerate(PREFERRED)}
    items = [(k, v) for k, v in labels.items() if k not in UNSTABLE]
    return sorted(items, key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))[:MAX_LABELS]


def selectable_neighbours(pod: Pod, pods: Iterable[Pod], settings: Settings) -> list[Pod]:
    """The other pods of ``pod``'s namespace that a podSelector could match."""
    return [p for p in pods if p.namespace == pod.namespace and p.key != pod.key and p.is_pod_endpoint(settings)]


def smallest_selector(pod: Pod, neighbours: Iterable[Pod]) -> Labels | None:
    """The smallest label set of ``pod`` that no pod in ``neighbours`` has in full.

    None when there is none: the pod has no usable labels, or another pod carries
    all of them.

    >>> web = Pod("shop", "web", Labels(app="web", tier="fe"))
    >>> api = Pod("shop", "api", Labels(app="api", tier="fe"))
    >>> smallest_selector(web, [api])
    Labels({'app': 'web'})
    """
    items = _order(pod.labels)
    if not items:
        return None
    others = list(neighbours)
    # For each label, the bitmask of neighbours that carry it; a set of labels picks
    # the pod alone when the AND of its masks is zero.
    masks = []
    for k, v in items:
        m = 0
        for i, other in enumerate(others):
            if other.labels.get(k) == v:
                m |= 1 << i
        masks.append(m)
    everyone = (1 << len(others)) - 1
    for size in range(1, len(items) + 1):
        for combo in combinations(range(len(items)), size):
            acc = everyone
            for i in combo:
                acc &= masks[i]
                if not acc:
                    break
            if not acc:
                return Labels(dict(items[i] for i in combo))
    return None


def twins(pod: Pod, neighbours: Iterable[Pod]) -> list[Pod]:
    """Neighbours that carry every usable label of ``pod`` (why no selector exists)."""
    items = _order(pod.labels)
    return [p for p in neighbours if all(p.labels.get(k) == v for k, v in items)]
