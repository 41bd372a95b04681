"""render/escape.py and model/text.py: text from the input stays text in every format.

Markdown is checked by parsing it with a real CommonMark parser (markdown-it-py,
tables and strikethrough on, as GitHub renders them), DOT with pydot, CSV with the
csv module: whatever the name, the parsed document has exactly the nodes, rows and
cells of the template and the name comes back as itself.
"""

from __future__ import annotations

import csv
import doctest
import io
import re
import xml.etree.ElementTree as ET

import pydot
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

import podfence.model.text
import podfence.render.escape
from podfence.model.text import LINE_LIMIT, capped, one_line, printable
from podfence.render.escape import csv_cell, dot_id, dot_label, md_code, md_row, md_text, text_lines, xml_text

MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
ZWSP = "\u200b"
# Names that break one format or another when written raw.
HOSTILE = [
    "a`<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "[x](javascript:alert(1))", "![i](/p.png)",
    "b|c", "x\n| forged | row |", "@org/team", "#12", "**bold** _it_ ~~gone~~", "\\", "a\\|b", "`", "``a``",
    " `x` ", "&lt;b&gt;", "&#60;b&#62;", "$x$", "\x1b[2J\u202egnp.exe", "<http://evil.example>", "a]:(b)",
    "[a]\n[a]: /evil", "=cmd|' /C calc'!A0", 'b"];evil[label=x', "tab\there", "", " ", "ünï/cødé",
]
# Any text, weighted towards the characters that matter to the formats.
TEXT = st.text(st.one_of(st.sampled_from(list("`|\\<>&[]()!@#*_~$:\"' \n\r\t-=+/.a1")), st.characters()),
               max_size=40)


def flat(markdown: str) -> list:
    out = []
    for token in MD.parse(markdown):
        out.append(token)
        out += token.children or []
    return out


def no_markup(tokens: list) -> None:
    kinds = {t.type for t in tokens}
    assert not kinds & {"html_inline", "html_block", "link_open", "image", "s_open", "em_open", "strong_open"}


def inline_text(tokens: list) -> str:
    """What a reader sees of inline tokens: text and code, with soft breaks as newlines."""
    return "".join(t.content if t.type in ("text", "code_inline") else "\n" if t.type == "softbreak" else ""
                   for t in tokens)


def cells(markdown: str) -> list[list[str]]:
    """The rows of the (one) table in ``markdown``, each a list of the cells' visible text."""
    rows, row, tokens = [], None, MD.parse(markdown)
    for i, t in enumerate(tokens):
        if t.type == "tr_open":
            row = []
        elif t.type in ("th_open", "td_open"):
            row.append(inline_text(tokens[i + 1].children or []))
        elif t.type == "tr_close":
            rows.append(row)
    return rows


@pytest.mark.parametrize("module", [podfence.model.text, podfence.render.escape])
def test_docstring_examples_hold(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]


# ---- text --------------------------------------------------------------------------


@given(TEXT)
def test_printable_text_is_one_line_and_nothing_else_changes(value: str) -> None:
    out = printable(value)
    assert out.isprintable() and len(out.splitlines()) <= 1
    if value.isprintable():
        assert out == value


def test_printable_quotes_controls_bidi_and_separators_like_repr() -> None:
    assert printable("a\nb\r\tc\x1b[31m\x7f\x85\u2028\u2029\u202e\u2066\ufeff\ud800") == \
        "a\\nb\\r\\tc\\x1b[31m\\x7f\\x85\\u2028\\u2029\\u202e\\u2066\\ufeff\\ud800"
    assert printable("café ✓ · 日本") == "café ✓ · 日本"


def test_caps_say_how_much_was_left_out() -> None:
    assert capped("x" * 300) == "x" * 256 + "…(+44 chars)"
    assert capped("short") == "short"
    line = one_line("e\n" * 3000)
    assert line == ("e\\n" * 3000)[:LINE_LIMIT] + "…(+5000 chars)"


def test_text_lines_keep_the_line_count() -> None:
    assert text_lines(["a\nforged", "b"]) == "a\\nforged\nb\n"


# ---- Markdown ----------------------------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE)
def test_md_text_in_a_paragraph_is_the_name_and_only_text(name: str) -> None:
    tokens = flat(f"- Reached by: {md_text(name)}; end")
    no_markup(tokens)
    assert inline_text(tokens).replace(ZWSP, "") == f"Reached by: {printable(name)}; end"


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_md_text_and_code_of_any_name_keep_a_table_row_one_row(name: str) -> None:
    table = "| a | b | c |\n|---|---|---|\n" + md_row(["x", md_code(name, table=True), md_text(name)]) + "\n"
    tokens = flat(table)
    no_markup(tokens)
    rows = cells(table)
    assert len(rows) == 2 and len(rows[1]) == 3
    assert rows[1][0] == "x"
    shown = printable(name)
    if "|" in shown:  # no code span can hold a pipe in a table: the name is written as text
        assert rows[1][1].replace(ZWSP, "") == shown.strip(" ")
    else:
        assert [t.content for t in tokens if t.type == "code_inline"] == [shown or " "]
    assert rows[1][2].replace(ZWSP, "") == shown.strip(" ")


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_md_code_of_any_name_is_one_code_span_holding_the_name(name: str) -> None:
    tokens = flat(f"pod {md_code(name)} here")
    no_markup(tokens)
    codes = [t.content for t in tokens if t.type == "code_inline"]
    expected = printable(name) or " "
    assert codes == [expected]


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_md_text_of_any_name_reads_back_as_the_name(name: str) -> None:
    tokens = flat(f"before {md_text(name)} after")
    no_markup(tokens)
    assert not [t for t in tokens if t.type == "code_inline"]
    assert inline_text(tokens).replace(ZWSP, "") == f"before {printable(name)} after".strip()


@pytest.mark.parametrize("text, quiet", [("@org/team", "@\u200borg/team"), ("see #12", "see #\u200b12"),
                                         ("mail a@b", "mail a@\u200bb")])
def test_md_text_mentions_and_issue_links_notify_nobody(text: str, quiet: str) -> None:
    assert inline_text(flat(md_text(text))) == quiet
    assert not re.search(r"@[A-Za-z0-9]|#[0-9]", inline_text(flat(md_text(text))))


def test_md_leaves_ordinary_names_and_field_paths_alone() -> None:
    for text in ("shop/web", "api/allow-gw added: spec.ingress[0] admits it", "app.kubernetes.io/name=web",
                 "my_label_value", "0.0.0.0/0 except 10.0.0.0/8", "loses DNS (TCP 53, UDP 53)"):
        assert md_text(text) == text
    assert md_code("shop/web", table=True) == "`shop/web`"


# ---- DOT ---------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:.*deprecated")  # pydot's parser calls old pyparsing names
@given(TEXT, TEXT)
@settings(max_examples=200, deadline=None)
def test_dot_ids_and_labels_of_any_name_add_no_node_or_attribute(name: str, other: str) -> None:
    dot = (f"digraph g {{\n  {dot_id(name)} [label={dot_label(name, '(Deployment)')}];\n"
           f"  {dot_id(other)} [shape=box];\n  {dot_id(name)} -> {dot_id(other)} [label={dot_label('All')}];\n}}\n")
    graphs = pydot.graph_from_dot_data(dot)
    assert graphs is not None and len(graphs) == 1
    graph = graphs[0]
    nodes = {n.get_name(): n.get_attributes() for n in graph.get_nodes()}
    assert set(nodes) == {dot_id(name), dot_id(other)}
    if name != other:
        assert nodes[dot_id(name)] == {"label": dot_label(name, "(Deployment)")}
        assert nodes[dot_id(other)] == {"shape": "box"}
    edges = graph.get_edges()
    assert [(e.get_source(), e.get_destination(), e.get_attributes()) for e in edges] == \
        [(dot_id(name), dot_id(other), {"label": '"All"'})]
    assert "\n" not in dot_id(name) and "\r" not in dot_id(name)


def test_dot_quotes_what_json_quoted_before_for_ordinary_names() -> None:
    assert dot_id("shop/web") == '"shop/web"'
    assert dot_label("gateway", "(Deployment)") == '"gateway\\n(Deployment)"'


# ---- CSV ---------------------------------------------------------------------------


@pytest.mark.parametrize("name, cell", [("=1+2", "'=1+2"), ("+1", "'+1"), ("-2+3", "'-2+3"),
                                        ("@SUM(A1)", "'@SUM(A1)"), ('=HYPERLINK("x")', "'=HYPERLINK(\"x\")"),
                                        ("\t=1", "\\t=1"), ("\r=1", "\\r=1"), ("a\rb\nc", "a\\rb\\nc")])
def test_csv_cells_never_start_a_formula_nor_a_row(name: str, cell: str) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([csv_cell(name), "All"])
    assert buf.getvalue().count("\n") == 1
    [row] = list(csv.reader(io.StringIO(buf.getvalue(), newline="")))
    assert row == [cell, "All"]


def test_csv_leaves_ordinary_cells_alone() -> None:
    assert [csv_cell(v) for v in ("shop/web", "0.0.0.0/0", "TCP 80", "1")] == ["shop/web", "0.0.0.0/0", "TCP 80", "1"]


# ---- XML ---------------------------------------------------------------------------


@given(TEXT)
@settings(max_examples=200, deadline=None)
def test_xml_text_of_any_name_parses_back(name: str) -> None:
    root = ET.Element("testcase", name=xml_text(name))
    root.text = xml_text(name)
    parsed = ET.fromstring(ET.tostring(root, encoding="unicode"))
    assert parsed.get("name") == printable(name) and (parsed.text or "") == printable(name)
