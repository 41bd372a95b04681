"""Namespaces, pods and services as podfence sees them.

Workload controllers (Deployment, StatefulSet, ...) are represented by one pod built
from their template; ``Pod.kind`` says which object a pod stands for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from podfence.model.labels import EMPTY_LABELS, Labels
from podfence.model.origin import Origin
from podfence.model.settings import Settings
from podfence.sets import IPAddress, Protocol

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})


@dataclass(frozen=True, slots=True)
class Namespace:
    """A namespace; ``labels`` always include ``kubernetes.io/metadata.name``.

    ``annotations`` are kept for tools that read them (lint suppressions, sensitivity
    marks); they play no part in evaluation and are left out of comparisons.
    """

    name: str
    labels: Labels = EMPTY_LABELS
    declared: bool = True
    source: Origin | None = None
    annotations: Labels = field(default=EMPTY_LABELS, compare=False)

    @classmethod
    def of(cls, name: str, labels: Labels | dict[str, str] | None = None, *, declared: bool = True,
           source: Origin | None = None, annotations: Labels | dict[str, str] | None = None) -> Namespace:
        """A namespace whose labels carry the automatic name label."""
        return cls(name, Labels(labels or {}).with_label(NAMESPACE_NAME_LABEL, name), declared, source,
                   Labels(annotations or {}))


@dataclass(frozen=True, slots=True)
class Node:
    """A Node: its labels and the IP addresses of ``status.addresses`` (InternalIP, ExternalIP).

    Only cluster-wide policies' ``nodes`` peers read it; nodes that pods name but no
    manifest declares are known by their name and the pods' host addresses alone.
    """

    name: str
    labels: Labels = EMPTY_LABELS
    addresses: tuple[IPAddress, ...] = ()
    source: Origin | None = None


@dataclass(frozen=True, slots=True)
class ContainerPort:
    """A declared container port; ``init`` marks ports of init containers."""

    port: int
    protocol: Protocol = Protocol.TCP
    name: str | None = None
    init: bool = False


@dataclass(frozen=True, slots=True)
class Pod:
    """A pod, or the representative pod of a workload controller.

    ``ips`` are the pod IPs known from ``status.podIP(s)``; pods without IPs are
    still analysed by their labels. ``host_ips`` come from ``status.hostIP(s)``.

    ``annotations`` (the object's own, for a workload its template's under the
    controller's) and ``namespace_given`` (False when the manifest named no
    namespace and the default was used) describe the manifest for tools such as
    lint; they play no part in evaluation and are left out of comparisons.

    ``owner`` is the controller named by ``metadata.ownerReferences`` (kind, name),
    and ``workload`` the top controller the loader could follow it to (a
    Deployment above its ReplicaSet, a CronJob above its Job); output groups
    replicas under their workload. Neither plays a part in evaluation.
    """

    namespace: str
    name: str
    labels: Labels = EMPTY_LABELS
    ports: tuple[ContainerPort, ...] = ()
    ips: tuple[IPAddress, ...] = ()
    host_network: bool = False
    phase: str | None = None
    node_name: str | None = None
    host_ips: tuple[IPAddress, ...] = ()
    kind: str = "Pod"
    source: Origin | None = None
    annotations: Labels = field(default=EMPTY_LABELS, compare=False)
    namespace_given: bool = field(default=True, compare=False)
    owner: tuple[str, str] | None = field(default=None, compare=False)
    workload: tuple[str, str] | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def is_terminal(self) -> bool:
        return self.phase in TERMINAL_PHASES

    def takes_part(self, settings: Settings) -> bool:
        """False for finished pods, which neither send nor receive."""
        return not (settings.terminal_pods_ignored and self.is_terminal())

    def is_pod_endpoint(self, settings: Settings) -> bool:
        """True when policies may select this pod, as subject or as peer.

        A hostNetwork pod is its node's address: no policy applies to it and no
        pod or namespace selector matches it.
        """
        return self.takes_part(settings) and not (settings.hostnetwork_as_node and self.host_network)

    def named_port_numbers(self, name: str, protocol: Protocol, settings: Settings) -> frozenset[int]:
        """Container port numbers declared under ``name`` for ``protocol``."""
        return frozenset(
            p.port for p in self.ports
            if p.name == name and p.protocol == protocol and (settings.named_port_include_init_containers or not p.init)
        )

    def families(self) -> frozenset[int]:
        return frozenset(ip.version for ip in self.ips)


@dataclass(frozen=True, slots=True)
class ServicePort:
    port: int
    target_port: int | str
    protocol: Protocol = Protocol.TCP
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Service:
    """A Service; traffic to it is judged after DNAT, at the backend pods' target ports.

    ``selector`` is None for a Service without a selector (manual endpoints).
    """

    namespace: str
    name: str
    selector: Labels | None = None
    ports: tuple[ServicePort, ...] = ()
    cluster_ips: tuple[IPAddress, ...] = ()
    type: str = "ClusterIP"
    source: Origin | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def selects(self, pod: Pod) -> bool:
        if self.selector is None or not self.selector or pod.namespace != self.namespace:
            return False
        return all(pod.labels.get(k) == v for k, v in self.selector.items())

    def target_numbers(self, service_port: ServicePort, pod: Pod, settings: Settings) -> frozenset[int]:
        """The port(s) a Service port lands on in one backend pod."""
        if isinstance(service_port.target_port, int):
            return frozenset({service_port.target_port})
        return pod.named_port_numbers(service_port.target_port, service_port.protocol, settings)
