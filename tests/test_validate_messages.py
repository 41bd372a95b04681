"""podfence.validate.messages: values and names as messages show them, quoted and cut to size."""

from __future__ import annotations

import pytest

from podfence.loader import object_label
from podfence.validate.messages import SHOWN_VALUE_MAX, render_value, shown_name


def test_short_values_are_shown_whole_as_the_api_server_shows_them() -> None:
    assert render_value("a" * SHOWN_VALUE_MAX) == '"' + "a" * SHOWN_VALUE_MAX + '"'
    assert render_value({"app": "web", "n": 3}) == '{"app": "web", "n": 3}'
    assert render_value(["Ingress", None, True]) == '["Ingress", null, true]'


def test_a_long_string_shows_a_prefix_and_its_size_in_bytes() -> None:
    assert render_value("é" * 300) == '"' + "é" * 64 + '"... (600 bytes)'


def test_a_long_list_or_mapping_shows_what_fits_and_how_many_entries_there_are() -> None:
    shown = render_value([f"10.0.{i // 256}.{i % 256}" for i in range(100_000)])
    assert shown.startswith('["10.0.0.0", "10.0.0.1", ') and shown.endswith(", ... (100000 items)]")
    assert len(shown) < 2 * SHOWN_VALUE_MAX
    mapping = render_value({f"k{i}": "v" * 1000 for i in range(1000)})
    assert mapping.endswith(", ... (1000 entries)}") and len(mapping) < 4 * SHOWN_VALUE_MAX


def test_deeply_nested_values_stay_short() -> None:
    value: object = "x" * 10_000
    for _ in range(50):
        value = [value] * 50
    assert len(render_value(value)) < 10 * SHOWN_VALUE_MAX


def test_control_characters_are_escaped_not_printed() -> None:
    assert render_value("a\nb\x1b[31m\u202e") == '"a\\nb\\x1b[31m\\u202e"'


@pytest.mark.parametrize("name", ["web", "kube-system", "Web_1", "a" * 253, "example.com"])
def test_plain_names_are_shown_as_written(name: str) -> None:
    assert shown_name(name) == name


@pytest.mark.parametrize(("name", "shown"), [
    ("we/b\nx", '"we/b\\nx"'), ("web/x", '"web/x"'), ("front end", '"front end"'), ('say"hi', '"say\\"hi"'),
    ("\u202eevil", '"\\u202eevil"'), ("a" * 254, '"' + "a" * 254 + '"'),
    ("a" * 300, '"' + "a" * 64 + '"... (300 bytes)'),
])
def test_names_no_object_can_have_are_quoted_and_cut(name: str, shown: str) -> None:
    assert shown_name(name) == shown


def test_object_labels_quote_hostile_parts_only() -> None:
    assert object_label("Pod", "shop", "web") == "Pod shop/web"
    assert object_label("Pod", "Team A", "we/b\nx") == 'Pod "Team A"/"we/b\\nx"'
    assert object_label("Namespace", None, "x" * 1_000_000) == f'Namespace "{"x" * 64}"... (1000000 bytes)'
