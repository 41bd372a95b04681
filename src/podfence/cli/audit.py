"""podfence audit: a one-screen report per namespace, with a grade."""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.cli.common import (
    TIMEOUT, AllNamespaces, ContextName, Kubeconfig, Live, RequestTimeout,
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, AllowEmpty, ConfigPath, Filenames, MaxInputBytes, MaxObjects,
    Namespace, SettingValues, StrictCidr, choose, input_budget, settings_from, write,
)
from podfence.cli.lint import Ignore, Preview, Select, load_for_analysis, narrow_lines, rule_flags, rule_plan, tell
from podfence.lint import lint
from podfence.lint.audit import Audit, audit as run_audit
from podfence.lint.selection import suppression_references
from podfence.render.audit import FORMATS, audit_json, audit_md, audit_text


def audit(
    filename: Filenames = [],  # noqa: B006 - typer needs a literal default
    namespace: Namespace = "default",
    output: Annotated[str, typer.Option("-o", "--output", help="text, json or md")] = "text",
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
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
    """Report per namespace: isolation, who reaches it, what it reaches, sensitive exposure, findings, grade."""
    choose(output, FORMATS, "-o")
    chosen = rule_flags(select, ignore)
    live = Live(kubeconfig, context, request_timeout, all_namespaces)
    cfg, result, documents = load_for_analysis(filename, namespace, config, setting, strict_cidr,
                                               input_budget(max_input_bytes, max_objects), allow_empty, live)
    plan = rule_plan(cfg, chosen, preview)
    tell(suppression_references(result.cluster), documents)
    settings = settings_from(setting, strict_cidr, cfg.settings)
    findings = narrow_lines(lint(result.cluster, cfg, settings, plan=plan), documents)
    report = run_audit(result.cluster, cfg, settings, findings)
    shown = live.shown(filename, namespace)
    if shown is not None:  # one namespace's audit, graded on its own
        kept = tuple(a for a in report.namespaces if a.name == shown)
        report = Audit(kept, kept[0].score if kept else report.score, report.cluster_tiers)
    write({"json": audit_json, "md": audit_md}.get(output, audit_text)(report))
