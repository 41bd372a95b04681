"""rollout check on the scenario suite with every policy staged: what would block is what the scenario denies.

Each scenario's NetworkPolicies become StagedKubernetesNetworkPolicies (``Set``), so
nothing is enforced now and everything is allowed; a Hubble flow for every ordered
pair of pods on each TCP port of the scenario must then be reported as *would
block* exactly when the scenario's hand-written matrix denies it, naming only
staged policies, and a staged ``Delete`` of every policy of the scenario as
written must turn the same flows into *would allow*.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from podfence.flows import parse_record
from podfence.loader import load
from podfence.model import FileOrigin
from podfence.rollout import check_flows
from podfence.sets import Protocol
from scenarios import Scenario, load_manifest_documents, load_scenarios

SCENARIOS = [s for s in load_scenarios() if (s.directory / "policies.yaml").is_file()]


def flow(src: str, dst: str, port: int, n: int) -> dict[str, object]:
    (src_ns, src_pod), (dst_ns, dst_pod) = src.split("/"), dst.split("/")
    return {"flow": {"verdict": "FORWARDED", "IP": {"source": f"192.0.2.{n % 250 + 1}", "destination": "192.0.2.254"},
                     "l4": {"TCP": {"destination_port": port, "flags": {"SYN": True}}},
                     "source": {"namespace": src_ns, "pod_name": src_pod},
                     "destination": {"namespace": dst_ns, "pod_name": dst_pod}, "is_reply": False}}


def staged_copy(scenario: Scenario, tmp_path: Path, action: str) -> list[str]:
    """The scenario's manifests with its policies staged (``Set``), or enforced and staged for ``Delete``."""
    docs = load_manifest_documents(scenario.directory / "policies.yaml")
    out = []
    for doc in docs:
        if doc.get("kind") != "NetworkPolicy":
            out.append(doc)
            continue
        staged = {"apiVersion": "projectcalico.org/v3", "kind": "StagedKubernetesNetworkPolicy",
                  "metadata": doc["metadata"], "spec": doc.get("spec") or {}}
        if action == "Delete":
            out.append(doc)
            staged["spec"] = {"stagedAction": "Delete"}
        out.append(staged)
    path = tmp_path / "policies.yaml"
    path.write_text(yaml.safe_dump_all(out, sort_keys=False))
    return [str(p) for p in scenario.manifests if p.name != "policies.yaml"] + [str(path)]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_staged_scenarios_would_block_what_the_scenario_denies(scenario: Scenario, tmp_path: Path) -> None:
    ports = sorted(port for protocol, port in scenario.expected if protocol is Protocol.TCP)
    records = []
    for port in ports:
        for src in scenario.pods:
            for dst in scenario.pods:
                records.append((FileOrigin("flows.jsonl", len(records) + 1),
                                parse_record(flow(src, dst, port, len(records))), 1))
    denied = {(src, dst, port) for port in ports for src in scenario.pods for dst in scenario.pods
              if not scenario.allows(Protocol.TCP, port, src, dst)}
    for action in ("Set", "Delete"):
        result = load(staged_copy(scenario, tmp_path, action))
        assert result.ok, [d.one_line() for d in result.diagnostics if d.is_error]
        check = check_flows(records, result.cluster)
        assert (check.flows, check.unmatched) == (len(records), 0)
        changed = check.would_block if action == "Set" else check.would_allow
        other = check.would_allow if action == "Set" else check.would_block
        assert {(c.src, c.dst, c.port) for c in changed} == denied, action
        assert other == ()
        staged = {s.key for s in result.cluster.staged}
        assert all(c.count == 1 and c.policies and set(c.policies) <= staged for c in changed)
