"""A cluster snapshot: namespaces, pods, services, NetworkPolicies, staged policies, cluster-wide policies and nodes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, TypeVar

from podfence.model.cluster_policy import ClusterPolicy
from podfence.model.objects import Namespace, Node, Pod, Service
from podfence.model.policy import NetworkPolicy

if TYPE_CHECKING:
    from podfence.model.staged import StagedNetworkPolicy

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Cluster:
    """Everything the engine needs, in a stable order (namespace, then name).

    Every namespace that a pod, service or policy lives in is present in
    ``namespaces`` (the loader creates undeclared ones with only their name label).
    ``name`` tells clusters apart (a kubeconfig context, say) when several are
    compared or merged; objects are named ``ns/name`` within their cluster. It is
    ``""`` for manifests, which then behave as one cluster.

    ``cluster_policies`` are the cluster-scoped tiers (ClusterNetworkPolicy,
    AdminNetworkPolicy, BaselineAdminNetworkPolicy), sorted by kind and name;
    ``nodes`` the declared Node objects, by name.
    ``staged`` holds the staged policies (Calico's StagedKubernetesNetworkPolicy):
    not enforced, so no evaluator reads them; :func:`podfence.model.staged.promoted`
    is the cluster with them enforced.
    """

    namespaces: tuple[Namespace, ...] = ()
    pods: tuple[Pod, ...] = ()
    services: tuple[Service, ...] = ()
    policies: tuple[NetworkPolicy, ...] = ()
    name: str = ""
    cluster_policies: tuple[ClusterPolicy, ...] = ()
    nodes: tuple[Node, ...] = ()
    staged: tuple[StagedNetworkPolicy, ...] = ()
    _ns_index: dict[str, Namespace] = field(default_factory=dict, init=False, repr=False, compare=False)
    _pod_index: dict[str, Pod] = field(default_factory=dict, init=False, repr=False, compare=False)
    _service_index: dict[str, Service] = field(default_factory=dict, init=False, repr=False, compare=False)
    _policy_index: dict[str, NetworkPolicy] = field(default_factory=dict, init=False, repr=False, compare=False)
    _derived: dict[str, object] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._ns_index.update((ns.name, ns) for ns in self.namespaces)
        self._pod_index.update((p.key, p) for p in self.pods)
        self._service_index.update((s.key, s) for s in self.services)
        self._policy_index.update((p.key, p) for p in self.policies)

    @classmethod
    def of(cls, namespaces=(), pods=(), services=(), policies=(),  # type: ignore[no-untyped-def]
           *, name: str = "", cluster_policies=(), nodes=(), staged=()) -> Cluster:
        """Build a cluster, sorting everything and adding missing namespaces (not those of staged policies only)."""
        ns = {n.name: n for n in namespaces}
        for obj in (*pods, *services, *policies):
            if obj.namespace not in ns:
                ns[obj.namespace] = Namespace.of(obj.namespace, declared=False)
        return cls(
            namespaces=tuple(sorted(ns.values(), key=lambda n: n.name)),
            pods=tuple(sorted(pods, key=lambda p: (p.namespace, p.name))),
            services=tuple(sorted(services, key=lambda s: (s.namespace, s.name))),
            policies=tuple(sorted(policies, key=lambda p: (p.namespace, p.name))),
            name=name,
            cluster_policies=tuple(sorted(cluster_policies, key=lambda p: (p.kind, p.name))),
            nodes=tuple(sorted(nodes, key=lambda n: n.name)),
            staged=tuple(sorted(staged, key=lambda p: (p.namespace, p.name))),
        )

    def with_policies(self, policies: Iterable[NetworkPolicy]) -> Cluster:
        """The cluster with ``policies`` added; a policy replaces the one of the same ``namespace/name``."""
        new = {p.key: p for p in policies}
        kept = [p for p in self.policies if p.key not in new]
        return Cluster.of(self.namespaces, self.pods, self.services, [*kept, *new.values()], name=self.name,
                          cluster_policies=self.cluster_policies, nodes=self.nodes, staged=self.staged)

    def qualified(self, key: str) -> str:
        """``key`` (``ns/name``) made unique across clusters: ``cluster:ns/name``, or ``key`` for unnamed clusters.

        >>> Cluster(name="prod").qualified("shop/web"), Cluster().qualified("shop/web")
        ('prod:shop/web', 'shop/web')
        """
        return f"{self.name}:{key}" if self.name else key

    def derived(self, name: str, compute: Callable[[Cluster], T]) -> T:
        """A value computed from this cluster once and kept with it (the cluster never changes).

        Each ``name`` must always be computed by the same function, e.g. the engine's policy IR.
        """
        if name not in self._derived:
            self._derived[name] = compute(self)
        return self._derived[name]  # type: ignore[return-value]

    def namespace(self, name: str) -> Namespace | None:
        return self._ns_index.get(name)

    def pod(self, key: str) -> Pod | None:
        """Look a pod up by ``namespace/name``."""
        return self._pod_index.get(key)

    def service(self, key: str) -> Service | None:
        return self._service_index.get(key)

    def policy(self, key: str) -> NetworkPolicy | None:
        return self._policy_index.get(key)
