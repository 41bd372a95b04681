"""Take the screenshots of podfence ui in docs/ui/ (Debian's chromium, through Playwright).

Run from the repository root: .venv/bin/python scripts/ui-screenshots.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "ui"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWS = {
    "map": "#/map",
    "map-edge": "#/map?edge=gateway/edge-proxy%20api/api-server",
    "map-node": "#/map?node=data/postgres",
    "matrix": "#/matrix?port=8080&protocol=TCP&level=workload",
    "matrix-namespaces": "#/matrix?port=8080&protocol=TCP&level=namespace",
    "explain": "#/explain?from=api/api-server&to=data/postgres&port=5432&protocol=TCP",
    "policies": "#/policies?policy=billing/billing-api-ingress&rule=NP208",
}


def main() -> None:
    server = subprocess.Popen([str(Path(sys.executable).parent / "podfence"), "ui", "-f", "examples/baa",
                               "--port", "0", "--no-browser"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_page(viewport={"width": 1500, "height": 950})
            for name, fragment in VIEWS.items():
                page.goto(url + fragment)
                page.wait_for_selector("body[data-ready=true]", timeout=30000)
                page.wait_for_timeout(300)  # the graph's last frame
                page.screenshot(path=str(OUT / f"{name}.png"))
                print(f"docs/ui/{name}.png")
            browser.close()
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
