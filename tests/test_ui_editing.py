"""podfence ui's editor API: impact is diff's answer for the edit, Save touches one document only and
stays inside the loaded paths, the Changes view is ``diff --base``, the forms are ``generate``'s blocks."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from cli_support import ROOT, podfence
from ui_support import ui_server

EXAMPLE = ROOT / "examples/baa"
API_FILE = "policies/api.yaml"
OLD_INGRESS = """          podSelector:
            matchLabels:
              app.kubernetes.io/name: edge-proxy
      ports:
        - port: http
"""
# The API server's ingress edited: from 192.0.2.0/24 on port http, instead of from the edge proxy.
EDITED_INGRESS = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api-server-ingress
  namespace: api
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: api-server
  policyTypes:
    - Ingress
  ingress:
    - from:
        - ipBlock:
            cidr: 192.0.2.0/24
      ports:
        - port: http
"""
NEW_OPEN = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: open-data, namespace: data}
spec: {podSelector: {}, policyTypes: [Ingress], ingress: [{}]}
"""


def csrf_headers(url: str) -> dict[str, str]:
    page = httpx.get(url)
    csrf = page.text.split('name="podfence-csrf" content="', 1)[1].split('"', 1)[0]
    return {"Origin": url.rstrip("/"), "X-Podfence-CSRF": csrf, "Content-Type": "application/yaml"}


def post(url: str, path: str, body: str, params: dict[str, str] | None = None, **headers: str) -> httpx.Response:
    return httpx.post(f"{url}api/{path}", params=params, content=body.encode(),
                      headers={**csrf_headers(url), **headers}, timeout=60)


def the_ingress_document(text: str) -> str:
    """The api-server-ingress document of api.yaml, as the file spells it (first key to last value)."""
    start = text.index("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: api-server-ingress")
    end = text.index(OLD_INGRESS, start) + len(OLD_INGRESS) - 1
    return text[start:end]


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    folder = tmp_path / "baa"
    shutil.copytree(EXAMPLE, folder)
    return folder


@pytest.fixture(scope="module")
def example_url() -> Iterator[str]:
    with ui_server("-f", "examples/baa") as url:
        yield url


def diff_json(old: Path, new: Path) -> str:
    done = podfence("diff", str(old), str(new), "-o", "json")
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def test_impact_of_an_edited_policy_is_diffs_answer(example_url: str, tmp_path: Path) -> None:
    new = tmp_path / "new"
    shutil.copytree(EXAMPLE, new)
    text = (new / API_FILE).read_text()
    (new / API_FILE).write_text(text.replace(the_ingress_document(text), EDITED_INGRESS.rstrip("\n")))
    got = post(example_url, "impact", EDITED_INGRESS, {"replaces": "api/api-server-ingress"})
    assert got.status_code == 200, got.text
    assert got.text == diff_json(EXAMPLE, new)
    changes = {(c["src"], c["dst"]): c for c in got.json()["changes"]}
    assert "removed" in changes[("gateway/edge-proxy", "api/api-server")]
    assert changes[("192.0.2.0/24", "api/api-server")]["added"] == {"TCP": [[8080, 8080]]}


def test_impact_of_a_new_policy_is_diffs_answer(example_url: str, tmp_path: Path) -> None:
    new = tmp_path / "new"
    shutil.copytree(EXAMPLE, new)
    (new / "policies/open.yaml").write_text(NEW_OPEN)
    got = post(example_url, "impact", NEW_OPEN)
    assert got.status_code == 200, got.text
    assert got.text == diff_json(EXAMPLE, new)
    assert got.json()["summary"]["added"] > 0 and got.json()["summary"]["removed"] == 0


def test_impact_leaves_the_loaded_cluster_as_it_was(example_url: str) -> None:
    first = post(example_url, "impact", NEW_OPEN).text
    post(example_url, "impact", EDITED_INGRESS, {"replaces": "api/api-server-ingress"})
    assert post(example_url, "impact", NEW_OPEN).text == first
    assert httpx.get(f"{example_url}api/connectivity").text == podfence(
        "connectivity", "-f", "examples/baa", "-o", "json").stdout


def test_an_invalid_edit_has_no_impact_but_its_error(example_url: str) -> None:
    got = post(example_url, "impact", EDITED_INGRESS.replace("port: http", "port: 99999"))
    assert got.status_code == 400
    assert "spec.ingress[0].ports[0].port" in got.json()["error"] and ":17:" in got.json()["error"]


def test_save_replaces_one_document_and_keeps_every_other_byte(copy: Path) -> None:
    before = (copy / API_FILE).read_text()
    with ui_server("-f", str(copy)) as url:
        got = post(url, "save", EDITED_INGRESS, {"file": str(copy / API_FILE), "kind": "NetworkPolicy",
                                                 "key": "api/api-server-ingress"})
        assert got.status_code == 200, got.text
        after = (copy / API_FILE).read_text()
        old_doc = the_ingress_document(before)
        start = before.index(old_doc)
        assert after[:start] == before[:start]  # the leading comment and nothing else before it
        assert after[start:start + len(EDITED_INGRESS) - 1] == EDITED_INGRESS.rstrip("\n")
        assert after[start + len(EDITED_INGRESS) - 1:] == before[start + len(old_doc):]
        assert not [p.name for p in copy.rglob("*") if p.name.startswith(".") or p.name.endswith(".tmp")]
        # The workspace reloaded: its answers are those of the saved files.
        assert httpx.get(f"{url}api/connectivity").text == podfence(
            "connectivity", "-f", str(copy), "-o", "json").stdout


def test_save_writes_a_new_file_under_a_loaded_directory_only_once(copy: Path) -> None:
    with ui_server("-f", str(copy)) as url:
        got = post(url, "save", NEW_OPEN, {"file": str(copy / "policies/open.yaml")})
        assert got.status_code == 200, got.text
        assert got.json()["policies"] == [{"kind": "NetworkPolicy", "key": "data/open-data"}]
        assert (copy / "policies/open.yaml").read_text() == NEW_OPEN
        again = post(url, "save", NEW_OPEN, {"file": str(copy / "policies/open.yaml")})
        assert again.status_code == 400 and "exists" in again.json()["error"]
        assert "data/open-data" in [p["key"] for p in httpx.get(f"{url}api/view").json()["policies"]]


def test_save_stays_inside_the_loaded_paths(copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (copy / "escape").symlink_to(outside)
    (copy / "link.yaml").symlink_to(copy / API_FILE)
    with ui_server("-f", str(copy)) as url:
        for file in (str(tmp_path / "x.yaml"), str(copy / "../x.yaml"), str(copy / "escape/x.yaml"),
                     str(copy / "link.yaml"), "/etc/passwd"):
            got = post(url, "save", NEW_OPEN, {"file": file})
            assert got.status_code == 400, file
        got = post(url, "save", NEW_OPEN.replace("{podSelector: {}", "{podSelector: 3"),
                   {"file": str(copy / "policies/bad.yaml")})
        assert got.status_code == 400 and "errors" in got.json()["error"]
    assert not list(outside.iterdir()) and not (tmp_path / "x.yaml").exists()
    assert not (copy / "policies/bad.yaml").exists()


def test_save_needs_the_token_the_origin_and_no_read_only(copy: Path) -> None:
    before = (copy / API_FILE).read_bytes()
    params = {"file": str(copy / API_FILE), "kind": "NetworkPolicy", "key": "api/api-server-ingress"}
    with ui_server("-f", str(copy)) as url:
        assert post(url, "save", EDITED_INGRESS, params, Origin="http://evil.example").status_code == 403
        assert post(url, "save", EDITED_INGRESS, params, **{"X-Podfence-CSRF": "guess"}).status_code == 403
        assert httpx.post(f"{url}api/save", params=params, content=EDITED_INGRESS.encode()).status_code == 403
    with ui_server("-f", str(copy), "--read-only") as url:
        got = post(url, "save", EDITED_INGRESS, params)
        assert got.status_code == 403 and "read-only" in got.text
    assert (copy / API_FILE).read_bytes() == before


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True,
                   capture_output=True)


def test_changes_are_diff_against_a_revision(copy: Path) -> None:
    git(copy, "init", "-q")
    git(copy, "add", ".")
    git(copy, "commit", "-q", "-m", "base")
    text = (copy / API_FILE).read_text()
    (copy / API_FILE).write_text(text.replace(the_ingress_document(text), EDITED_INGRESS.rstrip("\n")))
    with ui_server("-f", ".", cwd=copy) as url:
        got = httpx.get(f"{url}api/diff", params={"base": "HEAD"}, timeout=60)
        assert got.status_code == 200, got.text
        assert got.text == podfence("diff", "--base", "HEAD", "-f", ".", "-o", "json", cwd=copy).stdout
        assert got.json()["changes"]
        bad = httpx.get(f"{url}api/diff", params={"base": "no-such-rev"}, timeout=60)
        assert bad.status_code == 400 and "no-such-rev" in bad.json()["error"]


@pytest.mark.parametrize("block, params, flags", [
    ("default-deny", {"namespace": "data", "allow_dns": "true"}, ["default-deny", "-n", "data", "--allow-dns"]),
    ("allow", {"from": "gateway/edge-proxy", "to": "billing/billing-api", "port": "8080"},
     ["allow", "--from", "gateway/edge-proxy", "--to", "billing/billing-api", "--port", "8080"]),
    ("egress", {"from": "notify/mailer", "to_cidr": "203.0.113.0/24", "port": "587"},
     ["egress", "--from", "notify/mailer", "--to-cidr", "203.0.113.0/24", "--port", "587"]),
])
def test_the_forms_fill_in_generates_blocks(example_url: str, block: str, params: dict[str, str],
                                            flags: list[str]) -> None:
    got = httpx.get(f"{example_url}api/generate/{block}", params=params, timeout=60)
    assert got.status_code == 200, got.text
    done = podfence("generate", *flags, "-f", "examples/baa")
    assert got.json()["yaml"] == done.stdout and "kind: NetworkPolicy" in done.stdout, done.stderr


def test_a_form_with_a_bad_workload_is_refused(example_url: str) -> None:
    got = httpx.get(f"{example_url}api/generate/allow", params={"from": "gateway/nope", "to": "api/api-server"})
    assert got.status_code == 400 and "gateway/nope" in got.json()["error"]
    json.loads(got.text)


def test_a_policys_document_is_its_text_in_the_file(example_url: str) -> None:
    got = httpx.get(f"{example_url}api/document", params={"kind": "NetworkPolicy", "key": "api/api-server-ingress"})
    assert got.status_code == 200, got.text
    text = (EXAMPLE / API_FILE).read_text()
    assert got.json()["text"] == the_ingress_document(text) + "\n"
    assert got.json()["file"] == "examples/baa/policies/api.yaml"
    assert httpx.get(f"{example_url}api/document", params={"kind": "NetworkPolicy", "key": "api/nope"}
                     ).status_code == 400


def test_the_forms_generate_on_the_given_contexts_cluster(tmp_path: Path) -> None:
    """A form reads the cluster of the context ``podfence ui`` was given, not the kubeconfig's current one."""
    from kubeapi import Fleet, User
    from live_support import manifests

    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "debug", "namespace": "api", "labels": {"app": "debug"}},
           "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "busybox"}]},
           "status": {"phase": "Running", "podIP": "10.1.0.9"}}
    fleet = Fleet()
    try:
        fleet.cluster("prod", {"admin": User("admin")}).seed(manifests(EXAMPLE))
        fleet.cluster("staging", {"admin": User("admin")}).seed([*manifests(EXAMPLE), pod])
        fleet.context("prod", "prod", "admin")
        fleet.context("staging", "staging", "admin")
        config = fleet.write_kubeconfig(tmp_path / "config", current="prod")
        params = {"from": "api/debug", "to": "data/postgres", "port": "5432"}
        with ui_server("--kubeconfig", str(config), "--context", "staging") as url:
            staging = httpx.get(f"{url}api/generate/allow", params=params, timeout=60)
            assert staging.status_code == 200, staging.text
            assert "app: debug" in staging.json()["yaml"]
        with ui_server("--kubeconfig", str(config)) as url:
            prod = httpx.get(f"{url}api/generate/allow", params=params, timeout=60)
            assert prod.status_code == 400 and "api/debug" in prod.json()["error"]
    finally:
        fleet.stop()
