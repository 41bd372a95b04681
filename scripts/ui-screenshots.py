"""Take the screenshots of podfence ui in docs/ui/ (Debian's chromium, through Playwright).

Run from the repository root: .venv/bin/python scripts/ui-screenshots.py [denials|apply]
(``denials`` or ``apply``: that picture alone). The Denials picture brings a lab up on the
example, so it needs root; without root it is skipped. The Apply picture serves the example
from the tests' API server (tests/kubeapi), one admission webhook refusing a policy.
"""

from __future__ import annotations

import os
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


LAB = "pfshot"


def denials_picture() -> None:
    """docs/ui/denials.png: the example in a lab, every pair probed on its declared ports, the denials listed."""
    if os.geteuid() != 0:
        print("docs/ui/denials.png: skipped (the lab needs root)")
        return
    tool = str(Path(sys.executable).parent / "podfence")
    state = tempfile.TemporaryDirectory()
    env = {**os.environ, "PODFENCE_LAB_STATE_DIR": state.name}
    subprocess.run([tool, "lab", "up", "-f", "examples/baa", "--name", LAB], cwd=ROOT, env=env, check=True)
    server = None
    try:
        subprocess.run([tool, "lab", "apply", "-f", "examples/baa", "--name", LAB], cwd=ROOT, env=env, check=True)
        server = subprocess.Popen([tool, "ui", "-f", "examples/baa", "--lab", LAB, "--port", "0", "--no-browser"],
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_page(viewport={"width": 1500, "height": 950})
            page.goto(url + "#/denials")
            page.wait_for_selector("body[data-ready=true]", timeout=30000)
            subprocess.run([tool, "lab", "probe", "--name", LAB], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
            page.wait_for_selector("#denials tbody tr", timeout=60000)
            page.wait_for_timeout(1500)  # the last records of the probe run
            page.screenshot(path=str(OUT / "denials.png"))
            print("docs/ui/denials.png")
            browser.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        subprocess.run([tool, "lab", "down", "--name", LAB], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        state.cleanup()


# The Apply picture: a new policy, and a second one the cluster's admission webhook refuses at its dry run.
APPLIED = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: postgres-from-backup
  namespace: data
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: postgres
  policyTypes:
    - Ingress
  ingress:
    - from:
        - ipBlock:
            cidr: 192.0.2.0/24
      ports:
        - port: 5432
"""
REFUSED = APPLIED.replace("postgres-from-backup", "redis-from-backup").replace("postgres", "redis").replace(
    "  namespace: data\n", "  namespace: data\n  annotations:\n    kubeapi.test/deny: every policy needs an owner label\n"
).replace("5432", "6379")


def apply_picture() -> None:
    """docs/ui/editor-apply.png: the example on a test API server, two policies applied, one refused."""
    sys.path.insert(0, str(ROOT / "tests"))
    from kubeapi import Fleet, User  # the tests' API server
    from live_support import manifests

    fleet = Fleet()
    scratch = tempfile.TemporaryDirectory()
    server = None
    try:
        fleet.cluster("prod", {"admin": User("admin")}).seed(manifests(ROOT / "examples" / "baa"))
        fleet.context("prod", "prod", "admin")
        kubeconfig = fleet.write_kubeconfig(Path(scratch.name) / "config", current="prod")
        server = subprocess.Popen([str(Path(sys.executable).parent / "podfence"), "ui", "--kubeconfig",
                                   str(kubeconfig), "--context", "prod", "--port", "0", "--no-browser"],
                                  cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_page(viewport={"width": 1500, "height": 950})
            page.goto(url + "#/editor?new=1")
            page.wait_for_selector("body[data-ready=true]", timeout=30000)
            page.click("#block-forms summary")  # folded, so the editor and the answer show
            page.fill("#editor-text .cm-content", APPLIED + "---\n" + REFUSED)
            page.wait_for_selector("#impact-list li.opened", timeout=30000)
            page.click("#editor-apply")
            page.wait_for_selector("#editor-apply-result [data-outcome]", timeout=30000)
            page.wait_for_timeout(300)
            page.screenshot(path=str(OUT / "editor-apply.png"))
            print("docs/ui/editor-apply.png")
            browser.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        fleet.stop()
        scratch.cleanup()


def main() -> None:
    if sys.argv[1:] == ["denials"]:
        OUT.mkdir(parents=True, exist_ok=True)
        denials_picture()
        return
    if sys.argv[1:] == ["apply"]:
        OUT.mkdir(parents=True, exist_ok=True)
        apply_picture()
        return
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
    apply_picture()
    denials_picture()


if __name__ == "__main__":
    main()
