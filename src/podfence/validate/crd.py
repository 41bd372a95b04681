"""Field errors worded as the API server words them for custom resources.

Custom resources (ClusterNetworkPolicy, AdminNetworkPolicy, ...) are checked by
their CRD's OpenAPI schema and CEL rules, not by hand-written Go. The schema's
failures read differently from a built-in kind's: a list that is too short is
``Invalid value: 0: spec.ingress[0].from in body should have at least 1 items``
(the path is repeated inside the message), a list or object that is too long is
``Too many: 26: must have at most 25 items`` (``items`` also for properties), and
a CEL rule is ``Invalid value: "object": <the rule's message>``. The helpers here
build those messages; wrong JSON types stay ``S1`` (see
:mod:`podfence.validate.schema`), as for every other kind.

Unlike a built-in kind, a CRD does not read ``null`` as an empty object: the API
server drops ``null`` fields before validating, so ``subject: {namespaces: }``
is an empty subject; a ``null`` list entry is a wrong type.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from podfence.model.diagnostic import Diagnostic, FieldPath, format_path
from podfence.validate.messages import diag, duplicate, go_quote, invalid, required, too_many, unsupported
from podfence.validate.schema import Kind, wrong_type


def in_body(code: str, path: FieldPath, value: object, detail: str) -> Diagnostic:
    """``Invalid value: <value>: <path> in body <detail>``: how a schema keyword fails."""
    return invalid(code, path, value, f"{format_path(path)} in body {detail}")


def cel(code: str, path: FieldPath, value_type: str, message: str) -> Diagnostic:
    """``Invalid value: "object": <message>``: a failed CEL rule of the CRD."""
    return diag(code, path, f"Invalid value: {go_quote(value_type)}: {message}")


def count_limits(code: str, path: FieldPath, count: int, low: int | None, high: int | None,
                 noun: str = "items") -> Iterator[Diagnostic]:
    """``minItems``/``maxItems`` (or ``minProperties``/``maxProperties`` with ``noun="properties"``)."""
    if low is not None and count < low:
        yield in_body(code, path, count, f"should have at least {low} {noun}")
    if high is not None and count > high:
        yield too_many(code, path, count, high)


def int_limits(code: str, path: FieldPath, value: int, low: int, high: int) -> Iterator[Diagnostic]:
    """``minimum``/``maximum``."""
    if value < low:
        yield in_body(code, path, value, f"should be greater than or equal to {low}")
    if value > high:
        yield in_body(code, path, value, f"should be less than or equal to {high}")


def enum(code: str, path: FieldPath, value: object, allowed: tuple[str, ...]) -> Iterator[Diagnostic]:
    """A required string enum: ``Required value``, ``S1`` or ``Unsupported value``."""
    if value is None:
        yield required(code, path)
    elif not isinstance(value, str):
        yield wrong_type(path, value, Kind.STRING)
    elif value not in allowed:
        yield unsupported(code, path, value, allowed)


def integer(code: str, path: FieldPath, value: object, low: int, high: int,
            needed: bool = True) -> Iterator[Diagnostic]:
    """A (required) integer within ``low..high``."""
    if value is None:
        if needed:
            yield required(code, path)
    elif not isinstance(value, int) or isinstance(value, bool):
        yield wrong_type(path, value, Kind.INTEGER)
    else:
        yield from int_limits(code, path, value, low, high)


def mapping(path: FieldPath, value: object) -> Mapping[object, object] | Diagnostic:
    """``value`` if it is an object, else ``S1``."""
    if isinstance(value, Mapping):
        return value
    return wrong_type(path, value, Kind.MAPPING)


def objects(code: str, path: FieldPath, value: object, low: int | None,
            high: int) -> Iterator[tuple[int, Mapping[object, object]] | Diagnostic]:
    """The entries of a list of objects, after its type and its ``minItems``/``maxItems``.

    An absent list yields nothing (the caller reports it when it is required);
    a ``null`` entry is a wrong type, as the API server sees it.
    """
    if value is None:
        return
    if not isinstance(value, (list, tuple)):
        yield wrong_type(path, value, Kind.LIST)
        return
    yield from count_limits(code, path, len(value), low, high)
    for i, item in enumerate(value):
        if isinstance(item, Mapping):
            yield i, item
        else:
            yield wrong_type(path + (i,), item, Kind.MAPPING)


def string_set(code: str, path: FieldPath, value: object, low: int,
               high: int) -> Iterator[tuple[int, str] | Diagnostic]:
    """The entries of an ``x-kubernetes-list-type: set`` of strings: type, size, then each new value.

    A value written twice is ``Duplicate value`` at its second place, and is not
    yielded again.
    """
    if not isinstance(value, (list, tuple)):
        yield wrong_type(path, value, Kind.LIST)
        return
    yield from count_limits(code, path, len(value), low, high)
    seen: set[str] = set()
    for i, item in enumerate(value):
        if not isinstance(item, str):
            yield wrong_type(path + (i,), item, Kind.STRING)
        elif item in seen:
            yield duplicate(code, path + (i,), item)
        else:
            seen.add(item)
            yield i, item


def present(obj: Mapping[object, object], fields: tuple[str, ...]) -> list[str]:
    """The fields of ``obj`` among ``fields`` that are set (``null`` counts as absent), in ``fields`` order."""
    return [f for f in fields if obj.get(f) is not None]
