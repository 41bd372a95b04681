"""Engine benchmarks: the figures in docs/benchmarks.md.

Usage (from the repository root, after ``make venv``)::

    .venv/bin/python benchmarks/run.py [--repeat 5] [--skip-big] [--hostile-only]

Clusters come from benchmarks/generate.py (seed 1), written once under
benchmarks/out/. Every measurement runs in a fresh process so imports, loading and
peak memory are counted honestly. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
PODFENCE = Path(sys.executable).parent / "podfence"
SIZES = {"small": (500, 100), "mid": (2000, 300), "big": (20000, 3000), "mid-tiers": (2000, 300)}
CLUSTER_POLICIES = {"mid-tiers": 50}  # ClusterNetworkPolicies added by generate.py --cluster-policies

LIBRARY_RUN = """
import json, resource, sys, time
t0 = time.perf_counter()
from podfence.loader import load
from podfence.engine import Engine
from podfence.render.connectivity import connectivity_text
from podfence.sets import Protocol
t1 = time.perf_counter()
result = load([sys.argv[1]])
t2 = time.perf_counter()
engine = Engine(result.cluster)
conn = engine.connectivity()
t3 = time.perf_counter()
text = connectivity_text(conn)
t4 = time.perf_counter()
pods = result.cluster.pods
src, dst = engine.endpoint(pods[len(pods) // 7].key), engine.endpoint(pods[len(pods) * 3 // 4].key)
verdict = engine.explain(src, dst, Protocol.TCP, 8080)
t5 = time.perf_counter()
print(json.dumps({
    "import": t1 - t0, "load": t2 - t1, "compute": t3 - t2, "text": t4 - t3, "explain": t5 - t4,
    "pods": len(pods), "policies": len(result.cluster.policies), "lines": text.count("\\n"),
    "classes": list(conn.class_counts), "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def cluster(name: str) -> Path:
    pods, policies = SIZES[name]
    path = OUT / f"{name}-{pods}-{policies}"
    if not path.exists():
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--pods", str(pods),
                        "--policies", str(policies), "--seed", "1", "--out", str(path),
                        "--cluster-policies", str(CLUSTER_POLICIES.get(name, 0))], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def tier_figures(repeat: int) -> None:
    """The 2,000-pod cluster without and with 50 ClusterNetworkPolicies, end to end."""
    print("| cluster | command | median s | best s | output |")
    print("|---|---|---|---|---|")
    for name in ("mid", "mid-tiers"):
        pods, policies = SIZES[name]
        extra = f" + {CLUSTER_POLICIES[name]} cluster policies" if name in CLUSTER_POLICIES else ""
        med, best, size = timed_cli(["connectivity", "-f", str(cluster(name)), "-o", "json"], repeat)
        print(f"| {pods} pods / {policies} policies{extra} | podfence connectivity -o json | {med:.2f} | {best:.2f} "
              f"| {size / 1e6:.1f} MB |")


def timed_cli(args: list[str], repeat: int) -> tuple[float, float, int]:
    """(median seconds, best seconds, stdout bytes) of a podfence command."""
    times, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run([str(PODFENCE), *args], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
        size = len(proc.stdout)
    return statistics.median(times), min(times), size


def library(path: Path) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", LIBRARY_RUN, str(path)], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


LINT_RUN = """
import json, sys, time
t0 = time.perf_counter()
from podfence.loader import load
from podfence.lint import lint
from podfence.lint.audit import audit
t1 = time.perf_counter()
result = load([sys.argv[1]])
t2 = time.perf_counter()
findings = lint(result.cluster)
t3 = time.perf_counter()
audit(result.cluster, findings=findings)
t4 = time.perf_counter()
print(json.dumps({"load": t2 - t1, "lint": t3 - t2, "audit": t4 - t3, "findings": len(findings)}))
"""


def lint_figures(repeat: int, names: tuple[str, ...]) -> None:
    """podfence lint and audit: end to end, and the library's share after loading."""
    print()
    print("| cluster | podfence lint -o json, median s | best s | load s | lint s | audit s | findings |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        path = cluster(name)
        pods, policies = SIZES[name]
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            proc = subprocess.run([str(PODFENCE), "lint", "-f", str(path), "-o", "json"], capture_output=True)
            times.append(time.perf_counter() - start)
            if proc.returncode not in (0, 1):
                raise SystemExit(proc.stderr.decode())
        lib = json.loads(subprocess.run([sys.executable, "-c", LINT_RUN, str(path)], capture_output=True, text=True,
                                        check=True).stdout)
        print(f"| {pods} pods / {policies} policies | {statistics.median(times):.2f} | {min(times):.2f} | "
              f"{lib['load']:.2f} | {lib['lint']:.2f} | {lib['audit']:.2f} | {lib['findings']} |")


def _edit_policy(target: Path, index: int) -> bool:
    """Change the first port of policy number ``index`` (in file order); False if it has none."""
    seen = 0
    for path in sorted(target.glob("policies-*.yaml")):
        text = path.read_text()
        count = text.count("kind: NetworkPolicy")
        if seen + count <= index:
            seen += count
            continue
        at = -1
        for _ in range(index - seen + 1):
            at = text.index("kind: NetworkPolicy", at + 1)
        following = text.find("kind: NetworkPolicy", at + 1)
        port = text.find("- port: ", at)
        if port < 0 or (0 <= following < port):
            return False
        end = text.index("\n", port)
        value = text[port + len("- port: "):end]
        path.write_text(text[:port] + f"- port: {'8443' if value == '8080' else '8080'}" + text[end:])
        return True
    return False


def edited(name: str) -> Path:
    """A copy of a benchmark cluster with one policy changed: a port of the first policy from the
    middle on whose edit changes connectivity (so the diff has something to report)."""
    source = cluster(name)
    target = OUT / f"{source.name}-one-policy-edited"
    if target.exists():
        return target
    for index in range(SIZES[name][1] // 2, SIZES[name][1]):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)
        if not _edit_policy(target, index):
            continue
        proc = subprocess.run([str(PODFENCE), "diff", str(source), str(target), "-o", "json"], capture_output=True)
        if proc.returncode == 1:
            return target
    raise SystemExit(f"no policy edit of {source} changes connectivity")


def diff_figures(repeat: int, names: tuple[str, ...]) -> None:
    """podfence diff of two versions of a cluster, one policy edited: end to end, per format."""
    print()
    print("| cluster (one policy edited) | podfence diff -o text, median s | best s | -o json median s | "
          "-o md median s | pairs changed |")
    print("|---|---|---|---|---|---|")
    for name in names:
        old, new = cluster(name), edited(name)
        pods, policies = SIZES[name]
        figures = {}
        for fmt in ("text", "json", "md"):
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                proc = subprocess.run([str(PODFENCE), "diff", str(old), str(new), "-o", fmt], capture_output=True)
                times.append(time.perf_counter() - start)
                if proc.returncode != 1:
                    raise SystemExit(f"podfence diff exited {proc.returncode}: {proc.stderr.decode()}")
                if fmt == "json":
                    figures["pairs"] = len(json.loads(proc.stdout)["changes"])
            figures[fmt] = (statistics.median(times), min(times))
        print(f"| {pods} pods / {policies} policies | {figures['text'][0]:.2f} | {figures['text'][1]:.2f} | "
              f"{figures['json'][0]:.2f} | {figures['md'][0]:.2f} | {figures['pairs']} |")


GENERATE_SERVICES = 500
GENERATE_RUN = """
import json, sys, time
t0 = time.perf_counter()
from podfence.config import DEFAULT_CONFIG
from podfence.generate import build, intent_from_dict, prove, resolve
from podfence.loader import load, read_own_file
from podfence.render.generate import policies_yaml
t1 = time.perf_counter()
cluster = load([sys.argv[1]]).cluster
t2 = time.perf_counter()
intent, problems = intent_from_dict(read_own_file(sys.argv[2]).data)
plan, problems = resolve(intent, cluster, DEFAULT_CONFIG.settings, DEFAULT_CONFIG.dns)
assert not problems, problems[:3]
t3 = time.perf_counter()
policies = build(plan, DEFAULT_CONFIG.settings)
text = policies_yaml(policies)
t4 = time.perf_counter()
proof = prove(plan, cluster.with_policies(p.policy for p in policies), DEFAULT_CONFIG.settings)
t5 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "resolve": t3 - t2, "build": t4 - t3, "prove": t5 - t4,
                  "services": len(intent.services), "policies": len(policies), "exact": proof.exact,
                  "intended": proof.intended}))
"""


def generate_inputs(services: int = GENERATE_SERVICES) -> tuple[Path, Path]:
    """A cluster with ``services`` selectable workloads and no policies, and an intent file naming
    each of them: three destinations apiece (through their Service where one selects them),
    internet ingress for every tenth, egress to an address range for every seventh."""
    import random

    import yaml

    from podfence.loader import load
    from podfence.model import Settings

    path = OUT / f"generate-{services}"
    intents = OUT / f"generate-{services}-intents.yaml"
    if path.exists() and intents.exists():
        return path, intents
    pods = services + 1
    while True:  # kube-dns and hostNetwork workloads are not services an intent can name
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--pods", str(pods), "--policies",
                        "0", "--seed", "1", "--out", str(path)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        cluster = load([str(path)]).cluster
        named = [p for p in cluster.pods if p.namespace != "kube-system" and p.is_pod_endpoint(Settings())]
        if len(named) >= services:
            break
        pods += services - len(named)
    named = named[:services]
    rng = random.Random(1)
    service_of = {}
    for svc in cluster.services:
        for pod in named:
            if svc.selects(pod):
                service_of.setdefault(pod.key, svc)

    def port(number: int, protocol: str) -> str:
        return str(number) if protocol == "TCP" else f"{number}/{protocol}"

    def target(pod):  # type: ignore[no-untyped-def]
        svc = service_of.get(pod.key)
        if svc is not None:
            return f"svc/{svc.key}:{port(svc.ports[0].port, svc.ports[0].protocol)}"
        return f"{pod.key}:{port(pod.ports[0].port, pod.ports[0].protocol)}" if pod.ports else None

    body = {}
    for i, pod in enumerate(named):
        entry: dict[str, list[str]] = {}
        talks = [t for other in rng.sample(named, 4) if other.key != pod.key and (t := target(other))][:3]
        if talks:
            entry["talks_to"] = talks
        if i % 10 == 0 and pod.ports:
            entry["ingress_from"] = [f"internet:{port(pod.ports[0].port, pod.ports[0].protocol)}"]
        if i % 7 == 0:
            entry["egress"] = ["203.0.113.0/24:443"]
        body[pod.key] = entry
    intents.write_text(yaml.safe_dump({"defaults": {"deny": ["ingress", "egress"], "dns": "allow"},
                                       "services": body}, sort_keys=False))
    return path, intents


def generate_figures(repeat: int) -> None:
    """podfence generate for an intent file of 500 services: end to end, and the library's phases."""
    import tempfile

    path, intents = generate_inputs()
    print()
    print("| intent | podfence generate --out, median s | best s | load s | read + resolve s | "
          "build + YAML s | proof s | policies | intended connections |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as out:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            proc = subprocess.run([str(PODFENCE), "generate", "-f", str(path), "--intents", str(intents), "--out",
                                   out, "--force"], capture_output=True)
            times.append(time.perf_counter() - start)
            if proc.returncode != 0:
                raise SystemExit(f"podfence generate exited {proc.returncode}: {proc.stderr.decode()}")
    lib = json.loads(subprocess.run([sys.executable, "-c", GENERATE_RUN, str(path), str(intents)],
                                    capture_output=True, text=True, check=True).stdout)
    assert lib["exact"], "the generated policies must prove exact"
    print(f"| {lib['services']} services | {statistics.median(times):.2f} | {min(times):.2f} | {lib['load']:.2f} | "
          f"{lib['resolve']:.2f} | {lib['build']:.2f} | {lib['prove']:.2f} | {lib['policies']} | "
          f"{lib['intended']} |")


EXCEPT_CASES = ("one-block", "spread", "distinct")


def hostile_input(case: str, name: str, *args: str) -> Path:
    """A cluster from benchmarks/hostile.py, written once (in a child: this process stays small, as the
    peak memory of the commands it starts counts from it)."""
    path = OUT / f"{name}.yaml"
    if not path.exists():
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "hostile.py"), "--case", case, *args,
                        "--out", str(path)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def excepts_input(case: str) -> Path:
    """10,000 scattered /32 excepts, 10 pods (1,000 policies where spread over many)."""
    return hostile_input(case, f"excepts-{case}")


def timed_with_memory(args: list[str], expect: int = 0) -> tuple[float, float, int]:
    """(seconds, peak RSS in MiB, stdout bytes) of one podfence run; stdout is counted, not kept."""
    start = time.perf_counter()
    proc = subprocess.Popen([str(PODFENCE), *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    size = 0
    while chunk := proc.stdout.read(1 << 20):
        size += len(chunk)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if proc.returncode != expect:
        raise SystemExit(f"podfence {' '.join(args)} exited {proc.returncode}")
    return elapsed, usage.ru_maxrss / 1024, size


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} KB"


def all_to_all(pods: int) -> Path:
    """``pods`` bare pods and no policy (benchmarks/hostile.py): every pod may reach every pod."""
    return hostile_input("all-to-all", f"all-to-all-{pods}", "--pods", str(pods))


def output_figures(repeat: int) -> None:
    """Outputs that grow with pods squared: written as they are made, or refused up front."""
    print()
    print("| cluster | command | median s | best s | peak RSS | output |")
    print("|---|---|---|---|---|---|")
    for pods, cmd in ((3000, ["connectivity", "-o", "json"]), (5000, ["matrix", "--port", "8080", "-o", "json"])):
        runs = [timed_with_memory([cmd[0], "-f", str(all_to_all(pods)), *cmd[1:]]) for _ in range(repeat)]
        times = [t for t, _, _ in runs]
        print(f"| {pods} pods, all to all | podfence {' '.join(cmd)} | {statistics.median(times):.2f} | "
              f"{min(times):.2f} | {max(m for _, m, _ in runs):.0f} MiB | {_mb(runs[0][2])} |")
    t, rss, _ = timed_with_memory(["matrix", "-f", str(all_to_all(100_000)), "--port", "8080", "-o", "json"], 2)
    print(f"| 100000 pods, all to all | podfence matrix --port 8080 -o json (refused, exit 2) | {t:.2f} | {t:.2f} | "
          f"{rss:.0f} MiB | 0 |")


def excepts_figures(repeat: int) -> None:
    """podfence connectivity on ipBlocks with 10,000 excepts: end to end, with peak memory."""
    print()
    print("| case | command | median s | best s | peak RSS | output |")
    print("|---|---|---|---|---|---|")
    for case in EXCEPT_CASES:
        path = excepts_input(case)
        for fmt in ("json", "text"):
            runs = [timed_with_memory(["connectivity", "-f", str(path), "-o", fmt]) for _ in range(repeat)]
            times = [t for t, _, _ in runs]
            print(f"| {case} | podfence connectivity -o {fmt} | {statistics.median(times):.2f} | {min(times):.2f} "
                  f"| {max(m for _, m, _ in runs):.0f} MiB | {_mb(runs[0][2])} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-big", action="store_true", help="leave out the 20,000-pod cluster")
    parser.add_argument("--hostile-only", action="store_true",
                        help="only the large outputs and the ipBlocks with 10,000 excepts")
    parser.add_argument("--tiers-only", action="store_true",
                        help="only the 2,000-pod cluster without and with 50 cluster-wide policies")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}\n")
    if args.hostile_only:
        output_figures(args.repeat)
        excepts_figures(args.repeat)
        return
    if args.tiers_only:
        tier_figures(args.repeat)
        return
    print("| cluster | command | median s | best s | output |")
    print("|---|---|---|---|---|")
    for name in ("small", "mid"):
        path = cluster(name)
        pods, policies = SIZES[name]
        for cmd in (["connectivity", "-o", "json"], ["matrix", "--port", "8080", "-o", "json"]):
            med, best, size = timed_cli([*cmd[:1], "-f", str(path), *cmd[1:]], args.repeat)
            print(f"| {pods} pods / {policies} policies | podfence {' '.join(cmd)} | {med:.2f} | {best:.2f} "
                  f"| {size / 1e6:.1f} MB |")
    print()
    print("| cluster | import s | load s | compute s | grouped text s (lines) | explain s | classes | peak RSS |")
    print("|---|---|---|---|---|---|---|---|")
    for name in ("small", "mid") + (() if args.skip_big else ("big",)):
        r = library(cluster(name))
        print(f"| {r['pods']} pods / {r['policies']} policies | {r['import']:.2f} | {r['load']:.2f} | "
              f"{r['compute']:.2f} | {r['text']:.2f} ({r['lines']}) | {r['explain']:.3f} | "
              f"{', '.join(map(str, r['classes']))} | {r['rss_mib']:.0f} MiB |")
    lint_figures(args.repeat, ("small", "mid") + (() if args.skip_big else ("big",)))
    diff_figures(args.repeat, ("small", "mid") + (() if args.skip_big else ("big",)))
    generate_figures(args.repeat)
    output_figures(args.repeat)
    excepts_figures(args.repeat)


if __name__ == "__main__":
    main()
