"""The one place podfence turns its JSON documents into text.

Every JSON answer is first built as data (dicts, lists, strings, numbers) by a
presenter (``*_data`` in each render module), so that the command line and any
other face return the same document; :func:`json_document` writes it. The layout
is ``json.dumps(..., indent=2)`` plus a final newline, except that the items of
the lists named in ``flat_items`` are written one per line (so a diff of a
thousand changes stays a thousand lines), and the values named in ``flat`` on one
line. Streamed writers (matrices, connectivity) write the same bytes piece by
piece; tests hold them to :func:`json_document` of their presenter's data.
:func:`json_line` writes JSON lines (one compact record per line).
"""

from __future__ import annotations

import json
from typing import Any, Collection


def json_value(value: Any) -> str:
    """One value on one line, with json's default separators (``", "`` and ``": "``)."""
    return json.dumps(value)


def json_line(record: Any) -> str:
    """One compact record and a newline, for a stream of JSON lines."""
    return json.dumps(record, separators=(",", ":")) + "\n"


def json_document(data: Any, *, flat_items: Collection[str] = (), flat: Collection[str] = ()) -> str:
    """``data`` as a document: two-space indents, a final newline, and the flat parts on their lines."""
    if not flat_items and not flat:
        return json.dumps(data, indent=2) + "\n"
    return _write(data, 0, frozenset(flat_items), frozenset(flat)) + "\n"


def _write(value: Any, level: int, flat_items: frozenset[str], flat: frozenset[str]) -> str:
    if isinstance(value, dict) and value:
        pad = "  " * (level + 1)
        parts = []
        for key, item in value.items():
            if key in flat:
                text = json.dumps(item)
            elif key in flat_items and isinstance(item, list):
                inner = ",\n".join(f"{pad}  {json.dumps(x)}" for x in item)
                text = "[\n" + inner + ("\n" if inner else "") + f"{pad}]"
            else:
                text = _write(item, level + 1, flat_items, flat)
            parts.append(f"{pad}{json.dumps(str(key))}: {text}")
        return "{\n" + ",\n".join(parts) + "\n" + "  " * level + "}"
    if isinstance(value, list) and value:
        pad = "  " * (level + 1)
        return "[\n" + ",\n".join(pad + _write(x, level + 1, flat_items, flat) for x in value) + "\n" + \
            "  " * level + "]"
    return json.dumps(value, indent=2) if isinstance(value, (dict, list)) else json.dumps(value)


__all__ = ["json_document", "json_line", "json_value"]
