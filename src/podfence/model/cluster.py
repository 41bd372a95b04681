"""A cluster snapshot: namespaces, pods, services and NetworkPolicies."""

from __future__ import annotations

from dataclasses import dataclass, field

from podfence.model.objects import Namespace, Pod, Service
from podfence.model.policy import NetworkPolicy


@dataclass(frozen=True, slots=True)
class Cluster:
    """Everything the engine needs, in a stable order (namespace, then name).

    Every namespace that a pod, service or policy lives in is present in
    ``namespaces`` (the loader creates undeclared ones with only their name label).
    """

    namespaces: tuple[Namespace, ...] = ()
    pods: tuple[Pod, ...] = ()
    services: tuple[Service, ...] = ()
    policies: tuple[NetworkPolicy, ...] = ()
    _ns_index: dict[str, Namespace] = field(default_factory=dict, init=False, repr=False, compare=False)
    _pod_index: dict[str, Pod] = field(default_factory=dict, init=False, repr=False, compare=False)
    _service_index: dict[str, Service] = field(default_factory=dict, init=False, repr=False, compare=False)
    _policy_index: dict[str, NetworkPolicy] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._ns_index.update((ns.name, ns) for ns in self.namespaces)
        self._pod_index.update((p.key, p) for p in self.pods)
        self._service_index.update((s.key, s) for s in self.services)
        self._policy_index.update((p.key, p) for p in self.policies)

    @classmethod
    def of(cls, namespaces=(), pods=(), services=(), policies=()) -> Cluster:  # type: ignore[no-untyped-def]
        """Build a cluster, sorting everything and adding missing namespaces."""
        ns = {n.name: n for n in namespaces}
        for obj in (*pods, *services, *policies):
            if obj.namespace not in ns:
                ns[obj.namespace] = Namespace.of(obj.namespace, declared=False)
        return cls(
            namespaces=tuple(sorted(ns.values(), key=lambda n: n.name)),
            pods=tuple(sorted(pods, key=lambda p: (p.namespace, p.name))),
            services=tuple(sorted(services, key=lambda s: (s.namespace, s.name))),
            policies=tuple(sorted(policies, key=lambda p: (p.namespace, p.name))),
        )

    def namespace(self, name: str) -> Namespace | None:
        return self._ns_index.get(name)

    def pod(self, key: str) -> Pod | None:
        """Look a pod up by ``namespace/name``."""
        return self._pod_index.get(key)

    def service(self, key: str) -> Service | None:
        return self._service_index.get(key)

    def policy(self, key: str) -> NetworkPolicy | None:
        return self._policy_index.get(key)
