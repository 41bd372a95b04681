"""Whole-cluster connectivity: text (grouped), json, csv, md, dot."""

from __future__ import annotations

import csv
import io
import json
from itertools import groupby
from typing import Any, Callable, Iterable, Iterator

from podfence.engine import Connection, Connectivity
from podfence.model import Direction, Pod
from podfence.model.endpoints import Chosen, Focus
from podfence.render.conns import block_text, conns_json, conns_text, shortened
from podfence.render.escape import csv_cell, dot_id, dot_label, md_code, printable
from podfence.model.words import address_order
from podfence.sets import ConnSet, IPSet, parse_cidr

FORMATS = ("text", "json", "csv", "md", "dot")


def _pod_label(pod: Pod) -> str:
    return pod.key if pod.kind == "Pod" else f"{pod.key} ({pod.kind})"


def _group_label(group: tuple[Pod, ...], ns_sizes: dict[str, int], limit: int | None = 3) -> str:
    """One pod by name; many as whole namespaces where they cover them, else a few names (every
    name when ``limit`` is None: ``--wide``)."""
    if len(group) == 1:
        return _pod_label(group[0])
    by_ns: dict[str, list[Pod]] = {}
    for p in group:
        by_ns.setdefault(p.namespace, []).append(p)
    whole = [ns for ns, ps in by_ns.items() if len(ps) == ns_sizes.get(ns, -1) and len(ps) > 1]
    parts = []
    if whole:
        shown = ", ".join(whole) if limit is None else shortened(whole, limit)
        parts.append(f"all pods of {'namespace' if len(whole) == 1 else 'namespaces'} {shown}")
    rest = [p for ns, ps in by_ns.items() if ns not in whole for p in ps]
    if rest:
        keys = [p.key for p in rest]
        parts.append(", ".join(keys) if limit is None else shortened(keys, limit))
    return f"[{'; '.join(parts)}] ({len(group)} pods)"


def connectivity_text(conn: Connectivity) -> str:
    """Grouped, readable listing: pods that behave alike share one line."""
    return "".join(connectivity_text_chunks(conn))


def connectivity_text_chunks(conn: Connectivity, namespace: str | None = None,
                             focus: Focus | None = None, wide: bool = False) -> Iterator[str]:
    """:func:`connectivity_text` a line at a time, each made :func:`printable`; ``namespace``,
    ``focus`` and ``wide`` as in :func:`connectivity_chunks`."""
    return (printable(line[:-1]) + "\n" for line in _text_lines(conn, namespace, focus, 3 if not wide else None))


def _touches(namespace: str, *ends: str) -> bool:
    """True when one of the ends (``ns/name`` or an address range) is a pod of ``namespace``."""
    return any(end.startswith(namespace + "/") and "/" not in end[len(namespace) + 1:] for end in ends)


def _text_lines(conn: Connectivity, namespace: str | None = None, focus: Focus | None = None,
                limit: int | None = 3) -> Iterator[str]:
    ns_sizes: dict[str, int] = {}
    for p in conn.pods:
        ns_sizes[p.namespace] = ns_sizes.get(p.namespace, 0) + 1

    def shown(*groups: tuple[Pod, ...]) -> bool:
        return namespace is None or any(p.namespace == namespace for g in groups for p in g)

    def chosen(group: tuple[Pod, ...], side: str) -> tuple[Pod, ...]:
        wanted = None if focus is None else focus.src if side == "src" else focus.dst
        return group if wanted is None else tuple(p for p in group if p.key in wanted.pods)

    def outside(block: IPSet, side: str) -> IPSet:
        wanted = None if focus is None else focus.src if side == "src" else focus.dst
        return block if wanted is None else block & wanted.addresses

    groups = [(src, dst, g.conns) for g in conn.group_connections() if shown(g.src, g.dst)
              for src, dst in [(chosen(g.src, "src"), chosen(g.dst, "dst"))] if src and dst]
    for src, dst, conns in groups:
        yield f"{_group_label(src, ns_sizes, limit)} -> {_group_label(dst, ns_sizes, limit)}: {conns_text(conns)}\n"
    if not groups:
        yield "(no pod may reach another pod)\n" if focus is None else "(no chosen pod may reach another)\n"
    for e in conn.pair_exceptions():
        if (namespace is None or _touches(namespace, e.src, e.dst)) and (focus is None or focus.keeps(e.src, e.dst)):
            yield f"{e.src} -> {e.dst}: {conns_text(e.conns)} (own node)\n"
    ext = []
    for group, direction, blocks in conn.group_address_blocks():
        egress = direction is Direction.EGRESS
        pods = chosen(group, "src" if egress else "dst")
        kept = [(b, c) for block, c in blocks for b in [outside(block, "dst" if egress else "src")] if b]
        if shown(group) and pods and kept:
            ext.append((pods, direction, kept))
    if ext:
        yield "\n"
    for group, direction, blocks in ext:
        for block, c in blocks:
            text, where = conns_text(c), block_text(block)
            if direction is Direction.EGRESS:
                yield f"{_group_label(group, ns_sizes, limit)} -> {where}: {text}\n"
            else:
                yield f"{where} -> {_group_label(group, ns_sizes, limit)}: {text}\n"
    kinds = {p.kind for p in conn.pods}
    yield "\n"
    if focus is not None:
        yield f"Only from {_side(focus.src)} to {_side(focus.dst)}, of {len(conn.pods)} pods.\n"
        return
    if namespace is not None:
        mine = sum(1 for p in conn.pods if p.namespace == namespace)
        yield (f"Only what the {mine} {'pod' if mine == 1 else 'pods'} of namespace {namespace} send or receive, "
               f"of {len(conn.pods)} pods in {len(conn.groups())} groups of identical behaviour.\n")
        return
    yield (f"{len(conn.pods)} pods in {len(conn.groups())} groups of identical behaviour."
           + (" Every bare pod may also reach itself (self traffic)." if "Pod" in kinds else "") + "\n")


def _side(chosen: Chosen | None) -> str:
    """One side of a focus in words: ``2 chosen pods and 10.0.0.0/8``, ``any pod or address``."""
    if chosen is None:
        return "any pod or address"
    n = len(chosen.pods)
    parts = [f"{n} chosen {'pod' if n == 1 else 'pods'}"] if n else []
    if chosen.addresses:
        parts.append(", ".join(chosen.addresses.cidrs()))
    return " and ".join(parts) or "nothing"


def connectivity_data(rows: Iterable[tuple[str, str, ConnSet]]) -> dict[str, Any]:
    """``{"connections": [{"src", "dst", "allowed"}]}``: one entry per pair with something allowed."""
    return {"connections": [{"src": s, "dst": d, "allowed": conns_json(c)} for s, d, c in rows]}


def connectivity_json(rows: Iterable[tuple[str, str, ConnSet]]) -> str:
    """One entry per pair (never grouped), in the engine's order; empty pairs are left out."""
    return "".join(connectivity_json_chunks(rows))


def connectivity_json_chunks(rows: Iterable[tuple[str, str, ConnSet]]) -> Iterator[str]:
    """:func:`json_document` of :func:`connectivity_data` (its entries one a line), an entry at a time.

    Names and allowed sets repeat a lot, so each is encoded once.
    """
    names: dict[str, str] = {}
    allowed: dict[int, str] = {}
    keep: list[ConnSet] = []  # keeps the cached ids valid

    def name(n: str) -> str:
        hit = names.get(n)
        if hit is None:
            hit = names[n] = json.dumps(n)
        return hit

    yield '{\n  "connections": [\n'
    held = None  # each entry waits for the next, which decides its comma: pieces end with a line
    for src, dst, conns in rows:
        a = allowed.get(id(conns))
        if a is None:
            keep.append(conns)
            a = allowed[id(conns)] = json.dumps(conns_json(conns))
        if held is not None:
            yield held + ",\n"
        held = f'    {{"src": {name(src)}, "dst": {name(dst)}, "allowed": {a}}}'
    yield ("" if held is None else held + "\n") + "  ]\n}\n"


class _Memo(dict[str, str]):
    """One escaping function's results per name: a pod's name repeats once per pair."""

    def __init__(self, escape: Callable[[str], str]) -> None:
        super().__init__()
        self.escape = escape

    def __call__(self, name: str) -> str:
        hit = self.get(name)
        if hit is None:
            hit = self[name] = self.escape(name)
        return hit


def connectivity_csv(entries: Iterable[Connection]) -> str:
    return "".join(connectivity_csv_chunks((e.src, e.dst, e.conns) for e in entries))


def connectivity_csv_chunks(rows: Iterable[tuple[str, str, ConnSet]]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["src", "dst", "allowed"])
    yield buf.getvalue()
    cell = _Memo(csv_cell)
    for src, dst, conns in rows:
        buf.seek(0)
        buf.truncate()
        writer.writerow([cell(src), cell(dst), conns_text(conns)])
        yield buf.getvalue()


def connectivity_md(entries: Iterable[Connection]) -> str:
    return "".join(connectivity_md_chunks((e.src, e.dst, e.conns) for e in entries))


def connectivity_md_chunks(rows: Iterable[tuple[str, str, ConnSet]]) -> Iterator[str]:
    yield "| From | To | Allowed |\n|---|---|---|\n"
    code = _Memo(lambda name: md_code(name, table=True))
    for src, dst, conns in rows:
        yield f"| {code(src)} | {code(dst)} | {conns_text(conns)} |\n"


def connectivity_dot(conn: Connectivity, entries: Iterable[Connection] | None = None) -> str:
    """A Graphviz digraph: one cluster box per namespace, address ranges as boxes."""
    rows = None if entries is None else [(e.src, e.dst, e.conns) for e in entries]
    return "".join(connectivity_dot_chunks(conn, rows))


def connectivity_dot_chunks(conn: Connectivity,
                            rows: Iterable[tuple[str, str, ConnSet]] | None = None) -> Iterator[str]:
    """:func:`connectivity_dot` a line at a time; ``rows`` default to the connectivity's own.

    A pod's address ranges with the same allowed connections are one box, named as
    text names them (``0.0.0.0/0 except 10.0.0.0/8, ...``), so the internet is one
    node rather than the dozens of CIDRs it is made of.
    """
    yield "digraph podfence {\n  rankdir=LR;\n  node [shape=ellipse, fontsize=10];\n  edge [fontsize=9];\n"
    pod_keys = set()
    for ns, pods in groupby(conn.pods, key=lambda p: p.namespace):
        out = [f"  subgraph {dot_id('cluster_' + ns)} {{", f"    label={dot_id(ns)};"]
        for p in pods:
            pod_keys.add(p.key)
            label = dot_label(p.name) if p.kind == "Pod" else dot_label(p.name, f"({p.kind})")
            out.append(f"    {dot_id(p.key)} [label={label}];")
        out.append("  }")
        yield "\n".join(out) + "\n"
    edges: list[tuple[str, str, ConnSet]] = []
    ranges: dict[tuple[str, bool, int], tuple[IPSet, ConnSet, int]] = {}  # (pod, egress, conns id) -> merged
    for src, dst, conns in (conn.rows() if rows is None else rows):
        if src == dst:
            continue
        if src in pod_keys and dst in pod_keys:
            edges.append((src, dst, conns))
            continue
        egress = src in pod_keys
        pod, cidr = (src, dst) if egress else (dst, src)
        parsed = parse_cidr(cidr)
        if parsed is None:  # neither a pod of this connectivity nor a range: an edge as given
            edges.append((src, dst, conns))
            continue
        key = (pod, egress, id(conns))
        block, _, at = ranges.get(key, (IPSet(), conns, len(edges)))
        if key not in ranges:
            edges.append((pod, "", conns))  # its place in the output: the pod's first range
        ranges[key] = (block | IPSet.of_cidr(parsed), conns, at)
    merged = {at: (pod, egress, block_text(block)) for (pod, egress, _), (block, _, at) in ranges.items()}
    for name in sorted({name for _, _, name in merged.values()}, key=address_order):
        yield f"  {dot_id(name)} [shape=box];\n"
    for i, (src, dst, conns) in enumerate(edges):
        if i in merged:
            pod, egress, name = merged[i]
            src, dst = (pod, name) if egress else (name, pod)
        yield f"  {dot_id(src)} -> {dot_id(dst)} [label={dot_label(conns_text(conns))}];\n"
    yield "}\n"


def _range_names(conn: Connectivity) -> set[str]:
    """Every address range in the connectivity's entries (lists shared by alike pods are read once)."""
    seen: set[int] = set()
    names: set[str] = set()
    for p in conn.pods:
        for direction in (Direction.EGRESS, Direction.INGRESS):
            ranges = conn.address_ranges(p.key, direction)
            if id(ranges) not in seen:
                seen.add(id(ranges))
                names.update(cidr for cidr, _ in ranges)
    return names


def connectivity_chunks(conn: Connectivity, output: str, namespace: str | None = None,
                        focus: Focus | None = None, wide: bool = False) -> Iterator[str]:
    """The whole-cluster connectivity in one format, a line (or entry) at a time.

    ``namespace`` shows only what a pod of that namespace sends or receives;
    ``focus`` only what its sources send to its destinations; ``wide`` names every
    pod of a text line (never "and N more").
    """
    rows = conn.rows() if namespace is None else (r for r in conn.rows() if _touches(namespace, r[0], r[1]))
    if focus is not None:
        rows = (r for r in rows if focus.keeps(r[0], r[1]))
    match output:
        case "text":
            return connectivity_text_chunks(conn, namespace, focus, wide)
        case "json":
            return connectivity_json_chunks(rows)
        case "csv":
            return connectivity_csv_chunks(rows)
        case "md":
            return connectivity_md_chunks(rows)
        case "dot":
            return connectivity_dot_chunks(conn, None if namespace is None and focus is None else rows)
    raise ValueError(f"unknown output format {output!r}; choose from {', '.join(FORMATS)}")


# Bytes of one pod-pair entry besides the two names (with the shortest allowed set, "All").
_ENTRY_BYTES = {
    "json": len('    {"src": , "dst": , "allowed": "All"}\n'),
    "csv": len(',,All\n'),
    "md": len('| `` | `` | All |\n'),
}


def connectivity_min_size(conn: Connectivity, output: str) -> tuple[int, int]:
    """(pod pairs with something allowed, bytes the format surely writes for them).

    The bound counts the pod-pair entries alone (never the address ranges), each
    with its two names and the shortest allowed set, so it is known before
    anything is rendered; grouped text has no such bound (0).
    """
    reach = conn.reachable()
    n = len(reach.pods)
    if output == "json":
        weights = [len(json.dumps(k)) for k in reach.pods]
    else:
        weights = [len(k.encode("utf-8")) for k in reach.pods]
    counts, sums = reach.row_sizes(weights)
    pairs = sum(counts)
    match output:
        case "json" | "csv" | "md":
            names = sum(sums) + sum(c * w for c, w in zip(counts, weights))
            return pairs, pairs * _ENTRY_BYTES[output] + names
        case "dot":  # an edge per pair except a pod to itself
            return pairs, max(0, pairs - n) * len('  "" -> "" [label="All"];\n')
    return pairs, 0


def render_connectivity(conn: Connectivity, output: str) -> str:
    return "".join(connectivity_chunks(conn, output))
