"""podfence.loader.sources: paths, directories and stdin to named texts."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import pytest

from podfence.loader.limits import Budget
from podfence.loader.sources import CHUNK, SourceText, read_bounded, read_file, read_sources, read_stdin
from podfence.model import Diagnostic, Severity

FIXTURES = Path(__file__).parent / "fixtures" / "loader"


def _names(items: list[SourceText | Diagnostic | str]) -> list[str]:
    return [item.name for item in items if isinstance(item, SourceText)]


def test_directories_are_walked_recursively_in_lexical_order_reading_only_manifests() -> None:
    tree = str(FIXTURES / "tree")
    items = list(read_sources([tree], None))
    assert _names(items) == [
        os.path.join(tree, "10-namespace.yaml"),
        os.path.join(tree, "app", "config", "service.json"),
        os.path.join(tree, "app", "deployment.yml"),
        os.path.join(tree, "zz-override.yaml"),
    ]
    assert all(isinstance(item, SourceText) for item in items)  # README.txt and notes.md skipped silently


def test_display_names_keep_the_path_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "a.yaml").write_text("kind: A\n")
    monkeypatch.chdir(tmp_path)
    assert _names(list(read_sources(["deploy/"], None))) == ["deploy/a.yaml"]
    assert _names(list(read_sources(["deploy"], None))) == ["deploy/a.yaml"]


def test_a_file_named_explicitly_is_read_whatever_its_extension(tmp_path: Path) -> None:
    path = tmp_path / "policy.txt"
    path.write_text("kind: NetworkPolicy\n")
    (item,) = read_sources([str(path)], None)
    assert item == SourceText(str(path), "kind: NetworkPolicy\n")


def test_a_missing_path_is_an_l1_error() -> None:
    (item,) = read_sources(["no/such/file.yaml"], None)
    assert isinstance(item, Diagnostic)
    assert (item.code, item.severity, item.file, item.line) == ("L1", Severity.ERROR, "no/such/file.yaml", None)
    assert "no such file or directory" in item.message


def test_a_directory_without_manifests_gives_a_note(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    assert list(read_sources([str(tmp_path)], None)) == [f"no .yaml, .yml or .json files in {tmp_path}"]


def test_symlinked_directories_are_not_followed(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.yaml").write_text("kind: A\n")
    (tmp_path / "real" / "loop").symlink_to(tmp_path / "real")
    assert _names(list(read_sources([str(tmp_path / "real")], None))) == [str(tmp_path / "real" / "a.yaml")]


def test_stdin_is_named_dash_and_read_once() -> None:
    stdin = io.StringIO("kind: A\n")
    items = list(read_sources(["-", "-"], stdin))
    assert items == [SourceText("-", "kind: A\n")]


def test_stdin_bytes_are_decoded_as_utf8() -> None:
    stdin = io.TextIOWrapper(io.BytesIO("name: café\n".encode()), encoding="latin-1")
    assert list(read_sources(["-"], stdin)) == [SourceText("-", "name: café\n")]


def test_stdin_that_is_not_utf8_is_an_l2_error() -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"a: b\nc: \xff\n"), encoding="utf-8")
    (item,) = read_sources(["-"], stdin)
    assert isinstance(item, Diagnostic)
    assert (item.code, item.file, item.line) == ("L2", "-", 2)


def test_no_stdin_at_all_is_an_l1_error() -> None:
    (item,) = read_sources(["-"], None)
    assert isinstance(item, Diagnostic) and (item.code, item.file) == ("L1", "-")


def test_a_file_that_is_not_utf8_is_an_l2_error_at_the_line_of_the_bad_byte() -> None:
    path = str(FIXTURES / "errors" / "latin1.yaml")
    (item,) = read_sources([path], None)
    assert isinstance(item, Diagnostic)
    assert (item.code, item.file, item.line) == ("L2", path, 4)
    assert "0xe9" in item.message


def test_a_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffkind: A\n".encode())
    assert list(read_sources([str(path)], None)) == [SourceText(str(path), "kind: A\n")]


def test_sources_come_in_the_order_given(tmp_path: Path) -> None:
    for name in ("b.yaml", "a.yaml"):
        (tmp_path / name).write_text(f"# {name}\n")
    stdin = io.StringIO("# stdin\n")
    items = list(read_sources([str(tmp_path / "b.yaml"), "-", str(tmp_path / "a.yaml")], stdin))
    assert [item.text for item in items if isinstance(item, SourceText)] == ["# b.yaml\n", "# stdin\n", "# a.yaml\n"]


# -- limits ----------------------------------------------------------------------------


class _Endless(io.RawIOBase):
    """A stream that never ends, counting what was asked of it."""

    def __init__(self) -> None:
        self.given = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        buffer[:] = b"a" * len(buffer)
        self.given += len(buffer)
        return len(buffer)


def test_reading_stops_one_byte_past_what_the_budget_has_left() -> None:
    stream = _Endless()
    budget = Budget(max_input_bytes=3 * CHUNK + 5)
    found = read_bounded(stream, "endless", budget)  # type: ignore[arg-type]
    assert isinstance(found, Diagnostic)
    assert (found.code, found.file, found.message) == (
        "L13", "endless", f"input exceeds --max-input-bytes={3 * CHUNK + 5} (raise it with --max-input-bytes)")
    assert stream.given == 3 * CHUNK + 6


def test_every_source_of_a_run_takes_from_one_budget(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml", "c.yaml"):
        (tmp_path / name).write_text("kind: A\n")  # 8 bytes each
    budget = Budget(max_input_bytes=20)
    items = list(read_sources([str(tmp_path / n) for n in ("a.yaml", "b.yaml", "c.yaml")], None, budget))
    assert [type(item).__name__ for item in items] == ["SourceText", "SourceText", "Diagnostic"]
    assert isinstance(items[2], Diagnostic) and (items[2].code, items[2].file) == ("L13", str(tmp_path / "c.yaml"))


def test_a_regular_file_larger_than_what_is_left_is_refused_unread(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("x" * 100)
    monkeypatch.setattr("builtins.open", lambda *a, **k: pytest.fail("opened"))
    found = read_file(str(path), Budget(max_input_bytes=99))
    assert isinstance(found, Diagnostic) and found.code == "L13"


def test_devices_are_refused_and_fifos_read(tmp_path: Path) -> None:
    found = read_file("/dev/zero", Budget())
    assert isinstance(found, Diagnostic)
    assert (found.code, found.message) == ("L1", "cannot read: a character device, not a file (podfence reads files, "
                                                 "directories, FIFOs and - for standard input)")
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    feeder = threading.Thread(target=lambda: fifo.write_text("kind: A\n"))
    feeder.start()
    assert read_file(str(fifo), Budget()) == SourceText(str(fifo), "kind: A\n")
    feeder.join()


def test_standard_input_counts_against_the_budget() -> None:
    budget = Budget(max_input_bytes=10)
    assert read_stdin(io.StringIO("kind: A\n"), budget) == SourceText("-", "kind: A\n")
    assert budget.input_bytes == 8
    found = read_stdin(io.StringIO("kind: A\n"), budget)
    assert isinstance(found, Diagnostic) and (found.code, found.file) == ("L13", "-")
