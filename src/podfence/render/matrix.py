"""Single-port reachability matrices: text, json, csv, md."""

from __future__ import annotations

import csv
import io
import json

from podfence.engine import Matrix

FORMATS = ("text", "json", "csv", "md")
ALLOWED_MARK = "✓"
DENIED_MARK = "·"


def _label(matrix: Matrix, pod: str) -> str:
    kind = matrix.kinds.get(pod, "Pod")
    return pod if kind == "Pod" else f"{pod} ({kind})"


def matrix_json(matrix: Matrix) -> str:
    """The machine form; the lab prints exactly the same for its packet matrix."""
    data = {
        "port": matrix.port,
        "protocol": str(matrix.protocol),
        "pods": list(matrix.pods),
        "allowed": {p: list(matrix.allowed.get(p, ())) for p in matrix.pods},
    }
    return json.dumps(data, indent=2) + "\n"


def matrix_text(matrix: Matrix) -> str:
    """Rows are sources, numbered columns are destinations (numbers match the rows)."""
    pods = matrix.pods
    out = [f"{matrix.protocol}/{matrix.port}: who may connect to whom "
           f"(rows: from, columns: to; {ALLOWED_MARK} allowed, {DENIED_MARK} denied)", ""]
    if not pods:
        return out[0] + "\n\n(no pods)\n"
    width = len(str(len(pods)))
    labels = [f"{i + 1:>{width}} {_label(matrix, p)}" for i, p in enumerate(pods)]
    name_w = max(len(s) for s in labels)
    header = " " * name_w + " " + " ".join(f"{i + 1:>{width}}" for i in range(len(pods)))
    out.append(header)
    for label, src in zip(labels, pods):
        allowed = set(matrix.allowed.get(src, ()))
        cells = " ".join(f"{ALLOWED_MARK if dst in allowed else DENIED_MARK:>{width}}" for dst in pods)
        out.append(f"{label:<{name_w}} {cells}")
    total = sum(len(v) for v in matrix.allowed.values())
    out.append("")
    out.append(f"{total} of {len(pods) ** 2} pairs allowed")
    return "\n".join(out) + "\n"


def matrix_csv(matrix: Matrix) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["from\\to", *matrix.pods])
    for src in matrix.pods:
        allowed = set(matrix.allowed.get(src, ()))
        writer.writerow([src, *("1" if dst in allowed else "0" for dst in matrix.pods)])
    return buf.getvalue()


def matrix_md(matrix: Matrix) -> str:
    pods = matrix.pods
    out = [f"**{matrix.protocol}/{matrix.port}** (rows: from, columns: to)", ""]
    out.append("| from \\ to | " + " | ".join(f"`{p}`" for p in pods) + " |")
    out.append("|---|" + "|".join(":-:" for _ in pods) + "|")
    for src in pods:
        allowed = set(matrix.allowed.get(src, ()))
        out.append(f"| `{_label(matrix, src)}` | " + " | ".join(ALLOWED_MARK if d in allowed else DENIED_MARK for d in pods) + " |")
    return "\n".join(out) + "\n"


def render_matrix(matrix: Matrix, output: str) -> str:
    match output:
        case "json":
            return matrix_json(matrix)
        case "csv":
            return matrix_csv(matrix)
        case "md":
            return matrix_md(matrix)
        case "text":
            return matrix_text(matrix)
    raise ValueError(f"unknown output format {output!r}; choose from {', '.join(FORMATS)}")
