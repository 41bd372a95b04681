"""ClusterPolicy defaulting, the loader's reading of the tiers and Nodes, and its safety on any input."""

from __future__ import annotations

import copy
import random
from typing import Any

import yaml

from podfence.engine import Engine
from podfence.loader import load_texts
from podfence.model import (
    ClusterPolicy, NamedDestinationPort, NamespacesPeer, PodsPeer, PortNumbers, SELECT_ALL, UnknownPeer, UnknownPort,
)
from podfence.model.tiers import tier_order
from podfence.model import Cluster, ContainerPort, Labels, Pod, Settings
from podfence.sets import Protocol, parse_ip

PODS = (Pod("a", "x", Labels({"app": "x"}), (ContainerPort(80, Protocol.TCP, "web"),), (parse_ip("10.0.0.1"),),
            node_name="n1"),
        Pod("b", "y", Labels({"app": "y"}), (), (parse_ip("10.0.0.2"),), node_name="n1"))

CNP = {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
       "metadata": {"name": "guard"},
       "spec": {"tier": "Admin", "priority": 7, "subject": {"pods": {"podSelector": {"matchLabels": {"app": "x"}}}},
                "ingress": [{"action": "Accept", "from": [{"pods": {"podSelector": {}}}],
                             "protocols": [{"udp": {"destinationPort": {"range": {"start": 50, "end": 60}}}},
                                           {"destinationNamedPort": "web"}, {"quic": {}}]}],
                "egress": [{"name": "out", "action": "Deny", "to": [{"networks": ["10.0.0.5/8"]}, {"nodes": {}},
                                                                    {"domainNames": ["*.example.com"]},
                                                                    {"newPeer": {}}]}]}}
BANP = {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
        "metadata": {"name": "default"},
        "spec": {"subject": {"namespaces": {}},
                 "ingress": [{"action": "Allow", "from": [{"namespaces": {}}],
                              "ports": [{"portNumber": {"port": 80}}, {"portRange": {"protocol": "UDP", "start": 1,
                                                                                      "end": 9}},
                                        {"namedPort": "dns"}]}]}}


def test_v1alpha2_defaults() -> None:
    policy = ClusterPolicy.from_dict(CNP)
    assert (policy.kind, policy.tier, policy.priority, policy.key) == ("ClusterNetworkPolicy", "Admin", 7, "guard")
    assert policy.subject == PodsPeer(SELECT_ALL, policy.subject.pod_selector)  # absent namespaceSelector: all
    (rule,) = policy.ingress
    assert rule.name == "" and rule.accepts
    assert rule.ports == (PortNumbers(Protocol.UDP, 50, 60), NamedDestinationPort("web"), UnknownPort(("quic",)))
    (out,) = policy.egress
    assert out.name == "out" and not out.accepts
    assert out.peers[-1] == UnknownPeer(("newPeer",))
    assert "10.0.0.5/8" in out.peers[0].cidrs  # type: ignore[union-attr]


def test_v1alpha1_defaults() -> None:
    policy = ClusterPolicy.from_dict(BANP)
    assert (policy.tier, policy.priority) == ("Baseline", 1000)
    assert policy.subject == NamespacesPeer(SELECT_ALL)
    (rule,) = policy.ingress
    assert rule.accepts and rule.ports == (PortNumbers(Protocol.TCP, 80, 80), PortNumbers(Protocol.UDP, 1, 9),
                                           NamedDestinationPort("dns"))


def test_tier_order_is_priority_then_name() -> None:
    def named(name: str, priority: int) -> ClusterPolicy:
        doc = copy.deepcopy(CNP)
        doc["metadata"]["name"], doc["spec"]["priority"] = name, priority
        return ClusterPolicy.from_dict(doc)
    policies = [named("b", 1), named("a", 2), named("c", 1)]
    assert [p.name for p in tier_order(policies, Settings())] == ["b", "c", "a"]
    assert [p.name for p in tier_order(policies, Settings(same_priority_by_name=False))] == ["c", "b", "a"]


def test_the_loader_reads_the_tiers_and_nodes() -> None:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "labels": {"zone": "a"}},
            "status": {"addresses": [{"type": "InternalIP", "address": "192.168.1.1"},
                                     {"type": "ExternalIP", "address": "203.0.113.1"},
                                     {"type": "Hostname", "address": "n1"}]}}
    valid = copy.deepcopy(CNP)  # validation refuses the unknown entries and domainNames in a Deny rule
    valid["spec"]["ingress"][0]["protocols"].pop()
    valid["spec"]["egress"][0]["to"] = [{"networks": ["10.0.0.0/8"]}, {"nodes": {}}]
    text = yaml.safe_dump_all([valid, BANP, node])
    result = load_texts([("tiers.yaml", text)])
    assert result.ok, [d.one_line() for d in result.diagnostics]
    assert [(p.kind, p.name) for p in result.cluster.cluster_policies] == [
        ("BaselineAdminNetworkPolicy", "default"), ("ClusterNetworkPolicy", "guard")]
    (n1,) = result.cluster.nodes
    assert [str(a) for a in n1.addresses] == ["192.168.1.1", "203.0.113.1"] and n1.labels["zone"] == "a"
    assert result.cluster.cluster_policies[1].source is not None
    assert result.cluster.cluster_policies[1].source.line == 1


def test_each_kind_only_in_its_own_version() -> None:
    doc = copy.deepcopy(CNP)
    doc["apiVersion"] = "policy.networking.k8s.io/v1alpha1"
    result = load_texts([("v.yaml", yaml.safe_dump(doc))])
    (problem,) = [d for d in result.diagnostics if d.is_error]
    assert problem.one_line().startswith("v.yaml:1: ClusterNetworkPolicy guard: apiVersion:")
    assert "served only as policy.networking.k8s.io/v1alpha2" in problem.message
    assert result.cluster.cluster_policies == ()


def test_bad_shapes_are_one_line_errors_with_field_paths() -> None:
    doc = copy.deepcopy(CNP)
    doc["spec"]["subject"] = {"namespaces": {}, "pods": {"podSelector": {}}}
    doc["spec"]["ingress"][0]["action"] = "Allow"
    doc["spec"]["egress"][0]["to"][0]["networks"] = ["10.0.0.1"]
    result = load_texts([("bad.yaml", yaml.safe_dump(doc))])
    fields = sorted(d.field_path for d in result.diagnostics if d.is_error)
    assert {"spec.egress[0].to[0].networks[0]", "spec.ingress[0].action", "spec.subject"} <= set(fields)
    assert result.cluster.cluster_policies == ()


CONFUSIONS: tuple[Any, ...] = (None, True, 0, -1, 1.5, 70000, "", "x", [], [1], ["a"], {}, {"a": 1}, [{}], [None])


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, path + (i,))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    node = doc
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


_DELETE = object()


def test_no_mutation_of_a_cluster_policy_crashes_the_loader() -> None:
    """Every node of three manifests replaced by each confusion (or deleted): the loader returns diagnostics."""
    rng = random.Random(7)
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
            "status": {"addresses": [{"type": "InternalIP", "address": "192.168.1.1"}]}}
    tried = 0
    for base in (CNP, BANP, node):
        for path in _paths(base):
            for value in (*CONFUSIONS, _DELETE) if path else CONFUSIONS:
                if rng.random() < 0.5:
                    continue
                doc = _set(copy.deepcopy(base), path, value)
                result = load_texts([("m.yaml", yaml.safe_dump(doc))])
                tried += 1
                for d in result.diagnostics:
                    assert "\n" not in d.one_line()
                for policy in result.cluster.cluster_policies:
                    assert policy.tier in ("Admin", "Baseline")
                if result.cluster.cluster_policies:
                    cluster = Cluster.of(result.cluster.namespaces, PODS, (), (),
                                         cluster_policies=result.cluster.cluster_policies, nodes=result.cluster.nodes)
                    assert [c.src for c in Engine(cluster).connectivity().connections()]
    assert tried > 300


def test_dns_map_is_read_from_the_config_file() -> None:
    from podfence.config import config_from_dict

    config, problems = config_from_dict({"settings": {"dns_map": {"API.Example.com.": ["198.51.100.7", "2001:db8::7"],
                                                                   "db.internal": "10.0.0.9"},
                                                      "same_priority_by_name": False}})
    assert problems == []
    assert [(name, [str(a) for a in addrs]) for name, addrs in config.settings.dns_map] == [
        ("api.example.com", ["198.51.100.7", "2001:db8::7"]), ("db.internal", ["10.0.0.9"])]
    assert config.settings.same_priority_by_name is False
    _, problems = config_from_dict({"settings": {"dns_map": {"x.example.com": ["not-an-ip"]}}})
    assert [d.field_path for d in problems] == ["settings.dns_map.x.example.com[0]"]


def test_deeply_nested_values_where_words_belong_are_one_line_errors() -> None:
    deep = "[{a: " * 300 + "x" + "}]" * 300
    for path in (("spec", "tier"), ("spec", "ingress", 0, "action"),
                 ("spec", "subject", "pods", "podSelector", "matchExpressions", 0, "operator")):
        doc = copy.deepcopy(CNP)
        if path[-1] == "operator":
            doc["spec"]["subject"]["pods"]["podSelector"]["matchExpressions"] = [{"key": "k", "operator": "DEEP"}]
        else:
            _set(doc, path, "DEEP")
        text = yaml.safe_dump(doc, default_flow_style=True, width=10_000).replace("DEEP", deep)
        result = load_texts([("deep.yaml", text)])
        errors = [d for d in result.diagnostics if d.is_error]
        assert errors and all("\n" not in d.one_line() and len(d.one_line()) < 400 for d in errors), path
        assert any(d.field_path == ".".join(str(p) for p in path).replace(".0.", "[0].").replace(".0", "[0]")
                   or d.field_path.startswith("spec") for d in errors)
