"""Shape checks: the manifest has the fields and types a NetworkPolicy can have.

kubectl and the API server decode manifests strictly: a string where a number
belongs, or a field the type does not have, fails the request before any rule is
checked. podfence reports the same problems as diagnostics so that later stages can
trust the shape of what they read. A misspelt field deserves an error, not a
shrug: ``ingres:`` instead of ``ingress:`` silently turns an allow rule into a
deny-all.

Codes:

* ``S1`` wrong type: a mapping, list, string, integer or boolean was expected and
  something else is there (YAML reads unquoted ``1.0`` as a number and ``yes`` as a
  boolean, so ``version: 1.0`` in ``matchLabels`` is an error). ``null`` counts as
  absent for fields and for entries of lists of objects (``from: [null]`` is an
  empty peer), as Kubernetes reads JSON; a ``null`` label value or list-of-strings
  entry is an error, because writing ``""`` is what it would mean.
* ``S2`` unknown field, with a suggestion when a known field is close.
* ``S3`` an integer outside the range of its type (int32 ports, int64 counters).

Each problem is reported once, where it is; the walk then skips that value and
goes on with its siblings.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from datetime import date
from enum import Enum

from podfence.model.diagnostic import Diagnostic, FieldPath
from podfence.validate.messages import diag, render_value

WRONG_TYPE = "S1"
UNKNOWN_FIELD = "S2"
OUT_OF_RANGE = "S3"

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

TOP_LEVEL_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")
METADATA_FIELDS = (
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations",
    "ownerReferences", "finalizers", "managedFields",
)
OWNER_REFERENCE_FIELDS = ("apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion")
MANAGED_FIELDS_ENTRY_FIELDS = ("manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1", "subresource")
SPEC_FIELDS = ("podSelector", "ingress", "egress", "policyTypes")
INGRESS_RULE_FIELDS = ("ports", "from")
EGRESS_RULE_FIELDS = ("ports", "to")
PORT_FIELDS = ("protocol", "port", "endPort")
PEER_FIELDS = ("podSelector", "namespaceSelector", "ipBlock")
IP_BLOCK_FIELDS = ("cidr", "except")
SELECTOR_FIELDS = ("matchLabels", "matchExpressions")
REQUIREMENT_FIELDS = ("key", "operator", "values")


class Kind(Enum):
    """What a field holds; the value is how messages name it."""

    MAPPING = "a mapping"
    LIST = "a list"
    STRING = "a string"
    INTEGER = "an integer"
    BOOLEAN = "a boolean"
    INT_OR_STRING = "an integer or a string"
    TIMESTAMP = "a timestamp"


def describe(value: object) -> str:
    """How a message names the type of a value found in a manifest."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, date):
        return "a timestamp"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def is_kind(value: object, kind: Kind) -> bool:
    match kind:
        case Kind.MAPPING:
            return isinstance(value, Mapping)
        case Kind.LIST:
            return isinstance(value, (list, tuple))
        case Kind.STRING:
            return isinstance(value, str)
        case Kind.INTEGER:
            return isinstance(value, int) and not isinstance(value, bool)
        case Kind.BOOLEAN:
            return isinstance(value, bool)
        case Kind.INT_OR_STRING:
            return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
        case Kind.TIMESTAMP:
            return isinstance(value, (str, date))


def _hint(value: object, kind: Kind) -> str:
    if kind not in (Kind.STRING, Kind.INT_OR_STRING):
        return ""
    if value is None:
        return '; Kubernetes would read null here as "", so write "" if an empty value is meant'
    if isinstance(value, bool):
        return "; YAML reads unquoted yes/no/on/off/true/false as booleans, so quote the value"
    if isinstance(value, (int, float)):
        return "; quote the value to keep it text"
    return ""


def wrong_type(path: FieldPath, value: object, kind: Kind) -> Diagnostic:
    """``S1``: ``value`` at ``path`` should be ``kind``."""
    shown = ""
    if value is not None and not isinstance(value, (Mapping, list, tuple)):
        shown = f" ({render_value(value)})"
    return diag(WRONG_TYPE, path, f"Invalid type: must be {kind.value}, not {describe(value)}{shown}{_hint(value, kind)}")


def check_kind(value: object, kind: Kind, path: FieldPath) -> Diagnostic | None:
    """``S1`` if a present (non-null) ``value`` is not ``kind``; None when it is fine."""
    if value is None or is_kind(value, kind):
        return None
    return wrong_type(path, value, kind)


def check_int_range(value: int, bits: int, path: FieldPath) -> Diagnostic | None:
    """``S3`` if ``value`` does not fit a signed integer of ``bits`` bits."""
    low, high = (INT32_MIN, INT32_MAX) if bits == 32 else (INT64_MIN, INT64_MAX)
    if low <= value <= high:
        return None
    return diag(OUT_OF_RANGE, path, f"Invalid value: {value}: must fit in a {bits}-bit signed integer")


# Fields that belong elsewhere, with what to write instead.
_MISPLACED = {
    INGRESS_RULE_FIELDS: {"to": 'ingress rules list their peers under "from"'},
    EGRESS_RULE_FIELDS: {"from": 'egress rules list their peers under "to"'},
}


def unknown_fields(obj: Mapping[object, object], known: tuple[str, ...], path: FieldPath,
                   hints: Mapping[str, str] | None = None) -> Iterator[Diagnostic]:
    """``S2`` for every key of ``obj`` that is not in ``known``, in document order.

    ``hints`` says what to write instead of a field that belongs elsewhere (by
    default, NetworkPolicy peers written under the wrong direction).
    """
    lowered = {k.lower(): k for k in known}
    misplaced = _MISPLACED.get(known, {}) if hints is None else hints
    for key in obj:
        if isinstance(key, str) and key in known:
            continue
        if not isinstance(key, str):
            yield diag(UNKNOWN_FIELD, path, f"unknown field {render_value(key)}: field names are strings")
            continue
        close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.75)
        if key in misplaced:
            hint = f" ({misplaced[key]})"
        elif close:
            hint = f" (did you mean {render_value(lowered[close[0]])}?)"
        else:
            hint = ""
        yield diag(UNKNOWN_FIELD, path + (key,), f"unknown field {render_value(key)}{hint}")


def string_map(value: object, path: FieldPath) -> tuple[list[tuple[str, str]], list[Diagnostic]]:
    """The string-to-string pairs of a labels-like mapping, and ``S1`` for the rest.

    A key or value of another type (a number, a boolean, ``null``) is reported at
    ``path + (key,)`` and left out of the pairs.
    """
    if value is None:
        return [], []
    if not isinstance(value, Mapping):
        return [], [wrong_type(path, value, Kind.MAPPING)]
    pairs: list[tuple[str, str]] = []
    diags: list[Diagnostic] = []
    for key, item in value.items():
        if not isinstance(key, str):
            diags.append(diag(WRONG_TYPE, path, f"Invalid type: keys must be strings, not {describe(key)} "
                               f"({render_value(key)}); quote the key"))
        elif not isinstance(item, str):
            diags.append(wrong_type(path + (key,), item, Kind.STRING))
        else:
            pairs.append((key, item))
    return pairs, diags


def object_list(value: object, path: FieldPath) -> Iterator[tuple[int, Mapping[object, object]] | Diagnostic]:
    """The ``(index, mapping)`` entries of a list of objects, or ``S1`` for what is not.

    A ``null`` entry is an empty object, as Kubernetes reads it (``ingress: [null]``
    is one rule that allows everything).
    """
    if value is None:
        return
    if not isinstance(value, (list, tuple)):
        yield wrong_type(path, value, Kind.LIST)
        return
    for i, item in enumerate(value):
        if item is None:
            yield i, {}
        elif isinstance(item, Mapping):
            yield i, item
        else:
            yield wrong_type(path + (i,), item, Kind.MAPPING)


def string_list(value: object, path: FieldPath) -> tuple[list[tuple[int, str]], list[Diagnostic], bool]:
    """The ``(index, string)`` entries of a list of strings, ``S1`` for the rest, and whether it is a list."""
    if value is None:
        return [], [], True
    if not isinstance(value, (list, tuple)):
        return [], [wrong_type(path, value, Kind.LIST)], False
    entries: list[tuple[int, str]] = []
    diags: list[Diagnostic] = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            entries.append((i, item))
        else:
            diags.append(wrong_type(path + (i,), item, Kind.STRING))
    return entries, diags, True
