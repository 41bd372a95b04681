"""NP9xx: podfence's own annotations on the objects it lints."""

from __future__ import annotations

from typing import Iterator

from podfence.lint.context import LintContext
from podfence.lint.rule import Category, Hit, rule
from podfence.lint.suppress import IGNORE_ANNOTATION, suppressions
from podfence.model import Severity
from podfence.model.text import capped


@rule(
    id="NP901", name="suppression-without-reason", severity=Severity.WARNING,
    category=Category.META,
    summary="A podfence.io/ignore entry gives no reason.",
    rationale="""
        A suppression hides a finding from everyone who reads the lint output later. The
        reason is what lets a reviewer decide whether it still holds. The suppression
        still applies; this finding asks for the reason.
    """,
    fix="Write the reason after a colon: `podfence.io/ignore: \"NP201: why it is fine\"`.",
)
def suppression_without_reason(ctx: LintContext) -> Iterator[Hit]:
    for obj in ctx.objects():
        for entry in suppressions(obj.annotations):
            if not entry.reason:
                yield Hit(obj, f"{IGNORE_ANNOTATION} entry {capped(entry.text)!r} gives no reason",
                          ("metadata", "annotations", IGNORE_ANNOTATION))


@rule(
    id="NP902", name="suppression-of-unknown-rule", severity=Severity.WARNING,
    category=Category.META,
    summary="A podfence.io/ignore entry names a rule that does not exist.",
    rationale="""
        A typo in a suppression (`NP2O1`, `NP-201`) suppresses nothing, and the finding it
        was meant to silence is still reported, or the entry is dead weight.
    """,
    fix="Name the rule by its ID (`NP201`) or name (`policy-selects-no-pod`); see `docs/rules/`.",
)
def suppression_of_unknown_rule(ctx: LintContext) -> Iterator[Hit]:
    names = set(ctx.known_rules.values())
    for obj in ctx.objects():
        for entry in suppressions(obj.annotations):
            for name in entry.rules:
                if name not in ctx.known_rules and name not in names:
                    yield Hit(obj, f"{IGNORE_ANNOTATION} names {capped(name)!r}, which is no podfence rule",
                              ("metadata", "annotations", IGNORE_ANNOTATION))
