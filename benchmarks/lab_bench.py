"""Lab benchmarks: pods up, rules applied, full-matrix probe time and memory.

Usage (as root, with nftables, from the repository root)::

    .venv/bin/python benchmarks/lab_bench.py [--sizes 9 50 200] [--repeat 1] [--json]
    .venv/bin/python benchmarks/lab_bench.py --scale [--json]

Each size runs in a fresh process on a cluster from benchmarks/generate.py (seed
1, one NetworkPolicy per three workloads: default-deny in most namespaces, DNS,
allow rules with every selector kind, ipBlock, port ranges, named ports, some
hostNetwork pods). The lab probes the full pod-to-pod TCP matrix on the two
container ports the cluster uses most, and the measured matrices are compared
with the engine's (they must agree). Prints a Markdown table.

``--scale`` checks the lab at sizes where the machine's neighbour tables matter
(their kernel default, 1,024 entries, is too small for 600 lab pods): one
600-pod lab, then two 300-pod labs at once (different clusters, different
``--name``), each through ``podfence lab matrix --compare`` on the cluster's most
used TCP port. Every run must exit 0 with every cell in agreement.
"""

from __future__ import annotations

import argparse
import collections
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAB = "pfbench"


def measure(pods: int, seed: int) -> dict[str, object]:
    """One full lab run (up, apply, probe two ports, down) on a generated cluster."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate, write

    from podfence.lab import control
    from podfence.loader import load
    from podfence.model import Settings
    from podfence.sets import Protocol

    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        write(generate(pods=pods, policies=max(1, pods // 3), seed=seed), Path(tmp))
        loaded = load([tmp], default_namespace="default", settings=settings)
    cluster = loaded.cluster
    counts = collections.Counter(cp.port for p in cluster.pods for cp in p.ports if cp.protocol is Protocol.TCP)
    ports = sorted(p for p, _ in counts.most_common(2))
    cells = [(Protocol.TCP, port) for port in ports]

    with control.LabSession(LAB, one_shot=True) as lab:  # down again even if a step fails
        t0 = time.perf_counter()
        up = lab.up(cluster, settings, extra_ports=tuple(ports))
        t1 = time.perf_counter()
        applied = lab.apply(cluster, settings)
        t2 = time.perf_counter()
        run = lab.probe(cells)
        t3 = time.perf_counter()
        server_rss = _rss_kib(up.state.server_pid)
        lab.down()
        t4 = time.perf_counter()

    engine = lab.connectivity(cluster, settings)
    disagreements = sum(len(run.matrices[c].differences(engine.matrix(*c))) for c in cells)
    outcomes = collections.Counter(r.outcome.value for r in run.results)
    return {
        "pods": len(up.state.pods), "policies": len(cluster.policies), "isolated": applied.isolated,
        "ports": ports, "probes": len(run.results), "outcomes": dict(outcomes),
        "up_s": t1 - t0, "apply_s": t2 - t1, "probe_s": t3 - t2, "down_s": t4 - t3, "total_s": t4 - t0,
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "server_rss_mib": server_rss / 1024, "disagreements": disagreements,
    }


def _matrix(cluster: Path, name: str, port: int) -> subprocess.Popen[str]:
    """``podfence lab matrix --compare -o json`` on ``cluster`` in the background."""
    podfence = Path(sys.executable).parent / "podfence"
    return subprocess.Popen([str(podfence), "lab", "matrix", "-f", str(cluster), "--port", str(port), "--compare",
                             "-o", "json", "--name", name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _most_used_port(cluster: Path) -> int:
    from podfence.loader import load
    from podfence.sets import Protocol

    pods = load([str(cluster)]).cluster.pods
    counts = collections.Counter(cp.port for p in pods for cp in p.ports if cp.protocol is Protocol.TCP)
    return counts.most_common(1)[0][0]


def scale(seed: int) -> list[dict[str, object]]:
    """One 600-pod lab, then two 300-pod labs at once: lab matrix --compare, timed end to end."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate, write

    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        clusters = {"600": (600, seed), "300a": (300, seed), "300b": (300, seed + 1)}
        for key, (pods, cluster_seed) in clusters.items():
            write(generate(pods=pods, policies=pods // 3, seed=cluster_seed), Path(tmp) / key)
        for case, keys in (("one 600-pod lab", ["600"]), ("two 300-pod labs at once", ["300a", "300b"])):
            started = time.perf_counter()
            runs = []
            for i, key in enumerate(keys):
                port = _most_used_port(Path(tmp) / key)
                runs.append((key, port, _matrix(Path(tmp) / key, f"pfscale{i + 1}", port)))
            for key, port, process in runs:
                out, err = process.communicate()
                report = json.loads(out) if process.returncode in (0, 1) and out else {}
                rows.append({
                    "case": case, "cluster": f"{clusters[key][0]} pods, seed {clusters[key][1]}", "port": port,
                    "cells": clusters[key][0] ** 2, "exit": process.returncode,
                    "disagreements": len(report.get("differences", [])) if report else None,
                    "seconds": time.perf_counter() - started,
                    "stderr": err.strip().splitlines()[-1] if err.strip() else "",
                    "notes": [line for line in err.splitlines() if line.startswith("note: raised")],
                })
    return rows


def _rss_kib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[9, 50, 200])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--scale", action="store_true", help="one 600-pod lab, then two 300-pod labs at once")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scale:
        found = scale(args.seed)
        if args.json:
            print(json.dumps(found, indent=2))
        else:
            print("| case | cluster | port | cells | end to end | exit | disagreements |")
            print("|---|---|---:|---:|---:|---:|---:|")
            for r in found:
                print(f"| {r['case']} | {r['cluster']} | {r['port']} | {r['cells']:,} | {r['seconds']:.1f} s "
                      f"| {r['exit']} | {r['disagreements']} |")
        return 0 if all(r["exit"] == 0 and r["disagreements"] == 0 for r in found) else 1
    if args.one is not None:
        print(json.dumps(measure(args.one, args.seed)))
        return 0
    rows = []
    for size in args.sizes:
        for _ in range(args.repeat):
            done = subprocess.run([sys.executable, __file__, "--one", str(size), "--seed", str(args.seed)],
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                sys.stderr.write(done.stderr)
                return 1
            rows.append(json.loads(done.stdout))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print("| pods | policies | isolated | probes (TCP, 2 ports) | up | apply | probe | down | end to end "
          "| bench RSS | server RSS | disagreements |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['pods']} | {r['policies']} | {r['isolated']} | {r['probes']} | {r['up_s']:.2f} s "
              f"| {r['apply_s']:.2f} s | {r['probe_s']:.2f} s | {r['down_s']:.2f} s | {r['total_s']:.2f} s "
              f"| {r['rss_mib']:.0f} MiB | {r['server_rss_mib']:.0f} MiB | {r['disagreements']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
