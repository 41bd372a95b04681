"""Golden file: the full diagnostic list for one deliberately terrible policy.

Regenerate with ``pytest tests/test_validate_golden.py --update-goldens`` and
review the diff line by line.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from podfence.validate import validate_network_policy
from cli_support import golden_checker

FIXTURES = Path(__file__).parent / "fixtures" / "validate"


def test_terrible_policy(update_goldens: bool) -> None:
    doc = yaml.safe_load((FIXTURES / "terrible.yaml").read_text())
    lines = [f"{d.code} {d.severity.value}: {d.one_line()}" for d in validate_network_policy(doc, namespace="default")]
    golden_checker(FIXTURES)("terrible.expected", "\n".join(lines) + "\n", update_goldens)
