"""The intent file format: what it accepts, and a field path for everything it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from podfence.generate.intents import (
    AddressRef, Intent, WorkloadRef, _split_port_suffix, intent_from_dict, intent_to_dict,
)
from podfence.model.ports import PortSpec
from podfence.loader import read_own_file
from podfence.model import Direction, format_path
from podfence.sets import Protocol


def test_peer_and_ports_split_where_ipv6_colons_end() -> None:
    assert _split_port_suffix("api/server:8080,9090") == ("api/server", "8080,9090")
    assert _split_port_suffix("svc/api/server:80/UDP") == ("svc/api/server", "80/UDP")
    assert _split_port_suffix("0.0.0.0/0:587") == ("0.0.0.0/0", "587")
    assert _split_port_suffix("2001:db8::/32:443") == ("2001:db8::/32", "443")
    assert _split_port_suffix("2001:db8::/32") == ("2001:db8::/32", None)
    assert _split_port_suffix("internet") == ("internet", None)
    assert _split_port_suffix("internet:53/UDP") == ("internet", "53/UDP")
    assert _split_port_suffix("::ffff:10.0.0.0/104:80") == ("::ffff:10.0.0.0/104", "80")


def test_the_issue_example_reads_as_written() -> None:
    intent, problems = intent_from_dict(yaml.safe_load("""
defaults: {deny: [ingress, egress], dns: allow}
services:
  gateway/envoy:  {ingress_from: [internet], talks_to: ["api/server:8080"]}
  api/server:     {talks_to: ["billing/ledger:9090", "data/postgres:5432"]}
  notify/mailer:  {egress: ["0.0.0.0/0:587", "0.0.0.0/0:465"]}
"""))
    assert problems == []
    assert intent.deny == frozenset(Direction) and intent.dns is True and intent.exclude is None
    envoy, server, mailer = intent.services
    assert envoy.workload == WorkloadRef("gateway", "envoy")
    assert envoy.ingress_from[0].peer == AddressRef(None) and envoy.ingress_from[0].ports == ()
    assert envoy.talks_to[0].peer == WorkloadRef("api", "server")
    assert envoy.talks_to[0].ports == (PortSpec(Protocol.TCP, 8080),)
    assert [e.text() for e in server.talks_to] == ["billing/ledger:9090", "data/postgres:5432"]
    assert [(e.peer, e.ports) for e in mailer.egress] == [
        (AddressRef("0.0.0.0/0"), (PortSpec(Protocol.TCP, 587),)),
        (AddressRef("0.0.0.0/0"), (PortSpec(Protocol.TCP, 465),))]
    assert format_path(mailer.egress[1].path) == "services.notify/mailer.egress[1]"


def test_mapping_entries_wildcards_and_services() -> None:
    intent, problems = intent_from_dict({
        "defaults": {"deny": "egress", "dns": "deny", "exclude": ["kube-system", "istio-system"]},
        "services": {"a/x": {
            "talks_to": ["svc/b/api:80", "c/*:metrics",
                         {"to": "d/db", "ports": [5432, "5433/TCP"], "undeclared": True}],
            "egress": [{"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"], "ports": ["53/UDP"]}, "internet:*"],
            "ingress_from": [{"from": "internet", "except": ["10.0.0.0/8", "fd00::/8"], "ports": [443]}],
        }},
    })
    assert problems == []
    assert intent.deny == frozenset({Direction.EGRESS}) and intent.dns is False
    assert intent.exclude == ("kube-system", "istio-system")
    svc = intent.services[0]
    assert svc.talks_to[0].peer == WorkloadRef("b", "api", service=True)
    assert svc.talks_to[1].peer.wildcard  # type: ignore[union-attr]
    assert svc.talks_to[2].undeclared
    assert svc.talks_to[2].ports == (PortSpec(Protocol.TCP, 5432), PortSpec(Protocol.TCP, 5433))
    assert svc.egress[0].peer == AddressRef("10.0.0.0/8", ("10.1.0.0/16",))
    assert svc.egress[1].peer == AddressRef(None) and svc.egress[1].ports == (PortSpec(every=True),)
    assert svc.ingress_from[0].peer == AddressRef(None, ("10.0.0.0/8", "fd00::/8"))


def test_one_item_may_stand_for_a_list_and_words_match_in_any_case() -> None:
    intent, problems = intent_from_dict({"defaults": {"deny": "Ingress", "dns": "Deny", "exclude": "kube-system"},
                                         "services": {"a/b": {"talks_to": "c/d:80"}}})
    assert problems == []
    assert intent.deny == frozenset({Direction.INGRESS}) and intent.dns is False and intent.exclude == ("kube-system",)
    assert intent.services[0].talks_to[0].peer == WorkloadRef("c", "d")


@pytest.mark.parametrize("raw, path, words", [
    (None, "", "empty"),
    ([], "", "must be a mapping"),
    ({"services": {}, "extra": 1}, "extra", "unknown field"),
    ({}, "services", "required"),
    ({"defaults": {"deny": ["sideways"]}, "services": {}}, "defaults.deny[0]", "must be ingress or egress"),
    ({"defaults": {"deny": []}, "services": {}}, "defaults.deny", "ingress, egress or both"),
    ({"defaults": {"dns": "maybe"}, "services": {}}, "defaults.dns", "allow or deny"),
    ({"defaults": {"exclude": {"a": 1}}, "services": {}}, "defaults.exclude", "is not a namespace name"),
    ({"services": {"server": {}}}, "services.server", "namespace/name"),
    ({"services": {"Shop/Web": {}}}, "services.Shop/Web", "not a namespace/name"),
    ({"services": {"a/*": {}}}, "services.a/*", "wildcard"),
    ({"services": {"svc/a/b": {}}}, "services.svc/a/b", "Service cannot"),
    ({"services": {"a/b": []}}, "services.a/b", "must be a mapping"),
    ({"services": {"a/b": {"talk_to": []}}}, "services.a/b.talk_to", "unknown field"),
    ({"services": {"a/b": {"talks_to": 42}}}, "services.a/b.talks_to", "string or a mapping"),
    ({"services": {"a/b": {"talks_to": ["10.0.0.0/8:80"]}}}, "services.a/b.talks_to[0]", "go under egress"),
    ({"services": {"a/b": {"talks_to": ["c/d:eighty-eighty-eighty"]}}}, "services.a/b.talks_to[0]", "at most 15"),
    ({"services": {"a/b": {"talks_to": [42]}}}, "services.a/b.talks_to[0]", "string or a mapping"),
    ({"services": {"a/b": {"egress": ["c/d:80"]}}}, "services.a/b.egress[0]", "egress names addresses"),
    ({"services": {"a/b": {"egress": ["10.0.0.0/8"]}}}, "services.a/b.egress[0]", "give the ports"),
    ({"services": {"a/b": {"egress": ["10.0.0.0/8:http"]}}}, "services.a/b.egress[0]", "named port"),
    ({"services": {"a/b": {"egress": ["10.0.0.0/33:80"]}}}, "services.a/b.egress[0]", "expected a CIDR"),
    ({"services": {"a/b": {"egress": [{"cidr": "10.0.0.0/8", "except": ["11.0.0.0/16"], "ports": [1]}]}}},
     "services.a/b.egress[0].except[0]", "strictly inside"),
    ({"services": {"a/b": {"egress": [{"cidr": "10.0.0.0/8", "ports": [1], "to": "x"}]}}},
     "services.a/b.egress[0].to", "unknown field"),
    ({"services": {"a/b": {"egress": [{"ports": [1]}]}}}, "services.a/b.egress[0].cidr", "required"),
    ({"services": {"a/b": {"talks_to": [{"to": "c/d", "ports": [True]}]}}},
     "services.a/b.talks_to[0].ports[0]", "a port is a number"),
    ({"services": {"a/b": {"talks_to": [{"to": "c/d", "undeclared": "yes"}]}}},
     "services.a/b.talks_to[0].undeclared", "true or false"),
    ({"services": {"a/b": {"ingress_from": [{"from": "c/d", "except": ["10.0.0.0/8"]}]}}},
     "services.a/b.ingress_from[0].from", "except applies to addresses"),
])
def test_every_problem_has_a_field_path(raw: object, path: str, words: str) -> None:
    _, problems = intent_from_dict(raw)
    assert problems, "expected a problem"
    assert any(format_path(p.field) == path and words in p.message for p in problems), \
        [(format_path(p.field), p.message) for p in problems]
    assert all(p.code == "I1" and p.is_error for p in problems)


def test_problems_are_placed_at_their_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "intents.yaml"
    path.write_text("services:\n  a/b:\n    talks_to:\n      - c/d:80\n      - 10.0.0.0/8:443\n")
    own = read_own_file(str(path))
    _, problems = intent_from_dict(own.data)
    placed = own.place(problems, "intents")
    assert [p.one_line() for p in placed] == [
        f"{path}:5: intents: services.a/b.talks_to[1]: '10.0.0.0/8': addresses go under egress; "
        "talks_to names workloads"]


def test_written_back_it_reads_the_same() -> None:
    raw = {
        "defaults": {"deny": ["ingress"], "dns": "deny", "exclude": []},
        "services": {
            "a/x": {"ingress_from": ["internet:443", "b/y:http", {"from": "10.0.0.0/8", "except": ["10.1.0.0/16"],
                                                                     "ports": ["8080"]}],
                    "talks_to": ["svc/c/z:80,9090/UDP", {"to": "d/w", "ports": [7000], "undeclared": True}],
                    "egress": ["0.0.0.0/0:10000-10099", "::/0:*"]},
        },
    }
    intent, problems = intent_from_dict(raw)
    assert problems == []
    again, problems = intent_from_dict(yaml.safe_load(yaml.safe_dump(intent_to_dict(intent))))
    assert problems == [] and again == intent
    assert intent_to_dict(Intent()) == {"defaults": {"deny": ["ingress", "egress"], "dns": "allow"}, "services": {}}


FUZZ_BASE = {
    "defaults": {"deny": ["ingress", "egress"], "dns": "allow", "exclude": ["kube-system"]},
    "services": {"shop/frontend": {
        "ingress_from": ["internet:8080", {"from": "10.0.0.0/8", "except": ["10.1.0.0/16"], "ports": [80],
                                           "undeclared": True}],
        "talks_to": ["pay/api:8080", {"to": "pay/api", "ports": ["http", 53], "undeclared": False}],
        "egress": ["0.0.0.0/0:443", {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"], "ports": "443/TCP,53/UDP"}],
    }},
}


def test_every_field_of_an_intent_in_a_wrong_shape_is_a_problem_at_that_field_or_accepted() -> None:
    from mutations import mutants

    assert intent_from_dict(FUZZ_BASE)[1] == []
    for path, value, document in mutants(FUZZ_BASE):
        intent, problems = intent_from_dict(document)  # never an exception
        where = format_path(path)
        assert all(d.is_error and d.message for d in problems), (where, value)
        assert all(format_path(d.field).startswith(where) or where.startswith(format_path(d.field))
                   for d in problems), (where, value, [format_path(d.field) for d in problems])


@pytest.mark.parametrize("ports", [[], ["\u0663"], ["\u00b2"], [0], [70000], ["1-" + "9" * 5000]])
def test_a_port_list_that_names_no_valid_port_is_a_problem_not_a_dropped_entry(ports: list[object]) -> None:
    document = {"services": {"shop/frontend": {"talks_to": [{"to": "pay/api", "ports": ports}]}}}
    intent, problems = intent_from_dict(document)
    assert [format_path(d.field)[:len("services.shop/frontend.talks_to[0].ports")] for d in problems] == \
        ["services.shop/frontend.talks_to[0].ports"]
