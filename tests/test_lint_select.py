"""--select, --ignore and --preview on podfence lint and audit, through the console script.

The bundled example has five findings (NP201, NP208, NP301, NP302, NP307), which
is enough to see what each flag keeps.
"""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import podfence

EXAMPLE = "examples/baa"


def rules(*args: str, **kw: object) -> list[str]:
    r = podfence("lint", "-f", EXAMPLE, "-o", "json", *args, **kw)  # type: ignore[arg-type]
    assert r.returncode in (0, 1), r.stderr
    return sorted(f["rule"] for f in json.loads(r.stdout)["findings"])


def test_select_takes_ids_names_prefixes_and_all_repeatable_and_comma_separated() -> None:
    assert rules() == ["NP201", "NP208", "NP301", "NP302", "NP307", "NP309", "NP309"]
    assert rules("--select", "NP2") == ["NP201", "NP208"]
    assert rules("--select", "NP30") == ["NP301", "NP302", "NP307", "NP309", "NP309"]
    assert rules("--select", "NP201,NP302", "--select", "NP307") == ["NP201", "NP302", "NP307"]
    assert rules("--select", "policy-selects-no-pod") == ["NP201"]
    assert rules("--select", "np208") == ["NP208"]
    assert rules("--select", "ALL") == rules()
    r = podfence("lint", "-f", EXAMPLE, "--select", "NP1")
    assert (r.returncode, r.stdout, r.stderr) == (0, "ok: no findings\n", "")


def test_ignore_wins_over_select() -> None:
    assert rules("--ignore", "NP30") == ["NP201", "NP208"]
    assert rules("--select", "NP2", "--ignore", "NP208") == ["NP201"]
    assert rules("--select", "NP201", "--ignore", "NP2") == []
    assert rules("--select", "ALL", "--ignore", "ALL") == []


def test_an_unknown_rule_in_a_flag_is_one_line_naming_the_flag_with_a_suggestion() -> None:
    r = podfence("lint", "-f", EXAMPLE, "--select", "NP2,NP1O1")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == ("podfence lint: error: --select NP1O1: no such rule ID, rule name, ID prefix or ALL "
                        "(did you mean NP101?)\n")
    r = podfence("lint", "-f", EXAMPLE, "--ignore", "redundant-rules")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == ("podfence lint: error: --ignore redundant-rules: no such rule ID, rule name, ID prefix or ALL "
                        "(did you mean redundant-rule?)\n")


def test_a_prefix_no_rule_has_is_an_error() -> None:
    r = podfence("lint", "-f", EXAMPLE, "--ignore", "NP7")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == ("podfence lint: error: --ignore NP7: no rule ID starts with NP7 "
                        "(families: NP1, NP2, NP3, NP4, NP5, NP6, NP9)\n")
    r = podfence("lint", "-f", EXAMPLE, "--select", ",")
    assert r.returncode == 2
    assert r.stderr == "podfence lint: error: --select ',': expected rule IDs, ID prefixes or ALL, separated by commas\n"


def test_flags_come_before_reading_manifests() -> None:
    r = podfence("lint", "-f", "no/such/dir", "--select", "NPX")
    assert r.returncode == 2
    assert r.stderr.splitlines() == ["podfence lint: error: --select NPX: no such rule ID, rule name, ID prefix or ALL "
                                     "(see docs/rules)"]


def test_flags_over_config(tmp_path: Path) -> None:
    config = tmp_path / "podfence.yaml"
    config.write_text("lint:\n  rules:\n    NP208: {enabled: false}\n    NP201: {severity: error}\n")
    assert rules("--config", str(config)) == ["NP201", "NP301", "NP302", "NP307", "NP309", "NP309"]
    # --select decides which rules run, whatever `enabled` says; severities still come from the config.
    r = podfence("lint", "-f", EXAMPLE, "-o", "json", "--config", str(config), "--select", "NP20")
    found = {f["rule"]: f["severity"] for f in json.loads(r.stdout)["findings"]}
    assert found == {"NP201": "error", "NP208": "warning"}
    assert rules("--config", str(config), "--ignore", "NP201") == ["NP301", "NP302", "NP307", "NP309", "NP309"]


def test_preview_mode_from_flag_or_config(tmp_path: Path) -> None:
    # The registry has no preview rules today: preview mode must change nothing, and every spelling is accepted.
    everything = rules()
    assert rules("--preview") == everything
    config = tmp_path / "podfence.yaml"
    config.write_text("lint:\n  preview: true\n")
    assert rules("--config", str(config)) == everything
    assert rules("--config", str(config), "--no-preview") == everything
    config.write_text("lint:\n  preview: maybe\n")
    r = podfence("lint", "-f", EXAMPLE, "--config", str(config))
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == f"{config}:2: podfence config: lint.preview: must be true or false\n"


def test_config_rule_warnings_name_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "podfence.yaml"
    config.write_text("lint:\n  rules:\n    NP201: {severity: note}\n    NP999: {enabled: false}\n")
    r = podfence("lint", "-f", EXAMPLE, "--config", str(config))
    assert r.returncode == 1
    assert r.stderr == f"warning: {config}:4: podfence config: lint.rules.NP999: no such rule (see docs/rules)\n"


def test_audit_takes_the_same_flags() -> None:
    def audited(*args: str) -> list[str]:
        r = podfence("audit", "-f", EXAMPLE, "-o", "json", *args)
        assert r.returncode == 0, r.stderr
        return sorted(f["rule"] for ns in json.loads(r.stdout)["namespaces"] for f in ns["findings"])

    everything = audited()
    assert set(everything) == {"NP201", "NP208", "NP301", "NP302", "NP307", "NP309"}
    assert audited("--select", "NP3", "--ignore", "NP302") == [r for r in everything
                                                               if r in ("NP301", "NP307", "NP309")]
    assert audited("--ignore", "ALL") == []
    r = podfence("audit", "-f", EXAMPLE, "--select", "NP2O1")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == ("podfence audit: error: --select NP2O1: no such rule ID, rule name, ID prefix or ALL "
                        "(did you mean NP201?)\n")
