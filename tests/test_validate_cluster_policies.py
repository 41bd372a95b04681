"""Every CRD rule of ClusterNetworkPolicy (v1alpha2) and AdminNetworkPolicy / BaselineAdminNetworkPolicy (v1alpha1).

Each failing case gives the one diagnostic the input must produce (code, field
path, exact message); each passing case is the closest valid neighbour of a
failing one and must produce nothing at all.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podfence.model import Settings, Severity, format_path
from podfence.validate import CLUSTER_POLICY_KINDS, is_cidr, validate_cluster_policy, validate_object

from api_messages import SUBDOMAIN
from cli_support import podfence

CNP, ANP, BANP = "ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"
V1ALPHA2 = "policy.networking.k8s.io/v1alpha2"
V1ALPHA1 = "policy.networking.k8s.io/v1alpha1"
STANDARD = Settings(cluster_policy_standard_channel=True)
PATTERN = r"^(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$"
NAMED_PORT_CEL = ("networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts "
                  "for networks/nodes/domainNames")
ALPHA = "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
ALL = {"namespaces": {}}
PODS = {"pods": {"podSelector": {}}}
PODS1 = {"pods": {"namespaceSelector": {}, "podSelector": {}}}
TCP80 = {"tcp": {"destinationPort": {"number": 80}}}
PORT80 = {"portNumber": {"port": 80}}


def cnp(spec: dict[str, Any] | None = None, drop: tuple[str, ...] = (), **metadata: Any) -> dict[str, Any]:
    body = {"tier": "Admin", "priority": 10, "subject": ALL, **(spec or {})}
    for key in drop:
        body.pop(key)
    return {"apiVersion": V1ALPHA2, "kind": CNP, "metadata": {"name": "deny-all", **metadata}, "spec": body}


def anp(spec: dict[str, Any] | None = None, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    body = {"priority": 10, "subject": ALL, **(spec or {})}
    for key in drop:
        body.pop(key)
    return {"apiVersion": V1ALPHA1, "kind": ANP, "metadata": {"name": "admin"}, "spec": body}


def banp(spec: dict[str, Any] | None = None, name: str = "default") -> dict[str, Any]:
    return {"apiVersion": V1ALPHA1, "kind": BANP, "metadata": {"name": name},
            "spec": {"subject": ALL, **(spec or {})}}


def cnp_in(**rule: Any) -> dict[str, Any]:
    return cnp({"ingress": [{"action": "Accept", "from": [ALL], **rule}]})


def cnp_out(*peers: Any, **rule: Any) -> dict[str, Any]:
    return cnp({"egress": [{"action": "Accept", "to": list(peers or [ALL]), **rule}]})


def cnp_port(entry: Any) -> dict[str, Any]:
    return cnp_in(protocols=[entry])


def dest(port: Any) -> dict[str, Any]:
    return cnp_port({"tcp": {"destinationPort": port}})


def anp_out(*peers: Any, **rule: Any) -> dict[str, Any]:
    return anp({"egress": [{"action": "Allow", "to": list(peers or [ALL]), **rule}]})


def anp_port(entry: Any) -> dict[str, Any]:
    return anp({"ingress": [{"action": "Allow", "from": [ALL], "ports": [entry]}]})


def run(doc: Any, kind: str | None = None, settings: Settings = Settings()) -> list[Any]:
    kind = kind or (doc["kind"] if isinstance(doc, dict) else CNP)
    return validate_cluster_policy(doc, kind=kind, settings=settings)


IN = "spec.ingress[0]"
OUT = "spec.egress[0]"
PEER = "spec.egress[0].to[0]"
PROTO = "spec.ingress[0].protocols[0]"
DPORT = "spec.ingress[0].protocols[0].tcp.destinationPort"
PORT = "spec.ingress[0].ports[0]"
SEL = "spec.subject.namespaces.matchExpressions[0]"


def many(item: Any, n: int) -> list[Any]:
    return [copy.deepcopy(item) for _ in range(n)]


def rules(n: int, rule: dict[str, Any]) -> list[dict[str, Any]]:
    return many(rule, n)


CNP_RULE = {"action": "Deny", "from": [ALL]}
ANP_RULE = {"action": "Deny", "from": [ALL]}

# (id, document, code, field path, message)
FAILING = [
    # C29 / V43: one version per kind
    ("C29-cnp-v1alpha1", {**cnp(), "apiVersion": V1ALPHA1}, "V43", "apiVersion",
     f'Invalid value: "{V1ALPHA1}": ClusterNetworkPolicy is served only as {V1ALPHA2}'),
    ("C29-anp-v1alpha2", {**anp(), "apiVersion": V1ALPHA2}, "V43", "apiVersion",
     f'Invalid value: "{V1ALPHA2}": AdminNetworkPolicy is served only as {V1ALPHA1}'),
    ("C29-banp-v1alpha2", {**banp(), "apiVersion": V1ALPHA2}, "V43", "apiVersion",
     f'Invalid value: "{V1ALPHA2}": BaselineAdminNetworkPolicy is served only as {V1ALPHA1}'),
    # A16 / V44: the baseline singleton
    ("A16-banp-name", banp(name="baseline"), "V44", "metadata.name",
     'Invalid value: "object": Only one baseline admin network policy with metadata.name="default" can be '
     'created in the cluster'),
    # C25, A18 / V28: names
    ("C25-name", cnp(name="Deny_All"), "V28", "metadata.name", f'Invalid value: "Deny_All": {SUBDOMAIN}'),
    ("A18-name", {**anp(), "metadata": {"name": "Bad_Name"}}, "V28", "metadata.name",
     f'Invalid value: "Bad_Name": {SUBDOMAIN}'),
    ("C25-no-name", {**cnp(), "metadata": {}}, "V28", "metadata.name",
     "Required value: name or generateName is required"),
    # C1 / V46
    ("C1-no-spec", {"apiVersion": V1ALPHA2, "kind": CNP, "metadata": {"name": "a"}}, "V46", "spec",
     "Required value"),
    ("A1-anp-no-spec", {"apiVersion": V1ALPHA1, "kind": ANP, "metadata": {"name": "a"}}, "V46", "spec",
     "Required value"),
    # C2 / V46
    ("C2-no-tier", cnp(drop=("tier",)), "V46", "spec.tier", "Required value"),
    ("C2-lowercase", cnp({"tier": "admin"}), "V46", "spec.tier",
     'Unsupported value: "admin": supported values: "Admin", "Baseline"'),
    ("C2-override", cnp({"tier": "Override"}), "V46", "spec.tier",
     'Unsupported value: "Override": supported values: "Admin", "Baseline"'),
    # C3, A1, A2 / V47
    ("C3-baseline-no-priority", cnp({"tier": "Baseline"}, drop=("priority",)), "V47", "spec.priority",
     "Required value"),
    ("C3-1001", cnp({"priority": 1001}), "V47", "spec.priority",
     "Invalid value: 1001: spec.priority in body should be less than or equal to 1000"),
    ("C3-negative", cnp({"priority": -1}), "V47", "spec.priority",
     "Invalid value: -1: spec.priority in body should be greater than or equal to 0"),
    ("A1-anp-no-priority", anp(drop=("priority",)), "V47", "spec.priority", "Required value"),
    ("A2-anp-1001", anp({"priority": 1001}), "V47", "spec.priority",
     "Invalid value: 1001: spec.priority in body should be less than or equal to 1000"),
    # C30 / S1: wrong JSON types
    ("C30-priority-string", cnp({"priority": "5"}), "S1", "spec.priority",
     'Invalid type: must be an integer, not a string ("5")'),
    ("C30-networks-string", cnp_out({"networks": "10.0.0.0/8"}), "S1", f"{PEER}.networks",
     "Invalid type: must be a list, not a string (\"10.0.0.0/8\")"),
    # C4, A3 / V48
    ("C4-no-subject", cnp(drop=("subject",)), "V48", "spec.subject", "Required value"),
    ("C4-empty", cnp({"subject": {}}), "V48", "spec.subject",
     "Invalid value: 0: spec.subject in body should have at least 1 properties"),
    ("C4-null-namespaces", cnp({"subject": {"namespaces": None}}), "V48", "spec.subject",
     "Invalid value: 0: spec.subject in body should have at least 1 properties"),
    ("C4-both", cnp({"subject": {**ALL, **PODS}}), "V48", "spec.subject", "Too many: 2: must have at most 1 items"),
    ("A3-anp-both", anp({"subject": {**ALL, **PODS1}}), "V48", "spec.subject",
     "Too many: 2: must have at most 1 items"),
    ("A1-banp-no-subject", {**banp(), "spec": {}}, "V48", "spec.subject", "Required value"),
    # C5, A4 / V49
    ("C5-subject-pods", cnp({"subject": {"pods": {"namespaceSelector": {}}}}), "V49",
     "spec.subject.pods.podSelector", "Required value"),
    ("C5-peer-pods", cnp_in(**{"from": [{"pods": {"namespaceSelector": {}}}]}), "V49",
     f"{IN}.from[0].pods.podSelector", "Required value"),
    ("A4-anp-namespaceSelector", anp({"subject": PODS}), "V49", "spec.subject.pods.namespaceSelector",
     "Required value"),
    # C6, A5 / V50
    ("C6-26-ingress", cnp({"ingress": rules(26, CNP_RULE)}), "V50", "spec.ingress",
     "Too many: 26: must have at most 25 items"),
    ("C6-26-egress", cnp({"egress": rules(26, {"action": "Deny", "to": [ALL]})}), "V50", "spec.egress",
     "Too many: 26: must have at most 25 items"),
    ("A5-anp-101", anp({"ingress": rules(101, ANP_RULE)}), "V50", "spec.ingress",
     "Too many: 101: must have at most 100 items"),
    # C7, A6 / V51
    ("C7-name-101", cnp_in(name="r" * 101), "V51", f"{IN}.name", "Too long: may not be more than 100 bytes"),
    ("A6-anp-name-101", anp({"ingress": [{**ANP_RULE, "name": "r" * 101}]}), "V51", f"{IN}.name",
     "Too long: may not be more than 100 bytes"),
    # C8, A7 / V52
    ("C8-no-action", cnp({"ingress": [{"from": [ALL]}]}), "V52", f"{IN}.action", "Required value"),
    ("C8-Allow", cnp_in(action="Allow"), "V52", f"{IN}.action",
     'Unsupported value: "Allow": supported values: "Accept", "Deny", "Pass"'),
    ("C8-accept", cnp_in(action="accept"), "V52", f"{IN}.action",
     'Unsupported value: "accept": supported values: "Accept", "Deny", "Pass"'),
    ("A7-anp-Drop", anp({"ingress": [{**ANP_RULE, "action": "Drop"}]}), "V52", f"{IN}.action",
     'Unsupported value: "Drop": supported values: "Allow", "Deny", "Pass"'),
    ("A7-banp-Pass", banp({"ingress": [{**ANP_RULE, "action": "Pass"}]}), "V52", f"{IN}.action",
     'Unsupported value: "Pass": supported values: "Allow", "Deny"'),
    # C9, A8 / V53
    ("C9-no-from", cnp({"ingress": [{"action": "Deny"}]}), "V53", f"{IN}.from", "Required value"),
    ("C9-no-to", cnp({"egress": [{"action": "Deny"}]}), "V53", f"{OUT}.to", "Required value"),
    ("C9-empty", cnp_in(**{"from": []}), "V53", f"{IN}.from",
     "Invalid value: 0: spec.ingress[0].from in body should have at least 1 items"),
    ("C9-26", cnp_in(**{"from": many(ALL, 26)}), "V53", f"{IN}.from", "Too many: 26: must have at most 25 items"),
    ("A8-anp-empty", anp({"ingress": [{"action": "Deny", "from": []}]}), "V53", f"{IN}.from",
     "Invalid value: 0: spec.ingress[0].from in body should have at least 1 items"),
    ("A8-anp-101", anp({"ingress": [{"action": "Deny", "from": many(ALL, 101)}]}), "V53", f"{IN}.from",
     "Too many: 101: must have at most 100 items"),
    # C10, A13 / V54
    ("C10-empty-peer", cnp_out({}), "V54", PEER, f"Invalid value: 0: {PEER} in body should have at least 1 properties"),
    ("C10-two", cnp_out({**ALL, **PODS}), "V54", PEER, "Too many: 2: must have at most 1 items"),
    ("A13-anp-empty-peer", anp_out({}), "V54", PEER,
     f"Invalid value: 0: {PEER} in body should have at least 1 properties"),
    # C11: ingress peers name pods only
    ("C11-ingress-networks", cnp_in(**{"from": [{"networks": ["10.0.0.0/8"]}]}), "S2", f"{IN}.from[0].networks",
     'unknown field "networks" (ingress peers can only be namespaces or pods)'),
    ("C11-ingress-nodes", cnp_in(**{"from": [{"nodes": {}}]}), "S2", f"{IN}.from[0].nodes",
     'unknown field "nodes" (ingress peers can only be namespaces or pods)'),
    # C12, A9 / V55
    ("C12-empty", cnp_in(protocols=[]), "V55", f"{IN}.protocols",
     "Invalid value: 0: spec.ingress[0].protocols in body should have at least 1 items"),
    ("C12-26", cnp_in(protocols=many(TCP80, 26)), "V55", f"{IN}.protocols",
     "Too many: 26: must have at most 25 items"),
    ("A9-anp-empty", anp({"ingress": [{**ANP_RULE, "ports": []}]}), "V55", f"{IN}.ports",
     "Invalid value: 0: spec.ingress[0].ports in body should have at least 1 items"),
    ("A9-anp-101", anp({"ingress": [{**ANP_RULE, "ports": many(PORT80, 101)}]}), "V55", f"{IN}.ports",
     "Too many: 101: must have at most 100 items"),
    # C13, C14, C15, A10 / V56
    ("C13-empty", cnp_port({}), "V56", PROTO, f"Invalid value: 0: {PROTO} in body should have at least 1 properties"),
    ("C13-two", cnp_port({**TCP80, "udp": {"destinationPort": {"number": 53}}}), "V56", PROTO,
     "Too many: 2: must have at most 1 items"),
    ("C14-tcp-empty", cnp_port({"tcp": {}}), "V56", f"{PROTO}.tcp",
     f"Invalid value: 0: {PROTO}.tcp in body should have at least 1 properties"),
    ("C15-empty", dest({}), "V56", DPORT, f"Invalid value: 0: {DPORT} in body should have at least 1 properties"),
    ("C15-both", dest({"number": 80, "range": {"start": 1, "end": 2}}), "V56", DPORT,
     "Too many: 2: must have at most 1 items"),
    ("A10-anp-empty", anp_port({}), "V56", PORT, f"Invalid value: 0: {PORT} in body should have at least 1 properties"),
    ("A10-anp-two", anp_port({**PORT80, "portRange": {"start": 1, "end": 2}}), "V56", PORT,
     "Too many: 2: must have at most 1 items"),
    # C16, C17, A11 / V57
    ("C16-zero", dest({"number": 0}), "V57", f"{DPORT}.number",
     f"Invalid value: 0: {DPORT}.number in body should be greater than or equal to 1"),
    ("C16-65536", dest({"number": 65536}), "V57", f"{DPORT}.number",
     f"Invalid value: 65536: {DPORT}.number in body should be less than or equal to 65535"),
    ("C17-no-end", dest({"range": {"start": 80}}), "V57", f"{DPORT}.range.end", "Required value"),
    ("C17-start-zero", dest({"range": {"start": 0, "end": 10}}), "V57", f"{DPORT}.range.start",
     f"Invalid value: 0: {DPORT}.range.start in body should be greater than or equal to 1"),
    ("A11-anp-no-port", anp_port({"portNumber": {"protocol": "TCP"}}), "V57", f"{PORT}.portNumber.port",
     "Required value"),
    ("A11-anp-zero", anp_port({"portNumber": {"port": 0}}), "V57", f"{PORT}.portNumber.port",
     f"Invalid value: 0: {PORT}.portNumber.port in body should be greater than or equal to 1"),
    ("A11-anp-range-start", anp_port({"portRange": {"end": 90}}), "V57", f"{PORT}.portRange.start",
     "Required value"),
    # C18, A12 / V58
    ("C18-reversed", dest({"range": {"start": 90, "end": 80}}), "V58", f"{DPORT}.range",
     'Invalid value: "object": Start port must be less than End port'),
    ("C18-equal", dest({"range": {"start": 80, "end": 80}}), "V58", f"{DPORT}.range",
     'Invalid value: "object": Start port must be less than End port'),
    ("A12-anp-reversed", anp_port({"portRange": {"start": 90, "end": 80}}), "V58", f"{PORT}.portRange",
     'Invalid value: {"start": 90, "end": 80}: start (90) must be less than end (80); this range matches no port'),
    # C19 / V59 (and v1alpha1 namedPort)
    ("C19-uppercase", cnp_port({"destinationNamedPort": "Http"}), "V59", f"{PROTO}.destinationNamedPort",
     f'Invalid value: "Http": {ALPHA}'),
    ("C19-quoted-number", cnp_port({"destinationNamedPort": "80"}), "V59", f"{PROTO}.destinationNamedPort",
     'Invalid value: "80": must contain at least one letter (a-z)'),
    ("C19-double-dash", cnp_port({"destinationNamedPort": "a--b"}), "V59", f"{PROTO}.destinationNamedPort",
     'Invalid value: "a--b": must not contain consecutive hyphens'),
    ("C19-16", cnp_port({"destinationNamedPort": "abcdefghijklmnop"}), "V59", f"{PROTO}.destinationNamedPort",
     'Invalid value: "abcdefghijklmnop": must be no more than 15 bytes'),
    ("A-anp-namedPort", anp_port({"namedPort": "-web"}), "V59", f"{PORT}.namedPort",
     'Invalid value: "-web": must not begin or end with a hyphen'),
    # A20 / V60
    ("A20-anp-ICMP", anp_port({"portNumber": {"protocol": "ICMP", "port": 1}}), "V60", f"{PORT}.portNumber.protocol",
     'Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"'),
    ("A20-anp-range-tcp", anp_port({"portRange": {"protocol": "tcp", "start": 1, "end": 2}}), "V60",
     f"{PORT}.portRange.protocol", 'Unsupported value: "tcp": supported values: "TCP", "UDP", "SCTP"'),
    # C21, C22, A14 / V61
    ("C21-empty", cnp_out({"networks": []}), "V61", f"{PEER}.networks",
     f"Invalid value: 0: {PEER}.networks in body should have at least 1 items"),
    ("C21-26", cnp_out({"networks": [f"10.0.{i}.0/24" for i in range(26)]}), "V61", f"{PEER}.networks",
     "Too many: 26: must have at most 25 items"),
    ("C21-duplicate", cnp_out({"networks": ["10.0.0.0/8", "10.0.0.0/8"]}), "V61", f"{PEER}.networks[1]",
     'Duplicate value: "10.0.0.0/8"'),
    ("C22-no-prefix", cnp_out({"networks": ["10.0.0.1"]}), "V61", f"{PEER}.networks[0]",
     'Invalid value: "string": Invalid CIDR format provided'),
    ("C22-prefix-33", cnp_out({"networks": ["10.0.0.0/33"]}), "V61", f"{PEER}.networks[0]",
     'Invalid value: "string": Invalid CIDR format provided'),
    ("C22-leading-zero", cnp_out({"networks": ["010.0.0.0/8"]}), "V61", f"{PEER}.networks[0]",
     'Invalid value: "string": Invalid CIDR format provided'),
    ("C22-prefix-leading-zero", cnp_out({"networks": ["10.0.0.0/08"]}), "V61", f"{PEER}.networks[0]",
     'Invalid value: "string": Invalid CIDR format provided'),
    ("C22-mapped", cnp_out({"networks": ["::ffff:10.0.0.0/104"]}), "V61", f"{PEER}.networks[0]",
     'Invalid value: "string": Invalid CIDR format provided'),
    ("C22-zone", cnp_out({"networks": ["fe80::%eth0/64"]}), "V61", f"{PEER}.networks[0]",
     'Invalid value: "string": Invalid CIDR format provided'),
    ("A14-anp-duplicate", anp_out({"networks": ["fd00::/8", "fd00::/8"]}), "V61", f"{PEER}.networks[1]",
     'Duplicate value: "fd00::/8"'),
    ("A14-anp-mapped", anp_out({"networks": ["::ffff:1.2.3.0/120"]}), "V61", f"{PEER}.networks[0]",
     'Invalid value: "string": Invalid CIDR format provided'),
    # C23, A15 / V62
    ("C23-star", cnp_out({"domainNames": ["*"]}), "V62", f"{PEER}.domainNames[0]",
     f'Invalid value: "*": {PEER}.domainNames[0] in body should match \'{PATTERN}\''),
    ("C23-one-label", cnp_out({"domainNames": ["example"]}), "V62", f"{PEER}.domainNames[0]",
     f'Invalid value: "example": {PEER}.domainNames[0] in body should match \'{PATTERN}\''),
    ("C23-star-com", cnp_out({"domainNames": ["*.com"]}), "V62", f"{PEER}.domainNames[0]",
     f'Invalid value: "*.com": {PEER}.domainNames[0] in body should match \'{PATTERN}\''),
    ("C23-two-stars", cnp_out({"domainNames": ["*.*.a.com"]}), "V62", f"{PEER}.domainNames[0]",
     f'Invalid value: "*.*.a.com": {PEER}.domainNames[0] in body should match \'{PATTERN}\''),
    ("C23-empty-label", cnp_out({"domainNames": ["a..com"]}), "V62", f"{PEER}.domainNames[0]",
     f'Invalid value: "a..com": {PEER}.domainNames[0] in body should match \'{PATTERN}\''),
    ("C23-leading-dash", cnp_out({"domainNames": ["-a.com"]}), "V62", f"{PEER}.domainNames[0]",
     f'Invalid value: "-a.com": {PEER}.domainNames[0] in body should match \'{PATTERN}\''),
    ("C23-trailing-dash", cnp_out({"domainNames": ["a-.com"]}), "V62", f"{PEER}.domainNames[0]",
     f'Invalid value: "a-.com": {PEER}.domainNames[0] in body should match \'{PATTERN}\''),
    ("C23-two-dots", cnp_out({"domainNames": ["example.com.."]}), "V62", f"{PEER}.domainNames[0]",
     f'Invalid value: "example.com..": {PEER}.domainNames[0] in body should match \'{PATTERN}\''),
    ("C23-newline", cnp_out({"domainNames": ["example.com\n"]}), "V62", f"{PEER}.domainNames[0]",
     f'Invalid value: "example.com\\n": {PEER}.domainNames[0] in body should match \'{PATTERN}\''),
    ("C23-empty", cnp_out({"domainNames": []}), "V62", f"{PEER}.domainNames",
     f"Invalid value: 0: {PEER}.domainNames in body should have at least 1 items"),
    ("C23-duplicate", cnp_out({"domainNames": ["a.example.com", "a.example.com"]}), "V62", f"{PEER}.domainNames[1]",
     'Duplicate value: "a.example.com"'),
    ("C23-caret-label", cnp_out({"domainNames": ["^.example.com"]}), "V62", f"{PEER}.domainNames[0]",
     'Invalid value: "^.example.com": label "^" must start with a letter, a digit or \'_\''),
    ("C23-long-label", cnp_out({"domainNames": ["a" * 64 + ".com"]}), "V62", f"{PEER}.domainNames[0]",
     f'Invalid value: "{"a" * 64}.com": label "{"a" * 16}"... must be no more than 63 characters'),
    ("A15-anp-one-label", anp_out({"domainNames": ["foo"]}), "V62", f"{PEER}.domainNames[0]",
     f'Invalid value: "foo": {PEER}.domainNames[0] in body should match \'{PATTERN}\''),
    # C24, A17 / V63
    ("C24-networks", cnp_out({"networks": ["10.0.0.0/8"]}, protocols=[{"destinationNamedPort": "web"}]), "V63", OUT,
     f'Invalid value: "object": {NAMED_PORT_CEL}'),
    ("C24-nodes", cnp_out(ALL, {"nodes": {}}, protocols=[{"destinationNamedPort": "web"}]), "V63", OUT,
     f'Invalid value: "object": {NAMED_PORT_CEL}'),
    ("A17-anp-networks", anp_out({"networks": ["10.0.0.0/8"]}, ports=[{"namedPort": "web"}]), "V63", OUT,
     f'Invalid value: "object": {NAMED_PORT_CEL}'),
    ("A17-banp-nodes", banp({"egress": [{"action": "Allow", "to": [{"nodes": {}}], "ports": [{"namedPort": "web"}]}]}),
     "V63", OUT, 'Invalid value: "object": networks/nodes peer cannot be set with namedPorts since there are no '
                 'namedPorts for networks/nodes'),
    # C27 / V64
    ("C27-deny", cnp({"egress": [{"action": "Deny", "to": [{"domainNames": ["a.example.com"]}]}]}), "V64",
     f"{OUT}.action", 'Invalid value: "Deny": domainNames peers are only defined for Accept rules'),
    ("C27-anp-pass", anp({"egress": [{"action": "Pass", "to": [{"domainNames": ["a.example.com"]}]}]}), "V64",
     f"{OUT}.action", 'Invalid value: "Pass": domainNames peers are only defined for Allow rules'),
    # C26, A19 / V65 and V5-V11
    ("C26-no-operator", cnp({"subject": {"namespaces": {"matchExpressions": [{"key": "a"}]}}}), "V65",
     f"{SEL}.operator", "Required value"),
    ("C26-no-key", cnp({"subject": {"namespaces": {"matchExpressions": [{"operator": "Exists"}]}}}), "V65",
     f"{SEL}.key", "Required value"),
    ("C26-Gt", cnp({"subject": {"namespaces": {"matchExpressions": [{"key": "a", "operator": "Gt",
                                                                      "values": ["1"]}]}}}),
     "V7", f"{SEL}.operator", 'Invalid value: "Gt": not a valid selector operator'),
    ("C26-In-no-values", cnp({"subject": {"namespaces": {"matchExpressions": [{"key": "a", "operator": "In"}]}}}),
     "V8", f"{SEL}.values", "Required value: must be specified when `operator` is 'In' or 'NotIn'"),
    ("C26-Exists-values", cnp({"subject": {"namespaces": {"matchExpressions": [
        {"key": "a", "operator": "Exists", "values": ["x"]}]}}}),
     "V9", f"{SEL}.values", "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
    ("C26-bad-label-value", cnp_out({"nodes": {"matchLabels": {"os": "a b"}}}), "V6", f"{PEER}.nodes.matchLabels",
     'Invalid value: "a b": a valid label must be an empty string or consist of alphanumeric characters, \'-\', '
     "'_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
     "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"),
    ("A19-anp-Foo", anp({"subject": {"namespaces": {"matchExpressions": [{"key": "a", "operator": "Foo"}]}}}),
     "V7", f"{SEL}.operator", 'Invalid value: "Foo": not a valid selector operator'),
    # C28 / S2: fields of the other version, with what to write instead
    ("C28-ports", cnp_in(ports=[PORT80]), "S2", f"{IN}.ports",
     'unknown field "ports" (v1alpha2 rules list "protocols": {tcp: {destinationPort: {number: N}}} ...)'),
    ("C28-portNumber", cnp_port(PORT80), "S2", f"{PROTO}.portNumber",
     'unknown field "portNumber" (v1alpha2 writes a port as {tcp: {destinationPort: {number: N}}} (or udp, sctp))'),
    ("C28-namespaceselector", cnp({"subject": {"pods": {"namespaceselector": {}, "podSelector": {}}}}), "S2",
     "spec.subject.pods.namespaceselector", 'unknown field "namespaceselector" (did you mean "namespaceSelector"?)'),
    ("C28-namespaces-namespaceSelector", cnp({"subject": {"namespaces": {"namespaceSelector": {}}}}), "S2",
     "spec.subject.namespaces.namespaceSelector", 'unknown field "namespaceSelector"'),
    ("C28-anp-protocols", anp({"ingress": [{**ANP_RULE, "protocols": [TCP80]}]}), "S2", f"{IN}.protocols",
     'unknown field "protocols" (v1alpha1 rules list "ports": {portNumber: {protocol: TCP, port: N}} ...)'),
    ("C28-anp-tier", anp({"tier": "Admin"}), "S2", "spec.tier",
     'unknown field "tier" (tiers belong to ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2))'),
    ("C28-banp-priority", banp({"priority": 5}), "S2", "spec.priority",
     'unknown field "priority" (a BaselineAdminNetworkPolicy has no priority)'),
    ("C28-banp-domainNames", banp({"egress": [{"action": "Allow", "to": [{"domainNames": ["a.example.com"]}]}]}),
     "S2", f"{PEER}.domainNames",
     'unknown field "domainNames" (BaselineAdminNetworkPolicy egress peers have no domainNames)'),
    ("C28-null-peer", cnp_in(**{"from": [None]}), "S1", f"{IN}.from[0]", "Invalid type: must be a mapping, not null"),
]

# (id, document): the closest valid neighbours of the failing cases.
PASSING = [
    ("C29-cnp", cnp()),
    ("C29-anp", anp()),
    ("A16-banp-default", banp()),
    ("C25-default-name-in-cnp", cnp(name="default")),
    ("C25-dotted", cnp(name="deny.all-v2")),
    ("C2-Baseline", cnp({"tier": "Baseline"})),
    ("C3-bounds", cnp({"priority": 0})),
    ("C3-1000", cnp({"priority": 1000})),
    ("C4-pods", cnp({"subject": PODS})),
    ("C5-pods-both", cnp({"subject": PODS1})),
    ("A4-anp-pods-both", anp({"subject": PODS1})),
    ("C6-25", cnp({"ingress": rules(25, CNP_RULE), "egress": rules(25, {"action": "Deny", "to": [ALL]})})),
    ("A5-anp-100", anp({"ingress": rules(100, ANP_RULE)})),
    ("C7-100", cnp_in(name="r" * 100)),
    ("C8-Pass-in-Baseline", cnp({"tier": "Baseline", "ingress": [{"action": "Pass", "from": [ALL]}]})),
    ("A7-anp-Pass", anp({"ingress": [{**ANP_RULE, "action": "Pass"}]})),
    ("C9-25", cnp_in(**{"from": many(ALL, 25)})),
    ("A8-anp-100", anp({"ingress": [{"action": "Deny", "from": many(ALL, 100)}]})),
    ("C10-each-peer", cnp_out(ALL, PODS, {"networks": ["0.0.0.0/0", "::/0"]}, {"nodes": {}},
                              {"domainNames": ["*.kubernetes.io", "api.example.com."]})),
    ("C12-25", cnp_in(protocols=[{"tcp": {"destinationPort": {"number": n}}} for n in range(1, 26)])),
    ("A9-anp-100", anp({"ingress": [{**ANP_RULE, "ports": [{"portNumber": {"port": n}} for n in range(1, 101)]}]})),
    ("C13-each", cnp_in(protocols=[TCP80, {"udp": {"destinationPort": {"number": 53}}},
                                   {"sctp": {"destinationPort": {"range": {"start": 1, "end": 65535}}}},
                                   {"destinationNamedPort": "web"}])),
    ("C16-bounds", cnp_in(protocols=[{"tcp": {"destinationPort": {"number": 1}}},
                                     {"tcp": {"destinationPort": {"number": 65535}}}])),
    ("C18-ordered", dest({"range": {"start": 80, "end": 81}})),
    ("A10-anp-each", anp({"ingress": [{**ANP_RULE, "ports": [
        {"portNumber": {"protocol": "UDP", "port": 53}}, {"namedPort": "dns"},
        {"portRange": {"protocol": "SCTP", "start": 1, "end": 2}}]}]})),
    ("C19-fifteen", cnp_port({"destinationNamedPort": "abcdefghijklmno"})),
    ("C21-25", cnp_out({"networks": [f"10.0.{i}.0/24" for i in range(25)]})),
    ("C22-ipv6", cnp_out({"networks": ["2001:db8::/32", "10.0.0.0/32"]})),
    ("C23-underscore-and-upper", cnp_out({"domainNames": ["_x.example.com", "API.Example.COM"]})),
    ("C23-25", cnp_out({"domainNames": [f"a{i}.example.com" for i in range(25)]})),
    ("C23-baseline-accept", cnp({"tier": "Baseline", "egress": [{"action": "Accept",
                                                               "to": [{"domainNames": ["a.example.com"]}]}]})),
    ("C24-named-port-with-pods", cnp_out(PODS, protocols=[{"destinationNamedPort": "web"}])),
    ("C24-networks-with-number", cnp_out({"networks": ["10.0.0.0/8"]}, protocols=[TCP80])),
    ("C24-ingress-named-port", cnp_in(protocols=[{"destinationNamedPort": "web"}])),
    ("C26-selectors", cnp({"subject": {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "a"},
                                                      "matchExpressions": [{"key": "a", "operator": "NotIn",
                                                                            "values": ["b"]}]}}})),
    ("C27-accept", cnp_out({"domainNames": ["a.example.com"]})),
    ("A-banp-networks-nodes", banp({"egress": [{"action": "Deny", "to": [{"networks": ["10.0.0.0/8"]},
                                                                       {"nodes": {}}]}]})),
    ("C31-status-not-checked", {**cnp(), "status": {"conditions": [{"type": "x"}]}}),
    ("no-rules", cnp()),
]


@pytest.mark.parametrize(("doc", "code", "path", "message"), [pytest.param(*c[1:], id=c[0]) for c in FAILING])
def test_rule_fails(doc: Any, code: str, path: str, message: str) -> None:
    found = run(doc)
    assert [(d.code, d.severity, format_path(d.field), d.message) for d in found] == [
        (code, Severity.ERROR, path, message)]


@pytest.mark.parametrize("doc", [pytest.param(c[1], id=c[0]) for c in PASSING])
def test_rule_passes(doc: Any) -> None:
    assert run(doc) == []


def test_every_code_has_a_failing_case() -> None:
    covered = {c[2] for c in FAILING} | {"V45"}  # V45 is a warning, tested below
    assert {f"V{n}" for n in range(43, 66)} <= covered


# --- what the spec's DECISIONs and the channels add ------------------------------------------

def test_host_bits_in_networks_are_accepted_with_a_warning() -> None:
    (d,) = run(cnp_out({"networks": ["10.0.0.5/8"]}))
    assert (d.code, d.severity, format_path(d.field)) == ("V61", Severity.WARNING, f"{PEER}.networks[0]")
    assert d.message == '"10.0.0.5/8" has bits set beyond the prefix length; it matches all of "10.0.0.0/8"'


def test_a_namespace_on_a_cluster_scoped_policy_is_a_warning() -> None:
    (d,) = run(cnp(namespace="shop"))
    assert (d.code, d.severity, format_path(d.field)) == ("V45", Severity.WARNING, "metadata.namespace")
    assert d.message == 'ClusterNetworkPolicy is cluster-scoped: the API server ignores metadata.namespace "shop"'


def test_a_generated_baseline_name_is_never_default() -> None:
    doc = banp()
    doc["metadata"] = {"generateName": "baseline-"}
    assert [d.code for d in run(doc)] == ["V44"]


def test_a_domain_name_longer_than_253_characters_is_refused() -> None:
    name = ".".join(["a" * 60] * 5)  # 304 characters, labels of 60
    (d,) = run(cnp_out({"domainNames": [name]}))
    assert (d.code, format_path(d.field)) == ("V62", f"{PEER}.domainNames[0]")
    assert d.message.endswith(": must be no more than 253 characters")
    assert run(cnp_out({"domainNames": [".".join(["a" * 60] * 4)]})) == []


def test_a_long_network_is_too_long_and_not_a_cidr() -> None:
    text = "2001:0db8:0000:0000:0000:0000:0000:0001/128x"
    found = run(cnp_out({"networks": [text]}))
    assert [(d.code, d.message) for d in found] == [
        ("V61", "Too long: may not be more than 43 bytes"),
        ("V61", 'Invalid value: "string": Invalid CIDR format provided')]


@pytest.mark.parametrize(("doc", "field"), [
    (cnp_out({"nodes": {}}), f"{PEER}.nodes"),
    (cnp_out({"domainNames": ["a.example.com"]}), f"{PEER}.domainNames"),
    (anp_out({"nodes": {}}), f"{PEER}.nodes"),
    (anp_out({"domainNames": ["a.example.com"]}), f"{PEER}.domainNames"),
    (anp_port({"namedPort": "web"}), f"{PORT}.namedPort"),
])
def test_the_standard_channel_does_not_know_the_experimental_fields(doc: dict[str, Any], field: str) -> None:
    assert run(doc) == []
    (d,) = run(doc, settings=STANDARD)
    assert (d.code, format_path(d.field)) == ("S2", field)
    assert d.message.endswith("(a field of the experimental channel only; these policies are checked against "
                              "the standard channel (cluster_policy_standard_channel))")


def test_the_standard_channel_keeps_networks_and_named_ports_of_v1alpha2() -> None:
    doc = cnp_out({"networks": ["10.0.0.0/8"]}, protocols=[TCP80, {"destinationNamedPort": "web"}])
    found = run(doc, settings=STANDARD)
    # destinationNamedPort is in the standard CRD; its rule with networks peers is checked in both channels.
    assert [(d.code, format_path(d.field)) for d in found] == [("V63", OUT)]


def test_an_unknown_named_port_is_reported_once_in_the_standard_channel() -> None:
    doc = anp_out({"networks": ["10.0.0.0/8"]}, ports=[{"namedPort": "web"}])
    assert [d.code for d in run(doc)] == ["V63"]
    assert [(d.code, format_path(d.field)) for d in run(doc, settings=STANDARD)] == [
        ("S2", "spec.egress[0].ports[0].namedPort")]


def test_errors_accumulate_in_field_order() -> None:
    doc = cnp({"tier": "admin", "priority": 1001, "subject": {},
               "egress": [{"action": "Allow", "to": [{"networks": ["10.0.0.1"]}], "protocols": [{"tcp": {}}]}]})
    assert [(d.code, format_path(d.field)) for d in run(doc)] == [
        ("V46", "spec.tier"), ("V47", "spec.priority"), ("V48", "spec.subject"), ("V52", f"{OUT}.action"),
        ("V61", f"{PEER}.networks[0]"), ("V56", f"{OUT}.protocols[0].tcp")]


def test_a_wrong_version_stops_there() -> None:
    doc = {**cnp({"tier": "admin"}), "apiVersion": V1ALPHA1}
    assert [d.code for d in run(doc)] == ["V43"]


def test_validate_object_dispatches_cluster_policies_with_their_settings() -> None:
    doc = cnp_out({"nodes": {}})
    assert validate_object(doc, kind=CNP, namespace="", api_version=V1ALPHA2) == []
    found = validate_object(doc, kind=CNP, namespace="", api_version=V1ALPHA2, settings=STANDARD)
    assert [d.code for d in found] == ["S2"]
    assert [d.code for d in validate_object(doc, kind=CNP, namespace="", api_version=V1ALPHA1)] == ["V43"]


@pytest.mark.parametrize(("text", "ok"), [
    ("10.0.0.0/8", True), ("10.0.0.5/8", True), ("0.0.0.0/0", True), ("::/0", True), ("fd00::/8", True),
    ("::1.2.3.4/128", True), ("10.0.0.1", False), ("10.0.0.0/33", False), ("010.0.0.0/8", False),
    ("10.0.0.0/08", False), ("::ffff:10.0.0.0/104", False), ("::ffff:10.0.0.0/64", False),
    ("fe80::%eth0/64", False), ("10.0.0.0/255.0.0.0", False), ("", False), ("10.0.0.0/-1", False),
])
def test_is_cidr_is_the_cel_function(text: str, ok: bool) -> None:
    assert is_cidr(text) is ok


# --- never raises ---------------------------------------------------------------------------

KEYS = ["apiVersion", "kind", "metadata", "name", "spec", "tier", "priority", "subject", "namespaces", "pods",
        "podSelector", "namespaceSelector", "matchLabels", "matchExpressions", "key", "operator", "values",
        "ingress", "egress", "action", "from", "to", "networks", "nodes", "domainNames", "protocols", "tcp",
        "udp", "destinationPort", "number", "range", "start", "end", "destinationNamedPort", "ports",
        "portNumber", "portRange", "namedPort", "protocol", "port", "status", "x"]
json_like = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False),
              st.text(max_size=6), st.sampled_from(["Admin", "Accept", "Allow", "10.0.0.0/8", "a.example.com",
                                                    "web", "TCP", "In", "default", V1ALPHA1, V1ALPHA2])),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300)
@given(st.sampled_from(sorted(CLUSTER_POLICY_KINDS)), json_like, st.booleans())
def test_validation_never_raises(kind: str, doc: Any, standard: bool) -> None:
    for d in validate_cluster_policy(doc, kind=kind, settings=Settings(cluster_policy_standard_channel=standard)):
        assert d.code.startswith(("V", "S")) and d.message
        assert all(isinstance(seg, (str, int)) for seg in d.field)


@settings(max_examples=200)
@given(st.sampled_from([cnp_out(ALL, PODS, {"networks": ["10.0.0.0/8"]}, protocols=[TCP80]),
                        anp_out(PODS1, {"nodes": {}}, ports=[PORT80]),
                        banp({"ingress": [{"action": "Deny", "from": [ALL]}]})]),
       st.lists(st.tuples(st.sampled_from(KEYS), json_like), min_size=1, max_size=3))
def test_validation_never_raises_on_mutated_policies(doc: dict[str, Any], edits: list[tuple[str, Any]]) -> None:
    doc = copy.deepcopy(doc)
    for key, value in edits:
        node: Any = doc["spec"]
        while isinstance(node, dict) and node:
            child = next(iter(node.values()))
            if not isinstance(child, (dict, list)):
                break
            node = child[0] if isinstance(child, list) and child and isinstance(child[0], dict) else child
            if isinstance(node, list):
                break
        if isinstance(node, dict):
            node[key] = value
    for d in run(doc):
        assert d.code.startswith(("V", "S"))


# --- through the console script ----------------------------------------------------------------

BAD_CNP = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: deny-external
spec:
  tier: Admin
  priority: 10
  subject:
    namespaces: {}
  egress:
  - action: Deny
    to:
    - networks: [10.0.0.1]
"""


def test_check_reports_a_bad_cluster_network_policy_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "cnp.yaml"
    path.write_text(BAD_CNP)
    r = podfence("check", "-f", str(path))
    assert r.returncode == 2, r.stderr
    assert f"{path}:13: ClusterNetworkPolicy deny-external: spec.egress[0].to[0].networks[0]: " \
           'Invalid value: "string": Invalid CIDR format provided' in r.stdout + r.stderr
    assert "Traceback" not in r.stderr


def test_check_passes_valid_cluster_policies(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(BAD_CNP.replace("10.0.0.1]", "10.0.0.0/8]") + """\
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: admin}
spec:
  priority: 5
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}
  ingress: [{action: Allow, from: [{namespaces: {}}], ports: [{portNumber: {port: 80}}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  egress: [{action: Deny, to: [{networks: ["0.0.0.0/0"]}]}]
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
""")
    r = podfence("check", "-f", str(path))
    assert r.returncode == 0, r.stdout + r.stderr


def test_check_reports_a_wrong_version_and_a_misnamed_baseline(tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text("""\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: ClusterNetworkPolicy
metadata: {name: a}
spec: {tier: Admin, priority: 1, subject: {namespaces: {}}}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata:
  name: baseline
spec: {subject: {namespaces: {}}}
""")
    r = podfence("check", "-f", str(path))
    assert r.returncode == 2
    lines = [line for line in (r.stdout + r.stderr).splitlines() if ": V" in line or "Invalid" in line]
    assert lines == [
        f'{path}:1: ClusterNetworkPolicy a: apiVersion: Invalid value: "{V1ALPHA1}": ClusterNetworkPolicy is '
        f"served only as {V1ALPHA2}",
        f'{path}:9: BaselineAdminNetworkPolicy baseline: metadata.name: Invalid value: "object": Only one baseline '
        'admin network policy with metadata.name="default" can be created in the cluster',
    ]


def test_the_standard_channel_is_a_setting_of_check(tmp_path: Path) -> None:
    path = tmp_path / "nodes.yaml"
    path.write_text(BAD_CNP.replace("networks: [10.0.0.1]", "nodes: {}"))
    assert podfence("check", "-f", str(path)).returncode == 0
    r = podfence("check", "-f", str(path), "--set", "cluster_policy_standard_channel=true")
    assert r.returncode == 2
    assert f'{path}:13: ClusterNetworkPolicy deny-external: spec.egress[0].to[0].nodes: unknown field "nodes"' \
           in r.stdout + r.stderr


def test_domain_names_in_a_deny_rule_are_an_error_or_a_warning_as_set(tmp_path: Path) -> None:
    path = tmp_path / "dns.yaml"
    path.write_text(BAD_CNP.replace("networks: [10.0.0.1]", "domainNames: [a.example.com]"))
    r = podfence("check", "-f", str(path))
    assert r.returncode == 2
    assert (f"{path}:11: ClusterNetworkPolicy deny-external: spec.egress[0].action: Invalid value: \"Deny\": "
            "domainNames peers are only defined for Accept rules") in r.stdout + r.stderr
    warned = podfence("check", "-f", str(path), "--set", "domainnames_non_accept=warn")
    assert warned.returncode == 0, warned.stdout + warned.stderr
    assert "domainNames peers are only defined for Accept rules" in warned.stdout + warned.stderr
    bad = podfence("check", "-f", str(path), "--set", "domainnames_non_accept=maybe")
    assert bad.returncode == 2 and "value must be one of error, warn" in bad.stderr and "Traceback" not in bad.stderr


def test_named_ports_beside_networks_are_an_error_or_a_warning_as_set(tmp_path: Path) -> None:
    path = tmp_path / "named.yaml"
    path.write_text(BAD_CNP.replace("networks: [10.0.0.1]", "networks: [10.0.0.0/8]\n    protocols:\n"
                                    "    - destinationNamedPort: web"))
    for channel in ("false", "true"):
        r = podfence("check", "-f", str(path), "--set", f"cluster_policy_standard_channel={channel}")
        assert r.returncode == 2 and NAMED_PORT_CEL in r.stdout + r.stderr
        warned = podfence("check", "-f", str(path), "--set", f"cluster_policy_standard_channel={channel}",
                          "--set", "cnp_named_port_with_ip_peers=warn")
        assert warned.returncode == 0 and NAMED_PORT_CEL in warned.stdout + warned.stderr


def test_the_loader_validates_then_reads_sound_policies() -> None:
    from podfence.loader import load_texts

    bad = BAD_CNP.replace("name: deny-external", "name: bad")
    good = BAD_CNP.replace("10.0.0.1]", "10.0.0.0/8]")
    wrong_group = good.replace("policy.networking.k8s.io/v1alpha2", "networking.k8s.io/v1alpha2")
    result = load_texts([("p.yaml", "---\n".join([bad, good, wrong_group]))])
    assert [(d.code, d.line, d.object, d.field_path) for d in result.diagnostics] == [
        ("V61", 13, "ClusterNetworkPolicy bad", "spec.egress[0].to[0].networks[0]"),
        ("L7", 29, "ClusterNetworkPolicy deny-external", "apiVersion")]
    assert result.notes == ()
    assert [p.name for p in result.cluster.cluster_policies] == ["deny-external"]
