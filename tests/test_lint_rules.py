"""Every lint rule: fixtures that must and must not fire, snapshots, examples, docs, identity.

Fixtures live in tests/fixtures/lint/<ID>/: ``fail-*.yaml`` must make the rule
fire, ``pass-*.yaml`` must not. A fixture may have a ``<name>.config.yaml``
beside it (a ``.podfence.yaml``). The findings of each rule on its fixtures are
snapshotted in tests/fixtures/golden/lint/<ID>.txt (``pytest --update-goldens``).
The documented examples are package data: src/podfence/lint/examples/<ID>/bad.yaml
(must fire) and good.yaml (must not).
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from podfence.app.lint import narrow_lines
from podfence.config import DEFAULT_CONFIG, Config, config_from_dict
from podfence.lint import BY_ID, REGISTRY, RULES, Category, Finding, lint
from podfence.lint.docs import option_default, pages
from podfence.loader import load_texts
from podfence.render.lint import finding_line
from cli_support import golden_checker

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures" / "lint"
GOLDEN = HERE / "fixtures" / "golden" / "lint"
check_golden = golden_checker(GOLDEN)
DOCS = HERE.parent / "docs" / "rules"
PACKAGE = HERE.parent / "src" / "podfence"
EXAMPLES = PACKAGE / "lint" / "examples"
CATEGORY_DIGIT = {Category.COVERAGE: "1", Category.DEAD: "2", Category.CONFUSION: "3", Category.EXPOSURE: "4",
                  Category.COMPLIANCE: "5", Category.TIERS: "6",
                  Category.META: "9"}


def _config(raw: object) -> Config:
    config, problems = config_from_dict(raw)
    assert not problems, problems
    return config


def run(name: str, text: str, config: Config = DEFAULT_CONFIG) -> list[Finding]:
    result = load_texts([(name, text)], keep_documents=True)
    assert result.ok, [d.one_line() for d in result.diagnostics if d.is_error]
    return narrow_lines(lint(result.cluster, config), result.documents)


def fixture_config(path: Path) -> Config:
    side = path.with_name(path.stem + ".config.yaml")
    return _config(yaml.safe_load(side.read_text())) if side.exists() else DEFAULT_CONFIG


def example_config(text: str) -> Config:
    """Examples that need a configuration say so in a first comment line."""
    first = text.splitlines()[0]
    if first.startswith("# .podfence.yaml:"):
        return _config(yaml.safe_load(first.partition(":")[2]))
    return DEFAULT_CONFIG


def fixtures() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("NP*/*.yaml") if not p.name.endswith(".config.yaml"))


def test_rules_are_well_formed() -> None:
    ids = [r.id for r in RULES]
    names = [r.name for r in RULES]
    assert len(RULES) >= 30
    assert len(set(ids)) == len(ids) and len(set(names)) == len(names)
    for r in RULES:
        assert re.fullmatch(r"NP\d{3}", r.id), r.id
        assert r.id[2] == CATEGORY_DIGIT[r.category], f"{r.id} is in the wrong hundred for {r.category}"
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", r.name), r.name
        assert r.summary and r.rationale and r.fix
    assert ids == sorted(ids), "keep the registry in ID order"


@pytest.mark.parametrize("rule_id", [r.id for r in RULES])
def test_every_rule_has_fixtures_and_a_page(rule_id: str) -> None:
    folder = FIXTURES / rule_id
    assert list(folder.glob("fail-*.yaml")), f"{rule_id} needs a fail-* fixture"
    assert [p for p in folder.glob("pass-*.yaml") if not p.name.endswith(".config.yaml")], \
        f"{rule_id} needs a pass-* fixture"
    assert (DOCS / f"{rule_id}.md").exists(), f"docs/rules/{rule_id}.md is missing"


def test_no_fixtures_for_unknown_rules() -> None:
    assert {p.name for p in FIXTURES.glob("NP*")} <= set(BY_ID)


@pytest.mark.parametrize("path", fixtures(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture(path: Path) -> None:
    rule_id = path.parent.name
    found = [f for f in run(path.name, path.read_text(), fixture_config(path)) if f.rule == rule_id]
    if path.name.startswith("fail-"):
        assert found, f"{rule_id} did not fire on {path.name}"
        assert all(f.severity is BY_ID[rule_id].severity for f in found)
        assert all(f.name == BY_ID[rule_id].name and f.fix == BY_ID[rule_id].fix for f in found)
    else:
        assert not found, [finding_line(f) for f in found]


@pytest.mark.parametrize("rule_id", [r.id for r in RULES])
def test_snapshot(rule_id: str, update_goldens: bool) -> None:
    lines = []
    for path in fixtures():
        if path.parent.name != rule_id:
            continue
        lines.append(f"== {path.name}")
        lines += [finding_line(f) for f in run(path.name, path.read_text(), fixture_config(path))
                  if f.rule == rule_id]
    check_golden(f"{rule_id}.txt", "\n".join(lines) + "\n", update_goldens)


@pytest.mark.parametrize("rule_id", [r.id for r in RULES])
def test_documented_examples(rule_id: str) -> None:
    examples = REGISTRY.examples(rule_id)
    bad = [f for f in run("bad.yaml", examples.bad, example_config(examples.bad)) if f.rule == rule_id]
    good = [f for f in run("good.yaml", examples.good, example_config(examples.good)) if f.rule == rule_id]
    assert bad, f"the bad example of {rule_id} does not make it fire"
    assert not good, [finding_line(f) for f in good]


def test_examples_are_package_data_for_exactly_the_registered_rules() -> None:
    assert sorted(p.name for p in EXAMPLES.iterdir()) == sorted(BY_ID)
    patterns = tomllib.loads((HERE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for folder in EXAMPLES.iterdir():
        assert sorted(p.name for p in folder.iterdir()) == ["bad.yaml", "good.yaml"], folder.name
        for path in folder.iterdir():
            rel = path.relative_to(PACKAGE).as_posix()
            assert any(fnmatch.fnmatch(rel, pattern) for pattern in patterns["podfence"]), \
                f"{rel} is not package data in pyproject.toml"
            assert path.read_text().endswith("\n") and not path.read_text().endswith("\n\n")


@pytest.mark.parametrize("rule_id", [r.id for r in RULES])
def test_options_are_config_keys(rule_id: str) -> None:
    for key in BY_ID[rule_id].options:
        *parents, leaf = key.split(".")
        raw: dict = {}
        node = raw
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = None
        _, problems = config_from_dict(raw)
        unknown = [d for d in problems if d.message.startswith("unknown field")]
        assert not unknown, f"{rule_id} option {key}: {[d.one_line() for d in unknown]}"
        option_default(key)  # and it has a default to show on the page


def test_docs_match_the_registry() -> None:
    wanted = pages(REGISTRY)
    present = {p.name for p in DOCS.glob("*.md")}
    assert present == set(wanted), "regenerate: podfence lint --rules-doc docs/rules --force"
    for name, text in wanted.items():
        assert (DOCS / name).read_text() == text, \
            f"docs/rules/{name} is stale: podfence lint --rules-doc docs/rules --force"


def test_lint_is_pure() -> None:
    impure = {"os", "sys", "time", "pathlib", "subprocess", "socket", "random", "shutil", "tempfile", "io"}
    for path in (HERE.parent / "src" / "podfence" / "lint").rglob("*.py"):
        for line in path.read_text().splitlines():
            m = re.match(r"\s*(?:import|from)\s+([\w.]+)", line)
            if m:
                assert m.group(1).split(".")[0] not in impure, f"{path.name} imports {m.group(1)}"
