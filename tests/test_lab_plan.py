"""Where the lab puts pods: which pods take part, and which addresses they get."""

from __future__ import annotations

import pytest

from podfence.lab.plan import LabPod, PlanError, plan, with_lab_addresses
from podfence.model import Cluster, ContainerPort, Labels, Pod, Settings
from podfence.sets import Protocol, parse_ip

S = Settings()


def ip(text: str):  # type: ignore[no-untyped-def]
    parsed = parse_ip(text)
    assert parsed is not None
    return parsed


def test_pods_without_addresses_get_them_in_order_from_the_lab_range() -> None:
    cluster = Cluster.of(pods=[Pod("b", "x"), Pod("a", "y"), Pod("a", "x")])
    lab = plan(cluster, S, "10.9.0.0/24")
    assert [(p.index, p.key, p.ips) for p in lab.pods] == [
        (1, "a/x", ("10.9.0.1",)), (2, "a/y", ("10.9.0.2",)), (3, "b/x", ("10.9.0.3",)),
    ]


def test_manifest_addresses_are_kept_and_never_handed_out_again() -> None:
    cluster = Cluster.of(pods=[Pod("a", "m", ips=(ip("10.9.0.1"), ip("fd00::5"))), Pod("a", "n"),
                               Pod("z", "done", phase="Succeeded", ips=(ip("10.9.0.2"),))])
    lab = plan(cluster, S, "10.9.0.0/24")
    assert lab.pod("a/m").ips == ("10.9.0.1", "fd00::5")  # type: ignore[union-attr]
    # 10.9.0.1 belongs to a/m, 10.9.0.2 is mentioned by a finished pod: skip both
    assert lab.pod("a/n").ips == ("10.9.0.3",)  # type: ignore[union-attr]


def test_terminal_pods_take_no_part() -> None:
    cluster = Cluster.of(pods=[Pod("a", "ok"), Pod("a", "f", phase="Failed"), Pod("a", "s", phase="Succeeded")])
    assert [p.key for p in plan(cluster, S).pods] == ["a/ok"]


def test_ipv6_only_pods_still_get_an_ipv4_address() -> None:
    lab = plan(Cluster.of(pods=[Pod("a", "six", ips=(ip("fd00::7"),))]), S, "10.9.0.0/24")
    assert lab.pods[0].ips == ("10.9.0.1", "fd00::7")
    assert lab.pods[0].ip(6) == "fd00::7" and lab.pods[0].ip(4) == "10.9.0.1"


def test_a_duplicate_pod_address_is_replaced_with_a_note() -> None:
    cluster = Cluster.of(pods=[Pod("a", "one", ips=(ip("10.0.0.5"),)), Pod("a", "two", ips=(ip("10.0.0.5"),))])
    lab = plan(cluster, S, "10.9.0.0/24")
    assert lab.pod("a/one").ips == ("10.0.0.5",)  # type: ignore[union-attr]
    assert lab.pod("a/two").ips == ("10.9.0.1",)  # type: ignore[union-attr]
    assert len(lab.notes) == 1 and "a/two" in lab.notes[0] and "10.0.0.5" in lab.notes[0]


def test_host_network_pods_may_share_the_node_address() -> None:
    cluster = Cluster.of(pods=[
        Pod("kube", "h1", host_network=True, ips=(ip("192.168.5.1"),)),
        Pod("kube", "h2", host_network=True, ips=(ip("192.168.5.1"),)),
        Pod("kube", "p", ips=(ip("192.168.5.1"),)),
    ])
    lab = plan(cluster, S, "10.9.0.0/24")
    assert lab.pod("kube/h1").ips == ("192.168.5.1",)  # type: ignore[union-attr]
    assert lab.pod("kube/h2").ips == ("192.168.5.1",)  # type: ignore[union-attr]
    assert lab.pod("kube/h1").host_network  # type: ignore[union-attr]
    # a pod cannot have the node's address
    assert lab.pod("kube/p").ips == ("10.9.0.1",)  # type: ignore[union-attr]


def test_a_full_range_is_an_error() -> None:
    cluster = Cluster.of(pods=[Pod("a", str(i)) for i in range(3)])
    with pytest.raises(PlanError, match="no free address"):
        plan(cluster, S, "10.9.0.0/30")


@pytest.mark.parametrize("cidr", ["banana", "fd00::/64", "10.0.0.0/31"])
def test_bad_pod_ranges_are_errors(cidr: str) -> None:
    with pytest.raises(PlanError):
        plan(Cluster.of(pods=[Pod("a", "x")]), S, cidr)


def test_listen_ports_are_the_declared_ones_plus_the_extra_ones() -> None:
    pod = Pod("a", "web", ports=(ContainerPort(8080, Protocol.TCP, "http"), ContainerPort(53, Protocol.UDP),
                                 ContainerPort(9, Protocol.SCTP)))
    placed = plan(Cluster.of(pods=[pod]), S, extra_ports=(80,)).pods[0]
    assert placed.tcp_ports == (80, 8080)
    assert placed.udp_ports == (53, 80)
    assert placed.sctp_ports == (9,)


def test_lab_pods_survive_the_state_file() -> None:
    pod = Pod("a", "web", Labels(app="web"), ports=(ContainerPort(80),), node_name="n1", kind="Deployment")
    placed = plan(Cluster.of(pods=[pod]), S).pods[0]
    assert LabPod.from_json(placed.to_json()) == placed


def test_with_lab_addresses_fills_in_the_lab_addresses_only() -> None:
    cluster = Cluster.of(pods=[Pod("a", "x"), Pod("a", "gone", phase="Failed")])
    lab = plan(cluster, S, "10.9.0.0/24")
    filled = with_lab_addresses(cluster, lab)
    assert filled.pod("a/x").ips == (ip("10.9.0.1"),)  # type: ignore[union-attr]
    assert filled.pod("a/gone").ips == ()  # type: ignore[union-attr]
    assert filled.policies == cluster.policies


@pytest.mark.parametrize("address", ["127.0.0.1", "127.255.0.1", "0.0.0.0", "0.1.2.3", "169.254.1.1", "169.254.9.9",
                                     "224.0.0.1", "239.1.1.1", "255.255.255.255", "::", "::1",
                                     "fe80::1", "febf::1", "ff02::1"])
def test_addresses_no_lab_pod_can_have(address: str) -> None:
    from podfence.lab.plan import unhostable_reason
    from podfence.sets import parse_ip

    assert unhostable_reason(parse_ip(address)) is not None  # type: ignore[arg-type]


@pytest.mark.parametrize("address", ["10.0.0.1", "192.168.1.1", "100.64.0.1", "240.0.0.1", "192.0.2.1",
                                     "fd00::1", "2001:db8::1", "::2", "100::1", "fec0::1"])
def test_addresses_a_lab_pod_can_have(address: str) -> None:
    from podfence.lab.plan import unhostable_reason
    from podfence.sets import parse_ip

    assert unhostable_reason(parse_ip(address)) is None  # type: ignore[arg-type]


def test_unhostable_pod_addresses_are_found_with_the_pod_and_its_field() -> None:
    from podfence.lab.plan import unhostable
    from podfence.model import Cluster, Pod, Source
    from podfence.sets import parse_ip

    bad = Pod("ns", "bad", ips=(parse_ip("10.0.0.1"), parse_ip("fe80::2")), source=Source("pods.yaml", 7))  # type: ignore[arg-type]
    first = Pod("ns", "first", ips=(parse_ip("127.0.0.1"),), source=Source("pods.yaml", 1))  # type: ignore[arg-type]
    done = Pod("ns", "done", ips=(parse_ip("127.0.0.1"),), phase="Succeeded")  # type: ignore[arg-type]
    found = unhostable(Cluster.of(pods=[bad, first, done]), Settings())
    assert [(u.pod.name, str(u.address)) for u in found] == [("bad", "fe80::2"), ("first", "127.0.0.1")]
    assert found[0].diagnostic().one_line().startswith(
        "pods.yaml:7: Pod ns/bad: status.podIPs[1].ip: the lab cannot host fe80::2, a link-local address")
    assert found[1].diagnostic().field_path == "status.podIP"
    assert found[0].diagnostic(("status", "podIPs", 3, "ip"), 12).one_line().startswith(
        "pods.yaml:12: Pod ns/bad: status.podIPs[3].ip: ")


@pytest.mark.parametrize("cidr", ["127.0.0.0/16", "169.254.0.0/16", "0.0.0.0/0", "224.0.0.0/24"])
def test_a_pod_cidr_the_lab_cannot_host_is_refused(cidr: str) -> None:
    with pytest.raises(PlanError, match="where the lab cannot give pods addresses"):
        plan(Cluster.of(), Settings(), cidr)
