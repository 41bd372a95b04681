"""Every field of a valid document replaced, one at a time, by a value of the wrong shape.

Used to fuzz podfence's own file readers (assertion files, intent files): each
mutant must come back as diagnostics or a value, never as an exception.
"""

from __future__ import annotations

import copy
from typing import Any, Iterator

FieldPath = tuple[str | int, ...]

# A list, maps, numbers, null, empty and blank strings, and digits int() refuses or cannot hold.
WRONG_SHAPES: tuple[Any, ...] = (
    [], ["x"], [[1]], {}, {"a": 1}, {1: 2}, 0, -1, 1.5, 70000, True, None, "", " ", "x",
    "\u00b2", "1-\u00b2", "\u0663", "9" * 5000, "1-" + "9" * 5000,
)


def field_paths(node: Any, path: FieldPath = ()) -> Iterator[FieldPath]:
    """Every node of ``node``, the root included, as a path of keys and indexes."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from field_paths(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from field_paths(value, path + (index,))


def replaced(node: Any, path: FieldPath, value: Any) -> Any:
    """A deep copy of ``node`` with the field at ``path`` set to ``value``."""
    if not path:
        return value
    out = copy.deepcopy(node)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return out


def mutants(document: Any) -> Iterator[tuple[FieldPath, Any, Any]]:
    """(path, wrong value, the document with it) for every field and every wrong shape."""
    for path in field_paths(document):
        for value in WRONG_SHAPES:
            yield path, value, replaced(document, path, value)
