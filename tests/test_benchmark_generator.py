"""benchmarks/generate.py: deterministic, exact in size, varied, valid and not all-to-all."""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import pytest
import yaml

from podfence.engine import Remote, isolating_policies, rule_peers_match
from podfence.model import (
    Cluster, ContainerPort, Direction, Labels, LabelSelector, Namespace, NetworkPolicy, Pod, Settings,
    selector_from_dict,
)
from podfence.sets import Protocol, parse_cidr
from podfence.validate import (
    is_dns1123_label, is_dns1123_subdomain, is_label_value, is_port_name, is_qualified_name, validate_network_policy,
)

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "generate.py"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
SETTINGS = Settings()
Manifest = dict[str, Any]


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("podfence_benchmark_generate", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
MID = gen.generate(2000, 300, 1)


def _of_kind(manifests: list[Manifest], *kinds: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] in kinds]


def _read_dir(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


# --- determinism and size ----------------------------------------------------------


def test_same_arguments_give_identical_bytes(tmp_path: Path) -> None:
    # Separate processes with different hash seeds: nothing may depend on set order.
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, str(SCRIPT), "--pods", "300", "--policies", "60", "--seed", "7",
                        "--out", str(out)], check=True, env=env, capture_output=True)
        outputs.append(_read_dir(out))
    assert outputs[0] == outputs[1]
    assert set(outputs[0]) == {"namespaces.yaml", "workloads-01.yaml", "policies-01.yaml"}


def test_different_seeds_give_different_clusters(tmp_path: Path) -> None:
    gen.write(gen.generate(300, 60, 7), tmp_path / "a")
    gen.write(gen.generate(300, 60, 8), tmp_path / "b")
    a, b = _read_dir(tmp_path / "a"), _read_dir(tmp_path / "b")
    assert a.keys() == b.keys()
    assert all(a[name] != b[name] for name in a)


@pytest.mark.parametrize(("pods", "policies"), [(2, 0), (2, 5), (51, 3), (137, 40), (500, 100), (2000, 300)])
def test_exact_counts(pods: int, policies: int) -> None:
    manifests = MID if (pods, policies) == (2000, 300) else gen.generate(pods, policies, 3)
    assert len(_of_kind(manifests, *WORKLOAD_KINDS)) == pods
    assert len(_of_kind(manifests, "NetworkPolicy")) == policies


def test_namespaces_are_about_one_per_fifty_workloads() -> None:
    names = [m["metadata"]["name"] for m in _of_kind(MID, "Namespace")]
    assert "kube-system" in names
    assert 35 <= len(names) - 1 <= 45
    assert len(names) == len(set(names))


def test_written_files_parse_back_to_the_manifests(tmp_path: Path) -> None:
    manifests = gen.generate(2100, 510, 5)
    paths = gen.write(manifests, tmp_path)
    names = [p.name for p in paths]
    assert names == ["namespaces.yaml", "workloads-01.yaml", "workloads-02.yaml", "workloads-03.yaml",
                     "policies-01.yaml", "policies-02.yaml"]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loaded = [d for p in paths for d in yaml.load_all(p.read_text(), Loader=loader)]
    assert loaded == manifests
    assert "&id" not in "".join(p.read_text() for p in paths)  # no YAML aliases for readers to resolve


def test_rewriting_a_directory_removes_the_old_chunks(tmp_path: Path) -> None:
    gen.write(gen.generate(2100, 510, 5), tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    gen.write(gen.generate(300, 60, 5), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "namespaces.yaml", "notes.txt", "policies-01.yaml", "workloads-01.yaml"]


def test_bad_arguments_are_usage_errors_not_tracebacks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--pods", "1", "--policies", "3"], ["--pods", "10", "--policies", "-1"]):
        with pytest.raises(SystemExit) as exc:
            gen.main([*argv, "--out", str(tmp_path)])
        assert exc.value.code == 2
        assert "--p" in capsys.readouterr().err
    with pytest.raises(ValueError):
        gen.generate(0, 0, 1)


# --- what a mid-size cluster contains ------------------------------------------------


def _selectors(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Manifest]]:
    """Every label selector under ``spec``, with the key it sits under."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("podSelector", "namespaceSelector") and isinstance(value, dict):
                yield (*path, key), value
            yield from _selectors(value, (*path, key))
    elif isinstance(node, list):
        for item in node:
            yield from _selectors(item, path)


def _peers(policy: Manifest) -> Iterator[tuple[str, Manifest]]:
    for direction, key in (("ingress", "from"), ("egress", "to")):
        for rule in policy["spec"].get(direction, ()):
            for peer in rule.get(key, ()):
                yield direction, peer


def _port_entries(policy: Manifest) -> Iterator[Manifest]:
    for direction in ("ingress", "egress"):
        for rule in policy["spec"].get(direction, ()):
            yield from rule.get("ports", ())


def test_workload_mix() -> None:
    kinds = [m["kind"] for m in _of_kind(MID, *WORKLOAD_KINDS)]
    deployments, statefulsets, daemonsets = (kinds.count(k) for k in WORKLOAD_KINDS)
    assert deployments > len(kinds) / 2
    assert statefulsets > 0 and 0 < daemonsets < statefulsets
    templates = [m["spec"]["template"] for m in _of_kind(MID, *WORKLOAD_KINDS)]
    assert any(t["spec"].get("hostNetwork") for t in templates)
    ports = [p for t in templates for c in t["spec"]["containers"] for p in c.get("ports", ())]
    names = {p["name"] for p in ports}
    assert {"http", "grpc", "metrics", "postgres", "redis"} <= names
    assert any(p.get("protocol") == "UDP" for p in ports)
    labels = [t["metadata"]["labels"] for t in templates if "k8s-app" not in t["metadata"]["labels"]]
    assert all({"app", "tier", "team", "version"} <= set(lab) for lab in labels)
    assert {lab["tier"] for lab in labels} == {"web", "api", "worker", "db", "cache"}
    assert 0 < sum("env" in lab for lab in labels) < len(labels)
    for ns in {m["metadata"]["namespace"] for m in _of_kind(MID, *WORKLOAD_KINDS)}:
        apps = [m["metadata"]["name"] for m in _of_kind(MID, *WORKLOAD_KINDS) if m["metadata"]["namespace"] == ns]
        assert len(apps) == len(set(apps)), ns


def test_kube_dns_exists() -> None:
    (dns,) = [m for m in _of_kind(MID, "Deployment") if m["metadata"]["namespace"] == "kube-system"]
    assert dns["spec"]["template"]["metadata"]["labels"] == {"k8s-app": "kube-dns"}
    ports = {(p["name"], p["containerPort"], p["protocol"]) for p in dns["spec"]["template"]["spec"]["containers"][0]["ports"]}
    assert {("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")} <= ports


def test_most_namespaces_have_a_default_deny_of_each_kind() -> None:
    app_namespaces = {m["metadata"]["name"] for m in _of_kind(MID, "Namespace")} - {"kube-system"}
    denies = [p for p in _of_kind(MID, "NetworkPolicy")
              if p["spec"]["podSelector"] == {} and "ingress" not in p["spec"] and "egress" not in p["spec"]]
    assert len({p["metadata"]["namespace"] for p in denies}) >= 0.7 * len(app_namespaces)
    kinds = {tuple(p["spec"]["policyTypes"]) for p in denies}
    assert kinds == {("Ingress",), ("Egress",), ("Ingress", "Egress")}


def test_dns_egress_to_kube_dns() -> None:
    def is_dns(policy: Manifest) -> bool:
        for rule in policy["spec"].get("egress", ()):
            for peer in rule.get("to", ()):
                ns = peer.get("namespaceSelector", {}).get("matchLabels", {})
                pods = peer.get("podSelector", {}).get("matchLabels", {})
                ports = {(p.get("protocol", "TCP"), p.get("port")) for p in rule.get("ports", ())}
                if (ns == {"kubernetes.io/metadata.name": "kube-system"} and pods == {"k8s-app": "kube-dns"}
                        and {("UDP", 53), ("TCP", 53)} <= ports):
                    return True
        return False

    dns = [p for p in _of_kind(MID, "NetworkPolicy") if is_dns(p)]
    assert len({p["metadata"]["namespace"] for p in dns}) > 10


def test_every_selector_operator_and_peer_form_is_used() -> None:
    policies = _of_kind(MID, "NetworkPolicy")
    operators = {e["operator"] for p in policies for path, sel in _selectors(p["spec"]) if path[0] != "podSelector"
                 for e in sel.get("matchExpressions", ())}
    assert operators == {"In", "NotIn", "Exists", "DoesNotExist"}
    assert any("matchLabels" in sel for p in policies for path, sel in _selectors(p["spec"]) if path[0] != "podSelector")
    forms = {tuple(sorted(peer)) for p in policies for _, peer in _peers(p)}
    assert forms == {("podSelector",), ("namespaceSelector",), ("namespaceSelector", "podSelector"), ("ipBlock",)}


def test_ip_blocks_ports_and_defaulting_features() -> None:
    policies = _of_kind(MID, "NetworkPolicy")
    blocks = [(d, peer["ipBlock"]) for p in policies for d, peer in _peers(p) if "ipBlock" in peer]
    families = {(parse_cidr(b["cidr"]).version, bool(b.get("except"))) for _, b in blocks}  # type: ignore[union-attr]
    assert {(4, True), (6, True)} <= families
    assert {d for d, _ in blocks} == {"ingress", "egress"}
    entries = [e for p in policies for e in _port_entries(p)]
    assert any("endPort" in e for e in entries)
    assert any(isinstance(e.get("port"), str) for e in entries)
    assert any(e.get("protocol") == "UDP" and isinstance(e.get("port"), str) for e in entries)
    assert any("protocol" not in e for e in entries)  # defaulted to TCP
    omitted = [p for p in policies if "policyTypes" not in p["spec"]]
    assert omitted and any("egress" in p["spec"] for p in omitted) and any("egress" not in p["spec"] for p in omitted)


def test_some_policies_select_nothing_and_most_select_something() -> None:
    pods = _pods(MID)
    empty = 0
    policies = _of_kind(MID, "NetworkPolicy")
    for p in policies:
        selector = selector_from_dict(p["spec"]["podSelector"])
        if not any(pod.namespace == p["metadata"]["namespace"] and selector.matches(pod.labels) for pod in pods):
            empty += 1
    assert 0 < empty < 0.05 * len(policies)


# --- validity -----------------------------------------------------------------------


def test_every_network_policy_is_valid() -> None:
    for seed in (1, 2):
        manifests = MID if seed == 1 else gen.generate(2000, 300, seed)
        for p in _of_kind(manifests, "NetworkPolicy"):
            errors = [d.one_line() for d in validate_network_policy(p, namespace=p["metadata"]["namespace"],
                                                                     settings=SETTINGS) if d.is_error]
            assert errors == [], p


def _labels_ok(labels: dict[str, str]) -> bool:
    return all(is_qualified_name(k) and is_label_value(v) for k, v in labels.items())


def test_other_objects_are_valid() -> None:
    """The API server's checks that matter for these objects: names, labels, selectors, ports."""
    for m in MID:
        meta = m["metadata"]
        if m["kind"] == "Namespace":
            assert is_dns1123_label(meta["name"]), meta
        else:
            assert is_dns1123_subdomain(meta["name"]) and is_dns1123_label(meta["namespace"]), meta
        assert _labels_ok(meta.get("labels", {})), meta
    for m in _of_kind(MID, *WORKLOAD_KINDS):
        template = m["spec"]["template"]
        assert _labels_ok(template["metadata"]["labels"])
        assert selector_from_dict(m["spec"]["selector"]).matches(template["metadata"]["labels"])
        ports = [p for c in template["spec"]["containers"] for p in c.get("ports", ())]
        assert all(is_port_name(p["name"]) and 1 <= p["containerPort"] <= 65535 for p in ports)
        assert len({p["name"] for p in ports}) == len(ports)
        if template["spec"].get("hostNetwork"):
            assert all(p["hostPort"] == p["containerPort"] for p in ports)
    pods = _pods(MID)
    for svc in _of_kind(MID, "Service"):
        backends = [p for p in pods if p.namespace == svc["metadata"]["namespace"]
                    and LabelSelector.of(svc["spec"]["selector"]).matches(p.labels)]
        assert backends, svc["metadata"]
        for port in svc["spec"]["ports"]:
            if isinstance(port["targetPort"], str):
                proto = Protocol(port.get("protocol", "TCP"))
                assert all(b.named_port_numbers(port["targetPort"], proto, SETTINGS) for b in backends)


# --- selectivity --------------------------------------------------------------------


def _pods(manifests: list[Manifest]) -> list[Pod]:
    out = []
    for m in _of_kind(manifests, *WORKLOAD_KINDS):
        template = m["spec"]["template"]
        ports = tuple(ContainerPort(p["containerPort"], Protocol(p.get("protocol", "TCP")), p["name"])
                      for c in template["spec"]["containers"] for p in c.get("ports", ()))
        out.append(Pod(m["metadata"]["namespace"], m["metadata"]["name"], Labels(template["metadata"]["labels"]),
                       ports, host_network=bool(template["spec"].get("hostNetwork")), kind=m["kind"]))
    return out


def _cluster(manifests: list[Manifest]) -> Cluster:
    namespaces = [Namespace.of(m["metadata"]["name"], m["metadata"].get("labels"))
                  for m in _of_kind(manifests, "Namespace")]
    policies = [NetworkPolicy.from_dict(m) for m in _of_kind(manifests, "NetworkPolicy")]
    return Cluster.of(namespaces, _pods(manifests), (), policies)


@pytest.mark.parametrize("seed", [1, 2])
def test_isolated_pods_admit_a_handful_not_everyone(seed: int) -> None:
    """Peers only, ports ignored: an over-approximation of who may connect."""
    cluster = _cluster(gen.generate(200, 60, seed))
    pods = [p for p in cluster.pods if p.is_pod_endpoint(SETTINGS)]

    def admits(local: Pod, remote: Pod, direction: Direction) -> bool:
        policies = isolating_policies(cluster, local, direction, SETTINGS)
        return not policies or any(rule_peers_match(r, Remote(pod=remote), cluster, SETTINGS)
                                   for p in policies for r in p.rules(direction))

    isolated = [p for p in pods if isolating_policies(cluster, p, Direction.INGRESS, SETTINGS)]
    assert len(isolated) > len(pods) / 2
    admitted = [sum(admits(dst, src, Direction.INGRESS) for src in pods if src is not dst) for dst in isolated]
    assert statistics.median(admitted) <= 5
    assert any(admitted)
    pairs = sum(admits(src, dst, Direction.EGRESS) and admits(dst, src, Direction.INGRESS)
                for dst in pods for src in pods if src is not dst)
    assert pairs < 0.25 * len(pods) * (len(pods) - 1)
