"""Two revisions of podfence, end to end, interleaved: does a change cost time?

Usage (from the repository root, after ``make venv``)::

    git worktree add --detach /tmp/before REV
    .venv/bin/python benchmarks/revisions.py /tmp/before/src src [--repeat 7]

Each command runs in a fresh process under this venv's Python with
``PYTHONPATH`` pointing at one revision's ``src``, alternating between the two
revisions so that machine load affects both alike. The clusters are the
benchmark clusters of ``benchmarks/run.py`` (seed 1). Prints a Markdown table of
medians and bests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import cluster  # noqa: E402  (the benchmark clusters, written once under benchmarks/out/)

COMMANDS = {
    "connectivity -o json": lambda c: ["connectivity", "-f", str(c), "-o", "json"],
    "matrix --port 8080 -o json": lambda c: ["matrix", "-f", str(c), "--port", "8080", "-o", "json"],
    "lint -o json": lambda c: ["lint", "-f", str(c), "-o", "json"],
    "audit -o json": lambda c: ["audit", "-f", str(c), "-o", "json"],
}
ENTRY = "import sys; from podfence.cli.main import main; sys.exit(main())"


def one(src: str, args: list[str]) -> float:
    env = dict(os.environ, PYTHONPATH=src)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", ENTRY, *args], env=env, capture_output=True)
    took = time.perf_counter() - started
    if done.returncode not in (0, 1) or b"Traceback" in done.stderr or not done.stdout:
        raise SystemExit(f"{src}: podfence {' '.join(args)} failed ({done.returncode}): {done.stderr[-400:]!r}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="the src folder of the first revision")
    parser.add_argument("after", help="the src folder of the second revision")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--clusters", default="small,mid", help="benchmark clusters: small, mid, big")
    opts = parser.parse_args()
    print("| cluster | command | before median s | before best s | after median s | after best s |")
    print("|---|---|---|---|---|---|")
    for name in opts.clusters.split(","):
        path = cluster(name)
        for label, make in COMMANDS.items():
            times: dict[str, list[float]] = {"before": [], "after": []}
            for _ in range(opts.repeat):
                for side in ("before", "after"):
                    times[side].append(one(getattr(opts, side), make(path)))
            b, a = times["before"], times["after"]
            print(f"| {name} | `podfence {label}` | {statistics.median(b):.2f} | {min(b):.2f} | "
                  f"{statistics.median(a):.2f} | {min(a):.2f} |", flush=True)


if __name__ == "__main__":
    main()
