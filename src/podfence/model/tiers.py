"""The order cluster-wide policies run in, and the warning about equal priorities.

Inside a tier, policies run by ascending ``priority``. The API leaves the order
of equal priorities open ("the implementation can apply any of the matching
policies"); podfence breaks the tie by ``metadata.name`` (ascending, or
descending with ``same_priority_by_name`` off), then by kind, so that every run
gives the same answer, and warns about each such pair (:data:`SAME_PRIORITY`).
Admin and Baseline priorities never compare with each other.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Protocol, TypeVar

from podfence.model.cluster_policy import ClusterPolicy
from podfence.model.diagnostic import Diagnostic, Severity
from podfence.model.settings import Settings

SAME_PRIORITY = "T1"


class _Ranked(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def priority(self) -> int | None: ...


R = TypeVar("R", bound=_Ranked)


def tier_order(policies: Iterable[R], settings: Settings) -> list[R]:
    """``policies`` (one tier; model objects or their IR) in the order they are evaluated."""
    out = sorted(policies, key=lambda p: (p.name, p.kind), reverse=not settings.same_priority_by_name)
    return sorted(out, key=lambda p: p.priority or 0)  # stable: the name order stays within a priority


def same_priority_warnings(policies: Iterable[ClusterPolicy]) -> list[Diagnostic]:
    """One warning per policy that shares its tier and priority with an earlier-named one."""
    groups: dict[tuple[str, int], list[ClusterPolicy]] = defaultdict(list)
    for p in policies:
        groups[(p.tier, p.priority)].append(p)
    out = []
    for (tier, priority), members in sorted(groups.items()):
        if len(members) < 2:
            continue
        members.sort(key=lambda p: (p.name, p.kind))
        first = members[0]
        for p in members[1:]:
            out.append(Diagnostic(
                SAME_PRIORITY, Severity.WARNING,
                f"{tier} priority {priority} is also the priority of {first.kind} {first.name}; the API leaves "
                f"their order open, podfence runs them by name ({first.name} first)",
                field=("spec", "priority") if p.kind != "BaselineAdminNetworkPolicy" else ("metadata", "name"),
                object=f"{p.kind} {p.name}",
                file=p.source.file if p.source is not None else None,
                line=p.source.line if p.source is not None else None))
    return out
