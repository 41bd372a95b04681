"""Pairs the settings decide, not the policies (engine Connectivity.decided_outside, own_node_addresses).

generate's proof, diff and test read these instead of keeping their own copies of the
self-traffic and own-node rules; here they are checked against the engine's verdicts.
"""

from __future__ import annotations

from podfence.engine import Endpoint, Engine, Reason
from podfence.loader import load_texts
from podfence.model import Direction, Settings
from podfence.sets import Protocol, parse_ip

CLUSTER = """\
apiVersion: v1
kind: Pod
metadata: {name: x, namespace: a, labels: {app: x}}
spec: {nodeName: n1, containers: [{name: c, image: x}]}
status: {podIP: 10.244.0.1, hostIP: 192.168.1.1}
---
apiVersion: v1
kind: Pod
metadata: {name: h, namespace: a, labels: {app: h}}
spec: {nodeName: n1, hostNetwork: true, containers: [{name: c, image: h}]}
status: {podIP: 192.168.1.1, hostIP: 192.168.1.1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: a}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: web}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: a}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
"""


def connectivity(settings: Settings = Settings()):  # type: ignore[no-untyped-def]
    result = load_texts([("c.yaml", CLUSTER)], default_namespace="default", settings=settings)
    assert result.ok, result.diagnostics
    engine = Engine(result.cluster, settings)
    return engine, engine.connectivity()


def test_self_traffic_of_a_bare_pod_only() -> None:
    engine, conn = connectivity()
    assert conn.decided_outside("a/x", "a/x")
    assert not conn.decided_outside("a/web", "a/web")  # replicas: judged by the policies
    x = Endpoint.of_pod(engine.cluster.pod("a/x"))
    assert engine.explain(x, x, Protocol.TCP, 80).allowed
    _, off = connectivity(Settings().with_values(allow_self_traffic=False))
    assert not off.decided_outside("a/x", "a/x")


def test_a_pod_and_its_own_node() -> None:
    _, conn = connectivity()
    assert conn.decided_outside("a/h", "a/x") and conn.decided_outside("a/x", "a/h")
    assert not conn.decided_outside("a/h", "a/web")  # no node: not on n1
    _, off = connectivity(Settings().with_values(allow_node_to_local_pod_ingress=False))
    assert not off.decided_outside("a/h", "a/x") and off.decided_outside("a/x", "a/h")


def test_own_node_addresses_follow_the_node_knobs() -> None:
    engine, conn = connectivity()
    node = parse_ip("192.168.1.1")
    assert conn.own_node_addresses("a/x", Direction.INGRESS) == (node,)
    assert conn.own_node_addresses("a/x", Direction.EGRESS) == (node,)
    assert conn.own_node_addresses("a/web", Direction.INGRESS) == ()
    verdict = engine.explain(Endpoint.of_address(node), Endpoint.of_pod(engine.cluster.pod("a/x")), Protocol.TCP, 1)
    assert verdict.allowed and verdict.ingress.reason is Reason.OWN_NODE
    _, off = connectivity(Settings().with_values(allow_pod_to_local_node_egress=False))
    assert off.own_node_addresses("a/x", Direction.EGRESS) == ()
    assert off.own_node_addresses("a/x", Direction.INGRESS) == (node,)
