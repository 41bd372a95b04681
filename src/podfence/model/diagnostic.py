"""Problems found in the input, as values.

Every check in podfence returns :class:`Diagnostic` values instead of raising or
printing. A diagnostic names the rule that produced it (``code``), how bad it is,
the object and the field path (``spec.ingress[0].from[1].ipBlock.except[0]``) and,
once the loader has placed it, the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Iterable

from podfence.model.text import ECHO_LIMIT, capped, one_line, printable

PathSegment = str | int
FieldPath = tuple[PathSegment, ...]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


def format_path(path: Iterable[PathSegment]) -> str:
    """Render a field path the way the API server does.

    >>> format_path(("spec", "ingress", 0, "from", 1, "ipBlock", "except", 0))
    'spec.ingress[0].from[1].ipBlock.except[0]'
    """
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        elif out:
            out += f".{seg}"
        else:
            out = seg
    return out


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem. ``field`` is a path tuple; ``object`` reads like ``NetworkPolicy ns/name``."""

    code: str
    severity: Severity
    message: str
    field: FieldPath = ()
    object: str = ""
    file: str | None = None
    line: int | None = None

    @property
    def field_path(self) -> str:
        return format_path(self.field)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def located(self, *, file: str | None = None, line: int | None = None, object: str | None = None) -> Diagnostic:
        """A copy placed at a file, line and object (values left None are kept)."""
        return replace(
            self,
            file=self.file if file is None else file,
            line=self.line if line is None else line,
            object=self.object if object is None else object,
        )

    def one_line(self) -> str:
        """``file:line: Kind ns/name: field: message``, leaving out what is unknown.

        Always one line: control characters anywhere are quoted (``\\n``), the file,
        object and field are capped at twice ``ECHO_LIMIT`` (room for a kind, a
        namespace and a name) and the whole line at ``LINE_LIMIT``.
        """
        parts = []
        if self.file:
            file = _part(self.file)
            parts.append(f"{file}:{self.line}" if self.line else file)
        if self.object:
            parts.append(_part(self.object))
        if self.field:
            parts.append(_part(self.field_path))
        parts.append(self.message)
        return one_line(": ".join(parts))


def _part(text: str) -> str:
    return capped(printable(text), 2 * ECHO_LIMIT)


def error(code: str, message: str, field: FieldPath = ()) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, field)


def warning(code: str, message: str, field: FieldPath = ()) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, field)
