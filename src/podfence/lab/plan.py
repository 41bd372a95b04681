"""Which pods the lab runs, at which addresses: a pure function of the cluster.

Rules (documented for users in ``podfence lab up --help``):

* Every pod that takes part (not Succeeded/Failed) gets a place in the lab, in
  cluster order (namespace, then name), numbered from 1. Workload
  representatives count as pods.
* A pod keeps the IPv4 and IPv6 address its manifest gives (``status.podIPs``,
  first of each family). A pod without an IPv4 address gets the next free one
  from the lab range (``--pod-cidr``, 10.244.0.0/16 by default), skipping every
  address that any manifest mentions. IPv6 is used only where manifests give it.
* Two pods cannot share an address in one lab: the later pod (in cluster order)
  gets a fresh lab address and a note says so. hostNetwork pods are the
  exception: they are addresses of the node, so several of them may share one.
* A hostNetwork pod lives in the node namespace, its address on the node's
  loopback; no policy applies to it and selectors never match it.
* Some addresses cannot be a pod's in the lab (:func:`unhostable`): loopback,
  link-local (the node's gateways are 169.254.1.1 and fe80::1), multicast,
  broadcast, ``0.0.0.0/8`` and ``::``. A manifest pod address
  among them is an error before anything is made (code ``LAB1``), and so is a
  ``--pod-cidr`` that overlaps them.

Since a pod without a manifest address gets one here, the engine is compared
with the lab on :func:`with_lab_addresses` of the cluster: the same cluster with
the lab's addresses filled in.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace

from podfence.lab.naming import MAX_PODS
from podfence.model import Cluster, Diagnostic, Pod, Settings
from podfence.model.diagnostic import FieldPath, error
from podfence.sets import IPAddress, Protocol, parse_ip

DEFAULT_POD_CIDR = "10.244.0.0/16"
UNHOSTABLE_CODE = "LAB1"
# Address ranges no lab pod can have, with why. A pod's address sits on its eth0
# as /32 (/128) and is routed through the node namespace: these cannot be, or
# mean something else to the kernel (the lab's own gateways are link-local).
_UNHOSTABLE = tuple((ipaddress.ip_network(cidr), why) for cidr, why in (
    ("0.0.0.0/8", "an address of 'this network' (0.0.0.0/8), which no host may use"),
    ("127.0.0.0/8", "a loopback address"),
    ("169.254.0.0/16", "a link-local address (the lab's node answers on 169.254.1.1)"),
    ("224.0.0.0/4", "a multicast address"),
    ("255.255.255.255/32", "the broadcast address"),
    ("::/128", "the unspecified address"),
    ("::1/128", "the loopback address"),
    ("fe80::/10", "a link-local address (the lab's node answers on fe80::1)"),
    ("ff00::/8", "a multicast address"),
))


class PlanError(ValueError):
    """The cluster cannot be laid out (for instance: the lab range is full)."""


@dataclass(frozen=True, slots=True)
class LabPod:
    """One pod as the lab runs it.

    Attributes:
        index: the pod's number in the lab (names its namespace and links).
        key: ``namespace/name``.
        kind: the kind of object the pod stands for (``Pod``, ``Deployment``...).
        labels: the pod's labels, sorted (denial records carry them).
        ips: the pod's addresses, IPv4 first.
        host_network: the pod lives in the node namespace.
        node_name: the node the manifest places the pod on, if any.
        tcp_ports / udp_ports / sctp_ports: the container ports to listen on.
    """

    index: int
    key: str
    kind: str
    labels: tuple[tuple[str, str], ...]
    ips: tuple[str, ...]
    host_network: bool = False
    node_name: str | None = None
    tcp_ports: tuple[int, ...] = ()
    udp_ports: tuple[int, ...] = ()
    sctp_ports: tuple[int, ...] = ()

    @property
    def namespace(self) -> str:
        return self.key.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.key.split("/", 1)[1]

    def ip(self, version: int) -> str | None:
        for text in self.ips:
            if ipaddress.ip_address(text).version == version:
                return text
        return None

    def ports(self, protocol: Protocol) -> tuple[int, ...]:
        match protocol:
            case Protocol.TCP:
                return self.tcp_ports
            case Protocol.UDP:
                return self.udp_ports
            case Protocol.SCTP:
                return self.sctp_ports

    def to_json(self) -> dict[str, object]:
        return {
            "index": self.index, "key": self.key, "kind": self.kind, "labels": dict(self.labels),
            "ips": list(self.ips), "host_network": self.host_network, "node_name": self.node_name,
            "tcp_ports": list(self.tcp_ports), "udp_ports": list(self.udp_ports),
            "sctp_ports": list(self.sctp_ports),
        }

    @classmethod
    def from_json(cls, raw: dict) -> LabPod:  # type: ignore[type-arg]
        """A pod as :meth:`to_json` wrote it, checked: ValueError when a field is not what the lab writes.

        The pod number names namespaces and files and the addresses go into
        nftables rules, so both must be exactly what the lab itself would write.
        """
        index = raw["index"]
        if type(index) is not int or not 1 <= index <= MAX_PODS:
            raise ValueError(f"pod number {index!r} is not one the lab hands out")
        ips = tuple(raw["ips"])
        for text in ips:
            if not isinstance(text, str) or parse_ip(text) is None or str(parse_ip(text)) != text:
                raise ValueError(f"{text!r} is not an address as the lab writes it")
        ports = {name: tuple(raw.get(name, ())) for name in ("tcp_ports", "udp_ports", "sctp_ports")}
        if any(type(p) is not int or not 1 <= p <= 65535 for values in ports.values() for p in values):
            raise ValueError("a port is not a number from 1 to 65535")
        return cls(
            index=index, key=str(raw["key"]), kind=str(raw["kind"]),
            labels=tuple(sorted((str(k), str(v)) for k, v in raw.get("labels", {}).items())), ips=ips,
            host_network=bool(raw.get("host_network")), node_name=raw.get("node_name"), **ports,
        )


@dataclass(frozen=True, slots=True)
class LabPlan:
    """The lab's pods, sorted by key, and notes about choices made while placing them."""

    pods: tuple[LabPod, ...]
    pod_cidr: str = DEFAULT_POD_CIDR
    notes: tuple[str, ...] = ()

    def pod(self, key: str) -> LabPod | None:
        for pod in self.pods:
            if pod.key == key:
                return pod
        return None

    def by_address(self) -> dict[str, LabPod]:
        """Every lab address and the pod that owns it (the first one, for shared node addresses)."""
        out: dict[str, LabPod] = {}
        for pod in self.pods:
            for ip in pod.ips:
                out.setdefault(ip, pod)
        return out


def plan(cluster: Cluster, settings: Settings, pod_cidr: str = DEFAULT_POD_CIDR,
         extra_ports: tuple[int, ...] = ()) -> LabPlan:
    """Lay the cluster's pods out for the lab (see the module docstring for the rules).

    ``extra_ports`` are ports every pod listens on (TCP and UDP) besides its
    container ports, so that probes of those ports meet a server.
    """
    network = _pod_network(pod_cidr)
    taken = _mentioned_addresses(cluster)
    free = _free_addresses(network, taken)
    owners: dict[str, tuple[str, bool]] = {}
    notes: list[str] = []
    pods: list[LabPod] = []
    for pod in cluster.pods:
        if not pod.takes_part(settings):
            continue
        ips: list[str] = []
        for version in (4, 6):
            wanted = next((str(ip) for ip in pod.ips if ip.version == version), None)
            if wanted is not None:
                owner = owners.get(wanted)
                node_address = pod.host_network and settings.hostnetwork_as_node
                if owner is not None and not (owner[1] and node_address):
                    fresh = next(free, None) if version == 4 else None
                    notes.append(
                        f"{pod.key}: address {wanted} is already used by {owner[0]}; "
                        + (f"the lab gives it {fresh}" if fresh else "the lab leaves it without IPv6")
                    )
                    wanted = fresh
            elif version == 4:
                wanted = next(free, None)
                if wanted is None:
                    raise PlanError(f"the lab range {network} has no free address left for {pod.key}")
            if wanted is not None:
                owners.setdefault(wanted, (pod.key, pod.host_network and settings.hostnetwork_as_node))
                ips.append(wanted)
        pods.append(_lab_pod(len(pods) + 1, pod, tuple(ips), extra_ports, settings))
        if len(pods) > MAX_PODS:
            raise PlanError(f"the lab runs at most {MAX_PODS} pods (its link names must fit 15 characters)")
    return LabPlan(tuple(pods), str(network), tuple(notes))


def unhostable_reason(address: IPAddress) -> str | None:
    """Why no lab pod can have ``address`` (one phrase), or None when one can."""
    ip = ipaddress.ip_address(str(address))
    return next((why for network, why in _UNHOSTABLE if ip.version == network.version and ip in network), None)


@dataclass(frozen=True, slots=True)
class Unhostable:
    """A manifest address of a pod that the lab cannot give it."""

    pod: Pod
    address: IPAddress
    reason: str

    @property
    def position(self) -> int:
        """Where the address is among the pod's addresses (``status.podIP`` first, then ``podIPs``)."""
        return self.pod.ips.index(self.address)

    def diagnostic(self, field: FieldPath | None = None, line: int | None = None) -> Diagnostic:
        """The error, at ``field`` and ``line`` when the caller found them in the manifest.

        Without them: the pod's line, and ``status.podIP`` for its first address,
        ``status.podIPs[i].ip`` for the others (the place they hold when the pod
        lists its first address in both, as the API server requires).
        """
        if field is None:
            field = ("status", "podIP") if self.position == 0 else ("status", "podIPs", self.position, "ip")
        message = (f"the lab cannot host {self.address}, {self.reason}: give the pod a unicast address, "
                   "or none (the lab then picks one from --pod-cidr)")
        source = self.pod.source
        return error(UNHOSTABLE_CODE, message, field).located(
            file=source.file if source else None, line=line or (source.line if source else None),
            object=f"{self.pod.kind} {self.pod.key}")


def unhostable(cluster: Cluster, settings: Settings) -> list[Unhostable]:
    """Every manifest address of a pod taking part in the lab that the lab cannot give it."""
    return [
        Unhostable(pod, address, why)
        for pod in cluster.pods if pod.takes_part(settings)
        for address in pod.ips
        if (why := unhostable_reason(address)) is not None
    ]


def with_lab_addresses(cluster: Cluster, lab_plan: LabPlan) -> Cluster:
    """The cluster with every lab pod's addresses set to the ones the lab gave it (everything
    else, cluster-wide policies, Nodes and staged policies included, as it is)."""
    pods = []
    for pod in cluster.pods:
        placed = lab_plan.pod(pod.key)
        if placed is not None:
            parsed = tuple(ip for ip in (parse_ip(text) for text in placed.ips) if ip is not None)
            pod = replace(pod, ips=parsed)
        pods.append(pod)
    return replace(cluster, pods=tuple(pods))


def _lab_pod(index: int, pod: Pod, ips: tuple[str, ...], extra_ports: tuple[int, ...],
             settings: Settings) -> LabPod:
    declared: dict[Protocol, set[int]] = {p: set() for p in Protocol}
    for cp in pod.ports:
        declared[cp.protocol].add(cp.port)
    for port in extra_ports:
        declared[Protocol.TCP].add(port)
        declared[Protocol.UDP].add(port)
    return LabPod(
        index=index, key=pod.key, kind=pod.kind, labels=tuple(sorted(pod.labels.items())), ips=ips,
        host_network=pod.host_network and settings.hostnetwork_as_node, node_name=pod.node_name,
        tcp_ports=tuple(sorted(declared[Protocol.TCP])), udp_ports=tuple(sorted(declared[Protocol.UDP])),
        sctp_ports=tuple(sorted(declared[Protocol.SCTP])),
    )


def _pod_network(pod_cidr: str) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.ip_network(pod_cidr, strict=False)
    except ValueError:
        raise PlanError(f"--pod-cidr {pod_cidr!r} is not a CIDR (e.g. 10.244.0.0/16)") from None
    if not isinstance(network, ipaddress.IPv4Network) or network.prefixlen > 30:
        raise PlanError(f"--pod-cidr {pod_cidr!r} must be an IPv4 range of at least 4 addresses")
    for other, why in _UNHOSTABLE:
        if other.version == 4 and network.overlaps(other):
            raise PlanError(f"--pod-cidr {pod_cidr!r} overlaps {other}, where the lab cannot give pods "
                            f"addresses: {why}")
    return network


def _mentioned_addresses(cluster: Cluster) -> set[str]:
    out: set[str] = set()
    for pod in cluster.pods:
        out.update(str(ip) for ip in (*pod.ips, *pod.host_ips))
    for svc in cluster.services:
        out.update(str(ip) for ip in svc.cluster_ips)
    return out


def _free_addresses(network: ipaddress.IPv4Network, taken: set[str]):  # type: ignore[no-untyped-def]
    """Addresses of ``network`` in order, without its first and last and without ``taken``."""
    first, last = int(network.network_address) + 1, int(network.broadcast_address) - 1
    for value in range(first, last + 1):
        text = str(IPAddress(4, value))
        if text not in taken:
            yield text
