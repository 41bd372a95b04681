"""The README's first section runs as written, from the repository's .venv."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from cli_support import ROOT

VENV_BIN = Path(sys.executable).parent


def quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    first = text.split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", first, re.S):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            # `make test` is this suite; root-only lab lines are covered by the lab tests.
            if command and command != "make test" and not command.startswith("sudo "):
                commands.append(command)
    return commands


def test_the_quick_start_has_the_commands_a_new_user_needs() -> None:
    commands = quick_start_commands()
    assert "make run" in commands
    assert any(c.startswith(". .venv/bin/activate") for c in commands)
    assert any(c.startswith(".venv/bin/podfence ") for c in commands)


def test_every_quick_start_command_runs_as_written() -> None:
    # The repository's .venv is the one this suite runs in (or the one `make run` builds).
    assert (ROOT / ".venv" / "bin" / "podfence").exists() or VENV_BIN == ROOT / ".venv" / "bin"
    for command in quick_start_commands():
        r = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=600,
                           env={**os.environ, "PODFENCE_DEBUG": ""})
        # lint exits 1 on the example's deliberate mistakes; anything else must succeed.
        assert r.returncode in (0, 1), f"{command}: exit {r.returncode}\n{r.stderr[-2000:]}"
        assert "Traceback" not in r.stderr, command


def test_make_run_says_how_to_run_podfence_afterwards() -> None:
    r = subprocess.run(["make", "-s", "run"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    tail = r.stdout[-600:]
    assert ".venv/bin/podfence --help" in tail and ". .venv/bin/activate" in tail
    assert "sudo .venv/bin/podfence lab" in tail
