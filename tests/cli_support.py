"""Running the real ``podfence`` console script in tests, and golden files for its output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parent.parent
PODFENCE = Path(sys.executable).parent / "podfence"


def podfence(*args: str, stdin: str | None = None, cwd: Path | None = None,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the console script from the repository root (or ``cwd``), as a user would; ``env`` adds variables."""
    assert PODFENCE.exists(), f"console script missing: {PODFENCE} (install the package into this venv)"
    return subprocess.run([str(PODFENCE), *args], capture_output=True, text=True, input=stdin, cwd=cwd or ROOT,
                          timeout=120, env={**os.environ, "PODFENCE_DEBUG": "", **(env or {})})


GROUPS = ("lab", "rollout", "generate")


def error_lead(*args: str) -> str:
    """How an error of the command ``args`` starts: ``podfence lab up: error: ``, the command path as typed."""
    words = ["podfence"]
    for arg in map(str, args):
        if arg.startswith("-") or (len(words) == 2 and words[1] not in GROUPS) or len(words) == 3:
            break
        words.append(arg)
    return " ".join(words) + ": error: "


def golden_checker(folder: Path) -> Callable[[str, str, bool], None]:
    """``check(name, text, update)`` against ``folder/name``; ``--update-goldens`` rewrites it."""

    def check(name: str, text: str, update: bool) -> None:
        path = folder / name
        if update or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            if not update:
                pytest.fail(f"golden file {path.name} was missing and has been written; review and rerun")
        assert text == path.read_text(), f"output differs from {path} (rerun with --update-goldens and review the diff)"

    return check
