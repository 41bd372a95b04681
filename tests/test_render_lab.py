"""The lab's compare report (``lab matrix --compare``), byte for byte, from made-up matrices."""

from __future__ import annotations

import json

import pytest

from podfence.engine import Matrix
from podfence.render.lab import FORMATS, render_compare
from podfence.render.matrix import FORMATS as MATRIX_FORMATS
from podfence.sets import Protocol

PODS = ("a/client", "a/web", "b/db")


def matrix(protocol: Protocol, port: int, allowed: dict[str, tuple[str, ...]]) -> Matrix:
    return Matrix(protocol, port, PODS, {p: allowed.get(p, ()) for p in PODS}, {p: "Pod" for p in PODS})


MEASURED = matrix(Protocol.UDP, 53, {"a/client": ("a/web",), "b/db": ("a/client",)})
ENGINE = matrix(Protocol.UDP, 53, {"a/client": ("a/web", "b/db")})


def test_the_report_takes_every_format_of_lab_matrix() -> None:
    assert FORMATS == MATRIX_FORMATS


@pytest.mark.parametrize("output", ["text", "csv", "md"])
def test_text_lines_name_each_disagreeing_cell(output: str) -> None:
    differences = MEASURED.differences(ENGINE)
    assert render_compare(MEASURED, differences, output) == (
        "a/client -> b/db UDP/53: packets denied, engine allowed\n"
        "b/db -> a/client UDP/53: packets allowed, engine denied\n"
    )


def test_text_says_when_every_cell_agrees() -> None:
    assert render_compare(MEASURED, (), "text") == "packets and engine agree on all 9 cells of UDP/53\n"


def test_json_lists_the_differences() -> None:
    text = render_compare(MEASURED, MEASURED.differences(ENGINE), "json")
    assert text == """\
{
  "port": 53,
  "protocol": "UDP",
  "agree": false,
  "differences": [
    {
      "from": "a/client",
      "to": "b/db",
      "packets": false,
      "engine": true
    },
    {
      "from": "b/db",
      "to": "a/client",
      "packets": true,
      "engine": false
    }
  ]
}
"""
    assert json.loads(render_compare(MEASURED, (), "json")) == {
        "port": 53, "protocol": "UDP", "agree": True, "differences": []}
