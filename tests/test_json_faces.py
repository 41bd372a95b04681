"""Every ``-o json`` answer is its presenter's data, serialised in one place.

For each command that writes JSON, the console script's standard output must be
exactly ``json_document(<presenter>(<use case result>))`` computed in this
process: the command line adds nothing and drops nothing, so any other face that
calls the same use case and presenter (an HTTP API) returns the same bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_support import ROOT, error_lead, podfence

from podfence import __version__
from podfence.app import Options, analysis, diff, expectations, generate, lint, rollout
from podfence.app.lab import LabRun, status
from podfence.model.ports import parse_port
from podfence.render.assertions import results_data
from podfence.render.audit import audit_data
from podfence.render.connectivity import connectivity_data
from podfence.render.diagnostics import check_data
from podfence.render.diff import diff_data
from podfence.render.explain import comparison_data, service_comparison_data
from podfence.render.generate import proof_data
from podfence.render.json_text import json_document
from podfence.render.lab import status_data
from podfence.render.lint import lint_data
from podfence.render.matrix import matrix_data
from podfence.render.rollout import apply_data, rollout_data
from podfence.render.sarif import sarif_data
from podfence.sets import Protocol

BAA = "examples/baa"
STAGED = "examples/baa-staged/billing-to-postgres.yaml"
DIFF = Path("tests/fixtures/diff")
SPECS = Path("tests/fixtures/assertions")


@pytest.fixture(autouse=True)
def at_the_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths and the nearest config are read from the repository root, as the console script reads them."""
    monkeypatch.chdir(ROOT)


def stdout_of(*args: str, codes: tuple[int, ...] = (0, 1)) -> str:
    done = podfence(*args)
    assert done.returncode in codes, done.stderr
    return done.stdout


def port(text: str):  # type: ignore[no-untyped-def]
    parsed = parse_port(text, Protocol.TCP)
    assert not isinstance(parsed, str)
    return parsed


def test_check() -> None:
    found = analysis.check(Options(files=(BAA,)))
    assert stdout_of("check", "-f", BAA, "-o", "json") == json_document(check_data(found.diagnostics))


def test_matrix() -> None:
    m = analysis.matrix(Options(files=(BAA,)), port("8080"))
    assert m.pods, "the example has pods"
    assert stdout_of("matrix", "-f", BAA, "--port", "8080", "-o", "json") == json_document(matrix_data(m))


def test_matrix_of_the_promoted_view() -> None:
    m = analysis.matrix(Options(files=(BAA, STAGED), staged=True), port("5432"))
    out = stdout_of("matrix", "-f", BAA, "-f", STAGED, "--staged", "--port", "5432", "-o", "json")
    assert out == json_document(matrix_data(m))


def test_connectivity() -> None:
    reach = analysis.connectivity(Options(files=(BAA,)))
    expected = json_document(connectivity_data(reach.connectivity.rows()), flat_items=("connections",))
    assert stdout_of("connectivity", "-f", BAA, "-o", "json") == expected


@pytest.mark.parametrize("ends", [("api/api-server", "data/postgres", "5432"),
                                  ("billing/invoicer", "data/postgres", "5432")])
def test_explain(ends: tuple[str, str, str]) -> None:
    src, dst, number = ends
    found = analysis.explain(Options(files=(BAA, STAGED)), src, dst, port(number))
    assert found.comparison is not None
    expected = json_document(comparison_data(found.comparison, found.deletions))
    out = stdout_of("explain", "-f", BAA, "-f", STAGED, "--from", src, "--to", dst, "--port", number, "-o", "json")
    assert out == expected


def test_explain_to_a_service() -> None:
    found = analysis.explain(Options(files=(BAA,)), "billing/invoicer", "svc/notify/mailer", port("80"))
    assert found.service is not None
    expected = json_document(service_comparison_data(found.service, found.protocol, found.port, found.comparisons,
                                                     found.deletions))
    out = stdout_of("explain", "-f", BAA, "--from", "billing/invoicer", "--to", "svc/notify/mailer", "--port", "80",
                    "-o", "json")
    assert out == expected


def test_lint_as_json_and_as_sarif() -> None:
    linted = lint.lint(Options(files=(BAA,)))
    assert stdout_of("lint", "-f", BAA, "-o", "json") == json_document(lint_data(linted.findings))
    sarif = json_document(sarif_data(linted.findings, linted.rules, version=__version__, uri=lint.repo_uri))
    assert stdout_of("lint", "-f", BAA, "-o", "sarif") == sarif


def test_audit() -> None:
    report = lint.audit(Options(files=(BAA,)))
    assert stdout_of("audit", "-f", BAA, "-o", "json") == json_document(audit_data(report))


def test_diff() -> None:
    old, new = str(DIFF / "base.yaml"), str(DIFF / "deny-egress.yaml")
    report = diff.diff(Options(), old, new, explain=False)
    assert report.diff, "the two versions differ"
    assert stdout_of("diff", old, new, "-o", "json") == json_document(
        diff_data(report), flat_items=("changes",), flat=("summary",))


def test_test() -> None:
    cluster, spec = str(SPECS / "cluster.yaml"), str(SPECS / "passing.yaml")
    checked = expectations.check_expectations(Options(files=(cluster,)), [spec])
    assert checked.results
    assert stdout_of("test", "-f", cluster, spec, "-o", "json") == json_document(results_data(list(checked.results)))


def test_generate_proof() -> None:
    made = generate.from_intent(Options(files=(BAA,)), intents="examples/baa-intents.yaml", check=True)
    out = stdout_of("generate", "-f", BAA, "--intents", "examples/baa-intents.yaml", "--check", "-o", "json")
    assert out == json_document(proof_data(made.proof))


def test_rollout_check() -> None:
    shop, flows = "tests/fixtures/staged/shop.yaml", "tests/fixtures/staged/flows.jsonl"
    report = rollout.check(Options(files=(shop,)), [flows])
    out = stdout_of("rollout", "check", "-f", shop, "--flows", flows, "-o", "json")
    assert out == json_document(rollout_data(report))


def test_rollout_apply(tmp_path: Path) -> None:
    """Two fresh clusters holding the example: the command runs the plan on one, the use case on the other,
    with the same log path (removed in between), so both runs start from nothing."""
    from kubeapi import CORE, OPTIONAL, Fleet, User
    from live_support import manifests

    from podfence.app.options import Live

    plan = tmp_path / "plan.json"
    stdout_of("rollout", "plan", "-f", BAA, "--to", "examples/baa-next", "--flows",
              "examples/baa-staged/flows.jsonl", "--write", str(plan))
    fleet = Fleet()
    try:
        for name in ("one", "two"):
            fleet.cluster(name, {"admin": User("admin")}, resources=(*CORE, *OPTIONAL)).seed(manifests(ROOT / BAA))
            fleet.context(name, name, "admin")
        config = str(fleet.write_kubeconfig(tmp_path / "kubeconfig", current="one"))
        log = tmp_path / "rollout.log"
        out = stdout_of("rollout", "apply", str(plan), "--kubeconfig", config, "--context", "one", "--log", str(log),
                        "--window", "0", "-o", "json")
        log.unlink()
        done = rollout.apply(Options(live=Live(config, "two")), str(plan), log=str(log), window=0)
    finally:
        fleet.stop()
    assert done.result.stopped is not None and done.result.stopped.would_block, "the billing stage stops"
    assert out == json_document(apply_data(done.result, done.stages, done.threshold, done.log))


def test_lab_status() -> None:
    if os.geteuid() != 0 and not os.environ.get("PODFENCE_REQUIRE_LAB"):
        pytest.skip("lab status needs root (set PODFENCE_REQUIRE_LAB=1 to require it)")
    name = "pfjson"
    st = status(LabRun(name=name))
    assert stdout_of("lab", "status", "--name", name, "-o", "json") == json_document(status_data(st))


def _formats():  # type: ignore[no-untyped-def]
    from podfence.render import assertions, audit, connectivity, diagnostics, diff, explain
    from podfence.render import generate as gen
    from podfence.render import lab as lab_render
    from podfence.render import lint as lint_render
    from podfence.render import matrix
    from podfence.render import rollout as rollout_render

    return [
        (["check", "-f", BAA], diagnostics.FORMATS),
        (["matrix", "-f", BAA, "--port", "80"], matrix.FORMATS),
        (["connectivity", "-f", BAA], connectivity.FORMATS),
        (["explain", "-f", BAA, "--from", "a/b", "--to", "c/d", "--port", "80"], explain.FORMATS),
        (["lint", "-f", BAA], lint_render.FORMATS),
        (["audit", "-f", BAA], audit.FORMATS),
        (["diff", "a", "b"], diff.FORMATS),
        (["test", "-f", BAA, "x.yaml"], assertions.FORMATS),
        (["generate", "-f", BAA, "--intents", "x.yaml"], gen.FORMATS),
        (["rollout", "check", "-f", BAA, "--flows", "x"], rollout_render.FORMATS),
        (["rollout", "apply", "plan.json", "--lab", "x"], rollout_render.FORMATS),
        (["lab", "status"], lab_render.STATUS_FORMATS),
        (["lab", "matrix", "-f", BAA, "--port", "80"], lab_render.FORMATS),
    ]


@pytest.mark.parametrize("index", range(13))
def test_output_choices_and_help_come_from_the_renderer(index: int) -> None:
    args, formats = _formats()[index]
    done = podfence(*args, "-o", "nope")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"{error_lead(*args)}-o 'nope': choose one of {', '.join(formats)}\n"
    listed = ", ".join(formats[:-1]) + f" or {formats[-1]}" if len(formats) > 1 else formats[0]
    helped = podfence(*args[:2] if args[0] in ("rollout", "lab") else args[:1], "--help")
    assert listed in " ".join(helped.stdout.split())
