"""An intent, checked against the cluster and turned into grants.

A :class:`Grant` is one allowed connection in the terms a NetworkPolicy uses: a
source and a destination (a workload, or a set of addresses) and the ports at the
destination, after Service ports have been translated to target ports. The
:class:`Plan` holds every grant, the namespaces the intent covers and the label
selector chosen for each workload. Problems come back as diagnostics:

* ``I2`` a workload or Service the manifests do not have (or one policies cannot
  select: a hostNetwork or finished pod);
* ``I3`` a port no pod listens on;
* ``I4`` intents that contradict each other or the defaults;
* ``I5`` a workload no label set picks out of its namespace.

Covered namespaces: every namespace of a workload the intent names (as a service,
a destination or a source), except ``defaults.exclude`` (by default the cluster
DNS namespace). The intent decides everything about the pods of covered
namespaces, in the directions ``defaults.deny`` names.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from podfence.config import DnsTarget
from podfence.generate.intents import AddressRef, Entry, Intent, ServiceIntent, WorkloadRef
from podfence.generate.selectors import selectable_neighbours, smallest_selector, twins
from podfence.model import Cluster, Diagnostic, Direction, FieldPath, Labels, Pod, PolicyPort, Service, Settings
from podfence.model import Severity
from podfence.model.internet import PUBLIC, PUBLIC_V4, covers_internet
from podfence.model.ports import PortSpec
from podfence.model.words import shortened
from podfence.sets import IPAddress, IPSet, parse_cidr

UNKNOWN, NO_PORT, CONFLICT, UNSELECTABLE = "I2", "I3", "I4", "I5"


@dataclass(frozen=True, slots=True)
class Addresses:
    """Addresses as ipBlocks: ``blocks`` are (cidr, except) pairs, ``ips`` the exact set."""

    label: str
    blocks: tuple[tuple[str, tuple[str, ...]], ...]
    ips: IPSet

    @property
    def covers_internet(self) -> bool:
        """True when the addresses hold the whole public internet of a family (lint's NP402, NP403)."""
        return covers_internet(self.ips)

    @classmethod
    def of(cls, ref: AddressRef, ipv6: bool) -> Addresses:
        """A CIDR as written (minus its excepts), or ``internet``: the public internet, IPv6 too when ``ipv6``."""
        excluded = IPSet()
        for text in ref.except_:
            parsed = parse_cidr(text)
            if parsed is not None:
                excluded = excluded | IPSet.of_cidr(parsed)
        if ref.cidr is None:
            ips = (PUBLIC if ipv6 else PUBLIC_V4) - excluded
            blocks = tuple(b for v in (4, 6) if (b := _ip_block(ips, v)) is not None)
            return cls(str(ref), blocks, ips)
        cidr = parse_cidr(ref.cidr)
        assert cidr is not None, ref.cidr
        excepts = tuple(e for e in ref.except_ if (c := parse_cidr(e)) is not None and c.version == cidr.version)
        return cls(str(ref), ((ref.cidr, excepts),), IPSet.of_cidr(cidr) - excluded)


def _ip_block(ips: IPSet, version: int) -> tuple[str, tuple[str, ...]] | None:
    """One family of ``ips`` as an ipBlock: the smallest CIDR holding it, minus what it does not hold."""
    intervals = ips.family(version).intervals
    if not intervals:
        return None
    lo, hi = intervals[0][0], intervals[-1][1]
    bits = 32 if version == 4 else 128
    prefix = bits - (lo ^ hi).bit_length()
    network = lo >> (bits - prefix) << (bits - prefix) if prefix else 0
    base = parse_cidr(f"{IPAddress(version, network)}/{prefix}")
    assert base is not None
    return str(base), (IPSet.of_cidr(base) - ips).cidrs()


Party = Pod | Addresses


@dataclass(frozen=True, slots=True)
class Grant:
    """``src`` may open ``ports`` (empty: everything) towards ``dst``, because of ``intent``."""

    src: Party
    dst: Party
    ports: tuple[PolicyPort, ...]
    intent: str
    path: FieldPath
    note: str = ""


@dataclass(frozen=True)
class Plan:
    """Everything needed to write the policies and to prove them."""

    source: str
    covered: tuple[str, ...]
    deny: frozenset[Direction]
    dns: DnsTarget | None
    ipv6: bool
    grants: tuple[Grant, ...]
    selectors: dict[str, Labels] = field(default_factory=dict)
    described: tuple[str, ...] = ()

    def governs(self, pod: Pod, direction: Direction, settings: Settings) -> bool:
        """True when the intent decides ``pod``'s traffic in ``direction``."""
        return direction in self.deny and pod.namespace in self.covered and pod.is_pod_endpoint(settings)


def _err(code: str, path: FieldPath, message: str) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, path, "intents")


def declared_text(pod: Pod) -> str:
    ports = sorted({(p.protocol.value, p.port, p.name or "") for p in pod.ports})
    if not ports:
        return "it declares no container ports"
    return "it declares " + ", ".join(f"{proto} {n}" + (f" ({name})" if name else "") for proto, n, name in ports)


class Resolver:
    """Checks names and ports against one cluster; collects diagnostics."""

    def __init__(self, cluster: Cluster, settings: Settings) -> None:
        self.cluster = cluster
        self.settings = settings
        self.problems: list[Diagnostic] = []
        self.by_namespace: dict[str, list[Pod]] = {}
        for pod in cluster.pods:
            self.by_namespace.setdefault(pod.namespace, []).append(pod)
        self.services_of: dict[str, list[Service]] = {}
        for svc in cluster.services:
            for pod in self.by_namespace.get(svc.namespace, ()):
                if svc.selects(pod) and pod.takes_part(settings):
                    self.services_of.setdefault(pod.key, []).append(svc)

    def error(self, code: str, path: FieldPath, message: str) -> None:
        self.problems.append(_err(code, path, message))

    # ---- workloads -------------------------------------------------------------------

    def workload(self, ref: WorkloadRef, path: FieldPath, role: str) -> Pod | None:
        """The pod of workload ``ref``; a diagnostic when there is none or policies cannot select it."""
        pod = self.cluster.pod(ref.key)
        if pod is None:
            svc = self.cluster.service(ref.key)
            if svc is not None:
                backends = ", ".join(p.key for p in self.backends(svc)) or "none in the manifests"
                self.error(UNKNOWN, path, f"{ref.key} is a Service, and a {role} must be a workload "
                                          f"(its workloads: {backends})")
                return None
            names = [p.name for p in self.by_namespace.get(ref.namespace, ())]
            near = difflib.get_close_matches(ref.name, names, n=1)
            hint = f" (did you mean {ref.namespace}/{near[0]}?)" if near else (
                "" if names else f" (the manifests hold no workload in namespace {ref.namespace})")
            self.error(UNKNOWN, path, f"no workload named {ref.key} in the manifests{hint}")
            return None
        if not pod.takes_part(self.settings):
            self.error(UNKNOWN, path, f"{ref.key} is in phase {pod.phase}: finished pods take no part in traffic")
            return None
        if not pod.is_pod_endpoint(self.settings):
            self.error(UNKNOWN, path, f"{ref.key} runs on the host network: policies cannot select it; "
                                      "name its nodes' addresses as a CIDR instead")
            return None
        return pod

    def backends(self, svc: Service) -> list[Pod]:
        return [p for p in self.by_namespace.get(svc.namespace, ())
                if svc.selects(p) and p.is_pod_endpoint(self.settings)]

    def namespace_workloads(self, namespace: str) -> list[Pod]:
        return [p for p in self.by_namespace.get(namespace, ()) if p.is_pod_endpoint(self.settings)]

    # ---- ports -----------------------------------------------------------------------

    def _declares(self, pod: Pod, spec: PortSpec) -> bool:
        for cp in pod.ports:
            if cp.protocol != spec.protocol or (cp.init and not self.settings.named_port_include_init_containers):
                continue
            if isinstance(spec.port, str):
                if cp.name == spec.port:
                    return True
            elif isinstance(spec.port, int):
                hi = spec.end_port if spec.end_port is not None else spec.port
                if spec.port <= cp.port <= hi:
                    return True
        return False

    def _via_services(self, spec: PortSpec, pod: Pod, services: list[Service]
                      ) -> tuple[list[tuple[PolicyPort, str]], str]:
        """``spec`` read as a Service port, translated to the target port on ``pod``."""
        out: list[tuple[PolicyPort, str]] = []
        problem = ""
        for svc in services:
            for sp in svc.ports:
                if sp.protocol != spec.protocol or spec.end_port is not None:
                    continue
                if not (sp.port == spec.port or (isinstance(spec.port, str) and sp.name == spec.port)):
                    continue
                target = sp.target_port
                if isinstance(target, str) and not pod.named_port_numbers(target, sp.protocol, self.settings):
                    problem = (f"Service {svc.key} port {sp.port} targets port {target!r}, "
                               f"which {pod.key} does not declare")
                    continue
                numbers = sorted(pod.named_port_numbers(target, sp.protocol, self.settings)) if isinstance(
                    target, str) else [target]
                shown = f"{target} ({', '.join(map(str, numbers))})" if isinstance(target, str) else str(target)
                note = f"Service {svc.key} port {sp.port} -> {shown}"
                port = PolicyPort(sp.protocol, target)
                if all(port != p for p, _ in out):
                    out.append((port, note))
        return out, problem

    def ports_on(self, pod: Pod, specs: tuple[PortSpec, ...], undeclared: bool, path: FieldPath,
                 services: list[Service] | None = None, quiet: bool = False
                 ) -> tuple[tuple[PolicyPort, ...], tuple[str, ...]] | None:
        """The policy ports for ``specs`` at destination ``pod`` (empty tuple: everything).

        ``services``: the Services whose ports ``specs`` may name (default: every
        Service selecting the pod). None when a port does not resolve (with a
        diagnostic unless ``quiet``).
        """
        candidates = self.services_of.get(pod.key, []) if services is None else services
        if not specs:
            if not candidates:
                if not quiet:
                    self.error(NO_PORT, path, f"give the port, e.g. {pod.key}:8080: no Service selects "
                                              f"{pod.key} to take its ports from ({declared_text(pod)})")
                return None
            specs = tuple(PortSpec(sp.protocol, sp.port) for svc in candidates for sp in svc.ports)
        if any(s.every for s in specs):
            return (), ()
        ports: list[PolicyPort] = []
        notes: list[str] = []
        for spec in specs:
            literal = services is None and (self._declares(pod, spec) or (undeclared and isinstance(spec.port, int)))
            if literal:
                found = [(PolicyPort(spec.protocol, spec.port, spec.end_port), "")]
            else:
                found, problem = self._via_services(spec, pod, candidates)
                if not found:
                    if not quiet:
                        if services is not None and problem:
                            message = problem
                        elif services is not None:
                            offered = ", ".join(f"{sp.protocol} {sp.port}" + (f" ({sp.name})" if sp.name else "")
                                                for svc in services for sp in svc.ports) or "no ports"
                            message = f"Service {services[0].key} has no port {spec} (it offers {offered})"
                        else:
                            message = problem or (
                                f"{pod.key} does not listen on {spec.protocol} {_port_words(spec)}: "
                                f"{declared_text(pod)}, and no Service selecting it offers that port")
                            if isinstance(spec.port, int) and not problem:
                                message += " (if it does, declare the containerPort, or write the entry as "\
                                           "a mapping with undeclared: true)"
                        self.error(NO_PORT, path, message)
                    return None
            for port, note in found:
                if port not in ports:
                    ports.append(port)
                    if note:
                        notes.append(note)
        return tuple(ports), tuple(notes)


def _port_words(spec: PortSpec) -> str:
    if spec.end_port is not None:
        return f"{spec.port}-{spec.end_port}"
    return str(spec.port)


def _label(svc: ServiceIntent, kind: str, entry: Entry) -> str:
    return f"{svc.workload} {kind} {entry.text()}"


def talks_to_grants(r: Resolver, svc: ServiceIntent, src: Pod, entry: Entry) -> list[Grant]:
    ref = entry.peer
    assert isinstance(ref, WorkloadRef)
    label = _label(svc, "talks_to", entry)
    out: list[Grant] = []
    if ref.wildcard:
        if not entry.ports:
            r.error(NO_PORT, entry.path, f"{ref}: give the port (every workload of {ref.namespace} that listens "
                                         "on it is reached)")
            return []
        pods = r.namespace_workloads(ref.namespace)
        for pod in pods:
            got = r.ports_on(pod, entry.ports, entry.undeclared, entry.path, quiet=True)
            if got is not None:
                out.append(Grant(src, pod, got[0], label, entry.path, "; ".join(got[1])))
        if not out:
            r.error(NO_PORT if pods else UNKNOWN, entry.path,
                    f"no workload in namespace {ref.namespace} listens on "
                    f"{', '.join(str(p) for p in entry.ports)}" if pods else
                    f"the manifests hold no workload in namespace {ref.namespace}")
        return out
    service = r.cluster.service(ref.key) if (ref.service or r.cluster.pod(ref.key) is None) else None
    if service is not None:
        backends = r.backends(service)
        if not backends:
            r.error(UNKNOWN, entry.path, f"Service {service.key} selects no workload in the manifests")
            return []
        for pod in backends:
            got = r.ports_on(pod, entry.ports, False, entry.path, services=[service])
            if got is None:
                return []
            out.append(Grant(src, pod, got[0], label, entry.path, "; ".join(got[1])))
        return out
    if ref.service:
        r.error(UNKNOWN, entry.path, f"no Service named {ref.key} in the manifests")
        return []
    dst = r.workload(ref, entry.path, "destination")
    if dst is None:
        return []
    got = r.ports_on(dst, entry.ports, entry.undeclared, entry.path)
    if got is None:
        return []
    return [Grant(src, dst, got[0], label, entry.path, "; ".join(got[1]))]


def _ingress_from(r: Resolver, svc: ServiceIntent, dst: Pod, entry: Entry, ipv6: bool) -> list[Grant]:
    label = _label(svc, "ingress_from", entry)
    got = r.ports_on(dst, entry.ports, entry.undeclared, entry.path)
    if got is None:
        return []
    ports, notes = got
    peer = entry.peer
    if isinstance(peer, AddressRef):
        return [Grant(Addresses.of(peer, ipv6), dst, ports, label, entry.path, "; ".join(notes))]
    if peer.wildcard:
        pods = r.namespace_workloads(peer.namespace)
        if not pods:
            r.error(UNKNOWN, entry.path, f"the manifests hold no workload in namespace {peer.namespace}")
        return [Grant(p, dst, ports, label, entry.path, "; ".join(notes)) for p in pods]
    src = r.workload(peer, entry.path, "source")
    return [] if src is None else [Grant(src, dst, ports, label, entry.path, "; ".join(notes))]


def egress_grants(svc: ServiceIntent, src: Pod, entry: Entry, ipv6: bool) -> list[Grant]:
    assert isinstance(entry.peer, AddressRef)
    ports: tuple[PolicyPort, ...] = ()
    if not any(p.every for p in entry.ports):
        ports = tuple(PolicyPort(p.protocol, p.port, p.end_port) for p in entry.ports)
    return [Grant(src, Addresses.of(entry.peer, ipv6), ports, _label(svc, "egress", entry), entry.path)]


def cluster_uses_ipv6(cluster: Cluster) -> bool:
    return any(a.version == 6 for p in cluster.pods for a in (*p.ips, *p.host_ips)) or any(
        a.version == 6 for s in cluster.services for a in s.cluster_ips)


def resolve(intent: Intent, cluster: Cluster, settings: Settings, dns: DnsTarget,
            source: str = "intents") -> tuple[Plan, list[Diagnostic]]:
    """Check ``intent`` against ``cluster`` and turn it into a :class:`Plan`."""
    r = Resolver(cluster, settings)
    exclude = set(intent.exclude if intent.exclude is not None else (dns.namespace,))
    ipv6 = cluster_uses_ipv6(cluster)
    grants: list[Grant] = []
    described: list[str] = []
    for svc in intent.services:
        pod = r.workload(svc.workload, svc.path, "service")
        if svc.workload.namespace in exclude:
            r.error(CONFLICT, svc.path, f"namespace {svc.workload.namespace} is excluded (defaults.exclude): "
                                        "the intent writes no policies there")
            continue
        if svc.ingress_from and Direction.INGRESS not in intent.deny:
            r.error(CONFLICT, svc.path + ("ingress_from",),
                    "ingress is not denied (defaults.deny), so everything may already reach "
                    f"{svc.workload}: add ingress to defaults.deny or drop ingress_from")
        if svc.egress and Direction.EGRESS not in intent.deny:
            r.error(CONFLICT, svc.path + ("egress",),
                    f"egress is not denied (defaults.deny), so {svc.workload} may already send anywhere: "
                    "add egress to defaults.deny or drop egress")
        if pod is None:
            continue
        described.append(pod.key)
        for entry in svc.ingress_from:
            grants += _ingress_from(r, svc, pod, entry, ipv6)
        for entry in svc.talks_to:
            grants += talks_to_grants(r, svc, pod, entry)
        for entry in svc.egress:
            grants += egress_grants(svc, pod, entry, ipv6)
    covered = sorted({p.namespace for g in grants for p in (g.src, g.dst) if isinstance(p, Pod)}
                     | {k.split("/", 1)[0] for k in described})
    covered = [ns for ns in covered if ns not in exclude]
    plan = Plan(source, tuple(covered), intent.deny, dns if intent.dns else None, ipv6, tuple(grants),
                described=tuple(described))
    _choose_selectors(r, plan, settings)
    return plan, r.problems


def policy_ends(plan: Plan, grant: Grant, settings: Settings) -> tuple[bool, bool]:
    """(egress policy on the source?, ingress policy on the destination?) for one grant."""
    src_side = isinstance(grant.src, Pod) and plan.governs(grant.src, Direction.EGRESS, settings)
    dst_side = isinstance(grant.dst, Pod) and plan.governs(grant.dst, Direction.INGRESS, settings)
    return src_side, dst_side


def _choose_selectors(r: Resolver, plan: Plan, settings: Settings) -> None:
    """A selector for every workload a generated policy selects or names as a peer."""
    needed: dict[str, tuple[Pod, FieldPath]] = {}
    for g in plan.grants:
        src_side, dst_side = policy_ends(plan, g, settings)
        if src_side or dst_side:
            for end in (g.src, g.dst):
                if isinstance(end, Pod):
                    needed.setdefault(end.key, (end, g.path))
    for key, (pod, path) in sorted(needed.items()):
        neighbours = selectable_neighbours(pod, r.by_namespace.get(pod.namespace, ()), settings)
        chosen = smallest_selector(pod, neighbours)
        if chosen is None:
            same = twins(pod, neighbours)
            why = (f"{key} has no labels" if not pod.labels else
                   f"{shortened([p.key for p in same], 3)} carr{'ies' if len(same) == 1 else 'y'} every label of "
                   f"{key} ({pod.labels})")
            r.error(UNSELECTABLE, path, f"no label set selects {key} alone: {why}; give it a distinguishing label")
            continue
        plan.selectors[key] = chosen

