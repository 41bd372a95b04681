"""Rule documentation pages, generated from the registry.

``docs/rules/<ID>.md`` is written by ``podfence lint --rules-doc docs/rules`` and a
test checks that the checked-in pages equal what this module generates, so the
docs cannot drift from the rules.
"""

from __future__ import annotations

from podfence.lint.rule import Category, LintRule

CATEGORY_TITLES = {
    Category.COVERAGE: "Coverage (NP1xx): isolation and DNS",
    Category.DEAD: "Dead, dangling and redundant parts (NP2xx)",
    Category.CONFUSION: "Classic confusions (NP3xx)",
    Category.EXPOSURE: "Exposure (NP4xx)",
    Category.COMPLIANCE: "Sensitive data (NP5xx)",
    Category.META: "podfence annotations (NP9xx)",
}


def rule_page(r: LintRule) -> str:
    """One rule's page: what it does, why it matters, example, use instead, fix."""
    return (
        f"# {r.id} {r.name}\n\n"
        f"Default severity: **{r.severity.value}**. Category: {CATEGORY_TITLES[r.category]}.\n\n"
        f"## What it does\n\n{r.summary}\n\n"
        f"## Why it matters\n\n{r.rationale}\n\n"
        f"## Example\n\n```yaml\n{r.bad}```\n\n"
        f"## Use instead\n\n```yaml\n{r.good}```\n\n"
        f"## Fix\n\n{r.fix}\n\n"
        f"## Configure\n\n"
        f"In `.podfence.yaml`: `lint: {{rules: {{{r.id}: {{enabled: false}}}}}}` turns it off, "
        f"`{{severity: note}}` changes its severity. On one object: the annotation "
        f"`podfence.io/ignore: \"{r.id}: reason\"`.\n"
    )


def index_page(rules: tuple[LintRule, ...]) -> str:
    """``docs/rules/README.md``: every rule by category."""
    lines = ["# podfence lint rules", "",
             "Generated from the rule registry (`podfence lint --rules-doc docs/rules --force`); do not edit.", ""]
    for category, title in CATEGORY_TITLES.items():
        chosen = [r for r in rules if r.category is category]
        if not chosen:
            continue
        lines += [f"## {title}", "", "| ID | name | severity | what |", "|---|---|---|---|"]
        lines += [f"| [{r.id}]({r.id}.md) | {r.name} | {r.severity.value} | {r.summary} |" for r in chosen]
        lines.append("")
    return "\n".join(lines)


def pages(rules: tuple[LintRule, ...]) -> dict[str, str]:
    """File name -> content for the whole ``docs/rules`` folder."""
    out = {f"{r.id}.md": rule_page(r) for r in rules}
    out["README.md"] = index_page(rules)
    return out
