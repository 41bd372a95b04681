"""The GitHub Action's script, run locally with a fake GitHub environment.

Each test builds an "origin" repository with a main branch and a pull-request
branch, checks it out the way actions/checkout does (shallow, detached) or with
full history, and runs scripts/action.sh with the GITHUB_* files the runner
would provide. action.yml is checked for the inputs the script reads.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "action.sh"
ACTION = ROOT / "action.yml"
BASE = ROOT / "tests" / "fixtures" / "diff" / "base.yaml"
PODFENCE = Path(sys.executable).parent / "podfence"

SPEC = """\
tests:
  - name: the API server reaches the database
    from: api/server
    to: billing/db
    port: 5432
    expect: allow
  - name: workers stay out of billing
    from: api/worker
    to: {namespace: billing}
    expect: deny
"""

pytestmark = pytest.mark.skipif(shutil.which("git") is None or shutil.which("bash") is None,
                                reason="needs git and bash")


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd)}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout.strip()


def origin(tmp: Path) -> Path:
    """A bare origin: main has the base cluster; pr changes the database port; main moves on after."""
    bare = tmp / "origin.git"
    git(tmp, "init", "-q", "--bare", "-b", "main", str(bare))
    work = tmp / "author"
    git(tmp, "clone", "-q", str(bare), str(work))
    (work / "deploy").mkdir()
    (work / "deploy" / "cluster.yaml").write_text(BASE.read_text())
    (work / "tests").mkdir()
    (work / "tests" / "connectivity.yaml").write_text(SPEC)
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "base")
    git(work, "push", "-q", "origin", "HEAD:main")
    git(work, "checkout", "-q", "-b", "pr")
    text = (work / "deploy" / "cluster.yaml").read_text().replace("ports: [{port: 5432}]", "ports: [{port: 5433}]")
    (work / "deploy" / "cluster.yaml").write_text(text)
    git(work, "commit", "-q", "-am", "move the database port")
    git(work, "push", "-q", "origin", "pr")
    # Meanwhile main opens the worker to the database: not this pull request's doing.
    git(work, "checkout", "-q", "main")
    extra = ("\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
             "metadata: {name: worker, namespace: billing}"
             "\nspec:\n  podSelector: {}\n  ingress: [{from: [{namespaceSelector: {}, podSelector: "
             "{matchLabels: {app: worker}}}]}]\n")
    (work / "deploy" / "cluster.yaml").write_text(BASE.read_text() + extra)
    git(work, "commit", "-q", "-am", "let the worker in")
    git(work, "push", "-q", "origin", "main")
    return bare


def checkout(tmp: Path, bare: Path, *, full: bool) -> Path:
    """The pull-request branch as actions/checkout leaves it (detached; shallow unless ``full``)."""
    repo = tmp / ("full" if full else "shallow")
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "remote", "add", "origin", bare.as_uri())
    if full:
        git(repo, "fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*")
        git(repo, "checkout", "-q", "--detach", "origin/pr")
    else:
        git(repo, "fetch", "-q", "--depth=1", "origin", "+refs/heads/pr:refs/remotes/pull/1/merge")
        git(repo, "checkout", "-q", "--detach", "refs/remotes/pull/1/merge")
    return repo


def run_action(repo: Path, podfence: Path = PODFENCE, **inputs: str) -> tuple[int, str, str, dict[str, str]]:
    """(exit code, stdout, job summary, outputs) of one run of the action's script."""
    summary, outputs, temp = repo / ".summary.md", repo / ".outputs", repo / ".runner-temp"
    temp.mkdir(exist_ok=True)
    summary.unlink(missing_ok=True)
    outputs.unlink(missing_ok=True)
    env = {
        "PATH": os.environ["PATH"], "HOME": str(repo), "GIT_CONFIG_NOSYSTEM": "1",
        "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs), "GITHUB_WORKSPACE": str(repo),
        "RUNNER_TEMP": str(temp), "PODFENCE": str(podfence),
        "PODFENCE_MANIFESTS": "deploy", "PODFENCE_TESTS": "tests/connectivity.yaml", "PODFENCE_BASE_REF": "main",
    }
    env.update({f"PODFENCE_{k.upper()}": v for k, v in inputs.items()})
    done = subprocess.run(["bash", str(SCRIPT)], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    found = dict(line.split("=", 1) for line in outputs.read_text().splitlines()) if outputs.exists() else {}
    return done.returncode, done.stdout + done.stderr, summary.read_text() if summary.exists() else "", found


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return origin(tmp_path_factory.mktemp("origin"))


def test_full_history_compares_with_the_merge_base(bare: Path, tmp_path: Path) -> None:
    repo = checkout(tmp_path, bare, full=True)
    code, log, summary, out = run_action(repo)
    # The expectation "server reaches the database on 5432" now fails: the job fails.
    assert code == 1, log
    assert out["changed"] == "true" and out["tests-passed"] == "false"
    # Only this branch's change is shown, not the worker policy added on main since.
    assert summary.startswith("### podfence diff")
    rows = [line for line in summary.splitlines() if line.startswith("| ") and "Review" not in line]
    assert len(rows) == 1 and "`api/server`" in rows[0] and "TCP 5433" in rows[0] and "TCP 5432" in rows[0], summary
    assert Path(out["diff-markdown"]).read_text() in summary
    assert "### podfence test" in summary and "FAIL  the API server reaches the database" in summary
    assert "::error title=podfence test::1 passed, 1 failed." in log
    junit = ET.parse(repo / out["junit-file"]).getroot()
    assert junit.get("tests") == "2" and junit.get("failures") == "1"
    assert out["sarif-file"] == "podfence.sarif"
    assert yaml.safe_load((repo / "podfence.sarif").read_text())["version"] == "2.1.0"
    # Nothing was committed, staged or checked out by the action.
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""
    assert git(repo, "rev-parse", "HEAD") == git(repo, "rev-parse", "origin/pr")


def test_shallow_checkout_fetches_the_base_branch(bare: Path, tmp_path: Path) -> None:
    repo = checkout(tmp_path, bare, full=False)
    code, log, summary, out = run_action(repo, fail_on="")
    assert code == 0, log  # nothing may fail the job when fail-on is empty
    assert git(repo, "rev-parse", "--verify", "refs/remotes/origin/main")
    # Without history there is no merge base: the action says so and compares with main's tip,
    # where the worker policy shows up as removed by this branch.
    assert "no merge base with origin/main" in log
    assert out["changed"] == "true" and "api/worker" in summary and "TCP 5433" in summary


def test_no_change_and_passing_tests_exit_0(bare: Path, tmp_path: Path) -> None:
    repo = checkout(tmp_path, bare, full=True)
    git(repo, "checkout", "-q", "--detach", "origin/main")
    # main lets the worker into billing, so keep only the expectation that holds there.
    spec = repo / "tests" / "connectivity.yaml"
    spec.write_text(SPEC.split("  - name: workers")[0])
    code, log, summary, out = run_action(repo, fail_on="test diff")
    assert code == 0, log
    assert out["changed"] == "false" and out["tests-passed"] == "true"
    assert "No change in connectivity." in summary


def test_fail_on_diff_and_skipped_steps(bare: Path, tmp_path: Path) -> None:
    repo = checkout(tmp_path, bare, full=True)
    code, log, summary, out = run_action(repo, fail_on="diff", tests="")
    assert code == 1 and out["changed"] == "true" and "tests-passed" not in out, log
    code, log, summary, out = run_action(repo, base_ref="", steps="diff")
    assert code == 0 and "no base branch" in log and summary == "" and out == {}, log


def test_lint_is_skipped_with_a_notice_where_podfence_has_none(bare: Path, tmp_path: Path) -> None:
    repo = checkout(tmp_path, bare, full=True)
    wrapper = tmp_path / "old-podfence"
    wrapper.write_text('#!/bin/sh\n[ "$1" = lint ] && { echo "No such command" >&2; exit 2; }\n'
                       f'exec "{PODFENCE}" "$@"\n')
    wrapper.chmod(0o755)
    code, log, summary, out = run_action(repo, podfence=wrapper, steps="lint")
    assert code == 0 and "::notice title=podfence lint::this podfence has no lint command" in log
    assert "sarif-file" not in out and not (repo / "podfence.sarif").exists()


def test_invalid_input_exits_2(bare: Path, tmp_path: Path) -> None:
    repo = checkout(tmp_path, bare, full=True)
    code, log, _, _ = run_action(repo, manifests="")
    assert code == 2 and "no manifests" in log
    code, log, _, _ = run_action(repo, base_ref="no-such-branch", steps="diff")
    assert code == 2 and "cannot find or fetch the base branch no-such-branch" in log
    (repo / "tests" / "connectivity.yaml").write_text("tests: [{from: a}]\n")
    code, log, _, _ = run_action(repo, steps="test")
    assert code == 2 and "::error title=podfence test::podfence test exited with 2" in log


def test_action_yml_passes_every_input_the_script_reads() -> None:
    action = yaml.safe_load(ACTION.read_text())
    assert action["runs"]["using"] == "composite"
    run_step = next(s for s in action["runs"]["steps"] if s.get("id") == "podfence")
    env = run_step["env"]
    read = set(re.findall(r"\$\{(PODFENCE_[A-Z_]+)", SCRIPT.read_text()))
    assert read - {"PODFENCE_DIFF_MARKDOWN"} <= set(env), read - set(env)
    used = set(re.findall(r"inputs\.([a-z-]+)", ACTION.read_text()))
    assert used == set(action["inputs"]), used ^ set(action["inputs"])
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.podfence.outputs.{name} }}}}"
        assert f"output {name} " in SCRIPT.read_text(), name
    install = action["runs"]["steps"][0]["run"]
    assert "pip install" in install and "$GITHUB_ACTION_PATH" in install
