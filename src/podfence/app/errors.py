"""How a use case stops, and the exit codes every face shares.

A use case never prints and never exits: when it cannot go on it raises
:class:`Stop`, carrying either one message or the error diagnostics that stopped
it, and the code a command line would exit with (a web face answers 400 for 2).
Exit codes: 0 ok, 1 findings, 2 invalid input or usage, 3 internal error.
"""

from __future__ import annotations

from typing import Iterable

from podfence.loader import codes as load_codes
from podfence.model import Diagnostic
from podfence.model.text import one_line

EXIT_OK, EXIT_FINDINGS, EXIT_INVALID, EXIT_INTERNAL = 0, 1, 2, 3


class Stop(Exception):
    """The use case stops: ``message`` (one line), or the error ``diagnostics`` (each after ``prefix``)."""

    def __init__(self, message: str | None = None, *, diagnostics: Iterable[Diagnostic] = (), prefix: str = "",
                 code: int = EXIT_INVALID, marked: bool = True) -> None:
        self.message = message
        self.diagnostics = tuple(diagnostics)
        self.prefix = prefix
        self.code = code
        self.marked = marked  # a message reads "podfence: error: ..." unless False (said as it is)
        super().__init__(message or (self.diagnostics[0].one_line() if self.diagnostics else ""))

    def lines(self) -> list[str]:
        """What a person reads, one line each, in the command line's words."""
        if self.message is not None:
            return [f"podfence: error: {one_line(self.message)}" if self.marked else one_line(self.message)]
        out = []
        for d in self.diagnostics:
            lead = "podfence: error: " if d.code == load_codes.LIMIT else ""
            out.append(f"{lead}{one_line(self.prefix)}{d.one_line()}")
        return out


def stop_on_errors(diagnostics: Iterable[Diagnostic], prefix: str = "") -> None:
    """Raise :class:`Stop` with every error among ``diagnostics``; nothing when there is none.

    A limit of the run (``L13``) reads like the run's own errors (``podfence: error:``).
    The errors are in file and line order (:func:`in_file_order`).
    """
    errors = in_file_order(d for d in diagnostics if d.is_error)
    if errors:
        raise Stop(diagnostics=errors, prefix=prefix)


def in_file_order(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted by file name, then line; problems of no file first (the run's own), the rest as they came."""
    return sorted(diagnostics, key=lambda d: (d.file is not None, d.file or "", d.line or 0))


class Said(Stop):
    """A stop whose lines are already written out (notes and errors in the order they came)."""

    def __init__(self, lines: Iterable[str], code: int = EXIT_INVALID) -> None:
        self._lines = list(lines)
        super().__init__(self._lines[0] if self._lines else "", code=code)

    def lines(self) -> list[str]:
        return list(self._lines)


__all__ = ["EXIT_FINDINGS", "EXIT_INTERNAL", "EXIT_INVALID", "EXIT_OK", "Said", "Stop", "stop_on_errors"]
