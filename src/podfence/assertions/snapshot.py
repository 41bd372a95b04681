"""Today's connectivity as an assertion file, so that every future change fails a test.

The snapshot pins every pod's connections exactly:

* per group of sources that reach the same pods in the same way, one ``exactly``
  expectation per (destinations, connections), and one ``deny`` expectation
  towards every other pod (``{namespaceSelector: {}, except: [...]}``, so pods
  added later are covered too);
* per group of pods with the same view of the outside, one ``exactly``
  expectation per (addresses, connections) in each direction and one ``deny``
  for the remaining addresses of the families reported.

Sources sharing an expectation are merged, and a set of pods that covers whole
namespaces (of two pods or more) is written as a namespaceSelector, so a cluster
whose namespaces behave alike reads as a handful of lines. The result is plain
data for :mod:`yaml`; :func:`snapshot` never reads files.
"""

from __future__ import annotations

from typing import Any

from podfence.engine import Connectivity, PodRows
from podfence.model import NAMESPACE_NAME_LABEL, Direction
from podfence.sets import ALL_PORTS, ConnSet, IPSet, Protocol, parse_cidr

Item = str | dict[str, Any]


class _Namer:
    """Pod sets and address sets as assertion-file endpoints."""

    def __init__(self, conn: Connectivity) -> None:
        self.all = frozenset(p.key for p in conn.pods)
        self.members: dict[str, set[str]] = {}
        for p in conn.pods:
            self.members.setdefault(p.namespace, set()).add(p.key)

    def pods(self, keys: frozenset[str]) -> list[Item]:
        if keys == self.all and len(self.members) > 1:
            return [{"namespaceSelector": {}}]
        whole = sorted(ns for ns, m in self.members.items() if len(m) > 1 and m <= keys)
        covered = set().union(*(self.members[ns] for ns in whole)) if whole else set()
        items: list[Item] = []
        if whole:
            items.append({"namespaceSelector": {"matchExpressions": [
                {"key": NAMESPACE_NAME_LABEL, "operator": "In", "values": whole}]}})
        items += sorted(keys - covered)
        return items

    def label(self, items: list[Item]) -> str:
        parts = []
        for item in items:
            if isinstance(item, str):
                parts.append(item)
            elif "ipBlock" in item:
                block = item["ipBlock"]
                parts.append(f"{block['cidr']} except {', '.join(block['except'])}")
            elif item.get("namespaceSelector") == {}:
                parts.append("all pods" + (f" except {self.label(item['except'])}" if item.get("except")
                                           else ""))
            else:
                values = item["namespaceSelector"]["matchExpressions"][0]["values"]
                parts.append(f"namespace{'s' if len(values) > 1 else ''} {', '.join(values)}")
        return ", ".join(parts)  # every name: a person edits these tests


def _one(items: list[Item]) -> Item | list[Item]:
    return items[0] if len(items) == 1 else items


def addresses(block: IPSet) -> list[Item]:
    """An address set as CIDRs, or as ``ipBlock`` with ``except`` when that is shorter."""
    items: list[Item] = []
    for version in (4, 6):
        universe = IPSet.all_of(version)
        mine = block & universe
        if not mine:
            continue
        listed = list(mine.cidrs())
        holes = list((universe - mine).cidrs())
        if holes and len(holes) < len(listed):
            items.append({"ipBlock": {"cidr": universe.cidrs()[0], "except": holes}})
        else:
            items += listed
    return items


def ports(conns: ConnSet) -> dict[str, Any]:
    """The ``port``/``ports`` fields for an exact connection set (nothing for everything)."""
    if conns.is_all():
        return {}
    entries: list[Any] = []
    for protocol, span in conns.by_protocol():
        for lo, hi in span:
            if protocol is Protocol.TCP:
                entries.append({"protocol": "TCP"} if (lo, hi) == ALL_PORTS.intervals[0]
                               else lo if lo == hi else f"{lo}-{hi}")
            elif (lo, hi) == ALL_PORTS.intervals[0]:
                entries.append({"protocol": str(protocol)})
            else:
                entries.append({"protocol": str(protocol), "port": lo} | ({"endPort": hi} if hi != lo else {}))
    if len(entries) == 1 and isinstance(entries[0], int):
        return {"port": entries[0]}
    return {"ports": entries}


def snapshot(conn: Connectivity) -> dict[str, Any]:
    """An assertion file (as data) that today's connectivity passes exactly."""
    namer = _Namer(conn)
    rows = PodRows(conn)
    tests: list[dict[str, Any]] = []

    # Pods to pods: one row per group of sources with identical rows.
    by_row: dict[str, tuple[set[str], dict[str, ConnSet]]] = {}
    for src, row_id in rows.row_of.items():
        by_row.setdefault(row_id, (set(), rows.rows[row_id]))[0].add(src)
    exact: dict[tuple[frozenset[str], ConnSet], set[str]] = {}
    rest: dict[frozenset[str], set[str]] = {}
    sourced: set[str] = set()
    for srcs, row in by_row.values():
        sourced |= srcs
        by_conns: dict[ConnSet, set[str]] = {}
        for d, c in row.items():
            if len(srcs) == 1 and rows.decided_outside(d, d) and d in srcs:
                continue  # a bare pod's own row entry: self traffic follows the settings
            by_conns.setdefault(c, set()).add(d)
        reached = frozenset().union(*by_conns.values()) if by_conns else frozenset()
        for c, dsts in by_conns.items():
            exact.setdefault((frozenset(dsts), c), set()).update(srcs)
        rest.setdefault(reached, set()).update(srcs)
    silent = namer.all - sourced
    if silent:
        rest.setdefault(frozenset(), set()).update(silent)
    for (dsts, c), srcs in sorted(exact.items(), key=lambda kv: (sorted(kv[1]), sorted(kv[0][0]))):
        tests.append(_test(namer, namer.pods(frozenset(srcs)), namer.pods(dsts), "exactly", ports(c)))
    for reached, srcs in sorted(rest.items(), key=lambda kv: sorted(kv[1])):
        if reached == namer.all:
            continue
        others: Item = {"namespaceSelector": {}}
        if reached:
            others = {"namespaceSelector": {}, "except": namer.pods(reached)}
        tests.append(_test(namer, namer.pods(frozenset(srcs)), [others], "deny", {}))

    # Pods and outside addresses, per direction.
    views: dict[Direction, dict[tuple[Any, ...], set[str]]] = {Direction.EGRESS: {}, Direction.INGRESS: {}}
    seen: dict[tuple[str, Direction], list[tuple[str, ConnSet]]] = {}
    for group, direction, found in conn.group_external():
        for pod in group:
            seen[(pod.key, direction)] = found
    for pod in conn.pods:
        families = tuple(sorted(pod.families())) or conn.range_families
        for direction in (Direction.EGRESS, Direction.INGRESS):
            key = (families, tuple(seen.get((pod.key, direction), ())))
            views[direction].setdefault(key, set()).add(pod.key)
    for direction, groups in views.items():
        for (families, found), pods in sorted(groups.items(), key=lambda kv: sorted(kv[1])):
            here = namer.pods(frozenset(pods))
            by_conns: dict[ConnSet, IPSet] = {}
            for cidr, c in found:
                parsed = parse_cidr(cidr)
                assert parsed is not None
                by_conns[c] = by_conns.get(c, IPSet()) | IPSet.of_cidr(parsed)
            allowed = IPSet()
            for c, block in by_conns.items():
                allowed = allowed | block
                tests.append(_external(namer, here, addresses(block), direction, "exactly", ports(c)))
            universe = IPSet()
            for version in families:
                universe = universe | IPSet.all_of(version)
            if universe - allowed:
                tests.append(_external(namer, here, addresses(universe - allowed), direction, "deny", {}))
    _unique_names(tests)
    return {"tests": tests}


def _test(namer: _Namer, src: list[Item], dst: list[Item], expect: str, fields: dict[str, Any]) -> dict[str, Any]:
    suffix = " (everything else)" if expect == "deny" else ""
    return {"name": f"{namer.label(src)} -> {namer.label(dst)}{suffix}", "from": _one(src), "to": _one(dst),
            **fields, "expect": expect}


def _external(namer: _Namer, pods: list[Item], where: list[Item], direction: Direction, expect: str,
              fields: dict[str, Any]) -> dict[str, Any]:
    if direction is Direction.EGRESS:
        return _test(namer, pods, where, expect, fields)
    return _test(namer, where, pods, expect, fields)


def _unique_names(tests: list[dict[str, Any]]) -> None:
    seen: dict[str, int] = {}
    for t in tests:
        n = seen.get(t["name"], 0) + 1
        seen[t["name"]] = n
        if n > 1:
            t["name"] = f"{t['name']} #{n}"
