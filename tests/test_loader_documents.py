"""podfence.loader.documents: YAML/JSON text to documents that know their lines."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
import yaml

from podfence.loader.documents import (
    LineDict, LineList, RawDocument, SyntaxProblem, alias_growth, iter_documents, locate, node_paths,
)
from podfence.loader.limits import Budget


def _docs(text: str, **kw: bool) -> list[RawDocument | SyntaxProblem]:
    return list(iter_documents(textwrap.dedent(text), **kw))


def _only(text: str, **kw: bool) -> RawDocument:
    (doc,) = _docs(text, **kw)
    assert isinstance(doc, RawDocument)
    return doc


POLICY = """\
    # a comment on line 1
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata:
      name: web
    spec:
      podSelector: {}
      ingress:
      - from:
        - ipBlock:
            cidr: 10.0.0.0/8
            except:
            - 10.1.0.0/16
            - 10.2.0.0/16
        ports: [{port: 80}, {port: 443}]
    """


def test_every_mapping_key_and_item_knows_its_line() -> None:
    doc = _only(POLICY)
    assert doc.line == 2  # the first key, after the comment
    data = doc.data
    assert isinstance(data, LineDict) and data.line == 2
    assert data.key_lines == {"apiVersion": 2, "kind": 3, "metadata": 4, "spec": 6}
    ingress = data["spec"]["ingress"]
    assert isinstance(ingress, LineList) and ingress.item_lines == [9]
    except_ = ingress[0]["from"][0]["ipBlock"]["except"]
    assert except_.item_lines == [13, 14]
    assert ingress[0]["ports"].item_lines == [15, 15]  # flow style: both items on one line


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ((), 2),
        (("kind",), 3),
        (("metadata", "name"), 5),
        (("spec", "ingress", 0), 9),
        (("spec", "ingress", 0, "from", 0, "ipBlock", "except", 0), 13),
        (("spec", "ingress", 0, "from", 0, "ipBlock", "except", 1), 14),
        (("spec", "ingress", 0, "ports", 1, "port"), 15),
        # The path leaves the document: the deepest node that exists.
        (("spec", "ingress", 0, "from", 0, "ipBlock", "except", 7), 12),
        (("spec", "egress", 0, "to"), 6),
        (("metadata", "name", "deeper"), 5),
        (("spec", "ingress", "not-an-index"), 8),
    ],
)
def test_locate_gives_the_deepest_existing_node(path: tuple[str | int, ...], line: int) -> None:
    assert locate(_only(POLICY).data, path) == line


def test_locate_on_values_without_lines() -> None:
    assert locate({"a": {"b": 1}}, ("a", "b")) == 1
    assert locate(None, ("a",)) == 1


def test_documents_compare_like_plain_dicts_and_lists() -> None:
    data = _only("a: [1, {b: c}]\n").data
    assert data == {"a": [1, {"b": "c"}]}
    assert isinstance(data, dict) and isinstance(data["a"], list)


def test_multi_document_streams_skip_empty_documents() -> None:
    docs = _docs("""\
        ---
        ---
        # only a comment
        ---
        ~
        ---
        kind: A
        ---
        kind: B
        """)
    assert [(d.line, d.data) for d in docs if isinstance(d, RawDocument)] == [(7, {"kind": "A"}), (9, {"kind": "B"})]


def test_duplicate_keys_are_recorded_with_both_lines() -> None:
    doc = _only("""\
        spec:
          ingress:
          - from: []
          egress: []
          ingress: []
        metadata: {labels: {a: x, a: y}}
        """)
    found = sorted((d.key, d.line, d.first_line) for d in doc.duplicates)
    assert found == [("a", 6, 6), ("ingress", 5, 2)]


def test_merge_keys_are_not_duplicates_but_own_repeats_are() -> None:
    doc = _only("""\
        base: &base {app: web, tier: a}
        labels:
          <<: *base
          tier: b
          extra: x
          extra: y
        """)
    assert doc.data["labels"] == {"app": "web", "tier": "b", "extra": "y"}
    assert [(d.key, d.line, d.first_line) for d in doc.duplicates] == [("extra", 6, 5)]
    assert doc.data["labels"].key_lines["tier"] == 4


def test_anchors_and_aliases_are_followed() -> None:
    doc = _only("""\
        a: &ports [{containerPort: 80}]
        b: *ports
        """)
    assert doc.data["b"] == [{"containerPort": 80}]


def test_scalars_are_read_as_kubectl_reads_them() -> None:
    doc = _only("""\
        date: 2024-01-31
        sexagesimal: 1:30
        equals: =
        yes_is_a_boolean: yes
        octal: 010
        number: 8080
        quoted: "8080"
        empty:
        exponent: 1e3
        80: int key
        true: bool key
        """)
    assert doc.data == {
        "date": "2024-01-31", "sexagesimal": "1:30", "equals": "=", "yes_is_a_boolean": True, "octal": 8,
        "number": 8080, "quoted": "8080", "empty": None, "exponent": 1000.0, "80": "int key", "true": "bool key",
    }


def test_int_key_and_its_string_spelling_are_duplicates() -> None:
    doc = _only('80: a\n"80": b\n')
    assert [(d.key, d.line, d.first_line) for d in doc.duplicates] == [("80", 2, 1)]


def test_syntax_error_reports_the_problem_line_and_keeps_earlier_documents() -> None:
    docs = _docs("""\
        kind: A
        ---
        kind: B
        metadata:
          labels:
            app: web
           tier: bad
        ---
        kind: C
        """)
    assert isinstance(docs[0], RawDocument) and docs[0].data == {"kind": "A"}
    problem = docs[-1]
    assert isinstance(problem, SyntaxProblem)
    assert problem.line == 7
    assert problem.message.startswith("invalid YAML: ")
    assert len(docs) == 2


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: b\n? [x]\n: y\n", 2),  # a list used as a key
        ("a: b\nc: !!int abc\n", 2),  # an explicit tag whose value does not fit: the value's line
        ("a: [\n", 2),
        ("a: b\n\x01\n", 2),  # a control character
        ("[" * 2000 + "]" * 2000, 1),  # nesting deeper than the parser allows
    ],
)
def test_unreadable_yaml_is_a_problem_not_an_exception(text: str, line: int) -> None:
    *_, last = list(iter_documents(text))
    assert isinstance(last, SyntaxProblem)
    assert last.line == line


JSON = """\
    {
      "kind": "Pod",
      "metadata": {
        "name": "x"
      },
      "spec": {"containers": [
        {"name": "a"},
        {"name": "b"}
      ]}
    }
    """


def test_json_is_read_as_yaml_with_lines() -> None:
    doc = _only(JSON, json_fallback=True)
    assert doc.line == 1
    assert locate(doc.data, ("metadata", "name")) == 4
    assert locate(doc.data, ("spec", "containers", 1, "name")) == 8


def test_json_stream_falls_back_to_the_json_parser_with_a_line_per_value() -> None:
    docs = _docs("""\
        {"kind": "A"}
        {"kind": "B",
         "x": 1}

        {"kind": "C"}
        """, json_fallback=True)
    assert [(d.line, d.data["kind"]) for d in docs if isinstance(d, RawDocument)] == [(1, "A"), (2, "B"), (5, "C")]
    assert all(isinstance(d, RawDocument) for d in docs)


def test_json_that_neither_parser_reads_reports_the_json_error_line() -> None:
    docs = _docs("""\
        {
          "kind": "Pod",
          "metadata": {"name": "x"}
          "spec": {}
        }
        """, json_fallback=True)
    assert docs == [SyntaxProblem(4, "invalid JSON: Expecting ',' delimiter")]


def test_duplicate_keys_are_found_in_fallback_json_too() -> None:
    docs = _docs('{"kind": "A"}\n{"kind": "B", "spec": {"x": 1, "x": 2}}\n', json_fallback=True)
    second = docs[1]
    assert isinstance(second, RawDocument)
    assert [(d.key, d.line) for d in second.duplicates] == [("x", 2)]
    assert second.duplicates[0].mapping is second.data["spec"]


def test_without_the_json_fallback_a_json_stream_is_a_yaml_error() -> None:
    docs = _docs('{"kind": "A"}\n{"kind": "B"}\n')
    assert isinstance(docs[0], RawDocument)
    assert isinstance(docs[1], SyntaxProblem) and docs[1].line == 2


# -- node_paths: where a mapping holding a duplicate key sits ---------------------------------------


def test_node_paths_finds_nested_mappings_and_lists_in_document_order() -> None:
    (doc,) = [d.data for d in iter_documents(textwrap.dedent("""\
        spec:
          ingress:
          - from: [{podSelector: {}}, {ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]
        """))]
    peer = doc["spec"]["ingress"][0]["from"][1]
    excepts = peer["ipBlock"]["except"]
    assert node_paths(doc, [excepts, peer, doc]) == {
        id(doc): (), id(peer): ("spec", "ingress", 0, "from", 1), id(excepts): ("spec", "ingress", 0, "from", 1,
                                                                                 "ipBlock", "except")}


def test_node_paths_gives_an_aliased_mapping_the_path_of_its_first_use_and_skips_strangers() -> None:
    (doc,) = [d.data for d in iter_documents("a: &shared {x: 1}\nb: [*shared]\n")]
    assert node_paths(doc, [doc["b"][0], {"not": "in it"}]) == {id(doc["a"]): ("a",)}


def test_node_paths_survives_a_value_that_contains_itself() -> None:
    looped: list[object] = []
    looped.append(looped)
    target: dict[str, object] = {}
    assert node_paths({"l": looped, "t": target}, [target]) == {id(target): ("t",)}
# -- hostile input ---------------------------------------------------------------------


def _composed(text: str) -> Any:
    loader = yaml.CSafeLoader(text)
    assert loader.check_node()
    return loader.get_node()


def test_alias_growth_counts_each_use_of_an_aliased_node() -> None:
    # b holds 3 aliases of a 3-node list: 9 nodes more than written.
    assert alias_growth(_composed("a: &a [x, y]\nb: [*a, *a, *a]\n")) == (9, None)
    assert alias_growth(_composed("a: [x, y]\nb: [x, y]\n")) == (0, None)
    # Nested aliases multiply: 10 levels of 9 would be billions, counted in a moment.
    text = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 11))
    added, _ = alias_growth(_composed(text))
    assert added > 9 ** 10


def test_a_node_containing_itself_is_found() -> None:
    added, node = alias_growth(_composed("x: 1\ny: &a [1, {b: *a}]\n"))
    assert added == 0 and node is not None and node.start_mark.line + 1 == 2


def test_aliases_count_against_the_budget_across_documents() -> None:
    budget = Budget(max_alias_nodes=10)
    text = "a: &a [x, y]\nb: [*a, *a]\n---\na: &a [x, y]\nb: [*a, *a]\n"
    *docs, last = list(iter_documents(text, budget=budget))
    assert len(docs) == 1 and budget.alias_nodes == 12
    assert isinstance(last, SyntaxProblem) and (last.code, last.line) == ("L14", 4)


@pytest.mark.parametrize(("text", "message"), [
    ("a: !!int ''\n", '!!int "" is not an integer'),
    ("a: !!int 12\nb: !!float 1\nc: !!bool yes\n", None),
    ("a: !!map [x]\n", "the tag !!map needs a mapping, not a list"),
    ("a: !!seq {x: y}\n", "the tag !!seq needs a list, not a mapping"),
    ("a: !!set {x: null}\n", "the tag !!set has no JSON equivalent, so podfence does not read it"),
    ("a: !!timestamp [x]\n", "the tag !!timestamp needs a single value, not a list"),
    ("a: !local x\n", "unknown tag !local: podfence reads only the standard YAML tags"),
])
def test_tags_are_read_only_when_their_value_fits(text: str, message: str | None) -> None:
    (item,) = list(iter_documents("kind: X\n" + text))
    if message is None:
        assert isinstance(item, RawDocument) and dict(item.data) == {"kind": "X", "a": 12, "b": 1.0, "c": True}
    else:
        assert isinstance(item, SyntaxProblem) and (item.line, item.message) == (2, f"invalid YAML: {message}")


def test_a_document_too_deep_for_yaml_is_not_retried_as_json() -> None:
    text = '{"kind": "A"}\n---\n' + "[" * 1200 + "]" * 1200 + "\n"
    first, last = list(iter_documents(text, json_fallback=True))
    assert isinstance(first, RawDocument) and first.data == {"kind": "A"}
    assert isinstance(last, SyntaxProblem)
    assert (last.line, last.message) == (3, "invalid JSON: nested too deeply (the limit is about 1,000 levels)")
