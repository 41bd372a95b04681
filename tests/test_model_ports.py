"""podfence's one port syntax (podfence.model.ports): intent files, test specs and --port flags."""

from __future__ import annotations

import pytest

from podfence.model.ports import PortSpec, parse_port, parse_ports, parse_protocol, port_number
from podfence.sets import ConnSet, Protocol


@pytest.mark.parametrize("text, expected", [
    ("8080", PortSpec(Protocol.TCP, 8080)),
    ("53/UDP", PortSpec(Protocol.UDP, 53)),
    ("53/udp", PortSpec(Protocol.UDP, 53)),
    ("10000-10099", PortSpec(Protocol.TCP, 10000, 10099)),
    ("443-443", PortSpec(Protocol.TCP, 443)),
    ("http", PortSpec(Protocol.TCP, "http")),
    ("dns/UDP", PortSpec(Protocol.UDP, "dns")),
    ("9/SCTP", PortSpec(Protocol.SCTP, 9)),
    ("*", PortSpec(every=True)),
])
def test_ports(text: str, expected: PortSpec) -> None:
    assert parse_port(text) == expected


@pytest.mark.parametrize("text, words", [
    ("0", "must be 1-65535"),
    ("65536", "must be 1-65535"),
    ("90-80", "LOW <= HIGH"),
    ("80/ICMP", "TCP, UDP or SCTP"),
    ("HTTP", "lowercase"),
    ("a--b", "single dashes"),
    ("averyveryverylongname", "at most 15"),
    ("8o8o!", "expected a number"),
])
def test_bad_ports(text: str, words: str) -> None:
    message = parse_port(text)
    assert isinstance(message, str) and words in message


def test_the_default_protocol_applies_to_ports_without_one() -> None:
    assert parse_port("53", Protocol.UDP) == PortSpec(Protocol.UDP, 53)
    assert parse_port("53/TCP", Protocol.UDP) == PortSpec(Protocol.TCP, 53)


def test_protocols_in_any_case() -> None:
    assert [parse_protocol(t) for t in ("TCP", "udp", " Sctp ")] == [Protocol.TCP, Protocol.UDP, Protocol.SCTP]
    assert parse_protocol("ICMP") is None and parse_protocol(["TCP"]) is None and parse_protocol(None) is None


def test_port_numbers() -> None:
    assert port_number(80) == 80
    assert port_number(0) == "port 0: must be 1-65535" and port_number(70000) == "port 70000: must be 1-65535"
    assert port_number(True) == port_number("80") == "must be a port number"


def test_lists_and_comma_separated_text() -> None:
    ports, problems = parse_ports([80, "443,53/UDP", "80"], ("ports",))
    assert ports == (PortSpec(Protocol.TCP, 80), PortSpec(Protocol.TCP, 443), PortSpec(Protocol.UDP, 53))
    assert problems == ()
    ports, problems = parse_ports("8000-8080", ("port",), Protocol.SCTP)
    assert ports == (PortSpec(Protocol.SCTP, 8000, 8080),) and problems == ()


def test_problems_name_their_field() -> None:
    ports, problems = parse_ports([80, {"port": 1}, 0, "x!"], ("ports",))
    assert ports == (PortSpec(Protocol.TCP, 80),)
    assert problems == (
        (("ports", 1), "a port is a number or a string such as 53/UDP, http or 10000-10099"),
        (("ports", 2), "port 0: must be 1-65535"),
        (("ports", 3), "port 'x!': expected a number, LOW-HIGH, a port name or *"),
    )


def test_names_can_be_refused() -> None:
    ports, problems = parse_ports("80,http", ("port",), names=False)
    assert ports == (PortSpec(Protocol.TCP, 80),)
    assert problems == ((("port",), "port 'http': a port name is not allowed here; give the number"),)


def test_connections_of_a_port() -> None:
    assert PortSpec(Protocol.UDP, 53).conns() == ConnSet.ports(Protocol.UDP, 53)
    assert PortSpec(Protocol.TCP, 8000, 8080).conns() == ConnSet.ports(Protocol.TCP, 8000, 8080)
    assert PortSpec(every=True).conns() == ConnSet.all()
    assert [str(p) for p in (PortSpec(Protocol.UDP, 53), PortSpec(Protocol.TCP, 1, 2), PortSpec(every=True))] == [
        "53/UDP", "1-2", "*"]
