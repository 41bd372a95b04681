"""The lab's own answers: ``lab matrix --compare``, ``lab probe`` and ``lab status``.

The compare report holds a measured matrix against the engine's for the same
pods, protocol and port. ``json`` prints one document (port, protocol, whether
they agree, and every cell where they do not); the other formats ``lab matrix``
takes (text, csv, md) print text lines: one per cell where they disagree, or one
line saying that every cell agrees. ``lab probe`` prints one matrix per probed
protocol and port (as ``matrix`` prints it; several as a JSON list).
"""

from __future__ import annotations

from typing import Any, Sequence

from podfence.engine import Matrix
from podfence.render.json_text import json_document
from podfence.render.matrix import matrix_data, render_matrix

FORMATS = ("text", "json", "csv", "md")  # lab matrix's -o; with --compare, all but json print text lines
STATUS_FORMATS = ("text", "json")

Difference = tuple[str, str, bool, bool]  # (from, to, packets allowed, engine allowed), as Matrix.differences


def _word(allowed: bool) -> str:
    return "allowed" if allowed else "denied"


def compare_data(measured: Matrix, differences: Sequence[Difference]) -> dict[str, Any]:
    """``{"port", "protocol", "agree", "differences": [{"from", "to", "packets", "engine"}]}``."""
    return {
        "port": measured.port, "protocol": str(measured.protocol), "agree": not differences,
        "differences": [{"from": s, "to": d, "packets": a, "engine": b} for s, d, a, b in differences],
    }


def render_compare(measured: Matrix, differences: Sequence[Difference], output: str) -> str:
    """The compare report of ``measured`` (the lab's matrix) and its ``differences`` from the engine's."""
    cell = f"{measured.protocol}/{measured.port}"
    if output == "json":
        return json_document(compare_data(measured, differences))
    if not differences:
        return f"packets and engine agree on all {len(measured.pods) ** 2} cells of {cell}\n"
    return "".join(f"{src} -> {dst} {cell}: packets {_word(packets)}, engine {_word(engine)}\n"
                   for src, dst, packets, engine in differences)


def render_matrices(matrices: Sequence[Matrix], output: str) -> str:
    """One measured matrix as ``matrix`` prints it; several one after another (json: a list)."""
    if len(matrices) == 1:
        return render_matrix(matrices[0], output)
    if output == "json":
        return json_document([matrix_data(m) for m in matrices])
    return "\n".join(render_matrix(m, output) for m in matrices)


def status_data(status: Any) -> dict[str, Any]:
    """Whether the lab is up, its pods and the policies it enforces, as data."""
    return status.to_json()


def status_json(status: Any) -> str:
    return json_document(status_data(status))


def status_text(name: str, status: Any) -> str:
    """One line: up or down, and what the lab runs."""
    if not status.up:
        return f"lab {name!r} is down" + (f" ({status.namespaces} stale namespaces: lab down removes them)"
                                          if status.namespaces else "") + "\n"
    return (f"lab {name!r} is up: {status.pods} pods, {status.namespaces} namespaces, echo server "
            f"{'running' if status.server_running else 'NOT running'}, {status.isolated_pods} pods isolated by "
            f"{len(status.policies)} NetworkPolicies\n")


__all__ = ["FORMATS", "STATUS_FORMATS", "Difference", "compare_data", "status_data", "render_compare", "render_matrices",
           "status_json", "status_text"]
