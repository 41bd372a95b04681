"""The gate for tests that need a real lab (root and nftables), and the preflight check.

Tests marked ``lab`` run for real when the machine can host a lab; otherwise
they are skipped with the reason, or fail when ``PODFENCE_REQUIRE_LAB=1`` says
the machine must be able to (CI). The gate lives in tests/conftest.py.
"""

from __future__ import annotations

import os

import conftest
import pytest

from podfence.lab import linux


def test_gate_runs_when_nothing_is_missing() -> None:
    assert conftest.lab_gate_decision(None, None) == ("run", "")
    assert conftest.lab_gate_decision(None, "1") == ("run", "")


def test_gate_skips_with_the_reason_by_default() -> None:
    assert conftest.lab_gate_decision("podfence lab needs root (run with sudo)", None) == (
        "skip", "podfence lab needs root (run with sudo)")
    assert conftest.lab_gate_decision("podfence lab needs root (run with sudo)", "0")[0] == "skip"


def test_gate_fails_when_the_lab_is_required() -> None:
    action, why = conftest.lab_gate_decision("podfence lab needs nftables: apt-get install nftables", "1")
    assert action == "fail"
    assert "PODFENCE_REQUIRE_LAB=1" in why and "apt-get install nftables" in why


def test_preflight_names_root_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linux.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(linux.shutil, "which", lambda name: None)
    assert linux.missing_requirement() == "podfence lab needs root (run with sudo)"


def test_preflight_names_nftables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linux.os, "geteuid", lambda: 0)
    monkeypatch.setattr(linux.shutil, "which", lambda name: None)
    assert linux.missing_requirement() == "podfence lab needs nftables: apt-get install nftables"


def test_preflight_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linux.os, "geteuid", lambda: 1000)
    message = linux.missing_requirement()
    assert message is not None and "\n" not in message


def lab_name(base: str) -> str:
    """A lab name unique to this test process (test runs on one machine may overlap).

    Lab names are at most 9 characters: ``base`` keeps 3, the process id (5
    digits at most) follows, and one character is left for a second lab.
    """
    return f"{base[:3]}{os.getpid() % 100_000}"


def test_lab_names_are_valid_and_per_process() -> None:
    from podfence.lab.naming import name_problem

    name = lab_name("pftopo")
    assert name_problem(name) is None and name_problem(name + "2") is None
    assert name == f"pft{os.getpid() % 100_000}"
