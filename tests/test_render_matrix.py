"""Matrix formats written row by row: the same bytes as whole-document writers, and known sizes."""

from __future__ import annotations

import csv
import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from podfence.engine.matrix import Matrix
from podfence.render.escape import csv_cell
from podfence.render.matrix import FORMATS, matrix_chunks, matrix_size, render_matrix
from podfence.sets import Protocol

names = st.text(st.sampled_from('ab/-é漢",\\\n|`'), min_size=1, max_size=6)


@st.composite
def matrices(draw: st.DrawFn) -> Matrix:
    pods = tuple(sorted(draw(st.sets(names, max_size=14))))
    allowed = {p: tuple(q for q in pods if draw(st.booleans())) for p in pods}
    kinds = {p: draw(st.sampled_from(["Pod", "Deployment", "StatefulSet"])) for p in pods}
    return Matrix(draw(st.sampled_from(list(Protocol))), draw(st.integers(1, 65535)), pods, allowed, kinds)


@settings(max_examples=300)
@given(matrices())
def test_json_is_what_json_dumps_writes(m: Matrix) -> None:
    data = {"port": m.port, "protocol": str(m.protocol), "pods": list(m.pods),
            "allowed": {p: list(m.allowed[p]) for p in m.pods}}
    assert render_matrix(m, "json") == json.dumps(data, indent=2) + "\n"


@settings(max_examples=300)
@given(matrices())
def test_csv_is_what_the_csv_module_writes_for_the_whole_table(m: Matrix) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["from\\to", *map(csv_cell, m.pods)])
    for src in m.pods:
        writer.writerow([csv_cell(src), *("1" if d in m.allowed[src] else "0" for d in m.pods)])
    assert render_matrix(m, "csv") == buf.getvalue()


@settings(max_examples=300)
@given(matrices())
def test_size_is_known_before_writing(m: Matrix) -> None:
    for fmt in FORMATS:
        assert matrix_size(m, fmt) == len("".join(matrix_chunks(m, fmt)).encode("utf-8"))


@given(matrices())
def test_text_counts_the_allowed_pairs(m: Matrix) -> None:
    text = render_matrix(m, "text")
    total = sum(len(row) for row in m.allowed.values())
    n = len(m.pods)
    counted = f"\n{n} pod{'' if n == 1 else 's'}: {total} of {n * n} pair{'' if n == 1 else 's'} allowed\n"
    assert text.endswith(counted if m.pods else "(no pods)\n")
