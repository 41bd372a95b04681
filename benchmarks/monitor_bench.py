"""``podfence monitor`` benchmark: throughput on one core, and the delay from a record to /metrics.

Usage (from the repository root, after ``make venv``)::

    .venv/bin/python benchmarks/monitor_bench.py [--records 200000] [--delays 30]

Throughput: the console script, pinned to one core (``sched_setaffinity``), reads
``--records`` Hubble lines (tests/monitor_support.py's feed: ReplicaSet pods in four
namespaces, forwarded, dropped and audited) from a pipe; the time runs from the
first line written until /metrics counts every record. Delay: the monitor follows a
file; one line is appended at a time and /metrics is polled every millisecond until
it counts it; the median and the largest of ``--delays`` such delays are printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
PODFENCE = Path(sys.executable).with_name("podfence")

from monitor_support import hubble_feed  # noqa: E402


def start(*args: str, stdin: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
    process = subprocess.Popen([str(PODFENCE), "monitor", *args, "--listen", "127.0.0.1:0", "-q"],
                               stdin=stdin if stdin is not None else subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, preexec_fn=lambda: os.sched_setaffinity(0, {0}))
    assert process.stderr is not None
    found = re.search(rb"serving metrics on (http://\S+)", process.stderr.readline())
    assert found, "monitor did not start"
    return process, found[1].decode()


def processed(url: str) -> float:
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return sum(float(v) for v in re.findall(r"^podfence_flows_processed_total\{[^}]*\} (\S+)$", text, re.M))


def throughput(records: int) -> float:
    lines = "".join(f"{line}\n" for line in hubble_feed(records).lines).encode()
    process, url = start("--hubble", "-", stdin=subprocess.PIPE)
    try:
        assert process.stdin is not None
        began = time.perf_counter()
        writer = threading.Thread(target=lambda: (process.stdin.write(lines), process.stdin.close()))  # type: ignore
        writer.start()
        while processed(url) < records:  # a scrape every 0.1 s, more often than Prometheus would
            time.sleep(0.1)
        elapsed = time.perf_counter() - began
        writer.join()
        return records / elapsed
    finally:
        process.terminate()
        process.wait()


def delays(count: int) -> list[float]:
    feed = hubble_feed(count, seed=9).lines
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "flows.jsonl"
        path.write_text("")
        process, url = start("--hubble", str(path))
        out = []
        try:
            for n, line in enumerate(feed, 1):
                time.sleep(0.05)
                began = time.perf_counter()
                with path.open("a") as f:
                    f.write(line + "\n")
                while processed(url) < n:
                    time.sleep(0.001)
                out.append(time.perf_counter() - began)
        finally:
            process.terminate()
            process.wait()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--delays", type=int, default=30)
    args = parser.parse_args()
    rate = throughput(args.records)
    waits = delays(args.delays)
    print(f"Python {platform.python_version()}, {platform.machine()}, one core\n")
    print("| measure | result | target |")
    print("|---|---|---|")
    print(f"| throughput, {args.records:,} Hubble records from a pipe | {rate:,.0f} records/s | 20,000 records/s |")
    print(f"| delay from an appended record to /metrics, median of {len(waits)} | "
          f"{statistics.median(waits) * 1000:.0f} ms | < 1 s |")
    print(f"| same, largest | {max(waits) * 1000:.0f} ms | < 1 s |")


if __name__ == "__main__":
    main()
