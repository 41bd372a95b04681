"""Shared pytest setup for podfence's tests.

Keep this small: options and fixtures used by more than one test module only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Helper modules that live beside the tests (oracle.py, random_clusters.py) are
# imported by plain name, whatever import mode pytest runs in.
sys.path.insert(0, str(Path(__file__).parent))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite golden files from the current output instead of comparing against them",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    """True when the run was started with ``--update-goldens``."""
    return bool(request.config.getoption("--update-goldens"))


# ---- podfence lab: tests marked `lab` need root and nftables ------------------------
# (owned by the lab tests; see tests/test_lab_support.py)
# Without root or nft such a test is skipped with the reason; with
# PODFENCE_REQUIRE_LAB=1 (set by CI, which runs as root) it fails instead, so a CI
# machine that lost nftables cannot pass by skipping.

def lab_gate_decision(problem: str | None, require: str | None) -> tuple[str, str]:
    """("run", "") when the lab can run, else ("skip" | "fail", why)."""
    if problem is None:
        return "run", ""
    if require == "1":
        return "fail", f"PODFENCE_REQUIRE_LAB=1 but {problem}"
    return "skip", problem


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("lab") is None:
        return
    import os

    from podfence.lab.linux import missing_requirement

    action, why = lab_gate_decision(missing_requirement(), os.environ.get("PODFENCE_REQUIRE_LAB"))
    if action == "fail":
        pytest.fail(why, pytrace=False)
    if action == "skip":
        pytest.skip(why)
