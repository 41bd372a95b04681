"""podfence lint -o sarif: valid SARIF 2.1.0 with what GitHub code scanning reads.

The schema is the OASIS SARIF 2.1.0 JSON schema (errata 01), vendored in
tests/fixtures/lint/sarif-schema-2.1.0.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from podfence.lint import RULES

HERE = Path(__file__).parent
ROOT = HERE.parent
SCHEMA = json.loads((HERE / "fixtures" / "lint" / "sarif-schema-2.1.0.json").read_text())
PODFENCE = Path(sys.executable).parent / "podfence"


def sarif(*args: str) -> dict:  # type: ignore[type-arg]
    r = subprocess.run([str(PODFENCE), "lint", "-o", "sarif", *args], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


def test_valid_against_the_official_schema() -> None:
    log = sarif("-f", "examples/baa")
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["version"] == "2.1.0"


def test_schema_check_is_real() -> None:
    log = sarif("-f", "examples/baa")
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert list(jsonschema.Draft4Validator(SCHEMA).iter_errors(log))


def test_what_code_scanning_needs() -> None:
    log = sarif("-f", "examples/baa")
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in RULES]
    assert all(r["shortDescription"]["text"] and r["fullDescription"]["text"] and r["help"]["markdown"]
               for r in rules)
    results = run["results"]
    assert {r["ruleId"] for r in results} == {"NP201", "NP208", "NP301", "NP302", "NP307", "NP309"}
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] in {"warning", "note"}
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"].startswith("examples/baa/policies/")
        assert loc["region"]["startLine"] >= 1
        assert len(r["partialFingerprints"]["podfenceFinding/v1"]) == 64
    assert len({r["partialFingerprints"]["podfenceFinding/v1"] for r in results}) == len(results)


def test_fingerprints_survive_moving_lines(tmp_path: Path) -> None:
    source = (ROOT / "examples" / "baa" / "policies" / "monitoring.yaml").read_text()
    moved = tmp_path / "monitoring.yaml"
    moved.write_text("# a comment that moves every line down\n\n" + source)
    first = sarif("-f", str(ROOT / "examples" / "baa" / "monitoring.yaml"), "-f",
                  str(ROOT / "examples" / "baa" / "policies" / "monitoring.yaml"))
    second = sarif("-f", str(ROOT / "examples" / "baa" / "monitoring.yaml"), "-f", str(moved))

    def prints(log: dict) -> dict:  # type: ignore[type-arg]
        return {r["ruleId"]: (r["partialFingerprints"]["podfenceFinding/v1"],
                              r["locations"][0]["physicalLocation"]["region"]["startLine"])
                for r in log["runs"][0]["results"] if "physicalLocation" in r["locations"][0]}

    a, b = prints(first)["NP201"], prints(second)["NP201"]
    assert a[0] == b[0] and b[1] == a[1] + 2
