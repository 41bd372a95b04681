"""podfence.loader.fields: typed reads that report problems with their field path."""

from __future__ import annotations

from podfence.loader.fields import FieldReader
from podfence.model import Labels
from podfence.sets import Protocol, parse_ip

PATH = ("spec", "x")


def _codes(r: FieldReader) -> list[tuple[str, str]]:
    return [(d.code, d.field_path) for d in r.problems]


def test_null_counts_as_absent() -> None:
    r = FieldReader()
    assert r.as_map(None, PATH) == {}
    assert r.as_list(None, PATH) == []
    assert r.as_str(None, PATH) is None
    assert r.as_bool(None, PATH) is False
    assert r.as_labels(None, PATH) == Labels()
    assert r.as_protocol(None, PATH) is Protocol.TCP
    assert r.as_port(None, PATH, required=False) is None
    assert r.problems == [] and not r.failed


def test_wrong_types_are_s1_errors_at_their_path() -> None:
    r = FieldReader()
    assert r.as_map([1], PATH) == {}
    assert r.as_list({"a": 1}, PATH) == []
    assert r.as_str(80, PATH) is None
    assert r.as_bool("true", PATH) is False
    assert _codes(r) == [("S1", "spec.x")] * 4
    assert r.failed
    assert r.problems[2].message == "Invalid type: must be a string, not an integer (80); quote the value to keep it text"


def test_ports_are_integers_from_1_to_65535_and_booleans_are_not_integers() -> None:
    r = FieldReader()
    assert r.as_port(1, PATH) == 1
    assert r.as_port(65535, PATH) == 65535
    assert r.problems == []
    assert r.as_port(0, PATH) is None
    assert r.as_port(65536, PATH) is None
    assert r.as_port(True, PATH) is None
    assert r.as_port("80", PATH) is None
    assert r.as_port(None, PATH) is None  # required by default
    assert [d.code for d in r.problems] == ["L8", "L8", "S1", "S1", "L6"]


def test_protocols_are_case_sensitive() -> None:
    r = FieldReader()
    assert r.as_protocol("UDP", PATH) is Protocol.UDP
    assert r.as_protocol("SCTP", PATH) is Protocol.SCTP
    assert r.problems == []
    r.as_protocol("udp", PATH)
    assert _codes(r) == [("L8", "spec.x")]
    assert r.problems[0].message == 'Unsupported value: "udp": supported values: "TCP", "UDP", "SCTP"'


def test_labels_must_map_strings_to_strings() -> None:
    r = FieldReader()
    assert r.as_labels({"app": "web", "tier": ""}, PATH) == Labels(app="web", tier="")
    assert r.problems == []
    assert r.as_labels({"version": 1.0, "ok": "yes"}, PATH) == Labels()
    assert r.as_labels({80: "x"}, PATH) == Labels()
    assert r.as_labels(["app"], PATH) == Labels()
    assert _codes(r) == [("S1", "spec.x.version"), ("S1", "spec.x"), ("S1", "spec.x")]


def test_ip_lists_merge_the_single_field_first_without_repeats() -> None:
    r = FieldReader()
    ips = r.as_ips("10.0.0.5", ("status", "podIP"),
                   [{"ip": "10.0.0.5"}, {"ip": "fd00::5"}], ("status", "podIPs"))
    assert ips == (parse_ip("10.0.0.5"), parse_ip("fd00::5"))
    assert r.problems == []


def test_invalid_ips_are_reported_at_their_entry() -> None:
    r = FieldReader()
    ips = r.as_ips("", ("status", "podIP"), [{"ip": "fd00::5"}, {"ip": "10.0.0.256"}, "10.0.0.7"],
                   ("status", "podIPs"))
    assert ips == (parse_ip("fd00::5"),)
    assert _codes(r) == [("L8", "status.podIPs[1].ip"), ("S1", "status.podIPs[2]")]


def test_port_names_follow_the_iana_service_name_rules() -> None:
    r = FieldReader()
    assert r.as_port_name("http-alt", PATH) == "http-alt"
    assert r.as_port_name(None, PATH) is None
    assert r.problems == []
    r.as_port_name("8080", PATH)  # a quoted number is a name, and names need a letter
    assert [d.message for d in r.problems] == ['Invalid value: "8080": must contain at least one letter (a-z)']
    r.as_port_name(8080, PATH)
    assert [d.code for d in r.problems] == ["L8", "S1"]
