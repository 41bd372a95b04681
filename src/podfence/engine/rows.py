"""Pod-to-pod connectivity as rows, without expanding every pod pair.

Sources whose rows are identical share one row (built from the engine's grouped
connections); the few pair-level facts that classes do not capture (a bare pod
reaching itself, a pod and its own node) are kept apart and applied per pair.
"""

from __future__ import annotations

from podfence.engine.connectivity import Connectivity
from podfence.sets import ConnSet


class PodRows:
    """Per source pod, everything it may open towards each pod."""

    def __init__(self, conn: Connectivity) -> None:
        self.conn = conn
        self.pods = {p.key for p in conn.pods}
        self.row_of: dict[str, str] = {}  # source pod -> id of its row (the row's first source)
        self.rows: dict[str, dict[str, ConnSet]] = {}
        for g in conn.group_connections():
            row_id = g.src[0].key
            row = self.rows.get(row_id)
            if row is None:
                row = self.rows[row_id] = {}
                for p in g.src:
                    self.row_of[p.key] = row_id
            for d in g.dst:
                row[d.key] = g.conns
        self.pairs: dict[str, dict[str, ConnSet]] = {}
        for e in conn.pair_exceptions():
            self.pairs.setdefault(e.src, {})[e.dst] = e.conns

    def row(self, src: str) -> dict[str, ConnSet]:
        row_id = self.row_of.get(src)
        return self.rows[row_id] if row_id is not None else {}

    def cell(self, src: str, dst: str) -> ConnSet:
        """The exact pod-level answer for one pair (pair-level facts applied)."""
        if src not in self.pods or dst not in self.pods:
            return ConnSet.none()
        if src == dst:
            return self.conn.between(src, dst)
        forced = self.pairs.get(src, {}).get(dst)
        return forced if forced is not None else self.row(src).get(dst, ConnSet.none())

    def decided_outside(self, src: str, dst: str) -> bool:
        """True for pairs the settings decide, not the policies: self traffic, a pod and its own node."""
        return src in self.pods and dst in self.pods and self.conn.decided_outside(src, dst)
