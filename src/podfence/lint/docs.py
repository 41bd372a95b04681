"""Rule documentation pages, generated from the registry.

``docs/rules/<ID>.md`` is written by ``podfence lint --rules-doc docs/rules`` and a
test checks that the checked-in pages equal what this module generates, so the
docs cannot drift from the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from podfence.config import DEFAULT_CONFIG
from podfence.lint.rule import Category, Group, LintRule

if TYPE_CHECKING:  # the registry imports every rule module
    from podfence.lint.registry import Registry

CATEGORY_TITLES = {
    Category.COVERAGE: "Coverage (NP1xx): isolation and DNS",
    Category.DEAD: "Dead, dangling and redundant parts (NP2xx)",
    Category.CONFUSION: "Classic confusions (NP3xx)",
    Category.EXPOSURE: "Exposure (NP4xx)",
    Category.COMPLIANCE: "Sensitive data (NP5xx)",
    Category.TIERS: "Cluster-wide policies, Admin and Baseline tiers (NP6xx)",
    Category.META: "podfence annotations (NP9xx)",
}


def option_default(key: str) -> object:
    """The default of a ``.podfence.yaml`` key (``sensitive.allowed_from``); AttributeError if there is none."""
    value: object = DEFAULT_CONFIG
    for part in key.split("."):
        value = getattr(value, part)
    return value


def _yaml(value: object) -> str:
    """A default as it would be written in ``.podfence.yaml``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return f"`[{', '.join(str(v) for v in value)}]`"
    if isinstance(value, Mapping):
        return f"`{{{', '.join(f'{k}: {v}' for k, v in value.items())}}}`"
    return f"`{value}`"


def _options(r: LintRule) -> str:
    if not r.options:
        return "This rule has no options."
    lines = ["Keys of `.podfence.yaml` this rule reads:", ""]
    for key in r.options:
        one_run = f"; `--set {key.partition('.')[2]}=...` for one run" if key.startswith("settings.") else ""
        lines.append(f"- `{key}` (default: {_yaml(option_default(key))}{one_run})")
    return "\n".join(lines)


def _group(r: LintRule, registry: Registry) -> str:
    ref = registry.refer(r.id)
    use = f"; use [{ref.instead.id}]({ref.instead.id}.md) ({ref.instead.name}) instead" if ref.instead else ""
    text = {
        Group.STABLE: "Group: **stable** (runs by default).",
        Group.PREVIEW: "Group: **preview**: runs only with `--preview` or `lint: {preview: true}` in `.podfence.yaml`.",
        Group.DEPRECATED: f"Group: **deprecated**: still runs, and will be removed{use}.",
        Group.REMOVED: f"Group: **removed**: no longer runs; the ID stays reserved so that old settings still "
                       f"load{use}.",
    }[r.group]
    old = sorted(o for o, n in registry.redirects.items() if n == r.id and registry.get(o) is None)
    if old:
        text += f" Old ID{'s' if len(old) > 1 else ''}, still accepted: {', '.join(f'`{o}`' for o in old)}."
    return text


def rule_page(r: LintRule, registry: Registry | None = None) -> str:
    """One rule's page: group, what it does, why it matters, example, use instead, fix, options."""
    if registry is None:
        from podfence.lint.registry import REGISTRY as registry
    examples = registry.examples(r.id)
    return (
        f"# {r.id} {r.name}\n\n"
        f"Default severity: **{r.severity.value}**. Category: {CATEGORY_TITLES[r.category]}.\n\n"
        f"{_group(r, registry)}\n\n"
        f"## What it does\n\n{r.summary}\n\n"
        f"## Why it matters\n\n{r.rationale}\n\n"
        f"## Example\n\n```yaml\n{examples.bad}```\n\n"
        f"## Use instead\n\n```yaml\n{examples.good}```\n\n"
        f"## Fix\n\n{r.fix}\n\n"
        f"## Options\n\n{_options(r)}\n\n"
        f"## Configure\n\n"
        f"In `.podfence.yaml`: `lint: {{rules: {{{r.id}: {{enabled: false}}}}}}` turns it off, "
        f"`{{severity: note}}` changes its severity. On one object: the annotation "
        f"`podfence.io/ignore: \"{r.id}: reason\"`.\n"
    )


_CHOOSING = """\
## Groups

Every rule belongs to one group, named on its page:

- **stable**: runs by default.
- **preview**: new rules still being tuned; they run only with `--preview` or
  `lint: {preview: true}` in `.podfence.yaml` (`--no-preview` turns them off for one run).
- **deprecated**: still runs, and will be removed. Naming it in `.podfence.yaml`,
  `--select`/`--ignore` or a `podfence.io/ignore` annotation prints a warning with
  the rule to use instead.
- **removed**: no longer runs. Its ID stays reserved: naming it prints a warning,
  never an error.

## Choosing rules

`podfence lint` and `podfence audit` take `--select` and `--ignore`, repeatable and
comma-separated, each a rule ID (`NP101`), a rule name (`redundant-rule`), an ID
prefix (`NP1`, `NP30`) or `ALL`. A rule runs when, in this order, each step over
the ones before it (flags over the configuration):

1. its group lets it run (above);
2. `.podfence.yaml` leaves it on (`lint: {rules: {NP208: {enabled: false}}}` turns it off);
3. `--select`, when given, names it (then step 2 does not count);
4. `--ignore` does not name it (ignore wins over select).

A rule's severity is `lint.rules.<ID>.severity`, else its default. An unknown ID,
name or prefix in a flag is an error (exit 2) that names the flag and the closest
rule; in `.podfence.yaml` it is a warning, in an annotation a finding (NP902).

## Redirects

A renamed rule keeps its old ID as a redirect: the old ID still works in
`--select`/`--ignore`, `lint.rules` and `podfence.io/ignore` annotations, with a
note naming the new ID.
"""


def index_page(registry: Registry) -> str:
    """``docs/rules/README.md``: every rule by category, then groups, selection and redirects."""
    rules = registry.rules
    lines = ["# podfence lint rules", "",
             "Generated from the rule registry (`podfence lint --rules-doc docs/rules --force`); do not edit.", ""]
    for category, title in CATEGORY_TITLES.items():
        chosen = [r for r in rules if r.category is category]
        if not chosen:
            continue
        lines += [f"## {title}", "", "| ID | name | severity | what |", "|---|---|---|---|"]
        lines += [f"| [{r.id}]({r.id}.md) | {r.name} | {r.severity.value} | "
                  f"{'' if r.group is Group.STABLE else f'**{r.group}**: '}{r.summary} |" for r in chosen]
        lines.append("")
    lines.append(_CHOOSING)
    moved = sorted((o, n) for o, n in registry.redirects.items() if registry.get(o) is None)
    if moved:
        lines += ["| old ID | now |", "|---|---|"]
        lines += [f"| {o} | [{n}]({n}.md) |" for o, n in moved]
        lines.append("")
    else:
        lines += ["No rule has been renamed so far.", ""]
    return "\n".join(lines)


def pages(registry: Registry | None = None) -> dict[str, str]:
    """File name -> content for the whole ``docs/rules`` folder."""
    if registry is None:
        from podfence.lint.registry import REGISTRY as registry
    out = {f"{r.id}.md": rule_page(r, registry) for r in registry.rules}
    out["README.md"] = index_page(registry)
    return out
