"""The engine's front door: endpoints, verdicts, pair connectivity, whole cluster."""

from __future__ import annotations

from dataclasses import replace

from podfence.engine import pairwise
from podfence.engine.connectivity import Connectivity
from podfence.engine.decision import SideDecision
from podfence.engine.verdict import Endpoint, Verdict
from podfence.model import DEFAULT_SETTINGS, Cluster, Service, Settings
from podfence.model.endpoints import AddressName, ServiceName, did_you_mean, parse_endpoint
from podfence.sets import ConnSet, Protocol, parse_ip


class EndpointError(ValueError):
    """A name or address that does not denote an endpoint of the cluster."""


class Engine:
    """Answers reachability questions about one cluster.

    >>> from podfence.model import Cluster, Pod
    >>> engine = Engine(Cluster.of(pods=[Pod("a", "x"), Pod("b", "y")]))
    >>> engine.explain(engine.endpoint("a/x"), engine.endpoint("b/y"), Protocol.TCP, 80).allowed
    True
    """

    def __init__(self, cluster: Cluster, settings: Settings = DEFAULT_SETTINGS) -> None:
        self.cluster = cluster
        self.settings = settings
        self.nodes = pairwise.NodeIndex(cluster)
        self._connectivity: dict[tuple[int, ...] | None, Connectivity] = {}

    def endpoint(self, text: str, namespace: str = "default") -> Endpoint:
        """Resolve ``ns/name`` (a pod, else a Service), ``svc/ns/name`` (a Service), a
        bare name in ``namespace``, or an IP (:mod:`podfence.model.endpoints`); an
        unknown name is an :class:`EndpointError` that suggests close names.

        An IP that belongs to a pod (or a Service's cluster IP) resolves to that pod
        (or Service); any other IP is a bare address.
        """
        text = text.strip()
        parsed = parse_endpoint(text, namespace)
        if isinstance(parsed, str):
            raise EndpointError(parsed)
        if isinstance(parsed, AddressName):
            if not parsed.single:
                first = parsed.addresses.cidrs()[0].split("/")[0]
                raise EndpointError(f"{parsed.text} is a range of addresses; one connection has one address: "
                                    f"give one, such as {first} (podfence test checks a whole range)")
            address = parse_ip(text)
            assert address is not None
            for pod in self.cluster.pods:
                if address in pod.ips and pod.takes_part(self.settings):
                    return Endpoint.of_pod(pod, address)
            for svc in self.cluster.services:
                if address in svc.cluster_ips:
                    return Endpoint(service=svc)
            return Endpoint.of_address(address)
        if isinstance(parsed, ServiceName):
            svc = self.cluster.service(parsed.key)
            if svc is None:
                raise EndpointError(f"no service named {parsed.key}"
                                    f"{did_you_mean(parsed.key, (s.key for s in self.cluster.services))}")
            return Endpoint(service=svc)
        key = parsed.key
        pod = self.cluster.pod(key)
        if pod is not None:
            if not pod.takes_part(self.settings):
                raise EndpointError(
                    f"pod {key} is in phase {pod.phase}: finished pods take no part in traffic"
                )
            return Endpoint.of_pod(pod)
        svc = self.cluster.service(key)
        if svc is not None:
            return Endpoint(service=svc)
        known = [p.key for p in self.cluster.pods] + [s.key for s in self.cluster.services]
        raise EndpointError(f"no pod, workload or service named {key}{did_you_mean(text, known)}")

    def explain(self, src: Endpoint, dst: Endpoint, protocol: Protocol, port: int) -> Verdict:
        """The verdict on one connection, with the policies and rules behind it."""
        _no_service(src, "source")
        _no_service(dst, "destination")
        return pairwise.explain(self.cluster, self.settings, self.nodes, src, dst, protocol, port)

    def explain_service(self, src: Endpoint, service: Endpoint, protocol: Protocol, port: int) -> tuple[Verdict, ...]:
        """Connections to a Service port, judged after DNAT at each backend's target port.

        Returns one verdict per (backend pod, target port); none when the Service
        selects no running pod.
        """
        _no_service(src, "source")
        svc = service.service
        if svc is None:
            raise EndpointError(f"{service.name} is not a service")
        sp = next((p for p in svc.ports if p.port == port and p.protocol == protocol), None)
        if sp is None:
            offered = ", ".join(f"{p.protocol} {p.port}" for p in svc.ports) or "no ports"
            raise EndpointError(f"service {svc.key} has no {protocol} port {port} (it offers {offered})")
        out = []
        for pod in self.cluster.pods:
            if not svc.selects(pod) or not pod.takes_part(self.settings):
                continue
            for target in sorted(svc.target_numbers(sp, pod, self.settings)):
                # A pod reaching itself through its Service (hairpin) is judged like any pair.
                verdict = pairwise.explain(self.cluster, self.settings, self.nodes, src, Endpoint.of_pod(pod),
                                           protocol, target, hairpin=True)
                if target != port:
                    note = (f"addressed to service {svc.key} port {port}; after DNAT the policies "
                            f"see target port {target} of {pod.key}")
                    verdict = replace(verdict, notes=(note, *verdict.notes))
                out.append(verdict)
        return tuple(out)

    def service_backends(self, service: Service) -> tuple[Endpoint, ...]:
        return tuple(Endpoint.of_pod(p) for p in self.cluster.pods if service.selects(p) and p.takes_part(self.settings))

    def allowed(self, src: Endpoint, dst: Endpoint) -> ConnSet:
        """Everything ``src`` may open towards ``dst``."""
        _no_service(src, "source")
        _no_service(dst, "destination")
        return pairwise.pair_conns(self.cluster, self.settings, self.nodes, src, dst)

    def decisions(self, src: Endpoint, dst: Endpoint) -> tuple[tuple[SideDecision, SideDecision], ...]:
        """Per address path ``src`` and ``dst`` can use: what the egress side and the ingress side
        decide, as (allowed, denied, passed) with every tier composed. Self traffic of a bare
        pod is decided before any tier and is not shown here (see :meth:`allowed`)."""
        _no_service(src, "source")
        _no_service(dst, "destination")
        return pairwise.pair_decisions(self.cluster, self.settings, self.nodes, src, dst)

    def connectivity(self, families: tuple[int, ...] | None = None) -> Connectivity:
        """The whole cluster's connectivity (computed once, then cached)."""
        hit = self._connectivity.get(families)
        if hit is None:
            hit = Connectivity(self.cluster, self.settings, families)
            self._connectivity[families] = hit
        return hit


def _no_service(ep: Endpoint, role: str) -> None:
    if ep.service is not None:
        if role == "source":
            raise EndpointError(f"a service ({ep.service.key}) cannot be a source; name one of its pods")
        raise EndpointError(f"{ep.service.key} is a service: use explain_service")
