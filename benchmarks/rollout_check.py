"""``rollout check`` benchmark: observed flows replayed against the enforced and the staged policies.

Usage (from the repository root, after ``make venv``)::

    .venv/bin/python benchmarks/rollout_check.py [--pods 2000] [--policies 300] [--records 1000000] [--repeat 3]

The cluster comes from benchmarks/generate.py (seed 1), written once under
benchmarks/out/; every third NetworkPolicy is turned into a
StagedKubernetesNetworkPolicy (``Set``), and every tenth enforced one also gets a
staged ``Delete``. The flow file holds ``--records`` Hubble lines (seeded) over
20,000 distinct pod pairs: three replicas per workload, named as a ReplicaSet
names its pods, ports the destination offers, a share of replies, of outside
addresses and of pods of unknown namespaces, and a time and id per line. The time is the
console script end to end (start-up, load, read the flows, replay them, write
JSON to a pipe); the median of ``--repeat`` runs is printed as Markdown.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
PODFENCE = Path(sys.executable).with_name("podfence")

from podfence.loader import load  # noqa: E402


def cluster_path(pods: int, policies: int) -> Path:
    """The generated cluster with a third of its policies staged (written once)."""
    path = OUT / f"rollout-{pods}-{policies}"
    if path.exists():
        return path
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--pods", str(pods),
                    "--policies", str(policies), "--seed", "1", "--out", str(path)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for file in sorted(path.glob("policies-*.yaml")):
        docs = list(yaml.safe_load_all(file.read_text()))
        out = []
        for i, doc in enumerate(docs):
            if i % 3 == 0:
                doc = {**doc, "apiVersion": "projectcalico.org/v3", "kind": "StagedKubernetesNetworkPolicy"}
            elif i % 10 == 1:
                out.append({"apiVersion": "projectcalico.org/v3", "kind": "StagedKubernetesNetworkPolicy",
                            "metadata": dict(doc["metadata"]), "spec": {"stagedAction": "Delete"}})
            out.append(doc)
        file.write_text(yaml.safe_dump_all(out, sort_keys=False))
    return path


def _hubble(src: dict[str, object], dst: dict[str, object], port: int, reply: bool, verdict: str, n: int) -> str:
    return json.dumps({"time": f"2026-11-27T10:{n // 60000 % 60:02d}:{n // 1000 % 60:02d}.{n % 1000:03d}Z",
                       "node_name": "kind-worker", "flow": {"uuid": f"0b6a3f7e-{n:012d}",
        "verdict": verdict, "IP": {"source": src.pop("ip"), "destination": dst.pop("ip")},
        "l4": {"TCP": {"destination_port": port, "flags": {"SYN": True, "ACK": reply}}},
        "source": src, "destination": dst, "is_reply": reply, "traffic_direction": "EGRESS"}})


def flows_path(cluster: Path, records: int) -> Path:
    path = OUT / f"{cluster.name}-flows-{records}.jsonl"
    if path.exists():
        return path
    pods = [p for p in load([str(cluster)]).cluster.pods if not p.host_network]
    rng = random.Random(1)
    # A cluster talks in a limited number of distinct connections, seen many times each.
    pairs = []
    for _ in range(20_000):
        src, dst = rng.choice(pods), rng.choice(pods)
        ports = [p.port for p in dst.ports] or [8080]
        pairs.append((src, dst, rng.choice(ports)))
    # Three replicas per workload, named and addressed as a ReplicaSet's pods are.
    replicas = {}
    for n, pod in enumerate(pods):
        template = "".join(rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(10))
        replicas[pod.key] = [(f"{pod.name}-{template}-{''.join(rng.choice('bcdfghjk2468') for _ in range(5))}",
                              f"10.{100 + r}.{n // 250}.{n % 250 + 1}") for r in range(3)]

    def end(pod: object) -> dict[str, object]:
        name, ip = rng.choice(replicas[pod.key])
        return {"namespace": pod.namespace, "pod_name": name, "ip": ip,
                "labels": [f"k8s:{k}={v}" for k, v in pod.labels.items()]}

    with path.open("w") as out:
        for i in range(records):
            src, dst, port = pairs[rng.randrange(len(pairs))]
            roll = rng.random()
            if roll < 0.05:
                line = _hubble({"ip": f"203.0.113.{rng.randint(1, 254)}", "labels": ["reserved:world"]}, end(dst),
                               port, False, "FORWARDED", i)
            elif roll < 0.07:
                line = _hubble({"namespace": "gone", "pod_name": "x-1", "ip": "10.9.9.9"}, end(dst), port, False,
                               "FORWARDED", i)
            else:
                line = _hubble(end(src), end(dst), port, roll < 0.2, "DROPPED" if roll > 0.97 else "FORWARDED", i)
            out.write(line + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=2000)
    parser.add_argument("--policies", type=int, default=300)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cluster = cluster_path(args.pods, args.policies)
    flows = flows_path(cluster, args.records)
    times, result = [], {}
    for _ in range(args.repeat):
        start = time.perf_counter()
        run = subprocess.run([str(PODFENCE), "rollout", "check", "-f", str(cluster), "--flows", str(flows),
                              "-o", "json", "--max-input-bytes", str(4 << 30)], capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if run.returncode not in (0, 1):
            sys.exit(f"podfence rollout check failed ({run.returncode}): {run.stderr}")
        result = json.loads(run.stdout)
    print(f"Python {platform.python_version()}, {platform.machine()}\n")
    print("| cluster | flow records | would block | would allow | unmatched | median s | best s |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {args.pods:,} pods / {args.policies} policies | {result['flows']:,} | {len(result['would_block']):,} "
          f"| {len(result['would_allow']):,} | {result['unmatched']:,} | {statistics.median(times):.1f} "
          f"| {min(times):.1f} |")


if __name__ == "__main__":
    main()
