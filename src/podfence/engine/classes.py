"""Equivalence classes of pods.

Two pods behave identically towards every other endpoint when the same policies
select them, the same peers match them, their named ports resolve the same way
and they are the same kind of endpoint. The engine computes connectivity per class
pair and expands to pods only on output, so the cost grows with the number of
distinct behaviours, not with the number of pods squared.
"""

from __future__ import annotations

from typing import Hashable, Sequence

import numpy as np

from podfence.engine.ir import IRRule, NamedPort
from podfence.model import Pod, Settings

# Bits folded into the class key per numpy pass; the running class id takes the rest.
_CHUNK = 31


def refine(base: np.ndarray, columns: Sequence[np.ndarray]) -> np.ndarray:
    """Class ids (0..k-1) for rows equal on ``base`` and on every boolean column."""
    cid = np.unique(base, return_inverse=True)[1].astype(np.int64)
    for start in range(0, len(columns), _CHUNK):
        packed = np.zeros(len(cid), dtype=np.int64)
        for j, col in enumerate(columns[start:start + _CHUNK]):
            packed |= col.astype(np.int64) << j
        cid = np.unique((cid << _CHUNK) | packed, return_inverse=True)[1].astype(np.int64)
    return cid


def named_port_signature(pod: Pod, names: Sequence[NamedPort], settings: Settings) -> Hashable:
    """How ``pod`` resolves every named port the policies mention (None: never resolves)."""
    if not pod.is_pod_endpoint(settings):
        return None
    return tuple(tuple(sorted(pod.named_port_numbers(k.name, k.protocol, settings))) for k in names)


def referenced_named_ports(rules: Sequence[IRRule]) -> list[NamedPort]:
    """Every (name, protocol) used by a named port entry, in a stable order."""
    keys = {entry for rule in rules for entry in rule.ports.named}
    return sorted(keys, key=lambda k: (k.name, k.protocol.value))
