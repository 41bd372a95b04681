"""podfence's own configuration (``.podfence.yaml``), as a value.

One file configures every command: the evaluation settings, where cluster DNS
lives, which namespaces and workloads hold sensitive data, and (for ``lint``)
which rules run at which severity. :func:`config_from_dict` turns the parsed
YAML into a :class:`Config` and returns problems as diagnostics with field paths;
finding and reading the file is the CLI's job.

Example::

    settings:
      allow_self_traffic: true
    dns:
      namespace: kube-system
      pod_labels: {k8s-app: kube-dns}
      node_local_address: 169.254.20.10
    sensitive:
      label: podfence.io/sensitive        # on namespaces or pod templates, value "true"
      namespaces: [billing, data]
      allowed_from: [api, billing]       # namespaces that may reach sensitive ones
    lint:
      exclude_namespaces: [kube-system]
      preview: false                      # true: run the preview rules too
      rules:
        NP101: {severity: note}
        NP205: {enabled: false}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from podfence.model import Diagnostic, Labels, Settings, Severity
from podfence.model.diagnostic import FieldPath
from podfence.model.dns import DnsTarget
from podfence.model.own_fields import NAMESPACE_NAME, OwnFields
from podfence.model.sensitivity import CRITICALITY, SENSITIVE_LABEL, Sensitivity
from podfence.sets import IPAddress, parse_ip
from podfence.validate import is_dns1123_label

SEVERITIES = tuple(s.value for s in Severity)

CONFIG_FILE = ".podfence.yaml"


@dataclass(frozen=True, slots=True)
class RuleSetting:
    enabled: bool = True
    severity: Severity | None = None  # None: the rule's default


@dataclass(frozen=True, slots=True)
class LintConfig:
    exclude_namespaces: tuple[str, ...] = ("kube-system",)
    rules: tuple[tuple[str, RuleSetting], ...] = ()
    preview: bool = False  # run the rules of the preview group too

    def rule(self, rule_id: str) -> RuleSetting:
        return dict(self.rules).get(rule_id, RuleSetting())


@dataclass(frozen=True, slots=True)
class Config:
    settings: Settings = Settings()
    dns: DnsTarget = DnsTarget()
    sensitive: Sensitivity = Sensitivity()
    lint: LintConfig = LintConfig()
    criticality: tuple[tuple[str, str], ...] = ()  # rollout.criticality: namespace -> level (rollout plan)


DEFAULT_CONFIG = Config()


def _namespaces(r: OwnFields, raw: Any, path: FieldPath) -> tuple[str, ...]:
    return r.list_of(raw, path, lambda v, p: r.checked(v, p, is_dns1123_label, NAMESPACE_NAME))


def _node_local(r: OwnFields, raw: Any, path: FieldPath) -> IPAddress | None:
    if raw is None:
        return None
    address = parse_ip(raw) if isinstance(raw, str) else None
    if address is None:
        r.error(path, "must be an IP address")
    return address


def _rule(r: OwnFields, raw: Any, path: FieldPath) -> RuleSetting:
    body = r.mapping(raw, path, ("enabled", "severity"))
    severity = r.enum(body.get("severity"), path + ("severity",), SEVERITIES)
    return RuleSetting(r.boolean(body.get("enabled"), path + ("enabled",), True),
                       Severity(severity) if severity else None)


def _dns_map(r: OwnFields, raw: Any) -> tuple[tuple[str, tuple[IPAddress, ...]], ...]:
    """``settings.dns_map``: domain name -> the addresses it resolves to (one or a list)."""
    path: FieldPath = ("settings", "dns_map")

    def name(key: str, where: FieldPath) -> str | None:
        text = key.strip().lower().removesuffix(".")
        if not text or " " in text:
            r.error(where, "must be a domain name")
            return None
        return text

    def address(value: Any, where: FieldPath) -> IPAddress | None:
        parsed = parse_ip(value) if isinstance(value, str) else None
        if parsed is None:
            r.error(where, "must be an IP address")
        return parsed

    def addresses(value: Any, where: FieldPath) -> tuple[IPAddress, ...]:
        return r.list_of(value, where, address)

    entries = r.map_of(raw, path, name, addresses, "a mapping of domain names to IP addresses")
    return tuple(sorted(entries))


def config_from_dict(raw: Any) -> tuple[Config, list[Diagnostic]]:
    """Build a Config from parsed YAML with the one own-file reader (:mod:`podfence.model.own_fields`):
    unknown fields and wrong types are errors with their field paths."""
    r = OwnFields("C1", "podfence config")
    top = r.mapping(raw, (), ("dns", "lint", "rollout", "sensitive", "settings"))

    knobs = r.mapping(top.get("settings"), ("settings",), sorted(Settings.names()))
    settings = Settings().with_values(**{
        key: r.boolean(value, ("settings", key), getattr(Settings(), key))
        for key, value in knobs.items() if key in Settings.switches()})
    settings = settings.with_values(**{
        key: r.enum(value, ("settings", key), Settings.choices()[key], getattr(Settings(), key))
        for key, value in knobs.items() if key in Settings.choices()})
    if "dns_map" in knobs:
        settings = settings.with_values(dns_map=_dns_map(r, knobs["dns_map"]))

    dns_raw = r.mapping(top.get("dns"), ("dns",), ("namespace", "node_local_address", "pod_labels"))
    default_dns = DnsTarget()
    namespace = dns_raw.get("namespace")
    labels = r.string_map(dns_raw.get("pod_labels"), ("dns", "pod_labels"),
                          "a mapping of label keys to string values")
    dns = DnsTarget(
        r.checked(namespace, ("dns", "namespace"), is_dns1123_label, NAMESPACE_NAME) or default_dns.namespace
        if namespace is not None else default_dns.namespace,
        Labels(labels) if labels is not None else default_dns.pod_labels,
        _node_local(r, dns_raw.get("node_local_address"), ("dns", "node_local_address")),
    )

    sens_raw = r.mapping(top.get("sensitive"), ("sensitive",), ("allowed_from", "label", "namespaces"))
    sensitive = Sensitivity(
        r.string(sens_raw.get("label"), ("sensitive", "label"), SENSITIVE_LABEL) or SENSITIVE_LABEL,
        _namespaces(r, sens_raw.get("namespaces"), ("sensitive", "namespaces")),
        _namespaces(r, sens_raw.get("allowed_from"), ("sensitive", "allowed_from")),
    )

    lint_raw = r.mapping(top.get("lint"), ("lint",), ("exclude_namespaces", "preview", "rules"))
    exclude = (_namespaces(r, lint_raw["exclude_namespaces"], ("lint", "exclude_namespaces"))
               if "exclude_namespaces" in lint_raw else LintConfig().exclude_namespaces)
    rules = r.map_of(lint_raw.get("rules"), ("lint", "rules"), lambda k, _: k, lambda v, p: _rule(r, v, p),
                     "a mapping of rule IDs to settings")
    lint = LintConfig(exclude, rules, r.boolean(lint_raw.get("preview"), ("lint", "preview"), False))
    rollout_raw = r.mapping(top.get("rollout"), ("rollout",), ("criticality",))
    levels = f"a criticality ({', '.join(CRITICALITY)})"
    criticality = r.map_of(
        rollout_raw.get("criticality"), ("rollout", "criticality"),
        lambda k, p: r.checked(k, p, is_dns1123_label, NAMESPACE_NAME),
        lambda v, p: r.checked(v, p, lambda x: x in CRITICALITY, levels), "a mapping of namespaces to criticalities")
    return Config(settings, dns, sensitive, lint, tuple(sorted(criticality))), r.problems


__all__ = [
    "CONFIG_FILE", "Config", "DEFAULT_CONFIG", "DnsTarget", "LintConfig", "RuleSetting", "Sensitivity",
    "config_from_dict",
]
