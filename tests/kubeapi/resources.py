"""The resources the test API server serves: group, version, plural, kind, scope and verbs.

The table is what discovery answers (``/api/v1``, ``/apis/<group>/<version>``),
and what the server looks up to route a path to a store.
"""

from __future__ import annotations

from dataclasses import dataclass

VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True, slots=True)
class Resource:
    """One served resource; ``group`` is ``""`` for the core group."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def discovery(self) -> dict[str, object]:
        entry: dict[str, object] = {
            "name": self.plural, "singularName": self.kind.lower(), "namespaced": self.namespaced,
            "kind": self.kind, "verbs": list(VERBS),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        return entry


CORE = (
    Resource("", "v1", "namespaces", "Namespace", namespaced=False, short_names=("ns",)),
    Resource("", "v1", "pods", "Pod", short_names=("po",)),
    Resource("", "v1", "services", "Service", short_names=("svc",)),
    Resource("", "v1", "nodes", "Node", namespaced=False, short_names=("no",)),
    Resource("", "v1", "replicationcontrollers", "ReplicationController", short_names=("rc",)),
    Resource("", "v1", "secrets", "Secret"),
    Resource("", "v1", "configmaps", "ConfigMap", short_names=("cm",)),
    Resource("apps", "v1", "deployments", "Deployment", short_names=("deploy",)),
    Resource("apps", "v1", "replicasets", "ReplicaSet", short_names=("rs",)),
    Resource("apps", "v1", "statefulsets", "StatefulSet", short_names=("sts",)),
    Resource("apps", "v1", "daemonsets", "DaemonSet", short_names=("ds",)),
    Resource("batch", "v1", "jobs", "Job"),
    Resource("batch", "v1", "cronjobs", "CronJob", short_names=("cj",)),
    Resource("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", short_names=("netpol",)),
)
CLUSTER_NETWORK_POLICY = Resource("policy.networking.k8s.io", "v1alpha2", "clusternetworkpolicies",
                                  "ClusterNetworkPolicy", namespaced=False, short_names=("cnp",))
ADMIN_NETWORK_POLICY = Resource("policy.networking.k8s.io", "v1alpha1", "adminnetworkpolicies",
                                "AdminNetworkPolicy", namespaced=False, short_names=("anp",))
BASELINE_ADMIN_NETWORK_POLICY = Resource("policy.networking.k8s.io", "v1alpha1", "baselineadminnetworkpolicies",
                                         "BaselineAdminNetworkPolicy", namespaced=False, short_names=("banp",))
STAGED_KUBERNETES_NETWORK_POLICY = Resource("projectcalico.org", "v3", "stagedkubernetesnetworkpolicies",
                                            "StagedKubernetesNetworkPolicy")
OPTIONAL = (CLUSTER_NETWORK_POLICY, ADMIN_NETWORK_POLICY, BASELINE_ADMIN_NETWORK_POLICY,
            STAGED_KUBERNETES_NETWORK_POLICY)
