"""Take the screenshots of podfence ui in docs/ui/ (Debian's chromium, through Playwright).

Run from the repository root: .venv/bin/python scripts/ui-screenshots.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
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
    "editor": "#/editor?kind=NetworkPolicy&key=api/api-server-ingress",
    "editor-error": "#/editor?kind=NetworkPolicy&key=api/api-server-ingress",
}
# The Changes view runs on a copy of the example in a git repository of its own, with one commit of edits.
CHANGES = "#/changes?base=HEAD~1"
# An edit typed into the editor before its picture: (find, replace) on the loaded text.
EDITS = {
    "editor": ("app.kubernetes.io/name: edge-proxy", "app.kubernetes.io/name: edge-proxy\n"
               "        - ipBlock:\n            cidr: 192.0.2.0/24"),
    "editor-error": ("- port: http", "- port: 99999"),
}


def serve(cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([str(Path(sys.executable).parent / "podfence"), "ui", "-f", "examples/baa",
                             "--port", "0", "--no-browser"], cwd=cwd, stdout=subprocess.PIPE, text=True)


def edited_repository(folder: Path) -> Path:
    """A git repository holding the example, then a commit that opens and closes a few connections."""
    shutil.copytree(ROOT / "examples" / "baa", folder / "examples" / "baa")
    git = ["git", "-c", "user.name=podfence", "-c", "user.email=podfence@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=folder, check=True)
    subprocess.run([*git, "add", "."], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "example"], cwd=folder, check=True)
    api = folder / "examples/baa/policies/api.yaml"
    old, new = EDITS["editor"]
    # the edge proxy loses the API (its label no longer matches), 192.0.2.0/24 gains it
    api.write_text(api.read_text().replace(old, new, 1).replace("name: edge-proxy\n", "name: edge-proxy-v2\n", 1))
    (folder / "examples/baa/policies/open-data.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: open-data, namespace: data}\n"
        "spec: {podSelector: {matchLabels: {app.kubernetes.io/name: redis}}, policyTypes: [Ingress], "
        "ingress: [{}]}\n")
    subprocess.run([*git, "add", "."], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "edits"], cwd=folder, check=True)
    return folder


def main() -> None:
    server = serve(ROOT)
    scratch = tempfile.TemporaryDirectory()
    changes = serve(edited_repository(Path(scratch.name)))
    try:
        assert server.stdout is not None and changes.stdout is not None
        url = server.stdout.readline().strip()
        changes_url = changes.stdout.readline().strip()
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_page(viewport={"width": 1500, "height": 950})
            for name, fragment in [*VIEWS.items(), ("changes", CHANGES)]:
                if name == "changes":
                    url = changes_url
                page.goto("about:blank")  # a fresh page each time, not a hash change
                page.goto(url + fragment)
                page.wait_for_selector("body[data-ready=true]", timeout=30000)
                if name in EDITS:
                    old, new = EDITS[name]
                    page.fill("#editor-text .cm-content", page.evaluate("window.podfenceEditor.text()").replace(old, new, 1))
                    page.wait_for_selector("#impact-list, #editor-errors .diagnostic", timeout=30000)
                page.wait_for_timeout(300)  # the graph's last frame
                page.screenshot(path=str(OUT / f"{name}.png"))
                print(f"docs/ui/{name}.png")
            browser.close()
    finally:
        for proc in (server, changes):
            proc.terminate()
            proc.wait()
        scratch.cleanup()


if __name__ == "__main__":
    main()
