"""Output that grows with pods squared, and policies with thousands of except entries.

Through the console script: ``--max-output-bytes`` refuses a matrix (or a
connectivity whose pod pairs alone are too large) before writing anything, stops
any other output at the limit with one line, and changes nothing for output that
fits; a policy with 10,000 scattered /32 excepts gives exactly the address ranges
that set algebra and the oracle give.
"""

from __future__ import annotations

import ipaddress
import json
import random
import re
from bisect import bisect_right
from pathlib import Path

import pytest
import yaml

from cli_support import podfence
from oracle import oracle_allows
from podfence.loader import load_texts
from podfence.model import Settings
from podfence.sets import IPAddress, Protocol

HERE = Path(__file__).parent
SHOP = HERE / "fixtures" / "cli" / "shop.yaml"
GOLDEN = HERE / "fixtures" / "golden" / "cli"
HINT = "give fewer manifests or raise the limit"


def _write(path: Path, objects: list[dict]) -> Path:
    path.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return path


def bare_pods(path: Path, count: int) -> Path:
    """``count`` pods and no policy: every pod may reach every pod."""
    objects: list[dict] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}]
    objects += [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"pod-{i:04d}", "namespace": "team"},
                 "spec": {"containers": [{"name": "c", "image": "c", "ports": [{"containerPort": 8080}]}]}}
                for i in range(count)]
    return _write(path, objects)


def nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


# --- matrix: refused before writing ---------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "text", "csv", "md"])
def test_matrix_one_byte_over_the_limit_is_refused_with_nothing_on_stdout(tmp_path: Path, fmt: str) -> None:
    cluster = bare_pods(tmp_path / "pods.yaml", 40)
    full = podfence("matrix", "-f", str(cluster), "--port", "8080", "-o", fmt)
    assert full.returncode == 0, full.stderr
    size = nbytes(full.stdout)

    over = podfence("matrix", "-f", str(cluster), "--port", "8080", "-o", fmt, "--max-output-bytes", str(size - 1))
    assert over.returncode == 2
    assert over.stdout == ""
    assert over.stderr == (f"podfence matrix: error: matrix of 40 x 40 pods would exceed --max-output-bytes={size - 1} "
                           f"(it takes {size} bytes as {fmt}); {HINT}\n")

    exact = podfence("matrix", "-f", str(cluster), "--port", "8080", "-o", fmt, "--max-output-bytes", str(size))
    assert exact.returncode == 0 and exact.stdout == full.stdout and exact.stderr == ""


def test_matrix_json_larger_than_a_write_batch_is_what_json_dumps_writes(tmp_path: Path) -> None:
    """Written in pieces (more than 1 MiB here), the document is byte for byte ``json.dumps(indent=2)``."""
    cluster = bare_pods(tmp_path / "pods.yaml", 300)
    r = podfence("matrix", "-f", str(cluster), "--port", "8080", "-o", "json")
    assert r.returncode == 0, r.stderr
    assert nbytes(r.stdout) > 1 << 20
    data = json.loads(r.stdout)
    assert len(data["pods"]) == 300 and all(row == data["pods"] for row in data["allowed"].values())
    assert r.stdout == json.dumps(data, indent=2) + "\n"


# --- connectivity: refused when the pod pairs alone are too large, else stopped -------


def test_connectivity_refuses_when_its_pod_pairs_alone_exceed_the_limit(tmp_path: Path) -> None:
    cluster = bare_pods(tmp_path / "pods.yaml", 40)
    full = podfence("connectivity", "-f", str(cluster), "-o", "json")
    assert full.returncode == 0, full.stderr

    r = podfence("connectivity", "-f", str(cluster), "-o", "json", "--max-output-bytes", "1000")
    assert r.returncode == 2 and r.stdout == ""
    m = re.fullmatch(r"podfence connectivity: error: connectivity of 40 pods would exceed --max-output-bytes=1000 "
                     rf"\(at least (\d+) bytes as json for 1600 pod pairs with something allowed\); {HINT}\n",
                     r.stderr)
    assert m, r.stderr
    assert 1000 < int(m.group(1)) <= nbytes(full.stdout)  # a true lower bound of what it would have written


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_connectivity_stops_at_the_limit_after_the_last_whole_line(tmp_path: Path, fmt: str) -> None:
    cluster = bare_pods(tmp_path / "pods.yaml", 40)
    full = podfence("connectivity", "-f", str(cluster), "-o", fmt)
    size = nbytes(full.stdout)
    limit = size - 200  # above the pod pairs' bound (the address ranges come on top), below the whole

    r = podfence("connectivity", "-f", str(cluster), "-o", fmt, "--max-output-bytes", str(limit))
    assert r.returncode == 2
    written = nbytes(r.stdout)
    assert r.stderr == (f"podfence connectivity: error: connectivity output exceeds --max-output-bytes={limit}: "
                        f"stopped after {written} bytes; {HINT}\n")
    assert 0 < written <= limit
    assert full.stdout.startswith(r.stdout) and r.stdout.endswith("\n")


# --- output that fits is unchanged ------------------------------------------------------


@pytest.mark.parametrize("command, golden", [
    (["matrix", "--port", "8443", "-o", fmt], f"matrix-8443.{fmt}") for fmt in ("text", "json", "csv", "md")
] + [
    (["connectivity", "-o", fmt], f"connectivity.{fmt}") for fmt in ("text", "json", "csv", "md", "dot")
])
def test_output_that_fits_exactly_is_the_golden_file(command: list[str], golden: str) -> None:
    expected = (GOLDEN / golden).read_text()
    size = nbytes(expected)
    fits = podfence(*command, "-f", str(SHOP), "--max-output-bytes", str(size))
    assert fits.returncode == 0 and fits.stdout == expected and fits.stderr == ""

    short = podfence(*command, "-f", str(SHOP), "--max-output-bytes", str(size - 1))
    assert short.returncode == 2 and short.stderr.count("\n") == 1
    assert f"--max-output-bytes={size - 1}" in short.stderr
    assert expected.startswith(short.stdout) and nbytes(short.stdout) < size


@pytest.mark.parametrize("command", [["matrix", "--port", "80"], ["connectivity"]])
@pytest.mark.parametrize("value, why", [("0", "greater than or equal to 1"), ("-5", "greater than or equal to 1"),
                                        ("lots", "a valid integer")])
def test_a_bad_limit_is_a_one_line_usage_error(command: list[str], value: str, why: str) -> None:
    r = podfence(*command, "-f", str(SHOP), "--max-output-bytes", value)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith(f"podfence {command[0]}: error: Invalid value for '--max-output-bytes': ")
    assert r.stderr.count("\n") == 1 and why in r.stderr


# --- 10,000 scattered excepts in one ipBlock --------------------------------------------


def scattered_excepts(count: int, seed: int) -> list[int]:
    """``count`` distinct IPv4 addresses (integers) outside 10.0.0.0/8, in random order."""
    rng = random.Random(seed)
    chosen: set[int] = set()
    while len(chosen) < count:
        value = rng.getrandbits(32)
        if value >> 24 != 10:
            chosen.add(value)
    out = sorted(chosen)
    rng.shuffle(out)
    return out


def except_policy(path: Path, excepts: list[int]) -> Path:
    """One pod; one policy letting it be reached on TCP 8080 from everywhere but the excepts."""
    block = {"cidr": "0.0.0.0/0", "except": [f"{ipaddress.IPv4Address(a)}/32" for a in excepts]}
    return _write(path, [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "edge"}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "edge", "labels": {"app": "web"}},
         "spec": {"containers": [{"name": "web", "image": "web", "ports": [{"containerPort": 8080}]}]},
         "status": {"podIP": "10.0.0.1"}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "internet-but-some", "namespace": "edge"},
         "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"],
                  "ingress": [{"from": [{"ipBlock": block}], "ports": [{"port": 8080}]}]}},
    ])


def test_ten_thousand_scattered_excepts_give_exactly_the_gaps_between_them(tmp_path: Path) -> None:
    excepts = scattered_excepts(10_000, seed=7)
    path = except_policy(tmp_path / "excepts.yaml", excepts)
    r = podfence("connectivity", "-f", str(path), "-o", "json")
    assert r.returncode == 0, r.stderr
    entries = json.loads(r.stdout)["connections"]

    # Independently: the addresses between the excepts, as the fewest CIDRs, in address order.
    gaps, start = [], 0
    for a in sorted(excepts):
        if a > start:
            gaps.append((start, a - 1))
        start = a + 1
    gaps.append((start, (1 << 32) - 1))
    expected = [str(net) for lo, hi in gaps
                for net in ipaddress.summarize_address_range(ipaddress.IPv4Address(lo), ipaddress.IPv4Address(hi))]

    inbound = [e for e in entries if e["dst"] == "edge/web" and e["src"] != "edge/web"]
    assert [e["src"] for e in inbound] == expected
    assert all(e["allowed"] == {"TCP": [[8080, 8080]]} for e in inbound)
    others = [e for e in entries if not (e["dst"] == "edge/web" and e["src"] != "edge/web")]
    assert others == [
        {"src": "edge/web", "dst": "edge/web", "allowed": "All"},  # self traffic
        {"src": "edge/web", "dst": "0.0.0.0/0", "allowed": "All"},  # egress is not isolated
    ]

    # The grouped text names the holes instead, as the shorter form.
    holes = [str(n) for n in ipaddress.collapse_addresses(ipaddress.IPv4Network(a) for a in excepts)]
    text = podfence("connectivity", "-f", str(path), "-o", "text")
    assert text.returncode == 0, text.stderr
    assert f"0.0.0.0/0 except {', '.join(holes)} -> edge/web: TCP 8080\n" in text.stdout.splitlines(keepends=True)

    # And the oracle agrees on addresses at and around the excepts, and anywhere.
    cluster = load_texts([(path.name, path.read_text())]).cluster
    pod = next(p for p in cluster.pods if p.key == "edge/web")
    listed = [(int(n.network_address), int(n.broadcast_address)) for n in map(ipaddress.ip_network, expected)]
    rng = random.Random(3)
    samples = {v for a in rng.sample(excepts, 25) for v in (a - 1, a, a + 1) if 0 <= v < 1 << 32}
    samples |= {rng.getrandbits(32) for _ in range(25)}
    excepted = set(excepts)
    for value in sorted(samples):
        i = bisect_right(listed, (value, 1 << 32)) - 1
        in_output = i >= 0 and listed[i][0] <= value <= listed[i][1]
        assert in_output == (value not in excepted)
        assert oracle_allows(cluster, Settings(), IPAddress(4, value), pod, Protocol.TCP, 8080) == in_output
        assert not oracle_allows(cluster, Settings(), IPAddress(4, value), pod, Protocol.TCP, 8081)


def test_diff_one_byte_over_the_limit_is_refused_with_nothing_on_stdout(tmp_path: Path) -> None:
    old = bare_pods(tmp_path / "old.yaml", 30)
    new = tmp_path / "new.yaml"
    new.write_text(old.read_text() + "---\n" + yaml.safe_dump({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "deny-all", "namespace": "team"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }))
    full = podfence("diff", str(old), str(new), "-o", "json")
    assert full.returncode == 1, full.stderr
    changed = len(json.loads(full.stdout)["changes"])
    assert changed == 30 * 29 + 30  # pod to pod, but a pod to itself; and from 0.0.0.0/0 to each pod
    size = nbytes(full.stdout)

    over = podfence("diff", str(old), str(new), "-o", "json", "--max-output-bytes", str(size - 1))
    assert over.returncode == 2 and over.stdout == ""
    assert over.stderr == (f"podfence diff: error: diff of {changed} changed pairs would exceed "
                           f"--max-output-bytes={size - 1} (it takes {size} bytes as json); {HINT}\n")

    exact = podfence("diff", str(old), str(new), "-o", "json", "--max-output-bytes", str(size))
    assert exact.returncode == 1 and exact.stdout == full.stdout
