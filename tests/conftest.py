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
