"""Every lint rule, in one explicit list. IDs are permanent: never reuse or renumber one."""

from __future__ import annotations

from podfence.lint.rule import LintRule
from podfence.lint.rules import compliance, confusion, coverage, dead, exposure, meta

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
    confusion.peer_or_instead_of_and,
    confusion.service_port_instead_of_target_port,
    confusion.ipblock_matches_pod_ips,
    confusion.missing_namespace,
    confusion.protocol_defaulted_to_tcp,
    confusion.ipblock_targets_service_ip,
    confusion.pod_selector_misses_namespace,
    confusion.implicit_ingress_isolation,
    exposure.ingress_from_all_namespaces,
    exposure.ingress_from_internet,
    exposure.egress_to_internet_unrestricted,
    exposure.allow_all_overrides_default_deny,
    exposure.exposed_service_not_isolated,
    compliance.sensitive_reachable_from_internet,
    compliance.sensitive_reachable_from_unallowed_namespace,
    compliance.sensitive_egress_to_internet,
    compliance.sensitive_not_isolated,
    meta.suppression_without_reason,
    meta.suppression_of_unknown_rule,
)

BY_ID: dict[str, LintRule] = {r.id: r for r in RULES}
