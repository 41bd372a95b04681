"""Writing what a person asked for, all or none, and refusing early what could not be written.

Thin wrappers over :mod:`podfence.app.files` whose refusals stop the run (exit 2)
in one line naming the option.
"""

from __future__ import annotations

from pathlib import Path

from podfence.app import files as files_
from podfence.app.errors import Stop


def check_writable(path: Path, force: bool, flag: str) -> None:
    """Stop at once (exit 2) when a file option's file could not be written at the end."""
    try:
        if files_.check_target(path, flag) is not None and not force:
            raise Stop(f"{flag} {path}: exists (pass --force to overwrite)")
    except files_.Refused as refused:
        raise Stop(str(refused)) from None


def check_folder(path: Path, flag: str) -> None:
    """Stop at once (exit 2) at a folder option podfence could not write files into."""
    try:
        files_.check_folder(path, flag)
    except files_.Refused as refused:
        raise Stop(str(refused)) from None


def write_files(directory: Path, texts: dict[str, str], force: bool, flag: str = "--out") -> None:
    """Write every file or none (:mod:`podfence.app.files`); a refusal stops the run naming ``flag``."""
    for name in texts:
        if Path(name).name != name or name in (".", ".."):
            raise ValueError(f"not a file name: {name!r}")
    try:
        files_.write_all({directory / name: text for name, text in texts.items()}, force=force, flag=flag,
                         shown=directory)
    except files_.Refused as refused:
        raise Stop(str(refused)) from None


def write_file(path: Path, text: str, force: bool, flag: str) -> None:
    """One file, atomically; refused if it exists and ``force`` is off, or if it is not a regular file."""
    try:
        files_.write_all({path: text}, force=force, flag=flag, shown=path)
    except files_.Refused as refused:
        raise Stop(str(refused)) from None

__all__ = ["check_folder", "check_writable", "write_file", "write_files"]
