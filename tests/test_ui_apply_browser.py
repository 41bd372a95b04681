"""podfence ui's Apply in real Chromium: the button on a live cluster only, an apply seen in the Policies view,
a refused dry run shown at its line with nothing written.

Skipped without /usr/bin/chromium, unless PODFENCE_REQUIRE_LAB=1 (then these must run).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from test_ui_apply import DENIED, fleet, kubeconfig, policy, stored, writes  # noqa: F401 - fixtures
from test_ui_editor_browser import open_page, type_in
from ui_support import chromium, playwright_api, ui_server

playwright_api()  # skips the module without Debian's chromium (fails under PODFENCE_REQUIRE_LAB=1)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def url(kubeconfig: Path) -> Iterator[str]:  # noqa: F811
    with ui_server("--kubeconfig", str(kubeconfig), "--context", "prod") as url:
        yield url


def test_apply_dry_runs_writes_and_the_policies_view_shows_the_new_policy(browser: Any, url: str,
                                                                          fleet: Any) -> None:  # noqa: F811
    page = open_page(browser, url, "#/editor?new=1")
    button = page.locator("#editor-apply")
    assert button.inner_text() == "Apply to cluster (context prod)"
    assert page.locator("#editor-file").input_value() == "new-policy.yaml", "no file name made of a cluster's object"
    type_in(page, policy("from-browser"))
    page.wait_for_selector("#impact-list li.opened", timeout=30000)
    assert stored(fleet, "prod", "data", "from-browser") is None
    button.click()
    done = page.locator('#editor-apply-result [data-outcome="applied"]')
    done.wait_for(timeout=30000)
    assert "dry-run passed, applied to context prod: NetworkPolicy data/from-browser created" in done.inner_text()
    assert stored(fleet, "prod", "data", "from-browser") is not None
    assert "dryRun=All" in writes(fleet, "prod", "from-browser")[0]
    page.click('#editor-apply-result li[data-key="data/from-browser"] a')
    card = page.locator('section.policy[data-policy="data/from-browser"]')
    card.wait_for(timeout=30000)
    assert "192.0.2.0/24" in card.inner_text()
    assert not page.script_errors


def test_a_refused_dry_run_is_shown_at_its_line_as_text_and_nothing_is_written(browser: Any, url: str,
                                                                               fleet: Any) -> None:  # noqa: F811
    # Another port than the first test's: this edit opens something even after that test's apply.
    first = policy("kept-back").replace("5432", "5439")
    refused = policy("refused-in-browser", annotations=DENIED.replace("an owner label", "<b>an owner</b> label"))
    page = open_page(browser, url, "#/editor?new=1")
    type_in(page, first + "---\n" + refused)
    page.wait_for_selector("#impact-list li.opened", timeout=30000)
    page.click("#editor-apply")
    shown = page.locator('#editor-apply-result [data-outcome="refused"]')
    shown.wait_for(timeout=30000)
    text = shown.inner_text()
    assert text.startswith("Line 19: dry-run refused, nothing applied: ")
    assert "NetworkPolicy data/refused-in-browser" in text
    assert 'denied the request: data policies need <b>an owner</b> label' in text, "the server's words, as text"
    assert shown.locator("b").count() == 0
    marked = page.locator(".cm-content .cm-line", has=page.locator(".cm-lintRange-error"))
    marked.first.wait_for(timeout=30000)
    assert marked.count() == 1 and marked.inner_text() == "apiVersion: networking.k8s.io/v1"
    assert page.evaluate("window.podfenceEditor.view.state.doc.lineAt("
                         "window.podfenceEditor.view.state.selection.main.head).number") != 19
    shown.locator("a.refused-line").click()
    assert page.evaluate("window.podfenceEditor.view.state.doc.lineAt("
                         "window.podfenceEditor.view.state.selection.main.head).number") == 19
    assert stored(fleet, "prod", "data", "kept-back") is None and stored(fleet, "prod", "data",
                                                                          "refused-in-browser") is None
    assert all("dryRun=All" in r for r in writes(fleet, "prod", "kept-back"))
    assert not page.script_errors


def test_a_cluster_policy_is_edited_from_the_policies_view_and_applied_back(browser: Any, url: str,
                                                                            fleet: Any) -> None:  # noqa: F811
    page = open_page(browser, url, "#/policies?policy=data/redis-ingress")
    page.click('section.policy[data-policy="data/redis-ingress"] a.edit')
    page.wait_for_selector("body[data-ready=true] #editor-text .cm-content", timeout=30000)
    text = page.evaluate("window.podfenceEditor.text()")
    assert "name: redis-ingress" in text and "last-applied" not in text
    assert page.locator("#editor-save").is_disabled() and page.locator("#editor-download").is_enabled()
    type_in(page, text.replace("port: redis", "port: 6380"))
    page.wait_for_selector("#impact-list li.closed", timeout=30000)
    page.click("#editor-apply")
    done = page.locator('#editor-apply-result [data-outcome="applied"]')
    done.wait_for(timeout=30000)
    assert "NetworkPolicy data/redis-ingress configured" in done.inner_text()
    kept = stored(fleet, "prod", "data", "redis-ingress")
    assert kept is not None and kept["spec"]["ingress"][0]["ports"] == [{"port": 6380}]
    page.click('#editor-apply-result li[data-key="data/redis-ingress"] a')
    card = page.locator('section.policy[data-policy="data/redis-ingress"]')
    card.wait_for(timeout=30000)
    assert "6380" in card.inner_text()
    assert not page.script_errors


def test_no_apply_button_on_manifests_or_with_read_only(browser: Any, kubeconfig: Path) -> None:  # noqa: F811
    for args in (("-f", "examples/baa"), ("--kubeconfig", str(kubeconfig), "--context", "prod", "--read-only")):
        with ui_server(*args) as url:
            page = open_page(browser, url, "#/editor?new=1")
            page.wait_for_selector("#editor-save", timeout=30000)
            assert page.locator("#editor-apply").count() == 0, args
            assert page.locator("#editor-download").count() == 1
