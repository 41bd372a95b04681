"""``metadata`` of the kinds podfence reads besides NetworkPolicy: rules V28 to V31.

* V28 ``metadata.name`` (and ``metadata.generateName``, once its trailing ``-``
  is masked) follows the kind's name rule: a DNS-1123 label for Namespaces, a
  DNS-1035 label (a label that starts with a letter) for Services, a DNS-1123
  subdomain for Pods and workload controllers. These rules also keep out what
  the API server's path-segment rule forbids (``/``, ``%``, ``.`` and ``..``).
* V29 the effective namespace (``metadata.namespace``, or the one the loader
  filled in) of a namespaced object is a DNS-1123 label.
* V30 label keys are qualified names and values label values, on the object and
  on its pod template.
* V31 annotation keys are qualified names (compared in lower case) and keys and
  values together take at most 256 KiB, on the object and on its pod template.

Wrong types are reported as ``S1`` where they are met; the loader's own reads
report the same problems, and it keeps one of each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from podfence.model.diagnostic import Diagnostic, FieldPath
from podfence.validate.messages import invalid, required
from podfence.validate.metadata import validate_annotations
from podfence.validate.names import (
    dns1035_label_errors, dns1123_label_errors, dns1123_subdomain_errors, mask_trailing_dash,
)
from podfence.validate.schema import Kind, check_kind, wrong_type
from podfence.validate.selectors import validate_labels

NameRule = Callable[[str], list[str]]

# The API server's name rule per kind; every other kind podfence reads uses subdomains.
NAME_RULES: dict[str, NameRule] = {
    "Namespace": dns1123_label_errors,
    "Service": dns1035_label_errors,
}


def name_rule(kind: str) -> NameRule:
    """The function that lists the problems of a ``metadata.name`` of ``kind``."""
    return NAME_RULES.get(kind, dns1123_subdomain_errors)


def validate_object_meta(raw: object, kind: str, namespace: str | None) -> Iterator[Diagnostic]:
    """V28 to V31 for the ``metadata`` of one object; ``namespace`` is None for cluster-scoped kinds."""
    path: FieldPath = ("metadata",)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        yield wrong_type(path, raw, Kind.MAPPING)
        return
    rule = name_rule(kind)
    name, generate = raw.get("name"), raw.get("generateName")
    for field, value in (("generateName", generate), ("name", name)):
        if (err := check_kind(value, Kind.STRING, path + (field,))) is not None:
            yield err
        elif value:
            shown = mask_trailing_dash(value) if field == "generateName" else value
            for msg in rule(shown):
                yield invalid("V28", path + (field,), value, msg)
    if not name and not generate and check_kind(name, Kind.STRING, ()) is None:
        yield required("V28", path + ("name",), "name or generateName is required")
    if namespace == "":
        yield required("V29", path + ("namespace",))
    elif namespace is not None:
        for msg in dns1123_label_errors(namespace):
            yield invalid("V29", path + ("namespace",), namespace, msg)
    yield from validate_template_meta(raw, path)


def validate_template_meta(raw: object, path: FieldPath) -> Iterator[Diagnostic]:
    """V30 and V31: the labels and annotations of ``metadata`` at ``path`` (an object's or a pod template's)."""
    if not isinstance(raw, Mapping):
        if raw is not None:
            yield wrong_type(path, raw, Kind.MAPPING)
        return
    yield from validate_labels(raw.get("labels"), path + ("labels",), "V30", "V30")
    yield from validate_annotations(raw.get("annotations"), path + ("annotations",), "V31")
