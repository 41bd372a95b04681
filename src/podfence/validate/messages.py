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


MAX_SHOWN_ENTRIES = 10  # list items and map entries shown of one value, nested ones included
MAX_SHOWN_CHARACTERS = 200  # of one string


def render_value(value: object) -> str:
    """A manifest value as the API server shows it after ``Invalid value:``.

    Only a bounded prefix is shown, however large the value (YAML aliases can make
    a small file hold a list of millions): strings are cut after
    ``MAX_SHOWN_CHARACTERS`` characters, and lists and maps after
    ``MAX_SHOWN_ENTRIES`` entries in all, each cut saying how much is left out.

    >>> render_value(["Ingress", "Egress", "ingress"])
    '["Ingress", "Egress", "ingress"]'
    >>> render_value(list(range(12)))
    '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ... 2 more]'
    >>> render_value("x" * 300)[-25:]
    'xxxx"... (300 characters)'
    """
    return _render(value, [MAX_SHOWN_ENTRIES])


def _render(value: object, entries_left: list[int]) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if len(value) <= MAX_SHOWN_CHARACTERS:
            return go_quote(value)
        return f"{go_quote(value[:MAX_SHOWN_CHARACTERS])}... ({len(value)} characters)"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (Mapping, list, tuple)):
        shown = []
        for entry in value.items() if isinstance(value, Mapping) else value:
            if entries_left[0] <= 0:
                break
            entries_left[0] -= 1
            if isinstance(value, Mapping):
                shown.append(f"{_render(entry[0], entries_left)}: {_render(entry[1], entries_left)}")
            else:
                shown.append(_render(entry, entries_left))
        if len(shown) < len(value):
            shown.append(f"... {len(value) - len(shown)} more")
        return ("{%s}" if isinstance(value, Mapping) else "[%s]") % ", ".join(shown)
    return repr(value)


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


def warn(code: str, path: FieldPath, message: str) -> Diagnostic:
    """A warning: the API server accepts the value but says something about it."""
    return diag(code, path, message, Severity.WARNING)
