"""Label selectors (``metav1.LabelSelector``): rules V5 to V11.

Paths follow the API server: errors in ``matchLabels`` are reported at the
``matchLabels`` field itself (the message quotes the bad key or value), errors in
an expression at its ``operator``, ``values``, ``key`` or ``values[m]``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from podfence.model.diagnostic import Diagnostic, FieldPath
from podfence.validate.messages import forbidden, invalid, required
from podfence.validate.names import label_value_errors, qualified_name_errors
from podfence.validate.schema import (
    REQUIREMENT_FIELDS, SELECTOR_FIELDS, Kind, check_kind, object_list, string_list, string_map, unknown_fields,
    wrong_type,
)

SET_OPERATORS = ("In", "NotIn")
EXISTENCE_OPERATORS = ("Exists", "DoesNotExist")


def validate_labels(raw: object, path: FieldPath, key_code: str, value_code: str) -> Iterator[Diagnostic]:
    """A label map: each key a qualified name, each value a label value, all at ``path``."""
    pairs, type_errors = string_map(raw, path)
    yield from type_errors
    for key, value in pairs:
        for msg in qualified_name_errors(key):
            yield invalid(key_code, path, key, msg)
        for msg in label_value_errors(value):
            yield invalid(value_code, path, value, msg)


def validate_selector(raw: object, path: FieldPath) -> Iterator[Diagnostic]:
    """All problems of one label selector at ``path``; ``None`` is an absent selector."""
    if raw is None:
        return
    if not isinstance(raw, Mapping):
        yield wrong_type(path, raw, Kind.MAPPING)
        return
    yield from unknown_fields(raw, SELECTOR_FIELDS, path)
    yield from validate_labels(raw.get("matchLabels"), path + ("matchLabels",), "V5", "V6")
    for entry in object_list(raw.get("matchExpressions"), path + ("matchExpressions",)):
        if isinstance(entry, Diagnostic):
            yield entry
        else:
            yield from _requirement(entry[1], path + ("matchExpressions", entry[0]))


def _requirement(raw: Mapping[object, object], path: FieldPath) -> Iterator[Diagnostic]:
    """One ``matchExpressions`` entry."""
    yield from unknown_fields(raw, REQUIREMENT_FIELDS, path)
    key, operator = raw.get("key"), raw.get("operator")
    key_error = check_kind(key, Kind.STRING, path + ("key",))
    operator_error = check_kind(operator, Kind.STRING, path + ("operator",))
    values, value_errors, values_ok = string_list(raw.get("values"), path + ("values",))
    yield from (e for e in (key_error, operator_error) if e is not None)
    yield from value_errors
    count = len(raw.get("values") or ()) if values_ok else None
    if operator_error is None:
        yield from _operator(operator or "", count, path)
    if key_error is None:
        for msg in qualified_name_errors(key or ""):
            yield invalid("V10", path + ("key",), key or "", msg)
    for m, value in values:
        for msg in label_value_errors(value):
            yield invalid("V11", path + ("values", m), value, msg)


def _operator(operator: str, count: int | None, path: FieldPath) -> Iterator[Diagnostic]:
    """V7 to V9; ``count`` is the number of values, None when ``values`` is not a list."""
    if operator in SET_OPERATORS:
        if count == 0:
            yield required("V8", path + ("values",), "must be specified when `operator` is 'In' or 'NotIn'")
    elif operator in EXISTENCE_OPERATORS:
        if count:
            yield forbidden("V9", path + ("values",), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
    else:
        yield invalid("V7", path + ("operator",), operator, "not a valid selector operator")
