"""podfence ui on several clusters: ``--context A --context B`` loads both, every answer is for the chosen one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from cli_support import ROOT, podfence
from ui_support import chromium, ui_server

EXAMPLE = "examples/baa"
DEBUG_POD = {"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": "debug", "namespace": "api", "labels": {"app": "debug"}},
             "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "busybox"}]},
             "status": {"phase": "Running", "podIP": "10.1.0.9"}}


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Two clusters of the API test server: prod holds the example, staging the example and one more pod."""
    from kubeapi import Fleet, User
    from live_support import manifests

    fleet = Fleet()
    try:
        fleet.cluster("prod", {"admin": User("admin")}).seed(manifests(ROOT / EXAMPLE))
        fleet.cluster("staging", {"admin": User("admin")}).seed([*manifests(ROOT / EXAMPLE), DEBUG_POD])
        fleet.context("prod", "prod", "admin")
        fleet.context("staging", "staging", "admin")
        yield fleet.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config", current="prod")
    finally:
        fleet.stop()


@pytest.fixture(scope="module")
def url(kubeconfig: Path) -> Iterator[str]:
    with ui_server("--kubeconfig", str(kubeconfig), "--context", "prod", "--context", "staging") as url:
        yield url


def pod_keys(url: str, **params: str) -> set[str]:
    got = httpx.get(f"{url}api/view", params=params, timeout=60)
    assert got.status_code == 200, got.text
    return {p["key"] for p in got.json()["pods"]}


def test_both_contexts_are_loaded_the_first_by_default(url: str) -> None:
    assert httpx.get(f"{url}api/contexts").json()["contexts"] == ["prod", "staging"]
    assert "api/debug" in pod_keys(url, context="staging")
    assert "api/debug" not in pod_keys(url, context="prod")
    assert pod_keys(url) == pod_keys(url, context="prod")


def test_every_answer_is_the_chosen_clusters(url: str, kubeconfig: Path) -> None:
    for context in ("prod", "staging"):
        live = ["--kubeconfig", str(kubeconfig), "--context", context]
        for path, params, command in (
            ("matrix", {"port": "8080"}, ["matrix", "--port", "8080"]),
            ("connectivity", {}, ["connectivity"]),
            ("lint", {}, ["lint"]),
        ):
            got = httpx.get(f"{url}api/{path}", params={**params, "context": context}, timeout=60)
            assert got.status_code == 200, got.text
            assert got.json() == json.loads(podfence(*command, *live, "-o", "json").stdout), (context, path)
        folded = httpx.get(f"{url}api/namespace-map", params={"context": context}).json()
        assert folded["workloads"] == len(pod_keys(url, context=context))


def test_an_unloaded_context_is_refused(url: str) -> None:
    got = httpx.get(f"{url}api/view", params={"context": "dev"})
    assert got.status_code == 400 and "context 'dev': not loaded" in got.json()["error"]


def test_the_page_switches_clusters_and_keeps_the_choice_in_the_url(url: str) -> None:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url + "#/matrix?port=8080&protocol=TCP")
        page.wait_for_selector("body[data-ready=true] #matrix-table", timeout=30000)
        assert page.locator("#context option").all_inner_texts() == ["prod", "staging"]
        assert page.locator("#context").input_value() == "prod"
        assert page.locator('#matrix-table td[data-src="api/debug"]').count() == 0
        page.select_option("#context", "staging")
        page.wait_for_url("**context=staging**", timeout=30000)
        page.wait_for_selector("body[data-ready=true] #matrix-table", timeout=30000)
        assert "#/matrix?port=8080" in page.url, "the view stays when the cluster changes"
        assert page.locator("#context").input_value() == "staging"
        assert page.locator('#matrix-table td[data-src="api/debug"]').count() > 0
        page.reload()
        page.wait_for_selector("body[data-ready=true] #matrix-table", timeout=30000)
        assert page.locator("#context").input_value() == "staging"
        assert page.locator('#matrix-table td[data-src="api/debug"]').count() > 0
