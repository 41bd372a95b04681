"""Checking expectations against a cluster's connectivity.

Endpoints resolve to pods (those that take part in traffic) and to outside
addresses. A pod pair is judged on the engine's exact pod-level answer; a pod and
a set of outside addresses on the engine's ranges for that pod, address by
address:

* ``deny``: no listed connection is allowed at any address of the set;
* ``allow``: every listed connection is allowed at every address of the set;
* ``exactly``: at every address the allowed connections are the listed ones.

An address of a family the pod has no address in cannot be reached at all. A CIDR
or ipBlock endpoint means addresses outside the pods; an IP that belongs to a pod
names that pod.

A Service destination (``svc/ns/name``) stands for its backend pods reached
through it: the expectation's ports are Service ports (no port: every port the
Service offers), and a Service port counts as allowed towards a backend when every
target port it lands on in that pod is allowed (the policies see the target port,
after the Service's address translation).

Pairs that the settings decide rather than the policies (a bare pod reaching
itself, a pod and its own node) are left out of every expectation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from podfence.assertions.spec import (
    Address, Endpoint, Expect, Expectation, PodName, Selector, ServiceRef, Spec, offered,
)
from podfence.engine import Connectivity, PodRows, namespace_labels
from podfence.model import Cluster, Direction, Pod, Service, Settings
from podfence.sets import ConnSet, IPAddress, IPSet, parse_ip


@dataclass(frozen=True, slots=True)
class Failure:
    """One pair that breaks an expectation: what ``src`` may open towards ``dst`` there.

    ``src`` and ``dst`` are pod keys or, on the address side, the offending
    addresses as CIDRs (comma-separated).
    """

    src: str
    dst: str
    allowed: ConnSet
    asked: ConnSet | None = None  # what this pair is held to, when not the expectation's ports (a Service's)


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of one expectation.

    ``problems`` are reasons it could not be checked as written (an endpoint that
    matches no pod); ``pairs`` counts the pod pairs and pod/address-set pairs judged.
    """

    expectation: Expectation
    failures: tuple[Failure, ...] = ()
    problems: tuple[str, ...] = ()
    pairs: int = 0

    @property
    def passed(self) -> bool:
        return not self.failures and not self.problems


@dataclass(frozen=True, slots=True)
class Ends:
    """What one side of an expectation resolved to."""

    pods: tuple[str, ...]
    addresses: IPSet
    problems: tuple[str, ...] = ()
    behind: tuple[tuple[Service, str], ...] = ()  # (Service, backend pod key), for svc/ns/name


def through(service: Service, pod: Pod, allowed: ConnSet, settings: Settings) -> ConnSet:
    """The Service ports whose every target port in ``pod`` is in ``allowed`` (what passes through it)."""
    out = ConnSet.none()
    for sp in service.ports:
        targets = service.target_numbers(sp, pod, settings)
        if targets and all(allowed.allows(sp.protocol, t) for t in targets):
            out = out | ConnSet.ports(sp.protocol, sp.port, sp.port)
    return out


class Checker:
    """Checks expectations on one cluster; build once, check many."""

    def __init__(self, conn: Connectivity) -> None:
        self.conn = conn
        self.cluster: Cluster = conn.cluster
        self.rows = PodRows(conn)
        self.pods: dict[str, Pod] = {p.key: p for p in conn.pods}
        self._ip_owner: dict[IPAddress, str] = {}
        for p in conn.pods:  # as ``podfence explain`` names an address: the pod that owns it
            for ip in p.ips:
                self._ip_owner.setdefault(ip, p.key)

    # ---- endpoints ----------------------------------------------------------------

    def _matches(self, sel: Selector, pod: Pod) -> bool:
        if sel.namespace is not None and pod.namespace != sel.namespace:
            return False
        if sel.namespace_selector is not None and \
                not sel.namespace_selector.matches(namespace_labels(self.cluster, pod.namespace)):
            return False
        return sel.pod_selector is None or sel.pod_selector.matches(pod.labels)

    def selected(self, sel: Selector) -> set[str]:
        """The pods ``sel`` matches, minus those its ``except`` list names."""
        found = {k for k, p in self.pods.items() if self._matches(sel, p)}
        for ex in sel.except_:
            if isinstance(ex, PodName):
                found.discard(ex.key)
            else:
                found -= self.selected(ex)
        return found

    def resolve(self, endpoints: tuple[Endpoint, ...], role: str) -> Ends:
        pods: set[str] = set()
        addresses = IPSet()
        problems = []
        behind: list[tuple[Service, str]] = []
        for e in endpoints:
            match e:
                case ServiceRef(key=key):
                    svc = self.cluster.service(key)
                    backends = [] if svc is None else [k for k, p in self.pods.items() if svc.selects(p)]
                    if svc is None:
                        problems.append(f"{role}: no service named {key}")
                    elif not backends:
                        problems.append(f"{role}: service {key} selects no running pod")
                    else:
                        behind += [(svc, k) for k in sorted(backends)]
                case PodName(key=key):
                    if key in self.pods:
                        pods.add(key)
                    elif (gone := self.cluster.pod(key)) is not None:
                        problems.append(f"{role}: {key} has finished (phase {gone.phase}) "
                                        "and takes no part in traffic")
                    else:
                        problems.append(f"{role}: no pod or workload named {key}")
                case Address(text=text, addresses=block, single=single):
                    owner = self._ip_owner.get(parse_ip(text)) if single else None  # type: ignore[arg-type]
                    if owner is not None:
                        pods.add(owner)
                    else:
                        addresses = addresses | block
                case Selector():
                    found = self.selected(e)
                    if not found:
                        problems.append(f"{role} selector matches no pod")
                    pods |= found
        return Ends(tuple(sorted(pods)), addresses, tuple(problems), tuple(behind))

    # ---- checking -----------------------------------------------------------------

    def check(self, spec: Spec) -> list[Result]:
        return [self.check_one(e) for e in spec.tests]

    def check_one(self, expectation: Expectation) -> Result:
        src = self.resolve(expectation.src, "from")
        dst = self.resolve(expectation.dst, "to")
        problems = src.problems + dst.problems
        failures: list[Failure] = []
        pairs = 0
        want, expect = expectation.conns, expectation.expect
        dst_set = set(dst.pods)
        for s in src.pods:
            if expect is Expect.DENY:
                outside = ({s} | self.rows.pairs.get(s, {}).keys()) & dst_set
                pairs += len(dst_set) - sum(1 for d in outside if self.rows.decided_outside(s, d))
                for d, c in self._deny_candidates(s, dst_set):
                    if c & want:
                        failures.append(Failure(s, d, c))
            else:
                for d in dst.pods:
                    if self.rows.decided_outside(s, d):
                        continue
                    pairs += 1
                    c = self.rows.cell(s, d)
                    if not _meets(c, want, expect):
                        failures.append(Failure(s, d, c))
        for svc, d in dst.behind:
            asked = want & offered(svc)
            for s in src.pods:
                if self.rows.decided_outside(s, d):
                    continue
                pairs += 1
                passed = through(svc, self.pods[d], self.rows.cell(s, d), self.conn.settings)
                if not _meets(passed, asked, expect):
                    failures.append(Failure(s, f"{d} (through svc/{svc.key})", passed, asked))
        if dst.addresses:
            for s in src.pods:
                pairs += 1
                failures += (Failure(s, where, c) for where, c in self._address_failures(
                    s, Direction.EGRESS, dst.addresses, want, expect))
        if src.addresses:
            for d in dst.pods:
                pairs += 1
                failures += (Failure(where, d, c) for where, c in self._address_failures(
                    d, Direction.INGRESS, src.addresses, want, expect))
        return Result(expectation, tuple(failures), problems, pairs)

    def _deny_candidates(self, s: str, dsts: set[str]) -> Iterable[tuple[str, ConnSet]]:
        """Destinations in ``dsts`` that ``s`` may reach at all, pair-level facts applied."""
        special = {s} | self.rows.pairs.get(s, {}).keys()
        for d, c in self.rows.row(s).items():
            if d in dsts and d not in special:
                yield d, c
        for d in sorted(special & dsts):
            if not self.rows.decided_outside(s, d):
                c = self.rows.cell(s, d)
                if c:
                    yield d, c

    def _address_failures(self, pod: str, direction: Direction, addresses: IPSet, want: ConnSet,
                          expect: Expect) -> list[tuple[str, ConnSet]]:
        out = []
        covered = IPSet()
        for block, c in self.conn.address_blocks(pod, direction):
            covered = covered | block
            hit = block & addresses
            if hit and not _meets(c, want, expect):
                out.append((", ".join(hit.cidrs()), c))
        nothing = addresses - covered
        if nothing and not _meets(ConnSet.none(), want, expect):
            out.append((", ".join(nothing.cidrs()), ConnSet.none()))
        return out


def _meets(allowed: ConnSet, want: ConnSet, expect: Expect) -> bool:
    match expect:
        case Expect.ALLOW:
            return want.issubset(allowed)
        case Expect.DENY:
            return not (allowed & want)
        case Expect.EXACTLY:
            return allowed == want


def check(spec: Spec, conn: Connectivity) -> list[Result]:
    """Every expectation of ``spec`` checked against ``conn``, in file order."""
    return Checker(conn).check(spec)


__all__ = ["Checker", "Ends", "Failure", "Result", "check"]
