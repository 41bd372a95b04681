"""podfence lab matrix through the console script: its --compare output, and the settings it evaluates with.

The compare report is pinned by golden files (tests/fixtures/lab/golden/compare-*);
rewrite them with ``pytest --update-goldens`` and review the diff. Tests marked
``lab`` need root and nftables (see tests/conftest.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_support import golden_checker, podfence
from test_lab_support import lab_name

FIXTURES = Path(__file__).parent / "fixtures" / "lab"
LAB = lab_name("pfm")
check_golden = golden_checker(FIXTURES / "golden")


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODFENCE_LAB_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.mark.lab
@pytest.mark.parametrize("output", ["text", "json"])
def test_compare_report_when_packets_and_engine_agree(output: str, update_goldens: bool) -> None:
    done = podfence("lab", "matrix", "-f", str(FIXTURES / "denials.yaml"), "--port", "80", "--compare",
                    "-o", output, "--name", LAB)
    assert done.returncode == 0, done.stderr
    check_golden(f"compare-agree.{output}", done.stdout, update_goldens)
