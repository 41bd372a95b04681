"""Running ``podfence ui`` as a user would: the console script on a free port, its URL from stdout's first line."""

from __future__ import annotations

import os
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

from cli_support import PODFENCE, ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def playwright_api() -> Any:
    """Playwright's sync API, for Debian's chromium. Without the browser the calling test (or module, at
    import) is skipped with the reason, except under PODFENCE_REQUIRE_LAB=1, where it must run: a failure."""
    if not CHROMIUM.exists() or not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("PODFENCE_REQUIRE_LAB") == "1":
            pytest.fail("PODFENCE_REQUIRE_LAB=1 but /usr/bin/chromium is missing (apt-get install chromium)",
                        pytrace=False)
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
                    allow_module_level=True)
    return pytest.importorskip("playwright.sync_api", reason="needs the playwright package (the test extra)")


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium, headless, driven by Playwright; closed when the block ends."""
    with playwright_api().sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def ui_server(*args: str, cwd: Path | None = None) -> Iterator[str]:
    """The URL of a running ``podfence ui ARGS --port 0 --no-browser``; stopped when the block ends."""
    proc = subprocess.Popen([str(PODFENCE), "ui", *args, "--port", "0", "--no-browser"], cwd=cwd or ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PODFENCE_DEBUG": ""})
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://"), f"no URL on the first line; stderr: {proc.stderr.read() if proc.stderr else ''}"
        _wait_listening(url)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_listening(url: str) -> None:
    import httpx

    for _ in range(200):
        try:
            httpx.get(url.split("?")[0] + "api/contexts", timeout=5)  # any answer, even 403, means it listens
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"{url} never answered")


def namespaces_cluster(folder: Path) -> Path:
    """600 workloads (enough for the map to start at namespace level) whose namespace pairs are known:

    * ``web`` (2 workloads) reaches ``db`` (3), which admits nothing else (and none of its own);
    * ``open`` (2) has no policy: every other namespace reaches it;
    * ``quiet`` (2) admits nothing from pods, only 198.51.100.0/24;
    * ``batch`` (591) admits nothing: it reaches ``web`` and ``open`` but is never reached.
    """
    folder.mkdir(parents=True, exist_ok=True)
    docs = []
    for ns, count in (("web", 2), ("db", 3), ("open", 2), ("quiet", 2), ("batch", 591)):
        docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n")
        for i in range(count):
            docs.append(f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {ns}-{i}, namespace: {ns}}}\n"
                        f"spec:\n  selector: {{matchLabels: {{app: {ns}}}}}\n  template:\n"
                        f"    metadata: {{labels: {{app: {ns}, n: '{i}'}}}}\n"
                        f"    spec: {{containers: [{{name: c, image: x, ports: [{{containerPort: 80}}]}}]}}\n")
    docs.append("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: from-web, namespace: db}\n"
                "spec:\n  podSelector: {}\n  ingress:\n"
                "  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: web}}}]\n")
    docs.append("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                "metadata: {name: outside-only, namespace: quiet}\n"
                "spec:\n  podSelector: {}\n  ingress:\n  - from: [{ipBlock: {cidr: 198.51.100.0/24}}]\n")
    docs.append("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-in, namespace: batch}\n"
                "spec: {podSelector: {}, policyTypes: [Ingress]}\n")
    path = folder / "cluster.yaml"
    path.write_text("---\n".join(docs), encoding="utf-8")
    return path
