"""``podfence lab matrix --compare``: where packets and the engine disagree.

The report holds a measured matrix against the engine's for the same pods,
protocol and port. ``json`` prints one document (port, protocol, whether they
agree, and every cell where they do not); the other formats ``lab matrix``
takes (text, csv, md) print text lines: one per cell where they disagree, or
one line saying that every cell agrees.
"""

from __future__ import annotations

import json
from typing import Sequence

from podfence.engine import Matrix

FORMATS = ("text", "json", "csv", "md")  # lab matrix's -o; with --compare, all but json print text lines

Difference = tuple[str, str, bool, bool]  # (from, to, packets allowed, engine allowed), as Matrix.differences


def _word(allowed: bool) -> str:
    return "allowed" if allowed else "denied"


def render_compare(measured: Matrix, differences: Sequence[Difference], output: str) -> str:
    """The compare report of ``measured`` (the lab's matrix) and its ``differences`` from the engine's."""
    cell = f"{measured.protocol}/{measured.port}"
    if output == "json":
        return json.dumps({
            "port": measured.port, "protocol": str(measured.protocol), "agree": not differences,
            "differences": [{"from": s, "to": d, "packets": a, "engine": b} for s, d, a, b in differences],
        }, indent=2) + "\n"
    if not differences:
        return f"packets and engine agree on all {len(measured.pods) ** 2} cells of {cell}\n"
    return "".join(f"{src} -> {dst} {cell}: packets {_word(packets)}, engine {_word(engine)}\n"
                   for src, dst, packets, engine in differences)


__all__ = ["FORMATS", "Difference", "render_compare"]
