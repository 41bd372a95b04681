"""Generated YAML: comments where they belong, scalars that read back as themselves."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
import yaml

from podfence.render.generate import policies_yaml, scalar, to_yaml


def test_scalars_are_quoted_only_when_yaml_would_misread_them() -> None:
    assert [scalar(v) for v in ("web", "10.0.0.0/8", "::/0", "app.kubernetes.io/name", "fd00::/8", 8080, True)] == [
        "web", "10.0.0.0/8", "::/0", "app.kubernetes.io/name", "fd00::/8", "8080", "true"]
    for text in ("8080", "true", "no", "on", "null", "", "a: b", "#x", "- x", "1e3", "0o17", "x #y", " pad", "~",
                 "0x10", ".5", "2026-11-27", "a\nb", "\u0085", "\ud800"):
        assert scalar(text) != text, text
        assert yaml.safe_load(f"k: {scalar(text)}") == {"k": text}
    assert scalar("caf\u00e9") == "caf\u00e9" and scalar("\U00010000") == "\U00010000"


def test_comments_go_above_their_node() -> None:
    doc = {"spec": {"ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": 80}]}, {"from": []}]}}
    text = to_yaml(doc, {(): ("top",), ("spec", "ingress", 0): ("first rule", "  a note"),
                          ("spec", "ingress", 1): ("second rule",)})
    assert text == (
        "# top\n"
        "spec:\n"
        "  ingress:\n"
        "    # first rule\n"
        "    #   a note\n"
        "    - from:\n"
        "        - podSelector: {}\n"
        "      ports:\n"
        "        - port: 80\n"
        "    # second rule\n"
        "    - from: []\n"
    )
    assert yaml.safe_load(text) == doc
    assert to_yaml({"a": 1}, {(): ("two\nlines",)}) == "# two lines\na: 1\n"


def test_a_stream_of_policies() -> None:
    class P:
        def __init__(self, name: str) -> None:
            self.manifest = {"metadata": {"name": name}}
            self.comments = (((), (f"about {name}",)),)
    text = policies_yaml([P("a"), P("b")], ["header"])
    assert text == "# header\n# about a\nmetadata:\n  name: a\n---\n# about b\nmetadata:\n  name: b\n"
    assert list(yaml.safe_load_all(text)) == [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]


KEYS = st.text(min_size=1, max_size=12)
SCALARS = st.one_of(st.text(max_size=20), st.integers(min_value=-10**6, max_value=10**6), st.booleans())
TREES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(KEYS, inner, max_size=4)), max_leaves=20)


@given(st.dictionaries(KEYS, TREES, min_size=1, max_size=5))
def test_any_document_reads_back(doc: dict) -> None:  # type: ignore[type-arg]
    assert yaml.safe_load(to_yaml(doc)) == doc
