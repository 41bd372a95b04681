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
from typing import Any, Mapping

from podfence.model import Diagnostic, Labels, Settings, Severity
from podfence.model.diagnostic import FieldPath
from podfence.model.dns import DnsTarget
from podfence.model.sensitivity import Sensitivity
from podfence.sets import parse_ip

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


DEFAULT_CONFIG = Config()


def _err(path: FieldPath, message: str) -> Diagnostic:
    return Diagnostic("C1", Severity.ERROR, message, path, "podfence config")


def _strings(raw: Any, path: FieldPath, out: list[Diagnostic]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        out.append(_err(path, "must be a list of strings"))
        return ()
    return tuple(raw)


def _mapping(raw: Any, path: FieldPath, allowed: set[str], out: list[Diagnostic]) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        out.append(_err(path, "must be a mapping"))
        return {}
    for key in raw:
        if key not in allowed:
            out.append(_err(path + (str(key),), f"unknown field (known: {', '.join(sorted(allowed))})"))
    return raw


def config_from_dict(raw: Any) -> tuple[Config, list[Diagnostic]]:
    """Build a Config from parsed YAML; unknown fields and wrong types are errors."""
    out: list[Diagnostic] = []
    top = _mapping(raw, (), {"settings", "dns", "sensitive", "lint"}, out)

    settings_raw = _mapping(top.get("settings"), ("settings",), set(Settings.names()), out)
    values = {}
    for key, value in settings_raw.items():
        if key in Settings.names():
            if isinstance(value, bool):
                values[key] = value
            else:
                out.append(_err(("settings", key), "must be true or false"))
    settings = Settings().with_values(**values)

    dns_raw = _mapping(top.get("dns"), ("dns",), {"namespace", "pod_labels", "node_local_address"}, out)
    dns = DnsTarget()
    namespace = dns_raw.get("namespace", dns.namespace)
    if not isinstance(namespace, str):
        out.append(_err(("dns", "namespace"), "must be a string"))
        namespace = dns.namespace
    labels = dns_raw.get("pod_labels")
    if labels is None:
        pod_labels = dns.pod_labels
    elif isinstance(labels, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        pod_labels = Labels(labels)
    else:
        out.append(_err(("dns", "pod_labels"), "must be a mapping of label keys to string values"))
        pod_labels = dns.pod_labels
    node_local = None
    if dns_raw.get("node_local_address") is not None:
        node_local = parse_ip(str(dns_raw["node_local_address"]))
        if node_local is None:
            out.append(_err(("dns", "node_local_address"), "must be an IP address"))
    dns = DnsTarget(namespace, pod_labels, node_local)

    sens_raw = _mapping(top.get("sensitive"), ("sensitive",), {"label", "namespaces", "allowed_from"}, out)
    label = sens_raw.get("label", Sensitivity().label)
    if not isinstance(label, str):
        out.append(_err(("sensitive", "label"), "must be a string"))
        label = Sensitivity().label
    sensitive = Sensitivity(
        label,
        _strings(sens_raw.get("namespaces"), ("sensitive", "namespaces"), out),
        _strings(sens_raw.get("allowed_from"), ("sensitive", "allowed_from"), out),
    )

    lint_raw = _mapping(top.get("lint"), ("lint",), {"exclude_namespaces", "rules", "preview"}, out)
    exclude = (_strings(lint_raw["exclude_namespaces"], ("lint", "exclude_namespaces"), out)
               if "exclude_namespaces" in lint_raw else LintConfig().exclude_namespaces)
    rules = []
    rules_raw = lint_raw.get("rules") or {}
    if not isinstance(rules_raw, Mapping):
        out.append(_err(("lint", "rules"), "must be a mapping of rule IDs to settings"))
        rules_raw = {}
    for rule_id, setting in rules_raw.items():
        path: FieldPath = ("lint", "rules", str(rule_id))
        body = _mapping(setting, path, {"enabled", "severity"}, out)
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            out.append(_err(path + ("enabled",), "must be true or false"))
            enabled = True
        severity = body.get("severity")
        if severity is not None and severity not in {s.value for s in Severity}:
            out.append(_err(path + ("severity",), "must be one of error, warning, note"))
            severity = None
        rules.append((str(rule_id), RuleSetting(enabled, Severity(severity) if severity else None)))
    preview = lint_raw.get("preview", False)
    if not isinstance(preview, bool):
        out.append(_err(("lint", "preview"), "must be true or false"))
        preview = False
    lint = LintConfig(exclude, tuple(rules), preview)
    return Config(settings, dns, sensitive, lint), out


__all__ = [
    "CONFIG_FILE", "Config", "DEFAULT_CONFIG", "DnsTarget", "LintConfig", "RuleSetting", "Sensitivity",
    "config_from_dict",
]
