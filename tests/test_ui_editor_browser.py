"""podfence ui's editor and Changes view in real Chromium: errors at their line, the edit's impact, Save.

Skipped without /usr/bin/chromium, unless PODFENCE_REQUIRE_LAB=1 (then these must run).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from cli_support import ROOT, podfence
from test_ui_editing import API_FILE, EDITED_INGRESS, NEW_OPEN, git, the_ingress_document
from ui_support import chromium, playwright_api, ui_server

playwright_api()  # skips the module without Debian's chromium (fails under PODFENCE_REQUIRE_LAB=1)

EDIT = "#/editor?kind=NetworkPolicy&key=api/api-server-ingress"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    folder = tmp_path / "baa"
    shutil.copytree(ROOT / "examples/baa", folder)
    return folder


def open_page(browser: object, url: str, fragment: str) -> object:
    page = browser.new_page(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + fragment)
    page.wait_for_selector("body[data-ready=true]", timeout=30000)
    page.script_errors = errors
    return page


def type_in(page: object, text: str) -> None:
    """Replace the editor's text as a user's paste would (CodeMirror's content is contenteditable)."""
    page.fill("#editor-text .cm-content", text)


def editor_text(page: object) -> str:
    return page.evaluate("window.podfenceEditor.text()")


def listed(page: object, list_id: str) -> set[tuple[str, str, str]]:
    return {(li.get_attribute("class"), li.get_attribute("data-src"), li.get_attribute("data-dst"))
            for li in page.locator(f"#{list_id} li").all()}


def expected(changes: list[dict[str, object]]) -> set[tuple[str, str, str]]:
    out = set()
    for c in changes:
        if "added" in c:
            out.add(("opened", c["src"], c["dst"]))
        if "removed" in c:
            out.add(("closed", c["src"], c["dst"]))
    return out


def test_an_invalid_edit_shows_the_error_at_its_line(browser: object) -> None:
    with ui_server("-f", "examples/baa") as url:
        page = open_page(browser, url, EDIT)
        assert "name: api-server-ingress" in editor_text(page)
        type_in(page, EDITED_INGRESS.replace("port: http", "port: 99999"))
        error = page.locator("#editor-errors .diagnostic.error")
        error.wait_for(timeout=30000)
        assert error.get_attribute("data-line") == "17"
        assert "spec.ingress[0].ports[0].port" in error.inner_text()
        # CodeMirror marks the line itself: a lint marker in the gutter, the line's text underlined
        page.wait_for_selector(".cm-lint-marker-error", timeout=30000)
        marked = page.locator(".cm-content .cm-line", has=page.locator(".cm-lintRange-error"))
        assert marked.count() == 1 and marked.inner_text().strip() == "- port: 99999"
        type_in(page, EDITED_INGRESS)
        page.wait_for_selector('#impact-list li[data-src="192.0.2.0/24"]', timeout=30000)
        assert page.locator("#editor-errors .diagnostic.error").count() == 0
        assert not page.script_errors


def test_an_edits_impact_lists_what_it_opens_and_closes(browser: object, tmp_path: Path) -> None:
    new = tmp_path / "new"
    shutil.copytree(ROOT / "examples/baa", new)
    text = (new / API_FILE).read_text()
    (new / API_FILE).write_text(text.replace(the_ingress_document(text), EDITED_INGRESS.rstrip("\n")))
    want = expected(json.loads(podfence("diff", "examples/baa", str(new), "-o", "json").stdout)["changes"])
    assert ("closed", "gateway/edge-proxy", "api/api-server") in want and ("opened", "192.0.2.0/24",
                                                                           "api/api-server") in want
    with ui_server("-f", "examples/baa") as url:
        page = open_page(browser, url, EDIT)
        type_in(page, EDITED_INGRESS)
        page.wait_for_selector('#impact-list li[data-src="192.0.2.0/24"]', timeout=30000)
        assert listed(page, "impact-list") == want
        drawn = page.evaluate("window.podfenceImpact.edges().map(e => [e.classes()[0], e.data('source'), "
                              "e.data('target')])")
        assert {tuple(e) for e in drawn} == want
        # The URL keeps the edited policy: reopening it edits the same one.
        assert "key=api/api-server-ingress" in page.url


def test_a_building_block_form_fills_the_editor(browser: object) -> None:
    with ui_server("-f", "examples/baa") as url:
        page = open_page(browser, url, "#/editor?new=1")
        form = page.locator('form[data-block="allow"]')
        form.locator('input[name="from"]').fill("gateway/edge-proxy")
        form.locator('input[name="to"]').fill("billing/billing-api")
        form.locator('input[name="port"]').fill("8080")
        form.locator("button").click()
        page.wait_for_selector('#editor-status:has-text("filled in from allow")', timeout=30000)
        made = podfence("generate", "allow", "--from", "gateway/edge-proxy", "--to", "billing/billing-api", "--port",
                        "8080", "-f", "examples/baa").stdout
        assert editor_text(page) == made
        page.wait_for_selector("#impact-list li.opened", timeout=30000)


def test_save_keeps_the_other_documents_of_the_file_byte_for_byte(browser: object, copy: Path) -> None:
    before = (copy / API_FILE).read_text()
    old_doc = the_ingress_document(before)
    with ui_server("-f", str(copy)) as url:
        page = open_page(browser, url, EDIT)
        type_in(page, EDITED_INGRESS)
        page.wait_for_selector('#impact-list li[data-src="192.0.2.0/24"]', timeout=30000)
        page.click("#editor-save")
        page.wait_for_selector('#editor-save-status:has-text("saved ")', timeout=30000)
    assert (copy / API_FILE).read_text() == before.replace(old_doc, EDITED_INGRESS.rstrip("\n"))


def test_a_new_policy_is_saved_into_a_new_file_then_edited_in_place(browser: object, copy: Path) -> None:
    with ui_server("-f", str(copy)) as url:
        page = open_page(browser, url, "#/editor?new=1")
        page.fill("#editor-file", str(copy / "policies/open.yaml"))
        type_in(page, NEW_OPEN)
        page.wait_for_selector("#impact-list li.opened", timeout=30000)
        page.click("#editor-save")
        page.wait_for_url(lambda u: "key=data%2Fopen-data" in u, timeout=30000)
        page.wait_for_selector("body[data-ready=true] #editor-text .cm-content", timeout=30000)
        assert "name: open-data" in editor_text(page)
        assert (copy / "policies/open.yaml").read_text() == NEW_OPEN
        edited = NEW_OPEN.replace("ingress: [{}]", "ingress: []")
        type_in(page, edited)
        page.wait_for_selector("#impact-list li.closed", timeout=30000)  # against the saved policy now
        page.click("#editor-save")
        page.wait_for_selector('#editor-save-status:has-text("saved ")', timeout=30000)
    assert (copy / "policies/open.yaml").read_text() == edited


def test_a_save_without_the_token_or_from_another_origin_is_refused(browser: object, copy: Path) -> None:
    before = (copy / API_FILE).read_bytes()
    with ui_server("-f", str(copy)) as url:
        page = open_page(browser, url, EDIT)
        status = page.evaluate("""async (body) => (await fetch('/api/save?file=' + encodeURIComponent(
            document.getElementById('editor-file').value) + '&kind=NetworkPolicy&key=api/api-server-ingress',
            {method: 'POST', body, headers: {'Content-Type': 'application/yaml'}})).status""", EDITED_INGRESS)
        assert status == 403
        attacker = f"""<!doctype html><form method="post" enctype="text/plain"
            action="{url}api/save?file={copy / API_FILE}&amp;kind=NetworkPolicy&amp;key=api/api-server-ingress">
            <input name="kind: NetworkPolicy" value=""></form><script>document.forms[0].submit()</script>"""
        page.route("http://attacker.test/", lambda route: route.fulfill(status=200, content_type="text/html",
                                                                        body=attacker))
        with page.expect_response(lambda r: "/api/save" in r.url) as answer:
            page.goto("http://attacker.test/")
        assert answer.value.status == 403 and "cross-origin" in answer.value.text()
    assert (copy / API_FILE).read_bytes() == before


def test_save_with_read_only_is_refused(browser: object, copy: Path) -> None:
    before = (copy / API_FILE).read_bytes()
    with ui_server("-f", str(copy), "--read-only") as url:
        page = open_page(browser, url, EDIT)
        assert page.locator("#editor-save").is_disabled()
        type_in(page, EDITED_INGRESS)
        page.locator("#editor-save").dispatch_event("click")  # as if the page were tampered with
        status = page.evaluate("""async (body) => (await fetch('/api/save?file=x', {method: 'POST', body,
            headers: {'Content-Type': 'application/yaml', 'X-Podfence-CSRF':
            document.querySelector('meta[name="podfence-csrf"]').content}})).status""", EDITED_INGRESS)
        assert status == 403
    assert (copy / API_FILE).read_bytes() == before


def test_the_changes_view_draws_and_lists_diff_base(browser: object, copy: Path) -> None:
    git(copy, "init", "-q")
    git(copy, "add", ".")
    git(copy, "commit", "-q", "-m", "base")
    text = (copy / API_FILE).read_text()
    (copy / API_FILE).write_text(text.replace(the_ingress_document(text), EDITED_INGRESS.rstrip("\n")))
    (copy / "policies/open.yaml").write_text(NEW_OPEN)
    done = podfence("diff", "--base", "HEAD", "-f", ".", "-o", "json", cwd=copy)
    want = expected(json.loads(done.stdout)["changes"])
    assert {kind for kind, _, _ in want} == {"opened", "closed"}
    with ui_server("-f", ".", cwd=copy) as url:
        page = open_page(browser, url, "#/changes?base=HEAD")
        assert listed(page, "changes-list") == want
        drawn = page.evaluate("window.podfenceChanges.edges().map(e => [e.classes()[0], e.data('source'), "
                              "e.data('target')])")
        assert {tuple(e) for e in drawn} == want
    subprocess.run(["git", "status"], cwd=copy, check=True, capture_output=True)
