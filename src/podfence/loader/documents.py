"""YAML and JSON text to documents that remember the line of every node.

Parsing uses PyYAML's C parser (``yaml.CSafeLoader``) with our own constructors
for mappings and sequences. They build :class:`LineDict` and :class:`LineList`,
plain ``dict`` and ``list`` subclasses that also carry 1-based lines: the line of
the mapping or sequence itself, of each key, and of each sequence item. Scalars
have no line of their own; the key or item that holds them does.

Plain string scalars, by far the most common node, are taken straight from the
node instead of going through PyYAML's generic dispatch, and scalar tags are
resolved once per distinct value. Together that more than pays for the line
bookkeeping: loading is faster than with the stock ``CSafeLoader``.

YAML is read the way kubectl reads it (YAML 1.1 through a JSON conversion), so
a few PyYAML habits are changed: timestamps (``2024-01-01``), base-60 numbers
(``1:30``) and ``=`` stay strings, ``1e3`` is a number as in JSON, and integer or
boolean mapping keys become their string spelling (``80:`` is the key ``"80"``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

STR_TAG = "tag:yaml.org,2002:str"
MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
MERGE_TAG = "tag:yaml.org,2002:merge"
FLOAT_TAG = "tag:yaml.org,2002:float"
_AS_STRING_TAGS = frozenset({"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"})
_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", FLOAT_TAG})
_WHITESPACE = re.compile(r"\s*")
# Numbers such as 1e3, which YAML 1.1 reads as text but JSON and kubectl as numbers.
_EXPONENT_FLOAT = re.compile(r"[-+]?[0-9]+[eE][-+]?[0-9]+\Z")


class LineDict(dict):  # type: ignore[type-arg]
    """A mapping read from a manifest: ``line`` of the mapping, ``key_lines[key]`` per key."""

    __slots__ = ("line", "key_lines")

    line: int
    key_lines: dict[Any, int]


class LineList(list):  # type: ignore[type-arg]
    """A sequence read from a manifest: ``line`` of the sequence, ``item_lines[i]`` per item."""

    __slots__ = ("line", "item_lines")

    line: int
    item_lines: list[int]


@dataclass(frozen=True, slots=True, eq=False)
class Duplicate:
    """A key written twice in one mapping (``line``), first written at ``first_line``."""

    mapping: dict[Any, Any]
    key: Any
    line: int
    first_line: int


@dataclass(frozen=True, slots=True, eq=False)
class RawDocument:
    """One YAML document (or top-level JSON value) and the duplicate keys found in it."""

    line: int
    data: Any
    duplicates: tuple[Duplicate, ...] = ()


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    """Text that is not YAML (or JSON): where the parser gave up and why."""

    line: int | None
    message: str


def locate(document: Any, field_path: Sequence[str | int]) -> int:
    """The line of the deepest node on ``field_path`` that exists in ``document``.

    A dict key gives the line of the key, a list index the line of the item; when
    the path leaves the document the last line found is returned, starting with the
    line of the document itself (1 if it has none).

    >>> doc = next(iter_documents("kind: X\\nspec:\\n  ports:\\n  - 80\\n  - 81\\n")).data
    >>> locate(doc, ("spec", "ports", 1)), locate(doc, ("spec", "missing", 0)), locate(doc, ())
    (5, 2, 1)
    """
    node = document
    line = getattr(document, "line", 1)
    for segment in field_path:
        if isinstance(node, dict) and not isinstance(segment, int) and segment in node:
            lines = getattr(node, "key_lines", None)
            if lines is not None:
                line = lines.get(segment, line)
            node = node[segment]
        elif isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node):
            lines = getattr(node, "item_lines", None)
            if lines is not None:
                line = lines[segment]
            node = node[segment]
        else:
            break
    return line


def node_paths(document: Any, targets: Sequence[Any]) -> dict[int, tuple[str | int, ...]]:
    """Where each of ``targets`` (mappings or lists, by identity) first appears in ``document``.

    The result maps ``id(target)`` to its field path, in document order; a
    target reached only through a YAML alias gets the path of its first use.
    Targets not in ``document`` are left out.

    >>> doc = next(iter_documents("spec:\\n  ingress:\\n  - from: [{}, {podSelector: {}}]\\n")).data
    >>> peer = doc["spec"]["ingress"][0]["from"][1]
    >>> node_paths(doc, [peer])[id(peer)]
    ('spec', 'ingress', 0, 'from', 1)
    """
    wanted = {id(t) for t in targets}
    found: dict[int, tuple[str | int, ...]] = {}
    seen: set[int] = set()  # aliases can make a value contain itself
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(document, ())]
    while stack and len(found) < len(wanted):
        node, path = stack.pop()
        if not isinstance(node, (dict, list)) or id(node) in seen:
            continue
        seen.add(id(node))
        if id(node) in wanted:
            found[id(node)] = path
        children = node.items() if isinstance(node, dict) else enumerate(node)
        stack.extend(reversed([(child, path + (key,)) for key, child in children]))
    return found


def iter_documents(text: str, *, json_fallback: bool = False) -> Iterator[RawDocument | SyntaxProblem]:
    """The documents of ``text`` in order; a :class:`SyntaxProblem` ends the stream.

    Documents that are empty (or ``null``) are left out. With ``json_fallback``,
    text that the YAML parser rejects before its first document is read as a
    stream of JSON values instead (without lines inside the values), and if that
    fails too, the JSON error is reported.
    """
    loader: _LineLoader | None = None
    # A stream of JSON values parses as one good YAML document followed by an
    # error, so with the fallback on nothing is passed on until the end.
    held: list[RawDocument] | None = [] if json_fallback else None
    line = 1
    try:
        loader = _LineLoader(text)
        while loader.check_node():
            node = loader.get_node()
            line = node.start_mark.line + 1
            data = loader.construct_document(node)
            duplicates = tuple(loader.duplicates)
            loader.duplicates.clear()
            if data is None:
                continue
            if held is None:
                yield RawDocument(line, data, duplicates)
            else:
                held.append(RawDocument(line, data, duplicates))
        yield from held or ()
    except yaml.YAMLError as exc:
        if held is not None:
            held.clear()
            yield from _json_documents(text)
        else:
            yield _yaml_problem(exc, text)
    except (ValueError, KeyError, TypeError, OverflowError, RecursionError) as exc:
        # Explicitly tagged values that PyYAML cannot build (``!!int abc``), text
        # that cannot be encoded, or absurd nesting.
        yield SyntaxProblem(line, f"invalid YAML: cannot read this document ({exc})")
    finally:
        if loader is not None:
            loader.dispose()


# PyYAML built without libyaml has no C loader; the pure-Python one gives the same
# documents and lines, several times slower.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """``CSafeLoader`` whose mappings and sequences remember their lines."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.scalar_tags: dict[str, str] = {}
        self.duplicates: list[Duplicate] = []

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        """Tag of an untagged node; plain scalars are resolved once per distinct value."""
        if kind is ScalarNode:
            if not implicit[0]:
                return STR_TAG
            tag = self.scalar_tags.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if tag in _AS_STRING_TAGS or (tag in _NUMBER_TAGS and ":" in value):
                    tag = STR_TAG
                elif tag == STR_TAG and _EXPONENT_FLOAT.match(value):
                    tag = FLOAT_TAG
                self.scalar_tags[value] = tag
            return tag
        return SEQ_TAG if kind is SequenceNode else MAP_TAG

    # No path resolvers are registered, so the parser's per-node bookkeeping calls
    # can do nothing.
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


def _construct_mapping(loader: _LineLoader, node: MappingNode) -> Iterator[LineDict]:
    data = LineDict()
    data.line = node.start_mark.line + 1
    key_lines: dict[Any, int] = {}
    data.key_lines = key_lines
    yield data
    construct = loader.construct_object
    for key_node, value_node in node.value:
        if key_node.tag == STR_TAG and key_node.__class__ is ScalarNode:
            key = key_node.value
        elif key_node.tag == MERGE_TAG:
            data.clear()
            key_lines.clear()
            _construct_merged(loader, node, data)
            return
        else:
            key = _key(construct(key_node), node, key_node)
        line = key_node.start_mark.line + 1
        if key in key_lines:
            loader.duplicates.append(Duplicate(data, key, line, key_lines[key]))
        else:
            key_lines[key] = line
        data[key] = (
            value_node.value if value_node.tag == STR_TAG and value_node.__class__ is ScalarNode
            else construct(value_node)
        )


def _construct_merged(loader: _LineLoader, node: MappingNode, data: LineDict) -> None:
    """The slow path for mappings with ``<<`` merge keys: own keys override merged ones."""
    own = [pair for pair in node.value if pair[0].tag != MERGE_TAG]
    loader.flatten_mapping(node)
    merged = node.value[: len(node.value) - len(own)]
    for pairs, check in ((merged, False), (own, True)):
        seen: set[Any] = set()
        for key_node, value_node in pairs:
            key = _key(loader.construct_object(key_node), node, key_node)
            line = key_node.start_mark.line + 1
            if check and key in seen:
                loader.duplicates.append(Duplicate(data, key, line, data.key_lines[key]))
            else:
                data.key_lines[key] = line
            seen.add(key)
            data[key] = loader.construct_object(value_node)


def _key(key: Any, node: MappingNode, key_node: Any) -> Any:
    """A constructed mapping key as kubectl would see it (JSON object keys are strings)."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    try:
        hash(key)
    except TypeError:
        raise ConstructorError("while constructing a mapping", node.start_mark,
                               "found a key that is a mapping or a list", key_node.start_mark) from None
    return key


def _construct_sequence(loader: _LineLoader, node: SequenceNode) -> Iterator[LineList]:
    data = LineList()
    data.line = node.start_mark.line + 1
    item_lines: list[int] = []
    data.item_lines = item_lines
    yield data
    construct = loader.construct_object
    for child in node.value:
        item_lines.append(child.start_mark.line + 1)
        data.append(child.value if child.tag == STR_TAG and child.__class__ is ScalarNode else construct(child))


def _construct_as_string(loader: _LineLoader, node: ScalarNode) -> str:
    return str(node.value)


_LineLoader.add_constructor(MAP_TAG, _construct_mapping)
_LineLoader.add_constructor(SEQ_TAG, _construct_sequence)
for _tag in _AS_STRING_TAGS:
    _LineLoader.add_constructor(_tag, _construct_as_string)


def _yaml_problem(exc: yaml.YAMLError, text: str) -> SyntaxProblem:
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    position = getattr(exc, "position", None)
    if line is None and isinstance(position, int):
        line = text.count("\n", 0, position) + 1
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark is not mark:
        problem = f"{problem} ({context} at line {context_mark.line + 1})"
    elif context:
        problem = f"{problem} ({context})"
    return SyntaxProblem(line, f"invalid YAML: {problem}")


def _json_documents(text: str) -> Iterator[RawDocument | SyntaxProblem]:
    """A stream of JSON values; each top-level object knows its own line."""
    found: list[tuple[dict[str, Any], str]] = []

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    found.append((result, key))
                seen.add(key)
        return result

    decoder = json.JSONDecoder(object_pairs_hook=pairs_hook)
    position, line = 0, 1
    while True:
        start = _WHITESPACE.match(text, position).end()  # type: ignore[union-attr]
        if start == len(text):
            return
        line += text.count("\n", position, start)
        try:
            value, position = decoder.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            yield SyntaxProblem(exc.lineno, f"invalid JSON: {exc.msg}")
            return
        value_line = line
        line += text.count("\n", start, position)
        if isinstance(value, dict):
            top = _top_level(value, value_line)
            found[:] = [(top if mapping is value else mapping, key) for mapping, key in found]
            value = top
        duplicates = tuple(Duplicate(mapping, key, value_line, value_line) for mapping, key in found)
        found.clear()
        if value is not None:
            yield RawDocument(value_line, value, duplicates)


def _top_level(value: dict[str, Any], line: int) -> LineDict:
    out = LineDict(value)
    out.line = line
    out.key_lines = {}
    return out
