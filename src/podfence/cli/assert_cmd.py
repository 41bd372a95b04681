"""podfence test: check connectivity expectations, or write today's connectivity as expectations.

(The module is not called ``test.py`` so that test runners do not collect it.)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from podfence.assertions import Checker, Result, Spec, parse_spec, probes
from podfence.assertions.spec import unknown_names
from podfence.assertions.probes import LabReport
from podfence.assertions.snapshot import snapshot
from podfence.cli.common import (
    TIMEOUT, AllNamespaces, ContextName, Kubeconfig, Live, RequestTimeout,
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, EXIT_FINDINGS, EXIT_OK, AllowEmpty, ConfigPath, Filenames,
    MaxInputBytes, MaxObjects, Namespace, SettingValues, StrictCidr, check_writable, choose, exit_on_errors, fail,
    input_budget, load_cluster, load_config, settings_from, write, write_file,
)
from podfence.engine import Engine, PodRows
from podfence.loader import read_own_file
from podfence.loader.limits import Budget
from podfence.render.assertions import FORMATS, render_results, snapshot_yaml
from podfence.model import Cluster, Settings
from podfence.render.junit import junit_xml
from podfence.sets import Protocol

TEST_LAB = "pftest"  # not the default lab's name, so a lab the user keeps running is left alone


def read_specs(paths: list[str], budget: Budget | None = None,
               cluster: Cluster | None = None) -> list[tuple[str, Spec]]:
    """Every assertion file parsed; any problem in any of them ends the command (exit 2).

    With ``cluster``, a name that no pod or workload of it has is such a problem too
    (with close names suggested), not a failed expectation.
    """
    specs, problems = [], []
    known = {p.key for p in cluster.pods} if cluster is not None else None
    for path in paths:
        own = read_own_file(path, budget=budget)
        problems += own.problems
        if own.problems:
            continue
        spec, found = parse_spec(own.data)
        if known is not None and not found:
            found = unknown_names(spec, known)
        problems += own.place(found, "podfence test")
        specs.append((path, spec))
    exit_on_errors(sorted(problems, key=lambda d: (d.file or "", d.line or 0)))
    return specs


def check_in_lab(cluster: Cluster, settings: Settings, specs: list[Spec], checker: Checker,
                 name: str) -> LabReport:
    """Bring a lab up for ``cluster``, probe every expectation's pod pairs, take it down, compare."""
    from podfence.lab import control

    plans = [p for spec in specs for p in probes.plan(spec, checker)]
    cells = sorted({c for p in plans for c in p.cells})
    reached: dict[tuple[str, str, Protocol, int], bool] = {}
    count = 0
    try:
        with control.LabSession(name, one_shot=True) as lab:  # one command at a time per lab, from up to down
            control.probe_cells(cells)
            lab.up(cluster, settings, extra_ports=tuple(sorted({port for _, port in cells})))
            lab.apply(cluster, settings)
            for p in plans:
                if not p.pairs or not p.cells:
                    continue
                run = lab.probe(list(p.cells), sources=p.sources, targets=p.targets)
                for r in run.results:
                    key = (r.probe.src.key, r.probe.dst.key, r.probe.protocol, r.probe.port)
                    reached[key] = reached.get(key, False) or r.outcome.reached
                count += len(run.results)
    except control.LabError as e:
        fail(f"--lab: {e}")
    rows = PodRows(lab.connectivity(cluster, settings))
    found = tuple(d for p in plans for d in probes.compare(p, reached, rows))
    notes = tuple((p.expectation.name, n) for p in plans for n in p.notes)
    return LabReport(count, found, notes)


def test_command(
    specs: Annotated[list[str] | None, typer.Argument(metavar="SPEC.yaml",
                                                      help="Assertion files (see README: podfence test).")] = None,
    filename: Filenames = [],  # noqa: B006
    namespace: Namespace = "default",
    output: Annotated[str, typer.Option("-o", "--output", help="text or json")] = "text",
    junit: Annotated[str | None, typer.Option("--junit", metavar="FILE",
                                              help="Also write JUnit XML (one testcase per expectation).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the --junit file if it exists.")] = False,
    take_snapshot: Annotated[bool, typer.Option(
        "--snapshot", help="Print today's connectivity as an assertion file instead of checking one.")] = False,
    lab: Annotated[bool, typer.Option("--lab", help="Also probe the expectations with real packets in the lab "
                                                    "(root) and report where packets and engine disagree.")] = False,
    lab_name: Annotated[str, typer.Option("--lab-name", help="With --lab: the lab's name (made, then removed).")]
    = TEST_LAB,
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    kubeconfig: Kubeconfig = None,
    context: ContextName = None,
    request_timeout: RequestTimeout = TIMEOUT,
    all_namespaces: AllNamespaces = False,  # every namespace is what one verdict or one spec's results show
) -> None:
    """Check connectivity expectations (exit 1 if any fails), or write them with --snapshot."""
    choose(output, FORMATS, "-o")
    budget = input_budget(max_input_bytes, max_objects)
    settings = settings_from(setting, strict_cidr, load_config(config, budget).settings)
    if take_snapshot:
        if specs:
            fail("--snapshot prints a new assertion file on stdout; it takes no SPEC.yaml")
        if junit is not None or lab:
            fail("--snapshot does not check anything: leave out --junit and --lab")
        result = load_cluster(filename, namespace, settings, budget, allow_empty,
                          Live(kubeconfig, context, request_timeout))
        write(snapshot_yaml(snapshot(Engine(result.cluster, settings).connectivity())))
        return
    if not specs:
        fail("name an assertion file: podfence test -f PATH SPEC.yaml (or --snapshot to write one)")
    if junit is not None:
        if not junit:
            fail("--junit '': name a file")
        check_writable(Path(junit), force, "--junit")
    started = time.perf_counter()
    result = load_cluster(filename, namespace, settings, budget, allow_empty,
                          Live(kubeconfig, context, request_timeout))
    parsed = read_specs(list(specs), budget, result.cluster)
    engine = Engine(result.cluster, settings)
    checker = Checker(engine.connectivity())
    suites: list[tuple[str, list[Result]]] = [(path, checker.check(spec)) for path, spec in parsed]
    everything = [r for _, rs in suites for r in rs]
    report = check_in_lab(result.cluster, settings, [s for _, s in parsed], checker, lab_name) if lab else None
    write(render_results(everything, output, report))
    failed = any(not r.passed for r in everything) or (report is not None and not report.agree)
    if junit is not None:
        write_file(Path(junit), junit_xml(suites, time.perf_counter() - started), force, "--junit")
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_OK)


__all__ = ["test_command"]
