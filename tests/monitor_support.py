"""Running ``podfence monitor`` in the background in tests, and Hubble lines to feed it."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cli_support import PODFENCE, ROOT

NAMESPACES = ("shop", "billing", "ledger", "auth")
WORKLOADS = ("web", "api", "worker")
# Deadline for the monitor to catch up with its input; a test fails only when it is passed.
PATIENCE = 60.0


@dataclass
class Feed:
    """Hubble lines and what the monitor must make of them."""

    lines: list[str] = field(default_factory=list)
    denied: Counter[tuple[str, str]] = field(default_factory=Counter)  # (namespace, direction) -> drops
    would_deny: Counter[str] = field(default_factory=Counter)  # namespace -> audits
    verdicts: Counter[str] = field(default_factory=Counter)
    pod_names: set[str] = field(default_factory=set)
    addresses: set[str] = field(default_factory=set)


def hubble_feed(n: int, seed: int = 1) -> Feed:
    """``n`` Hubble flow lines between ReplicaSet pods: forwarded, dropped (either side) and audited."""
    rng = random.Random(seed)
    feed = Feed()
    for i in range(n):
        ends = []
        for _ in range(2):
            ns, app = rng.choice(NAMESPACES), rng.choice(WORKLOADS)
            name = f"{app}-5f6d7c8b9-{''.join(rng.choice('bcdfghjk') for _ in range(5))}"
            ip = f"10.{rng.randint(1, 9)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            feed.pod_names.add(name)
            feed.addresses.add(ip)
            ends.append(({"namespace": ns, "pod_name": name,
                          "labels": [f"k8s:app={app}", "k8s:pod-template-hash=5f6d7c8b9"]}, ip))
        (src, src_ip), (dst, dst_ip) = ends
        verdict = rng.choice(("FORWARDED", "DROPPED", "DROPPED", "AUDIT"))
        direction = rng.choice(("INGRESS", "EGRESS"))
        dropper = dst if direction == "INGRESS" else src
        flow: dict[str, object] = {
            "time": f"2026-11-27T10:00:{i % 60:02d}.{i:09d}Z", "verdict": verdict,
            "IP": {"source": src_ip, "destination": dst_ip, "ipVersion": "IPv4"},
            "l4": {"TCP": {"source_port": 30000 + i % 30000, "destination_port": 8080, "flags": {"SYN": True}}},
            "source": src, "destination": dst, "traffic_direction": direction, "is_reply": False,
            "Summary": "TCP Flags: SYN",
        }
        if verdict != "FORWARDED":
            flow[f"{direction.lower()}_denied_by"] = [
                {"name": "default-deny", "namespace": dropper["namespace"], "kind": "NetworkPolicy"}]
        if verdict == "DROPPED":
            flow["drop_reason_desc"] = "POLICY_DENIED"
            feed.denied[(str(dropper["namespace"]), direction.lower())] += 1
        elif verdict == "AUDIT":
            feed.would_deny[str(dropper["namespace"])] += 1
        feed.verdicts[verdict.lower()] += 1
        feed.lines.append(json.dumps({"flow": flow, "node_name": "kind-worker", "time": flow["time"]}))
    return feed


@dataclass
class Running:
    process: subprocess.Popen[str]
    url: str

    def metrics(self) -> str:
        with urllib.request.urlopen(self.url, timeout=10) as response:
            return response.read().decode()

    def samples(self, name: str) -> list[tuple[dict[str, str], float]]:
        """Every sample of metric ``name``: (labels, value)."""
        out = []
        for line in self.metrics().splitlines():
            found = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line)
            if found:
                labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', found[1]))
                out.append((labels, float(found[2])))
        return out

    def wait_for(self, name: str, total: float) -> list[tuple[dict[str, str], float]]:
        """The samples of ``name`` once they add up to ``total`` (or the last seen, after PATIENCE seconds)."""
        end = time.monotonic() + PATIENCE
        while True:
            samples = self.samples(name)
            if sum(v for _, v in samples) >= total or time.monotonic() > end:
                return samples
            time.sleep(0.2)


@contextmanager
def monitor(*args: str, stdin: int | None = None, env: dict[str, str] | None = None) -> Iterator[Running]:
    """``podfence monitor ARGS --listen 127.0.0.1:0 -q`` in the background, stopped at the end."""
    process = subprocess.Popen([str(PODFENCE), "monitor", *args, "--listen", "127.0.0.1:0", "-q"], cwd=ROOT,
                               stdin=stdin if stdin is not None else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PODFENCE_DEBUG": "", **(env or {})})
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        found = re.search(r"serving metrics on (http://\S+)", first)
        assert found, f"monitor did not start: {first}{process.stderr.read() if process.poll() is not None else ''}"
        yield Running(process, found[1])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def write_lines(path: Path, lines: list[str]) -> None:
    with path.open("a") as f:
        f.write("".join(f"{line}\n" for line in lines))
