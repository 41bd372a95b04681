"""Namespaces, links, addresses and routes of a lab (routed, Calico style).

Layout, for a lab named ``podfence``::

    podfence-node                      podfence-p7 (pod 7)
    lo: 169.254.1.1/32, hostNetwork    eth0: 10.244.0.7/32
        pods' addresses                default via 169.254.1.1 dev eth0 onlink
    podfencev7 ---------- veth ---------- eth0
    route 10.244.0.7/32 dev podfencev7

The node namespace forwards between pods; its gateway address lives on its
loopback, which the kernel answers ARP for on every link. IPv6 works the same
way with ``fe80::1`` on each node link. The node namespace has no route
anywhere else, so no packet of the lab ever leaves it.

Everything is made with one thread hopping between namespaces: namespaces by
unshare + bind mount, links and routes by batched netlink requests. Nothing is
forked per pod.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Callable

from podfence.lab import linux, netlink
from podfence.lab.naming import GATEWAY_V4, GATEWAY_V6, POD_LINK, POD_LINK_INDEX, LabNames
from podfence.lab.plan import LabPod

NODE_LINK_BASE = 1000
LOOPBACK_INDEX = 1

Progress = Callable[[int], None]

# Per-namespace settings. Probes may meet no listener, and the "port
# unreachable" answers that then prove delivery must not be rate limited.
POD_SYSCTLS = (
    ("net.ipv4.icmp_ratelimit", "0"),
    ("net.ipv4.icmp_msgs_per_sec", "1000000"),
    ("net.ipv4.icmp_msgs_burst", "1000000"),
    ("net.ipv6.icmp.ratelimit", "0"),
    ("net.ipv4.ip_local_port_range", "10000 60999"),
    ("net.ipv6.conf.all.accept_dad", "0"),
    ("net.ipv6.conf.default.accept_dad", "0"),
)
NODE_SYSCTLS = (
    ("net.ipv4.ip_forward", "1"),
    ("net.ipv6.conf.all.forwarding", "1"),
    ("net.ipv4.conf.all.rp_filter", "0"),
    ("net.ipv4.conf.default.rp_filter", "0"),
    ("net.ipv6.conf.all.accept_dad", "0"),
    ("net.ipv6.conf.default.accept_dad", "0"),
)


def netns_of(names: LabNames, pod: LabPod) -> str:
    """The namespace a pod's traffic starts and ends in."""
    return names.node_netns if pod.host_network else names.pod_netns(pod.index)


def lab_netns(names: LabNames) -> list[str]:
    """The lab's namespaces that exist now, found by name only."""
    return [n for n in linux.list_netns() if names.owns_netns(n)]


def create(names: LabNames, pods: tuple[LabPod, ...], progress: Progress | None = None) -> None:
    """Build the lab's namespaces and wire every pod to the node namespace."""
    linux.prepare_netns_dir()
    linux.create_netns(names.node_netns)
    routed = [p for p in pods if not p.host_network]
    for pod in routed:
        netns = names.pod_netns(pod.index)
        linux.create_netns(netns)
        with linux.in_netns(linux.netns_path(netns)):
            for key, value in POD_SYSCTLS:
                linux.write_sysctl(key, value)
        if progress:
            progress(1)
    _wire_node(names, pods, routed)
    for pod in routed:
        with linux.in_netns(linux.netns_path(names.pod_netns(pod.index))):
            _configure_pod(pod)
        if progress:
            progress(1)


def _wire_node(names: LabNames, pods: tuple[LabPod, ...], routed: list[LabPod]) -> None:
    fds: list[int] = []
    try:
        with linux.in_netns(linux.netns_path(names.node_netns)):
            for key, value in NODE_SYSCTLS:
                linux.write_sysctl(key, value)
            requests = [netlink.link_up(LOOPBACK_INDEX), netlink.address(LOOPBACK_INDEX, GATEWAY_V4)]
            host_addresses = sorted({ip for p in pods if p.host_network for ip in p.ips})
            requests += [netlink.address(LOOPBACK_INDEX, ip) for ip in host_addresses]
            for pod in routed:
                fd = os.open(linux.netns_path(names.pod_netns(pod.index)), os.O_RDONLY | os.O_CLOEXEC)
                fds.append(fd)
                link = NODE_LINK_BASE + pod.index
                requests.append(netlink.veth_pair(names.node_link(pod.index), link, POD_LINK, fd))
            with netlink.RouteSocket() as rt:
                rt.run(requests)
                follow: list[netlink.Request] = []
                for pod in routed:
                    link = NODE_LINK_BASE + pod.index
                    if pod.ip(6):
                        follow.append(netlink.address(link, GATEWAY_V6, 64, netlink.RT_SCOPE_LINK))
                    follow += [netlink.route_to_link(ip, link) for ip in pod.ips]
                rt.run(follow)
    finally:
        for fd in fds:
            os.close(fd)


def _configure_pod(pod: LabPod) -> None:
    """Inside the pod's namespace: loopback up, eth0's addresses, default routes."""
    requests = [netlink.link_up(LOOPBACK_INDEX), netlink.link_up(POD_LINK_INDEX)]
    v4, v6 = pod.ip(4), pod.ip(6)
    if v4:
        requests += [netlink.address(POD_LINK_INDEX, v4), netlink.default_route(GATEWAY_V4, POD_LINK_INDEX)]
    if v6:
        requests += [netlink.address(POD_LINK_INDEX, v6), netlink.default_route(GATEWAY_V6, POD_LINK_INDEX)]
    with netlink.RouteSocket() as rt:
        rt.run(requests)


def destroy(names: LabNames, server_pid: int = 0) -> list[str]:
    """Remove everything the lab named ``names.lab`` made; return the namespaces removed.

    Works without any state: namespaces are found by their names. The echo
    server (and any denial reader) notice that their node namespace is gone and
    exit; ``server_pid`` is also signalled when it is still the lab's server.
    """
    if server_pid:
        stop_process(server_pid, names.lab)
    removed = []
    for netns in lab_netns(names):
        linux.delete_netns(netns)
        removed.append(netns)
    return removed


def is_lab_process(pid: int, lab: str) -> bool:
    """True when ``pid`` runs one of podfence's lab daemons for the lab ``lab``."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            args = fh.read().decode(errors="replace").split("\0")
    except OSError:
        return False
    modules = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "-m"]
    labs = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--lab"]
    return any(m.startswith("podfence.lab.") for m in modules) and labs == [lab]


def stop_process(pid: int, lab: str, wait: float = 2.0) -> bool:
    """Terminate ``pid`` if it is one of the lab's own daemons; True when it was."""
    if not is_lab_process(pid, lab):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if not is_lab_process(pid, lab):
            return True
        time.sleep(0.02)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return True
