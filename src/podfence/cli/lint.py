"""podfence lint: NetworkPolicy mistakes, found by what the policies mean."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from podfence import __version__
from podfence.app import Stop
from podfence.app import lint as linting
from podfence.cli.common import (
    TIMEOUT, AllNamespaces, ContextName, Kubeconfig, RequestTimeout,
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, EXIT_FINDINGS, LISTENER, AllowEmpty, ConfigPath, Filenames,
    MaxInputBytes, MaxObjects, Namespace, SettingValues, Staged, StrictCidr, choose, options, output_option, write,
)
from podfence.render.lint import FORMATS, lint_json, lint_text
from podfence.render.sarif import lint_sarif

Output = output_option(FORMATS)
Select = Annotated[list[str], typer.Option(
    "--select", metavar="RULES",
    help="Run only these rules: IDs (NP101), names, prefixes (NP1, NP30) or ALL, comma-separated. Repeatable; "
         "takes precedence over lint.rules.<ID>.enabled in the config.")]
Ignore = Annotated[list[str], typer.Option(
    "--ignore", metavar="RULES", help="Do not run these rules (IDs, names, prefixes or ALL); wins over --select. "
                                      "Repeatable.")]
Preview = Annotated[bool | None, typer.Option(
    "--preview/--no-preview", help="Run the preview rules too (default: lint.preview in the config).")]
FailOn = Annotated[str, typer.Option(
    "--fail-on", help=f"Exit 1 on findings at or above: {', '.join(linting.FAIL_ON[:-1])} or {linting.FAIL_ON[-1]}.")]


def lint(
    filename: Filenames = [],  # noqa: B006 - typer needs a literal default
    namespace: Namespace = "default",
    output: Output = "text",
    fail_on: FailOn = "warning",
    staged: Staged = False,
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    rules_doc: Annotated[str | None, typer.Option("--rules-doc", metavar="DIR",
                                                  help="Write the rule documentation pages into DIR and exit.")] = None,
    force: Annotated[bool, typer.Option("--force", help="With --rules-doc: overwrite existing pages.")] = False,
    select: Select = [],  # noqa: B006
    ignore: Ignore = [],  # noqa: B006
    preview: Preview = None,
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    kubeconfig: Kubeconfig = None,
    context: ContextName = None,
    request_timeout: RequestTimeout = TIMEOUT,
    all_namespaces: AllNamespaces = False,
) -> None:
    """Find NetworkPolicy mistakes: gaps, dead and redundant rules, confusions, exposure."""
    if rules_doc is not None:
        linting.write_rule_pages(Path(rules_doc), force, LISTENER)
        return
    choose(output, FORMATS, "-o")
    choose(fail_on, linting.FAIL_ON, "--fail-on")
    try:
        linted = linting.lint(options(filename, namespace, config, setting, strict_cidr, allow_empty,
                                      max_input_bytes, max_objects, select=select, ignore=ignore, preview=preview,
                                      kubeconfig=kubeconfig, context=context, request_timeout=request_timeout,
                                      all_namespaces=all_namespaces, staged=staged), LISTENER)
    except Stop as stop:  # invalid manifests: code scanning shows them too, where they are
        if output == "sarif" and stop.diagnostics:
            write(lint_sarif([], linting.reported_rules(), version=__version__, uri=linting.repo_uri,
                             invalid=stop.diagnostics))
        raise
    findings = list(linted.findings)
    if output == "json":
        write(lint_json(findings))
    elif output == "sarif":
        write(lint_sarif(findings, linted.rules, version=__version__, uri=linting.repo_uri))
    else:
        write(lint_text(findings))
    if linted.fails(fail_on):
        raise typer.Exit(EXIT_FINDINGS)
