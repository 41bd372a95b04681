"""Cluster DNS (podfence.model.dns): which pods and address answer lookups, and on which ports."""

from __future__ import annotations

from podfence.config import DnsTarget as ConfiguredDnsTarget
from podfence.model import ContainerPort, Labels, Pod, PolicyPort, Settings
from podfence.model.dns import DNS_CONNS, DNS_POLICY_PORTS, DNS_PORT, DnsTarget, dns_part, is_dns_lookup
from podfence.sets import ConnSet, Protocol, parse_ip

SETTINGS = Settings()


def test_the_configuration_uses_the_model_value() -> None:
    assert ConfiguredDnsTarget is DnsTarget
    assert DnsTarget().namespace == "kube-system" and DnsTarget().pod_labels == Labels({"k8s-app": "kube-dns"})


def test_dns_pods_are_selectable_pods_of_the_namespace_with_the_labels() -> None:
    dns = DnsTarget()
    assert dns.is_dns_pod(Pod("kube-system", "coredns", Labels({"k8s-app": "kube-dns", "x": "y"})), SETTINGS)
    assert not dns.is_dns_pod(Pod("other", "coredns", Labels({"k8s-app": "kube-dns"})), SETTINGS)
    assert not dns.is_dns_pod(Pod("kube-system", "coredns", Labels({"k8s-app": "coredns"})), SETTINGS)
    host = Pod("kube-system", "coredns", Labels({"k8s-app": "kube-dns"}), host_network=True)
    assert not dns.is_dns_pod(host, SETTINGS)
    assert dns.is_dns_pod(host, SETTINGS.with_values(hostnetwork_as_node=False))
    done = Pod("kube-system", "coredns", Labels({"k8s-app": "kube-dns"}), phase="Succeeded")
    assert not dns.is_dns_pod(done, SETTINGS)


def test_node_local_address() -> None:
    address = parse_ip("169.254.20.10")
    assert DnsTarget(node_local_address=address).is_node_local(parse_ip("169.254.20.10"))
    assert not DnsTarget(node_local_address=address).is_node_local(parse_ip("169.254.20.11"))
    assert not DnsTarget().is_node_local(address) and not DnsTarget().is_node_local(None)


def test_ports() -> None:
    assert DNS_PORT == 53
    assert DNS_POLICY_PORTS == (PolicyPort(Protocol.UDP, 53), PolicyPort(Protocol.TCP, 53))
    assert DNS_CONNS == ConnSet.ports(Protocol.UDP, 53) | ConnSet.ports(Protocol.TCP, 53)
    assert dns_part(ConnSet.all()) == DNS_CONNS and not dns_part(ConnSet.ports(Protocol.SCTP, 53))
    assert is_dns_lookup(Protocol.UDP, 53) and is_dns_lookup(Protocol.TCP, 53)
    assert not is_dns_lookup(Protocol.SCTP, 53) and not is_dns_lookup(Protocol.UDP, 5353)


def test_stand_in_and_description() -> None:
    dns = DnsTarget(node_local_address=parse_ip("169.254.20.10"))
    stand_in = dns.stand_in()
    assert dns.is_dns_pod(stand_in, SETTINGS)
    assert stand_in.ports == (ContainerPort(53, Protocol.UDP, "dns"), ContainerPort(53, Protocol.TCP, "dns-tcp"))
    assert dns.describe() == "cluster DNS (pods k8s-app=kube-dns in kube-system, or NodeLocal DNS at 169.254.20.10)"
    assert DnsTarget().describe() == "cluster DNS (pods k8s-app=kube-dns in kube-system)"
