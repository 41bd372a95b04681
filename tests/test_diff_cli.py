"""podfence diff through its console script: formats, exit codes, and --base against git.

Golden files live under tests/fixtures/golden/diff/ (``pytest --update-goldens``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from podfence.sets import parse_cidr
from cli_support import podfence as run, golden_checker

HERE = Path(__file__).parent
BASE = HERE / "fixtures" / "diff" / "base.yaml"
GOLDEN = HERE / "fixtures" / "golden" / "diff"
check_golden = golden_checker(GOLDEN)

DENY_EGRESS = "\n" + (HERE / "fixtures" / "diff" / "deny-egress.yaml").read_text()
OUTSIDE = "\n" + (HERE / "fixtures" / "diff" / "allow-outside.yaml").read_text()


def order(name: str) -> tuple[int, str | int]:
    """Pods by key first, then address ranges in address order."""
    cidr = parse_cidr(name)
    return (0, name) if cidr is None else (1, cidr.network)






@pytest.fixture
def versions(tmp_path: Path) -> tuple[Path, Path]:
    """base.yaml and a version that adds deny-egress in api and opens billing/db to the internet."""
    new = tmp_path / "new.yaml"
    new.write_text(BASE.read_text() + DENY_EGRESS + OUTSIDE)
    return BASE, new


@pytest.mark.parametrize("fmt", ["text", "json", "md"])
def test_formats(fmt: str, versions: tuple[Path, Path], update_goldens: bool) -> None:
    old, new = versions
    r = run("diff", str(old), str(new), "-o", fmt, "--config", str(HERE / "fixtures" / "diff" / "podfence.yaml"))
    assert r.returncode == 1, r.stderr
    check_golden(f"deny-egress-and-outside.{fmt}", r.stdout, update_goldens)


def test_json_shape(versions: tuple[Path, Path]) -> None:
    old, new = versions
    data = json.loads(run("diff", str(old), str(new), "-o", "json").stdout)
    assert list(data) == ["changes", "summary"]
    entries = {(c["src"], c["dst"]): c for c in data["changes"]}
    assert entries[("api/server", "billing/db")] == {"src": "api/server", "dst": "billing/db",
                                                    "removed": {"TCP": [[5432, 5432]]}}
    assert entries[("api/worker", "kube-system/dns")] == {"src": "api/worker", "dst": "kube-system/dns",
                                                         "removed": "All"}
    assert entries[("11.0.0.0/8", "billing/db")] == {"src": "11.0.0.0/8", "dst": "billing/db",
                                                    "added": {"TCP": [[5432, 5432]]}}
    keys = [(c["src"], c["dst"]) for c in data["changes"]]
    assert keys == sorted(keys, key=lambda k: (order(k[0]), order(k[1])))
    assert data["summary"] == {"added": sum("added" in c for c in data["changes"]),
                               "removed": sum("removed" in c for c in data["changes"])}
    assert data["summary"]["removed"] == 7


def test_md_puts_dangerous_changes_first(versions: tuple[Path, Path]) -> None:
    old, new = versions
    md = run("diff", str(old), str(new), "-o", "md").stdout
    rows = [line for line in md.splitlines() if line.startswith("| ") and not line.startswith("| Review")]
    assert "reachable from the internet" in rows[0]
    assert "loses DNS" in rows[1]
    assert all("**" not in row.split("|")[1] for row in rows[2:])


def test_no_change_exits_0(tmp_path: Path) -> None:
    same = tmp_path / "same"
    same.mkdir()
    shutil.copy(BASE, same / "base.yaml")
    r = run("diff", str(BASE), str(same))
    assert (r.returncode, r.stdout) == (0, "No change in connectivity.\n")
    r = run("diff", str(BASE), str(same), "-o", "json")
    assert json.loads(r.stdout) == {"changes": [], "summary": {"added": 0, "removed": 0}}


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\n"
                   "spec: {ingress: [{ports: [{port: 0}]}]}\n")
    for args in (["diff", str(BASE)], ["diff", str(BASE), str(BASE), "-f", str(BASE)],
                 ["diff", "--base", "HEAD"], ["diff", str(BASE), str(BASE), "-o", "xml"],
                 ["diff", str(BASE), str(bad)]):
        r = run(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr and r.stderr.strip(), args
    assert "spec.ingress[0].ports[0].port" in run("diff", str(BASE), str(bad)).stderr


# ---- --base: the same paths at a git revision -------------------------------------------


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo)}
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    (root / "deploy" / "billing").mkdir(parents=True)
    text = BASE.read_text()
    docs = text.split("\n---\n")
    (root / "deploy" / "cluster.yaml").write_text("\n---\n".join(d for d in docs if "NetworkPolicy" not in d))
    (root / "deploy" / "billing" / "policies.yaml").write_text(
        "\n---\n".join(d for d in docs if "NetworkPolicy" in d))
    (root / "deploy" / "notes.txt").write_text("not a manifest: {{ ignored }}\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "base")
    return root


def test_base_without_changes_exits_0(repo: Path) -> None:
    r = run("diff", "--base", "HEAD", "-f", "deploy", cwd=repo)
    assert (r.returncode, r.stdout) == (0, "No change in connectivity.\n"), r.stderr


def test_base_sees_the_working_tree_change(repo: Path) -> None:
    policies = repo / "deploy" / "billing" / "policies.yaml"
    policies.write_text(policies.read_text().replace("ports: [{port: 5432}]", "ports: [{port: 5433}]"))
    r = run("diff", "--base", "main", "-f", "deploy", "-o", "json", cwd=repo)
    assert r.returncode == 1, r.stderr
    assert json.loads(r.stdout)["changes"] == [
        {"src": "api/server", "dst": "billing/db", "added": {"TCP": [[5433, 5433]]},
         "removed": {"TCP": [[5432, 5432]]}}]
    # The working tree is untouched: the edit is still there and nothing is staged.
    assert "5433" in policies.read_text()
    assert git(repo, "status", "--porcelain") == " M deploy/billing/policies.yaml\n"
    r = run("diff", "--base", "main", "-f", "deploy")
    assert r.returncode == 2  # run from outside the repository


def test_base_compares_committed_revisions_and_single_files(repo: Path) -> None:
    policies = repo / "deploy" / "billing" / "policies.yaml"
    policies.write_text(policies.read_text() + DENY_EGRESS)
    git(repo, "commit", "-q", "-am", "deny egress in api")
    r = run("diff", "--base", "HEAD~1", "-f", "deploy/cluster.yaml", "-f", "deploy/billing/policies.yaml",
            "-o", "json", cwd=repo)
    assert r.returncode == 1, r.stderr
    removed = {(c["src"], c["dst"]) for c in json.loads(r.stdout)["changes"]}
    assert ("api/server", "kube-system/dns") in removed and len(removed) == 7
    # From a subdirectory, paths are relative to it, as for every -f.
    r = run("diff", "--base", "HEAD~1", "-f", "billing", "-f", "cluster.yaml", "-o", "json", cwd=repo / "deploy")
    assert r.returncode == 1 and {(c["src"], c["dst"]) for c in json.loads(r.stdout)["changes"]} == removed
    assert run("diff", "--base", "HEAD", "-f", "deploy", cwd=repo).returncode == 0


def test_base_with_a_path_new_since_the_revision(repo: Path) -> None:
    extra = repo / "extra"
    extra.mkdir()
    (extra / "reports.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: reports, namespace: api, labels: {app: reports}}\n"
        "spec: {containers: [{name: main, image: r}]}\n")
    r = run("diff", "--base", "HEAD", "-f", "deploy", "-f", "extra", "-o", "json", cwd=repo)
    assert r.returncode == 1, r.stderr
    assert "extra did not exist at HEAD" in r.stderr
    changes = json.loads(r.stdout)["changes"]
    assert changes and all("api/reports" in (c["src"], c["dst"]) and "removed" not in c for c in changes)


def test_base_errors_exit_2(repo: Path) -> None:
    for args, words in ((["--base", "nope", "-f", "deploy"], "no such commit"),
                        (["--base", "HEAD", "-f", "-"], "standard input"),
                        (["--base", "HEAD", "-f", "/"], "outside the git repository")):
        r = run("diff", *args, cwd=repo)
        assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
    policies = repo / "deploy" / "billing" / "policies.yaml"
    policies.write_text("kind: [unclosed\n")
    git(repo, "commit", "-q", "-am", "broken")
    r = run("diff", "--base", "HEAD", "-f", "deploy", cwd=repo)
    assert r.returncode == 2 and r.stderr.startswith("at HEAD: deploy/billing/policies.yaml:"), r.stderr
