"""Kubernetes objects as a multi-document YAML stream (``podfence snapshot``).

Each object is one document, its keys in the order written (apiVersion, kind,
metadata first), read back by ``-f`` exactly as the objects were.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import yaml

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_FIRST = ("apiVersion", "kind", "metadata")


def manifest_chunks(documents: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """One ``---``-separated YAML document per object."""
    for doc in documents:
        ordered = {key: doc[key] for key in _FIRST if key in doc}
        ordered.update((key, value) for key, value in doc.items() if key not in ordered)
        yield "---\n" + yaml.dump(ordered, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10**6)
