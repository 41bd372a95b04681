"""The proof: do these policies allow exactly what the intent says?

What "exactly" means. The intent governs a direction of a pod when the pod is in
a covered namespace (see :mod:`podfence.generate.resolve`), policies can select it
(not hostNetwork, not finished) and ``defaults.deny`` names the direction. For
every connection ``a -> b`` where the intent governs ``a``'s egress or ``b``'s
ingress, with ``a`` and ``b`` pods or address ranges, the engine's allowed set
must equal the intended set::

    intended(a, b) = E(a, b) & I(a, b)     (per address path, united)

``E`` is what the intent lets ``a`` send to ``b`` (its ``talks_to`` and ``egress``
entries, the ``ingress_from`` entries that name it, and DNS), or everything when
the intent does not govern ``a``'s egress; ``I`` likewise for what ``b`` may
receive. Ports are destination ports after Service translation; named ports
resolve on the destination pod; an address entry also matches pods whose IPs lie
in it, when ``ipblock_matches_pods`` is on, exactly as an ipBlock does.

Pairs decided outside the policies are not compared: a bare pod reaching itself
(``allow_self_traffic``) and traffic between a pod and its own node. Connections
between two endpoints the intent does not govern are not compared either: they
are not the intent's business (and stay as the cluster has them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Iterator

from podfence.engine import Endpoint, Engine, conns_of, paths
from podfence.generate.resolve import Addresses, Grant, Party, Plan
from podfence.model import Cluster, Direction, Pod, Settings
from podfence.model.dns import DNS_CONNS
from podfence.model.words import address_order, addresses_words
from podfence.sets import PROTOCOLS, ConnSet, IntervalSet, IPAddress, IPSet
from podfence.sets.ips import V4_MAX, V6_MAX

MAX_EXPLAINED = 50


@dataclass(frozen=True, slots=True)
class Difference:
    """``conns`` from ``src`` to ``dst`` (pod keys or CIDRs) that should not, or should, be allowed.

    ``because``: for a missing connection, the intents that ask for it; for an
    extra one, the rules that allow it (when known).
    """

    src: str
    dst: str
    conns: ConnSet
    because: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Proof:
    """What a proof found: the verdict is ``exact``, and it says everything that changed beyond the intent.

    ``removed`` (building blocks): connections allowed before and denied now that
    nobody asked to lose, such as every other pod's traffic to a destination the
    block isolates; they make the proof fail like ``extra`` and ``missing`` do.
    ``isolated``: connections denied now because the block was asked to isolate
    (a default-deny, or ``--isolate``), reported but not a failure.
    """

    extra: tuple[Difference, ...]
    missing: tuple[Difference, ...]
    namespaces: tuple[str, ...]
    workloads: int
    intended: int  # pod pairs and (pod, range) entries the intent allows something on
    removed: tuple[Difference, ...] = ()  # building blocks: allowed before, denied now, not asked for
    subjects: tuple[str, ...] = ()  # building blocks: the pods whose policies changed
    isolated: tuple[Difference, ...] = ()  # building blocks: allowed before, denied now, as asked

    @property
    def exact(self) -> bool:
        return not self.extra and not self.missing and not self.removed


class Intended:
    """The intended connectivity of a plan, one pair at a time (see the module docstring)."""

    def __init__(self, plan: Plan, cluster: Cluster, settings: Settings) -> None:
        self.plan, self.cluster, self.settings = plan, cluster, settings
        self.out: dict[str, list[Grant]] = {}
        self.into: dict[str, list[Grant]] = {}
        for g in plan.grants:
            if isinstance(g.src, Pod):
                self.out.setdefault(g.src.key, []).append(g)
            if isinstance(g.dst, Pod):
                self.into.setdefault(g.dst.key, []).append(g)
        self.node_local = plan.dns.node_local_address if plan.dns else None

    def governs(self, pod: Pod, direction: Direction) -> bool:
        return self.plan.governs(pod, direction, self.settings)

    def is_dns_pod(self, pod: Pod) -> bool:
        return self.plan.dns is not None and self.plan.dns.is_dns_pod(pod, self.settings)

    def dns_ingress(self, pod: Pod) -> bool:
        return self.is_dns_pod(pod) and self.governs(pod, Direction.INGRESS)

    def matches(self, party: Party, pod: Pod | None, address: IPAddress | None) -> bool:
        if isinstance(party, Pod):
            return pod is not None and pod.key == party.key and pod.is_pod_endpoint(self.settings)
        return self.address_matches(party.ips, pod, address)

    def address_matches(self, ips: IPSet, pod: Pod | None, address: IPAddress | None) -> bool:
        if address is None or address not in ips:
            return False
        return pod is None or not pod.is_pod_endpoint(self.settings) or self.settings.ipblock_matches_pods

    def egress(self, a: Pod, pod: Pod | None, address: IPAddress | None) -> ConnSet:
        """What the intent lets governed ``a`` send to a remote pod/address."""
        acc = ConnSet.none()
        for g in self.out.get(a.key, ()):
            if self.matches(g.dst, pod, address):
                acc = acc | conns_of(g.ports, pod, self.settings)
        if self.plan.dns is not None:
            if pod is not None and self.is_dns_pod(pod):
                acc = acc | DNS_CONNS
            if self.node_local is not None and self.address_matches(IPSet.of_address(self.node_local), pod, address):
                acc = acc | DNS_CONNS
        return acc

    def ingress(self, b: Pod, pod: Pod | None, address: IPAddress | None) -> ConnSet:
        """What the intent lets governed ``b`` receive from a remote pod/address."""
        acc = ConnSet.none()
        for g in self.into.get(b.key, ()):
            if self.matches(g.src, pod, address):
                acc = acc | conns_of(g.ports, b, self.settings)
        if self.dns_ingress(b) and pod is not None and pod.is_pod_endpoint(self.settings):
            acc = acc | DNS_CONNS
        return acc

    def pair(self, a: Pod, b: Pod) -> ConnSet:
        ga, gb = self.governs(a, Direction.EGRESS), self.governs(b, Direction.INGRESS)
        acc = ConnSet.none()
        for path in paths(Endpoint.of_pod(a), Endpoint.of_pod(b)):
            e = self.egress(a, b, path.dst) if ga else ConnSet.all()
            i = self.ingress(b, a, path.src) if gb else ConnSet.all()
            acc = acc | (e & i)
        return acc

    def candidates(self, pods: list[Pod]) -> Iterator[tuple[Pod, Pod]]:
        """Every pod pair the intent may allow something on (a superset)."""
        with_ips = [p for p in pods if p.ips]
        dns_pods = [p for p in pods if self.is_dns_pod(p)]
        for a in pods:
            if self.governs(a, Direction.EGRESS):
                for g in self.out.get(a.key, ()):
                    if isinstance(g.dst, Pod):
                        yield a, g.dst
                    else:
                        yield from ((a, p) for p in with_ips if any(ip in g.dst.ips for ip in p.ips))
                yield from ((a, p) for p in dns_pods)
                if self.node_local is not None:
                    yield from ((a, p) for p in with_ips if self.node_local in p.ips)
            if self.governs(a, Direction.INGRESS):
                b = a
                for g in self.into.get(b.key, ()):
                    if isinstance(g.src, Pod):
                        yield g.src, b
                    else:
                        yield from ((p, b) for p in with_ips if any(ip in g.src.ips for ip in p.ips))
                if self.dns_ingress(b):
                    yield from ((p, b) for p in pods)

    def ranges(self, pod: Pod, direction: Direction) -> list[tuple[IPSet, ConnSet]]:
        """What governed ``pod`` may send to (egress) or receive from (ingress) addresses, as (set, conns)."""
        out: list[tuple[IPSet, ConnSet]] = []
        if direction is Direction.EGRESS:
            for g in self.out.get(pod.key, ()):
                if isinstance(g.dst, Addresses):
                    out.append((g.dst.ips, conns_of(g.ports, None, self.settings)))
            if self.plan.dns is not None and self.node_local is not None:
                out.append((IPSet.of_address(self.node_local), DNS_CONNS))
        else:
            for g in self.into.get(pod.key, ()):
                if isinstance(g.src, Addresses):
                    out.append((g.src.ips, conns_of(g.ports, pod, self.settings)))
        return out

    def asked_for(self, a: str, b: str | IPSet) -> tuple[str, ...]:
        """The intents behind a pod pair (or a pod and some addresses it sends to)."""
        if isinstance(b, str):
            grants = [g for g in (*self.out.get(a, ()), *self.into.get(b, ()))
                      if isinstance(g.src, Pod) and g.src.key == a and isinstance(g.dst, Pod) and g.dst.key == b]
        else:
            grants = [g for g in self.out.get(a, ()) if isinstance(g.dst, Addresses) and g.dst.ips & b]
        found: list[str] = []
        for g in grants:
            if g.intent not in found:
                found.append(g.intent)
        if not found and self.plan.dns is not None:
            found.append("defaults.dns")
        return tuple(found)


# ---- address regions ----------------------------------------------------------------

Region = tuple[int, int, int, ConnSet]  # version, first, last, conns


def _universe(version: int) -> int:
    return V4_MAX if version == 4 else V6_MAX


def regions_of(entries: list[tuple[IPSet, ConnSet]], families: Iterable[int]) -> list[Region]:
    """Elementary address regions with the union of the entries covering each."""
    out: list[Region] = []
    for v in families:
        cuts = {0}
        for ips, _ in entries:
            for lo, hi in ips.family(v):
                cuts.add(lo)
                if hi < _universe(v):
                    cuts.add(hi + 1)
        ordered = sorted(cuts)
        ends = [c - 1 for c in ordered[1:]] + [_universe(v)]
        for lo, hi in zip(ordered, ends):
            acc = ConnSet.none()
            for ips, conns in entries:
                if lo in ips.family(v):
                    acc = acc | conns
            out.append((v, lo, hi, acc))
    return out


def region_sets(actual: list[tuple[IPSet, ConnSet]], expected: list[tuple[IPSet, ConnSet]],
                families: Iterable[int]) -> tuple[list[tuple[IPSet, ConnSet]], list[tuple[IPSet, ConnSet]]]:
    """(extra, missing) as address sets, one per distinct set of connections, in address order."""
    entries = [(ips, conns) for ips, conns in actual] + [(ips, ConnSet.none()) for ips, _ in expected]
    cut_regions = regions_of(entries, families)
    extra: dict[ConnSet, IPSet] = {}
    missing: dict[ConnSet, IPSet] = {}
    for v, lo, hi, got in cut_regions:
        want = ConnSet.none()
        for ips, conns in expected:
            if lo in ips.family(v):
                want = want | conns
        span = IPSet(IntervalSet.span(lo, hi)) if v == 4 else IPSet(v6=IntervalSet.span(lo, hi))
        if got - want:
            extra[got - want] = extra.get(got - want, IPSet()) | span
        if want - got:
            missing[want - got] = missing.get(want - got, IPSet()) | span
    return ([(ips, conns) for conns, ips in extra.items()], [(ips, conns) for conns, ips in missing.items()])


def region_differences(actual: list[tuple[IPSet, ConnSet]], expected: list[tuple[IPSet, ConnSet]],
                       families: Iterable[int]) -> tuple[list[tuple[str, ConnSet]], list[tuple[str, ConnSet]]]:
    """(extra, missing) in words: what ``actual`` allows beyond ``expected``, and short of it.

    Each distinct set of connections reads as one address list, folded as
    ``0.0.0.0/0 except ...`` when that is shorter.
    """
    extra, missing = region_sets(actual, expected, families)
    return ([(addresses_words(ips), conns) for ips, conns in extra],
            [(addresses_words(ips), conns) for ips, conns in missing])


def ordered(differences: Iterable[Difference]) -> tuple[Difference, ...]:
    """Differences sorted by their ends: pods by name, addresses by address."""
    return tuple(sorted(differences, key=lambda d: (address_order(d.src), address_order(d.dst))))


# ---- the proof ---------------------------------------------------------------------


def _explain_extra(engine: Engine, a: Pod, b: Pod, conns: ConnSet) -> tuple[str, ...]:
    """The rules that allow one sample connection of ``conns`` from ``a`` to ``b``."""
    for proto in PROTOCOLS:
        ports = conns.for_protocol(proto)
        if ports:
            verdict = engine.explain(Endpoint.of_pod(a), Endpoint.of_pod(b), proto, ports.intervals[0][0])
            refs = [str(r) for side in (verdict.egress, verdict.ingress) for r in side.allowed_by]
            return tuple(refs)
    return ()


def prove(plan: Plan, cluster: Cluster, settings: Settings) -> Proof:
    """Compare the connectivity of ``cluster`` (policies applied) with the plan's intent."""
    engine = Engine(cluster, settings)
    conn = engine.connectivity()
    intended = Intended(plan, cluster, settings)
    pods = list(conn.pods)
    by_key = {p.key: p for p in pods}
    # Pairs the settings decide (self traffic, own node), as the engine decides them.
    skip = {(e.src, e.dst) for e in conn.pair_exceptions()}
    skip |= {(p.key, p.key) for p in pods if conn.decided_outside(p.key, p.key)}

    expected: dict[tuple[str, str], ConnSet] = {}
    for a, b in intended.candidates(pods):
        k = (a.key, b.key)
        if k not in expected and k not in skip and a.key in by_key and b.key in by_key:
            expected[k] = intended.pair(a, b)
    extra: list[Difference] = []
    missing: list[Difference] = []
    seen: set[tuple[str, str]] = set()
    for a, b, got in conn.pod_connections():
        k = (a.key, b.key)
        if k in skip or not (intended.governs(a, Direction.EGRESS) or intended.governs(b, Direction.INGRESS)):
            continue
        seen.add(k)
        want = expected.get(k)
        if want is None:
            want = expected[k] = intended.pair(a, b)
        if got - want:
            extra.append(Difference(a.key, b.key, got - want))
        if want - got:
            missing.append(Difference(a.key, b.key, want - got, intended.asked_for(a.key, b.key)))
    for (ka, kb), want in expected.items():
        if (ka, kb) not in seen and want:
            missing.append(Difference(ka, kb, want, intended.asked_for(ka, kb)))

    # Address ranges: what each governed pod may send to and receive from outside the pod list.
    range_entries = 0
    for pod in pods:
        families = conn.address_families(pod.key)
        for direction in (Direction.EGRESS, Direction.INGRESS):
            if not intended.governs(pod, direction):
                continue
            want = intended.ranges(pod, direction)
            range_entries += len(want)
            want += [(IPSet.of_address(a), ConnSet.all()) for a in conn.own_node_addresses(pod.key, direction)]
            got = conn.address_blocks(pod.key, direction)
            more, less = region_sets(got, want, families)
            for ips, conns in more:
                text = addresses_words(ips)
                src, dst = (pod.key, text) if direction is Direction.EGRESS else (text, pod.key)
                extra.append(Difference(src, dst, conns))
            for ips, conns in less:
                text = addresses_words(ips)
                src, dst = (pod.key, text) if direction is Direction.EGRESS else (text, pod.key)
                because = intended.asked_for(pod.key, ips) if direction is Direction.EGRESS else tuple(
                    g.intent for g in intended.into.get(pod.key, ()) if isinstance(g.src, Addresses))
                missing.append(Difference(src, dst, conns, because))

    explained = []
    for n, d in enumerate(ordered(extra)):
        if n < MAX_EXPLAINED and d.src in by_key and d.dst in by_key:
            d = replace(d, because=_explain_extra(engine, by_key[d.src], by_key[d.dst], d.conns))
        explained.append(d)
    governed = [p for p in pods if intended.governs(p, Direction.INGRESS) or intended.governs(p, Direction.EGRESS)]
    return Proof(
        tuple(explained), ordered(missing), plan.covered, len(governed),
        sum(1 for v in expected.values() if v) + range_entries,
    )


# ---- building blocks: before and after ------------------------------------------------

def _rows(conn, touched: set[str]) -> dict[tuple[str, str], ConnSet]:  # type: ignore[no-untyped-def]
    return {(a.key, b.key): c for a, b, c in conn.pod_connections() if a.key in touched or b.key in touched}


def prove_change(before: Cluster, after: Cluster, settings: Settings, grants: Iterable[Grant],
                 subjects: Iterable[str], isolate: frozenset[Direction] = frozenset()) -> Proof:
    """Compare a cluster before and after adding a building block's policies.

    Extra: anything newly allowed beyond the grants (an ipBlock grant also
    permits the pods whose IPs it holds). Missing: a granted connection not
    allowed afterwards (for address grants: the addresses themselves, since pods
    inside a CIDR keep their own ingress). Removed: connections allowed before
    and denied now. A removal on a side the block was asked to isolate
    (``isolate``: the egress of a subject, the ingress of a subject) is asked
    for and kept apart in ``isolated``; any other removal fails the proof, since
    it takes away traffic nobody asked to lose.
    """
    grants = list(grants)
    touched = set(subjects)
    conn_b, conn_a = Engine(before, settings).connectivity(), Engine(after, settings).connectivity()
    pods = {p.key: p for p in conn_a.pods}
    permitted: dict[tuple[str, str], ConnSet] = {}
    required: dict[tuple[str, str], ConnSet] = {}
    permitted_ranges: dict[tuple[str, Direction], list[tuple[IPSet, ConnSet]]] = {}
    intents: dict[tuple[str, str], list[str]] = {}
    for g in grants:
        assert isinstance(g.src, Pod)
        if isinstance(g.dst, Pod):
            k = (g.src.key, g.dst.key)
            c = conns_of(g.ports, g.dst, settings)
            permitted[k] = permitted.get(k, ConnSet.none()) | c
            required[k] = required.get(k, ConnSet.none()) | c
            intents.setdefault(k, []).append(g.intent)
            continue
        c = conns_of(g.ports, None, settings)
        permitted_ranges.setdefault((g.src.key, Direction.EGRESS), []).append((g.dst.ips, c))
        for p in pods.values():
            if any(ip in g.dst.ips for ip in p.ips) and (settings.ipblock_matches_pods or not p.is_pod_endpoint(
                    settings)):
                k = (g.src.key, p.key)
                permitted[k] = permitted.get(k, ConnSet.none()) | conns_of(g.ports, p, settings)

    def asked(src: str, dst: str) -> bool:
        return ((Direction.EGRESS in isolate and src in touched)
                or (Direction.INGRESS in isolate and dst in touched))

    rows_b, rows_a = _rows(conn_b, touched), _rows(conn_a, touched)
    extra: list[Difference] = []
    missing: list[Difference] = []
    removed: list[Difference] = []
    isolated: list[Difference] = []
    for k in sorted(set(rows_a) | set(rows_b)):
        got, had = rows_a.get(k, ConnSet.none()), rows_b.get(k, ConnSet.none())
        more = (got - had) - permitted.get(k, ConnSet.none())
        if more:
            extra.append(Difference(*k, more))
        lost = (had - got) - required.get(k, ConnSet.none())  # a granted connection lost is missing
        if lost:
            (isolated if asked(*k) else removed).append(Difference(*k, lost))
    for k, want in sorted(required.items()):
        short = want - rows_a.get(k, ConnSet.none())
        if short:
            missing.append(Difference(*k, short, tuple(intents.get(k, ()))))
    keys_a = {p.key for p in conn_a.pods}
    keys_b = {p.key for p in conn_b.pods}
    for key in sorted(touched):
        if key not in keys_a or key not in keys_b:
            continue
        families = conn_a.address_families(key)
        for direction in (Direction.EGRESS, Direction.INGRESS):
            got = conn_a.address_blocks(key, direction)
            had = conn_b.address_blocks(key, direction)
            allowed = had + permitted_ranges.get((key, direction), [])
            more, _ = region_sets(got, allowed, families)
            less, _ = region_sets(had, got, families)
            _, short = region_sets(got, permitted_ranges.get((key, direction), []), families)

            def ends(ips: IPSet) -> tuple[str, str]:
                text = addresses_words(ips)
                return (key, text) if direction is Direction.EGRESS else (text, key)  # noqa: B023

            for ips, conns in more:
                extra.append(Difference(*ends(ips), conns))
            for ips, conns in less:
                (isolated if direction in isolate else removed).append(Difference(*ends(ips), conns))
            for ips, conns in short:
                missing.append(Difference(key, addresses_words(ips), conns, tuple(
                    g.intent for g in grants if isinstance(g.dst, Addresses))))
    return Proof(ordered(extra), ordered(missing), (), len(touched), len(required) + sum(
        len(v) for v in permitted_ranges.values()), ordered(removed), tuple(sorted(touched)), ordered(isolated))
