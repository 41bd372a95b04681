"""Hostile clusters for benchmarks: thousands of ``except`` entries, outputs of pods squared.

``python benchmarks/hostile.py --case CASE [--excepts N] [--pods P] --out FILE`` writes
one YAML file, the same bytes every time for the same arguments (one
``random.Random(seed)``). Every object is valid for the API server; every except
entry is a distinct /32 scattered over the whole IPv4 space (never a pod's address).

Cases:

* ``all-to-all``: ``--pods`` bare pods in ten namespaces and no policy, so every
  pod may reach every pod (matrix and connectivity grow with pods squared).

* ``one-block``: one NetworkPolicy with one ipBlock (``0.0.0.0/0`` except N
  addresses) on ingress, TCP 8080, selecting every pod.
* ``spread``: the N entries spread over ``--policies`` policies (N / policies
  each), in both directions; policy ``i`` selects pod ``i mod pods`` and opens
  one port of seven, so pods differ.
* ``distinct``: ``--policies`` egress policies, each with its own ipBlock (a
  random /8 to /20 with N / policies entries inside it), so every policy
  brings its own boundaries.

Importable: :func:`manifests` returns the objects, :func:`dump` the YAML text.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from random import Random
from typing import Any

import yaml

Manifest = dict[str, Any]
CASES = ("all-to-all", "one-block", "spread", "distinct")
NAMESPACE = "edge"


def _address(value: int) -> str:
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def _pods(count: int) -> list[Manifest]:
    return [{
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"web-{i}", "namespace": NAMESPACE, "labels": {"app": "web", "slot": str(i)}},
        "spec": {"containers": [{"name": "web", "image": "web", "ports": [{"containerPort": 8080}]}]},
        "status": {"podIP": _address(0x0A000000 + 1 + i)},  # 10.0.0.1, 10.0.0.2, ...
    } for i in range(count)]


def _scattered(rng: Random, count: int, first: int = 0, last: int = (1 << 32) - 1) -> list[int]:
    """``count`` distinct addresses in ``[first, last]`` outside 10.0.0.0/16 (the pods), in random order."""
    chosen: set[int] = set()
    while len(chosen) < count:
        value = rng.randint(first, last)
        if value >> 16 != 0x0A00:
            chosen.add(value)
    out = sorted(chosen)
    rng.shuffle(out)
    return out


def _all_to_all(pods: int) -> list[Manifest]:
    out: list[Manifest] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"team-{n}"}}
                           for n in range(10)]
    out += [{"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": f"pod-{i}", "namespace": f"team-{i % 10}", "labels": {"app": f"a{i % 50}"}},
             "spec": {"containers": [{"name": "c", "image": "c", "ports": [{"containerPort": 8080}]}]}}
            for i in range(pods)]
    return out


def _policy(name: str, selector: dict[str, str], types: list[str], rules: dict[str, Any]) -> Manifest:
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"podSelector": {"matchLabels": selector}, "policyTypes": types, **rules},
    }


def manifests(case: str, excepts: int, pods: int = 10, policies: int = 1000, seed: int = 1) -> list[Manifest]:
    """The objects of one case, in output order.

    Raises:
        ValueError: an unknown case or counts out of range.
    """
    if case not in CASES:
        raise ValueError(f"--case must be one of {', '.join(CASES)}")
    if excepts < 1 or pods < 1 or policies < 1 or excepts < policies:
        raise ValueError("--excepts, --pods and --policies must be positive, with at least one except per policy")
    if case == "all-to-all":
        return _all_to_all(pods)
    rng = Random(seed)
    out: list[Manifest] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}]
    out += _pods(pods)
    if case == "one-block":
        block = {"cidr": "0.0.0.0/0", "except": [f"{_address(a)}/32" for a in _scattered(rng, excepts)]}
        out.append(_policy("internet-but-some", {"app": "web"}, ["Ingress"],
                           {"ingress": [{"from": [{"ipBlock": block}], "ports": [{"port": 8080}]}]}))
        return out
    per = excepts // policies
    if case == "spread":
        addresses = _scattered(rng, per * policies)
        for p in range(policies):
            block = {"cidr": "0.0.0.0/0", "except": [f"{_address(a)}/32" for a in addresses[p * per:(p + 1) * per]]}
            out.append(_policy(f"spread-{p}", {"app": "web", "slot": str(p % pods)}, ["Ingress", "Egress"], {
                "ingress": [{"from": [{"ipBlock": block}], "ports": [{"port": 8080 + p % 7}]}],
                "egress": [{"to": [{"ipBlock": block}], "ports": [{"port": 443}]}],
            }))
        return out
    for p in range(policies):
        prefix = rng.randint(8, 20)
        network = rng.getrandbits(prefix) << (32 - prefix)
        while network >> 16 == 0x0A00:
            network = rng.getrandbits(prefix) << (32 - prefix)
        inside = _scattered(rng, per, network, network + (1 << (32 - prefix)) - 1)
        block = {"cidr": f"{_address(network)}/{prefix}", "except": [f"{_address(a)}/32" for a in inside]}
        out.append(_policy(f"distinct-{p}", {"app": "web", "slot": str(p % pods)}, ["Egress"], {
            "egress": [{"to": [{"ipBlock": block}], "ports": [{"port": 443}, {"port": 9000 + p % 11}]}],
        }))
    return out


def dump(objects: list[Manifest]) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump_all(objects, Dumper=dumper, sort_keys=False, default_flow_style=False, width=1000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a hostile cluster for benchmarks.")
    parser.add_argument("--case", choices=CASES, required=True)
    parser.add_argument("--excepts", type=int, default=10_000, help="except entries in all (default 10,000)")
    parser.add_argument("--pods", type=int, default=10, help="pods (default 10)")
    parser.add_argument("--policies", type=int, default=1000, help="policies for spread and distinct (default 1,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="output file")
    args = parser.parse_args(argv)
    try:
        objects = manifests(args.case, args.excepts, args.pods, args.policies, args.seed)
    except ValueError as exc:
        parser.error(str(exc))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dump(objects), encoding="utf-8")
    print(f"{args.out}: {args.case}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
