"""podfence ui in real Chromium (Debian's, driven by Playwright): what the page shows is the engine's answer.

Skipped without /usr/bin/chromium, unless PODFENCE_REQUIRE_LAB=1 (CI installs it, then these must run).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

from cli_support import podfence
from ui_support import chromium, playwright_api, namespaces_cluster, ui_server

EXAMPLE = "examples/baa"

playwright_api()  # skips the module without Debian's chromium (fails under PODFENCE_REQUIRE_LAB=1)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


class Page:
    """A page that records every request it makes, every dialog and every script error."""

    def __init__(self, browser: object, url: str, bypass_csp: bool = False) -> None:
        self.url = url  # bypass_csp: for waits that poll a script (the CSP forbids evaluating one)
        self.page = browser.new_page(viewport={"width": 1400, "height": 900},  # type: ignore[attr-defined]
                                     bypass_csp=bypass_csp)
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, fragment: str) -> object:
        self.page.goto(self.url + fragment)
        self.page.wait_for_selector("body[data-ready=true]", timeout=30000)
        return self.page


@pytest.fixture(scope="module")
def example_url() -> Iterator[str]:
    with ui_server("-f", EXAMPLE) as url:
        yield url


def test_a_matrix_cell_is_the_engines(browser: object, example_url: str) -> None:
    page = Page(browser, example_url).open("#/matrix?port=8080&protocol=TCP")
    cells = {("gateway/edge-proxy", "api/api-server"), ("api/api-server", "gateway/edge-proxy"),
             ("api/api-server", "billing/billing-api"), ("billing/invoicer", "data/postgres")}
    import json
    engine = json.loads(podfence("matrix", "-f", EXAMPLE, "--port", "8080", "-o", "json").stdout)["allowed"]
    for src, dst in cells:
        cell = page.locator(f'td[data-src="{src}"][data-dst="{dst}"]')
        assert cell.get_attribute("data-allowed") == str(dst in engine.get(src, [])).lower()
        assert ("denied" in cell.inner_text()) == (dst not in engine.get(src, []))
    assert page.locator("#matrix-table tbody tr").count() == len(engine) or page.locator(
        "#matrix-table tbody tr").count() == len(json.loads(podfence("matrix", "-f", EXAMPLE, "--port", "8080", "-o",
                                                                  "json").stdout)["pods"])


def test_clicking_an_edge_shows_the_policy_and_rule(browser: object, example_url: str) -> None:
    page = Page(browser, example_url).open("#/map")
    page.wait_for_function("window.podfenceMap && window.podfenceMap.edges().length > 0")
    page.evaluate("window.podfenceMap.getElementById('gateway/edge-proxy\\u0000api/api-server').emit('tap')")
    row = page.locator('.policies-involved tr[data-policy="api/api-server-ingress"][data-side="ingress"]')
    row.wait_for(timeout=30000)
    assert "spec.ingress[0]" in row.inner_text() and "allows" in row.inner_text()
    egress = page.locator('.policies-involved tr[data-policy="gateway/edge-proxy-egress"]').first
    assert "spec.egress[0]" in egress.inner_text()
    assert page.locator("[data-verdict]").first.get_attribute("data-verdict") == "allowed"
    assert "edge=" in page.url  # the selection is in the URL: shareable, and the back button returns from it
    page.go_back()
    page.wait_for_function("!location.hash.includes('edge=')")


def test_the_same_input_gives_the_same_positions(browser: object, example_url: str) -> None:
    script = "JSON.stringify(window.podfenceMap.nodes().map(n => [n.id(), n.position()]))"
    first = Page(browser, example_url).open("#/map")
    first.wait_for_function("window.podfenceMap && window.podfenceMap.nodes().length > 0")
    second = Page(browser, example_url).open("#/map")
    second.wait_for_function("window.podfenceMap && window.podfenceMap.nodes().length > 0")
    assert first.evaluate(script) == second.evaluate(script)


@pytest.mark.parametrize("src, dst, port, verdict", [
    ("gateway/edge-proxy", "api/api-server", "8080", "allowed"),
    ("api/api-server", "data/postgres", "5432", "denied"),
])
def test_the_explain_form_gives_the_engines_verdict(browser: object, example_url: str, src: str, dst: str,
                                                    port: str, verdict: str) -> None:
    import json
    engine = json.loads(podfence("explain", "-f", EXAMPLE, "--from", src, "--to", dst, "--port", port,
                                 "-o", "json").stdout)
    assert ("allowed" if engine["allowed"] else "denied") == verdict
    page = Page(browser, example_url).open("#/explain")
    page.fill("#explain-from", src)
    page.fill("#explain-to", dst)
    page.fill("#explain-port", port)
    page.click("#explain-form button[type=submit]")
    page.wait_for_selector("#explain-result [data-verdict]", timeout=30000)
    assert page.locator("#explain-result [data-verdict]").get_attribute("data-verdict") == verdict


HOSTILE = '"><img src=x onerror="window.__pwned=1;alert(1)"><script>window.__pwned=1;alert(2)</script>'


def hostile_cluster(folder: Path) -> Path:
    folder.mkdir()
    name = folder / '"><img src=x onerror=alert(3)>.yaml'
    name.write_text(f"""apiVersion: v1
kind: Namespace
metadata:
  name: shop
  annotations: {{note: {HOSTILE!r}}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations: {{description: {HOSTILE!r}}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata:
      labels: {{app: web}}
      annotations: {{example.com/note: {HOSTILE!r}}}
    spec: {{containers: [{{name: c, image: "nginx:<script>alert(5)</script>"}}]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  namespace: shop
  annotations: {{evil: {HOSTILE!r}}}
spec:
  podSelector: {{matchLabels: {{app: web}}}}
  ingress:
  - from: [{{podSelector: {{matchLabels: {{app: web}}}}}}]
""")
    return folder


def test_hostile_strings_never_run_a_script(browser: object, tmp_path: Path) -> None:
    with ui_server("-f", str(hostile_cluster(tmp_path / "hostile"))) as url:
        page = Page(browser, url)
        for fragment in ("#/map?node=shop/web", "#/policies?policy=shop/web", "#/matrix?port=80&level=workload",
                         "#/explain?from=shop/web&to=shop/web&port=80", "#/map?q=%3Cscript%3E",
                         "#/policies?rule=%3Cimg%20src%3Dx%20onerror%3Dalert(6)%3E"):
            shown = page.open(fragment)
            assert shown.evaluate("window.__pwned") is None
        shown = page.open("#/map?node=shop/web")
        assert "window.__pwned=1" in shown.inner_text("#side")  # shown as text, not run
        assert shown.locator("#side img, #side script").count() == 0
        assert page.dialogs == [] and page.errors == []


def test_no_request_leaves_the_loopback_host(browser: object, example_url: str) -> None:
    page = Page(browser, example_url)
    for fragment in ("#/map", "#/map?edge=gateway/edge-proxy%20api/api-server", "#/matrix?port=8080",
                     "#/explain?from=gateway/edge-proxy&to=api/api-server&port=8080", "#/policies?rule=NP208"):
        page.open(fragment)
    hosts = {urlsplit(u).hostname for u in page.requests if not u.startswith("data:")}
    assert hosts == {"127.0.0.1"}, hosts
    assert page.errors == []


def test_a_cross_origin_post_from_another_page_is_refused(browser: object, example_url: str) -> None:
    """A page of another site posts a form to the API (the classic cross-site request): 403."""
    page = Page(browser, example_url).page
    attacker = f"""<!doctype html><form method="post" action="{example_url}api/validate" enctype="text/plain">
        <input name="kind: Pod" value=""></form><script>document.forms[0].submit()</script>"""
    page.route("http://attacker.test/", lambda route: route.fulfill(status=200, content_type="text/html",
                                                                    body=attacker))
    with page.expect_response(lambda r: r.url.endswith("/api/validate")) as answer:
        page.goto("http://attacker.test/")
    assert answer.value.status == 403
    assert "cross-origin" in answer.value.text()


def test_the_namespace_level_opens_a_namespace(browser: object, example_url: str) -> None:
    page = Page(browser, example_url).open("#/map?level=namespace")
    page.wait_for_function("window.podfenceMap && window.podfenceMap.nodes('.ns-node').length > 0")
    shown = page.evaluate("window.podfenceMap.nodes('.ns-node').map(n => n.data('label').split(' ')[0]).sort()")
    import json
    pods = json.loads(podfence("matrix", "-f", EXAMPLE, "--port", "80", "-o", "json").stdout)["pods"]
    assert set(shown) >= {p.split("/")[0] for p in pods}
    page.evaluate("window.podfenceMap.getElementById('ns:billing').emit('tap')")  # chooses it
    page.wait_for_selector("#side a.open-namespace", timeout=30000)
    assert "chosen=billing" in page.url
    page.click("#side a.open-namespace")
    page.wait_for_function("location.hash.includes('ns=billing') && location.hash.includes('level=workload')")


def test_a_policy_highlights_what_it_selects(browser: object, example_url: str) -> None:
    page = Page(browser, example_url).open("#/map?policy=billing/billing-to-postgres")
    page.wait_for_function("window.podfenceMap && window.podfenceMap.nodes().length > 0")
    highlighted = page.evaluate("window.podfenceMap.nodes('.selected').map(n => n.id()).sort()")
    assert highlighted == ["billing/billing-api", "billing/billing-report", "billing/invoicer"]


def test_the_namespace_level_draws_the_servers_fold(browser: object, example_url: str) -> None:
    """Every namespace pair of the fold is drawn once: as its own edge, or by the "every namespace" node."""
    import httpx

    opened = Page(browser, example_url)
    page = opened.open("#/map?level=namespace")
    page.wait_for_function("window.podfenceMap && window.podfenceMap.nodes('.ns-node').length > 0")
    drawn = page.evaluate("window.podfenceMap.edges().map(e => [e.data('source'), e.data('target'), e.data('label')])")
    folded = httpx.get(f"{example_url}api/namespace-map").json()
    want = {(e["src"], e["dst"]): e["count"] for e in folded["edges"] if e["src"] != e["dst"]}
    populated = {e.removeprefix("ns:") for pair in want for e in pair if e.startswith("ns:")}
    assert folded["reached_by_all"] == ["kube-system"] and folded["reaching_all"] == ["monitoring"]  # DNS, scraping
    every = "every:namespace"
    by_every = {("ns:" + a, "ns:" + b) for b in folded["reached_by_all"] for a in populated - {b}} | {
        ("ns:" + a, "ns:" + b) for a in folded["reaching_all"] for b in populated - {a}}
    own = {(s, d): int(label.split(": ")[-1].split(" ")[0]) for s, d, label in drawn if every not in (s, d)}
    assert set(own) | by_every == set(want) and not set(own) & by_every  # each pair once
    assert all(want[pair] == n for pair, n in own.items())
    assert sorted((s, d) for s, d, _ in drawn if every in (s, d)) == sorted(
        [(every, "ns:kube-system"), ("ns:monitoring", every)])
    assert all(label.startswith(f"{s.removeprefix('ns:')} → ") for s, _, label in drawn if s.startswith("ns:"))
    node = "window.podfenceMap.getElementById('ns:api').data('reaches')"  # every pair stays in the page's data
    assert page.evaluate(node) == {d: n for (s, d), n in want.items() if s == "ns:api"}
    assert not any("/api/view" in r for r in opened.requests), "the namespace level needs no workload view"


@pytest.fixture(scope="module")
def large_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with ui_server("-f", str(namespaces_cluster(tmp_path_factory.mktemp("namespaces")))) as url:
        yield url


def test_a_namespace_opened_at_namespace_level_shows_its_workloads_and_edges(browser: object, large_url: str) -> None:
    """600 workloads: the map starts at namespace level; db, opened, shows its own workloads and what reaches
    them per namespace, from its own view (ui_support.namespaces_cluster says what is known)."""
    opened = Page(browser, large_url, bypass_csp=True)
    page = opened.open("#/map")
    page.wait_for_function("window.podfenceMap && window.podfenceMap.nodes('.ns-node').length > 0")
    reaches = "window.podfenceMap.getElementById('{}').data('reaches')"
    assert page.evaluate(reaches.format("ns:web"))["ns:db"] == 6  # a known pair is connected
    assert "ns:db" not in page.evaluate(reaches.format("ns:batch"))  # and a known one is not
    from_every = page.evaluate("window.podfenceMap.getElementById('every:namespace').outgoers('node')"
                               ".map(n => n.id()).sort()")
    assert from_every == ["ns:open", "ns:web"]
    page.evaluate("window.podfenceMap.getElementById('ns:db').emit('tap')")
    page.wait_for_selector("#side a.open-namespace", timeout=30000)
    assert "web: 6 connections" in page.inner_text("#side")
    page.click("#side a.open-namespace")
    page.wait_for_function("location.hash.includes('ns=db') && document.body.dataset.ready === 'true' && "
                           "window.podfenceMap.nodes('.pod').length > 0", timeout=30000)
    assert page.evaluate("window.podfenceMap.nodes('.pod').map(n => n.id()).sort()") == [
        "db/db-0", "db/db-1", "db/db-2"]
    edges = page.evaluate("window.podfenceMap.edges().map(e => [e.data('source'), e.data('target'), "
                          "e.data('count') || 0])")
    pods = [f"db/db-{i}" for i in range(3)]
    folded = {(s, d, n) for s, d, n in edges if n}
    assert folded == {("ns:web", p, 2) for p in pods} | {(p, ns, 2) for p in pods for ns in ("ns:web", "ns:open")}
    assert not any(s in pods and d in pods for s, d, _ in edges)  # db admits web alone, not its own pods
    assert page.evaluate("window.podfenceMap.nodes('.peer').map(n => n.id()).sort()") == ["ns:open", "ns:web"]
    assert any("/api/namespace-view" in r for r in opened.requests)
    assert not any("/api/view" in r for r in opened.requests), "one namespace needs no whole workload view"
    assert opened.errors == []


def test_policies_and_explain_of_a_large_cluster_need_no_workload_view(browser: object, large_url: str) -> None:
    opened = Page(browser, large_url)
    page = opened.open("#/policies?policy=db/from-web")
    page.wait_for_selector("section[data-policy='db/from-web']", timeout=30000)
    assert "Selects: db/db-0, db/db-1, db/db-2" in page.inner_text("section[data-policy='db/from-web']")
    page = opened.open("#/explain?from=web/web-0&to=db/db-0&port=80")
    page.wait_for_function("document.getElementById('explain-result').textContent.includes('db/from-web')",
                           timeout=30000)
    assert page.locator("#endpoints option[value='db/db-0']").count() == 1
    assert not any("/api/view" in r for r in opened.requests), "a list of pods and policies needs no edges"
    assert opened.errors == []


def test_without_a_lab_the_denials_view_says_how_to_start_one(browser: object, example_url: str) -> None:
    page = Page(browser, example_url)
    shown = page.open("#/denials")
    text = shown.locator("#denials-off").inner_text()  # type: ignore[attr-defined]
    assert "podfence ui -f MANIFESTS --lab NAME" in text and "podfence lab up" in text
    assert not any(r.endswith("/api/denials") for r in page.requests)  # no stream is opened
    assert page.errors == []
