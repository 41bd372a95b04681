"""Text from the input made safe for one line: control characters quoted, lengths capped.

Names, label values, annotations, file names and flow records are written by
whoever wrote the input. Echoed raw, a newline splits one error into two (and can
forge a line such as ``ok: 3 object(s) valid``), an escape sequence reaches the
terminal, a bidi override (U+202E) reorders what a reviewer reads, and a 1 MiB
annotation becomes a 1 MiB error line. Every message and every line of text
output goes through :func:`printable` or :func:`one_line`; an echoed value also
through :func:`capped`.

This module is pure (no printing) so the core can use it: ``Diagnostic.one_line``
does.
"""

from __future__ import annotations

ECHO_LIMIT = 256
"""Characters of one echoed value (a name, key, label or annotation value, a path).

Longer than any valid Kubernetes name (253), so valid input is never cut."""

LINE_LIMIT = 4000
"""Characters of one message line (an error, a warning, a note, a finding)."""

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` with every character that is not printable written as an escape.

    Not printable, as Python's ``str.isprintable`` and ``repr`` judge it: C0
    controls (newline, tab, ESC), DEL, C1 controls, line and paragraph separators,
    format characters such as bidi overrides (U+202E) and zero-width spaces,
    unassigned code points and lone surrogates. Everything else, non-ASCII
    letters included, stays as it is; so does the backslash.

    >>> printable("web\\n podfence: ok\\x1b[2J\\u202e")
    'web\\\\n podfence: ok\\\\x1b[2J\\\\u202e'
    >>> printable("café/ünïcode")
    'café/ünïcode'
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def capped(text: str, limit: int = ECHO_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out.

    >>> capped("x" * 300, 10)
    'xxxxxxxxxx…(+290 chars)'
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…(+{len(text) - limit} chars)"


def quoted(value: object, limit: int = ECHO_LIMIT) -> str:
    """A value echoed in a message: its ``repr``, cut at ``limit`` characters.

    >>> quoted("9" * 300, 5)
    "'9999…(+297 chars)"
    """
    return capped(repr(value), limit)


def one_line(text: str, limit: int = LINE_LIMIT) -> str:
    """A message made one safe line: :func:`printable`, then :func:`capped` at ``limit``.

    >>> one_line("bad\\nname")
    'bad\\\\nname'
    """
    return capped(printable(text), limit)
