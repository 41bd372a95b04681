"""podfence's own configuration file, parsed into a value."""

from __future__ import annotations

from podfence.config import DEFAULT_CONFIG, config_from_dict
from podfence.model import Labels, Severity, format_path
from podfence.sets import parse_ip


def test_empty_file_gives_the_defaults() -> None:
    config, problems = config_from_dict(None)
    assert problems == [] and config == DEFAULT_CONFIG
    assert config.dns.namespace == "kube-system" and config.dns.pod_labels == Labels({"k8s-app": "kube-dns"})
    assert config.lint.exclude_namespaces == ("kube-system",)


def test_every_section() -> None:
    config, problems = config_from_dict({
        "settings": {"allow_self_traffic": False},
        "dns": {"namespace": "dns", "pod_labels": {"app": "coredns"}, "node_local_address": "169.254.20.10"},
        "sensitive": {"label": "example.com/pci", "namespaces": ["billing"], "allowed_from": ["api"]},
        "lint": {"exclude_namespaces": [], "rules": {"NP101": {"severity": "note"}, "NP205": {"enabled": False}}},
    })
    assert problems == []
    assert config.settings.allow_self_traffic is False
    assert config.dns.node_local_address == parse_ip("169.254.20.10")
    assert config.sensitive.namespaces == ("billing",) and config.sensitive.label == "example.com/pci"
    assert config.lint.exclude_namespaces == ()
    assert config.lint.rule("NP101").severity is Severity.NOTE and config.lint.rule("NP101").enabled
    assert config.lint.rule("NP205").enabled is False
    assert config.lint.rule("NP999").enabled is True


def test_problems_name_the_field() -> None:
    _, problems = config_from_dict({
        "settings": {"allow_self_traffic": "no", "bogus": True},
        "dns": {"node_local_address": "not-an-ip", "pod_labels": ["x"]},
        "sensitive": {"namespaces": ["billing", "Bad_NS"]},
        "lint": {"rules": {"NP101": {"severity": "fatal"}}},
        "extra": 1,
    })
    fields = sorted(format_path(p.field) for p in problems)
    assert fields == sorted([
        "settings.allow_self_traffic", "settings.bogus", "dns.node_local_address", "dns.pod_labels",
        "sensitive.namespaces[1]", "lint.rules.NP101.severity", "extra",
    ])
    assert all(p.severity is Severity.ERROR and p.code == "C1" for p in problems)


def test_a_single_namespace_stands_for_a_list_and_words_match_in_any_case() -> None:
    config, problems = config_from_dict({"sensitive": {"namespaces": "billing"},
                                         "lint": {"rules": {"NP101": {"severity": "Warning"}}}})
    assert problems == []
    assert config.sensitive.namespaces == ("billing",) and config.lint.rule("NP101").severity is Severity.WARNING


def test_word_settings_take_one_of_their_words() -> None:
    config, problems = config_from_dict({"settings": {"domainnames_non_accept": "Warn",
                                                      "cnp_named_port_with_ip_peers": "error"}})
    assert problems == []
    assert config.settings.domainnames_non_accept == "warn" and config.settings.cnp_named_port_with_ip_peers == "error"
    assert DEFAULT_CONFIG.settings.domainnames_non_accept == "error"
    assert DEFAULT_CONFIG.settings.cnp_named_port_with_ip_peers == "error"
    config, problems = config_from_dict({"settings": {"cnp_named_port_with_ip_peers": "sometimes"}})
    assert [format_path(p.field) for p in problems] == ["settings.cnp_named_port_with_ip_peers"]
    assert config.settings.cnp_named_port_with_ip_peers == "error"
