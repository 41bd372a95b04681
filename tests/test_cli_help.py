"""Help and words: what a new user sees before running anything."""

from __future__ import annotations

import re

from cli_support import podfence

COMMANDS = ["check", "matrix", "connectivity", "explain", "diff", "test", "lint", "audit", "generate",
            "generate default-deny", "generate allow", "generate egress", "lab up", "lab apply", "lab probe",
            "lab show", "lab denials", "lab down", "lab status", "lab matrix", "convert", "ui", "compare",
            "snapshot", "watch", "monitor", "rollout check", "rollout plan", "rollout apply"]


def test_no_arguments_prints_the_normal_help() -> None:
    r = podfence()
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout == podfence("--help").stdout
    assert len(r.stdout.splitlines()) > 10 and r.stdout.startswith("Usage: podfence [OPTIONS] COMMAND")


def test_short_version_flag_and_shell_completion() -> None:
    assert podfence("-V").stdout == podfence("--version").stdout
    assert podfence("-V").stdout.startswith("podfence ")
    help_text = podfence("--help").stdout
    assert "--install-completion" in help_text and "--show-completion" in help_text


def test_every_command_has_plain_metavars_and_one_example() -> None:
    for command in COMMANDS:
        text = podfence(*command.split(), "--help").stdout
        assert not re.search(r"<(str|int|float|list\[\w+\]|int range|float range)>", text), (command, text)
        assert text.count("Example: ") == 1, (command, text)
    assert "--port PORT" in podfence("matrix", "--help").stdout
    assert "--wait SECONDS" in podfence("lab", "probe", "--help").stdout
    assert "--flows-format FORMAT" in podfence("rollout", "check", "--help").stdout
