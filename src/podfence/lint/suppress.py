"""Suppressions written on the objects themselves.

An object (NetworkPolicy, workload or Pod, Namespace) may carry the annotation
``podfence.io/ignore`` with one or more entries separated by ``;`` or new lines,
each ``RULES: reason``, where RULES is one rule ID or name, or several separated
by commas::

    podfence.io/ignore: "NP201: kept for the migration, see OPS-12; NP305, NP301: reviewed"

A finding about that object from a listed rule is not reported. Every entry needs
a reason; one without is reported itself (NP901), and so is an entry naming a rule
that does not exist (NP902).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from podfence.model import Labels

IGNORE_ANNOTATION = "podfence.io/ignore"
_SPLIT = re.compile(r"[;\n]")
_IDS = re.compile(r"[,\s]+")


@dataclass(frozen=True, slots=True)
class Suppression:
    """One entry: the rules it names (as written) and the reason ("" when missing)."""

    rules: tuple[str, ...]
    reason: str
    text: str


def suppressions(annotations: Labels) -> tuple[Suppression, ...]:
    """The entries of an object's ``podfence.io/ignore`` annotation.

    >>> [(s.rules, s.reason) for s in suppressions(Labels({IGNORE_ANNOTATION: "NP201, NP202: legacy; NP305"}))]
    [(('NP201', 'NP202'), 'legacy'), (('NP305',), '')]
    """
    value = annotations.get(IGNORE_ANNOTATION)
    if value is None:
        return ()
    out = []
    for entry in _SPLIT.split(value):
        entry = entry.strip()
        if not entry:
            continue
        head, _, reason = entry.partition(":")
        rules = tuple(r for r in _IDS.split(head.strip()) if r)
        out.append(Suppression(rules, reason.strip(), entry))
    return tuple(out)
