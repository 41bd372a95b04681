"""What a lint rule is: permanent identity, documentation, lifecycle group, and a check.

A check reads a :class:`~podfence.lint.context.LintContext` and yields
:class:`Hit` values (which object, which field, what is wrong). The runner turns
hits into :class:`~podfence.lint.finding.Finding` values, applying the
configuration and suppressions, so checks never deal with either.

A rule's example manifests are package data beside the code
(``podfence/lint/examples/<ID>/bad.yaml`` and ``good.yaml``), read by the
registry when the documentation is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Callable, Iterable, Union

from podfence.model import ClusterPolicy, FieldPath, Namespace, NetworkPolicy, Pod, Severity

if TYPE_CHECKING:
    from podfence.lint.context import LintContext

LintObject = Union[NetworkPolicy, Pod, Namespace, ClusterPolicy]


class Category(StrEnum):
    """Rule families; the hundreds digit of a rule ID says which."""

    COVERAGE = "coverage"  # NP1xx: isolation and DNS
    DEAD = "dead"  # NP2xx: parts that do nothing, or nothing new
    CONFUSION = "confusion"  # NP3xx: written one way, meant another
    EXPOSURE = "exposure"  # NP4xx: too much allowed
    COMPLIANCE = "compliance"  # NP5xx: sensitive data
    TIERS = "tiers"  # NP6xx: cluster-wide policies (Admin and Baseline tiers)
    META = "meta"  # NP9xx: podfence's own annotations


class Group(StrEnum):
    """Where a rule is in its life; IDs stay taken in every group, so old settings still load.

    * ``stable``: runs by default.
    * ``preview``: runs only in preview mode (``--preview`` or ``lint.preview: true``).
    * ``deprecated``: still runs; naming it (config, flags, annotations) is a warning.
    * ``removed``: never runs; naming it is a warning, never an error.
    """

    STABLE = "stable"
    PREVIEW = "preview"
    DEPRECATED = "deprecated"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Hit:
    """One thing a check found: the object it is about, the field, and what is wrong."""

    object: LintObject
    message: str
    field: FieldPath = ()


Check = Callable[["LintContext"], Iterable[Hit]]


@dataclass(frozen=True, slots=True)
class LintRule:
    """A lint rule: permanent ID (``NP101``), kebab-case name, default severity, docs and check.

    ``group`` is the rule's lifecycle group. ``options`` are the ``.podfence.yaml``
    keys the check reads (``sensitive.allowed_from``), listed on the rule's page.
    """

    id: str
    name: str
    severity: Severity
    category: Category
    summary: str
    rationale: str
    fix: str
    check: Check
    group: Group = Group.STABLE
    options: tuple[str, ...] = ()

    @property
    def doc_path(self) -> str:
        return f"docs/rules/{self.id}.md"


def rule(*, id: str, name: str, severity: Severity, category: Category, summary: str, rationale: str,
         fix: str, group: Group = Group.STABLE, options: tuple[str, ...] = ()) -> Callable[[Check], LintRule]:
    """Decorate a check function to make it a :class:`LintRule`."""

    def wrap(check: Check) -> LintRule:
        return LintRule(id, name, severity, category, " ".join(summary.split()), _para(rationale), _para(fix),
                        check, group, tuple(options))

    return wrap


def _para(text: str) -> str:
    """Paragraphs of a triple-quoted string, each joined onto one line."""
    return "\n\n".join(" ".join(p.split()) for p in text.strip().split("\n\n"))
