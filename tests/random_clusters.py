"""Small random clusters for comparing the engine with the oracle.

Everything comes from one ``random.Random(seed)``, so a failing seed reproduces
its cluster exactly. The alphabets are tiny on purpose (a handful of labels,
ports 53/80/81/443/8080, addresses in 10.0.0.0/27 and fd00::/123) so that
selectors, port ranges, named ports and ipBlocks coincide often.

Address plan: pod IPs come from 10.0.0.0-15 and fd00::0-f; node n1 is
10.0.0.17 and fd00::11, node n2 is 10.0.0.18 (IPv4 only); a hostNetwork pod has
its node's addresses as its IPs. ipBlocks are drawn inside the /27 and /123 (plus
a few wide ones), so they cut through pods, nodes and outside addresses alike.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import yaml

from podfence.model import Cluster, ClusterPolicy, ContainerPort, Labels, Namespace, NetworkPolicy, Node, Pod
from podfence.sets import IPAddress, Protocol, parse_cidr, parse_ip

NAMESPACES = ("a", "b", "c")
NS_LABELS = {"team": ("x", "y"), "env": ("prod", "dev", "")}
POD_LABELS = {"app": ("web", "db", "fe"), "role": ("c", "s"), "env": ("prod", "dev", "")}
PORTS = (53, 80, 81, 443, 8080)
PORT_NAMES = ("http", "dns", "metrics")
NODES = {
    "n1": (IPAddress(4, 0x0A000011), IPAddress(6, 0xFD00 << 112 | 0x11)),
    "n2": (IPAddress(4, 0x0A000012),),
}
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
WIDE_CIDRS = ("0.0.0.0/0", "10.0.0.0/8", "::/0", "fd00::/64")


@dataclass(frozen=True)
class RandomCluster:
    """A generated cluster with the manifests its policies were built from."""

    seed: int
    cluster: Cluster
    manifests: tuple[dict[str, Any], ...]

    def describe(self) -> str:
        """The whole cluster as readable text, for assertion messages."""
        lines = [f"seed {self.seed}", "namespaces:"]
        for ns in self.cluster.namespaces:
            lines.append(f"  {ns.name} {{{ns.labels}}}")
        lines.append("pods:")
        for pod in self.cluster.pods:
            lines.append("  " + describe_pod(pod))
        lines.append("policies:")
        lines.append(yaml.safe_dump_all(list(self.manifests), sort_keys=False, default_flow_style=None).rstrip())
        return "\n".join(lines)


def describe_pod(pod: Pod) -> str:
    bits = [f"{pod.key} ({pod.kind})", f"{{{pod.labels}}}"]
    if pod.ips:
        bits.append("ips=" + ",".join(str(ip) for ip in pod.ips))
    if pod.host_network:
        bits.append("hostNetwork")
    if pod.phase:
        bits.append(f"phase={pod.phase}")
    if pod.node_name:
        bits.append(f"node={pod.node_name}")
    if pod.host_ips:
        bits.append("hostIPs=" + ",".join(str(ip) for ip in pod.host_ips))
    if pod.ports:
        bits.append("ports=" + ",".join(
            f"{p.name or '-'}:{p.port}/{p.protocol}{'(init)' if p.init else ''}" for p in pod.ports
        ))
    return " ".join(bits)


def random_cluster(seed: int, tiers: bool = False) -> RandomCluster:
    """The cluster for ``seed``: 1-3 namespaces, 2-7 pods, 1-5 policies.

    ``tiers``: the same cluster plus 1-4 cluster-wide policies (ClusterNetworkPolicy
    in both tiers, AdminNetworkPolicy, at most one BaselineAdminNetworkPolicy), some
    NetworkPolicies fewer, and Node objects for n1 and n2 with random labels.
    """
    rng = random.Random(seed)
    ns_names = sorted(rng.sample(NAMESPACES, rng.randint(1, len(NAMESPACES))))
    namespaces = [Namespace.of(n, _labels(rng, NS_LABELS)) for n in ns_names]
    pods = _pods(rng, ns_names)
    manifests = tuple(_policy(rng, i, ns_names) for i in range(rng.randint(1, 5)))
    if not tiers:
        policies = [NetworkPolicy.from_dict(m) for m in manifests]
        return RandomCluster(seed, Cluster.of(namespaces, pods, (), policies), manifests)
    manifests = manifests[:rng.randint(0, len(manifests))]
    policies = [NetworkPolicy.from_dict(m) for m in manifests]
    cluster_manifests = _cluster_policies(rng)
    nodes = [Node(name, Labels(_labels(rng, NODE_LABELS)), addresses) for name, addresses in NODES.items()
             if rng.random() < 0.7]
    cluster = Cluster.of(namespaces, pods, (), policies, nodes=nodes,
                         cluster_policies=[ClusterPolicy.from_dict(m) for m in cluster_manifests])
    return RandomCluster(seed, cluster, manifests + cluster_manifests)


NODE_LABELS = {"kubernetes.io/os": ("linux", "windows"), "zone": ("z1", "z2")}
DOMAINS = ("api.example.com", "*.example.com", "example.com", "db.internal.")
DNS_MAP = (("api.example.com", (IPAddress(4, 0x0A000005), IPAddress(4, 0xC0000201))),
           ("example.com", (IPAddress(4, 0x0A000007),)),
           ("db.internal", (IPAddress(6, 0xFD00 << 112 | 0x3),)))


def _cluster_policies(rng: random.Random) -> tuple[dict[str, Any], ...]:
    out = []
    banp = False
    for i in range(rng.randint(1, 4)):
        kind = rng.choice(("ClusterNetworkPolicy", "ClusterNetworkPolicy", "AdminNetworkPolicy",
                           "BaselineAdminNetworkPolicy"))
        if kind == "BaselineAdminNetworkPolicy" and banp:
            kind = "AdminNetworkPolicy"
        banp = banp or kind == "BaselineAdminNetworkPolicy"
        v1 = kind != "ClusterNetworkPolicy"
        spec: dict[str, Any] = {"subject": _cluster_subject(rng, v1)}
        if kind == "ClusterNetworkPolicy":
            spec["tier"] = rng.choice(("Admin", "Baseline"))
        if kind != "BaselineAdminNetworkPolicy":
            spec["priority"] = rng.choice((1, 2, 2, 3))
        actions = {"ClusterNetworkPolicy": ("Accept", "Deny", "Pass"), "AdminNetworkPolicy": ("Allow", "Deny", "Pass"),
                   "BaselineAdminNetworkPolicy": ("Allow", "Deny")}[kind]
        for direction, peers_key in (("ingress", "from"), ("egress", "to")):
            if rng.random() < 0.3:
                continue
            spec[direction] = [_cluster_rule(rng, peers_key, actions, v1) for _ in range(rng.randint(1, 3))]
        name = "default" if kind == "BaselineAdminNetworkPolicy" else rng.choice(("cp-a", "cp-b", f"cp{i}"))
        out.append({"apiVersion": "policy.networking.k8s.io/" + ("v1alpha1" if v1 else "v1alpha2"), "kind": kind,
                    "metadata": {"name": name}, "spec": spec})
    # one object per kind and name
    return tuple({(m["kind"], m["metadata"]["name"]): m for m in out}.values())


def _cluster_subject(rng: random.Random, v1: bool) -> dict[str, Any]:
    if rng.random() < 0.5:
        return {"namespaces": _selector(rng, NS_LABELS)}
    pods: dict[str, Any] = {"podSelector": _selector(rng, POD_LABELS)}
    if v1 or rng.random() < 0.6:
        pods["namespaceSelector"] = _selector(rng, NS_LABELS)
    return {"pods": pods}


def _cluster_rule(rng: random.Random, peers_key: str, actions: tuple[str, ...], v1: bool) -> dict[str, Any]:
    rule: dict[str, Any] = {"action": rng.choice(actions),
                            peers_key: [_cluster_peer(rng, peers_key == "to", v1) for _ in range(rng.randint(1, 2))]}
    if rng.random() < 0.3:
        rule["name"] = rng.choice(("r1", "r2"))
    if rng.random() < 0.6:
        key = "ports" if v1 else "protocols"
        rule[key] = [_cluster_port(rng, v1) for _ in range(rng.randint(1, 2))]
    return rule


def _cluster_peer(rng: random.Random, egress: bool, v1: bool) -> dict[str, Any]:
    shape = rng.random()
    if shape < 0.03:
        return {"futureField": {}}  # a field podfence does not know: fail closed
    if shape < 0.3 or not egress and shape < 0.6:
        return {"namespaces": _selector(rng, NS_LABELS)}
    if shape < 0.6 or not egress:
        pods: dict[str, Any] = {"podSelector": _selector(rng, POD_LABELS)}
        if v1 or rng.random() < 0.6:
            pods["namespaceSelector"] = _selector(rng, NS_LABELS)
        return {"pods": pods}
    if shape < 0.8:
        cidrs = {_small_cidr(rng, 4, 0x0A000000, 27) if rng.random() < 0.6 else _small_cidr(rng, 6, 0xFD00 << 112, 123)
                 for _ in range(rng.randint(1, 2))}
        if rng.random() < 0.15:
            cidrs.add(rng.choice(WIDE_CIDRS))
        return {"networks": sorted(cidrs)}
    if shape < 0.92:
        return {"nodes": _selector(rng, NODE_LABELS)}
    return {"domainNames": sorted(set(rng.sample(DOMAINS, rng.randint(1, 2))))}


def _cluster_port(rng: random.Random, v1: bool) -> dict[str, Any]:
    shape = rng.random()
    if shape < 0.04:
        return {"futurePort": {}}
    protocol = rng.choice(("TCP", "UDP", "SCTP"))
    low = rng.choice(PORTS)
    high = rng.choice([p for p in PORTS if p > low] + [low + 1])
    if v1:
        if shape < 0.5:
            return {"portNumber": {"protocol": protocol, "port": low}}
        if shape < 0.75:
            return {"portRange": {"protocol": protocol, "start": low, "end": high}}
        return {"namedPort": rng.choice(PORT_NAMES)}
    if shape < 0.5:
        return {protocol.lower(): {"destinationPort": {"number": low}}}
    if shape < 0.75:
        return {protocol.lower(): {"destinationPort": {"range": {"start": low, "end": high}}}}
    return {"destinationNamedPort": rng.choice(PORT_NAMES)}


def _labels(rng: random.Random, alphabet: dict[str, tuple[str, ...]]) -> Labels:
    return Labels({k: rng.choice(vs) for k, vs in alphabet.items() if rng.random() < 0.5})


def _pods(rng: random.Random, ns_names: list[str]) -> list[Pod]:
    free4 = list(range(16))
    free6 = list(range(16))
    rng.shuffle(free4)
    rng.shuffle(free6)
    terminal_ips: list[IPAddress] = []
    pods = []
    for i in range(rng.randint(2, 7)):
        ns = rng.choice(ns_names)
        labels = _labels(rng, POD_LABELS)
        ports = tuple(_container_port(rng) for _ in range(rng.choice((0, 1, 1, 2, 3))))
        if rng.random() < 0.25:
            pods.append(Pod(ns, f"w{i}", labels, ports, kind=rng.choice(WORKLOAD_KINDS)))
            continue
        node = rng.choice(("n1", "n1", "n2", None))
        host_ips = NODES[node] if node is not None and rng.random() < 0.8 else ()
        phase = rng.choice(("Running",) * 6 + ("Pending", None, "Succeeded", "Failed"))
        if rng.random() < 0.15:
            pods.append(Pod(ns, f"h{i}", labels, ports, host_ips, True, phase, node, host_ips))
            continue
        ips: list[IPAddress] = []
        family = rng.choice(("none", "v4", "v4", "v6", "dual", "dual"))
        if family in ("v4", "dual"):
            reuse = terminal_ips and phase not in ("Succeeded", "Failed") and rng.random() < 0.3
            ips.append(rng.choice(terminal_ips) if reuse else IPAddress(4, 0x0A000000 + free4.pop()))
        if family in ("v6", "dual"):
            ips.append(IPAddress(6, 0xFD00 << 112 | free6.pop()))
        if phase in ("Succeeded", "Failed"):
            terminal_ips.extend(ip for ip in ips if ip.version == 4)
        pods.append(Pod(ns, f"p{i}", labels, ports, tuple(ips), False, phase, node, host_ips))
    return pods


def _container_port(rng: random.Random) -> ContainerPort:
    protocol = rng.choice((Protocol.TCP, Protocol.TCP, Protocol.UDP, Protocol.SCTP))
    name = rng.choice(PORT_NAMES + (None,))
    return ContainerPort(rng.choice(PORTS), protocol, name, init=rng.random() < 0.2)


def _policy(rng: random.Random, index: int, ns_names: list[str]) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if rng.random() < 0.8:
        spec["podSelector"] = _selector(rng, POD_LABELS)
    types = rng.choice((None, None, ["Ingress"], ["Egress"], ["Ingress", "Egress"], ["Egress", "Ingress"], []))
    if types is not None:
        spec["policyTypes"] = types
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        shape = rng.random()
        if shape < 0.2:
            continue
        if shape < 0.3:
            spec[direction] = []
        else:
            spec[direction] = [_rule(rng, peers_key) for _ in range(rng.randint(1, 3))]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"pol{index}", "namespace": rng.choice(ns_names)},
        "spec": spec,
    }


def _selector(rng: random.Random, alphabet: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rng.random() < 0.5:
        keys = rng.sample(sorted(alphabet), rng.randint(1, 2))
        out["matchLabels"] = {k: rng.choice(alphabet[k]) for k in keys}
    if rng.random() < 0.4:
        out["matchExpressions"] = [_expression(rng, alphabet) for _ in range(rng.randint(1, 2))]
    return out


def _expression(rng: random.Random, alphabet: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    key = rng.choice(sorted(alphabet) + ["kubernetes.io/metadata.name"])
    values = alphabet.get(key, NAMESPACES)
    operator = rng.choice(("In", "NotIn", "Exists", "DoesNotExist"))
    expr: dict[str, Any] = {"key": key, "operator": operator}
    if operator in ("In", "NotIn"):
        expr["values"] = rng.sample(values, rng.randint(1, len(values)))
    return expr


def _rule(rng: random.Random, peers_key: str) -> dict[str, Any]:
    rule: dict[str, Any] = {}
    shape = rng.random()
    if shape < 0.15:
        return rule
    if shape < 0.25:
        rule["ports"] = []
    elif shape < 0.75:
        rule["ports"] = [_port(rng) for _ in range(rng.randint(1, 3))]
    shape = rng.random()
    if shape < 0.1:
        rule[peers_key] = []
    elif shape < 0.8:
        rule[peers_key] = [_peer(rng) for _ in range(rng.randint(1, 3))]
    return rule


def _port(rng: random.Random) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    protocol = rng.choice((None, None, "TCP", "UDP", "SCTP"))
    if protocol is not None:
        entry["protocol"] = protocol
    shape = rng.random()
    if shape < 0.15:
        return entry
    if shape < 0.55:
        entry["port"] = rng.choice(PORTS)
    elif shape < 0.75:
        low = rng.choice(PORTS)
        entry["port"] = low
        entry["endPort"] = rng.choice([p for p in PORTS if p >= low] + [low + 1])
    else:
        entry["port"] = rng.choice(PORT_NAMES)
    return entry


def _peer(rng: random.Random) -> dict[str, Any]:
    shape = rng.random()
    if shape < 0.3:
        return {"ipBlock": _ip_block(rng)}
    if shape < 0.5:
        return {"podSelector": _selector(rng, POD_LABELS)}
    if shape < 0.7:
        return {"namespaceSelector": _selector(rng, NS_LABELS)}
    return {"namespaceSelector": _selector(rng, NS_LABELS), "podSelector": _selector(rng, POD_LABELS)}


def _ip_block(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.2:
        cidr = rng.choice(WIDE_CIDRS)
    elif rng.random() < 0.7:
        cidr = _small_cidr(rng, 4, 0x0A000000, 27)
    else:
        cidr = _small_cidr(rng, 6, 0xFD00 << 112, 123)
    block: dict[str, Any] = {"cidr": cidr}
    parsed = parse_cidr(cidr)
    assert parsed is not None
    bits = 32 if parsed.version == 4 else 128
    if parsed.prefix < bits and rng.random() < 0.5:
        block["except"] = [_sub_cidr(rng, parsed.version, parsed.first, parsed.prefix, bits)
                           for _ in range(rng.randint(1, 2))]
    return block


def _small_cidr(rng: random.Random, version: int, base: int, space_prefix: int) -> str:
    bits = 32 if version == 4 else 128
    prefix = rng.randint(space_prefix, bits)
    address = base + rng.randrange(1 << (bits - space_prefix))
    if rng.random() < 0.7:  # mostly the network address; sometimes with host bits set
        address &= ~((1 << (bits - prefix)) - 1)
    return f"{IPAddress(version, address)}/{prefix}"


def _sub_cidr(rng: random.Random, version: int, first: int, prefix: int, bits: int) -> str:
    """A strict subset of the network ``first/prefix``, drawn near its low end."""
    sub_prefix = rng.randint(max(prefix + 1, bits - 5), bits)
    offset = rng.randrange(min(1 << (bits - prefix), 1 << 6))
    address = (first + offset) & ~((1 << (bits - sub_prefix)) - 1)
    return f"{IPAddress(version, address)}/{sub_prefix}"


def mentioned_ports(cluster: Cluster) -> list[int]:
    """Every port in the cluster's rules and containers, one either side, and 1 and 65535."""
    ports = {1, 65535}
    for pol in cluster.policies:
        for rule in (*pol.ingress, *pol.egress):
            for entry in rule.ports:
                for value in (entry.port, entry.end_port):
                    if isinstance(value, int):
                        ports.update((value - 1, value, value + 1))
    for cp_pol in cluster.cluster_policies:
        for crule in (*cp_pol.ingress, *cp_pol.egress):
            for centry in crule.ports:
                for value in (getattr(centry, "first", None), getattr(centry, "last", None)):
                    if isinstance(value, int):
                        ports.update((value - 1, value, value + 1))
    for pod in cluster.pods:
        for cp in pod.ports:
            ports.update((cp.port - 1, cp.port, cp.port + 1))
    return sorted(p for p in ports if 1 <= p <= 65535)


def probe_addresses(cluster: Cluster) -> list[IPAddress]:
    """Addresses at every ipBlock boundary, the nodes, and a few outside ones.

    Addresses that are IPs of pods (hostNetwork and finished pods included) are
    left out: they are pods, not bare addresses.
    """
    found: set[IPAddress] = set()
    for pol in cluster.policies:
        for rule in (*pol.ingress, *pol.egress):
            for peer in rule.peers:
                if peer.ip_block is None:
                    continue
                for text in (peer.ip_block.cidr, *peer.ip_block.except_):
                    parsed = parse_cidr(text)
                    assert parsed is not None
                    top = (1 << (32 if parsed.version == 4 else 128)) - 1
                    for value in (parsed.first - 1, parsed.first, parsed.last, parsed.last + 1):
                        if 0 <= value <= top:
                            found.add(IPAddress(parsed.version, value))
    for cp_pol in cluster.cluster_policies:
        for crule in cp_pol.egress:
            for cpeer in crule.peers:
                for text in getattr(cpeer, "cidrs", ()):
                    parsed = parse_cidr(text)
                    assert parsed is not None
                    top = (1 << (32 if parsed.version == 4 else 128)) - 1
                    for value in (parsed.first - 1, parsed.first, parsed.last, parsed.last + 1):
                        if 0 <= value <= top:
                            found.add(IPAddress(parsed.version, value))
    for _, addresses in DNS_MAP:
        found.update(addresses)
    for addresses in NODES.values():
        found.update(addresses)
    for text in ("192.0.2.1", "10.0.0.40", "11.0.0.1", "2001:db8::1", "fd00::40", "fd00:1::1"):
        ip = parse_ip(text)
        assert ip is not None
        found.add(ip)
    pod_ips = {ip for pod in cluster.pods for ip in pod.ips}
    return sorted(found - pod_ips, key=lambda ip: (ip.version, ip.value))
