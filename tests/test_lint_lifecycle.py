"""Rule groups and redirects, on a registry built here with test-only rules.

The real registry has only stable rules and no redirects, so the mechanics are
shown on a small one: NP111 is stable, NP112 preview, NP113 deprecated (use
NP111 instead), NP114 removed (use NP111 instead), NP115 removed with nothing in
its place, and NP119 is the old ID of NP111. Each test rule fires once per
namespace. The real NP902 (suppression of an unknown rule) rides along, to show
that every lifecycle ID counts as known.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import pytest

from podfence.config import DEFAULT_CONFIG, Config, config_from_dict
from podfence.lint import Group, Registry, lint
from podfence.lint.context import LintContext
from podfence.lint.docs import index_page, rule_page
from podfence.lint.registry import Examples
from podfence.lint.rule import Category, Hit, LintRule, rule
from podfence.lint.rules.meta import suppression_of_unknown_rule
from podfence.lint.selection import (
    config_references, parse_selectors, plan_rules, suppression_references,
)
from podfence.loader import load_texts
from podfence.model import Severity


def fires_per_namespace(rule_id: str, name: str, group: Group) -> LintRule:
    def check(ctx: LintContext) -> Iterator[Hit]:
        for ns in ctx.cluster.namespaces:
            yield Hit(ns, f"{rule_id} looked at {ns.name}")

    return rule(id=rule_id, name=name, severity=Severity.WARNING, category=Category.COVERAGE,
                summary=f"{name}.", rationale="Test only.", fix="Nothing.", group=group)(check)


STABLE = fires_per_namespace("NP111", "stable-check", Group.STABLE)
PREVIEW = fires_per_namespace("NP112", "preview-check", Group.PREVIEW)
DEPRECATED = fires_per_namespace("NP113", "old-check", Group.DEPRECATED)
REMOVED = fires_per_namespace("NP114", "gone-check", Group.REMOVED)
REMOVED_ALONE = fires_per_namespace("NP115", "lost-check", Group.REMOVED)
TEST_REGISTRY = Registry(
    (STABLE, PREVIEW, DEPRECATED, REMOVED, REMOVED_ALONE, suppression_of_unknown_rule),
    {"NP113": "NP111", "NP114": "NP111", "NP119": "NP111"},
    examples=lambda rule_id: Examples(f"# bad {rule_id}\n", f"# good {rule_id}\n"),
)

MANIFESTS = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  annotations:
    podfence.io/ignore: "NP119: renamed; NP113: still here; NP114, NP115: gone; NP1l1: typo"
---
apiVersion: v1
kind: Namespace
metadata: {name: bank}
"""


def config(raw: object) -> Config:
    cfg, problems = config_from_dict(raw)
    assert not problems, problems
    return cfg


def planned(cfg: Config = DEFAULT_CONFIG, *, select: Sequence[str] | None = None, ignore: Sequence[str] = (),
            preview: bool | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    """(rule ID, severity) of what runs, and what the user is told, for flags as the CLI passes them."""
    chosen, said = parse_selectors("--select", select or (), TEST_REGISTRY)
    dropped, said_too = parse_selectors("--ignore", ignore, TEST_REGISTRY)
    plan, notes = plan_rules(cfg, select=chosen if select is not None else None, ignore=dropped, preview=preview,
                             registry=TEST_REGISTRY)
    return ([(r.id, s.value) for r, s in plan.rules],
            [f"{d.severity.value}: {d.message}" for d in (*said, *said_too, *notes)])


def test_groups_decide_what_runs_by_default() -> None:
    assert planned() == ([("NP111", "warning"), ("NP113", "warning"), ("NP902", "warning")], [])


def test_preview_rules_run_only_in_preview_mode() -> None:
    with_preview = [("NP111", "warning"), ("NP112", "warning"), ("NP113", "warning"), ("NP902", "warning")]
    assert planned(preview=True)[0] == with_preview
    assert planned(config({"lint": {"preview": True}}))[0] == with_preview
    assert planned(config({"lint": {"preview": True}}), preview=False)[0] == planned()[0]
    # Naming a preview rule without preview mode runs nothing and says why.
    assert planned(select=["NP112"]) == ([], [
        "warning: --select NP112: NP112 is a preview rule: it runs only with --preview or lint.preview: true"])
    assert planned(select=["NP112"], preview=True) == ([("NP112", "warning")], [])


def test_deprecated_rules_run_and_naming_them_warns_with_the_replacement() -> None:
    assert planned(select=["NP113"]) == ([("NP113", "warning")], [
        "warning: --select NP113: NP113 (old-check) is deprecated and will be removed; use NP111 (stable-check) "
        "instead"])
    assert planned(select=["old-check"])[0] == [("NP113", "warning")]


def test_removed_rules_never_run_and_naming_them_is_a_warning() -> None:
    assert planned(select=["NP114", "NP115"]) == ([], [
        "warning: --select NP114: NP114 (gone-check) was removed, so it selects nothing; use NP111 (stable-check) "
        "instead",
        "warning: --select NP115: NP115 (lost-check) was removed, so it selects nothing"])
    assert planned(select=["ALL"], preview=True)[0] == [
        ("NP111", "warning"), ("NP112", "warning"), ("NP113", "warning"), ("NP902", "warning")]
    assert planned(ignore=["NP115"]) == (planned()[0], [
        "warning: --ignore NP115: NP115 (lost-check) was removed, so it ignores nothing"])


def test_a_prefix_of_removed_rules_only_warns() -> None:
    registry = Registry((STABLE, REMOVED), examples=TEST_REGISTRY.examples)
    chosen, said = parse_selectors("--ignore", ["NP114", "NP11"], registry)
    assert [sorted(s.ids) for s in chosen] == [[], ["NP111"]]
    only_removed = Registry((REMOVED, REMOVED_ALONE), examples=TEST_REGISTRY.examples)
    chosen, said = parse_selectors("--select", ["NP11"], only_removed)
    assert [s.ids for s in chosen] == [frozenset()]
    assert [d.message for d in said] == ["--select NP11: every rule it names was removed"]


def test_an_old_id_stands_for_the_new_one_in_flags_with_a_note() -> None:
    assert planned(select=["NP119"]) == ([("NP111", "warning")], ["note: --select NP119: NP119 is now NP111 "
                                                                  "(stable-check); write NP111"])
    assert planned(ignore=["NP119"])[0] == [("NP113", "warning"), ("NP902", "warning")]
    # A prefix covers the IDs rules have now, not old ones.
    assert planned(select=["NP11"])[0] == [("NP111", "warning"), ("NP113", "warning")]


def test_an_old_id_stands_for_the_new_one_in_the_config() -> None:
    cfg = config({"lint": {"rules": {"NP119": {"severity": "error"}}}})
    assert planned(cfg)[0][0] == ("NP111", "error")
    said = config_references(cfg, TEST_REGISTRY)
    assert [(d.severity, d.object, d.field_path, d.message) for d in said] == [
        (Severity.NOTE, "podfence config", "lint.rules.NP119", "NP119 is now NP111 (stable-check); write NP111")]
    # A setting under the current ID wins over one under the old ID, in either order.
    for rules in ({"NP119": {"severity": "error"}, "NP111": {"severity": "note"}},
                  {"NP111": {"severity": "note"}, "NP119": {"severity": "error"}}):
        assert planned(config({"lint": {"rules": rules}}))[0][0] == ("NP111", "note")


def test_config_names_of_lifecycle_rules_are_warnings_never_errors() -> None:
    cfg = config({"lint": {"rules": {"NP113": {"severity": "note"}, "NP114": {"enabled": False},
                                     "NP115": {}, "NP999": {}}}})
    assert [(d.severity, d.field_path, d.message) for d in config_references(cfg, TEST_REGISTRY)] == [
        (Severity.WARNING, "lint.rules.NP113",
         "NP113 (old-check) is deprecated and will be removed; use NP111 (stable-check) instead"),
        (Severity.WARNING, "lint.rules.NP114",
         "NP114 (gone-check) was removed, so the setting does nothing; use NP111 (stable-check) instead"),
        (Severity.WARNING, "lint.rules.NP115", "NP115 (lost-check) was removed, so the setting does nothing"),
        (Severity.WARNING, "lint.rules.NP999", "no such rule (see docs/rules)"),
    ]
    # The deprecated rule's setting still applies; the removed ones' do nothing.
    assert planned(cfg)[0] == [("NP111", "warning"), ("NP113", "note"), ("NP902", "warning")]


def test_annotations_honour_old_ids_and_warn_about_lifecycle_ids() -> None:
    result = load_texts([("ns.yaml", MANIFESTS)])
    assert result.ok
    plan, _ = plan_rules(registry=TEST_REGISTRY)
    found = [(f.rule, f.object) for f in lint(result.cluster, plan=plan)]
    # NP119 suppresses NP111 on shop, NP113 suppresses itself; only the typo is unknown (NP902).
    assert found == [("NP902", "Namespace shop"), ("NP111", "Namespace bank"), ("NP113", "Namespace bank")]
    said = suppression_references(result.cluster, TEST_REGISTRY)
    where = "ns.yaml:1: Namespace shop: metadata.annotations.podfence.io/ignore"
    assert [f"{d.severity.value}: {d.one_line()}" for d in said] == [
        f"note: {where}: NP119 is now NP111 (stable-check); write NP111",
        f"warning: {where}: NP113 (old-check) is deprecated and will be removed; use NP111 (stable-check) instead",
        f"warning: {where}: NP114 (gone-check) was removed, so the entry suppresses nothing; "
        "use NP111 (stable-check) instead",
        f"warning: {where}: NP115 (lost-check) was removed, so the entry suppresses nothing",
    ]


def test_unknown_names_in_flags_are_errors_with_a_suggestion() -> None:
    _, said = parse_selectors("--select", ["NP1l1", "NP8", "zzz", ""], TEST_REGISTRY)
    assert [(d.severity, d.message) for d in said] == [
        (Severity.ERROR, "--select NP1l1: no such rule ID, rule name, ID prefix or ALL (did you mean NP111?)"),
        (Severity.ERROR, "--select NP8: no rule ID starts with NP8 (families: NP1, NP9)"),
        (Severity.ERROR, "--select zzz: no such rule ID, rule name, ID prefix or ALL (see docs/rules)"),
        (Severity.ERROR, "--select '': expected rule IDs, ID prefixes or ALL, separated by commas"),
    ]


@pytest.mark.parametrize("rules, redirects, problem", [
    ((STABLE, PREVIEW), {"NP112": "NP111"}, "NP112 redirects to NP111 but is a preview rule"),
    ((STABLE,), {"NP119": "NP118"}, "NP119 redirects to NP118, which is no rule that runs"),
    ((STABLE, REMOVED, REMOVED_ALONE), {"NP114": "NP115"}, "NP114 redirects to NP115, which is no rule that runs"),
    ((STABLE, STABLE), {}, "NP111 is used by two rules"),
])
def test_the_registry_refuses_inconsistent_redirects(rules: tuple[LintRule, ...], redirects: dict[str, str],
                                                     problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Registry(rules, redirects)


def test_pages_show_the_group_the_replacement_and_old_ids() -> None:
    page = rule_page(DEPRECATED, TEST_REGISTRY)
    assert "\nGroup: **deprecated**: still runs, and will be removed; use [NP111](NP111.md) (stable-check) " \
           "instead.\n" in page
    assert "\nGroup: **removed**: no longer runs; the ID stays reserved so that old settings still load.\n" \
        in rule_page(REMOVED_ALONE, TEST_REGISTRY)
    assert "\nGroup: **preview**: runs only with `--preview` or `lint: {preview: true}` in `.podfence.yaml`.\n" \
        in rule_page(PREVIEW, TEST_REGISTRY)
    assert "\nGroup: **stable** (runs by default). Old ID, still accepted: `NP119`.\n" \
        in rule_page(STABLE, TEST_REGISTRY)
    assert "## Example\n\n```yaml\n# bad NP111\n```" in rule_page(STABLE, TEST_REGISTRY)
    index = index_page(TEST_REGISTRY)
    assert "| [NP112](NP112.md) | preview-check | warning | **preview**: preview-check. |" in index
    assert "| [NP111](NP111.md) | stable-check | warning | stable-check. |" in index
    assert index.endswith("| old ID | now |\n|---|---|\n| NP119 | [NP111](NP111.md) |\n")
