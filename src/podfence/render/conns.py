"""How connections and address sets read, in text and in JSON (the words: :mod:`podfence.model.words`)."""

from __future__ import annotations

from typing import Any

from podfence.model.words import ALL_WORD, addresses_words, conns_text, ports_text, shortened
from podfence.sets import ConnSet, IPSet, parse_cidr


def conns_json(conns: ConnSet) -> Any:
    """``"All"`` or ``{"TCP": [[lo, hi], ...], ...}`` listing non-empty protocols only."""
    if conns.is_all():
        return ALL_WORD
    out: dict[str, Any] = {str(p): [[lo, hi] for lo, hi in ports] for p, ports in conns.by_protocol()}
    if conns.other:
        out["other"] = True
    return out


def addresses_text(cidrs: list[str]) -> str:
    """A list of CIDRs, shortened to ``0.0.0.0/0 except ...`` when that is shorter."""
    if len(cidrs) <= 2:
        return ", ".join(cidrs)
    return _shortest(IPSet.of_cidrs(c for c in map(parse_cidr, cidrs) if c is not None))


def block_text(block: IPSet) -> str:
    """An address set as :func:`addresses_text` writes the list of its CIDRs."""
    listed = block.cidrs()
    return ", ".join(listed) if len(listed) <= 2 else _shortest(block)


def _shortest(whole: IPSet) -> str:
    """Per family, its CIDRs or ``universe except`` the others, whichever lists fewer."""
    return addresses_words(whole)


__all__ = ["addresses_text", "conns_json", "conns_text", "ports_text", "shortened"]
