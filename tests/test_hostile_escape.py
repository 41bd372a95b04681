"""Text from the input never escapes its place in podfence's output (console script).

Every input here is one the API server accepts or podfence reads on purpose:
annotation values, file names, kinds podfence ignores, flow records, assertion
names, flag values. Whatever they hold, Markdown shows them as text (no HTML, no
link, no mention, one table row per finding), JUnit XML parses, every message is
one line with its control characters quoted, and an echoed value is capped.
Names the loader rejects are taken to the renderers directly in
tests/test_render_escape.py.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from cli_support import ROOT, podfence
from markdown_it import MarkdownIt

from podfence.model.text import ECHO_LIMIT, LINE_LIMIT

MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
ZWSP = "\u200b"
FORGED = "\x1b[2J\nok: 9 object(s) valid\u202e"  # clears the screen, forges a line, reverses text
QUOTED = "\\x1b[2J\\nok: 9 object(s) valid\\u202e"

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, image: i}]}
status: {podIP: 10.0.0.1}
"""
DENY_ALL = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: shop
  annotations:
    podfence.io/ignore: IGNORE
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  egress:
    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}},
            podSelector: {matchLabels: {k8s-app: kube-dns}}}]
      ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
"""


def manifests(tmp: Path, ignore: str, name: str = "shop.yaml") -> Path:
    path = tmp / name
    path.write_text(POD + "---\n" + DENY_ALL.replace("IGNORE", json.dumps(ignore)))
    return path


def md_tokens(markdown: str) -> list:
    out = []
    for token in MD.parse(markdown):
        out += [token, *(token.children or [])]
    return out


def table_rows(markdown: str, header: str) -> list[list[str]]:
    """The body rows of the table whose first header cell is ``header``, as the cells' visible text."""
    tokens, tables, row = MD.parse(markdown), [], None
    for i, t in enumerate(tokens):
        if t.type == "table_open":
            tables.append([])
        elif t.type == "tr_open":
            row = []
        elif t.type in ("th_open", "td_open"):
            row.append("".join(c.content for c in tokens[i + 1].children or [] if c.type in ("text", "code_inline")))
        elif t.type == "tr_close":
            tables[-1].append(row)
    [table] = [t for t in tables if t[0][0] == header]
    return table[1:]


def test_audit_md_shows_ignore_annotation_entries_as_text_not_html_links_or_mentions(tmp_path: Path) -> None:
    path = manifests(tmp_path, "<img/src=x/onerror=alert(1)>, [x](/evil), a`|`b, @org/team, #1: reviewed")
    r = podfence("audit", "-f", str(path), "-o", "md")
    assert r.returncode == 0, r.stderr
    kinds = {t.type for t in md_tokens(r.stdout)}
    assert not kinds & {"html_inline", "html_block", "link_open", "image", "em_open", "s_open"}
    findings = table_rows(r.stdout, "severity")
    assert all(len(row) == 5 for row in findings)
    assert [row[4] for row in findings] == [
        f"podfence.io/ignore names '{name}', which is no podfence rule"
        for name in (f"#{ZWSP}1", "<img/src=x/onerror=alert(1)>", f"@{ZWSP}org/team", "[x](/evil)", "a`|`b")]


def test_check_error_in_a_file_named_with_control_characters_stays_one_line(tmp_path: Path) -> None:
    path = tmp_path / f"evil{FORGED}.yaml"
    path.write_text((ROOT / "tests/fixtures/cli/bad-policy.yaml").read_text())
    r = podfence("check", "-f", str(tmp_path))
    assert r.returncode == 2
    shown = f"{tmp_path}/evil{QUOTED}.yaml"
    assert r.stdout.splitlines() == [  # errors in file and line order
        f'{shown}:13: NetworkPolicy shop/broken: spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: '
        '"10.0.0.0/24": must be a strict subset of `cidr`',
        f'{shown}:15: NetworkPolicy shop/broken: spec.ingress[0].ports[0].protocol: Unsupported value: "tcp": '
        'supported values: "TCP", "UDP", "SCTP"',
        "2 errors, 0 warnings",
    ]


def test_lint_findings_in_a_file_named_with_control_characters_stay_one_line_each(tmp_path: Path) -> None:
    path = manifests(tmp_path, "NP201", name=f"shop{FORGED}.yaml")
    r = podfence("lint", "-f", str(path))
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == (f"{tmp_path}/shop{QUOTED}.yaml:13: warning NP901 suppression-without-reason: NetworkPolicy "
                        "shop/default-deny: metadata.annotations.podfence.io/ignore: podfence.io/ignore entry "
                        "'NP201' gives no reason")
    assert lines[1].startswith("    fix: ") and lines[2:] == ["0 errors, 1 warning, 0 notes"]


def test_note_about_an_ignored_kind_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "kinds.yaml"
    path.write_text('apiVersion: example.com/v1\nkind: "Widget\\e[31m\\npodfence: error: forged"\n'
                    "metadata: {name: w}\n---\n" + POD)
    r = podfence("check", "-f", str(path))
    assert r.returncode == 0
    assert r.stderr.splitlines() == ["note: ignored 1 Widget\\x1b[31m\\npodfence: error: forged object"]
    assert r.stdout == "ok: 1 object valid\n"


def test_error_echoing_a_flag_value_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text(POD)
    r = podfence("explain", "-f", str(path), "--from", f"shop/we{FORGED}", "--to", "shop/web", "--port", "80")
    assert r.returncode == 2
    # Not a name at all: the endpoint grammar says so, the value quoted on one line.
    assert r.stderr.splitlines() == [
        f"podfence explain: error: --from: 'shop/we{QUOTED}': not a namespace/name (lowercase letters, digits, '-' and, "
        "in names, '.')"]


def test_flow_records_with_control_characters_are_quoted_in_the_flow_summary(tmp_path: Path) -> None:
    record = json.loads((ROOT / "tests/fixtures/flows/hubble.jsonl").read_text().splitlines()[0])
    record["flow"]["source"]["namespace"] = f"ghost{FORGED}"
    record["flow"]["IP"]["source"] = "10.99.0.1"
    flows = tmp_path / "flows.jsonl"
    flows.write_text(json.dumps(record) + "\n")
    r = podfence("generate", "-f", "tests/fixtures/generate/cluster.yaml", "--from-flows", str(flows), "--check")
    assert r.returncode == 1
    assert "\x1b" not in r.stderr and "\u202e" not in r.stderr
    unmappable = [line for line in r.stderr.splitlines() if line.startswith("    1 x source pod ")]
    assert unmappable == [
        f"    1 x source pod ghost{QUOTED}/frontend-7d9c5b8f6-x2k4q (app=frontend,part-of=shop,"
        f"pod-template-hash=7d9c5b8f6,tier=web): the manifests hold no workload in namespace ghost{QUOTED} "
        f"(first: {flows}:1)"]
    assert not [line for line in r.stderr.splitlines() if line.startswith("ok:")]


def test_expectation_named_with_control_characters_is_one_line_and_junit_parses(tmp_path: Path) -> None:
    spec = tmp_path / "spec\x01.yaml"
    spec.write_text('tests:\n  - name: "gate\\x01way\\n      PASS  forged \\e[2J\\u202e"\n'
                    "    from: 10.0.1.10\n    to: api/server\n    port: 8080\n    expect: deny\n")
    junit = tmp_path / "junit.xml"
    r = podfence("test", "-f", "tests/fixtures/assertions/cluster.yaml", str(spec), "--junit", str(junit))
    assert r.returncode == 1
    name = "gate\\x01way\\n      PASS  forged \\x1b[2J\\u202e"
    assert r.stdout.splitlines()[0] == f"FAIL  {name}  (deny TCP 8080)"
    assert not [line for line in r.stdout.splitlines() if line.lstrip().startswith("PASS")]
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("name") == f"{tmp_path}/spec\\x01.yaml"
    case = suite.find("testcase")
    assert case is not None and case.get("name") == name
    failure = case.find("failure")
    assert failure is not None and (failure.text or "").splitlines()[0] == f"FAIL  {name}  (deny TCP 8080)"


def test_a_long_annotation_value_is_echoed_capped(tmp_path: Path) -> None:
    entry = "NP201" + "x" * 200_000  # valid: annotations may hold 256 KiB
    r = podfence("lint", "-f", str(manifests(tmp_path, entry)))
    assert r.returncode == 1, r.stderr
    shown = f"'{entry[:ECHO_LIMIT]}…(+{len(entry) - ECHO_LIMIT} chars)'"
    where = f"{tmp_path}/shop.yaml:13: warning"
    about = "NetworkPolicy shop/default-deny: metadata.annotations.podfence.io/ignore: podfence.io/ignore"
    assert [line for line in r.stdout.splitlines() if not line.startswith("    fix:")] == [
        f"{where} NP901 suppression-without-reason: {about} entry {shown} gives no reason",
        f"{where} NP902 suppression-of-unknown-rule: {about} names {shown}, which is no podfence rule",
        "0 errors, 2 warnings, 0 notes",
    ]


def test_an_error_about_a_huge_value_is_one_short_line(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: big, namespace: shop}\n"
                    f'spec:\n  podSelector: {{}}\n  policyTypes: ["{"x" * (1 << 20)}"]\n')
    r = podfence("check", "-f", str(path))
    assert r.returncode == 2
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and lines[1] == "1 error, 0 warnings"
    assert lines[0].startswith(f"{path}:6: NetworkPolicy shop/big: spec.policyTypes[0]: ")
    assert len(lines[0]) <= LINE_LIMIT + len("…(+1048576 chars)")
