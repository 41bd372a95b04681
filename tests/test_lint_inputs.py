"""What lint needs from the manifests beyond evaluation: annotations and how fields were written.

The loader keeps annotations on namespaces, pods, workloads and policies, and
records whether a manifest named its namespace, a port entry its protocol and a
policy its policyTypes. None of this changes evaluation, so it is left out of
comparisons.
"""

from __future__ import annotations

from podfence.loader import load_texts
from podfence.model import Labels, NetworkPolicy, PolicyPort
from podfence.sets import Protocol

MANIFESTS = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  annotations: {podfence.io/ignore: "NP101: shared dev namespace"}
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  annotations: {podfence.io/ignore: "NP103: legacy"}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
  annotations: {podfence.io/ignore: "NP201: owner"}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata:
      labels: {app: api}
      annotations: {prometheus.io/scrape: "true", podfence.io/ignore: "template"}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: p
  annotations: {podfence.io/ignore: "NP305: tcp only on purpose"}
spec:
  podSelector: {}
  egress:
  - ports: [{port: 53}, {port: 53, protocol: UDP}]
"""


def _load():  # type: ignore[no-untyped-def]
    result = load_texts([("m.yaml", MANIFESTS)])
    assert result.ok, result.diagnostics
    return result.cluster


def test_annotations_are_kept() -> None:
    cluster = _load()
    assert cluster.namespace("shop").annotations == Labels({"podfence.io/ignore": "NP101: shared dev namespace"})
    assert cluster.pod("default/web").annotations["podfence.io/ignore"] == "NP103: legacy"
    # A workload's own annotations win over its template's; the rest of the template's stay.
    api = cluster.pod("shop/api")
    assert api.annotations == Labels({"podfence.io/ignore": "NP201: owner", "prometheus.io/scrape": "true"})
    assert cluster.policy("default/p").annotations["podfence.io/ignore"] == "NP305: tcp only on purpose"


def test_how_fields_were_written() -> None:
    cluster = _load()
    assert cluster.pod("default/web").namespace_given is False
    assert cluster.pod("shop/api").namespace_given is True
    policy = cluster.policy("default/p")
    assert policy.namespace_given is False
    assert policy.policy_types_given is False  # D2 inferred [Ingress, Egress]
    first, second = policy.egress[0].ports
    assert (first.protocol, first.protocol_given) == (Protocol.TCP, False)
    assert (second.protocol, second.protocol_given) == (Protocol.UDP, True)


def test_written_form_does_not_change_equality() -> None:
    assert PolicyPort(Protocol.TCP, 80, protocol_given=False) == PolicyPort(Protocol.TCP, 80)
    explicit = NetworkPolicy.from_dict({"metadata": {"name": "a", "namespace": "x"},
                                        "spec": {"policyTypes": ["Ingress"]}})
    implicit = NetworkPolicy.from_dict({"metadata": {"name": "a", "annotations": {"k": "v"}}}, namespace="x")
    assert explicit.policy_types_given and not implicit.policy_types_given
    assert explicit == implicit
