"""Every API-server rule V1..V27: a failing input and the closest passing one.

Each failing case names the rule code, the field path the API server reports and
a phrase of its message; each passing case differs from a failing one as little
as possible and must produce no diagnostic at all.
"""

from __future__ import annotations

from typing import Any

import pytest

from podfence.model import Diagnostic, Settings, Severity, format_path
from podfence.validate import validate_network_policy

STRICT = Settings(strict_cidr_validation=True)


def policy(spec: dict[str, Any] | None = None, **metadata: Any) -> dict[str, Any]:
    meta = {"name": "web-allow", **metadata}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta, "spec": spec or {}}


def ingress_port(port: dict[str, Any]) -> dict[str, Any]:
    return policy({"ingress": [{"ports": [port]}]})


def ingress_peer(peer: Any) -> dict[str, Any]:
    return policy({"ingress": [{"from": [peer]}]})


def selector(sel: dict[str, Any]) -> dict[str, Any]:
    return policy({"podSelector": sel})


def expression(**expr: Any) -> dict[str, Any]:
    return selector({"matchExpressions": [expr]})


def block(cidr: Any, *excepts: str) -> dict[str, Any]:
    ip_block: dict[str, Any] = {"cidr": cidr}
    if excepts:
        ip_block["except"] = list(excepts)
    return ingress_peer({"ipBlock": ip_block})


def run(doc: Any, namespace: str = "default", settings: Settings = Settings()) -> list[Diagnostic]:
    return validate_network_policy(doc, namespace=namespace, settings=settings)


SEL = "spec.podSelector"
EXPR = "spec.podSelector.matchExpressions[0]"
PORT = "spec.ingress[0].ports[0]"
PEER = "spec.ingress[0].from[0]"
BLOCK = "spec.ingress[0].from[0].ipBlock"

# (id, document, namespace, code, field path, phrase of the message)
FAILING = [
    ("V1-no-name", {"metadata": {}, "spec": {}}, "default",
     "V1", "metadata.name", "Required value: name or generateName is required"),
    ("V1-empty-name", policy(name=""), "default",
     "V1", "metadata.name", "Required value: name or generateName is required"),
    ("V2-underscore", policy(name="Allow_All"), "default",
     "V2", "metadata.name", 'Invalid value: "Allow_All": a lowercase RFC 1123 subdomain must consist of'),
    ("V2-too-long", policy(name="a" * 254), "default",
     "V2", "metadata.name", "must be no more than 253 bytes"),
    ("V2-generateName", {"metadata": {"generateName": "Web-"}}, "default",
     "V2", "metadata.generateName", 'Invalid value: "Web-": a lowercase RFC 1123 subdomain'),
    ("V3-empty", policy(), "",
     "V3", "metadata.namespace", "Required value"),
    ("V3-uppercase", policy(), "Team_A",
     "V3", "metadata.namespace", 'Invalid value: "Team_A": a lowercase RFC 1123 label must consist of'),
    ("V3-dots", policy(), "team.a",
     "V3", "metadata.namespace", "must not contain dots"),
    ("V3-too-long", policy(), "a" * 64,
     "V3", "metadata.namespace", "must be no more than 63 bytes"),
    ("V4-label-key", policy(labels={"a b": "x"}), "default",
     "V4", "metadata.labels", 'Invalid value: "a b": name part must consist of'),
    ("V4-label-value", policy(labels={"app": "a b"}), "default",
     "V4", "metadata.labels", 'Invalid value: "a b": a valid label must be an empty string'),
    ("V4-annotation-key", policy(annotations={"a/b/c": "x"}), "default",
     "V4", "metadata.annotations", "a valid label key must consist of"),
    ("V4-annotation-size", policy(annotations={"k": "x" * (256 * 1024)}), "default",
     "V4", "metadata.annotations", "Too long: may not be more than 262144 bytes"),
    ("V4-generation", policy(generation=-1), "default",
     "V4", "metadata.generation", "Invalid value: -1: must be greater than or equal to 0"),
    ("V4-finalizer", policy(finalizers=["a/b/c"]), "default",
     "V4", "metadata.finalizers", 'Invalid value: "a/b/c": a valid label key'),
    ("V4-owner-uid", policy(ownerReferences=[{"apiVersion": "v1", "kind": "ConfigMap", "name": "x"}]), "default",
     "V4", "metadata.ownerReferences.uid", "must not be empty"),
    ("V4-managed-operation", policy(managedFields=[{"manager": "kubectl", "operation": "Patch"}]), "default",
     "V4", "metadata.managedFields[0].operation", 'Invalid value: "Patch": must be `Apply` or `Update`'),
    ("V5-leading-dash", selector({"matchLabels": {"-app": "web"}}), "default",
     "V5", f"{SEL}.matchLabels", 'Invalid value: "-app": name part must consist of'),
    ("V5-empty-prefix", selector({"matchLabels": {"/app": "web"}}), "default",
     "V5", f"{SEL}.matchLabels", "prefix part must be non-empty"),
    ("V5-two-slashes", selector({"matchLabels": {"a/b/c": "web"}}), "default",
     "V5", f"{SEL}.matchLabels", "a valid label key must consist of"),
    ("V5-uppercase-prefix", selector({"matchLabels": {"Example.com/app": "web"}}), "default",
     "V5", f"{SEL}.matchLabels", "prefix part a lowercase RFC 1123 subdomain"),
    ("V5-long-name", selector({"matchLabels": {"a" * 64: "web"}}), "default",
     "V5", f"{SEL}.matchLabels", "name part must be no more than 63 bytes"),
    ("V6-space", selector({"matchLabels": {"app": "a b"}}), "default",
     "V6", f"{SEL}.matchLabels", 'Invalid value: "a b": a valid label must be an empty string or consist of'),
    ("V6-too-long", selector({"matchLabels": {"app": "a" * 64}}), "default",
     "V6", f"{SEL}.matchLabels", "must be no more than 63 bytes"),
    ("V7-lowercase", expression(key="env", operator="in", values=["a"]), "default",
     "V7", f"{EXPR}.operator", 'Invalid value: "in": not a valid selector operator'),
    ("V7-Gt", expression(key="env", operator="Gt", values=["1"]), "default",
     "V7", f"{EXPR}.operator", 'Invalid value: "Gt": not a valid selector operator'),
    ("V7-missing", expression(key="env"), "default",
     "V7", f"{EXPR}.operator", 'Invalid value: "": not a valid selector operator'),
    ("V8-In-empty", expression(key="env", operator="In", values=[]), "default",
     "V8", f"{EXPR}.values", "Required value: must be specified when `operator` is 'In' or 'NotIn'"),
    ("V8-NotIn-absent", expression(key="env", operator="NotIn"), "default",
     "V8", f"{EXPR}.values", "Required value: must be specified when `operator` is 'In' or 'NotIn'"),
    ("V9-Exists", expression(key="env", operator="Exists", values=["x"]), "default",
     "V9", f"{EXPR}.values", "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
    ("V9-DoesNotExist", expression(key="env", operator="DoesNotExist", values=["x"]), "default",
     "V9", f"{EXPR}.values", "Forbidden: may not be specified"),
    ("V10-space", expression(key="bad key", operator="Exists"), "default",
     "V10", f"{EXPR}.key", 'Invalid value: "bad key": name part must consist of'),
    ("V10-empty", expression(key="", operator="Exists"), "default",
     "V10", f"{EXPR}.key", 'Invalid value: "": name part must be non-empty'),
    ("V11-slash", expression(key="env", operator="In", values=["ok", "a/b"]), "default",
     "V11", f"{EXPR}.values[1]", 'Invalid value: "a/b": a valid label must be an empty string'),
    ("V12-lowercase", ingress_port({"protocol": "tcp"}), "default",
     "V12", f"{PORT}.protocol", 'Unsupported value: "tcp": supported values: "TCP", "UDP", "SCTP"'),
    ("V12-ICMP", ingress_port({"protocol": "ICMP"}), "default",
     "V12", f"{PORT}.protocol", 'Unsupported value: "ICMP"'),
    ("V12-empty", ingress_port({"protocol": ""}), "default",
     "V12", f"{PORT}.protocol", 'Unsupported value: ""'),
    ("V13-zero", ingress_port({"port": 0}), "default",
     "V13", f"{PORT}.port", "Invalid value: 0: must be between 1 and 65535, inclusive"),
    ("V13-65536", ingress_port({"port": 65536}), "default",
     "V13", f"{PORT}.port", "Invalid value: 65536: must be between 1 and 65535, inclusive"),
    ("V14-uppercase", ingress_port({"port": "HTTP"}), "default",
     "V14", f"{PORT}.port", 'Invalid value: "HTTP": must contain only alpha-numeric characters'),
    ("V14-quoted-number", ingress_port({"port": "80"}), "default",
     "V14", f"{PORT}.port", 'Invalid value: "80": must contain at least one letter (a-z)'),
    ("V14-leading-dash", ingress_port({"port": "-web"}), "default",
     "V14", f"{PORT}.port", "must not begin or end with a hyphen"),
    ("V14-double-dash", ingress_port({"port": "a--b"}), "default",
     "V14", f"{PORT}.port", "must not contain consecutive hyphens"),
    ("V14-too-long", ingress_port({"port": "abcdefghijklmnop"}), "default",
     "V14", f"{PORT}.port", "must be no more than 15 bytes"),
    ("V15", ingress_port({"endPort": 90}), "default",
     "V15", f"{PORT}.endPort", "Invalid value: 90: may not be specified when `port` is not specified"),
    ("V16", ingress_port({"port": "http", "endPort": 90}), "default",
     "V16", f"{PORT}.endPort", "Invalid value: 90: may not be specified when `port` is non-numeric"),
    ("V17", ingress_port({"port": 90, "endPort": 80}), "default",
     "V17", f"{PORT}.endPort", "Invalid value: 80: must be greater than or equal to `port`"),
    ("V18", ingress_port({"port": 80, "endPort": 70000}), "default",
     "V18", f"{PORT}.endPort", "Invalid value: 70000: must be between 1 and 65535, inclusive"),
    ("V19-empty", ingress_peer({}), "default",
     "V19", PEER, "Required value: must specify a peer"),
    ("V19-null", ingress_peer(None), "default",
     "V19", PEER, "Required value: must specify a peer"),
    ("V20-podSelector", ingress_peer({"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}), "default",
     "V20", PEER, "Forbidden: may not specify both ipBlock and another peer"),
    ("V20-namespaceSelector", ingress_peer({"ipBlock": {"cidr": "10.0.0.0/8"}, "namespaceSelector": {}}), "default",
     "V20", PEER, "Forbidden: may not specify both ipBlock and another peer"),
    ("V21-empty", block(""), "default",
     "V21", f"{BLOCK}.cidr", "Required value"),
    ("V21-absent", ingress_peer({"ipBlock": {}}), "default",
     "V21", f"{BLOCK}.cidr", "Required value"),
    ("V22-no-prefix", block("10.0.0.1"), "default",
     "V22", f"{BLOCK}.cidr", 'Invalid value: "10.0.0.1": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'),
    ("V22-prefix-33", block("10.0.0.0/33"), "default",
     "V22", f"{BLOCK}.cidr", "must be a valid CIDR value"),
    ("V22-word", block("foo"), "default",
     "V22", f"{BLOCK}.cidr", "must be a valid CIDR value"),
    ("V24", block("10.0.0.0/8", "10.1.0.0"), "default",
     "V24", f"{BLOCK}.except[0]", 'Invalid value: "10.1.0.0": must be a valid CIDR value'),
    ("V25-equal", block("10.0.0.0/8", "10.0.0.0/8"), "default",
     "V25", f"{BLOCK}.except[0]", 'Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`'),
    ("V25-disjoint", block("10.0.0.0/8", "11.0.0.0/16"), "default",
     "V25", f"{BLOCK}.except[0]", "must be a strict subset of `cidr`"),
    ("V25-other-family", block("10.0.0.0/8", "fd00::/64"), "default",
     "V25", f"{BLOCK}.except[0]", "must be a strict subset of `cidr`"),
    ("V26", policy({"policyTypes": ["Ingress", "Egress", "Ingress"]}), "default",
     "V26", "spec.policyTypes", "may not specify more than two policyTypes"),
    ("V27", policy({"policyTypes": ["ingress"]}), "default",
     "V27", "spec.policyTypes[0]", 'Unsupported value: "ingress": supported values: "Ingress", "Egress"'),
]

# (id, document, namespace): the closest valid neighbours of the failing cases.
PASSING = [
    ("V1-generateName-only", {"metadata": {"generateName": "web-"}}, "default"),
    ("V2-dotted", policy(name="allow.all-v2"), "default"),
    ("V2-253", policy(name="a" * 253), "default"),
    ("V3-label", policy(), "team-a"),
    ("V3-63", policy(), "a" * 63),
    ("V4-labels", policy(labels={"app.kubernetes.io/name": "web", "empty": ""}), "default"),
    # Annotation keys are checked in lower case, so an upper-case prefix passes there.
    ("V4-annotation-case", policy(annotations={"Example.COM/Key": "x"}), "default"),
    ("V4-annotation-size-at-limit", policy(annotations={"k": "x" * (256 * 1024 - 1)}), "default"),
    ("V4-generation", policy(generation=0), "default"),
    ("V4-owner", policy(ownerReferences=[{"apiVersion": "v1", "kind": "ConfigMap", "name": "x", "uid": "1"}]),
     "default"),
    ("V4-managed", policy(managedFields=[{"manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1",
                                          "fieldsV1": {"f:spec": {}}}]), "default"),
    ("V5-prefixed", selector({"matchLabels": {"example.com/App_1.x": "web"}}), "default"),
    ("V6-empty-and-63", selector({"matchLabels": {"a": "", "b": "x" * 63}}), "default"),
    ("V7-In", expression(key="env", operator="In", values=["a"]), "default"),
    ("V8-NotIn", expression(key="env", operator="NotIn", values=["prod"]), "default"),
    ("V9-Exists", expression(key="env", operator="Exists"), "default"),
    ("V9-DoesNotExist-empty-list", expression(key="env", operator="DoesNotExist", values=[]), "default"),
    ("V10-key", expression(key="example.com/good-key", operator="Exists"), "default"),
    ("V11-values", expression(key="env", operator="In", values=["a.b", ""]), "default"),
    ("V12-SCTP", ingress_port({"protocol": "SCTP"}), "default"),
    ("V13-bounds", policy({"ingress": [{"ports": [{"port": 1}, {"port": 65535}]}]}), "default"),
    ("V14-names", policy({"ingress": [{"ports": [{"port": "http"}, {"port": "web-8080"},
                                                 {"port": "abcdefghijklmno"}]}]}), "default"),
    ("V15-with-port", ingress_port({"port": 80, "endPort": 90}), "default"),
    ("V16-named-alone", ingress_port({"port": "http"}), "default"),
    ("V17-equal", ingress_port({"port": 80, "endPort": 80}), "default"),
    ("V18-max", ingress_port({"port": 80, "endPort": 65535}), "default"),
    ("V19-empty-selector", ingress_peer({"podSelector": {}}), "default"),
    ("V20-two-selectors", ingress_peer({"namespaceSelector": {}, "podSelector": {}}), "default"),
    ("V21-V22-cidr", block("10.0.0.1/32"), "default"),
    ("V24-V25-except", block("10.0.0.0/8", "10.1.0.0/16"), "default"),
    ("V26-two", policy({"policyTypes": ["Ingress", "Egress"]}), "default"),
    ("V27-Egress", policy({"policyTypes": ["Egress"]}), "default"),
]


@pytest.mark.parametrize(("doc", "namespace", "code", "path", "phrase"),
                         [pytest.param(*case[1:], id=case[0]) for case in FAILING])
def test_rule_fails(doc: Any, namespace: str, code: str, path: str, phrase: str) -> None:
    found = [d for d in run(doc, namespace) if d.code == code]
    assert found, f"no {code} in {run(doc, namespace)}"
    assert any(format_path(d.field) == path and phrase in d.message for d in found), found
    assert all(d.severity is Severity.ERROR for d in found)


@pytest.mark.parametrize(("doc", "namespace"), [pytest.param(*case[1:], id=case[0]) for case in PASSING])
def test_rule_passes(doc: Any, namespace: str) -> None:
    assert run(doc, namespace) == []


def test_every_rule_has_a_failing_case() -> None:
    covered = {case[3] for case in FAILING} | {"V23"}  # V23 has its own tests below
    assert covered == {f"V{n}" for n in range(1, 28)}


def test_diagnostics_leave_location_to_the_loader() -> None:
    (d,) = run(policy(name="Allow_All"))
    assert (d.file, d.line, d.object) == (None, None, "")
    assert d.field == ("metadata", "name")


# --- V23: strict CIDR forms --------------------------------------------------------

@pytest.mark.parametrize(("cidr", "phrase"), [
    ("010.0.0.0/8", "must not have leading 0s in IP or prefix length"),
    ("10.0.0.0/08", "must not have leading 0s in IP or prefix length"),
    ("::ffff:10.0.0.0/104", "must not have an IPv4-mapped IPv6 address"),
    ("::ffff:10.0.0.0/64", "must not have an IPv4-mapped IPv6 address"),
    ("10.0.0.5/8", "must not have bits set beyond the prefix length"),
    ("2001:db8::1/64", "must not have bits set beyond the prefix length"),
])
def test_v23_strict_mode_rejects(cidr: str, phrase: str) -> None:
    (d,) = run(block(cidr), settings=STRICT)
    assert (d.code, d.severity, format_path(d.field)) == ("V23", Severity.ERROR, f"{BLOCK}.cidr")
    assert d.message == f'Invalid value: "{cidr}": {phrase}'


def test_v23_strict_mode_reports_only_the_first_problem() -> None:
    # Leading zeros and host bits at once: the API server stops at the first.
    (d,) = run(block("010.0.0.5/8"), settings=STRICT)
    assert "leading 0s" in d.message


def test_v23_strict_mode_checks_except_entries() -> None:
    (d,) = run(block("10.0.0.0/8", "10.1.0.5/16"), settings=STRICT)
    assert (d.code, format_path(d.field)) == ("V23", f"{BLOCK}.except[0]")
    assert "bits set beyond the prefix length" in d.message


def test_v23_strict_mode_passes_clean_values() -> None:
    assert run(block("10.0.0.0/8", "10.1.0.0/16"), settings=STRICT) == []
    assert run(block("2001:db8::/32", "2001:db8:1::/48"), settings=STRICT) == []


@pytest.mark.parametrize(("cidr", "phrase"), [
    ("10.0.0.5/8", 'CIDR value "10.0.0.5/8" is ambiguous in this context (should be "10.0.0.0/8" or "10.0.0.5/32"?)'),
    ("010.0.0.0/8", 'non-standard CIDR value "010.0.0.0/8" will be considered invalid in a future Kubernetes '
                    'release: use "10.0.0.0/8"'),
    ("::ffff:10.0.0.0/104", 'non-standard CIDR value "::ffff:10.0.0.0/104" will be considered invalid'),
])
def test_v23_lenient_mode_warns(cidr: str, phrase: str) -> None:
    (d,) = run(block(cidr))
    assert (d.code, d.severity, format_path(d.field)) == ("V23", Severity.WARNING, f"{BLOCK}.cidr")
    assert phrase in d.message


def test_v23_lenient_mode_can_warn_twice_for_one_value() -> None:
    # Host bits and leading zeros are separate warnings upstream.
    diags = run(block("010.0.0.5/8"))
    assert [d.code for d in diags] == ["V23", "V23"]
    assert "ambiguous" in diags[0].message and "non-standard" in diags[1].message
    assert all(d.severity is Severity.WARNING for d in diags)


def test_v23_ipv6_not_in_canonical_form_is_a_warning_in_both_modes() -> None:
    for settings in (Settings(), STRICT):
        (d,) = run(block("2001:DB8:0:0::/64"), settings=settings)
        assert d.severity is Severity.WARNING
        assert d.message == 'IPv6 CIDR value "2001:DB8:0:0::/64" should be in RFC 5952 canonical format ("2001:db8::/64")'


def test_oversized_values_are_echoed_as_a_prefix_and_a_count() -> None:
    from podfence.validate.messages import render_value

    shared = ["Ingress"] * 1000
    nested = [shared] * 1000  # a million entries, as YAML aliases can make them
    assert render_value(nested) == "[[" + ", ".join(['"Ingress"'] * 24) + ", ... (1000 items)], ... (1000 items)]"
    assert render_value({"k": "v" * 1000}) == '{"k": "' + "v" * 64 + '"... (1000 bytes)}'
    (d,) = validate_network_policy({"metadata": {"name": "p"}, "spec": {"podSelector": {}, "policyTypes": nested}},
                                   namespace="default")
    assert d.code == "V26" and len(d.message) < 400
