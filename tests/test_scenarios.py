"""The scenario suite: fixture integrity now, engine and loader conformance as they land.

The fixture tests check that every truth table parses, covers every cell and
agrees with its manifests. The conformance tests load each scenario with
``podfence.loader.load`` and compare ``Engine(...).connectivity().matrix(...)``
(and the reference oracle) with the hand-written expectations, cell by cell.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scenarios import (
    POD_KEYS,
    REQUIRED_KEYS,
    SCENARIOS_DIR,
    Scenario,
    ScenarioError,
    load_manifest_documents,
    load_scenario,
    load_scenarios,
    mismatch_report,
    parse_expectations,
)

from podfence.model import NetworkPolicy, Settings
from podfence.sets import Protocol
from podfence.validate import validate_network_policy

SCENARIOS = load_scenarios()
IDS = [s.name for s in SCENARIOS]
STANDARD_PORTS = frozenset({(80, "TCP"), (81, "TCP"), (80, "UDP"), (81, "UDP"), (80, "SCTP")})
KINDS = frozenset({"Namespace", "Pod", "Deployment", "NetworkPolicy"})


def _documents(scenario: Scenario) -> list[tuple[Path, dict[str, Any]]]:
    return [(path, doc) for path in scenario.manifests for doc in load_manifest_documents(path)]


def _policies(scenario: Scenario) -> list[dict[str, Any]]:
    return [doc for _, doc in _documents(scenario) if doc.get("kind") == "NetworkPolicy"]


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"] if doc["kind"] == "Pod" else doc["spec"]["template"]["spec"]


def _walk(node: Any):  # type: ignore[no-untyped-def]
    """Every (key, value) pair in a nested manifest."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


# --- the suite as a whole -------------------------------------------------------


def test_suite_has_enough_distinct_scenarios() -> None:
    assert len(SCENARIOS) >= 40
    numbers = [s.name.split("-", 1)[0] for s in SCENARIOS]
    assert all(n.isdigit() for n in numbers)
    assert len(set(numbers)) == len(numbers)


def test_suite_covers_the_features_it_promises() -> None:
    seen: set[str] = set()
    for scenario in SCENARIOS:
        seen.update(d["kind"] for _, d in _documents(scenario))
        for policy in _policies(scenario):
            spec = policy["spec"]
            if "policyTypes" not in spec:
                seen.add("policyTypes omitted")
            for key, value in _walk(spec):
                if key == "operator":
                    seen.add(value)
                elif key in ("endPort", "ipBlock", "except"):
                    seen.add(key)
                elif key == "protocol":
                    seen.add(value)
                elif key == "port" and isinstance(value, str):
                    seen.add("named port")
                elif key == "kubernetes.io/metadata.name":
                    seen.add("name label")
                elif key == "matchLabels" and "" in value.values():
                    seen.add("empty label value")
    wanted = {
        "In", "NotIn", "Exists", "DoesNotExist", "endPort", "ipBlock", "except", "TCP", "UDP", "SCTP",
        "named port", "name label", "empty label value", "policyTypes omitted", "Deployment",
    }
    assert wanted <= seen, sorted(wanted - seen)


# --- each scenario's fixtures ---------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_truth_tables_cover_every_cell(scenario: Scenario) -> None:
    assert scenario.pods == POD_KEYS
    assert set(REQUIRED_KEYS) <= set(scenario.expected)
    for cell, table in scenario.expected.items():
        assert set(table) == set(POD_KEYS), cell
        for src, dsts in table.items():
            assert dsts <= set(POD_KEYS), (cell, src)
            if src not in scenario.workloads:
                assert src in dsts, f"{cell}: bare pod {src} must reach itself"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_manifests_are_valid_and_match_the_tables(scenario: Scenario) -> None:
    docs = _documents(scenario)
    pods: dict[str, dict[str, Any]] = {}
    namespaces = set()
    for path, doc in docs:
        assert isinstance(doc, dict), path
        assert doc.get("kind") in KINDS, (path, doc.get("kind"))
        assert isinstance(doc.get("apiVersion"), str), path
        meta = doc["metadata"]
        assert isinstance(meta.get("name"), str), path
        if doc["kind"] == "Namespace":
            namespaces.add(meta["name"])
            continue
        assert meta.get("namespace") in ("x", "y", "z"), (path, meta)
        if doc["kind"] == "NetworkPolicy":
            assert doc["apiVersion"] == "networking.k8s.io/v1"
            assert validate_network_policy(doc, namespace=meta["namespace"], settings=Settings()) == []
            policy = NetworkPolicy.from_dict(doc)
            assert policy.namespace == meta["namespace"]
        else:
            key = f"{meta['namespace']}/{meta['name']}"
            assert key not in pods, f"{key} defined twice"
            pods[key] = doc
    assert namespaces == {"x", "y", "z"}
    assert set(pods) == set(scenario.pods)
    assert {k for k, d in pods.items() if d["kind"] != "Pod"} == scenario.workloads
    for key, doc in pods.items():
        declared = {(p["containerPort"], p.get("protocol", "TCP"))
                    for c in _pod_spec(doc)["containers"] for p in c.get("ports", [])}
        assert STANDARD_PORTS <= declared, key


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_policies_file_holds_only_policies(scenario: Scenario) -> None:
    path = scenario.directory / "policies.yaml"
    if path.is_file():
        kinds = {d.get("kind") for d in load_manifest_documents(path)}
        assert kinds <= {"NetworkPolicy"}, kinds


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_ipblock_scenarios_pin_pod_addresses(scenario: Scenario) -> None:
    """ipBlock results depend on addresses, so those scenarios must fix every pod IP."""
    ips = [d.get("status", {}).get("podIP") for _, d in _documents(scenario) if d["kind"] == "Pod"]
    uses_ipblock = any(k == "ipBlock" for p in _policies(scenario) for k, _ in _walk(p))
    assert all(ips) or not any(ips), "give every pod an IP or none"
    if uses_ipblock:
        assert all(ips) and scenario.workloads == frozenset()
        assert len(set(ips)) == len(ips)


# --- the parser itself ----------------------------------------------------------

HEADER = "from\\to " + " ".join(POD_KEYS)


def _grid(overrides: dict[tuple[str, str], str] | None = None, drop: str | None = None) -> str:
    rows = [HEADER]
    for src in POD_KEYS:
        if src == drop:
            continue
        cells = [(overrides or {}).get((src, dst), ".") for dst in POD_KEYS]
        rows.append(f"{src} {' '.join(cells)}  # a comment")
    return "\n".join(rows) + "\n"


def _expect(grid: str, **extra: Any) -> dict[str, Any]:
    return {"description": "d", "matrices": {"TCP/80 TCP/81 UDP/80 UDP/81": grid}, **extra}


def test_parser_reads_grids_keywords_and_comments() -> None:
    doc = _expect(_grid({("y/b", "x/a"): "X"}))
    doc["matrices"]["SCTP/80"] = "only-self"
    description, base, workloads, expected = parse_expectations(doc, source="t")
    assert (description, base, workloads) == ("d", "../base.yaml", frozenset())
    assert expected[(Protocol.UDP, 81)]["y/b"] == frozenset(POD_KEYS) - {"x/a"}
    assert expected[(Protocol.TCP, 80)]["x/a"] == frozenset(POD_KEYS)
    assert expected[(Protocol.SCTP, 80)]["z/c"] == {"z/c"}


def test_parser_lets_a_workload_deny_its_own_diagonal() -> None:
    doc = _expect(_grid({("x/a", "x/a"): "X"}), workloads=["x/a"])
    doc["matrices"] = {"TCP/80 TCP/81": doc["matrices"]["TCP/80 TCP/81 UDP/80 UDP/81"], "UDP/80 UDP/81": "only-self"}
    _, _, workloads, expected = parse_expectations(doc, source="t")
    assert workloads == {"x/a"}
    assert "x/a" not in expected[(Protocol.TCP, 80)]["x/a"]
    assert expected[(Protocol.UDP, 80)]["x/a"] == frozenset()


@pytest.mark.parametrize(("doc", "message"), [
    (_expect(_grid().replace("z/c .", "z/c", 1)), "row z/c has 8 cells"),
    (_expect(_grid().replace("y/b .", "y/b . .", 1)), "row y/b has 10 cells"),
    (_expect(_grid().replace("\ny/b", "\ny/q", 1)), "unknown ['y/q']"),
    (_expect(_grid(drop="z/a")), "rows must be"),
    (_expect(_grid().replace(" z/c", " z/d", 1)), "header must be"),
    (_expect(_grid({("x/b", "x/c"): "?"})), "unknown symbols ['?']"),
    (_expect(_grid({("x/b", "x/b"): "X"})), "a bare pod reaching itself"),
    (_expect(_grid(), workloads=["w/q"]), "workloads must list"),
    (_expect(_grid(), colour="red"), "unknown keys ['colour']"),
    ({"description": "d", "matrices": {"TCP/80 TCP/81 UDP/80": "all-allowed"}}, "no matrix for UDP/81"),
    ({"description": "d", "matrices": {"TCP/80 TCP/81 UDP/80 UDP/81": "all-allowed", "TCP/80": "only-self"}},
     "TCP/80 given twice"),
    ({"description": "d", "matrices": {"ICMP/0": "all-allowed"}}, "is not PROTOCOL/PORT"),
    ({"description": "d", "matrices": {"TCP/80 TCP/81 UDP/80 UDP/81": "everything"}}, "grid"),
    ({"matrices": {}}, "description"),
])
def test_parser_rejects_malformed_tables(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_expectations(doc, source="t")
    assert message in str(err.value)


def _scenario_dir(root: Path, expect: str, **files: str) -> Path:
    (root / "base.yaml").write_text("kind: Namespace\n")
    directory = root / "01-t"
    directory.mkdir()
    (directory / "expect.yaml").write_text(expect)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def test_scenario_directory_lists_base_then_policies_then_extras(tmp_path: Path) -> None:
    expect = "description: d\nmatrices:\n  TCP/80 TCP/81 UDP/80 UDP/81: all-allowed\n"
    directory = _scenario_dir(tmp_path, expect, **{"policies.yaml": "", "extra.yaml": ""})
    scenario = load_scenario(directory, tmp_path)
    assert scenario.manifests == (
        (tmp_path / "base.yaml").resolve(), directory / "policies.yaml", directory / "extra.yaml",
    )


@pytest.mark.parametrize(("expect", "files", "message"), [
    ("description: d\ndescription: e\n", {}, "duplicate key 'description'"),
    ("description: d\nmatrices:\n  TCP/80 TCP/81 UDP/80 UDP/81: all-allowed\n", {"notes.txt": ""},
     "unexpected files ['notes.txt']"),
    ("description: d\nbase: ../../elsewhere.yaml\nmatrices:\n  TCP/80 TCP/81 UDP/80 UDP/81: all-allowed\n", {},
     "is not a file inside"),
    ("description: [unclosed\n", {}, "not valid YAML"),
])
def test_scenario_directory_problems_are_reported(tmp_path: Path, expect: str, files: dict[str, str],
                                                 message: str) -> None:
    directory = _scenario_dir(tmp_path, expect, **files)
    with pytest.raises(ScenarioError) as err:
        load_scenario(directory, tmp_path)
    assert message in str(err.value)
    assert str(directory) in str(err.value)


def test_mismatch_report_marks_each_wrong_cell() -> None:
    scenario = next(s for s in SCENARIOS if s.name.startswith("08-"))
    cell = (Protocol.TCP, 80)
    actual = {src: set(dsts) for src, dsts in scenario.expected[cell].items()}
    assert mismatch_report(scenario, cell, actual) is None
    actual["y/b"].add("x/a")
    actual["x/b"].discard("x/a")
    report = mismatch_report(scenario, cell, actual)
    assert report is not None
    assert "2 cell(s) differ" in report
    assert "y/b -> x/a: expected denied" in report and "x/b -> x/a: expected allowed" in report
    rows = {line.split()[0]: line.split()[1:] for line in report.splitlines()[2:11]}
    assert rows["y/b"][0] == "+" and rows["x/b"][0] == "-" and rows["x/c"][0] == "X"


# --- conformance: loader, engine and oracle against the tables --------------------


def _load(scenario: Scenario):  # type: ignore[no-untyped-def]
    from podfence.loader import load

    return load([str(p) for p in scenario.manifests])


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_loader_accepts_scenario(scenario: Scenario) -> None:
    result = _load(scenario)
    errors = [d.one_line() for d in result.diagnostics if d.is_error]
    assert result.ok and not errors, "\n".join(errors)
    assert [p.key for p in result.cluster.pods] == list(scenario.pods)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_engine_matches_expectations(scenario: Scenario) -> None:
    from podfence.engine import Engine

    connectivity = Engine(_load(scenario).cluster).connectivity()
    reports = []
    for cell in sorted(scenario.expected):
        matrix = connectivity.matrix(*cell)
        allowed = getattr(matrix, "allowed", matrix)
        report = mismatch_report(scenario, cell, allowed)
        if report:
            reports.append(report)
        kinds = getattr(matrix, "kinds", None)
        if kinds is not None:
            assert {k for k, kind in kinds.items() if kind != "Pod"} == scenario.workloads, cell
    assert not reports, "\n\n".join(reports)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_oracle_matches_expectations(scenario: Scenario) -> None:
    """The reference oracle is a second, independent reading of the same rules."""
    from oracle import oracle_allows

    cluster = _load(scenario).cluster
    settings = Settings()
    reports = []
    for cell in sorted(scenario.expected):
        actual = {
            src.key: {dst.key for dst in cluster.pods if oracle_allows(cluster, settings, src, dst, *cell)}
            for src in cluster.pods
        }
        report = mismatch_report(scenario, cell, actual)
        if report:
            reports.append(report)
    assert not reports, "\n\n".join(reports)


def test_fixture_directory_is_where_the_suite_says() -> None:
    assert SCENARIOS_DIR.is_dir() and (SCENARIOS_DIR / "base.yaml").is_file()
