"""Diagnostics worded the way the API server words its field errors.

The API server prints a field error as ``<type>: <value>: <detail>``, for example
``Invalid value: "tcp": ...`` or ``Required value: must specify a peer``. podfence
keeps that shape so a message reads the same whether it came from podfence or from
``kubectl apply``; the field path travels separately in ``Diagnostic.field``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from podfence.model.diagnostic import Diagnostic, FieldPath, Severity


def go_quote(text: str) -> str:
    """Quote a string like Go's ``%q``: printable characters stay, others are escaped.

    >>> go_quote('say "hi"\\n')
    '"say \\\\"hi\\\\"\\\\n"'
    """
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


# How much of a value a message shows: manifests can hold megabyte strings and
# huge lists, and one problem must stay one readable line.
SHOWN_VALUE_MAX = 256
SHOWN_PREFIX = 64
_NAME_MAX = 253  # the longest valid object name
_NAME_BREAKERS = frozenset(' "\\/')  # printable, but no valid name holds them


def render_value(value: object) -> str:
    """A manifest value as the API server shows it after ``Invalid value:``, cut when long.

    A string longer than :data:`SHOWN_VALUE_MAX` characters shows its first
    :data:`SHOWN_PREFIX` and its size; a list or mapping shows its entries until
    about :data:`SHOWN_VALUE_MAX` characters are used, then how many there are.

    >>> render_value("x" * 1000)
    '"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"... (1000 bytes)'
    """
    return _render(value, SHOWN_VALUE_MAX)


def _render(value: object, budget: int) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if len(value) <= max(budget, SHOWN_PREFIX):
            return go_quote(value)
        size = len(value.encode("utf-8", "surrogatepass"))
        return f"{go_quote(value[:SHOWN_PREFIX])}... ({size} bytes)"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "{" + _entries(list(value.items()), budget, "entries") + "}"
    if isinstance(value, (list, tuple)):
        return "[" + _entries([(item,) for item in value], budget, "items") + "]"
    return repr(value)


def _entries(entries: list[tuple[object, ...]], budget: int, noun: str) -> str:
    """List items as ``(item,)``, mapping entries as ``(key, value)``, until the budget is spent."""
    shown: list[str] = []
    used = 0
    for entry in entries:
        if used >= budget:
            shown.append(f"... ({len(entries)} {noun})")
            break
        text = ": ".join(_render(part, budget - used) for part in entry)
        shown.append(text)
        used += len(text) + 2
    return ", ".join(shown)


def shown_name(text: str) -> str:
    """An object's kind, namespace or name as a diagnostic names the object.

    Plain names are shown as written; one with spaces, quotes, slashes, control
    characters or more than 253 characters (no valid name has them) is quoted
    and cut like any other value, so that it cannot break, forge or flood the line.

    >>> shown_name("web"), shown_name("we/b\\nx")
    ('web', '"we/b\\\\nx"')
    """
    if len(text) <= _NAME_MAX and text.isprintable() and not _NAME_BREAKERS.intersection(text):
        return text
    return render_value(text)


def diag(code: str, path: FieldPath, message: str, severity: Severity = Severity.ERROR) -> Diagnostic:
    """A diagnostic with a ready-made message; the loader fills in file, line and object."""
    return Diagnostic(code=code, severity=severity, message=message, field=tuple(path))


def invalid(code: str, path: FieldPath, value: object, detail: str,
            severity: Severity = Severity.ERROR) -> Diagnostic:
    """``Invalid value: <value>: <detail>``."""
    return diag(code, path, f"Invalid value: {render_value(value)}: {detail}", severity)


def required(code: str, path: FieldPath, detail: str = "") -> Diagnostic:
    """``Required value`` with an optional detail."""
    return diag(code, path, f"Required value: {detail}" if detail else "Required value")


def duplicate(code: str, path: FieldPath, value: object) -> Diagnostic:
    """``Duplicate value: <value>``."""
    return diag(code, path, f"Duplicate value: {render_value(value)}")


def forbidden(code: str, path: FieldPath, detail: str) -> Diagnostic:
    """``Forbidden: <detail>``."""
    return diag(code, path, f"Forbidden: {detail}")


def unsupported(code: str, path: FieldPath, value: object, supported: Iterable[str]) -> Diagnostic:
    """``Unsupported value: <value>: supported values: "A", "B"``."""
    listed = ", ".join(go_quote(s) for s in supported)
    return diag(code, path, f"Unsupported value: {render_value(value)}: supported values: {listed}")


def too_long(code: str, path: FieldPath, limit: int) -> Diagnostic:
    """``Too long: may not be more than <limit> bytes``."""
    unit = "byte" if limit == 1 else "bytes"
    return diag(code, path, f"Too long: may not be more than {limit} {unit}")


def too_many(code: str, path: FieldPath, actual: int, limit: int) -> Diagnostic:
    """``Too many: <actual>: must have at most <limit> items`` (the API server's words for lists and objects)."""
    return diag(code, path, f"Too many: {actual}: must have at most {limit} items")


def warn(code: str, path: FieldPath, message: str) -> Diagnostic:
    """A warning: the API server accepts the value but says something about it."""
    return diag(code, path, message, Severity.WARNING)
