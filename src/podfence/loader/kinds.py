"""Manifests of the kinds podfence models, read into model objects.

Each ``read_*`` function takes one manifest (already known to have a kind, an
apiVersion and a name) and a :class:`FieldReader` that collects problems; the
caller drops the object when the reader reports an error.

Workload controllers become one representative :class:`Pod` built from their
pod template: the template's labels, the ports of its containers and init
containers, and ``hostNetwork``; its annotations are the template's, overlaid
with the controller's own (where users write lint suppressions). It is named after the controller and its
``kind`` says which controller it stands for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podfence.loader import codes
from podfence.loader.fields import FieldReader
from podfence.model import ContainerPort, Labels, Namespace, Pod, Service, ServicePort, Source
from podfence.validate.messages import required
from podfence.validate.workloads import TEMPLATE_PATHS

# API groups each modelled kind is served under (core is ""). A kind of the same
# name in another group that looks built in (no dot, or ending in .k8s.io) is a
# mistake; in any other group it is a custom resource that merely shares the name.
GROUPS: dict[str, frozenset[str]] = {
    "Namespace": frozenset({""}),
    "Pod": frozenset({""}),
    "Service": frozenset({""}),
    "ReplicationController": frozenset({""}),
    "Deployment": frozenset({"apps", "extensions"}),
    "DaemonSet": frozenset({"apps", "extensions"}),
    "ReplicaSet": frozenset({"apps", "extensions"}),
    "StatefulSet": frozenset({"apps"}),
    "Job": frozenset({"batch"}),
    "CronJob": frozenset({"batch"}),
    "NetworkPolicy": frozenset({"networking.k8s.io"}),
    "ClusterNetworkPolicy": frozenset({"policy.networking.k8s.io"}),
    "AdminNetworkPolicy": frozenset({"policy.networking.k8s.io"}),
    "BaselineAdminNetworkPolicy": frozenset({"policy.networking.k8s.io"}),
    "Node": frozenset({""}),
    "StagedKubernetesNetworkPolicy": frozenset({"projectcalico.org"}),
}
PREFERRED_VERSION = {
    "Namespace": "v1", "Pod": "v1", "Service": "v1", "ReplicationController": "v1",
    "Deployment": "apps/v1", "DaemonSet": "apps/v1", "ReplicaSet": "apps/v1", "StatefulSet": "apps/v1",
    "Job": "batch/v1", "CronJob": "batch/v1", "NetworkPolicy": "networking.k8s.io/v1",
    "ClusterNetworkPolicy": "policy.networking.k8s.io/v1alpha2",
    "AdminNetworkPolicy": "policy.networking.k8s.io/v1alpha1",
    "BaselineAdminNetworkPolicy": "policy.networking.k8s.io/v1alpha1",
    "Node": "v1",
    "StagedKubernetesNetworkPolicy": "projectcalico.org/v3",
}
# Kinds served under exactly one apiVersion: any other version of the group is an error
# (or, in a custom resource group, not modelled).
ONE_VERSION = frozenset({"NetworkPolicy", "StagedKubernetesNetworkPolicy", "ClusterNetworkPolicy",
                         "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"})
# The namespaced policy kinds: enforced NetworkPolicies and staged ones.
POLICY_KINDS = frozenset({"NetworkPolicy", "StagedKubernetesNetworkPolicy"})
CLUSTER_SCOPED = frozenset({"Namespace", "Node", "ClusterNetworkPolicy", "AdminNetworkPolicy",
                            "BaselineAdminNetworkPolicy"})


def api_group(api_version: str) -> str:
    """``apps/v1`` -> ``apps``; ``v1`` -> ``""`` (the core group)."""
    return api_version.rpartition("/")[0]


def looks_built_in(group: str) -> bool:
    """True for groups the API server itself serves; custom resource groups contain a dot."""
    return "." not in group or group.endswith(".k8s.io")


def read_namespace(doc: Mapping[str, Any], name: str, source: Source, r: FieldReader) -> Namespace:
    meta = r.as_map(doc.get("metadata"), ("metadata",))
    labels = r.as_labels(meta.get("labels"), ("metadata", "labels"))
    annotations = r.as_labels(meta.get("annotations"), ("metadata", "annotations"))
    return Namespace.of(name, labels, declared=True, source=source, annotations=annotations)


def read_pod(doc: Mapping[str, Any], namespace: str, name: str, source: Source, r: FieldReader) -> Pod:
    """A bare Pod: its own labels and containers, plus what ``status`` says about it."""
    meta = r.as_map(doc.get("metadata"), ("metadata",))
    labels = r.as_labels(meta.get("labels"), ("metadata", "labels"))
    spec = r.as_map(doc.get("spec"), ("spec",))
    ports, host_network = _pod_spec(spec, ("spec",), r)
    status = r.as_map(doc.get("status"), ("status",))
    return Pod(
        namespace=namespace, name=name, labels=labels, ports=ports, host_network=host_network,
        ips=r.as_ips(status.get("podIP"), ("status", "podIP"), status.get("podIPs"), ("status", "podIPs")),
        phase=r.as_str(status.get("phase"), ("status", "phase")) or None,
        node_name=r.as_str(spec.get("nodeName"), ("spec", "nodeName")) or None,
        host_ips=r.as_ips(status.get("hostIP"), ("status", "hostIP"), status.get("hostIPs"), ("status", "hostIPs")),
        kind="Pod", source=source, annotations=r.as_labels(meta.get("annotations"), ("metadata", "annotations")),
        owner=controller_of(meta),
    )


def read_workload(doc: Mapping[str, Any], kind: str, namespace: str, name: str, source: Source,
                  r: FieldReader) -> Pod | None:
    """The representative pod of a workload controller, from its pod template."""
    path: tuple[str, ...] = ()
    node: Mapping[str, Any] = doc
    for key in TEMPLATE_PATHS[kind]:
        path += (key,)
        value = node.get(key)
        if value is None:
            r.add(required(codes.MISSING_FIELD, path, f"a {kind} needs a pod template at "
                                                      f"{'.'.join(TEMPLATE_PATHS[kind])}"))
            return None
        node = r.as_map(value, path)
    template_meta = r.as_map(node.get("metadata"), path + ("metadata",))
    labels = r.as_labels(template_meta.get("labels"), path + ("metadata", "labels"))
    ports, host_network = _pod_spec(r.as_map(node.get("spec"), path + ("spec",)), path + ("spec",), r)
    own = r.as_labels(r.as_map(doc.get("metadata"), ("metadata",)).get("annotations"), ("metadata", "annotations"))
    template = r.as_labels(template_meta.get("annotations"), path + ("metadata", "annotations"))
    return Pod(namespace=namespace, name=name, labels=labels, ports=ports, host_network=host_network,
               kind=kind, source=source, annotations=Labels({**template, **own}),
               owner=controller_of(r.as_map(doc.get("metadata"), ("metadata",))))


def controller_of(meta: Mapping[str, Any]) -> tuple[str, str] | None:
    """(kind, name) of the workload controller in ``metadata.ownerReferences``, if any.

    The reference marked ``controller: true`` names it; a list that marks none
    names it by its first reference to a workload kind. Problems in the list are
    validation's to report; here a malformed entry is simply not followed.
    """
    refs = meta.get("ownerReferences")
    if not isinstance(refs, list):
        return None
    entries = [(ref.get("kind"), ref.get("name"), ref.get("controller")) for ref in refs if isinstance(ref, Mapping)]
    entries = [(k, n, c) for k, n, c in entries if isinstance(k, str) and isinstance(n, str) and k and n]
    marked = [(k, n) for k, n, c in entries if c is True]
    if marked:
        return marked[0]
    if any(c is not None for _, _, c in entries):
        return None
    return next(((k, n) for k, n, _ in entries if k in TEMPLATE_PATHS), None)


def _pod_spec(spec: Mapping[str, Any], path: tuple[str | int, ...],
              r: FieldReader) -> tuple[tuple[ContainerPort, ...], bool]:
    ports: list[ContainerPort] = []
    for key, init in (("containers", False), ("initContainers", True)):
        containers_path = path + (key,)
        for i, container in enumerate(r.as_list(spec.get(key), containers_path)):
            container_path = containers_path + (i,)
            container = r.as_map(container, container_path)
            ports_path = container_path + ("ports",)
            for j, port in enumerate(r.as_list(container.get("ports"), ports_path)):
                port_path = ports_path + (j,)
                port = r.as_map(port, port_path)
                number = r.as_port(port.get("containerPort"), port_path + ("containerPort",))
                protocol = r.as_protocol(port.get("protocol"), port_path + ("protocol",))
                port_name = r.as_port_name(port.get("name"), port_path + ("name",))
                if number is not None:
                    ports.append(ContainerPort(number, protocol, port_name, init))
    return tuple(ports), r.as_bool(spec.get("hostNetwork"), path + ("hostNetwork",))


def read_service(doc: Mapping[str, Any], namespace: str, name: str, source: Source, r: FieldReader) -> Service:
    """A Service: selector, ports (``targetPort`` defaults to ``port``), cluster IPs and type."""
    spec = r.as_map(doc.get("spec"), ("spec",))
    raw_selector = spec.get("selector")
    selector = r.as_labels(raw_selector, ("spec", "selector")) if raw_selector is not None else None
    ports: list[ServicePort] = []
    for i, entry in enumerate(r.as_list(spec.get("ports"), ("spec", "ports"))):
        path = ("spec", "ports", i)
        entry = r.as_map(entry, path)
        number = r.as_port(entry.get("port"), path + ("port",))
        target = _target_port(entry.get("targetPort"), path + ("targetPort",), r)
        protocol = r.as_protocol(entry.get("protocol"), path + ("protocol",))
        port_name = r.as_str(entry.get("name"), path + ("name",)) or None
        if number is not None:
            ports.append(ServicePort(number, number if target is None else target, protocol, port_name))
    cluster_ips: list[Any] = []
    for value, value_path in _cluster_ip_values(spec, r):
        if value in ("", "None"):
            continue
        address = r.as_ip(value, value_path)
        if address is not None and address not in cluster_ips:
            cluster_ips.append(address)
    service_type = r.as_str(spec.get("type"), ("spec", "type")) or "ClusterIP"
    return Service(namespace=namespace, name=name, selector=selector, ports=tuple(ports),
                   cluster_ips=tuple(cluster_ips), type=service_type, source=source)


def _target_port(value: Any, path: tuple[str | int, ...], r: FieldReader) -> int | str | None:
    """An int-or-string ``targetPort``; None when absent (it then equals ``port``).

    A quoted number is a string, hence a port name, and no port name is all digits:
    the API server refuses ``targetPort: "8080"``, and so does podfence.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return r.as_port_name(value, path)
    return r.as_port(value, path)


def _cluster_ip_values(spec: Mapping[str, Any], r: FieldReader) -> list[tuple[Any, tuple[str | int, ...]]]:
    values: list[tuple[Any, tuple[str | int, ...]]] = []
    single = spec.get("clusterIP")
    if single is not None:
        values.append((single, ("spec", "clusterIP")))
    for i, value in enumerate(r.as_list(spec.get("clusterIPs"), ("spec", "clusterIPs"))):
        values.append((value, ("spec", "clusterIPs", i)))
    return values
