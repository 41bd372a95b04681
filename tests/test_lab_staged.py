"""Staged policies in the lab are audit only, and the audits are the engine's promoted view.

The lab enforces the cluster as it is; its staged policies only report. On a run
that probes every pod pair, the measured matrices must be the engine's for the
enforced policies, the DROPPED records exactly the dropped probes, and the AUDIT
records exactly the connections the promoted view (every staged policy
enforced) denies and the current one allows, each naming staged policies that
change the auditing side.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from podfence.engine import Engine
from podfence.lab import control, linux
from podfence.lab import state as lab_state
from podfence.lab.denials import DenialReader
from podfence.lab.plan import LabPlan, with_lab_addresses
from podfence.loader import load
from podfence.model import Cluster, Settings, promoted
from podfence.sets import Protocol
from test_lab_support import lab_name
from test_cluster_tiers import np_policy
from test_edge_cases import pod
from test_lab_tiers import NAMESPACES, load_case, random_tiered_cluster

pytestmark = pytest.mark.lab
LAB = lab_name("pfs")
S = Settings()
TCP, UDP = Protocol.TCP, Protocol.UDP
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module", autouse=True)
def lab_state_dir(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    mp = pytest.MonkeyPatch()
    mp.setenv("PODFENCE_LAB_STATE_DIR", str(tmp_path_factory.mktemp("lab-state")))
    yield
    if linux.missing_requirement() is None:
        control.down(LAB)
    mp.undo()


Key = tuple[str, str, Protocol, int]


def audit_run(cluster: Cluster, cells: list[tuple[Protocol, int]]) -> tuple[set[Key], set[Key]]:
    """Probe every pair with the denial stream on; check packets and drops against the enforced
    view and return (the connections audited, what the promoted view denies and the current allows)."""
    result = control.up(cluster, S, name=LAB, extra_ports=tuple(sorted({port for _, port in cells})))
    control.apply(cluster, S, name=LAB)
    reader = DenialReader(lab_state.load(LAB))  # type: ignore[arg-type]
    try:
        reader.open()
        run = control.probe(cells, name=LAB)
        records = reader.drain(quiet=0.3)
    finally:
        reader.close()
    now_cluster = with_lab_addresses(cluster, LabPlan(result.state.pods))
    now, then = Engine(now_cluster, S).connectivity(), Engine(promoted(now_cluster), S).connectivity()
    for cell in cells:
        assert run.matrices[cell].differences(now.matrix(*cell)) == (), cell
    staged_keys = {s.key for s in cluster.staged}
    dropped, audited = set(), set()
    for rec in records:
        flow = rec["flow"]
        protocol = next(iter(flow["l4"]))
        key = (f"{flow['source']['namespace']}/{flow['source']['pod_name']}",
               f"{flow['destination']['namespace']}/{flow['destination']['pod_name']}",
               Protocol(protocol), flow["l4"][protocol]["destination_port"])
        direction = flow["traffic_direction"].lower()
        if flow["verdict"] == "AUDIT":
            named = {f"{p['namespace']}/{p['name']}" for p in flow[f"{direction}_denied_by"]}
            assert named and named <= staged_keys
            assert all(p["kind"] == "StagedKubernetesNetworkPolicy" for p in flow[f"{direction}_denied_by"])
            assert key not in audited, f"{key} audited twice"
            audited.add(key)
        else:
            assert flow["verdict"] == "DROPPED"
            dropped.add(key)
    assert dropped == {(r.probe.src.key, r.probe.dst.key, r.probe.protocol, r.probe.port)
                       for r in run.results if not r.outcome.reached}
    pods = [p.key for p in now_cluster.pods if p.is_pod_endpoint(S)]
    keys = [p.key for p in now_cluster.pods if p.takes_part(S)]
    expected = {(a, b, protocol, port) for a in keys for b in keys for protocol, port in cells
                if (a in pods or b in pods)
                and now.between(a, b).allows(protocol, port) and not then.between(a, b).allows(protocol, port)}
    return audited, expected


def test_the_staged_example_is_audited_exactly_where_the_promoted_view_denies() -> None:
    loaded = load([str(FIXTURES / "staged" / "shop.yaml")], default_namespace="default", settings=S)
    assert loaded.ok, [d.one_line() for d in loaded.diagnostics]
    audited, expected = audit_run(loaded.cluster, [(TCP, 8080), (TCP, 9000), (UDP, 8080)])
    assert expected, "the staged policies of the example deny something"
    assert audited == expected


def test_staged_policies_under_cluster_wide_tiers_are_audited_as_the_promoted_view_says() -> None:
    loaded = load([str(FIXTURES / "lab" / "compiler" / "staged.yaml")], default_namespace="default", settings=S)
    assert loaded.ok, [d.one_line() for d in loaded.diagnostics]
    audited, expected = audit_run(loaded.cluster, [(TCP, 8080), (UDP, 8080)])
    # shop/cli: the staged Delete lifts its NetworkPolicy, so the Baseline Deny of billing decides.
    assert ("billing/web", "shop/cli", TCP, 8080) in expected
    assert audited == expected


STAGED_SPECS = (
    "{podSelector: {}, policyTypes: [Ingress]}",
    "{podSelector: {}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {}}], ports: [{port: 81}]}]}",
    "{podSelector: {matchLabels: {app: web}}, ingress: [{from: [{podSelector: {}}]}]}",
    "{stagedAction: Delete}",
)


def random_staged_cluster(seed: int) -> Cluster:
    rng = random.Random(8800 + seed)
    docs = list(random_tiered_cluster(rng))
    for ns in NAMESPACES:
        if rng.random() < 0.6:
            name = f"np-{ns}" if rng.random() < 0.5 else f"staged-{ns}"
            docs.append("apiVersion: projectcalico.org/v3\nkind: StagedKubernetesNetworkPolicy\n"
                        f"metadata: {{name: {name}, namespace: {ns}}}\nspec: {rng.choice(STAGED_SPECS)}\n")
    return load_case(tuple(docs))


@pytest.mark.parametrize("seed", range(5))
def test_random_staged_clusters_audit_what_the_promoted_view_denies(seed: int) -> None:
    audited, expected = audit_run(random_staged_cluster(seed), [(TCP, 80), (TCP, 81), (UDP, 80)])
    assert audited == expected


def test_an_egress_audit_is_only_for_connections_that_flow_today() -> None:
    """a/x's staged default-deny egress would stop x -> b/y and x -> b/z; b/y's ingress refuses x
    today, so only x -> b/z is audited (and x -> b/y is dropped at y, as it is today)."""
    docs = (pod("a/x", {"app": "x"}, "10.244.0.1"), pod("b/y", {"app": "y"}, "10.244.1.1"),
            pod("b/z", {"app": "z"}, "10.244.1.2"),
            np_policy("y-closed", "b", "{podSelector: {matchLabels: {app: y}}, policyTypes: [Ingress]}"),
            "apiVersion: projectcalico.org/v3\nkind: StagedKubernetesNetworkPolicy\n"
            "metadata: {name: x-out, namespace: a}\nspec: {podSelector: {}, policyTypes: [Egress]}\n")
    audited, expected = audit_run(load_case(docs), [(TCP, 80), (UDP, 80)])
    assert ("a/x", "b/z", TCP, 80) in audited and ("a/x", "b/y", TCP, 80) not in audited
    assert audited == expected


def test_most_random_staged_clusters_have_something_to_audit() -> None:
    cells = [(TCP, 80), (TCP, 81), (UDP, 80)]
    busy = 0
    for seed in range(5):
        cluster = random_staged_cluster(seed)
        now, then = Engine(cluster, S).connectivity(), Engine(promoted(cluster), S).connectivity()
        keys = [p.key for p in cluster.pods if p.takes_part(S)]
        busy += any(now.between(a, b).allows(*c) and not then.between(a, b).allows(*c)
                    for a in keys for b in keys for c in cells)
    assert busy >= 3
