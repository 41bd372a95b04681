"""Validation edge cases from the semantics spec, and what must never be rejected."""

from __future__ import annotations

from typing import Any

import pytest

from podfence.model import Diagnostic, NetworkPolicy, Settings, Severity, format_path
from podfence.validate import validate_network_policy


def policy(spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "case", "namespace": "a"}, "spec": spec}


def run(doc: Any, settings: Settings = Settings()) -> list[Diagnostic]:
    return validate_network_policy(doc, namespace="a", settings=settings)


def summary(diags: list[Diagnostic]) -> list[tuple[str, str]]:
    return [(d.code, format_path(d.field)) for d in diags]


def ports(*entries: dict[str, Any]) -> dict[str, Any]:
    return policy({"ingress": [{"ports": list(entries)}]})


# --- the spec's numbered validation cases ------------------------------------------

def test_item_16_named_port_with_end_port() -> None:
    diags = run(ports({"port": "http", "endPort": 90}))
    assert summary(diags) == [("V16", "spec.ingress[0].ports[0].endPort")]
    assert "non-numeric" in diags[0].message


def test_item_17_end_port_without_port_and_below_port() -> None:
    (alone,) = run(ports({"endPort": 90}))
    assert (alone.code, format_path(alone.field)) == ("V15", "spec.ingress[0].ports[0].endPort")
    assert "`port` is not specified" in alone.message
    (below,) = run(ports({"port": 90, "endPort": 80}))
    assert (below.code, format_path(below.field)) == ("V17", "spec.ingress[0].ports[0].endPort")
    assert "greater than or equal" in below.message


def test_item_18_quoted_number_is_a_named_port_without_a_letter() -> None:
    diags = run(ports({"port": "80"}))
    assert summary(diags) == [("V14", "spec.ingress[0].ports[0].port")]
    assert diags[0].message == 'Invalid value: "80": must contain at least one letter (a-z)'


def test_item_24_except_equal_to_cidr() -> None:
    doc = policy({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/24", "except": ["10.0.0.0/24"]}}]}]})
    diags = run(doc)
    assert summary(diags) == [("V25", "spec.ingress[0].from[0].ipBlock.except[0]")]
    assert "strict subset" in diags[0].message


@pytest.mark.parametrize("except_", ["10.0.0.0/8", "192.168.0.0/24", "fd00::/64"])
def test_item_25_except_wider_disjoint_or_other_family(except_: str) -> None:
    doc = policy({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/16", "except": [except_]}}]}]})
    diags = run(doc)
    assert summary(diags) == [("V25", "spec.egress[0].to[0].ipBlock.except[0]")]
    assert diags[0].message == f'Invalid value: "{except_}": must be a strict subset of `cidr`'


def test_item_29_host_bits_warn_by_default_and_fail_in_strict_mode() -> None:
    doc = policy({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.5/8"}}]}]})
    (lenient,) = run(doc)
    assert (lenient.code, lenient.severity) == ("V23", Severity.WARNING)
    assert '"10.0.0.0/8"' in lenient.message
    # Accepted by default, so it loads, and it means 10.0.0.0/8.
    loaded = NetworkPolicy.from_dict(doc, namespace="a")
    assert loaded.egress[0].peers[0].ip_block is not None
    assert loaded.egress[0].peers[0].ip_block.addresses.cidrs() == ("10.0.0.0/8",)
    (strict,) = run(doc, Settings(strict_cidr_validation=True))
    assert (strict.code, strict.severity) == ("V23", Severity.ERROR)
    assert format_path(strict.field) == "spec.egress[0].to[0].ipBlock.cidr"


def test_item_31_ip_block_with_a_selector() -> None:
    doc = policy({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]})
    diags = run(doc)
    assert summary(diags) == [("V20", "spec.ingress[0].from[0]")]
    assert diags[0].message.startswith("Forbidden:")


def test_item_32_empty_peer_is_refused_empty_selector_is_not() -> None:
    diags = run(policy({"ingress": [{"from": [{}]}]}))
    assert summary(diags) == [("V19", "spec.ingress[0].from[0]")]
    assert diags[0].message == "Required value: must specify a peer"
    assert run(policy({"ingress": [{"from": [{"podSelector": {}}]}]})) == []


def test_item_33_policy_types() -> None:
    assert run(policy({"policyTypes": ["Ingress", "Ingress"]})) == []
    too_many = run(policy({"policyTypes": ["Ingress", "Egress", "Ingress"]}))
    assert summary(too_many) == [("V26", "spec.policyTypes")]
    assert "more than two" in too_many[0].message
    lowercase = run(policy({"policyTypes": ["ingress"]}))
    assert summary(lowercase) == [("V27", "spec.policyTypes[0]")]
    assert lowercase[0].message.startswith("Unsupported value:")


def test_too_many_policy_types_skips_the_entry_check() -> None:
    assert summary(run(policy({"policyTypes": ["a", "b", "c"]}))) == [("V26", "spec.policyTypes")]


def test_item_34_lowercase_protocol() -> None:
    diags = run(ports({"protocol": "tcp"}))
    assert summary(diags) == [("V12", "spec.ingress[0].ports[0].protocol")]
    assert diags[0].message.startswith("Unsupported value:")


def test_item_47_gt_operator() -> None:
    doc = policy({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "Gt", "values": ["1"]}]}})
    diags = run(doc)
    assert summary(diags) == [("V7", "spec.podSelector.matchExpressions[0].operator")]
    assert "not a valid selector operator" in diags[0].message


# --- order and accumulation ---------------------------------------------------------

def test_errors_accumulate_in_api_server_order() -> None:
    doc = {
        "metadata": {"name": "Bad_Name"},
        "spec": {
            "policyTypes": ["ingress"],
            "egress": [{"to": [{}], "ports": [{"protocol": "icmp"}]}],
            "ingress": [{"from": [{}], "ports": [{"port": 0}]}, {"ports": [{"port": "HTTP"}]}],
            "podSelector": {"matchLabels": {"a b": "c"}},
        },
    }
    assert summary(run(doc)) == [
        ("V2", "metadata.name"),
        ("V5", "spec.podSelector.matchLabels"),
        ("V13", "spec.ingress[0].ports[0].port"),
        ("V19", "spec.ingress[0].from[0]"),
        ("V14", "spec.ingress[1].ports[0].port"),
        ("V14", "spec.ingress[1].ports[0].port"),
        ("V12", "spec.egress[0].ports[0].protocol"),
        ("V19", "spec.egress[0].to[0]"),
        ("V27", "spec.policyTypes[0]"),
    ]


def test_unparsable_cidr_skips_its_except_entries() -> None:
    doc = policy({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.1", "except": ["garbage", "11.0.0.0/8"]}}]}]})
    assert summary(run(doc)) == [("V22", "spec.ingress[0].from[0].ipBlock.cidr")]


def test_missing_cidr_skips_its_except_entries() -> None:
    doc = policy({"ingress": [{"from": [{"ipBlock": {"except": ["garbage"]}}]}]})
    assert summary(run(doc)) == [("V21", "spec.ingress[0].from[0].ipBlock.cidr")]


def test_strictly_invalid_cidr_still_checks_except_entries() -> None:
    doc = policy({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.5/8", "except": ["11.0.0.0/16"]}}]}]})
    diags = run(doc, Settings(strict_cidr_validation=True))
    assert summary(diags) == [("V23", "spec.ingress[0].from[0].ipBlock.cidr"),
                              ("V25", "spec.ingress[0].from[0].ipBlock.except[0]")]


def test_mapped_cidr_counts_its_written_prefix_length() -> None:
    # ::ffff:10.0.0.0/104 means 10.0.0.0/8, but the API server compares the
    # prefix lengths as written (104 against 16), so the except is refused.
    mapped_outer = policy({"egress": [{"to": [{"ipBlock": {"cidr": "::ffff:10.0.0.0/104",
                                                           "except": ["10.1.0.0/16"]}}]}]})
    assert [d.code for d in run(mapped_outer) if d.is_error] == ["V25"]
    # The other way round both tests pass: 10.1.0.0 lies in 10.0.0.0/8 and 8 < 112.
    mapped_inner = policy({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8",
                                                           "except": ["::ffff:10.1.0.0/112"]}}]}]})
    diags = run(mapped_inner)
    assert [(d.code, d.severity) for d in diags] == [("V23", Severity.WARNING)]
    assert format_path(diags[0].field) == "spec.egress[0].to[0].ipBlock.except[0]"


def test_except_with_host_bits_is_compared_by_its_network_address() -> None:
    # 10.1.2.3/16 reads as 10.1.0.0/16: a strict subset of 10.0.0.0/8.
    doc = policy({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.2.3/16"]}}]}]})
    assert [(d.code, d.severity) for d in run(doc)] == [("V23", Severity.WARNING)]


def test_selector_errors_inside_peers_use_the_peer_path() -> None:
    doc = policy({"egress": [{"to": [{"namespaceSelector": {"matchExpressions": [
        {"key": "team", "operator": "In", "values": ["a b"]}]}, "podSelector": {"matchLabels": {"x": "-"}}}]}]})
    assert summary(run(doc)) == [
        ("V6", "spec.egress[0].to[0].podSelector.matchLabels"),
        ("V11", "spec.egress[0].to[0].namespaceSelector.matchExpressions[0].values[0]"),
    ]


def test_one_requirement_can_break_several_rules() -> None:
    doc = policy({"podSelector": {"matchExpressions": [{"key": "a b", "operator": "Exists", "values": ["x y"]}]}})
    assert summary(run(doc)) == [
        ("V9", "spec.podSelector.matchExpressions[0].values"),
        ("V10", "spec.podSelector.matchExpressions[0].key"),
        ("V11", "spec.podSelector.matchExpressions[0].values[0]"),
    ]


# --- never rejected -----------------------------------------------------------------

NEVER_REJECTED = {
    "duplicate policyTypes": {"policyTypes": ["Egress", "Egress"]},
    "ingress rules under [Egress]": {"policyTypes": ["Egress"], "ingress": [{"from": [{"podSelector": {}}]}]},
    "egress rules under [Ingress]": {"policyTypes": ["Ingress"], "egress": [{"ports": [{"port": 53}]}]},
    "duplicate rules": {"ingress": [{"ports": [{"port": 80}]}, {"ports": [{"port": 80}]}]},
    "duplicate peers": {"ingress": [{"from": [{"podSelector": {"matchLabels": {"a": "b"}}},
                                              {"podSelector": {"matchLabels": {"a": "b"}}}]}]},
    "overlapping ports": {"ingress": [{"ports": [{"port": 80, "endPort": 90}, {"port": 85}, {"port": 80}]}]},
    "duplicate and overlapping except": {"egress": [{"to": [{"ipBlock": {
        "cidr": "10.0.0.0/8", "except": ["10.1.0.0/16", "10.1.0.0/16", "10.1.2.0/24"]}}]}]},
    "overlapping ipBlocks": {"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}},
                                                {"ipBlock": {"cidr": "10.1.0.0/16"}}]}]},
    "port entry with only a protocol": {"ingress": [{"ports": [{"protocol": "UDP"}, {}]}]},
    "/0 CIDRs": {"egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}},
                                    {"ipBlock": {"cidr": "::/0"}}]}]},
    "named port no pod defines": {"ingress": [{"ports": [{"port": "no-such-port", "protocol": "SCTP"}]}]},
    "selectors matching nothing": {"podSelector": {"matchLabels": {"app": "nothing-has-this"}},
                                   "ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [
                                       {"key": "x", "operator": "In", "values": ["y"]},
                                       {"key": "x", "operator": "NotIn", "values": ["y"]}]}}]}]},
    "many rules": {"ingress": [{"ports": [{"port": n}]} for n in range(1, 1001)]},
    "empty rule (allow all)": {"ingress": [{}]},
    "endPort with UDP and SCTP": {"egress": [{"ports": [{"protocol": "UDP", "port": 32000, "endPort": 32768},
                                                       {"protocol": "SCTP", "port": 1, "endPort": 65535}]}]},
}


@pytest.mark.parametrize("spec", list(NEVER_REJECTED.values()), ids=list(NEVER_REJECTED))
def test_never_rejected(spec: dict[str, Any]) -> None:
    doc = policy(spec)
    assert run(doc) == []
    assert run(doc, Settings(strict_cidr_validation=True)) == []
    NetworkPolicy.from_dict(doc, namespace="a")
