"""podfence.app.files: the all-or-none writer, with faults injected through its rename seam."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from podfence.app import files
from podfence.app.files import Refused, check_target, read_existing, remove_stale, write_all


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def failing_at(call: int):  # type: ignore[no-untyped-def]
    """A rename step that fails (read-only file system) on its ``call``-th use."""
    calls = []

    def replace(src: str | Path, dst: str | Path) -> None:
        calls.append(dst)
        if len(calls) == call:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        os.replace(src, dst)

    return replace


def test_a_failure_in_the_middle_of_the_rename_pass_puts_every_file_back(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("old a\n")
    (tmp_path / "c.yaml").write_text("old c\n")
    (tmp_path / "a.yaml").chmod(0o640)
    inode = os.stat(tmp_path / "a.yaml").st_ino
    files = {tmp_path / "a.yaml": "new a\n", tmp_path / "b.yaml": "new b\n", tmp_path / "c.yaml": "new c\n"}
    with pytest.raises(Refused) as refused:
        write_all(files, force=True, flag="--out", shown=tmp_path, replace=failing_at(3))
    assert str(refused.value) == f"--out {tmp_path}/c.yaml: Read-only file system; nothing was changed"
    # a.yaml is the very file it was (same inode, mode, text); b.yaml, new, is gone; no temporary file is left.
    assert names(tmp_path) == ["a.yaml", "c.yaml"]
    assert (tmp_path / "a.yaml").read_text() == "old a\n" and (tmp_path / "c.yaml").read_text() == "old c\n"
    assert os.stat(tmp_path / "a.yaml").st_ino == inode and stat.S_IMODE(os.stat(tmp_path / "a.yaml").st_mode) == 0o640


def test_a_failure_at_the_first_rename_changes_nothing(tmp_path: Path) -> None:
    with pytest.raises(Refused):
        write_all({tmp_path / "new" / "a.yaml": "a\n"}, force=False, flag="--out", replace=failing_at(1))
    assert names(tmp_path) == []  # the folder made for it is removed again


def test_without_force_existing_files_are_named_and_nothing_is_written(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text("mine\n")
    with pytest.raises(Refused) as refused:
        write_all({tmp_path / "a.yaml": "a", tmp_path / "b.yaml": "b"}, force=False, flag="--out", shown=tmp_path)
    assert str(refused.value) == f"--out {tmp_path}: b.yaml exists (pass --force to overwrite)"
    assert names(tmp_path) == ["b.yaml"]


def test_modes_follow_the_umask_for_new_files_and_are_kept_for_replaced_ones(tmp_path: Path) -> None:
    (tmp_path / "kept.yaml").write_text("old\n")
    (tmp_path / "kept.yaml").chmod(0o604)
    before = os.umask(0o077)
    try:
        write_all({tmp_path / "new.yaml": "n\n", tmp_path / "kept.yaml": "k\n"}, force=True, flag="--out")
    finally:
        os.umask(before)
    assert stat.S_IMODE(os.stat(tmp_path / "new.yaml").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "kept.yaml").st_mode) == 0o604


def test_a_target_that_changes_after_the_check_is_not_replaced(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.yaml"
    real_stage = files._stage

    def stage_then_a_fifo_appears(t: files.Target, temps: list[Path]) -> Path:
        staged = real_stage(t, temps)
        os.mkfifo(target)  # another process, between the check and the renames
        return staged

    def rename(src: str | Path, dst: str | Path) -> None:
        raise AssertionError("the recheck comes before any rename")

    monkeypatch.setattr(files, "_stage", stage_then_a_fifo_appears)
    with pytest.raises(Refused) as refused:
        write_all({target: "a\n"}, force=True, flag="--out", replace=rename)
    assert str(refused.value) == f"--out {target}: changed while podfence was writing; nothing was changed"
    assert names(tmp_path) == ["a.yaml"] and stat.S_ISFIFO(os.lstat(target).st_mode)


@pytest.mark.parametrize("make, words", [
    (lambda p: p.mkdir(), "a directory"),
    (lambda p: os.mkfifo(p), "a FIFO"),
    (lambda p: p.symlink_to("elsewhere"), "a symbolic link"),
], ids=["directory", "fifo", "dangling-link"])
def test_only_regular_files_are_targets(tmp_path: Path, make, words: str) -> None:  # type: ignore[no-untyped-def]
    make(tmp_path / "x")
    with pytest.raises(Refused) as refused:
        check_target(tmp_path / "x", "--junit")
    assert str(refused.value) == f"--junit {tmp_path}/x: is {words}; podfence only replaces regular files, even with --force"
    with pytest.raises(Refused):
        read_existing(tmp_path / "x", "--rules-doc")


def test_stale_temporary_files_go_only_when_their_process_is_gone(tmp_path: Path) -> None:
    gone = 2 ** 22 + 1  # above Linux's largest pid
    mine = os.getpid()
    for name in (f".a.yaml.podfence-{gone}-00000000.tmp", f".a.yaml.podfence-{gone}-00000001.old",
                 f".a.yaml.podfence-{mine}-00000000.tmp", ".a.yaml.tmp", f"a.yaml.podfence-{gone}-00000000.tmp"):
        (tmp_path / name).write_text("x")
    os.mkdir(tmp_path / f".d.podfence-{gone}-00000000.tmp")
    assert sorted(remove_stale(tmp_path)) == [f".a.yaml.podfence-{gone}-00000000.tmp",
                                              f".a.yaml.podfence-{gone}-00000001.old"]
    assert len(names(tmp_path)) == 4
