"""The *now* and *promoted* views of a cluster with staged policies, and one connection in both."""

from __future__ import annotations

from dataclasses import dataclass

from podfence.engine import Endpoint, Engine, Verdict
from podfence.model import Cluster, Settings, StagedAction, promoted
from podfence.sets import Protocol


@dataclass(frozen=True, slots=True)
class Comparison:
    """One connection judged now and once the staged policies are enforced.

    ``policies`` are the staged policies (``ns/name``) that change the verdict:
    those among the isolating policies, in either view, of a side whose
    decision changes. Empty when the verdict stays the same.
    """

    now: Verdict
    promoted: Verdict
    policies: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.now.allowed != self.promoted.allowed


class StagedViews:
    """The engine on the enforced policies and on the promoted cluster, side by side.

    >>> from podfence.model import NetworkPolicy, Pod, StagedNetworkPolicy
    >>> deny = NetworkPolicy("b", "deny")
    >>> views = StagedViews(Cluster.of(pods=[Pod("a", "x"), Pod("b", "y")],
    ...                                staged=[StagedNetworkPolicy("b", "deny", policy=deny)]))
    >>> c = views.compare(views.now.endpoint("a/x"), views.now.endpoint("b/y"), Protocol.TCP, 80)
    >>> c.now.allowed, c.promoted.allowed, c.policies
    (True, False, ('b/deny',))
    """

    def __init__(self, cluster: Cluster, settings: Settings | None = None) -> None:
        settings = settings or Settings()
        self.cluster = cluster
        self.now = Engine(cluster, settings)
        self.promoted = Engine(promoted(cluster), settings)
        self.deletions = frozenset(s.key for s in cluster.staged if s.action is StagedAction.DELETE)
        self.staged = frozenset(s.key for s in cluster.staged)

    def compare(self, src: Endpoint, dst: Endpoint, protocol: Protocol, port: int) -> Comparison:
        """``src`` to ``dst`` in both views (endpoints of either view: the pods are the same)."""
        now = self.now.explain(src, dst, protocol, port)
        if not self.staged:
            return Comparison(now, now)
        return self.comparison(now, self.promoted.explain(src, dst, protocol, port))

    def compare_service(self, src: Endpoint, service: Endpoint, protocol: Protocol,
                        port: int) -> tuple[Comparison, ...]:
        """A connection to a Service in both views: one comparison per backend and target port."""
        now = self.now.explain_service(src, service, protocol, port)
        if not self.staged:
            return tuple(Comparison(v, v) for v in now)
        after = self.promoted.explain_service(src, service, protocol, port)
        return tuple(self.comparison(a, b) for a, b in zip(now, after))

    def comparison(self, now: Verdict, after: Verdict) -> Comparison:
        """Two verdicts on the same connection, with the staged policies that tell them apart."""
        if now.allowed == after.allowed:
            return Comparison(now, after)
        keys: set[str] = set()
        for before_side, after_side in ((now.egress, after.egress), (now.ingress, after.ingress)):
            if before_side.allowed != after_side.allowed:
                keys.update(before_side.policies, after_side.policies)
        return Comparison(now, after, tuple(sorted(keys & self.staged)))
