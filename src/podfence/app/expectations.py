"""The ``test`` use cases: check connectivity expectations, or write today's connectivity as expectations.

With ``lab``, the expectations' pod pairs are also probed with real packets in a
one-shot lab (made, probed, removed), and the places where packets and engine
disagree are reported.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podfence.app import files as files_
from podfence.app.errors import Stop, stop_on_errors
from podfence.app.loading import load_cluster
from podfence.app.options import Listener, Options, prepare
from podfence.app.writing import check_writable
from podfence.assertions import Checker, Result, Spec, parse_spec, probes
from podfence.assertions.probes import LabReport
from podfence.assertions.spec import service_problems, unknown_names
from podfence.assertions.snapshot import snapshot
from podfence.engine import Engine, PodRows
from podfence.loader import read_own_file
from podfence.loader.limits import Budget
from podfence.model import Cluster, Settings
from podfence.sets import Protocol

TEST_LAB = "pftest"  # not the default lab's name, so a lab the user keeps running is left alone


@dataclass(frozen=True, slots=True)
class Checked:
    """Results per assertion file (in the order given), and the lab's report when probed."""

    suites: tuple[tuple[str, tuple[Result, ...]], ...]
    lab: LabReport | None = None
    junit_force: bool = False  # the --junit file may be replaced: --force, or a report podfence wrote

    @property
    def results(self) -> tuple[Result, ...]:
        return tuple(r for _, rs in self.suites for r in rs)

    @property
    def failed(self) -> bool:
        return any(not r.passed for r in self.results) or (self.lab is not None and not self.lab.agree)


def take_snapshot(options: Options, listener: Listener | None = None, *, specs: list[str] | None = None,
                  junit: str | None = None, lab: bool = False) -> dict[str, Any]:
    """Today's connectivity as expectations a person can edit (an assertion file's data)."""
    run = prepare(options, listener)
    if specs:
        raise Stop("--snapshot prints a new assertion file on stdout; it takes no SPEC.yaml")
    if junit is not None or lab:
        raise Stop("--snapshot does not check anything: leave out --junit and --lab")
    result = load_cluster(run)
    return snapshot(Engine(result.cluster, run.settings).connectivity())


def check_expectations(options: Options, specs: list[str], listener: Listener | None = None, *,
                       lab: bool = False, lab_name: str = TEST_LAB, junit: str | None = None,
                       force: bool = False) -> Checked:
    """Every expectation of ``specs`` checked against the manifests (and the lab, with ``lab``).

    ``junit`` is only checked here (writable, or ``force``), before any work, so that
    a report that could not be written does not cost a whole run.
    """
    run = prepare(options, listener)
    if not specs:
        raise Stop("name an assertion file: podfence test -f PATH SPEC.yaml (or --snapshot to write one)")
    if junit is not None:
        if not junit:
            raise Stop("--junit '': name a file")
        force = force or own_report(Path(junit))
        check_writable(Path(junit), force, "--junit")
    result = load_cluster(run)
    parsed = read_specs(specs, run.budget, result.cluster)
    checker = Checker(Engine(result.cluster, run.settings).connectivity())
    suites = tuple((path, tuple(checker.check(spec))) for path, spec in parsed)
    report = check_in_lab(result.cluster, run.settings, [s for _, s in parsed], checker, lab_name) if lab else None
    return Checked(suites, report, force)


JUNIT_MARK = re.compile(rb'\A(<\?xml [^>]*\?>\s*)?<testsuites name="podfence test"')


def own_report(path: Path) -> bool:
    """True when ``path`` is a regular file holding a JUnit report ``podfence test`` wrote (its
    ``<testsuites name="podfence test"``): a later run replaces it without ``--force``. Anything
    else, or nothing, is False."""
    try:
        if files_.check_target(path, "--junit") is None:
            return False
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            head = handle.read(4096)
    except (files_.Refused, OSError):
        return False
    return JUNIT_MARK.match(head) is not None


def read_specs(paths: list[str], budget: Budget | None = None,
               cluster: Cluster | None = None) -> list[tuple[str, Spec]]:
    """Every assertion file parsed; any problem in any of them stops the run (exit 2).

    With ``cluster``, a name that no pod or workload of it has is such a problem too
    (with close names suggested), not a failed expectation; so are an unknown Service and
    a port the Service named does not offer.
    """
    specs, problems = [], []
    known = {p.key for p in cluster.pods} if cluster is not None else None
    for path in paths:
        own = read_own_file(path, budget=budget)
        problems += own.problems
        if own.problems:
            continue
        spec, found = parse_spec(own.data)
        if cluster is not None and known is not None and not found:
            found = unknown_names(spec, known) + service_problems(spec, {s.key: s for s in cluster.services})
        problems += own.place(found, "podfence test")
        specs.append((path, spec))
    stop_on_errors(sorted(problems, key=lambda d: (d.file or "", d.line or 0)))
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
        raise Stop(f"--lab: {e}") from None
    rows = PodRows(lab.connectivity(cluster, settings))
    found = tuple(d for p in plans for d in probes.compare(p, reached, rows))
    notes = tuple((p.expectation.name, n) for p in plans for n in p.notes)
    return LabReport(count, found, notes)


__all__ = ["TEST_LAB", "Checked", "check_expectations", "read_specs", "take_snapshot"]
