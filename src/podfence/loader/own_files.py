"""podfence's own YAML files (configuration, assertion specs, intent files).

They are read with the same line-keeping parser as manifests, so a problem found
later in a field can be reported at its file and line: features return
diagnostics with field paths, and :func:`place` puts them where they belong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, TextIO

from podfence.loader import codes
from podfence.loader.documents import RawDocument, SyntaxProblem, iter_documents, locate
from podfence.loader.limits import Budget
from podfence.loader.sources import STDIN_NAME, SourceText, read_file, read_stdin
from podfence.model import Diagnostic, Severity


@dataclass(frozen=True, slots=True)
class OwnFile:
    """One YAML document read from ``file`` (``data`` is None when unreadable or empty)."""

    file: str
    data: Any
    problems: tuple[Diagnostic, ...] = ()

    def place(self, diagnostics: Iterable[Diagnostic], object_label: str = "") -> tuple[Diagnostic, ...]:
        """Diagnostics with this file, the line of their field path, and an object label."""
        return tuple(
            d.located(file=self.file, line=locate(self.data, d.field) if self.data is not None else None,
                      object=object_label or d.object)
            for d in diagnostics
        )


def read_own_file(path: str, *, stdin: TextIO | None = None, budget: Budget | None = None) -> OwnFile:
    """Read exactly one YAML document; every problem is a located diagnostic.

    ``budget`` is what the run may still read (a fresh one when not given).
    """
    budget = Budget() if budget is None else budget
    source = read_stdin(stdin, budget) if path == STDIN_NAME else read_file(path, budget)
    if isinstance(source, Diagnostic):
        return OwnFile(path, None, (source,))
    assert isinstance(source, SourceText)
    documents: list[RawDocument] = []
    for item in iter_documents(source.text, budget=budget):
        if isinstance(item, SyntaxProblem):
            return OwnFile(path, None, (Diagnostic(item.code, Severity.ERROR, item.message, (), "",
                                                   path, item.line),))
        documents.append(item)
    if len(documents) > 1:
        return OwnFile(path, documents[0].data, (Diagnostic(
            codes.BAD_SYNTAX, Severity.ERROR, "expected one YAML document, found several", (), "", path,
            documents[1].line),))
    data = documents[0].data if documents else None
    problems = tuple(
        Diagnostic(codes.DUPLICATE_KEY, Severity.ERROR, f"duplicate key {dup.key!r} (first at line {dup.first_line})",
                   (), "", path, dup.line)
        for doc in documents for dup in doc.duplicates
    )
    return OwnFile(path, data, problems)
