"""podfence lint: NetworkPolicy mistakes, found by what the policies mean."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Sequence

import typer

from podfence import __version__
from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, EXIT_FINDINGS, AllowEmpty, ConfigPath, Filenames, MaxInputBytes,
    MaxObjects, Namespace, SettingValues, StrictCidr, choose, exit_on_errors, fail, input_budget, load_config, report,
    require_objects, settings_from, write, write_files,
)
from podfence.config import Config
from podfence.lint import BY_ID, RULES, Finding, lint as run_lint
from podfence.lint.docs import pages
from podfence.loader import LoadResult, iter_documents, load, locate
from podfence.loader.documents import RawDocument
from podfence.loader.limits import Budget
from podfence.model import Severity
from podfence.render.lint import FORMATS, lint_json, lint_text
from podfence.render.sarif import lint_sarif

FAIL_ON = tuple(s.value for s in Severity)


def lint(
    filename: Filenames = [],  # noqa: B006 - typer needs a literal default
    namespace: Namespace = "default",
    output: Annotated[str, typer.Option("-o", "--output", help="text, json or sarif")] = "text",
    fail_on: Annotated[str, typer.Option("--fail-on", help="Exit 1 on findings at or above: error, warning or note.")]
    = "warning",
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    rules_doc: Annotated[str | None, typer.Option("--rules-doc", metavar="DIR",
                                                  help="Write the rule documentation pages into DIR and exit.")] = None,
    force: Annotated[bool, typer.Option("--force", help="With --rules-doc: overwrite existing pages.")] = False,
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
) -> None:
    """Find NetworkPolicy mistakes: gaps, dead and redundant rules, confusions, exposure."""
    if rules_doc is not None:
        write_rules_doc(Path(rules_doc), force)
        return
    choose(output, FORMATS, "-o")
    choose(fail_on, FAIL_ON, "--fail-on")
    cfg, result, texts = load_for_analysis(filename, namespace, config, setting, strict_cidr,
                                           input_budget(max_input_bytes, max_objects), allow_empty)
    for rule_id, _ in cfg.lint.rules:
        if rule_id not in BY_ID:
            sys.stderr.write(f"warning: podfence config: lint.rules.{rule_id}: no such rule (see docs/rules)\n")
    findings = narrow_lines(run_lint(result.cluster, cfg, settings_from(setting, strict_cidr, cfg.settings)), texts)
    if output == "json":
        write(lint_json(findings))
    elif output == "sarif":
        write(lint_sarif(findings, RULES, version=__version__, uri=repo_uri))
    else:
        write(lint_text(findings))
    if any(f.at_least(Severity(fail_on)) for f in findings):
        raise typer.Exit(EXIT_FINDINGS)


def load_for_analysis(files: Sequence[str], namespace: str, config: str | None, setting: Sequence[str],
                      strict_cidr: bool, budget: Budget | None = None,
                      allow_empty: bool = False) -> tuple[Config, LoadResult, dict[str, str]]:
    """Config and cluster; validation errors end the command (exit 2) before any analysis.

    The texts read are kept, so that findings are placed on their lines without
    reading anything twice (standard input or a FIFO cannot be).
    """
    if not files:
        fail("no manifests given: use -f PATH (a file, a directory, or - for stdin)")
    cfg = load_config(config, budget)
    settings = settings_from(setting, strict_cidr, cfg.settings)
    result = load(list(files), default_namespace=namespace, settings=settings, budget=budget, keep_texts=True)
    report(result)
    exit_on_errors(result.diagnostics)
    require_objects([result], files, allow_empty)
    return cfg, result, dict(result.texts)


def _documents(text: str) -> dict[int, Any]:
    """Line -> object manifest, for every document and every item of a List, as the loader places them."""
    out: dict[int, Any] = {}

    def add(data: Any, line: int) -> None:
        pending = [(data, line)]  # Lists may nest as deep as the YAML does: a stack, not recursion
        while pending:
            data, line = pending.pop()
            if not isinstance(data, dict):
                continue
            items = data.get("items")
            kind = data.get("kind")
            if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
                lines = getattr(items, "item_lines", None)
                pending.extend(reversed([(item, lines[i] if lines else line) for i, item in enumerate(items)]))
            else:
                out.setdefault(line, data)

    for item in iter_documents(text):
        if isinstance(item, RawDocument):
            add(item.data, item.line)
    return out


def narrow_lines(findings: list[Finding], texts: dict[str, str]) -> list[Finding]:
    """Findings placed at the line of their field, found in the texts the loader read (by file name)."""
    index: dict[str, dict[int, Any]] = {}
    out = []
    for f in findings:
        if f.file and f.line is not None and f.field:
            docs = index.get(f.file)
            if docs is None:
                docs = index[f.file] = _documents(texts.get(f.file, ""))
            doc = docs.get(f.line)
            if doc is not None:
                f = f.located(line=locate(doc, f.field))
        out.append(f)
    return sorted(out, key=Finding.sort_key)


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
    """Write docs/rules pages atomically; existing different pages need --force."""
    wanted = pages(RULES)
    folder.mkdir(parents=True, exist_ok=True)
    clash = [n for n, text in wanted.items() if (folder / n).exists() and (folder / n).read_text() != text]
    if clash and not force:
        fail(f"{len(clash)} page(s) in {folder} differ from the rules (e.g. {clash[0]}); add --force to overwrite")
    changed = {n: text for n, text in sorted(wanted.items())
               if not ((folder / n).exists() and (folder / n).read_text() == text)}
    write_files(folder, changed, force=True, flag="--rules-doc")
    written = len(changed)
    sys.stderr.write(f"podfence: {written} of {len(wanted)} rule page(s) written to {folder}\n")
