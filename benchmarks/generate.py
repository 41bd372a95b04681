"""Deterministic synthetic clusters for podfence benchmarks.

``python benchmarks/generate.py --pods N --policies M --seed S --out DIR`` writes
a cluster as YAML: ``namespaces.yaml``, ``workloads-NN.yaml`` (workloads and their
Services) and ``policies-NN.yaml``. ``--cluster-policies K`` adds
``cluster-policies.yaml``: K ClusterNetworkPolicies, alternately in the Admin and
Baseline tiers (their own random generator, so the rest of the cluster is the
same bytes with or without them). The same arguments always give the same bytes:
every choice comes from one ``random.Random(seed)``, in a fixed order.

``N`` counts workload objects (each stands for its pods in podfence), kube-dns
included; ``M`` counts NetworkPolicies. The shape follows real clusters: about 50
workloads per namespace, a default-deny in most namespaces, DNS egress to
kube-dns, and allow rules that open a handful of peers to each workload, using
every selector operator, ipBlock with except (IPv4 and some IPv6), port ranges,
named ports and UDP. Everything is valid for the API server.

Importable: :func:`generate` returns the manifests, :func:`write` writes them.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any, Callable, Sequence

import yaml

Manifest = dict[str, Any]

PODS_PER_NAMESPACE = 50
WORKLOADS_PER_FILE = 1000
POLICIES_PER_FILE = 500
OUTPUT_PATTERNS = ("namespaces.yaml", "workloads-*.yaml", "policies-*.yaml", "cluster-policies.yaml")
CLUSTER_POLICY_KIND = "ClusterNetworkPolicy"

TEAMS = ("checkout", "catalog", "search", "identity", "payments", "ledger", "shipping",
         "growth", "ml", "platform", "support", "media")
SENSITIVE_TEAMS = frozenset({"identity", "payments", "ledger"})
ENVS = ("prod", "prod", "staging", "dev")
WORDS = ("core", "web", "store", "hub", "edge", "ops", "jobs", "data", "live", "mobile",
         "partner", "public", "internal", "batch", "stream", "legacy")
COMPONENTS = ("orders", "cart", "users", "profile", "inventory", "pricing", "reviews", "recs",
              "email", "sms", "reports", "export", "importer", "session", "ledger", "payout",
              "refund", "shipping", "tracking", "assets", "thumbs", "feed", "audit", "quota",
              "index", "config", "wallet", "coupons", "fraud", "geo")
TIERS = ("web", "api", "worker", "db", "cache")
TIER_WEIGHTS = (20, 35, 25, 10, 10)
VERSIONS = ("v1", "v2", "v3", "v4")
DATABASES = (("postgres", 5432, 9187), ("mysql", 3306, 9104), ("mongodb", 27017, 9216), ("cql", 9042, 9500))
PRIVATE_V4 = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


@dataclass(frozen=True, slots=True)
class Port:
    name: str
    number: int
    protocol: str = "TCP"


@dataclass(frozen=True, slots=True)
class App:
    """One generated workload: what the policy templates need to know about it."""

    namespace: str
    name: str
    tier: str
    kind: str
    labels: tuple[tuple[str, str], ...]
    ports: tuple[Port, ...]
    host_network: bool = False

    def port(self, *names: str) -> Port | None:
        return next((p for p in self.ports if p.name in names), None)


@dataclass(frozen=True, slots=True)
class Ns:
    name: str
    team: str
    env: str
    labels: tuple[tuple[str, str], ...]
    apps: tuple[App, ...]

    def selectable(self) -> tuple[App, ...]:
        """Apps that policies can select (hostNetwork pods are node addresses)."""
        return tuple(a for a in self.apps if not a.host_network)


# --- cluster shape -----------------------------------------------------------------


def generate(pods: int, policies: int, seed: int, cluster_policies: int = 0) -> list[Manifest]:
    """The manifests of one synthetic cluster, in output order.

    Args:
        pods: workload objects to create, kube-dns included (at least 2).
        policies: NetworkPolicies to create (at least 0).
        seed: the seed of the one random generator used.
        cluster_policies: ClusterNetworkPolicies to add (at least 0), from a second
            generator seeded with ``seed``, after everything else.

    Raises:
        ValueError: ``pods`` or ``policies`` out of range.
    """
    if pods < 2:
        raise ValueError("--pods must be at least 2 (kube-dns and one application workload)")
    if policies < 0:
        raise ValueError("--policies must not be negative")
    if cluster_policies < 0:
        raise ValueError("--cluster-policies must not be negative")
    rng = Random(seed)
    namespaces = _namespaces(rng, pods - 1)
    manifests: list[Manifest] = [_namespace_manifest(ns) for ns in namespaces]
    manifests.append(_namespace_manifest(Ns("kube-system", "", "", (), ())))
    manifests.extend(_kube_dns())
    for ns in namespaces:
        for app in ns.apps:
            manifests.extend(_workload_manifests(rng, app))
    manifests.extend(_policies(rng, namespaces, policies))
    manifests.extend(_cluster_policies(Random(seed), namespaces, cluster_policies))
    return manifests


# --- cluster-wide policies ---------------------------------------------------------


def _cluster_policies(rng: Random, namespaces: list[Ns], count: int) -> list[Manifest]:
    """``count`` ClusterNetworkPolicies of the kinds platform teams write: alternately
    Admin (guard rails: deny dev to prod, hand monitoring over, keep sensitive teams
    apart, deny metadata and private ranges) and Baseline (default denies per team
    that NetworkPolicies may open), with priorities that repeat now and then."""
    out = []
    for i in range(count):
        tier = "Admin" if i % 2 == 0 else "Baseline"
        team = rng.choice(TEAMS)
        shape = rng.randrange(5)
        subject: Manifest = {"namespaces": {"matchLabels": {"team": team}}}
        spec: Manifest = {"tier": tier, "priority": rng.randrange(0, 200), "subject": subject}
        if shape == 0:
            spec["ingress"] = [{"name": "no-dev", "action": "Deny",
                                "from": [{"namespaces": {"matchLabels": {"env": "dev"}}}]}]
        elif shape == 1:
            spec["ingress"] = [{"name": "monitoring", "action": "Pass" if tier == "Admin" else "Accept",
                                "from": [{"pods": {"podSelector": {"matchLabels": {"tier": "worker"}}}}],
                                "protocols": [{"destinationNamedPort": "metrics"}]}]
        elif shape == 2:
            spec["subject"] = {"pods": {"namespaceSelector": {"matchLabels": {"team": team}},
                                        "podSelector": {"matchExpressions": [
                                            {"key": "tier", "operator": "In", "values": ["api", "web"]}]}}}
            spec["egress"] = [
                {"name": "dns", "action": "Accept", "to": [{"namespaces": {"matchLabels": {
                    "kubernetes.io/metadata.name": "kube-system"}}}],
                 "protocols": [{"udp": {"destinationPort": {"number": 53}}}, {"tcp": {"destinationPort": {"number": 53}}}]},
                {"name": "no-metadata", "action": "Deny", "to": [{"networks": ["169.254.169.254/32"]}]},
                {"name": "no-private", "action": rng.choice(("Deny", "Pass")), "to": [{"networks": list(PRIVATE_V4)}],
                 "protocols": [{"tcp": {"destinationPort": {"range": {"start": 1, "end": 1023}}}}]}]
        elif shape == 3:
            other = rng.choice(TEAMS)
            spec["ingress"] = [{"name": f"from-{other}", "action": rng.choice(("Accept", "Deny")),
                                "from": [{"namespaces": {"matchLabels": {"team": other}}}]},
                               {"name": "rest", "action": "Deny" if tier == "Baseline" else "Pass",
                                "from": [{"namespaces": {}}]}]
        else:
            spec["egress"] = [{"name": "nodes", "action": "Deny", "to": [{"nodes": {}}],
                               "protocols": [{"tcp": {"destinationPort": {"number": 10250}}}]}]
        out.append({"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": CLUSTER_POLICY_KIND,
                    "metadata": {"name": f"{tier.lower()}-{team}-{i}"}, "spec": spec})
    return out


def _namespaces(rng: Random, workloads: int) -> list[Ns]:
    count = max(1, round(workloads / PODS_PER_NAMESPACE))
    weights = [rng.uniform(0.5, 1.5) for _ in range(count)]
    sizes = [1] * count
    for i in rng.choices(range(count), weights=weights, k=workloads - count):
        sizes[i] += 1
    used: set[str] = set()
    out = []
    for size in sizes:
        team, env = rng.choice(TEAMS), rng.choice(ENVS)
        name = _unique(f"{team}-{rng.choice(WORDS)}" + ("" if env == "prod" else f"-{env}"), used)
        labels = {"team": team, "env": env, "tier": rng.choice(("frontend", "backend", "backend", "data"))}
        if team in SENSITIVE_TEAMS and env == "prod":
            labels["podfence.io/sensitive"] = "true"
        apps = _apps(rng, name, team, env, size)
        out.append(Ns(name, team, env, tuple(labels.items()), apps))
    return out


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = f"{name}-{n}"
    used.add(candidate)
    return candidate


def _apps(rng: Random, namespace: str, team: str, env: str, count: int) -> tuple[App, ...]:
    used: set[str] = set()
    apps = []
    for _ in range(count):
        tier = rng.choices(TIERS, weights=TIER_WEIGHTS)[0]
        kind, host_network = "Deployment", False
        if tier == "db" or (tier == "cache" and rng.random() < 0.5):
            kind = "StatefulSet"
        elif tier == "worker" and rng.random() < 0.04:
            kind, host_network = "DaemonSet", rng.random() < 0.5
        name = _unique(f"{rng.choice(COMPONENTS)}-{tier}", used)
        labels = {"app": name, "tier": tier, "team": team, "version": rng.choice(VERSIONS)}
        if rng.random() < 0.6:
            labels["env"] = env
        apps.append(App(namespace, name, tier, kind, tuple(labels.items()), _ports(rng, tier), host_network))
    return tuple(apps)


def _ports(rng: Random, tier: str) -> tuple[Port, ...]:
    """Named container ports typical of each tier; numbers vary between apps."""
    ports: list[Port] = []
    match tier:
        case "web":
            ports.append(Port("http", rng.choice((8080, 8080, 3000, 8000))))
        case "api":
            if rng.random() < 0.8:
                ports.append(Port("http", rng.choice((8080, 8080, 8000))))
            if not ports or rng.random() < 0.5:
                ports.append(Port("grpc", rng.choice((9090, 50051))))
        case "worker":
            if rng.random() < 0.25:
                ports.append(Port("statsd", 8125, "UDP"))
        case "db":
            name, number, exporter = rng.choice(DATABASES)
            ports.extend((Port(name, number), Port("metrics", exporter)))
        case "cache":
            if rng.random() < 0.7:
                ports.extend((Port("redis", 6379), Port("metrics", 9121)))
            else:
                ports.extend((Port("memcache", 11211), Port("memcache-udp", 11211, "UDP"), Port("metrics", 9150)))
    if tier not in ("db", "cache") and rng.random() < 0.8:
        ports.append(Port("metrics", 9100))
    return tuple(ports)


# --- non-policy manifests ----------------------------------------------------------


def _namespace_manifest(ns: Ns) -> Manifest:
    meta: Manifest = {"name": ns.name}
    if ns.labels:
        meta["labels"] = dict(ns.labels)
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def _kube_dns() -> list[Manifest]:
    labels = {"k8s-app": "kube-dns"}
    ports = [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
             {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
             {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}]
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": labels},
        "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.11.1",
                                     "ports": ports}]}}},
    }
    service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": labels},
        "spec": {"clusterIP": "10.96.0.10", "selector": labels, "ports": [
            {"name": "dns", "port": 53, "targetPort": 53, "protocol": "UDP"},
            {"name": "dns-tcp", "port": 53, "targetPort": 53, "protocol": "TCP"}]},
    }
    return [deployment, service]


def _workload_manifests(rng: Random, app: App) -> list[Manifest]:
    labels = dict(app.labels)
    image = f"registry.bench.example/{labels['team']}/{app.name}:{labels['version'][1:]}.{rng.randrange(20)}.0"
    # Databases and caches export metrics from a sidecar, as their exporters do.
    sidecar = app.tier in ("db", "cache")
    main_ports = [p for p in app.ports if not (sidecar and p.name == "metrics")]
    containers: list[Manifest] = [{"name": app.tier, "image": image}]
    if main_ports:
        containers[0]["ports"] = [_container_port(p, app.host_network) for p in main_ports]
    if sidecar:
        containers.append({"name": "exporter", "image": "registry.bench.example/platform/exporter:1.0.0",
                           "ports": [_container_port(p, False) for p in app.ports if p.name == "metrics"]})
    pod_spec: Manifest = {"containers": containers}
    if app.host_network:
        pod_spec["hostNetwork"] = True
    spec: Manifest = {"selector": {"matchLabels": {"app": app.name}},
                      "template": {"metadata": {"labels": labels}, "spec": pod_spec}}
    if app.kind != "DaemonSet":
        spec = {"replicas": rng.choice((1, 2, 2, 3, 3, 5)), **spec}
    if app.kind == "StatefulSet":
        spec = {"serviceName": app.name, **spec}
    workload = {"apiVersion": "apps/v1", "kind": app.kind,
                "metadata": {"name": app.name, "namespace": app.namespace, "labels": {"app": app.name}},
                "spec": spec}
    service = _service(app)
    return [workload] if service is None else [workload, service]


def _container_port(port: Port, host_network: bool) -> Manifest:
    out: Manifest = {"name": port.name, "containerPort": port.number}
    if port.protocol != "TCP":
        out["protocol"] = port.protocol
    if host_network:
        out["hostPort"] = port.number
    return out


def _service(app: App) -> Manifest | None:
    """Port 80 -> http for web and API Deployments; headless for StatefulSets."""
    if app.kind == "StatefulSet":
        main = app.ports[0]
        ports = [{"name": main.name, "port": main.number, "targetPort": main.name}]
        spec: Manifest = {"clusterIP": "None", "selector": {"app": app.name}, "ports": ports}
    elif app.kind == "Deployment" and app.tier in ("web", "api"):
        ports = [{"name": p.name, "port": 80 if p.name == "http" else p.number, "targetPort": p.name}
                 for p in app.ports if p.name in ("http", "grpc")]
        spec = {"selector": {"app": app.name}, "ports": ports}
    else:
        return None
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": app.name, "namespace": app.namespace}, "spec": spec}


# --- policies ----------------------------------------------------------------------


@dataclass(slots=True)
class _Context:
    rng: Random
    namespaces: list[Ns]
    names: dict[str, set[str]]  # policy names used per namespace

    def namespace(self) -> Ns:
        return self.rng.choice(self.namespaces)

    def app(self, ns: Ns, *tiers: str) -> App:
        apps = [a for a in ns.selectable() if not tiers or a.tier in tiers] or list(ns.selectable())
        return self.rng.choice(apps) if apps else ns.apps[0]

    def other_namespace(self, ns: Ns) -> Ns:
        """Mostly a namespace of the same team, as in real clusters."""
        same = [n for n in self.namespaces if n.team == ns.team and n is not ns]
        if same and self.rng.random() < 0.5:
            return self.rng.choice(same)
        return self.namespace()

    def policy(self, ns: Ns, name: str, spec: Manifest) -> Manifest:
        unique = _unique(name[:240], self.names.setdefault(ns.name, set()))
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": unique, "namespace": ns.name}, "spec": spec}


def _policies(rng: Random, namespaces: list[Ns], count: int) -> list[Manifest]:
    ctx = _Context(rng, namespaces, {})
    baseline = _baseline(ctx)[: count // 2]
    out = list(baseline)
    kinds = list(TEMPLATES)
    weights = [TEMPLATES[k][1] for k in kinds]
    first_round = list(kinds)  # every feature appears once before the random mix
    while len(out) < count:
        kind = first_round.pop(0) if first_round else rng.choices(kinds, weights=weights)[0]
        out.extend(TEMPLATES[kind][0](ctx)[: count - len(out)])
    return out


def _baseline(ctx: _Context) -> list[Manifest]:
    """Default-deny in most namespaces (ingress, egress or both); DNS where egress is denied."""
    out = []
    for ns in ctx.namespaces:
        if ctx.rng.random() < 0.15:
            continue
        types = ctx.rng.choices((["Ingress", "Egress"], ["Ingress"], ["Egress"]), weights=(6, 3, 1))[0]
        out.append(ctx.policy(ns, "default-deny", {"podSelector": {}, "policyTypes": types}))
        if "Egress" in types:
            out.append(ctx.policy(ns, "allow-dns", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [
                {"to": [_dns_peer()], "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}))
    return out


def _dns_peer() -> Manifest:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}


def _subject(app: App) -> Manifest:
    return {"matchLabels": {"app": app.name}}


def _ports_to(ctx: _Context, app: App) -> list[Manifest]:
    """A ports list for reaching ``app``: a named port, its number, or (rarely) all ports."""
    served = [p for p in app.ports if p.name != "metrics"] or list(app.ports)
    if not served or ctx.rng.random() < 0.05:
        return []
    port = ctx.rng.choice(served)
    if ctx.rng.random() < 0.5:
        entry: Manifest = {"port": port.name}
    else:
        entry = {"port": port.number}
    if port.protocol != "TCP" or ctx.rng.random() < 0.5:
        entry = {"protocol": port.protocol, **entry}
    return [entry]


def _rule(peers_key: str, peers: list[Manifest], ports: list[Manifest]) -> Manifest:
    rule: Manifest = {peers_key: peers}
    if ports:
        rule["ports"] = ports
    return rule


def _ns_and_pods(ns: Ns, app: App) -> Manifest:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns.name}},
            "podSelector": {"matchLabels": {"app": app.name}}}


def _ingress(ctx: _Context, ns: Ns, target: App, name: str, peers: list[Manifest],
             ports: list[Manifest] | None = None) -> Manifest:
    ports = _ports_to(ctx, target) if ports is None else ports
    return ctx.policy(ns, f"{target.name}-{name}", {"podSelector": _subject(target), "policyTypes": ["Ingress"],
                                                    "ingress": [_rule("from", peers, ports)]})


def _egress(ctx: _Context, ns: Ns, source: App, name: str, peers: list[Manifest],
            ports: list[Manifest]) -> Manifest:
    return ctx.policy(ns, f"{source.name}-{name}", {"podSelector": _subject(source), "policyTypes": ["Egress"],
                                                    "egress": [_rule("to", peers, ports)]})


def _t_same_namespace(ctx: _Context) -> list[Manifest]:
    ns = ctx.namespace()
    target, peer = ctx.app(ns, "api", "web", "db", "cache"), ctx.app(ns)
    return [_ingress(ctx, ns, target, f"from-{peer.name}", [{"podSelector": {"matchLabels": {"app": peer.name}}}])]


def _t_in(ctx: _Context) -> list[Manifest]:
    ns = ctx.namespace()
    target = ctx.app(ns, "api", "db", "cache")
    peers = sorted({ctx.app(ns).name for _ in range(3)})
    selector = {"matchExpressions": [{"key": "app", "operator": "In", "values": peers}]}
    return [_ingress(ctx, ns, target, "from-clients", [{"podSelector": selector}])]


def _t_cross_namespace(ctx: _Context) -> list[Manifest]:
    """Ingress from one app of another namespace, often with the matching egress policy."""
    ns = ctx.namespace()
    target = ctx.app(ns, "api", "web")
    peer_ns = ctx.other_namespace(ns)
    peer = ctx.app(peer_ns, "web", "api", "worker")
    ports = _ports_to(ctx, target)
    out = [_ingress(ctx, ns, target, f"from-{peer_ns.name}", [_ns_and_pods(peer_ns, peer)], ports)]
    if ctx.rng.random() < 0.6:
        out.append(_egress(ctx, peer_ns, peer, f"to-{ns.name}", [_ns_and_pods(ns, target)], ports))
    return out


def _t_not_in(ctx: _Context) -> list[Manifest]:
    ns = ctx.namespace()
    target = ctx.app(ns, "api")
    selector = {"matchLabels": {"tier": "web"},
                "matchExpressions": [{"key": "version", "operator": "NotIn", "values": ["v1"]}]}
    return [_ingress(ctx, ns, target, "from-current-web", [{"podSelector": selector}])]


def _t_exists(ctx: _Context) -> list[Manifest]:
    ns = ctx.namespace()
    target, peer = ctx.app(ns, "api", "cache"), ctx.app(ns)
    selector = {"matchLabels": {"app": peer.name}, "matchExpressions": [{"key": "env", "operator": "Exists"}]}
    return [_ingress(ctx, ns, target, f"from-{peer.name}-env", [{"podSelector": selector}])]


def _t_does_not_exist(ctx: _Context) -> list[Manifest]:
    ns = ctx.namespace()
    target = ctx.app(ns, "api", "db")
    peer_ns = ctx.other_namespace(ns)
    peers = sorted({ctx.app(peer_ns).name for _ in range(2)})
    pod_selector = {"matchExpressions": [{"key": "app", "operator": "In", "values": peers},
                                         {"key": "canary", "operator": "DoesNotExist"}]}
    ns_selector = {"matchLabels": {"kubernetes.io/metadata.name": peer_ns.name},
                   "matchExpressions": [{"key": "quarantine", "operator": "DoesNotExist"}]}
    return [_ingress(ctx, ns, target, "from-stable", [{"namespaceSelector": ns_selector, "podSelector": pod_selector}])]


def _t_namespace_only(ctx: _Context) -> list[Manifest]:
    """Whole namespaces of a team (a monitoring-style rule), limited to the metrics port."""
    ns = ctx.namespace()
    target = ctx.app(ns)
    other = ctx.other_namespace(ns)
    if ctx.rng.random() < 0.5:
        selector: Manifest = {"matchLabels": {"team": other.team, "env": other.env}}
    else:
        selector = {"matchExpressions": [{"key": "team", "operator": "In", "values": sorted({ns.team, other.team})},
                                         {"key": "env", "operator": "NotIn", "values": ["dev"]}]}
    metrics = target.port("metrics")
    ports = [{"port": "metrics"}] if metrics else _ports_to(ctx, target)
    return [_ingress(ctx, ns, target, "from-team", [{"namespaceSelector": selector}], ports)]


def _t_ip_block_ingress(ctx: _Context) -> list[Manifest]:
    ns = ctx.namespace()
    target = ctx.app(ns, "web", "api")
    if ctx.rng.random() < 0.25:
        block: Manifest = {"cidr": "::/0", "except": ["fc00::/7", "fe80::/10"]}
    elif ctx.rng.random() < 0.5:
        block = {"cidr": "0.0.0.0/0", "except": list(PRIVATE_V4)}
    else:
        block = {"cidr": "198.51.100.0/24", "except": [f"198.51.100.{ctx.rng.randrange(0, 256, 64)}/26"]}
    return [_ingress(ctx, ns, target, "from-outside", [{"ipBlock": block}])]


def _t_port_range(ctx: _Context) -> list[Manifest]:
    ns = ctx.namespace()
    target, peer = ctx.app(ns), ctx.app(ns)
    low = ctx.rng.choice((8080, 9000, 30000))
    protocol = "UDP" if low == 30000 else "TCP"
    ports = [{"protocol": protocol, "port": low, "endPort": low + ctx.rng.choice((9, 99))}]
    return [_ingress(ctx, ns, target, "range", [{"podSelector": {"matchLabels": {"app": peer.name}}}], ports)]


def _t_egress_to_app(ctx: _Context) -> list[Manifest]:
    ns = ctx.namespace()
    source = ctx.app(ns, "api", "worker", "web")
    peer_ns = ctx.other_namespace(ns)
    target = ctx.app(peer_ns, "api", "db", "cache", "worker")
    return [_egress(ctx, ns, source, f"to-{target.name}", [_ns_and_pods(peer_ns, target)], _ports_to(ctx, target))]


def _t_egress_database(ctx: _Context) -> list[Manifest]:
    ns = ctx.namespace()
    source, db = ctx.app(ns, "api", "worker"), ctx.app(ns, "db", "cache")
    return [_egress(ctx, ns, source, f"to-{db.name}", [{"podSelector": {"matchLabels": {"app": db.name}}}],
                    _ports_to(ctx, db))]


def _t_egress_statsd(ctx: _Context) -> list[Manifest]:
    """UDP metrics to a collector, by name or as every UDP port."""
    ns = ctx.namespace()
    source = ctx.app(ns)
    ports: list[Manifest] = [{"protocol": "UDP", "port": "statsd"}]
    if ctx.rng.random() < 0.3:
        ports = [{"protocol": "UDP"}]
    peer = {"namespaceSelector": {"matchLabels": {"team": "platform"}},
            "podSelector": {"matchLabels": {"tier": "worker"}}}
    return [_egress(ctx, ns, source, "statsd", [peer], ports)]


def _t_egress_external(ctx: _Context) -> list[Manifest]:
    ns = ctx.namespace()
    source = ctx.app(ns, "api", "worker")
    roll = ctx.rng.random()
    if roll < 0.2:
        block: Manifest = {"cidr": "2001:db8::/32", "except": ["2001:db8:dead::/48"]}
    elif roll < 0.5:
        block = {"cidr": "0.0.0.0/0", "except": list(PRIVATE_V4)}
    else:
        third = ctx.rng.choice(("203.0.113", "192.0.2"))
        block = {"cidr": f"{third}.0/24"}
        if ctx.rng.random() < 0.5:
            block["except"] = [f"{third}.{ctx.rng.randrange(0, 256, 16)}/28"]
    ports: list[Manifest] = [{"protocol": "TCP", "port": 443}]
    if ctx.rng.random() < 0.4:
        ports.append({"protocol": "TCP", "port": 9000, "endPort": 9099})
    return [_egress(ctx, ns, source, "external", [{"ipBlock": block}], ports)]


def _t_both_directions(ctx: _Context) -> list[Manifest]:
    ns = ctx.namespace()
    target, client, db = ctx.app(ns, "api"), ctx.app(ns, "web"), ctx.app(ns, "db", "cache")
    spec = {"podSelector": _subject(target), "policyTypes": ["Ingress", "Egress"],
            "ingress": [_rule("from", [{"podSelector": {"matchLabels": {"app": client.name}}}], _ports_to(ctx, target))],
            "egress": [_rule("to", [{"podSelector": {"matchLabels": {"app": db.name}}}], _ports_to(ctx, db))]}
    return [ctx.policy(ns, f"{target.name}-traffic", spec)]


def _t_types_omitted(ctx: _Context) -> list[Manifest]:
    """policyTypes left to defaulting: Ingress, plus Egress when egress rules exist."""
    ns = ctx.namespace()
    target, peer = ctx.app(ns), ctx.app(ns)
    spec: Manifest = {"podSelector": _subject(target),
                      "ingress": [_rule("from", [{"podSelector": {"matchLabels": {"app": peer.name}}}],
                                        _ports_to(ctx, target))]}
    if ctx.rng.random() < 0.5:
        spec["egress"] = [_rule("to", [{"podSelector": {"matchLabels": {"app": peer.name}}}], _ports_to(ctx, peer))]
    return [ctx.policy(ns, f"{target.name}-legacy", spec)]


def _t_selects_nothing(ctx: _Context) -> list[Manifest]:
    """A leftover for an app that was renamed or removed."""
    ns = ctx.namespace()
    app = ctx.app(ns)
    selector = {"matchLabels": {"app": f"{app.name}-old"}}
    return [ctx.policy(ns, f"{app.name}-old-ingress", {"podSelector": selector, "policyTypes": ["Ingress"],
                                                       "ingress": [{"from": [{"podSelector": {}}]}]})]


Template = Callable[[_Context], list[Manifest]]
TEMPLATES: dict[str, tuple[Template, int]] = {
    "same-namespace": (_t_same_namespace, 20),
    "in": (_t_in, 8),
    "cross-namespace": (_t_cross_namespace, 20),
    "not-in": (_t_not_in, 3),
    "exists": (_t_exists, 3),
    "does-not-exist": (_t_does_not_exist, 3),
    "namespace-only": (_t_namespace_only, 3),
    "ip-block-ingress": (_t_ip_block_ingress, 4),
    "port-range": (_t_port_range, 3),
    "egress-to-app": (_t_egress_to_app, 14),
    "egress-database": (_t_egress_database, 8),
    "egress-statsd": (_t_egress_statsd, 2),
    "egress-external": (_t_egress_external, 6),
    "both-directions": (_t_both_directions, 4),
    "types-omitted": (_t_types_omitted, 2),
    "selects-nothing": (_t_selects_nothing, 1),
}


# --- output ------------------------------------------------------------------------


def files(manifests: Sequence[Manifest]) -> list[tuple[str, list[Manifest]]]:
    """Group manifests into output files: namespaces, workload chunks, policy chunks."""
    namespaces = [m for m in manifests if m["kind"] == "Namespace"]
    policies = [m for m in manifests if m["kind"] == "NetworkPolicy"]
    chunks: list[list[Manifest]] = []
    workloads = 0
    cluster = [m for m in manifests if m["kind"] == CLUSTER_POLICY_KIND]
    for m in manifests:
        if m["kind"] in ("Namespace", "NetworkPolicy", CLUSTER_POLICY_KIND):
            continue
        if m["kind"] != "Service":
            if workloads % WORKLOADS_PER_FILE == 0:
                chunks.append([])
            workloads += 1
        chunks[-1].append(m)
    policy_chunks = [policies[i:i + POLICIES_PER_FILE] for i in range(0, len(policies), POLICIES_PER_FILE)]
    width = max(2, len(str(max(len(chunks), len(policy_chunks)))))
    out = [("namespaces.yaml", namespaces)]
    out += [(f"workloads-{i:0{width}d}.yaml", c) for i, c in enumerate(chunks, 1)]
    out += [(f"policies-{i:0{width}d}.yaml", c) for i, c in enumerate(policy_chunks, 1)]
    if cluster:
        out.append(("cluster-policies.yaml", cluster))
    return out


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Plain YAML: no anchors and aliases, even where a value object is shared."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(manifests: Sequence[Manifest]) -> str:
    """YAML text of a list of manifests, keys in the order they were built."""
    return yaml.dump_all(manifests, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)


def write(manifests: Sequence[Manifest], out: Path) -> list[Path]:
    """Write the files of :func:`files` into ``out``, replacing the output of an earlier run."""
    out.mkdir(parents=True, exist_ok=True)
    for pattern in OUTPUT_PATTERNS:
        for stale in sorted(out.glob(pattern)):
            stale.unlink()
    written = []
    for name, docs in files(manifests):
        path = out / name
        path.write_text(dump(docs), encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a deterministic synthetic cluster as YAML.")
    parser.add_argument("--pods", type=int, required=True, help="workload objects, kube-dns included")
    parser.add_argument("--policies", type=int, required=True, help="NetworkPolicies")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--cluster-policies", type=int, default=0,
                        help="ClusterNetworkPolicies in the Admin and Baseline tiers (default 0)")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    args = parser.parse_args(argv)
    try:
        manifests = generate(args.pods, args.policies, args.seed, args.cluster_policies)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        paths = write(manifests, args.out)
    except OSError as exc:
        print(f"generate.py: cannot write {args.out}: {exc}", file=sys.stderr)
        return 2
    print(f"{len(paths)} files in {args.out}: {args.pods} workloads, {args.policies} policies", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
