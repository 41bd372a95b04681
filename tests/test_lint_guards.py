"""False alarms lint must not raise, and the bundled example before and after its fixes.

Other linters are known for flagging correct policies: a deny-only policy "without
rules", an empty podSelector, an ingress-only policy "without egress". podfence
judges what the policies mean, so none of these is a finding.
"""

from __future__ import annotations

from pathlib import Path

from podfence.config import DEFAULT_CONFIG
from podfence.lint import Finding, lint
from podfence.loader import load, load_texts
from podfence.model import Severity

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "baa"

NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  containers:
  - name: web
    ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop, labels: {app: client}}
"""

ALLOW_DNS = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-dns, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
      podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
"""


def findings(text: str) -> list[Finding]:
    result = load_texts([("m.yaml", text)])
    assert result.ok
    return lint(result.cluster, DEFAULT_CONFIG)


def about(found: list[Finding], obj: str) -> list[str]:
    return [f"{f.rule} {f.message}" for f in found if f.object == obj]


def test_deny_only_policy_is_no_problem() -> None:
    found = findings(NAMESPACE + """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
""" + ALLOW_DNS)
    assert about(found, "NetworkPolicy shop/default-deny") == []
    assert not [f for f in found if f.rule in {"NP101", "NP102", "NP103", "NP104"}]


def test_empty_pod_selector_is_no_problem() -> None:
    found = findings(NAMESPACE + """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-namespace, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {}}]
    ports: [{port: http}]
""")
    assert about(found, "NetworkPolicy shop/web-from-namespace") == []


def test_ingress_only_policy_is_no_problem() -> None:
    found = findings(NAMESPACE + """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-ingress, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-ingress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}]
    ports: [{port: http}]
""")
    assert about(found, "NetworkPolicy shop/web-ingress") == []
    assert about(found, "NetworkPolicy shop/default-deny-ingress") == []
    # Egress is simply not isolated here: a note about the namespace, nothing about the policies.
    assert {f.rule for f in found} == {"NP102"}
    assert all(f.severity is Severity.NOTE for f in found)


def test_default_deny_split_across_two_policies() -> None:
    found = findings(NAMESPACE + """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-ingress, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
""" + ALLOW_DNS)
    assert found == [], [f"{f.rule} {f.object} {f.message}" for f in found]


def test_dns_allowed_through_one_peer_with_both_selectors() -> None:
    dns = """\
---
apiVersion: v1
kind: Pod
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  containers:
  - name: coredns
    ports: [{name: dns, containerPort: 53, protocol: UDP}, {name: dns-tcp, containerPort: 53}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""
    found = findings(NAMESPACE + dns + ALLOW_DNS)
    assert not [f for f in found if f.rule in {"NP121", "NP122", "NP301"}]
    # And without the allow-dns policy both pods lose DNS: the check is real.
    blocked = findings(NAMESPACE + dns)
    assert sorted(f.object for f in blocked if f.rule == "NP121") == ["Pod shop/client", "Pod shop/web"]


# -- the bundled example -----------------------------------------------------------------

def _example_texts() -> dict[str, str]:
    return {str(p.relative_to(EXAMPLE)): p.read_text() for p in sorted(EXAMPLE.rglob("*.yaml"))}


def _replace(texts: dict[str, str], name: str, old: str, new: str) -> None:
    assert texts[name].count(old) == 1, f"{name} no longer holds {old!r}: update this test with the example"
    texts[name] = texts[name].replace(old, new)


def fixed_example() -> dict[str, str]:
    """examples/baa with the four fixes its README describes."""
    texts = _example_texts()
    _replace(texts, "policies/monitoring.yaml", "app.kubernetes.io/name: grafna", "app.kubernetes.io/name: grafana")
    _replace(texts, "policies/billing.yaml", """\
              app.kubernetes.io/name: mailer
      ports:
        - protocol: TCP
          port: 80""", """\
              app.kubernetes.io/name: mailer
      ports:
        - protocol: TCP
          port: 8080""")
    _replace(texts, "policies/data.yaml", """\
              team: core
        - podSelector:""", """\
              team: core
          podSelector:""")
    _replace(texts, "policies/billing.yaml", """\
    # Added during the checkout incident (INC-2291).
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: api
          podSelector:
            matchLabels:
              app.kubernetes.io/name: api-server
      ports:
        - protocol: TCP
          port: 8080
""", "")
    return texts


def test_the_example_shows_its_four_mistakes() -> None:
    found = lint(load([str(EXAMPLE)]).cluster, DEFAULT_CONFIG)
    got = {(f.rule, f.object, f.field_path) for f in found}
    assert got == {
        ("NP201", "NetworkPolicy monitoring/grafana-egress", "spec.podSelector"),
        ("NP302", "NetworkPolicy billing/invoicer-egress", "spec.egress[0].ports[0]"),
        ("NP301", "NetworkPolicy data/redis-ingress", "spec.ingress[0].from"),
        ("NP307", "NetworkPolicy data/redis-ingress", "spec.ingress[0].from[1].podSelector"),
        ("NP208", "NetworkPolicy billing/billing-api-ingress", "spec.ingress[1]"),
        # The first two mistakes leave a connection allowed on one side only.
        ("NP309", "NetworkPolicy billing/invoicer-egress", "spec.egress[0].to[0]"),
        ("NP309", "NetworkPolicy monitoring/prometheus-ingress", "spec.ingress[0].from[0]"),
    }


def test_the_example_after_its_fixes_is_clean_at_warning_level() -> None:
    result = load_texts(sorted(fixed_example().items()))
    assert result.ok
    found = lint(result.cluster, DEFAULT_CONFIG)
    assert [f for f in found if f.at_least(Severity.WARNING)] == []
