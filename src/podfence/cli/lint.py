"""podfence lint: NetworkPolicy mistakes, found by what the policies mean."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Mapping, Sequence

import typer

from podfence import __version__
from podfence.cli.common import (
    TIMEOUT, AllNamespaces, ContextName, Kubeconfig, Live, RequestTimeout,
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, EXIT_FINDINGS, EXIT_INVALID, AllowEmpty, ConfigPath, Filenames,
    MaxInputBytes, MaxObjects, Namespace, SettingValues, Staged, StrictCidr, choose, fail,
    input_budget, load_cluster, load_config, settings_from, write, write_files,
)
from podfence.cli.files import Refused, check_folder, read_existing
from podfence.config import Config
from podfence.lint import REGISTRY, RULES, Finding, Group, lint as run_lint
from podfence.lint.docs import pages
from podfence.lint.selection import (
    RulePlan, Selector, config_references, parse_selectors, plan_rules, suppression_references,
)
from podfence.loader import LineDict, LoadResult, locate
from podfence.loader.limits import Budget
from podfence.model import Diagnostic, FileOrigin, Origin, Severity, promoted
from podfence.model.text import one_line
from podfence.render.lint import FORMATS, lint_json, lint_text
from podfence.render.sarif import lint_sarif

FAIL_ON = tuple(s.value for s in Severity)

Select = Annotated[list[str], typer.Option(
    "--select", metavar="RULES",
    help="Run only these rules: IDs (NP101), names, prefixes (NP1, NP30) or ALL, comma-separated. Repeatable; "
         "takes precedence over lint.rules.<ID>.enabled in the config.")]
Ignore = Annotated[list[str], typer.Option(
    "--ignore", metavar="RULES", help="Do not run these rules (IDs, names, prefixes or ALL); wins over --select. "
                                      "Repeatable.")]
Preview = Annotated[bool | None, typer.Option(
    "--preview/--no-preview", help="Run the preview rules too (default: lint.preview in the config).")]
RuleFlags = tuple[tuple[Selector, ...] | None, tuple[Selector, ...]]  # --select (None: not given), --ignore


def lint(
    filename: Filenames = [],  # noqa: B006 - typer needs a literal default
    namespace: Namespace = "default",
    output: Annotated[str, typer.Option("-o", "--output", help="text, json or sarif")] = "text",
    fail_on: Annotated[str, typer.Option("--fail-on", help="Exit 1 on findings at or above: error, warning or note.")]
    = "warning",
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
        write_rules_doc(Path(rules_doc), force)
        return
    choose(output, FORMATS, "-o")
    choose(fail_on, FAIL_ON, "--fail-on")
    chosen = rule_flags(select, ignore)
    live = Live(kubeconfig, context, request_timeout, all_namespaces)
    cfg, result, documents = load_for_analysis(filename, namespace, config, setting, strict_cidr,
                                               input_budget(max_input_bytes, max_objects), allow_empty, live)
    plan = rule_plan(cfg, chosen, preview)
    cluster = promoted(result.cluster) if staged else result.cluster
    tell(suppression_references(cluster), documents)
    findings = narrow_lines(run_lint(cluster, cfg, settings_from(setting, strict_cidr, cfg.settings),
                                     plan=plan), documents)
    findings = in_namespace(findings, live.shown(filename, namespace))
    if output == "json":
        write(lint_json(findings))
    elif output == "sarif":
        write(lint_sarif(findings, tuple(r for r in RULES if r.group is not Group.REMOVED), version=__version__,
                         uri=repo_uri))
    else:
        write(lint_text(findings))
    if any(f.at_least(Severity(fail_on)) for f in findings):
        raise typer.Exit(EXIT_FINDINGS)


def load_for_analysis(files: Sequence[str], namespace: str, config: str | None, setting: Sequence[str],
                      strict_cidr: bool, budget: Budget | None = None, allow_empty: bool = False,
                      live: Live | None = None) -> tuple[Config, LoadResult, Mapping[Origin, Any]]:
    """Config, cluster and each object's manifest; validation errors end the command (exit 2) before any analysis.

    The manifests keep the lines the loader read them at, so that findings are
    placed on their fields' lines without reading anything twice (standard input
    or a FIFO cannot be).
    """
    cfg = load_config(config, budget, check=config_references)
    settings = settings_from(setting, strict_cidr, cfg.settings)
    result = load_cluster(files, namespace, settings, budget, allow_empty, live, keep_documents=True)
    return cfg, result, result.documents


def in_namespace(findings: list[Finding], namespace: str | None) -> list[Finding]:
    """The findings about objects of ``namespace`` (and the namespace itself); all when None."""
    if namespace is None:
        return findings
    return [f for f in findings if f.ref.namespace == namespace or (f.ref.namespace is None
                                                                     and f.ref.kind == "Namespace"
                                                                     and f.ref.name == namespace)]


def _field_line(origin: Origin | None, line: int | None, field: tuple[str | int, ...],
                documents: Mapping[Origin, Any]) -> int | None:
    """The line of ``field`` in the object read at ``origin`` (``line`` when its manifest has no lines)."""
    if origin is None or line is None or not field:
        return line
    doc = documents.get(origin)
    return locate(doc, field) if isinstance(doc, LineDict) else line


def narrow_lines(findings: list[Finding], documents: Mapping[Origin, Any]) -> list[Finding]:
    """Findings placed at the line of their field, in the manifests the loader kept (``LoadResult.documents``)."""
    out = [f.located(line=_field_line(f.ref.origin, f.line, f.field, documents)) for f in findings]
    return sorted(out, key=Finding.sort_key)


def rule_flags(select: Sequence[str], ignore: Sequence[str]) -> RuleFlags:
    """``--select`` (None when not given) and ``--ignore``; an unknown rule or prefix ends the command (exit 2)."""
    chosen, said = parse_selectors("--select", select)
    dropped, said_too = parse_selectors("--ignore", ignore)
    tell([*said, *said_too], {})
    return (chosen if select else None), dropped


def rule_plan(cfg: Config, flags: RuleFlags, preview: bool | None) -> RulePlan:
    """The rules to run: groups, then the config, then the flags (see podfence.lint.selection)."""
    plan, said = plan_rules(cfg, select=flags[0], ignore=flags[1], preview=preview)
    tell(said, {})
    return plan


def tell(diagnostics: Sequence[Diagnostic], documents: Mapping[Origin, Any]) -> None:
    """Notes and warnings on stderr, one line each, at the line of their field; errors end the command (exit 2)."""
    for d in diagnostics:
        if d.is_error:
            sys.stderr.write(f"podfence: error: {d.one_line()}\n")
        else:
            origin = FileOrigin(d.file, d.line) if d.file and d.line is not None else None
            placed = d.located(line=_field_line(origin, d.line, d.field, documents))
            sys.stderr.write(f"{d.severity.value}: {placed.one_line()}\n")
    if any(d.is_error for d in diagnostics):
        raise typer.Exit(EXIT_INVALID)


def repo_uri(path: str) -> str:
    """A file as a URI relative to the repository root (the nearest folder with .git), else to here."""
    here = Path.cwd().resolve()
    root = next((d for d in (here, *here.parents) if (d / ".git").exists()), here)
    full = Path(path).resolve()
    try:
        return full.relative_to(root).as_posix()
    except ValueError:
        return full.as_uri()


def write_rules_doc(folder: Path, force: bool) -> None:
    """Write docs/rules pages atomically; existing different pages need --force.

    Only regular files are read or replaced: a page that is a directory, FIFO,
    device or link ends the command (exit 2) before anything is written.
    """
    wanted = pages(REGISTRY)
    try:
        check_folder(folder, "--rules-doc")
        current = {n: read_existing(folder / n, "--rules-doc") for n in sorted(wanted)}
    except Refused as refused:
        fail(str(refused))
    changed = {n: text for n, text in sorted(wanted.items()) if current[n] != text.encode("utf-8")}
    clash = [n for n in changed if current[n] is not None]
    if clash and not force:
        fail(f"{len(clash)} page(s) in {folder} differ from the rules (e.g. {clash[0]}); add --force to overwrite")
    write_files(folder, changed, force=True, flag="--rules-doc")
    written = len(changed)
    sys.stderr.write(f"podfence: {written} of {len(wanted)} rule page(s) written to {one_line(str(folder))}\n")
