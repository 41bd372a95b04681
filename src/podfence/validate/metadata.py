"""``metadata`` (ObjectMeta): rules V1 to V4.

* V1 ``metadata.name``: required unless ``generateName`` is set (the API server
  generates the name before it validates).
* V2 ``metadata.name`` is a DNS-1123 subdomain; ``metadata.generateName`` is too,
  once its trailing ``-`` is masked (the API server appends random characters).
* V3 the effective namespace (``metadata.namespace``, or the one the loader
  filled in) is required and a DNS-1123 label.
* V4 the rest of ObjectMeta is well formed, in the API server's order: generation
  not negative, label keys and values, annotation keys (compared in lower case)
  and their total size, owner references, finalizers, managed-fields entries.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from podfence.model.diagnostic import Diagnostic, FieldPath
from podfence.validate.messages import invalid, required, too_long
from podfence.validate.names import (
    byte_len, dns1123_label_errors, dns1123_subdomain_errors, generate_name_errors, qualified_name_errors,
)
from podfence.validate.schema import (
    MANAGED_FIELDS_ENTRY_FIELDS, METADATA_FIELDS, OWNER_REFERENCE_FIELDS, Kind, check_int_range, check_kind,
    object_list, string_list, string_map, unknown_fields, wrong_type,
)
from podfence.validate.selectors import validate_labels

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
FIELD_MANAGER_MAX = 128
SUBRESOURCE_MAX = 256
FINALIZER_ORPHAN = "orphan"
FINALIZER_FOREGROUND = "foregroundDeletion"

_META_KINDS = {
    "name": Kind.STRING, "generateName": Kind.STRING, "namespace": Kind.STRING, "selfLink": Kind.STRING,
    "uid": Kind.STRING, "resourceVersion": Kind.STRING, "generation": Kind.INTEGER,
    "creationTimestamp": Kind.TIMESTAMP, "deletionTimestamp": Kind.TIMESTAMP,
    "deletionGracePeriodSeconds": Kind.INTEGER,
}
_OWNER_KINDS = {
    "apiVersion": Kind.STRING, "kind": Kind.STRING, "name": Kind.STRING, "uid": Kind.STRING,
    "controller": Kind.BOOLEAN, "blockOwnerDeletion": Kind.BOOLEAN,
}
_MANAGED_KINDS = {
    "manager": Kind.STRING, "operation": Kind.STRING, "apiVersion": Kind.STRING, "time": Kind.TIMESTAMP,
    "fieldsType": Kind.STRING, "fieldsV1": Kind.MAPPING, "subresource": Kind.STRING,
}


def validate_metadata(raw: object, namespace: str) -> Iterator[Diagnostic]:
    """All problems of ``metadata`` for an object in the effective ``namespace``."""
    path: FieldPath = ("metadata",)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        yield wrong_type(path, raw, Kind.MAPPING)
        return
    meta = _Fields.of(raw, _META_KINDS, METADATA_FIELDS, path)
    yield from meta.diagnostics
    yield from _names(meta, path)
    yield from _namespace(namespace, path + ("namespace",))
    generation = meta.good.get("generation")
    if isinstance(generation, int) and generation < 0:
        yield invalid("V4", path + ("generation",), generation, "must be greater than or equal to 0")
    yield from validate_labels(raw.get("labels"), path + ("labels",), "V4", "V4")
    yield from validate_annotations(raw.get("annotations"), path + ("annotations",), "V4")
    yield from _owner_references(raw.get("ownerReferences"), path + ("ownerReferences",))
    yield from _finalizers(raw.get("finalizers"), path + ("finalizers",))
    yield from _managed_fields(raw.get("managedFields"), path + ("managedFields",))


@dataclass(frozen=True, slots=True)
class _Fields:
    """The scalar fields of a small object after the shape checks.

    ``good`` holds the present values of the right type; ``bad`` names the
    fields already reported (present, but unusable); ``diagnostics`` are the
    unknown-field and type errors, in document and then field order.
    """

    good: Mapping[str, object]
    bad: frozenset[str]
    diagnostics: tuple[Diagnostic, ...]

    @classmethod
    def of(cls, obj: Mapping[object, object], kinds: Mapping[str, Kind], known: tuple[str, ...],
           path: FieldPath) -> _Fields:
        diags = list(unknown_fields(obj, known, path))
        good: dict[str, object] = {}
        bad: set[str] = set()
        for field, kind in kinds.items():
            value = obj.get(field)
            err = check_kind(value, kind, path + (field,))
            if err is None and kind is Kind.INTEGER and isinstance(value, int):
                err = check_int_range(value, 64, path + (field,))
            if err is not None:
                diags.append(err)
                bad.add(field)
            elif value is not None:
                good[field] = value
        return cls(good, frozenset(bad), tuple(diags))

    def text(self, field: str) -> str:
        value = self.good.get(field, "")
        return value if isinstance(value, str) else ""


def _names(meta: _Fields, path: FieldPath) -> Iterator[Diagnostic]:
    name, generate = meta.text("name"), meta.text("generateName")
    if generate:
        for msg in generate_name_errors(generate):
            yield invalid("V2", path + ("generateName",), generate, msg)
    if name:
        for msg in dns1123_subdomain_errors(name):
            yield invalid("V2", path + ("name",), name, msg)
    elif not generate and not meta.bad & {"name", "generateName"}:
        yield required("V1", path + ("name",), "name or generateName is required")


def _namespace(namespace: str, path: FieldPath) -> Iterator[Diagnostic]:
    if not namespace:
        yield required("V3", path)
        return
    for msg in dns1123_label_errors(namespace):
        yield invalid("V3", path, namespace, msg)


def validate_annotations(raw: object, path: FieldPath, code: str) -> Iterator[Diagnostic]:
    """An annotation map: qualified-name keys, and at most 256 KiB of keys and values together."""
    pairs, type_errors = string_map(raw, path)
    yield from type_errors
    total = 0
    for key, value in pairs:
        # Annotation keys are qualified names compared without regard to case.
        for msg in qualified_name_errors(key.lower()):
            yield invalid(code, path, key, msg)
        total += byte_len(key) + byte_len(value)
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        yield too_long(code, path, TOTAL_ANNOTATION_SIZE_LIMIT)


def _owner_references(raw: object, path: FieldPath) -> Iterator[Diagnostic]:
    controllers: list[str] = []
    for entry in object_list(raw, path):
        if isinstance(entry, Diagnostic):
            yield entry
            continue
        i, item = entry
        ref = _Fields.of(item, _OWNER_KINDS, OWNER_REFERENCE_FIELDS, path + (i,))
        yield from ref.diagnostics
        # The API server reports these at ownerReferences.<field>, without the index.
        api_version = ref.text("apiVersion")
        if "apiVersion" not in ref.bad and not _has_version(api_version):
            yield invalid("V4", path + ("apiVersion",), api_version, "version must not be empty")
        for field in ("kind", "name", "uid"):
            if field not in ref.bad and not ref.text(field):
                yield invalid("V4", path + (field,), "", "must not be empty")
        if ref.good.get("controller") is True:
            controllers.append(f"{ref.text('kind')}/{ref.text('name')}")
            if len(controllers) > 1:
                yield invalid("V4", path, controllers, "Only one reference can have Controller set to true. "
                              f'Found "true" in references for {controllers[0]} and {controllers[-1]}')


def _has_version(api_version: str) -> bool:
    """``v1`` and ``group/v1`` name a version; ``""``, ``group/`` and ``a/b/c`` do not."""
    parts = api_version.split("/")
    return len(parts) <= 2 and bool(parts[-1])


def _finalizers(raw: object, path: FieldPath) -> Iterator[Diagnostic]:
    entries, type_errors, _ = string_list(raw, path)
    yield from type_errors
    for _, finalizer in entries:
        for msg in qualified_name_errors(finalizer):
            yield invalid("V4", path, finalizer, msg)
    names = {f for _, f in entries}
    if FINALIZER_ORPHAN in names and FINALIZER_FOREGROUND in names:
        yield invalid("V4", path, [f for _, f in entries],
                      f"finalizer {FINALIZER_ORPHAN} and {FINALIZER_FOREGROUND} cannot be both set")


def _managed_fields(raw: object, path: FieldPath) -> Iterator[Diagnostic]:
    for entry in object_list(raw, path):
        if isinstance(entry, Diagnostic):
            yield entry
            continue
        i, item = entry
        here = path + (i,)
        fields = _Fields.of(item, _MANAGED_KINDS, MANAGED_FIELDS_ENTRY_FIELDS, here)
        yield from fields.diagnostics
        operation = fields.text("operation")
        if "operation" not in fields.bad and operation not in ("Apply", "Update"):
            yield invalid("V4", here + ("operation",), operation, "must be `Apply` or `Update`")
        fields_type = fields.text("fieldsType")
        if fields_type and fields_type != "FieldsV1":
            yield invalid("V4", here + ("fieldsType",), fields_type, "must be `FieldsV1`")
        manager = fields.text("manager")
        if byte_len(manager) > FIELD_MANAGER_MAX:
            yield too_long("V4", here + ("manager",), FIELD_MANAGER_MAX)
        for index, ch in enumerate(manager):
            if not ch.isprintable():
                position = byte_len(manager[:index])
                yield invalid("V4", here + ("manager",), manager,
                              f"invalid character U+{ord(ch):04X} (at position {position})")
        if byte_len(fields.text("subresource")) > SUBRESOURCE_MAX:
            yield too_long("V4", here + ("subresource",), SUBRESOURCE_MAX)
