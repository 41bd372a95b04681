"""The lint and audit use cases, and the rule documentation pages.

Rules are chosen in three steps (see :mod:`podfence.lint.selection`): the rule
groups, then the config, then ``--select``/``--ignore``. Findings are placed at
the line of their field in the manifests the loader kept, so nothing is read
twice (standard input or a FIFO cannot be).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from podfence.app import files as files_
from podfence.app.errors import Said, Stop
from podfence.app.loading import evaluated, load_cluster
from podfence.app.options import Listener, Options, Run, prepare
from podfence.app.writing import write_files
from podfence.lint import REGISTRY, RULES, Finding, Group, LintRule, lint as run_lint
from podfence.lint.audit import Audit, audit as run_audit
from podfence.lint.docs import pages
from podfence.lint.selection import (
    RulePlan, Selector, config_references, parse_selectors, plan_rules, suppression_references,
)
from podfence.loader import LineDict, LoadResult, locate
from podfence.model import Diagnostic, FileOrigin, Origin, Severity
from podfence.model.text import one_line
from podfence.model.words import plural, shortened

FAIL_ON = tuple(s.value for s in Severity)
RuleFlags = tuple[tuple[Selector, ...] | None, tuple[Selector, ...]]  # --select (None: not given), --ignore


@dataclass(frozen=True, slots=True)
class Linted:
    """Findings in file and line order, and the rules that could have made them (for SARIF)."""

    findings: tuple[Finding, ...]
    rules: tuple[LintRule, ...]

    def fails(self, fail_on: str) -> bool:
        """True when a finding is at or above severity ``fail_on`` (error, warning or note)."""
        return any(f.at_least(Severity(fail_on)) for f in self.findings)


def lint(options: Options, listener: Listener | None = None) -> Linted:
    """Find NetworkPolicy mistakes by what the policies mean (in the promoted view under ``staged``)."""
    run, result, plan = _analysis(options, listener)
    cluster = evaluated(run, result)
    tell(run, suppression_references(cluster), result.documents)
    findings = narrow_lines(run_lint(cluster, run.config, run.settings, plan=plan), result.documents)
    findings = in_namespace(findings, options.shown_namespace)
    return Linted(tuple(findings), reported_rules())


def reported_rules() -> tuple[LintRule, ...]:
    """The rules a SARIF log describes: every rule but the removed ones."""
    return tuple(r for r in RULES if r.group is not Group.REMOVED)


def audit(options: Options, listener: Listener | None = None, include_excluded: bool = False) -> Audit:
    """A report per namespace: isolation, reach, sensitive exposure, findings and a grade.

    The namespaces of ``lint.exclude_namespaces`` (kube-system by default) are not
    graded unless ``include_excluded``. With one namespace to show (``-n`` on a live
    cluster) the report is that namespace's, graded on its own, excluded or not.
    """
    run, result, plan = _analysis(options, listener)
    tell(run, suppression_references(result.cluster), result.documents)
    findings = narrow_lines(run_lint(result.cluster, run.config, run.settings, plan=plan), result.documents)
    shown = options.shown_namespace
    report = run_audit(result.cluster, run.config, run.settings, findings,
                       include_excluded=include_excluded or shown is not None)
    if shown is not None:
        kept = tuple(a for a in report.namespaces if a.name == shown)
        hidden = sum(1 for p in result.cluster.pods if p.namespace == shown and p.takes_part(run.settings)
                     and not p.is_pod_endpoint(run.settings))
        report = Audit(kept, kept[0].score if kept else report.score, report.cluster_tiers, (), hidden)
    return report


def _analysis(options: Options, listener: Listener | None) -> tuple[Run, LoadResult, RulePlan]:
    """Rule flags, then config, cluster (with each object's manifest) and the rules to run."""
    flags = rule_flags(options.select, options.ignore, listener)
    run = prepare(options, listener, check=config_references)
    result = load_cluster(run, keep_documents=True)
    plan, said = plan_rules(run.config, select=flags[0], ignore=flags[1], preview=options.preview)
    tell(run, said, {})
    return run, result, plan


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


def narrow_lines(findings: Sequence[Finding], documents: Mapping[Origin, Any]) -> list[Finding]:
    """Findings placed at the line of their field, in the manifests the loader kept (``LoadResult.documents``)."""
    out = [f.located(line=_field_line(f.ref.origin, f.line, f.field, documents)) for f in findings]
    return sorted(out, key=Finding.sort_key)


def rule_flags(select: Sequence[str] | None, ignore: Sequence[str], listener: Listener | None = None) -> RuleFlags:
    """``--select`` (None when not given) and ``--ignore``; an unknown rule or prefix stops the run (exit 2)."""
    chosen, said = parse_selectors("--select", list(select or ()))
    dropped, said_too = parse_selectors("--ignore", list(ignore))
    _tell(listener, [*said, *said_too], {})
    return (chosen if select else None), dropped


def tell(run: Run, diagnostics: Sequence[Diagnostic], documents: Mapping[Origin, Any]) -> None:
    """Notes and warnings said at the line of their field; any error stops the run with all of them (exit 2)."""
    _tell(run.listener, diagnostics, documents)


def _tell(listener: Listener | None, diagnostics: Sequence[Diagnostic], documents: Mapping[Origin, Any]) -> None:
    lines = []
    for d in diagnostics:
        if d.is_error:
            lines.append(f"podfence: error: {d.one_line()}")
        else:
            origin = FileOrigin(d.file, d.line) if d.file and d.line is not None else None
            placed = d.located(line=_field_line(origin, d.line, d.field, documents))
            lines.append(f"{d.severity.value}: {placed.one_line()}")
    if any(d.is_error for d in diagnostics):
        raise Said(lines)
    for line in lines:
        if listener is not None:
            listener.say(line)


def repo_uri(path: str) -> str:
    """A file as a URI relative to the repository root (the nearest folder with .git), else to here."""
    here = Path.cwd().resolve()
    root = next((d for d in (here, *here.parents) if (d / ".git").exists()), here)
    full = Path(path).resolve()
    try:
        return full.relative_to(root).as_posix()
    except ValueError:
        return full.as_uri()


def write_rule_pages(folder: Path, force: bool, listener: Listener | None = None) -> None:
    """Write the rule documentation pages into ``folder``, all or none; pages that differ need ``force``.

    Only regular files are read or replaced: a page that is a directory, FIFO,
    device or link stops the run (exit 2) before anything is written.
    """
    wanted = pages(REGISTRY)
    try:
        files_.check_folder(folder, "--rules-doc")
        current = {n: files_.read_existing(folder / n, "--rules-doc") for n in sorted(wanted)}
    except files_.Refused as refused:
        raise Stop(str(refused)) from None
    changed = {n: text for n, text in sorted(wanted.items()) if current[n] != text.encode("utf-8")}
    clash = [n for n in changed if current[n] is not None]
    if clash and not force:
        exist = "exists" if len(clash) == 1 else "exist"
        raise Stop(f"--rules-doc: {plural(len(clash), 'page')} already {exist} in {folder} and differ from the rules "
                   f"({shortened(clash, 3)}); add --force to overwrite them")
    write_files(folder, changed, force=True, flag="--rules-doc")
    if listener is not None:
        same = sum(1 for n in wanted if current[n] is not None and n not in changed)
        replaced = len(clash)
        notes = ([f"{replaced} replaced with --force"] if replaced else []) + \
            ([f"{same} already up to date"] if same else [])
        pages_ = "page" if len(wanted) == 1 else "pages"
        listener.say(f"ok: {len(changed)} of {len(wanted)} rule {pages_} written to {one_line(str(folder))}"
                     + (f" ({', '.join(notes)})" if notes else ""))


__all__ = ["FAIL_ON", "Linted", "audit", "in_namespace", "lint", "narrow_lines", "repo_uri", "reported_rules", "rule_flags", "write_rule_pages"]
