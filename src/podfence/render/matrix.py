"""Single-port reachability matrices: text, json, csv, md.

Each format is written row by row (:func:`matrix_chunks`), so a large matrix is
never one string, and :func:`matrix_size` tells its exact size in bytes (UTF-8)
beforehand from the row counts alone, so a caller can refuse a matrix too large
to print before printing any of it.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Iterator

from podfence.engine import Matrix
from podfence.model.words import plural
from podfence.render.escape import csv_cell, md_code, printable

FORMATS = ("text", "json", "csv", "md")
ALLOWED_MARK = "✓"
DENIED_MARK = "·"


def _label(matrix: Matrix, pod: str) -> str:
    kind = matrix.kinds.get(pod, "Pod")
    return pod if kind == "Pod" else f"{pod} ({kind})"


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _marks(matrix: Matrix, row: tuple[str, ...], index: dict[str, int], allowed: str, denied: str) -> list[str]:
    cells = [denied] * len(matrix.destinations)
    for dst in row:
        i = index.get(dst)
        if i is not None:
            cells[i] = allowed
    return cells


# --- json --------------------------------------------------------------------------


def _json_head(matrix: Matrix) -> str:
    return f'{{\n  "port": {json.dumps(matrix.port)},\n  "protocol": {json.dumps(str(matrix.protocol))},\n'


def matrix_data(matrix: Matrix) -> dict[str, Any]:
    """``{"port", "protocol", "pods": [...], "allowed": {src: [dst, ...]}}``, every pod a key of ``allowed``.

    Narrowed by ``--from``/``--to``, ``pods`` are the chosen sources and ``allowed``
    holds the chosen destinations only.
    """
    return {"port": matrix.port, "protocol": str(matrix.protocol), "pods": list(matrix.pods),
            "allowed": {p: list(matrix.allowed.get(p, ())) for p in matrix.pods}}


def matrix_json_chunks(matrix: Matrix) -> Iterator[str]:
    """:func:`json_document` of :func:`matrix_data`, a row at a time; the lab prints the same."""
    names = [json.dumps(p) for p in matrix.pods]
    yield _json_head(matrix)
    if not names:
        yield '  "pods": [],\n  "allowed": {}\n}\n'
        return
    yield '  "pods": [\n' + ",\n".join(f"    {n}" for n in names) + '\n  ],\n  "allowed": {\n'
    cache: dict[str, str] = dict(zip(matrix.pods, names))
    last = len(names) - 1
    for i, (src, name) in enumerate(zip(matrix.pods, names)):
        row = matrix.allowed.get(src, ())
        if row:
            body = ",\n".join(f"      {cache.get(d) or json.dumps(d)}" for d in row)
            text = f"    {name}: [\n{body}\n    ]"
        else:
            text = f"    {name}: []"
        yield text + (",\n" if i < last else "\n")
    yield "  }\n}\n"


def _json_size(matrix: Matrix) -> int:
    names = [len(json.dumps(p)) for p in matrix.pods]
    size = len(_json_head(matrix))
    if not names:
        return size + len('  "pods": [],\n  "allowed": {}\n}\n')
    n = len(names)
    size += len('  "pods": [\n') + sum(names) + 4 * n + 2 * (n - 1) + len('\n  ],\n  "allowed": {\n')
    counts, sums = matrix.row_sizes(names)
    for name, k, total in zip(names, counts, sums):
        size += 4 + name + 2  # '    "src": '
        size += 2 if k == 0 else 2 + total + 6 * k + 2 * (k - 1) + 6  # '[]' or '[\n' entries '\n    ]'
    size += 2 * (n - 1) + 1  # ',\n' between rows, '\n' after the last
    return size + len("  }\n}\n")


# --- text --------------------------------------------------------------------------


def _text_title(matrix: Matrix) -> str:
    return (f"{matrix.protocol}/{matrix.port}: who may connect to whom "
            f"(rows: from, columns: to; {ALLOWED_MARK} allowed, {DENIED_MARK} denied)")


def _text_labels(matrix: Matrix) -> tuple[int, list[str], int]:
    """(column width, row labels, label width)."""
    width = len(str(len(matrix.pods)))
    labels = [f"{i + 1:>{width}} {printable(_label(matrix, p))}" for i, p in enumerate(matrix.pods)]
    return width, labels, max(len(s) for s in labels)


def matrix_text_chunks(matrix: Matrix) -> Iterator[str]:
    """Rows are sources, numbered columns are destinations (numbers match the rows; when the
    destinations are not the sources, a list under the title numbers them)."""
    pods = matrix.pods
    if not matrix.square:
        yield from _narrowed_text_chunks(matrix)
        return
    if not pods:
        yield _text_title(matrix) + "\n\n(no pods)\n"
        return
    width, labels, name_w = _text_labels(matrix)
    yield _text_title(matrix) + "\n\n"
    yield " " * name_w + " " + " ".join(f"{i + 1:>{width}}" for i in range(len(pods))) + "\n"
    index = {p: i for i, p in enumerate(pods)}
    yes, no = f"{ALLOWED_MARK:>{width}}", f"{DENIED_MARK:>{width}}"
    total = 0
    for label, src in zip(labels, pods):
        row = matrix.allowed.get(src, ())
        total += len(row)
        yield f"{label:<{name_w}} {' '.join(_marks(matrix, row, index, yes, no))}\n"
    yield _footer(len(pods), total)


def _footer(pods: int, allowed: int) -> str:
    """The count under a square matrix: its pods, and how many of their ordered pairs are allowed."""
    return f"\n{plural(pods, 'pod')}: {allowed} of {plural(pods ** 2, 'pair')} allowed\n"


def _narrowed_text_chunks(matrix: Matrix) -> Iterator[str]:
    rows, columns = matrix.pods, matrix.destinations
    yield _text_title(matrix) + "\n\n"
    if not rows or not columns:
        yield f"(no {'sources' if not rows else 'destinations'} chosen)\n"
        return
    width = len(str(len(columns)))
    yield "columns:\n" + "".join(f"  {i + 1:>{width}} {printable(_label(matrix, p))}\n"
                                 for i, p in enumerate(columns)) + "\n"
    labels = [printable(_label(matrix, p)) for p in rows]
    name_w = max(len(s) for s in labels)
    yield " " * name_w + " " + " ".join(f"{i + 1:>{width}}" for i in range(len(columns))) + "\n"
    index = {p: i for i, p in enumerate(columns)}
    yes, no = f"{ALLOWED_MARK:>{width}}", f"{DENIED_MARK:>{width}}"
    total = 0
    for label, src in zip(labels, rows):
        row = matrix.allowed.get(src, ())
        total += len(row)
        yield f"{label:<{name_w}} {' '.join(_marks(matrix, row, index, yes, no))}\n"
    yield (f"\n{plural(len(rows), 'source')} x {plural(len(columns), 'destination')}: "
           f"{total} of {plural(len(rows) * len(columns), 'pair')} allowed\n")


def _text_size(matrix: Matrix) -> int:
    pods = matrix.pods
    if not pods:
        return _utf8_len(_text_title(matrix) + "\n\n(no pods)\n")
    n = len(pods)
    width, labels, name_w = _text_labels(matrix)
    counts, _ = matrix.row_sizes([0] * n)
    allowed = sum(counts)
    size = _utf8_len(_text_title(matrix)) + 2
    size += name_w + 1 + n * width + (n - 1) + 1
    mark_bytes = (width - 1) * n + (n - 1)  # padding and separators of one row's cells
    for label in labels:
        size += _utf8_len(label) + (name_w - len(label)) + 1 + mark_bytes + 1
    size += allowed * _utf8_len(ALLOWED_MARK) + (n * n - allowed) * _utf8_len(DENIED_MARK)
    return size + len(_footer(n, allowed))


# --- csv ---------------------------------------------------------------------------


def _csv_line(fields: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(fields)
    return buf.getvalue()


def matrix_csv_chunks(matrix: Matrix) -> Iterator[str]:
    yield _csv_line(["from\\to", *map(csv_cell, matrix.destinations)])
    index = {p: i for i, p in enumerate(matrix.destinations)}
    for src in matrix.pods:
        row = matrix.allowed.get(src, ())
        yield _csv_line([csv_cell(src), *_marks(matrix, row, index, "1", "0")])


def _csv_size(matrix: Matrix) -> int:
    n = len(matrix.pods)
    size = _utf8_len(_csv_line(["from\\to", *map(csv_cell, matrix.pods)]))
    for src in matrix.pods:
        size += _utf8_len(_csv_line([csv_cell(src), "0"])) + 2 * (n - 1)  # every cell is one byte and a comma
    return size


# --- md ----------------------------------------------------------------------------


def _md_head(matrix: Matrix) -> str:
    pods = matrix.destinations
    return (f"**{matrix.protocol}/{matrix.port}** (rows: from, columns: to)\n\n"
            + "| from \\ to | " + " | ".join(md_code(p, table=True) for p in pods) + " |\n"
            + "|---|" + "|".join(":-:" for _ in pods) + "|\n")


def _md_row_start(matrix: Matrix, src: str) -> str:
    return f"| {md_code(_label(matrix, src), table=True)} | "


def matrix_md_chunks(matrix: Matrix) -> Iterator[str]:
    yield _md_head(matrix)
    index = {p: i for i, p in enumerate(matrix.destinations)}
    for src in matrix.pods:
        row = matrix.allowed.get(src, ())
        yield _md_row_start(matrix, src) + " | ".join(_marks(matrix, row, index, ALLOWED_MARK, DENIED_MARK)) + " |\n"


def _md_size(matrix: Matrix) -> int:
    n = len(matrix.pods)
    size = _utf8_len(_md_head(matrix))
    counts, _ = matrix.row_sizes([0] * n)
    for src, k in zip(matrix.pods, counts):
        size += _utf8_len(_md_row_start(matrix, src)) + 3 * (n - 1) + 3
        size += k * _utf8_len(ALLOWED_MARK) + (n - k) * _utf8_len(DENIED_MARK)
    return size


# --- all formats -------------------------------------------------------------------


def matrix_chunks(matrix: Matrix, output: str) -> Iterator[str]:
    """The matrix in one format, a piece (a row or so) at a time."""
    match output:
        case "json":
            return matrix_json_chunks(matrix)
        case "csv":
            return matrix_csv_chunks(matrix)
        case "md":
            return matrix_md_chunks(matrix)
        case "text":
            return matrix_text_chunks(matrix)
    raise ValueError(f"unknown output format {output!r}; choose from {', '.join(FORMATS)}")


def matrix_size(matrix: Matrix, output: str) -> int:
    """Exactly how many bytes (UTF-8) :func:`matrix_chunks` writes, from row counts alone (a matrix
    narrowed to chosen sources or destinations is measured by writing it: it is as large as asked)."""
    if not matrix.square:
        return sum(_utf8_len(chunk) for chunk in matrix_chunks(matrix, output))
    match output:
        case "json":
            return _json_size(matrix)
        case "csv":
            return _csv_size(matrix)
        case "md":
            return _md_size(matrix)
        case "text":
            return _text_size(matrix)
    raise ValueError(f"unknown output format {output!r}; choose from {', '.join(FORMATS)}")


def render_matrix(matrix: Matrix, output: str) -> str:
    return "".join(matrix_chunks(matrix, output))


def matrix_json(matrix: Matrix) -> str:
    """The machine form; the lab prints exactly the same for its packet matrix."""
    return render_matrix(matrix, "json")
