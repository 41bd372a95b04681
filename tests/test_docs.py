"""The docs stand alone: podfence's semantics are stated in the repository and linked."""

from __future__ import annotations

from dataclasses import fields

from cli_support import ROOT

from podfence.model import Settings

SEMANTICS = ROOT / "docs" / "semantics.md"


def test_semantics_states_every_setting_with_its_default() -> None:
    text = SEMANTICS.read_text()
    for f in fields(Settings):
        row = next((line for line in text.splitlines() if line.startswith(f"| `{f.name}` |")), None)
        assert row is not None, f"docs/semantics.md does not state the setting {f.name}"
        default = str(f.default).lower() if isinstance(f.default, (bool, str)) else "empty"
        assert f"| {default} |" in row, row
    for section in ("## Defaulting", "## Evaluation", "## Special traffic", "## Settings"):
        assert section in text


def test_semantics_is_linked_and_no_doc_points_at_a_missing_spec() -> None:
    assert "docs/semantics.md" in (ROOT / "README.md").read_text()
    assert "(semantics.md)" in (ROOT / "docs" / "architecture.md").read_text()
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "examples").rglob("*.md"))]:
        text = path.read_text().lower()
        assert "semantics spec" not in text and "the spec's" not in text and "spec §" not in text, path
