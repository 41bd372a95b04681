"""Whole-cluster connectivity: text (grouped), json, csv, md, dot."""

from __future__ import annotations

import csv
import io
import json
from itertools import groupby
from typing import Iterable

from podfence.engine.connectivity import Connection, Connectivity
from podfence.model import Direction, Pod
from podfence.render.conns import addresses_text, conns_json, conns_text, shortened
from podfence.sets import ConnSet

FORMATS = ("text", "json", "csv", "md", "dot")


def _pod_label(pod: Pod) -> str:
    return pod.key if pod.kind == "Pod" else f"{pod.key} ({pod.kind})"


def _group_label(group: tuple[Pod, ...], ns_sizes: dict[str, int], limit: int = 3) -> str:
    """One pod by name; many as whole namespaces where they cover them, else a few names."""
    if len(group) == 1:
        return _pod_label(group[0])
    by_ns: dict[str, list[Pod]] = {}
    for p in group:
        by_ns.setdefault(p.namespace, []).append(p)
    whole = [ns for ns, ps in by_ns.items() if len(ps) == ns_sizes.get(ns, -1) and len(ps) > 1]
    parts = []
    if whole:
        shown = shortened(whole, limit)
        parts.append(f"all pods of {'namespace' if len(whole) == 1 else 'namespaces'} {shown}")
    rest = [p for ns, ps in by_ns.items() if ns not in whole for p in ps]
    if rest:
        parts.append(shortened([p.key for p in rest], limit))
    return f"[{'; '.join(parts)}] ({len(group)} pods)"


def connectivity_text(conn: Connectivity) -> str:
    """Grouped, readable listing: pods that behave alike share one line."""
    lines: list[str] = []
    ns_sizes: dict[str, int] = {}
    for p in conn.pods:
        ns_sizes[p.namespace] = ns_sizes.get(p.namespace, 0) + 1
    pod_lines = [f"{_group_label(g.src, ns_sizes)} -> {_group_label(g.dst, ns_sizes)}: {conns_text(g.conns)}"
                 for g in conn.group_connections()]
    lines += pod_lines or ["(no pod may reach another pod)"]
    for e in conn.pair_exceptions():
        lines.append(f"{e.src} -> {e.dst}: {conns_text(e.conns)} (own node)")
    ext = conn.group_external()
    if ext:
        lines.append("")
    for group, direction, ranges in ext:
        by_conns: dict[str, list[str]] = {}
        for cidr, c in ranges:
            by_conns.setdefault(conns_text(c), []).append(cidr)
        for text, cidrs in by_conns.items():
            where = addresses_text(cidrs)
            if direction is Direction.EGRESS:
                lines.append(f"{_group_label(group, ns_sizes)} -> {where}: {text}")
            else:
                lines.append(f"{where} -> {_group_label(group, ns_sizes)}: {text}")
    kinds = {p.kind for p in conn.pods}
    lines.append("")
    lines.append(f"{len(conn.pods)} pods in {len(conn.groups())} groups of identical behaviour."
                 + (" Every bare pod may also reach itself (self traffic)." if "Pod" in kinds else ""))
    return "\n".join(lines) + "\n"


def connectivity_json(rows: Iterable[tuple[str, str, ConnSet]]) -> str:
    """One entry per pair (never grouped), in the engine's order; empty pairs are left out.

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

    lines = []
    for src, dst, conns in rows:
        a = allowed.get(id(conns))
        if a is None:
            keep.append(conns)
            a = allowed[id(conns)] = json.dumps(conns_json(conns))
        lines.append(f'    {{"src": {name(src)}, "dst": {name(dst)}, "allowed": {a}}}')
    body = ",\n".join(lines)
    return '{\n  "connections": [\n' + body + ("\n" if body else "") + "  ]\n}\n"


def connectivity_csv(entries: list[Connection]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["src", "dst", "allowed"])
    for e in entries:
        writer.writerow([e.src, e.dst, conns_text(e.conns)])
    return buf.getvalue()


def connectivity_md(entries: list[Connection]) -> str:
    out = ["| From | To | Allowed |", "|---|---|---|"]
    out += [f"| `{e.src}` | `{e.dst}` | {conns_text(e.conns)} |" for e in entries]
    return "\n".join(out) + "\n"


def _dot_id(name: str) -> str:
    return json.dumps(name)


def connectivity_dot(conn: Connectivity, entries: list[Connection]) -> str:
    """A Graphviz digraph: one cluster box per namespace, address ranges as boxes."""
    out = ["digraph podfence {", "  rankdir=LR;", '  node [shape=ellipse, fontsize=10];',
           '  edge [fontsize=9];']
    for ns, pods in groupby(conn.pods, key=lambda p: p.namespace):
        out.append(f"  subgraph {_dot_id('cluster_' + ns)} {{")
        out.append(f"    label={_dot_id(ns)};")
        for p in pods:
            label = p.name if p.kind == "Pod" else f"{p.name}\\n({p.kind})"
            out.append(f"    {_dot_id(p.key)} [label=\"{label}\"];")
        out.append("  }")
    pod_keys = {p.key for p in conn.pods}
    cidrs = sorted({n for e in entries for n in (e.src, e.dst) if n not in pod_keys})
    for c in cidrs:
        out.append(f"  {_dot_id(c)} [shape=box];")
    for e in entries:
        if e.src == e.dst:
            continue
        out.append(f"  {_dot_id(e.src)} -> {_dot_id(e.dst)} [label={_dot_id(conns_text(e.conns))}];")
    out.append("}")
    return "\n".join(out) + "\n"


def render_connectivity(conn: Connectivity, output: str) -> str:
    if output == "text":
        return connectivity_text(conn)
    if output == "json":
        return connectivity_json(conn.rows())
    entries = conn.connections()
    match output:
        case "csv":
            return connectivity_csv(entries)
        case "md":
            return connectivity_md(entries)
        case "dot":
            return connectivity_dot(conn, entries)
    raise ValueError(f"unknown output format {output!r}; choose from {', '.join(FORMATS)}")
