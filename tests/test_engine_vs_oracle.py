"""The engine against the oracle on hundreds of small random clusters.

For every ordered pair of pods that take part, every protocol and every port that
matters in the cluster (each port mentioned, one either side, 1 and 65535), the
engine's whole-cluster answer (``connectivity().between``), its per-pair answer
(``allowed``) and its explanation (``explain``) must agree with the oracle. Pods
are also probed against bare addresses at every ipBlock boundary, in both
directions, through ``explain``, ``allowed`` and the CIDR entries of
``connectivity().connections()``. Each evaluation knob is flipped on a further
set of seeds.

A failure prints the seed (``random_cluster(seed)`` rebuilds the cluster), the
settings, the whole cluster with its policies, and the first disagreements.

``PODFENCE_ORACLE_SEEDS`` and ``PODFENCE_ORACLE_KNOB_SEEDS`` change how many seeds
run (defaults 300 and 30 per knob).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field, fields

import pytest

from oracle import oracle_allows, takes_part
from podfence.engine import Connectivity, Endpoint, Engine
from podfence.model import Pod, Settings
from podfence.sets import PROTOCOLS, ConnSet, IPAddress, Protocol, parse_cidr
from podfence.validate import validate_network_policy
from random_clusters import DNS_MAP, RandomCluster, mentioned_ports, probe_addresses, random_cluster

SEEDS = int(os.environ.get("PODFENCE_ORACLE_SEEDS", "300"))
TIER_SEEDS = int(os.environ.get("PODFENCE_ORACLE_TIER_SEEDS", "300"))
KNOB_SEEDS = int(os.environ.get("PODFENCE_ORACLE_KNOB_SEEDS", "30"))
EVALUATION_KNOBS = tuple(k for k in Settings.switches() if k not in ("strict_cidr_validation", "cluster_policy_standard_channel"))
EXPLAINS_PER_ADDRESS = 6  # explain() calls per (pod, address, direction); ConnSets cover every port
MAX_REPORTED = 12

Conn = tuple[Protocol | None, int]  # None: a protocol without ports


@dataclass
class Mismatches:
    """Disagreements found in one cluster, reported together."""

    rc: RandomCluster
    settings: Settings
    found: list[str] = field(default_factory=list)

    def check(self, what: str, engine: bool, expected: bool) -> None:
        if engine != expected:
            self.found.append(f"{what}: engine says {_word(engine)}, oracle says {_word(expected)}")

    def report(self) -> str:
        changed = {f.name: getattr(self.settings, f.name) for f in fields(Settings)
                   if getattr(self.settings, f.name) != getattr(Settings(), f.name)}
        lines = [
            f"{len(self.found)} disagreement(s) in random_cluster({self.rc.seed}) "
            f"with settings {changed or 'default'}:",
            *(f"  {m}" for m in self.found[:MAX_REPORTED]),
        ]
        if len(self.found) > MAX_REPORTED:
            lines.append(f"  ... and {len(self.found) - MAX_REPORTED} more")
        lines += ["", self.rc.describe()]
        return "\n".join(lines)


def _word(allowed: bool) -> str:
    return "allowed" if allowed else "denied"


def _conn_text(conn: Conn) -> str:
    protocol, port = conn
    return "non-L4" if protocol is None else f"{protocol}/{port}"


def _conn_in(cs: ConnSet, conn: Conn) -> bool:
    protocol, port = conn
    return cs.other if protocol is None else cs.allows(protocol, port)


def compare(rc: RandomCluster, settings: Settings) -> None:
    """Compare every pod pair and pod/address pair of one cluster; fail with a report."""
    engine = Engine(rc.cluster, settings)
    cluster = rc.cluster
    conns: list[Conn] = [(None, 0)] + [(p, n) for p in PROTOCOLS for n in mentioned_ports(cluster)]
    pods = [p for p in cluster.pods if takes_part(p, settings)]
    out = Mismatches(rc, settings)
    connectivity = engine.connectivity()
    _compare_pod_list(connectivity, pods, out)
    pod_entries, cidr_entries = _entries(connectivity)
    for src in pods:
        for dst in pods:
            between = connectivity.between(src.key, dst.key)
            pair = engine.allowed(Endpoint.of_pod(src), Endpoint.of_pod(dst))
            listed = pod_entries.get((src.key, dst.key), ConnSet.none())
            for conn in conns:
                expected = oracle_allows(cluster, settings, src, dst, *conn)
                what = f"{src.key} -> {dst.key} {_conn_text(conn)}"
                out.check(f"{what} [connectivity().between]", _conn_in(between, conn), expected)
                out.check(f"{what} [allowed]", _conn_in(pair, conn), expected)
                out.check(f"{what} [connections() pod entry]", _conn_in(listed, conn), expected)
                if conn[0] is not None:
                    verdict = engine.explain(Endpoint.of_pod(src), Endpoint.of_pod(dst), conn[0], conn[1])
                    out.check(f"{what} [explain]", verdict.allowed, expected)
    families = set(connectivity.range_families) if rc.cluster.cluster_policies else None
    _compare_addresses(engine, rc, settings, pods, conns, cidr_entries, out, families)
    if out.found:
        pytest.fail(out.report())


def _compare_pod_list(connectivity: Connectivity, pods: list[Pod], out: Mismatches) -> None:
    listed = [p.key if isinstance(p, Pod) else str(p) for p in connectivity.pods]
    expected = sorted(p.key for p in pods)
    if listed != expected:
        out.found.append(f"connectivity().pods is {listed}, expected the pods taking part {expected}")


def _compare_addresses(engine: Engine, rc: RandomCluster, settings: Settings, pods: list[Pod], conns: list[Conn],
                       cidr_entries: list[tuple[str, str, ConnSet]], out: Mismatches,
                       families: set[int] | None = None) -> None:
    rng = random.Random(rc.seed)
    l4 = [c for c in conns if c[0] is not None]
    # Which families connections() lists is a reporting choice; with cluster-wide peers
    # (networks, nodes, domainNames) the engine's own choice is taken.
    listed_families = families if families is not None else ({4, 6} if _mentions_ipv6(rc) else {4})
    for pod in pods:
        for address in probe_addresses(rc.cluster):
            for forward in (True, False):
                src: Pod | IPAddress = pod if forward else address
                dst: Pod | IPAddress = address if forward else pod
                src_ep, dst_ep = _endpoint(src), _endpoint(dst)
                pair = engine.allowed(src_ep, dst_ep)
                listed = _cidr_lookup(cidr_entries, pod.key, address, forward)
                sampled = set(rng.sample(l4, min(EXPLAINS_PER_ADDRESS, len(l4))))
                for conn in conns:
                    expected = oracle_allows(rc.cluster, settings, src, dst, *conn)
                    what = f"{_name(src)} -> {_name(dst)} {_conn_text(conn)}"
                    out.check(f"{what} [allowed]", _conn_in(pair, conn), expected)
                    if address.version in listed_families:
                        out.check(f"{what} [connections() CIDR entry]", _conn_in(listed, conn), expected)
                    if conn in sampled:
                        verdict = engine.explain(src_ep, dst_ep, conn[0], conn[1])
                        out.check(f"{what} [explain]", verdict.allowed, expected)


def _mentions_ipv6(rc: RandomCluster) -> bool:
    """Does the input mention IPv6 (a pod or host address, or an ipBlock holding IPv6 addresses)?

    connections() lists IPv4 ranges always and IPv6 ranges only then, so that
    IPv4-only clusters do not get a report full of ``::/0``. (An IPv6 ipBlock
    whose ``except`` entries cover all of it holds no address and does not count.)
    """
    if any(ip.version == 6 for pod in rc.cluster.pods for ip in (*pod.ips, *pod.host_ips)):
        return True
    for pol in rc.cluster.policies:
        for rule in (*pol.ingress, *pol.egress):
            for peer in rule.peers:
                block = peer.ip_block
                if block is not None and ":" in block.cidr and not _fully_excepted(block.cidr, block.except_):
                    return True
    return False


def _fully_excepted(cidr: str, excepts: tuple[str, ...]) -> bool:
    """Do the ``except`` entries together cover the whole ``cidr``?"""
    whole = parse_cidr(cidr)
    assert whole is not None
    reach = whole.first  # everything below ``reach`` is covered so far
    for hole in sorted((c for c in map(parse_cidr, excepts) if c is not None), key=lambda c: c.first):
        if hole.first > reach:
            return False
        reach = max(reach, hole.last + 1)
    return reach > whole.last


def _endpoint(end: Pod | IPAddress) -> Endpoint:
    return Endpoint.of_pod(end) if isinstance(end, Pod) else Endpoint.of_address(end)


def _name(end: Pod | IPAddress) -> str:
    return end.key if isinstance(end, Pod) else str(end)


def _entries(connectivity: Connectivity) -> tuple[dict[tuple[str, str], ConnSet], list[tuple[str, str, ConnSet]]]:
    """connections() split into pod/pod entries and entries with a CIDR on one side."""
    pod_pairs: dict[tuple[str, str], ConnSet] = {}
    with_cidr: list[tuple[str, str, ConnSet]] = []
    for entry in connectivity.connections():
        src, dst = str(entry.src), str(entry.dst)
        if _is_cidr(src) or _is_cidr(dst):
            with_cidr.append((src, dst, entry.conns))
        else:
            pod_pairs[(src, dst)] = entry.conns
    return pod_pairs, with_cidr


def _is_cidr(text: str) -> bool:
    return parse_cidr(text) is not None


def _cidr_lookup(entries: list[tuple[str, str, ConnSet]], pod_key: str, address: IPAddress,
                 pod_is_src: bool) -> ConnSet:
    """The ConnSet listed between a pod and the CIDR holding ``address``.

    Entries with empty ConnSets are left out of the listing, so finding none
    means nothing is allowed.
    """
    for src, dst, conns in entries:
        pod_side, cidr_side = (src, dst) if pod_is_src else (dst, src)
        if pod_side != pod_key or not _is_cidr(cidr_side):
            continue
        parsed = parse_cidr(cidr_side)
        assert parsed is not None
        if parsed.contains(address):
            return conns
    return ConnSet.none()


@pytest.mark.parametrize("seed", range(SEEDS))
def test_default_settings(seed: int) -> None:
    compare(random_cluster(seed), Settings())


@pytest.mark.parametrize("knob", EVALUATION_KNOBS)
@pytest.mark.parametrize("seed", range(10_000, 10_000 + KNOB_SEEDS))
def test_each_knob_flipped(knob: str, seed: int) -> None:
    settings = Settings()
    compare(random_cluster(seed), settings.with_values(**{knob: not getattr(settings, knob)}))


@pytest.mark.parametrize("seed", range(TIER_SEEDS))
def test_tiers_default_settings(seed: int) -> None:
    """Random Admin and Baseline policies (both kinds, every action, every peer) on top of NetworkPolicies."""
    compare(random_cluster(seed, tiers=True), Settings())


@pytest.mark.parametrize("seed", range(30_000, 30_000 + TIER_SEEDS // 3))
def test_tiers_with_a_dns_map(seed: int) -> None:
    compare(random_cluster(seed, tiers=True), Settings(dns_map=DNS_MAP))


@pytest.mark.parametrize("knob", EVALUATION_KNOBS)
@pytest.mark.parametrize("seed", range(40_000, 40_000 + KNOB_SEEDS // 3))
def test_tiers_each_knob_flipped(knob: str, seed: int) -> None:
    settings = Settings()
    compare(random_cluster(seed, tiers=True), settings.with_values(**{knob: not getattr(settings, knob)}))


def test_generated_manifests_pass_validation() -> None:
    """The generator only makes valid policies (it feeds NetworkPolicy.from_dict)."""
    for seed in range(200):
        rc = random_cluster(seed)
        for doc in rc.manifests:
            errors = [d for d in validate_network_policy(doc, namespace=doc["metadata"]["namespace"],
                                                         settings=Settings()) if d.is_error]
            assert not errors, f"seed {seed}: {[d.one_line() for d in errors]}\n{rc.describe()}"
