"""podfence's own YAML files: one document, lines kept, problems placed."""

from __future__ import annotations

from pathlib import Path

from podfence.loader import read_own_file
from podfence.model import Diagnostic, Severity


def test_reads_one_document_and_places_field_problems(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("tests:\n  - name: a\n    port: eighty\n")
    own = read_own_file(str(path))
    assert own.problems == () and own.data["tests"][0]["name"] == "a"
    placed = own.place([Diagnostic("X1", Severity.ERROR, "must be a number", ("tests", 0, "port"))], "spec")
    assert placed[0].one_line() == f"{path}:3: spec: tests[0].port: must be a number"


def test_syntax_errors_duplicates_and_several_documents(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    own = read_own_file(str(bad))
    assert own.data is None and own.problems[0].code == "L3" and own.problems[0].file == str(bad)
    dup = tmp_path / "dup.yaml"
    dup.write_text("a: 1\nb: 2\na: 3\n")
    own = read_own_file(str(dup))
    assert [(p.code, p.line) for p in own.problems] == [("L4", 3)]
    many = tmp_path / "many.yaml"
    many.write_text("a: 1\n---\nb: 2\n")
    assert [(p.code, p.line) for p in read_own_file(str(many)).problems] == [("L3", 3)]
    missing = read_own_file(str(tmp_path / "nope.yaml"))
    assert missing.data is None and missing.problems[0].code == "L1"
