"""Incremental evaluation benchmark: one edit to updated connectivity, against a full evaluation.

Usage (from the repository root, after ``make venv``)::

    .venv/bin/python benchmarks/incremental.py [--pods 2000] [--policies 300] [--repeat 7]

The cluster comes from benchmarks/generate.py (seed 1), written once under
benchmarks/out/ (the 2,000-pod / 300-policy cluster of benchmarks/run.py by
default). Each edit is applied to an :class:`podfence.engine.Session` and undone
again, ``--repeat`` times; both directions are timed (edit to a connectivity view
that answers every question), and the median is printed with the median of fresh
full evaluations (``Engine(cluster).connectivity()``) of the same cluster. Prints a
Markdown table.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"

from podfence.engine import Change, Engine, Session  # noqa: E402
from podfence.loader import load  # noqa: E402
from podfence.model import Cluster, NetworkPolicy, PolicyPort  # noqa: E402
from podfence.sets import Protocol  # noqa: E402


def cluster_path(pods: int, policies: int) -> Path:
    path = OUT / f"incremental-{pods}-{policies}"
    if not path.exists():
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--pods", str(pods),
                        "--policies", str(policies), "--seed", "1", "--out", str(path)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def edits(cluster: Cluster) -> dict[str, tuple[Callable[[Session], Change], Callable[[Session], Change]]]:
    """Edit name -> (apply, undo), each on a session of ``cluster``."""
    ruled = next(p for p in cluster.policies if p.ingress and p.ingress[0].peers and p.ingress[0].ports)
    first = ruled.ingress[0]
    fewer = first.peers[:1] if len(first.peers) > 1 else ()  # () : from anyone
    other_peers = replace(ruled, ingress=(replace(first, peers=fewer), *ruled.ingress[1:]))
    new_port = replace(ruled, ingress=(replace(first, ports=(PolicyPort(Protocol.TCP, 18080),)),
                                       *ruled.ingress[1:]))
    removed = cluster.policies[len(cluster.policies) // 2]
    web = cluster.pods[len(cluster.pods) // 3]
    added = NetworkPolicy.from_dict({
        "metadata": {"name": "bench-added", "namespace": web.namespace},
        "spec": {"podSelector": {"matchLabels": dict(web.labels)},
                 "ingress": [{"from": [{"namespaceSelector": {}}], "ports": [{"port": 8080}]}]},
    })
    pod = cluster.pods[len(cluster.pods) * 2 // 3]
    relabelled = {**dict(pod.labels), "bench": "moved"}
    return {
        "replace a policy's rule (other peers)": (lambda s: s.replace_policy(other_peers),
                                                  lambda s: s.replace_policy(ruled)),
        "replace a policy's rule (a new port number)": (lambda s: s.replace_policy(new_port),
                                                        lambda s: s.replace_policy(ruled)),
        "add a policy": (lambda s: s.add_policy(added), lambda s: s.remove_policy(added.key)),
        "remove a policy": (lambda s: s.remove_policy(removed.key), lambda s: s.add_policy(removed)),
        "relabel a pod": (lambda s: s.relabel("Pod", pod.key, relabelled),
                          lambda s: s.relabel("Pod", pod.key, dict(pod.labels))),
    }


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pods", type=int, default=2000)
    ap.add_argument("--policies", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    cluster = load([str(cluster_path(args.pods, args.policies))]).cluster

    full = [timed(lambda: Engine(cluster).connectivity()) for _ in range(args.repeat)]
    session = Session(cluster)
    print(f"{len(cluster.pods)} pods, {len(cluster.policies)} policies; {platform.machine()}, "
          f"Python {platform.python_version()}; median of {args.repeat} runs\n")
    print("| step | median ms | best ms | pods whose traffic changed (sources / destinations) |")
    print("|---|---|---|---|")
    print(f"| full evaluation | {statistics.median(full) * 1000:.0f} | {min(full) * 1000:.0f} | |")
    for name, (apply, undo) in edits(cluster).items():
        times: list[float] = []
        change = None
        for _ in range(args.repeat):
            start = time.perf_counter()
            change = apply(session)
            times.append(time.perf_counter() - start)
            start = time.perf_counter()
            undo(session)
            times.append(time.perf_counter() - start)
        assert change is not None
        print(f"| {name} | {statistics.median(times) * 1000:.0f} | {min(times) * 1000:.0f} "
              f"| {len(change.sources)} / {len(change.destinations)} |")
    fresh = Engine(session.cluster).connectivity()
    assert list(fresh.rows()) == list(session.connectivity.rows()), "the session drifted from a fresh evaluation"


if __name__ == "__main__":
    main()
