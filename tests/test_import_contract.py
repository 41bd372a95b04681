"""The layering of docs/architecture.md, pinned.

Imports flow one way (sets <- model <- validate/engine <- features <- app <- cli, render
beside the app); the CLI imports only the app, the renderers, typer and rich; the
adapters (loader, lab) use the core but never each other; sources (git
revisions, flow files) feed the loader and the flows adapter, never the CLI; the core is pure (no
files, clock, environment, processes or printing). Outside the engine, code
imports only the engine's public names (``podfence.engine.__all__``, pinned
here), never its modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "podfence"

ALLOWED: dict[str, set[str]] = {
    "sets": {"sets"},
    "model": {"sets", "model"},
    "validate": {"sets", "model", "validate"},
    "engine": {"sets", "model", "engine"},
    "render": {"sets", "model", "engine", "render", "diff", "assertions", "lint", "rollout", "monitor", "live"},
    "loader": {"sets", "model", "validate", "loader"},
    "lab": {"sets", "model", "engine", "render", "lab"},
    "config": {"sets", "model", "validate"},
    "diff": {"sets", "model", "validate", "engine", "config", "diff"},
    "assertions": {"sets", "model", "validate", "engine", "config", "diff", "assertions"},
    "lint": {"sets", "model", "validate", "engine", "config", "lint"},
    "flows": {"sets", "model", "flows"},
    "generate": {"sets", "model", "validate", "engine", "config", "flows", "generate"},
    "sources": {"sets", "model", "validate", "loader", "flows", "sources"},
    "rollout": {"sets", "model", "engine", "flows", "diff", "rollout"},
    "monitor": {"sets", "model", "validate", "engine", "config", "flows", "lint", "monitor"},
    "app": {"sets", "model", "validate", "engine", "render", "loader", "lab", "config", "diff", "assertions",
            "flows", "generate", "lint", "sources", "rollout", "monitor", "live", "app"},
    "cli": {"app", "render", "cli", "ui"},
    "live": {"sets", "model", "validate", "engine", "loader", "config", "diff", "sources", "live"},
    "ui": {"sets", "model", "validate", "engine", "render", "loader", "config", "lint", "rollout", "app", "ui"},
}
CORE = ("sets", "model", "validate", "engine", "config")
IMPURE_MODULES = {"os", "sys", "time", "pathlib", "subprocess", "socket", "random", "shutil",
                  "tempfile", "io", "logging", "threading", "asyncio"}
CLOCK_CALLS = {"now", "today", "utcnow"}  # datetime is fine as a type (YAML dates), not as a clock

# What features, adapters and the CLI may import from the engine. Changing it is an API change.
ENGINE_PUBLIC = {
    # front door and verdicts
    "DirectionVerdict", "Endpoint", "EndpointError", "Engine", "NearMiss", "Outcome", "Reason", "RuleRef",
    "TierStep", "Verdict",
    # the policy IR
    "Action", "AddressPeer", "ClusterPods", "IRPeer", "IRPolicy", "IRRule", "NamedPort", "PodsInNamespace",
    "PolicyRef", "PolicySet", "PortEntry", "PortRange", "Ports", "SelectorPeer", "Subject", "Tier",
    "from_cluster_policy", "from_network_policy", "ir_of", "translate",
    # side decisions
    "SideDecision", "compose",
    # matching one object at a time, and the addresses a connection uses
    "NodeIndex", "Path", "Remote", "conns_of", "everything", "isolating_policies", "namespace_labels", "paths",
    "peer_matches", "port_entry_conns", "ports_conns", "rule_conns", "rule_peers_match", "selects",
    "subject_matches", "tier_policies",
    # connectivity views
    "Connection", "Connectivity", "GroupConnection", "Matrix", "PodRows", "endpoint_sort_key",
    # incremental evaluation
    "Change", "EditError", "Session",
    # the compiled form, for whole-cluster analyses
    "CompiledCluster", "refine",
}


def modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if len(rel.parts) > 1:
            out.append((rel.parts[0], path))
        elif rel.stem in ALLOWED:
            out.append((rel.stem, path))
    return out


def imported(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_every_package_has_a_rule() -> None:
    packages = {pkg for pkg, _ in modules()}
    assert packages <= set(ALLOWED), f"add a layering rule for {packages - set(ALLOWED)}"


@pytest.mark.parametrize("package, path", modules(), ids=lambda v: str(v).split("podfence/")[-1])
def test_imports_flow_one_way(package: str, path: Path) -> None:
    for name in imported(path):
        parts = name.split(".")
        if parts[0] != "podfence" or len(parts) < 2 or parts[1] not in ALLOWED:
            continue
        assert parts[1] in ALLOWED[package], f"{path.name}: podfence.{package} may not import {name}"


@pytest.mark.parametrize("package, path", [m for m in modules() if m[0] in CORE],
                         ids=lambda v: str(v).split("podfence/")[-1])
def test_core_is_pure(package: str, path: Path) -> None:
    for name in imported(path):
        assert name.split(".")[0] not in IMPURE_MODULES, f"{path.name} (core) imports {name}"
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in {"print", "open", "input"}, f"{path.name} (core) calls {node.func.id}()"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in CLOCK_CALLS, f"{path.name} (core) reads the clock ({node.func.attr}())"


def engine_imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import of the engine in one file (names empty for ``import x``)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names if a.name.startswith("podfence.engine")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("podfence.engine"):
            out.append((node.module, [a.name for a in node.names]))
    return out


def test_the_engine_declares_the_pinned_public_names() -> None:
    import podfence.engine

    assert set(podfence.engine.__all__) == ENGINE_PUBLIC
    assert len(podfence.engine.__all__) == len(ENGINE_PUBLIC), "a name is listed twice"
    assert all(hasattr(podfence.engine, name) for name in ENGINE_PUBLIC)


@pytest.mark.parametrize("package, path", [m for m in modules() if m[0] != "engine"],
                         ids=lambda v: str(v).split("podfence/")[-1])
def test_outside_the_engine_only_public_names_are_imported(package: str, path: Path) -> None:
    for module, names in engine_imports(path):
        assert module == "podfence.engine" and names, \
            f"{path.name}: import the engine's public names from podfence.engine, not {module}"
        private = sorted(set(names) - ENGINE_PUBLIC)
        assert not private, f"{path.name}: {', '.join(private)} not in podfence.engine.__all__"


FACE_LIBRARIES = {"typer", "click", "rich"}


@pytest.mark.parametrize("package, path", [m for m in modules() if m[0] == "app"],
                         ids=lambda v: str(v).split("podfence/")[-1])
def test_the_app_layer_knows_no_face(package: str, path: Path) -> None:
    for name in imported(path):
        assert name.split(".")[0] not in FACE_LIBRARIES, f"{path.name} (app) imports {name}"
        assert not name.startswith("podfence.cli"), f"{path.name} (app) imports {name}"


@pytest.mark.parametrize("package, path", [m for m in modules() if m[0] == "cli"],
                         ids=lambda v: str(v).split("podfence/")[-1])
def test_the_cli_imports_only_the_app_renderers_typer_rich_and_the_standard_library(package: str,
                                                                                      path: Path) -> None:
    import sys

    for name in imported(path):
        top = name.split(".")[0]
        if top == "podfence":
            # "ui": the ui command starts the web face (a face beside the CLI, never below it)
            assert name == "podfence" or name.split(".")[1] in {"app", "render", "cli", "ui"}, \
                f"{path.name}: the CLI may not import {name}"
        else:
            assert top in sys.stdlib_module_names or top in FACE_LIBRARIES, f"{path.name}: the CLI imports {name}"


@pytest.mark.parametrize("package, path", [m for m in modules() if m[0] in CORE + ("loader", "sources")],
                         ids=lambda v: str(v).split("podfence/")[-1])
def test_the_core_and_the_sources_never_import_the_app_the_cli_or_the_renderers(package: str, path: Path) -> None:
    for name in imported(path):
        parts = name.split(".")
        assert not (parts[0] == "podfence" and len(parts) > 1 and parts[1] in {"app", "cli", "render"}), \
            f"{path.name} ({package}) imports {name}"
