"""``podfence watch``: reaction time to one change, and memory over a long watch (docs/benchmarks.md).

Usage (from the repository root, after ``make .venv/.installed-test``)::

    .venv/bin/python benchmarks/watch_bench.py [--pods 2000] [--policies 300] [--repeat 10] [--events 10000]

The cluster is benchmarks/generate.py's (seed 1), each workload one running Pod
(benchmarks/live.py), served by the tests' API server. ``podfence watch -o json``
runs as a user runs it (console script, its own process). Reaction: a
NetworkPolicy isolating one pod's ingress is written to the server, then
deleted, ``--repeat`` times each; the time from the write to the JSON line naming
it (debounce of 0.2 s included). Then a new Pod (a fresh evaluation). Memory:
``--events`` writes, 99 of every 100 a pod's status conditions (which podfence
does not read, so nothing is printed) and every 100th a policy added or deleted;
the watch's RSS (``/proc/PID/status``) is sampled every 1,000 events, once the
watch has caught up (a marker policy's line has come).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from generate import generate  # noqa: E402
from kubeapi import Fleet  # noqa: E402
from live import as_running_pods  # noqa: E402
from live_support import reader  # noqa: E402

PODFENCE = Path(sys.executable).parent / "podfence"


SELECTED: dict[str, str] = {}  # the labels of the pod the benchmark's policies isolate


def policy(namespace: str, name: str) -> dict:
    """A policy that cuts every connection into one pod (a colleague's "deny all into the database")."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"podSelector": {"matchLabels": SELECTED}, "policyTypes": ["Ingress"]}}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Watch:
    def __init__(self, config: str) -> None:
        self.err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([str(PODFENCE), "watch", "--kubeconfig", config, "-o", "json"],
                                     stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        end = time.monotonic() + 600
        while "Ctrl-C stops" not in self._stderr():
            if self.proc.poll() is not None or time.monotonic() > end:
                raise SystemExit(f"watch did not start: {self._stderr()}")
            time.sleep(0.05)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def _stderr(self) -> str:
        self.err.seek(0)
        return self.err.read()

    def until(self, name: str, timeout: float = 120) -> tuple[float, dict]:
        """(when, update) of the next line whose causes name ``name``."""
        end = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(end - time.monotonic(), 0.01))
            update = json.loads(line)
            if any(c["name"] == name for c in update["cause"]):
                return time.perf_counter(), update


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=2000)
    parser.add_argument("--policies", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    manifests = as_running_pods(generate(args.pods, args.policies, seed=1))
    fleet = Fleet()
    server = fleet.cluster("bench", {"t": reader()}, bookmark_interval=5.0)
    server.seed(manifests)
    fleet.context("bench", "bench", "t")
    pods = [d for d in manifests if d["kind"] == "Pod"]
    namespace = max({p["metadata"]["namespace"] for p in pods},
                    key=lambda ns: sum(p["metadata"]["namespace"] == ns for p in pods))
    SELECTED.update(next(p for p in pods if p["metadata"]["namespace"] == namespace)["metadata"]["labels"])
    with tempfile.TemporaryDirectory() as folder:
        config = str(fleet.write_kubeconfig(Path(folder) / "kubeconfig", current="bench"))
        started = time.perf_counter()
        watch = Watch(config)
        print(f"{len(manifests)} objects; watch ready after {time.perf_counter() - started:.1f} s "
              f"(list + first evaluation), RSS {rss_mib(watch.proc.pid):.0f} MiB", file=sys.stderr)
        reactions: dict[str, list[tuple[float, int]]] = {"policy added": [], "policy deleted": [], "pod added": []}
        for i in range(args.repeat):
            name = f"bench-cut-{i}"
            t0 = time.perf_counter()
            server.seed([policy(namespace, name)])
            t1, update = watch.until(name)
            reactions["policy added"].append((t1 - t0, len(update["changes"])))
            t0 = time.perf_counter()
            server.store.delete(server.resource("networking.k8s.io", "v1", "networkpolicies"), namespace, name)
            t1, update = watch.until(name)
            reactions["policy deleted"].append((t1 - t0, len(update["changes"])))
            pod = copy.deepcopy(pods[i])
            pod["metadata"]["name"] = f"bench-pod-{i}"
            pod["status"]["podIP"] = f"10.250.0.{i + 1}"
            t0 = time.perf_counter()
            server.seed([pod])
            t1, update = watch.until(pod["metadata"]["name"])
            reactions["pod added"].append((t1 - t0, len(update["changes"])))
        print(f"\n{args.pods} pods / {args.policies} policies; change in namespace {namespace}; "
              f"{args.repeat} of each\n")
        print("| change | median s | max s | changed pairs |")
        print("|---|---|---|---|")
        for label, runs in reactions.items():
            times = [r[0] for r in runs]
            print(f"| {label} | {statistics.median(times):.2f} | {max(times):.2f} | {runs[0][1]} |")
        samples = [(0, rss_mib(watch.proc.pid))]
        beat = copy.deepcopy(pods[0])
        for n in range(1, args.events + 1):
            if n % 100 == 0:
                name = f"churn-{n // 200}"
                if (n // 100) % 2:
                    server.seed([policy(namespace, name)])
                else:
                    server.store.delete(server.resource("networking.k8s.io", "v1", "networkpolicies"), namespace,
                                        name)
            else:
                beat["status"]["conditions"] = [{"type": "Ready", "status": "True", "lastProbeTime": str(n)}]
                server.seed([copy.deepcopy(beat)])
            if n % 1000 == 0:
                marker = f"marker-{n}"
                server.seed([policy(namespace, marker)])
                watch.until(marker, timeout=600)
                server.store.delete(server.resource("networking.k8s.io", "v1", "networkpolicies"), namespace,
                                    marker)
                watch.until(marker, timeout=600)
                samples.append((n, rss_mib(watch.proc.pid)))
        print(f"\n| events | watch RSS MiB |\n|---|---|")
        for n, rss in samples:
            print(f"| {n:,} | {rss:.0f} |")
        watch.proc.send_signal(2)
        code = watch.proc.wait(timeout=60)
        print(f"\nwatch stopped with exit {code}")
    fleet.stop()


if __name__ == "__main__":
    main()
