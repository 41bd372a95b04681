"""podfence test, library level: the assertion-file format, every endpoint form, pass and fail.

The cluster is tests/fixtures/assertions/cluster.yaml (read its header). Each
expected outcome follows from the NetworkPolicy semantics by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from podfence.assertions import Checker, Expect, PodName, Result, Selector, parse_spec
from podfence.assertions.spec import Address
from podfence.engine import Engine
from podfence.loader import load
from podfence.model import LabelSelector, Settings, format_path
from podfence.sets import ConnSet, IPSet, Protocol

CLUSTER = Path(__file__).parent / "fixtures" / "assertions" / "cluster.yaml"


@pytest.fixture(scope="module")
def checker() -> Checker:
    result = load([str(CLUSTER)])
    assert result.ok
    return Checker(Engine(result.cluster, Settings()).connectivity())


def run(checker: Checker, **test: Any) -> Result:
    spec, problems = parse_spec({"tests": [test]})
    assert problems == [], [(format_path(d.field), d.message) for d in problems]
    return checker.check(spec)[0]


def broken_pairs(result: Result) -> set[tuple[str, str]]:
    return {(f.src, f.dst) for f in result.failures}


# ---- pods by name --------------------------------------------------------------------


def test_named_pods_pass_and_fail(checker: Checker) -> None:
    assert run(checker, **{"from": "gateway/envoy", "to": "api/server", "port": 8080, "expect": "allow"}).passed
    r = run(checker, **{"from": "gateway/envoy", "to": "api/server", "port": 8081, "expect": "allow"})
    assert not r.passed and broken_pairs(r) == {("gateway/envoy", "api/server")}
    assert r.failures[0].allowed == ConnSet.ports(Protocol.TCP, 8080)  # what it may open instead
    assert run(checker, **{"from": "notify/mailer", "to": "api/server", "port": 8080, "expect": "deny"}).passed
    r = run(checker, **{"from": "api/worker", "to": "billing/ledger-db", "port": 5432, "expect": "deny"})
    assert broken_pairs(r) == {("api/worker", "billing/ledger-db")}


def test_unknown_pod_is_a_failure_not_a_pass(checker: Checker) -> None:
    r = run(checker, **{"from": "api/nope", "to": "billing/ledger-db", "port": 5432, "expect": "deny"})
    assert not r.passed and r.problems == ("from: no pod or workload named api/nope",)


# ---- IPs: a pod's IP names the pod; any other IP is an outside address -----------------


def test_ip_of_a_pod_names_the_pod(checker: Checker) -> None:
    r = run(checker, **{"from": "10.0.1.10", "to": "10.0.3.10", "port": 5432, "expect": "deny"})
    assert r.passed and r.pairs == 1  # gateway/envoy -> billing/ledger-db, judged as pods
    r = run(checker, **{"from": "10.0.2.11", "to": "10.0.3.10", "port": 5432, "expect": "deny"})
    assert broken_pairs(r) == {("api/worker", "billing/ledger-db")}


def test_outside_ip(checker: Checker) -> None:
    assert run(checker, **{"from": "notify/mailer", "to": "198.51.100.7", "port": 587, "expect": "allow"}).passed
    assert run(checker, **{"from": "notify/mailer", "to": "198.51.100.7", "port": 25, "expect": "deny"}).passed
    r = run(checker, **{"from": "notify/mailer", "to": "198.51.100.7", "port": 25, "expect": "allow"})
    assert broken_pairs(r) == {("notify/mailer", "198.51.100.7/32")}


# ---- CIDRs: deny = no address reachable, allow = every address reachable ---------------


def test_cidr_deny_means_no_address_of_it(checker: Checker) -> None:
    # The mailer reaches everything outside 10.0.0.0/8 on 443: 10.0.0.0/7 is half reachable.
    r = run(checker, **{"from": "notify/mailer", "to": "10.0.0.0/7", "port": 443, "expect": "deny"})
    assert broken_pairs(r) == {("notify/mailer", "11.0.0.0/8")}
    assert run(checker, **{"from": "notify/mailer", "to": "10.0.0.0/8", "port": 443, "expect": "deny"}).passed


def test_cidr_allow_means_every_address_of_it(checker: Checker) -> None:
    r = run(checker, **{"from": "notify/mailer", "to": "10.0.0.0/7", "port": 443, "expect": "allow"})
    assert broken_pairs(r) == {("notify/mailer", "10.0.0.0/8")}
    assert run(checker, **{"from": "notify/mailer", "to": "11.0.0.0/8", "port": 443, "expect": "allow"}).passed


def test_ip_block_endpoint_with_except(checker: Checker) -> None:
    internet = {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}
    assert run(checker, **{"from": "notify/mailer", "to": internet, "ports": [443, 587], "expect": "exactly"}).passed
    r = run(checker, **{"from": "notify/mailer", "to": "0.0.0.0/0", "ports": [443, 587], "expect": "exactly"})
    assert broken_pairs(r) == {("notify/mailer", "10.0.0.0/8")} and r.failures[0].allowed == ConnSet.none()


def test_cidr_as_source(checker: Checker) -> None:
    internet = {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}
    assert run(checker, **{"from": internet, "to": "gateway/envoy", "port": 443, "expect": "allow"}).passed
    r = run(checker, **{"from": "0.0.0.0/0", "to": "gateway/envoy", "port": 443, "expect": "allow"})
    assert broken_pairs(r) == {("10.0.0.0/8", "gateway/envoy")}
    assert run(checker, **{"from": "0.0.0.0/0", "to": "billing/ledger-db", "expect": "deny"}).passed
    r = run(checker, **{"from": "0.0.0.0/0", "to": "api/worker", "port": 22, "expect": "deny"})
    assert broken_pairs(r) == {("0.0.0.0/0", "api/worker")}


def test_address_family_the_pod_lacks_is_unreachable(checker: Checker) -> None:
    assert run(checker, **{"from": "api/worker", "to": "::/0", "expect": "deny"}).passed
    r = run(checker, **{"from": "api/worker", "to": "2001:db8::/32", "port": 443, "expect": "allow"})
    assert broken_pairs(r) == {("api/worker", "2001:db8::/32")}


# ---- selectors ------------------------------------------------------------------------


def test_selector_expectation_holds_for_every_matching_pod(checker: Checker) -> None:
    outside_billing = {"namespaceSelector": {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["billing"]}]}}
    r = run(checker, **{"from": outside_billing, "to": "billing/ledger-db", "port": 5432, "expect": "deny"})
    # Pods of api may reach it: the failure names both, and only them.
    assert broken_pairs(r) == {("api/server", "billing/ledger-db"), ("api/worker", "billing/ledger-db")}
    not_api = {"namespaceSelector": {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["billing", "api"]}]}}
    r = run(checker, **{"from": not_api, "to": "billing/ledger-db", "port": 5432, "expect": "deny"})
    assert r.passed and r.pairs == 2  # gateway/envoy and notify/mailer


def test_selector_with_except(checker: Checker) -> None:
    everyone_but_mailer = {"namespaceSelector": {}, "except": ["notify/mailer"]}
    r = run(checker, **{"from": everyone_but_mailer, "to": "0.0.0.0/0", "port": 443, "expect": "deny"})
    # envoy and the api pods are not isolated for egress; ledger-db is.
    assert {src for src, _ in broken_pairs(r)} == {"gateway/envoy", "api/server", "api/worker"}
    quiet = {"namespaceSelector": {}, "except": [{"namespaceSelector": {"matchLabels": {"team": "core"}}},
                                                  "gateway/envoy", "notify/mailer"]}
    assert run(checker, **{"from": quiet, "to": "0.0.0.0/0", "port": 443, "expect": "deny"}).passed


def test_pod_selector_alone_looks_in_every_namespace(checker: Checker) -> None:
    r = run(checker, **{"from": {"podSelector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]}},
                        "to": "api/server", "port": 8080, "expect": "allow"})
    assert {src for src, _ in broken_pairs(r)} == {"api/worker", "billing/ledger-db", "notify/mailer"}
    # Only team=edge namespaces may reach api/server, not its own namespace.
    r = run(checker, **{"from": {"namespace": "api", "podSelector": {"matchLabels": {"app": "worker"}}},
                        "to": "api/server", "port": 8080, "expect": "deny"})
    assert r.passed and r.pairs == 1
    r = run(checker, **{"from": {"namespace": "gateway"}, "to": "api/server", "port": 8080, "expect": "deny"})
    assert broken_pairs(r) == {("gateway/envoy", "api/server")}


def test_selector_matching_no_pod_fails(checker: Checker) -> None:
    r = run(checker, **{"from": {"namespace": "nowhere"}, "to": "api/server", "port": 8080, "expect": "deny"})
    assert not r.passed and r.problems == ("from selector matches no pod",)


def test_list_is_a_union(checker: Checker) -> None:
    r = run(checker, **{"from": ["gateway/envoy", {"namespace": "notify"}], "to": ["api/server", "10.0.3.10"],
                        "port": 8080, "expect": "deny"})
    assert broken_pairs(r) == {("gateway/envoy", "api/server")} and r.pairs == 4


def test_self_traffic_is_left_out(checker: Checker) -> None:
    # Nothing may enter or leave billing/ledger-db, yet a bare pod always reaches itself:
    # that is the allow_self_traffic setting, not a policy, so it is not judged.
    r = run(checker, **{"from": {"namespace": "billing"}, "to": {"namespace": "billing"}, "expect": "deny"})
    assert r.passed and r.pairs == 0


# ---- ports ------------------------------------------------------------------------------


def test_ports_lists_ranges_and_protocols(checker: Checker) -> None:
    r = run(checker, **{"from": "api/server", "to": "billing/ledger-db", "ports": ["5000-6000"], "expect": "deny"})
    assert not r.passed and r.failures[0].allowed == ConnSet.ports(Protocol.TCP, 5432)
    assert run(checker, **{"from": "api/server", "to": "billing/ledger-db", "ports": [5431, "5433-5440",
               {"protocol": "UDP", "port": 5432}], "expect": "deny"}).passed
    assert run(checker, **{"from": "api/server", "to": "billing/ledger-db", "protocol": "UDP", "expect": "deny"}).passed
    r = run(checker, **{"from": "api/server", "to": "billing/ledger-db", "protocol": "UDP", "port": 5432,
                        "expect": "allow"})
    assert not r.passed
    assert run(checker, **{"from": "api/server", "to": "billing/ledger-db", "port": 5432, "expect": "exactly"}).passed
    r = run(checker, **{"from": "api/server", "to": "api/worker", "port": 80, "expect": "exactly"})
    assert not r.passed and r.failures[0].allowed == ConnSet.all()
    assert run(checker, **{"from": "api/server", "to": "api/worker", "expect": "exactly"}).passed


# ---- the file format ---------------------------------------------------------------------------


def test_parsed_values() -> None:
    spec, problems = parse_spec({"tests": [
        {"name": "n", "from": "a/b", "to": {"namespaceSelector": {}, "except": ["c/d"]}, "ports": [80, "90-91",
         {"protocol": "UDP", "port": 53, "endPort": 54}, {"protocol": "SCTP"}], "expect": "allow"},
        {"from": "10.0.0.1", "to": "10.0.0.0/8", "expect": "deny", "protocol": "UDP"},
    ]})
    assert problems == []
    first, second = spec.tests
    assert first.name == "n" and first.expect is Expect.ALLOW and first.src == (PodName("a/b"),)
    assert first.dst == (Selector(namespace_selector=LabelSelector(), except_=(PodName("c/d"),)),)
    assert first.conns == (ConnSet.ports(Protocol.TCP, 80) | ConnSet.ports(Protocol.TCP, 90, 91)
                           | ConnSet.ports(Protocol.UDP, 53, 54) | ConnSet.ports(Protocol.SCTP))
    assert second.name == "10.0.0.1 -> 10.0.0.0/8"
    assert isinstance(second.src[0], Address) and second.src[0].single
    assert second.dst[0] == Address("10.0.0.0/8", second.dst[0].addresses) and not second.dst[0].single
    assert second.dst[0].addresses.v4.size() == 1 << 24 and second.conns == ConnSet.ports(Protocol.UDP)
    everything, _ = parse_spec({"tests": [{"from": {"namespace": "a", "except": ["a/b"]}, "to": ["c/d", "e/f"],
                                           "expect": "deny"}]})
    assert everything.tests[0].conns == ConnSet.all()
    assert everything.tests[0].name == "{namespace: a, except: [a/b]} -> [c/d, e/f]"


INVALID = [
    ([], "", "an assertion file is a mapping"),
    ({"test": []}, "test", "unknown field"),
    ({"tests": None}, "tests", "required: a list"),
    ({"tests": {}}, "tests.expect", "required"),  # one expectation may stand for the list
    ({"tests": ["x"]}, "tests[0]", "must be a mapping"),
    ({"tests": [{"from": "a/b", "to": "c/d"}]}, "tests[0].expect", "required"),
    ({"tests": [{"from": "a/b", "to": "c/d", "expect": "permit"}]}, "tests[0].expect", "allow, deny or exactly"),
    ({"tests": [{"from": "a/b", "to": "c/d", "expect": "deny", "prot": "TCP"}]}, "tests[0].prot", "unknown field"),
    ({"tests": [{"from": "a", "to": "c/d", "expect": "deny"}]}, "tests[0].from", "is not ns/name"),
    ({"tests": [{"from": "a/b", "to": "c/d", "port": 0, "expect": "deny"}]}, "tests[0].port", "port 0: must be 1-65535"),
    ({"tests": [{"from": "a/b", "to": "c/d", "port": "90-80", "expect": "deny"}]}, "tests[0].port", "LOW <= HIGH"),
    ({"tests": [{"from": "a/b", "to": "c/d", "port": 1, "ports": [2], "expect": "deny"}]}, "tests[0].ports",
     "not both"),
    ({"tests": [{"from": "a/b", "to": "c/d", "ports": [{"port": 9, "endPort": 8}], "expect": "deny"}]},
     "tests[0].ports[0].endPort", "greater than or equal"),
    ({"tests": [{"from": "a/b", "to": "c/d", "protocol": "icmp", "expect": "deny"}]}, "tests[0].protocol",
     "TCP, UDP or SCTP"),
    ({"tests": [{"from": {"namespaceSelector": {"matchExpressions": [{"key": "k", "operator": "Gt",
                                                                       "values": ["1"]}]}},
                 "to": "c/d", "expect": "deny"}]},
     "tests[0].from.namespaceSelector.matchExpressions[0].operator", "not a valid selector operator"),
    ({"tests": [{"from": {"podSelector": {"matchLabels": {"a b": "x"}}}, "to": "c/d", "expect": "deny"}]},
     "tests[0].from.podSelector.matchLabels", "name part must consist"),
    ({"tests": [{"from": {"except": ["a/b"]}, "to": "c/d", "expect": "deny"}]}, "tests[0].from",
     "needs namespace, namespaceSelector or podSelector"),
    ({"tests": [{"from": {"namespaceSelector": {}, "except": ["10.0.0.0/8"]}, "to": "c/d", "expect": "deny"}]},
     "tests[0].from.except[0]", "is not ns/name"),
    ({"tests": [{"from": "a/b", "to": {"ipBlock": {"cidr": "10.0.0.0/33"}}, "expect": "deny"}]},
     "tests[0].to.ipBlock.cidr", "a CIDR"),
    ({"tests": [{"from": "a/b", "to": {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["x"]}}, "expect": "deny"}]},
     "tests[0].to.ipBlock.except[0]", "must be a CIDR"),
    ({"tests": [{"from": "10.0.0.0/8", "to": "0.0.0.0/0", "expect": "deny"}]}, "tests[0].to",
     "both addresses"),
    ({"tests": [{"from": [["a/b"]], "to": "c/d", "expect": "deny"}]}, "tests[0].from[0]", "do not nest"),
    ({"tests": [{"from": [], "to": "c/d", "expect": "deny"}]}, "tests[0].from", "empty list"),
]


@pytest.mark.parametrize("raw, path, words", INVALID, ids=[p or "root" for _, p, _ in INVALID])
def test_invalid_specs_name_the_field(raw: Any, path: str, words: str) -> None:
    _, problems = parse_spec(raw)
    assert problems, "expected a problem"
    found = [(format_path(d.field), d.message) for d in problems]
    assert any(p == path and words in m for p, m in found), found
    assert all(d.is_error for d in problems)


def test_words_match_in_any_case_and_one_expectation_may_stand_alone() -> None:
    spec, problems = parse_spec({"tests": {"from": "a/b", "to": "c/d", "port": "53/udp", "expect": "Allow"}})
    assert problems == []
    assert spec.tests[0].expect is Expect.ALLOW and spec.tests[0].conns == ConnSet.ports(Protocol.UDP, 53)


def test_every_problem_is_reported_at_once() -> None:
    _, problems = parse_spec({"tests": [{"from": "a", "to": "b", "expect": "x"}, {"from": "a/b"}]})
    assert {format_path(d.field) for d in problems} == {"tests[0].from", "tests[0].to", "tests[0].expect",
                                                        "tests[1].to", "tests[1].expect"}


def test_ip_set_of_ip_block() -> None:
    spec, _ = parse_spec({"tests": [{"from": "a/b", "to": {"ipBlock": {"cidr": "10.0.0.0/8",
                                                                         "except": ["10.1.0.0/16"]}},
                                     "expect": "deny"}]})
    block = spec.tests[0].dst[0]
    assert isinstance(block, Address)
    assert block.addresses.v4.size() == (1 << 24) - (1 << 16) and block.addresses.v6.size() == 0
    assert block.addresses == IPSet(block.addresses.v4)


FUZZ_BASE = {"tests": [{
    "name": "n",
    "from": {"namespace": "a", "namespaceSelector": {"matchLabels": {"k": "v"}, "matchExpressions": [
        {"key": "k", "operator": "In", "values": ["v"]}]}, "podSelector": {"matchLabels": {"k": "v"}},
        "except": ["a/b", {"namespace": "b", "podSelector": {}}]},
    "to": {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
    "ports": [80, "1-2", {"protocol": "UDP", "port": 53, "endPort": 54}],
    "protocol": "TCP",
    "expect": "allow",
}, {"from": ["a/b", "10.0.0.1"], "to": "c/d", "port": "1-5", "expect": "exactly"}]}


def test_every_field_of_a_spec_in_a_wrong_shape_is_a_problem_at_that_field_or_accepted() -> None:
    from mutations import mutants

    spec, problems = parse_spec(FUZZ_BASE)
    assert problems == [] and len(spec.tests) == 2
    for path, value, document in mutants(FUZZ_BASE):
        spec, problems = parse_spec(document)  # never an exception
        where = format_path(path)
        assert all(d.is_error and d.message for d in problems), (where, value)
        if problems:
            # Reported at the field, inside it, or (for a field that makes its test invalid) at the test;
            # and the broken expectation is left out rather than checked half-read.
            assert any(format_path(d.field).startswith(where) or where.startswith(format_path(d.field))
                       for d in problems), (where, value, [format_path(d.field) for d in problems])
            assert len(spec.tests) < 2, (where, value)
