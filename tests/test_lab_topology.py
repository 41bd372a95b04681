"""A real lab: namespaces, links, echo servers, and cleanup after a crash.

These tests need root and nftables (marker ``lab``; see tests/conftest.py).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from podfence.lab import control, linux
from podfence.lab.naming import LabNames
from podfence.model import Cluster, ContainerPort, Labels, Pod, Settings
from podfence.sets import Protocol, parse_ip
from test_lab_support import lab_name

pytestmark = pytest.mark.lab
LAB = lab_name("pft")


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PODFENCE_LAB_STATE_DIR", str(tmp_path / "state"))
    yield
    if linux.missing_requirement() is None:
        control.down(LAB)


def leftovers(name: str) -> dict[str, list[str]]:
    """Everything carrying the lab's prefix, looked up with the system tools."""
    owns = LabNames(name).owns_netns
    netns = sorted(n for n in os.listdir("/run/netns") if owns(n)) if os.path.isdir("/run/netns") else []
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True).stdout
    own_link = re.compile(rf": {re.escape(name)}v\d+[@:]")
    return {
        "netns": netns,
        "links": [line for line in links.splitlines() if own_link.search(line)],
        "tables": [line for line in tables.splitlines() if line.split()[-1:] == [name]],
    }


def lab_processes(name: str) -> list[int]:
    from podfence.lab.topology import is_lab_process

    return [int(p) for p in os.listdir("/proc") if p.isdigit() and is_lab_process(int(p), name)]


def wait_until(predicate, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def cluster() -> Cluster:
    return Cluster.of(pods=[
        Pod("x", "web", Labels(app="web"), ports=(ContainerPort(8080, Protocol.TCP, "http"),
                                                  ContainerPort(53, Protocol.UDP, "dns"))),
        Pod("x", "six", ips=(parse_ip("10.0.0.6"), parse_ip("fd00::6"))),  # type: ignore[arg-type]
        Pod("y", "host", host_network=True, ips=(parse_ip("192.168.77.1"),)),  # type: ignore[arg-type]
        Pod("y", "done", phase="Succeeded"),
    ])


def connect_from(netns: str, family: int, kind: int) -> socket.socket:
    with linux.in_netns(linux.netns_path(netns)):
        sock = socket.socket(family, kind)
    sock.settimeout(2)
    return sock


def test_up_wires_pods_and_serves_their_ports_then_down_removes_everything() -> None:
    result = control.up(cluster(), Settings(), name=LAB, pod_cidr="10.77.0.0/24", extra_ports=(81,))
    names = LabNames(LAB)
    web, six, host = (result.state.pod(k) for k in ("x/web", "x/six", "y/host"))
    assert web and six and host and result.state.pod("y/done") is None
    assert sorted(n for n in os.listdir("/run/netns") if names.owns_netns(n)) == sorted(
        [names.node_netns, names.pod_netns(web.index), names.pod_netns(six.index)])

    # TCP from x/six to x/web's declared port, and to the extra port
    for port in (8080, 81):
        tcp = connect_from(names.pod_netns(six.index), socket.AF_INET, socket.SOCK_STREAM)
        tcp.connect((web.ips[0], port))
        tcp.sendall(b"ping")
        assert tcp.recv(16) == b"ping"
        tcp.close()
    # UDP echo on the declared UDP port
    udp = connect_from(names.pod_netns(six.index), socket.AF_INET, socket.SOCK_DGRAM)
    udp.sendto(b"hello", (web.ips[0], 53))
    assert udp.recvfrom(16)[0] == b"hello"
    # IPv6 where the manifest gives it: x/web has none, so talk to x/six from the node's host pod
    tcp6 = connect_from(names.node_netns, socket.AF_INET6, socket.SOCK_STREAM)
    tcp6.connect(("fd00::6", 81))
    assert tcp6.getpeername()[0] == "fd00::6"
    # the hostNetwork pod answers on its node address, from a pod
    tcp = connect_from(names.pod_netns(web.index), socket.AF_INET, socket.SOCK_STREAM)
    tcp.connect(("192.168.77.1", 81))
    tcp.close()

    status = control.status(LAB)
    assert status.up and status.server_running and status.pods == 3 and status.namespaces == 3

    removed = control.down(LAB)
    assert len(removed) == 3
    assert leftovers(LAB) == {"netns": [], "links": [], "tables": []}
    assert wait_until(lambda: not lab_processes(LAB))
    assert not control.status(LAB).up


def test_a_killed_lab_up_is_cleaned_by_the_next_up_and_down_leaves_nothing(tmp_path: Path) -> None:
    manifests = tmp_path / "pods.yaml"
    manifests.write_text("\n---\n".join(
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: n}}\nspec: {{containers: [{{name: c, image: x}}]}}"
        for i in range(150)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "podfence.cli.main", "lab", "up", "-f", str(manifests), "--name", LAB,
         "--pod-cidr", "10.78.0.0/16"],
        env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # kill -9 once it has made some namespaces but not all of them
    assert wait_until(lambda: len(leftovers(LAB)["netns"]) >= 20, timeout=20)
    assert proc.poll() is None, "lab up finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stale = leftovers(LAB)["netns"]
    assert stale, "the killed run left namespaces behind (that is what this test cleans up)"

    result = control.up(cluster(), Settings(), name=LAB, pod_cidr="10.77.0.0/24")
    assert set(stale) <= set(result.cleaned)
    assert len(leftovers(LAB)["netns"]) == 3  # only the new lab's

    control.down(LAB)
    assert leftovers(LAB) == {"netns": [], "links": [], "tables": []}
    assert wait_until(lambda: not lab_processes(LAB))


def test_down_leaves_other_labs_alone() -> None:
    control.up(cluster(), Settings(), name=LAB, pod_cidr="10.77.0.0/24")
    other = LAB + "2"
    try:
        control.up(Cluster.of(pods=[Pod("q", "only")]), Settings(), name=other, pod_cidr="10.79.0.0/24")
        control.down(LAB)
        assert leftovers(LAB)["netns"] == []
        assert leftovers(other)["netns"] == [f"{other}-node", f"{other}-p1"]
        assert control.status(other).server_running
    finally:
        control.down(other)
    assert leftovers(other)["netns"] == []
