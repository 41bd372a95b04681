"""Every lint rule, in one explicit list, and the IDs that moved.

IDs are permanent: never reuse or renumber one. A rule that is renamed keeps its
old ID in :data:`REDIRECTS` (old ID -> new ID), so that configurations, flags and
``podfence.io/ignore`` annotations written for it keep working. A rule that goes
away stays in :data:`RULES` with the group ``deprecated`` (still runs) and later
``removed`` (never runs); its entry in :data:`REDIRECTS`, if any, names the rule
to use instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Callable, Mapping

from podfence.lint.rule import Group, LintRule
from podfence.lint.rules import compliance, confusion, coverage, dead, exposure, meta, tiers

RULES: tuple[LintRule, ...] = (
    coverage.namespace_without_default_deny_ingress,
    coverage.namespace_without_default_deny_egress,
    coverage.workload_not_isolated_for_ingress,
    coverage.workload_not_isolated_for_egress,
    coverage.hostnetwork_pod_selected,
    coverage.dns_egress_blocked,
    coverage.dns_egress_partial,
    dead.policy_selects_no_pod,
    dead.peer_selects_no_pod,
    dead.namespace_selector_matches_no_namespace,
    dead.rules_ignored_by_policy_types,
    dead.named_port_undefined,
    dead.named_port_wrong_protocol,
    dead.named_port_to_ipblock,
    dead.redundant_rule,
    dead.redundant_policy,
    dead.policy_namespace_unknown,
    dead.ingress_port_not_declared,
    confusion.peer_or_instead_of_and,
    confusion.service_port_instead_of_target_port,
    confusion.ipblock_matches_pod_ips,
    confusion.missing_namespace,
    confusion.protocol_defaulted_to_tcp,
    confusion.ipblock_targets_service_ip,
    confusion.pod_selector_misses_namespace,
    confusion.implicit_ingress_isolation,
    confusion.one_sided_connection,
    exposure.ingress_from_all_namespaces,
    exposure.ingress_from_internet,
    exposure.egress_to_internet_unrestricted,
    exposure.allow_all_overrides_default_deny,
    exposure.exposed_service_not_isolated,
    compliance.sensitive_reachable_from_internet,
    compliance.sensitive_reachable_from_unallowed_namespace,
    compliance.sensitive_egress_to_internet,
    compliance.sensitive_not_isolated,
    tiers.cluster_rule_shadowed,
    tiers.cluster_priority_overlap,
    tiers.pass_with_nothing_below,
    tiers.admin_accept_overrides_default_deny,
    tiers.baseline_rule_unreachable,
    tiers.networks_deny_hits_pods,
    tiers.v1alpha1_cluster_policy,
    meta.suppression_without_reason,
    meta.suppression_of_unknown_rule,
)

# Old ID -> new ID. For an ID no rule has any more (a renamed rule) the new ID takes
# its place everywhere; for a deprecated or removed rule it is the rule to use instead.
REDIRECTS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Examples:
    """A rule's example manifests: ``bad`` makes it fire, ``good`` does not."""

    bad: str
    good: str


@cache
def package_examples(rule_id: str) -> Examples:
    """``podfence/lint/examples/<ID>/{bad,good}.yaml``, shipped as package data."""
    folder = resources.files("podfence.lint").joinpath("examples", rule_id)
    return Examples(folder.joinpath("bad.yaml").read_text(encoding="utf-8"),
                    folder.joinpath("good.yaml").read_text(encoding="utf-8"))


class Status(StrEnum):
    """What an ID or name written by a user stands for today."""

    CURRENT = "current"  # a stable or preview rule
    DEPRECATED = "deprecated"
    REMOVED = "removed"
    REDIRECTED = "redirected"  # an old ID of a renamed rule
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Reference:
    """An ID or name as written, resolved.

    ``rule`` is the registered rule it names (for a redirect: the rule it now
    stands for); ``instead`` the rule to use in its place, when there is one.
    """

    text: str
    status: Status
    rule: LintRule | None = None
    instead: LintRule | None = None

    @property
    def target(self) -> LintRule | None:
        """The rule that settings, selections and suppressions written this way act on."""
        return None if self.status in (Status.REMOVED, Status.UNKNOWN) else self.rule


@dataclass(frozen=True, slots=True)
class Registry:
    """Rules (in ID order) and redirects, with lookups; tests build their own with test-only rules."""

    rules: tuple[LintRule, ...]
    redirects: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    examples: Callable[[str], Examples] = field(default=package_examples, compare=False, repr=False)
    _by_key: dict[str, LintRule] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        by_key: dict[str, LintRule] = {}
        for r in self.rules:
            for key in (r.id, r.name):
                if key in by_key:
                    raise ValueError(f"lint registry: {key} is used by two rules")
                by_key[key] = r
        for old, new in self.redirects.items():
            source, target = by_key.get(old), by_key.get(new)
            if source is not None and source.group not in (Group.DEPRECATED, Group.REMOVED):
                raise ValueError(f"lint registry: {old} redirects to {new} but is a {source.group} rule")
            if target is None or target.id != new or target.group is Group.REMOVED:
                raise ValueError(f"lint registry: {old} redirects to {new}, which is no rule that runs")
        object.__setattr__(self, "_by_key", by_key)

    def get(self, rule_id: str) -> LintRule | None:
        """The registered rule with this ID (any group)."""
        r = self._by_key.get(rule_id)
        return r if r is not None and r.id == rule_id else None

    def refer(self, text: str) -> Reference:
        """What a rule ID or name, as a user wrote it, stands for."""
        r = self._by_key.get(text)
        if r is not None:
            instead = self._by_key.get(self.redirects.get(r.id, ""))
            if r.group is Group.DEPRECATED:
                return Reference(text, Status.DEPRECATED, r, instead)
            if r.group is Group.REMOVED:
                return Reference(text, Status.REMOVED, r, instead)
            return Reference(text, Status.CURRENT, r)
        new = self.redirects.get(text)
        if new is not None:
            return Reference(text, Status.REDIRECTED, self._by_key[new])
        return Reference(text, Status.UNKNOWN)

    def known(self) -> dict[str, str]:
        """Every ID a user may write (rules of any group, old IDs) -> the name of the rule it stands for."""
        out = {r.id: r.name for r in self.rules}
        out.update({old: self._by_key[new].name for old, new in self.redirects.items() if old not in out})
        return out


REGISTRY = Registry(RULES, REDIRECTS)
BY_ID: dict[str, LintRule] = {r.id: r for r in RULES}
