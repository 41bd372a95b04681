"""Reading a live cluster: the figures of docs/benchmarks.md, section "Live clusters".

Usage (from the repository root, after ``make .venv/.installed-test``)::

    .venv/bin/python benchmarks/live.py [--pods 20000] [--policies 3000] [--repeat 3]

The cluster comes from benchmarks/generate.py (seed 1), every workload turned
into one running Pod with an address (what a live read sees), and is served by
the tests' API server (tests/kubeapi: TLS, bearer token, the ClusterRole of
docs/clusterrole.yaml). Measured end to end through the console script, in a
fresh process each time: ``podfence connectivity --kubeconfig K`` (page
size 500), ``podfence snapshot``, and ``connectivity -f`` on that snapshot; then,
in one process, the read alone (requests and JSON), loading and computing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from ipaddress import IPv4Address
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from generate import generate  # noqa: E402
from kubeapi import Fleet  # noqa: E402
from live_support import reader  # noqa: E402

PODFENCE = Path(sys.executable).parent / "podfence"
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")

IN_PROCESS = """
import json, sys, time
t0 = time.perf_counter()
from podfence.sources import read_cluster
from podfence.engine import Engine
read = read_cluster(sys.argv[1], "bench")
t1 = time.perf_counter()
result = read.load()
t2 = time.perf_counter()
conn = Engine(result.cluster).connectivity()
t3 = time.perf_counter()
print(json.dumps({"read": t1 - t0, "load": t2 - t1, "compute": t3 - t2, "objects": len(read.documents),
                  "pods": len(result.cluster.pods), "policies": len(result.cluster.policies)}))
"""


def as_running_pods(manifests: list[dict]) -> list[dict]:
    """Each workload as the one Pod a live read would find for it, running, with an address."""
    out = []
    address = int(IPv4Address("10.128.0.10"))
    for doc in manifests:
        if doc["kind"] not in WORKLOADS:
            out.append(doc)
            continue
        template = doc["spec"]["template"]
        address += 1
        out.append({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": doc["metadata"]["name"], "namespace": doc["metadata"]["namespace"],
                                 "labels": template["metadata"]["labels"]},
                    "spec": {**template["spec"], "nodeName": f"node-{address % 50}"},
                    "status": {"phase": "Running", "podIP": str(IPv4Address(address)),
                               "hostIP": f"192.168.{address % 50}.1"}})
    return out


def timed(args: list[str]) -> tuple[float, float, int]:
    """(seconds, peak RSS MiB, stdout bytes) of one podfence run in a fresh process."""
    start = time.perf_counter()
    errors = tempfile.TemporaryFile()
    proc = subprocess.Popen([str(PODFENCE), *args], stdout=subprocess.PIPE, stderr=errors)
    assert proc.stdout is not None
    size = 0
    while chunk := proc.stdout.read(1 << 20):
        size += len(chunk)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        errors.seek(0)
        raise SystemExit(f"podfence {' '.join(args)} failed: {errors.read().decode()[-2000:]}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=20_000)
    parser.add_argument("--policies", type=int, default=3_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    manifests = as_running_pods(generate(args.pods, args.policies, seed=1))
    fleet = Fleet()
    try:
        server = fleet.cluster("bench", {"t": reader()})
        started = time.perf_counter()
        server.seed(manifests)
        print(f"seeded {len(manifests)} objects in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        fleet.context("bench", "bench", "t")
        with tempfile.TemporaryDirectory() as folder:
            config = str(fleet.write_kubeconfig(Path(folder) / "kubeconfig", current="bench"))
            snapshot = str(Path(folder) / "snapshot.yaml")
            rows = []
            for label, command in (
                ("`podfence connectivity --kubeconfig K` (grouped text)", ["connectivity", "--kubeconfig", config]),
                ("`podfence snapshot --kubeconfig K`", ["snapshot", "--kubeconfig", config]),
            ):
                runs = [timed(command) for _ in range(args.repeat)]
                rows.append((label, runs))
            subprocess.run([str(PODFENCE), "snapshot", "--kubeconfig", config, "-o", snapshot], check=True,
                           capture_output=True)
            runs = [timed(["connectivity", "-f", snapshot]) for _ in range(args.repeat)]
            rows.append(("`podfence connectivity -f snapshot.yaml` (grouped text)", runs))
            parts = [json.loads(subprocess.run([sys.executable, "-c", IN_PROCESS, config], check=True,
                                               capture_output=True, text=True).stdout) for _ in range(args.repeat)]
        pages = sum(1 for r in server.requests if "limit=500" in r)
    finally:
        fleet.stop()
    print(f"{args.pods} workloads as running pods / {args.policies} policies; {len(manifests)} objects; "
          f"{pages} list requests of 500 over all runs\n")
    print("| command | median s | best s | peak RSS | output |")
    print("|---|---|---|---|---|")
    for label, runs in rows:
        times = [r[0] for r in runs]
        print(f"| {label} | {statistics.median(times):.2f} | {min(times):.2f} | {max(r[1] for r in runs):.0f} MiB "
              f"| {runs[0][2] / 1e6:.1f} MB |")
    print("\n| step (one process) | median s |")
    print("|---|---|")
    for key in ("read", "load", "compute"):
        print(f"| {key} | {statistics.median(p[key] for p in parts):.2f} |")
    print(f"\npods {parts[0]['pods']}, policies {parts[0]['policies']}, objects read {parts[0]['objects']}")


if __name__ == "__main__":
    main()
