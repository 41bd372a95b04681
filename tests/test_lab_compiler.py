"""The lab's compiler: NetworkPolicies to nftables text, checked without root.

Golden files (tests/fixtures/lab/golden/*.nft) hold the rules of every isolated
pod of each fixture under tests/fixtures/lab/compiler/; regenerate them with
``pytest --update-goldens`` and review the diff. The unit tests below pin the
semantics worked out by hand.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from podfence.lab.compiler import Compiler, PodRules, address_elements, conn_matches, port_elements, transaction
from podfence.lab.plan import LabPlan, plan, with_lab_addresses
from podfence.loader import load
from podfence.model import Settings
from podfence.sets import ConnSet, IntervalSet, Protocol
from cli_support import golden_checker

FIXTURES = Path(__file__).parent / "fixtures" / "lab"
CASES = sorted((FIXTURES / "compiler").glob("*.yaml"))
S = Settings()


def compile_file(path: Path, settings: Settings = S) -> tuple[LabPlan, dict[str, PodRules]]:
    result = load([str(path)], default_namespace="default", settings=settings)
    assert result.ok, [d.one_line() for d in result.diagnostics]
    layout = plan(result.cluster, settings)
    compiler = Compiler(with_lab_addresses(result.cluster, layout), settings, layout.pods, "podfence")
    return layout, {p.key: compiler.compile(p) for p in layout.pods}


def golden_text(path: Path) -> str:
    _, rules = compile_file(path)
    return "\n".join(r.ruleset for r in rules.values() if r.ruleset)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden(case: Path, update_goldens: bool) -> None:
    golden_checker(FIXTURES / "golden")(f"{case.stem}.nft", golden_text(case), update_goldens)


@pytest.mark.lab
@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden_rulesets_are_accepted_by_nft(case: Path, tmp_path: Path) -> None:
    script = tmp_path / "rules.nft"
    script.write_text(golden_text(case))
    done = subprocess.run([shutil.which("nft") or "nft", "-c", "-f", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def rules_of(case: str) -> dict[str, PodRules]:
    return compile_file(FIXTURES / "compiler" / f"{case}.yaml")[1]


def accept_lines(rules: PodRules) -> list[str]:
    return [line.strip() for line in rules.ruleset.splitlines() if line.strip().endswith("\"") and " accept " in line]


def test_pods_that_no_policy_isolates_get_no_table() -> None:
    rules = rules_of("ingress-ports")
    assert rules["shop/client"].ruleset == "" and rules["shop/client"].digest == ""
    assert rules["ops/prober"].ruleset == ""
    assert "ops/old" not in rules  # Succeeded: not in the lab at all


def test_named_ports_resolve_on_each_ingress_subject() -> None:
    rules = rules_of("ingress-ports")
    # web-1 calls 8080 "http", web-2 calls 9090 "http"; both keep 8000-8010
    assert 'ip saddr 10.1.0.3 tcp dport { 8000-8010, 8080 } accept comment "shop/web-ingress ingress[0]"' in \
        accept_lines(rules["shop/web-1"])
    assert 'ip saddr 10.1.0.3 tcp dport { 8000-8010, 9090 } accept comment "shop/web-ingress ingress[0]"' in \
        accept_lines(rules["shop/web-2"])


def test_namespace_and_pod_selector_in_one_peer_are_both_required() -> None:
    rules = rules_of("ingress-ports")
    # only ops/prober (team=ops namespace AND app=prober); the finished ops/old is gone
    assert 'ip saddr 10.1.1.1 udp dport 53 accept comment "shop/web-ingress ingress[1]"' in \
        accept_lines(rules["shop/web-1"])


def test_self_traffic_is_free_for_bare_pods_only() -> None:
    rules = rules_of("ingress-ports")
    assert any("self traffic" in line for line in accept_lines(rules["shop/web-1"]))
    cache = rules["shop/cache"]
    assert not any("self traffic" in line for line in accept_lines(cache))
    # the Deployment's replicas reach each other because its own class is admitted:
    # podSelector {} in shop covers web-1, web-2, client and the cache itself (10.244.0.1)
    assert 'ip saddr { 10.1.0.1-10.1.0.3, 10.244.0.1 } tcp dport 6379 accept comment ' \
           '"shop/cache-from-shop ingress[0]"' in accept_lines(cache)


def test_egress_named_ports_resolve_per_destination() -> None:
    api = accept_lines(rules_of("egress-named-ipblock")["app/api"])
    assert 'ip daddr 10.2.0.2 tcp dport 5432 accept comment "app/api-egress egress[0] named ports"' in api
    assert 'ip daddr 10.2.0.3 tcp dport 5433 accept comment "app/api-egress egress[0] named ports"' in api
    # app/other declares no "sql": nothing for it
    assert not any("10.2.0.4" in line for line in api)


def test_ipblock_except_removes_pods_and_ranges() -> None:
    api = accept_lines(rules_of("egress-named-ipblock")["app/api"])
    # 10.2.0.0/16 minus 10.2.0.4 (app/other) minus 10.2.128.0/17
    assert 'ip daddr { 10.2.0.0/30, 10.2.0.5-10.2.127.255 } tcp dport 443 accept comment ' \
           '"app/api-egress egress[1]"' in api


def test_a_rule_without_peers_matches_any_address() -> None:
    api = accept_lines(rules_of("egress-named-ipblock")["app/api"])
    assert 'tcp dport 53 accept comment "app/api-egress egress[2]"' in api
    assert 'udp dport 53 accept comment "app/api-egress egress[2]"' in api


def test_own_node_and_ipv6() -> None:
    dual = rules_of("node-and-ipv6")["edge/dual"]
    lines = accept_lines(dual)
    # node n1 (agent-n1 and the host IP) both ways; node n2 never
    assert 'ip saddr 192.168.0.1 accept comment "own node"' in lines
    assert 'ip daddr 192.168.0.1 accept comment "own node"' in lines
    assert not any("192.168.0.2" in line for line in lines)
    # a rule without ports opens every protocol, for both families of the peers
    assert 'ip saddr 10.3.0.1-10.3.0.2 accept comment "edge/six-out-and-edge-in ingress[0]"' in lines
    assert 'ip6 saddr fd00::1-fd00::2 accept comment "edge/six-out-and-edge-in ingress[0]"' in lines
    # ::/0 is IPv6 only
    assert 'ip6 daddr ::/0 accept comment "edge/six-out-and-edge-in egress[0]"' in lines
    assert not any(line.startswith("ip daddr") and "egress[0]" in line for line in lines)
    assert dual.ingress == ("edge/deny-all", "edge/six-out-and-edge-in")
    assert dual.egress == dual.ingress


def test_own_node_follows_the_settings() -> None:
    settings = S.with_values(allow_node_to_local_pod_ingress=False, allow_pod_to_local_node_egress=False)
    _, rules = compile_file(FIXTURES / "compiler" / "node-and-ipv6.yaml", settings)
    assert not any("own node" in line for line in accept_lines(rules["edge/dual"]))


def test_self_traffic_follows_the_setting() -> None:
    _, rules = compile_file(FIXTURES / "compiler" / "ingress-ports.yaml", S.with_values(allow_self_traffic=False))
    assert not any("self traffic" in line for line in accept_lines(rules["shop/web-1"]))


def test_every_chain_drops_with_a_log_naming_pod_and_direction() -> None:
    layout, rules = compile_file(FIXTURES / "compiler" / "node-and-ipv6.yaml")
    dual = layout.pod("edge/dual")
    assert dual is not None
    text = rules["edge/dual"].ruleset
    assert f'log prefix "podfence {dual.index} i" group 7311 drop' in text
    assert f'log prefix "podfence {dual.index} e" group 7311 drop' in text
    assert "hook input" in text and "hook output" in text
    assert "ct state established,related accept" in text


def test_host_network_pods_get_no_rules() -> None:
    rules = rules_of("node-and-ipv6")
    assert rules["kube/agent-n1"].ruleset == "" and rules["kube/agent-n2"].ruleset == ""


def test_changing_a_policy_changes_only_the_affected_digests(tmp_path: Path) -> None:
    source = (FIXTURES / "compiler" / "ingress-ports.yaml").read_text()
    before = rules_of("ingress-ports")
    changed = tmp_path / "changed.yaml"
    changed.write_text(source.replace("{port: 8000, endPort: 8010}", "{port: 8000, endPort: 8011}"))
    _, after = compile_file(changed)
    differs = sorted(k for k in before if before[k].digest != after[k].digest)
    assert differs == ["shop/web-1", "shop/web-2"]


def test_port_elements() -> None:
    assert port_elements(IntervalSet.of([(80, 80)])) == "80"
    assert port_elements(IntervalSet.of([(8000, 8080)])) == "8000-8080"
    assert port_elements(IntervalSet.of([(80, 80), (443, 443), (8000, 8080)])) == "{ 80, 443, 8000-8080 }"


def test_address_elements() -> None:
    assert address_elements(IntervalSet.of([(10, 10)]), 4) == "0.0.0.10"
    # 10.0.0.0/8 as a CIDR, a non-CIDR run as a range
    assert address_elements(IntervalSet.of([(0x0A000000, 0x0AFFFFFF)]), 4) == "10.0.0.0/8"
    assert address_elements(IntervalSet.of([(0x0A000001, 0x0A000003), (0x0B000000, 0x0B000000)]), 4) == \
        "{ 10.0.0.1-10.0.0.3, 11.0.0.0 }"
    assert address_elements(IntervalSet.of([(0, (1 << 128) - 1)]), 6) == "::/0"
    assert address_elements(IntervalSet(), 4) == ""


def test_conn_matches() -> None:
    assert conn_matches(ConnSet.all()) == [""]
    assert conn_matches(ConnSet.ports(Protocol.TCP, 80)) == ["tcp dport 80 "]
    assert conn_matches(ConnSet.ports(Protocol.UDP)) == ["meta l4proto udp "]
    every_port = ConnSet.ports(Protocol.TCP) | ConnSet.ports(Protocol.UDP) | ConnSet.ports(Protocol.SCTP)
    assert conn_matches(every_port) == ["meta l4proto { tcp, udp, sctp } "]
    assert conn_matches(ConnSet.ports(Protocol.SCTP, 9, 10) | ConnSet.ports(Protocol.TCP, 1)) == [
        "tcp dport 1 ", "sctp dport 9-10 "]


def test_transaction_replaces_or_removes_the_table_atomically() -> None:
    assert transaction("pf", "") == "table inet pf\ndelete table inet pf\n"
    assert transaction("pf", "table inet pf {\n}\n").endswith("table inet pf {\n}\n")


# ---- names from manifests never reach nft as text -------------------------------------

HOSTILE = '\n}\ninclude "/dev/zero"\n# "; flush ruleset; \\ table inet x { chain c { accept } }\r\t%0A\u2028é'


def _hostile_cluster(hostile: bool):  # type: ignore[no-untyped-def]
    """Two namespaces, three pods and two policies; with ``hostile`` every name, label key and
    value carries HOSTILE after a prefix that keeps the sort order (so pod numbers match)."""
    from podfence.model import Cluster, Labels, Namespace, NetworkPolicy, Pod
    from podfence.sets import parse_ip

    def n(text: str) -> str:
        return text + HOSTILE if hostile else text

    app, role = n("app"), n("example.com/role")
    shop, ops = n("shop"), n("ops")
    pods = [
        Pod(shop, n("a-web"), Labels({app: n("web")}), ips=(parse_ip("10.0.0.1"), parse_ip("fd00::1"))),
        Pod(shop, n("b-db"), Labels({app: n("db")}), ips=(parse_ip("10.0.0.2"),)),
        Pod(ops, n("c-probe"), Labels({role: n("probe")}), ips=(parse_ip("10.0.1.1"),)),
    ]
    web = {
        "metadata": {"name": n("a-web-in")},
        "spec": {
            "podSelector": {"matchLabels": {app: n("web")}},
            "ingress": [
                {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ops}},
                           "podSelector": {"matchExpressions": [{"key": role, "operator": "In",
                                                                 "values": [n("probe")]}]}}],
                 "ports": [{"port": 80}]},
                {"from": [{"podSelector": {"matchLabels": {app: n("nobody")}}}]},
            ],
        },
    }
    db = {
        "metadata": {"name": n("b-db-out")},
        "spec": {
            "podSelector": {"matchLabels": {app: n("db")}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"podSelector": {"matchLabels": {app: n("web")}}},
                               {"ipBlock": {"cidr": "192.168.0.0/16", "except": ["192.168.1.0/24"]}}],
                        "ports": [{"protocol": "UDP", "port": 53}]}],
        },
    }
    policies = [NetworkPolicy.from_dict(web, namespace=shop), NetworkPolicy.from_dict(db, namespace=shop)]
    namespaces = [Namespace.of(shop), Namespace.of(ops)]
    return Cluster.of(namespaces=namespaces, pods=pods, policies=policies)


def _compiled(hostile: bool) -> dict[str, PodRules]:
    cluster = _hostile_cluster(hostile)
    layout = plan(cluster, S)
    compiler = Compiler(with_lab_addresses(cluster, layout), S, layout.pods, "podfence")
    return {p.key: compiler.compile(p) for p in layout.pods}


def _without_comments(text: str) -> str:
    import re

    lines = [re.sub(r' comment "[^"\n]*"$', "", line) for line in text.splitlines() if not line.lstrip().startswith("#")]
    return "\n".join(lines)


def test_hostile_names_and_labels_leave_the_rules_exactly_as_for_plain_ones() -> None:
    plain, hostile = _compiled(False), _compiled(True)
    assert len(plain) == len(hostile) == 3
    for (plain_key, p), (hostile_key, h) in zip(plain.items(), hostile.items()):
        namespace, name = plain_key.split("/")
        assert hostile_key == f"{namespace}{HOSTILE}/{name}{HOSTILE}"
        assert bool(p.ruleset) == bool(h.ruleset)
        # the same statements, line for line; only comments differ
        assert _without_comments(h.ruleset) == _without_comments(p.ruleset)
        assert h.ruleset.count("\n") == p.ruleset.count("\n")
    web = hostile["shop" + HOSTILE + "/a-web" + HOSTILE]
    assert "ip saddr 10.0.1.1 tcp dport 80 accept comment" in web.ruleset  # the selectors still matched
    assert 'ip6 saddr fd00::1 ip6 daddr fd00::1 accept comment "self traffic"' in web.ruleset


def test_hostile_names_appear_only_percent_encoded_in_comments() -> None:
    from podfence.lab.compiler import comment_text

    for rules in _compiled(True).values():
        if not rules.ruleset:
            continue
        text = rules.ruleset
        # nothing but printable ASCII, tabs and newlines (the comment cut mark aside)
        assert all(" " <= c <= "~" or c in "\t\n…" for c in text), text
        assert 'include "' not in text and "flush ruleset;" not in text and "\\" not in text
        assert text.splitlines()[0] == f"# podfence lab: {comment_text(rules.key)} (Pod) at " + (
            "10.0.0.1, fd00::1" if "a-web" in rules.key else "10.0.0.2")
        for line in text.splitlines():
            if " comment " in line:
                assert line.count('"') == 2 and line.endswith('"')
    encoded = comment_text(HOSTILE)
    assert "\n" not in encoded and '"' not in encoded and "%" in encoded and encoded.isascii()
    assert "%0A%7D%0Ainclude%20%22/dev/zero%22" in encoded


@pytest.mark.lab
def test_rules_compiled_from_hostile_names_are_accepted_by_nft(tmp_path: Path) -> None:
    script = tmp_path / "rules.nft"
    script.write_text("\n".join(r.ruleset for r in _compiled(True).values() if r.ruleset))
    # an include of /dev/zero would never end: bound the check
    done = subprocess.run([shutil.which("nft") or "nft", "-c", "-f", str(script)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
