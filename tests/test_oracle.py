"""The oracle checked against hand-worked cases, so that it can be trusted as a reference.

Every expected value here was worked out from the NetworkPolicy rules by hand;
none is read back from the oracle or the engine.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from oracle import address_in_cidr, oracle_allows, oracle_conns, selector_matches
from podfence.model import Cluster, ContainerPort, Labels, LabelSelector, Namespace, NetworkPolicy, Pod, Settings
from podfence.model.labels import Operator, Requirement
from podfence.sets import ConnSet, IntervalSet, IPAddress, Protocol, parse_ip

TCP, UDP, SCTP = Protocol.TCP, Protocol.UDP, Protocol.SCTP
DEFAULT = Settings()


def ip(text: str) -> IPAddress:
    parsed = parse_ip(text)
    assert parsed is not None
    return parsed


def pod(key: str, labels: dict[str, str] | None = None, ips: str = "", **kw: Any) -> Pod:
    ns, name = key.split("/")
    addresses = tuple(ip(t) for t in ips.split(",") if t)
    host_ips = tuple(ip(t) for t in kw.pop("host_ips", "").split(",") if t)
    return Pod(ns, name, Labels(labels or {}), ips=addresses, host_ips=host_ips, **kw)


def policies(text: str) -> list[NetworkPolicy]:
    return [NetworkPolicy.from_dict(doc) for doc in yaml.safe_load_all(text)]


def cluster(pods: list[Pod], text: str = "", namespaces: list[Namespace] = ()) -> Cluster:  # type: ignore[assignment]
    return Cluster.of(namespaces, pods, (), policies(text) if text else ())


DENY_ALL_A = """
metadata: {name: deny-all, namespace: a}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
"""


class TestBasics:
    def test_without_policies_everything_flows(self) -> None:
        x, y = pod("a/x", ips="10.0.0.1"), pod("b/y", ips="10.0.0.2")
        c = cluster([x, y])
        for proto in (TCP, UDP, SCTP):
            assert oracle_allows(c, DEFAULT, x, y, proto, 1)
            assert oracle_allows(c, DEFAULT, y, x, proto, 65535)
        assert oracle_allows(c, DEFAULT, x, y, None, 0)

    def test_deny_all_blocks_both_directions_of_a_only(self) -> None:
        x, y, z = pod("a/x", ips="10.0.0.1"), pod("b/y", ips="10.0.0.2"), pod("b/z", ips="10.0.0.3")
        c = cluster([x, y, z], DENY_ALL_A)
        assert not oracle_allows(c, DEFAULT, y, x, TCP, 80)
        assert not oracle_allows(c, DEFAULT, x, y, TCP, 80)
        assert oracle_allows(c, DEFAULT, y, z, TCP, 80)

    def test_egress_and_ingress_must_both_allow(self) -> None:
        text = """
metadata: {name: only-to-b, namespace: a}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: b}}}]}]
---
metadata: {name: from-a, namespace: c}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: a}}}]}]
"""
        x, y, z = pod("a/x", ips="10.0.0.1"), pod("b/y", ips="10.0.0.2"), pod("c/z", ips="10.0.0.3")
        c = cluster([x, y, z], text)
        assert oracle_allows(c, DEFAULT, x, y, TCP, 80)
        assert not oracle_allows(c, DEFAULT, x, z, TCP, 80)  # egress of x says no
        assert not oracle_allows(c, DEFAULT, y, z, TCP, 80)  # ingress of z says no

    def test_peers_are_or_selectors_in_one_peer_are_and(self) -> None:
        one = """
metadata: {name: p, namespace: a}
spec:
  podSelector: {matchLabels: {role: target}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: x}}, podSelector: {matchLabels: {role: c}}}]}]
"""
        two = """
metadata: {name: p, namespace: a}
spec:
  podSelector: {matchLabels: {role: target}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: x}}}, {podSelector: {matchLabels: {role: c}}}]}]
"""
        target = pod("a/t", {"role": "target"}, "10.0.0.1")
        db = pod("nsx/db", {"role": "db"}, "10.0.0.2")
        client = pod("a/c", {"role": "c"}, "10.0.0.3")
        spaces = [Namespace.of("nsx", {"team": "x"}), Namespace.of("a")]
        c_one = cluster([target, db, client], one, spaces)
        c_two = cluster([target, db, client], two, spaces)
        assert not oracle_allows(c_one, DEFAULT, db, target, TCP, 80)
        assert not oracle_allows(c_one, DEFAULT, client, target, TCP, 80)
        assert oracle_allows(c_two, DEFAULT, db, target, TCP, 80)
        assert oracle_allows(c_two, DEFAULT, client, target, TCP, 80)

    def test_namespace_name_label_is_synthesised(self) -> None:
        text = """
metadata: {name: p, namespace: a}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: b}}}]}]
"""
        x, y, z = pod("a/x", ips="10.0.0.1"), pod("b/y", ips="10.0.0.2"), pod("c/z", ips="10.0.0.3")
        bare = Namespace("b", Labels())  # built without the automatic label on purpose
        c = cluster([x, y, z], text, [bare])
        assert oracle_allows(c, DEFAULT, y, x, TCP, 80)
        assert not oracle_allows(c, DEFAULT, z, x, TCP, 80)


class TestPorts:
    @pytest.mark.parametrize(("ports", "allowed", "denied"), [
        ("[{}]", [(TCP, 5432)], [(UDP, 53), (SCTP, 1)]),
        ("[{protocol: UDP}]", [(UDP, 1), (UDP, 65535)], [(TCP, 80)]),
        ("[{port: 80}]", [(TCP, 80)], [(TCP, 81), (UDP, 80)]),
        ("[{protocol: UDP, port: 32000, endPort: 32768}]", [(UDP, 32000), (UDP, 32768)],
         [(UDP, 31999), (UDP, 32769), (TCP, 32100)]),
        ("[{protocol: SCTP, port: 81}]", [(SCTP, 81)], [(TCP, 81)]),
    ])
    def test_port_entries(self, ports: str, allowed: list[tuple[Protocol, int]],
                          denied: list[tuple[Protocol, int]]) -> None:
        text = f"metadata: {{name: p, namespace: a}}\nspec: {{ingress: [{{ports: {ports}}}]}}"
        x, y = pod("a/x", ips="10.0.0.1"), pod("b/y", ips="10.0.0.2")
        c = cluster([x, y], text)
        for proto, port in allowed:
            assert oracle_allows(c, DEFAULT, y, x, proto, port), (proto, port)
        for proto, port in denied:
            assert not oracle_allows(c, DEFAULT, y, x, proto, port), (proto, port)
        assert not oracle_allows(c, DEFAULT, y, x, None, 0)  # a rule with ports never admits ICMP

    def test_non_l4_follows_the_knob_for_rules_without_ports(self) -> None:
        text = "metadata: {name: p, namespace: a}\nspec: {ingress: [{from: [{podSelector: {}}]}]}"
        x, y = pod("a/x", ips="10.0.0.1"), pod("a/y", ips="10.0.0.2")
        c = cluster([x, y], text)
        assert oracle_allows(c, DEFAULT, y, x, None, 0)
        assert not oracle_allows(c, Settings(non_l4_rules_without_ports=False), y, x, None, 0)
        assert oracle_allows(c, Settings(non_l4_rules_without_ports=False), y, x, TCP, 80)

    def test_named_ports_resolve_on_the_destination_pod(self) -> None:
        text = """
metadata: {name: p, namespace: a}
spec: {podSelector: {matchLabels: {app: web}}, ingress: [{ports: [{port: http}]}]}
"""
        w1 = pod("a/w1", {"app": "web"}, "10.0.0.1", ports=(ContainerPort(8080, TCP, "http"),))
        w2 = pod("a/w2", {"app": "web"}, "10.0.0.2", ports=(
            ContainerPort(9090, TCP, "http"), ContainerPort(9091, TCP, "http"),  # two containers
        ))
        w3 = pod("a/w3", {"app": "web"}, "10.0.0.3", ports=(ContainerPort(8080, UDP, "http"),))
        w4 = pod("a/w4", {"app": "web"}, "10.0.0.4", ports=(ContainerPort(7070, TCP, "http", init=True),))
        cl = pod("b/c", ips="10.0.0.9")
        c = cluster([w1, w2, w3, w4, cl], text)
        assert oracle_allows(c, DEFAULT, cl, w1, TCP, 8080)
        assert not oracle_allows(c, DEFAULT, cl, w1, TCP, 9090)
        assert oracle_allows(c, DEFAULT, cl, w2, TCP, 9090)
        assert oracle_allows(c, DEFAULT, cl, w2, TCP, 9091)
        assert not oracle_allows(c, DEFAULT, cl, w2, TCP, 8080)
        assert not oracle_allows(c, DEFAULT, cl, w3, TCP, 8080)  # the name is on UDP only
        assert not oracle_allows(c, DEFAULT, cl, w3, UDP, 8080)  # the rule's protocol is TCP
        assert oracle_allows(c, DEFAULT, cl, w4, TCP, 7070)
        assert not oracle_allows(c, Settings(named_port_include_init_containers=False), cl, w4, TCP, 7070)

    def test_egress_named_port_never_matches_addresses_or_host_network_pods(self) -> None:
        text = """
metadata: {name: p, namespace: a}
spec: {podSelector: {matchLabels: {app: client}}, egress: [{ports: [{port: http}]}]}
"""
        client = pod("a/client", {"app": "client"}, "10.0.0.1")
        srv = pod("b/srv", ips="10.0.0.2", ports=(ContainerPort(8080, TCP, "http"),))
        other = pod("b/other", ips="10.0.0.3")
        host = pod("b/host", ips="10.0.0.20", host_network=True, ports=(ContainerPort(8080, TCP, "http"),))
        c = cluster([client, srv, other, host], text)
        assert oracle_allows(c, DEFAULT, client, srv, TCP, 8080)
        assert not oracle_allows(c, DEFAULT, client, srv, TCP, 80)
        assert not oracle_allows(c, DEFAULT, client, other, TCP, 8080)
        assert not oracle_allows(c, DEFAULT, client, ip("203.0.113.5"), TCP, 8080)
        assert not oracle_allows(c, DEFAULT, client, host, TCP, 8080)
        assert oracle_allows(c, Settings(hostnetwork_as_node=False), client, host, TCP, 8080)

    def test_conns_collects_the_tried_ports(self) -> None:
        text = "metadata: {name: p, namespace: a}\nspec: {ingress: [{ports: [{port: 80, endPort: 81}, {protocol: UDP}]}]}"
        x, y = pod("a/x", ips="10.0.0.1"), pod("b/y", ips="10.0.0.2")
        got = oracle_conns(cluster([x, y], text), DEFAULT, y, x, [79, 80, 81, 82, 53])
        assert got == ConnSet(tcp=IntervalSet.of([(80, 81)]), udp=IntervalSet.of([(53, 53), (79, 82)]))


class TestAddresses:
    EGRESS = """
metadata: {name: p, namespace: a}
spec:
  podSelector: {}
  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}, {ipBlock: {cidr: 10.1.2.3/32}}]}]
"""

    def test_ip_block_except_and_union(self) -> None:
        x = pod("a/x", ips="10.9.0.1")
        c = cluster([x], self.EGRESS)
        assert oracle_allows(c, DEFAULT, x, ip("10.2.0.1"), TCP, 80)
        assert oracle_allows(c, DEFAULT, x, ip("10.1.2.3"), TCP, 80)  # admitted by the second peer
        assert not oracle_allows(c, DEFAULT, x, ip("10.1.2.4"), TCP, 80)
        assert not oracle_allows(c, DEFAULT, x, ip("11.0.0.1"), TCP, 80)
        assert not oracle_allows(c, DEFAULT, x, ip("fd00::1"), TCP, 80)

    def test_dual_stack_is_judged_per_family(self) -> None:
        text = """
metadata: {name: p, namespace: a}
spec: {podSelector: {}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]}
"""
        x = pod("a/x", ips="10.0.0.1,fd00::1")
        dual, v6, none = pod("b/d", ips="10.0.0.2,fd00::2"), pod("b/s", ips="fd00::3"), pod("b/n")
        c = cluster([x, dual, v6, none], text)
        assert oracle_allows(c, DEFAULT, x, ip("198.51.100.1"), TCP, 80)
        assert not oracle_allows(c, DEFAULT, x, ip("2001:db8::1"), TCP, 80)
        assert oracle_allows(c, DEFAULT, x, dual, TCP, 80)  # over IPv4
        assert not oracle_allows(c, DEFAULT, x, v6, TCP, 80)  # only IPv6 in common
        assert not oracle_allows(c, DEFAULT, x, none, TCP, 80)  # no address: ipBlock cannot match

    def test_pods_in_disjoint_families_cannot_talk(self) -> None:
        v4, v6 = pod("a/x", ips="10.0.0.1"), pod("a/y", ips="fd00::1")
        c = cluster([v4, v6])
        assert not oracle_allows(c, DEFAULT, v4, v6, TCP, 80)

    def test_an_end_without_ips_leaves_the_other_ends_address_visible(self) -> None:
        text = """
metadata: {name: p, namespace: a}
spec: {podSelector: {}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 10.0.0.0/24}}]}]}
"""
        rep = Pod("a", "web", kind="Deployment")  # a template: no IPs
        db, far = pod("b/db", ips="10.0.0.2"), pod("b/far", ips="10.0.1.2")
        c = cluster([rep, db, far], text)
        assert oracle_allows(c, DEFAULT, rep, db, TCP, 5432)
        assert not oracle_allows(c, DEFAULT, rep, far, TCP, 5432)

    def test_a_pod_cannot_reach_an_address_of_a_family_it_lacks(self) -> None:
        v4, bare = pod("a/x", ips="10.0.0.1"), pod("a/y")
        c = cluster([v4, bare])
        assert oracle_allows(c, DEFAULT, v4, ip("192.0.2.1"), TCP, 80)
        assert not oracle_allows(c, DEFAULT, v4, ip("2001:db8::1"), TCP, 80)
        assert not oracle_allows(c, DEFAULT, ip("2001:db8::1"), v4, TCP, 80)
        assert oracle_allows(c, DEFAULT, bare, ip("2001:db8::1"), TCP, 80)  # addresses unknown: not ruled out

    def test_pods_without_ips_are_matched_by_labels(self) -> None:
        text = """
metadata: {name: p, namespace: a}
spec: {podSelector: {}, ingress: [{from: [{podSelector: {matchLabels: {app: fe}}}]}]}
"""
        x, fe, other = pod("a/x"), pod("a/fe", {"app": "fe"}), pod("a/o", ips="10.0.0.3")
        c = cluster([x, fe, other], text)
        assert oracle_allows(c, DEFAULT, fe, x, TCP, 80)
        assert not oracle_allows(c, DEFAULT, other, x, TCP, 80)

    def test_ipblock_matches_pods_knob(self) -> None:
        text = """
metadata: {name: p, namespace: a}
spec: {podSelector: {matchLabels: {app: c}}, egress: [{to: [{ipBlock: {cidr: 10.0.0.0/24}}]}]}
"""
        client, srv = pod("a/c", {"app": "c"}, "10.0.0.1"), pod("b/s", ips="10.0.0.2")
        host = pod("b/h", ips="10.0.0.3", host_network=True)
        c = cluster([client, srv, host], text)
        off = Settings(ipblock_matches_pods=False)
        assert oracle_allows(c, DEFAULT, client, srv, TCP, 80)
        assert not oracle_allows(c, off, client, srv, TCP, 80)
        assert oracle_allows(c, off, client, host, TCP, 80)  # a hostNetwork pod is a node address
        assert oracle_allows(c, off, client, ip("10.0.0.77"), TCP, 80)

    @pytest.mark.parametrize(("address", "cidr", "inside"), [
        ("10.0.0.0", "10.0.0.5/8", True),
        ("10.255.255.255", "010.0.0.0/8", True),
        ("11.0.0.0", "10.0.0.0/8", False),
        ("10.1.2.3", "::ffff:10.0.0.0/104", True),
        ("10.1.2.3", "::/0", False),
        ("fd00::1", "0.0.0.0/0", False),
        ("fd00::1", "fd00::/127", True),
    ])
    def test_address_in_cidr(self, address: str, cidr: str, inside: bool) -> None:
        assert address_in_cidr(ip(address), cidr) is inside


class TestSpecialTraffic:
    def test_self_traffic(self) -> None:
        x = pod("a/x", ips="10.0.0.1")
        rep = Pod("a", "web", kind="Deployment")
        c = cluster([x, rep], DENY_ALL_A)
        assert oracle_allows(c, DEFAULT, x, x, TCP, 80)
        assert not oracle_allows(c, Settings(allow_self_traffic=False), x, x, TCP, 80)
        assert not oracle_allows(c, DEFAULT, rep, rep, TCP, 80)  # replica to replica

    def test_terminal_pods_take_no_part(self) -> None:
        done = pod("a/job", ips="10.0.0.7", phase="Succeeded")
        y = pod("b/y", ips="10.0.0.2")
        c = cluster([done, y])
        assert not oracle_allows(c, DEFAULT, done, y, TCP, 80)
        assert not oracle_allows(c, DEFAULT, y, done, TCP, 80)
        assert oracle_allows(c, Settings(terminal_pods_ignored=False), y, done, TCP, 80)

    def test_terminal_pod_does_not_lend_its_labels_to_its_old_ip(self) -> None:
        text = """
metadata: {name: p, namespace: a}
spec: {podSelector: {}, ingress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {job: "yes"}}}]}]}
"""
        job = pod("b/job", {"job": "yes"}, "10.0.0.7", phase="Succeeded")
        new = pod("b/new", ips="10.0.0.7", phase="Running")
        x = pod("a/x", ips="10.0.0.1")
        c = cluster([job, new, x], text)
        assert not oracle_allows(c, DEFAULT, new, x, TCP, 80)

    def test_host_network_pod_is_neither_subject_nor_selected(self) -> None:
        text = """
metadata: {name: p, namespace: a}
spec: {podSelector: {}, ingress: [{from: [{namespaceSelector: {}}]}]}
"""
        h = pod("a/h", ips="10.0.0.20", host_network=True, node_name="n2")
        x = pod("a/x", ips="10.0.0.1", node_name="n1")
        y = pod("b/y", ips="10.0.0.2")
        c = cluster([h, x, y], text)
        assert not oracle_allows(c, DEFAULT, h, x, TCP, 80)  # not a pod peer
        assert oracle_allows(c, DEFAULT, y, h, TCP, 80)  # h is not isolated
        assert oracle_allows(c, Settings(hostnetwork_as_node=False), h, x, TCP, 80)

    def test_own_node(self) -> None:
        x = pod("a/x", ips="10.0.0.1", node_name="n1", host_ips="10.0.0.17")
        elsewhere = pod("b/y", ips="10.0.0.2", node_name="n2", host_ips="10.0.0.18")
        h1 = pod("b/h1", ips="10.0.0.30", host_network=True, node_name="n1")
        c = cluster([x, elsewhere, h1], DENY_ALL_A)
        assert oracle_allows(c, DEFAULT, ip("10.0.0.17"), x, TCP, 10250)
        assert oracle_allows(c, DEFAULT, ip("10.0.0.30"), x, TCP, 10250)  # a hostNetwork pod's IP is n1's too
        assert oracle_allows(c, DEFAULT, h1, x, TCP, 10250)
        assert not oracle_allows(c, DEFAULT, ip("10.0.0.18"), x, TCP, 10250)
        assert oracle_allows(c, DEFAULT, x, ip("10.0.0.17"), TCP, 53)
        assert not oracle_allows(c, DEFAULT, x, ip("10.0.0.18"), TCP, 53)
        h_no_ip = pod("b/h2", host_network=True, node_name="n1")  # still node n1, address unknown
        c = cluster([x, elsewhere, h1, h_no_ip], DENY_ALL_A)
        assert oracle_allows(c, DEFAULT, h_no_ip, x, TCP, 10250)
        assert not oracle_allows(c, Settings(hostnetwork_as_node=False), h1, x, TCP, 10250)  # a pod, not a node
        no_in = Settings(allow_node_to_local_pod_ingress=False)
        no_out = Settings(allow_pod_to_local_node_egress=False)
        assert not oracle_allows(c, no_in, ip("10.0.0.17"), x, TCP, 10250)
        assert oracle_allows(c, no_in, x, ip("10.0.0.17"), TCP, 53)
        assert not oracle_allows(c, no_out, x, ip("10.0.0.17"), TCP, 53)


@pytest.mark.parametrize(("labels", "expressions", "pod_labels", "expected"), [
    ({}, (), {}, True),
    ({"tier": ""}, (), {"tier": ""}, True),
    ({"tier": ""}, (), {}, False),
    ({}, (("env", "NotIn", ("prod",)),), {}, True),
    ({}, (("env", "NotIn", ("prod",)),), {"env": "dev"}, True),
    ({}, (("env", "NotIn", ("prod",)),), {"env": "prod"}, False),
    ({}, (("env", "In", ("prod", "dev")),), {"env": "dev"}, True),
    ({}, (("env", "In", ("prod",)),), {}, False),
    ({}, (("env", "Exists", ()),), {"env": ""}, True),
    ({}, (("env", "DoesNotExist", ()),), {"env": ""}, False),
    ({"app": "web"}, (("env", "DoesNotExist", ()),), {"app": "web"}, True),
])
def test_selector_semantics(labels: dict[str, str], expressions: tuple[tuple[str, str, tuple[str, ...]], ...],
                            pod_labels: dict[str, str], expected: bool) -> None:
    sel = LabelSelector.of(labels, tuple(Requirement(k, Operator(op), vs) for k, op, vs in expressions))
    assert selector_matches(sel, pod_labels) is expected
