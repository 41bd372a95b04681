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

Input is hostile until proven otherwise: a tag whose value does not fit
(``!!int ""``, ``!!map x``) or that has no JSON equivalent (``!!binary``,
``!!set``, ``!foo``) is a syntax problem at its line, and aliases are counted
against the run's :class:`~podfence.loader.limits.Budget` before a document is
built (see :func:`alias_growth`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from podfence.loader import codes
from podfence.loader.limits import Budget

STR_TAG = "tag:yaml.org,2002:str"
MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
MERGE_TAG = "tag:yaml.org,2002:merge"
FLOAT_TAG = "tag:yaml.org,2002:float"
_AS_STRING_TAGS = frozenset({"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"})
# Tags PyYAML knows that have no JSON equivalent, so kubectl could not send them on.
_NOT_JSON_TAGS = ("binary", "set", "omap", "pairs")
TOO_DEEP = "nested too deeply (the limit is about 1,000 levels)"
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
    """Text that is not YAML (or JSON): where the parser gave up and why.

    ``code`` is ``L3`` (bad syntax) or ``L14`` (aliases expand too far).
    """

    line: int | None
    message: str
    code: str = codes.BAD_SYNTAX


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


def iter_documents(text: str, *, json_fallback: bool = False,
                   budget: Budget | None = None) -> Iterator[RawDocument | SyntaxProblem]:
    """The documents of ``text`` in order; a :class:`SyntaxProblem` ends the stream.

    Documents that are empty (or ``null``) are left out. With ``json_fallback``,
    text that the YAML parser rejects before its first document is read as a
    stream of JSON values instead (without lines inside the values), and if that
    fails too, the JSON error is reported. ``budget`` counts the nodes aliases
    add (a fresh one when not given).
    """
    budget = Budget() if budget is None else budget
    loader: _LineLoader | None = None
    # A stream of JSON values parses as one good YAML document followed by an
    # error, so with the fallback on nothing is passed on until the end.
    held: list[RawDocument] | None = [] if json_fallback else None
    line = 1
    # An alias is written with "*": text without one needs no counting.
    aliases_possible = "*" in text
    try:
        loader = _LineLoader(text)
        while loader.check_node():
            node = loader.get_node()
            line = node.start_mark.line + 1
            if aliases_possible and text.find("*", node.start_mark.index, node.end_mark.index) >= 0:
                problem = _check_aliases(node, budget)
                if problem is not None:
                    yield from held or ()
                    yield problem
                    return
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
        if _too_deep(exc):
            # JSON read instead would be just as deep, so it is not tried.
            yield from held or ()
            yield SyntaxProblem(_yaml_problem(exc, text).line,
                                f"invalid {'JSON' if json_fallback else 'YAML'}: {TOO_DEEP}")
        elif held is not None:
            held.clear()
            yield from _json_documents(text)
        else:
            yield _yaml_problem(exc, text)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, OverflowError, RecursionError) as exc:
        # Explicitly tagged values are checked by the constructors below; this
        # is the last guard, for whatever else PyYAML cannot build.
        yield SyntaxProblem(line, f"invalid YAML: cannot read this document ({type(exc).__name__}: {exc})")
    finally:
        if loader is not None:
            loader.dispose()


def alias_growth(root: Node) -> tuple[int, Node | None]:
    """How many nodes aliases add to the document ``root``, and a node that contains itself.

    The expanded size counts an aliased node once per use; what aliases add is
    that minus the nodes written out. A node that contains itself (``&a [*a]``)
    cannot be expanded and is returned instead (with 0). The walk visits every
    written node once, without recursion.

    >>> loader = _LineLoader("a: &a [x, y]\\nb: [*a, *a, *a]\\n")
    >>> loader.check_node()
    True
    >>> alias_growth(loader.get_node())[0]  # three more copies of a 3-node list
    9
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    written = 0
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            return 0, node
        written += 1
        if node.__class__ is ScalarNode:
            sizes[key] = 1
            continue
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return sizes[id(root)] - written, None


def _children(node: Node) -> Iterator[Node]:
    if isinstance(node, MappingNode):
        for key, value in node.value:
            yield key
            yield value
    elif isinstance(node, SequenceNode):
        yield from node.value


def _check_aliases(node: Node, budget: Budget) -> SyntaxProblem | None:
    added, recursive = alias_growth(node)
    if recursive is not None:
        return SyntaxProblem(recursive.start_mark.line + 1,
                             "invalid YAML: an alias refers to the node that contains it, so the value never ends",
                             codes.ALIASES)
    budget.alias_nodes += added
    if budget.alias_nodes > budget.max_alias_nodes:
        return SyntaxProblem(node.start_mark.line + 1,
                             f"YAML aliases expand this document by {added:,} nodes, past the limit of "
                             f"{budget.max_alias_nodes:,} nodes from aliases in all; write repeated parts out "
                             "instead of aliasing them", codes.ALIASES)
    return None


def _too_deep(exc: yaml.YAMLError) -> bool:
    """libyaml's nesting limit (1,000 levels)."""
    return "maximum nesting depth" in str(getattr(exc, "problem", "") or "")


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
    if node.__class__ is not MappingNode:
        _wrong_node(node, "a mapping")
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
    if node.__class__ is not SequenceNode:
        _wrong_node(node, "a list")
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
    if node.__class__ is not ScalarNode:
        _wrong_node(node, "a single value")
    return str(node.value)


def _wrong_node(node: Node, what: str) -> NoReturn:
    """A tag that does not fit its node (``!!map x``, ``!!seq {a: b}``) is a syntax problem."""
    raise ConstructorError(None, None, f"the tag {_short_tag(node.tag)} needs {what}, not {_node_kind(node)}",
                           node.start_mark)


def _node_kind(node: Node) -> str:
    return "a mapping" if isinstance(node, MappingNode) else "a list" if isinstance(node, SequenceNode) else "a value"


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def _checked_scalar(build: Any, what: str) -> Any:
    """PyYAML's constructor for ``!!int``, ``!!float`` or ``!!bool``, with values that do not fit reported."""

    def construct(loader: _LineLoader, node: Node) -> Any:
        if node.__class__ is not ScalarNode:
            _wrong_node(node, what)
        try:
            return build(loader, node)
        except (ValueError, IndexError, KeyError, OverflowError):
            value = str(node.value)
            shown = value if len(value) <= 40 else value[:40] + "..."
            raise ConstructorError(None, None, f"{_short_tag(node.tag)} {json.dumps(shown)} is not {what}",
                                   node.start_mark) from None

    return construct


def _unknown_tag(loader: _LineLoader, node: Node) -> Any:
    raise ConstructorError(None, None, f"unknown tag {_short_tag(str(node.tag))}: podfence reads only the "
                                       "standard YAML tags", node.start_mark)


def _not_json(loader: _LineLoader, node: Node) -> Any:
    raise ConstructorError(None, None, f"the tag {_short_tag(node.tag)} has no JSON equivalent, so podfence "
                                       "does not read it", node.start_mark)


_LineLoader.add_constructor(MAP_TAG, _construct_mapping)
_LineLoader.add_constructor(SEQ_TAG, _construct_sequence)
for _tag in _AS_STRING_TAGS:
    _LineLoader.add_constructor(_tag, _construct_as_string)
_LineLoader.add_constructor("tag:yaml.org,2002:int", _checked_scalar(SafeConstructor.construct_yaml_int,
                                                                     "an integer"))
_LineLoader.add_constructor(FLOAT_TAG, _checked_scalar(SafeConstructor.construct_yaml_float, "a number"))
_LineLoader.add_constructor("tag:yaml.org,2002:bool", _checked_scalar(SafeConstructor.construct_yaml_bool,
                                                                      "true or false"))
for _name in _NOT_JSON_TAGS:
    _LineLoader.add_constructor(f"tag:yaml.org,2002:{_name}", _not_json)
_LineLoader.add_constructor(None, _unknown_tag)


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
        except RecursionError:
            yield SyntaxProblem(line, f"invalid JSON: {TOO_DEEP}")
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
