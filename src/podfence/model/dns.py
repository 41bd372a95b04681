"""Cluster DNS: which pods and address answer name lookups, and on which ports.

One answer for lint (NP121, NP122, NP401), diff (``loses DNS``), generate
(``defaults.dns``, ``allow-dns``, its proof, and DNS lookups seen in flows):

* the DNS pods are the pods of ``dns.namespace`` carrying every label of
  ``dns.pod_labels`` that policies can select (not hostNetwork, not finished:
  a hostNetwork DNS server is a node address, reached by ipBlock);
* ``dns.node_local_address``, when configured, is NodeLocal DNS;
* lookups use UDP 53 and TCP 53 (TCP for answers too large for UDP).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from podfence.model.labels import Labels
from podfence.model.objects import ContainerPort, Pod
from podfence.model.policy import PolicyPort
from podfence.model.settings import Settings
from podfence.sets import ConnSet, IPAddress, Protocol

DNS_PORT = 53
DNS_PROTOCOLS = (Protocol.UDP, Protocol.TCP)
DNS_POLICY_PORTS = tuple(PolicyPort(p, DNS_PORT) for p in DNS_PROTOCOLS)
DNS_CONNS = ConnSet.ports(Protocol.UDP, DNS_PORT) | ConnSet.ports(Protocol.TCP, DNS_PORT)


@dataclass(frozen=True, slots=True)
class DnsTarget:
    """Where pods resolve names: the cluster DNS pods, and optionally NodeLocal DNS."""

    namespace: str = "kube-system"
    pod_labels: Labels = field(default_factory=lambda: Labels({"k8s-app": "kube-dns"}))
    node_local_address: IPAddress | None = None

    def is_dns_pod(self, pod: Pod, settings: Settings) -> bool:
        """A pod of the DNS namespace with the DNS labels that policies can select."""
        return (pod.namespace == self.namespace and pod.is_pod_endpoint(settings)
                and all(pod.labels.get(k) == v for k, v in self.pod_labels.items()))

    def is_node_local(self, address: IPAddress | None) -> bool:
        """True for the NodeLocal DNS address (when one is configured)."""
        return address is not None and address == self.node_local_address

    def stand_in(self) -> Pod:
        """A DNS pod for clusters whose manifests hold none: what policies written for DNS must reach."""
        return Pod(self.namespace, "cluster-dns", self.pod_labels,
                   (ContainerPort(DNS_PORT, Protocol.UDP, "dns"), ContainerPort(DNS_PORT, Protocol.TCP, "dns-tcp")))

    def describe(self) -> str:
        """``cluster DNS (pods k8s-app=kube-dns in kube-system, or NodeLocal DNS at 169.254.20.10)``."""
        text = f"cluster DNS (pods {self.pod_labels} in {self.namespace}"
        if self.node_local_address is not None:
            text += f", or NodeLocal DNS at {self.node_local_address}"
        return text + ")"


def dns_part(conns: ConnSet) -> ConnSet:
    """The DNS ports among ``conns``."""
    return conns & DNS_CONNS


def is_dns_lookup(protocol: Protocol, port: int | None) -> bool:
    """UDP or TCP to port 53."""
    return port == DNS_PORT and protocol in DNS_PROTOCOLS


__all__ = [
    "DNS_CONNS", "DNS_POLICY_PORTS", "DNS_PORT", "DNS_PROTOCOLS", "DnsTarget", "dns_part", "is_dns_lookup",
]
