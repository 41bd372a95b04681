"""The whole answer of ``podfence diff``: changed pairs, folded groups, causes, flags."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from podfence.config import DEFAULT_CONFIG, Config
from podfence.diff.causes import Causes, explain_group
from podfence.diff.compare import Change, ConnectivityDiff, connectivities, diff_connectivity
from podfence.diff.groups import ChangeGroup, group_changes
from podfence.diff.risk import Flag, flags, rank
from podfence.engine import Engine
from podfence.model import Cluster, Settings


@dataclass(frozen=True, slots=True)
class GroupReport:
    """One folded change with what explains it and how dangerous it looks."""

    group: ChangeGroup
    causes: Causes
    flags: tuple[Flag, ...]

    @property
    def rank(self) -> int:
        return rank(self.flags)


@dataclass(frozen=True, slots=True)
class DiffReport:
    """Pairs (for machines) and groups in reading order (for people)."""

    diff: ConnectivityDiff
    groups: tuple[GroupReport, ...]

    def by_danger(self) -> list[GroupReport]:
        """Flagged groups first (internet, sensitive, DNS), each kind in reading order."""
        return sorted(self.groups, key=lambda g: g.rank)


def diff(old: Cluster, new: Cluster, settings: Settings, config: Config = DEFAULT_CONFIG, *,
         explain: bool = True, keep: Callable[[Change], bool] | None = None) -> DiffReport:
    """Compare two versions of a cluster; ``explain=False`` skips causes and flags (pairs only).

    ``keep`` chooses the changed pairs reported (all by default); groups, causes and
    flags are made of the kept ones only.
    """
    a, b = connectivities(old, new, settings)
    pairs = diff_connectivity(a, b)
    if keep is not None:
        pairs = ConnectivityDiff(tuple(c for c in pairs.changes if keep(c)))
    if not explain:
        return DiffReport(pairs, ())
    old_engine, new_engine = Engine(old, settings), Engine(new, settings)
    reports = tuple(
        GroupReport(g, explain_group(g, old_engine, new_engine), flags(g, old, new, config, settings))
        for g in group_changes(pairs.changes)
    )
    return DiffReport(pairs, reports)
