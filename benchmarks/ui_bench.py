"""Web UI benchmarks: the figures in docs/benchmarks.md, section "Web UI".

Usage (from the repository root, after ``make .venv/.installed-test``; needs Debian's
chromium at /usr/bin/chromium)::

    .venv/bin/python benchmarks/ui_bench.py [--repeat 5] [--skip-big]

Clusters come from benchmarks/generate.py (seed 1), written once under
benchmarks/out/ (as benchmarks/run.py writes them). Each run starts ``podfence ui``
afresh and drives the page in headless Chromium through Playwright:

* start to map: from starting the console script until the map view has drawn
  its graph (``body[data-ready=true]`` with ``window.podfenceMap`` holding nodes,
  and at namespace level the edges the page draws at rest); reported twice, from
  the launch and from the server being ready (the URL printed on stdout: the
  cluster is loaded and requests are accepted); on the 2,000-pod / 300-policy and
  the 20,000-pod / 3,000-policy clusters, whose maps start at namespace level;
* open a namespace: from asking for one namespace's workloads (``#/map?ns=NS&level=workload``)
  on a page already showing the namespace level, until they are drawn with their
  edges; the namespaces reaching the most others, a different one each time, so the
  server opens each afresh;
* edit to impact: in the editor, from replacing a loaded policy's text (a port
  number changed) until its validation and impact are shown (``#editor-status``
  says ``valid`` and ``#editor-impact`` holds the impact's heading); the 150 ms
  pause the editor waits for typing to stop is included.

Prints a Markdown table of medians and bests, with the machine's load average.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PODFENCE = Path(sys.executable).parent / "podfence"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 300_000

sys.path.insert(0, str(ROOT / "benchmarks"))
from run import cluster  # noqa: E402  (the same generated clusters as the engine benchmarks)


class Server:
    """``podfence ui -f PATH`` on a free port, stopped on exit."""

    def __init__(self, path: Path) -> None:
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([str(PODFENCE), "ui", "-f", str(path), "--port", "0", "--no-browser"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        self.listening = time.perf_counter()  # the cluster is loaded: the URL comes after it
        if not self.url.startswith("http://"):
            self.close()
            raise SystemExit(f"podfence ui printed no URL for {path}")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def map_ready(page: Any) -> None:
    page.wait_for_selector("body[data-ready=true]", timeout=TIMEOUT_MS)
    page.wait_for_function("window.podfenceMap && window.podfenceMap.nodes().length > 0", timeout=TIMEOUT_MS)


def start_to_map(browser: Any, path: Path) -> tuple[float, float, str]:
    """Seconds from starting ``podfence ui`` to the drawn map, seconds from the printed URL (the server
    ready) to the drawn map, and what was drawn."""
    with Server(path) as server:
        page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
        page.goto(server.url + "#/map", timeout=TIMEOUT_MS)
        map_ready(page)
        done = time.perf_counter()
        took, after_url = done - server.started, done - server.listening
        nodes = page.evaluate("window.podfenceMap.nodes('.ns-node').length")
        edges = page.evaluate("window.podfenceMap.edges().length")
        pairs = page.evaluate("window.podfenceMap.nodes('.ns-node').reduce((s, n) => "
                              "s + Object.keys(n.data('reaches') || {}).filter((k) => k.startsWith('ns:')).length, 0)")
        page.close()
    level = (f"namespace level: {nodes} namespaces, {edges} {'edge' if edges == 1 else 'edges'} drawn for "
             f"{pairs} namespace pairs" if nodes
             else f"workload level: {edges} edges")
    return took, after_url, level


def open_namespace(browser: Any, path: Path, repeat: int) -> tuple[list[float], str]:
    """Seconds from asking for one namespace's workloads (on a page at namespace level) until they are drawn:
    the ``repeat`` namespaces that reach the most others, one each, so the server opens each afresh."""
    took, pods, edges = [], [], []
    with Server(path) as server:
        for i in range(repeat):
            page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
            page.goto(server.url + "#/map", timeout=TIMEOUT_MS)
            map_ready(page)
            ns = page.evaluate("window.podfenceMap.nodes('.ns-node').map((n) => [n.id(), "
                               "Object.values(n.data('reaches') || {}).length]).sort((a, b) => b[1] - a[1] || "
                               f"(a[0] < b[0] ? -1 : 1))[{i}][0]")
            start = time.perf_counter()
            page.evaluate(f"location.hash = '#/map?ns={ns[3:]}&level=workload'")
            page.wait_for_function("location.hash.includes('level=workload') && document.body.dataset.ready === 'true'"
                                   " && window.podfenceMap.nodes('.pod').length > 0", timeout=TIMEOUT_MS)
            took.append(time.perf_counter() - start)
            drawn = page.evaluate("[window.podfenceMap.nodes('.pod').length, window.podfenceMap.edges().length]")
            pods.append(drawn[0])
            edges.append(drawn[1])
            page.close()
    return took, f"{len(took)} namespaces of {min(pods)}-{max(pods)} workloads, {min(edges)}-{max(edges)} edges drawn"


def edits_to_impact(browser: Any, path: Path, repeat: int) -> list[float]:
    """Seconds from an edit in the editor to its validation and impact shown, ``repeat`` edits."""
    with Server(path) as server:
        page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
        page.goto(server.url + "#/map", timeout=TIMEOUT_MS)
        map_ready(page)
        view = page.evaluate("fetch('/api/view').then((r) => r.json())")
        key, text = "", ""
        for p in view["policies"]:
            if p["kind"] != "NetworkPolicy":
                continue
            doc = page.evaluate(f"fetch('/api/document?kind=NetworkPolicy&key={p['key']}').then((r) => r.json())")
            if re.search(r"port: \d+", doc.get("text", "")):
                key, text = p["key"], doc["text"]
                break
        if not key:
            raise SystemExit("no NetworkPolicy with a numbered port to edit")
        page.goto(server.url + f"#/editor?kind=NetworkPolicy&key={key}", timeout=TIMEOUT_MS)
        page.wait_for_selector("body[data-ready=true] #editor-text .cm-content", timeout=TIMEOUT_MS)
        port = int(re.search(r"port: (\d+)", text).group(1))  # type: ignore[union-attr]
        took = []
        for i in range(repeat):
            page.fill("#editor-text .cm-content", text.replace("apiVersion:", "apiVersion: [", 1))
            page.wait_for_selector("#editor-errors .diagnostic.error", timeout=TIMEOUT_MS)
            edited = re.sub(r"port: \d+", f"port: {port + 1 + i}", text, count=1)
            start = time.perf_counter()
            page.fill("#editor-text .cm-content", edited)
            page.wait_for_function("document.getElementById('editor-status').textContent === 'valid' && "
                                   "document.querySelector('#editor-impact h3') !== null", timeout=TIMEOUT_MS)
            took.append(time.perf_counter() - start)
        page.close()
    return took


def row(what: str, cluster_name: str, runs: list[float], target: str, extra: str = "",
        after_url: list[float] | None = None) -> None:
    ready = f"{statistics.median(after_url):.2f} | {min(after_url):.2f}" if after_url else "| "
    print(f"| {what} | {cluster_name} | {statistics.median(runs):.2f} | {min(runs):.2f} | {ready} | {target} "
          f"| {extra} |")


def start_rows(browser: Any, path: Path, cluster_name: str, target: str, repeat: int) -> None:
    runs, ready, level = [], [], ""
    for _ in range(repeat):
        took, after_url, level = start_to_map(browser, path)
        runs.append(took)
        ready.append(after_url)
    row("start to map", cluster_name, runs, target, level, ready)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-big", action="store_true", help="leave out the 20,000-pod cluster")
    args = parser.parse_args()
    if not os.access(CHROMIUM, os.X_OK):
        raise SystemExit(f"needs {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
        print()
        print("| measure | cluster | from launch, median s | best s | from server ready, median s | best s | target "
              "| drawn |")
        print("|---|---|---|---|---|---|---|---|")
        mid = cluster("mid")
        start_rows(browser, mid, "2,000 pods / 300 policies", "< 3 s from ready", args.repeat)
        row("edit to validation and impact", "2,000 pods / 300 policies", edits_to_impact(browser, mid, args.repeat),
            "< 0.5 s")
        runs, drawn = open_namespace(browser, mid, args.repeat)
        row("open a namespace", "2,000 pods / 300 policies", runs, "", drawn)
        if not args.skip_big:
            big = cluster("big")
            start_rows(browser, big, "20,000 pods / 3,000 policies", "< 5 s from ready", args.repeat)
            runs, drawn = open_namespace(browser, big, args.repeat)
            row("open a namespace", "20,000 pods / 3,000 policies", runs, "", drawn)
        print()
        print(f"load average after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
        browser.close()


if __name__ == "__main__":
    main()
