"""podfence test: check connectivity expectations, or write today's connectivity as expectations.

(The module is not called ``test.py`` so that test runners do not collect it.)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from podfence.app import expectations
from podfence.app.writing import write_file
from podfence.cli.common import (
    TIMEOUT, AllNamespaces, ContextName, Kubeconfig, RequestTimeout, DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, EXIT_FINDINGS, EXIT_OK, LISTENER, AllowEmpty, ConfigPath,
    Filenames, MaxInputBytes, MaxObjects, Namespace, SettingValues, StrictCidr, choose, options, output_option,
    write,
)
from podfence.render.assertions import FORMATS, render_results, snapshot_yaml
from podfence.render.junit import junit_xml

Output = output_option(FORMATS)


def test_command(
    specs: Annotated[list[str] | None, typer.Argument(metavar="SPEC.yaml",
                                                      help="Assertion files (see README: podfence test).")] = None,
    filename: Filenames = [],  # noqa: B006
    namespace: Namespace = "default",
    output: Output = "text",
    junit: Annotated[str | None, typer.Option("--junit", metavar="FILE",
                                              help="Also write JUnit XML (one testcase per expectation).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the --junit file if it exists (a report podfence wrote is replaced anyway).")] = False,
    take_snapshot: Annotated[bool, typer.Option(
        "--snapshot", help="Print today's connectivity as an assertion file instead of checking one.")] = False,
    lab: Annotated[bool, typer.Option("--lab", help="Also probe the expectations with real packets in the lab "
                                                    "(root) and report where packets and engine disagree.")] = False,
    lab_name: Annotated[str, typer.Option("--lab-name", help="With --lab: the lab's name (made, then removed).")]
    = expectations.TEST_LAB,
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
    opts = options(filename, namespace, config, setting, strict_cidr, allow_empty, max_input_bytes, max_objects,
                   kubeconfig=kubeconfig, context=context, request_timeout=request_timeout,
                   all_namespaces=all_namespaces)
    if take_snapshot:
        write(snapshot_yaml(expectations.take_snapshot(opts, LISTENER, specs=specs, junit=junit, lab=lab)))
        return
    started = time.perf_counter()
    checked = expectations.check_expectations(opts, list(specs or ()), LISTENER, lab=lab, lab_name=lab_name,
                                              junit=junit, force=force)
    write(render_results(list(checked.results), output, checked.lab))
    if junit is not None:
        suites = [(path, list(results)) for path, results in checked.suites]
        write_file(Path(junit), junit_xml(suites, time.perf_counter() - started), checked.junit_force, "--junit")
    raise typer.Exit(EXIT_FINDINGS if checked.failed else EXIT_OK)


__all__ = ["test_command"]
