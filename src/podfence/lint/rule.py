"""What a lint rule is: permanent identity, documentation, and a check.

A check reads a :class:`~podfence.lint.context.LintContext` and yields
:class:`Hit` values (which object, which field, what is wrong). The runner turns
hits into :class:`~podfence.lint.finding.Finding` values, applying the
configuration and suppressions, so checks never deal with either.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Callable, Iterable, Union

from podfence.model import FieldPath, Namespace, NetworkPolicy, Pod, Severity

if TYPE_CHECKING:
    from podfence.lint.context import LintContext

LintObject = Union[NetworkPolicy, Pod, Namespace]


class Category(StrEnum):
    """Rule families; the hundreds digit of a rule ID says which."""

    COVERAGE = "coverage"  # NP1xx: isolation and DNS
    DEAD = "dead"  # NP2xx: parts that do nothing, or nothing new
    CONFUSION = "confusion"  # NP3xx: written one way, meant another
    EXPOSURE = "exposure"  # NP4xx: too much allowed
    COMPLIANCE = "compliance"  # NP5xx: sensitive data
    META = "meta"  # NP9xx: podfence's own annotations


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

    ``bad`` and ``good`` are complete manifests (YAML): ``bad`` must make the rule
    fire and ``good`` must not; tests run both, and the doc page shows them.
    """

    id: str
    name: str
    severity: Severity
    category: Category
    summary: str
    rationale: str
    bad: str
    good: str
    fix: str
    check: Check

    @property
    def doc_path(self) -> str:
        return f"docs/rules/{self.id}.md"


def rule(*, id: str, name: str, severity: Severity, category: Category, summary: str, rationale: str,
         bad: str, good: str, fix: str) -> Callable[[Check], LintRule]:
    """Decorate a check function to make it a :class:`LintRule`."""

    def wrap(check: Check) -> LintRule:
        return LintRule(id, name, severity, category, " ".join(summary.split()), _para(rationale),
                        _dedent(bad), _dedent(good), _para(fix), check)

    return wrap


def _para(text: str) -> str:
    """Paragraphs of a triple-quoted string, each joined onto one line."""
    return "\n\n".join(" ".join(p.split()) for p in text.strip().split("\n\n"))


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).strip("\n") + "\n"
