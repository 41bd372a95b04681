"""How connections read (podfence.model.words), for every command."""

from __future__ import annotations

from podfence.model.words import conns_text, ports_text
from podfence.render.conns import conns_text as rendered
from podfence.sets import ConnSet, IntervalSet, Protocol


def test_render_uses_the_model_words() -> None:
    assert rendered is conns_text


def test_connections() -> None:
    assert conns_text(ConnSet.all()) == "All"
    assert conns_text(ConnSet.none()) == "nothing"
    assert conns_text(ConnSet.ports(Protocol.TCP)) == "TCP all ports"
    assert conns_text(ConnSet.ports(Protocol.TCP, 80, 81) | ConnSet.ports(Protocol.TCP, 443)
                      | ConnSet.ports(Protocol.UDP, 53)) == "TCP 80-81,443, UDP 53"
    every_port = ConnSet.ports(Protocol.TCP) | ConnSet.ports(Protocol.UDP) | ConnSet.ports(Protocol.SCTP)
    assert conns_text(every_port) == "TCP all ports, UDP all ports, SCTP all ports"


def test_ports() -> None:
    assert ports_text(IntervalSet.span(1, 65535)) == "all ports"
    assert ports_text(IntervalSet.of([(80, 80), (8000, 8080)])) == "80,8000-8080"


def test_shortened_lists() -> None:
    from podfence.model.words import shortened
    from podfence.render.conns import shortened as rendered_list

    assert rendered_list is shortened
    assert shortened([], 3) == "" and shortened(["a"], 3) == "a"
    assert shortened(["a", "b", "c"], 3) == "a, b, c"
    assert shortened(["a", "b", "c", "d"], 3) == "a, b, c and 1 more"
    assert shortened(["a", "b", "c", "d", "e"], 2, "ranges") == "a, b and 3 more ranges"
