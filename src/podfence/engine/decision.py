"""What one side of a connection decides: (allowed, denied, passed), tier by tier.

For one direction at one pod, each tier of policies splits every connection into
three disjoint sets: the ones it allows, the ones it denies, and the ones it leaves
to the next tier (passed). Tiers run in order (:class:`podfence.engine.ir.Tier`);
a later tier decides only what the earlier ones passed; what every tier passes is
allowed by default. So a side allows ``allowed | passed`` of the composed decision.

The NetworkPolicy tier is the simplest row of that loop: a pod no NetworkPolicy
isolates in the direction leaves everything passed; an isolated pod gets allowed =
the union of the matching rules and denied = the rest, nothing passed.

:class:`SideDecision` is the exact form (one remote endpoint, ConnSets);
:class:`TierRows` is the same decision as bit rows over port atoms for many
remote classes at once, for the whole-cluster evaluator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, assert_never

import numpy as np

from podfence.engine.ir import Action
from podfence.sets import ConnSet

_ALL = ConnSet.all()
_NONE = ConnSet.none()


@dataclass(frozen=True, slots=True)
class SideDecision:
    """A partition of every connection into what a side allows, denies and passes on."""

    allowed: ConnSet
    denied: ConnSet
    passed: ConnSet

    @classmethod
    def undecided(cls) -> SideDecision:
        """Nothing decided: everything goes on to the next tier."""
        return _UNDECIDED

    @classmethod
    def decided(cls, allowed: ConnSet) -> SideDecision:
        """``allowed`` allowed and everything else denied, nothing passed (an isolated pod)."""
        if allowed.is_all():
            return _ALLOW_ALL
        return cls(allowed, _ALL - allowed, _NONE)

    @classmethod
    def first_match(cls, matches: Iterable[tuple[Action, ConnSet]], otherwise: Action) -> SideDecision:
        """Rules in order: each takes what it matches that no earlier rule took; ``otherwise`` takes the rest."""
        taken = {Action.ALLOW: _NONE, Action.DENY: _NONE, Action.PASS: _NONE}
        rest = _ALL
        for action, conns in matches:
            take = conns & rest
            if take:
                taken[action] = taken[action] | take
                rest = rest - take
        taken[otherwise] = taken[otherwise] | rest
        return cls(taken[Action.ALLOW], taken[Action.DENY], taken[Action.PASS])

    def then(self, later: SideDecision) -> SideDecision:
        """This decision first; ``later`` decides what this one passes."""
        if not self.passed:
            return self
        if self.passed.is_all():
            return later
        return SideDecision(
            self.allowed | (self.passed & later.allowed),
            self.denied | (self.passed & later.denied),
            self.passed & later.passed,
        )

    def of(self, action: Action) -> ConnSet:
        match action:
            case Action.ALLOW:
                return self.allowed
            case Action.DENY:
                return self.denied
            case Action.PASS:
                return self.passed
            case _:
                assert_never(action)

    def final(self) -> ConnSet:
        """What the side allows once the default tier allows everything passed to it."""
        return self.allowed | self.passed if self.passed else self.allowed


_UNDECIDED = SideDecision(_NONE, _NONE, _ALL)
_ALLOW_ALL = SideDecision(_ALL, _NONE, _NONE)


def compose(tiers: Iterable[SideDecision]) -> SideDecision:
    """The decisions of tiers in evaluation order, composed (stops once nothing is passed)."""
    out = _UNDECIDED
    for tier in tiers:
        out = out.then(tier)
        if not out.passed:
            break
    return out


@dataclass(frozen=True, slots=True, eq=False)
class TierRows:
    """One tier's decision for one side, as bit rows over port atoms (one row per remote class).

    ``allowed`` and ``passed`` are disjoint (None: nothing); the rest is denied.
    :data:`UNDECIDED_ROWS` passes everything without building a row.
    """

    allowed: np.ndarray | None = None
    passed: np.ndarray | None = None
    undecided: bool = False


UNDECIDED_ROWS = TierRows(undecided=True)


def final_rows(tiers: Iterable[TierRows], everything: np.ndarray) -> np.ndarray:
    """What a side allows per remote class: :func:`compose` then :meth:`SideDecision.final`, on bit rows.

    ``everything`` is the all-ones rows (it may be a read-only broadcast view; it is
    returned as is when no tier decides anything). With one tier this is that
    tier's ``allowed`` or ``everything``: no work beyond what the tier did.
    """
    allowed: np.ndarray | None = None
    passed: np.ndarray | None = everything  # what no tier has decided yet
    untouched = True  # passed is still everything
    for tier in tiers:
        if tier.undecided:
            continue
        if untouched:
            take, passed = tier.allowed, tier.passed
        else:
            take = None if tier.allowed is None else passed & tier.allowed  # type: ignore[operator]
            passed = None if tier.passed is None else passed & tier.passed  # type: ignore[operator]
        untouched = False
        if take is not None:
            allowed = take if allowed is None else allowed | take
        if passed is None:
            break
    if allowed is None:
        return passed if passed is not None else np.zeros(everything.shape, dtype=everything.dtype)
    return allowed if passed is None else allowed | passed
