"""podfence lab under hostile input and under load, through the console script.

Each test reproduces one way the lab used to go wrong: names from manifests
reaching nftables as text, two commands racing on one lab, a host neighbour
table too small for the lab, pod addresses the lab cannot host, and two default
lab names. Tests marked ``lab`` need root and nftables (see tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from cli_support import PODFENCE, ROOT, podfence
from test_lab_support import lab_name

LAB = lab_name("pfh")


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODFENCE_LAB_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def _manifests(web_name: str) -> str:
    """A client and a web pod; one policy denies all ingress to web (so client -> web is denied)."""
    return f"""\
apiVersion: v1
kind: Pod
metadata:
  name: {json.dumps(web_name)}
  namespace: default
  labels: {{app: web}}
spec: {{containers: [{{name: c, image: web, ports: [{{containerPort: 80}}]}}]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: client, namespace: default, labels: {{app: client}}}}
spec: {{containers: [{{name: c, image: c}}]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: deny, namespace: default}}
spec:
  podSelector: {{matchLabels: {{app: web}}}}
  policyTypes: [Ingress]
"""


# ---- names reach nftables only as percent-encoded comments ----------------------------

@pytest.mark.lab
def test_a_pod_name_holding_nft_commands_cannot_turn_a_denied_connection_into_an_allowed_one(
        tmp_path: Path) -> None:
    # The name ends the comment line the rules start with and declares the lab's own
    # ingress chain with an 'accept' first: every packet would pass.
    web = f"web\ntable inet {LAB} {{\nchain ingress {{\ntype filter hook input priority filter; policy accept;\naccept\n}}\n}}\n#"
    path = tmp_path / "evil.yaml"
    path.write_text(_manifests(web))
    engine = podfence("matrix", "-f", str(path), "--port", "80", "-o", "json")
    lab = podfence("lab", "matrix", "-f", str(path), "--port", "80", "-o", "json", "--name", LAB)
    if engine.returncode == 2:  # the name is refused when manifests load: the lab refuses it the same way
        assert lab.returncode == 2 and lab.stdout == "" and lab.stderr == engine.stderr
        return
    assert engine.returncode == 0
    assert "default/" + web not in json.loads(engine.stdout)["allowed"]["default/client"]
    assert lab.returncode == 0, lab.stderr
    assert lab.stdout == engine.stdout  # client -> web stays denied


@pytest.mark.lab
def test_a_pod_name_holding_an_nft_include_is_harmless(tmp_path: Path) -> None:
    web = 'web\ninclude "/dev/zero"\n#'
    path = tmp_path / "include.yaml"
    path.write_text(_manifests(web))
    loaded = podfence("check", "-f", str(path))
    up = podfence("lab", "up", "-f", str(path), "--name", LAB)
    try:
        if loaded.returncode == 2:  # refused when manifests load, before anything is made
            (line,) = up.stderr.splitlines()
            assert up.returncode == 2 and line in loaded.stdout.splitlines()
            assert line.startswith(f"{path}:4: Pod ") and ": metadata.name: Invalid value: " in line
            assert podfence("lab", "status", "--name", LAB).stdout == f"lab '{LAB}' is down\n"
            return
        assert up.returncode == 0, up.stderr
        applied = podfence("lab", "apply", "--name", LAB)  # used to read /dev/zero for ever
        assert applied.returncode == 0, applied.stderr
        assert "1 of 2 pods isolated" in applied.stderr
        probed = podfence("lab", "probe", "--port", "80", "-o", "json", "--name", LAB)
        assert probed.returncode == 0, probed.stderr
        assert json.loads(probed.stdout)["allowed"]["default/client"] == ["default/client"]
        shown = podfence("lab", "show", "default/" + web, "--name", LAB)
        assert shown.returncode == 0
        assert shown.stdout.splitlines()[0] == ("# podfence lab: default/web%0Ainclude%20%22/dev/zero%22%0A%23 "
                                                "(Pod) at " + shown.stdout.split(" at ", 1)[1].splitlines()[0])
        assert 'include "' not in shown.stdout
    finally:
        podfence("lab", "down", "--name", LAB)


# ---- one command at a time per lab --------------------------------------------------

FIXTURE = Path(__file__).parent / "fixtures" / "lab" / "denials.yaml"


def _start(*args: str) -> subprocess.Popen[str]:
    """The console script started in the background, its stdin a pipe the test feeds later."""
    return subprocess.Popen([str(PODFENCE), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PODFENCE_DEBUG": ""})


def _until_holding(state_dir: Path, process: subprocess.Popen[str]) -> None:
    """Wait until ``process`` holds the lab's lock (it writes its pid into the lock file)."""
    lock = state_dir / f"{LAB}.lock"
    for _ in range(600):
        if lock.exists() and lock.read_text().strip() == str(process.pid):
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    pytest.fail(f"pid {process.pid} never took the lock of lab {LAB}")


@pytest.mark.lab
def test_a_command_on_a_lab_in_use_waits_for_it_or_names_the_pid_that_holds_it(state_dir: Path) -> None:
    holder = _start("lab", "up", "-f", "-", "--name", LAB)  # holds the lab while it reads its manifests
    waiter = None
    try:
        _until_holding(state_dir, holder)
        busy = podfence("lab", "status", "--name", LAB, "--wait", "0")
        assert busy.returncode == 2 and busy.stdout == ""
        assert busy.stderr == f"podfence lab status: error: lab '{LAB}' is in use by pid {holder.pid}\n"
        waiter = _start("lab", "status", "--name", LAB)
        assert waiter.stderr is not None
        assert waiter.stderr.readline() == f"waiting up to 60 s for lab '{LAB}': in use by pid {holder.pid}\n"
        out, err = holder.communicate(FIXTURE.read_text(), timeout=60)
        assert holder.returncode == 0, err
        out, err = waiter.communicate(timeout=60)
        assert waiter.returncode == 0, err
        assert out.startswith(f"lab '{LAB}' is up: 4 pods, ")  # it ran once 'lab up' had finished
    finally:
        for process in (holder, waiter):
            if process is not None and process.poll() is None:
                process.kill()
                process.communicate()
        podfence("lab", "down", "--name", LAB)


@pytest.mark.lab
def test_two_lab_matrix_runs_with_one_name_run_one_after_the_other_and_both_agree_with_the_engine(
        state_dir: Path) -> None:
    engine = podfence("matrix", "-f", str(FIXTURE), "--port", "80", "-o", "json")
    assert engine.returncode == 0
    first = _start("lab", "matrix", "-f", "-", "--port", "80", "-o", "json", "--name", LAB)
    second = None
    try:
        _until_holding(state_dir, first)
        second = _start("lab", "matrix", "-f", str(FIXTURE), "--port", "80", "-o", "json", "--name", LAB)
        assert second.stderr is not None
        assert second.stderr.readline() == f"waiting up to 60 s for lab '{LAB}': in use by pid {first.pid}\n"
        out, err = first.communicate(FIXTURE.read_text(), timeout=60)
        assert first.returncode == 0, err
        assert out == engine.stdout
        out, err = second.communicate(timeout=60)
        assert second.returncode == 0, err
        assert out == engine.stdout
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.communicate()
        podfence("lab", "down", "--name", LAB)


@pytest.mark.lab
def test_lab_matrix_refuses_to_replace_a_lab_that_lab_up_made() -> None:
    try:
        assert podfence("lab", "up", "-f", str(FIXTURE), "--name", LAB).returncode == 0
        done = podfence("lab", "matrix", "-f", str(FIXTURE), "--port", "80", "--name", LAB)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr == (f"podfence lab matrix: error: lab '{LAB}' is up (made by 'podfence lab up'): give this run "
                               f"another --name, or remove that lab first with podfence lab down --name {LAB}\n")
        status = podfence("lab", "status", "--name", LAB)
        assert status.stdout.startswith(f"lab '{LAB}' is up: 4 pods, 5 namespaces")  # untouched
    finally:
        podfence("lab", "down", "--name", LAB)


# ---- one default lab name ----------------------------------------------------------

def test_every_lab_command_has_the_same_default_name() -> None:
    from podfence.lab.naming import DEFAULT_LAB_NAME

    for command in ("up", "apply", "probe", "show", "denials", "status", "down", "matrix"):
        done = podfence("lab", command, "--help")
        assert done.returncode == 0
        text = " ".join(done.stdout.split())
        assert "--name NAME The lab's name: the prefix of everything it creates. [default: " \
               f"{DEFAULT_LAB_NAME}]" in text, command


# ---- pod addresses the lab cannot host -----------------------------------------------

UNHOSTABLE = [
    ("127.0.0.5", "a loopback address"),
    ("0.0.0.0", "an address of 'this network' (0.0.0.0/8), which no host may use"),
    ("169.254.1.1", "a link-local address (the lab's node answers on 169.254.1.1)"),
    ("224.0.0.5", "a multicast address"),
    ("255.255.255.255", "the broadcast address"),
    ("::", "the unspecified address"),
    ("::1", "the loopback address"),
    ("fe80::5", "a link-local address (the lab's node answers on fe80::1)"),
    ("ff02::5", "a multicast address"),
]


@pytest.mark.lab
@pytest.mark.parametrize("command", ["up", "matrix"])
def test_pod_addresses_the_lab_cannot_host_are_one_error_line_each_before_anything_is_made(
        tmp_path: Path, command: str) -> None:
    documents, expected = [], []
    path = tmp_path / "pods.yaml"
    for i, (address, reason) in enumerate(UNHOSTABLE):
        other = "10.9.9.9" if ":" in address else "fd00::9"  # one address of each family, as pods may have
        documents.append(f"""\
apiVersion: v1
kind: Pod
metadata: {{name: bad-{i}, namespace: default}}
spec: {{containers: [{{name: c, image: bad}}]}}
status:
  podIP: {other}
  podIPs:
  - ip: {other}
  - ip: "{address}"
""")
        expected.append(f"{path}:{10 * i + 9}: Pod default/bad-{i}: status.podIPs[1].ip: the lab cannot host "
                        f"{address}, {reason}: give the pod a unicast address, or none (the lab then picks one "
                        "from --pod-cidr)\n")
    path.write_text("---\n".join(documents))
    args = ("--port", "80") if command == "matrix" else ()
    done = podfence("lab", command, "-f", str(path), *args, "--name", LAB)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "".join(expected)
    assert podfence("lab", "status", "--name", LAB).stdout == f"lab '{LAB}' is down\n"  # nothing was made


@pytest.mark.lab
def test_pod_addresses_read_from_standard_input_are_refused_at_the_pod_line() -> None:
    manifest = """\
apiVersion: v1
kind: Pod
metadata: {name: bad, namespace: default}
spec: {containers: [{name: c, image: bad}]}
status: {podIP: 10.9.9.9, podIPs: [{ip: 10.9.9.9}, {ip: "fe80::5"}]}
"""
    done = podfence("lab", "up", "-f", "-", "--name", LAB, stdin=manifest)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("-:1: Pod default/bad: status.podIPs[1].ip: the lab cannot host fe80::5, a link-local "
                           "address (the lab's node answers on fe80::1): give the pod a unicast address, or none "
                           "(the lab then picks one from --pod-cidr)\n")


# ---- a failing dataplane is an error, not a matrix of false denials ---------------------

@pytest.mark.lab
def test_a_pod_whose_neighbour_resolution_fails_makes_probes_an_error_not_false_denials() -> None:
    from podfence.lab import linux

    try:
        assert podfence("lab", "up", "-f", str(FIXTURE), "--name", LAB).returncode == 0
        # The node stops answering ARP on pod 1's link (back/api): that pod cannot resolve its gateway,
        # which it has not needed yet.
        with linux.in_netns(linux.netns_path(f"{LAB}-node")):
            linux.write_sysctl(f"net.ipv4.conf.{LAB}v1.arp_ignore", "8")
        with linux.in_netns(linux.netns_path(f"{LAB}-p1")):
            assert Path("/proc/net/arp").read_text().count("\n") == 1  # the header only
        done = podfence("lab", "probe", "--port", "80", "--name", LAB)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr == ("podfence lab probe: error: the lab's dataplane is failing: 1 of 4 pods got no answer from "
                               "their node (the first: 'back/api' over IPv4), so probes would report denials that "
                               "no policy made\n")
    finally:
        podfence("lab", "down", "--name", LAB)


# ---- measured matrices are bounded like computed ones ----------------------------------

@pytest.mark.lab
def test_lab_matrix_output_is_bounded_by_max_output_bytes_like_matrix(tmp_path: Path) -> None:
    path = tmp_path / "pods.yaml"
    path.write_text(_manifests("web"))
    engine = podfence("matrix", "-f", str(path), "--port", "80", "-o", "json")
    size = len(engine.stdout.encode())
    over = podfence("lab", "matrix", "-f", str(path), "--port", "80", "-o", "json", "--name", LAB,
                    "--max-output-bytes", str(size - 1))
    assert (over.returncode, over.stdout) == (2, "")
    assert over.stderr.splitlines()[-1] == (f"podfence lab matrix: error: matrix of 2 x 2 pods would exceed --max-output-bytes="
                                            f"{size - 1} (it takes {size} bytes as json); give fewer manifests or "
                                            "raise the limit")
    exact = podfence("lab", "matrix", "-f", str(path), "--port", "80", "-o", "json", "--name", LAB,
                     "--max-output-bytes", str(size))
    assert (exact.returncode, exact.stdout) == (0, engine.stdout), exact.stderr
