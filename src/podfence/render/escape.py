"""Text from the input, escaped for the format it lands in.

Every renderer writes names, labels, file names and messages that whoever wrote
the input chose. Each format has its own way to be broken out of:

* text (terminal, logs): a newline forges a line, an escape sequence drives the
  terminal, a bidi override reorders what is read. :func:`printable` quotes
  them; :func:`one_line` also caps a message line. :func:`text_lines` joins the
  lines of a text report that way.
* Markdown (GitHub's flavour, posted on pull requests): a backtick ends a code
  span, ``<`` opens raw HTML, ``[x](javascript:...)`` is a link, ``|`` splits a
  table cell, ``@team`` notifies people and ``#12`` links an issue.
  :func:`md_text` is for plain text, :func:`md_code` for a code span,
  :func:`md_row` for a table row.
* DOT: a ``"`` ends a quoted ID and lets the rest add attributes or nodes;
  :func:`dot_id` and :func:`dot_label` quote per the DOT language.
* CSV opened in a spreadsheet: a cell starting with ``=``, ``+``, ``-``, ``@``,
  tab or carriage return is a formula, and a lone carriage return ends the row;
  :func:`csv_cell` neutralises both.
* XML 1.0 cannot hold most control characters at all; :func:`xml_text` quotes
  them before ElementTree escapes the markup characters.

Ordinary names (letters, digits, ``.``, ``-``, ``/``, ``_`` inside a word) come out
unchanged in every format.
"""

from __future__ import annotations

import re
from typing import Iterable

from podfence.model.text import ECHO_LIMIT, LINE_LIMIT, capped, one_line, printable, quoted

__all__ = [
    "ECHO_LIMIT", "LINE_LIMIT", "capped", "csv_cell", "dot_id", "dot_label", "md_code", "md_row", "md_text",
    "one_line", "printable", "quoted", "text_lines", "xml_text",
]


def text_lines(lines: Iterable[str]) -> str:
    """The lines of a text report, each made :func:`printable`, joined and ended by newlines."""
    return "".join(printable(line) + "\n" for line in lines)


# ---- Markdown ----------------------------------------------------------------------

_ZWSP = "&#8203;"  # a zero-width space: "@&#8203;team" reads as @team and notifies nobody
_MD_ESCAPES = {
    "\\": "\\\\", "`": "\\`", "*": "\\*", "~": "\\~", "|": "\\|", "$": "\\$",
    "&": "&amp;", "<": "&lt;", ">": "&gt;",
}
_WORD = re.compile(r"[0-9A-Za-z]")


def md_text(value: str) -> str:
    """``value`` as plain Markdown text, safe in a paragraph, a list item or a table cell.

    Control characters are quoted (so the value stays on its line);
    ``\\ ` * ~ | $`` are backslash-escaped (``$`` starts math on GitHub); ``& < >``
    become entities (no raw HTML, no autolink); ``_`` is escaped unless inside a
    word; ``](``, ``][`` and ``![`` lose their link meaning; ``@name`` and ``#123``
    get a zero-width space so they neither mention nor link. Field paths such as
    ``spec.ingress[0]`` stay as they are.

    >>> md_text("a`<img src=x onerror=alert(1)>|[x](javascript:y) @org/team #1")
    'a\\\\`&lt;img src=x onerror=alert(1)&gt;\\\\|[x\\\\](javascript:y) @&#8203;org/team #&#8203;1'
    >>> md_text("api/allow-gw added: spec.ingress[0] admits it")
    'api/allow-gw added: spec.ingress[0] admits it'
    """
    text = printable(value)
    out = []
    last = len(text) - 1
    for i, ch in enumerate(text):
        after = text[i + 1] if i < last else ""
        if ch in _MD_ESCAPES:
            out.append(_MD_ESCAPES[ch])
        elif ch == "_":
            before = text[i - 1] if i else ""
            inside = _WORD.match(before) is not None and _WORD.match(after) is not None
            out.append("_" if inside else "\\_")
        elif (ch == "]" and after in ("(", "[")) or (ch == "!" and after == "["):
            out.append("\\" + ch)
        elif ch == "@" and _WORD.match(after):
            out.append("@" + _ZWSP)
        elif ch == "#" and after.isdigit():
            out.append("#" + _ZWSP)
        else:
            out.append(ch)
    return "".join(out)


def md_code(value: str, *, table: bool = False) -> str:
    """``value`` as a Markdown code span, whatever backticks it holds.

    The fence is one backtick longer than the longest run inside; a value that
    starts or ends with a backtick, or both starts and ends with a space, is
    padded with a space on each side (which Markdown takes off again). Control characters are quoted. In a table cell
    (``table=True``) a value holding ``|`` cannot be a code span (the table
    splits at it first, and a backslash before it cannot be written), so it
    comes out as :func:`md_text` instead.

    >>> md_code("shop/web"), md_code("a`b"), md_code("`x")
    ('`shop/web`', '``a`b``', '`` `x ``')
    """
    text = printable(value)
    if table and "|" in text:
        return md_text(value)
    if not text:
        return "` `"
    if "`" not in text and not (text[0] == text[-1] == " "):
        return f"`{text}`"
    runs = re.findall(r"`+", text)
    fence = "`" * (max((len(r) for r in runs), default=0) + 1)
    spaced = text[0] == text[-1] == " " and text.strip(" ")  # Markdown would take a space off each end
    pad = " " if "`" in (text[0], text[-1]) or spaced else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_row(cells: Iterable[str]) -> str:
    """One table row of cells that are Markdown already (from :func:`md_text`, :func:`md_code`)."""
    return "| " + " | ".join(cell or " " for cell in cells) + " |"


# ---- DOT ---------------------------------------------------------------------------


def _dot_inner(value: str) -> str:
    return printable(value).replace("\\", "\\\\").replace('"', '\\"')


def dot_id(value: str) -> str:
    """A DOT ID: always double-quoted, ``"`` and ``\\`` escaped, control characters quoted.

    >>> dot_id('b"];evil[label=x')
    '"b\\\\"];evil[label=x"'
    """
    return f'"{_dot_inner(value)}"'


def dot_label(*lines: str) -> str:
    """A quoted DOT label of one or more lines (centred, joined by DOT's ``\\n``).

    >>> dot_label("web", "(Deployment)")
    '"web\\\\n(Deployment)"'
    """
    return '"' + "\\n".join(_dot_inner(line) for line in lines) + '"'


# ---- CSV ---------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # tab and CR are quoted before, kept for the rule's sake


def csv_cell(value: str) -> str:
    """A CSV cell that stays on its row and that a spreadsheet will not run.

    Control characters are quoted, so one record is one line (the csv module
    quotes a newline but not a lone carriage return when rows end in ``\\n``);
    a cell that would start a formula (``=HYPERLINK(...)``, ``+1``, ``-2+3``,
    ``@SUM(...)``) gets a leading ``'``. The csv module still does the quoting.

    >>> csv_cell("=cmd|' /C calc'!A0"), csv_cell("a\\rb"), csv_cell("shop/web")
    ("'=cmd|' /C calc'!A0", 'a\\\\rb', 'shop/web')
    """
    text = printable(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


# ---- XML ---------------------------------------------------------------------------


def xml_text(value: str) -> str:
    """Text for an XML 1.0 attribute or element: control characters quoted.

    XML 1.0 has no way to write most C0 controls, even as character references,
    so a raw ``\\x01`` makes the whole file unreadable; quoted, it reads ``\\x01``.
    ElementTree escapes ``& < > "`` itself.
    """
    return printable(value)
