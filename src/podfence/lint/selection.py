"""Which lint rules run, and at which severity: the one place that decides.

Steps, each later one over the earlier ones (flags over the configuration):

1. The rule's group: stable and deprecated rules run; preview rules only in preview
   mode (``--preview``/``--no-preview``, else ``lint.preview`` in ``.podfence.yaml``);
   removed rules never.
2. ``lint.rules.<ID>.enabled`` in ``.podfence.yaml`` (default: on).
3. ``--select``, when given: exactly the rules it names are on, whatever step 2 said.
4. ``--ignore``: the rules it names are off, whatever steps 2 and 3 said.

The severity is ``lint.rules.<ID>.severity``, else the rule's default.

A selector (one ``--select``/``--ignore`` value) is a comma-separated list of rule
IDs (``NP101``), rule names (``redundant-rule``), ID prefixes (``NP1``, ``NP30``) or
``ALL``. Wherever a rule is named (flags, ``lint.rules``, ``podfence.io/ignore``
annotations) the registry resolves it: the old ID of a renamed rule stands for the
new one (a note says so), a deprecated or removed rule's ID is a warning. Unknown
names in flags are errors; elsewhere they keep their existing treatment (a warning
for the configuration, NP902 for annotations).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Sequence, assert_never

from podfence.config import DEFAULT_CONFIG, Config, RuleSetting
from podfence.lint.finding import object_label
from podfence.lint.registry import REGISTRY, Reference, Registry, Status
from podfence.lint.rule import Group, LintRule
from podfence.lint.suppress import IGNORE_ANNOTATION, suppressions
from podfence.model import Cluster, Diagnostic, Severity

REFERENCE = "R1"  # the code of diagnostics about how a rule is named
ALL = "ALL"
_ID_LIKE = re.compile(r"np\d*|all", re.IGNORECASE | re.ASCII)
_PREFIX = re.compile(r"NP\d{0,2}", re.ASCII)
_SPLIT = re.compile(r"[,\s]+")
_LOOKALIKES = str.maketrans("OIL", "011")


@dataclass(frozen=True, slots=True)
class Selector:
    """One entry of ``--select`` or ``--ignore``: the rule IDs it stands for.

    ``rule`` is the rule it names by ID or name (None for a prefix or ``ALL``).
    """

    text: str
    ids: frozenset[str]
    rule: LintRule | None = None


@dataclass(frozen=True, slots=True)
class RulePlan:
    """The rules that run, each with its severity, in registry order."""

    registry: Registry
    rules: tuple[tuple[LintRule, Severity], ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(r.id for r, _ in self.rules)


def runs_in(rule: LintRule, preview: bool) -> bool:
    """Step 1: whether the rule's group lets it run at all."""
    match rule.group:
        case Group.STABLE | Group.DEPRECATED:
            return True
        case Group.PREVIEW:
            return preview
        case Group.REMOVED:
            return False
        case _:
            assert_never(rule.group)


def parse_selectors(flag: str, values: Sequence[str],
                    registry: Registry = REGISTRY) -> tuple[tuple[Selector, ...], list[Diagnostic]]:
    """The selectors of one repeatable flag, and what to tell the user (errors: unknown names)."""
    out: list[Selector] = []
    diags: list[Diagnostic] = []
    for value in values:
        words = [w for w in _SPLIT.split(value) if w]
        if not words:
            diags.append(_say(Severity.ERROR, f"{flag} {value!r}: expected rule IDs, ID prefixes or ALL, "
                                              "separated by commas"))
        for word in words:
            found = _selector(flag, word, registry, diags)
            if found is not None:
                out.append(found)
    return tuple(out), diags


def _selector(flag: str, text: str, registry: Registry, diags: list[Diagnostic]) -> Selector | None:
    word = text.upper() if _ID_LIKE.fullmatch(text) else text.lower()
    if word == ALL:
        return Selector(word, frozenset(r.id for r in registry.rules if r.group is not Group.REMOVED))
    ref = registry.refer(word)
    if ref.status is not Status.UNKNOWN:
        said = reference_message(ref, "it selects nothing" if flag == "--select" else "it ignores nothing")
        if said is not None:
            diags.append(_say(said[0], f"{flag} {text}: {said[1]}"))
        target = ref.target
        return Selector(word, frozenset({target.id}) if target else frozenset(), target)
    if _PREFIX.fullmatch(word):
        matched = [r for r in registry.rules if r.id.startswith(word)]
        if matched:
            ids = frozenset(r.id for r in matched if r.group is not Group.REMOVED)
            if not ids:
                diags.append(_say(Severity.WARNING, f"{flag} {text}: every rule it names was removed"))
            return Selector(word, ids)
        families = ", ".join(sorted({r.id[:3] for r in registry.rules}))
        diags.append(_say(Severity.ERROR, f"{flag} {text}: no rule ID starts with {word} (families: {families})"))
        return None
    guess = did_you_mean(word, registry)
    hint = f"did you mean {guess}?" if guess else "see docs/rules"
    diags.append(_say(Severity.ERROR, f"{flag} {text}: no such rule ID, rule name, ID prefix or ALL ({hint})"))
    return None


def did_you_mean(word: str, registry: Registry = REGISTRY) -> str | None:
    """The closest rule ID, name or ``ALL`` to a misspelt one; letters typed for digits (``NP1O1``) first."""
    known = registry.known()
    digits = word.upper().translate(_LOOKALIKES)
    if digits in known:
        return digits
    candidates = {c.upper(): c for c in (*known, *(r.name for r in registry.rules), ALL)}
    scored = [(difflib.SequenceMatcher(None, word.upper(), c).ratio(), c) for c in candidates]
    best = max((score for score, _ in scored), default=0.0)
    if best < 0.6:
        return None
    return candidates[min(c for score, c in scored if score == best)]


def rule_settings(config: Config, registry: Registry = REGISTRY) -> dict[str, RuleSetting]:
    """``lint.rules`` by the ID of the rule each entry acts on; an entry under the current ID wins."""
    out: dict[str, RuleSetting] = {}
    direct: set[str] = set()
    for text, setting in config.lint.rules:
        target = registry.refer(text).target
        if target is None or (target.id in direct and text != target.id):
            continue
        out[target.id] = setting
        if text == target.id:
            direct.add(target.id)
    return out


def plan_rules(config: Config = DEFAULT_CONFIG, *, select: Sequence[Selector] | None = None,
               ignore: Sequence[Selector] = (), preview: bool | None = None,
               registry: Registry = REGISTRY) -> tuple[RulePlan, list[Diagnostic]]:
    """The rules to run (see the module docstring for the order), and notes for the user.

    Args:
        config: ``lint.rules`` (enabled, severity) and ``lint.preview``.
        select: ``--select`` (None: not given, the configuration decides).
        ignore: ``--ignore``.
        preview: ``--preview`` (True) or ``--no-preview`` (False); None: ``lint.preview``.
        registry: the rules and redirects.
    """
    preview_on = config.lint.preview if preview is None else preview
    settings = rule_settings(config, registry)
    chosen = None if select is None else frozenset(i for s in select for i in s.ids)
    dropped = frozenset(i for s in ignore for i in s.ids)
    out = []
    for r in registry.rules:
        if not runs_in(r, preview_on) or r.id in dropped:
            continue
        setting = settings.get(r.id, RuleSetting())
        if (r.id in chosen) if chosen is not None else setting.enabled:
            out.append((r, setting.severity or r.severity))
    notes = [_say(Severity.WARNING, f"--select {s.text}: {s.rule.id} is a preview rule: it runs only with "
                                    "--preview or lint.preview: true")
             for s in select or () if s.rule is not None and s.rule.group is Group.PREVIEW and not preview_on]
    return RulePlan(registry, tuple(out)), notes


def config_references(config: Config, registry: Registry = REGISTRY) -> list[Diagnostic]:
    """What to tell about the rules ``lint.rules`` names (field paths set; the caller places them)."""
    out = []
    for text, _ in config.lint.rules:
        ref = registry.refer(text)
        said = reference_message(ref, "the setting does nothing")
        if ref.status is Status.UNKNOWN:
            said = (Severity.WARNING, "no such rule (see docs/rules)")
        if said is not None:
            out.append(Diagnostic(REFERENCE, said[0], said[1], ("lint", "rules", text), "podfence config"))
    return out


def suppression_references(cluster: Cluster, registry: Registry = REGISTRY) -> list[Diagnostic]:
    """What to tell about renamed, deprecated and removed rules named in ``podfence.io/ignore`` annotations.

    Unknown names are left to NP902, which reports them as findings.
    """
    out = []
    for obj in (*cluster.namespaces, *cluster.pods, *cluster.policies):
        for entry in suppressions(obj.annotations):
            for text in entry.rules:
                said = reference_message(registry.refer(text), "the entry suppresses nothing")
                if said is not None:
                    source = obj.source
                    out.append(Diagnostic(REFERENCE, said[0], said[1], ("metadata", "annotations", IGNORE_ANNOTATION),
                                          object_label(obj), source.file if source else None,
                                          source.line if source else None))
    return out


def reference_message(ref: Reference, removed_effect: str) -> tuple[Severity, str] | None:
    """The note (renamed) or warning (deprecated, removed) for a rule named by ``ref``; None when all is well."""
    r = ref.rule
    if r is None:
        return None
    use = f"; use {ref.instead.id} ({ref.instead.name}) instead" if ref.instead is not None else ""
    match ref.status:
        case Status.REDIRECTED:
            return Severity.NOTE, f"{ref.text} is now {r.id} ({r.name}); write {r.id}"
        case Status.DEPRECATED:
            return Severity.WARNING, f"{r.id} ({r.name}) is deprecated and will be removed{use}"
        case Status.REMOVED:
            return Severity.WARNING, f"{r.id} ({r.name}) was removed, so {removed_effect}{use}"
    return None


def _say(severity: Severity, message: str) -> Diagnostic:
    return Diagnostic(REFERENCE, severity, message)


__all__ = [
    "ALL", "REFERENCE", "RulePlan", "Selector", "config_references", "parse_selectors", "plan_rules",
    "did_you_mean", "reference_message", "rule_settings", "runs_in", "suppression_references",
]
