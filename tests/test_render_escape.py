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


def no_markup(tokens: list, template: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """No HTML, link, image or emphasis, except the kinds the ``template`` itself writes."""
    kinds = {t.type for t in tokens} - template
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


# ---- the renderers, on names the loader rejects ------------------------------------
# Built in memory, past the loader's validation: the renderers must be safe on
# their own, whatever a future input path lets through.

from ipaddress import ip_address  # noqa: E402

from podfence.diff import diff  # noqa: E402
from podfence.engine import Engine  # noqa: E402
from podfence.model import Cluster, Labels, NetworkPolicy, Pod  # noqa: E402
from podfence.render.connectivity import connectivity_csv, connectivity_dot, connectivity_md  # noqa: E402
from podfence.render.diff import diff_md, endpoints_text  # noqa: E402
from podfence.render.matrix import FORMATS as MATRIX_FORMATS, matrix_size, render_matrix  # noqa: E402
from podfence.sets import Protocol  # noqa: E402

HOSTILE_PODS = [("=1+2", "a`<img src=x onerror=alert(1)>|b"), ("shop", 'b"];evil[shape=box'),
                ("@org", "team\n| forged | row |"), ("shop", "[x](javascript:alert(1))"),
                ("-2+3", "\x1b[2J\u202e"), ("shop", "web")]


def hostile_cluster(*, deny: bool = False) -> Cluster:
    pods = [Pod(ns, name, labels=Labels({"app": "web"}), ips=(ip_address(f"10.0.0.{i + 1}"),))
            for i, (ns, name) in enumerate(HOSTILE_PODS)]
    policies = []
    if deny:
        policies.append(NetworkPolicy.from_dict(
            {"metadata": {"name": "<script>alert(1)</script>|`x`", "namespace": "shop"},
             "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}, namespace="shop"))
    return Cluster.of(pods=pods, policies=policies)


def test_connectivity_md_of_hostile_names_has_one_row_per_pair_and_no_markup() -> None:
    entries = Engine(hostile_cluster()).connectivity().connections()
    md = connectivity_md(entries)
    no_markup(flat(md))
    rows = cells(md)
    assert rows[0] == ["From", "To", "Allowed"]
    assert [[src.replace(ZWSP, ""), dst.replace(ZWSP, "")] for src, dst, _ in rows[1:]] == \
        [[printable(e.src), printable(e.dst)] for e in entries]


def test_matrix_md_of_hostile_names_has_one_row_per_pod_and_no_markup() -> None:
    matrix = Engine(hostile_cluster()).connectivity().matrix(Protocol.TCP, 80)
    md = render_matrix(matrix, "md")
    no_markup(flat(md), template={"strong_open"})  # the **TCP/80** heading
    assert sum(t.type == "strong_open" for t in flat(md)) == 1
    rows = cells(md)
    keys = [printable(p) for p in matrix.pods]
    assert [c.replace(ZWSP, "") for c in rows[0][1:]] == keys
    assert [r[0].replace(ZWSP, "") for r in rows[1:]] == keys
    assert all(len(r) == len(keys) + 1 for r in rows)


@pytest.mark.parametrize("output", MATRIX_FORMATS)
def test_the_size_told_before_a_matrix_of_hostile_names_is_the_size_written(output: str) -> None:
    matrix = Engine(hostile_cluster()).connectivity().matrix(Protocol.TCP, 80)
    text = render_matrix(matrix, output)
    assert "\x1b" not in text and "\u202e" not in text
    assert matrix_size(matrix, output) == len(text.encode("utf-8"))


def test_diff_md_of_hostile_names_has_one_row_per_group_and_no_markup() -> None:
    report = diff(hostile_cluster(), hostile_cluster(deny=True), settings=Engine(Cluster()).settings)
    md = diff_md(report)
    tokens = flat(md)
    no_markup(tokens, template={"strong_open"})  # review flags are bold
    flags = sum(len(g.flags) for g in report.groups) + any(g.flags for g in report.groups)
    assert sum(t.type == "strong_open" for t in tokens) == flags
    rows = cells(md)
    groups = report.by_danger()
    assert len(rows) == len(groups) + 1 and all(len(r) == 6 for r in rows)
    for row, g in zip(rows[1:], groups):
        assert row[1].replace(ZWSP, "") == printable(endpoints_text(g.group.srcs))
        assert row[2].replace(ZWSP, "") == printable(endpoints_text(g.group.dsts))
        assert row[5].startswith("shop/<script>alert(1)</script>|`x` added")


@pytest.mark.filterwarnings("ignore:.*deprecated")
def test_connectivity_dot_of_hostile_names_has_exactly_the_pods_ranges_and_edges() -> None:
    conn = Engine(hostile_cluster()).connectivity()
    entries = conn.connections()
    [graph] = pydot.graph_from_dot_data(connectivity_dot(conn, entries))
    nodes = {n.get_name(): n.get_attributes() for sub in graph.get_subgraphs() for n in sub.get_nodes()}
    assert nodes == {dot_id(p.key): {"label": dot_label(p.name)} for p in conn.pods}
    ranges = {n.get_name(): n.get_attributes() for n in graph.get_nodes() if n.get_name() not in ("node", "edge")}
    assert ranges == {dot_id(c): {"shape": "box"} for c in {e.dst for e in entries} - {p.key for p in conn.pods}}
    assert [(e.get_source(), e.get_destination(), set(e.get_attributes())) for e in graph.get_edges()] == \
        [(dot_id(e.src), dot_id(e.dst), {"label"}) for e in entries if e.src != e.dst]


def test_csv_of_hostile_names_starts_no_formula_and_keeps_one_record_per_line() -> None:
    conn = Engine(hostile_cluster()).connectivity()
    entries = conn.connections()
    for text, width in ((connectivity_csv(entries), 3), (render_matrix(conn.matrix(Protocol.TCP, 80), "csv"), 7)):
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert len(rows) == len(text.splitlines()) and all(len(r) == width for r in rows)
        assert not [c for r in rows for c in r if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    rows = list(csv.reader(io.StringIO(connectivity_csv(entries), newline="")))
    assert [r[:2] for r in rows[1:]] == [[csv_cell(e.src), csv_cell(e.dst)] for e in entries]
    assert sorted(csv_cell(p.key) for p in conn.pods if p.namespace in ("=1+2", "-2+3")) == \
        ["'-2+3/\\x1b[2J\\u202e", "'=1+2/a`<img src=x onerror=alert(1)>|b"]
