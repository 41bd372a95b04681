"""ConnSets as fixed-width bit vectors, for vectorised whole-cluster evaluation.

Every port boundary that any rule of the cluster mentions cuts the port space of
its protocol into elementary intervals ("atoms"); one more atom stands for the
protocols without ports. Every ConnSet the cluster can produce is a union of atoms,
so it is exactly a bit vector over them. Bit vectors are stored as ``W`` unsigned
64-bit words so that numpy can AND and OR them for thousands of pod classes at once.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Iterable

import numpy as np

from podfence.sets import MAX_PORT, MIN_PORT, PROTOCOLS, ConnSet, IntervalSet, Protocol


class AtomSpace:
    """The atoms induced by a collection of ConnSets, with encode and decode."""

    def __init__(self, conn_sets: Iterable[ConnSet]) -> None:
        cuts: dict[Protocol, set[int]] = {p: {MIN_PORT} for p in PROTOCOLS}
        for cs in conn_sets:
            for proto, ports in cs.by_protocol():
                cuts[proto].update(b for b in ports.boundaries() if b <= MAX_PORT)
        self._starts: dict[Protocol, list[int]] = {}
        self._offset: dict[Protocol, int] = {}
        self._atoms: list[tuple[Protocol, int, int] | None] = [None]  # atom 0: non-L4 protocols
        for proto in PROTOCOLS:
            starts = sorted(cuts[proto])
            self._starts[proto] = starts
            self._offset[proto] = len(self._atoms)
            for i, lo in enumerate(starts):
                hi = starts[i + 1] - 1 if i + 1 < len(starts) else MAX_PORT
                self._atoms.append((proto, lo, hi))
        self.size = len(self._atoms)
        self.words = (self.size + 63) // 64
        self._encoded: dict[ConnSet, np.ndarray] = {}
        self._decoded: dict[bytes, ConnSet] = {}

    def covers(self, conn_sets: Iterable[ConnSet]) -> bool:
        """True when every set is a union of these atoms (so encoding it loses nothing)."""
        for cs in conn_sets:
            for proto, ports in cs.by_protocol():
                starts = self._starts[proto]
                for b in ports.boundaries():
                    if b <= MAX_PORT and starts[bisect_right(starts, b) - 1] != b:
                        return False
        return True

    def atom_of(self, protocol: Protocol, port: int) -> int:
        """Index of the atom holding ``port`` of ``protocol``."""
        return self._offset[protocol] + bisect_right(self._starts[protocol], port) - 1

    def encode(self, cs: ConnSet) -> np.ndarray:
        """The ``W``-word bit vector of a ConnSet (cached; do not modify the result)."""
        hit = self._encoded.get(cs)
        if hit is not None:
            return hit
        bits = 1 if cs.other else 0
        for proto, ports in cs.by_protocol():
            starts = self._starts[proto]
            base = self._offset[proto]
            for lo, hi in ports:
                first = base + bisect_right(starts, lo) - 1
                last = base + bisect_right(starts, hi) - 1
                bits |= ((1 << (last - first + 1)) - 1) << first
        out = np.array([(bits >> (64 * w)) & 0xFFFFFFFFFFFFFFFF for w in range(self.words)], dtype=np.uint64)
        out.flags.writeable = False
        self._encoded[cs] = out
        return out

    def decode(self, vector: np.ndarray) -> ConnSet:
        """The ConnSet of a bit vector (cached by value)."""
        key = vector.tobytes()
        hit = self._decoded.get(key)
        if hit is not None:
            return hit
        bits = 0
        for w, word in enumerate(vector.tolist()):
            bits |= int(word) << (64 * w)
        ports: dict[Protocol, list[tuple[int, int]]] = {p: [] for p in PROTOCOLS}
        atom = 1
        while bits >> atom:
            if (bits >> atom) & 1:
                proto, lo, hi = self._atoms[atom]  # type: ignore[misc]
                ports[proto].append((lo, hi))
            atom += 1
        cs = ConnSet(
            IntervalSet.of(ports[Protocol.TCP]), IntervalSet.of(ports[Protocol.UDP]),
            IntervalSet.of(ports[Protocol.SCTP]), bool(bits & 1),
        )
        self._decoded[key] = cs
        return cs

    def bit(self, protocol: Protocol, port: int) -> tuple[int, np.uint64]:
        """(word index, mask) of the atom holding one port, for membership tests."""
        atom = self.atom_of(protocol, port)
        return atom // 64, np.uint64(1 << (atom % 64))
