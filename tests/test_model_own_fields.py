"""The one typed-field reader of podfence's own files (podfence.model.own_fields)."""

from __future__ import annotations

from podfence.model import Severity, format_path
from podfence.model.own_fields import NAMESPACE_NAME, OwnFields, words


def found(r: OwnFields) -> list[tuple[str, str]]:
    return [(format_path(d.field), d.message) for d in r.problems]


def test_problems_carry_the_code_object_and_field() -> None:
    r = OwnFields("X1", "some file")
    r.error(("a", 0, "b"), "wrong")
    d = r.problems[0]
    assert (d.code, d.severity, d.object, d.field_path, d.message) == ("X1", Severity.ERROR, "some file", "a[0].b",
                                                                        "wrong")


def test_a_shared_problem_list() -> None:
    out: list = []
    OwnFields("X1", "f", out).error((), "x")
    assert len(out) == 1


def test_null_is_absent() -> None:
    r = OwnFields("X1", "f")
    assert r.mapping(None, ("m",)) == {} and r.list_of(None, ("l",), r.string) == ()
    assert r.string(None, ("s",), "d") == "d" and r.integer(None, ("i",), 3) == 3
    assert r.boolean(None, ("b",), True) is True and r.enum(None, ("e",), ("a", "b"), "a") == "a"
    assert r.string_map(None, ("m",)) is None and r.problems == []


def test_mappings_name_unknown_fields() -> None:
    r = OwnFields("X1", "f")
    assert r.mapping({"a": 1, "z": 2}, ("top",), ("a", "b")) == {"a": 1, "z": 2}
    assert r.mapping([1], ("m",), what="a mapping of things") == {}
    assert found(r) == [("top.z", "unknown field (known: a, b)"), ("m", "must be a mapping of things")]


def test_scalars() -> None:
    r = OwnFields("X1", "f")
    assert r.string(1, ("s",)) is None and r.integer(True, ("i",), 0) == 0 and r.integer(7, ("i",)) == 7
    assert r.boolean("true", ("b",), False) is False
    assert found(r) == [("s", "must be a string"), ("i", "must be a whole number"), ("b", "must be true or false")]


def test_enums_in_any_case() -> None:
    r = OwnFields("X1", "f")
    assert r.enum(" Exactly", ("e",), ("allow", "deny", "exactly")) == "exactly"
    assert r.enum("permit", ("e",), ("allow", "deny", "exactly")) is None
    assert r.enum(1, ("e",), ("allow", "deny")) is None
    assert found(r) == [("e", "must be allow, deny or exactly"), ("e", "must be allow or deny")]
    assert words(["a"]) == "a"


def test_lists_read_items_and_one_item_may_stand_alone() -> None:
    r = OwnFields("X1", "f")
    assert r.list_of(["a", 1, "b"], ("l",), r.string) == ("a", "b")
    assert r.list_of("a", ("l",), r.string) == ("a",)
    assert found(r) == [("l[1]", "must be a string")]


def test_maps_read_keys_and_values() -> None:
    r = OwnFields("X1", "f")
    got = r.map_of({"a": 1, "b": "x"}, ("m",), lambda k, _: k.upper(), r.integer)
    assert got == (("A", 1),) and found(r) == [("m.b", "must be a whole number")]


def test_checked_strings_and_string_maps() -> None:
    r = OwnFields("X1", "f")
    assert r.checked("ok", ("n",), str.islower, "lower case") == "ok"
    assert r.checked("NO", ("n",), str.islower, NAMESPACE_NAME) is None
    assert r.string_map({"a": "b"}, ("l",)) == {"a": "b"} and r.string_map({"a": 1}, ("l",)) is None
    assert found(r) == [
        ("n", "'NO' is not a namespace name (at most 63 lowercase letters, digits and '-', starting and ending "
              "with a letter or digit)"),
        ("l", "must be a mapping of strings to strings"),
    ]
