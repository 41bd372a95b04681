"""podfence's NetworkPolicy scenario suite: manifests plus hand-written reachability.

Each directory under ``tests/fixtures/scenarios/`` is one scenario::

    tests/fixtures/scenarios/
      base.yaml              namespaces x, y, z with bare pods a, b, c (no pod IPs)
      base-*.yaml            variants of it (pod IPs, extra labels, a Deployment, ...)
      07-deny-ingress-to-one-pod/
        policies.yaml        the NetworkPolicies under test (optional)
        extra.yaml           any other objects the scenario adds (optional)
        expect.yaml          what should happen, written by hand

``expect.yaml`` holds::

    description: one paragraph saying what the scenario shows
    base: ../base-ips.yaml        # optional; default ../base.yaml, relative to the scenario
    workloads: [x/a]              # optional; pods that stand for a workload's replicas
    matrices:
      TCP/80 TCP/81: |            # one grid shared by every protocol/port named in the key
        from\\to x/a x/b x/c y/a y/b y/c z/a z/b z/c
        x/a      .   X   X   .   .   .   .   .   .   # why, for cells that need it
        ...
      UDP/80 UDP/81: all-allowed  # or only-self

Rows are sources, columns destinations, in the order of :data:`POD_KEYS`; ``.`` is
allowed and ``X`` denied; ``#`` starts a comment. ``all-allowed`` allows every cell,
``only-self`` only the diagonal of bare pods. A bare Pod reaching itself is self
traffic and always allowed, so its diagonal cell must be ``.``; a workload
representative (listed under ``workloads``) stands for all its replicas and its
diagonal is judged by the policies like any other pair.

Every scenario gives the :data:`REQUIRED_KEYS` (TCP 80/81, UDP 80/81); some add
others such as SCTP/80. Whoever checks a dataplane that cannot probe a protocol
skips those keys. Scenarios whose base gives pods ``status.podIP`` (the ipBlock
ones) need exactly those addresses; the others leave addresses to the runner.

Parsing is strict: an unknown pod, a ragged or missing row, an unknown symbol or
key, a stray file all raise :class:`ScenarioError` naming the file.

Usage::

    from scenarios import load_scenarios
    for sc in load_scenarios():
        for (protocol, port), expected in sc.expected.items():
            ...  # expected[src] is the frozenset of destinations src may reach
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from podfence.sets import Protocol

SCENARIOS_DIR = Path(__file__).parent / "fixtures" / "scenarios"
DEFAULT_BASE = "../base.yaml"
POD_KEYS: tuple[str, ...] = tuple(f"{ns}/{pod}" for ns in "xyz" for pod in "abc")
REQUIRED_KEYS: tuple[tuple[Protocol, int], ...] = (
    (Protocol.TCP, 80), (Protocol.TCP, 81), (Protocol.UDP, 80), (Protocol.UDP, 81),
)
ALLOWED, DENIED = ".", "X"
MANIFEST_FILES = ("policies.yaml", "extra.yaml")
EXPECT_FILE = "expect.yaml"
_EXPECT_KEYS = frozenset({"description", "base", "workloads", "matrices"})
_CORNER = "from\\to"

Cell = tuple[Protocol, int]
Expected = dict[str, frozenset[str]]


class ScenarioError(ValueError):
    """A scenario fixture is malformed (a bug in the fixture, not in podfence)."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """One scenario, ready to run.

    Attributes:
        name: the directory name, e.g. ``07-deny-ingress-to-one-pod``.
        description: what the scenario shows.
        directory: the scenario directory.
        manifests: files to pass to the loader, in order (base first).
        pods: the pod keys of the matrices, in grid order.
        workloads: pods that stand for a workload (their diagonal is judged).
        expected: (protocol, port) -> source -> destinations it may reach. Every
            pod of ``pods`` is a key, possibly with an empty set. Do not mutate.
    """

    name: str
    description: str
    directory: Path
    manifests: tuple[Path, ...]
    pods: tuple[str, ...]
    workloads: frozenset[str]
    expected: dict[Cell, Expected]

    def allows(self, protocol: Protocol, port: int, src: str, dst: str) -> bool:
        return dst in self.expected[(protocol, port)][src]


def load_scenarios(root: Path = SCENARIOS_DIR) -> list[Scenario]:
    """Every scenario under ``root``, sorted by name."""
    dirs = sorted(p for p in root.iterdir() if p.is_dir())
    if not dirs:
        raise ScenarioError(f"{root}: no scenario directories")
    return [load_scenario(d, root) for d in dirs]


def load_scenario(directory: Path, root: Path = SCENARIOS_DIR) -> Scenario:
    """Read one scenario directory (see the module docstring for the layout)."""
    expect_path = directory / EXPECT_FILE
    stray = sorted(p.name for p in directory.iterdir() if p.name not in (EXPECT_FILE, *MANIFEST_FILES))
    if stray:
        raise ScenarioError(f"{directory}: unexpected files {stray}")
    if not expect_path.is_file():
        raise ScenarioError(f"{directory}: missing {EXPECT_FILE}")
    doc = _load_yaml(expect_path.read_text(), str(expect_path))
    description, base, workloads, expected = parse_expectations(doc, source=str(expect_path))
    base_path = (directory / base).resolve()
    if not base_path.is_file() or not base_path.is_relative_to(root.resolve()):
        raise ScenarioError(f"{expect_path}: base {base!r} is not a file inside {root}")
    manifests = (base_path, *(directory / f for f in MANIFEST_FILES if (directory / f).is_file()))
    return Scenario(directory.name, description, directory, manifests, POD_KEYS, workloads, expected)


def parse_expectations(doc: Any, *, source: str,
                       pods: tuple[str, ...] = POD_KEYS) -> tuple[str, str, frozenset[str], dict[Cell, Expected]]:
    """Check an ``expect.yaml`` document; return (description, base, workloads, matrices)."""
    if not isinstance(doc, dict):
        raise ScenarioError(f"{source}: expected a mapping")
    unknown = set(doc) - _EXPECT_KEYS
    if unknown:
        raise ScenarioError(f"{source}: unknown keys {sorted(unknown)}")
    description = doc.get("description")
    if not isinstance(description, str) or not description.strip():
        raise ScenarioError(f"{source}: description must be a non-empty string")
    base = doc.get("base", DEFAULT_BASE)
    if not isinstance(base, str):
        raise ScenarioError(f"{source}: base must be a path")
    raw_workloads = doc.get("workloads", [])
    if not isinstance(raw_workloads, list) or any(w not in pods for w in raw_workloads):
        raise ScenarioError(f"{source}: workloads must list pods among {', '.join(pods)}")
    workloads = frozenset(raw_workloads)
    matrices = doc.get("matrices")
    if not isinstance(matrices, dict) or not matrices:
        raise ScenarioError(f"{source}: matrices must be a non-empty mapping")
    expected: dict[Cell, Expected] = {}
    for keys, value in matrices.items():
        where = f"{source}: matrices[{keys!r}]"
        table = parse_table(value, pods, workloads, where)
        for cell in parse_cells(keys, where):
            if cell in expected:
                raise ScenarioError(f"{where}: {cell[0]}/{cell[1]} given twice")
            expected[cell] = table
    missing = [f"{p}/{n}" for p, n in REQUIRED_KEYS if (p, n) not in expected]
    if missing:
        raise ScenarioError(f"{source}: no matrix for {', '.join(missing)}")
    return description.strip(), base, workloads, expected


def parse_cells(keys: Any, where: str) -> list[Cell]:
    """``"TCP/80 UDP/81"`` -> ``[(TCP, 80), (UDP, 81)]``."""
    if not isinstance(keys, str) or not keys.split():
        raise ScenarioError(f"{where}: key must name PROTOCOL/PORT pairs")
    out = []
    for word in keys.split():
        proto, _, port = word.partition("/")
        if proto not in Protocol.__members__ or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ScenarioError(f"{where}: {word!r} is not PROTOCOL/PORT (TCP, UDP or SCTP; 1-65535)")
        out.append((Protocol(proto), int(port)))
    return out


def parse_table(value: Any, pods: tuple[str, ...], workloads: frozenset[str], where: str) -> Expected:
    """A grid or keyword -> source -> allowed destinations."""
    if value == "all-allowed":
        return {src: frozenset(pods) for src in pods}
    if value == "only-self":
        return {src: frozenset({src} - workloads) for src in pods}
    if not isinstance(value, str) or "\n" not in value.strip():
        raise ScenarioError(f"{where}: expected a grid, 'all-allowed' or 'only-self', got {value!r}")
    return parse_grid(value, pods, workloads, where)


def parse_grid(text: str, pods: tuple[str, ...], workloads: frozenset[str], where: str) -> Expected:
    """Parse a truth table whose header and rows list ``pods`` in order."""
    rows = [line.split("#", 1)[0].split() for line in text.splitlines()]
    rows = [r for r in rows if r]
    if not rows or rows[0] != [_CORNER, *pods]:
        raise ScenarioError(f"{where}: header must be {_CORNER} {' '.join(pods)}")
    body = rows[1:]
    labels = [r[0] for r in body]
    if labels != list(pods):
        unknown = sorted(set(labels) - set(pods))
        detail = f"unknown {unknown}" if unknown else f"got {labels}"
        raise ScenarioError(f"{where}: rows must be {' '.join(pods)} in that order ({detail})")
    out: Expected = {}
    for src, *cells in body:
        if len(cells) != len(pods):
            raise ScenarioError(f"{where}: row {src} has {len(cells)} cells, expected {len(pods)}")
        bad = sorted(set(cells) - {ALLOWED, DENIED})
        if bad:
            raise ScenarioError(f"{where}: row {src}: unknown symbols {bad} (use {ALLOWED!r} or {DENIED!r})")
        allowed = frozenset(dst for dst, c in zip(pods, cells) if c == ALLOWED)
        if src not in workloads and src not in allowed:
            raise ScenarioError(f"{where}: row {src}: a bare pod reaching itself is always allowed "
                                f"(list it under workloads if it stands for replicas)")
        out[src] = allowed
    return out


def format_grid(pods: Iterable[str], cell: Callable[[str, str], str]) -> str:
    """A grid in the fixture layout, with ``cell(src, dst)`` giving each symbol."""
    pods = tuple(pods)
    lines = [f"{_CORNER:<8}" + " ".join(f"{p:^3}" for p in pods)]
    for src in pods:
        lines.append(f"{src:<8}" + " ".join(f"{cell(src, dst):^3}" for dst in pods))
    return "\n".join(line.rstrip() for line in lines)


def mismatch_report(scenario: Scenario, cell: Cell, actual: Mapping[str, Iterable[str]]) -> str | None:
    """None when ``actual`` equals the expectation, else a grid of the differences.

    ``actual`` maps each source pod to the destinations it reached (an engine's
    matrix or a dataplane's probes). Symbols: ``.``/``X`` agree, ``+`` allowed
    but expected denied, ``-`` denied but expected allowed, ``?`` pod missing.
    """
    expected = scenario.expected[cell]
    got = {src: set(dsts) for src, dsts in actual.items()}
    extra = sorted(set(got) - set(scenario.pods))

    def symbol(src: str, dst: str) -> str:
        if src not in got:
            return "?"
        want, have = dst in expected[src], dst in got[src]
        if want == have:
            return ALLOWED if want else DENIED
        return "+" if have else "-"

    cells = [(s, d) for s in scenario.pods for d in scenario.pods]
    wrong = [(s, d) for s, d in cells if symbol(s, d) not in (ALLOWED, DENIED)]
    strays = sorted({d for dsts in got.values() for d in dsts} - set(scenario.pods))
    if not wrong and not extra and not strays:
        return None
    lines = [f"{scenario.name} {cell[0]}/{cell[1]}: {len(wrong)} cell(s) differ"
             " (+ allowed but expected denied, - denied but expected allowed, ? no such source)"]
    lines.append(format_grid(scenario.pods, symbol))
    lines += [f"  {s} -> {d}: expected {'allowed' if d in expected[s] else 'denied'}" for s, d in wrong]
    if extra or strays:
        lines.append(f"  pods not in the scenario: {sorted(set(extra) | set(strays))}")
    return "\n".join(lines)


class _StrictLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicate mapping keys."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ScenarioError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        seen.add(key)
    return loader.construct_mapping(node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _load_yaml(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except ScenarioError as err:
        raise ScenarioError(f"{source}: {err}") from None
    except yaml.YAMLError as err:
        raise ScenarioError(f"{source}: not valid YAML: {err}") from None


def load_manifest_documents(path: Path) -> list[Any]:
    """The YAML documents of one manifest file (empty documents dropped)."""
    try:
        return [d for d in yaml.load_all(path.read_text(), Loader=_StrictLoader) if d is not None]  # noqa: S506
    except ScenarioError as err:
        raise ScenarioError(f"{path}: {err}") from None
    except yaml.YAMLError as err:
        raise ScenarioError(f"{path}: not valid YAML: {err}") from None
