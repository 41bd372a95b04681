"""Running the rules: configuration, suppressions, order."""

from __future__ import annotations

from typing import Sequence

from podfence.config import DEFAULT_CONFIG, Config
from podfence.lint.context import LintContext
from podfence.lint.finding import Finding, object_label
from podfence.lint.rule import Category, LintObject, LintRule
from podfence.lint.suppress import suppressions
from podfence.model import Cluster, Namespace, Settings, Source


def lint(cluster: Cluster, config: Config = DEFAULT_CONFIG, settings: Settings | None = None,
         rules: Sequence[LintRule] | None = None) -> list[Finding]:
    """Every finding of the enabled rules, sorted by file, line and rule.

    Args:
        cluster: the loaded cluster (validation errors must have stopped the caller).
        config: rule settings, DNS target, sensitivity (``.podfence.yaml``).
        settings: evaluation settings; the config's when None.
        rules: the rules to run; every registered rule when None.
    """
    from podfence.lint.registry import RULES

    chosen = RULES if rules is None else tuple(rules)
    ctx = LintContext(cluster, config, settings)
    ctx.known_rules = {r.id: r.name for r in RULES}
    by_name = {r.name: r.id for r in RULES}
    ignored: dict[int, set[str]] = {}
    out: list[Finding] = []
    for r in chosen:
        setting = config.lint.rule(r.id)
        if not setting.enabled:
            continue
        severity = setting.severity or r.severity
        for hit in r.check(ctx):
            if r.category is not Category.META and r.id in _ignored(hit.object, ignored, by_name):
                continue
            source = hit.object.source or _stand_in(ctx, hit.object)
            out.append(Finding(r.id, r.name, severity, hit.message, r.fix, object_label(hit.object), hit.field,
                               source.file if source else None, source.line if source else None))
    return sorted(out, key=Finding.sort_key)


def _stand_in(ctx: LintContext, obj: LintObject) -> Source | None:
    """For a namespace no manifest declares: where its first object is written."""
    if not isinstance(obj, Namespace):
        return None
    found = [o.source for o in (*ctx.cluster.policies, *ctx.cluster.pods)
             if o.namespace == obj.name and o.source is not None]
    return min(found, key=lambda s: (s.file, s.line)) if found else None


def _ignored(obj: LintObject, cache: dict[int, set[str]], by_name: dict[str, str]) -> set[str]:
    hit = cache.get(id(obj))
    if hit is None:
        hit = {by_name.get(name, name) for entry in suppressions(obj.annotations) for name in entry.rules}
        cache[id(obj)] = hit
    return hit
