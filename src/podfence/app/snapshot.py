"""The snapshot use case: everything podfence reads from a live cluster, as plain manifests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from podfence.app.loading import read_live
from podfence.app.options import Listener, Live
from podfence.sources.cluster import plain_manifest


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The context read, and its objects as plain manifests (kind and apiVersion on each, bookkeeping dropped)."""

    context: str
    manifests: tuple[dict[str, Any], ...]


def snapshot(live: Live, listener: Listener | None = None) -> Snapshot:
    """Read the live cluster of ``live`` (the current context when none is named); no input limits."""
    read = read_live(live, listener or Listener())
    return Snapshot(read.context, tuple(plain_manifest(doc) for doc in read.documents))


__all__ = ["Snapshot", "snapshot"]
