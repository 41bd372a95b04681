"""Web UI benchmarks: the figures in docs/benchmarks.md, section "Web UI".

Usage (from the repository root, after ``make .venv/.installed-test``; needs Debian's
chromium at /usr/bin/chromium)::

    .venv/bin/python benchmarks/ui_bench.py [--repeat 5] [--skip-big]

Clusters come from benchmarks/generate.py (seed 1), written once under
benchmarks/out/ (as benchmarks/run.py writes them). Each run starts ``podfence ui``
afresh and drives the page in headless Chromium through Playwright:

* start to map: from starting the console script until the map view has drawn
  its graph (``body[data-ready=true]`` with ``window.podfenceMap`` holding nodes);
  on the 2,000-pod / 300-policy and the 20,000-pod / 3,000-policy clusters, whose
  maps start at namespace level;
* edit to impact: in the editor, from replacing a loaded policy's text (a port
  number changed) until its validation and impact are shown (``#editor-status``
  says ``valid`` and ``#editor-impact`` holds the impact's heading); the 150 ms
  pause the editor waits for typing to stop is included.

Prints a Markdown table of medians and bests.
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
from typing import Any, Callable

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


def start_to_map(browser: Any, path: Path) -> tuple[float, str]:
    """Seconds from starting ``podfence ui`` to the drawn map, and the level it was drawn at (with the seconds
    from the printed URL to the drawn map: computing the connectivity, folding it, drawing it)."""
    with Server(path) as server:
        page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
        page.goto(server.url + "#/map", timeout=TIMEOUT_MS)
        map_ready(page)
        took, after_url = time.perf_counter() - server.started, time.perf_counter() - server.listening
        nodes = page.evaluate("window.podfenceMap.nodes('.ns-node').length")
        edges = page.evaluate("window.podfenceMap.edges().length")
        page.close()
    level = f"namespace level: {nodes} namespaces, {edges} edges" if nodes else f"workload level: {edges} edges"
    return took, f"{level}; {after_url:.2f} s of it after the URL"


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


def row(what: str, cluster_name: str, runs: list[float], target: str, extra: str = "") -> None:
    print(f"| {what} | {cluster_name} | {statistics.median(runs):.2f} | {min(runs):.2f} | {target} | {extra} |")


def repeated(repeat: int, measure: Callable[[], tuple[float, str]]) -> tuple[list[float], str]:
    runs, level = [], ""
    for _ in range(repeat):
        took, level = measure()
        runs.append(took)
    return runs, level


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
        print("| measure | cluster | median s | best s | target | drawn |")
        print("|---|---|---|---|---|---|")
        mid = cluster("mid")
        runs, level = repeated(args.repeat, lambda: start_to_map(browser, mid))
        row("start to map", "2,000 pods / 300 policies", runs, "< 3 s", level)
        row("edit to validation and impact", "2,000 pods / 300 policies", edits_to_impact(browser, mid, args.repeat),
            "< 0.5 s")
        if not args.skip_big:
            big = cluster("big")
            runs, level = repeated(args.repeat, lambda: start_to_map(browser, big))
            row("start to map", "20,000 pods / 3,000 policies", runs, "< 5 s", level)
        browser.close()


if __name__ == "__main__":
    main()
