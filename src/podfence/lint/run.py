"""Running the rules: which ones (see :mod:`podfence.lint.selection`), suppressions, order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from podfence.config import DEFAULT_CONFIG, Config
from podfence.lint.context import LintContext
from podfence.lint.finding import Finding, ObjectRef
from podfence.lint.rule import Category, LintObject, LintRule
from podfence.lint.suppress import suppressions
from podfence.model import Cluster, Namespace, Origin, Settings

if TYPE_CHECKING:  # the registry imports every rule module, which import this package
    from podfence.lint.registry import Registry
    from podfence.lint.selection import RulePlan


def lint(cluster: Cluster, config: Config = DEFAULT_CONFIG, settings: Settings | None = None,
         rules: Sequence[LintRule] | None = None, *, plan: RulePlan | None = None) -> list[Finding]:
    """Every finding of the rules that run, sorted by file, line and rule.

    Args:
        cluster: the loaded cluster (validation errors must have stopped the caller).
        config: rule settings, DNS target, sensitivity (``.podfence.yaml``).
        settings: evaluation settings; the config's when None.
        rules: only these rules, of those the plan runs; all of them when None.
        plan: the rules to run and their severities; when None, what ``config`` alone
            chooses from the registry (:func:`podfence.lint.selection.plan_rules`).
    """
    from podfence.lint.selection import plan_rules

    if plan is None:
        plan, _ = plan_rules(config)
    chosen = plan.rules
    if rules is not None:
        wanted = {r.id for r in rules}
        chosen = tuple((r, s) for r, s in chosen if r.id in wanted)
    ctx = LintContext(cluster, config, settings)
    ctx.known_rules = plan.registry.known()
    ignored: dict[int, set[str]] = {}
    out: list[Finding] = []
    for r, severity in chosen:
        for hit in r.check(ctx):
            if r.category is not Category.META and r.id in _ignored(hit.object, ignored, plan.registry):
                continue
            source = hit.object.source or _stand_in(ctx, hit.object)
            out.append(Finding(r.id, r.name, severity, hit.message, r.fix, ObjectRef.of(hit.object, source),
                               hit.field, source.line if source else None))
    return sorted(out, key=Finding.sort_key)


def _stand_in(ctx: LintContext, obj: LintObject) -> Origin | None:
    """For a namespace no manifest declares: where its first object is written."""
    if not isinstance(obj, Namespace):
        return None
    found = [o.source for o in (*ctx.cluster.policies, *ctx.cluster.pods)
             if o.namespace == obj.name and o.source is not None]
    return min(found, key=lambda s: (s.file, s.line or 0)) if found else None


def _ignored(obj: LintObject, cache: dict[int, set[str]], registry: Registry) -> set[str]:
    """IDs of the rules an object's suppressions act on (old IDs of renamed rules count for the new ones)."""
    hit = cache.get(id(obj))
    if hit is None:
        hit = set()
        for entry in suppressions(obj.annotations):
            for name in entry.rules:
                target = registry.refer(name).target
                if target is not None:
                    hit.add(target.id)
        cache[id(obj)] = hit
    return hit
