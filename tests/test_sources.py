"""podfence.sources: git revisions and flow files as values and diagnostics, without the CLI."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from podfence.flows import FlowRecord, Skip
from podfence.loader import codes, load_texts
from podfence.loader.limits import Budget
from podfence.model import FileOrigin, GitOrigin
from podfence.sources import read_flows, texts_at

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\n"
HUBBLE = Path(__file__).parent / "fixtures" / "flows"


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo)}
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    (tmp_path / "deploy" / "web").mkdir(parents=True)
    (tmp_path / "deploy" / "web" / "pod.yaml").write_text(POD.format(name="web"))
    (tmp_path / "deploy" / "api.yaml").write_text("# the api\n---\n" + POD.format(name="api"))
    (tmp_path / "deploy" / "notes.txt").write_text("not read\n")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "base")
    return tmp_path


def test_texts_at_a_revision_carry_git_origins_with_working_tree_paths(repo: Path) -> None:
    (repo / "deploy" / "api.yaml").write_text("changed since: the revision\n")
    read = texts_at("main", ["deploy"], cwd=str(repo))
    assert read.problem is None and read.notes == ()
    assert [origin for origin, _ in read.texts] == [GitOrigin("main", os.path.join("deploy", "api.yaml")),
                                                    GitOrigin("main", os.path.join("deploy", "web", "pod.yaml"))]
    result = load_texts(read.texts)
    assert [str(p.source) for p in result.cluster.pods] == [f"main:{os.path.join('deploy', 'api.yaml')}:3",
                                                           f"main:{os.path.join('deploy', 'web', 'pod.yaml')}:1"]


def test_texts_at_note_a_missing_path_and_return_problems_as_diagnostics(repo: Path) -> None:
    assert texts_at("main", ["gone"], cwd=str(repo)).notes == ("gone did not exist at main",)
    missing = texts_at("no-such-ref", ["deploy"], cwd=str(repo)).problem
    assert missing is not None and missing.code == codes.UNREADABLE
    assert missing.message == "--base 'no-such-ref': no such commit, branch or tag"
    limited = texts_at("main", ["deploy"], cwd=str(repo), budget=Budget(max_input_bytes=10)).problem
    assert limited is not None and limited.code == codes.LIMIT and "--max-input-bytes=10" in limited.message


def test_flow_files_are_records_with_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "flows.jsonl"
    path.write_text('{"flow": {}}\n\nnot json\n')
    read = read_flows([str(path)])
    assert read.problem is None
    assert [origin for origin, _ in read.records] == [FileOrigin(str(path), 1), FileOrigin(str(path), 3)]
    skipped = read.records[1][1]
    assert isinstance(skipped, Skip) and skipped.problem and skipped.reason.startswith("not JSON")


def test_flow_files_from_stdin_and_an_unreadable_file_stop_with_a_problem(tmp_path: Path) -> None:
    line = (HUBBLE / "hubble.jsonl").read_text().splitlines()[0]
    read = read_flows(["-", str(tmp_path / "missing.jsonl")], stdin=io.StringIO(line + "\n"))
    assert [origin for origin, _ in read.records] == [FileOrigin("-", 1)]
    assert isinstance(read.records[0][1], (FlowRecord, Skip))
    assert read.problem is not None and read.problem.code == codes.UNREADABLE
    assert read.problem.one_line() == f"{tmp_path / 'missing.jsonl'}: cannot read: no such file or directory"
