"""Workload controllers (Deployment, StatefulSet, ..., CronJob): rules V40 to V42.

Besides the object's metadata (V28 to V31; a CronJob's name has at most 52
characters, because its Jobs are named ``<name>-<11 characters>``), the pod
template's labels and annotations (V30, V31) and its pod spec (V32, V33):

* V40 ``spec.selector`` is a valid label selector (the rules V5 to V11 apply, under
  this code). Deployments, ReplicaSets and StatefulSets of ``apps/v1`` must have
  one, and it must not be empty; a DaemonSet's must not be empty. In the
  versions that filled a missing selector in from the template's labels
  (``extensions/v1beta1``, ``apps/v1beta1``), and for ReplicationControllers,
  whose selector is a plain label map, a missing selector is the template's
  labels. A Job needs one only with ``manualSelector: true``; a CronJob's job
  template may not have one (it is generated) nor set ``manualSelector: true``.
* V41 the selector matches the template's labels
  (``spec.template.metadata.labels``), or the controller would not own its pods.
* V42 ``spec.replicas`` is not negative.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace

from podfence.model.diagnostic import Diagnostic, FieldPath
from podfence.model.labels import LabelSelector, Operator, Requirement
from podfence.validate.messages import invalid, required, unsupported
from podfence.validate.object_meta import validate_object_meta, validate_template_meta
from podfence.validate.pods import validate_pod_spec
from podfence.validate.schema import Kind, check_int_range, check_kind, string_map, wrong_type
from podfence.validate.selectors import validate_labels, validate_selector

TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
CRONJOB_NAME_MAX = 52
# How the API server names the kind in "empty selector is invalid for ..." (a
# ReplicaSet borrows the Deployment's wording upstream).
_EMPTY_SELECTOR_NAMES = {
    "Deployment": "deployment", "ReplicaSet": "deployment", "StatefulSet": "statefulset", "DaemonSet": "daemonset",
}
_SELECTOR_REQUIRED = frozenset({"Deployment", "ReplicaSet", "StatefulSet"})
_SELECTOR_DEFAULTED_VERSIONS = frozenset({"extensions/v1beta1", "apps/v1beta1"})
_REPLICATED = frozenset({"Deployment", "ReplicaSet", "StatefulSet", "ReplicationController"})
_MISMATCH = "`selector` does not match template `labels`"


def validate_workload(doc: object, *, kind: str, namespace: str, api_version: str = "") -> list[Diagnostic]:
    """Every problem of one workload controller manifest in the fields podfence reads.

    Args:
        doc: the manifest as loaded.
        kind: one of :data:`TEMPLATE_PATHS`.
        namespace: the effective namespace.
        api_version: decides whether a missing selector defaults to the template's labels.

    >>> [d.message for d in validate_workload({"metadata": {"name": "web"}, "spec": {
    ...     "selector": {"matchLabels": {"app": "web"}},
    ...     "template": {"metadata": {"labels": {"app": "api"}}}}}, kind="Deployment", namespace="default")]
    ['Invalid value: {"app": "api"}: `selector` does not match template `labels`']
    """
    if not isinstance(doc, Mapping):
        return [wrong_type((), doc, Kind.MAPPING)]
    meta = doc.get("metadata")
    problems = list(validate_object_meta(meta, kind, namespace))
    name = meta.get("name") if isinstance(meta, Mapping) else None
    if kind == "CronJob" and isinstance(name, str) and len(name) > CRONJOB_NAME_MAX:
        problems.append(invalid("V28", ("metadata", "name"), name,
                                f"must be no more than {CRONJOB_NAME_MAX} characters"))
    spec = doc.get("spec")
    if not isinstance(spec, Mapping):
        return problems  # the loader reports a missing or malformed spec
    template_path = TEMPLATE_PATHS[kind]
    owner_path = template_path[:-1]  # where the selector lives: spec, or the CronJob's jobTemplate.spec
    owner = _walk(doc, owner_path)
    template = _walk(doc, template_path)
    template_meta = template.get("metadata") if isinstance(template, Mapping) else None
    if isinstance(template, Mapping):
        problems += validate_template_meta(template_meta, template_path + ("metadata",))
        problems += validate_pod_spec(template.get("spec"), template_path + ("spec",))
    if isinstance(owner, Mapping):
        labels = _labels(template_meta) if isinstance(template, Mapping) else None
        problems += _selector(owner, owner_path, kind, api_version, labels, template_path + ("metadata", "labels"))
    if kind in _REPLICATED:
        problems += _replicas(spec.get("replicas"), ("spec", "replicas"))
    return problems


def _walk(doc: Mapping[str, object], path: tuple[str, ...]) -> object:
    node: object = doc
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _labels(meta: object) -> dict[str, str] | None:
    """The template's labels, or None when they are not a map of strings (reported elsewhere)."""
    raw = meta.get("labels") if isinstance(meta, Mapping) else None
    pairs, errors = string_map(raw, ())
    return None if errors else dict(pairs)


def _selector(owner: Mapping[object, object], path: FieldPath, kind: str, api_version: str,
              labels: dict[str, str] | None, labels_path: FieldPath) -> Iterator[Diagnostic]:
    raw = owner.get("selector")
    here = path + ("selector",)
    if kind == "ReplicationController":
        yield from validate_labels(raw, here, "V40", "V40")
        pairs, errors = string_map(raw, here)
        if errors:
            return
        if not pairs:
            if labels is not None and not labels:
                yield required("V40", here)
            return  # a missing selector is the template's labels
        yield from _match(LabelSelector.of(dict(pairs)), labels, labels_path)
        return
    if kind == "CronJob":
        if raw is not None:
            yield invalid("V40", here, raw, "`selector` will be auto-generated")
        if owner.get("manualSelector") is True:
            yield unsupported("V40", path + ("manualSelector",), True, ("nil", "false"))
        return
    problems = [d if d.code.startswith("S") else replace(d, code="V40") for d in validate_selector(raw, here)]
    yield from problems
    if raw is None:
        defaulted = api_version in _SELECTOR_DEFAULTED_VERSIONS
        if kind == "Job":
            if owner.get("manualSelector") is True:
                yield required("V40", here)
        elif kind in _SELECTOR_REQUIRED and not defaulted:
            yield required("V40", here)
        elif kind == "DaemonSet" and not defaulted and labels is not None:
            # No selector selects nothing, so it cannot match the template.
            yield invalid("V41", labels_path, labels, _MISMATCH)
        return
    if problems or not isinstance(raw, Mapping):
        return
    selector = _parse(raw)
    if selector.is_empty() and kind in _EMPTY_SELECTOR_NAMES:
        yield invalid("V40", here, raw, f"empty selector is invalid for {_EMPTY_SELECTOR_NAMES[kind]}")
        return
    yield from _match(selector, labels, labels_path)


def _parse(raw: Mapping[object, object]) -> LabelSelector:
    """A selector that passed validation, as a model value."""
    match_labels = raw.get("matchLabels") or {}
    expressions = tuple(
        Requirement(str(e.get("key")), Operator(str(e.get("operator"))), tuple(e.get("values") or ()))
        for e in (entry or {} for entry in raw.get("matchExpressions") or ())
    )
    return LabelSelector.of(dict(match_labels), expressions)  # type: ignore[arg-type]


def _match(selector: LabelSelector, labels: dict[str, str] | None, path: FieldPath) -> Iterator[Diagnostic]:
    if labels is not None and not selector.matches(labels):
        yield invalid("V41", path, labels, _MISMATCH)


def _replicas(value: object, path: FieldPath) -> Iterator[Diagnostic]:
    if (err := check_kind(value, Kind.INTEGER, path)) is not None:
        yield err
    elif isinstance(value, int):
        if (err := check_int_range(value, 32, path)) is not None:
            yield err
        elif value < 0:
            yield invalid("V42", path, value, "must be greater than or equal to 0")
